//! The attribution sink of a tagged run.
//!
//! - `<run>.tags.nc`: surface-layer concentration of every species and of
//!   PM25_TOTAL per tag, (time, tag, y, x), float32, deflated, with the
//!   tags' names, kinds, regions and sectors; the coverage of every region
//!   and group and of every receptor; the cell areas; and the `[grid]` keys,
//!   so `airshed attribute` can rebuild receptors and tables without the
//!   case or the regions file.
//! - `<run>.attribution.csv` / `.json`: receptor x period x species x tag
//!   means and shares (`crate::attribution::report`).
//! - `<run>.source_receptor.csv`: the region x region PM2.5 matrix.
//!
//! Receptor means are taken in f64 from the same interval means that the
//! file stores as float32.

use super::fields::Variables;
use super::netcdf::{NetcdfWriter, Shape, VarSpec};
use super::set::{OutputSet, Staged};
use crate::attribution::report::{Calendar, ReceptorSeries, Series, TagInfo, PM25};
use crate::attribution::tagging::{site_name, Receptor, Tagging};
use crate::config::{Case, OutputMode};
use crate::error::{Error, Result};
use crate::model::UG;
use crate::simulation::{RunSummary, Sink, View};
use crate::state::{State, TagKind};
use crate::time::Schedule;
use ndarray::Array2;
use std::path::{Path, PathBuf};

/// Primary particulate species (emitted as particles); the other particles
/// in PM2.5 are secondary.
pub const PRIMARY_PARTICLES: &[&str] = &["PM25", "BC", "OC"];

/// Tag metadata for the tables.
pub fn tag_infos(state: &State) -> Vec<TagInfo> {
    state
        .tracers
        .tags
        .iter()
        .map(|t| TagInfo {
            name: t.name.clone(),
            kind: match t.kind {
                TagKind::All | TagKind::Emissions => "emissions",
                TagKind::Other => "other",
                TagKind::Boundary => "boundary",
                TagKind::Initial => "initial",
            }
            .to_string(),
            region: t.region.clone().unwrap_or_default(),
            sector: t.sector.clone().unwrap_or_default(),
        })
        .collect()
}

/// Output species (the run's, then PM25_TOTAL) and their PM2.5 roles.
/// The tagged species (indices; all of them in an untagged run) and the
/// output species: their names, then PM25_TOTAL, with their PM2.5 roles.
#[allow(clippy::type_complexity)]
fn species_roles(
    vars: &Variables,
    state: &State,
) -> (Vec<usize>, Vec<String>, Vec<bool>, Vec<bool>) {
    let t = &state.tracers;
    let tagged: Vec<usize> = (0..t.species.len())
        .filter(|&s| t.species_is_tagged(s))
        .collect();
    let mut names: Vec<String> = tagged.iter().map(|&s| vars.names[s].clone()).collect();
    names.push(PM25.to_string());
    let mut in_pm25: Vec<bool> = tagged.iter().map(|s| vars.particles.contains(s)).collect();
    in_pm25.push(false);
    let primary: Vec<bool> = names
        .iter()
        .zip(&in_pm25)
        .map(|(n, &pm)| pm && PRIMARY_PARTICLES.contains(&n.as_str()))
        .collect();
    (tagged, names, in_pm25, primary)
}

pub struct TagFile {
    writer: Option<NetcdfWriter>,
    /// The tables written at the end: attribution CSV and JSON, the
    /// source-receptor matrix (none for a series-only sink).
    tables: Option<[Staged; 3]>,
    mode: OutputMode,
    schedule: Schedule,
    interval_hours: f64,
    written: usize,
    /// Interval mean per output species, tag and surface cell [s][t][j*nx+i].
    acc: Vec<Vec<Vec<f64>>>,
    receptors: Vec<Receptor>,
    /// The tagged species, in output order.
    tagged: Vec<usize>,
    /// Volume of each surface cell, m3, [j * nx + i].
    surface_volume: Vec<f64>,
    /// The receptor series so far.
    pub series: Series,
}

