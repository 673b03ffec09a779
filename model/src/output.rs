//! Outputs, all written atomically: to `<name>.tmp` in the target directory,
//! then renamed, so an interrupted or failed run never leaves a file that
//! looks complete.
//!
//! The NetCDF file follows CF-1.8: dimensions (time, z, y, x), projection
//! coordinates with a `grid_mapping` variable, 2-D lat/lon auxiliary
//! coordinates, concentrations in ug m-3 as float32, and provenance in the
//! global attributes (including the SYNTHETIC label for made-up met).

use crate::error::{Error, Result};
use crate::grid::{Grid, Projection};
use std::path::{Path, PathBuf};

pub struct NetcdfWriter {
    file: Option<netcdf::FileMut>,
    tmp: PathBuf,
    path: PathBuf,
    nlev: usize,
    species: Vec<String>,
    records: usize,
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Global attributes describing the run.
pub struct Provenance<'a> {
    pub title: &'a str,
    pub start: &'a str,
    pub met: &'a str,
    pub synthetic_met: bool,
    pub case_file: &'a str,
    pub mode: &'a str,
    /// Particulate species summed into the `PM25_TOTAL` variable, if any.
    pub pm25_components: &'a [String],
}

/// Name of the derived total-PM2.5 output variable.
pub const PM25_TOTAL: &str = "PM25_TOTAL";
/// The sum of the SOA product particles.
pub const SOA_TOTAL: &str = "SOA_TOTAL";

impl NetcdfWriter {
    pub fn create(
        path: &Path,
        grid: &Grid,
        nlev: usize,
        species: &[String],
        prov: &Provenance,
    ) -> Result<Self> {
        let tmp = tmp_path(path);
        let e = |err: netcdf::Error| Error::output(path, err);
        // CDF-5 (64-bit data): no HDF5 layer, so no file locks or HDF5 diagnostics,
        // and no practical size limit. Everything is defined before data is written.
        let mut f = netcdf::create_with(&tmp, netcdf::Options::_64BIT_DATA).map_err(e)?;
        f.add_unlimited_dimension("time").map_err(e)?;
        f.add_dimension("z", nlev).map_err(e)?;
        f.add_dimension("y", grid.ny).map_err(e)?;
        f.add_dimension("x", grid.nx).map_err(e)?;
        f.add_attribute("Conventions", "CF-1.8").map_err(e)?;
        f.add_attribute("title", prov.title).map_err(e)?;
        f.add_attribute(
            "source",
            format!("airshed {}", env!("CARGO_PKG_VERSION")).as_str(),
        )
        .map_err(e)?;
        f.add_attribute(
            "history",
            format!("airshed run {}", prov.case_file).as_str(),
        )
        .map_err(e)?;
        f.add_attribute("meteorology", prov.met).map_err(e)?;
        f.add_attribute(
            "synthetic_meteorology",
            if prov.synthetic_met {
                "yes: meteorology is SYNTHETIC, not observed or modelled"
            } else {
                "no"
            },
        )
        .map_err(e)?;
        f.add_attribute("averaging", prov.mode).map_err(e)?;
        {
            let mut t = f.add_variable::<f64>("time", &["time"]).map_err(e)?;
            t.put_attribute(
                "units",
                format!(
                    "hours since {}",
                    prov.start.replace('T', " ").trim_end_matches('Z')
                )
                .as_str(),
            )
            .map_err(e)?;
            t.put_attribute("standard_name", "time").map_err(e)?;
            t.put_attribute("calendar", "standard").map_err(e)?;
        }
        {
            let mut z = f.add_variable::<f64>("z", &["z"]).map_err(e)?;
            z.put_attribute("units", "m").map_err(e)?;
            z.put_attribute("long_name", "layer midpoint height above ground")
                .map_err(e)?;
            z.put_attribute("positive", "up").map_err(e)?;
            z.put_attribute("axis", "Z").map_err(e)?;
        }
        let (xy_units, xname, yname) = match grid.projection {
            Projection::LatLon { .. } => ("degrees", "longitude", "latitude"),
            Projection::Lambert { .. } => {
                ("m", "projection_x_coordinate", "projection_y_coordinate")
            }
            Projection::Cartesian => ("m", "projection_x_coordinate", "projection_y_coordinate"),
        };
        let mut coords: Vec<(&str, Vec<f64>)> = vec![("z", grid.z_mid[..nlev].to_vec())];
        for (name, std, vals) in [
            ("x", xname, grid.x_coord.to_vec()),
            ("y", yname, grid.y_coord.to_vec()),
        ] {
            let mut v = f.add_variable::<f64>(name, &[name]).map_err(e)?;
            v.put_attribute("standard_name", std).map_err(e)?;
            v.put_attribute(
                "units",
                if matches!(grid.projection, Projection::LatLon { .. }) {
                    if name == "x" {
                        "degrees_east"
                    } else {
                        "degrees_north"
                    }
                } else {
                    xy_units
                },
            )
            .map_err(e)?;
            coords.push((name, vals));
        }
        for (name, std, units, arr) in [
            ("lat", "latitude", "degrees_north", &grid.lat),
            ("lon", "longitude", "degrees_east", &grid.lon),
        ] {
            let mut v = f.add_variable::<f64>(name, &["y", "x"]).map_err(e)?;
            v.put_attribute("standard_name", std).map_err(e)?;
            v.put_attribute("units", units).map_err(e)?;
            coords.push((name, arr.iter().copied().collect()));
        }
        {
            let mut crs = f.add_variable::<i32>("crs", &[]).map_err(e)?;
            match &grid.projection {
                Projection::Lambert {
                    truelat1,
                    truelat2,
                    stand_lon,
                    centre_lat,
                    ..
                } => {
                    crs.put_attribute("grid_mapping_name", "lambert_conformal_conic")
                        .map_err(e)?;
                    crs.put_attribute("standard_parallel", vec![*truelat1, *truelat2])
                        .map_err(e)?;
                    crs.put_attribute("longitude_of_central_meridian", *stand_lon)
                        .map_err(e)?;
                    crs.put_attribute("latitude_of_projection_origin", *centre_lat)
                        .map_err(e)?;
                    crs.put_attribute("earth_radius", crate::grid::EARTH_RADIUS)
                        .map_err(e)?;
                }
                Projection::LatLon { .. } => {
                    crs.put_attribute("grid_mapping_name", "latitude_longitude")
                        .map_err(e)?;
                    crs.put_attribute("earth_radius", crate::grid::EARTH_RADIUS)
                        .map_err(e)?;
                }
                Projection::Cartesian => {
                    crs.put_attribute(
                        "long_name",
                        "idealised Cartesian grid (no geographic mapping)",
                    )
                    .map_err(e)?;
                }
            }
        }
        for s in species {
            let long_name = match crate::species::lookup(s) {
                Some(sp) => sp.long_name.to_string(),
                None if s == PM25_TOTAL => {
                    "total PM2.5: sum of the particulate species".to_string()
                }
                None if s == SOA_TOTAL => {
                    "secondary organic aerosol: sum of the SOA product particles".to_string()
                }
                None => s.clone(),
            };
            let mut v = f
                .add_variable::<f32>(s, &["time", "z", "y", "x"])
                .map_err(e)?;
            v.put_attribute("units", "ug m-3").map_err(e)?;
            v.put_attribute("long_name", long_name.as_str())
                .map_err(e)?;
            v.put_attribute("coordinates", "lat lon").map_err(e)?;
            v.put_attribute("grid_mapping", "crs").map_err(e)?;
            v.put_attribute(
                "cell_methods",
                if prov.mode == "mean" {
                    "time: mean"
                } else {
                    "time: point"
                },
            )
            .map_err(e)?;
            if s == PM25_TOTAL {
                v.put_attribute("components", prov.pm25_components.join(" ").as_str())
                    .map_err(e)?;
            }
        }
        f.enddef().map_err(e)?;
        for (name, vals) in coords {
            f.variable_mut(name)
                .expect("defined above")
                .put_values(&vals, ..)
                .map_err(e)?;
        }
        Ok(NetcdfWriter {
            file: Some(f),
            tmp,
            path: path.to_path_buf(),
            nlev,
            species: species.to_vec(),
            records: 0,
        })
    }

