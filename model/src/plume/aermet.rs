//! Readers of AERMET's AERMOD-ready surface (`.SFC`) and profile (`.PFL`)
//! files, as the AERMET user's guide describes them (EPA-454/B-23-005,
//! section "AERMOD input files"; the same records since EPA-454/B-18-002),
//! into [`super::site::Hour`]s.
//!
//! Both files are free format (fields separated by blanks), one record per
//! line.
//!
//! - `.SFC`: a header line (latitude and longitude with their hemisphere
//!   letters, `UA_ID:`, `SF_ID:`, `OS_ID:` and `VERSION:` followed by their
//!   values; AERMOD tells the header from a record by its colon), then one
//!   record per hour: year, month, day, Julian day, hour (1-24, hour
//!   ending, local standard time), sensible heat flux H (W/m²), u* (m/s),
//!   w* (m/s), VPTG above the mixed layer (K/m), convective and mechanical
//!   mixing heights (m), Obukhov length L (m), z0 (m), Bowen ratio, albedo,
//!   reference wind speed (m/s), direction (degrees from), height (m),
//!   temperature (K), its height (m), and (from AERMET 06341 on)
//!   precipitation code, precipitation (mm/h), RH (%), station pressure
//!   (mb), cloud cover (tenths), then the wind source / adjustment flag
//!   (`NAD-SFC`, `ADJ-A1`, ...). At least the first 20 fields are required.
//! - `.PFL`: one record per level: year, month, day, hour, height (m), top
//!   flag (1 on the highest level of the hour), wind direction, wind speed
//!   (m/s), temperature (°C), sigma-theta (degrees), sigma-w (m/s).
//!
//! Missing values are those AERMET writes (its defaults, subroutine MPPBL:
//! H -999, u* -9, w* -9, VPTG -9, mixing heights -999, L -99999, z0 -9,
//! wind speed and direction 999, temperature 999, heights -9; profile:
//! 999 for direction, speed and temperature, 99 for the sigmas) and are
//! recognised by AERMOD's tests (metext.f, CHKMSG and PFLCNV): a wind
//! speed >= 90 or < 0, direction > 900 or <= -9, temperature > 900 or <= 0 K,
//! u* < 0 or >= 9, L < -99990, mechanical height > 90000 or < 0, and in
//! convective hours (L < 0) convective height > 90000 or < 0 and w* < 0.
//! Such an hour is [`Hour::Missing`] with the reason, counted in
//! [`AermetMet::missing`], never dropped. Here a roughness z0 <= 0 also
//! makes an hour missing (similarity needs it; AERMOD floors it at 1e-4 m).
//!
//! A calm hour, wind speed exactly 0 (AERMOD's CHKCLM), is valid: the
//! plume model simulates calms. AERMET cannot solve its similarity
//! relations without wind, so it writes a calm hour's u*, L, w* and mixing
//! heights as missing (MPPBL skips calm hours). For such an hour the reader
//! takes u* = 0 and w* = 0 (no shear and no convective scale given), L
//! infinite (no stability information: neutral), H = 0 when missing, and
//! carries the mixing heights, z0 and the measurement heights from the
//! nearest earlier valid hour (the next later one when the file starts
//! calm); each such substitution is listed in [`AermetMet::notes`]. A calm
//! hour whose temperature is missing is missing.
//!
//! Other substitutions, in any valid hour: H missing is derived from its
//! definition through L, L = -rho cp T u*³ / (k g H) (Stull 1988, eq.
//! 5.7c; rho from the station pressure, 1013.25 mb when missing);
//! w* and the convective height missing in stable hours are 0; VPTG
//! missing is AERMOD's minimum 0.005 K/m (metext.f, METQA); precipitation
//! outside 0-900 mm/h is 0 (METQA); a missing temperature height is carried
//! like a calm hour's heights.
//!
//! Years may have 2 or 4 digits; 2-digit years are windowed to 1950-2049
//! (yy >= 50 is 19yy). Hours must follow each other without gaps (a gap or
//! a record out of order is an error naming its line, as AERMOD's CHKDAT
//! refuses them), the Julian day must match the date, and every surface
//! hour must have its profile hour, in the same order (AERMOD's CMPDAT).
//! Unreadable or impossible values are errors naming the file, the line,
//! the field and what was expected.

