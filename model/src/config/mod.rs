//! The case: one TOML file, parsed (`raw`) and validated as a whole
//! (`validate`) into the typed [`Case`] before any computing. Every error
//! names the file, the key and what was expected, and exits with code 2.
//!
//! After validation nothing is a string to be matched again: the met source,
//! projection, terrain, lateral edges and output mode are enums, the start
//! time is parsed, species are rows of the built-in table and every input
//! path is resolved against the case file's directory. Each module's
//! constructor takes its own spec from here. `config` imports no physics.

mod raw;
mod validate;

pub use raw::{parse_toml, ChemistrySpec, PhysicsSpec, PpmEdges};
pub use validate::MAX_THREADS;

use crate::error::{Error, Result};
use crate::species::Species;
use crate::time::StartTime;
use std::path::{Path, PathBuf};

/// Relative humidity of the analytic and regime met when the case gives
/// none: a humid subtropical mean.
pub const DEFAULT_RELATIVE_HUMIDITY: f64 = 0.7;

/// A validated case.
#[derive(Debug, Clone)]
pub struct Case {
    /// The case file, for messages.
    pub file: PathBuf,
    pub run: RunSpec,
    pub grid: GridSpec,
    /// The `[grid]` table as TOML, kept in outputs so a finished run's grid
    /// can be rebuilt (`airshed attribute`).
    pub grid_toml: String,
    /// Transported species, rows of the built-in table, in the case's order.
    pub species: Vec<Species>,
    pub met: MetSpec,
    pub emissions: EmissionsSpec,
    pub boundary: BoundarySpec,
    pub physics: PhysicsSpec,
    pub chemistry: ChemistrySpec,
    /// Named sites (cities, monitors) where the run reports statistics.
    pub sites: Vec<Site>,
    pub output: OutputSpec,
    /// Source attribution; `None` runs untagged.
    pub attribution: Option<AttributionSpec>,
    /// A land-cover map setting roughness and deposition land use (and
    /// urban and cropland fractions); `None`: the met's own surface.
    pub land_cover: Option<LandCoverSpec>,
}

/// `[surface] land_cover`: a lat-lon class raster (see `crate::land_cover`).
#[derive(Debug, Clone, PartialEq)]
pub struct LandCoverSpec {
    pub path: PathBuf,
    pub variable: String,
    pub classes: LandCoverClasses,
}

/// The class legend of a land-cover raster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LandCoverClasses {
    /// IGBP (MODIS MCD12Q1/MCD12C1 Land_Cover_Type_1): 0 water, 1-16.
    Igbp,
}

