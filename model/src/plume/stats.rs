//! Averages and N-th highest values per receptor, fed one hour at a time,
//! as AERMOD computes them.
//!
//! - **Hours** are hour-ending, 1-24, as AERMET writes them (hour 24 of a
//!   day is its last hour, and belongs to that day and that year).
//! - **Short-term averages** are N-hour *blocks aligned to the clock*, N a
//!   divisor of 24 (1, 2, 3, 4, 6, 8, 12, 24; AERMOD user's guide, `CO
//!   AVERTIME` keyword): a block ends at the hours that are multiples of N
//!   (3-h blocks end at hours 3, 6, ..., 24; the 24-h block is the calendar
//!   day, hours 1-24). This is AERMOD's `HRLOOP` test
//!   `MOD(IHOUR, KAVE) == 0` for the end of an averaging period.
//! - **Missing hours** (`None`: the met hour was marked missing) are
//!   counted, never averaged as zero. An N-hour average (N > 1) is the sum
//!   over the valid hours divided by `max(valid, NINT(0.75 N + 0.4))`: EPA's
//!   calms/missing-data policy as AERMOD implements it (subroutine `AVER`,
//!   "Calculate Denominator Considering Calms and Missing"; the ISC3 calms
//!   processing before it). For N = 3, 8 and 24 the floor is 3, 6 and 18
//!   hours: a 3-h block with 1 or 2 missing hours is divided by 3, a 24-h
//!   block with 7 missing hours by 18. Hours of a block that fall outside
//!   the run (a run that starts or ends inside a block) count as missing
//!   (`absent`), so the first and last partial blocks are averaged under
//!   the same rule and flagged, not dropped.
//! - **Where this differs from AERMOD**: a block with no valid hour has no
//!   value (AERMOD's is 0), and is neither ranked nor written as a number;
//!   a missing 1-h value likewise. Calms are not missing here: the plume
//!   and puff model computes every calm hour (issue 9).
//! - **Period and annual averages** are the sum over the valid hours divided
//!   by the number of valid hours, with no 75 % floor (AERMOD `PERAVE`:
//!   "Removed 75 percent limit on calculation of the denominator"); annual
//!   averages are per calendar year.
//! - **Highest and N-th highest** per receptor and species for each
//!   averaging period: a sorted array of the R = max(ranks) highest block
//!   values, with the block each came from. Ties: an equal value never
//!   displaces an earlier one, so the earlier block keeps the higher rank
//!   (AERMOD `NHIGH`: "For duplicate values, the earlier occurrence keeps
//!   its rank"). The maximum over receptors of an N-th highest value goes
//!   to the lowest receptor index among equals (AERMOD `MAXVALUE`).
//!
//! Memory: per averaging period one running sum per receptor and species
//! plus the R-value table; per year one sum. 10,000 receptors x 4 periods x
//! R = 8 is about 5 MB. Everything is sequential in the order of the
//! receptors and species, so results do not depend on the thread count.

use crate::error::{Error, Result};
use crate::time::{civil_from_days, days_from_civil, days_in_month};
use std::path::{Path, PathBuf};

/// An hour-ending stamp: hour 1-24 of a calendar day (AERMET's convention,
/// local standard time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HourEnding {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    /// 1-24, hour ending.
    pub hour: u32,
}

impl HourEnding {
    /// A checked stamp, or None (month 1-12, a day of that month, hour 1-24).
    pub fn new(year: i32, month: u32, day: u32, hour: u32) -> Option<HourEnding> {
        ((1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year as i64, month)
            && (1..=24).contains(&hour))
        .then_some(HourEnding {
            year,
            month,
            day,
            hour,
        })
    }

    /// Hours since 1970-01-01 00:00 at the *start* of this hour (the hour
    /// covers `[index, index + 1)`).
    pub fn index(&self) -> i64 {
        days_from_civil(self.year as i64, self.month, self.day) * 24 + (self.hour as i64 - 1)
    }

    /// The hour whose start is `index` hours after 1970-01-01 00:00.
    pub fn from_index(index: i64) -> HourEnding {
        let (y, m, d) = civil_from_days(index.div_euclid(24));
        HourEnding {
            year: y as i32,
            month: m,
            day: d,
            hour: index.rem_euclid(24) as u32 + 1,
        }
    }

