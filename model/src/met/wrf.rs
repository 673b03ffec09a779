//! WRF-ARW output (`wrfout_d0*` files) as the model's meteorology.
//!
//! Read as WRF writes them (Skamarock et al. 2019, NCAR/TN-556+STR, ch. 2 and
//! 5): winds on the Arakawa C grid (`U` on `west_east_stag`, `V` on
//! `south_north_stag`), geopotential `PH + PHB` on `bottom_top_stag`, pressure
//! `P + PB`, potential temperature `T + 300 K`, `QVAPOR`, `QCLOUD`, the
//! surface fields `PBLH`, `UST`, `HFX`, `RAINC`/`RAINNC` (accumulated mm),
//! `HGT`, `LU_INDEX`/`ZNT`, the `Times` strings, and the projection in the
//! global attributes `MAP_PROJ`, `TRUELAT1/2`, `STAND_LON`, `CEN_LAT/LON`, `DX/DY`.
//!
//! Each record is mapped to the model grid in three steps:
//! 1. vertically, column by column, from WRF's mass-level heights above
//!    ground ((PH+PHB)/g - HGT, averaged to mass levels) to the model's layer
//!    mid-heights, linearly (ln p for pressure; nearest value below the
//!    lowest and above the highest WRF level);
//! 2. when the model grid is WRF's own mass grid (same Lambert cone, centre,
//!    spacing and size), the staggered U and V are the model's face winds
//!    directly; otherwise winds are destaggered to mass points, rotated to
//!    earth-relative, interpolated bilinearly to the model's faces and rotated
//!    into the model grid there; scalars are interpolated to cell centres;
//! 3. boundary-layer fields: Obukhov length from UST and HFX, Kz from
//!    Holtslag & Boville (1993). A file without PBLH gets the bulk-Richardson
//!    height of its own profile; without UST, the Monin-Obukhov u* of its
//!    lowest-level wind (see [`super::pbl`]).
//!
//! Only MAP_PROJ = 1 (Lambert conformal, the usual choice for China) is
//! accepted; other projections are refused naming the value and projection.
//!
//! Every field is checked before use, naming the field, the record and the
//! cell (WRF's own dimension names): missing values (see
//! [`crate::input::nc`]), `units` converted through
//! [`crate::input::units`] (a field without `units` is in WRF's unit), and
//! physical ranges ([`RANGES`]). The global attributes must describe a
//! Lambert grid: standard parallels in one hemisphere within +-90, a
//! centre on the globe, and a spacing of up to 1000 km.

use super::land_use::LandUse;
use super::regrid::{finish_boundary_layer, interpolate_in_height, Sampler};
use super::{relative_humidity, MetFields};
use crate::config::{GridSpec, Lateral, ProjectionSpec};
use crate::error::{Error, Result};
use crate::grid::{Grid, Projection};
use crate::input::nc;
use crate::input::units::Quantity;
use crate::time::StartTime;
use ndarray::{Array2, Array3};
use std::path::{Path, PathBuf};

/// WRF's reference pressure for potential temperature, Pa, and its offset
/// of the perturbation potential temperature `T`, K.
const P0: f64 = 100_000.0;
const THETA_OFFSET: f64 = 300.0;
/// Gravity as WRF uses it to turn geopotential into height (module_model_constants).
const WRF_GRAVITY: f64 = 9.81;
/// R/cp as WRF uses it (module_model_constants: r_d = 287, cp = 7 r_d / 2).
const RCP: f64 = 2.0 / 7.0;

/// Physical ranges of WRF's fields, in the model's units (field, lowest,
/// highest, what). Winds: jet-stream cores and tropical cyclones stay below
/// ~100 m/s. Temperature (from T + 300 K and p): 150-350 K, as for CF met.
/// Geopotential heights: -500 m (the Dead Sea shore is at -430 m) to
/// 100 km, increasing upwards. Terrain -500 to 9000 m (Everest 8849 m).
/// Water vapour 0-0.05 kg/kg (the most humid air holds ~0.035), cloud
/// water 0-0.01 kg/kg; both may dip to -1e-6 by advection round-off and
/// are then read as 0. Mixing height 0-8000 m, u* 0-5 m/s, |HFX| < 2000
/// W/m2, roughness 0-10 m, accumulated rain 0-1e6 mm, rain rate 0-500
/// mm/h: as for CF met. Pressure P + PB is checked against its height: from
/// 30 kPa exp(-z / 5 km) at the mass level's height z above ground to
/// 110 kPa ([`super::min_pressure`]).
#[rustfmt::skip]
pub const RANGES: &[(&str, f64, f64, &str)] = &[
    ("U", -150.0, 150.0, "wind components within +-150 m/s"),
    ("V", -150.0, 150.0, "wind components within +-150 m/s"),
    ("T", 150.0, 350.0, "temperatures (T + 300 K) (p / 1000 hPa)^(2/7) between 150 and 350 K"),
    ("PH + PHB", -500.0 * WRF_GRAVITY, 1e5 * WRF_GRAVITY, "geopotential heights (PH + PHB) / g between -500 m and 100 km"),
    ("HGT", -500.0, 9000.0, "terrain heights between -500 and 9000 m"),
    ("QVAPOR", -1e-6, 0.05, "water vapour mixing ratios between 0 and 0.05 kg/kg"),
    ("QCLOUD", -1e-6, 0.01, "cloud water mixing ratios between 0 and 0.01 kg/kg"),
    ("PBLH", 0.0, 8000.0, "mixing heights between 0 and 8000 m"),
    ("UST", 0.0, 5.0, "friction velocities between 0 and 5 m/s"),
    ("HFX", -2000.0, 2000.0, "heat fluxes within +-2000 W/m2"),
    ("ZNT", 1e-9, 10.0, "roughness lengths between 0 and 10 m"),
    ("RAIN", 0.0, 1e6, "accumulated rain between 0 and 1e6 mm"),
    ("rain rate", 0.0, 500.0, "rain rates between 0 and 500 mm/h"),
];

