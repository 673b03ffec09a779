//! Spatial allocation of city-total rows inside their city polygons by a
//! sector proxy (`[emissions] city_allocation`), instead of the Gaussian.
//!
//! A row of city C and sector S puts its total on the cells in proportion to
//! `coverage_C(cell) x proxy_S(cell)`, where the coverage is the exact
//! fraction of the cell inside C's polygon
//! ([`crate::attribution::regions`]) and the proxy is the amount of the
//! sector's driver in the whole cell:
//!
//! | proxy | cell amount | sectors |
//! |---|---|---|
//! | population | sum of GeoNames populated-place populations in the cell | residential_commercial, solvent_use, storage_transport, other, and labels not listed here |
//! | urban | cell area x MODIS IGBP class 13 (urban and built-up) fraction | mobile, dust, industrial_process, stationary_combustion |
//! | cropland | cell area x IGBP classes 12 + 14 (cropland, cropland/natural mosaic) fraction | agriculture, biomass_burning |
//! | area | cell area | fallback |
//!
//! The choice follows the Chinese gridded inventories' practice: MEIC
//! allocates residential and solvent emissions by population, on-road
//! transport by road networks and industry by industrial land or GDP, and
//! agricultural NH3 and open burning by cropland (Li et al. 2017, ACP 17,
//! 935, Sect. 2.3; Zheng et al. 2017, ACP 17, 921; Geng et al. 2017, ACP 17,
//! 4131). Urban land stands in for the road network and industrial land,
//! which the default case does not carry.
//!
//! **Mass.** The weights are renormalised over the part of the polygon that
//! lies on the grid, so the row's whole total is emitted on the grid (the
//! part of a city outside the grid emits nothing, and its share goes to the
//! part inside, as the Gaussian's truncation does). When the proxy is zero
//! over the whole grid part (no place, no urban cell), or its input is not
//! given, the row falls back to area. A city whose polygon misses the grid
//! while its row's centre is on the grid is refused; when both miss it the
//! row is reported as outside the domain. A row whose city has no polygon
//! keeps the Gaussian.

use super::for_each_csv_row;
use crate::attribution::regions::RegionMap;
use crate::config::CityAllocationSpec;
use crate::error::{Error, Result};
use crate::grid::Grid;
use ndarray::Array2;
use std::path::Path;

/// A sector's spatial proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proxy {
    Population,
    Urban,
    Cropland,
    Area,
}

impl Proxy {
    /// The proxy of a sector label (see the module table).
    pub fn of_sector(label: &str) -> Proxy {
        match label {
            "mobile" | "dust" | "industrial_process" | "stationary_combustion" => Proxy::Urban,
            "agriculture" | "biomass_burning" => Proxy::Cropland,
            _ => Proxy::Population,
        }
    }
}

/// City polygons on the grid with the proxy fields.
#[derive(Debug, Clone)]
pub struct CityAllocator {
    pub regions: RegionMap,
    /// Amount of each proxy in each cell [j, i] (None: input not given).
    pub population: Option<Array2<f64>>,
    pub urban: Option<Array2<f64>>,
    pub cropland: Option<Array2<f64>>,
    pub area: Array2<f64>,
}

/// Where a row goes.
pub enum Allocation {
    /// (j, i, weight), weights summing to 1.
    Cells(Vec<(usize, usize, f64)>),
    /// The city has no polygon: keep the Gaussian.
    NoPolygon,
    /// Polygon and centre both off the grid.
    OffGrid,
}

impl CityAllocator {
    pub fn load(spec: &CityAllocationSpec, grid: &Grid) -> Result<CityAllocator> {
        let mut regions = RegionMap::load(&spec.regions_file, &spec.name_property, grid)?;
        // The same partition as the attribution tags (see share_overlaps).
        regions.share_overlaps();
        let population = spec
            .places
            .as_ref()
            .map(|p| population_grid(p, grid))
            .transpose()?;
        let (urban, cropland) = match &spec.land_cover {
            Some(p) => {
                let (u, c) = land_cover_proxies(p, &spec.land_cover_variable, grid)?;
                (Some(u), Some(c))
            }
            None => (None, None),
        };
        Ok(CityAllocator {
            regions,
            population,
            urban,
            cropland,
            area: grid.area.clone(),
        })
    }