    /// `YYYY-MM-DD HH` (HH the hour ending, 01-24).
    pub fn label(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}",
            self.year, self.month, self.day, self.hour
        )
    }
}

impl std::fmt::Display for HourEnding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

/// The divisor of an N-hour block average with `valid` valid hours:
/// `max(valid, NINT(0.75 N + 0.4))` (AERMOD `AVER`); N = 1 is not averaged.
pub fn block_divisor(block_hours: u32, valid: u32) -> u32 {
    if block_hours == 1 {
        return valid.max(1);
    }
    let floor = (0.75 * block_hours as f64 + 0.4).round() as u32;
    valid.max(floor)
}

/// The averaging periods that divide a day into clock-aligned blocks.
pub const BLOCK_HOURS: [u32; 8] = [1, 2, 3, 4, 6, 8, 12, 24];

/// The largest rank that may be asked for.
pub const MAX_RANK: usize = 1000;

/// What to compute.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsOptions {
    /// Block lengths in hours, each one of [`BLOCK_HOURS`], no repeats.
    pub averaging_hours: Vec<u32>,
    /// The N of the N-th highest values to report (1 = highest), 1..=MAX_RANK.
    pub ranks: Vec<usize>,
}

impl Default for StatsOptions {
    fn default() -> Self {
        StatsOptions {
            averaging_hours: vec![1, 3, 8, 24],
            ranks: vec![1, 2, 8],
        }
    }
}

impl StatsOptions {
    /// Check the options; errors name `file` and the keys under `prefix`
    /// (e.g. `plume.output`).
    pub fn validate(&self, file: &Path, prefix: &str) -> Result<()> {
        let key = |k: &str| {
            if prefix.is_empty() {
                k.to_string()
            } else {
                format!("{prefix}.{k}")
            }
        };
        if self.averaging_hours.is_empty() {
            return Err(Error::config(
                file,
                key("averaging_hours"),
                "at least one averaging period, e.g. [1, 3, 8, 24]",
            ));
        }
        for (i, h) in self.averaging_hours.iter().enumerate() {
            if !BLOCK_HOURS.contains(h) {
                return Err(Error::config(
                    file,
                    format!("{}[{i}]", key("averaging_hours")),
                    format!("a block length that divides the day: one of 1, 2, 3, 4, 6, 8, 12, 24 hours; got {h}"),
                ));
            }
            if self.averaging_hours[..i].contains(h) {
                return Err(Error::config(
                    file,
                    format!("{}[{i}]", key("averaging_hours")),
                    format!("each averaging period once; {h} is repeated"),
                ));
            }
        }
        if self.ranks.is_empty() {
            return Err(Error::config(
                file,
                key("ranks"),
                "at least one rank, e.g. [1, 2, 8] (1 = the highest)",
            ));
        }
        for (i, &n) in self.ranks.iter().enumerate() {
            if n == 0 || n > MAX_RANK {
                return Err(Error::config(
                    file,
                    format!("{}[{i}]", key("ranks")),
                    format!("a rank from 1 (the highest) to {MAX_RANK}; got {n}"),
                ));
            }
            if self.ranks[..i].contains(&n) {
                return Err(Error::config(
                    file,
                    format!("{}[{i}]", key("ranks")),
                    format!("each rank once; {n} is repeated"),
                ));
            }
        }
        Ok(())
    }

    /// The largest rank asked for: the length of the per-receptor tables.
    pub fn max_rank(&self) -> usize {
        self.ranks.iter().copied().max().unwrap_or(1)
    }
}

/// The hours of one block (or year, or the whole run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourCounts {
    /// Hours with values.
    pub valid: u32,
    /// Hours pushed as missing (`None`).
    pub missing: u32,
    /// Hours of the block outside the run (before the first or after the
    /// last pushed hour); treated as missing.
    pub absent: u32,
}

/// One completed block average, as it is handed to the caller.
#[derive(Debug, Clone, Copy)]
pub struct BlockAverage<'a> {
    /// The block length, hours.
    pub hours: u32,
    /// The first and last hour of the block (hour-ending).
    pub start: HourEnding,
    pub end: HourEnding,
    pub counts: HourCounts,
    /// The divisor used: `max(valid, NINT(0.75 N + 0.4))`.
    pub divisor: u32,
    /// Averages, receptor-major (`r * n_species + s`); None when the block
    /// has no valid hour.
    pub values: Option<&'a [f64]>,
}