/// Which sectors get their own tags.
#[derive(Debug, Clone, PartialEq)]
pub enum SectorTags {
    /// No sector split.
    None,
    /// Every sector the inventory declares.
    All,
    List(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttributionSpec {
    pub regions_file: Option<PathBuf>,
    pub name_property: String,
    /// Group name -> member region names, in name order.
    pub groups: Vec<(String, Vec<String>)>,
    /// Regions or groups with their own tags.
    pub regions: Vec<String>,
    pub sectors: SectorTags,
    /// Region or group names reported as receptors.
    pub receptors: Vec<String>,
    /// Species that carry tags (None: all).
    pub species: Option<Vec<String>>,
    pub episode_ugm3: f64,
    /// Offset of local time from UTC for days and months, hours.
    pub utc_offset_hours: f64,
    pub brute_force: Option<BruteForceSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BruteForceSpec {
    pub tags: Vec<String>,
    pub cut: f64,
}

#[derive(Debug, Clone)]
pub struct RunSpec {
    pub name: String,
    pub start: StartTime,
    /// The start as written, `YYYY-MM-DDTHH:MM:SSZ`.
    pub start_text: String,
    pub hours: f64,
    /// Longest outer step, seconds (the clock may shorten it to divide the
    /// output interval).
    pub dt_s: f64,
    /// Worker threads; 0 = all cores. Results do not depend on it.
    pub threads: usize,
    /// Memory ceiling in GiB for the up-front size check (default, and
    /// never above: MemAvailable).
    pub max_memory_gib: Option<f64>,
    /// Ceiling in GiB on the estimated size of the run's outputs
    /// ([`crate::output::size::check_output`]).
    pub max_output_gib: f64,
    /// Hours at the start left out of the attribution tables.
    pub spin_up_hours: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GridSpec {
    pub projection: ProjectionSpec,
    pub nx: usize,
    pub ny: usize,
    /// Cell size: metres for Lambert and Cartesian, degrees for lat-lon.
    pub dx: f64,
    pub dy: f64,
    /// Heights of layer tops above ground, m, strictly increasing.
    pub layer_tops_m: Vec<f64>,
    pub lateral: Lateral,
}

impl GridSpec {
    /// A grid from the `[grid]` keys kept in an output file (`Case::grid_toml`);
    /// `file` labels errors.
    pub fn from_toml(text: &str, file: &Path) -> Result<GridSpec> {
        validate::grid_only(text, file)
    }

    /// A Cartesian grid with open sides (idealised cases, tests and benchmarks).
    pub fn cartesian(nx: usize, ny: usize, dx: f64, layer_tops_m: &[f64]) -> GridSpec {
        GridSpec {
            projection: ProjectionSpec::Cartesian,
            nx,
            ny,
            dx,
            dy: dx,
            layer_tops_m: layer_tops_m.to_vec(),
            lateral: Lateral::Open,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProjectionSpec {
    /// Lambert conformal: standard parallels, central meridian and the domain centre.
    Lambert {
        truelat1: f64,
        truelat2: f64,
        stand_lon: f64,
        centre_lon: f64,
        centre_lat: f64,
    },
    /// Regular longitude-latitude: the centre of the south-west cell.
    LatLon { sw_lon: f64, sw_lat: f64 },
    /// Idealised plane.
    Cartesian,
}

/// How the sides of the whole domain behave (`grid.lateral`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lateral {
    /// Inflow at the background values, outflow free.
    Open,
    /// x and y wrap round (idealised tests).
    Periodic,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MetSpec {
    Analytic(AnalyticSpec),
    /// CF-NetCDF met on the model grid.
    Netcdf {
        file: PathBuf,
    },
    /// Coarse lat-lon gridded met, regridded.
    Reanalysis {
        file: PathBuf,
    },
    /// wrfout files.
    Wrf {
        files: Vec<PathBuf>,
    },
    /// SYNTHETIC regimes or station winds through the diagnostic wind model.
    Regime(RegimeSpec),
    /// Coarse gridded winds re-diagnosed over the model terrain.
    Adjusted {
        file: PathBuf,
        terrain: TerrainSpec,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticSpec {
    pub flow: Flow,
    /// Grid-relative wind (uniform; the top value for shear), m/s.
    pub u_ms: f64,
    pub v_ms: f64,
    /// Period of rotation or deformation, s (1 when the flow has none).
    pub period_s: f64,
    /// Mixing heights by day and night, m.
    pub pblh_day_m: f64,
    pub pblh_night_m: f64,
    /// Constant Kz instead of similarity, m2/s.
    pub kz_m2s: Option<f64>,
    pub surface_temperature_k: f64,
    pub precip_mm_h: f64,
    pub constant_density: bool,
    pub relative_humidity: f64,
    pub cloud_water_gkg: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Uniform,
    Rotation,
    Deformation,
    Shear,
    Calm,
}

impl Flow {
    pub fn name(self) -> &'static str {
        match self {
            Flow::Uniform => "uniform",
            Flow::Rotation => "rotation",
            Flow::Deformation => "deformation",
            Flow::Shear => "shear",
            Flow::Calm => "calm",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegimeSpec {
    /// The spells in time order; the first starts at or before the run.
    pub spells: Vec<Spell>,
    /// Share of calm 6-hour blocks (default: the regime's own).
    pub calm_fraction: Option<f64>,
    pub seed: u64,
    /// Hourly station winds replacing the regime's synoptic wind.
    pub stations: Option<PathBuf>,
    pub terrain: TerrainSpec,
    pub relative_humidity: f64,
    pub cloud_water_gkg: f64,
}

/// One spell of a regime schedule: a regime from `start_hour` (hours after
/// the run start, negative before it) until the next spell's start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spell {
    pub start_hour: f64,
    pub regime: RegimeName,
    /// Share of calm 6-hour blocks in this spell (overrides the case's).
    pub calm_fraction: Option<f64>,
}

/// The SYNTHETIC seasonal regimes (`met::regime` holds their parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegimeName {
    Winter,
    Spring,
    Summer,
    Stagnant,
}

impl RegimeName {
    pub const ALL: [RegimeName; 4] = [
        RegimeName::Winter,
        RegimeName::Spring,
        RegimeName::Summer,
        RegimeName::Stagnant,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RegimeName::Winter => "winter",
            RegimeName::Spring => "spring",
            RegimeName::Summer => "summer",
            RegimeName::Stagnant => "stagnant",
        }
    }

    pub fn named(name: &str) -> Option<RegimeName> {
        RegimeName::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// Terrain for the diagnostic wind model.
#[derive(Debug, Clone, PartialEq)]
pub enum TerrainSpec {
    Flat,
    /// A Gaussian hill `height_m` high with e-folding radius `radius_km`.
    Hill(TerrainShape),
    /// A flat floor inside a ring of mountains whose slopes start near `radius_km`.
    Basin(TerrainShape),
    /// Heights (m above sea level) on the model grid from a NetCDF variable;
    /// `radius_km` is the obstacle search radius.
    File {
        path: PathBuf,
        variable: String,
        radius_km: f64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TerrainShape {
    pub height_m: f64,
    pub radius_km: f64,
    /// Centre (lon, lat); the domain centre when absent.
    pub centre: Option<(f64, f64)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct EmissionsSpec {
    /// Allowed sector labels; None means the default inventory classes.
    pub sectors: Option<Vec<String>>,
    pub gridded: Vec<PathBuf>,
    pub points: Vec<PathBuf>,
    pub city_totals: Vec<PathBuf>,
    /// Temporal profile CSV; None: constant rates.
    pub temporal_profiles: Option<PathBuf>,
    /// Local time's offset from UTC for the profiles, hours.
    pub utc_offset_hours: f64,
    /// Proxy allocation of city rows inside their polygons.
    pub city_allocation: Option<CityAllocationSpec>,
    /// Stacks followed as puffs near the source.
    pub plume_in_grid: PlumeInGridSpec,
}

/// Which stacks plume-in-grid follows.
#[derive(Debug, Clone, PartialEq)]
pub enum PlumeInGridStacks {
    None,
    All,
    /// By the stack CSV's `name` (every row of that name).
    Named(Vec<String>),
}

/// `[emissions] plume_in_grid*` (`processes::plume_in_grid`).
#[derive(Debug, Clone, PartialEq)]
pub struct PlumeInGridSpec {
    pub stacks: PlumeInGridStacks,
    /// A puff is handed to the grid at this age at the latest, hours.
    pub max_age_hours: f64,
    /// ... or once sigma_y reaches this fraction of the cell width.
    pub handoff_sigma_fraction: f64,
}

impl PlumeInGridSpec {
    /// Default maximum puff age, hours.
    pub const DEFAULT_MAX_AGE_HOURS: f64 = 12.0;
    /// CAMx's hand-off rule: a puff goes to the grid once the ellipse of
    /// semi-axes 1.5 sigma_y covers the cell's area, pi (1.5 sigma_y)^2 >=
    /// dx dy (CAMx PIGDRIVE, the "puffs killed by size" test), i.e.
    /// sigma_y >= dx / (1.5 sqrt(pi)) = 0.376 dx on square cells.
    pub const DEFAULT_HANDOFF_SIGMA_FRACTION: f64 = 0.376;
}

impl Default for PlumeInGridSpec {
    /// No stack flagged; the default age and size limits.
    fn default() -> Self {
        PlumeInGridSpec {
            stacks: PlumeInGridStacks::None,
            max_age_hours: Self::DEFAULT_MAX_AGE_HOURS,
            handoff_sigma_fraction: Self::DEFAULT_HANDOFF_SIGMA_FRACTION,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CityAllocationSpec {
    pub regions_file: PathBuf,
    pub name_property: String,
    pub places: Option<PathBuf>,
    pub land_cover: Option<PathBuf>,
    pub land_cover_variable: String,
}

/// Background (top inflow), lateral inflow per side and initial values per
/// species, ug/m3 at the domain-mean surface air density, in the order of
/// [`Case::species`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoundarySpec {
    /// Inflow through the model top (and the sides' fallback).
    pub background_ugm3: Vec<f64>,
    /// Inflow through the west, east, south and north sides (in that order,
    /// the order of `grid::Side::ALL`), each species falling back to
    /// `background_ugm3` where its side's table does not name it.
    pub sides_ugm3: [Vec<f64>; 4],
    pub initial_ugm3: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub name: String,
    pub lon: f64,
    pub lat: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// Averages over each interval.
    Mean,
    /// The state at the end of each interval.
    Instant,
}

impl OutputMode {
    pub fn name(self) -> &'static str {
        match self {
            OutputMode::Mean => "mean",
            OutputMode::Instant => "instant",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutputSpec {
    /// Output directory, resolved.
    pub dir: PathBuf,
    pub interval_hours: f64,
    pub mode: OutputMode,
    /// Layers written, 1 to nz.
    pub layers: usize,
    /// Also write the meteorology the run used.
    pub met_fields: bool,
}

impl Case {
    pub fn load(path: &Path) -> Result<Case> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(path, "(file)", format!("a readable TOML case file ({e})"))
        })?;
        Self::from_str(&text, path)
    }

    /// Parse and validate case text as if it were the file `path` (relative
    /// input paths resolve against its directory).
    pub fn from_str(text: &str, path: &Path) -> Result<Case> {
        let raw = raw::parse(text, path)?;
        validate::validate(raw, path)
    }

    /// Output intervals in the run (validation made it a whole number).
    pub fn intervals(&self) -> u64 {
        (self.run.hours / self.output.interval_hours).round() as u64
    }

    /// The run's clock: steps of at most `run.dt_s` dividing the output interval.
    pub fn clock(&self) -> crate::time::Clock {
        crate::time::Clock::new(
            self.run.start,
            &self.run.start_text,
            self.run.dt_s,
            self.output.interval_hours * 3600.0,
            self.intervals(),
        )
    }
}
