//! Attribution tables from receptor series: per receptor, period, species
//! and tag, the mean concentration and its share of the total; the
//! source-receptor matrix; and the terminal summary (local / regional /
//! background, local sectors, primary / secondary). The same code serves a
//! run's own report and `airshed attribute` on a finished run's file.
//!
//! Periods: the whole run, each calendar month and each day (local dates of
//! the output intervals' starts, at `utc_offset_hours`), and the receptor's
//! episode days: days
//! whose mean total PM2.5 exceeds the threshold (75 ug/m3 by default, the
//! GB 3095-2012 24-h grade II limit).

use crate::time::civil_from_days;
use serde::Serialize;
use std::fmt::Write as _;

/// Hours of a day needed for its daily mean to count (GB 3095-2012: at
/// least 20 hourly values a day for a 24-h mean).
pub const MIN_DAY_HOURS: f64 = 20.0;

/// The name of the total-PM2.5 pseudo-species in the tables.
pub const PM25: &str = "PM25_TOTAL";

/// What the tables need to know about a tag.
#[derive(Debug, Clone, Serialize)]
pub struct TagInfo {
    pub name: String,
    /// "emissions", "other", "boundary" or "initial".
    pub kind: String,
    pub region: String,
    pub sector: String,
}

/// One receptor's hourly (per output interval) series.
#[derive(Debug, Clone)]
pub struct ReceptorSeries {
    pub name: String,
    /// "region", "group", "site" or "polygon".
    pub kind: String,
    /// Per tag: whether it is local to this receptor.
    pub local: Vec<bool>,
    /// values[record][species][tag], ug/m3.
    pub values: Vec<Vec<Vec<f64>>>,
}

/// Everything the tables are made from.
#[derive(Debug, Clone)]
pub struct Series {
    /// Output species names; the last is PM25_TOTAL.
    pub species: Vec<String>,
    /// Which species are primary particles (the rest of PM2.5 is secondary).
    pub primary: Vec<bool>,
    /// Which species count in PM2.5.
    pub in_pm25: Vec<bool>,
    pub tags: Vec<TagInfo>,
    /// UTC start of the run, seconds since 1970, and each record's interval
    /// in hours since the start.
    pub start_epoch: f64,
    pub intervals: Vec<(f64, f64)>,
    pub receptors: Vec<ReceptorSeries>,
    pub calendar: Calendar,
}

/// How periods are cut: the episode threshold (daily mean PM2.5, ug/m3) and
/// the offset of local time from UTC for days and months (8 for Beijing
/// time, the natural days of GB 3095-2012's daily means).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Calendar {
    pub episode_ugm3: f64,
    pub utc_offset_hours: f64,
    /// Records whose interval starts before this hour of the run are left
    /// out of every period (`run.spin_up_hours`).
    pub spin_up_hours: f64,
}

impl Calendar {
    /// The case's `[attribution]` keys and its spin-up.
    pub fn of(spec: &crate::config::AttributionSpec, run: &crate::config::RunSpec) -> Calendar {
        Calendar {
            episode_ugm3: spec.episode_ugm3,
            utc_offset_hours: spec.utc_offset_hours,
            spin_up_hours: run.spin_up_hours,
        }
    }
}

/// One row of the attribution table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub receptor: String,
    pub period: String,
    pub species: String,
    pub tag: String,
    pub region: String,
    pub sector: String,
    pub ugm3: f64,
    /// Percent of the receptor's total for the period and species.
    pub share: f64,
}

impl Series {
    /// Local date (at the calendar's UTC offset) of a record's interval start.
    fn date_of(&self, record: usize) -> (i64, u32, u32) {
        let t =
            self.start_epoch + (self.intervals[record].0 + self.calendar.utc_offset_hours) * 3600.0;
        civil_from_days((t / 86_400.0).floor() as i64)
    }

