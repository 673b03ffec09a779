//! `airshed report RUN.nc`: the report of a finished run, for the
//! terminal and as Markdown.
//!
//! - a plain statement at the top when the meteorology is synthetic;
//! - the attribution summary of each receptor (`attribution::report`,
//!   from the run's tags file, as `airshed attribute` prints it);
//! - the surface PM2.5 composition per receptor (the receptor-mean of each
//!   particulate species, all tags summed; the SOA products together);
//! - GB 3095-2012 statistics per receptor over local days: the period mean
//!   (mean of the valid daily means), the 95th percentile of the daily
//!   means by HJ 663-2013 (`stats::percentile_hj663`) and the days above
//!   the grade II 24-h limit of 75 ug/m3; a day counts when it has at least
//!   20 hours (`stats::MIN_DAY_HOURS`);
//! - with observations: the same statistics from the stations (each
//!   station's daily mean from >= 20 valid hours; a city's daily value the
//!   mean of its stations' daily means, as HJ 663-2013 forms a city's value
//!   from its assessment stations), and the evaluation table (`super`).
//!
//! `--from DATE` (local date) leaves out the records before it; without
//! it, the run's own spin-up (`run.spin_up_hours`) is left out.

use super::obs::{self, days_from_civil};
use super::run::{tags_file_of, Run};
use super::stats::{self, daily_stats, DailyStats};
use super::table::Table;
use crate::attribution::report::Series;
use crate::error::{Error, Result};
use crate::output::tags::{series_from_file, ReceptorRequest};
use crate::time::civil_from_days;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What `airshed report` was asked for.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Receptors (regions or groups of the run); empty: the run's own.
    pub receptors: Vec<String>,
    /// CNEMC station files or directories.
    pub obs: Vec<PathBuf>,
    /// First local date reported, YYYY-MM-DD.
    pub from: Option<String>,
}

/// A part of the report.
enum Part {
    Heading(String),
    Lines(Vec<String>),
    /// Preformatted text (a code block in Markdown).
    Pre(String),
    Table(Table),
}

/// The report: its parts, printed for the terminal or as Markdown.
pub struct Report {
    parts: Vec<Part>,
}

impl Report {
    pub fn text(&self) -> String {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Heading(h) => {
                    s.push_str(&format!("== {h} ==\n"));
                }
                Part::Lines(l) => {
                    for x in l {
                        s.push_str(x);
                        s.push('\n');
                    }
                    s.push('\n');
                }
                Part::Pre(t) => {
                    s.push_str(t);
                    if !t.ends_with('\n') {
                        s.push('\n');
                    }
                    s.push('\n');
                }
                Part::Table(t) => s.push_str(&t.text()),
            }
        }
        s
    }

    pub fn markdown(&self) -> String {
        let mut s = String::new();
        for (n, p) in self.parts.iter().enumerate() {
            match p {
                Part::Heading(h) if n == 0 => s.push_str(&format!("# {h}\n\n")),
                Part::Heading(h) => s.push_str(&format!("## {h}\n\n")),
                Part::Lines(l) => {
                    for x in l {
                        s.push_str(x);
                        s.push_str("  \n");
                    }
                    s.push('\n');
                }
                Part::Pre(t) => {
                    s.push_str("```\n");
                    s.push_str(t);
                    if !t.ends_with('\n') {
                        s.push('\n');
                    }
                    s.push_str("```\n\n");
                }
                Part::Table(t) => s.push_str(&t.markdown()),
            }
        }
        s
    }
}