use super::site::{Hour, ProfileLevel, SiteHour};
use crate::error::{Error, Result};
use crate::time::{days_from_civil, days_in_month};
use std::path::Path;

// Constants as the model's met uses them.
use crate::met::{CP_DRY, GRAVITY, KARMAN, R_DRY};

/// The `.SFC` header: site latitude and longitude (degrees, north and
/// east positive) and the station ids and AERMET version as written.
#[derive(Debug, Clone, PartialEq)]
pub struct SfcHeader {
    pub lat: f64,
    pub lon: f64,
    pub ua_id: Option<String>,
    pub sf_id: Option<String>,
    pub os_id: Option<String>,
    pub version: Option<String>,
}

/// What the reader made of a pair of files: every hour in order, valid or
/// missing, and the counts and substitutions to report.
#[derive(Debug, Clone, PartialEq)]
pub struct AermetMet {
    pub header: SfcHeader,
    pub hours: Vec<Hour>,
    /// Valid hours with wind speed 0.
    pub calm: usize,
    /// Hours marked missing.
    pub missing: usize,
    /// One line per substitution (calm-hour heights carried, H derived, ...).
    pub notes: Vec<String>,
}

impl AermetMet {
    /// One line for the run's log: hours, calms, missing.
    pub fn summary(&self) -> String {
        format!(
            "{} hours: {} valid ({} calm), {} missing, {} substituted values",
            self.hours.len(),
            self.hours.len() - self.missing,
            self.calm,
            self.missing,
            self.notes.len()
        )
    }
}

/// Full year of a 2- or 4-digit year: 2-digit years are windowed to
/// 1950-2049.
pub fn full_year(y: i64) -> i64 {
    match y {
        0..=49 => 2000 + y,
        50..=99 => 1900 + y,
        _ => y,
    }
}

/// Surface field names, in file order (for messages).
const SFC_FIELDS: [&str; 25] = [
    "year",
    "month",
    "day",
    "julian day",
    "hour",
    "sensible heat flux",
    "u*",
    "w*",
    "VPTG",
    "convective mixing height",
    "mechanical mixing height",
    "Obukhov length",
    "z0",
    "Bowen ratio",
    "albedo",
    "wind speed",
    "wind direction",
    "wind height",
    "temperature",
    "temperature height",
    "precipitation code",
    "precipitation",
    "relative humidity",
    "station pressure",
    "cloud cover",
];

const PFL_FIELDS: [&str; 11] = [
    "year",
    "month",
    "day",
    "hour",
    "height",
    "top flag",
    "wind direction",
    "wind speed",
    "temperature",
    "sigma-theta",
    "sigma-w",
];

/// Read an AERMET surface file and, when given, its profile file.
pub fn read(sfc: &Path, pfl: Option<&Path>) -> Result<AermetMet> {
    let sfc_text = read_text(sfc)?;
    let (header, records) = parse_surface(&sfc_text, sfc)?;
    let profiles = match pfl {
        Some(p) => {
            let text = read_text(p)?;
            let profiles = parse_profile(&text, p)?;
            join_check(&records, &profiles, sfc, p)?;
            Some(profiles)
        }
        None => None,
    };
    Ok(resolve(header, records, profiles))
}

/// Parse surface and profile text as if read from `sfc` and `pfl` (tests).
pub fn read_str(sfc_text: &str, sfc: &Path, pfl: Option<(&str, &Path)>) -> Result<AermetMet> {
    let (header, records) = parse_surface(sfc_text, sfc)?;
    let profiles = match pfl {
        Some((text, p)) => {
            let profiles = parse_profile(text, p)?;
            join_check(&records, &profiles, sfc, p)?;
            Some(profiles)
        }
        None => None,
    };
    Ok(resolve(header, records, profiles))
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = crate::input::read_csv_bytes(path)?;
    String::from_utf8(bytes).map_err(|e| Error::input(path, "(file)", format!("a text file ({e})")))
}

/// Hour stamp: year, month, day, hour (1-24), its line, and an hour count.
#[derive(Debug, Clone, Copy)]
struct Stamp {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    line: usize,
}

impl Stamp {
    fn index(&self) -> i64 {
        days_from_civil(self.year as i64, self.month, self.day) * 24 + self.hour as i64
    }
    fn text(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} hour {:02}",
            self.year, self.month, self.day, self.hour
        )
    }
}

