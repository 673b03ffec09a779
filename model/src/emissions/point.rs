//! Elevated point sources (stacks) from CSV: location, exit parameters and
//! rates. Their rise is computed by `processes::plume_rise`.
//!
//! CSV header (one row per stack and species):
//! `name,lon,lat,height_m,diameter_m,velocity_m_s,temperature_k,sector,species,rate,units`
//! and optionally `city`: the city whose city-total rows already include
//! this stack; its rates are then subtracted from that city's rows of the
//! same sector and species ([`super::Inventory::load`]), so the city's
//! total with its stacks stays the published one. Empty: not subtracted.
//!
//! Ranges: height 0-1000 m (the tallest chimneys are ~420 m), diameter
//! 0-50 m, exit velocity 0-200 m/s, exit temperature 150-2000 K (flares
//! reach ~1500 K), rate at most [`super::MAX_RATE_KG_S`] after conversion.
//! Every number must be finite; the file must be a regular file of at most
//! 256 MiB ([`crate::input::MAX_CSV_BYTES`]).

use super::{
    check_kg_per_s, check_rate, check_species, for_each_csv_row_with, CsvRow, Inventory, UNITS_HELP,
};
use crate::error::Result;
use crate::grid::Grid;
use crate::input::units::{conversion, Quantity};
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub struct PointSource {
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    pub i: usize,
    pub j: usize,
    pub height: f64,
    pub diameter: f64,
    pub velocity: f64,
    pub temperature: f64,
    pub sector: usize,
    /// (species index, kg/s)
    pub rates: Vec<(usize, f64)>,
    /// The tag its emissions are added to (0 until attribution routes them).
    pub tag: usize,
    /// The city whose city-total rows already count this stack (optional
    /// `city` column): its rates are subtracted from them at load.
    pub city: Option<String>,
}

/// One row of the stack CSV, checked (ranges above; rate converted to kg/s).
#[derive(Debug, Clone, PartialEq)]
pub struct StackRow {
    pub name: String,
    pub city: Option<String>,
    pub lon: f64,
    pub lat: f64,
    pub height: f64,
    pub diameter: f64,
    pub velocity: f64,
    pub temperature: f64,
    pub species: String,
    pub kg_s: f64,
}

/// Read every row of the stack CSV at `path`, checked, into `each` (with
/// the raw row for its sector and its messages). The Eulerian inventory
/// ([`load`]) and the plume model (`plume::sources`) both read through it.
pub fn for_each_stack_row(
    path: &Path,
    mut each: impl FnMut(StackRow, &CsvRow) -> Result<()>,
) -> Result<()> {
    let cols = [
        "name",
        "lon",
        "lat",
        "height_m",
        "diameter_m",
        "velocity_m_s",
        "temperature_k",
        "sector",
        "species",
        "rate",
        "units",
    ];
    for_each_csv_row_with(path, &cols, &["city"], |row| {
        let name = row.text("name").to_string();
        if name.is_empty() {
            return Err(row.error("name", "a stack name"));
        }
        let (lon, lat) = row.lonlat()?;
        let (h, d, w, t) = (
            row.number("height_m")?,
            row.number("diameter_m")?,
            row.number("velocity_m_s")?,
            row.number("temperature_k")?,
        );
        for (c, v, ok) in [
            ("height_m", h, (0.0..1000.0).contains(&h)),
            ("diameter_m", d, d > 0.0 && d < 50.0),
            ("velocity_m_s", w, (0.0..200.0).contains(&w)),
            ("temperature_k", t, t > 150.0 && t < 2000.0),
        ] {
            if !(v.is_finite() && ok) {
                return Err(row.error(c, format!("a physical stack parameter, got {v}")));
            }
        }
        let species = row.text("species").to_string();
        check_species(path, &row.field("species"), &species)?;
        let rate = row.number("rate")?;
        check_rate(path, &row.field("rate"), rate)?;
        let units = row.text("units");
        let kg_s = conversion(Quantity::EmissionRate, units)
            .map(|c| c.apply(rate))
            .ok_or_else(|| {
                row.error(
                    "units",
                    format!("a per-source unit: {UNITS_HELP}, not a flux; got {units:?}"),
                )
            })?;
        check_kg_per_s(path, &row.field("rate"), kg_s)?;
        let stack = StackRow {
            name,
            city: row.optional_text("city").map(str::to_string),
            lon,
            lat,
            height: h,
            diameter: d,
            velocity: w,
            temperature: t,
            species,
            kg_s,
        };
        each(stack, row)
    })
}

pub fn load(path: &Path, grid: &Grid, species: &[&str], inv: &mut Inventory) -> Result<()> {
    for_each_stack_row(path, |r, row| {
        let StackRow {
            name,
            city,
            lon,
            lat,
            height: h,
            diameter: d,
            velocity: w,
            temperature: t,
            species: sp_name,
            kg_s: kgs,
        } = r;
        let sector = inv.sector_index(path, &row.field("sector"), row.text("sector"))?;
        let Some(s) = species.iter().position(|n| *n == sp_name.as_str()) else {
            return Ok(());
        };
        let Some((i, j)) = grid.cell_of(lon, lat) else {
            inv.outside_domain.push(format!(
                "{}: stack {name:?} at ({lon}, {lat}) is outside the grid",
                path.display()
            ));
            return Ok(());
        };
        if let Some(p) = inv.points.iter_mut().find(|p| {
            p.name == name
                && p.i == i
                && p.j == j
                && p.height == h
                && p.sector == sector
                && p.city == city
        }) {
            p.rates.push((s, kgs));
        } else {
            inv.points.push(PointSource {
                name,
                lon,
                lat,
                i,
                j,
                height: h,
                diameter: d,
                velocity: w,
                temperature: t,
                sector,
                rates: vec![(s, kgs)],
                tag: 0,
                city,
            });
        }
        Ok(())
    })
}