    /// The records after the spin-up, which every period is cut from (the
    /// tolerance absorbs interval bounds summed in floating point).
    pub fn reported(&self) -> Vec<usize> {
        (0..self.intervals.len())
            .filter(|&r| self.intervals[r].0 >= self.calendar.spin_up_hours - 1e-9)
            .collect()
    }

    /// The periods of a receptor: (label, records).
    pub fn periods(&self, receptor: &ReceptorSeries) -> Vec<(String, Vec<usize>)> {
        let reported = self.reported();
        let mut out = vec![("run".to_string(), reported.clone())];
        let mut months: Vec<(String, Vec<usize>)> = Vec::new();
        let mut days: Vec<(String, Vec<usize>)> = Vec::new();
        for &r in &reported {
            let (y, m, d) = self.date_of(r);
            for (list, label) in [
                (&mut months, format!("month {y:04}-{m:02}")),
                (&mut days, format!("day {y:04}-{m:02}-{d:02}")),
            ] {
                match list.last_mut() {
                    Some((l, v)) if *l == label => v.push(r),
                    _ => list.push((label, vec![r])),
                }
            }
        }
        let pm = self.species.len() - 1;
        // A daily mean needs at least 20 hours of the day (GB 3095-2012,
        // data validity for 24-h means), so partial days at the run's ends
        // are never episodes.
        let episode: Vec<usize> = days
            .iter()
            .filter(|(_, recs)| self.hours_of(recs) >= MIN_DAY_HOURS)
            .filter(|(_, recs)| {
                let mean: f64 = recs
                    .iter()
                    .map(|&r| receptor.values[r][pm].iter().sum::<f64>())
                    .sum::<f64>()
                    / recs.len() as f64;
                mean > self.calendar.episode_ugm3
            })
            .flat_map(|(_, recs)| recs.iter().copied())
            .collect();
        out.extend(months);
        out.extend(days);
        out.push(("episode days".to_string(), episode));
        out
    }

    /// Mean per species and tag over some records.
    fn mean(&self, receptor: &ReceptorSeries, records: &[usize]) -> Vec<Vec<f64>> {
        let (ns, nt) = (self.species.len(), self.tags.len());
        let mut m = vec![vec![0.0; nt]; ns];
        if records.is_empty() {
            return m;
        }
        for &r in records {
            for (s, row) in receptor.values[r].iter().enumerate() {
                for (t, v) in row.iter().enumerate() {
                    m[s][t] += v;
                }
            }
        }
        let n = records.len() as f64;
        m.iter_mut().flatten().for_each(|v| *v /= n);
        m
    }

