//! The steady Gaussian plume kernel.
