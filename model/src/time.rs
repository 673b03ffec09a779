//! Model time: the UTC start of a run, the one clock that steps it, and the
//! schedules on which hooks and sinks fire.
//!
//! Time inside the model is seconds since the run start, always computed as
//! `step * dt` (never accumulated), so a long run's times carry no drift.

/// A UTC instant parsed once from `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StartTime {
    pub year: i32,
    pub day_of_year: u32,
    pub hour_utc: f64,
}

impl StartTime {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn epoch_seconds(&self) -> f64 {
        let year_days = |y: i32| 365 + is_leap(y as i64) as i64;
        let days: i64 = if self.year >= 1970 {
            (1970..self.year).map(year_days).sum()
        } else {
            -(self.year..1970).map(year_days).sum::<i64>()
        };
        ((days + self.day_of_year as i64 - 1) as f64) * 86400.0 + self.hour_utc * 3600.0
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant,
/// "chrono-Compatible Low-Level Date Algorithms", `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date (year, month 1-12, day 1-31) of a day count since 1970-01-01
/// (Hinnant's `civil_from_days`, the inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Gregorian leap year.
pub fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1-12) of `year`, Gregorian.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parse `YYYY-MM-DDTHH:MM:SSZ` (checked calendar date), or None.
pub fn parse_start(s: &str) -> Option<StartTime> {
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || d == 0 || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    if d > days_in_month(y as i64, mo) {
        return None;
    }
    let doy = (1..mo).map(|m| days_in_month(y as i64, m)).sum::<u32>() + d;
    Some(StartTime {
        year: y as i32,
        day_of_year: doy,
        hour_utc: h as f64 + mi as f64 / 60.0 + se as f64 / 3600.0,
    })
}

/// The run's one clock: a fixed outer step `dt` and a step counter.
///
/// `dt` is the largest step no longer than the case's `run.dt_s` that
/// divides the synchronisation period (the output interval) into whole
/// steps, so every scheduled output falls on a step boundary.
#[derive(Debug, Clone, PartialEq)]
pub struct Clock {
    pub start: StartTime,
    /// The start as the case wrote it (CF time units, summaries).
    pub start_text: String,
    /// Outer step, seconds.
    pub dt: f64,
    /// Steps taken so far.
    pub step: u64,
    /// Steps in the whole run.
    pub steps: u64,
    /// Steps per synchronisation period.
    pub steps_per_period: u64,
}

impl Clock {
    /// A clock for `periods` periods of `period_s` seconds, stepping at most
    /// `dt_max` seconds at a time.
    pub fn new(
        start: StartTime,
        start_text: &str,
        dt_max: f64,
        period_s: f64,
        periods: u64,
    ) -> Clock {
        let per = ((period_s / dt_max).ceil() as u64).max(1);
        Clock {
            start,
            start_text: start_text.to_string(),
            dt: period_s / per as f64,
            step: 0,
            steps: per * periods,
            steps_per_period: per,
        }
    }

    /// Seconds since the run start at the current step.
    pub fn time(&self) -> f64 {
        self.step as f64 * self.dt
    }

    /// True once every step of the run has been taken.
    pub fn done(&self) -> bool {
        self.step >= self.steps
    }

    pub fn tick(&mut self) {
        self.step += 1;
    }
}

/// When a hook or sink fires: after every `n`-th step (n >= 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub every_steps: u64,
}

impl Schedule {
    pub fn every(steps: u64) -> Schedule {
        Schedule {
            every_steps: steps.max(1),
        }
    }

    /// Due after the clock has just completed step number `clock.step`.
    pub fn due(&self, clock: &Clock) -> bool {
        clock.step > 0 && clock.step % self.every_steps == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_times_parse_and_bad_ones_do_not() {
        let t = parse_start("2024-03-01T06:30:00Z").unwrap();
        assert_eq!((t.year, t.day_of_year), (2024, 61)); // leap year
        assert!((t.hour_utc - 6.5).abs() < 1e-12);
        for bad in [
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-01-01 00:00:00",
            "2023-01-01T24:00:00Z",
        ] {
            assert!(parse_start(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn epoch_seconds_of_a_known_date() {
        // 2023-01-20T00:00:00Z is 1674172800 s after the epoch (19377 days).
        let t = parse_start("2023-01-20T00:00:00Z").unwrap();
        assert_eq!(t.epoch_seconds(), 1_674_172_800.0);
    }

    #[test]
    fn the_clock_divides_the_period_and_never_accumulates() {
        let start = parse_start("2023-01-20T00:00:00Z").unwrap();
        // 3600 s in steps of at most 1000 s: four steps of 900 s.
        let mut c = Clock::new(start, "2023-01-20T00:00:00Z", 1000.0, 3600.0, 3);
        assert_eq!((c.dt, c.steps, c.steps_per_period), (900.0, 12, 4));
        let s = Schedule::every(c.steps_per_period);
        let mut fired = vec![];
        while !c.done() {
            c.tick();
            if s.due(&c) {
                fired.push(c.time());
            }
        }
        assert_eq!(fired, vec![3600.0, 7200.0, 10800.0]);
    }
}
