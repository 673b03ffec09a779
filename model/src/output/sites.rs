//! The site sink: concentrations at the case's sites, one CSV row per site
//! and output interval (interval means or instants, like the NetCDF file),
//! and the meteorological statistics at the sites for the summary
//! (`met::stats`, sampled once per interval in the lowest layer).
//!
//! `<run>.sites.csv`: `time_start,time_end,site,lon,lat,<variable>...` with
//! times in hours since the run start and concentrations in ug/m3 in the
//! lowest layer of the site's cell.

use super::fields::{cell_concentrations, Variables};
use super::set::{OutputSet, Staged};
use crate::config::{Case, OutputMode};
use crate::error::{Error, Result};
use crate::met::stats::SiteSampler;
use crate::simulation::{RunSummary, Sink, View};
use crate::time::Schedule;
use std::fmt::Write as _;

struct Site {
    name: String,
    lon: f64,
    lat: f64,
    cell: (usize, usize),
    sampler: SiteSampler,
    /// Running interval mean per species.
    acc: Vec<f64>,
}

pub struct SiteSeries {
    file: Staged,
    sites: Vec<Site>,
    vars: Variables,
    mode: OutputMode,
    schedule: Schedule,
    interval_hours: f64,
    csv: String,
    written: u64,
}

impl SiteSeries {
    /// The sites of a case on the model grid; a site outside it is a case error.
    pub fn new(case: &Case, view: &View, set: &mut OutputSet) -> Result<SiteSeries> {
        let g = &view.model.grid;
        let vars = Variables::of(&view.model.state);
        let nspecies = view.model.state.tracers.species.len();
        let mut sites = Vec::with_capacity(case.sites.len());
        for (n, site) in case.sites.iter().enumerate() {
            let (i, j) = g.cell_of(site.lon, site.lat).ok_or_else(|| {
                Error::config(
                    &case.file,
                    format!("sites[{n}] ({})", site.name),
                    format!(
                        "a site inside the grid; ({}, {}) is outside it",
                        site.lon, site.lat
                    ),
                )
            })?;
            sites.push(Site {
                name: site.name.clone(),
                lon: site.lon,
                lat: site.lat,
                cell: (i, j),
                sampler: SiteSampler::new(&site.name, site.lon, site.lat, (i, j)),
                acc: vec![0.0; nspecies],
            });
        }
        let mut csv = String::from("time_start,time_end,site,lon,lat");
        for n in &vars.names {
            csv.push(',');
            csv.push_str(n);
        }
        csv.push('\n');
        Ok(SiteSeries {
            file: set.reserve("sites.csv")?,
            sites,
            vars,
            mode: case.output.mode,
            schedule: Schedule::every(view.clock.steps_per_period),
            interval_hours: case.output.interval_hours,
            csv,
            written: 0,
        })
    }
}

impl Sink for SiteSeries {
    fn name(&self) -> &'static str {
        "sites"
    }

    fn after_step(&mut self, view: &View) -> Result<()> {
        let (g, state) = (&view.model.grid, &view.model.state);
        let per = self.schedule.every_steps as f64;
        let due = self.schedule.due(view.clock);
        let ((start, end), _, _) =
            super::record_time(self.mode, self.written as usize, self.interval_hours);
        for site in self.sites.iter_mut() {
            let (i, j) = site.cell;
            let values = match self.mode {
                OutputMode::Mean => {
                    let c = cell_concentrations(g, state, (0, j, i));
                    site.acc.iter_mut().zip(&c).for_each(|(a, c)| *a += c / per);
                    if !due {
                        continue;
                    }
                    std::mem::replace(&mut site.acc, vec![0.0; c.len()])
                }
                OutputMode::Instant if due => cell_concentrations(g, state, (0, j, i)),
                OutputMode::Instant => continue,
            };
            site.sampler.sample(g, &view.model.met_now);
            let mut fields = values.into_iter().map(|v| vec![v]).collect();
            self.vars.add_totals(&mut fields);
            let _ = write!(
                self.csv,
                "{},{},{},{},{}",
                start, end, site.name, site.lon, site.lat
            );
            for f in fields {
                let _ = write!(self.csv, ",{:.6e}", f[0]);
            }
            self.csv.push('\n');
        }
        if due {
            self.written += 1;
        }
        Ok(())
    }

    fn finish(&mut self, _view: &View, summary: &mut RunSummary) -> Result<()> {
        summary.sites = self.sites.iter().map(|s| s.sampler.finish()).collect();
        self.file.write_text(&self.csv)?;
        summary
            .other_files
            .push(self.file.path.display().to_string());
        Ok(())
    }
}