    /// Every row: receptor x period x species x tag.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        for rec in &self.receptors {
            for (period, records) in self.periods(rec) {
                let label = format!("{period} ({} h)", self.hours_of(&records));
                let mean = self.mean(rec, &records);
                for (s, per_tag) in mean.iter().enumerate() {
                    let total: f64 = per_tag.iter().sum();
                    for (t, &v) in per_tag.iter().enumerate() {
                        let tag = &self.tags[t];
                        rows.push(Row {
                            receptor: rec.name.clone(),
                            period: label.clone(),
                            species: self.species[s].clone(),
                            tag: tag.name.clone(),
                            region: tag.region.clone(),
                            sector: tag.sector.clone(),
                            ugm3: v,
                            share: if total > 0.0 { 100.0 * v / total } else { 0.0 },
                        });
                    }
                }
            }
        }
        rows
    }

    fn hours_of(&self, records: &[usize]) -> f64 {
        // + 0.0: an empty sum is -0.0.
        records
            .iter()
            .map(|&r| self.intervals[r].1 - self.intervals[r].0)
            .sum::<f64>()
            + 0.0
    }

    /// The attribution table as CSV.
    pub fn csv(&self) -> String {
        let mut s = String::from("receptor,period,species,tag,region,sector,ugm3,share\n");
        for r in self.rows() {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{:.9e},{:.9e}",
                quote(&r.receptor),
                quote(&r.period),
                r.species,
                quote(&r.tag),
                quote(&r.region),
                quote(&r.sector),
                r.ugm3,
                r.share
            );
        }
        s
    }

    /// The same rows as JSON.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(&serde_json::json!({
            "episode_threshold_ugm3": self.calendar.episode_ugm3,
            "utc_offset_hours": self.calendar.utc_offset_hours,
            "spin_up_hours": self.calendar.spin_up_hours,
            "tags": self.tags,
            "rows": self.rows(),
        }))
        .unwrap_or_default()
    }

    /// Source-receptor matrix of run-mean PM2.5 (ug/m3): one row per
    /// area receptor, one column per source region (its tags summed), then
    /// other, boundary and initial.
    pub fn matrix_csv(&self) -> String {
        let mut sources: Vec<String> = Vec::new();
        for t in &self.tags {
            let key = source_of(t);
            if !sources.contains(&key) {
                sources.push(key);
            }
        }
        let mut s = format!(
            "receptor,{}\n",
            sources
                .iter()
                .map(|x| quote(x))
                .collect::<Vec<_>>()
                .join(",")
        );
        let pm = self.species.len() - 1;
        for rec in self.receptors.iter().filter(|r| r.kind != "site") {
            let all = self.reported();
            let mean = self.mean(rec, &all);
            let mut cols = vec![0.0; sources.len()];
            for (t, tag) in self.tags.iter().enumerate() {
                let c = sources
                    .iter()
                    .position(|x| *x == source_of(tag))
                    .unwrap_or(0);
                cols[c] += mean[pm][t];
            }
            let _ = writeln!(
                s,
                "{},{}",
                quote(&rec.name),
                cols.iter()
                    .map(|v| format!("{v:.4}"))
                    .collect::<Vec<_>>()
                    .join(",")
            );
        }
        s
    }

    /// The terminal summary of one receptor over the whole run.
    pub fn summary(&self, rec: &ReceptorSeries) -> String {
        let all = self.reported();
        let mean = self.mean(rec, &all);
        let pm = self.species.len() - 1;
        let per_tag = &mean[pm];
        let total: f64 = per_tag.iter().sum();
        let pct = |v: f64| if total > 0.0 { 100.0 * v / total } else { 0.0 };
        let mut out = String::new();
        let label = if rec.kind == "site" {
            rec.name.clone()
        } else {
            format!("{} ({})", rec.name, rec.kind)
        };
        let _ = writeln!(
            out,
            "{label}: PM2.5 {:.1} ug/m3, mean of {} h{}",
            total,
            self.hours_of(&all),
            if self.calendar.spin_up_hours > 0.0 {
                format!(" after {} h of spin-up", self.calendar.spin_up_hours)
            } else {
                String::new()
            }
        );
        let sum_where = |f: &dyn Fn(usize, &TagInfo) -> bool| -> f64 {
            self.tags
                .iter()
                .enumerate()
                .filter(|(t, tag)| f(*t, tag))
                .map(|(t, _)| per_tag[t])
                .sum()
        };
        let local = sum_where(&|t, tag| tag.kind == "emissions" && rec.local[t]);
        let background = sum_where(&|_, tag| tag.kind == "boundary" || tag.kind == "initial");
        let regional = total - local - background;
        let line = |out: &mut String, indent: usize, label: &str, v: f64| {
            // Round-off can leave a tag at -1e-18: show it as 0.
            let v = if v.abs() < 1e-9 * total.abs().max(1e-30) {
                0.0
            } else {
                v
            };
            let _ = writeln!(
                out,
                "{:indent$}{:<34} {:>8.2} ug/m3 {:>6.1} %",
                "",
                label,
                v,
                pct(v),
                indent = indent
            );
        };
        line(&mut out, 2, "local", local);
        let mut sectors: Vec<(String, f64)> = Vec::new();
        for (t, tag) in self.tags.iter().enumerate() {
            if tag.kind == "emissions" && rec.local[t] && !tag.sector.is_empty() {
                match sectors.iter_mut().find(|s| s.0 == tag.sector) {
                    Some(s) => s.1 += per_tag[t],
                    None => sectors.push((tag.sector.clone(), per_tag[t])),
                }
            }
        }
        sectors.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (sector, v) in &sectors {
            let share_of_local = if local > 0.0 { 100.0 * v / local } else { 0.0 };
            let _ = writeln!(
                out,
                "    {:<32} {:>8.2} ug/m3 {:>6.1} % of local",
                sector, v, share_of_local
            );
        }
        line(&mut out, 2, "regional", regional);
        let mut regions: Vec<(String, f64)> = Vec::new();
        for (t, tag) in self.tags.iter().enumerate() {
            let key = match tag.kind.as_str() {
                "emissions" if !rec.local[t] => {
                    if tag.region.is_empty() {
                        tag.name.clone()
                    } else {
                        tag.region.clone()
                    }
                }
                "other" => "other (untagged emissions)".to_string(),
                _ => continue,
            };
            match regions.iter_mut().find(|r| r.0 == key) {
                Some(r) => r.1 += per_tag[t],
                None => regions.push((key, per_tag[t])),
            }
        }
        regions.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (region, v) in &regions {
            line(&mut out, 4, region, *v);
        }
        line(&mut out, 2, "background", background);
        for kind in ["boundary", "initial"] {
            let v = sum_where(&|_, tag| tag.kind == kind);
            let label = if kind == "boundary" {
                "inflow (boundary)"
            } else {
                "initial values"
            };
            line(&mut out, 4, label, v);
        }
        let primary: f64 = (0..pm)
            .filter(|&s| self.primary[s])
            .map(|s| mean[s].iter().sum::<f64>())
            .sum();
        let secondary: f64 = (0..pm)
            .filter(|&s| self.in_pm25[s] && !self.primary[s])
            .map(|s| mean[s].iter().sum::<f64>())
            .sum();
        let _ = writeln!(
            out,
            "  primary {:.1} % / secondary {:.1} % of PM2.5",
            pct(primary),
            pct(secondary)
        );
        out
    }
}

