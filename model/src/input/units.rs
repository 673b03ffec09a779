//! The units airshed reads from input files, and their conversion to the
//! model's units: one table, `value_in_model_units = value * scale + offset`.
//!
//! Every factor comes from a definition, not a measurement:
//! 1 kn = 1 nautical mile (1852 m) per hour; 1 km/h = 1000/3600 m/s;
//! 1 hPa = 1 mbar = 100 Pa; 0 degC = 273.15 K (a step of 1 degC = 1 K);
//! 1 kg m-2 of water = 1 mm (density 1000 kg m-3); 1 t = 1000 kg;
//! the year of `t yr-1` is the mean Gregorian year (365.2425 d).
//!
//! Spellings are compared after trimming, collapsing runs of blanks and
//! dropping the exponent markers `**` and `^` (so `m s**-1` and `m s^-1`
//! read as `m s-1`). Anything else is refused by name: the reader reports
//! the units it found and those it accepts (see docs/input-files.md).

/// What a variable measures, and so which units it may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// Wind or friction velocity, to m/s.
    Speed,
    /// Air pressure, to Pa.
    Pressure,
    /// Air temperature, to K.
    Temperature,
    /// A temperature difference (WRF's perturbation potential temperature), to K.
    TemperatureDifference,
    /// Height, length, roughness, Obukhov length, to m.
    Length,
    /// Geopotential, to m2 s-2.
    Geopotential,
    /// Precipitation rate, to mm/h (the model's unit).
    PrecipitationRate,
    /// Accumulated precipitation, to mm.
    PrecipitationAmount,
    /// Surface heat flux, to W m-2.
    HeatFlux,
    /// Eddy diffusivity, to m2 s-1.
    Diffusivity,
    /// Water mass mixing ratio, to kg/kg.
    MixingRatio,
    /// Relative humidity, to a fraction (0-1).
    RelativeHumidity,
    /// Longitude, to degrees east.
    Longitude,
    /// Latitude, to degrees north.
    Latitude,
    /// Emission rate of a cell or a source, to kg/s.
    EmissionRate,
    /// Emission flux per unit area, to kg m-2 s-1 (times the cell area gives kg/s).
    EmissionFlux,
}

impl Quantity {
    /// The model's unit, for messages.
    pub fn model_unit(self) -> &'static str {
        match self {
            Quantity::Speed => "m s-1",
            Quantity::Pressure => "Pa",
            Quantity::Temperature | Quantity::TemperatureDifference => "K",
            Quantity::Length => "m",
            Quantity::Geopotential => "m2 s-2",
            Quantity::PrecipitationRate => "mm h-1",
            Quantity::PrecipitationAmount => "mm",
            Quantity::HeatFlux => "W m-2",
            Quantity::Diffusivity => "m2 s-1",
            Quantity::MixingRatio => "kg kg-1",
            Quantity::RelativeHumidity => "1",
            Quantity::Longitude => "degrees_east",
            Quantity::Latitude => "degrees_north",
            Quantity::EmissionRate => "kg s-1",
            Quantity::EmissionFlux => "kg m-2 s-1",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Quantity::Speed => "a speed",
            Quantity::Pressure => "a pressure",
            Quantity::Temperature => "a temperature",
            Quantity::TemperatureDifference => "a temperature difference",
            Quantity::Length => "a length",
            Quantity::Geopotential => "a geopotential",
            Quantity::PrecipitationRate => "a precipitation rate",
            Quantity::PrecipitationAmount => "an accumulated precipitation",
            Quantity::HeatFlux => "a heat flux",
            Quantity::Diffusivity => "a diffusivity",
            Quantity::MixingRatio => "a mixing ratio",
            Quantity::RelativeHumidity => "a relative humidity",
            Quantity::Longitude => "a longitude",
            Quantity::Latitude => "a latitude",
            Quantity::EmissionRate => "an emission rate per cell or source",
            Quantity::EmissionFlux => "an emission flux",
        }
    }
}

