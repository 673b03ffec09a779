//! The plume case file (`airshed plume CASE.toml`): parsed with serde
//! (unknown keys refused, errors naming the file, the key and its line, as
//! `config::raw` does) and resolved at once into what the run needs: the
//! hours of met ([`Hour`]), the sources, the receptors and the options.
//! Keys, ranges and defaults are in docs/case-file.md ("The plume case
//! file"); relative paths resolve against the case file's directory.
//!
//! The local frame ([`LocalFrame`]) is the azimuthal equidistant
//! projection on a sphere about the case's origin (Snyder 1987, "Map
//! Projections: A Working Manual", USGS PP 1395, section 25, eqs. 22-4,
//! 22-5, 25-2 forward and 20-14, 20-15, 25-15 inverse): distances and
//! directions from the origin are true, and within 50 km of it any
//! distance is within 0.01 % of the great-circle one. Its radius is the
//! model's [`EARTH_RADIUS`].
//!
//! Met for a site may also come from an Eulerian case's own met
//! ([`site_hours`]): the column containing the point, one hour at a time.

use super::aermet;
pub use super::frame::LocalFrame;
use super::receptors::{self, Receptor, ReceptorTerrain};
use super::sigma::Scheme;
use super::site::{Hour, ProfileLevel, SiteHour};
use super::sources::{self, Source};
use super::Floors;
use crate::config::Case;
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::met::{CP_DRY, GRAVITY, KARMAN, R_DRY};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What calm hours (wind below `calm_wind_m_s`) do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalmMode {
    /// Emissions go into puffs that stay and spread until the wind returns.
    Puff,
    /// The steady plume at the floor wind, meander blended (no puffs).
    Steady,
}

/// Physics options of a plume run.
#[derive(Debug, Clone, PartialEq)]
pub struct PlumeOptions {
    pub dispersion: Scheme,
    pub meander: bool,
    pub terrain: bool,
    pub downwash: bool,
    pub calm: CalmMode,
    pub floors: Floors,
}

/// An averaging period of the outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Average {
    /// Running block averages of this many hours (1, 3, 8, 24).
    Hours(u32),
    /// The whole run.
    Period,
    /// Each calendar year.
    Annual,
}

