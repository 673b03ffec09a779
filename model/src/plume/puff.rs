//! Gaussian puffs: calms and plume-in-grid.
