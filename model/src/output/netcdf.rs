//! CF-1.8 netCDF-4 files on the model grid: dimensions (time, z, y, x),
//! projection coordinates with a `grid_mapping` variable, 2-D lat/lon
//! auxiliary coordinates, float32 data deflated (level 1, shuffled) in one
//! chunk per record, provenance in the global attributes (with the
//! SYNTHETIC label for made-up met), and `time_bnds` for means. netCDF-4
//! rather than CDF-5: it compresses, and xarray, VERDI and Panoply read it.
//!
//! [`ConcentrationFile`] is the concentration sink: interval means
//! (stamped at the middle of their interval, with bounds, so daily
//! resampling groups whole days) or instants at the interval ends.

use super::fields::{self, add_species_concentrations, Variables};
use super::set::{OutputSet, Staged};
use crate::config::{Case, OutputMode};
use crate::error::{Error, Result};
use crate::grid::{Grid, Projection};
use crate::simulation::{RunSummary, Sink, View};
use crate::time::Schedule;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Deflate level of every data variable. On the default case level 1
/// writes 18.5 MB where level 4 writes 18.1 MB (CDF-5: 34.6 MB) and runs
/// the case 2 % faster; shuffling the float bytes first does most of the work.
const DEFLATE_LEVEL: i32 = 1;

/// Which dimensions a variable has besides time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// (time, z, y, x)
    Volume,
    /// (time, y, x)
    Surface,
    /// (time, tag, y, x): the surface layer per attribution tag; the
    /// number of tags.
    Tagged(usize),
}

/// A data variable of a file.
#[derive(Debug, Clone)]
pub struct VarSpec {
    pub name: String,
    pub long_name: String,
    pub units: &'static str,
    pub standard_name: Option<&'static str>,
    pub shape: Shape,
    /// `cell_methods`, e.g. "time: mean".
    pub cell_methods: &'static str,
    /// Further text attributes.
    pub extra: Vec<(&'static str, String)>,
}

/// Global attributes describing the run.
pub struct Provenance<'a> {
    pub title: &'a str,
    pub start: &'a str,
    pub met: &'a str,
    pub synthetic_met: bool,
    pub case_file: &'a str,
    /// "mean" or "instant".
    pub averaging: &'a str,
}

pub struct NetcdfWriter {
    file: Option<netcdf::FileMut>,
    staged: Staged,
    /// The final path, named in errors.
    path: PathBuf,
    nlev: usize,
    vars: Vec<VarSpec>,
    bounds: bool,
    records: usize,
}

/// While alive, netCDF-4 variables are defined without an HDF5 chunk
/// cache; dropping it restores the library's setting. Every output record
/// is written once, as whole chunks, so a cache would only keep copies of
/// written records: with netCDF's default (up to 16 MiB per variable) it
/// held 5 records of every species of a 200 x 200 x 20 run, 20 B per
/// cell-tracer of resident memory (`scripts/memory.sh`, docs/performance.md).
/// The cache size is a library global: another thread opening a file in
/// between would only read it uncached.
struct NoChunkCache {
    saved: Option<(usize, usize, f32)>,
}

impl NoChunkCache {
    fn begin() -> NoChunkCache {
        let _lock = netcdf_sys::libnetcdf_lock.lock();
        let (mut size, mut nelems, mut preemption) = (0usize, 0usize, 0f32);
        // SAFETY: plain getters/setters of netCDF's global cache parameters,
        // called under the library lock the netcdf crate also takes.
        let saved = unsafe {
            (netcdf_sys::nc_get_chunk_cache(&mut size, &mut nelems, &mut preemption) == 0
                && netcdf_sys::nc_set_chunk_cache(0, 0, 0.0) == 0)
                .then_some((size, nelems, preemption))
        };
        NoChunkCache { saved }
    }
}

impl Drop for NoChunkCache {
    fn drop(&mut self) {
        if let Some((size, nelems, preemption)) = self.saved {
            let _lock = netcdf_sys::libnetcdf_lock.lock();
            // SAFETY: as in `begin`.
            unsafe {
                netcdf_sys::nc_set_chunk_cache(size, nelems, preemption);
            }
        }
    }
}

