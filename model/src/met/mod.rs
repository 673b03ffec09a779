//! Meteorology on the model grid: winds on cell faces (Arakawa C), the
//! thermodynamic state at cell centres, and the boundary-layer quantities the
//! diffusion and deposition processes need.
//!
//! Vertical velocity is never read: like CMAQ, the vertical air-mass flux is
//! diagnosed from continuity inside the advection process, so the transported
//! air mass always matches the met density.

pub mod adjusted;
pub mod analytic;
pub mod diagnostic;
pub mod land_use;
mod multigrid;
pub mod netcdf;
pub mod pbl;
pub mod reanalysis;
pub mod regime;
pub mod regrid;
pub mod stations;
pub mod stats;
pub mod terrain;
pub mod wrf;

use crate::config::MetSpec;
use crate::error::Result;
use crate::grid::Grid;
use crate::time::StartTime;
use ndarray::{s, Array2, Array3, Zip};

/// Dry-air gas constant, J/(kg K).
pub const R_DRY: f64 = 287.05;
/// Gravity, m/s2.
pub const GRAVITY: f64 = 9.80665;
/// von Karman constant.
pub const KARMAN: f64 = 0.4;
/// Specific heat of dry air at constant pressure, J/(kg K).
pub const CP_DRY: f64 = 1004.7;

/// Met state at one instant on the model grid.
#[derive(Debug, Clone)]
pub struct MetFields {
    /// Grid-relative wind normal to x-faces, m/s, [k, j, i in 0..=nx].
    pub u_face: Array3<f64>,
    /// Grid-relative wind normal to y-faces, m/s, [k, j in 0..=ny, i].
    pub v_face: Array3<f64>,
    /// Temperature K, pressure Pa, air density kg/m3 at cell centres.
    pub temperature: Array3<f64>,
    pub pressure: Array3<f64>,
    pub density: Array3<f64>,
    /// Relative humidity (fraction, 0-1) and cloud liquid water mixing ratio
    /// (kg/kg) at cell centres, for aerosol thermodynamics and aqueous chemistry.
    pub rh: Array3<f64>,
    pub cloud_water: Array3<f64>,
    /// Vertical eddy diffusivity at layer tops, m2/s, [k, j, i] = top of layer k.
    pub kz: Array3<f64>,
    /// Mixing height m, friction velocity m/s, Obukhov length m, precipitation mm/h.
    pub pblh: Array2<f64>,
    pub ustar: Array2<f64>,
    pub obukhov: Array2<f64>,
    pub precip: Array2<f64>,
    /// Surface roughness length, m.
    pub z0: Array2<f64>,
    /// Wesely (1989) land-use category 1-11 of each column ([`land_use::LandUse`]);
    /// 0 where the met does not say (the case's `physics.land_use` applies).
    pub land_use: Array2<u8>,
}

impl MetFields {
    pub fn zeros(g: &Grid) -> Self {
        let (nz, ny, nx) = (g.nz, g.ny, g.nx);
        MetFields {
            u_face: Array3::zeros((nz, ny, nx + 1)),
            v_face: Array3::zeros((nz, ny + 1, nx)),
            temperature: Array3::zeros((nz, ny, nx)),
            pressure: Array3::zeros((nz, ny, nx)),
            density: Array3::zeros((nz, ny, nx)),
            rh: Array3::zeros((nz, ny, nx)),
            cloud_water: Array3::zeros((nz, ny, nx)),
            kz: Array3::zeros((nz, ny, nx)),
            pblh: Array2::zeros((ny, nx)),
            ustar: Array2::zeros((ny, nx)),
            obukhov: Array2::zeros((ny, nx)),
            precip: Array2::zeros((ny, nx)),
            z0: Array2::zeros((ny, nx)),
            land_use: Array2::zeros((ny, nx)),
        }
    }