/// The source a tag counts under in the matrix: its region, or its kind.
fn source_of(tag: &TagInfo) -> String {
    match tag.kind.as_str() {
        "emissions" if !tag.region.is_empty() => tag.region.clone(),
        "emissions" => tag.name.clone(),
        k => k.to_string(),
    }
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_known_days() {
        // 1970-01-01 is day 0; 2023-01-20 is day 19377 (date -d 2023-01-20 +%s / 86400);
        // 2024-02-29 is day 19782.
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_377), (2023, 1, 20));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    /// 48 hourly records from 2023-01-31 00 UTC at one receptor, two tags:
    /// 60 + 40 ug/m3 of PM2.5 on the first day (an episode, mean 100 > 75),
    /// 6 + 4 on the second.
    fn two_days() -> Series {
        let tag = |name: &str| TagInfo {
            name: name.into(),
            kind: "emissions".into(),
            region: name.into(),
            sector: String::new(),
        };
        let values = (0..48)
            .map(|h| {
                let scale = if h < 24 { 10.0 } else { 1.0 };
                vec![vec![6.0 * scale, 4.0 * scale]; 2]
            })
            .collect();
        Series {
            species: vec!["PM25".into(), PM25.into()],
            primary: vec![true, false],
            in_pm25: vec![true, false],
            tags: vec![tag("A"), tag("B")],
            // 2023-01-31T00:00:00Z = day 19388 since 1970.
            start_epoch: 19_388.0 * 86_400.0,
            intervals: (0..48).map(|h| (h as f64, h as f64 + 1.0)).collect(),
            receptors: vec![ReceptorSeries {
                name: "R".into(),
                kind: "region".into(),
                local: vec![true, false],
                values,
            }],
            calendar: Calendar {
                episode_ugm3: 75.0,
                utc_offset_hours: 0.0,
                spin_up_hours: 0.0,
            },
        }
    }

    #[test]
    fn periods_split_months_and_days_and_find_the_episode() {
        let s = two_days();
        let periods: Vec<(String, usize)> = s
            .periods(&s.receptors[0])
            .into_iter()
            .map(|(p, r)| (p, r.len()))
            .collect();
        let expect = [
            ("run", 48),
            ("month 2023-01", 24),
            ("month 2023-02", 24),
            ("day 2023-01-31", 24),
            ("day 2023-02-01", 24),
            ("episode days", 24),
        ];
        assert_eq!(periods.len(), expect.len());
        for ((p, n), (ep, en)) in periods.iter().zip(expect) {
            assert_eq!((p.as_str(), *n), (ep, en));
        }
        // Run mean of PM2.5: A (60 + 6) / 2 = 33, B 22, shares 60 % / 40 %
        // in every period; the episode mean is the first day's.
        let rows = s.rows();
        let row = |period: &str, tag: &str| {
            rows.iter()
                .find(|r| r.period.starts_with(period) && r.tag == tag && r.species == PM25)
                .unwrap()
                .clone()
        };
        assert!((row("run", "A").ugm3 - 33.0).abs() < 1e-12);
        assert!((row("run", "B").share - 40.0).abs() < 1e-12);
        assert!((row("episode", "A").ugm3 - 60.0).abs() < 1e-12);
        assert!((row("day 2023-02-01", "B").ugm3 - 4.0).abs() < 1e-12);
        let summary = s.summary(&s.receptors[0]);
        assert!(
            summary.contains("local") && summary.contains("60.0 %"),
            "{summary}"
        );
    }

    #[test]
    fn beijing_time_moves_the_day_boundary_by_eight_hours() {
        // At UTC+8 the run starting 2023-01-31 00 UTC (08 local) has 16 h on
        // the 31st, 24 on 1 February and 8 on the 2nd. The 16 h at 100
        // ug/m3 are too few for a daily mean: no episode day.
        let mut s = two_days();
        s.calendar.utc_offset_hours = 8.0;
        let days: Vec<(String, usize)> = s
            .periods(&s.receptors[0])
            .into_iter()
            .filter(|(p, _)| p.starts_with("day"))
            .map(|(p, r)| (p, r.len()))
            .collect();
        assert_eq!(
            days,
            [
                ("day 2023-01-31".to_string(), 16),
                ("day 2023-02-01".to_string(), 24),
                ("day 2023-02-02".to_string(), 8)
            ]
        );
        let episode = s.periods(&s.receptors[0]).pop().unwrap();
        assert_eq!((episode.0.as_str(), episode.1.len()), ("episode days", 0));
    }

    #[test]
    fn spin_up_hours_are_left_out_of_every_period() {
        // A 24 h spin-up leaves the second day alone: its PM2.5 is A 6,
        // B 4 (10 ug/m3, no episode), the first day is no period at all.
        let mut s = two_days();
        s.calendar.spin_up_hours = 24.0;
        let periods: Vec<(String, usize)> = s
            .periods(&s.receptors[0])
            .into_iter()
            .map(|(p, r)| (p, r.len()))
            .collect();
        assert_eq!(
            periods,
            [
                ("run".to_string(), 24),
                ("month 2023-02".to_string(), 24),
                ("day 2023-02-01".to_string(), 24),
                ("episode days".to_string(), 0)
            ]
        );
        let rows = s.rows();
        let run_a = rows
            .iter()
            .find(|r| r.period == "run (24 h)" && r.tag == "A" && r.species == PM25)
            .unwrap();
        assert!((run_a.ugm3 - 6.0).abs() < 1e-12);
        let summary = s.summary(&s.receptors[0]);
        assert!(
            summary.contains("mean of 24 h after 24 h of spin-up"),
            "{summary}"
        );
    }
}