    /// The proxy field actually used for `proxy` (None: area).
    fn field(&self, proxy: Proxy) -> &Array2<f64> {
        let f = match proxy {
            Proxy::Population => self.population.as_ref(),
            Proxy::Urban => self.urban.as_ref(),
            Proxy::Cropland => self.cropland.as_ref(),
            Proxy::Area => None,
        };
        f.unwrap_or(&self.area)
    }

    /// The cells and weights of a row of `city` and `sector`, whose centre
    /// is (or is not) on the grid.
    pub fn allocate(&self, city: &str, sector: &str, centre_on_grid: bool) -> Result<Allocation> {
        let Some(r) = self.regions.index(city) else {
            return Ok(Allocation::NoPolygon);
        };
        let cov = &self.regions.coverage[r];
        if !cov.iter().any(|&c| c > 0.0) {
            if centre_on_grid {
                return Err(Error::input(
                    &self.regions.file,
                    city,
                    "a city polygon that overlaps the grid (its city_totals row's centre is on the grid, its polygon is not)",
                ));
            }
            return Ok(Allocation::OffGrid);
        }
        let weights = |f: &Array2<f64>| -> Vec<(usize, usize, f64)> {
            cov.indexed_iter()
                .filter(|(_, &c)| c > 0.0)
                .map(|((j, i), &c)| (j, i, c * f[[j, i]]))
                .filter(|w| w.2 > 0.0)
                .collect()
        };
        let mut w = weights(self.field(Proxy::of_sector(sector)));
        let mut sum: f64 = w.iter().map(|x| x.2).sum();
        if !(sum > 0.0 && sum.is_finite()) {
            w = weights(&self.area);
            sum = w.iter().map(|x| x.2).sum();
        }
        for x in &mut w {
            x.2 /= sum;
        }
        Ok(Allocation::Cells(w))
    }
}

/// Population per cell from a populated-places CSV (GeoNames
/// `cities500`-derived, header `geonameid,name,lon,lat,population,admin1`):
/// each place's population in the cell containing it.
pub fn population_grid(path: &Path, grid: &Grid) -> Result<Array2<f64>> {
    let mut pop = Array2::<f64>::zeros((grid.ny, grid.nx));
    for_each_csv_row(path, &["lon", "lat", "population"], |row| {
        let (lon, lat) = row.lonlat()?;
        let p = row.number("population")?;
        if !(0.0..=1e9).contains(&p) {
            return Err(row.error("population", format!("a population in 0..=1e9, got {p}")));
        }
        if let Some((i, j)) = grid.cell_of(lon, lat) {
            pop[[j, i]] += p;
        }
        Ok(())
    })?;
    Ok(pop)
}

/// Urban (IGBP 13) and cropland (IGBP 12 + 14) area per cell, m2, from the
/// land-cover raster's class fractions on the grid
/// ([`crate::input::raster::LatLonRaster::class_fractions`]).
fn land_cover_proxies(
    path: &Path,
    variable: &str,
    grid: &Grid,
) -> Result<(Array2<f64>, Array2<f64>)> {
    use crate::input::raster::LatLonRaster;
    use crate::land_cover::IGBP_CLASSES;
    let r = LatLonRaster::open(path, variable)?;
    let f = r.class_fractions(grid, r.suggested_sub(grid), IGBP_CLASSES)?;
    let urban = Array2::from_shape_fn((grid.ny, grid.nx), |(j, i)| {
        f[[j, i, 13]] * grid.area[[j, i]]
    });
    let crop = Array2::from_shape_fn((grid.ny, grid.nx), |(j, i)| {
        (f[[j, i, 12]] + f[[j, i, 14]]) * grid.area[[j, i]]
    });
    Ok((urban, crop))
}
