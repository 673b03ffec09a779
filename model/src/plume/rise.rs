//! Plume rise (Briggs).