/// The range of a field in [`RANGES`].
fn range_of(field: &str) -> (f64, f64, &'static str) {
    let r = RANGES
        .iter()
        .find(|r| r.0 == field)
        .expect("every checked field has a range");
    (r.1, r.2, r.3)
}

/// The WRF projection and grid read from the global attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct WrfHeader {
    pub west_east: usize,
    pub south_north: usize,
    pub bottom_top: usize,
    pub dx: f64,
    pub dy: f64,
    pub truelat1: f64,
    pub truelat2: f64,
    pub stand_lon: f64,
    pub cen_lat: f64,
    pub cen_lon: f64,
    /// Land-use classification (`MMINLU`), for roughness from LU_INDEX.
    pub mminlu: String,
}

impl WrfHeader {
    /// WRF's mass grid as a model grid (one nominal layer; only the
    /// horizontal part is used).
    pub fn mass_grid(&self) -> Grid {
        Grid::new(&GridSpec {
            projection: ProjectionSpec::Lambert {
                truelat1: self.truelat1,
                truelat2: self.truelat2,
                stand_lon: self.stand_lon,
                centre_lon: self.cen_lon,
                centre_lat: self.cen_lat,
            },
            nx: self.west_east,
            ny: self.south_north,
            dx: self.dx,
            dy: self.dy,
            layer_tops_m: vec![1.0],
            lateral: Lateral::Open,
        })
    }

    /// True when the model grid is exactly WRF's mass grid.
    fn is_model_grid(&self, g: &Grid) -> bool {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
        match &g.projection {
            Projection::Lambert {
                truelat1,
                truelat2,
                stand_lon,
                ..
            } => {
                let (clon, clat) =
                    g.lonlat_at(0.5 * (g.nx as f64 - 1.0), 0.5 * (g.ny as f64 - 1.0));
                g.nx == self.west_east
                    && g.ny == self.south_north
                    && close(g.dx, self.dx)
                    && close(g.dy, self.dy)
                    && close(*truelat1, self.truelat1)
                    && close(*truelat2, self.truelat2)
                    && close(*stand_lon, self.stand_lon)
                    && close(clon, self.cen_lon)
                    && close(clat, self.cen_lat)
            }
            _ => false,
        }
    }
}

fn attr_f64(file: &netcdf::File, path: &Path, name: &str) -> Result<f64> {
    let missing = || Error::input(path, name, "the WRF global attribute (a number)");
    let value = file
        .attribute(name)
        .ok_or_else(missing)?
        .value()
        .map_err(|_| missing())?;
    f64::try_from(value).map_err(|_| missing())
}

/// A global attribute within [lo, hi], named when it is not.
fn attr_in(
    file: &netcdf::File,
    path: &Path,
    name: &str,
    lo: f64,
    hi: f64,
    what: &str,
) -> Result<f64> {
    let v = attr_f64(file, path, name)?;
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(Error::input(
            path,
            name,
            format!("the WRF global attribute {name}: {what}; it is {v}"),
        ))
    }
}

fn dim_len(file: &netcdf::File, path: &Path, name: &str) -> Result<usize> {
    file.dimension(name)
        .map(|d| d.len())
        .ok_or_else(|| Error::input(path, name, "the WRF dimension"))
}

fn open_wrfout(path: &Path) -> Result<netcdf::File> {
    nc::open(path)
}