impl Average {
    pub fn name(&self) -> String {
        match self {
            Average::Hours(h) => format!("{h}h"),
            Average::Period => "period".into(),
            Average::Annual => "annual".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutputOptions {
    pub dir: PathBuf,
    pub averages: Vec<Average>,
    /// Ranks of the highest values per receptor to report, e.g. [1, 2].
    pub nth_highest: Vec<usize>,
    pub csv: bool,
    pub netcdf: bool,
}

/// Where the met came from and what was made of it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetReport {
    /// The file(s) or case it was read from.
    pub source: String,
    /// "local standard time (AERMET)" or "UTC".
    pub clock: String,
    pub hours: usize,
    pub calm: usize,
    pub missing: usize,
    /// Substitutions (AERMET calm hours, derived values), one per line.
    pub notes: Vec<String>,
}

/// A resolved plume case.
#[derive(Debug, Clone)]
pub struct PlumeCase {
    pub file: PathBuf,
    pub name: String,
    /// Origin (lon, lat) and its local frame.
    pub origin: (f64, f64),
    pub frame: LocalFrame,
    pub options: PlumeOptions,
    /// Every hour of the run, in order, valid or missing.
    pub hours: Vec<Hour>,
    pub met: MetReport,
    pub sources: Vec<Source>,
    /// The species the sources emit, in first-seen order.
    pub species: Vec<String>,
    pub receptors: Vec<Receptor>,
    pub output: OutputOptions,
}

// ---- raw TOML ---------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlumeCase {
    plume: RawPlume,
    met: RawMet,
    #[serde(default)]
    sources: RawSources,
    receptors: RawReceptors,
    output: RawOutput,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlume {
    name: String,
    origin: [f64; 2],
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
    #[serde(default)]
    hours: Option<usize>,
    #[serde(default = "default_dispersion")]
    dispersion: String,
    #[serde(default = "yes")]
    meander: bool,
    #[serde(default)]
    terrain: bool,
    #[serde(default)]
    downwash: bool,
    #[serde(default = "default_calm")]
    calm: String,
    #[serde(default)]
    min_sigma_v_m_s: Option<f64>,
    #[serde(default)]
    min_sigma_w_m_s: Option<f64>,
    #[serde(default)]
    min_wind_m_s: Option<f64>,
    #[serde(default)]
    calm_wind_m_s: Option<f64>,
}

fn default_dispersion() -> String {
    "similarity".into()
}
fn default_calm() -> String {
    "puff".into()
}
fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMet {
    #[serde(default)]
    surface: Option<PathBuf>,
    #[serde(default)]
    profile: Option<PathBuf>,
    #[serde(default)]
    site: Option<RawSite>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    case: PathBuf,
    lon: f64,
    lat: f64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSources {
    #[serde(default)]
    stacks: Option<PathBuf>,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    species: Vec<String>,
    #[serde(default)]
    area: Vec<RawArea>,
    #[serde(default)]
    line: Vec<RawLine>,
}

/// A position by lon/lat or by local x/y.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArea {
    name: String,
    #[serde(default)]
    lon: Option<f64>,
    #[serde(default)]
    lat: Option<f64>,
    #[serde(default)]
    x_m: Option<f64>,
    #[serde(default)]
    y_m: Option<f64>,
    x_len_m: f64,
    y_len_m: f64,
    #[serde(default)]
    angle_deg: f64,
    #[serde(default)]
    height_m: f64,
    #[serde(default)]
    elevation_m: Option<f64>,
    rates_g_s: BTreeMap<String, f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    name: String,
    #[serde(default)]
    lon: Option<f64>,
    #[serde(default)]
    lat: Option<f64>,
    #[serde(default)]
    lon_end: Option<f64>,
    #[serde(default)]
    lat_end: Option<f64>,
    #[serde(default)]
    x_m: Option<f64>,
    #[serde(default)]
    y_m: Option<f64>,
    #[serde(default)]
    x_end_m: Option<f64>,
    #[serde(default)]
    y_end_m: Option<f64>,
    width_m: f64,
    #[serde(default)]
    height_m: f64,
    #[serde(default)]
    elevation_m: Option<f64>,
    rates_g_s: BTreeMap<String, f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReceptors {
    #[serde(default)]
    csv: Option<PathBuf>,
    #[serde(default)]
    cartesian: Option<RawCartesian>,
    #[serde(default)]
    polar: Option<RawPolar>,
    #[serde(default)]
    grid: Option<PathBuf>,
    #[serde(default)]
    flagpole_m: f64,
    #[serde(default)]
    terrain: Option<RawTerrain>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCartesian {
    x0_m: f64,
    y0_m: f64,
    dx_m: f64,
    dy_m: f64,
    nx: usize,
    ny: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolar {
    #[serde(default)]
    centre_m: [f64; 2],
    distances_m: Vec<f64>,
    directions: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerrain {
    file: PathBuf,
    #[serde(default = "default_elevation")]
    variable: String,
    #[serde(default = "default_hill_radius")]
    hill_radius_m: f64,
}

fn default_elevation() -> String {
    "elevation".into()
}
/// Default hill-height search radius, m.
pub const DEFAULT_HILL_RADIUS_M: f64 = 10_000.0;
fn default_hill_radius() -> f64 {
    DEFAULT_HILL_RADIUS_M
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    dir: PathBuf,
    #[serde(default = "default_averages")]
    averages: Vec<String>,
    #[serde(default = "default_nth")]
    nth_highest: Vec<usize>,
    #[serde(default = "yes")]
    csv: bool,
    #[serde(default = "yes")]
    netcdf: bool,
}

fn default_averages() -> Vec<String> {
    ["1h", "24h", "period"].map(String::from).to_vec()
}
fn default_nth() -> Vec<usize> {
    vec![1, 2]
}

// ---- resolution -------------------------------------------------------

impl PlumeCase {
    /// Read, check and resolve a plume case file: met read, sources and
    /// receptors built in the local frame.
    pub fn load(path: &Path) -> Result<PlumeCase> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(path, "(file)", format!("a readable TOML case file ({e})"))
        })?;
        Self::from_str(&text, path)
    }

    /// Parse and resolve case text as if it were the file `path`.
    pub fn from_str(text: &str, path: &Path) -> Result<PlumeCase> {
        let raw: RawPlumeCase = crate::config::parse_toml(text, path)?;
        resolve(raw, path)
    }
}

fn cfg(path: &Path, key: &str, expected: impl Into<String>) -> Error {
    Error::config(path, key, expected)
}

fn in_range(path: &Path, key: &str, v: f64, lo: f64, hi: f64) -> Result<f64> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(v)
    } else {
        Err(cfg(path, key, format!("a number in [{lo}, {hi}], got {v}")))
    }
}

fn check_lonlat(path: &Path, key: &str, lon: f64, lat: f64) -> Result<()> {
    if !(lon.is_finite() && (-180.0..=360.0).contains(&lon)) {
        return Err(cfg(path, key, format!("a longitude in degrees, got {lon}")));
    }
    if !(lat.is_finite() && (-89.0..=89.0).contains(&lat)) {
        return Err(cfg(
            path,
            key,
            format!("a latitude within +-89 degrees, got {lat}"),
        ));
    }
    Ok(())
}

/// `YYYY-MM-DD HH` with HH 1-24 (hour ending): (year, month, day, hour).
pub fn parse_hour_stamp(s: &str) -> Option<(i32, u32, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 13 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    let (y, m, d, h) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?);
    if !(1..=12).contains(&m) || d == 0 || d > crate::time::days_in_month(y as i64, m) {
        return None;
    }
    (1..=24).contains(&h).then_some((y as i32, m, d, h))
}