fn date_text(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Local midnight of `YYYY-MM-DD` at `offset_h`, UTC seconds since 1970.
fn parse_local_date(text: &str, offset_h: f64) -> Result<f64> {
    let bad = || {
        Error::config(
            Path::new("(command line)"),
            "--from",
            format!("a local date YYYY-MM-DD, got {text:?}"),
        )
    };
    let parts: Vec<&str> = text.split('-').collect();
    if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() != 2 || parts[2].len() != 2 {
        return Err(bad());
    }
    let y: i64 = parts[0].parse().map_err(|_| bad())?;
    let m: u32 = parts[1].parse().map_err(|_| bad())?;
    let d: u32 = parts[2].parse().map_err(|_| bad())?;
    if !(1..=12).contains(&m) || d == 0 || d > crate::time::days_in_month(y, m) {
        return Err(bad());
    }
    Ok(days_from_civil(y, m, d) as f64 * 86_400.0 - offset_h * 3600.0)
}

/// The series keeping only the records that start at or after `from`
/// (UTC seconds since 1970).
fn series_from(series: &Series, from: f64) -> Series {
    let keep: Vec<usize> = (0..series.intervals.len())
        .filter(|&r| series.start_epoch + series.intervals[r].0 * 3600.0 >= from - 1e-6)
        .collect();
    let mut s = series.clone();
    s.intervals = keep.iter().map(|&r| series.intervals[r]).collect();
    for (out, rec) in s.receptors.iter_mut().zip(&series.receptors) {
        out.values = keep.iter().map(|&r| rec.values[r].clone()).collect();
    }
    s
}

/// Daily means of a receptor's total PM2.5 over local days with at least
/// `MIN_DAY_HOURS` hours: (local day, mean).
pub fn receptor_daily_means(series: &Series, receptor: usize) -> Vec<(i64, f64)> {
    let pm = series.species.len() - 1;
    let offset = series.calendar.utc_offset_hours * 3600.0;
    let mut days: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
    for (r, &(a, b)) in series.intervals.iter().enumerate() {
        let t = series.start_epoch + a * 3600.0 + offset;
        let day = (t / 86_400.0).floor() as i64;
        let total: f64 = series.receptors[receptor].values[r][pm].iter().sum();
        let e = days.entry(day).or_insert((0.0, 0.0));
        e.0 += b - a;
        e.1 += total * (b - a);
    }
    days.into_iter()
        .filter(|(_, (h, _))| *h >= stats::MIN_DAY_HOURS as f64 - 1e-9)
        .map(|(d, (h, s))| (d, s / h))
        .collect()
}

/// Observed daily city values: each station's daily mean from at least
/// `MIN_DAY_HOURS` valid hours, a city's the mean of its stations' that day.
pub fn observed_city_daily(o: &obs::Obs, from: Option<f64>) -> BTreeMap<String, Vec<(i64, f64)>> {
    let mut st: BTreeMap<(usize, i64), (usize, f64)> = BTreeMap::new();
    for h in &o.hours {
        if from.is_some_and(|f| ((h.end_epoch - 3600) as f64) < f) {
            continue;
        }
        let e = st.entry((h.station, h.local_day())).or_insert((0, 0.0));
        e.0 += 1;
        e.1 += h.pm25;
    }
    let mut city: BTreeMap<(String, i64), (usize, f64)> = BTreeMap::new();
    for ((s, day), (n, sum)) in st {
        if n >= stats::MIN_DAY_HOURS {
            let e = city
                .entry((o.stations[s].city.clone(), day))
                .or_insert((0, 0.0));
            e.0 += 1;
            e.1 += sum / n as f64;
        }
    }
    let mut out: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
    for ((c, day), (n, sum)) in city {
        out.entry(c).or_default().push((day, sum / n as f64));
    }
    out
}

fn num(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{v:.digits$}")
    } else {
        "-".to_string()
    }
}

fn gb_row(name: &str, daily: &[(i64, f64)], s: &DailyStats) -> Vec<String> {
    let max = daily
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or("-".to_string(), |(d, v)| {
            format!("{v:.1} ({})", date_text(*d))
        });
    vec![
        name.to_string(),
        s.days.to_string(),
        num(s.mean, 1),
        num(s.p95, 1),
        s.days_over_75.to_string(),
        max,
    ]
}

