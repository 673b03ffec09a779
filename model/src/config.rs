//! The case file (TOML). Parsed with serde, unknown keys rejected, then
//! validated as a whole before any computing: every error names the file,
//! the key and what was expected. `docs/case-file.md` documents every key.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub run: RunConfig,
    pub grid: GridConfig,
    pub species: SpeciesConfig,
    pub met: MetConfig,
    #[serde(default)]
    pub emissions: EmissionsConfig,
    #[serde(default)]
    pub boundary: BoundaryConfig,
    #[serde(default)]
    pub physics: PhysicsConfig,
    #[serde(default)]
    pub chemistry: ChemistryConfig,
    /// Named sites (cities, monitors) where the run reports statistics.
    #[serde(default)]
    pub sites: Vec<SiteConfig>,
    pub output: OutputConfig,
    /// Directory the case file lives in; relative input paths resolve against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
    #[serde(skip)]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub name: String,
    /// ISO 8601 UTC start, `YYYY-MM-DDTHH:MM:SSZ`.
    pub start: String,
    pub hours: f64,
    /// Outer (operator-splitting) time step in seconds; advection and
    /// horizontal diffusion sub-step inside it for stability.
    pub dt_s: f64,
    /// Worker threads; 0 = all cores. Results do not depend on it.
    #[serde(default)]
    pub threads: usize,
    /// Memory ceiling in GiB for the up-front size check (default: MemAvailable).
    #[serde(default)]
    pub max_memory_gib: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridConfig {
    /// "lambert", "latlon" or "cartesian".
    pub projection: String,
    pub nx: usize,
    pub ny: usize,
    /// Cell size: metres for lambert/cartesian, degrees for latlon.
    pub dx: f64,
    pub dy: f64,
    /// Lambert: first and second standard parallels, central meridian.
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
    /// Heights of layer tops above ground, metres, strictly increasing.
    pub layer_tops_m: Vec<f64>,
    /// Lateral boundaries: "open" (default) or "periodic" (idealised tests).
    #[serde(default = "default_open")]
    pub lateral: String,
}

impl GridConfig {
    /// A Cartesian grid (idealised cases, tests and benchmarks).
    pub fn cartesian(nx: usize, ny: usize, dx: f64, layer_tops_m: &[f64]) -> GridConfig {
        GridConfig {
            projection: "cartesian".into(),
            nx,
            ny,
            dx,
            dy: dx,
            truelat1: None,
            truelat2: None,
            stand_lon: None,
            centre_lon: None,
            centre_lat: None,
            layer_tops_m: layer_tops_m.to_vec(),
            lateral: "open".into(),
        }
    }
}