fn stamp_of(h: &Hour) -> (i32, u32, u32, u32) {
    match h {
        Hour::Valid(s) => (s.year, s.month, s.day, s.hour),
        Hour::Missing {
            year,
            month,
            day,
            hour,
            ..
        } => (*year, *month, *day, *hour),
    }
}

fn resolve(raw: RawPlumeCase, path: &Path) -> Result<PlumeCase> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let rel = |p: &Path| dir.join(p);
    let p = &raw.plume;
    if p.name.is_empty()
        || p.name.len() > 128
        || p.name.contains(['/', '\\'])
        || p.name.starts_with('.')
    {
        return Err(cfg(
            path,
            "plume.name",
            "a plain file name of 1-128 bytes (no / or \\, not starting with .)",
        ));
    }
    let (lon0, lat0) = (p.origin[0], p.origin[1]);
    check_lonlat(path, "plume.origin", lon0, lat0)?;
    let frame = LocalFrame::new(lon0, lat0);

    let dispersion: Scheme = p
        .dispersion
        .parse()
        .map_err(|e: String| cfg(path, "plume.dispersion", e))?;
    let calm = match p.calm.as_str() {
        "puff" => CalmMode::Puff,
        "steady" => CalmMode::Steady,
        o => {
            return Err(cfg(
                path,
                "plume.calm",
                format!("\"puff\" or \"steady\", got {o:?}"),
            ))
        }
    };
    let d = Floors::default();
    let floors = Floors {
        min_sigma_v_m_s: in_range(
            path,
            "plume.min_sigma_v_m_s",
            p.min_sigma_v_m_s.unwrap_or(d.min_sigma_v_m_s),
            0.01,
            2.0,
        )?,
        min_sigma_w_m_s: in_range(
            path,
            "plume.min_sigma_w_m_s",
            p.min_sigma_w_m_s.unwrap_or(d.min_sigma_w_m_s),
            0.001,
            1.0,
        )?,
        min_wind_m_s: in_range(
            path,
            "plume.min_wind_m_s",
            p.min_wind_m_s.unwrap_or(d.min_wind_m_s),
            0.01,
            2.0,
        )?,
        calm_wind_m_s: in_range(
            path,
            "plume.calm_wind_m_s",
            p.calm_wind_m_s.unwrap_or(d.calm_wind_m_s),
            0.0,
            2.0,
        )?,
    };
    let options = PlumeOptions {
        dispersion,
        meander: p.meander,
        terrain: p.terrain,
        downwash: p.downwash,
        calm,
        floors,
    };

    // Met.
    let (all_hours, met) = match (&raw.met.surface, &raw.met.profile, &raw.met.site) {
        (Some(sfc), pfl, None) => {
            let (sfc, pfl) = (rel(sfc), pfl.as_ref().map(|p| rel(p)));
            let m = aermet::read(&sfc, pfl.as_deref())?;
            let source = match &pfl {
                Some(p) => format!("AERMET {} + {}", sfc.display(), p.display()),
                None => format!("AERMET {} (no profile file)", sfc.display()),
            };
            let report = MetReport {
                source,
                clock: "local standard time (AERMET)".into(),
                hours: m.hours.len(),
                calm: m.calm,
                missing: m.missing,
                notes: m.notes,
            };
            (m.hours, report)
        }
        (None, None, Some(site)) => {
            check_lonlat(path, "met.site", site.lon, site.lat)?;
            let case = Case::load(&rel(&site.case))?;
            let (hours, description, synthetic) = site_met(&case, site.lon, site.lat)?;
            let report = MetReport {
                source: format!(
                    "column of {} at ({}, {}): {description}{}",
                    case.file.display(),
                    site.lon,
                    site.lat,
                    if synthetic { " (SYNTHETIC met)" } else { "" }
                ),
                clock: "UTC".into(),
                hours: hours.len(),
                calm: count_calm(&hours),
                missing: 0,
                notes: vec![],
            };
            (hours, report)
        }
        _ => {
            return Err(cfg(
                path,
                "met",
                "either `surface` (an AERMET .SFC file) with `profile` (its .PFL), or `site = { case, lon, lat }`",
            ))
        }
    };
    let hours = select_hours(path, p, all_hours)?;
    let met = MetReport {
        hours: hours.len(),
        calm: count_calm(&hours),
        missing: hours
            .iter()
            .filter(|h| matches!(h, Hour::Missing { .. }))
            .count(),
        ..met
    };

    // Terrain for receptors and sources.
    let terrain = match &raw.receptors.terrain {
        Some(t) => {
            let r = in_range(
                path,
                "receptors.terrain.hill_radius_m",
                t.hill_radius_m,
                0.0,
                100_000.0,
            )?;
            Some(ReceptorTerrain::open(&rel(&t.file), &t.variable, r)?)
        }
        None => None,
    };

    // Sources.
    let s = &raw.sources;
    for (k, sp) in s.species.iter().enumerate() {
        if crate::species::lookup(sp).is_none() {
            return Err(cfg(
                path,
                &format!("sources.species[{k}]"),
                format!(
                    "a species from [{}], got {sp:?}",
                    crate::species::known_names()
                ),
            ));
        }
    }
    let mut srcs = Vec::new();
    if let Some(stacks) = &s.stacks {
        srcs.extend(sources::stacks_from_csv(
            &rel(stacks),
            &frame,
            &s.species,
            &s.names,
        )?);
        for (k, n) in s.names.iter().enumerate() {
            if !srcs.iter().any(|x: &Source| &x.name == n) {
                return Err(cfg(
                    path,
                    &format!("sources.names[{k}]"),
                    format!(
                        "a stack of {} emitting one of the case's species; no stack {n:?}",
                        rel(stacks).display()
                    ),
                ));
            }
        }
    } else if !s.names.is_empty() {
        return Err(cfg(
            path,
            "sources.names",
            "`sources.stacks` (the stack CSV) to pick names from",
        ));
    }
    for (k, a) in s.area.iter().enumerate() {
        let key = format!("sources.area[{k}]");
        let (x, y) = position(path, &key, &frame, a.lon, a.lat, a.x_m, a.y_m, "")?;
        let x_len = in_range(path, &format!("{key}.x_len_m"), a.x_len_m, 0.1, 100_000.0)?;
        let y_len = in_range(path, &format!("{key}.y_len_m"), a.y_len_m, 0.1, 100_000.0)?;
        let angle = in_range(
            path,
            &format!("{key}.angle_deg"),
            a.angle_deg,
            -360.0,
            360.0,
        )?;
        let height = in_range(path, &format!("{key}.height_m"), a.height_m, 0.0, 1000.0)?;
        srcs.push(Source {
            name: a.name.clone(),
            x,
            y,
            elevation: a.elevation_m.unwrap_or(0.0),
            shape: sources::Shape::Area {
                x_len,
                y_len,
                angle_deg: angle,
                height,
            },
            rates: rates(path, &key, &a.rates_g_s, &s.species)?,
        });
    }
    for (k, l) in s.line.iter().enumerate() {
        let key = format!("sources.line[{k}]");
        let (x, y) = position(path, &key, &frame, l.lon, l.lat, l.x_m, l.y_m, "")?;
        let (x_end, y_end) = position(
            path, &key, &frame, l.lon_end, l.lat_end, l.x_end_m, l.y_end_m, "_end",
        )?;
        if (x_end - x).hypot(y_end - y) < 0.1 {
            return Err(cfg(path, &key, "a line at least 0.1 m long"));
        }
        let width = in_range(path, &format!("{key}.width_m"), l.width_m, 0.1, 1000.0)?;
        let height = in_range(path, &format!("{key}.height_m"), l.height_m, 0.0, 1000.0)?;
        srcs.push(Source {
            name: l.name.clone(),
            x,
            y,
            elevation: l.elevation_m.unwrap_or(0.0),
            shape: sources::Shape::Line {
                x_end,
                y_end,
                width,
                height,
            },
            rates: rates(path, &key, &l.rates_g_s, &s.species)?,
        });
    }
    if srcs.is_empty() {
        return Err(cfg(
            path,
            "sources",
            "at least one source: `stacks` (the stack CSV), `[[sources.area]]` or `[[sources.line]]`",
        ));
    }
    {
        let mut seen = std::collections::HashSet::new();
        for src in &srcs {
            if !seen.insert(src.name.as_str()) {
                return Err(cfg(
                    path,
                    "sources",
                    format!("source names that differ; {:?} appears twice", src.name),
                ));
            }
        }
    }
    if let Some(t) = &terrain {
        let given: Vec<bool> = s
            .area
            .iter()
            .map(|a| a.elevation_m.is_some())
            .chain(s.line.iter().map(|l| l.elevation_m.is_some()))
            .collect();
        let n_stacks = srcs.len() - given.len();
        for (k, src) in srcs.iter_mut().enumerate() {
            if k < n_stacks || !given[k - n_stacks] {
                src.elevation = t.elevation_at(&frame, src.x, src.y, &src.name)?;
            }
        }
    }
    let mut species: Vec<String> = Vec::new();
    for src in &srcs {
        for (sp, _) in &src.rates {
            if !species.contains(sp) {
                species.push(sp.clone());
            }
        }
    }

    // Receptors.
    let r = &raw.receptors;
    let flagpole = in_range(path, "receptors.flagpole_m", r.flagpole_m, 0.0, 1000.0)?;
    let mut recs: Vec<Receptor> = Vec::new();
    if let Some(csv) = &r.csv {
        recs.extend(receptors::from_csv(&rel(csv), &frame, terrain.as_ref())?);
    }
    let mut gridded: Vec<Receptor> = Vec::new();
    if let Some(c) = &r.cartesian {
        let k = "receptors.cartesian";
        for (n, v) in [("x0_m", c.x0_m), ("y0_m", c.y0_m)] {
            in_range(path, &format!("{k}.{n}"), v, -1e6, 1e6)?;
        }
        for (n, v) in [("dx_m", c.dx_m), ("dy_m", c.dy_m)] {
            in_range(path, &format!("{k}.{n}"), v, 1.0, 1e5)?;
        }
        if c.nx == 0 || c.ny == 0 || c.nx * c.ny > 1_000_000 {
            return Err(cfg(path, k, "nx, ny >= 1 and nx * ny at most 10^6"));
        }
        gridded.extend(receptors::cartesian(
            c.x0_m, c.y0_m, c.dx_m, c.dy_m, c.nx, c.ny,
        ));
    }
    if let Some(pg) = &r.polar {
        let k = "receptors.polar";
        if pg.distances_m.is_empty()
            || pg
                .distances_m
                .iter()
                .any(|d| !(d.is_finite() && *d > 0.0 && *d <= 1e6))
            || pg.distances_m.windows(2).any(|w| w[1] <= w[0])
        {
            return Err(cfg(
                path,
                &format!("{k}.distances_m"),
                "increasing distances in (0, 10^6] m, at least one",
            ));
        }
        if !(1..=3600).contains(&pg.directions) {
            return Err(cfg(
                path,
                &format!("{k}.directions"),
                "a number of directions 1-3600",
            ));
        }
        for v in pg.centre_m {
            in_range(path, &format!("{k}.centre_m"), v, -1e6, 1e6)?;
        }
        gridded.extend(receptors::polar(
            pg.centre_m[0],
            pg.centre_m[1],
            &pg.distances_m,
            pg.directions,
        ));
    }
    if let Some(t) = &terrain {
        for rc in gridded.iter_mut() {
            let (e, h) = t.at(&frame, rc.x, rc.y, &rc.name)?;
            rc.elevation = e;
            rc.hill_height = h;
        }
    }
    if let Some(g) = &r.grid {
        gridded.extend(receptors::grid_cells(&rel(g), &frame, terrain.as_ref())?);
    }
    for rc in gridded.iter_mut() {
        rc.flagpole = flagpole;
    }
    recs.extend(gridded);
    if recs.is_empty() {
        return Err(cfg(
            path,
            "receptors",
            "at least one receptor: `csv`, `cartesian`, `polar` or `grid`",
        ));
    }

    // Output.
    let o = &raw.output;
    let mut averages = Vec::new();
    for (k, a) in o.averages.iter().enumerate() {
        let av = match a.as_str() {
            "1h" => Average::Hours(1),
            "3h" => Average::Hours(3),
            "8h" => Average::Hours(8),
            "24h" => Average::Hours(24),
            "period" => Average::Period,
            "annual" => Average::Annual,
            other => {
                return Err(cfg(
                    path,
                    &format!("output.averages[{k}]"),
                    format!(
                    "one of \"1h\", \"3h\", \"8h\", \"24h\", \"period\", \"annual\", got {other:?}"
                ),
                ))
            }
        };
        if averages.contains(&av) {
            return Err(cfg(
                path,
                &format!("output.averages[{k}]"),
                format!("each average once; {a:?} is repeated"),
            ));
        }
        averages.push(av);
    }
    if averages.is_empty() {
        return Err(cfg(path, "output.averages", "at least one average"));
    }
    let mut nth = o.nth_highest.clone();
    if nth.is_empty() || nth.iter().any(|&n| !(1..=1000).contains(&n)) {
        return Err(cfg(
            path,
            "output.nth_highest",
            "ranks 1-1000, at least one",
        ));
    }
    nth.sort_unstable();
    nth.dedup();
    if !o.csv && !o.netcdf {
        return Err(cfg(path, "output", "`csv` or `netcdf` (or both) true"));
    }
    Ok(PlumeCase {
        file: path.to_path_buf(),
        name: p.name.clone(),
        origin: (lon0, lat0),
        frame,
        options,
        hours,
        met,
        sources: srcs,
        species,
        receptors: recs,
        output: OutputOptions {
            dir: rel(&o.dir),
            averages,
            nth_highest: nth,
            csv: o.csv,
            netcdf: o.netcdf,
        },
    })
}

