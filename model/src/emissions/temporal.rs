//! Temporal profiles: month, weekday and hour-of-day factors per sector,
//! applied in local time to every annual rate (city rows, gridded cells and
//! stacks alike) by the emission process.
//!
//! CSV (long form), header `sector,kind,index,factor`: `kind` is `month`
//! (index 1-12), `weekday` (1 = Monday .. 7 = Sunday) or `hour` (local
//! hour 0-23, the hour starting at `index`); a sector that lists a kind
//! lists all its indices exactly once. A kind a sector does not list, and
//! a sector the file does not name, is flat. Factors are finite, >= 0, and
//! not all zero within a kind.
//!
//! **Normalisation.** Each kind is divided by its mean, then the product
//! month x weekday x hour is divided by its mean over the hours of the local
//! calendar year it falls in (8760 or 8784 hours), so every sector's factor
//! averages to exactly 1 over any local calendar year: the annual total is
//! the row's (`tests/inventory.rs` checks the mean to 1e-9). A step's
//! factor is the exact mean of the piecewise-constant (hourly) factor over
//! the step, so the mass emitted over a year does not depend on `dt`.
//!
//! Local time is UTC + `utc_offset_hours` (fixed, no daylight saving; China
//! is UTC+8 all year).

use super::{for_each_csv_row, Inventory};
use crate::error::{Error, Result};
pub use crate::time::civil_from_days;
use std::collections::HashMap;
use std::path::Path;

/// One sector's normalised factors (each kind has mean 1).
#[derive(Debug, Clone, PartialEq)]
pub struct SectorProfile {
    pub month: [f64; 12],
    /// Monday first.
    pub weekday: [f64; 7],
    /// Local hour 0..23.
    pub hour: [f64; 24],
}

impl SectorProfile {
    pub const FLAT: SectorProfile = SectorProfile {
        month: [1.0; 12],
        weekday: [1.0; 7],
        hour: [1.0; 24],
    };
}

#[derive(Debug, Clone, Default)]
pub struct TemporalProfiles {
    /// Per inventory sector index; None is flat.
    pub sectors: Vec<Option<SectorProfile>>,
    pub utc_offset_hours: f64,
    /// Per (sector, local year): 1 / mean of the raw product over the year.
    norm: HashMap<(usize, i64), f64>,
}

/// Days since 1970-01-01 of 1 January of `year`.
fn days_of_new_year(year: i64) -> i64 {
    let y = year - 1;
    365 * (year - 1970) + (y / 4 - y / 100 + y / 400) - (1969 / 4 - 1969 / 100 + 1969 / 400)
}

/// Local (year, month 1-12, weekday 0 = Monday, hour 0-23) of local hour
/// number `h` (hours since 1970-01-01T00 local).
fn calendar_of_hour(h: i64) -> (i64, usize, usize, usize) {
    let day = h.div_euclid(24);
    let hour = h.rem_euclid(24) as usize;
    let (y, m, _) = civil_from_days(day);
    // 1970-01-01 was a Thursday (3 with Monday = 0).
    let weekday = (day + 3).rem_euclid(7) as usize;
    (y, m as usize - 1, weekday, hour)
}

impl TemporalProfiles {
    /// Raw (un-normalised by year) factor of `sector` at local hour `h`.
    fn raw(p: &SectorProfile, h: i64) -> (i64, f64) {
        let (y, m, w, hr) = calendar_of_hour(h);
        (y, p.month[m] * p.weekday[w] * p.hour[hr])
    }

    fn year_norm(&mut self, sector: usize, p: &SectorProfile, year: i64) -> f64 {
        *self.norm.entry((sector, year)).or_insert_with(|| {
            let first = days_of_new_year(year) * 24;
            let last = days_of_new_year(year + 1) * 24;
            let sum: f64 = (first..last).map(|h| Self::raw(p, h).1).sum();
            (last - first) as f64 / sum
        })
    }

    /// The factor of `sector` for local hour `h` (hours since 1970-01-01T00
    /// local), normalised over its local year.
    pub fn hour_factor(&mut self, sector: usize, h: i64) -> f64 {
        let Some(Some(p)) = self.sectors.get(sector).cloned() else {
            return 1.0;
        };
        let (y, raw) = Self::raw(&p, h);
        raw * self.year_norm(sector, &p, y)
    }