    /// Linear interpolation in time: (1-w) a + w b.
    pub fn lerp(a: &MetFields, b: &MetFields, w: f64) -> MetFields {
        let mut out = a.clone();
        let mix3 = |o: &mut Array3<f64>, y: &Array3<f64>| {
            Zip::from(o).and(y).for_each(|o, &y| *o += w * (y - *o))
        };
        let mix2 = |o: &mut Array2<f64>, y: &Array2<f64>| {
            Zip::from(o).and(y).for_each(|o, &y| *o += w * (y - *o))
        };
        mix3(&mut out.u_face, &b.u_face);
        mix3(&mut out.v_face, &b.v_face);
        mix3(&mut out.temperature, &b.temperature);
        mix3(&mut out.pressure, &b.pressure);
        mix3(&mut out.density, &b.density);
        mix3(&mut out.rh, &b.rh);
        mix3(&mut out.cloud_water, &b.cloud_water);
        mix3(&mut out.kz, &b.kz);
        mix2(&mut out.pblh, &b.pblh);
        mix2(&mut out.ustar, &b.ustar);
        mix2(&mut out.precip, &b.precip);
        mix2(&mut out.z0, &b.z0);
        // The Obukhov length passes through infinity at neutral: interpolate 1/L.
        Zip::from(&mut out.obukhov)
            .and(&b.obukhov)
            .for_each(|o, &y| {
                let inv = (1.0 - w) / *o + w / y;
                *o = if inv == 0.0 { f64::INFINITY } else { 1.0 / inv };
            });
        out
    }

    /// The fields of cells `i0..i1` x `j0..j1` and of their faces.
    pub fn window(&self, (i0, i1): (usize, usize), (j0, j1): (usize, usize)) -> MetFields {
        let c3 = |a: &Array3<f64>| a.slice(s![.., j0..j1, i0..i1]).to_owned();
        let c2 = |a: &Array2<f64>| a.slice(s![j0..j1, i0..i1]).to_owned();
        MetFields {
            u_face: self.u_face.slice(s![.., j0..j1, i0..=i1]).to_owned(),
            v_face: self.v_face.slice(s![.., j0..=j1, i0..i1]).to_owned(),
            temperature: c3(&self.temperature),
            pressure: c3(&self.pressure),
            density: c3(&self.density),
            rh: c3(&self.rh),
            cloud_water: c3(&self.cloud_water),
            kz: c3(&self.kz),
            pblh: c2(&self.pblh),
            ustar: c2(&self.ustar),
            obukhov: c2(&self.obukhov),
            precip: c2(&self.precip),
            z0: c2(&self.z0),
            land_use: self.land_use.slice(s![j0..j1, i0..i1]).to_owned(),
        }
    }

    /// Grid-relative wind at a cell centre: the mean of the two faces.
    pub fn centre_wind(&self, k: usize, j: usize, i: usize) -> (f64, f64) {
        (
            0.5 * (self.u_face[[k, j, i]] + self.u_face[[k, j, i + 1]]),
            0.5 * (self.v_face[[k, j, i]] + self.v_face[[k, j + 1, i]]),
        )
    }

    /// Liquid water path of column (j, i), kg/m2: the sum of cloud water x
    /// density x layer thickness (the cloud optical depth's input for the
    /// OH and irradiance dimming of `processes::chemistry::below_cloud_factor`).
    pub fn liquid_water_path(&self, g: &Grid, j: usize, i: usize) -> f64 {
        (0..g.nz)
            .map(|k| self.cloud_water[[k, j, i]] * self.density[[k, j, i]] * g.dz[k])
            .sum()
    }

    /// [`Self::liquid_water_path`] of every column of row `j` into `out`
    /// [i], layer by layer along the row (contiguous reads): each column's
    /// terms are added in the same order k = 0..nz from the same start
    /// (-0.0, that of `Iterator::sum`), so every value is bit for bit the
    /// per-column one.
    pub fn liquid_water_path_row(&self, g: &Grid, j: usize, out: &mut [f64]) {
        out.fill(-0.0);
        for k in 0..g.nz {
            let dz = g.dz[k];
            let cw = self.cloud_water.slice(s![k, j, ..]);
            let rho = self.density.slice(s![k, j, ..]);
            match (cw.as_slice(), rho.as_slice()) {
                // Contiguous rows (the fields' standard layout): vectorised.
                (Some(cw), Some(rho)) => {
                    for ((w, &c), &r) in out.iter_mut().zip(cw).zip(rho) {
                        *w += c * r * dz;
                    }
                }
                _ => {
                    for ((w, &c), &r) in out.iter_mut().zip(cw.iter()).zip(rho.iter()) {
                        *w += c * r * dz;
                    }
                }
            }
        }
    }

    /// Air density from the ideal gas law, rho = p / (R_d T).
    pub fn update_density(&mut self) {
        Zip::from(&mut self.density)
            .and(&self.pressure)
            .and(&self.temperature)
            .for_each(|d, &p, &t| *d = p / (R_DRY * t));
    }

