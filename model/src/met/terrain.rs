//! Terrain height on the model grid, with the derived fields the diagnostic
//! wind model needs: slope, the highest terrain nearby (for the Froude
//! number) and the depth of closed depressions (for cold-air pools).

use crate::config::{TerrainShape, TerrainSpec};
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::input::nc;
use crate::input::raster::{self, LatLonRaster};
use crate::input::units::Quantity;
use ndarray::Array2;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct Terrain {
    /// Height above sea level at cell centres, m.
    pub height: Array2<f64>,
    /// Terrain gradient (dh/dx, dh/dy) along the grid axes at cell centres.
    pub grad_x: Array2<f64>,
    pub grad_y: Array2<f64>,
    /// Highest terrain within the search radius, m.
    pub highest_near: Array2<f64>,
    /// How far a cell lies below the lowest pass out of its depression
    /// within the search radius, m (0 outside closed depressions).
    pub pool_depth: Array2<f64>,
}

impl Terrain {
    /// The terrain a case asks for: an idealised shape or a file, with the
    /// obstacle search radius twice an idealised shape's radius, or
    /// `radius_km` itself for a file; at least one cell.
    pub fn build(grid: &Grid, spec: &TerrainSpec) -> Result<Terrain> {
        let radius = |km: f64| (km * 1000.0).max(grid.dx.max(grid.dy));
        match spec {
            TerrainSpec::File {
                path,
                variable,
                radius_km,
            } => Terrain::from_file(grid, path, variable, radius(*radius_km)),
            TerrainSpec::Flat => Ok(Terrain::from_spec(grid, spec, radius(0.0))),
            TerrainSpec::Hill(t) | TerrainSpec::Basin(t) => {
                Ok(Terrain::from_spec(grid, spec, radius(2.0 * t.radius_km)))
            }
        }
    }

    /// Idealised shapes (see [`TerrainSpec`]; a file gives flat ground
    /// here); `radius_m` is the search radius for obstacles and passes
    /// (CALMET's TERRAD).
    pub fn from_spec(grid: &Grid, spec: &TerrainSpec, radius_m: f64) -> Terrain {
        let shaped = |t: &TerrainShape, profile: fn(f64) -> f64| {
            let (ci, cj) = match t.centre {
                Some((lon, lat)) => grid.index_of(lon, lat),
                None => (0.5 * (grid.nx as f64 - 1.0), 0.5 * (grid.ny as f64 - 1.0)),
            };
            let r0 = t.radius_km * 1000.0;
            Array2::from_shape_fn((grid.ny, grid.nx), |(j, i)| {
                let x = (i as f64 - ci) * grid.dx;
                let y = (j as f64 - cj) * grid.dy;
                t.height_m * profile(x.hypot(y) / r0)
            })
        };
        let height = match spec {
            TerrainSpec::Hill(t) => shaped(t, |r| (-r * r).exp()),
            TerrainSpec::Basin(t) => shaped(t, |r| 1.0 - (-r.powi(4)).exp()),
            TerrainSpec::Flat | TerrainSpec::File { .. } => Array2::zeros((grid.ny, grid.nx)),
        };
        Terrain::from_heights(grid, height, radius_m)
    }

    /// Heights from a NetCDF variable on the model grid: dims (y, x), or
    /// (time, y, x) of which the first record is used (e.g. WRF's `HGT`);
    /// or, when the variable is not on the model grid and its last two
    /// dimensions have 1-D coordinate variables, a lat-lon raster
    /// ([`Terrain::from_raster`]).
    /// The name is checked before it reaches the netcdf crate, missing
    /// values are refused and `units` converted (m or km; none means m);
    /// heights must lie between -500 m (the Dead Sea shore is at -430 m)
    /// and 9000 m (Everest, 8849 m).
    pub fn from_file(grid: &Grid, path: &Path, variable: &str, radius_m: f64) -> Result<Terrain> {
        nc::check_name(path, "met.terrain.variable", variable)?;
        let file = nc::open(path)?;
        let var = nc::variable(&file, path, variable)?.ok_or_else(|| {
            Error::input(
                path,
                variable,
                "the terrain height variable (m above sea level)",
            )
        })?;
        let dims: Vec<(String, usize)> = var
            .dimensions()
            .iter()
            .map(|d| (d.name(), d.len()))
            .collect();
        let lens: Vec<usize> = dims.iter().map(|d| d.1).collect();
        let on_grid =
            matches!(lens.as_slice(), [ny, nx] | [_, ny, nx] if (*ny, *nx) == (grid.ny, grid.nx));
        if !on_grid && raster::is_raster(&file, &var) {
            drop(var);
            drop(file);
            return Terrain::from_raster(grid, path, variable, radius_m);
        }
        let extents: Vec<std::ops::Range<usize>> = match lens.as_slice() {
            [ny, nx] if (*ny, *nx) == (grid.ny, grid.nx) => vec![0..*ny, 0..*nx],
            [nt, ny, nx] if *nt > 0 && (*ny, *nx) == (grid.ny, grid.nx) => {
                vec![0..1, 0..*ny, 0..*nx]
            }
            _ => {
                return Err(Error::input(
                    path,
                    variable,
                    format!(
                        "dimensions (y, x) or (time, y, x) with y, x = {}, {} (the model grid), or a lat-lon raster (lat, lon) with 1-D coordinate variables; found {lens:?}",
                        grid.ny, grid.nx
                    ),
                ))
            }
        };
        let named: Vec<(String, std::ops::Range<usize>)> = dims
            .iter()
            .zip(&extents)
            .map(|(d, r)| (d.0.clone(), r.clone()))
            .collect();
        let at = nc::cell_namer(&named);
        let vals = nc::read(&var, path, variable, &extents, Some(Quantity::Length), &at)?;
        nc::check_range(
            path,
            variable,
            &vals,
            |h| (-500.0..9000.0).contains(&h),
            "heights between -500 and 9000 m",
            &at,
        )?;
        let height = Array2::from_shape_vec((grid.ny, grid.nx), vals).expect("shape checked");
        Ok(Terrain::from_heights(grid, height, radius_m))
    }