    /// Mean factor of `sector` over the UTC interval [t0, t1] (epoch
    /// seconds): exact for the hourly step function.
    pub fn mean_factor(&mut self, sector: usize, t0: f64, t1: f64) -> f64 {
        if !matches!(self.sectors.get(sector), Some(Some(_))) {
            return 1.0;
        }
        let off = self.utc_offset_hours * 3600.0;
        let (a, b) = (t0 + off, t1 + off);
        if b <= a {
            return self.hour_factor(sector, (a / 3600.0).floor() as i64);
        }
        let mut sum = 0.0;
        let mut t = a;
        while t < b {
            let h = (t / 3600.0).floor() as i64;
            let end = ((h + 1) as f64 * 3600.0).min(b);
            sum += self.hour_factor(sector, h) * (end - t);
            t = end;
        }
        sum / (b - a)
    }

    /// Read a profile file for the inventory's sectors.
    pub fn load(path: &Path, inv: &Inventory, utc_offset_hours: f64) -> Result<TemporalProfiles> {
        // (sector, kind) -> factors with a seen flag per index.
        let mut raw: HashMap<(usize, usize), Vec<Option<f64>>> = HashMap::new();
        const KINDS: [(&str, usize, usize); 3] =
            [("month", 12, 1), ("weekday", 7, 1), ("hour", 24, 0)];
        for_each_csv_row(path, &["sector", "kind", "index", "factor"], |row| {
            let sector = inv.sector_index(path, &row.field("sector"), row.text("sector"))?;
            let kind = row.text("kind");
            let Some(k) = KINDS.iter().position(|(n, _, _)| *n == kind) else {
                return Err(row.error("kind", format!("month, weekday or hour, got {kind:?}")));
            };
            let (_, n, first) = KINDS[k];
            let idx = row.number("index")?;
            let last = first + n - 1;
            if idx.fract() != 0.0 || idx < first as f64 || idx > last as f64 {
                return Err(row.error(
                    "index",
                    format!("a whole number {first}..={last} for kind {kind}, got {idx}"),
                ));
            }
            let f = row.number("factor")?;
            if f < 0.0 {
                return Err(row.error("factor", format!("a factor >= 0, got {f}")));
            }
            let slot =
                &mut raw.entry((sector, k)).or_insert_with(|| vec![None; n])[idx as usize - first];
            if slot.is_some() {
                return Err(row.error(
                    "index",
                    format!("each {kind} index once; {idx} is repeated"),
                ));
            }
            *slot = Some(f);
            Ok(())
        })?;
        let mut sectors: Vec<Option<SectorProfile>> = vec![None; inv.sectors.len()];
        let mut keys: Vec<_> = raw.keys().copied().collect();
        keys.sort_unstable();
        for (s, k) in keys {
            let (kind, n, first) = KINDS[k];
            let v = &raw[&(s, k)];
            let missing: Vec<String> = (0..n)
                .filter(|&i| v[i].is_none())
                .map(|i| (i + first).to_string())
                .collect();
            if !missing.is_empty() {
                return Err(Error::input(
                    path,
                    format!("{} {kind}", inv.sectors[s]),
                    format!("all {n} {kind} indices; missing {}", missing.join(", ")),
                ));
            }
            let vals: Vec<f64> = v.iter().map(|x| x.unwrap_or(0.0)).collect();
            let mean = vals.iter().sum::<f64>() / n as f64;
            if !(mean > 0.0 && mean.is_finite()) {
                return Err(Error::input(
                    path,
                    format!("{} {kind}", inv.sectors[s]),
                    "factors that are not all zero",
                ));
            }
            let p = sectors[s].get_or_insert(SectorProfile::FLAT);
            let dst: &mut [f64] = match k {
                0 => &mut p.month,
                1 => &mut p.weekday,
                _ => &mut p.hour,
            };
            for (d, x) in dst.iter_mut().zip(&vals) {
                *d = x / mean;
            }
        }
        Ok(TemporalProfiles {
            sectors,
            utc_offset_hours,
            norm: HashMap::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        // 2000-03-01 is day 11017; 2024-02-29 is day 19782.
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(days_of_new_year(1970), 0);
        assert_eq!(days_of_new_year(2024), 19_723);
        // 2024-01-01 was a Monday.
        assert_eq!(calendar_of_hour(19_723 * 24 + 5), (2024, 0, 0, 5));
    }
}
