//! CF-NetCDF meteorology already on the model grid (WRF and regridding come
//! with the meteorology issue). The file holds hourly (or any increasing)
//! records; fields are interpolated linearly in time, 1/L for stability.
//!
//! | variable            | dims          | units  | notes                              |
//! |---------------------|---------------|--------|------------------------------------|
//! | time                | time          | hours  | since the run start, or CF time units |
//! | u, v                | time,z,y,x    | m s-1  | grid-relative, at cell centres     |
//! | temperature         | time,z,y,x    | K      |                                    |
//! | pressure            | time,z,y,x    | Pa     |                                    |
//! | pblh                | time,y,x      | m      | mixing height                      |
//! | ustar               | time,y,x      | m s-1  | friction velocity                  |
//! | obukhov_length      | time,y,x      | m      | or `sensible_heat_flux` (W m-2)    |
//! | precip              | time,y,x      | mm h-1 |                                    |
//! | kz (optional)       | time,z,y,x    | m2 s-1 | at layer tops; else Holtslag-Boville |
//! | z0 (optional)       | y,x           | m      | roughness; default 0.1             |
//! | land_use (optional) | y,x           | 1      | Wesely (1989) category 1-11; default `physics.land_use` |
//! | relative_humidity (optional) | time,z,y,x | 1 | fraction; default 0.7           |
//! | cloud_water (optional) | time,z,y,x | kg kg-1 | cloud/fog liquid water; default 0 |
//!
//! Every value is checked: a missing variable, wrong dimensions, a NaN or
//! fill value (see [`crate::input::nc`]), units the table of
//! [`crate::input::units`] does not know, or a value outside its physical
//! range is refused with the file, variable, record and cell. Values are
//! converted from their `units` attribute (e.g. km/h, hPa, degC, %); a
//! variable without one is taken to be in the unit above.
//!
//! Physical ranges (after conversion), wide enough for any real weather
//! and narrow enough to catch wrong units or garbage: |u|, |v| < 150 m/s
//! (jet-stream cores and tropical cyclones stay below ~100 m/s);
//! temperature 150-350 K (the coldest tropospheric air is ~180 K, the
//! hottest surface air ~330 K); pressure from 30 kPa exp(-z / 5 km) at the
//! layer's height z to 110 kPa ([`super::min_pressure`]: the surface
//! pressure is never below 30 kPa, the scale height never below 5 km; the
//! highest sea-level pressure measured is 108.4 kPa); mixing height 0-8000 m; u* 0-5 m/s;
//! precipitation 0-500 mm/h (the heaviest hourly falls measured are about
//! 300 mm); |H| < 2000 W/m2 (1.5 x the solar constant); Kz 0-5000 m2/s;
//! z0 0-10 m; relative humidity 0-1.05 (slight supersaturation); cloud
//! water 0-0.01 kg/kg (dense cumulus hold a few g/kg).

use super::MetFields;
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::input::nc;
use crate::input::units::Quantity;
use crate::time::StartTime;
use ndarray::{Array2, Array3};
use std::path::{Path, PathBuf};

pub struct NetcdfMet {
    path: PathBuf,
    grid: Grid,
    times_s: Vec<f64>,
    kz_min: f64,
    cache: super::RecordCache,
    /// Roughness and land use from a land-cover map, for files without
    /// their own `z0` or `land_use`.
    surface: Option<super::land_use::Surface>,
}

impl NetcdfMet {
    /// Open a met file for a run of `run_seconds` from `start` (time units
    /// "X since DATE" are counted from `start`).
    pub fn open(
        path: &Path,
        grid: &Grid,
        start: StartTime,
        kz_min: f64,
        run_seconds: f64,
    ) -> Result<Self> {
        let file = nc::open(path)?;
        let times_s = super::read_times(&file, path, start)?;
        let (first, last) = (times_s[0], times_s[times_s.len() - 1]);
        if first > 0.0 || last < run_seconds {
            return Err(Error::input(
                path,
                "time",
                format!(
                    "records covering the run, 0 to {} h; the file covers {} to {} h",
                    run_seconds / 3600.0,
                    first / 3600.0,
                    last / 3600.0
                ),
            ));
        }
        drop(file);
        let met = NetcdfMet {
            path: path.to_path_buf(),
            grid: grid.clone(),
            times_s,
            kz_min,
            cache: Default::default(),
            surface: None,
        };
        // Read the first record now so a bad file fails before the run starts.
        met.read_record_at(0)?;
        Ok(met)
    }

    /// Roughness and land use per cell from a land-cover map, where the
    /// file has no `z0` or `land_use` of its own.
    pub fn with_surface(mut self, surface: Option<super::land_use::Surface>) -> Self {
        self.surface = surface;
        self.cache = Default::default();
        self
    }

