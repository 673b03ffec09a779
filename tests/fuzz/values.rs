//! Dictionaries the mutators draw from: extreme numbers, hostile strings,
//! and the words the readers look for (so mutations stay near the grammar).

use super::rng::Rng;

/// Number literals, as text (TOML and CSV alike): zeros, signs, the
/// smallest and largest doubles, non-finite values, integer boundaries.
pub const NUMBER_TEXT: &[&str] = &[
    "0",
    "-0.0",
    "-1",
    "1",
    "2",
    "3",
    "1e-308",
    "5e-324",
    "1e300",
    "-1e300",
    "nan",
    "inf",
    "-inf",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967296",
    "9223372036854775808",
    "18446744073709551615",
    "1e-9",
    "0.5",
    "1e5",
    "1e6",
    "1e30",
    "65536",
    "3600.5",
    "257",
];

/// Numbers only CSV (Rust's `f64::from_str`) spells this way.
pub const CSV_ONLY_NUMBERS: &[&str] = &[
    "NaN",
    "Infinity",
    "-infinity",
    "1e400",
    "0x10",
    "1e",
    "+1",
    " 1",
    "1_000",
    "١",
];

/// Values for numeric cells of NetCDF files.
pub const NUMBER_VALUES: &[f64] = &[
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    1e30,
    -1e30,
    9.969_209_968_386_869e36, // NC_FILL_DOUBLE
    9.969_21e36_f32 as f64,   // NC_FILL_FLOAT
    -999.0,
    -9999.0,
    0.0,
    -0.0,
    -1.0,
    1e-308,
    5e-324,
    1e300,
    f64::MAX,
    1e6,
];

/// Strings that stress paths, names and parsers.
pub fn weird_string(rng: &mut Rng) -> String {
    match rng.below(16) {
        0 => String::new(),
        1 => "/x".into(),
        2 => "../x".into(),
        3 => "x".repeat(10_000),
        4 => "é中文😀".into(),
        5 => "\u{202e}evil".into(),
        6 => "a\0b".into(),
        7 => "a\nb".into(),
        8 => " ".into(),
        9 => "/dev/null".into(),
        10 => "/".into(),
        11 => ".".into(),
        12 => "NaN".into(),
        13 => "\"quoted\"".into(),
        14 => "/dev/zero".into(),
        _ => "a,b".into(),
    }
}

/// Words the case file and the readers know.
pub const DOMAIN_WORDS: &[&str] = &[
    "lambert",
    "latlon",
    "cartesian",
    "analytic",
    "netcdf",
    "reanalysis",
    "wrf",
    "diagnostic",
    "uniform",
    "rotation",
    "deformation",
    "shear",
    "calm",
    "winter",
    "summer",
    "stagnant",
    "flat",
    "hill",
    "basin",
    "file",
    "open",
    "periodic",
    "mean",
    "instant",
    "all",
    "PM25",
    "SO2",
    "SO4",
    "NOX",
    "HNO3",
    "NH3",
    "O3",
    "TRACER",
    "pm25",
    "dust",
    "mobile",
    "industrial_process",
    "other",
    "W",
    "E",
    "urban",
    "water",
    "cw84_limited",
    "fourth_order",
    "2023-01-20T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "2023-01-20T24:00:00Z",
    "2023-01-20T00:00:60Z",
    "9999-12-31T23:59:59Z",
    "0000-01-01T00:00:00Z",
    "2023-01-20 00:00:00",
    "2023-01-20T00:00:00+08:00",
    "met.nc",
    "wrfout.nc",
    "era.nc",
    "terrain.nc",
    "area.nc",
    "city.csv",
    "stacks.csv",
    "stations.csv",
    "regions.geojson",
    "case.toml",
];

/// A string for a value: mostly domain words, sometimes hostile.
pub fn string_value(rng: &mut Rng) -> String {
    if rng.chance(0.5) {
        rng.pick(DOMAIN_WORDS).to_string()
    } else {
        weird_string(rng)
    }
}

/// `units` attribute values: right, wrong and malformed.
pub const UNITS: &[&str] = &[
    "km/h",
    "km h-1",
    "hPa",
    "mb",
    "seconds since 2023-01-20 00:00:00",
    "hours since 2023-01-20 00:00:00",
    "days",
    "s",
    "degC",
    "C",
    "ft",
    "cm",
    "mm",
    "m",
    "K",
    "Pa",
    "m s-1",
    "m/s",
    "kg s-1",
    "g s-1",
    "t yr-1",
    "kg m-2 s-1",
    "mol s-1",
    "ug m-3",
    "",
    " ",
    "1",
    "unknown",
    "hours",
    "m2 s-1",
    "W m-2",
    "mm h-1",
    "kg kg-1",
];