    /// Fill `kz` from boundary-layer similarity (Holtslag & Boville 1993).
    pub fn diagnose_kz(&mut self, g: &Grid, kz_min: f64) {
        for j in 0..g.ny {
            for i in 0..g.nx {
                for k in 0..g.nz {
                    self.kz[[k, j, i]] = pbl::kz_holtslag_boville(
                        g.z_top[k],
                        self.pblh[[j, i]],
                        self.ustar[[j, i]],
                        self.obukhov[[j, i]],
                    )
                    .max(kz_min);
                }
            }
        }
    }
}

/// Potential temperature referred to 1000 hPa, K: T (p0/p)^(R/cp).
pub fn potential_temperature(t_kelvin: f64, p: f64) -> f64 {
    t_kelvin * (1e5 / p).powf(R_DRY / CP_DRY)
}

/// Mean of the two cells either side of x-face i of a [k, j, i] field; a
/// face on the domain edge takes its one cell.
pub fn x_face_mean(a: &Array3<f64>, k: usize, j: usize, i: usize) -> f64 {
    let nx = a.dim().2;
    0.5 * (a[[k, j, i.saturating_sub(1)]] + a[[k, j, i.min(nx - 1)]])
}

/// Mean of the two cells either side of y-face j (see [`x_face_mean`]).
pub fn y_face_mean(a: &Array3<f64>, k: usize, j: usize, i: usize) -> f64 {
    let ny = a.dim().1;
    0.5 * (a[[k, j.saturating_sub(1), i]] + a[[k, j.min(ny - 1), i]])
}

/// Face-normal winds on the C grid from winds at cell centres.
pub fn faces_from_centres(u: &Array3<f64>, v: &Array3<f64>) -> (Array3<f64>, Array3<f64>) {
    let (nz, ny, nx) = u.dim();
    (
        Array3::from_shape_fn((nz, ny, nx + 1), |(k, j, i)| x_face_mean(u, k, j, i)),
        Array3::from_shape_fn((nz, ny + 1, nx), |(k, j, i)| y_face_mean(v, k, j, i)),
    )
}

/// Saturation vapour pressure over water, Pa (Bolton 1980, Mon. Weather Rev.
/// 108, 1046, eq. 10): 611.2 exp(17.67 T_c / (T_c + 243.5)).
pub fn saturation_vapour_pressure(t_kelvin: f64) -> f64 {
    let tc = t_kelvin - 273.15;
    611.2 * (17.67 * tc / (tc + 243.5)).exp()
}

/// Relative humidity (fraction) from the water-vapour mixing ratio q (kg/kg)
/// at pressure p (Pa): e = q p / (0.622 + q).
pub fn relative_humidity(q: f64, p: f64, t_kelvin: f64) -> f64 {
    (q * p / (0.622 + q)) / saturation_vapour_pressure(t_kelvin)
}

/// One record of a variable read by [`read_named_record`]: its values in
/// the model's units, and where they came from, to name a bad cell.
pub struct Slab {
    pub values: Vec<f64>,
    rec: usize,
    dims: Vec<(String, std::ops::Range<usize>)>,
}

impl Slab {
    /// `record R at (dim=i, ...)` of a flat index.
    pub fn at(&self, flat: usize) -> String {
        let cell = crate::input::nc::cell_namer(&self.dims[1..]);
        format!("record {} at {}", self.rec, cell(flat))
    }

    /// Refuse the first value outside `ok`, naming the variable and cell.
    pub fn check(
        &self,
        path: &std::path::Path,
        name: &str,
        ok: impl Fn(f64) -> bool,
        expected: &str,
    ) -> Result<()> {
        crate::input::nc::check_range(path, name, &self.values, ok, expected, &|i| self.at(i))
    }
}

