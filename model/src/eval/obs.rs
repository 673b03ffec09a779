//! The national monitoring network's (CNEMC) hourly station files, in the
//! layout the network's published hourly files are repackaged in: one row
//! per station and hour with the columns `date` (YYYYMMDD), `hour` (0-23,
//! Beijing time, UTC+8), `stationcode`, the pollutants (`PM2.5` among them,
//! ug/m3), `area` (the city, in Chinese), `positionname`, `longitude` and
//! `latitude`. Other columns are ignored; an empty cell is a missing value.
//!
//! Time: the value of hour h is the mean of the hour ending at h:00 local
//! time (the network stamps an hourly mean with the end of its averaging
//! hour), so hour 0 of a date belongs to the previous local day.
//! [`HOUR_ENDING`] holds that convention.

use crate::error::{Error, Result};
pub use crate::time::days_from_civil;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The network's local time: Beijing time, UTC+8.
pub const UTC_OFFSET_HOURS: i64 = 8;

/// An hour's value is the mean of the hour ending at its time stamp.
pub const HOUR_ENDING: bool = true;

/// Chinese prefecture names (as in the `area` column, with or without the
/// 市 / 州 suffix) and the English names the model's cities use: the 14
/// prefecture-level divisions of Hunan, and Liuzhou and Qinzhou (Guangxi).
pub const CITY_NAMES: &[(&str, &str)] = &[
    ("长沙", "Changsha"),
    ("株洲", "Zhuzhou"),
    ("湘潭", "Xiangtan"),
    ("衡阳", "Hengyang"),
    ("郴州", "Chenzhou"),
    ("岳阳", "Yueyang"),
    ("常德", "Changde"),
    ("益阳", "Yiyang"),
    ("娄底", "Loudi"),
    ("邵阳", "Shaoyang"),
    ("永州", "Yongzhou"),
    ("怀化", "Huaihua"),
    ("张家界", "Zhangjiajie"),
    ("湘西", "Xiangxi"),
    ("柳州", "Liuzhou"),
    ("钦州", "Qinzhou"),
];

/// Groups of cities reported together: Changsha-Zhuzhou-Xiangtan.
pub const CITY_GROUPS: &[(&str, &[&str])] = &[("CZT", &["Changsha", "Zhuzhou", "Xiangtan"])];

/// The English name of an `area` value: a city of [`CITY_NAMES`] (the
/// name, or the name with a suffix such as 市 or 土家族苗族自治州), else the
/// value itself.
pub fn english_city(area: &str) -> String {
    let area = area.trim();
    CITY_NAMES
        .iter()
        .find(|(cn, _)| area.starts_with(cn))
        .map_or_else(|| area.to_string(), |(_, en)| en.to_string())
}

/// A station of the files.
#[derive(Debug, Clone, PartialEq)]
pub struct Station {
    pub code: String,
    /// The `area` column as written.
    pub area: String,
    /// The English city name ([`english_city`]).
    pub city: String,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
}

/// One valid hourly PM2.5 value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hourly {
    /// Index into [`Obs::stations`].
    pub station: usize,
    /// End of the averaging hour, UTC seconds since 1970.
    pub end_epoch: i64,
    pub pm25: f64,
}

impl Hourly {
    /// The local day (days since 1970-01-01, Beijing time) of the hour's
    /// start: the day whose 24-h mean the hour belongs to.
    pub fn local_day(&self) -> i64 {
        (self.end_epoch - 3600 + UTC_OFFSET_HOURS * 3600).div_euclid(86_400)
    }
}

/// Everything read from the files.
#[derive(Debug, Clone, Default)]
pub struct Obs {
    pub files: Vec<PathBuf>,
    pub stations: Vec<Station>,
    /// Valid hours, in file and row order.
    pub hours: Vec<Hourly>,
    /// Station-hours with an empty PM2.5 cell.
    pub missing: usize,
}

impl Obs {
    /// Cities in the files (English names), sorted, with their station counts.
    pub fn cities(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for s in &self.stations {
            *out.entry(s.city.clone()).or_insert(0) += 1;
        }
        out
    }
}

/// The CSV files of `paths`: files as given, directories as every `*.csv`
/// directly inside them (sorted by name).
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let entries = std::fs::read_dir(p).map_err(|e| {
                Error::input(p, "(directory)", format!("a readable directory ({e})"))
            })?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.is_file() && f.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv"))
                })
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(Error::input(
                    p,
                    "(directory)",
                    "a directory holding CNEMC hourly .csv files; it has none",
                ));
            }
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    if out.is_empty() {
        return Err(Error::input(
            Path::new("(command line)"),
            "OBS",
            "at least one observation file or directory",
        ));
    }
    Ok(out)
}

