//! Emission inventories, read and checked before the run, held as a sparse
//! list of (species, sector, cell, rate) plus stacks with their exit
//! parameters. Readers only read: plume rise and the layer split are physics
//! and live in the emission process. Keeping the sector on every entry is
//! what lets the attribution module route each emission to its own tag.

pub mod allocation;
pub mod city;
pub mod gridded;
pub mod point;
pub mod temporal;

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
pub const SECONDS_PER_YEAR: f64 = crate::input::units::SECONDS_PER_YEAR;

/// Largest emission rate of one cell, stack or city row for one species,
/// kg/s: 1e5 kg/s is 3.2 Mt/yr, five times the world's whole anthropogenic
/// CO (about 6e8 t/yr, 1.9e4 kg/s; CEDS, Hoesly et al. 2018) and 30 times
/// its SO2 (~1e8 t/yr). No real source comes near it; a rate above it is a
/// unit or data error. It also keeps every sum of rates finite.
pub const MAX_RATE_KG_S: f64 = 1e5;

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
    /// The stack files read (for messages).
    pub point_files: Vec<std::path::PathBuf>,
    /// Month, weekday and hour factors per sector (None: constant rates).
    pub temporal: Option<temporal::TemporalProfiles>,
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
            inv.point_files.push(f.clone());
        }
        let allocator = spec
            .city_allocation
            .as_ref()
            .map(|a| allocation::CityAllocator::load(a, grid))
            .transpose()?;
        for f in &spec.city_totals {
            city::load(f, grid, species, allocator.as_ref(), &mut inv)?;
        }
        inv.subtract_stacks_from_cities(species)?;
        if let Some(p) = &spec.temporal_profiles {
            inv.temporal = Some(temporal::TemporalProfiles::load(
                p,
                &inv,
                spec.utc_offset_hours,
            )?);
        }
        inv.check_totals(species)?;
        Ok(inv)
    }

    /// Total rate (kg/s) of the city rows of `city`, `sector`, `species`.
    pub fn city_rate(&self, city: &str, sector: usize, species: usize) -> f64 {
        self.cells
            .iter()
            .filter(|c| c.sector == sector && c.species == species)
            .filter(|c| matches!(&c.origin, Origin::City { name, .. } if &**name == city))
            .map(|c| c.rate)
            .sum()
    }

    /// A stack whose CSV row names a `city` carries emissions that the
    /// city's total already counts: they are taken out of that city's rows
    /// of the same sector and species (scaled down in proportion, so the
    /// spatial pattern is kept and the city's total with its stacks is the
    /// total as published). A stack larger than its city row, or naming a
    /// city with no such row, is refused.
    fn subtract_stacks_from_cities(&mut self, species: &[&str]) -> Result<()> {
        // (city, sector, species) -> kg/s to remove, in stack order.
        let mut remove: Vec<(String, usize, usize, f64, String)> = Vec::new();
        for p in &self.points {
            let Some(city) = &p.city else { continue };
            for &(s, r) in &p.rates {
                match remove
                    .iter_mut()
                    .find(|x| &x.0 == city && x.1 == p.sector && x.2 == s)
                {
                    Some(x) => x.3 += r,
                    None => remove.push((city.clone(), p.sector, s, r, p.name.clone())),
                }
            }
        }
        for (city, sector, s, r, stack) in remove {
            let total = self.city_rate(&city, sector, s);
            let file = p_file(&self.point_files);
            if total <= 0.0 {
                return Err(Error::input(
                    file,
                    format!("stack {stack:?}, city"),
                    format!(
                        "a city with a {} {} row in the city totals to subtract the stack from; {city:?} has none on the grid",
                        self.sectors[sector], species[s]
                    ),
                ));
            }
            // Round-off margin: a stack equal to its row empties it.
            if r > total * (1.0 + 1e-9) {
                return Err(Error::input(
                    file,
                    format!("stack {stack:?}, rate"),
                    format!(
                        "stacks of {city} {} {} adding up to at most the city row ({:.1} t/yr), got {:.1} t/yr",
                        self.sectors[sector],
                        species[s],
                        total * SECONDS_PER_YEAR / 1000.0,
                        r * SECONDS_PER_YEAR / 1000.0
                    ),
                ));
            }
            let keep = ((total - r) / total).max(0.0);
            for c in self.cells.iter_mut().filter(|c| {
                c.sector == sector
                    && c.species == s
                    && matches!(&c.origin, Origin::City { name, .. } if **name == *city)
            }) {
                c.rate *= keep;
            }
        }
        Ok(())
    }

    /// Refuse an inventory whose per-species total (summed in f64) is not
    /// finite: with every entry below [`MAX_RATE_KG_S`] this cannot happen,
    /// and the check keeps it so.
    fn check_totals(&self, species: &[&str]) -> Result<()> {
        for (s, total) in self.total_rate(species.len()).iter().enumerate() {
            if !total.is_finite() {
                return Err(Error::input(
                    std::path::Path::new("(emissions)"),
                    species[s],
                    format!("a finite total emission rate; the inputs sum to {total} kg/s"),
                ));
            }
        }
        Ok(())
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

fn p_file(files: &[std::path::PathBuf]) -> &std::path::Path {
    files
        .last()
        .map_or(std::path::Path::new("(stacks)"), |p| p.as_path())
}

/// Convert a rate in the declared unit to kg/s for a cell of `area` m2
/// (units from [`crate::input::units`]: per cell or source, or a flux).
pub fn to_kg_per_s(value: f64, unit: &str, area: f64) -> Option<f64> {
    use crate::input::units::{conversion, Quantity};
    if let Some(c) = conversion(Quantity::EmissionRate, unit) {
        return Some(c.apply(value));
    }
    conversion(Quantity::EmissionFlux, unit).map(|c| c.apply(value) * area)
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

/// Check a rate as given is finite and non-negative.
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

/// Check a rate converted to kg/s is at most [`MAX_RATE_KG_S`].
pub fn check_kg_per_s(file: &std::path::Path, field: &str, kgs: f64) -> Result<()> {
    if kgs.is_finite() && (0.0..=MAX_RATE_KG_S).contains(&kgs) {
        Ok(())
    } else {
        Err(Error::input(
            file,
            field,
            format!(
                "an emission rate of at most {MAX_RATE_KG_S:e} kg/s per cell, stack or city and species (3.2 Mt/yr; see docs/input-files.md); this one is {kgs:e} kg/s"
            ),
        ))
    }
}

/// One row of an inventory CSV, with its real line number for messages.
pub struct CsvRow<'a> {
    path: &'a std::path::Path,
    line: u64,
    cols: &'a [&'a str],
    values: Vec<&'a str>,
    optional: &'a [&'a str],
    optional_values: Vec<Option<&'a str>>,
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
    /// An optional column's text: None when the header lacks the column or
    /// the field is empty.
    pub fn optional_text(&self, col: &str) -> Option<&str> {
        let k = self.optional.iter().position(|c| *c == col)?;
        self.optional_values[k].filter(|v| !v.is_empty())
    }
    /// A finite number (NaN and infinities are refused).
    pub fn number(&self, col: &str) -> Result<f64> {
        let v = self.text(col);
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => Err(Error::input(
                self.path,
                self.field(col),
                format!("a finite number, got {v:?}"),
            )),
        }
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
/// row. `#` starts a comment line; fields are trimmed. The file must be a
/// regular file of at most [`crate::input::MAX_CSV_BYTES`].
pub fn for_each_csv_row(
    path: &std::path::Path,
    cols: &[&str],
    each: impl FnMut(&CsvRow) -> Result<()>,
) -> Result<()> {
    for_each_csv_row_with(path, cols, &[], each)
}

