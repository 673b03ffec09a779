//! airshed: a regional air-quality dispersion and source-attribution model.
//!
//! Data flow (see ARCHITECTURE.md), bottom to top: `time`, `species`,
//! `land_use`, `error`, `interrupt` -> `config` (typed case) -> `grid` -> `parallel` (communicator,
//! halos, decomposition) -> `met` + `emissions` (inputs) -> `state`,
//! `budget` -> `processes` (one per physical process) -> `model` (the
//! physics of a domain) -> `simulation` (clock, process list, hooks, sinks)
//! -> `output` (sinks: NetCDF, site CSV, summary JSON) -> `run` (the CLI's
//! entry: a case end to end).

pub mod attribution;
pub mod brute_force;
pub mod budget;
pub mod check;
pub mod config;
pub mod emissions;
pub mod error;
pub mod eval;
pub mod grid;
pub mod input;
pub mod interrupt;
pub mod land_cover;
pub mod land_use;
pub mod limits;
pub mod met;
pub mod model;
pub mod output;
pub mod parallel;
pub mod plume;
pub mod processes;
pub mod run;
pub mod simulation;
pub mod species;
pub mod state;
pub mod time;

pub use error::{Error, Result};