/// One surface record as read: numbers, with the missing codes still in.
#[derive(Debug, Clone)]
struct SfcRecord {
    at: Stamp,
    v: [f64; 20],
    precip: Option<f64>,
    pressure_mb: Option<f64>,
}

/// One hour of profile levels.
#[derive(Debug, Clone)]
struct PflHour {
    at: Stamp,
    levels: Vec<ProfileLevel>,
}

fn field_name(line: usize, k: usize, names: &[&str]) -> String {
    format!("line {line}, field {} ({})", k + 1, names[k])
}

fn number(path: &Path, line: usize, k: usize, names: &[&str], tok: &str) -> Result<f64> {
    match tok.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(Error::input(
            path,
            field_name(line, k, names),
            format!("a finite number, got {tok:?}"),
        )),
    }
}

fn integer(path: &Path, line: usize, k: usize, names: &[&str], tok: &str) -> Result<i64> {
    tok.parse::<i64>().map_err(|_| {
        Error::input(
            path,
            field_name(line, k, names),
            format!("a whole number, got {tok:?}"),
        )
    })
}

/// Date and hour from the first fields of a record (`jday` is the index of
/// the Julian day in a surface record, None in a profile record).
fn stamp(path: &Path, line: usize, toks: &[&str], names: &[&str], jday: bool) -> Result<Stamp> {
    let err = |k: usize, expected: String| Error::input(path, field_name(line, k, names), expected);
    let year = full_year(integer(path, line, 0, names, toks[0])?);
    if !(1..=9999).contains(&year) {
        return Err(err(0, format!("a year of 2 or 4 digits, got {}", toks[0])));
    }
    let month = integer(path, line, 1, names, toks[1])?;
    if !(1..=12).contains(&month) {
        return Err(err(1, format!("a month 1-12, got {month}")));
    }
    let month = month as u32;
    let day = integer(path, line, 2, names, toks[2])?;
    let ndays = days_in_month(year, month) as i64;
    if !(1..=ndays).contains(&day) {
        return Err(err(
            2,
            format!("a day 1-{ndays} of {year}-{month:02}, got {day}"),
        ));
    }
    let day = day as u32;
    let hk = if jday { 4 } else { 3 };
    if jday {
        let j = integer(path, line, 3, names, toks[3])?;
        let expect = days_from_civil(year, month, day) - days_from_civil(year, 1, 1) + 1;
        if j != expect {
            return Err(err(
                3,
                format!("the day of the year of {year}-{month:02}-{day:02}, {expect}; got {j}"),
            ));
        }
    }
    let hour = integer(path, line, hk, names, toks[hk])?;
    if !(1..=24).contains(&hour) {
        return Err(err(hk, format!("an hour 1-24 (hour ending), got {hour}")));
    }
    Ok(Stamp {
        year: year as i32,
        month,
        day,
        hour: hour as u32,
        line,
    })
}

/// Check `at` follows `prev` by exactly one hour.
fn check_sequence(path: &Path, prev: Option<Stamp>, at: Stamp) -> Result<()> {
    if let Some(p) = prev {
        let step = at.index() - p.index();
        if step != 1 {
            let what = if step <= 0 {
                "out of order".to_string()
            } else {
                format!("a gap of {} hours", step - 1)
            };
            return Err(Error::input(
                path,
                format!("line {}, date and hour", at.line),
                format!(
                    "the hour after {} (line {}); found {}: {what} (hours must be consecutive)",
                    p.text(),
                    p.line,
                    at.text()
                ),
            ));
        }
    }
    Ok(())
}

fn parse_angle(path: &Path, tok: &str, hemis: [char; 2], max: f64, what: &str) -> Result<f64> {
    let bad = || {
        Error::input(
            path,
            format!("line 1, {what}"),
            format!(
                "the header's {what}: degrees followed by {} or {}, got {tok:?}",
                hemis[0], hemis[1]
            ),
        )
    };
    let last = tok.chars().last().ok_or_else(bad)?;
    let sign = if last == hemis[0] {
        1.0
    } else if last == hemis[1] {
        -1.0
    } else {
        return Err(bad());
    };
    let v: f64 = tok[..tok.len() - last.len_utf8()]
        .parse()
        .map_err(|_| bad())?;
    if !(v.is_finite() && (0.0..=max).contains(&v)) {
        return Err(bad());
    }
    Ok(sign * v)
}

