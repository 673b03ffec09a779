//! Land cover on the model grid from a lat-lon class map (a case's
//! `[surface] land_cover`): the fraction of each cell in each class, and
//! what follows from them.
//!
//! The legend is IGBP as in MODIS MCD12Q1/MCD12C1 `Land_Cover_Type_1`
//! (Friedl et al. 2010, Remote Sens. Environ. 114, 168-182, table 1;
//! Sulla-Menashe & Friedl, MCD12 User Guide v6): 0 water, 1 evergreen
//! needleleaf, ..., 12 croplands, 13 urban and built-up, 14
//! cropland/natural vegetation mosaic, 15 snow and ice, 16 barren. WRF's
//! MODIFIED_IGBP_MODIS_NOAH legend numbers the same classes 1-16 and water
//! 17, so class c is WRF class c, and 0 is WRF's 17.
//!
//! - **Fractions**: [`LatLonRaster::class_fractions`], sampling each cell
//!   at least twice per pixel along each axis.
//! - **Deposition land use**: the dominant class (the largest fraction;
//!   a tie goes to the lower class number) mapped onto Wesely's (1989)
//!   categories as WRF-Chem does ([`LandUse::from_modis`]).
//! - **Roughness length**: exp(sum_c f_c ln z0_c), the fraction-weighted
//!   mean of ln z0, since the log wind profile sees ln z0 (Mason 1988,
//!   Q. J. R. Meteorol. Soc. 114, 399-420, refines this with a blending
//!   height, not used here), with z0_c the SFZ0 of WRF's `run/LANDUSE.TBL`
//!   MODIFIED_IGBP_MODIS_NOAH table ([`roughness_of_land_use`]: summer for
//!   day of year 105-288, winter otherwise, as WRF switches; note that
//!   table's winter grassland is 50 cm).
//! - **Emission proxies**: the urban fraction (class 13) and the cropland
//!   fraction, croplands (12) plus half the cropland/natural vegetation
//!   mosaic (14), whose IGBP definition is a mosaic with no one component
//!   above 60 %: half is the midpoint of what the definition allows
//!   (a convention of this model, not a published split).

use crate::config::{LandCoverClasses, LandCoverSpec};
use crate::error::Result;
use crate::grid::Grid;
use crate::input::raster::LatLonRaster;
use crate::met::land_use::{LandUse, Surface};
use crate::met::wrf::roughness_of_land_use;
use ndarray::{Array2, Array3};

/// IGBP classes 0 (water) to 16.
pub const IGBP_CLASSES: usize = 17;
/// IGBP urban and built-up.
pub const IGBP_URBAN: usize = 13;
/// IGBP croplands.
pub const IGBP_CROPLANDS: usize = 12;
/// IGBP cropland/natural vegetation mosaic.
pub const IGBP_MOSAIC: usize = 14;

#[derive(Debug, Clone)]
pub struct LandCover {
    /// Fraction of cell [j, i] in IGBP class [c]; each cell sums to 1.
    pub fractions: Array3<f64>,
}

impl LandCover {
    /// The case's land-cover map on `grid`.
    pub fn load(grid: &Grid, spec: &LandCoverSpec) -> Result<LandCover> {
        match spec.classes {
            LandCoverClasses::Igbp => {}
        }
        let r = LatLonRaster::open(&spec.path, &spec.variable)?;
        let fractions = r.class_fractions(grid, r.suggested_sub(grid), IGBP_CLASSES)?;
        Ok(LandCover { fractions })
    }

    /// The IGBP class with the largest fraction in each cell (a tie goes
    /// to the lower class).
    pub fn dominant(&self) -> Array2<u8> {
        let (ny, nx, nc) = self.fractions.dim();
        Array2::from_shape_fn((ny, nx), |(j, i)| {
            let mut best = 0;
            for c in 1..nc {
                if self.fractions[[j, i, c]] > self.fractions[[j, i, best]] {
                    best = c;
                }
            }
            best as u8
        })
    }

    /// WRF's MODIFIED_IGBP_MODIS_NOAH class of an IGBP class (water 0 -> 17).
    pub fn wrf_class(igbp: usize) -> u32 {
        if igbp == 0 {
            17
        } else {
            igbp as u32
        }
    }

    /// Wesely (1989) category number (1-11) of each cell's dominant class.
    pub fn land_use(&self) -> Array2<u8> {
        self.dominant().mapv(|c| {
            LandUse::from_modis(LandCover::wrf_class(c as usize)).expect("every IGBP class maps")
                as u8
        })
    }