impl TagFile {
    pub fn create(
        case: &Case,
        view: &View,
        tagging: &Tagging,
        set: &mut OutputSet,
    ) -> Result<TagFile> {
        let receptors = tagging.receptors.clone();
        let mut sink = TagFile::series_only(
            case,
            view,
            receptors,
            Calendar::of(&tagging.spec, &case.run),
        );
        let series = &sink.series;
        let nt = series.tags.len();
        let cell_methods = match case.output.mode {
            OutputMode::Mean => "time: mean",
            OutputMode::Instant => "time: point",
        };
        let specs: Vec<VarSpec> = series
            .species
            .iter()
            .zip(&series.in_pm25)
            .zip(&series.primary)
            .map(|((n, &pm), &prim)| VarSpec {
                name: n.clone(),
                long_name: format!(
                    "{} by attribution tag, surface layer",
                    super::fields::long_name(n)
                ),
                units: "ug m-3",
                standard_name: None,
                shape: Shape::Tagged(nt),
                cell_methods,
                extra: vec![(
                    "pm25_role",
                    match (n == PM25, pm, prim) {
                        (true, _, _) => "total",
                        (_, true, true) => "primary",
                        (_, true, false) => "secondary",
                        _ => "none",
                    }
                    .to_string(),
                )],
            })
            .collect();
        let file = set.reserve("tags.nc")?;
        let path = file.path.clone();
        let mut writer = NetcdfWriter::for_run(
            case,
            view,
            &file,
            specs,
            case.output.mode.name(),
            case.output.mode == OutputMode::Mean,
        )?;
        let local: Vec<Vec<bool>> = (0..sink.receptors.len())
            .map(|r| tagging.local_flags(r))
            .collect();
        write_metadata(
            &mut writer,
            &path,
            case,
            tagging,
            &sink.series.tags,
            &sink.receptors,
            &local,
            &view.model.grid.area,
        )?;
        for (series, local) in sink.series.receptors.iter_mut().zip(local) {
            series.local = local;
        }
        sink.writer = Some(writer);
        sink.tables = Some([
            set.reserve("attribution.csv")?,
            set.reserve("attribution.json")?,
            set.reserve("source_receptor.csv")?,
        ]);
        Ok(sink)
    }

    /// The receptor series alone, written nowhere (brute-force runs):
    /// `series` holds them after the run's steps.
    pub fn series_only(
        case: &Case,
        view: &View,
        receptors: Vec<Receptor>,
        calendar: Calendar,
    ) -> TagFile {
        let m = view.model;
        let g = &m.grid;
        let vars = Variables::of(&m.state);
        let (tagged, names, in_pm25, primary) = species_roles(&vars, &m.state);
        let tags = tag_infos(&m.state);
        let nt = tags.len();
        let series = Series {
            species: names.clone(),
            primary,
            in_pm25,
            tags,
            start_epoch: case.run.start.epoch_seconds(),
            intervals: vec![],
            receptors: receptors
                .iter()
                .map(|r| ReceptorSeries {
                    name: r.name.clone(),
                    kind: r.kind.clone(),
                    local: vec![false; nt],
                    values: vec![],
                })
                .collect(),
            calendar,
        };
        TagFile {
            writer: None,
            tables: None,
            mode: case.output.mode,
            schedule: Schedule::every(view.clock.steps_per_period),
            interval_hours: case.output.interval_hours,
            written: 0,
            acc: vec![vec![vec![0.0; g.ny * g.nx]; nt]; names.len()],
            receptors,
            tagged,
            surface_volume: (0..g.ny)
                .flat_map(|j| (0..g.nx).map(move |i| g.volume(0, j, i)))
                .collect(),
            series,
        }
    }

