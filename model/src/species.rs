//! The built-in species table: what each transported species is and how it
//! deposits. Secondary species arrive with the chemistry issue; adding one is
//! a row here.
//!
//! Primary PM2.5 is carried as BC, OC and PM25 (everything else: dust,
//! ash, metals), each emitted as the inventory gives it. BC and OC sizes and
//! densities: the accumulation-mode values of Bond & Bergstrom (2006),
//! Aerosol Sci. Technol. 40, 27 (BC ~1.8 g/cm3) and Turpin & Lim (2001),
//! Aerosol Sci. Technol. 35, 602 (organics ~1.2-1.4 g/cm3).
//!
//! VOC classes and SOA products follow CMAQ AERO6 (`processes::soa`). The
//! VOC classes and semi-volatile gases are taken as non-depositing (like the
//! lumped VOC); SOA particles deposit as accumulation-mode organics
//! (0.4 um, 1.4 g/cm3, Turpin & Lim 2001).
//!
//! Sources for the parameters:
//! - Molecular diffusivities in air at 273.15 K and 1 atm: Massman (1998),
//!   Atmos. Environ. 32, 1111-1127, Table 2 (SO2 0.1089, NO2 0.1361, NH3
//!   0.1978 cm2/s); dry deposition scales them to the cell's T and p by
//!   Massman's (p0/p)(T/T0)^1.81. VOC lumped as toluene-like (Fuller method,
//!   ~0.08 cm2/s).
//! - Bulk canopy resistances r_c: gases with Wesely (1989) parameters (SO2,
//!   NOX, NH3, HNO3, ... : `processes::surface_resistance::gas`) get r_c by
//!   land use, season, sunlight and temperature from Wesely's scheme; the
//!   constant here is used only for the others (and for the unit-test
//!   helper `deposition_velocity`): order of the daytime vegetated-land
//!   values of Wesely (1989), Atmos. Environ. 23, 1293-1304 (SO2 ~100 s/m,
//!   NO2 ~500 s/m); NH3 taken as SO2-like; VOC effectively non-depositing.
//! - Below-cloud scavenging coefficients at 1 mm/h liquid precipitation:
//!   CALPUFF user's guide (Scire et al. 2000), Table 2-9: SO2 3e-5 s^-1,
//!   fine particles (SO4, NO3, PM) 1e-4 s^-1, NOx 0, HNO3 6e-5 s^-1; NH3 is
//!   not in that table and is given the HNO3 value (highly soluble gas).
//!   Frozen precipitation (Table 2-9's second column: particles 3e-5 s^-1,
//!   gases 0) is applied by rule in `processes::deposition`.
//! - Secondary inorganic particles (SO4, NO3, NH4) share the accumulation
//!   mode of primary PM2.5 (0.5 um) with the density of ammonium sulfate,
//!   1770 kg/m3; CALPUFF gives SO4 and NO3 1e-4 s^-1, NH4 is taken the same.
//! - Oxidants and night-time reservoirs (chemistry issue 10): O3 diffusivity
//!   from Massman (1998) Table 2 (0.1444 cm2/s); H2O2, N2O5 and ClNO2 from
//!   NO2's by Graham's law like HNO3. Canopy resistances: O3 ~200 s/m and
//!   H2O2 ~10 s/m (Wesely 1989: H2O2 with H* = 1e5 and f0 = 1 deposits near
//!   the aerodynamic limit), N2O5 as HNO3 (it hydrolyses on wet surfaces),
//!   ClNO2 taken as non-depositing (sparingly soluble). Below-cloud
//!   scavenging: H2O2 and N2O5 as the soluble HNO3, O3 and ClNO2 none.
//! - HNO3: surface resistance ~0 (Wesely 1989: it deposits at the
//!   aerodynamic limit), taken as 10 s/m; diffusivity from NO2's by Graham's
//!   law, D ~ M^-1/2 (1.16e-5 m2/s).