fn parse_header(line: &str, path: &Path) -> Result<SfcHeader> {
    let toks: Vec<&str> = line.split_whitespace().collect();
    if toks.len() < 2 || !line.contains(':') {
        return Err(Error::input(
            path,
            "line 1, header",
            "AERMET's header line: latitude, longitude (e.g. 24.33N 109.41E), then UA_ID:, SF_ID:, OS_ID:, VERSION:",
        ));
    }
    let lat = parse_angle(path, toks[0], ['N', 'S'], 90.0, "latitude")?;
    let lon = parse_angle(path, toks[1], ['E', 'W'], 180.0, "longitude")?;
    // The value after a key, unless the next token is itself a key.
    let after = |key: &str| {
        let k = toks.iter().position(|t| t.eq_ignore_ascii_case(key))?;
        toks.get(k + 1)
            .filter(|t| !t.ends_with(':'))
            .map(|t| t.to_string())
    };
    Ok(SfcHeader {
        lat,
        lon,
        ua_id: after("UA_ID:"),
        sf_id: after("SF_ID:"),
        os_id: after("OS_ID:"),
        version: after("VERSION:"),
    })
}

fn parse_surface(text: &str, path: &Path) -> Result<(SfcHeader, Vec<SfcRecord>)> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let header = match lines.next() {
        Some((_, l)) => parse_header(l, path)?,
        None => {
            return Err(Error::input(
                path,
                "line 1, header",
                "AERMET's header line; the file is empty",
            ))
        }
    };
    let mut out: Vec<SfcRecord> = Vec::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        // A multi-year file repeats the header at each year (AERMOD tells
        // it by its colon).
        if line.contains(':') {
            continue;
        }
        let toks: Vec<&str> = line.split_whitespace().collect();
        if toks.len() < 20 {
            return Err(Error::input(
                path,
                format!("line {n}"),
                format!(
                    "an hourly record of at least 20 fields (year ... temperature height); found {}",
                    toks.len()
                ),
            ));
        }
        let at = stamp(path, n, &toks, &SFC_FIELDS, true)?;
        check_sequence(path, out.last().map(|r| r.at), at)?;
        let mut v = [0.0; 20];
        for k in 5..20 {
            v[k] = number(path, n, k, &SFC_FIELDS, toks[k])?;
        }
        check_surface_ranges(path, n, &v)?;
        // Fields 21-25 when present; the first word that is not a number
        // starts the wind flags.
        let mut extra = [None; 5];
        for k in 20..25 {
            match toks.get(k) {
                Some(t) if t.parse::<f64>().is_ok() => {
                    extra[k - 20] = Some(number(path, n, k, &SFC_FIELDS, t)?)
                }
                _ => break,
            }
        }
        out.push(SfcRecord {
            at,
            v,
            precip: extra[1],
            pressure_mb: extra[3],
        });
    }
    if out.is_empty() {
        return Err(Error::input(
            path,
            "(records)",
            "at least one hourly record after the header",
        ));
    }
    Ok((header, out))
}

/// Values that are neither physical nor a missing code are errors: a
/// direction outside 0-360 (and not 999 / <= -9), a temperature outside
/// 170-340 K (the recorded extremes are 184 K and 330 K; not >= 900 or
/// <= 0), a valid wind without a measurement height (AERMOD's fatal
/// error 474), a negative z0 other than the code -9.
fn check_surface_ranges(path: &Path, n: usize, v: &[f64; 20]) -> Result<()> {
    let err = |k: usize, expected: &str| {
        Err(Error::input(
            path,
            field_name(n, k, &SFC_FIELDS),
            format!("{expected}, got {}", v[k]),
        ))
    };
    let wd = v[col::WD];
    if !(wd > 900.0 || wd <= -9.0 || (0.0..=360.0).contains(&wd)) {
        return err(col::WD, "a direction 0-360 degrees or the missing code 999");
    }
    let t = v[col::T];
    if !(t > 900.0 || t <= 0.0 || (170.0..=340.0).contains(&t)) {
        return err(col::T, "a temperature 170-340 K or the missing code 999");
    }
    let ws = v[col::WS];
    let wind_valid = ws > 0.0 && ws < 90.0 && (0.0..=360.0).contains(&wd);
    if wind_valid && v[col::ZREF] < 0.001 {
        return err(col::ZREF, "the height of a valid wind, > 0 m");
    }
    if v[col::Z0] < 0.0 && v[col::Z0] != -9.0 {
        return err(col::Z0, "a roughness length > 0 m or the missing code -9");
    }
    Ok(())
}