const GB_HEADER: &[&str] = &[
    "receptor",
    "days",
    "mean",
    "24-h P95",
    "days > 75",
    "highest day",
];
const GB_NOTE: &str = "ug/m3 over local days with >= 20 hours (GB 3095-2012 data validity). mean: the mean of the daily means; 24-h P95: 95th percentile of the daily means, HJ 663-2013 (k = 1 + (n-1) p, linear between ranks); days > 75: above the GB 3095-2012 grade II 24-h limit.";

/// Build the report of the run `file`.
pub fn build(file: &Path, opts: &ReportOptions) -> Result<Report> {
    let run = Run::open(file)?;
    let tags_path = tags_file_of(&run.path);
    let series = if tags_path.is_file() {
        Some(series_from_file(
            &tags_path,
            &ReceptorRequest {
                names: opts.receptors.clone(),
                ..Default::default()
            },
        )?)
    } else {
        None
    };
    let offset_h = series.as_ref().map_or(obs::UTC_OFFSET_HOURS as f64, |s| {
        s.calendar.utc_offset_hours
    });
    // Without --from, the run's own spin-up (`run.spin_up_hours`, kept in
    // its tags file) is left out.
    let spin_up_end = series
        .as_ref()
        .filter(|s| s.calendar.spin_up_hours > 0.0)
        .map(|s| s.start_epoch + s.calendar.spin_up_hours * 3600.0);
    let from = match opts.from.as_deref() {
        Some(t) => Some(parse_local_date(t, offset_h)?),
        None => spin_up_end,
    };
    let series = match (series, from) {
        (Some(s), Some(f)) => Some(series_from(&s, f)),
        (s, _) => s,
    };
    let mut parts = vec![Part::Heading(format!(
        "Report of run {}",
        run.path.file_stem().and_then(|s| s.to_str()).unwrap_or("?")
    ))];
    let mut head = Vec::new();
    if run.synthetic {
        head.push(format!(
            "WARNING: the meteorology of this run is SYNTHETIC ({}): winds, mixing and cloud are made up, \
not observed or modelled weather. The concentrations show what the emissions and the model do under \
invented weather; where they are compared with observations, the scores are NOT a validation.",
            run.meteorology
        ));
    } else {
        head.push(format!("meteorology: {}", run.meteorology));
    }
    head.push(format!("run file: {}", run.path.display()));
    let kept: Vec<&(f64, f64)> = run
        .intervals
        .iter()
        .filter(|(a, _)| from.is_none_or(|f| run.start_epoch + a * 3600.0 >= f - 1e-6))
        .collect();
    if let (Some(first), Some(last)) = (kept.first(), kept.last()) {
        let t = |h: f64| {
            let e = run.start_epoch + h * 3600.0;
            let day = (e / 86_400.0).floor() as i64;
            let hour = (e - day as f64 * 86_400.0) / 3600.0;
            format!("{} {:02.0}:00 UTC", date_text(day), hour)
        };
        head.push(format!(
            "reported period: {} to {} ({} records){}",
            t(first.0),
            t(last.1),
            kept.len(),
            match (&opts.from, spin_up_end) {
                (Some(d), _) => format!(", from local date {d} (earlier records are spin-up)"),
                (None, Some(_)) => format!(
                    ", after the run's {} h of spin-up",
                    series.as_ref().map_or(0.0, |s| s.calendar.spin_up_hours)
                ),
                (None, None) => String::new(),
            }
        ));
    } else {
        return Err(Error::config(
            Path::new("(command line)"),
            "--from",
            format!(
                "a date within the run, which ends before {:?}",
                opts.from.clone().unwrap_or_default()
            ),
        ));
    }
    parts.push(Part::Lines(head));
    match &series {
        Some(s) => {
            parts.push(Part::Heading("Attribution of surface PM2.5".into()));
            parts.push(Part::Table(attribution_table(s)));
            let text: String = s.receptors.iter().map(|r| s.summary(r)).collect();
            parts.push(Part::Pre(text));
            parts.push(Part::Lines(vec![format!(
                "From {}; `airshed attribute {} --period day` gives the tables per day and tag.",
                tags_path.display(),
                run.path.display()
            )]));
            parts.push(Part::Heading("Surface PM2.5 composition".into()));
            parts.push(Part::Table(composition(s)));
            parts.push(Part::Heading("GB 3095-2012 statistics (model)".into()));
            let mut t = Table::new("Model surface PM2.5, receptor means", GB_HEADER);
            for (n, r) in s.receptors.iter().enumerate() {
                let daily = receptor_daily_means(s, n);
                let v: Vec<f64> = daily.iter().map(|d| d.1).collect();
                t.row(gb_row(&r.name, &daily, &daily_stats(&v)));
            }
            t.note(GB_NOTE);
            t.note(&format!(
                "Local days at UTC{:+} (the run's attribution.utc_offset_hours; 8 is Beijing time, the days of GB 3095-2012).",
                s.calendar.utc_offset_hours
            ));
            parts.push(Part::Table(t));
        }
        None => parts.push(Part::Lines(vec![format!(
            "No tags file ({}): the run was not tagged, so there are no receptors, attribution, \
composition or GB 3095-2012 tables.",
            tags_path.display()
        )])),
    }
    if !opts.obs.is_empty() {
        let o = obs::read(&opts.obs)?;
        parts.push(Part::Heading("GB 3095-2012 statistics (observed)".into()));
        let mut t = Table::new(
            "Observed PM2.5, CNEMC national stations (city value: mean of its stations)",
            GB_HEADER,
        );
        for (city, daily) in observed_city_daily(&o, from) {
            let v: Vec<f64> = daily.iter().map(|d| d.1).collect();
            t.row(gb_row(&city, &daily, &daily_stats(&v)));
        }
        t.note(GB_NOTE);
        t.note("Local days in Beijing time (UTC+8), the network's clock; an hour's value is the mean of the hour ending at its time stamp.");
        t.note("Only the days the observation files cover; a short sample is not an assessment period.");
        parts.push(Part::Table(t));
        let e = super::evaluate(&run, &o, from)?;
        parts.push(Part::Heading("Evaluation against the stations".into()));
        parts.push(Part::Lines(e.header()));
        parts.push(Part::Table(e.table()));
    }
    Ok(Report { parts })
}

