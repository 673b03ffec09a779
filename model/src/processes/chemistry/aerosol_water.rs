//! Aerosol liquid water, wet surface area, and the reactive uptake of gases
//! on it (SO2 to sulfate in aerosol water; N2O5 in [`super::night`]).
//!
//! - Water: kappa-Koehler theory (Petters & Kreidenweis 2007, Atmos. Chem.
//!   Phys. 7, 1961, eq. 2 in the large-particle limit where the Kelvin term
//!   is negligible, > 0.1 um): V_w = sum_s kappa_s V_s a_w / (1 - a_w), with
//!   the water activity a_w = RH and the ZSR mixing rule over the internally
//!   mixed dry volumes V_s (their eq. 7). kappa from their Table 1 and
//!   section 3: ammonium sulfate 0.61, ammonium nitrate 0.67; secondary
//!   organics ~0.1 (their range 0.01-0.5); black carbon 0; the other primary
//!   PM2.5 (dust, ash) 0.01 taken as nearly insoluble. RH is capped at 0.98,
//!   beyond which haze turns to fog and the cloud-water path takes over.
//! - Surface: each species' dry volume is taken in particles of its table
//!   diameter D_s (the Sauter diameter of its mode), grown by the common
//!   diameter growth factor g = (1 + V_w / V_dry)^(1/3), so the wet surface
//!   per volume of air is S = sum_s 6 V_s g^2 / D_s.
//!   Primary OC is counted as organic matter, 1.6 x OC (Turpin & Lim 2001,
//!   the factor `soa` uses for the absorbing mass).
//! - Uptake: a gas of molar mass M and diffusivity D reacts on that surface
//!   at the first-order rate k = S / (a / D + 4 / (c gamma)) with the mean
//!   molecular speed c = (8 R T / (pi M))^(1/2) and the wet particles'
//!   volume-to-surface radius a = 3 V_wet / S (Jacob 2000, Atmos. Environ.
//!   34, 2131, eq. 1: gas-phase diffusion in series with the surface
//!   reaction; for gamma -> 0 it is gamma c S / 4).
//! - SO2 on aerosol water: gamma(SO2) is a case key (0 turns the path off).
//!   Model studies of the North China winter haze of January 2013 used
//!   reactive uptake coefficients of order 1e-5 to 1e-4 on deliquesced
//!   particles to close the sulfate gap (Wang Y. et al. 2014, J. Geophys.
//!   Res. 119, 10425; Zheng B. et al. 2015, Atmos. Chem. Phys. 15, 2031);
//!   the multiphase chemistry behind it (NO2, O3, TMI and HMS pathways in
//!   aerosol water) is reviewed by Cheng et al. (2016), Sci. Adv. 2,
//!   e1601530, and Song et al. (2019), Atmos. Chem. Phys. 19, 1357. The
//!   default 5e-5 sits mid-range; a factor of 2-5 either way is the
//!   uncertainty. The path needs liquid particles: above the efflorescence
//!   humidity of ammonium sulfate (35 %, Martin 2000, Chem. Rev. 100, 3403)
//!   for metastable liquid particles, above its deliquescence humidity
//!   (79.9 % at 298 K, Seinfeld & Pandis 2006 Table 10.1) otherwise.

use crate::species::{Phase, Species};

/// Gas constant, J mol-1 K-1.
const R_GAS: f64 = 8.314_462;

/// Efflorescence and deliquescence relative humidity of ammonium sulfate.
pub const ERH_AMMONIUM_SULFATE: f64 = 0.35;
pub const DRH_AMMONIUM_SULFATE: f64 = 0.799;

/// Hygroscopicity kappa of a particulate species (module notes).
pub fn kappa(name: &str) -> f64 {
    match name {
        "SO4" | "NH4" => 0.61,
        "NO3" => 0.67,
        "OC" => 0.1,
        "BC" => 0.0,
        "PM25" => 0.01,
        n if crate::processes::soa::is_soa_particle(n) => 0.1,
        _ => 0.0,
    }
}

/// Mean molecular speed of a gas, m/s, at temperature T (K), molar mass g/mol.
pub fn mean_speed(temperature: f64, molar_mass_g: f64) -> f64 {
    (8.0 * R_GAS * temperature / (std::f64::consts::PI * molar_mass_g * 1e-3)).sqrt()
}

/// First-order uptake rate, s-1, on wet particles `wet` of a gas with
/// molar mass (g/mol) and diffusivity `diffusivity` (m2/s) (module notes).
pub fn uptake_rate(
    gamma: f64,
    temperature: f64,
    molar_mass_g: f64,
    diffusivity: f64,
    wet: &Wet,
) -> f64 {
    if !(gamma > 0.0 && wet.surface > 0.0) {
        return 0.0;
    }
    let radius = 3.0 * (wet.dry_volume + wet.water_volume) / wet.surface;
    wet.surface / (radius / diffusivity + 4.0 / (mean_speed(temperature, molar_mass_g) * gamma))
}

/// Water, dry volume and wet surface of one cell's particles.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Wet {
    /// Dry particle volume and liquid water volume, m3 per m3 of air.
    pub dry_volume: f64,
    pub water_volume: f64,
    /// Wet surface area, m2 per m3 of air.
    pub surface: f64,
}