/// Read the header of one wrfout file and check its projection.
pub fn read_header(path: &Path) -> Result<WrfHeader> {
    let file = open_wrfout(path)?;
    let map_proj = attr_f64(&file, path, "MAP_PROJ")?;
    if map_proj != 1.0 {
        let name = match map_proj as i64 {
            2 => "polar stereographic",
            3 => "Mercator",
            6 => "cylindrical equidistant (lat-lon)",
            _ => "unknown",
        };
        return Err(Error::input(
            path,
            "MAP_PROJ",
            format!(
                "MAP_PROJ = 1 (Lambert conformal), the projection airshed reads; found {map_proj} ({name})"
            ),
        ));
    }
    let mminlu = match file.attribute("MMINLU").map(|a| a.value()) {
        Some(Ok(netcdf::AttributeValue::Str(s))) => s.trim().to_string(),
        _ => String::new(),
    };
    let lat = "a latitude strictly between -90 and 90 degrees";
    let lon = "a longitude between -360 and 360 degrees";
    let spacing = "a grid spacing between 1 m and 1000 km";
    let header = WrfHeader {
        west_east: dim_len(&file, path, "west_east")?,
        south_north: dim_len(&file, path, "south_north")?,
        bottom_top: dim_len(&file, path, "bottom_top")?,
        dx: attr_in(&file, path, "DX", 1.0, 1e6, spacing)?,
        dy: attr_in(&file, path, "DY", 1.0, 1e6, spacing)?,
        truelat1: attr_in(&file, path, "TRUELAT1", -89.999, 89.999, lat)?,
        truelat2: attr_in(&file, path, "TRUELAT2", -89.999, 89.999, lat)?,
        stand_lon: attr_in(&file, path, "STAND_LON", -360.0, 360.0, lon)?,
        cen_lat: attr_in(&file, path, "CEN_LAT", -89.999, 89.999, lat)?,
        cen_lon: attr_in(&file, path, "CEN_LON", -360.0, 360.0, lon)?,
        mminlu,
    };
    if header.truelat1 * header.truelat2 <= 0.0 {
        return Err(Error::input(
            path,
            "TRUELAT2",
            format!(
                "standard parallels TRUELAT1, TRUELAT2 in one hemisphere (non-zero, same sign); they are {} and {}",
                header.truelat1, header.truelat2
            ),
        ));
    }
    // The Arakawa C grid: each staggered dimension is one longer than its
    // mass dimension (the Arakawa C grid of Skamarock et al. 2019), and the mass grid
    // has at least two points across and one level.
    for (mass, stag, min) in [
        ("west_east", "west_east_stag", 2),
        ("south_north", "south_north_stag", 2),
        ("bottom_top", "bottom_top_stag", 1),
    ] {
        let n = dim_len(&file, path, mass)?;
        let ns = dim_len(&file, path, stag)?;
        if n < min || ns != n + 1 {
            return Err(Error::input(
                path,
                stag,
                format!(
                    "{stag} = {mass} + 1 (WRF's staggered grid) with {mass} at least {min}; they are {ns} and {n}"
                ),
            ));
        }
    }
    // Every field of a record must be addressable: the staggered 3-D size.
    let points = (header.west_east + 1)
        .checked_mul(header.south_north + 1)
        .and_then(|n| n.checked_mul(header.bottom_top + 1));
    if points.is_none_or(|n| n > 1 << 32) {
        return Err(Error::input(
            path,
            "west_east",
            format!(
                "a WRF grid of at most 2^32 points per field; it is {} x {} x {}",
                header.west_east, header.south_north, header.bottom_top
            ),
        ));
    }
    if header.west_east < 2 || header.south_north < 2 || header.bottom_top < 1 {
        return Err(Error::input(
            path,
            "west_east",
            "at least 2 x 2 columns and one level",
        ));
    }
    Ok(header)
}

/// Seconds since 1970 of a WRF `Times` string, "YYYY-MM-DD_HH:MM:SS".
fn parse_wrf_time(s: &str) -> Option<f64> {
    let iso = format!("{}Z", s.trim_end_matches('\0').trim().replacen('_', "T", 1));
    Some(crate::time::parse_start(&iso)?.epoch_seconds())
}

/// One record's raw fields on WRF's grid.
struct Raw {
    u: Vec<f64>,
    v: Vec<f64>,
    ph: Vec<f64>,
    p: Vec<f64>,
    theta: Vec<f64>,
    qv: Vec<f64>,
    qc: Option<Vec<f64>>,
    hgt: Vec<f64>,
    pblh: Option<Vec<f64>>,
    ust: Option<Vec<f64>>,
    hfx: Vec<f64>,
    z0: Vec<f64>,
    /// Wesely land-use category per WRF cell (0 where LU_INDEX is absent or
    /// its class unknown).
    land_use: Vec<u8>,
}

pub struct WrfMet {
    files: Vec<PathBuf>,
    header: WrfHeader,
    /// (file index, record in file, seconds since the run start).
    records: Vec<(usize, usize, f64)>,
    wrf_grid: Grid,
    grid: Grid,
    same_grid: bool,
    kz_min: f64,
    /// Day of the year (fractional) at the run start.
    start_day: f64,
    cache: super::RecordCache,
}