/// One record of a variable whose dimensions must be named `dims` (the
/// first being time), checked for missing values and converted from its
/// `units` to the model's unit of `quantity` (see [`crate::input::nc`]). A
/// missing variable is an error when `required`, else None.
pub fn read_named_record(
    file: &::netcdf::File,
    path: &std::path::Path,
    name: &str,
    rec: usize,
    dims: &[&str],
    required: bool,
    quantity: Option<crate::input::units::Quantity>,
) -> Result<Option<Slab>> {
    use crate::error::Error;
    let Some(var) = crate::input::nc::variable(file, path, name)? else {
        return if required {
            Err(Error::input(
                path,
                name,
                format!("the variable {name}({})", dims.join(", ")),
            ))
        } else {
            Ok(None)
        };
    };
    let have: Vec<String> = var.dimensions().iter().map(|d| d.name()).collect();
    if have != dims {
        return Err(Error::input(
            path,
            name,
            format!(
                "dimensions ({}), found ({})",
                dims.join(", "),
                have.join(", ")
            ),
        ));
    }
    let nrec = var.dimensions()[0].len();
    if rec >= nrec {
        return Err(Error::input(
            path,
            name,
            format!("a record {rec} along {}, which has {nrec}", dims[0]),
        ));
    }
    let slab_dims: Vec<(String, std::ops::Range<usize>)> =
        std::iter::once((have[0].clone(), rec..rec + 1))
            .chain(
                var.dimensions()[1..]
                    .iter()
                    .zip(&have[1..])
                    .map(|(d, n)| (n.clone(), 0..d.len())),
            )
            .collect();
    let ext: Vec<std::ops::Range<usize>> = slab_dims.iter().map(|d| d.1.clone()).collect();
    let mut slab = Slab {
        values: vec![],
        rec,
        dims: slab_dims,
    };
    let values = crate::input::nc::read(&var, path, name, &ext, quantity, &|bad| slab.at(bad))?;
    slab.values = values;
    Ok(Some(slab))
}

/// Read a hyperslab in the model's unit of `quantity`, refusing missing
/// values (see [`crate::input::nc::read`]) and naming the first bad one
/// through `at(flat index)`.
pub fn read_checked(
    var: &::netcdf::Variable,
    path: &std::path::Path,
    name: &str,
    ext: &[std::ops::Range<usize>],
    quantity: Option<crate::input::units::Quantity>,
    at: impl Fn(usize) -> String,
) -> Result<Vec<f64>> {
    crate::input::nc::read(var, path, name, ext, quantity, &at)
}

/// The `time` coordinate of a met file as seconds since the run start
/// `start`: its `units` are CF time units ("hours since 2023-01-20
/// 00:00:00", "seconds since ...", or a bare unit counted from the run
/// start); without `units`, hours since the run start. The values must be
/// finite and strictly increasing.
pub fn read_times(
    file: &::netcdf::File,
    path: &std::path::Path,
    start: StartTime,
) -> Result<Vec<f64>> {
    use crate::error::Error;
    use crate::input::{nc, units};
    let var = nc::variable(file, path, "time")?.ok_or_else(|| {
        Error::input(
            path,
            "time",
            "a variable `time` (hours since the run start, or CF time units)",
        )
    })?;
    if var.dimensions().len() != 1 {
        return Err(Error::input(path, "time", "one dimension (time)"));
    }
    let ext: Vec<std::ops::Range<usize>> = var.dimensions().iter().map(|d| 0..d.len()).collect();
    let raw = nc::read(&var, path, "time", &ext, None, &|i| format!("record {i}"))?;
    let tu = match nc::text(&var, "units").filter(|u| !u.trim().is_empty()) {
        None => units::TimeUnits {
            seconds_per_unit: 3600.0,
            since_epoch_s: None,
        },
        Some(u) => units::time_units(&u).ok_or_else(|| {
            Error::input(
                path,
                "time",
                format!(
                    "time units {}; the attribute `units` is {u:?}",
                    units::TIME_UNITS_HELP
                ),
            )
        })?,
    };
    if tu.since_epoch_s.is_some() {
        if let Some(cal) = nc::text(&var, "calendar") {
            if !matches!(
                cal.trim().to_ascii_lowercase().as_str(),
                "standard" | "gregorian" | "proleptic_gregorian" | ""
            ) {
                return Err(Error::input(
                    path,
                    "time",
                    format!(
                        "the standard (Gregorian) calendar; the attribute `calendar` is {cal:?}"
                    ),
                ));
            }
        }
    }
    let shift = tu
        .since_epoch_s
        .map_or(0.0, |epoch| epoch - start.epoch_seconds());
    let times: Vec<f64> = raw
        .iter()
        .map(|v| v * tu.seconds_per_unit + shift)
        .collect();
    if times.is_empty()
        || times.iter().any(|t| !t.is_finite())
        || times.windows(2).any(|w| w[1] <= w[0])
    {
        return Err(Error::input(
            path,
            "time",
            "finite, strictly increasing times (at least one record)",
        ));
    }
    Ok(times)
}

