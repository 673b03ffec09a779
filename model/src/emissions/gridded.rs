//! Gridded area emissions from NetCDF, already on the model grid.
//!
//! Every emission variable is self-describing: dimensions (y, x) for the
//! surface layer or (z, y, x) for layered emissions, and the attributes
//! `species` (a built-in species name), `sector` (a configured sector label)
//! and `units` (kg s-1, g s-1, kg h-1 or t yr-1 per cell, or kg m-2 s-1).
//! Variables without a `species` attribute (coordinates) are ignored.

use super::{check_rate, check_species, to_kg_per_s, CellEmission, Inventory, UNITS_HELP};
use crate::error::{Error, Result};
use crate::grid::Grid;
use netcdf::AttributeValue;
use std::path::Path;

fn text_attr(var: &netcdf::Variable, name: &str) -> Option<String> {
    match var.attribute_value(name)?.ok()? {
        AttributeValue::Str(s) => Some(s),
        _ => None,
    }
}

pub fn load(path: &Path, grid: &Grid, species: &[&str], inv: &mut Inventory) -> Result<()> {
    let file = netcdf::open(path)
        .map_err(|e| Error::input(path, "(file)", format!("a readable NetCDF file ({e})")))?;
    for var in file.variables() {
        let vname = var.name();
        let Some(sp_name) = text_attr(&var, "species") else {
            continue;
        };
        check_species(path, &format!("{vname}:species"), &sp_name)?;
        let sector_label = text_attr(&var, "sector").ok_or_else(|| {
            Error::input(
                path,
                format!("{vname}:sector"),
                "a `sector` attribute naming the emission sector",
            )
        })?;
        let sector = inv.sector_index(path, &format!("{vname}:sector"), &sector_label)?;
        let units = text_attr(&var, "units").ok_or_else(|| {
            Error::input(
                path,
                format!("{vname}:units"),
                format!("a `units` attribute, {UNITS_HELP}"),
            )
        })?;
        if to_kg_per_s(1.0, &units, 1.0).is_none() {
            return Err(Error::input(
                path,
                format!("{vname}:units"),
                format!("{UNITS_HELP}, got {units:?}"),
            ));
        }
        let dims: Vec<usize> = var.dimensions().iter().map(|d| d.len()).collect();
        let nlev = match dims.as_slice() {
            [ny, nx] if *ny == grid.ny && *nx == grid.nx => 1,
            [nz, ny, nx] if *ny == grid.ny && *nx == grid.nx && *nz <= grid.nz => *nz,
            _ => {
                return Err(Error::input(
                    path,
                    &vname,
                    format!(
                        "dimensions (y, x) = [{}, {}] or (z, y, x) with z <= {}, found {dims:?}",
                        grid.ny, grid.nx, grid.nz
                    ),
                ))
            }
        };
        let vals: Vec<f64> = var
            .get_values::<f64, _>(..)
            .map_err(|e| Error::input(path, &vname, format!("numeric values ({e})")))?;
        let Some(s) = species.iter().position(|n| *n == sp_name) else {
            continue;
        };
        let plane = grid.ny * grid.nx;
        for (idx, &v) in vals.iter().enumerate() {
            let (k, j, i) = (idx / plane, (idx % plane) / grid.nx, idx % grid.nx);
            check_rate(path, &format!("{vname}[{k},{j},{i}]"), v)?;
            if v == 0.0 {
                continue;
            }
            let rate = to_kg_per_s(v, &units, grid.area[[j, i]]).expect("unit checked");
            inv.cells.push(CellEmission {
                species: s,
                sector,
                k,
                j,
                i,
                rate,
                origin: super::Origin::Located,
                tag: 0,
            });
        }
        debug_assert!(nlev >= 1);
    }
    Ok(())
}
