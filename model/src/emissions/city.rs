//! City-total inventories (the form the attainment plans publish: t/yr per
//! pollutant and sector for a whole city), spread over the grid with a
//! documented spatial proxy: an isotropic Gaussian of standard deviation
//! `radius_km` centred on the city, truncated to the domain and renormalised
//! so the city total is kept exactly. Emitted into the lowest layer.
//!
//! CSV header: `city,lon,lat,radius_km,sector,species,t_per_yr,source`

use super::{
    check_rate, check_species, for_each_csv_row, CellEmission, Inventory, Origin, SECONDS_PER_YEAR,
};
use crate::error::{Error, Result};
use crate::grid::Grid;
use std::path::Path;

pub fn load(path: &Path, grid: &Grid, species: &[&str], inv: &mut Inventory) -> Result<()> {
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
        if !(radius.is_finite() && radius > 0.0) {
            return Err(Error::input(
                path,
                row.field("radius_km"),
                format!("a positive radius in km, got {radius}"),
            ));
        }
        let sector = inv.sector_index(path, &row.field("sector"), row.text("sector"))?;
        let sp_name = row.text("species");
        check_species(path, &row.field("species"), sp_name)?;
        let total = row.number("t_per_yr")?;
        check_rate(path, &row.field("t_per_yr"), total)?;
        let Some(s) = species.iter().position(|n| *n == sp_name) else {
            return Ok(());
        };
        if grid.cell_of(lon, lat).is_none() {
            inv.outside_domain.push(format!(
                "{}: {city} {sp_name} {} at ({lon}, {lat}) is outside the grid",
                path.display(),
                row.text("sector")
            ));
            return Ok(());
        }
        let origin = Origin::City {
            name: city.into(),
            lon,
            lat,
        };
        spread_gaussian(
            grid,
            (lon, lat, radius),
            total * 1000.0 / SECONDS_PER_YEAR,
            (s, sector),
            origin,
            inv,
        );
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