/// One row per receptor: the period-mean PM2.5 and its local, regional
/// and background shares (as `Series::summary` splits them), the largest
/// local sector and the primary / secondary split.
fn attribution_table(s: &Series) -> Table {
    let pm = s.species.len() - 1;
    let mut t = Table::new(
        "Who is responsible for surface PM2.5 (mean of the reported period)",
        &[
            "receptor",
            "PM2.5 ug/m3",
            "local %",
            "regional %",
            "background %",
            "largest local sector",
            "primary %",
            "secondary %",
        ],
    );
    let n = s.intervals.len().max(1) as f64;
    for rec in &s.receptors {
        let mut per_tag = vec![0.0; s.tags.len()];
        let (mut primary, mut secondary) = (0.0, 0.0);
        for values in &rec.values {
            for (t, v) in values[pm].iter().enumerate() {
                per_tag[t] += v / n;
            }
            for (k, per_tag) in values.iter().enumerate().take(pm) {
                let v: f64 = per_tag.iter().sum::<f64>() / n;
                if s.primary[k] {
                    primary += v;
                } else if s.in_pm25[k] {
                    secondary += v;
                }
            }
        }
        let total: f64 = per_tag.iter().sum();
        let sum = |f: &dyn Fn(usize) -> bool| -> f64 {
            (0..s.tags.len())
                .filter(|&t| f(t))
                .map(|t| per_tag[t])
                .sum()
        };
        let local = sum(&|t| s.tags[t].kind == "emissions" && rec.local[t]);
        let background = sum(&|t| matches!(s.tags[t].kind.as_str(), "boundary" | "initial"));
        let regional = total - local - background;
        let mut sectors: BTreeMap<&str, f64> = BTreeMap::new();
        for (t, tag) in s.tags.iter().enumerate() {
            if tag.kind == "emissions" && rec.local[t] && !tag.sector.is_empty() {
                *sectors.entry(tag.sector.as_str()).or_insert(0.0) += per_tag[t];
            }
        }
        let top = sectors
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .filter(|(_, &v)| local > 0.0 && v > 0.0)
            .map_or("-".to_string(), |(k, v)| {
                format!("{k} ({:.0} % of local)", 100.0 * v / local)
            });
        let pct = |v: f64| {
            if total > 0.0 {
                // Round-off can leave -0.0.
                format!("{:.1}", (100.0 * v / total) + 0.0)
            } else {
                "-".to_string()
            }
        };
        t.row(vec![
            if rec.kind == "site" {
                rec.name.clone()
            } else {
                format!("{} ({})", rec.name, rec.kind)
            },
            format!("{total:.1}"),
            pct(local),
            pct(regional),
            pct(background),
            top,
            pct(primary),
            pct(secondary),
        ]);
    }
    t.note("local: the receptor's own emission tags; background: inflow and initial values; regional: the rest (other regions and untagged emissions). docs/attribution.md.");
    t
}