fn count_calm(hours: &[Hour]) -> usize {
    hours
        .iter()
        .filter(|h| matches!(h, Hour::Valid(s) if s.wind_speed == 0.0))
        .count()
}

/// The hours from `plume.start` for `plume.hours` or to `plume.end`
/// (inclusive); all of them by default.
fn select_hours(path: &Path, p: &RawPlume, hours: Vec<Hour>) -> Result<Vec<Hour>> {
    if p.end.is_some() && p.hours.is_some() {
        return Err(cfg(path, "plume.end", "`end` or `hours`, not both"));
    }
    let find = |key: &str, s: &str| -> Result<usize> {
        let st = parse_hour_stamp(s).ok_or_else(|| {
            cfg(
                path,
                key,
                format!("\"YYYY-MM-DD HH\" with HH 01-24 (hour ending), got {s:?}"),
            )
        })?;
        hours.iter().position(|h| stamp_of(h) == st).ok_or_else(|| {
            cfg(
                path,
                key,
                format!(
                    "an hour of the met ({} hours); {s:?} is not one",
                    hours.len()
                ),
            )
        })
    };
    let first = match &p.start {
        Some(s) => find("plume.start", s)?,
        None => 0,
    };
    let last = match (&p.end, p.hours) {
        (Some(e), None) => {
            let l = find("plume.end", e)?;
            if l < first {
                return Err(cfg(path, "plume.end", "an hour at or after `start`"));
            }
            l
        }
        (None, Some(n)) => {
            if n == 0 || first + n > hours.len() {
                return Err(cfg(
                    path,
                    "plume.hours",
                    format!(
                        "1 to {} hours (the met from `start` on)",
                        hours.len() - first
                    ),
                ));
            }
            first + n - 1
        }
        _ => hours.len() - 1,
    };
    Ok(hours[first..=last].to_vec())
}

