//! Evaluation of a finished run against monitoring stations
//! (`airshed eval`), and the report of a finished run (`airshed report`).
//!
//! - `obs`: the national network's (CNEMC) hourly station files.
//! - `stats`: MB, NMB, NME, RMSE, r, FAC2 and the HJ 663-2013 percentile,
//!   each defined with its source.
//! - `run`: the run's surface total PM2.5 at given cells, its times and grid.
//! - `table`: the tables, printed for the terminal and as Markdown.
//! - `report`: `airshed report`.
//!
//! Pairing: every station is matched to the model cell that contains it
//! (`Grid::cell_of` on the run's own grid); a station outside the grid is
//! counted and listed, not an error. An observed hour (the hour ending at
//! its local time stamp, `obs::HOUR_ENDING`) is paired with the model
//! record whose averaging interval is that same UTC hour; hours the run
//! does not cover are left out. Daily pairs are the means over the paired
//! hours of a station's local day (Beijing time), kept when at least
//! [`stats::MIN_DAY_HOURS`] hours are paired. Statistics per city pool the
//! pairs of its stations; "all" pools every station inside the grid.

pub mod obs;
pub mod report;
pub mod run;
pub mod stats;
pub mod table;

use crate::error::Result;
use obs::Obs;
use run::Run;
use stats::Scores;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use table::Table;

/// The statistics of one city, group or all stations.
#[derive(Debug, Clone)]
pub struct GroupScores {
    pub group: String,
    /// Stations inside the grid that have at least one paired hour.
    pub stations: usize,
    pub hourly: Scores,
    pub daily: Scores,
}

/// One paired hour at a station.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    pub station: usize,
    /// End of the hour, UTC seconds since 1970.
    pub end_epoch: i64,
    pub obs: f64,
    pub model: f64,
}

/// The evaluation of a run against the stations.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub run: PathBuf,
    pub files: Vec<PathBuf>,
    pub synthetic: bool,
    pub meteorology: String,
    /// Every station of the files and its cell (None: outside the grid).
    pub stations: Vec<(obs::Station, Option<(usize, usize)>)>,
    pub pairs: Vec<Pair>,
    /// Observed valid hours and those the run covers.
    pub obs_hours: usize,
    pub groups: Vec<GroupScores>,
}

/// The groups of the table, in order: the cities of [`obs::CITY_NAMES`]
/// present, then other city names (sorted), then [`obs::CITY_GROUPS`] with a
/// member present, then "all".
fn group_names(cities: &[String]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (_, en) in obs::CITY_NAMES {
        if cities.iter().any(|c| c == en) {
            out.push((en.to_string(), vec![en.to_string()]));
        }
    }
    let mut others: Vec<&String> = cities
        .iter()
        .filter(|c| !obs::CITY_NAMES.iter().any(|(_, en)| en == c))
        .collect();
    others.sort();
    others.dedup();
    for c in others {
        out.push((c.clone(), vec![c.clone()]));
    }
    for (g, members) in obs::CITY_GROUPS {
        if members.iter().any(|m| cities.iter().any(|c| c == m)) {
            out.push((
                g.to_string(),
                members.iter().map(|m| m.to_string()).collect(),
            ));
        }
    }
    out.push(("all".to_string(), cities.to_vec()));
    out
}

/// Daily pairs of some hourly pairs: per station and local day, the means
/// over the paired hours, when at least [`stats::MIN_DAY_HOURS`] are paired.
pub fn daily_pairs(pairs: &[Pair]) -> Vec<(f64, f64)> {
    let mut days: BTreeMap<(usize, i64), (usize, f64, f64)> = BTreeMap::new();
    for p in pairs {
        let day = obs::Hourly {
            station: p.station,
            end_epoch: p.end_epoch,
            pm25: p.obs,
        }
        .local_day();
        let e = days.entry((p.station, day)).or_insert((0, 0.0, 0.0));
        e.0 += 1;
        e.1 += p.obs;
        e.2 += p.model;
    }
    days.values()
        .filter(|(n, _, _)| *n >= stats::MIN_DAY_HOURS)
        .map(|&(n, o, m)| (o / n as f64, m / n as f64))
        .collect()
}