/// A block that made it into a receptor's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    pub start: HourEnding,
    pub end: HourEnding,
    pub counts: HourCounts,
}

/// One value of a receptor's table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    pub value: f64,
    pub block: BlockInfo,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    value: f64,
    /// Index into `Highest::blocks`.
    block: u32,
}

/// The R highest block values of every receptor and species for one
/// averaging period.
#[derive(Debug, Clone)]
pub struct Highest {
    /// Block length, hours.
    pub hours: u32,
    n_species: usize,
    rank_len: usize,
    /// `rank_len` entries per (receptor, species) slot, descending.
    entries: Vec<Entry>,
    /// How many entries every slot holds (every valid block gives a value
    /// at every slot, so the count is common).
    filled: usize,
    /// Every block that gave values, in time order.
    blocks: Vec<BlockInfo>,
    /// Blocks completed, and of those with at least one missing (or
    /// absent) hour, and with no valid hour.
    pub n_blocks: u64,
    pub n_blocks_with_missing: u64,
    pub n_blocks_without_valid: u64,
}

impl Highest {
    fn new(hours: u32, n_slots: usize, n_species: usize, rank_len: usize) -> Highest {
        Highest {
            hours,
            n_species,
            rank_len,
            entries: vec![
                Entry {
                    value: f64::NEG_INFINITY,
                    block: 0
                };
                n_slots * rank_len
            ],
            filled: 0,
            blocks: vec![],
            n_blocks: 0,
            n_blocks_with_missing: 0,
            n_blocks_without_valid: 0,
        }
    }

    /// Add one block's values (slot-major) to every slot's table.
    fn insert(&mut self, info: BlockInfo, values: &[f64]) {
        let block = self.blocks.len() as u32;
        self.blocks.push(info);
        let r = self.rank_len;
        let filled = self.filled;
        for (slot, &v) in values.iter().enumerate() {
            let table = &mut self.entries[slot * r..(slot + 1) * r];
            // Strictly greater: an equal value goes below the earlier one.
            let pos = table[..filled].partition_point(|e| e.value >= v);
            if pos >= r {
                continue;
            }
            let end = filled.min(r - 1);
            table.copy_within(pos..end, pos + 1);
            table[pos] = Entry { value: v, block };
        }
        self.filled = (filled + 1).min(r);
    }

    /// How many values each table holds (at most the largest rank).
    pub fn filled(&self) -> usize {
        self.filled
    }

    /// The `n`-th highest (1 = highest) block value at a receptor for a
    /// species; None when fewer than `n` blocks had values.
    pub fn nth(&self, receptor: usize, species: usize, n: usize) -> Option<Ranked> {
        if n == 0 || n > self.filled {
            return None;
        }
        let slot = receptor * self.n_species + species;
        let e = self.entries[slot * self.rank_len + n - 1];
        Some(Ranked {
            value: e.value,
            block: self.blocks[e.block as usize],
        })
    }

    /// The receptor with the largest `n`-th highest value of a species (the
    /// lowest receptor index among equals), with that value.
    pub fn max_over_receptors(&self, species: usize, n: usize) -> Option<(usize, Ranked)> {
        let n_receptors = self.entries.len() / self.rank_len / self.n_species.max(1);
        let mut best: Option<(usize, Ranked)> = None;
        for r in 0..n_receptors {
            if let Some(v) = self.nth(r, species, n) {
                if best.is_none_or(|(_, b)| v.value > b.value) {
                    best = Some((r, v));
                }
            }
        }
        best
    }
}

/// Averages over a span of hours (the run, or a calendar year).
#[derive(Debug, Clone, PartialEq)]
pub struct SpanAverage {
    /// The first and last hour of the span that the run covers.
    pub start: HourEnding,
    pub end: HourEnding,
    pub counts: HourCounts,
    /// Hours in the span (a calendar year: 8760 or 8784; the run: its hours).
    pub span_hours: u32,
    /// Sum over the valid hours / valid hours, receptor-major; None when no
    /// hour was valid.
    pub values: Option<Vec<f64>>,
}

#[derive(Debug, Clone)]
struct SpanAcc {
    start: HourEnding,
    end: HourEnding,
    valid: u32,
    missing: u32,
    sum: Vec<f64>,
}

