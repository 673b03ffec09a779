//! The met's land-use classes mapped onto the 11 categories of Wesely
//! (1989), Atmos. Environ. 23, 1293-1304, Table 1 ([`crate::land_use`]),
//! which the dry-deposition surface resistances
//! ([`crate::processes::surface_resistance`]) are tabulated by.
//!
//! `MetFields::land_use` holds the category number (1-11) of each column, or
//! 0 where the meteorology does not say; the dry deposition then takes the
//! case's `physics.land_use` (default mixed forest, see docs/case-file.md).
//!
//! WRF's `LU_INDEX` classes are mapped as WRF-Chem does
//! (`chem/module_dep_simple.F`, `dep_init`: the USGS-24 -> Wesely comment
//! table, and `luse2usgs` for MODIFIED_IGBP_MODIS_NOAH -> USGS).

pub use crate::land_use::LandUse;

/// Surface fields from maps (a case's `[surface] land_cover`, see
/// [`crate::land_cover`]) that replace a met source's uniform defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Surface {
    /// Roughness length of each cell [j, i], m.
    pub z0: ndarray::Array2<f64>,
    /// Wesely category number 1-11 of each cell [j, i].
    pub land_use: ndarray::Array2<u8>,
}

impl Surface {
    /// The log-mean roughness over the domain, m: one roughness for a
    /// domain-wide profile.
    pub fn mean_z0(&self) -> f64 {
        (self.z0.iter().map(|z| z.ln()).sum::<f64>() / self.z0.len().max(1) as f64).exp()
    }
}

impl LandUse {
    /// A USGS-24 class (WRF `MMINLU = "USGS"`) in Wesely's categories, after
    /// WRF-Chem's table. Snow or ice (24) has no Wesely column; it is taken
    /// as barren (no stomata or cuticles; ground resistances only).
    pub fn from_usgs(class: u32) -> Option<LandUse> {
        use LandUse::*;
        Some(match class {
            1 => Urban,
            2..=5 => Agricultural,
            6 | 11 | 13 => DeciduousForest,
            7..=10 => Range,
            12 | 14 => ConiferousForest,
            15 | 18 | 21 | 22 => MixedForest,
            16 => Water,
            17 | 20 => Wetland,
            19 | 23 | 24 | 25 => Barren,
            _ => return None,
        })
    }

    /// A MODIS-IGBP class (WRF `MMINLU = "MODIFIED_IGBP_MODIS_NOAH"`, 1-20)
    /// through WRF-Chem's MODIS -> USGS map (`luse2usgs`); 21 (lakes, in
    /// WRF's 21-class table) is water.
    pub fn from_modis(class: u32) -> Option<LandUse> {
        if class == 21 {
            return Some(LandUse::Water);
        }
        const TO_USGS: [u32; 20] = [
            14, 13, 12, 11, 15, 8, 9, 10, 10, 7, 17, 4, 1, 5, 24, 19, 16, 21, 22, 23,
        ];
        let usgs = *TO_USGS.get((class as usize).checked_sub(1)?)?;
        LandUse::from_usgs(usgs)
    }

    /// A WRF `LU_INDEX` value under the file's `MMINLU` table.
    pub fn from_wrf(table: &str, class: f64) -> Option<LandUse> {
        if class.fract() != 0.0 || class < 1.0 {
            return None;
        }
        match table {
            "USGS" => LandUse::from_usgs(class as u32),
            "MODIFIED_IGBP_MODIS_NOAH" | "MODIS" => LandUse::from_modis(class as u32),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_indices_and_wrf_tables_round_trip() {
        for (n, lu) in crate::land_use::ALL.iter().enumerate() {
            assert_eq!(LandUse::from_index(n as u8 + 1), Some(*lu));
            assert_eq!(LandUse::from_name(lu.name()), Some(*lu));
        }
        assert_eq!(LandUse::from_index(0), None);
        assert_eq!(LandUse::from_index(12), None);
        // USGS 2 dryland cropland, 15 mixed forest, 16 water.
        assert_eq!(LandUse::from_wrf("USGS", 2.0), Some(LandUse::Agricultural));
        assert_eq!(LandUse::from_wrf("USGS", 15.0), Some(LandUse::MixedForest));
        assert_eq!(LandUse::from_wrf("USGS", 16.0), Some(LandUse::Water));
        // MODIS 1 evergreen needleleaf, 12 croplands, 13 urban, 17 water.
        let m = "MODIFIED_IGBP_MODIS_NOAH";
        assert_eq!(LandUse::from_wrf(m, 1.0), Some(LandUse::ConiferousForest));
        assert_eq!(LandUse::from_wrf(m, 12.0), Some(LandUse::Agricultural));
        assert_eq!(LandUse::from_wrf(m, 13.0), Some(LandUse::Urban));
        assert_eq!(LandUse::from_wrf(m, 17.0), Some(LandUse::Water));
        assert_eq!(LandUse::from_wrf(m, 21.0), Some(LandUse::Water));
        assert_eq!(LandUse::from_wrf(m, 22.0), None);
        assert_eq!(LandUse::from_wrf("SiB", 1.0), None);
    }
}