/// Highest air pressure accepted, Pa: above the highest sea-level pressure
/// measured (108.4 kPa, Agata, Siberia, 1968) and the mean pressure of the
/// lowest land (the Dead Sea shore, about 106.5 kPa).
pub const MAX_PRESSURE: f64 = 110_000.0;

/// Lowest air pressure accepted `z` m above ground, Pa: the surface
/// pressure never falls below 30 kPa (about 33 kPa on Everest's summit),
/// and pressure falls by a factor e over a scale height R T / g of at least
/// 5 km (5.9 km at 200 K), so 30 kPa exp(-z / 5 km). A field in hPa read
/// as Pa fails it at any height below 29 km.
pub fn min_pressure(z_above_ground: f64) -> f64 {
    30_000.0 * (-z_above_ground.max(0.0) / 5000.0).exp()
}

/// Refuse the first pressure outside [`min_pressure`] at its height above
/// ground (`height_of(flat index)`) and [`MAX_PRESSURE`], naming it through `at`.
pub fn check_pressure(
    path: &std::path::Path,
    name: &str,
    vals: &[f64],
    height_of: impl Fn(usize) -> f64,
    at: &dyn Fn(usize) -> String,
) -> Result<()> {
    for (i, &p) in vals.iter().enumerate() {
        let z = height_of(i);
        let lo = min_pressure(z);
        if !(p >= lo && p <= MAX_PRESSURE) {
            return Err(crate::error::Error::input(
                path,
                name,
                format!(
                    "pressures between 30000 exp(-z / 5000 m) Pa at z m above ground ({lo:.0} Pa at {z:.0} m) and {MAX_PRESSURE} Pa; {} is {p} Pa",
                    at(i)
                ),
            ));
        }
    }
    Ok(())
}

/// The two most recent met records of a source, so stepping through an
/// interval reads or solves each record once.
#[derive(Debug, Default)]
pub struct RecordCache(Vec<(usize, MetFields)>);

impl RecordCache {
    pub fn get(
        &mut self,
        rec: usize,
        read: impl FnOnce(usize) -> Result<MetFields>,
    ) -> Result<MetFields> {
        if let Some((_, m)) = self.0.iter().find(|(r, _)| *r == rec) {
            return Ok(m.clone());
        }
        let m = read(rec)?;
        self.0.push((rec, m.clone()));
        if self.0.len() > 2 {
            self.0.remove(0);
        }
        Ok(m)
    }
}

/// Met at time t from records at increasing times: linear between the two
/// neighbours, the end record held outside them.
pub fn interpolate_records(
    times: &[f64],
    t: f64,
    mut record: impl FnMut(usize) -> Result<MetFields>,
) -> Result<MetFields> {
    let n = times.len();
    let hi = times.partition_point(|&s| s < t).min(n - 1);
    if hi == 0 || times[hi] == t {
        return record(hi);
    }
    let lo = hi - 1;
    let w = (t - times[lo]) / (times[hi] - times[lo]);
    let a = record(lo)?;
    let b = record(hi)?;
    Ok(MetFields::lerp(&a, &b, w))
}

/// Met at time t from hourly records (hour 0 at the run start), linear in
/// between.
pub fn interpolate_hours(
    t: f64,
    mut hour: impl FnMut(usize) -> Result<MetFields>,
) -> Result<MetFields> {
    let h = t / 3600.0;
    let lo = h.floor().max(0.0) as usize;
    let w = h - lo as f64;
    let a = hour(lo)?;
    if w == 0.0 {
        return Ok(a);
    }
    let b = hour(lo + 1)?;
    Ok(MetFields::lerp(&a, &b, w))
}

/// A source of meteorology on the model grid. Time is seconds since the
/// run start.
pub trait MetSource: Send {
    fn at(&mut self, t: f64) -> Result<MetFields>;
    /// Human-readable provenance, stored in every output.
    fn description(&self) -> String;
    /// True when the meteorology is made up rather than observed/modelled.
    fn synthetic(&self) -> bool;
    /// Read and check every record a run from 0 to `until_s` seconds uses
    /// (`airshed check` streams them, one at a time, so it refuses what
    /// `run` would); sources without files have nothing more to check.
    fn check_records(&mut self, _until_s: f64) -> Result<()> {
        Ok(())
    }
    /// Totals of the diagnostic wind model's hourly adjustments so far
    /// (None for sources without one).
    fn solve_totals(&self) -> Option<diagnostic::SolveTotals> {
        None
    }
}