impl SpanAcc {
    fn new(t: HourEnding, n: usize) -> SpanAcc {
        SpanAcc {
            start: t,
            end: t,
            valid: 0,
            missing: 0,
            sum: vec![0.0; n],
        }
    }

    fn add(&mut self, t: HourEnding, values: Option<&[f64]>) {
        self.end = t;
        match values {
            Some(v) => {
                self.valid += 1;
                self.sum.iter_mut().zip(v).for_each(|(s, v)| *s += v);
            }
            None => self.missing += 1,
        }
    }

    fn finish(self, span_hours: u32) -> SpanAverage {
        let values = (self.valid > 0).then(|| {
            let n = self.valid as f64;
            self.sum.iter().map(|s| s / n).collect()
        });
        SpanAverage {
            start: self.start,
            end: self.end,
            counts: HourCounts {
                valid: self.valid,
                missing: self.missing,
                absent: span_hours.saturating_sub(self.valid + self.missing),
            },
            span_hours,
            values,
        }
    }
}

#[derive(Debug, Clone)]
struct BlockAcc {
    hours: u32,
    /// The block index (hour index div hours) of the open block.
    open: Option<i64>,
    valid: u32,
    missing: u32,
    sum: Vec<f64>,
    /// The averages of the block just closed (reused buffer).
    avg: Vec<f64>,
    highest: Highest,
}

/// Everything computed over a run, once the last hour is in.
#[derive(Debug, Clone)]
pub struct Results {
    pub n_receptors: usize,
    pub n_species: usize,
    pub ranks: Vec<usize>,
    /// None when no hour was pushed.
    pub first: Option<HourEnding>,
    pub last: Option<HourEnding>,
    /// Hours pushed, and of those missing.
    pub hours: u64,
    pub missing_hours: u64,
    /// The period average (None when no hour was pushed).
    pub period: Option<SpanAverage>,
    /// Annual averages by calendar year, in order.
    pub annual: Vec<(i32, SpanAverage)>,
    /// One table per averaging period, in the order of the options.
    pub highest: Vec<Highest>,
}

impl Results {
    /// The table of an averaging period (block length in hours).
    pub fn highest_of(&self, hours: u32) -> Option<&Highest> {
        self.highest.iter().find(|h| h.hours == hours)
    }
}

/// The accumulators: push every hour in order, then [`Stats::finish`].
#[derive(Debug, Clone)]
pub struct Stats {
    n_receptors: usize,
    n_species: usize,
    ranks: Vec<usize>,
    /// Named in errors (the met file, or a description of the series).
    label: PathBuf,
    blocks: Vec<BlockAcc>,
    period: Option<SpanAcc>,
    year: Option<(i32, SpanAcc)>,
    annual: Vec<(i32, SpanAverage)>,
    first: Option<HourEnding>,
    last: Option<HourEnding>,
    hours: u64,
    missing_hours: u64,
}

impl Stats {
    /// Accumulators for `n_receptors` x `n_species` values an hour.
    /// `label` (e.g. the met file) is named in errors about the hours.
    pub fn new(
        n_receptors: usize,
        n_species: usize,
        options: &StatsOptions,
        label: &Path,
    ) -> Result<Stats> {
        options.validate(label, "")?;
        let n = n_receptors * n_species;
        let r = options.max_rank();
        Ok(Stats {
            n_receptors,
            n_species,
            ranks: options.ranks.clone(),
            label: label.to_path_buf(),
            blocks: options
                .averaging_hours
                .iter()
                .map(|&h| BlockAcc {
                    hours: h,
                    open: None,
                    valid: 0,
                    missing: 0,
                    sum: vec![0.0; n],
                    avg: vec![0.0; n],
                    highest: Highest::new(h, n, n_species, r),
                })
                .collect(),
            period: None,
            year: None,
            annual: vec![],
            first: None,
            last: None,
            hours: 0,
            missing_hours: 0,
        })
    }

    pub fn n_receptors(&self) -> usize {
        self.n_receptors
    }

    pub fn n_species(&self) -> usize {
        self.n_species
    }

    /// The last hour pushed.
    pub fn last(&self) -> Option<HourEnding> {
        self.last
    }