impl WrfMet {
    /// Open one or more wrfout files (in any order; records are sorted by
    /// time), check that they share one grid, cover the run and enclose the
    /// model domain, and read the first record so a bad file fails early.
    pub fn open(
        paths: &[PathBuf],
        grid: &Grid,
        start: StartTime,
        run_seconds: f64,
        kz_min: f64,
    ) -> Result<Self> {
        let first = paths.first().ok_or_else(|| {
            Error::input(Path::new("(case)"), "met.files", "at least one wrfout file")
        })?;
        let header = read_header(first)?;
        let t0 = start.epoch_seconds();
        let mut records = Vec::new();
        for (f, path) in paths.iter().enumerate() {
            let h = read_header(path)?;
            if h != header {
                return Err(Error::input(
                    path,
                    "(global attributes)",
                    format!("the same WRF grid as {}", first.display()),
                ));
            }
            let file = open_wrfout(path)?;
            let var = file.variable("Times").ok_or_else(|| {
                Error::input(path, "Times", "the WRF variable Times(Time, DateStrLen)")
            })?;
            let len = dim_len(&file, path, "DateStrLen")?;
            if len == 0 {
                return Err(Error::input(
                    path,
                    "DateStrLen",
                    "a dimension of 19 characters (YYYY-MM-DD_HH:MM:SS); it has length 0",
                ));
            }
            let bytes = var
                .get_raw_values(..)
                .map_err(|e| Error::input(path, "Times", format!("characters ({e})")))?;
            if bytes.is_empty() {
                return Err(Error::input(
                    path,
                    "Times",
                    "at least one record (the file has 0 along Time)",
                ));
            }
            if bytes.len() % len != 0 {
                return Err(Error::input(
                    path,
                    "Times",
                    format!("the variable Times(Time, DateStrLen) of {len} characters per record"),
                ));
            }
            for (r, chunk) in bytes.chunks(len).enumerate() {
                let s = String::from_utf8_lossy(chunk).to_string();
                let t = parse_wrf_time(&s).ok_or_else(|| {
                    Error::input(
                        path,
                        "Times",
                        format!("times as YYYY-MM-DD_HH:MM:SS; record {r} is {s:?}"),
                    )
                })?;
                records.push((f, r, t - t0));
            }
        }
        records.sort_by(|a, b| a.2.total_cmp(&b.2));
        if records.windows(2).any(|w| w[1].2 <= w[0].2) {
            return Err(Error::input(
                first,
                "Times",
                "distinct times across the files",
            ));
        }
        let (Some(lo), Some(hi)) = (records.first().map(|r| r.2), records.last().map(|r| r.2))
        else {
            return Err(Error::input(first, "Times", "at least one record"));
        };
        if lo > 0.0 || hi < run_seconds {
            return Err(Error::input(
                first,
                "Times",
                format!(
                    "records covering the run, 0 to {} h after the start; the files cover {:.2} to {:.2} h",
                    run_seconds / 3600.0,
                    lo / 3600.0,
                    hi / 3600.0
                ),
            ));
        }
        let wrf_grid = header.mass_grid();
        let same_grid = header.is_model_grid(grid);
        if !same_grid {
            // Every model face must lie inside WRF's mass-point hull.
            let (wx, wy) = (
                header.west_east as f64 - 1.0,
                header.south_north as f64 - 1.0,
            );
            for (fi, fj) in [
                (-0.5, -0.5),
                (grid.nx as f64 - 0.5, -0.5),
                (-0.5, grid.ny as f64 - 0.5),
                (grid.nx as f64 - 0.5, grid.ny as f64 - 0.5),
            ] {
                let (lon, lat) = grid.lonlat_at(fi, fj);
                let (wi, wj) = wrf_grid.index_of(lon, lat);
                if !(0.0..=wx).contains(&wi) || !(0.0..=wy).contains(&wj) {
                    return Err(Error::input(
                        first,
                        "XLONG",
                        format!(
                            "a WRF domain enclosing the model grid; the model corner at {lon:.3}E {lat:.3}N falls outside it"
                        ),
                    ));
                }
            }
        }
        let met = WrfMet {
            files: paths.to_vec(),
            header,
            records,
            wrf_grid,
            grid: grid.clone(),
            same_grid,
            kz_min,
            start_day: start.day_of_year as f64 + start.hour_utc / 24.0,
            cache: Default::default(),
        };
        met.read_record_at(0)?;
        Ok(met)
    }

    /// True when the model grid is WRF's own (no horizontal regridding).
    pub fn same_grid(&self) -> bool {
        self.same_grid
    }

