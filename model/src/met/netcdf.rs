//! CF-NetCDF meteorology already on the model grid (WRF and regridding come
//! with the meteorology issue). The file holds hourly (or any increasing)
//! records; fields are interpolated linearly in time, 1/L for stability.
//!
//! | variable            | dims          | units  | notes                              |
//! |---------------------|---------------|--------|------------------------------------|
//! | time                | time          | hours  | since the run start, increasing    |
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
//! fill value, or an impossible value is refused with the file and variable.

use super::MetFields;
use crate::error::{Error, Result};
use crate::grid::Grid;
use ndarray::{Array2, Array3};
use std::path::{Path, PathBuf};

pub struct NetcdfMet {
    path: PathBuf,
    grid: Grid,
    times_s: Vec<f64>,
    kz_min: f64,
    cache: super::RecordCache,
}

impl NetcdfMet {
    pub fn open(path: &Path, grid: &Grid, kz_min: f64, run_seconds: f64) -> Result<Self> {
        let file = netcdf::open(path)
            .map_err(|e| Error::input(path, "(file)", format!("a readable NetCDF file ({e})")))?;
        let var = file.variable("time").ok_or_else(|| {
            Error::input(
                path,
                "time",
                "a variable `time` (hours since the run start)",
            )
        })?;
        let times: Vec<f64> = var
            .get_values::<f64, _>(..)
            .map_err(|e| Error::input(path, "time", format!("numeric values ({e})")))?;
        if times.is_empty()
            || times.windows(2).any(|w| !(w[1] > w[0]))
            || times.iter().any(|t| !t.is_finite())
        {
            return Err(Error::input(
                path,
                "time",
                "finite, strictly increasing hours",
            ));
        }
        let times_s: Vec<f64> = times.iter().map(|h| h * 3600.0).collect();
        if times_s[0] > 0.0 || *times_s.last().unwrap() < run_seconds {
            return Err(Error::input(
                path,
                "time",
                format!(
                    "records covering the run, 0 to {} h; the file covers {} to {} h",
                    run_seconds / 3600.0,
                    times[0],
                    times.last().unwrap()
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
        };
        // Read the first record now so a bad file fails before the run starts.
        met.read_record_at(0)?;
        Ok(met)
    }

    fn read_record_at(&self, rec: usize) -> Result<MetFields> {
        let g = &self.grid;
        let path = &self.path;
        let file = netcdf::open(path)
            .map_err(|e| Error::input(path, "(file)", format!("a readable NetCDF file ({e})")))?;
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
        let read = |name: &str, dims3: bool| -> Result<Option<Vec<f64>>> {
            let Some(var) = file.variable(name) else {
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
            let vals = super::read_checked(&var, path, name, &ext, |bad| {
                at(rec, bad, g.nz * g.ny * g.nx / if dims3 { 1 } else { g.nz })
            })?;
            Ok(Some(vals))
        };
        let need = |name: &str, dims3: bool| -> Result<Vec<f64>> {
            read(name, dims3)?.ok_or_else(|| {
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

        let u = need("u", true)?;
        let v = need("v", true)?;
        check("u", &u, &|x| x.abs() < 150.0, "wind speeds below 150 m/s")?;
        check("v", &v, &|x| x.abs() < 150.0, "wind speeds below 150 m/s")?;
        let t = need("temperature", true)?;
        check(
            "temperature",
            &t,
            &|x| (150.0..350.0).contains(&x),
            "temperatures between 150 and 350 K",
        )?;
        let p = need("pressure", true)?;
        check(
            "pressure",
            &p,
            &|x| (1000.0..110_000.0).contains(&x),
            "pressures between 1000 and 110000 Pa",
        )?;
        let pblh = need("pblh", false)?;
        check(
            "pblh",
            &pblh,
            &|x| (0.0..8000.0).contains(&x),
            "mixing heights between 0 and 8000 m",
        )?;
        let ustar = need("ustar", false)?;
        check(
            "ustar",
            &ustar,
            &|x| (0.0..5.0).contains(&x),
            "friction velocities between 0 and 5 m/s",
        )?;
        let precip = need("precip", false)?;
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
        m.z0 = match file.variable("z0") {
            Some(var) => {
                let vals: Vec<f64> = var
                    .get_values::<f64, _>(..)
                    .map_err(|e| Error::input(path, "z0", format!("numeric values ({e})")))?;
                if vals.len() != g.ny * g.nx {
                    return Err(Error::input(
                        path,
                        "z0",
                        format!("dimensions (y, x) = [{}, {}]", g.ny, g.nx),
                    ));
                }
                check(
                    "z0",
                    &vals,
                    &|x| x > 0.0 && x < 10.0,
                    "roughness lengths between 0 and 10 m",
                )?;
                a2(vals)
            }
            None => Array2::from_elem((g.ny, g.nx), 0.1),
        };
        if let Some(var) = file.variable("land_use") {
            let vals: Vec<f64> = var
                .get_values::<f64, _>(..)
                .map_err(|e| Error::input(path, "land_use", format!("numeric values ({e})")))?;
            if vals.len() != g.ny * g.nx {
                return Err(Error::input(
                    path,
                    "land_use",
                    format!("dimensions (y, x) = [{}, {}]", g.ny, g.nx),
                ));
            }
            check(
                "land_use",
                &vals,
                &|x| x.fract() == 0.0 && (1.0..=11.0).contains(&x),
                "Wesely (1989) land-use categories 1-11",
            )?;
            m.land_use =
                Array2::from_shape_vec((g.ny, g.nx), vals.iter().map(|&x| x as u8).collect())
                    .expect("shape checked");
        }
        if let Some(l) = read("obukhov_length", false)? {
            check(
                "obukhov_length",
                &l,
                &|x| x != 0.0,
                "a non-zero Obukhov length (use a large value for neutral)",
            )?;
            m.obukhov = a2(l);
        } else if let Some(h) = read("sensible_heat_flux", false)? {
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
        match read("relative_humidity", true)? {
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
        if let Some(qc) = read("cloud_water", true)? {
            check(
                "cloud_water",
                &qc,
                &|x| (0.0..0.01).contains(&x),
                "cloud liquid water mixing ratios between 0 and 0.01 kg/kg",
            )?;
            m.cloud_water = a3(qc);
        }
        match read("kz", true)? {
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
