//! The meteorology sink (`output.met_fields = true`): the met the run used,
//! at the end of every output interval, in `<run>.met.nc`, so a user can
//! see the winds the diagnostic model made over the terrain, the mixing
//! height and the diffusivity. Winds are earth-relative at cell centres
//! (the mean of the two faces, rotated with the projection).

use super::netcdf::{NetcdfWriter, Shape, VarSpec};
use super::set::OutputSet;
use crate::config::Case;
use crate::error::Result;
use crate::met::stats::earth_relative;
use crate::met::MetFields;
use crate::simulation::{RunSummary, Sink, View};
use crate::time::Schedule;

pub struct MetFile {
    writer: Option<NetcdfWriter>,
    nlev: usize,
    schedule: Schedule,
    interval_hours: f64,
    written: u64,
}

fn var(
    name: &str,
    long_name: &str,
    units: &'static str,
    standard_name: Option<&'static str>,
    shape: Shape,
) -> VarSpec {
    VarSpec {
        name: name.to_string(),
        long_name: long_name.to_string(),
        units,
        standard_name,
        shape,
        cell_methods: "time: point",
        extra: vec![],
    }
}

impl MetFile {
    pub fn create(case: &Case, view: &View, set: &mut OutputSet) -> Result<MetFile> {
        let vars = vec![
            var(
                "eastward_wind",
                "eastward wind at the cell centre",
                "m s-1",
                Some("eastward_wind"),
                Shape::Volume,
            ),
            var(
                "northward_wind",
                "northward wind at the cell centre",
                "m s-1",
                Some("northward_wind"),
                Shape::Volume,
            ),
            var(
                "air_temperature",
                "air temperature",
                "K",
                Some("air_temperature"),
                Shape::Volume,
            ),
            var(
                "air_pressure",
                "air pressure",
                "Pa",
                Some("air_pressure"),
                Shape::Volume,
            ),
            var(
                "relative_humidity",
                "relative humidity",
                "1",
                Some("relative_humidity"),
                Shape::Volume,
            ),
            var(
                "kz",
                "vertical eddy diffusivity at the top of the layer",
                "m2 s-1",
                None,
                Shape::Volume,
            ),
            var(
                "pblh",
                "mixing height",
                "m",
                Some("atmosphere_boundary_layer_thickness"),
                Shape::Surface,
            ),
            var("ustar", "friction velocity", "m s-1", None, Shape::Surface),
            var(
                "precip",
                "precipitation rate",
                "mm h-1",
                None,
                Shape::Surface,
            ),
        ];
        let writer =
            NetcdfWriter::for_run(case, view, &set.reserve("met.nc")?, vars, "instant", false)?;
        Ok(MetFile {
            writer: Some(writer),
            nlev: case.output.layers,
            schedule: Schedule::every(view.clock.steps_per_period),
            interval_hours: case.output.interval_hours,
            written: 0,
        })
    }
}

/// The fields written for one instant, in the order of the variables.
fn fields(view: &View, nlev: usize) -> Vec<Vec<f32>> {
    let g = &view.model.grid;
    let m: &MetFields = &view.model.met_now;
    let (ny, nx) = (g.ny, g.nx);
    let mut east = Vec::with_capacity(nlev * ny * nx);
    let mut north = Vec::with_capacity(nlev * ny * nx);
    for k in 0..nlev {
        for j in 0..ny {
            for i in 0..nx {
                let (u, v) = m.centre_wind(k, j, i);
                let (e, n) = earth_relative(g, g.lon[[j, i]], u, v);
                east.push(e as f32);
                north.push(n as f32);
            }
        }
    }
    let layers = |a: &ndarray::Array3<f64>| -> Vec<f32> {
        a.slice(ndarray::s![..nlev, .., ..])
            .iter()
            .map(|&v| v as f32)
            .collect()
    };
    let plane = |a: &ndarray::Array2<f64>| -> Vec<f32> { a.iter().map(|&v| v as f32).collect() };
    vec![
        east,
        north,
        layers(&m.temperature),
        layers(&m.pressure),
        layers(&m.rh),
        layers(&m.kz),
        plane(&m.pblh),
        plane(&m.ustar),
        plane(&m.precip),
    ]
}

impl Sink for MetFile {
    fn name(&self) -> &'static str {
        "meteorology"
    }

    fn after_step(&mut self, view: &View) -> Result<()> {
        if !self.schedule.due(view.clock) {
            return Ok(());
        }
        self.written += 1;
        let time = self.written as f64 * self.interval_hours;
        let f = fields(view, self.nlev);
        match self.writer.as_mut() {
            Some(w) => w.write_record(time, None, &f),
            None => Ok(()),
        }
    }

    fn finish(&mut self, _view: &View, summary: &mut RunSummary) -> Result<()> {
        let Some(w) = self.writer.take() else {
            return Ok(());
        };
        summary.other_files.push(w.finish()?.display().to_string());
        Ok(())
    }
}