/// One particulate species as the water calculation needs it.
#[derive(Debug, Clone, Copy)]
pub struct Hygroscopic {
    pub tracer: usize,
    /// Particle mass per unit of the species' mass (organic matter per OC).
    pub mass_factor: f64,
    pub kappa: f64,
    pub density: f64,
    pub diameter: f64,
}

/// The run's particulate species (bulk tracers).
pub fn hygroscopic(species: &[Species], tracer_of: impl Fn(usize) -> usize) -> Vec<Hygroscopic> {
    species
        .iter()
        .enumerate()
        .filter_map(|(s, sp)| match sp.phase {
            Phase::Particle { diameter, density } => Some(Hygroscopic {
                tracer: tracer_of(s),
                mass_factor: if sp.name == "OC" { 1.6 } else { 1.0 },
                kappa: kappa(sp.name),
                density,
                diameter,
            }),
            Phase::Gas { .. } => None,
        })
        .collect()
}

/// Water and wet surface from the particle mass concentrations (kg/m3,
/// `conc(tracer)`) at relative humidity `rh` (module notes).
pub fn wet_particles(parts: &[Hygroscopic], conc: impl Fn(usize) -> f64, rh: f64) -> Wet {
    let aw = rh.clamp(0.0, 0.98);
    let mut dry = 0.0;
    let mut water = 0.0;
    let mut surface_dry = 0.0;
    for p in parts {
        let v = conc(p.tracer).max(0.0) * p.mass_factor / p.density;
        dry += v;
        water += p.kappa * v * aw / (1.0 - aw);
        surface_dry += 6.0 * v / p.diameter;
    }
    if dry <= 0.0 {
        return Wet::default();
    }
    let growth = (1.0 + water / dry).cbrt();
    let growth_squared = growth * growth;
    Wet {
        dry_volume: dry,
        water_volume: water,
        surface: surface_dry * growth_squared,
    }
}

/// True where particles are liquid for uptake at this humidity.
pub fn liquid(rh: f64, metastable: bool) -> bool {
    rh >= if metastable {
        ERH_AMMONIUM_SULFATE
    } else {
        DRH_AMMONIUM_SULFATE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ammonium_sulfate_grows_as_petters_and_kreidenweis_tabulate() {
        // kappa = 0.61 at RH 90 %: V_w/V_s = 0.61 x 0.9 / 0.1 = 5.49, so the
        // diameter growth factor is 6.49^(1/3) = 1.866 (hand computed).
        // Measured HTDMA growth factors of ammonium sulfate at 90 % are
        // 1.7-1.8 for 100 nm particles (Kelvin effect included), which the
        // large-particle limit slightly exceeds.
        let p = [Hygroscopic {
            tracer: 0,
            mass_factor: 1.0,
            kappa: 0.61,
            density: 1770.0,
            diameter: 0.5e-6,
        }];
        let w = wet_particles(&p, |_| 50e-9, 0.9);
        let g = (1.0 + w.water_volume / w.dry_volume).cbrt();
        assert!((g - 1.866).abs() < 1e-3, "{g}");
        // Dry surface of 50 ug/m3 in 0.5 um spheres: 6 x 2.825e-11 / 0.5e-6.
        let dry = wet_particles(&p, |_| 50e-9, 0.0);
        assert!(
            (dry.surface / 3.390e-4 - 1.0).abs() < 1e-3,
            "{}",
            dry.surface
        );
        assert!((w.surface / dry.surface - g * g).abs() < 1e-12);
    }

    #[test]
    fn diffusion_limits_uptake_as_jacob_writes_it() {
        // Jacob (2000) eq. 1 by hand: 1e-4 m2/m3 of surface on particles of
        // volume-to-surface radius 0.3 um (V = 1e-11 m3/m3), N2O5 at 278 K
        // (c = 233.44 m/s), D = 8.5e-6 m2/s, gamma 0.05:
        // 1e-4 / (0.3e-6 / 8.5e-6 + 4 / (233.44 x 0.05)) = 2.6456e-4 s-1,
        // against gamma c S / 4 = 2.918e-4 without diffusion (10 % more).
        let wet = Wet {
            dry_volume: 1e-11,
            water_volume: 0.0,
            surface: 1e-4,
        };
        let k = uptake_rate(0.05, 278.0, 108.01, 8.5e-6, &wet);
        assert!((k / 2.6456e-4 - 1.0).abs() < 1e-3, "{k}");
        let free = 0.05 * mean_speed(278.0, 108.01) * 1e-4 / 4.0;
        assert!((free / 2.918e-4 - 1.0).abs() < 1e-3, "{free}");
        assert_eq!(uptake_rate(0.0, 278.0, 108.01, 8.5e-6, &wet), 0.0);
    }

    #[test]
    fn molecular_speeds_match_kinetic_theory_tables() {
        // N2O5 at 298 K: 242 m/s; SO2 at 298 K: 314 m/s (sqrt(8RT/(pi M))).
        assert!((mean_speed(298.0, 108.01) - 241.7).abs() < 0.5);
        assert!((mean_speed(298.0, 64.066) - 313.9).abs() < 0.5);
    }
}