/// Pair the stations of `obs` with the run; `from_epoch` (UTC seconds)
/// drops the hours starting before it.
pub fn evaluate(run: &Run, obs: &Obs, from_epoch: Option<f64>) -> Result<Evaluation> {
    let cells: Vec<Option<(usize, usize)>> = obs
        .stations
        .iter()
        .map(|s| run.grid.cell_of(s.lon, s.lat).map(|(i, j)| (j, i)))
        .collect();
    // The distinct cells, read once.
    let mut wanted: Vec<(usize, usize)> = cells.iter().flatten().copied().collect();
    wanted.sort_unstable();
    wanted.dedup();
    let series = run.cell_series(&wanted)?;
    let by_end = run.records_by_hour_end();
    let mut pairs = Vec::new();
    for h in &obs.hours {
        let Some((j, i)) = cells[h.station] else {
            continue;
        };
        if from_epoch.is_some_and(|f| ((h.end_epoch - 3600) as f64) < f) {
            continue;
        }
        let Some(&r) = by_end.get(&h.end_epoch) else {
            continue;
        };
        let c = wanted.binary_search(&(j, i)).unwrap_or(0);
        pairs.push(Pair {
            station: h.station,
            end_epoch: h.end_epoch,
            obs: h.pm25,
            model: series[c][r],
        });
    }
    let cities: Vec<String> = {
        let mut c: Vec<String> = obs.stations.iter().map(|s| s.city.clone()).collect();
        c.sort();
        c.dedup();
        c
    };
    let groups = group_names(&cities)
        .into_iter()
        .map(|(group, members)| {
            let mine: Vec<Pair> = pairs
                .iter()
                .filter(|p| members.contains(&obs.stations[p.station].city))
                .copied()
                .collect();
            let mut st: Vec<usize> = mine.iter().map(|p| p.station).collect();
            st.sort_unstable();
            st.dedup();
            let hourly: Vec<(f64, f64)> = mine.iter().map(|p| (p.obs, p.model)).collect();
            GroupScores {
                group,
                stations: st.len(),
                hourly: stats::scores(&hourly),
                daily: stats::scores(&daily_pairs(&mine)),
            }
        })
        .collect();
    Ok(Evaluation {
        run: run.path.clone(),
        files: obs.files.clone(),
        synthetic: run.synthetic,
        meteorology: run.meteorology.clone(),
        stations: obs.stations.iter().cloned().zip(cells).collect(),
        pairs,
        obs_hours: obs.hours.len(),
        groups,
    })
}

/// The plain warning printed whenever the run's meteorology is synthetic.
pub const SYNTHETIC_WARNING: &str =
    "The meteorology of this run is SYNTHETIC (made up, not observed or \
modelled weather): these scores compare the observations with a model driven by invented winds and \
mixing, so they are NOT a validation of the model.";

fn num(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{v:.digits$}")
    } else {
        "-".to_string()
    }
}

impl Evaluation {
    /// Stations outside the grid.
    pub fn outside(&self) -> Vec<&obs::Station> {
        self.stations
            .iter()
            .filter(|(_, c)| c.is_none())
            .map(|(s, _)| s)
            .collect()
    }