/// Indices of the records a run from 0 to `until_s` reads: from the last
/// record at or before 0 to the first at or after `until_s`.
pub fn records_in_run(times: &[f64], until_s: f64) -> std::ops::Range<usize> {
    let n = times.len();
    if n == 0 {
        return 0..0;
    }
    let first = times.partition_point(|&s| s <= 0.0).saturating_sub(1);
    let last = times.partition_point(|&s| s < until_s).min(n - 1);
    first..last.max(first) + 1
}

/// A source made of records (read from files or solved hour by hour): it
/// gives the records and a cache, and gets time interpolation and caching
/// from the one blanket [`MetSource`] implementation below.
pub trait Records: Send {
    /// Seconds since the run start of each record; None for hourly records
    /// (record h at h hours) made on demand.
    fn record_times(&self) -> Option<Vec<f64>>;
    fn read_record(&mut self, rec: usize) -> Result<MetFields>;
    /// Where the two most recent records are kept.
    fn cache(&mut self) -> &mut RecordCache;
    fn description(&self) -> String;
    fn synthetic(&self) -> bool;
    /// See [`MetSource::solve_totals`].
    fn solve_totals(&self) -> Option<diagnostic::SolveTotals> {
        None
    }
    /// Read (uncached) every record a run to `until_s` uses; hourly
    /// records made on demand (`record_times` None) are synthetic and
    /// checked when made.
    fn check_records(&mut self, until_s: f64) -> Result<()> {
        if let Some(times) = self.record_times() {
            for rec in records_in_run(&times, until_s) {
                self.read_record(rec)?;
            }
        }
        Ok(())
    }
}

impl<R: Records> MetSource for R {
    fn at(&mut self, t: f64) -> Result<MetFields> {
        let times = self.record_times();
        let mut record = |rec: usize| {
            let mut cache = std::mem::take(self.cache());
            let m = cache.get(rec, |r| self.read_record(r));
            *self.cache() = cache;
            m
        };
        match times {
            Some(times) => interpolate_records(&times, t, record),
            None => interpolate_hours(t, &mut record),
        }
    }

    fn description(&self) -> String {
        Records::description(self)
    }

    fn synthetic(&self) -> bool {
        Records::synthetic(self)
    }

    fn check_records(&mut self, until_s: f64) -> Result<()> {
        Records::check_records(self, until_s)
    }

    fn solve_totals(&self) -> Option<diagnostic::SolveTotals> {
        Records::solve_totals(self)
    }
}

/// The met source a case asks for, on `grid`, covering `run_seconds` from
/// `start`, with `kz_min` as the floor on similarity Kz.
pub fn open(
    spec: &MetSpec,
    grid: &Grid,
    start: StartTime,
    run_seconds: f64,
    kz_min: f64,
) -> Result<Box<dyn MetSource>> {
    open_with_surface(spec, grid, start, run_seconds, kz_min, None)
}

/// The met source of a whole case: [`open`] with the roughness and land
/// use of the case's `[surface] land_cover` map, when it has one, on the
/// run's start day ([`crate::land_cover::LandCover::surface`]).
pub fn open_case(case: &crate::config::Case, grid: &Grid) -> Result<Box<dyn MetSource>> {
    let surface = match &case.land_cover {
        Some(spec) => Some(
            crate::land_cover::LandCover::load(grid, spec)?
                .surface(case.run.start.day_of_year as f64),
        ),
        None => None,
    };
    open_with_surface(
        &case.met,
        grid,
        case.run.start,
        case.run.hours * 3600.0,
        case.physics.kz_min_m2s,
        surface,
    )
}