    /// Push one hour: `time` = (year, month, day, hour 1-24 hour-ending);
    /// `values` = `n_receptors * n_species` concentrations, receptor-major
    /// (`r * n_species + s`), or None for a missing met hour.
    pub fn push_hour(&mut self, time: (i32, u32, u32, u32), values: Option<&[f64]>) -> Result<()> {
        self.push_hour_with(time, values, |_| Ok(()))
    }

    /// [`Stats::push_hour`], handing every block that this hour completes
    /// to `on_block` (blocks of the averaging periods in the order of the
    /// options). Hours must be consecutive: push None for a missing hour.
    pub fn push_hour_with(
        &mut self,
        time: (i32, u32, u32, u32),
        values: Option<&[f64]>,
        mut on_block: impl FnMut(&BlockAverage) -> Result<()>,
    ) -> Result<()> {
        let t = self.check(time, values)?;
        let index = t.index();
        // Hours are consecutive and a block closes with its last hour, so
        // an open block is always the block of this hour. Close the year this hour leaves.
        if self.year.as_ref().is_some_and(|(y, _)| *y != t.year) {
            if let Some((y, acc)) = self.year.take() {
                self.annual.push((y, acc.finish(year_hours(y))));
            }
        }
        let n = self.n_receptors * self.n_species;
        for b in self.blocks.iter_mut() {
            b.open = Some(index.div_euclid(b.hours as i64));
            match values {
                Some(v) => {
                    b.valid += 1;
                    b.sum.iter_mut().zip(v).for_each(|(s, v)| *s += v);
                }
                None => b.missing += 1,
            }
        }
        self.period
            .get_or_insert_with(|| SpanAcc::new(t, n))
            .add(t, values);
        self.year
            .get_or_insert_with(|| (t.year, SpanAcc::new(t, n)))
            .1
            .add(t, values);
        self.first.get_or_insert(t);
        self.last = Some(t);
        self.hours += 1;
        if values.is_none() {
            self.missing_hours += 1;
        }
        // Close the blocks that end with this hour.
        for b in self.blocks.iter_mut() {
            if t.hour % b.hours == 0 {
                close_block(b, &mut on_block)?;
            }
        }
        Ok(())
    }

    fn check(&self, time: (i32, u32, u32, u32), values: Option<&[f64]>) -> Result<HourEnding> {
        let (y, m, d, h) = time;
        let t = HourEnding::new(y, m, d, h).ok_or_else(|| {
            Error::input(
                &self.label,
                format!("hour {y:04}-{m:02}-{d:02} {h:02}"),
                "a calendar date and an hour-ending hour from 1 to 24",
            )
        })?;
        if let Some(last) = self.last {
            if t.index() != last.index() + 1 {
                return Err(Error::input(
                    &self.label,
                    format!("hour {t}"),
                    format!(
                        "the hour after {last} ({}): hours must be consecutive, a missing hour is pushed as missing",
                        HourEnding::from_index(last.index() + 1)
                    ),
                ));
            }
        }
        if let Some(v) = values {
            let n = self.n_receptors * self.n_species;
            if v.len() != n {
                return Err(Error::Numerics {
                    process: "plume statistics".into(),
                    detail: format!(
                        "hour {t}: {} values, expected {} receptors x {} species = {n}",
                        v.len(),
                        self.n_receptors,
                        self.n_species
                    ),
                });
            }
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                return Err(Error::Numerics {
                    process: "plume statistics".into(),
                    detail: format!(
                        "hour {t}: receptor {} species {}: concentration {} is not finite",
                        i / self.n_species.max(1),
                        i % self.n_species.max(1),
                        v[i]
                    ),
                });
            }
        }
        Ok(t)
    }

    /// Close the blocks left open (the run ended inside them: their hours
    /// after the last one count as absent) and the last year.
    pub fn finish(self) -> Results {
        self.finish_with(|_| Ok(()))
            .expect("a callback that never fails")
    }

    /// [`Stats::finish`], handing the partial blocks closed at the end to
    /// `on_block`.
    pub fn finish_with(
        mut self,
        mut on_block: impl FnMut(&BlockAverage) -> Result<()>,
    ) -> Result<Results> {
        for b in self.blocks.iter_mut() {
            if b.open.is_some() {
                close_block(b, &mut on_block)?;
            }
        }
        if let Some((y, acc)) = self.year.take() {
            self.annual.push((y, acc.finish(year_hours(y))));
        }
        let period = self.period.take().map(|p| {
            let hours = self.hours as u32;
            p.finish(hours)
        });
        Ok(Results {
            n_receptors: self.n_receptors,
            n_species: self.n_species,
            ranks: self.ranks,
            first: self.first,
            last: self.last,
            hours: self.hours,
            missing_hours: self.missing_hours,
            period,
            annual: self.annual,
            highest: self.blocks.into_iter().map(|b| b.highest).collect(),
        })
    }
}