#[allow(clippy::too_many_arguments)]
fn position(
    path: &Path,
    key: &str,
    frame: &LocalFrame,
    lon: Option<f64>,
    lat: Option<f64>,
    x: Option<f64>,
    y: Option<f64>,
    suffix: &str,
) -> Result<(f64, f64)> {
    match (lon, lat, x, y) {
        (Some(lon), Some(lat), None, None) => {
            check_lonlat(path, &format!("{key}.lon{suffix}"), lon, lat)?;
            Ok(frame.forward(lon, lat))
        }
        (None, None, Some(x), Some(y)) => {
            in_range(path, &format!("{key}.x{suffix}_m"), x, -1e6, 1e6)?;
            in_range(path, &format!("{key}.y{suffix}_m"), y, -1e6, 1e6)?;
            Ok((x, y))
        }
        _ => Err(cfg(
            path,
            key,
            format!("`lon{suffix}` and `lat{suffix}`, or `x{suffix}_m` and `y{suffix}_m`"),
        )),
    }
}

fn rates(
    path: &Path,
    key: &str,
    r: &BTreeMap<String, f64>,
    species: &[String],
) -> Result<Vec<(String, f64)>> {
    let mut out = Vec::new();
    for (sp, &v) in r {
        let k = format!("{key}.rates_g_s.{sp}");
        if crate::species::lookup(sp).is_none() {
            return Err(cfg(
                path,
                &k,
                format!("a species from [{}]", crate::species::known_names()),
            ));
        }
        in_range(path, &k, v, 0.0, 1e8)?;
        if species.is_empty() || species.contains(sp) {
            out.push((sp.clone(), v));
        }
    }
    if out.is_empty() {
        return Err(cfg(
            path,
            &format!("{key}.rates_g_s"),
            "at least one rate (g/s) of a species the case takes",
        ));
    }
    Ok(out)
}