impl NetcdfWriter {
    /// Create the file (in the staging directory, new: `NC_NOCLOBBER`
    /// never follows a link) with every variable defined; `bounds` adds
    /// `time_bnds` for interval means.
    pub fn create(
        staged: &Staged,
        grid: &Grid,
        nlev: usize,
        vars: Vec<VarSpec>,
        prov: &Provenance,
        bounds: bool,
    ) -> Result<Self> {
        let path = staged.path.as_path();
        let e = |err: netcdf::Error| Error::output(path, err);
        let _no_cache = NoChunkCache::begin();
        let mut f = netcdf::create_with(
            &staged.staged,
            netcdf::Options::NETCDF4 | netcdf::Options::NOCLOBBER,
        )
        .map_err(e)?;
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
        f.add_attribute("averaging", prov.averaging).map_err(e)?;
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
            if bounds {
                t.put_attribute("bounds", "time_bnds").map_err(e)?;
            }
        }
        if bounds {
            f.add_dimension("nv", 2).map_err(e)?;
            f.add_variable::<f64>("time_bnds", &["time", "nv"])
                .map_err(e)?;
        }
        {
            let mut z = f.add_variable::<f64>("z", &["z"]).map_err(e)?;
            z.put_attribute("units", "m").map_err(e)?;
            z.put_attribute("long_name", "layer midpoint height above ground")
                .map_err(e)?;
            z.put_attribute("positive", "up").map_err(e)?;
            z.put_attribute("axis", "Z").map_err(e)?;
        }
        let coords = write_grid(&mut f, grid, nlev, &e)?;
        if let Some(n) = vars.iter().find_map(|v| match v.shape {
            Shape::Tagged(n) => Some(n),
            _ => None,
        }) {
            f.add_dimension("tag", n).map_err(e)?;
        }
        for var in &vars {
            let (dims, chunk): (&[&str], Vec<usize>) = match var.shape {
                Shape::Volume => (&["time", "z", "y", "x"], vec![1, nlev, grid.ny, grid.nx]),
                Shape::Surface => (&["time", "y", "x"], vec![1, grid.ny, grid.nx]),
                Shape::Tagged(n) => (&["time", "tag", "y", "x"], vec![1, n, grid.ny, grid.nx]),
            };
            let mut v = f.add_variable::<f32>(&var.name, dims).map_err(e)?;
            v.set_chunking(&chunk).map_err(e)?;
            v.set_compression(DEFLATE_LEVEL, true).map_err(e)?;
            v.put_attribute("units", var.units).map_err(e)?;
            v.put_attribute("long_name", var.long_name.as_str())
                .map_err(e)?;
            if let Some(std) = var.standard_name {
                v.put_attribute("standard_name", std).map_err(e)?;
            }
            v.put_attribute("coordinates", "lat lon").map_err(e)?;
            v.put_attribute("grid_mapping", "crs").map_err(e)?;
            v.put_attribute("cell_methods", var.cell_methods)
                .map_err(e)?;
            for (k, val) in &var.extra {
                v.put_attribute(k, val.as_str()).map_err(e)?;
            }
        }
        for (name, vals) in coords {
            f.variable_mut(name)
                .ok_or_else(|| Error::output(path, format!("variable {name} not defined")))?
                .put_values(&vals, ..)
                .map_err(e)?;
        }
        Ok(NetcdfWriter {
            file: Some(f),
            staged: staged.clone(),
            path: path.to_path_buf(),
            nlev,
            vars,
            bounds,
            records: 0,
        })
    }

    /// A file of the case's run on its grid, with the run's provenance and
    /// the case's output layers.
    pub fn for_run(
        case: &Case,
        view: &View,
        staged: &Staged,
        vars: Vec<VarSpec>,
        averaging: &str,
        bounds: bool,
    ) -> Result<Self> {
        let m = view.model;
        let met = m.met.description();
        let case_file = case.file.display().to_string();
        NetcdfWriter::create(
            staged,
            &m.grid,
            case.output.layers,
            vars,
            &Provenance {
                title: &case.run.name,
                start: &case.run.start_text,
                met: &met,
                synthetic_met: m.met.synthetic(),
                case_file: &case_file,
                averaging,
            },
            bounds,
        )
    }

    /// Append one record at `time_hours` (with its interval when the file
    /// has bounds). `fields[v]` is variable v, flattened (z, y, x) or (y, x).
    pub fn write_record(
        &mut self,
        time_hours: f64,
        interval: Option<(f64, f64)>,
        fields: &[Vec<f32>],
    ) -> Result<()> {
        if fields.len() != self.vars.len() {
            return Err(Error::output(
                &self.path,
                format!(
                    "{} fields for a record of {} variables",
                    fields.len(),
                    self.vars.len()
                ),
            ));
        }
        self.write_record_with(time_hours, interval, |v, buf| {
            buf.clear();
            buf.extend_from_slice(&fields[v]);
        })
    }

    /// Append one record, one variable at a time: `fill(v, buf)` puts
    /// variable v's values (flattened as for [`Self::write_record`]) into
    /// `buf`, which is reused, so a record never needs more than one
    /// variable's float32 copy in memory.
    pub fn write_record_with(
        &mut self,
        time_hours: f64,
        interval: Option<(f64, f64)>,
        mut fill: impl FnMut(usize, &mut Vec<f32>),
    ) -> Result<()> {
        let path = self.path.clone();
        let e = |err: netcdf::Error| Error::output(&path, err);
        let missing = |name: &str| Error::output(&path, format!("variable {name} not defined"));
        let Some(f) = self.file.as_mut() else {
            return Err(Error::output(
                &path,
                "record written after the file was finished",
            ));
        };
        let t = self.records;
        f.variable_mut("time")
            .ok_or_else(|| missing("time"))?
            .put_values(&[time_hours], t..t + 1)
            .map_err(e)?;
        if let (true, Some((a, b))) = (self.bounds, interval) {
            f.variable_mut("time_bnds")
                .ok_or_else(|| missing("time_bnds"))?
                .put_values(&[a, b], [t..t + 1, 0..2])
                .map_err(e)?;
        }
        let mut vals = Vec::new();
        for (n, var) in self.vars.iter().enumerate() {
            let mut v = f
                .variable_mut(&var.name)
                .ok_or_else(|| missing(&var.name))?;
            let d: Vec<usize> = v.dimensions().iter().map(|d| d.len()).collect();
            let expected = match var.shape {
                Shape::Volume => self.nlev * d[2] * d[3],
                Shape::Surface => d[1] * d[2],
                Shape::Tagged(n) => n * d[2] * d[3],
            };
            fill(n, &mut vals);
            if vals.len() != expected {
                return Err(Error::output(
                    &path,
                    format!(
                        "variable {}: {} values for a record of {expected}",
                        var.name,
                        vals.len()
                    ),
                ));
            }
            match var.shape {
                Shape::Volume => v.put_values(&vals, [t..t + 1, 0..self.nlev, 0..d[2], 0..d[3]]),
                Shape::Surface => v.put_values(&vals, [t..t + 1, 0..d[1], 0..d[2]]),
                Shape::Tagged(n) => v.put_values(&vals, [t..t + 1, 0..n, 0..d[2], 0..d[3]]),
            }
            .map_err(e)?;
        }
        self.records += 1;
        Ok(())
    }

    /// The open file, to add variables beyond the standard ones.
    pub fn file_mut(&mut self) -> Result<&mut netcdf::FileMut> {
        let path = self.path.clone();
        self.file
            .as_mut()
            .ok_or_else(|| Error::output(&path, "the file is already finished"))
    }

    /// Close the file in the staging directory; returns its final path.
    pub fn finish(mut self) -> Result<PathBuf> {
        let f = self
            .file
            .take()
            .ok_or_else(|| Error::output(&self.path, "file finished twice"))?;
        f.close().map_err(|err| Error::output(&self.path, err))?;
        Ok(self.path.clone())
    }
}