/// Gas or particle, with the parameters each deposition path needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// Gas: molecular diffusivity (m2/s, at 273.15 K and 1 atm) and bulk
    /// canopy resistance (s/m; replaced by Wesely's where the gas has
    /// Wesely parameters; infinite: no dry deposition).
    Gas {
        diffusivity: f64,
        canopy_resistance: f64,
    },
    /// Particle: representative mass-median diameter (m) and density (kg/m3).
    Particle { diameter: f64, density: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Species {
    pub name: &'static str,
    pub long_name: &'static str,
    /// Molar mass, g/mol (gases); used for ppb output.
    pub molar_mass: f64,
    pub phase: Phase,
    /// Below-cloud scavenging coefficient at 1 mm/h, s^-1 (CALPUFF form).
    pub scavenging_per_mm_h: f64,
}

/// A VOC class or semi-volatile organic gas: toluene-like diffusivity,
/// effectively non-depositing, not scavenged.
const fn organic_gas(name: &'static str, long_name: &'static str, molar_mass: f64) -> Species {
    Species {
        name,
        long_name,
        molar_mass,
        phase: Phase::Gas {
            diffusivity: 0.7e-5,
            canopy_resistance: 1.0e5,
        },
        scavenging_per_mm_h: 0.0,
    }
}

/// An SOA product particle: accumulation-mode organics (0.4 um, 1.4 g/cm3).
const fn soa_particle(name: &'static str, long_name: &'static str) -> Species {
    Species {
        name,
        long_name,
        molar_mass: 0.0,
        phase: Phase::Particle {
            diameter: 0.4e-6,
            density: 1400.0,
        },
        scavenging_per_mm_h: 1.0e-4,
    }
}

const TABLE: &[Species] = &[
    Species {
        name: "PM25",
        long_name: "primary PM2.5 other than BC and OC (dust, ash, trace metals)",
        molar_mass: 0.0,
        phase: Phase::Particle {
            diameter: 0.5e-6,
            density: 1500.0,
        },
        scavenging_per_mm_h: 1.0e-4,
    },
    Species {
        name: "BC",
        long_name: "primary black carbon",
        molar_mass: 0.0,
        phase: Phase::Particle {
            diameter: 0.2e-6,
            density: 1800.0,
        },
        scavenging_per_mm_h: 1.0e-4,
    },
    Species {
        name: "OC",
        long_name: "primary organic carbon",
        molar_mass: 0.0,
        phase: Phase::Particle {
            diameter: 0.3e-6,
            density: 1300.0,
        },
        scavenging_per_mm_h: 1.0e-4,
    },
    Species {
        name: "SO2",
        long_name: "sulfur dioxide",
        molar_mass: 64.066,
        phase: Phase::Gas {
            diffusivity: 1.089e-5,
            canopy_resistance: 100.0,
        },
        scavenging_per_mm_h: 3.0e-5,
    },
    Species {
        name: "NOX",
        long_name: "nitrogen oxides as NO2",
        molar_mass: 46.0055,
        phase: Phase::Gas {
            diffusivity: 1.361e-5,
            canopy_resistance: 500.0,
        },
        scavenging_per_mm_h: 0.0,
    },
    Species {
        name: "NH3",
        long_name: "ammonia",
        molar_mass: 17.031,
        phase: Phase::Gas {
            diffusivity: 1.978e-5,
            canopy_resistance: 100.0,
        },
        scavenging_per_mm_h: 6.0e-5,
    },
    Species {
        name: "VOC",
        long_name: "anthropogenic volatile organic compounds (lumped)",
        molar_mass: 92.14,
        phase: Phase::Gas {
            diffusivity: 0.8e-5,
            canopy_resistance: 1.0e5,
        },
        scavenging_per_mm_h: 0.0,
    },
    Species {
        name: "SO4",
        long_name: "particulate sulfate",
        molar_mass: 96.06,
        phase: Phase::Particle {
            diameter: 0.5e-6,
            density: 1770.0,
        },
        scavenging_per_mm_h: 1.0e-4,
    },
    Species {
        name: "HNO3",
        long_name: "nitric acid (gas)",
        molar_mass: 63.0128,
        phase: Phase::Gas {
            diffusivity: 1.163e-5,
            canopy_resistance: 10.0,
        },
        scavenging_per_mm_h: 6.0e-5,
    },
    Species {
        name: "NO3",
        long_name: "particulate nitrate",
        molar_mass: 62.0049,
        phase: Phase::Particle {
            diameter: 0.5e-6,
            density: 1770.0,
        },
        scavenging_per_mm_h: 1.0e-4,
    },
    Species {
        name: "NH4",
        long_name: "particulate ammonium",
        molar_mass: 18.0385,
        phase: Phase::Particle {
            diameter: 0.5e-6,
            density: 1770.0,
        },
        scavenging_per_mm_h: 1.0e-4,
    },
    Species {
        name: "O3",
        long_name: "ozone (oxidant; carried untagged)",
        molar_mass: 47.997,
        phase: Phase::Gas {
            diffusivity: 1.444e-5,
            canopy_resistance: 200.0,
        },
        scavenging_per_mm_h: 0.0,
    },
    Species {
        name: "H2O2",
        long_name: "hydrogen peroxide (oxidant; carried untagged)",
        molar_mass: 34.0147,
        phase: Phase::Gas {
            diffusivity: 1.583e-5,
            canopy_resistance: 10.0,
        },
        scavenging_per_mm_h: 6.0e-5,
    },
    Species {
        name: "N2O5",
        long_name: "dinitrogen pentoxide with the NO3 radical in equilibrium with it",
        molar_mass: 108.01,
        phase: Phase::Gas {
            diffusivity: 0.888e-5,
            canopy_resistance: 10.0,
        },
        scavenging_per_mm_h: 6.0e-5,
    },
    Species {
        name: "CLNO2",
        long_name: "nitryl chloride (night-time reservoir of NOx)",
        molar_mass: 81.46,
        phase: Phase::Gas {
            diffusivity: 1.023e-5,
            canopy_resistance: 1.0e5,
        },
        scavenging_per_mm_h: 0.0,
    },
    organic_gas("ARO", "aromatic VOC (toluene-like)", 92.14),
    organic_gas("ALK", "long-chain alkane VOC (dodecane-like)", 170.33),
    organic_gas("OLE", "alkene VOC (propene-like; no SOA)", 42.08),
    organic_gas("ISOP", "isoprene", 68.12),
    organic_gas("TERP", "monoterpenes (alpha-pinene-like)", 136.23),
    organic_gas("SVARO1", "semi-volatile aromatic SOA product 1 (gas)", 0.0),
    soa_particle("AARO1", "aromatic SOA product 1 (particle)"),
    organic_gas("SVARO2", "semi-volatile aromatic SOA product 2 (gas)", 0.0),
    soa_particle("AARO2", "aromatic SOA product 2 (particle)"),
    organic_gas("SVALK1", "semi-volatile alkane SOA product 1 (gas)", 0.0),
    soa_particle("AALK1", "alkane SOA product 1 (particle)"),
    organic_gas("SVALK2", "semi-volatile alkane SOA product 2 (gas)", 0.0),
    soa_particle("AALK2", "alkane SOA product 2 (particle)"),
    organic_gas("SVISO1", "semi-volatile isoprene SOA product 1 (gas)", 0.0),
    soa_particle("AISO1", "isoprene SOA product 1 (particle)"),
    organic_gas("SVISO2", "semi-volatile isoprene SOA product 2 (gas)", 0.0),
    soa_particle("AISO2", "isoprene SOA product 2 (particle)"),
    organic_gas(
        "SVTRP1",
        "semi-volatile monoterpene SOA product 1 (gas)",
        0.0,
    ),
    soa_particle("ATRP1", "monoterpene SOA product 1 (particle)"),
    organic_gas(
        "SVTRP2",
        "semi-volatile monoterpene SOA product 2 (gas)",
        0.0,
    ),
    soa_particle("ATRP2", "monoterpene SOA product 2 (particle)"),
    Species {
        name: "TRACER",
        long_name: "passive tracer (no deposition)",
        molar_mass: 0.0,
        phase: Phase::Gas {
            diffusivity: 1.0e-5,
            canopy_resistance: f64::INFINITY,
        },
        scavenging_per_mm_h: 0.0,
    },
];

/// Oxidants: background fields that chemistry consumes and replenishes,
/// never emitted, so they are carried untagged (attribution follows the
/// sulfur, nitrogen and carbon they oxidise, not the oxidant).
pub const OXIDANTS: [&str; 2] = ["O3", "H2O2"];

/// Reference state of the table's gas diffusivities (Massman 1998).
pub const DIFFUSIVITY_T0: f64 = 273.15;
pub const DIFFUSIVITY_P0: f64 = 101_325.0;

/// Molecular diffusivity at temperature t (K) and pressure p (Pa) from its
/// value d0 at 273.15 K and 1 atm: D = D0 (p0/p) (T/T0)^1.81 (Massman 1998).
pub fn diffusivity_at(d0: f64, t: f64, p: f64) -> f64 {
    d0 * (DIFFUSIVITY_P0 / p) * (t / DIFFUSIVITY_T0).powf(1.81)
}

pub fn lookup(name: &str) -> Option<Species> {
    TABLE.iter().find(|s| s.name == name).copied()
}

pub fn known_names() -> String {
    TABLE.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
}

pub fn table() -> &'static [Species] {
    TABLE
}