/// Composition: per receptor, the mean of each particulate species (SOA
/// products summed as SOA) and its share of the total.
fn composition(s: &Series) -> Table {
    let pm = s.species.len() - 1;
    let mut columns: Vec<String> = Vec::new();
    let mut column_of: Vec<Option<usize>> = Vec::new();
    for (k, name) in s.species.iter().enumerate() {
        if k == pm || !s.in_pm25[k] {
            column_of.push(None);
            continue;
        }
        let label = if crate::processes::soa::is_soa_particle(name) {
            "SOA".to_string()
        } else {
            name.clone()
        };
        let c = match columns.iter().position(|x| *x == label) {
            Some(c) => c,
            None => {
                columns.push(label);
                columns.len() - 1
            }
        };
        column_of.push(Some(c));
    }
    let mut header: Vec<&str> = vec!["receptor", "PM2.5"];
    header.extend(columns.iter().map(String::as_str));
    header.push("secondary");
    let mut t = Table::new(
        "Surface PM2.5 and its components, ug/m3 (share of PM2.5), mean of the reported period",
        &header,
    );
    let n = s.intervals.len().max(1) as f64;
    for rec in &s.receptors {
        let mut sums = vec![0.0; columns.len()];
        let mut total = 0.0;
        let mut secondary = 0.0;
        for values in &rec.values {
            total += values[pm].iter().sum::<f64>() / n;
            for (k, c) in column_of.iter().enumerate() {
                if let Some(c) = c {
                    let v = values[k].iter().sum::<f64>() / n;
                    sums[*c] += v;
                    if !s.primary[k] {
                        secondary += v;
                    }
                }
            }
        }
        let cell = |v: f64| {
            if total > 0.0 {
                format!("{v:.1} ({:.0} %)", 100.0 * v / total)
            } else {
                format!("{v:.1}")
            }
        };
        let mut row = vec![rec.name.clone(), format!("{total:.1}")];
        row.extend(sums.iter().map(|&v| cell(v)));
        row.push(cell(secondary));
        t.row(row);
    }
    t.note("Primary: PM25 (other primary), BC, OC as emitted; secondary: SO4, NO3, NH4 and SOA formed in the model. All tags summed.");
    t
}

/// `airshed report`: the text, and the Markdown file when asked.
pub fn report_command(
    file: &Path,
    opts: &ReportOptions,
    markdown: Option<&Path>,
) -> Result<String> {
    let r = build(file, opts)?;
    if let Some(md) = markdown {
        crate::output::set::write_alone(md, &r.markdown())?;
    }
    let mut text = r.text();
    if let Some(md) = markdown {
        text.push_str(&format!("written: {}\n", md.display()));
    }
    Ok(text)
}