/// [`open`] with per-cell roughness and land use (`surface`) for the
/// sources that have none of their own: analytic, netcdf (files without
/// `z0` / `land_use`), reanalysis, diagnostic (regime, stations or coarse
/// first guess). WRF files keep their own `ZNT` / `LU_INDEX`.
pub fn open_with_surface(
    spec: &MetSpec,
    grid: &Grid,
    start: StartTime,
    run_seconds: f64,
    kz_min: f64,
    surface: Option<land_use::Surface>,
) -> Result<Box<dyn MetSource>> {
    Ok(match spec {
        MetSpec::Analytic(a) => {
            Box::new(analytic::AnalyticMet::new(grid, a, start, kz_min).with_surface(surface))
        }
        MetSpec::Netcdf { file } => Box::new(
            netcdf::NetcdfMet::open(file, grid, start, kz_min, run_seconds)?.with_surface(surface),
        ),
        MetSpec::Reanalysis { file } => Box::new(
            reanalysis::ReanalysisMet::open(file, grid, start, kz_min, run_seconds)?
                .with_surface(surface),
        ),
        MetSpec::Wrf { files } => {
            Box::new(wrf::WrfMet::open(files, grid, start, run_seconds, kz_min)?)
        }
        MetSpec::Adjusted { file, terrain } => {
            // Hourly solves: the coarse data must reach the last whole hour.
            let coarse = reanalysis::ReanalysisMet::open(
                file,
                grid,
                start,
                kz_min,
                (run_seconds / 3600.0).ceil() * 3600.0,
            )?
            .with_surface(surface);
            let terrain = terrain::Terrain::build(grid, terrain)?;
            Box::new(adjusted::TerrainAdjustedMet::new(coarse, grid, terrain))
        }
        MetSpec::Regime(r) => Box::new(
            regime::RegimeMet::new(
                grid,
                r,
                start,
                kz_min,
                (run_seconds / 3600.0).ceil() as usize,
            )?
            .with_surface(surface),
        ),
    })
}

/// A subdomain's view of a source on the whole grid: each instant is read
/// whole and cut to the window (cells `i0..i1` x `j0..j1` and their faces),
/// so every rank sees bit-identical values. An MPI run would read only its
/// slab; the cut is the same.
pub struct Window {
    pub inner: Box<dyn MetSource>,
    pub i: (usize, usize),
    pub j: (usize, usize),
}

impl MetSource for Window {
    fn at(&mut self, t: f64) -> Result<MetFields> {
        Ok(self.inner.at(t)?.window(self.i, self.j))
    }
    fn description(&self) -> String {
        self.inner.description()
    }
    fn synthetic(&self) -> bool {
        self.inner.synthetic()
    }
    fn check_records(&mut self, until_s: f64) -> Result<()> {
        self.inner.check_records(until_s)
    }
    fn solve_totals(&self) -> Option<diagnostic::SolveTotals> {
        self.inner.solve_totals()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liquid_water_path_rows_equal_the_column_sums_bit_for_bit() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let case = crate::config::Case::load(&root.join("configs/default.toml")).unwrap();
        let g = Grid::new(&case.grid);
        let mut m = MetFields::zeros(&g);
        for ((k, j, i), c) in m.cloud_water.indexed_iter_mut() {
            *c = if (i + j) % 3 == 0 {
                0.0
            } else {
                1e-4 * ((k * 7 + j * 3 + i) % 11) as f64 / 7.0
            };
        }
        for ((k, j, i), r) in m.density.indexed_iter_mut() {
            *r = 1.2 - 0.05 * k as f64 + 1e-3 * ((i * 5 + j) % 13) as f64;
        }
        // A column of -0.0 (its sum keeps the sign, as Iterator::sum's does),
        // and one of uniform cloud water c at density r: c r sum(dz).
        m.cloud_water.slice_mut(s![.., 0, 0]).fill(-0.0);
        m.cloud_water.slice_mut(s![.., 1, 2]).fill(2e-4);
        m.density.slice_mut(s![.., 1, 2]).fill(1.1);
        let mut row = vec![f64::NAN; g.nx];
        for j in 0..g.ny {
            m.liquid_water_path_row(&g, j, &mut row);
            for (i, &w) in row.iter().enumerate() {
                assert_eq!(
                    w.to_bits(),
                    m.liquid_water_path(&g, j, i).to_bits(),
                    "({j}, {i})"
                );
            }
            if j == 0 {
                assert!(row[0] == 0.0 && row[0].is_sign_negative());
            }
            if j == 1 {
                let depth: f64 = g.dz.iter().sum();
                let want = 2e-4 * 1.1 * depth;
                assert!(
                    (row[2] - want).abs() <= 1e-12 * want,
                    "{} vs {want}",
                    row[2]
                );
            }
        }
    }
}