// ---- site met from an Eulerian case -----------------------------------

/// Hourly site met at (`lon`, `lat`) from an Eulerian case's own met: the
/// column containing the point, sampled at the middle of each hour of the
/// run (`met::open_case`, `MetSource::at`), stamped hour ending in UTC
/// (the case's clock).
///
/// - Reference wind: the lowest layer's centre wind, rotated to true north
///   (`met::stats::earth_relative`), at that layer's mid height; the
///   profile has one level per layer (mid height, wind, temperature; no
///   sigmas).
/// - u*, L, mixing height, z0, precipitation: the column's. The model has
///   one mixing height: it is the mechanical height, and the convective
///   one too in unstable hours (L < 0).
/// - H from the definition of L, H = -rho cp T u*³ / (k g L) (Stull 1988,
///   eq. 5.7c), 0 when L is infinite (neutral).
/// - w* = (-zi u*³ / (k L))^(1/3) in unstable hours, 0 otherwise: the
///   Deardorff (1970) velocity scale w* = (g H zi / (rho cp T))^(1/3)
///   written through L (AERMOD formulation document, EPA-454/B-23-010,
///   section 3.1; AERMET computes it so).
/// - VPTG: the potential-temperature gradient between the first two layer
///   centres above the mixing height, at least AERMOD's 0.005 K/m (metext.f,
///   METQA), which is also taken when the column has no layers above zi.
pub fn site_hours(case: &Case, lon: f64, lat: f64) -> Result<Vec<Hour>> {
    site_met(case, lon, lat).map(|m| m.0)
}