/// As [`for_each_csv_row`], with `optional` columns the header may name
/// ([`CsvRow::optional_text`]).
pub fn for_each_csv_row_with(
    path: &std::path::Path,
    cols: &[&str],
    optional: &[&str],
    mut each: impl FnMut(&CsvRow) -> Result<()>,
) -> Result<()> {
    let bytes = crate::input::read_csv_bytes(path)?;
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(bytes.as_slice());
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
    let opt_idx: Vec<Option<usize>> = optional
        .iter()
        .map(|c| headers.iter().position(|h| h == *c))
        .collect();
    // Line numbers from byte offsets: the csv crate counts neither comment
    // lines nor blank ones, and places a record before those preceding it.
    // Records come in byte order, so newlines are counted on from the last
    // one asked about: the whole file is scanned once, not once per row.
    let mut counted = (0usize, 1u64);
    let mut line_of = |byte: u64| {
        let mut at = (byte as usize).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'#' | b'\n' | b'\r') {
            at = bytes[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |p| at + p + 1);
        }
        let (from, line) = if at >= counted.0 { counted } else { (0, 1) };
        let line = line + bytes[from..at].iter().filter(|&&b| b == b'\n').count() as u64;
        counted = (at, line);
        line
    };
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| line_of(p.byte()));
            Error::input(
                path,
                format!("line {line}"),
                format!("a well-formed CSV row ({e})"),
            )
        })?;
        let line = rec.position().map_or(0, |p| line_of(p.byte()));
        let values = idx.iter().map(|&i| rec.get(i).unwrap_or("")).collect();
        let optional_values = opt_idx
            .iter()
            .map(|i| i.map(|i| rec.get(i).unwrap_or("")))
            .collect();
        each(&CsvRow {
            path,
            line,
            cols,
            values,
            optional,
            optional_values,
        })?;
    }
    Ok(())
}
