//! airshed: a regional air-quality dispersion and source-attribution model.
//!
//! Data flow (see ARCHITECTURE.md): case file -> `config` -> `grid` ->
//! `met` + `emissions` -> `state` stepped by `processes` in `run` ->
//! `output` (CF-NetCDF + JSON summary with the `budget`).

pub mod budget;
pub mod config;
pub mod emissions;
pub mod error;
pub mod grid;
pub mod met;
pub mod output;
pub mod processes;
pub mod run;
pub mod species;
pub mod state;

pub use error::{Error, Result};
