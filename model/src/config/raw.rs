//! The case file exactly as written: serde structs with unknown keys
//! refused. Nothing outside `config` reads these; `super::validate` turns
//! them into the typed [`super::Case`]. `docs/case-file.md` documents every key.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCase {
    pub run: RawRun,
    pub grid: RawGrid,
    pub species: RawSpecies,
    pub met: RawMet,
    #[serde(default)]
    pub emissions: RawEmissions,
    #[serde(default)]
    pub boundary: RawBoundary,
    #[serde(default)]
    pub physics: PhysicsSpec,
    #[serde(default)]
    pub chemistry: ChemistrySpec,
    /// Named sites (cities, monitors) where the run reports statistics.
    #[serde(default)]
    pub sites: Vec<RawSite>,
    pub output: RawOutput,
    /// Source attribution (tags, regions, receptors); absent: untagged run.
    #[serde(default)]
    pub attribution: Option<RawAttribution>,
    /// The land surface from maps (land cover); absent: the met's own.
    #[serde(default)]
    pub surface: Option<RawSurface>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSurface {
    #[serde(default)]
    pub land_cover: Option<RawLandCover>,
}

/// `surface.land_cover = { file, variable, classes }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLandCover {
    pub file: PathBuf,
    #[serde(default)]
    pub variable: Option<String>,
    #[serde(default)]
    pub classes: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAttribution {
    /// GeoJSON file of region polygons (cities, counties, any areas).
    #[serde(default)]
    pub regions_file: Option<PathBuf>,
    /// The feature property that names a region (default "name").
    #[serde(default = "default_name_property")]
    pub name_property: String,
    /// Named groups of regions, e.g. CZT = ["Changsha", "Zhuzhou", "Xiangtan"].
    #[serde(default)]
    pub groups: BTreeMap<String, Vec<String>>,
    /// Regions (features or groups) whose emissions get their own tags.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Sectors that get their own tags: "all" or a list. With regions the
    /// tags are region x sector; without, sectors alone.
    #[serde(default)]
    pub sectors: Option<RawSectors>,
    /// Receptors for the tables: region or group names (sites are added).
    #[serde(default)]
    pub receptors: Vec<String>,
    /// Species that carry tags (default: all); the others are carried as
    /// their bulk alone.
    #[serde(default)]
    pub species: Option<Vec<String>>,
    /// Daily-mean PM2.5 above which a day is an episode day, ug/m3, in (0, 1e5].
    #[serde(default = "default_episode")]
    pub episode_ugm3: f64,
    /// Local time's offset from UTC for the tables' days and months, hours
    /// (within +-14).
    #[serde(default)]
    pub utc_offset_hours: f64,
    /// Emission-cut runs to check the tags against.
    #[serde(default)]
    pub brute_force: Option<RawBruteForce>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawSectors {
    Word(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBruteForce {
    /// Tags whose emissions are cut, one run each.
    pub tags: Vec<String>,
    /// Fraction of the tag's emissions removed, in (0, 1].
    #[serde(default = "one")]
    pub cut: f64,
}

fn default_name_property() -> String {
    "name".into()
}

/// The GB 3095-2012 24-hour grade II limit for PM2.5.
fn default_episode() -> f64 {
    75.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    pub name: String,
    /// ISO 8601 UTC start, `YYYY-MM-DDTHH:MM:SSZ`.
    pub start: String,
    /// Run length, h: a whole number of output intervals, at most
    /// `limits::MAX_STEPS` outer steps.
    pub hours: f64,
    /// Outer (operator-splitting) time step in seconds, 1 to 3600;
    /// advection and horizontal diffusion sub-step inside it for stability
    /// (at most `limits::MAX_SUBSTEPS` sub-steps).
    pub dt_s: f64,
    /// Worker threads; 0 = all cores, at most 1024. Results do not depend on it.
    #[serde(default)]
    pub threads: usize,
    /// Memory ceiling in GiB for the up-front size check, in (0, 1 PiB]
    /// (default, and never above: MemAvailable).
    #[serde(default)]
    pub max_memory_gib: Option<f64>,
    /// Ceiling in GiB on the estimated, uncompressed size of all the run's
    /// output files, in (0, 1 PiB] (default 50); the free space of the
    /// output directory is a second ceiling.
    #[serde(default)]
    pub max_output_gib: Option<f64>,
    /// Hours at the start that the attribution tables leave out (the model
    /// spinning up from its initial field): a whole number of output
    /// intervals, less than `hours` (default 0).
    #[serde(default)]
    pub spin_up_hours: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawGrid {
    /// "lambert", "latlon" or "cartesian".
    pub projection: String,
    pub nx: usize,
    pub ny: usize,
    /// Cell size: metres for lambert/cartesian (10 m to 500 km), degrees
    /// for latlon (1e-4 to 5).
    pub dx: f64,
    pub dy: f64,
    /// Lambert: first and second standard parallels (one hemisphere, 1 to
    /// 89 degrees from the equator), central meridian (within +-360).
    #[serde(default)]
    pub truelat1: Option<f64>,
    #[serde(default)]
    pub truelat2: Option<f64>,
    #[serde(default)]
    pub stand_lon: Option<f64>,
    /// Domain centre (lambert) or south-west cell centre (latlon), degrees.
    #[serde(default)]
    pub centre_lon: Option<f64>,
    #[serde(default)]
    pub centre_lat: Option<f64>,
    /// Heights of layer tops above ground, metres, strictly increasing:
    /// every layer at least 10 m thick, the top at most 25 km.
    pub layer_tops_m: Vec<f64>,
    /// Lateral boundaries: "open" (default) or "periodic" (idealised tests).
    #[serde(default = "default_open")]
    pub lateral: String,
}

fn default_open() -> String {
    "open".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpecies {
    /// Names from the built-in table (`airshed species` lists it).
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMet {
    /// "analytic", "netcdf", "reanalysis", "wrf" or "diagnostic".
    pub kind: String,
    /// netcdf, reanalysis: path to the met file.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// wrf: wrfout files (any order; records are sorted by time).
    #[serde(default)]
    pub files: Vec<PathBuf>,
    /// analytic and diagnostic: relative humidity (fraction, 0 to 1, default
    /// 0.7) and cloud or fog liquid water in g/kg (0 to 10, default 0).
    #[serde(default)]
    pub relative_humidity: Option<f64>,
    #[serde(default)]
    pub cloud_water_gkg: f64,
    /// diagnostic: the synoptic regime generator ("winter", "spring",
    /// "summer", "stagnant"; SYNTHETIC), or a schedule of spells
    /// `[{ start = "2023-01-14T00:00:00Z", regime = "winter" }, ...]`.
    #[serde(default)]
    pub regime: Option<RawRegime>,
    /// diagnostic: hourly station winds (CSV) replacing the regime's wind.
    #[serde(default)]
    pub stations: Option<PathBuf>,
    /// diagnostic regime: fraction of hours with calm (< 0.5 m/s) synoptic
    /// wind (0 to 1), and the seed of its reproducible random sequence.
    #[serde(default)]
    pub calm_fraction: Option<f64>,
    #[serde(default)]
    pub seed: Option<u64>,
    /// diagnostic: terrain (default flat).
    #[serde(default)]
    pub terrain: Option<RawTerrain>,
    /// analytic: flow pattern "uniform", "rotation", "deformation", "shear", "calm".
    #[serde(default)]
    pub flow: Option<String>,
    /// analytic: wind components, m/s, each within +-100.
    #[serde(default)]
    pub u_ms: f64,
    #[serde(default)]
    pub v_ms: f64,
    /// analytic: period of rotation / deformation, seconds (long enough
    /// that no wind exceeds 100 m/s).
    #[serde(default)]
    pub period_s: Option<f64>,
    /// analytic: day and night mixing heights, m, 10 to 8000 (diurnal
    /// cycle by solar time).
    #[serde(default)]
    pub pblh_day_m: Option<f64>,
    #[serde(default)]
    pub pblh_night_m: Option<f64>,
    /// analytic: constant vertical diffusivity, m2/s, 0 to 1000 (overrides
    /// similarity Kz).
    #[serde(default)]
    pub kz_m2s: Option<f64>,
    /// analytic: surface temperature K (180 to 340, and above 150 K at the
    /// model top by the 6.5 K/km lapse), precipitation mm/h (0 to 500).
    #[serde(default)]
    pub surface_temperature_k: Option<f64>,
    #[serde(default)]
    pub precip_mm_h: f64,
    /// analytic: hold temperature and pressure constant with height (uniform
    /// density), the idealisation of the analytic test solutions.
    #[serde(default)]
    pub constant_density: bool,
}

/// One regime for the whole run, or a schedule of spells.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawRegime {
    Name(String),
    Spells(Vec<RawSpell>),
}

/// A spell of a regime schedule: from `start` (UTC) until the next spell's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpell {
    pub start: String,
    pub regime: String,
    /// Share of calm 6-hour blocks in this spell (default: met.calm_fraction,
    /// else the regime's own).
    #[serde(default)]
    pub calm_fraction: Option<f64>,
}

/// Terrain for the diagnostic wind model: "flat", "hill" (Gaussian,
/// height_m at the top, e-folding radius_km), "basin" (a flat floor inside a
/// ring of mountains height_m high whose slopes start at radius_km), both
/// centred on the domain or on centre_lon/centre_lat, or "file".
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTerrain {
    pub shape: String,
    /// shape = "file": a NetCDF file and its height variable (m above sea
    /// level, dims (y, x) or (time, y, x) on the model grid; the first record).
    #[serde(default)]
    pub file: Option<PathBuf>,
    #[serde(default)]
    pub variable: Option<String>,
    /// hill, basin: height, m, above 0 and at most 9000.
    #[serde(default)]
    pub height_m: f64,
    /// Radius, km, at most 1000 (above 0 for hill and basin), and an
    /// obstacle search of at most 1e9 cell visits.
    #[serde(default)]
    pub radius_km: f64,
    #[serde(default)]
    pub centre_lon: Option<f64>,
    #[serde(default)]
    pub centre_lat: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawEmissions {
    /// Allowed sector labels. Default: the Chinese inventory classes.
    #[serde(default)]
    pub sectors: Option<Vec<String>>,
    /// Gridded area-source NetCDF files.
    #[serde(default)]
    pub gridded: Vec<PathBuf>,
    /// Point-source CSV files.
    #[serde(default)]
    pub points: Vec<PathBuf>,
    /// City-total inventory CSV files (spread with a Gaussian proxy, or
    /// inside the city's polygon with `city_allocation`).
    #[serde(default)]
    pub city_totals: Vec<PathBuf>,
    /// Month, weekday and hour factors per sector (CSV); none: constant.
    #[serde(default)]
    pub temporal_profiles: Option<PathBuf>,
    /// Local time's offset from UTC for the temporal profiles, hours
    /// (within +-14, default 8: China).
    #[serde(default = "default_emission_utc_offset")]
    pub utc_offset_hours: f64,
    /// Spread city rows inside their city polygons by sector proxies.
    #[serde(default)]
    pub city_allocation: Option<RawCityAllocation>,
    /// Stacks followed as Gaussian puffs near the source (plume-in-grid):
    /// "all" or a list of stack names from the stack CSV.
    #[serde(default)]
    pub plume_in_grid: Option<RawSectors>,
    /// A puff older than this is handed to the grid, hours, in (0, 72]
    /// (default 12).
    #[serde(default)]
    pub plume_in_grid_max_age_hours: Option<f64>,
    /// A puff whose sigma_y reaches this fraction of the cell width is
    /// handed to the grid, in (0, 2] (default 0.376, CAMx's area rule).
    #[serde(default)]
    pub plume_in_grid_handoff_sigma_fraction: Option<f64>,
}

fn default_emission_utc_offset() -> f64 {
    8.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCityAllocation {
    /// GeoJSON of city polygons (the attribution regions' format).
    pub regions_file: PathBuf,
    /// The feature property that names a city (default "name").
    #[serde(default = "default_name_property")]
    pub name_property: String,
    /// Populated places CSV (`geonameid,name,lon,lat,population,admin1`).
    #[serde(default)]
    pub places: Option<PathBuf>,
    /// MODIS IGBP land-cover NetCDF (urban and cropland proxies).
    #[serde(default)]
    pub land_cover: Option<PathBuf>,
    /// Its class variable (default "land_cover").
    #[serde(default = "default_land_cover_variable")]
    pub land_cover_variable: String,
}

fn default_land_cover_variable() -> String {
    "land_cover".into()
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawBoundary {
    /// Lateral and top inflow per species, ug/m3 at the domain-mean surface
    /// air density, applied as a uniform mixing ratio (0 to 1e5, default 0).
    #[serde(default)]
    pub background_ugm3: BTreeMap<String, f64>,
    /// Inflow through one lateral side, same convention; a species a side
    /// does not name takes its `background_ugm3` value.
    #[serde(default)]
    pub west_ugm3: BTreeMap<String, f64>,
    #[serde(default)]
    pub east_ugm3: BTreeMap<String, f64>,
    #[serde(default)]
    pub south_ugm3: BTreeMap<String, f64>,
    #[serde(default)]
    pub north_ugm3: BTreeMap<String, f64>,
    /// Initial value per species, same convention (default 0).
    #[serde(default)]
    pub initial_ugm3: BTreeMap<String, f64>,
}

/// Process switches and numerical knobs. Only numbers and switches, so the
/// raw table is also the typed spec once validation has checked its ranges.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhysicsSpec {
    #[serde(default = "yes")]
    pub advection: bool,
    #[serde(default = "yes")]
    pub vertical_diffusion: bool,
    /// Horizontal eddy diffusivity, m2/s, 0 to 1e5 (0 disables), and at most
    /// `limits::MAX_SUBSTEPS` explicit sub-steps per outer step.
    #[serde(default = "default_kh")]
    pub horizontal_kh_m2s: f64,
    #[serde(default = "yes")]
    pub dry_deposition: bool,
    #[serde(default = "yes")]
    pub wet_deposition: bool,
    /// Wesely (1989) land-use category of columns whose met gives none
    /// (`land_use::LandUse` names).
    #[serde(default = "default_land_use")]
    pub land_use: String,
    /// Floor on Kz above the boundary layer, m2/s, above 0 and at most 100.
    #[serde(default = "default_kzmin")]
    pub kz_min_m2s: f64,
    /// Maximum advective (mass) Courant number per sub-step, 0.1 to 1.
    #[serde(default = "default_courant")]
    pub max_courant: f64,
    /// Implicitness of vertical diffusion, 0.5 to 1: 1 backward Euler, 0.5
    /// Crank-Nicolson.
    #[serde(default = "one")]
    pub vertical_diffusion_theta: f64,
    /// How PPM advection finds cell-edge values.
    #[serde(default)]
    pub ppm_edges: PpmEdges,
}

/// How the PPM advection kernels interpolate the value at a cell edge from
/// the four nearest cell means (`physics.ppm_edges`). Both are Colella &
/// Woodward (1984), J. Comput. Phys. 54, 174, eq. 1.6 on a uniform grid,
/// a(j+1/2) = (a(j) + a(j+1))/2 - (da(j+1) - da(j))/6; they differ in the
/// slopes da. Either way the edge is then bounded by its two neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum PpmEdges {
    /// Slopes of CW84 eq. 1.8: the centred slope da = (a(j+1) - a(j-1))/2
    /// limited van Leer's way, min(|da|, 2|a(j) - a(j-1)|, 2|a(j+1) - a(j)|)
    /// with the sign of da, and 0 at a local extremum; the edges of CMAQ
    /// `hppm.F` and CAMx `hadvppm.f`.
    #[default]
    #[serde(rename = "cw84_limited")]
    Cw84Limited,
    /// Unlimited centred slopes (CW84 eq. 1.7): the fourth-order edge
    /// (7 (a(j) + a(j+1)) - (a(j-1) + a(j+2))) / 12.
    #[serde(rename = "fourth_order")]
    FourthOrder,
}

impl Default for PhysicsSpec {
    fn default() -> Self {
        PhysicsSpec {
            advection: true,
            vertical_diffusion: true,
            horizontal_kh_m2s: default_kh(),
            dry_deposition: true,
            wet_deposition: true,
            land_use: default_land_use(),
            kz_min_m2s: default_kzmin(),
            max_courant: default_courant(),
            vertical_diffusion_theta: 1.0,
            ppm_edges: PpmEdges::default(),
        }
    }
}

fn yes() -> bool {
    true
}
fn one() -> f64 {
    1.0
}
fn default_land_use() -> String {
    "mixed_forest".into()
}

fn default_kh() -> f64 {
    // CAMx/CMAQ-scale horizontal diffusivity for ~10 km grids.
    100.0
}
fn default_kzmin() -> f64 {
    0.1
}
fn default_courant() -> f64 {
    0.9
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSite {
    pub name: String,
    /// Degrees: longitude within +-360, latitude within +-90.
    pub lon: f64,
    pub lat: f64,
}

/// Secondary inorganic chemistry; active when the run carries the species
/// it links (SO2 and SO4; NOX and HNO3; NH3, NH4, HNO3 and NO3). Like
/// [`PhysicsSpec`], the raw table is the typed spec once validated.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChemistrySpec {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Daytime OH peak at overhead sun, molecules cm-3, below 1e8 (OH =
    /// peak cos SZA).
    #[serde(default = "default_oh")]
    pub oh_peak_cm3: f64,
    /// Fixed OH everywhere and always, molecules cm-3, below 1e8 (box tests and
    /// sensitivity runs); overrides the diurnal field.
    #[serde(default)]
    pub oh_cm3: Option<f64>,
    /// Regional background ozone, ppb (below 1000): where carried ozone relaxes to by
    /// day (the O3 species; without it the night-time N2O5 path is off).
    #[serde(default = "default_ozone")]
    pub ozone_ppb: f64,
    /// Daytime relaxation time of carried ozone toward `ozone_ppb`, hours
    /// (photochemical production and residual-layer entrainment, not yet
    /// computed), below 1e4; 0 turns the relaxation off.
    #[serde(default = "default_ozone_recovery")]
    pub ozone_recovery_hours: f64,
    /// Background H2O2, ppb (below 1000), that carried H2O2 relaxes to (the H2O2
    /// species; without it there is no aqueous sulfate in cloud and fog).
    #[serde(default = "default_h2o2")]
    pub h2o2_ppb: f64,
    /// Relaxation time of carried H2O2 toward `h2o2_ppb`, hours (its
    /// photochemical turnover, about a day), below 1e4; 0 turns it off.
    #[serde(default = "default_h2o2_relaxation")]
    pub h2o2_relaxation_hours: f64,
    /// pH of cloud and fog water, 2 to 7 (sets the dissolved S(IV) share).
    #[serde(default = "default_cloud_ph")]
    pub cloud_ph: f64,
    /// N2O5 reactive uptake coefficient on wet particles (below 1), and the
    /// ClNO2 yield of that uptake (0 to 1) (Tham et al. 2018 means).
    #[serde(default = "default_n2o5_gamma")]
    pub n2o5_gamma: f64,
    #[serde(default = "default_clno2_yield")]
    pub clno2_yield: f64,
    /// SO2 reactive uptake coefficient on aerosol water, below 1 (0: path off).
    #[serde(default = "default_so2_gamma")]
    pub so2_uptake_gamma: f64,
    /// Particles stay liquid below their deliquescence humidity (the
    /// metastable branch, CMAQ's and ISORROPIA's default).
    #[serde(default = "yes")]
    pub metastable: bool,
    /// Mole fraction of emitted NOx that is NO, 0 to 1 (titrates ozone at once).
    #[serde(default = "default_no_fraction")]
    pub no_fraction_of_nox: f64,
}

fn default_ozone() -> f64 {
    40.0
}

fn default_ozone_recovery() -> f64 {
    3.0
}

fn default_h2o2_relaxation() -> f64 {
    24.0
}

fn default_n2o5_gamma() -> f64 {
    0.022
}

fn default_clno2_yield() -> f64 {
    0.34
}

fn default_so2_gamma() -> f64 {
    5.0e-5
}

fn default_no_fraction() -> f64 {
    0.9
}

fn default_h2o2() -> f64 {
    1.0
}

fn default_cloud_ph() -> f64 {
    4.5
}

impl Default for ChemistrySpec {
    fn default() -> Self {
        ChemistrySpec {
            enabled: true,
            oh_peak_cm3: default_oh(),
            oh_cm3: None,
            ozone_ppb: default_ozone(),
            ozone_recovery_hours: default_ozone_recovery(),
            h2o2_ppb: default_h2o2(),
            h2o2_relaxation_hours: default_h2o2_relaxation(),
            cloud_ph: default_cloud_ph(),
            n2o5_gamma: default_n2o5_gamma(),
            clno2_yield: default_clno2_yield(),
            so2_uptake_gamma: default_so2_gamma(),
            metastable: true,
            no_fraction_of_nox: default_no_fraction(),
        }
    }
}

/// Order of the observed daytime OH maximum in polluted eastern China
/// (several 10^6 cm-3); a case parameter, not a tuned constant.
fn default_oh() -> f64 {
    5.0e6
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    pub dir: PathBuf,
    /// Output interval, h: at least a minute, a whole number of them in
    /// `run.hours`, divided into whole steps of at least 1 s.
    #[serde(default = "one")]
    pub interval_hours: f64,
    /// "mean" (averages over each interval) or "instant".
    #[serde(default = "default_mean")]
    pub mode: String,
    /// Write only the lowest N layers, 1 to nz (default: all).
    #[serde(default)]
    pub layers: Option<usize>,
    /// Also write the meteorology the run used (`<name>.met.nc`).
    #[serde(default)]
    pub met_fields: bool,
}

fn default_mean() -> String {
    "mean".into()
}

/// Parse case text; syntax and type errors name the key and the line.
pub fn parse(text: &str, path: &Path) -> Result<RawCase> {
    parse_toml(text, path)
}

/// Parse TOML text into `T` (unknown keys refused by `T`'s serde
/// attributes); syntax and type errors name the key and the line. The
/// case file and the plume case file share it.
pub fn parse_toml<T: serde::de::DeserializeOwned>(text: &str, path: &Path) -> Result<T> {
    let line_of = |e: &toml::de::Error| {
        e.span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
            .unwrap_or(0)
    };
    let de = toml::Deserializer::parse(text).map_err(|e| {
        Error::config(
            path,
            format!("(syntax, line {})", line_of(&e)),
            e.message().trim().to_string(),
        )
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let msg = inner.message().trim().to_string();
        // A missing field is reported at its parent table: name the field itself.
        let key = match msg
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
        {
            Some(field) if key == "." => field.to_string(),
            Some(field) => format!("{key}.{field}"),
            None => key,
        };
        Error::config(path, format!("{key} (line {})", line_of(&inner)), msg)
    })
}