impl Drop for NetcdfWriter {
    fn drop(&mut self) {
        // Not finished: the run failed. Remove the partial file.
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.staged.staged);
        }
    }
}

/// Define the grid's coordinate and mapping variables; returns their values
/// to write once the definitions are done.
fn write_grid(
    f: &mut netcdf::FileMut,
    grid: &Grid,
    nlev: usize,
    e: &dyn Fn(netcdf::Error) -> Error,
) -> Result<Vec<(&'static str, Vec<f64>)>> {
    let (xy_units, xname, yname) = match grid.projection {
        Projection::LatLon { .. } => ("degrees", "longitude", "latitude"),
        Projection::Lambert { .. } => ("m", "projection_x_coordinate", "projection_y_coordinate"),
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
    Ok(coords)
}

/// The concentration sink: every species and total in ug/m3 in the lowest
/// layers, one record per output interval.
pub struct ConcentrationFile {
    writer: Option<NetcdfWriter>,
    vars: Variables,
    nlev: usize,
    mode: OutputMode,
    schedule: Schedule,
    interval_hours: f64,
    intervals: u64,
    /// Running mean of the current interval, per species (tags summed),
    /// f64, flattened (z, y, x) over the output layers; zeroed after each
    /// record, never reallocated. The only per-species field the sink holds:
    /// records are written variable by variable from it (totals summed per
    /// cell on the way), so the float32 copy is one variable long.
    acc: Vec<Vec<f64>>,
    /// Run mean of the domain-mean surface concentration, per variable.
    surface: Vec<f64>,
    written: u64,
}

impl ConcentrationFile {
    /// `<dir>/<run name>.nc` for a case, created now (in the set's staging
    /// directory) so a bad output path fails before the run.
    pub fn create(case: &Case, view: &View, set: &mut OutputSet) -> Result<ConcentrationFile> {
        let m = view.model;
        let vars = Variables::of(&m.state);
        let mode = case.output.mode;
        let cell_methods = match mode {
            OutputMode::Mean => "time: mean",
            OutputMode::Instant => "time: point",
        };
        let components = vars.pm25_components().join(" ");
        let specs = vars
            .names
            .iter()
            .map(|n| VarSpec {
                name: n.clone(),
                long_name: fields::long_name(n),
                units: "ug m-3",
                standard_name: fields::standard_name(n),
                shape: Shape::Volume,
                cell_methods,
                extra: if n == fields::PM25_TOTAL {
                    vec![("components", components.clone())]
                } else {
                    vec![]
                },
            })
            .collect();
        let staged = set.reserve("nc")?;
        let mut writer = NetcdfWriter::for_run(
            case,
            view,
            &staged,
            specs,
            mode.name(),
            mode == OutputMode::Mean,
        )?;
        // The `[grid]` keys, so `airshed eval` and `report` can find the
        // cell of a point after the run.
        writer
            .file_mut()?
            .add_attribute("grid_toml", case.grid_toml.as_str())
            .map_err(|e| Error::output(&staged.path, e))?;
        Ok(ConcentrationFile {
            writer: Some(writer),
            surface: vec![0.0; vars.names.len()],
            vars,
            nlev: case.output.layers,
            mode,
            schedule: Schedule::every(view.clock.steps_per_period),
            interval_hours: case.output.interval_hours,
            intervals: case.intervals(),
            acc: Vec::new(),
            written: 0,
        })
    }
}

impl Sink for ConcentrationFile {
    fn name(&self) -> &'static str {
        "concentrations"
    }

    fn after_step(&mut self, view: &View) -> Result<()> {
        let (g, state) = (&view.model.grid, &view.model.state);
        let ns = state.tracers.species.len();
        let len = self.nlev * g.ny * g.nx;
        if self.acc.len() != ns {
            self.acc = vec![vec![0.0; len]; ns];
        }
        if self.mode == OutputMode::Mean {
            let per = self.schedule.every_steps as f64;
            add_species_concentrations(g, state, self.nlev, per, &mut self.acc);
        }
        if !self.schedule.due(view.clock) {
            return Ok(());
        }
        if self.mode == OutputMode::Instant {
            add_species_concentrations(g, state, self.nlev, 1.0, &mut self.acc);
        }
        // Fields stay f64 until they are written (the file stores float32):
        // each variable is rounded once, as it is written.
        let plane = g.nx * g.ny;
        let groups = self.vars.total_groups();
        let (acc, surface, intervals) = (&self.acc, &mut self.surface, self.intervals as f64);
        let (_, time, bounds) =
            super::record_time(self.mode, self.written as usize, self.interval_hours);
        if let Some(w) = self.writer.as_mut() {
            w.write_record_with(time, bounds, |v, buf| {
                buf.clear();
                let mut plane_sum = 0.0;
                if v < ns {
                    buf.extend(acc[v].iter().map(|&x| x as f32));
                    plane_sum = acc[v][..plane].iter().sum::<f64>();
                } else {
                    let group = groups[v - ns];
                    for c in 0..len {
                        let mut total = 0.0;
                        for &s in group {
                            total += acc[s][c];
                        }
                        if c < plane {
                            plane_sum += total;
                        }
                        buf.push(total as f32);
                    }
                }
                surface[v] += plane_sum / plane as f64 / intervals;
            })?;
        }
        for a in &mut self.acc {
            a.fill(0.0);
        }
        self.written += 1;
        Ok(())
    }

    fn finish(&mut self, _view: &View, summary: &mut RunSummary) -> Result<()> {
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        summary.output_file = writer.finish()?.display().to_string();
        summary.surface_mean_ugm3 = self
            .vars
            .names
            .iter()
            .cloned()
            .zip(self.surface.iter().copied())
            .collect();
        summary.pm25_composition_percent = composition(&summary.surface_mean_ugm3, &self.vars);
        Ok(())
    }
}

/// Shares of surface PM2.5, percent; the SOA products are reported together as SOA.
fn composition(surface: &BTreeMap<String, f64>, vars: &Variables) -> BTreeMap<String, f64> {
    let total = surface.get(fields::PM25_TOTAL).copied().unwrap_or(0.0);
    let mut out = BTreeMap::new();
    for c in vars.pm25_components() {
        let key = if crate::processes::soa::is_soa_particle(&c) {
            "SOA".to_string()
        } else {
            c.clone()
        };
        let share = if total > 0.0 {
            100.0 * surface.get(&c).copied().unwrap_or(0.0) / total
        } else {
            0.0
        };
        *out.entry(key).or_insert(0.0) += share;
    }
    out
}