    fn read_raw(&self, rec: usize) -> Result<Raw> {
        let (f, r, _) = self.records[rec];
        let path = &self.files[f];
        let h = &self.header;
        let file = open_wrfout(path)?;
        let required = |name: &'static str| {
            move |slab: Option<super::Slab>| {
                slab.ok_or_else(|| Error::input(path, name, "a required WRF field"))
            }
        };
        // Read a field in the model's units and check it against its range.
        let read =
            |name: &str, dims: &[&str], need: bool, q: Option<Quantity>, range: Option<&str>| {
                let slab = super::read_named_record(&file, path, name, r, dims, need, q)?;
                if let (Some(slab), Some(field)) = (&slab, range) {
                    let (lo, hi, what) = range_of(field);
                    slab.check(path, name, |x| (lo..=hi).contains(&x), what)?;
                }
                Ok::<_, Error>(slab)
            };
        let d3 = ["Time", "bottom_top", "south_north", "west_east"];
        let d2 = ["Time", "south_north", "west_east"];
        let stag_w = ["Time", "bottom_top_stag", "south_north", "west_east"];
        let u_dims = ["Time", "bottom_top", "south_north", "west_east_stag"];
        let v_dims = ["Time", "bottom_top", "south_north_stag", "west_east"];
        let u = required("U")(read("U", &u_dims, true, Some(Quantity::Speed), Some("U"))?)?;
        let v = required("V")(read("V", &v_dims, true, Some(Quantity::Speed), Some("V"))?)?;
        // Geopotential: in range and increasing upwards in every column.
        let geo = Some(Quantity::Geopotential);
        let ph = required("PH")(read("PH", &stag_w, true, geo, None)?)?;
        let phb = required("PHB")(read("PHB", &stag_w, true, geo, None)?)?;
        let geopotential: Vec<f64> = ph
            .values
            .iter()
            .zip(&phb.values)
            .map(|(a, b)| a + b)
            .collect();
        let (lo, hi, what) = range_of("PH + PHB");
        derived_check(
            path,
            "PHB",
            &geopotential,
            |x| (lo..=hi).contains(&x),
            what,
            &phb,
        )?;
        let plane = h.west_east * h.south_north;
        if let Some(i) =
            (plane..geopotential.len()).find(|&i| geopotential[i] <= geopotential[i - plane])
        {
            return Err(Error::input(
                path,
                "PHB",
                format!(
                    "geopotential PH + PHB increasing with height in every column; {} is {} m2/s2, not above the {} below it",
                    phb.at(i),
                    geopotential[i],
                    geopotential[i - plane]
                ),
            ));
        }
        let length = Some(Quantity::Length);
        let hgt = required("HGT")(read("HGT", &d2, true, length, Some("HGT"))?)?;
        // Pressure, against the bound at each mass level's height above
        // ground; then temperature from theta and pressure.
        let pa = Some(Quantity::Pressure);
        let p = required("P")(read("P", &d3, true, pa, None)?)?;
        let pb = required("PB")(read("PB", &d3, true, pa, None)?)?;
        let pressure: Vec<f64> = p
            .values
            .iter()
            .zip(&pb.values)
            .map(|(a, b)| a + b)
            .collect();
        super::check_pressure(
            path,
            "P",
            &pressure,
            |i| {
                let (k, c) = (i / plane, i % plane);
                0.5 * (geopotential[k * plane + c] + geopotential[(k + 1) * plane + c])
                    / WRF_GRAVITY
                    - hgt.values[c]
            },
            &|i| pb.at(i),
        )?;
        let t = required("T")(read(
            "T",
            &d3,
            true,
            Some(Quantity::TemperatureDifference),
            None,
        )?)?;
        let theta: Vec<f64> = t.values.iter().map(|x| x + THETA_OFFSET).collect();
        let temperature: Vec<f64> = theta
            .iter()
            .zip(&pressure)
            .map(|(th, p)| th * (p / P0).powf(RCP))
            .collect();
        let (lo, hi, what) = range_of("T");
        derived_check(
            path,
            "T",
            &temperature,
            |x| (lo..=hi).contains(&x),
            what,
            &t,
        )?;
        let mix = Some(Quantity::MixingRatio);
        let qv = required("QVAPOR")(read("QVAPOR", &d3, true, mix, Some("QVAPOR"))?)?;
        let qc = read("QCLOUD", &d3, false, mix, Some("QCLOUD"))?;
        let pblh = read("PBLH", &d2, false, length, Some("PBLH"))?;
        let ust = read("UST", &d2, false, Some(Quantity::Speed), Some("UST"))?;
        let hfx = required("HFX")(read(
            "HFX",
            &d2,
            true,
            Some(Quantity::HeatFlux),
            Some("HFX"),
        )?)?;
        let lu_index = read("LU_INDEX", &d2, false, None, None)?.map(|s| s.values);
        let land_use = match &lu_index {
            Some(lu) => lu
                .iter()
                .map(|&c| LandUse::from_wrf(&h.mminlu, c).map_or(0, |l| l as u8))
                .collect(),
            None => vec![0; h.west_east * h.south_north],
        };
        let z0 = match read("ZNT", &d2, false, length, Some("ZNT"))? {
            Some(z) => z.values,
            None => lu_index
                .ok_or_else(|| Error::input(path, "LU_INDEX", "ZNT or LU_INDEX(Time, south_north, west_east)"))?
                .iter()
                .map(|&c| roughness_of_land_use(&h.mminlu, c, self.julian_day(rec)))
                .collect::<Option<Vec<f64>>>()
                .ok_or_else(|| {
                    Error::input(
                        path,
                        "LU_INDEX",
                        format!(
                            "classes of MMINLU = USGS or MODIFIED_IGBP_MODIS_NOAH (or a ZNT field); MMINLU is {:?}",
                            h.mminlu
                        ),
                    )
                })?,
        };
        let raw = Raw {
            u: u.values,
            v: v.values,
            ph: geopotential,
            p: pressure,
            theta,
            qv: qv.values.iter().map(|q| q.max(0.0)).collect(),
            qc: qc.map(|q| q.values.iter().map(|x| x.max(0.0)).collect()),
            hgt: hgt.values,
            pblh: pblh.map(|s| s.values),
            ust: ust.map(|s| s.values),
            hfx: hfx.values,
            z0,
            land_use,
        };
        Ok(raw)
    }

    /// Accumulated rain (RAINC + RAINNC, mm) of a record: all that the rain
    /// rate needs from the neighbouring record.
    fn read_rain(&self, rec: usize) -> Result<Vec<f64>> {
        let (f, r, _) = self.records[rec];
        let path = &self.files[f];
        let file = open_wrfout(path)?;
        let d2 = ["Time", "south_north", "west_east"];
        let (lo, hi, what) = range_of("RAIN");
        let read = |name: &str| -> Result<Vec<f64>> {
            let slab = super::read_named_record(
                &file,
                path,
                name,
                r,
                &d2,
                true,
                Some(Quantity::PrecipitationAmount),
            )?
            .ok_or_else(|| Error::input(path, name, "a required WRF field"))?;
            slab.check(path, name, |x| (lo..=hi).contains(&x), what)?;
            Ok(slab.values)
        };
        let (c, nc) = (read("RAINC")?, read("RAINNC")?);
        Ok(c.iter().zip(&nc).map(|(a, b)| a + b).collect())
    }

    /// Day of the year of a record (for the seasonal roughness table).
    fn julian_day(&self, rec: usize) -> f64 {
        (self.start_day - 1.0 + self.records[rec].2 / 86400.0)
            .rem_euclid(365.25)
            .floor()
            + 1.0
    }

    /// Convert one record to model fields (see the module notes for the steps).
    fn read_record_at(&self, rec: usize) -> Result<MetFields> {
        let raw = self.read_raw(rec)?;
        let path = &self.files[self.records[rec].0];
        // Precipitation rate: the accumulation over the interval after this
        // record (before it, for the last record), mm/h.
        let n = self.records.len();
        let rate = if n < 2 {
            vec![0.0; self.header.west_east * self.header.south_north]
        } else {
            let (a, b) = if rec + 1 < n {
                (rec, rec + 1)
            } else {
                (rec - 1, rec)
            };
            let (ra, rb) = (self.read_rain(a)?, self.read_rain(b)?);
            let hours = (self.records[b].2 - self.records[a].2) / 3600.0;
            let mut out = Vec::with_capacity(ra.len());
            for (idx, (x, y)) in ra.iter().zip(&rb).enumerate() {
                if y < x {
                    return Err(Error::input(
                        path,
                        "RAINNC",
                        format!(
                            "accumulated rain that does not decrease (bucket_mm resets are not read); column (south_north={}, west_east={}) falls from {x} to {y} mm",
                            idx / self.header.west_east,
                            idx % self.header.west_east
                        ),
                    ));
                }
                let rate = (y - x) / hours;
                let (lo, hi, what) = range_of("rain rate");
                if !(lo..=hi).contains(&rate) {
                    return Err(Error::input(
                        path,
                        "RAINNC",
                        format!(
                            "{what} (RAINC + RAINNC between records); column (south_north={}, west_east={}) gains {} mm in {hours} h",
                            idx / self.header.west_east,
                            idx % self.header.west_east,
                            y - x
                        ),
                    ));
                }
                out.push(rate);
            }
            out
        };
        Ok(self.to_model(&raw, &rate))
    }

    fn to_model(&self, raw: &Raw, rain_rate: &[f64]) -> MetFields {
        let h = &self.header;
        let g = &self.grid;
        let (wnx, wny, wnz) = (h.west_east, h.south_north, h.bottom_top);
        let plane = wnx * wny;
        // Heights above ground of WRF's mass levels, per mass column.
        let mut zm = vec![0.0; wnz * plane];
        for k in 0..wnz {
            for c in 0..plane {
                let z0 = raw.ph[k * plane + c] / WRF_GRAVITY;
                let z1 = raw.ph[(k + 1) * plane + c] / WRF_GRAVITY;
                zm[k * plane + c] = 0.5 * (z0 + z1) - raw.hgt[c];
            }
        }
        let column = |vals: &[f64], heights: &dyn Fn(usize) -> f64, stride: usize, c: usize| {
            let zs: Vec<f64> = (0..wnz).map(heights).collect();
            let vs: Vec<f64> = (0..wnz).map(|k| vals[k * stride + c]).collect();
            g.z_mid
                .iter()
                .map(|&z| interpolate_in_height(&zs, &vs, z))
                .collect::<Vec<f64>>()
        };
        // Vertical step on WRF's own horizontal grid: [k][wrf cell].
        let to_layers = |vals: &[f64], ny: usize, nx: usize, stag_x: bool| -> Array3<f64> {
            let mut out = Array3::zeros((g.nz, ny, nx));
            for j in 0..ny {
                for i in 0..nx {
                    let height = |k: usize| {
                        let mass = |jj: usize, ii: usize| zm[k * plane + jj * wnx + ii];
                        if stag_x && nx == wnx + 1 {
                            0.5 * (mass(j, i.saturating_sub(1)) + mass(j, i.min(wnx - 1)))
                        } else if ny == wny + 1 {
                            0.5 * (mass(j.saturating_sub(1), i) + mass(j.min(wny - 1), i))
                        } else {
                            mass(j, i)
                        }
                    };
                    let col = column(vals, &height, ny * nx, j * nx + i);
                    for (k, v) in col.into_iter().enumerate() {
                        out[[k, j, i]] = v;
                    }
                }
            }
            out
        };
        let u_st = to_layers(&raw.u, wny, wnx + 1, true);
        let v_st = to_layers(&raw.v, wny + 1, wnx, false);
        let theta = to_layers(&raw.theta, wny, wnx, false);
        let lnp = to_layers(
            &raw.p.iter().map(|p| p.ln()).collect::<Vec<_>>(),
            wny,
            wnx,
            false,
        );
        let qv = to_layers(&raw.qv, wny, wnx, false);
        let qc = raw
            .qc
            .as_ref()
            .map(|q| to_layers(q, wny, wnx, false))
            .unwrap_or_else(|| Array3::zeros((g.nz, wny, wnx)));
        let flat2 =
            |v: &[f64]| Array2::from_shape_vec((wny, wnx), v.to_vec()).expect("shape checked");

        let mut m = MetFields::zeros(g);
        // Thermodynamics on WRF's mass grid, model layers.
        let pressure = lnp.mapv(f64::exp);
        let mut temperature = theta.clone();
        ndarray::Zip::from(&mut temperature)
            .and(&pressure)
            .for_each(|t, &p| *t *= (p / P0).powf(RCP));
        let mut rh = Array3::zeros(temperature.raw_dim());
        ndarray::Zip::from(&mut rh)
            .and(&qv)
            .and(&pressure)
            .and(&temperature)
            .for_each(|r, &q, &p, &t| *r = relative_humidity(q, p, t).clamp(0.0, 1.0));
        let surface = |v: &[f64]| flat2(v);
        let (pblh_w, ust_w) = (
            raw.pblh.as_deref().map(surface),
            raw.ust.as_deref().map(surface),
        );
        let hfx_w = surface(&raw.hfx);
        let z0_w = surface(&raw.z0);
        let land_use_w =
            Array2::from_shape_vec((wny, wnx), raw.land_use.clone()).expect("shape checked");
        let rain_w = surface(rain_rate);

        let hfx = if self.same_grid {
            m.u_face = u_st;
            m.v_face = v_st;
            m.temperature = temperature;
            m.pressure = pressure;
            m.rh = rh;
            m.cloud_water = qc;
            m.z0 = z0_w;
            m.land_use = land_use_w;
            m.precip = rain_w;
            m.pblh = pblh_w.unwrap_or_else(|| Array2::zeros((g.ny, g.nx)));
            m.ustar = ust_w.unwrap_or_else(|| Array2::zeros((g.ny, g.nx)));
            hfx_w
        } else {
            // Destagger and rotate to earth-relative with WRF's cone, then
            // sample at the model's faces and centres.
            let (wnx, wny) = (self.header.west_east, self.header.south_north);
            let mut east = Array3::zeros((g.nz, wny, wnx));
            let mut north = Array3::zeros((g.nz, wny, wnx));
            for ((k, j, i), e) in east.indexed_iter_mut() {
                let u = 0.5 * (u_st[[k, j, i]] + u_st[[k, j, i + 1]]);
                let v = 0.5 * (v_st[[k, j, i]] + v_st[[k, j + 1, i]]);
                let lon = self.wrf_grid.lon[[j, i]];
                let (ee, nn) = super::stats::earth_relative(&self.wrf_grid, lon, u, v);
                *e = ee;
                north[[k, j, i]] = nn;
            }
            let sampler = Sampler {
                grid: g,
                source_index: |lon, lat| self.wrf_grid.index_of(lon, lat),
            };
            sampler.face_winds(&east, &north, &mut m);
            m.temperature = sampler.centres3(&temperature);
            m.pressure = sampler.centres3(&pressure);
            m.rh = sampler.centres3(&rh);
            m.cloud_water = sampler.centres3(&qc);
            m.z0 = sampler.centres2(&z0_w);
            m.land_use = sampler.nearest2(&land_use_w);
            m.precip = sampler.centres2(&rain_w);
            m.pblh = pblh_w
                .map(|p| sampler.centres2(&p))
                .unwrap_or_else(|| Array2::zeros((g.ny, g.nx)));
            m.ustar = ust_w
                .map(|u| sampler.centres2(&u))
                .unwrap_or_else(|| Array2::zeros((g.ny, g.nx)));
            sampler.centres2(&hfx_w)
        };
        finish_boundary_layer(
            m,
            &self.grid,
            &hfx,
            raw.pblh.is_some(),
            raw.ust.is_some(),
            self.kz_min,
        )
    }
}

