//! Dispersion coefficients.