    /// Append one record. `fields[s]` is (z, y, x) in ug/m3 for species s.
    pub fn write_record(&mut self, time_hours: f64, fields: &[Vec<f32>]) -> Result<()> {
        let e = |err: netcdf::Error| Error::output(&self.path, err);
        let f = self.file.as_mut().expect("open until finish");
        let t = self.records;
        f.variable_mut("time")
            .unwrap()
            .put_values(&[time_hours], [t..t + 1])
            .map_err(e)?;
        for (name, vals) in self.species.iter().zip(fields) {
            let mut v = f.variable_mut(name).unwrap();
            let d: Vec<usize> = v.dimensions().iter().map(|d| d.len()).collect();
            let (nz, ny, nx) = (self.nlev, d[2], d[3]);
            v.put_values(vals, [t..t + 1, 0..nz, 0..ny, 0..nx])
                .map_err(e)?;
        }
        self.records += 1;
        Ok(())
    }

    /// Close the file and move it into place.
    pub fn finish(mut self) -> Result<PathBuf> {
        let f = self.file.take().expect("finish once");
        f.close().map_err(|err| Error::output(&self.path, err))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|err| Error::output(&self.path, err))?;
        Ok(self.path.clone())
    }
}

impl Drop for NetcdfWriter {
    fn drop(&mut self) {
        // Not finished: the run failed. Remove the partial file.
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Write a text file atomically.
pub fn write_atomic(path: &Path, contents: &str) -> Result<()> {
    let tmp = tmp_path(path);
    std::fs::write(&tmp, contents).map_err(|e| Error::output(path, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::output(path, e)
    })
}