/// Check values derived from several fields (e.g. P + PB) against a range,
/// reported as field `name`, naming the cell through `like`, a slab of the
/// same shape.
fn derived_check(
    path: &Path,
    name: &str,
    vals: &[f64],
    ok: impl Fn(f64) -> bool,
    what: &str,
    like: &super::Slab,
) -> Result<()> {
    nc::check_range(path, name, vals, ok, what, &|i| like.at(i))
}

/// Roughness length (m) of a land-use class, from WRF's `LANDUSE.TBL`
/// (SFZ0 column, cm; summer for day of year 105-288, winter otherwise, as
/// WRF switches in the northern hemisphere). None for an unknown table or class.
pub fn roughness_of_land_use(table: &str, class: f64, day_of_year: f64) -> Option<f64> {
    // SFZ0, cm, classes 1..: (summer, winter).
    #[rustfmt::skip]
    const USGS: [(f64, f64); 33] = [
        (80., 80.), (15., 5.), (10., 2.), (15., 5.), (14., 5.), (20., 20.), (12., 10.),
        (5., 1.), (6., 1.), (15., 15.), (50., 50.), (50., 50.), (50., 50.), (50., 50.),
        (50., 20.), (0.01, 0.01), (20., 20.), (40., 40.), (1., 1.), (10., 10.), (30., 30.),
        (15., 15.), (10., 5.), (0.1, 0.1), (1., 1.), (15., 15.), (1., 1.), (80., 80.),
        (80., 80.), (80., 80.), (80., 80.), (80., 80.), (80., 80.),
    ];
    #[rustfmt::skip]
    const MODIS: [(f64, f64); 33] = [
        (50., 50.), (50., 50.), (50., 50.), (50., 50.), (50., 20.), (5., 1.), (6., 1.),
        (5., 1.), (15., 15.), (12., 50.), (30., 30.), (15., 5.), (80., 80.), (14., 5.),
        (0.1, 0.1), (1., 1.), (0.01, 0.01), (30., 10.), (15., 30.), (10., 15.), (80., 80.),
        (80., 80.), (80., 80.), (80., 80.), (80., 80.), (80., 80.), (80., 80.), (80., 80.),
        (80., 80.), (80., 80.), (80., 80.), (80., 80.), (80., 80.),
    ];
    let rows: &[(f64, f64)] = match table {
        "USGS" => &USGS,
        "MODIFIED_IGBP_MODIS_NOAH" | "MODIS" => &MODIS,
        _ => return None,
    };
    if class.fract() != 0.0 || class < 1.0 || class as usize > rows.len() {
        return None;
    }
    let (summer, winter) = rows[class as usize - 1];
    let cm = if (105.0..=288.0).contains(&day_of_year) {
        summer
    } else {
        winter
    };
    Some(cm / 100.0)
}

impl super::Records for WrfMet {
    fn record_times(&self) -> Option<Vec<f64>> {
        Some(self.records.iter().map(|r| r.2).collect())
    }

    fn read_record(&mut self, rec: usize) -> Result<MetFields> {
        self.read_record_at(rec)
    }

    fn cache(&mut self) -> &mut super::RecordCache {
        &mut self.cache
    }

    fn description(&self) -> String {
        let names: Vec<String> = self.files.iter().map(|p| p.display().to_string()).collect();
        format!(
            "WRF output {} ({} x {} x {} mass points, DX {} m{})",
            names.join(", "),
            self.header.west_east,
            self.header.south_north,
            self.header.bottom_top,
            self.header.dx,
            if self.same_grid {
                ", the model grid"
            } else {
                ", regridded"
            }
        )
    }

    fn synthetic(&self) -> bool {
        false
    }
}