/// [`site_hours`] with the met source's description and whether it is
/// synthetic.
pub fn site_met(case: &Case, lon: f64, lat: f64) -> Result<(Vec<Hour>, String, bool)> {
    let grid = Grid::new(&case.grid);
    let (i, j) = grid.cell_of(lon, lat).ok_or_else(|| {
        cfg(
            &case.file,
            "met.site",
            format!("a point inside the case's grid; ({lon}, {lat}) is outside"),
        )
    })?;
    let mut met = crate::met::open_case(case, &grid)?;
    let n = case.run.hours.floor() as usize;
    let start = case.run.start.epoch_seconds();
    let cell_lon = grid.lon[[j, i]];
    let mut out = Vec::with_capacity(n);
    for h in 1..=n {
        let m = met.at((h as f64 - 0.5) * 3600.0)?;
        let wind = |k: usize| {
            let (u, v) = m.centre_wind(k, j, i);
            let (e, nn) = crate::met::stats::earth_relative(&grid, cell_lon, u, v);
            let speed = e.hypot(nn);
            let dir = if speed > 0.0 {
                crate::met::stats::direction_from(e, nn)
            } else {
                0.0
            };
            (speed, dir)
        };
        let (ws, wd) = wind(0);
        let t = m.temperature[[0, j, i]];
        let (ustar, l, zi) = (m.ustar[[j, i]], m.obukhov[[j, i]], m.pblh[[j, i]]);
        let rho = if m.density[[0, j, i]] > 0.0 {
            m.density[[0, j, i]]
        } else {
            m.pressure[[0, j, i]] / (R_DRY * t)
        };
        let heat_flux = if l.is_finite() && l != 0.0 {
            -rho * CP_DRY * t * ustar.powi(3) / (KARMAN * GRAVITY * l)
        } else {
            0.0
        };
        let unstable = l.is_finite() && l < 0.0;
        let wstar = if unstable {
            (-zi * ustar.powi(3) / (KARMAN * l)).cbrt()
        } else {
            0.0
        };
        let theta = |k: usize| {
            crate::met::potential_temperature(m.temperature[[k, j, i]], m.pressure[[k, j, i]])
        };
        let above = grid.z_mid.iter().position(|&z| z > zi);
        let vptg = match above {
            Some(k) if k + 1 < grid.nz => ((theta(k + 1) - theta(k))
                / (grid.z_mid[k + 1] - grid.z_mid[k]))
                .max(aermet::DEFAULT_VPTG),
            _ => aermet::DEFAULT_VPTG,
        };
        let profile = (0..grid.nz)
            .map(|k| {
                let (s, d) = wind(k);
                ProfileLevel {
                    height: grid.z_mid[k],
                    wind_dir: (s > 0.0).then_some(d),
                    wind_speed: Some(s),
                    temperature: Some(m.temperature[[k, j, i]]),
                    sigma_theta: None,
                    sigma_w: None,
                }
            })
            .collect();
        let (year, month, day, hour) = hour_ending_utc(start + h as f64 * 3600.0);
        out.push(Hour::Valid(SiteHour {
            year,
            month,
            day,
            hour,
            heat_flux,
            ustar,
            wstar,
            vptg,
            zi_conv: if unstable { zi } else { 0.0 },
            zi_mech: zi,
            obukhov: l,
            z0: m.z0[[j, i]],
            wind_speed: ws,
            wind_dir: wd,
            wind_height: grid.z_mid[0],
            temperature: t,
            temp_height: grid.z_mid[0],
            precip_mm_h: m.precip[[j, i]].max(0.0),
            profile,
        }));
    }
    Ok((out, met.description(), met.synthetic()))
}

/// The hour-ending stamp (year, month, day, hour 1-24) of the hour that
/// ends at `epoch_s` seconds since 1970 (midnight is hour 24 of the day
/// before).
pub fn hour_ending_utc(epoch_s: f64) -> (i32, u32, u32, u32) {
    let hours = (epoch_s / 3600.0).round() as i64;
    let (days, hour) = (hours.div_euclid(24), hours.rem_euclid(24));
    let (days, hour) = if hour == 0 {
        (days - 1, 24)
    } else {
        (days, hour)
    };
    let (y, m, d) = crate::time::civil_from_days(days);
    (y as i32, m, d, hour as u32)
}
