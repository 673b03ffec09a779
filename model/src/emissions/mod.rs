//! Emission inventories, read and checked before the run, held as a sparse
//! list of (species, sector, cell, rate) plus stacks with their exit
//! parameters. Readers only read: plume rise and the layer split are physics
//! and live in the emission process. Keeping the sector on every entry is
//! what lets the attribution module route each emission to its own tag.

pub mod city;
pub mod gridded;
pub mod point;

use crate::config::EmissionsSpec;
use crate::error::{Error, Result};
use crate::grid::Grid;
pub use point::PointSource;

/// Default sector labels: the Chinese inventory classes used by the plans
/// (dust, industrial process, mobile, stationary combustion, solvent use,
/// biomass burning, agriculture, residential and commercial, storage and
/// transport), plus "other" for unassigned remainders.
pub const DEFAULT_SECTORS: &[&str] = &[
    "dust",
    "industrial_process",
    "mobile",
    "stationary_combustion",
    "solvent_use",
    "biomass_burning",
    "agriculture",
    "residential_commercial",
    "storage_transport",
    "other",
];

/// Seconds in a mean Gregorian year, for t/yr conversions.
pub const SECONDS_PER_YEAR: f64 = 365.2425 * 86_400.0;

/// Where an emission belongs for attribution: by where it is (a gridded
/// cell, split among regions by coverage), or to a named city (a city-total
/// row, wherever its spatial proxy puts the mass; the city centre decides
/// when no region has that name).
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    Located,
    City {
        name: std::sync::Arc<str>,
        lon: f64,
        lat: f64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct CellEmission {
    pub species: usize,
    pub sector: usize,
    pub k: usize,
    pub j: usize,
    pub i: usize,
    /// kg/s
    pub rate: f64,
    pub origin: Origin,
    /// The tag it is added to (0 until attribution routes the inventory).
    pub tag: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub sectors: Vec<String>,
    pub cells: Vec<CellEmission>,
    pub points: Vec<PointSource>,
    /// Emissions refused because they fall outside the domain, with why.
    pub outside_domain: Vec<String>,
}

impl Inventory {
    pub fn load(spec: &EmissionsSpec, grid: &Grid, species: &[&str]) -> Result<Inventory> {
        let sectors: Vec<String> = match &spec.sectors {
            Some(s) => s.clone(),
            None => DEFAULT_SECTORS.iter().map(|s| s.to_string()).collect(),
        };
        let mut inv = Inventory {
            sectors,
            ..Default::default()
        };
        for f in &spec.gridded {
            gridded::load(f, grid, species, &mut inv)?;
        }
        for f in &spec.points {
            point::load(f, grid, species, &mut inv)?;
        }
        for f in &spec.city_totals {
            city::load(f, grid, species, &mut inv)?;
        }
        Ok(inv)
    }

    pub fn sector_index(&self, file: &std::path::Path, field: &str, label: &str) -> Result<usize> {
        self.sectors.iter().position(|s| s == label).ok_or_else(|| {
            Error::input(
                file,
                field,
                format!("a sector from [{}], got {label:?}", self.sectors.join(", ")),
            )
        })
    }

    /// Total emission rate per species, kg/s (area + stacks).
    pub fn total_rate(&self, nspecies: usize) -> Vec<f64> {
        let mut t = vec![0.0; nspecies];
        for c in &self.cells {
            t[c.species] += c.rate;
        }
        for p in &self.points {
            for &(s, r) in &p.rates {
                t[s] += r;
            }
        }
        t
    }
}

/// Convert a rate in the declared unit to kg/s for a cell of `area` m2.
pub fn to_kg_per_s(value: f64, unit: &str, area: f64) -> Option<f64> {
    let f = match unit.trim() {
        "kg s-1" | "kg/s" => 1.0,
        "g s-1" | "g/s" => 1e-3,
        "kg h-1" | "kg/h" => 1.0 / 3600.0,
        "t yr-1" | "t/yr" | "t/a" => 1000.0 / SECONDS_PER_YEAR,
        "kg m-2 s-1" => area,
        _ => return None,
    };
    Some(value * f)
}

pub const UNITS_HELP: &str = "one of \"kg s-1\", \"g s-1\", \"kg h-1\", \"t yr-1\" (per cell or per source) or \"kg m-2 s-1\" (flux)";

/// Check a species name is in the built-in table.
pub fn check_species(file: &std::path::Path, field: &str, name: &str) -> Result<()> {
    match crate::species::lookup(name) {
        Some(_) => Ok(()),
        None => Err(Error::input(
            file,
            field,
            format!(
                "a species from [{}], got {name:?}",
                crate::species::known_names()
            ),
        )),
    }
}

/// Check a rate is finite and non-negative.
pub fn check_rate(file: &std::path::Path, field: &str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(Error::input(
            file,
            field,
            format!("a finite, non-negative emission rate, got {v}"),
        ))
    }
}

