//! City-total inventories (the form the attainment plans publish: t/yr per
//! pollutant and sector for a whole city), spread over the grid with a
//! documented spatial proxy: an isotropic Gaussian of standard deviation
//! `radius_km` centred on the city, truncated to the domain and renormalised
//! so the city total is kept exactly. Emitted into the lowest layer.
//!
//! CSV header: `city,lon,lat,radius_km,sector,species,t_per_yr,source`

use super::{check_rate, CellEmission, Inventory, SECONDS_PER_YEAR};
use crate::error::{Error, Result};
use crate::grid::Grid;
use std::path::Path;

pub fn load(path: &Path, grid: &Grid, species: &[&str], inv: &mut Inventory) -> Result<()> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_path(path)
        .map_err(|e| Error::input(path, "(file)", format!("a readable CSV file ({e})")))?;
    let headers = rdr
        .headers()
        .map_err(|e| Error::input(path, "(header)", e.to_string()))?
        .clone();
    let cols = [
        "city",
        "lon",
        "lat",
        "radius_km",
        "sector",
        "species",
        "t_per_yr",
    ];
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
    for (row, rec) in rdr.records().enumerate() {
        let line = row + 2;
        let rec = rec.map_err(|e| {
            Error::input(
                path,
                format!("line {line}"),
                format!("a well-formed CSV row ({e})"),
            )
        })?;
        let get = |c: usize| rec.get(idx[c]).unwrap_or("");
        let num = |c: usize| -> Result<f64> {
            get(c).parse::<f64>().map_err(|_| {
                Error::input(
                    path,
                    format!("line {line}, {}", cols[c]),
                    format!("a number, got {:?}", get(c)),
                )
            })
        };
        let city = get(0);
        let (lon, lat, radius) = (num(1)?, num(2)?, num(3)?);
        if !(radius.is_finite() && radius > 0.0) {
            return Err(Error::input(
                path,
                format!("line {line}, radius_km"),
                format!("a positive radius in km, got {radius}"),
            ));
        }
        let sector = inv.sector_index(path, &format!("line {line}, sector"), get(4))?;
        let sp_name = get(5);
        if crate::species::lookup(sp_name).is_none() {
            return Err(Error::input(
                path,
                format!("line {line}, species"),
                format!(
                    "a species from [{}], got {sp_name:?}",
                    crate::species::known_names()
                ),
            ));
        }
        let total = num(6)?;
        check_rate(path, &format!("line {line}, t_per_yr"), total)?;
        let Some(s) = species.iter().position(|n| *n == sp_name) else {
            continue;
        };
        if grid.cell_of(lon, lat).is_none() {
            inv.outside_domain.push(format!(
                "{}: {city} {sp_name} {} at ({lon}, {lat}) is outside the grid",
                path.display(),
                get(4)
            ));
            continue;
        }
        let kgs = total * 1000.0 / SECONDS_PER_YEAR;
        let (fi, fj) = grid.index_of(lon, lat);
        let mut weights = Vec::new();
        let sigma_m = radius * 1000.0;
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
                species: s,
                sector,
                k: 0,
                j,
                i,
                rate: kgs * w / wsum,
            });
        }
    }
    Ok(())
}