fn default_open() -> String {
    "open".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeciesConfig {
    /// Names from the built-in table (`airshed species` lists it).
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetConfig {
    /// "analytic", "netcdf", "reanalysis", "wrf" or "diagnostic".
    pub kind: String,
    /// netcdf, reanalysis: path to the met file.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// wrf: wrfout files (any order; records are sorted by time).
    #[serde(default)]
    pub files: Vec<PathBuf>,
    /// analytic and diagnostic: relative humidity (fraction, default 0.7) and
    /// cloud or fog liquid water in g/kg (default 0).
    #[serde(default)]
    pub relative_humidity: Option<f64>,
    #[serde(default)]
    pub cloud_water_gkg: f64,
    /// diagnostic: the synoptic regime generator ("winter", "spring",
    /// "summer", "stagnant"; SYNTHETIC).
    #[serde(default)]
    pub regime: Option<String>,
    /// diagnostic: hourly station winds (CSV) replacing the regime's wind.
    #[serde(default)]
    pub stations: Option<PathBuf>,
    /// diagnostic regime: fraction of hours with calm (< 0.5 m/s) synoptic
    /// wind, and the seed of its reproducible random sequence.
    #[serde(default)]
    pub calm_fraction: Option<f64>,
    #[serde(default)]
    pub seed: Option<u64>,
    /// diagnostic: terrain (default flat).
    #[serde(default)]
    pub terrain: Option<TerrainConfig>,
    /// analytic: flow pattern "uniform", "rotation", "deformation", "shear", "calm".
    #[serde(default)]
    pub flow: Option<String>,
    #[serde(default)]
    pub u_ms: f64,
    #[serde(default)]
    pub v_ms: f64,
    /// analytic: period of rotation / deformation, seconds.
    #[serde(default)]
    pub period_s: Option<f64>,
    /// analytic: day and night mixing heights, m (diurnal cycle by solar time).
    #[serde(default)]
    pub pblh_day_m: Option<f64>,
    #[serde(default)]
    pub pblh_night_m: Option<f64>,
    /// analytic: constant vertical diffusivity, m2/s (overrides similarity Kz).
    #[serde(default)]
    pub kz_m2s: Option<f64>,
    /// analytic: surface temperature K, precipitation mm/h.
    #[serde(default)]
    pub surface_temperature_k: Option<f64>,
    #[serde(default)]
    pub precip_mm_h: f64,
    /// analytic: hold temperature and pressure constant with height (uniform
    /// density), the idealisation of the analytic test solutions.
    #[serde(default)]
    pub constant_density: bool,
}

/// Terrain for the diagnostic wind model: "flat", "hill" (Gaussian,
/// height_m at the top, e-folding radius_km), "basin" (a flat floor inside a
/// ring of mountains height_m high whose slopes start at radius_km), both
/// centred on the domain or on centre_lon/centre_lat, or "file".
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerrainConfig {
    pub shape: String,
    /// shape = "file": a NetCDF file and its height variable (m above sea
    /// level, dims (y, x) or (time, y, x) on the model grid; the first record).
    #[serde(default)]
    pub file: Option<PathBuf>,
    #[serde(default)]
    pub variable: Option<String>,
    #[serde(default)]
    pub height_m: f64,
    #[serde(default)]
    pub radius_km: f64,
    #[serde(default)]
    pub centre_lon: Option<f64>,
    #[serde(default)]
    pub centre_lat: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EmissionsConfig {
    /// Allowed sector labels. Default: the Chinese inventory classes.
    #[serde(default)]
    pub sectors: Option<Vec<String>>,
    /// Gridded area-source NetCDF files.
    #[serde(default)]
    pub gridded: Vec<PathBuf>,
    /// Point-source CSV files.
    #[serde(default)]
    pub points: Vec<PathBuf>,
    /// City-total inventory CSV files (spread with a Gaussian proxy).
    #[serde(default)]
    pub city_totals: Vec<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BoundaryConfig {
    /// Lateral and top inflow per species, ug/m3 at the domain-mean surface
    /// air density, applied as a uniform mixing ratio (default 0).
    #[serde(default)]
    pub background_ugm3: BTreeMap<String, f64>,
    /// Initial value per species, same convention (default 0).
    #[serde(default)]
    pub initial_ugm3: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhysicsConfig {
    #[serde(default = "yes")]
    pub advection: bool,
    #[serde(default = "yes")]
    pub vertical_diffusion: bool,
    /// Horizontal eddy diffusivity, m2/s (0 disables).
    #[serde(default = "default_kh")]
    pub horizontal_kh_m2s: f64,
    #[serde(default = "yes")]
    pub dry_deposition: bool,
    #[serde(default = "yes")]
    pub wet_deposition: bool,
    /// Floor on Kz above the boundary layer, m2/s.
    #[serde(default = "default_kzmin")]
    pub kz_min_m2s: f64,
    /// Maximum advective (mass) Courant number per sub-step.
    #[serde(default = "default_courant")]
    pub max_courant: f64,
    /// Implicitness of vertical diffusion: 1 backward Euler, 0.5 Crank-Nicolson.
    #[serde(default = "one")]
    pub vertical_diffusion_theta: f64,
}

impl Default for PhysicsConfig {
    fn default() -> Self {
        PhysicsConfig {
            advection: true,
            vertical_diffusion: true,
            horizontal_kh_m2s: default_kh(),
            dry_deposition: true,
            wet_deposition: true,
            kz_min_m2s: default_kzmin(),
            max_courant: default_courant(),
            vertical_diffusion_theta: 1.0,
        }
    }
}

fn yes() -> bool {
    true
}
fn one() -> f64 {
    1.0
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
pub struct SiteConfig {
    pub name: String,
    pub lon: f64,
    pub lat: f64,
}

/// Secondary inorganic chemistry; active when the run carries the species
/// it links (SO2 and SO4; NOX and HNO3; NH3, NH4, HNO3 and NO3).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChemistryConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Daytime OH peak at overhead sun, molecules cm-3 (OH = peak cos SZA).
    #[serde(default = "default_oh")]
    pub oh_peak_cm3: f64,
    /// Fixed OH everywhere and always, molecules cm-3 (box tests and
    /// sensitivity runs); overrides the diurnal field.
    #[serde(default)]
    pub oh_cm3: Option<f64>,
    /// Background ozone, ppb, for the night-time NO2 -> N2O5 -> HNO3 path
    /// (0 turns it off).
    #[serde(default)]
    pub ozone_ppb: f64,
    /// Background H2O2, ppb, for aqueous sulfate in cloud and fog (0: off).
    #[serde(default = "default_h2o2")]
    pub h2o2_ppb: f64,
    /// pH of cloud and fog water (sets the dissolved S(IV) share).
    #[serde(default = "default_cloud_ph")]
    pub cloud_ph: f64,
}

fn default_h2o2() -> f64 {
    1.0
}

fn default_cloud_ph() -> f64 {
    4.5
}

impl Default for ChemistryConfig {
    fn default() -> Self {
        ChemistryConfig {
            enabled: true,
            oh_peak_cm3: default_oh(),
            oh_cm3: None,
            ozone_ppb: 0.0,
            h2o2_ppb: default_h2o2(),
            cloud_ph: default_cloud_ph(),
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
pub struct OutputConfig {
    pub dir: PathBuf,
    #[serde(default = "one")]
    pub interval_hours: f64,
    /// "mean" (averages over each interval) or "instant".
    #[serde(default = "default_mean")]
    pub mode: String,
    /// Write only the lowest N layers (default: all).
    #[serde(default)]
    pub layers: Option<usize>,
}

fn default_mean() -> String {
    "mean".into()
}

/// Hours since midnight UTC and day of year parsed from `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Debug, Clone, Copy)]
pub struct StartTime {
    pub year: i32,
    pub day_of_year: u32,
    pub hour_utc: f64,
}

pub fn parse_start(s: &str) -> Option<StartTime> {
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || d == 0 || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if d > days[mo as usize - 1] {
        return None;
    }
    let doy = days[..mo as usize - 1].iter().sum::<u32>() + d;
    Some(StartTime {
        year: y as i32,
        day_of_year: doy,
        hour_utc: h as f64 + mi as f64 / 60.0 + se as f64 / 3600.0,
    })
}

impl Case {
    pub fn load(path: &Path) -> Result<Case> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(path, "(file)", format!("a readable TOML case file ({e})"))
        })?;
        Self::from_str(&text, path)
    }

    pub fn from_str(text: &str, path: &Path) -> Result<Case> {
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
        let mut case: Case = serde_path_to_error::deserialize(de).map_err(|e| {
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
        })?;
        case.file = path.to_path_buf();
        case.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        case.validate()?;
        Ok(case)
    }

    /// Resolve a path from the case file against the case file's directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    fn err(&self, key: &str, expected: impl Into<String>) -> Error {
        Error::config(&self.file, key, expected)
    }

    fn validate(&self) -> Result<()> {
        let positive = |key: &str, v: f64| -> Result<()> {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(self.err(key, format!("a positive finite number, got {v}")))
            }
        };
        if parse_start(&self.run.start).is_none() {
            return Err(self.err(
                "run.start",
                format!(
                    "a UTC time like 2023-01-20T00:00:00Z, got {:?}",
                    self.run.start
                ),
            ));
        }
        positive("run.hours", self.run.hours)?;
        positive("run.dt_s", self.run.dt_s)?;
        if self.run.dt_s > 3600.0 {
            return Err(self.err("run.dt_s", "at most 3600 s (met is hourly)"));
        }
        let g = &self.grid;
        if g.nx < 4 || g.ny < 4 {
            return Err(self.err(
                "grid.nx/grid.ny",
                format!("at least 4 cells each way, got {} x {}", g.nx, g.ny),
            ));
        }
        positive("grid.dx", g.dx)?;
        positive("grid.dy", g.dy)?;
        match g.projection.as_str() {
            "lambert" => {
                for (k, v) in [
                    ("grid.truelat1", g.truelat1),
                    ("grid.truelat2", g.truelat2),
                    ("grid.stand_lon", g.stand_lon),
                    ("grid.centre_lon", g.centre_lon),
                    ("grid.centre_lat", g.centre_lat),
                ] {
                    if v.is_none() {
                        return Err(self.err(k, "required for projection = \"lambert\""));
                    }
                }
                let (t1, t2) = (g.truelat1.unwrap(), g.truelat2.unwrap());
                if !(t1.abs() < 90.0 && t2.abs() < 90.0 && t1 * t2 > 0.0) {
                    return Err(self.err(
                        "grid.truelat1/grid.truelat2",
                        "standard parallels in one hemisphere, strictly between -90 and 90",
                    ));
                }
            }
            "latlon" => {
                if g.centre_lon.is_none() || g.centre_lat.is_none() {
                    return Err(self.err(
                        "grid.centre_lon/grid.centre_lat",
                        "the south-west cell centre, required for latlon",
                    ));
                }
                if g.dx > 5.0 || g.dy > 5.0 {
                    return Err(self.err("grid.dx", "degrees (at most 5) for a latlon grid"));
                }
            }
            "cartesian" => {}
            other => {
                return Err(self.err(
                    "grid.projection",
                    format!("one of \"lambert\", \"latlon\", \"cartesian\", got {other:?}"),
                ))
            }
        }
        if !matches!(g.lateral.as_str(), "open" | "periodic") {
            return Err(self.err(
                "grid.lateral",
                format!("\"open\" or \"periodic\", got {:?}", g.lateral),
            ));
        }
        if g.layer_tops_m.is_empty() {
            return Err(self.err("grid.layer_tops_m", "at least one layer top height (m)"));
        }
        let mut prev = 0.0;
        for (i, &z) in g.layer_tops_m.iter().enumerate() {
            if !(z.is_finite() && z > prev) {
                return Err(self.err(
                    "grid.layer_tops_m",
                    format!("strictly increasing positive heights; entry {i} is {z} after {prev}"),
                ));
            }
            prev = z;
        }
        if self.species.names.is_empty() {
            return Err(self.err("species.names", "at least one species"));
        }
        for name in &self.species.names {
            if crate::species::lookup(name).is_none() {
                return Err(self.err(
                    "species.names",
                    format!(
                        "a species from the built-in table ({}), got {name:?}",
                        crate::species::known_names()
                    ),
                ));
            }
        }
        for (table, key) in [
            (&self.boundary.background_ugm3, "boundary.background_ugm3"),
            (&self.boundary.initial_ugm3, "boundary.initial_ugm3"),
        ] {
            for (name, &v) in table {
                if !self.species.names.contains(name) {
                    return Err(self.err(
                        &format!("{key}.{name}"),
                        "a species listed in species.names",
                    ));
                }
                if !(v.is_finite() && v >= 0.0) {
                    return Err(self.err(
                        &format!("{key}.{name}"),
                        format!("a non-negative concentration in ug/m3, got {v}"),
                    ));
                }
            }
        }
        if let Some(rh) = self.met.relative_humidity {
            if !(0.0..=1.0).contains(&rh) {
                return Err(self.err("met.relative_humidity", "a fraction between 0 and 1"));
            }
        }
        if !(0.0..10.0).contains(&self.met.cloud_water_gkg) {
            return Err(self.err(
                "met.cloud_water_gkg",
                "a liquid water content between 0 and 10 g/kg",
            ));
        }
        if !(2.0..=7.0).contains(&self.chemistry.cloud_ph) {
            return Err(self.err("chemistry.cloud_ph", "a cloud-water pH between 2 and 7"));
        }
        match self.met.kind.as_str() {
            "analytic" => {
                let flow = self.met.flow.as_deref().unwrap_or("uniform");
                if !matches!(
                    flow,
                    "uniform" | "rotation" | "deformation" | "shear" | "calm"
                ) {
                    return Err(self.err(
                        "met.flow",
                        format!("one of uniform, rotation, deformation, shear, calm; got {flow:?}"),
                    ));
                }
                if matches!(flow, "rotation" | "deformation") {
                    positive("met.period_s", self.met.period_s.unwrap_or(f64::NAN))?;
                }
                if let Some(k) = self.met.kz_m2s {
                    if !(k.is_finite() && k >= 0.0) {
                        return Err(self.err("met.kz_m2s", "a non-negative diffusivity in m2/s"));
                    }
                }
                if !(self.met.precip_mm_h.is_finite() && self.met.precip_mm_h >= 0.0) {
                    return Err(self.err("met.precip_mm_h", "a non-negative rate in mm/h"));
                }
            }
            "netcdf" => {
                if self.met.file.is_none() {
                    return Err(self.err(
                        "met.file",
                        "a CF-NetCDF met file path for kind = \"netcdf\"",
                    ));
                }
            }
            "reanalysis" => {
                if self.met.file.is_none() {
                    return Err(self.err(
                        "met.file",
                        "a lat-lon gridded met file for kind = \"reanalysis\"",
                    ));
                }
            }
            "wrf" => {
                if self.met.files.is_empty() {
                    return Err(self.err("met.files", "a list of wrfout files for kind = \"wrf\""));
                }
            }
            "diagnostic" => {
                let r = self.met.regime.as_deref().unwrap_or("");
                if self.met.file.is_some() && (self.met.regime.is_some() || self.met.stations.is_some()) {
                    return Err(self.err(
                        "met.file",
                        "either coarse gridded winds (met.file) or met.regime / met.stations for kind = \"diagnostic\", not both",
                    ));
                }
                if self.met.file.is_none() && crate::met::regime::Regime::named(r).is_none() {
                    return Err(self.err(
                        "met.regime",
                        format!(
                            "one of {} for kind = \"diagnostic\" (or a coarse met.file); got {r:?}",
                            crate::met::regime::Regime::NAMES.join(", ")
                        ),
                    ));
                }
                let calm = self.met.calm_fraction.unwrap_or(0.0);
                if !(0.0..=1.0).contains(&calm) {
                    return Err(self.err("met.calm_fraction", "a fraction between 0 and 1"));
                }
                if let Some(t) = &self.met.terrain {
                    if !matches!(t.shape.as_str(), "flat" | "hill" | "basin" | "file") {
                        return Err(self.err(
                            "met.terrain.shape",
                            format!("one of flat, hill, basin, file; got {:?}", t.shape),
                        ));
                    }
                    if t.shape == "file" && t.file.is_none() {
                        return Err(self.err(
                            "met.terrain.file",
                            "a NetCDF terrain file for shape = \"file\"",
                        ));
                    }
                    if t.shape == "hill" || t.shape == "basin" {
                        positive("met.terrain.height_m", t.height_m)?;
                        positive("met.terrain.radius_km", t.radius_km)?;
                    }
                }
            }
            other => {
                return Err(self.err(
                    "met.kind",
                    format!(
                        "one of \"analytic\", \"netcdf\", \"reanalysis\", \"wrf\", \"diagnostic\"; got {other:?}"
                    ),
                ))
            }
        }
        let p = &self.physics;
        if !(p.horizontal_kh_m2s.is_finite() && p.horizontal_kh_m2s >= 0.0) {
            return Err(self.err(
                "physics.horizontal_kh_m2s",
                "a non-negative diffusivity in m2/s",
            ));
        }
        positive("physics.kz_min_m2s", p.kz_min_m2s)?;
        if !(p.max_courant > 0.0 && p.max_courant <= 1.0) {
            return Err(self.err(
                "physics.max_courant",
                "a number in (0, 1]: PPM is monotone only below 1",
            ));
        }
        if !(0.5..=1.0).contains(&p.vertical_diffusion_theta) {
            return Err(self.err("physics.vertical_diffusion_theta", "a number in [0.5, 1]"));
        }
        for (key, v) in [
            ("chemistry.oh_peak_cm3", Some(self.chemistry.oh_peak_cm3)),
            ("chemistry.oh_cm3", self.chemistry.oh_cm3),
            ("chemistry.ozone_ppb", Some(self.chemistry.ozone_ppb)),
            ("chemistry.h2o2_ppb", Some(self.chemistry.h2o2_ppb)),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && (0.0..1e8).contains(&v)) {
                    return Err(self.err(
                        key,
                        "a non-negative OH number density below 1e8 molecules/cm3",
                    ));
                }
            }
        }
        for (n, site) in self.sites.iter().enumerate() {
            if !(site.lon.is_finite() && site.lat.is_finite() && site.lat.abs() <= 90.0) {
                return Err(self.err(
                    &format!("sites[{n}] ({})", site.name),
                    "a finite longitude and a latitude within +-90 degrees",
                ));
            }
        }
        positive("output.interval_hours", self.output.interval_hours)?;
        if !matches!(self.output.mode.as_str(), "mean" | "instant") {
            return Err(self.err(
                "output.mode",
                format!("\"mean\" or \"instant\", got {:?}", self.output.mode),
            ));
        }
        if let Some(sectors) = &self.emissions.sectors {
            if sectors.is_empty() {
                return Err(self.err(
                    "emissions.sectors",
                    "at least one sector label, or leave it out for the default classes",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_times_parse_and_bad_ones_do_not() {
        let t = parse_start("2024-03-01T06:30:00Z").unwrap();
        assert_eq!((t.year, t.day_of_year), (2024, 61)); // leap year
        assert!((t.hour_utc - 6.5).abs() < 1e-12);
        for bad in [
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-01-01 00:00:00",
            "2023-01-01T24:00:00Z",
        ] {
            assert!(parse_start(bad).is_none(), "{bad}");
        }
    }
}