/// Read every file of `paths` (files or directories).
pub fn read(paths: &[PathBuf]) -> Result<Obs> {
    let files = expand(paths)?;
    let mut obs = Obs {
        files: files.clone(),
        ..Obs::default()
    };
    let mut by_code: BTreeMap<String, usize> = BTreeMap::new();
    // (station, end) -> where it was first read, to refuse duplicates.
    let mut seen: BTreeMap<(usize, i64), (usize, u64)> = BTreeMap::new();
    for (f, path) in files.iter().enumerate() {
        read_file(path, f, &mut obs, &mut by_code, &mut seen)?;
    }
    Ok(obs)
}

const REQUIRED: &[&str] = &[
    "date",
    "hour",
    "stationcode",
    "PM2.5",
    "area",
    "longitude",
    "latitude",
];

fn read_file(
    path: &Path,
    file_index: usize,
    obs: &mut Obs,
    by_code: &mut BTreeMap<String, usize>,
    seen: &mut BTreeMap<(usize, i64), (usize, u64)>,
) -> Result<()> {
    let bytes = crate::input::read_csv_bytes(path)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| Error::input(path, "(header)", format!("a CSV header row ({e})")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let mut idx = BTreeMap::new();
    for name in REQUIRED {
        let c = col(name).ok_or_else(|| {
            Error::input(
                path,
                *name,
                format!(
                    "a column `{name}` in the header (CNEMC hourly layout: {}), found: {}",
                    REQUIRED.join(", "),
                    headers.iter().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        idx.insert(*name, c);
    }
    let position_name = col("positionname");
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            Error::input(
                path,
                format!("line {line}"),
                format!("a well-formed CSV row ({e})"),
            )
        })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        let field = |name: &str| record.get(idx[name]).unwrap_or("").trim();
        let bad = |name: &str, expected: &str| {
            Error::input(
                path,
                format!("line {line}, column {name}"),
                format!("{expected}, got {:?}", field(name)),
            )
        };
        let date = field("date");
        let (y, m, d) = match (
            date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()),
            date.get(0..4).and_then(|s| s.parse::<i64>().ok()),
            date.get(4..6).and_then(|s| s.parse::<u32>().ok()),
            date.get(6..8).and_then(|s| s.parse::<u32>().ok()),
        ) {
            (true, Some(y), Some(m), Some(d))
                if (1..=12).contains(&m) && d >= 1 && d <= crate::time::days_in_month(y, m) =>
            {
                (y, m, d)
            }
            _ => return Err(bad("date", "a calendar date YYYYMMDD")),
        };
        let hour: i64 = field("hour")
            .parse()
            .ok()
            .filter(|h| (0..=23).contains(h))
            .ok_or_else(|| bad("hour", "an hour 0-23 (local time)"))?;
        let code = field("stationcode");
        if code.is_empty() {
            return Err(bad("stationcode", "a station code"));
        }
        let coord = |name: &str, lim: f64| -> Result<f64> {
            field(name)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && v.abs() <= lim)
                .ok_or_else(|| bad(name, &format!("a number of degrees within +-{lim}")))
        };
        let (lon, lat) = (coord("longitude", 180.0)?, coord("latitude", 90.0)?);
        let station = match by_code.get(code) {
            Some(&s) => {
                let st = &obs.stations[s];
                // The same station must stay where it was (within 0.001 deg).
                if (st.lon - lon).abs() > 1e-3 || (st.lat - lat).abs() > 1e-3 {
                    return Err(bad(
                        "longitude",
                        &format!(
                            "station {code} at ({}, {}) as on its earlier rows",
                            st.lon, st.lat
                        ),
                    ));
                }
                s
            }
            None => {
                let area = field("area").to_string();
                if area.is_empty() {
                    return Err(bad("area", "the station's city"));
                }
                obs.stations.push(Station {
                    code: code.to_string(),
                    city: english_city(&area),
                    area,
                    name: position_name
                        .and_then(|c| record.get(c))
                        .unwrap_or("")
                        .trim()
                        .to_string(),
                    lon,
                    lat,
                });
                by_code.insert(code.to_string(), obs.stations.len() - 1);
                obs.stations.len() - 1
            }
        };
        let pm = field("PM2.5");
        if pm.is_empty() {
            obs.missing += 1;
            continue;
        }
        let pm25: f64 = pm
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| bad("PM2.5", "a concentration >= 0 in ug/m3, or an empty cell"))?;
        let stamp = days_from_civil(y, m, d) * 86_400 + (hour - UTC_OFFSET_HOURS) * 3600;
        let end_epoch = if HOUR_ENDING { stamp } else { stamp + 3600 };
        if let Some((f0, l0)) = seen.insert((station, end_epoch), (file_index, line)) {
            return Err(Error::input(
                path,
                format!("line {line}, column stationcode"),
                format!(
                    "one row per station and hour; station {code} on {date} hour {hour} is also on line {l0} of {}",
                    obs.files[f0].display()
                ),
            ));
        }
        obs.hours.push(Hourly {
            station,
            end_epoch,
            pm25,
        });
    }
    Ok(())
}
