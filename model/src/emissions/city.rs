//! City-total inventories (the form the attainment plans publish: t/yr per
//! pollutant and sector for a whole city), spread over the grid with a
//! documented spatial proxy: an isotropic Gaussian of standard deviation
//! `radius_km` centred on the city, truncated to the domain and renormalised
//! so the city total is kept exactly. Emitted into the lowest layer.
//!
//! CSV header: `city,lon,lat,radius_km,sector,species,t_per_yr,source`
//!
//! Ranges: `radius_km` in (0, 1000] (a city's spread, not a continent's),
//! `t_per_yr` finite, non-negative and at most [`super::MAX_RATE_KG_S`]
//! once converted to kg/s. A radius much smaller than a cell puts the whole
//! total in the city's cell.
//!
//! With `[emissions] city_allocation`, a row whose city has a polygon is
//! spread inside it by its sector's proxy instead ([`super::allocation`]);
//! `lon`, `lat` and `radius_km` then only serve rows without a polygon.

use super::allocation::{Allocation, CityAllocator};
use super::{
    check_kg_per_s, check_rate, check_species, for_each_csv_row, CellEmission, Inventory, Origin,
    SECONDS_PER_YEAR,
};
use crate::error::{Error, Result};
use crate::grid::Grid;
use std::path::Path;

pub fn load(
    path: &Path,
    grid: &Grid,
    species: &[&str],
    allocator: Option<&CityAllocator>,
    inv: &mut Inventory,
) -> Result<()> {
    let cols = [
        "city",
        "lon",
        "lat",
        "radius_km",
        "sector",
        "species",
        "t_per_yr",
    ];
    for_each_csv_row(path, &cols, |row| {
        let city = row.text("city");
        let ((lon, lat), radius) = (row.lonlat()?, row.number("radius_km")?);
        if !(radius.is_finite() && radius > 0.0 && radius <= 1000.0) {
            return Err(Error::input(
                path,
                row.field("radius_km"),
                format!("a radius in km, above 0 and at most 1000, got {radius}"),
            ));
        }
        let sector = inv.sector_index(path, &row.field("sector"), row.text("sector"))?;
        let sp_name = row.text("species");
        check_species(path, &row.field("species"), sp_name)?;
        let total = row.number("t_per_yr")?;
        check_rate(path, &row.field("t_per_yr"), total)?;
        let kgs = total * 1000.0 / SECONDS_PER_YEAR;
        check_kg_per_s(path, &row.field("t_per_yr"), kgs)?;
        let Some(s) = species.iter().position(|n| *n == sp_name) else {
            return Ok(());
        };
        let origin = Origin::City {
            name: city.into(),
            lon,
            lat,
        };
        let on_grid = grid.cell_of(lon, lat).is_some();
        if let Some(a) = allocator {
            match a.allocate(city, row.text("sector"), on_grid)? {
                Allocation::Cells(w) => {
                    for (j, i, f) in w {
                        inv.cells.push(CellEmission {
                            species: s,
                            sector,
                            k: 0,
                            j,
                            i,
                            rate: kgs * f,
                            origin: origin.clone(),
                            tag: 0,
                        });
                    }
                    return Ok(());
                }
                Allocation::OffGrid | Allocation::NoPolygon => {}
            }
        }
        if !on_grid {
            inv.outside_domain.push(format!(
                "{}: {city} {sp_name} {} at ({lon}, {lat}) is outside the grid",
                path.display(),
                row.text("sector")
            ));
            return Ok(());
        }
        spread_gaussian(grid, (lon, lat, radius), kgs, (s, sector), origin, inv);
        Ok(())
    })
}

/// Spread `kgs` over an isotropic Gaussian of standard deviation
/// `radius_km` around (lon, lat), truncated at 4 sigma and renormalised.
fn spread_gaussian(
    grid: &Grid,
    (lon, lat, radius_km): (f64, f64, f64),
    kgs: f64,
    (species, sector): (usize, usize),
    origin: Origin,
    inv: &mut Inventory,
) {
    let (fi, fj) = grid.index_of(lon, lat);
    let sigma_m = radius_km * 1000.0;
    let mut weights = Vec::new();
    for j in 0..grid.ny {
        for i in 0..grid.nx {
            // Distance on the sphere is not needed at city scale: use grid metres.
            let dx = (i as f64 - fi) * grid.x_face_dist[[j, i]];
            let dy = (j as f64 - fj) * grid.y_face_dist[[j, i]];
            let r2 = (dx * dx + dy * dy) / (sigma_m * sigma_m);
            if r2 < 16.0 {
                weights.push((j, i, (-0.5 * r2).exp() * grid.area[[j, i]]));
            }
        }
    }
    if weights.is_empty() {
        // A spread much narrower than a cell: all in the city's own cell.
        if let Some((i, j)) = grid.cell_of(lon, lat) {
            weights.push((j, i, 1.0));
        }
    }
    let wsum: f64 = weights.iter().map(|w| w.2).sum();
    for (j, i, w) in weights {
        inv.cells.push(CellEmission {
            species,
            sector,
            k: 0,
            j,
            i,
            rate: kgs * w / wsum,
            origin: origin.clone(),
            tag: 0,
        });
    }
}