    /// Heights from a regular lat-lon raster (a DEM such as ETOPO5; see
    /// [`crate::input::raster`]): the area mean over each model cell,
    /// sampled at least twice per raster pixel along each axis
    /// ([`LatLonRaster::suggested_sub`]). Values below sea level are taken
    /// as 0 m before averaging: in a DEM with bathymetry they are sea
    /// floor, and the air's lower boundary there is the sea surface (land
    /// below sea level, the Dead Sea shore at -430 m, is rare enough to be
    /// raised with it). Raster values must lie between -11000 m (the
    /// Challenger Deep, -10935 m) and 9000 m; gaps are left out of a
    /// cell's mean.
    pub fn from_raster(grid: &Grid, path: &Path, variable: &str, radius_m: f64) -> Result<Terrain> {
        let r = LatLonRaster::open_heights(path, variable)?;
        // Not `h.max(0.0)`, which would turn gaps (NaN) into 0 m.
        let sea_surface = r.map_values(|h| if h < 0.0 { 0.0 } else { h });
        let height = sea_surface.cell_mean(grid, r.suggested_sub(grid))?;
        Ok(Terrain::from_heights(grid, height, radius_m))
    }

    pub fn from_heights(grid: &Grid, height: Array2<f64>, radius_m: f64) -> Terrain {
        let (ny, nx) = (grid.ny, grid.nx);
        // Centred differences inside, one-sided at the edges.
        let grad_x = Array2::from_shape_fn((ny, nx), |(j, i)| {
            let (a, b) = (i.saturating_sub(1), (i + 1).min(nx - 1));
            if a == b {
                0.0
            } else {
                (height[[j, b]] - height[[j, a]]) / ((b - a) as f64 * grid.dx)
            }
        });
        let grad_y = Array2::from_shape_fn((ny, nx), |(j, i)| {
            let (a, b) = (j.saturating_sub(1), (j + 1).min(ny - 1));
            if a == b {
                0.0
            } else {
                (height[[b, i]] - height[[a, i]]) / ((b - a) as f64 * grid.dy)
            }
        });
        let ri = (radius_m / grid.dx).ceil() as isize;
        let rj = (radius_m / grid.dy).ceil() as isize;
        // Beyond the domain there is nothing to find: search at most its size.
        let (si, sj) = (ri.min(nx as isize), rj.min(ny as isize));
        let highest_near = Array2::from_shape_fn((ny, nx), |(j, i)| {
            let mut top = height[[j, i]];
            for dj in -sj..=sj {
                for di in -si..=si {
                    let (jj, ii) = (j as isize + dj, i as isize + di);
                    if jj < 0 || ii < 0 || jj >= ny as isize || ii >= nx as isize {
                        continue;
                    }
                    let d = (di as f64 * grid.dx).hypot(dj as f64 * grid.dy);
                    if d <= radius_m {
                        top = top.max(height[[jj as usize, ii as usize]]);
                    }
                }
            }
            top
        });
        // Lowest pass: along each of 16 rays, the highest point within the
        // radius; the pass is the lowest of those, and the pool is what lies below it.
        let steps = ri.max(rj).max(1);
        let pool_depth = Array2::from_shape_fn((ny, nx), |(j, i)| {
            let mut pass = f64::INFINITY;
            for ray in 0..16 {
                let a = ray as f64 * std::f64::consts::PI / 8.0;
                let mut ridge = height[[j, i]];
                for s in 1..=steps {
                    let fi = i as f64 + s as f64 * a.cos() * radius_m / grid.dx / steps as f64;
                    let fj = j as f64 + s as f64 * a.sin() * radius_m / grid.dy / steps as f64;
                    let (ii, jj) = (fi.round(), fj.round());
                    if ii < 0.0 || jj < 0.0 || ii >= nx as f64 || jj >= ny as f64 {
                        break; // beyond the domain nothing is known: the ridge so far
                    }
                    ridge = ridge.max(height[[jj as usize, ii as usize]]);
                }
                pass = pass.min(ridge);
            }
            (pass - height[[j, i]]).max(0.0)
        });
        Terrain {
            height,
            grad_x,
            grad_y,
            highest_near,
            pool_depth,
        }
    }
}