fn year_hours(year: i32) -> u32 {
    if crate::time::is_leap(year as i64) {
        8784
    } else {
        8760
    }
}

/// Close the open block of `b`: average, hand it on, rank it, reset.
fn close_block(
    b: &mut BlockAcc,
    on_block: &mut impl FnMut(&BlockAverage) -> Result<()>,
) -> Result<()> {
    let Some(key) = b.open.take() else {
        return Ok(());
    };
    let n = b.hours as i64;
    let (start, end) = (
        HourEnding::from_index(key * n),
        HourEnding::from_index(key * n + n - 1),
    );
    // Hours of the block before the run's first hour, or not reached
    // because the run ended, are absent.
    let absent = b.hours - b.valid - b.missing;
    let counts = HourCounts {
        valid: b.valid,
        missing: b.missing,
        absent,
    };
    let divisor = block_divisor(b.hours, b.valid);
    let values = if b.valid > 0 {
        let d = divisor as f64;
        b.avg.iter_mut().zip(&b.sum).for_each(|(a, s)| *a = s / d);
        Some(b.avg.as_slice())
    } else {
        None
    };
    let avg = BlockAverage {
        hours: b.hours,
        start,
        end,
        counts,
        divisor,
        values,
    };
    on_block(&avg)?;
    let h = &mut b.highest;
    h.n_blocks += 1;
    if b.missing + absent > 0 {
        h.n_blocks_with_missing += 1;
    }
    if b.valid > 0 {
        h.insert(BlockInfo { start, end, counts }, &b.avg);
    } else {
        h.n_blocks_without_valid += 1;
    }
    b.valid = 0;
    b.missing = 0;
    b.sum.iter_mut().for_each(|s| *s = 0.0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_index_round_trips_and_hour_24_is_the_last_hour_of_its_day() {
        let t = HourEnding::new(2020, 12, 31, 24).unwrap();
        assert_eq!(HourEnding::from_index(t.index()), t);
        let next = HourEnding::from_index(t.index() + 1);
        assert_eq!(next, HourEnding::new(2021, 1, 1, 1).unwrap());
        assert!(HourEnding::new(2021, 2, 29, 1).is_none());
        assert!(HourEnding::new(2020, 2, 29, 0).is_none());
        assert!(HourEnding::new(2020, 2, 29, 25).is_none());
    }

    #[test]
    fn divisors_follow_nint_of_three_quarters_plus_0_4() {
        // NINT(0.75 N + 0.4): 2 -> 2, 3 -> 3, 4 -> 3, 6 -> 5, 8 -> 6, 12 -> 9, 24 -> 18.
        for (n, floor) in [(2, 2), (3, 3), (4, 3), (6, 5), (8, 6), (12, 9), (24, 18)] {
            assert_eq!(block_divisor(n, 0), floor, "N = {n}");
            assert_eq!(block_divisor(n, n), n, "N = {n}");
        }
        assert_eq!(block_divisor(24, 20), 20);
        assert_eq!(block_divisor(1, 1), 1);
    }

    #[test]
    fn ties_keep_the_earlier_block_first() {
        let mut h = Highest::new(1, 1, 1, 3);
        let info = |i: i64| BlockInfo {
            start: HourEnding::from_index(i),
            end: HourEnding::from_index(i),
            counts: HourCounts {
                valid: 1,
                missing: 0,
                absent: 0,
            },
        };
        for (i, v) in [2.0, 5.0, 2.0, 5.0, 1.0].into_iter().enumerate() {
            h.insert(info(i as i64), &[v]);
        }
        let got: Vec<(f64, i64)> = (1..=3)
            .map(|n| {
                let r = h.nth(0, 0, n).unwrap();
                (r.value, r.block.end.index())
            })
            .collect();
        assert_eq!(got, vec![(5.0, 1), (5.0, 3), (2.0, 0)]);
        assert!(h.nth(0, 0, 4).is_none());
    }
}
