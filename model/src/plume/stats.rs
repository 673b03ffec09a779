//! Averages and N-th highest values per receptor.