/// `model = value * scale + offset`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conversion {
    pub scale: f64,
    pub offset: f64,
}

impl Conversion {
    pub const IDENTITY: Conversion = Conversion {
        scale: 1.0,
        offset: 0.0,
    };

    pub fn apply(&self, v: f64) -> f64 {
        v * self.scale + self.offset
    }
}

/// Seconds in a mean Gregorian year (365.2425 days), for t/yr.
pub const SECONDS_PER_YEAR: f64 = 365.2425 * 86_400.0;

struct Row {
    quantity: Quantity,
    names: &'static [&'static str],
    scale: f64,
    offset: f64,
}

const fn row(quantity: Quantity, names: &'static [&'static str], scale: f64, offset: f64) -> Row {
    Row {
        quantity,
        names,
        scale,
        offset,
    }
}

use Quantity as Q;

/// The table. Spellings are after normalisation (see the module notes).
#[rustfmt::skip]
const TABLE: &[Row] = &[
    row(Q::Speed, &["m s-1", "m/s", "m sec-1", "meter second-1", "metre second-1", "meters/second", "metres/second"], 1.0, 0.0),
    row(Q::Speed, &["km h-1", "km/h", "km hr-1", "kph"], 1000.0 / 3600.0, 0.0),
    row(Q::Speed, &["kn", "kt", "kts", "knot", "knots"], 1852.0 / 3600.0, 0.0),
    row(Q::Speed, &["cm s-1", "cm/s"], 0.01, 0.0),
    row(Q::Pressure, &["Pa", "pascal", "pascals"], 1.0, 0.0),
    row(Q::Pressure, &["hPa", "mbar", "mb", "millibar", "millibars"], 100.0, 0.0),
    row(Q::Pressure, &["kPa"], 1000.0, 0.0),
    row(Q::Temperature, &["K", "kelvin", "Kelvin", "degK", "deg_K", "degree_K", "degrees_K"], 1.0, 0.0),
    row(Q::Temperature, &["degC", "deg_C", "degree_C", "degrees_C", "degree_Celsius", "degrees_Celsius", "celsius", "Celsius", "°C"], 1.0, 273.15),
    row(Q::TemperatureDifference, &["K", "kelvin", "Kelvin"], 1.0, 0.0),
    row(Q::Length, &["m", "meter", "meters", "metre", "metres"], 1.0, 0.0),
    row(Q::Length, &["km", "kilometer", "kilometers", "kilometre", "kilometres"], 1000.0, 0.0),
    row(Q::Length, &["cm"], 0.01, 0.0),
    row(Q::Geopotential, &["m2 s-2", "m2/s2", "J kg-1", "J/kg"], 1.0, 0.0),
    row(Q::PrecipitationRate, &["mm h-1", "mm/h", "mm hr-1", "mm/hr", "kg m-2 h-1"], 1.0, 0.0),
    row(Q::PrecipitationRate, &["mm s-1", "mm/s", "kg m-2 s-1"], 3600.0, 0.0),
    row(Q::PrecipitationRate, &["m s-1", "m/s"], 3.6e6, 0.0),
    row(Q::PrecipitationRate, &["mm d-1", "mm/d", "mm day-1", "mm/day", "kg m-2 d-1"], 1.0 / 24.0, 0.0),
    row(Q::PrecipitationAmount, &["mm", "kg m-2"], 1.0, 0.0),
    row(Q::PrecipitationAmount, &["cm"], 10.0, 0.0),
    row(Q::PrecipitationAmount, &["m"], 1000.0, 0.0),
    row(Q::HeatFlux, &["W m-2", "W/m2", "W/m-2"], 1.0, 0.0),
    row(Q::Diffusivity, &["m2 s-1", "m2/s"], 1.0, 0.0),
    row(Q::MixingRatio, &["kg kg-1", "kg/kg", "1"], 1.0, 0.0),
    row(Q::MixingRatio, &["g kg-1", "g/kg"], 1e-3, 0.0),
    row(Q::RelativeHumidity, &["1", "fraction"], 1.0, 0.0),
    row(Q::RelativeHumidity, &["%", "percent"], 0.01, 0.0),
    row(Q::Longitude, &["degrees_east", "degree_east", "degree_E", "degrees_E", "degreeE", "degreesE", "degrees", "degree"], 1.0, 0.0),
    row(Q::Latitude, &["degrees_north", "degree_north", "degree_N", "degrees_N", "degreeN", "degreesN", "degrees", "degree"], 1.0, 0.0),
    row(Q::EmissionRate, &["kg s-1", "kg/s"], 1.0, 0.0),
    row(Q::EmissionRate, &["g s-1", "g/s"], 1e-3, 0.0),
    row(Q::EmissionRate, &["kg h-1", "kg/h"], 1.0 / 3600.0, 0.0),
    row(Q::EmissionRate, &["t yr-1", "t/yr", "t/a"], 1000.0 / SECONDS_PER_YEAR, 0.0),
    row(Q::EmissionFlux, &["kg m-2 s-1"], 1.0, 0.0),
];