    /// The table of scores: one row per group and resolution.
    pub fn table(&self) -> Table {
        let mut t = Table::new(
            "PM2.5: model (surface layer, the station's cell) against the stations",
            &[
                "group", "avg", "stations", "N", "obs", "model", "MB", "NMB %", "NME %", "RMSE",
                "r", "FAC2",
            ],
        );
        for g in &self.groups {
            for (label, s) in [("hour", &g.hourly), ("day", &g.daily)] {
                t.row(vec![
                    g.group.clone(),
                    label.to_string(),
                    g.stations.to_string(),
                    s.n.to_string(),
                    num(s.obs_mean, 1),
                    num(s.model_mean, 1),
                    num(s.mb, 1),
                    num(100.0 * s.nmb, 1),
                    num(100.0 * s.nme, 1),
                    num(s.rmse, 1),
                    num(s.r, 2),
                    num(s.fac2, 2),
                ]);
            }
        }
        t.note("obs, model, MB, RMSE in ug/m3. Definitions: MB, NMB, NME, RMSE, r after Emery et al. 2017 (JAWMA 67:582, Table 1); FAC2 = fraction of pairs with 0.5 <= model/obs <= 2 (Chang and Hanna 2004). Hourly pairs: station-hours; daily pairs: station local days (UTC+8) with >= 20 paired hours (GB 3095-2012 data validity).");
        t
    }

    /// The lines before the table: files, stations, hours, warnings.
    pub fn header(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.synthetic {
            out.push(format!("WARNING: {SYNTHETIC_WARNING}"));
        }
        out.push(format!(
            "run: {} (meteorology: {})",
            self.run.display(),
            self.meteorology
        ));
        for f in &self.files {
            out.push(format!("observations: {}", f.display()));
        }
        let inside = self.stations.len() - self.outside().len();
        out.push(format!(
            "{} stations, {} inside the grid; {} valid station-hours, {} of them in the run",
            self.stations.len(),
            inside,
            self.obs_hours,
            self.pairs.len()
        ));
        if self.pairs.is_empty() {
            out.push(
                "no observed hour falls on an hourly record of the run: check the dates (the run's UTC, the files' Beijing time)"
                    .to_string(),
            );
        }
        let outside = self.outside();
        if !outside.is_empty() {
            let names: Vec<String> = outside
                .iter()
                .map(|s| format!("{} {} ({})", s.code, s.name, s.city))
                .collect();
            out.push(format!(
                "{} stations outside the grid, left out: {}",
                outside.len(),
                names.join(", ")
            ));
        }
        out
    }

    /// Everything as text for the terminal.
    pub fn text(&self) -> String {
        let mut s = self.header().join("\n");
        s.push_str("\n\n");
        s.push_str(&self.table().text());
        s
    }

    /// The table as CSV (full precision).
    pub fn csv(&self) -> String {
        let mut s = String::from(
            "group,average,stations,n,obs_mean_ugm3,model_mean_ugm3,mb_ugm3,nmb,nme,rmse_ugm3,r,fac2,synthetic_meteorology\n",
        );
        let f = |v: f64| {
            if v.is_finite() {
                format!("{v:.6}")
            } else {
                String::new()
            }
        };
        for g in &self.groups {
            for (label, x) in [("hour", &g.hourly), ("day", &g.daily)] {
                s.push_str(&format!(
                    "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                    g.group,
                    label,
                    g.stations,
                    x.n,
                    f(x.obs_mean),
                    f(x.model_mean),
                    f(x.mb),
                    f(x.nmb),
                    f(x.nme),
                    f(x.rmse),
                    f(x.r),
                    f(x.fac2),
                    if self.synthetic { "yes" } else { "no" }
                ));
            }
        }
        s
    }
}

/// `airshed eval`: read the run and the station files, print the table and
/// write the CSV when asked.
pub fn eval_command(run: &Path, obs_paths: &[PathBuf], csv: Option<&Path>) -> Result<String> {
    let run = Run::open(run)?;
    let obs = obs::read(obs_paths)?;
    let e = evaluate(&run, &obs, None)?;
    if let Some(csv) = csv {
        crate::output::set::write_alone(csv, &e.csv())?;
    }
    let mut text = e.text();
    if let Some(csv) = csv {
        text.push_str(&format!("written: {}\n", csv.display()));
    }
    Ok(text)
}