    /// Add `weight` x the surface concentration of every species and tag
    /// (and PM25_TOTAL per tag) to the accumulator.
    fn accumulate(&mut self, view: &View, weight: f64) {
        let state = &view.model.state;
        let t = &state.tracers;
        let pm = self.acc.len() - 1;
        let (species_acc, pm_acc) = self.acc.split_at_mut(pm);
        for ((&s, &in_pm25), acc) in self
            .tagged
            .iter()
            .zip(&self.series.in_pm25)
            .zip(species_acc)
        {
            for (tag, tr) in t.tracers_of(s).enumerate() {
                let surface = state.tracer(tr).index_axis_move(ndarray::Axis(0), 0);
                let cells = surface.iter().zip(&self.surface_volume);
                for (c, (&m, &v)) in cells.enumerate() {
                    let conc = m / v / UG * weight;
                    acc[tag][c] += conc;
                    if in_pm25 {
                        pm_acc[0][tag][c] += conc;
                    }
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn write_metadata(
    writer: &mut NetcdfWriter,
    path: &Path,
    case: &Case,
    tagging: &Tagging,
    tags: &[TagInfo],
    receptors: &[Receptor],
    local: &[Vec<bool>],
    cell_area: &Array2<f64>,
) -> Result<()> {
    let e = |err: netcdf::Error| Error::output(path, err);
    let f = writer.file_mut()?;
    f.add_attribute("grid_toml", case.grid_toml.as_str())
        .map_err(e)?;
    f.add_attribute("episode_threshold_ugm3", tagging.spec.episode_ugm3)
        .map_err(e)?;
    f.add_attribute("utc_offset_hours", tagging.spec.utc_offset_hours)
        .map_err(e)?;
    f.add_attribute("spin_up_hours", case.run.spin_up_hours)
        .map_err(e)?;
    f.add_attribute("start_epoch_seconds", case.run.start.epoch_seconds())
        .map_err(e)?;
    let strings = |f: &mut netcdf::FileMut, name: &str, dim: &str, vals: &[String]| -> Result<()> {
        let mut v = f.add_string_variable(name, &[dim]).map_err(e)?;
        for (n, s) in vals.iter().enumerate() {
            v.put_string(s, n).map_err(e)?;
        }
        Ok(())
    };
    let col = |get: &dyn Fn(&TagInfo) -> String| tags.iter().map(get).collect::<Vec<_>>();
    strings(f, "tag_name", "tag", &col(&|t| t.name.clone()))?;
    strings(f, "tag_kind", "tag", &col(&|t| t.kind.clone()))?;
    strings(f, "tag_region", "tag", &col(&|t| t.region.clone()))?;
    strings(f, "tag_sector", "tag", &col(&|t| t.sector.clone()))?;
    let (ny, nx) = cell_area.dim();
    let planes = |f: &mut netcdf::FileMut,
                  dim: &str,
                  names: Vec<String>,
                  maps: Vec<&Array2<f64>>,
                  what: &str|
     -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        f.add_dimension(dim, names.len()).map_err(e)?;
        strings(f, &format!("{dim}_name"), dim, &names)?;
        let var = format!("{dim}_coverage");
        let mut v = f.add_variable::<f64>(&var, &[dim, "y", "x"]).map_err(e)?;
        v.set_compression(1, true).map_err(e)?;
        v.put_attribute("long_name", what).map_err(e)?;
        v.put_attribute("units", "1").map_err(e)?;
        for (n, m) in maps.iter().enumerate() {
            let vals: Vec<f64> = m.iter().copied().collect();
            v.put_values(&vals, [n..n + 1, 0..ny, 0..nx]).map_err(e)?;
        }
        Ok(())
    };
    planes(
        f,
        "area",
        tagging.areas.iter().map(|a| a.name.clone()).collect(),
        tagging.areas.iter().map(|a| &a.coverage).collect(),
        "fraction of each cell inside the region or group",
    )?;
    planes(
        f,
        "receptor",
        receptors.iter().map(|r| r.name.clone()).collect(),
        receptors.iter().map(|r| &r.coverage).collect(),
        "fraction of each cell inside the receptor (a site: its cell)",
    )?;
    if !tagging.areas.is_empty() {
        // Each area's regions, "|"-separated, so a named receptor's local
        // tags can be found after the run.
        let members: Vec<String> = tagging
            .areas
            .iter()
            .map(|a| {
                a.members
                    .iter()
                    .map(|&m| tagging.areas[m].name.as_str())
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        strings(f, "area_members", "area", &members)?;
    }
    if !receptors.is_empty() {
        strings(
            f,
            "receptor_kind",
            "receptor",
            &receptors.iter().map(|r| r.kind.clone()).collect::<Vec<_>>(),
        )?;
        let mut v = f
            .add_variable::<u8>("receptor_local", &["receptor", "tag"])
            .map_err(e)?;
        v.put_attribute(
            "long_name",
            "1 where the tag counts as local to the receptor",
        )
        .map_err(e)?;
        let flags: Vec<u8> = local.iter().flatten().map(|&l| u8::from(l)).collect();
        v.put_values(&flags, ..).map_err(e)?;
    }
    let mut v = f.add_variable::<f64>("cell_area", &["y", "x"]).map_err(e)?;
    v.put_attribute("units", "m2").map_err(e)?;
    v.put_attribute("long_name", "true area of the grid cell")
        .map_err(e)?;
    v.put_values(&cell_area.iter().copied().collect::<Vec<_>>(), ..)
        .map_err(e)?;
    Ok(())
}

impl Sink for TagFile {
    fn name(&self) -> &'static str {
        "attribution"
    }

    fn after_step(&mut self, view: &View) -> Result<()> {
        if self.mode == OutputMode::Mean {
            self.accumulate(view, 1.0 / self.schedule.every_steps as f64);
        }
        if !self.schedule.due(view.clock) {
            return Ok(());
        }
        if self.mode == OutputMode::Instant {
            self.accumulate(view, 1.0);
        }
        let ((start, end), time, bounds) =
            super::record_time(self.mode, self.written, self.interval_hours);
        for (rec, series) in self.receptors.iter().zip(&mut self.series.receptors) {
            let record: Vec<Vec<f64>> = self
                .acc
                .iter()
                .map(|per_tag| {
                    per_tag
                        .iter()
                        .map(|field| {
                            rec.weights
                                .iter()
                                .map(|&(j, i, w)| w * field[j * view.model.grid.nx + i])
                                .sum()
                        })
                        .collect()
                })
                .collect();
            series.values.push(record);
        }
        self.series.intervals.push((start, end));
        if let Some(w) = self.writer.as_mut() {
            // One variable's float32 copy at a time.
            let acc = &self.acc;
            w.write_record_with(time, bounds, |v, buf| {
                buf.clear();
                buf.extend(acc[v].iter().flatten().map(|&x| x as f32));
            })?;
        }
        self.acc
            .iter_mut()
            .flatten()
            .for_each(|f| f.iter_mut().for_each(|v| *v = 0.0));
        self.written += 1;
        Ok(())
    }

    fn finish(&mut self, _view: &View, summary: &mut RunSummary) -> Result<()> {
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        summary
            .other_files
            .push(writer.finish()?.display().to_string());
        if let Some([csv, json, matrix]) = &self.tables {
            csv.write_text(&self.series.csv())?;
            json.write_text(&self.series.json())?;
            matrix.write_text(&self.series.matrix_csv())?;
            for s in [csv, json, matrix] {
                summary.other_files.push(s.path.display().to_string());
            }
        }
        summary.attribution = self
            .series
            .receptors
            .iter()
            .map(|r| self.series.summary(r))
            .collect();
        Ok(())
    }
}

/// Step `sim` to the end of its run and return the series of `receptors`
/// (written nowhere: brute-force runs, tests).
pub fn run_series(
    mut sim: crate::simulation::Simulation,
    case: &Case,
    receptors: Vec<Receptor>,
    calendar: Calendar,
) -> Result<Series> {
    let mut sink = TagFile::series_only(
        case,
        &View {
            model: &sim.model,
            clock: &sim.clock,
        },
        receptors,
        calendar,
    );
    while !sim.clock.done() {
        sim.step()?;
        sink.after_step(&View {
            model: &sim.model,
            clock: &sim.clock,
        })?;
    }
    Ok(sink.series)
}

/// Receptors asked of a finished run: region or group names from the file,
/// named points (lon, lat), and the features of a GeoJSON file. All empty:
/// the run's own receptors.
#[derive(Debug, Clone, Default)]
pub struct ReceptorRequest {
    pub names: Vec<String>,
    pub points: Vec<(String, f64, f64)>,
    pub polygons: Option<(PathBuf, String)>,
}

impl ReceptorRequest {
    fn is_empty(&self) -> bool {
        self.names.is_empty() && self.points.is_empty() && self.polygons.is_none()
    }
}

/// The series of a finished run's tags file, for `airshed attribute`.
/// Anything missing or inconsistent in the file is an input error naming
/// the variable, never a panic.
pub fn series_from_file(path: &Path, request: &ReceptorRequest) -> Result<Series> {
    let ierr = |field: &str, what: String| Error::input(path, field, what);
    let file = netcdf::open(path)
        .map_err(|e| ierr("(file)", format!("a readable tags NetCDF file ({e})")))?;
    let strings = |name: &str| -> Result<Vec<String>> {
        let v = file.variable(name).ok_or_else(|| {
            ierr(
                name,
                "a string variable written by `airshed run` with attribution".into(),
            )
        })?;
        let n = v.dimensions().first().map_or(0, |d| d.len());
        (0..n)
            .map(|k| v.get_string(k).map_err(|e| ierr(name, e.to_string())))
            .collect()
    };
    let tag_names = strings("tag_name")?;
    let nt = tag_names.len();
    let column = |name: &str| -> Result<Vec<String>> {
        let v = strings(name)?;
        if v.len() == nt {
            Ok(v)
        } else {
            Err(ierr(
                name,
                format!("{nt} values, one per tag, found {}", v.len()),
            ))
        }
    };
    let (kinds, regions, sectors) = (
        column("tag_kind")?,
        column("tag_region")?,
        column("tag_sector")?,
    );
    let tags: Vec<TagInfo> = (0..nt)
        .map(|t| TagInfo {
            name: tag_names[t].clone(),
            kind: kinds[t].clone(),
            region: regions[t].clone(),
            sector: sectors[t].clone(),
        })
        .collect();
    let cell_area = read_plane(&file, path, "cell_area", None, None)?;
    let dim = cell_area.dim();
    let (ny, nx) = dim;
    let plane = |name: &str, index: usize| read_plane(&file, path, name, Some(index), Some(dim));
    let areas = strings("area_name").unwrap_or_default();
    let members: Vec<Vec<String>> = strings("area_members")
        .unwrap_or_default()
        .iter()
        .map(|m| m.split('|').map(str::to_string).collect())
        .collect();
    let area_index = |name: &str| areas.iter().position(|x| x == name);
    // Named areas: local by their regions, as in the run.
    let nested = |a: usize, b: usize| -> bool {
        match (members.get(a), members.get(b)) {
            (Some(ma), Some(mb)) => {
                ma.iter().all(|m| mb.contains(m)) || mb.iter().all(|m| ma.contains(m))
            }
            _ => false,
        }
    };
    let tag_area: Vec<Option<usize>> = tags.iter().map(|t| area_index(&t.region)).collect();
    let mut receptors: Vec<(Receptor, Vec<bool>)> = Vec::new();
    for name in &request.names {
        let a = area_index(name).ok_or_else(|| {
            Error::config(
                path,
                "--receptor",
                format!(
                    "a region or group of the run ({}), got {name:?}",
                    areas.join(", ")
                ),
            )
        })?;
        let local = tag_area
            .iter()
            .map(|t| t.is_some_and(|t| nested(t, a)))
            .collect();
        let cov = plane("area_coverage", a)?;
        receptors.push((Receptor::area(name, "region", cov, &cell_area), local));
    }
    if !request.points.is_empty() || request.polygons.is_some() {
        // Receptors given now: local judged from coverage
        // (`Receptor::overlaps_most`), each tag's region read once.
        let tag_cov: Vec<Option<Array2<f64>>> = (0..nt)
            .map(|t| match (tags[t].kind.as_str(), tag_area[t]) {
                ("emissions", Some(a)) => plane("area_coverage", a).ok(),
                _ => None,
            })
            .collect();
        let by_coverage = |r: &Receptor| -> Vec<bool> {
            tag_cov
                .iter()
                .map(|c| c.as_ref().is_some_and(|c| r.overlaps_most(c, &cell_area)))
                .collect()
        };
        let text: String = file
            .attribute("grid_toml")
            .and_then(|a| a.value().ok())
            .and_then(|v| String::try_from(v).ok())
            .ok_or_else(|| ierr("grid_toml", "the run's [grid] keys".into()))?;
        let grid = crate::grid::Grid::new(&crate::config::GridSpec::from_toml(&text, path)?);
        if (grid.ny, grid.nx) != dim {
            return Err(ierr(
                "grid_toml",
                format!(
                    "a grid of {ny} x {nx} cells like cell_area, found {} x {}",
                    grid.ny, grid.nx
                ),
            ));
        }
        for (name, lon, lat) in &request.points {
            let (i, j) = grid.cell_of(*lon, *lat).ok_or_else(|| {
                Error::config(
                    path,
                    "--point",
                    format!("a point inside the grid, got {name} at ({lon}, {lat})"),
                )
            })?;
            let r = Receptor::site(&site_name(name), (j, i), dim);
            let local = by_coverage(&r);
            receptors.push((r, local));
        }
        if let Some((file, property)) = &request.polygons {
            let map = crate::attribution::regions::RegionMap::load(file, property, &grid)?;
            for (name, cov) in map.names.iter().zip(&map.coverage) {
                let r = Receptor::area(name, "polygon", cov.clone(), &cell_area);
                let local = by_coverage(&r);
                receptors.push((r, local));
            }
        }
    }
    if request.is_empty() {
        // The run's own receptors, with the local flags the run decided.
        let names = strings("receptor_name").unwrap_or_default();
        let kinds = strings("receptor_kind").unwrap_or_default();
        let flags: Vec<u8> = match file.variable("receptor_local") {
            Some(v) if !names.is_empty() => v
                .get_values::<u8, _>(..)
                .map_err(|e| ierr("receptor_local", e.to_string()))?,
            _ => vec![],
        };
        if flags.len() != names.len() * nt || kinds.len() != names.len() {
            return Err(ierr(
                "receptor_local",
                format!(
                    "{} receptors x {nt} tags of flags and one kind per receptor",
                    names.len()
                ),
            ));
        }
        for (n, name) in names.iter().enumerate() {
            let cov = plane("receptor_coverage", n)?;
            let r = if kinds[n] == "site" {
                let ((j, i), _) = cov
                    .indexed_iter()
                    .find(|(_, &v)| v > 0.0)
                    .ok_or_else(|| ierr("receptor_coverage", format!("a cell for site {name}")))?;
                Receptor::site(name, (j, i), dim)
            } else {
                Receptor::area(name, &kinds[n], cov, &cell_area)
            };
            let local = flags[n * nt..(n + 1) * nt]
                .iter()
                .map(|&f| f == 1)
                .collect();
            receptors.push((r, local));
        }
    }
    let species_vars: Vec<String> = file
        .variables()
        .filter(|v| {
            v.dimensions().iter().map(|d| d.name()).collect::<Vec<_>>() == ["time", "tag", "y", "x"]
        })
        .map(|v| v.name())
        .collect();
    if species_vars.last().map(String::as_str) != Some(PM25) {
        return Err(ierr(
            PM25,
            "(time, tag, y, x) variables of the species, PM25_TOTAL last".into(),
        ));
    }
    let role = |name: &str| -> String {
        file.variable(name)
            .and_then(|v| v.attribute_value("pm25_role").and_then(|a| a.ok()))
            .and_then(|a| String::try_from(a).ok())
            .unwrap_or_default()
    };
    let primary: Vec<bool> = species_vars.iter().map(|n| role(n) == "primary").collect();
    let in_pm25: Vec<bool> = species_vars
        .iter()
        .map(|n| matches!(role(n).as_str(), "primary" | "secondary"))
        .collect();
    let time_bnds: Vec<f64> = file
        .variable("time_bnds")
        .and_then(|v| v.get_values::<f64, _>(..).ok())
        .unwrap_or_default();
    let times: Vec<f64> = file
        .variable("time")
        .and_then(|v| v.get_values::<f64, _>(..).ok())
        .ok_or_else(|| ierr("time", "a time coordinate".into()))?;
    if times.is_empty() {
        return Err(ierr(
            "time",
            "at least one record (the run wrote none)".into(),
        ));
    }
    let intervals = record_intervals(&times, &time_bnds);
    let attr_f64 = |name: &str| -> Result<f64> {
        file.attribute(name)
            .and_then(|a| a.value().ok())
            .and_then(|v| f64::try_from(v).ok())
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                ierr(
                    name,
                    "a number (global attribute written by the run)".into(),
                )
            })
    };
    let mut series = Series {
        species: species_vars.clone(),
        primary,
        in_pm25,
        tags: tags.clone(),
        start_epoch: attr_f64("start_epoch_seconds")?,
        intervals,
        receptors: receptors
            .iter()
            .map(|(r, local)| ReceptorSeries {
                name: r.name.clone(),
                kind: r.kind.clone(),
                local: local.clone(),
                values: vec![vec![vec![0.0; nt]; species_vars.len()]; times.len()],
            })
            .collect(),
        calendar: Calendar {
            episode_ugm3: attr_f64("episode_threshold_ugm3")?,
            utc_offset_hours: attr_f64("utc_offset_hours")?,
            // Files written before the key existed have no spin-up.
            spin_up_hours: attr_f64("spin_up_hours").unwrap_or(0.0),
        },
    };
    for (s, name) in species_vars.iter().enumerate() {
        let v = file
            .variable(name)
            .ok_or_else(|| ierr(name, "a variable".into()))?;
        let d: Vec<usize> = v.dimensions().iter().map(|d| d.len()).collect();
        if d[1..] != [nt, ny, nx] {
            return Err(ierr(
                name,
                format!("dimensions (time, {nt}, {ny}, {nx}), found {d:?}"),
            ));
        }
        for r in 0..times.len() {
            let vals: Vec<f32> = v
                .get_values::<f32, _>([r..r + 1, 0..nt, 0..ny, 0..nx])
                .map_err(|e| ierr(name, e.to_string()))?;
            for ((rec, _), out) in receptors.iter().zip(&mut series.receptors) {
                for t in 0..nt {
                    out.values[r][s][t] = rec
                        .weights
                        .iter()
                        .map(|&(j, i, w)| w * f64::from(vals[(t * ny + j) * nx + i]))
                        .sum();
                }
            }
        }
    }
    Ok(series)
}

/// A [y, x] plane of a variable (record `index` of its first dimension),
/// checked against the expected (ny, nx).
fn read_plane(
    file: &netcdf::File,
    path: &Path,
    name: &str,
    index: Option<usize>,
    expect: Option<(usize, usize)>,
) -> Result<Array2<f64>> {
    let v = file.variable(name).ok_or_else(|| {
        Error::input(
            path,
            name,
            "a variable written by `airshed run` with attribution",
        )
    })?;
    let dims: Vec<usize> = v.dimensions().iter().map(|d| d.len()).collect();
    let rank = if index.is_some() { 3 } else { 2 };
    let shape_ok = dims.len() == rank
        && index.is_none_or(|n| n < dims[0])
        && expect.is_none_or(|e| (dims[rank - 2], dims[rank - 1]) == e);
    if !shape_ok {
        return Err(Error::input(
            path,
            name,
            format!("{rank} dimensions matching cell_area, found {dims:?}"),
        ));
    }
    let (ny, nx) = (dims[rank - 2], dims[rank - 1]);
    let vals: Vec<f64> = match index {
        Some(n) => v.get_values::<f64, _>([n..n + 1, 0..ny, 0..nx]),
        None => v.get_values::<f64, _>(..),
    }
    .map_err(|e| Error::input(path, name, e.to_string()))?;
    Array2::from_shape_vec((ny, nx), vals).map_err(|e| Error::input(path, name, e.to_string()))
}
/// `airshed attribute`: the tables of a finished run for the requested
/// receptors, periods ("run", "month", "day", "episode" or "all") and
/// species ("all" or a name); `csv` also gets every row.
pub fn attribute(
    file: &Path,
    request: &ReceptorRequest,
    period: &str,
    species: &str,
    csv: Option<&Path>,
) -> Result<String> {
    let path = tags_file_of(file);
    let series = series_from_file(&path, request)?;
    if !["run", "month", "day", "episode", "all"].contains(&period) {
        return Err(Error::config(
            Path::new("(command line)"),
            "--period",
            format!("run, month, day, episode or all, got {period:?}"),
        ));
    }
    if species != "all" && !series.species.iter().any(|s| s == species) {
        return Err(Error::config(
            Path::new("(command line)"),
            "--species",
            format!(
                "all or one of {}, got {species:?}",
                series.species.join(", ")
            ),
        ));
    }
    if let Some(csv) = csv {
        crate::output::set::write_alone(csv, &series.csv())?;
    }
    let mut out = format!("{}\n", path.display());
    for r in &series.receptors {
        out.push_str(&series.summary(r));
    }
    out.push_str(&format!(
        "{:<14} {:<26} {:<12} {:<34} {:>10} {:>7}\n",
        "receptor", "period", "species", "tag", "ug/m3", "share"
    ));
    for row in series.rows() {
        let keep_period = period == "all"
            || row.period.starts_with(match period {
                "episode" => "episode",
                p => p,
            });
        let keep_species = species == "all" || row.species == species;
        if keep_period && keep_species && row.ugm3 > 0.0 {
            out.push_str(&format!(
                "{:<14} {:<26} {:<12} {:<34} {:>10.3} {:>6.1}%\n",
                row.receptor, row.period, row.species, row.tag, row.ugm3, row.share
            ));
        }
    }
    Ok(out)
}

/// The interval each record of a run file stands for, in its time units:
/// from `time_bnds` when the file has them (means), else the interval
/// ending at each instant, one record spacing long (1 with one record).
pub fn record_intervals(times: &[f64], bounds: &[f64]) -> Vec<(f64, f64)> {
    if bounds.len() == 2 * times.len() {
        bounds.chunks(2).map(|c| (c[0], c[1])).collect()
    } else {
        let step = if times.len() > 1 {
            times[1] - times[0]
        } else {
            1.0
        };
        times.iter().map(|&t| (t - step, t)).collect()
    }
}

/// The tags file of a run: the path itself, or `<run>.tags.nc` beside a
/// `<run>.nc`.
pub fn tags_file_of(file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name.ends_with(".tags.nc") {
        return file.to_path_buf();
    }
    match name.strip_suffix(".nc") {
        Some(stem) => file.with_file_name(format!("{stem}.tags.nc")),
        None => file.to_path_buf(),
    }
}