/// One row of an inventory CSV, with its real line number for messages.
pub struct CsvRow<'a> {
    path: &'a std::path::Path,
    line: u64,
    cols: &'a [&'a str],
    values: Vec<&'a str>,
}

impl CsvRow<'_> {
    fn position(&self, col: &str) -> usize {
        self.cols
            .iter()
            .position(|c| *c == col)
            .expect("column listed by the reader")
    }
    /// The field's name in messages: `line N, column`.
    pub fn field(&self, col: &str) -> String {
        format!("line {}, {col}", self.line)
    }
    pub fn text(&self, col: &str) -> &str {
        self.values[self.position(col)]
    }
    pub fn number(&self, col: &str) -> Result<f64> {
        let v = self.text(col);
        v.parse::<f64>()
            .map_err(|_| Error::input(self.path, self.field(col), format!("a number, got {v:?}")))
    }
    /// An input error naming this row's field.
    pub fn error(&self, col: &str, expected: impl Into<String>) -> Error {
        Error::input(self.path, self.field(col), expected)
    }
    /// Longitude and latitude from `lon` and `lat`, in range.
    pub fn lonlat(&self) -> Result<(f64, f64)> {
        let (lon, lat) = (self.number("lon")?, self.number("lat")?);
        if !(lon.is_finite() && (-180.0..=360.0).contains(&lon)) {
            return Err(Error::input(
                self.path,
                self.field("lon"),
                format!("a longitude in degrees, got {lon}"),
            ));
        }
        if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
            return Err(Error::input(
                self.path,
                self.field("lat"),
                format!("a latitude in degrees, got {lat}"),
            ));
        }
        Ok((lon, lat))
    }
}

/// Read a CSV file whose header names (at least) `cols`, calling `each` per
/// row. `#` starts a comment line; fields are trimmed.
pub fn for_each_csv_row(
    path: &std::path::Path,
    cols: &[&str],
    mut each: impl FnMut(&CsvRow) -> Result<()>,
) -> Result<()> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_path(path)
        .map_err(|e| Error::input(path, "(file)", format!("a readable CSV file ({e})")))?;
    let headers = rdr
        .headers()
        .map_err(|e| Error::input(path, "(header)", e.to_string()))?
        .clone();
    let idx: Vec<usize> = cols
        .iter()
        .map(|c| {
            headers.iter().position(|h| h == *c).ok_or_else(|| {
                Error::input(
                    path,
                    *c,
                    format!("a column `{c}`; the header must name {}", cols.join(",")),
                )
            })
        })
        .collect::<Result<_>>()?;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            Error::input(
                path,
                format!("line {line}"),
                format!("a well-formed CSV row ({e})"),
            )
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let values = idx.iter().map(|&i| rec.get(i).unwrap_or("")).collect();
        each(&CsvRow {
            path,
            line,
            cols,
            values,
        })?;
    }
    Ok(())
}