fn parse_profile(text: &str, path: &Path) -> Result<Vec<PflHour>> {
    let mut out: Vec<PflHour> = Vec::new();
    let mut open: Option<PflHour> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let toks: Vec<&str> = line.split_whitespace().collect();
        if toks.len() < 11 {
            return Err(Error::input(
                path,
                format!("line {n}"),
                format!("a profile record of 11 fields (year month day hour height flag direction speed temperature sigma-theta sigma-w); found {}", toks.len()),
            ));
        }
        let at = stamp(path, n, &toks, &PFL_FIELDS, false)?;
        let mut v = [0.0; 11];
        for k in 4..11 {
            v[k] = number(path, n, k, &PFL_FIELDS, toks[k])?;
        }
        let f = |k: usize| field_name(n, k, &PFL_FIELDS);
        let height = v[4];
        if height <= 0.0 {
            return Err(Error::input(
                path,
                f(4),
                format!("a height above ground > 0 m, got {height}"),
            ));
        }
        let top = match toks[5] {
            "0" => false,
            "1" => true,
            t => {
                return Err(Error::input(
                    path,
                    f(5),
                    format!("0 or 1 (1 on the hour's highest level), got {t:?}"),
                ))
            }
        };
        let (wd, ws, tc, st, sw) = (v[6], v[7], v[8], v[9], v[10]);
        let wind_speed = (0.0..=90.0).contains(&ws).then_some(ws);
        let wind_dir = if wd > 900.0 || wd <= -9.0 || (ws == 0.0 && wd == 0.0) {
            None
        } else if (0.0..=360.0).contains(&wd) {
            Some(wd)
        } else {
            return Err(Error::input(
                path,
                f(6),
                format!("a direction 0-360 degrees or the missing code 999, got {wd}"),
            ));
        };
        let temperature = (tc > -90.0 && tc < 90.0).then_some(tc + 273.15);
        let sigma_theta = (0.0..99.0).contains(&st).then_some(st);
        let sigma_w = (0.0..=90.0).contains(&sw).then_some(sw);
        let level = ProfileLevel {
            height,
            wind_dir,
            wind_speed,
            temperature,
            sigma_theta,
            sigma_w,
        };
        match open.as_mut() {
            Some(h) if h.at.index() == at.index() => {
                let below = h.levels.last().map_or(0.0, |l| l.height);
                if height <= below {
                    return Err(Error::input(
                        path,
                        f(4),
                        format!(
                            "levels of an hour in increasing height; {height} m follows {below} m"
                        ),
                    ));
                }
                h.levels.push(level);
            }
            Some(h) => {
                return Err(Error::input(
                    path,
                    format!("line {n}, date and hour"),
                    format!(
                        "more levels of {} (line {}) up to one with top flag 1; found {}",
                        h.at.text(),
                        h.at.line,
                        at.text()
                    ),
                ))
            }
            None => {
                check_sequence(path, out.last().map(|h| h.at), at)?;
                open = Some(PflHour {
                    at,
                    levels: vec![level],
                });
            }
        }
        if top {
            out.push(open.take().expect("opened above"));
        }
    }
    if let Some(h) = open {
        return Err(Error::input(
            path,
            format!("line {}, top flag", h.at.line),
            format!(
                "the levels of {} to end with top flag 1; the file ends first",
                h.at.text()
            ),
        ));
    }
    Ok(out)
}

fn join_check(sfc: &[SfcRecord], pfl: &[PflHour], sfc_path: &Path, pfl_path: &Path) -> Result<()> {
    for (k, s) in sfc.iter().enumerate() {
        match pfl.get(k) {
            Some(p) if p.at.index() == s.at.index() => {}
            Some(p) => {
                return Err(Error::input(
                    pfl_path,
                    format!("line {}, date and hour", p.at.line),
                    format!(
                    "the profile of {} (surface file {}, line {}), hour {} of both files; found {}",
                    s.at.text(),
                    sfc_path.display(),
                    s.at.line,
                    k + 1,
                    p.at.text()
                ),
                ))
            }
            None => {
                return Err(Error::input(
                    pfl_path,
                    "(records)",
                    format!(
                        "a profile for every surface hour; none for {} (surface file {}, line {})",
                        s.at.text(),
                        sfc_path.display(),
                        s.at.line
                    ),
                ))
            }
        }
    }
    if pfl.len() > sfc.len() {
        let p = &pfl[sfc.len()];
        return Err(Error::input(
            pfl_path,
            format!("line {}, date and hour", p.at.line),
            format!(
                "no more hours than the surface file {} ({} hours); found {}",
                sfc_path.display(),
                sfc.len(),
                p.at.text()
            ),
        ));
    }
    Ok(())
}