/// Trim, collapse blanks, drop `**` and `^`.
fn normalise(units: &str) -> String {
    units
        .replace("**", "")
        .replace('^', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The conversion of `units` to the model's unit of `quantity`, or None
/// when the table does not know the spelling.
pub fn conversion(quantity: Quantity, units: &str) -> Option<Conversion> {
    let u = normalise(units);
    TABLE
        .iter()
        .find(|r| r.quantity == quantity && r.names.contains(&u.as_str()))
        .map(|r| Conversion {
            scale: r.scale,
            offset: r.offset,
        })
}

/// The spellings accepted for a quantity, for messages.
pub fn accepted(quantity: Quantity) -> String {
    let names: Vec<String> = TABLE
        .iter()
        .filter(|r| r.quantity == quantity)
        .flat_map(|r| r.names.iter().map(|n| format!("{n:?}")))
        .collect();
    format!("{} in {}", quantity.describe(), names.join(", "))
}

/// CF time units: seconds per unit, and the reference instant (seconds
/// since 1970-01-01T00:00:00Z) of `<unit> since <date>`, or None for a
/// bare unit (an offset from the run start).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeUnits {
    pub seconds_per_unit: f64,
    pub since_epoch_s: Option<f64>,
}

/// Accepted time units, for messages.
pub const TIME_UNITS_HELP: &str = "\"<unit> since <YYYY-MM-DD[ hh:mm[:ss]][Z|UTC|+hh:mm]>\" or a bare \"<unit>\" (since the run start), with <unit> seconds, minutes, hours or days";

/// Parse CF time units such as `hours since 2023-01-20 00:00:00`.
pub fn time_units(units: &str) -> Option<TimeUnits> {
    let text = normalise(units);
    let (unit, date) = match text.split_once(" since ") {
        Some((u, d)) => (u.trim(), Some(d.trim())),
        None => (text.trim(), None),
    };
    let seconds_per_unit = match unit {
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        _ => return None,
    };
    let since_epoch_s = match date {
        Some(d) => Some(parse_cf_date(d)?),
        None => None,
    };
    Some(TimeUnits {
        seconds_per_unit,
        since_epoch_s,
    })
}

/// Seconds since 1970 of a CF reference date: `YYYY-M-D`, then optionally
/// `T` or a blank and `h:m[:s[.f]]`, then optionally `Z`, `UTC` or an
/// offset `+h[:mm]` / `-h[:mm]` (blank-separated or not).
pub fn parse_cf_date(text: &str) -> Option<f64> {
    let text = text.trim();
    let (date, rest) = match text.find(['T', ' ']) {
        Some(p) => (&text[..p], text[p + 1..].trim()),
        None => (text, ""),
    };
    let mut ymd = date.splitn(3, '-');
    let y: i64 = ymd.next()?.parse().ok()?;
    let m: i64 = ymd.next()?.parse().ok()?;
    let d: i64 = ymd.next()?.parse().ok()?;
    if !(1..=9999).contains(&y)
        || !(1..=12).contains(&m)
        || d < 1
        || d > crate::time::days_in_month(y, m as u32) as i64
    {
        return None;
    }
    // Split the clock from the zone.
    let (clock, zone) = match rest.find(['Z', 'U', '+', ' ', '-']) {
        Some(p) => (rest[..p].trim(), rest[p..].trim()),
        None => (rest, ""),
    };
    let mut seconds = 0.0;
    if !clock.is_empty() {
        let mut parts = clock.split(':');
        let h: f64 = parts.next()?.parse().ok()?;
        let mi: f64 = parts.next().map_or(Some(0.0), |p| p.parse().ok())?;
        let s: f64 = parts.next().map_or(Some(0.0), |p| p.parse().ok())?;
        if parts.next().is_some()
            || !(0.0..24.0).contains(&h)
            || !(0.0..60.0).contains(&mi)
            || !(0.0..61.0).contains(&s)
            || h.fract() != 0.0
            || mi.fract() != 0.0
        {
            return None;
        }
        seconds = h * 3600.0 + mi * 60.0 + s;
    }
    let offset = match zone {
        "" | "Z" | "UTC" | "GMT" | "+0" | "+00" | "+00:00" | "+0000" | "-00:00" => 0.0,
        z => {
            let sign = match z.as_bytes()[0] {
                b'+' => 1.0,
                b'-' => -1.0,
                _ => return None,
            };
            let body = &z[1..];
            let (h, m) = match body.split_once(':') {
                Some((h, m)) => (h.parse::<f64>().ok()?, m.parse::<f64>().ok()?),
                None if body.len() == 4 => (body[..2].parse().ok()?, body[2..].parse().ok()?),
                None => (body.parse().ok()?, 0.0),
            };
            if !(0.0..=14.0).contains(&h) || !(0.0..60.0).contains(&m) {
                return None;
            }
            sign * (h * 3600.0 + m * 60.0)
        }
    };
    Some(crate::time::days_from_civil(y, m as u32, d as u32) as f64 * 86_400.0 + seconds - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_model(q: Quantity, u: &str, v: f64) -> f64 {
        conversion(q, u).unwrap().apply(v)
    }

    /// Equal to within a few units in the last place.
    #[track_caller]
    fn same(a: f64, b: f64) {
        assert!((a - b).abs() <= 4.0 * f64::EPSILON * b.abs(), "{a} vs {b}");
    }

    #[test]
    fn speeds_from_their_definitions() {
        // 1 kn = 1852 m per hour, exactly.
        same(to_model(Q::Speed, "knots", 3600.0), 1852.0);
        same(to_model(Q::Speed, "kt", 1.0), 1852.0 / 3600.0);
        // 36 km/h = 10 m/s.
        assert!((to_model(Q::Speed, "km/h", 36.0) - 10.0).abs() < 1e-12);
        assert!((to_model(Q::Speed, "km h-1", 36.0) - 10.0).abs() < 1e-12);
        for s in ["m s-1", "m/s", " m  s**-1 ", "m s^-1"] {
            same(to_model(Q::Speed, s, 2.5), 2.5);
        }
        assert_eq!(conversion(Q::Speed, "furlongs/fortnight"), None);
        // A speed unit is not a pressure unit.
        assert_eq!(conversion(Q::Pressure, "m s-1"), None);
    }

    #[test]
    fn pressures_and_temperatures() {
        same(to_model(Q::Pressure, "hPa", 1013.25), 101_325.0);
        same(to_model(Q::Pressure, "mbar", 1.0), 100.0);
        same(to_model(Q::Pressure, "kPa", 101.325), 101_325.0);
        same(to_model(Q::Pressure, "Pa", 5.0), 5.0);
        // 0 degC is 273.15 K by definition; a step of 1 degC is 1 K.
        same(to_model(Q::Temperature, "degC", 0.0), 273.15);
        same(
            to_model(Q::Temperature, "degC", 20.0) - to_model(Q::Temperature, "degC", 19.0),
            1.0,
        );
        same(to_model(Q::Temperature, "K", 280.0), 280.0);
        // A perturbation in degC would need no offset: only K is accepted.
        assert_eq!(conversion(Q::TemperatureDifference, "degC"), None);
    }

    #[test]
    fn precipitation_and_others() {
        // 1 kg m-2 of water is 1 mm: 1 kg m-2 s-1 is 3600 mm/h.
        same(to_model(Q::PrecipitationRate, "kg m-2 s-1", 1.0), 3600.0);
        same(to_model(Q::PrecipitationRate, "mm/day", 24.0), 1.0);
        same(to_model(Q::PrecipitationRate, "m s-1", 1e-6), 3.6);
        same(to_model(Q::PrecipitationAmount, "m", 0.002), 2.0);
        same(to_model(Q::PrecipitationAmount, "kg m-2", 3.0), 3.0);
        same(to_model(Q::Length, "km", 1.5), 1500.0);
        same(to_model(Q::RelativeHumidity, "%", 85.0), 0.85);
        same(to_model(Q::MixingRatio, "g kg-1", 5.0), 0.005);
        same(to_model(Q::Geopotential, "m2 s-2", 9.81), 9.81);
        same(to_model(Q::Geopotential, "m**2 s**-2", 9.81), 9.81);
        // t/yr over a mean Gregorian year of 365.2425 days.
        same(to_model(Q::EmissionRate, "t yr-1", 31_556_952.0), 1000.0);
        same(to_model(Q::EmissionRate, "kg/h", 3600.0), 1.0);
        assert!(accepted(Q::Speed).contains("\"knots\""));
    }

    #[test]
    fn time_units_and_reference_dates() {
        let t = time_units("hours since 2023-01-20 00:00:00").unwrap();
        assert_eq!(t.seconds_per_unit, 3600.0);
        let start = crate::time::parse_start("2023-01-20T00:00:00Z").unwrap();
        assert_eq!(t.since_epoch_s, Some(start.epoch_seconds()));
        assert_eq!(
            time_units("seconds since 1970-01-01")
                .unwrap()
                .since_epoch_s,
            Some(0.0)
        );
        assert_eq!(
            time_units("minutes").unwrap(),
            TimeUnits {
                seconds_per_unit: 60.0,
                since_epoch_s: None
            }
        );
        assert_eq!(
            time_units("days since 1970-01-02T00:00:00Z")
                .unwrap()
                .since_epoch_s,
            Some(86_400.0)
        );
        // 2000-03-01 is day 11017 after 1970-01-01 (2000 is a leap year).
        assert_eq!(parse_cf_date("2000-03-01"), Some(11_017.0 * 86_400.0));
        assert_eq!(
            parse_cf_date("2000-3-1 6:30"),
            Some(11_017.0 * 86_400.0 + 6.5 * 3600.0)
        );
        // A zone east of UTC is earlier in UTC.
        assert_eq!(parse_cf_date("1970-01-01 08:00:00 +08:00"), Some(0.0));
        assert_eq!(parse_cf_date("1970-01-01T08:00:00+0800"), Some(0.0));
        assert_eq!(parse_cf_date("1970-01-01 00:00:00 UTC"), Some(0.0));
        for bad in [
            "2023-02-29",
            "2023-13-01",
            "2023-01-20 24:00:00",
            "yesterday",
            "2023-01-20 00:00:00 PST",
        ] {
            assert_eq!(parse_cf_date(bad), None, "{bad}");
        }
        assert_eq!(time_units("fortnights since 2023-01-01"), None);
        assert_eq!(time_units("hours since the run start"), None);
    }
}