    /// Roughness length of each cell, m, on day of year `day` (see the
    /// module notes).
    pub fn roughness(&self, day: f64) -> Array2<f64> {
        let (ny, nx, nc) = self.fractions.dim();
        let ln_z0: Vec<f64> = (0..nc)
            .map(|c| {
                roughness_of_land_use(
                    "MODIFIED_IGBP_MODIS_NOAH",
                    LandCover::wrf_class(c) as f64,
                    day,
                )
                .expect("every IGBP class has a roughness")
                .ln()
            })
            .collect();
        Array2::from_shape_fn((ny, nx), |(j, i)| {
            (0..nc)
                .map(|c| self.fractions[[j, i, c]] * ln_z0[c])
                .sum::<f64>()
                .exp()
        })
    }

    /// Roughness and deposition land use for the met, on day of year `day`.
    pub fn surface(&self, day: f64) -> Surface {
        Surface {
            z0: self.roughness(day),
            land_use: self.land_use(),
        }
    }

    /// Fraction of each cell that is urban and built-up (IGBP 13).
    pub fn urban_fraction(&self) -> Array2<f64> {
        self.fractions
            .index_axis(ndarray::Axis(2), IGBP_URBAN)
            .to_owned()
    }

    /// Fraction of each cell that is cropland: croplands (IGBP 12) plus half
    /// the cropland/natural vegetation mosaic (14) (see the module notes).
    pub fn cropland_fraction(&self) -> Array2<f64> {
        let f = &self.fractions;
        let (ny, nx, _) = f.dim();
        Array2::from_shape_fn((ny, nx), |(j, i)| {
            f[[j, i, IGBP_CROPLANDS]] + 0.5 * f[[j, i, IGBP_MOSAIC]]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cover(cells: &[&[(usize, f64)]]) -> LandCover {
        let mut f = Array3::zeros((1, cells.len(), IGBP_CLASSES));
        for (i, cell) in cells.iter().enumerate() {
            for &(c, x) in cell.iter() {
                f[[0, i, c]] = x;
            }
        }
        LandCover { fractions: f }
    }

    #[test]
    fn dominant_classes_map_to_wesely_and_roughness_mixes_in_log() {
        // Cell 0 all water; cell 1 urban 0.75 + cropland 0.25; cell 2 a
        // tie between evergreen broadleaf (2) and croplands (12).
        let lc = cover(&[
            &[(0, 1.0)],
            &[(13, 0.75), (12, 0.25)],
            &[(2, 0.5), (12, 0.5)],
        ]);
        let lu = lc.land_use();
        assert_eq!(lu[[0, 0]], LandUse::Water as u8);
        assert_eq!(lu[[0, 1]], LandUse::Urban as u8);
        // The tie goes to class 2, evergreen broadleaf: USGS 13, Wesely
        // deciduous forest in WRF-Chem's table.
        assert_eq!(lu[[0, 2]], LandUse::DeciduousForest as u8);
        // LANDUSE.TBL winter SFZ0 (cm): water 0.01, urban 80, croplands 5,
        // evergreen broadleaf 50. Hand values: exp(0.75 ln 0.80 + 0.25 ln 0.05)
        // = 0.80^0.75 * 0.05^0.25 = 0.84590 * 0.47287 = 0.40000 m.
        let z0 = lc.roughness(15.0);
        assert!((z0[[0, 0]] - 1e-4).abs() < 1e-12);
        assert!((z0[[0, 1]] - 0.4).abs() < 1e-4, "{}", z0[[0, 1]]);
        // sqrt(0.5 * 0.05) = 0.158114 m.
        assert!((z0[[0, 2]] - 0.158_114).abs() < 1e-6);
        // Summer croplands are 15 cm: sqrt(0.5 * 0.15) = 0.273861 m.
        assert!((lc.roughness(180.0)[[0, 2]] - 0.273_861).abs() < 1e-6);
    }

    #[test]
    fn urban_and_cropland_fractions() {
        let lc = cover(&[&[(13, 0.3), (12, 0.2), (14, 0.4), (0, 0.1)]]);
        assert!((lc.urban_fraction()[[0, 0]] - 0.3).abs() < 1e-15);
        // 0.2 + 0.4 / 2.
        assert!((lc.cropland_fraction()[[0, 0]] - 0.4).abs() < 1e-15);
    }
}