/// The fields an hour may carry over from its neighbours.
#[derive(Debug, Clone, Copy)]
struct Carry {
    zi_conv: f64,
    zi_mech: f64,
    z0: f64,
    wind_height: f64,
    temp_height: f64,
}

/// Column indices of the surface fields used.
mod col {
    pub const H: usize = 5;
    pub const USTAR: usize = 6;
    pub const WSTAR: usize = 7;
    pub const VPTG: usize = 8;
    pub const ZIC: usize = 9;
    pub const ZIM: usize = 10;
    pub const L: usize = 11;
    pub const Z0: usize = 12;
    pub const WS: usize = 15;
    pub const WD: usize = 16;
    pub const ZREF: usize = 17;
    pub const T: usize = 18;
    pub const ZT: usize = 19;
}

/// AERMOD's default VPTG above the mixed layer, K/m (metext.f, METQA).
pub const DEFAULT_VPTG: f64 = 0.005;

fn resolve(
    header: SfcHeader,
    records: Vec<SfcRecord>,
    profiles: Option<Vec<PflHour>>,
) -> AermetMet {
    let (mut calm, mut missing) = (0, 0);
    let mut notes = Vec::new();
    // First pass: heights of each non-calm, non-missing hour, to carry.
    let own: Vec<Option<Carry>> = records
        .iter()
        .map(|r| {
            let v = &r.v;
            let ok = |x: f64| (0.0..=90000.0).contains(&x);
            (v[col::WS] > 0.0
                && v[col::WS] < 90.0
                && (0.0..=360.0).contains(&v[col::WD])
                && v[col::T] > 0.0
                && v[col::T] <= 900.0
                && (0.0..9.0).contains(&v[col::USTAR])
                && v[col::L] >= -99990.0
                && ok(v[col::ZIM])
                && v[col::Z0] > 0.0
                && v[col::ZREF] > 0.0
                && v[col::ZT] > 0.0)
                .then(|| Carry {
                    zi_conv: if ok(v[col::ZIC]) { v[col::ZIC] } else { 0.0 },
                    zi_mech: v[col::ZIM],
                    z0: v[col::Z0],
                    wind_height: v[col::ZREF],
                    temp_height: v[col::ZT],
                })
        })
        .collect();
    let carry_for = |k: usize| -> Option<(Carry, usize)> {
        (0..k)
            .rev()
            .chain(k + 1..records.len())
            .find_map(|j| own[j].map(|c| (c, j)))
    };
    let mut profiles = profiles.map(|p| p.into_iter());
    let mut hours = Vec::with_capacity(records.len());
    for (k, r) in records.iter().enumerate() {
        let levels = profiles
            .as_mut()
            .and_then(|p| p.next())
            .map(|p| p.levels)
            .unwrap_or_default();
        let v = &r.v;
        let at = r.at;
        let miss = |reason: String| Hour::Missing {
            year: at.year,
            month: at.month,
            day: at.day,
            hour: at.hour,
            reason,
        };
        let reason = |k: usize| format!("{} (field {}) = {}", SFC_FIELDS[k], k + 1, v[k]);
        let (ws, wd, t) = (v[col::WS], v[col::WD], v[col::T]);
        let is_calm = ws == 0.0;
        let mut why: Option<String> = None;
        let mut flag = |c: bool, k: usize| {
            if c && why.is_none() {
                why = Some(reason(k));
            }
        };
        flag(!(0.0..90.0).contains(&ws), col::WS);
        flag(wd > 900.0 || wd <= -9.0, col::WD);
        flag(t > 900.0 || t <= 0.0, col::T);
        let (ustar, l) = (v[col::USTAR], v[col::L]);
        let ustar_missing = !(0.0..9.0).contains(&ustar);
        let l_missing = l < -99990.0;
        let zim_missing = !(0.0..=90000.0).contains(&v[col::ZIM]);
        let zic_missing = !(0.0..=90000.0).contains(&v[col::ZIC]);
        let convective = !l_missing && l < 0.0;
        if !is_calm {
            flag(ustar_missing, col::USTAR);
            flag(l_missing, col::L);
            flag(zim_missing, col::ZIM);
            flag(convective && zic_missing, col::ZIC);
            flag(convective && v[col::WSTAR] < 0.0, col::WSTAR);
            flag(v[col::Z0] <= 0.0, col::Z0);
        }
        if let Some(reason) = why {
            missing += 1;
            hours.push(miss(reason));
            continue;
        }
        let stamp = at.text();
        let mut note = |s: String| notes.push(format!("{stamp} (line {}): {s}", at.line));
        // Heights carried in calm hours and for a missing temperature height.
        let needs_carry = (is_calm
            && (zim_missing
                || (convective && zic_missing)
                || v[col::Z0] <= 0.0
                || v[col::ZREF] <= 0.0))
            || v[col::ZT] <= 0.0;
        let carried = if needs_carry { carry_for(k) } else { None };
        if needs_carry && carried.is_none() {
            missing += 1;
            hours.push(miss(
                "a calm hour (or missing temperature height) and no hour in the file to carry mixing heights, z0 and measurement heights from".into(),
            ));
            continue;
        }
        let mut take = |bad: bool, value: f64, name: &str, from: fn(&Carry) -> f64| {
            if bad {
                let (c, j) = carried.expect("checked above");
                note(format!(
                    "{name} carried from {} (line {})",
                    records[j].at.text(),
                    records[j].at.line
                ));
                from(&c)
            } else {
                value
            }
        };
        let zi_mech = take(
            is_calm && zim_missing,
            v[col::ZIM],
            "mechanical mixing height",
            |c| c.zi_mech,
        );
        let zi_conv = if convective {
            take(
                is_calm && zic_missing,
                v[col::ZIC],
                "convective mixing height",
                |c| c.zi_conv,
            )
        } else {
            0.0
        };
        let z0 = take(is_calm && v[col::Z0] <= 0.0, v[col::Z0], "z0", |c| c.z0);
        let wind_height = take(
            is_calm && v[col::ZREF] <= 0.0,
            v[col::ZREF],
            "wind height",
            |c| c.wind_height,
        );
        let temp_height = take(v[col::ZT] <= 0.0, v[col::ZT], "temperature height", |c| {
            c.temp_height
        });
        let ustar = if ustar_missing { 0.0 } else { ustar };
        let obukhov = if l_missing { f64::INFINITY } else { l };
        if is_calm && (ustar_missing || l_missing) {
            note("calm: u* = 0, L infinite (AERMET writes no similarity scales for calms)".into());
        }
        let wstar = if convective && v[col::WSTAR] >= 0.0 {
            v[col::WSTAR]
        } else {
            0.0
        };
        let vptg = if v[col::VPTG] < 0.0 {
            DEFAULT_VPTG
        } else {
            v[col::VPTG]
        };
        let heat_flux = if v[col::H] > -999.0 {
            v[col::H]
        } else if ustar == 0.0 || obukhov.is_infinite() {
            0.0
        } else {
            let p = r
                .pressure_mb
                .filter(|p| (500.0..1100.0).contains(p))
                .unwrap_or(1013.25)
                * 100.0;
            let rho = p / (R_DRY * t);
            note("sensible heat flux derived from L, u* and T".into());
            -rho * CP_DRY * t * ustar.powi(3) / (KARMAN * GRAVITY * obukhov)
        };
        let precip_mm_h = r
            .precip
            .filter(|p| (0.0..=900.0).contains(p))
            .unwrap_or(0.0);
        if is_calm {
            calm += 1;
        }
        hours.push(Hour::Valid(SiteHour {
            year: at.year,
            month: at.month,
            day: at.day,
            hour: at.hour,
            heat_flux,
            ustar,
            wstar,
            vptg,
            zi_conv,
            zi_mech,
            obukhov,
            z0,
            wind_speed: ws,
            wind_dir: wd,
            wind_height,
            temperature: t,
            temp_height,
            precip_mm_h,
            profile: levels,
        }));
    }
    AermetMet {
        header,
        hours,
        calm,
        missing,
        notes,
    }
}