    fn read_record_at(&self, rec: usize) -> Result<MetFields> {
        let g = &self.grid;
        let path = &self.path;
        let file = nc::open(path)?;
        // Name a flat index as its record and (z, y, x) position.
        let at = |rec: usize, flat: usize, len: usize| {
            let plane = g.ny * g.nx;
            let (k, j, i) = (flat / plane, (flat % plane) / g.nx, flat % g.nx);
            if len <= plane {
                format!("record {rec} at (y={j}, x={i})")
            } else {
                format!("record {rec} at (z={k}, y={j}, x={i})")
            }
        };
        let read = |name: &str, dims3: bool, q: Quantity| -> Result<Option<Vec<f64>>> {
            let Some(var) = nc::variable(&file, path, name)? else {
                return Ok(None);
            };
            let want: Vec<usize> = if dims3 {
                vec![self.times_s.len(), g.nz, g.ny, g.nx]
            } else {
                vec![self.times_s.len(), g.ny, g.nx]
            };
            let have: Vec<usize> = var.dimensions().iter().map(|d| d.len()).collect();
            if have != want {
                let names = if dims3 {
                    "(time, z, y, x)"
                } else {
                    "(time, y, x)"
                };
                return Err(Error::input(
                    path,
                    name,
                    format!("dimensions {names} = {want:?}, found {have:?}"),
                ));
            }
            let ext: Vec<std::ops::Range<usize>> = std::iter::once(rec..rec + 1)
                .chain(want[1..].iter().map(|&n| 0..n))
                .collect();
            let vals = super::read_checked(&var, path, name, &ext, Some(q), |bad| {
                at(rec, bad, g.nz * g.ny * g.nx / if dims3 { 1 } else { g.nz })
            })?;
            Ok(Some(vals))
        };
        let need = |name: &str, dims3: bool, q: Quantity| -> Result<Vec<f64>> {
            read(name, dims3, q)?.ok_or_else(|| {
                Error::input(
                    path,
                    name,
                    "a required variable (see the met format table in docs/case-file.md)",
                )
            })
        };
        let check =
            |name: &str, vals: &[f64], ok: &dyn Fn(f64) -> bool, what: &str| -> Result<()> {
                match vals.iter().position(|&v| !ok(v)) {
                    Some(i) => Err(Error::input(
                        path,
                        name,
                        format!("{what}; {} is {}", at(rec, i, vals.len()), vals[i]),
                    )),
                    None => Ok(()),
                }
            };
        let a3 =
            |v: Vec<f64>| Array3::from_shape_vec((g.nz, g.ny, g.nx), v).expect("shape checked");
        let a2 = |v: Vec<f64>| Array2::from_shape_vec((g.ny, g.nx), v).expect("shape checked");

        let u = need("u", true, Quantity::Speed)?;
        let v = need("v", true, Quantity::Speed)?;
        check("u", &u, &|x| x.abs() < 150.0, "wind speeds below 150 m/s")?;
        check("v", &v, &|x| x.abs() < 150.0, "wind speeds below 150 m/s")?;
        let t = need("temperature", true, Quantity::Temperature)?;
        check(
            "temperature",
            &t,
            &|x| (150.0..350.0).contains(&x),
            "temperatures between 150 and 350 K",
        )?;
        let p = need("pressure", true, Quantity::Pressure)?;
        let plane = g.ny * g.nx;
        super::check_pressure(path, "pressure", &p, |i| g.z_mid[i / plane], &|i| {
            at(rec, i, p.len())
        })?;
        let pblh = need("pblh", false, Quantity::Length)?;
        check(
            "pblh",
            &pblh,
            &|x| (0.0..8000.0).contains(&x),
            "mixing heights between 0 and 8000 m",
        )?;
        let ustar = need("ustar", false, Quantity::Speed)?;
        check(
            "ustar",
            &ustar,
            &|x| (0.0..5.0).contains(&x),
            "friction velocities between 0 and 5 m/s",
        )?;
        let precip = need("precip", false, Quantity::PrecipitationRate)?;
        check(
            "precip",
            &precip,
            &|x| (0.0..500.0).contains(&x),
            "precipitation rates between 0 and 500 mm/h",
        )?;

        let mut m = MetFields::zeros(g);
        let (u, v) = (a3(u), a3(v));
        // Face winds: mean of the two neighbouring centres; edge faces take the edge cell.
        (m.u_face, m.v_face) = super::faces_from_centres(&u, &v);
        m.temperature = a3(t);
        m.pressure = a3(p);
        m.update_density();
        m.pblh = a2(pblh);
        m.ustar = a2(ustar);
        m.precip = a2(precip);
        // Static (y, x) fields: z0 and land_use.
        let read_static = |name: &str, q: Option<Quantity>| -> Result<Option<Vec<f64>>> {
            let Some(var) = nc::variable(&file, path, name)? else {
                return Ok(None);
            };
            let have: Vec<usize> = var.dimensions().iter().map(|d| d.len()).collect();
            if have != [g.ny, g.nx] {
                return Err(Error::input(
                    path,
                    name,
                    format!("dimensions (y, x) = [{}, {}], found {have:?}", g.ny, g.nx),
                ));
            }
            let at = |flat: usize| format!("(y={}, x={})", flat / g.nx, flat % g.nx);
            nc::read(&var, path, name, &[0..g.ny, 0..g.nx], q, &at).map(Some)
        };
        let check_static =
            |name: &str, vals: &[f64], ok: &dyn Fn(f64) -> bool, what: &str| -> Result<()> {
                nc::check_range(path, name, vals, ok, what, &|flat| {
                    format!("(y={}, x={})", flat / g.nx, flat % g.nx)
                })
            };
        m.z0 = match read_static("z0", Some(Quantity::Length))? {
            Some(vals) => {
                check_static(
                    "z0",
                    &vals,
                    &|x| x > 0.0 && x < 10.0,
                    "roughness lengths between 0 and 10 m",
                )?;
                a2(vals)
            }
            None => match &self.surface {
                Some(s) => s.z0.clone(),
                None => Array2::from_elem((g.ny, g.nx), 0.1),
            },
        };
        if let Some(s) = &self.surface {
            m.land_use = s.land_use.clone();
        }
        if let Some(vals) = read_static("land_use", None)? {
            check_static(
                "land_use",
                &vals,
                &|x| x.fract() == 0.0 && (1.0..=11.0).contains(&x),
                "Wesely (1989) land-use categories 1-11",
            )?;
            m.land_use =
                Array2::from_shape_vec((g.ny, g.nx), vals.iter().map(|&x| x as u8).collect())
                    .expect("shape checked");
        }
        if let Some(l) = read("obukhov_length", false, Quantity::Length)? {
            check(
                "obukhov_length",
                &l,
                &|x| x != 0.0,
                "a non-zero Obukhov length (use a large value for neutral)",
            )?;
            m.obukhov = a2(l);
        } else if let Some(h) = read("sensible_heat_flux", false, Quantity::HeatFlux)? {
            check(
                "sensible_heat_flux",
                &h,
                &|x| x.abs() < 2000.0,
                "heat fluxes below 2000 W/m2 in magnitude",
            )?;
            for ((j, i), &hf) in a2(h).indexed_iter() {
                m.obukhov[[j, i]] = super::pbl::obukhov_length(
                    m.ustar[[j, i]].max(0.01),
                    hf,
                    m.density[[0, j, i]],
                    m.temperature[[0, j, i]],
                );
            }
        } else {
            return Err(Error::input(
                path,
                "obukhov_length",
                "obukhov_length (m) or sensible_heat_flux (W/m2)",
            ));
        }
        match read("relative_humidity", true, Quantity::RelativeHumidity)? {
            Some(rh) => {
                check(
                    "relative_humidity",
                    &rh,
                    &|x| (0.0..=1.05).contains(&x),
                    "relative humidity as a fraction, 0 to 1",
                )?;
                m.rh = a3(rh).mapv(|x| x.min(1.0));
            }
            None => m.rh.fill(crate::config::DEFAULT_RELATIVE_HUMIDITY),
        }
        if let Some(qc) = read("cloud_water", true, Quantity::MixingRatio)? {
            check(
                "cloud_water",
                &qc,
                &|x| (0.0..0.01).contains(&x),
                "cloud liquid water mixing ratios between 0 and 0.01 kg/kg",
            )?;
            m.cloud_water = a3(qc);
        }
        match read("kz", true, Quantity::Diffusivity)? {
            Some(kz) => {
                check(
                    "kz",
                    &kz,
                    &|x| (0.0..5000.0).contains(&x),
                    "diffusivities between 0 and 5000 m2/s",
                )?;
                m.kz = a3(kz).mapv(|k| k.max(self.kz_min));
            }
            None => m.diagnose_kz(g, self.kz_min),
        }
        Ok(m)
    }
}

impl super::Records for NetcdfMet {
    fn record_times(&self) -> Option<Vec<f64>> {
        Some(self.times_s.clone())
    }

    fn read_record(&mut self, rec: usize) -> Result<MetFields> {
        self.read_record_at(rec)
    }

    fn cache(&mut self) -> &mut super::RecordCache {
        &mut self.cache
    }

    fn description(&self) -> String {
        format!("CF-NetCDF meteorology from {}", self.path.display())
    }

    fn synthetic(&self) -> bool {
        false
    }
}
