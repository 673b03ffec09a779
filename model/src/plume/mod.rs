//! The near-source half of the solver: Gaussian plumes for hourly met and
//! Gaussian puffs for calms and for plume-in-grid.
//!
//! ```text
//! site met (site::SiteHour: aermet .SFC/.PFL, or one column of the model's met)
//!   + sources (sources::Source: stack CSV, area, line) + receptors (receptors::Receptor)
//!       │  per source-hour: rise (Briggs) → effective height; sigma (PG/Briggs or similarity)
//!       ▼
//!   kernel: steady plume, ground and lid reflections, meander blend, terrain two-state
//!   puff:   calm hours emit puffs that stay, spread and leave when the wind returns
//!       ▼
//!   stats (1-h, 3-h, 24-h, period, annual averages; N-th highest) → output (CSV, CF-NetCDF)
//! ```
//!
//! `airshed plume CASE.toml` runs it alone ([`run`]); in an Eulerian case,
//! flagged stacks are followed as puffs and handed to the grid in one place
//! (`processes::plume_in_grid`).
//!
//! Coordinates are metres in a local frame (x east, y north) about the
//! case's origin; heights are metres, wind directions are degrees the wind
//! blows *from* (meteorological), concentrations are µg/m³.

pub mod aermet;
pub mod case;
pub mod frame;
pub mod kernel;
pub mod output;
pub mod puff;
pub mod receptors;
pub mod rise;
pub mod run;
pub mod sigma;
pub mod site;
pub mod sources;
pub mod stats;
pub mod terrain;

/// The floors below which wind and turbulence are not taken at face value.
/// No hour is dropped: a weaker wind is raised to the floor for the steady
/// plume (and the meander blend turns it radially symmetric), and hours
/// below `calm_wind_m_s` also release puffs. Case keys under `[plume]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Floors {
    /// Minimum lateral turbulence, m/s. AERMOD's 0.2 m/s (parameter
    /// `SVMIN` of AERMOD's `MAIN1` module; Cimorelli et al. 2005).
    pub min_sigma_v_m_s: f64,
    /// Minimum vertical turbulence, m/s (AERMOD `SWMIN`: 0.02 m/s).
    pub min_sigma_w_m_s: f64,
    /// Minimum transport speed for the steady plume, m/s: AERMOD's
    /// effective speed u_eff = sqrt(u² + 2 σ_v²) (as in its `DELTAH`) is
    /// at least sqrt(2) σ_v,min = 0.2828 m/s.
    pub min_wind_m_s: f64,
    /// Hours with the reference-height wind below this are calm: their
    /// emissions go into puffs (steady plumes break down as u -> 0).
    /// Default 0.5 m/s, a typical cup-anemometer starting threshold
    /// (AERMET's site-specific THRESHOLD keyword takes 0-1 m/s).
    pub calm_wind_m_s: f64,
}

impl Default for Floors {
    fn default() -> Self {
        Floors {
            min_sigma_v_m_s: 0.2,
            min_sigma_w_m_s: 0.02,
            min_wind_m_s: (2.0f64 * 0.2 * 0.2).sqrt(),
            calm_wind_m_s: 0.5,
        }
    }
}
