//! Land use in the 11 categories of Wesely (1989), Atmos. Environ. 23,
//! 1293-1304, Table 1: the category, its number and its case-file name.
//! Below both the case (which names one) and the met (which maps its own
//! classes onto them in [`crate::met::land_use`]).

/// Wesely (1989) land-use category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum LandUse {
    Urban = 1,
    Agricultural = 2,
    Range = 3,
    DeciduousForest = 4,
    ConiferousForest = 5,
    /// Mixed forest including wetland.
    MixedForest = 6,
    Water = 7,
    /// Barren land, mostly desert.
    Barren = 8,
    /// Nonforested wetland.
    Wetland = 9,
    /// Mixed agricultural and range land.
    AgriculturalRange = 10,
    /// Rocky open areas with low-growing shrubs.
    RockyShrubs = 11,
}

pub(crate) const ALL: [LandUse; 11] = [
    LandUse::Urban,
    LandUse::Agricultural,
    LandUse::Range,
    LandUse::DeciduousForest,
    LandUse::ConiferousForest,
    LandUse::MixedForest,
    LandUse::Water,
    LandUse::Barren,
    LandUse::Wetland,
    LandUse::AgriculturalRange,
    LandUse::RockyShrubs,
];

/// Case-file names of the categories, in category order.
const NAMES: [&str; 11] = [
    "urban",
    "agricultural",
    "range",
    "deciduous_forest",
    "coniferous_forest",
    "mixed_forest",
    "water",
    "barren",
    "wetland",
    "agricultural_range",
    "rocky_shrubs",
];

impl LandUse {
    /// The category of number 1-11, None otherwise (0 = not given).
    pub fn from_index(n: u8) -> Option<LandUse> {
        ALL.get((n as usize).checked_sub(1)?).copied()
    }

    /// Column 0-10 in Wesely's tables.
    pub fn column(self) -> usize {
        self as usize - 1
    }

    pub fn from_name(name: &str) -> Option<LandUse> {
        NAMES.iter().position(|&n| n == name).map(|i| ALL[i])
    }

    pub fn name(self) -> &'static str {
        NAMES[self.column()]
    }

    pub fn known_names() -> String {
        NAMES.join(", ")
    }
}
