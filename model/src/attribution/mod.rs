//! Source attribution: which regions and sectors the concentrations come
//! from. Tags enter the model through the state (species x tags, see
//! `crate::state`), the inventory routing (`tagging`), the flux-fraction
//! advection (`crate::processes::advection`) and the chemistry wrapper
//! (`crate::processes::tagged_chemistry`); the kernels know nothing of them.
//! Reports are made from the tagged output (`report`), so a finished run
//! can be re-reported for any receptor and period (`airshed attribute`).
//! The rules and their checks: `docs/attribution.md`.

pub mod regions;
pub mod report;
pub mod tagging;
