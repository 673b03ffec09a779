//! Secondary PM2.5: gas-phase oxidation of SO2 and NO2 by OH, aqueous
//! sulfate, night-time nitrate, the partitioning of ammonia and nitric acid
//! with sulfate, and SOA from VOC classes (`super::soa`). Every step is
//! exact in moles, so sulfur, oxidised nitrogen and reduced nitrogen are
//! each conserved to round-off.
//!
//! - Rate constants: the IUPAC/JPL fall-off expressions adopted by CB6r5
//!   (CMAQ mechanism table, reactions R52 and R45):
//!   SO2 + OH: k0 = 2.8e-31 (T/300)^-2.6, kinf = 2.0e-12, F = 0.53, n = 1.10;
//!   NO2 + OH: k0 = 1.8e-30 (T/300)^-3.0, kinf = 2.8e-11, F = 0.60, n = 1.00;
//!   k = k0 M / (1 + k0 M / kinf) F^G, G = 1 / (1 + (log10(k0 M / kinf) / n)^2).
//! - OH: a prescribed diurnal field, OH = OH_peak cos(SZA) in daylight and 0
//!   at night, dimmed below cloud ([`below_cloud_factor`]), with the solar zenith angle from latitude, day of year and
//!   local solar time (declination of Cooper 1969). A documented stand-in
//!   until a photochemical mechanism (roadmap item 8) computes OH.
//! - Each first-order loss is integrated exactly over the step,
//!   x <- x exp(-k OH dt), so it is stable for any step.
//! - Night-time nitrate through NO3 and N2O5 with carried ozone, N2O5
//!   uptake on wet particles (gamma x surface) and a ClNO2 yield: see
//!   [`night`]; the wet surface and SO2 uptake on aerosol water: see
//!   [`aerosol_water`].
//! - Aqueous sulfate in cloud and fog (where the met has liquid water):
//!   S(IV) + H2O2 -> S(VI), R = k [H+][HSO3-][H2O2(aq)] / (1 + 13 [H+]) with
//!   k = 7.45e7 exp(-15.96 (298/T - 1)) M-2 s-1 (Jacobson 1997, as in CMAQ's
//!   AQCHEM), [HSO3-] = Ks1 H_SO2 p_SO2 / [H+], Ks1 = 1.30e-2
//!   exp(1960 (1/T - 1/298)) M (Smith & Martell 1976), H_SO2 = 1.4
//!   exp(2900 (1/T - 1/298)) and H_H2O2 = 8.3e4 exp(7400 (1/T - 1/298)) M/atm
//!   (the values of CMAQ's `hlconst` table). [H+] cancels except in
//!   1 + 13[H+] and the dissolved S(IV) share, taken at `cloud_ph` (4.5).
//!   Gas and dissolved amounts share one total per cell, so the rate is
//!   d[SO2]/dt = -k' [SO2][H2O2] with
//!   k' = k Ks1 H_SO2 H_H2O2 L / ((1/RT + H*_SO2 L)(1/RT + H_H2O2 L)),
//!   L the liquid water (litres per m3 of air). H2O2 is carried (species
//!   `H2O2`): the step integrates this second-order law exactly
//!   ([`kinetics::second_order_extent`]) for the rate coefficient of the
//!   step, so the SO2 converted does not depend on dt, and each mole of
//!   sulfate consumes one of H2O2 (Seinfeld & Pandis 2006 sec. 7.5).
//!   By day H2O2 then relaxes toward `h2o2_ppb` with
//!   `h2o2_relaxation_hours`, a stand-in for its photochemical production
//!   (HO2 + HO2, so daytime only; its lifetime against
//!   photolysis, OH and deposition is about a day; Seinfeld & Pandis 2006
//!   ch. 6). The O3 and metal-catalysed pathways are not included.
//! - Thermodynamics: sulfate takes ammonia first (to ammonium sulfate, or as
//!   much as there is); the ammonia left and the nitric acid then reach the
//!   NH4NO3(s) <-> NH3 + HNO3 equilibrium with Kp from Mozurkewich (1993),
//!   Atmos. Environ. 27A, 261: ln Kp = 118.87 - 24084/T - 6.025 ln T
//!   (Kp in nbar^2, converted to mixing ratios at the cell's pressure,
//!   [`kp_ppb2`]; as given by Finlayson-Pitts & Pitts, Chemistry of the
//!   Upper and Lower Atmosphere, 2000, ch. 7); above the deliquescence
//!   humidity, or at any humidity on the metastable branch
//!   (`chemistry.metastable`, the default), the aqueous Kp of
//!   [`kp_nh4no3_aqueous`]. Mozurkewich's aqueous fit meets the solid value
//!   near the DRH and exceeds it below, so for NH4NO3 the metastable
//!   choice changes Kp little; it matters for when particles count as
//!   liquid for uptake ([`aerosol_water::liquid`]).

pub mod aerosol_water;
pub mod kinetics;
pub mod night;
pub mod soa;

use super::{Process, ProcessKind, StepContext};
use crate::budget::Budget;
use crate::config::ChemistrySpec;
use crate::error::{Error, Result};
use crate::state::State;
use ndarray::Axis;
use rayon::prelude::*;

/// Molar mass of dry air, kg/mol; Boltzmann constant, J/K.
const M_AIR: f64 = 0.028_964_4;
const BOLTZMANN: f64 = 1.380_649e-23;
/// Avogadro constant, mol-1.
const AVOGADRO: f64 = 6.022_140_76e23;

/// Termolecular fall-off rate constant (cm3 molecule-1 s-1) in the CB6r5 form.
pub fn falloff(k0_300: f64, n0: f64, kinf: f64, f: f64, n: f64, temperature: f64, m: f64) -> f64 {
    let k0 = k0_300 * (temperature / 300.0).powf(-n0) * m;
    let r = k0 / kinf;
    let g = 1.0 / (1.0 + (r.log10() / n).powi(2));
    k0 / (1.0 + r) * f.powf(g)
}

/// SO2 + OH (+M) -> sulfate, cm3 molecule-1 s-1 (CB6r5 R52).
pub fn k_so2_oh(temperature: f64, m: f64) -> f64 {
    falloff(2.8e-31, 2.6, 2.0e-12, 0.53, 1.10, temperature, m)
}

/// NO2 + OH (+M) -> HNO3, cm3 molecule-1 s-1 (CB6r5 R45).
pub fn k_no2_oh(temperature: f64, m: f64) -> f64 {
    falloff(1.8e-30, 3.0, 2.8e-11, 0.60, 1.00, temperature, m)
}

/// NO2 + O3 -> NO3 + O2, cm3 molecule-1 s-1 (JPL 19-5: 1.4e-13 exp(-2470/T)).
pub fn k_no2_o3(temperature: f64) -> f64 {
    1.4e-13 * (-2470.0 / temperature).exp()
}

/// Second-order rate coefficient of aqueous S(IV) + H2O2 in terms of the
/// per-air-volume totals, m3 mol-1 s-1 (module notes): temperature K,
/// liquid water litres per m3 of air, cloud pH.
pub fn k_aqueous_h2o2(temperature: f64, liquid_l_per_m3: f64, ph: f64) -> f64 {
    let dt = 1.0 / temperature - 1.0 / 298.0;
    let k = 7.45e7 * (-15.96 * (298.0 / temperature - 1.0)).exp();
    let ks1 = 1.30e-2 * (1960.0 * dt).exp();
    let h_so2 = 1.4 * (2900.0 * dt).exp();
    let h_h2o2 = 8.3e4 * (7400.0 * dt).exp();
    let h_plus = 10f64.powf(-ph);
    // 1/RT in mol m-3 atm-1 (R = 8.205746e-5 m3 atm mol-1 K-1).
    let inv_rt = 1.0 / (8.205_746e-5 * temperature);
    let h_eff_so2 = h_so2 * (1.0 + ks1 / h_plus);
    let l = liquid_l_per_m3;
    k * ks1 * h_so2 * h_h2o2 * l
        / (1.0 + 13.0 * h_plus)
        / ((inv_rt + h_eff_so2 * l) * (inv_rt + h_h2o2 * l))
}

/// Air number density, molecules cm-3, from pressure (Pa) and temperature (K).
pub fn air_number_density(pressure: f64, temperature: f64) -> f64 {
    pressure / (BOLTZMANN * temperature) * 1e-6
}

/// NH4NO3 dissociation constant, ppb^2 (Mozurkewich 1993, solid salt).
pub fn kp_nh4no3(temperature: f64) -> f64 {
    (118.87 - 24084.0 / temperature - 6.025 * temperature.ln()).exp()
}

/// Deliquescence relative humidity of NH4NO3 (fraction), Seinfeld & Pandis
/// (2006) eq. 10.88: ln(100 DRH) = 723.7/T + 1.6954 (61.8 % at 298 K).
pub fn drh_nh4no3(temperature: f64) -> f64 {
    (723.7 / temperature + 1.6954).exp() / 100.0
}

/// NH4NO3 dissociation constant at a relative humidity, ppb^2: the solid
/// value below the DRH; above it, Mozurkewich's (1993) fit for the
/// aqueous salt (Seinfeld & Pandis 2006, eq. 10.98-10.99),
/// Kp* = (P1 - P2 (1-a) + P3 (1-a)^2) (1-a)^1.75 Kp with a = RH and
/// ln P1 = -135.94 + 8763/T + 19.12 ln T, ln P2 = -122.65 + 9969/T + 16.22 ln T,
/// ln P3 = -182.61 + 13875/T + 24.46 ln T. Kp* meets Kp at the DRH and
/// falls as the particles take up water, moving nitrate into the particles.
/// Capped at the solid value.
pub fn kp_nh4no3_humid(temperature: f64, rh: f64) -> f64 {
    if rh < drh_nh4no3(temperature) {
        return kp_nh4no3(temperature);
    }
    kp_nh4no3_aqueous(temperature, rh)
}

/// The aqueous-salt Kp of [`kp_nh4no3_humid`] at any humidity (the
/// metastable branch), ppb^2 at 1 bar, capped at the solid value: below
/// the DRH the fit is extrapolated outside the data it was fitted to, and
/// the cap is a guard against that, not a property of supersaturated
/// solutions (whose Kp would exceed the solid's).
pub fn kp_nh4no3_aqueous(temperature: f64, rh: f64) -> f64 {
    let kp = kp_nh4no3(temperature);
    let (t, lt) = (temperature, temperature.ln());
    let p1 = (-135.94 + 8763.0 / t + 19.12 * lt).exp();
    let p2 = (-122.65 + 9969.0 / t + 16.22 * lt).exp();
    let p3 = (-182.61 + 13875.0 / t + 24.46 * lt).exp();
    let dry = (1.0 - rh.min(0.99)).max(0.0);
    // The fit meets the solid value within 4 % at the DRH; capping it there
    // keeps Kp continuous and non-increasing in RH.
    ((p1 - p2 * dry + p3 * dry * dry) * dry.powf(1.75)).min(1.0) * kp
}

/// Effective cloud-droplet radius for the cloud optical depth, m.
const DROPLET_RADIUS: f64 = 10e-6;

/// Scaling of photolysis (and so of OH) below a cloud deck of liquid water
/// path `lwp` (kg/m2) at sun cos(zenith) `mu`: 1 + (1.6 tr mu - 1) for an
/// overcast sky, with the transmissivity tr = (5 - exp(-tau)) / (4 + 0.42 tau)
/// of Chang et al. (1987), J. Geophys. Res. 92, 14681 (as in CMAQ's
/// photolysis), and tau = 3 LWP / (2 rho_w r_e) (Stephens 1978). Clear sky
/// gives 1, and the factor is capped there (never brighter than clear sky);
/// the whole column takes the below-cloud value.
pub fn below_cloud_factor(lwp: f64, mu: f64) -> f64 {
    if lwp <= 0.0 {
        return 1.0;
    }
    let tau = 3.0 * lwp / (2.0 * 1000.0 * DROPLET_RADIUS);
    let tr = (5.0 - (-tau).exp()) / (4.0 + 0.42 * tau);
    (1.6 * tr * mu).clamp(0.0, 1.0)
}

/// Cosine of the solar zenith angle at a latitude (deg), day of year and
/// local solar time (h). Declination after Cooper (1969), Solar Energy 12, 333.
pub fn cos_zenith(lat: f64, day_of_year: f64, solar_hour: f64) -> f64 {
    let decl = (23.45f64).to_radians()
        * (2.0 * std::f64::consts::PI * (284.0 + day_of_year) / 365.0).sin();
    let hour_angle = (15.0 * (solar_hour - 12.0)).to_radians();
    let phi = lat.to_radians();
    phi.sin() * decl.sin() + phi.cos() * decl.cos() * hour_angle.cos()
}

/// Moles of each participant in one cell.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Inorganic {
    pub sulfate: f64,
    pub nh3: f64,
    pub nh4: f64,
    pub hno3: f64,
    pub no3: f64,
}

/// NH4NO3 dissociation constant as a product of mixing ratios, ppb^2, at
/// temperature T (K), relative humidity (fraction) and pressure (Pa).
/// Kp is a product of partial pressures in nbar^2 and p_i = x_i p, so
/// x_NH3 x_HNO3 = Kp / (p / 1 bar)^2 (1.23 Kp at 900 hPa). With
/// `metastable` the particles stay liquid below the DRH and the aqueous
/// Kp applies at every humidity (capped at the solid value); otherwise
/// the solid salt sets Kp below the DRH.
pub fn kp_ppb2(temperature: f64, rh: f64, pressure: f64, metastable: bool) -> f64 {
    let kp = if metastable {
        kp_nh4no3_aqueous(temperature, rh)
    } else {
        kp_nh4no3_humid(temperature, rh)
    };
    kp / (pressure / 1.0e5).powi(2)
}

/// Equilibrium partitioning of one cell. `air_moles` converts moles to
/// ppb; `kp` is the dissociation constant in ppb^2 ([`kp_ppb2`]).
/// Totals of reduced N (NH3 + NH4) and oxidised N (HNO3 + NO3) are kept.
pub fn partition(c: Inorganic, air_moles: f64, kp: f64) -> Inorganic {
    let ammonia = c.nh3 + c.nh4;
    let nitrate = c.hno3 + c.no3;
    // Sulfate first: up to two ammonium per sulfate.
    let bound = ammonia.min(2.0 * c.sulfate);
    let free_nh3 = ammonia - bound;
    // (free_nh3 - x)(nitrate - x) = Kp, in moles: Kp(ppb^2) (n_air 1e-9)^2.
    let kp = kp * (air_moles * 1e-9).powi(2);
    let x = if free_nh3 * nitrate <= kp {
        0.0
    } else {
        // The smaller root, in a cancellation-free form.
        let sum = free_nh3 + nitrate;
        let disc = ((free_nh3 - nitrate).powi(2) + 4.0 * kp).sqrt();
        2.0 * (free_nh3 * nitrate - kp) / (sum + disc)
    };
    let x = x.min(free_nh3.min(nitrate)).max(0.0);
    Inorganic {
        sulfate: c.sulfate,
        nh3: free_nh3 - x,
        nh4: bound + x,
        hno3: nitrate - x,
        no3: x,
    }
}

/// `x - d` for a reactant mass `x` losing `d` (d <= x by construction):
/// floored at zero only to remove round-off, so a negative input (never
/// made here) is not silently raised to zero and creates no mass.
fn take(x: f64, d: f64) -> f64 {
    if x >= 0.0 {
        (x - d).max(0.0)
    } else {
        x - d
    }
}

/// Which tracers take part (the bulk tracer of each species).
#[derive(Debug, Clone, Copy, Default)]
struct Participants {
    so2: Option<usize>,
    so4: Option<usize>,
    nox: Option<usize>,
    hno3: Option<usize>,
    nh3: Option<usize>,
    nh4: Option<usize>,
    no3: Option<usize>,
    o3: Option<usize>,
    h2o2: Option<usize>,
    n2o5: Option<usize>,
    clno2: Option<usize>,
}

impl Participants {
    fn all(&self) -> [Option<usize>; 11] {
        [
            self.so2, self.so4, self.nox, self.hno3, self.nh3, self.nh4, self.no3, self.o3,
            self.h2o2, self.n2o5, self.clno2,
        ]
    }
}

/// Molar masses, kg/mol, of the participants (1 where absent).
#[derive(Debug, Clone, Copy)]
struct Molar {
    so2: f64,
    so4: f64,
    nox: f64,
    hno3: f64,
    nh3: f64,
    nh4: f64,
    no3: f64,
    o3: f64,
    h2o2: f64,
    n2o5: f64,
    clno2: f64,
    /// Gas diffusivities at 273.15 K and 1 atm, m2/s, of the gases taken
    /// up on particles (Massman 1998 via the species table).
    d0_so2: f64,
    d0_n2o5: f64,
}

pub struct Chemistry {
    pub spec: ChemistrySpec,
}

impl Chemistry {
    /// Chemistry on each species' bulk tracer. A tagged run wraps it in
    /// [`super::tagged_chemistry::TaggedChemistry`], which runs it on the
    /// bulk and apportions what it converted among the tags.
    pub fn new(spec: &ChemistrySpec) -> Chemistry {
        Chemistry { spec: spec.clone() }
    }

    /// True when the run carries any pair of species this process links.
    pub fn applies(species: &[&str]) -> bool {
        let has = |n: &str| species.contains(&n);
        (has("SO2") && has("SO4"))
            || (has("NOX") && has("HNO3"))
            || (has("NH3") && has("NH4") && has("HNO3") && has("NO3"))
            || soa::SoaTracers::find(|n| species.iter().position(|s| *s == n)).is_some()
    }
}

/// Per-cell inputs shared by the pathways.
struct Cell {
    temp: f64,
    /// Air number density, molecules cm-3; air moles in the cell; cell
    /// volume m3.
    m_cm3: f64,
    air_moles: f64,
    volume: f64,
    oh: f64,
    /// Sun: cos(zenith) (0 at night).
    mu: f64,
}

impl Chemistry {
    /// One cell's inorganic step, in order: gas-phase OH oxidation; SO2
    /// uptake on aerosol water; aqueous S(IV) + H2O2 in cloud; H2O2
    /// relaxation; the dark NO3/N2O5 path or its daytime return; ozone
    /// relaxation by day; NH4NO3 partitioning. Works on the masses (kg) of
    /// the cell (j, i) of one layer.
    #[allow(clippy::too_many_arguments)]
    fn cell(
        &self,
        p: &Participants,
        mm: &Molar,
        wet_parts: &[aerosol_water::Hygroscopic],
        c: &Cell,
        rh: f64,
        liquid_l_per_m3: f64,
        pressure: f64,
        dt: f64,
        layer: &mut ndarray::ArrayViewMut3<f64>,
        j: usize,
        i: usize,
    ) {
        let sp = &self.spec;
        let (temp, oh, v) = (c.temp, c.oh, c.volume);
        // Gas-phase oxidation, exact first-order decay over the step.
        if let (Some(so2), Some(so4), true) = (p.so2, p.so4, oh > 0.0) {
            let lost = layer[[so2, j, i]] * -(-k_so2_oh(temp, c.m_cm3) * oh * dt).exp_m1();
            layer[[so2, j, i]] -= lost;
            layer[[so4, j, i]] += lost / mm.so2 * mm.so4;
        }
        if let (Some(nox), Some(hno3), true) = (p.nox, p.hno3, oh > 0.0) {
            let lost = layer[[nox, j, i]] * -(-k_no2_oh(temp, c.m_cm3) * oh * dt).exp_m1();
            layer[[nox, j, i]] -= lost;
            layer[[hno3, j, i]] += lost / mm.nox * mm.hno3;
        }
        // Wet particle surface (before this step's uptake changes it).
        let needs_surface = (sp.so2_uptake_gamma > 0.0 && p.so2.is_some() && p.so4.is_some())
            || (p.n2o5.is_some() && c.mu <= 0.0);
        let wet = if needs_surface && aerosol_water::liquid(rh, sp.metastable) {
            aerosol_water::wet_particles(wet_parts, |tr| layer[[tr, j, i]] / v, rh)
        } else {
            aerosol_water::Wet::default()
        };
        // Gas diffusivities at this cell's T and p, per unit of their
        // reference value: one power per cell, shared by SO2 and N2O5.
        let d_scale = if wet.surface > 0.0 {
            crate::species::diffusivity_at(1.0, temp, pressure)
        } else {
            0.0
        };
        // SO2 uptake on aerosol water, first order.
        if let (Some(so2), Some(so4), true) = (p.so2, p.so4, wet.surface > 0.0) {
            let d = mm.d0_so2 * d_scale;
            let k = aerosol_water::uptake_rate(sp.so2_uptake_gamma, temp, mm.so2 * 1e3, d, &wet);
            let lost = layer[[so2, j, i]] * -(-k * dt).exp_m1();
            layer[[so2, j, i]] -= lost;
            layer[[so4, j, i]] += lost / mm.so2 * mm.so4;
        }
        // Aqueous S(IV) + H2O2 in cloud and fog: second order, exact.
        if let (Some(so2), Some(so4), Some(h2o2), true) =
            (p.so2, p.so4, p.h2o2, liquid_l_per_m3 > 0.0)
        {
            let a0 = layer[[so2, j, i]] / mm.so2 / v;
            let b0 = layer[[h2o2, j, i]] / mm.h2o2 / v;
            let k = k_aqueous_h2o2(temp, liquid_l_per_m3, sp.cloud_ph);
            let xi = kinetics::second_order_extent(a0, 1.0, b0, 1.0, k, dt) * v;
            layer[[so2, j, i]] = take(layer[[so2, j, i]], xi * mm.so2);
            layer[[h2o2, j, i]] = take(layer[[h2o2, j, i]], xi * mm.h2o2);
            layer[[so4, j, i]] += xi * mm.so4;
        }
        // Daytime relaxation of a carried oxidant (kg) toward a background
        // mixing ratio (ppb) over `hours`.
        let relax = |kg: f64, ppb: f64, molar: f64, hours: f64| {
            kinetics::relax(kg, ppb * 1e-9 * c.air_moles * molar, hours * 3600.0, dt)
        };
        if let (Some(h2o2), true) = (p.h2o2, c.mu > 0.0) {
            layer[[h2o2, j, i]] = relax(
                layer[[h2o2, j, i]],
                sp.h2o2_ppb,
                mm.h2o2,
                sp.h2o2_relaxation_hours,
            );
        }
        // Night: 2 NO2 + O3 -> N2O5 (reservoir), then uptake on wet particles.
        if let (Some(nox), Some(o3), Some(n2o5), Some(hno3)) = (p.nox, p.o3, p.n2o5, p.hno3) {
            if c.mu <= 0.0 {
                let per_cm3 = |kg: f64, molar: f64| kg / molar / v * AVOGADRO * 1e-6;
                let no2_0 = layer[[nox, j, i]] / mm.nox / v;
                let o3_0 = layer[[o3, j, i]] / mm.o3 / v;
                // k1 in m3 mol-1 s-1.
                let k1 = k_no2_o3(temp) * 1e-6 * AVOGADRO;
                let xi = kinetics::second_order_extent(no2_0, 2.0, o3_0, 1.0, k1, dt) * v;
                layer[[nox, j, i]] = take(layer[[nox, j, i]], 2.0 * xi * mm.nox);
                layer[[o3, j, i]] = take(layer[[o3, j, i]], xi * mm.o3);
                layer[[n2o5, j, i]] += xi * mm.n2o5;
                if wet.surface > 0.0 && sp.n2o5_gamma > 0.0 {
                    let share = night::n2o5_share(temp, per_cm3(layer[[nox, j, i]], mm.nox));
                    let d = mm.d0_n2o5 * d_scale;
                    let k = aerosol_water::uptake_rate(sp.n2o5_gamma, temp, mm.n2o5 * 1e3, d, &wet)
                        * share;
                    // The reservoir under steady formation P = xi/dt and
                    // first-order uptake k over the step, solved exactly:
                    // R(dt) = R0 e^-k dt + P (1 - e^-k dt) / k.
                    let (r_all, decay) = (layer[[n2o5, j, i]] / mm.n2o5, -(-k * dt).exp_m1());
                    let r0 = r_all - xi;
                    let r_end = r0 * (1.0 - decay)
                        + if k * dt > 1e-12 {
                            xi * decay / (k * dt)
                        } else {
                            xi
                        };
                    let lost = (r_all - r_end).min(r_all).max(0.0);
                    layer[[n2o5, j, i]] = take(layer[[n2o5, j, i]], lost * mm.n2o5);
                    let phi = if p.clno2.is_some() {
                        sp.clno2_yield
                    } else {
                        0.0
                    };
                    layer[[hno3, j, i]] += (2.0 - phi) * lost * mm.hno3;
                    if let Some(clno2) = p.clno2 {
                        layer[[clno2, j, i]] += phi * lost * mm.clno2;
                    }
                }
            } else {
                // Day: the reservoir returns to NO2 at once, giving back
                // the ozone its NO3 photolysis makes; ClNO2 photolyses.
                let back = layer[[n2o5, j, i]] / mm.n2o5;
                layer[[n2o5, j, i]] = 0.0;
                layer[[nox, j, i]] += 2.0 * back * mm.nox;
                layer[[o3, j, i]] += night::O3_PER_RESERVOIR_RETURNED * back * mm.o3;
                if let Some(clno2) = p.clno2 {
                    let lost = layer[[clno2, j, i]] * -(-night::J_CLNO2_NOON * c.mu * dt).exp_m1()
                        / mm.clno2;
                    layer[[clno2, j, i]] = take(layer[[clno2, j, i]], lost * mm.clno2);
                    layer[[nox, j, i]] += lost * mm.nox;
                }
            }
        }
        if let (Some(o3), true) = (p.o3, c.mu > 0.0) {
            layer[[o3, j, i]] = relax(
                layer[[o3, j, i]],
                sp.ozone_ppb,
                mm.o3,
                sp.ozone_recovery_hours,
            );
        }
        // Equilibrium partitioning, in moles.
        if let (Some(nh3), Some(nh4), Some(hno3), Some(no3)) = (p.nh3, p.nh4, p.hno3, p.no3) {
            let sulfate = p.so4.map(|s| layer[[s, j, i]] / mm.so4).unwrap_or(0.0);
            let e = partition(
                Inorganic {
                    sulfate,
                    nh3: layer[[nh3, j, i]] / mm.nh3,
                    nh4: layer[[nh4, j, i]] / mm.nh4,
                    hno3: layer[[hno3, j, i]] / mm.hno3,
                    no3: layer[[no3, j, i]] / mm.no3,
                },
                c.air_moles,
                kp_ppb2(temp, rh, pressure, sp.metastable),
            );
            layer[[nh3, j, i]] = e.nh3 * mm.nh3;
            layer[[nh4, j, i]] = e.nh4 * mm.nh4;
            layer[[hno3, j, i]] = e.hno3 * mm.hno3;
            layer[[no3, j, i]] = e.no3 * mm.no3;
        }
    }
}

impl Process for Chemistry {
    fn name(&self) -> &'static str {
        "chemistry"
    }

    fn kind(&self) -> ProcessKind {
        ProcessKind::Nonlinear
    }

    fn apply(&mut self, ctx: &StepContext, state: &mut State, budget: &mut Budget) -> Result<()> {
        let t = &state.tracers;
        if t.is_tagged() {
            return Err(Error::Numerics {
                process: "chemistry".into(),
                detail: format!(
                    "{} tags: chemistry runs on the bulk inside the attribution wrapper",
                    t.n_tags()
                ),
            });
        }
        let find = |n: &str| t.species_index(n).map(|s| t.index(s, 0));
        let p = Participants {
            so2: find("SO2"),
            so4: find("SO4"),
            nox: find("NOX"),
            hno3: find("HNO3"),
            nh3: find("NH3"),
            nh4: find("NH4"),
            no3: find("NO3"),
            o3: find("O3"),
            h2o2: find("H2O2"),
            n2o5: find("N2O5"),
            clno2: find("CLNO2"),
        };
        let soa = soa::SoaTracers::find(find);
        let molar =
            |tr: Option<usize>| tr.map(|i| t.species_of(i).molar_mass * 1e-3).unwrap_or(1.0);
        let diffusivity = |tr: Option<usize>| match tr.map(|i| t.species_of(i).phase) {
            Some(crate::species::Phase::Gas { diffusivity, .. }) => diffusivity,
            _ => 1e-5,
        };
        let mm = Molar {
            so2: molar(p.so2),
            so4: molar(p.so4),
            nox: molar(p.nox),
            hno3: molar(p.hno3),
            nh3: molar(p.nh3),
            nh4: molar(p.nh4),
            no3: molar(p.no3),
            o3: molar(p.o3),
            h2o2: molar(p.h2o2),
            n2o5: molar(p.n2o5),
            clno2: molar(p.clno2),
            d0_so2: diffusivity(p.so2),
            d0_n2o5: diffusivity(p.n2o5),
        };
        let wet_parts = aerosol_water::hygroscopic(&t.species, |s| t.index(s, 0));
        let g = ctx.grid;
        let met = ctx.met_mid;
        let dt = ctx.dt;
        let hour_utc = ctx.start.hour_utc + (ctx.time + 0.5 * dt) / 3600.0;
        let day = ctx.start.day_of_year as f64 + (hour_utc / 24.0).floor();
        let air = &state.air_mass;
        // Sun and OH per column, once per step (OH does not vary with
        // height here); OH is dimmed under cloud like the photolysis that
        // makes it.
        let mut oh_column = ndarray::Array2::zeros((g.ny, g.nx));
        let mut sun = ndarray::Array2::zeros((g.ny, g.nx));
        for ((j, i), oh) in oh_column.indexed_iter_mut() {
            let solar = (hour_utc + g.lon[[j, i]] / 15.0).rem_euclid(24.0);
            let mu = cos_zenith(g.lat[[j, i]], day, solar).max(0.0);
            sun[[j, i]] = mu;
            *oh = self.spec.oh_cm3.unwrap_or_else(|| {
                if mu <= 0.0 {
                    return 0.0;
                }
                let lwp = met.liquid_water_path(g, j, i);
                self.spec.oh_peak_cm3 * mu * below_cloud_factor(lwp, mu)
            });
        }
        // The tracers chemistry changes; their per-layer change is the
        // budget's chemistry term, summed in layer order (thread-independent).
        let mut touched: Vec<usize> = p
            .all()
            .into_iter()
            .flatten()
            .chain(soa.iter().flat_map(|s| s.tracers()))
            .collect();
        touched.sort_unstable();
        touched.dedup();
        let layer_sums = |layer: &ndarray::ArrayViewMut3<f64>| -> Vec<f64> {
            touched
                .iter()
                .map(|&tr| layer.index_axis(Axis(0), tr).sum())
                .collect()
        };
        let per_layer = state
            .mass
            .axis_iter_mut(Axis(1))
            .into_par_iter()
            .enumerate()
            .map(|(k, mut layer)| {
                let before = layer_sums(&layer);
                for j in 0..g.ny {
                    for i in 0..g.nx {
                        let temp = met.temperature[[k, j, i]];
                        let pressure = met.pressure[[k, j, i]];
                        let rho = met.density[[k, j, i]];
                        let c = Cell {
                            temp,
                            m_cm3: air_number_density(pressure, temp),
                            air_moles: air[[k, j, i]] / M_AIR,
                            volume: air[[k, j, i]] / rho,
                            oh: oh_column[[j, i]],
                            mu: sun[[j, i]],
                        };
                        let liquid = met.cloud_water[[k, j, i]] * rho;
                        // What arrives non-finite is another process's (the
                        // state check names it); what leaves so is ours.
                        let finite_before = touched.iter().all(|&tr| layer[[tr, j, i]].is_finite());
                        self.cell(
                            &p,
                            &mm,
                            &wet_parts,
                            &c,
                            met.rh[[k, j, i]],
                            liquid,
                            pressure,
                            dt,
                            &mut layer,
                            j,
                            i,
                        );
                        if let Some(soa) = &soa {
                            soa.apply_cell(&mut layer, j, i, temp, c.oh, dt, c.volume);
                        }
                        let bad = touched.iter().find(|&&tr| !layer[[tr, j, i]].is_finite());
                        if let (Some(&tr), true) = (bad, finite_before) {
                            return Err(Error::Numerics {
                                process: "chemistry".into(),
                                detail: format!(
                                    "{} became {} kg in cell (k={k}, j={j}, i={i}) in step {} ({:.3} h after the start), with T = {} K, p = {} Pa, rh = {}, cloud water {} kg/kg, OH = {} cm-3",
                                    t.species_of(tr).name,
                                    layer[[tr, j, i]],
                                    ctx.step_index,
                                    ctx.time / 3600.0,
                                    crate::limits::num(temp),
                                    crate::limits::num(pressure),
                                    crate::limits::num(met.rh[[k, j, i]]),
                                    crate::limits::num(met.cloud_water[[k, j, i]]),
                                    crate::limits::num(c.oh),
                                ),
                            });
                        }
                    }
                }
                let after = layer_sums(&layer);
                Ok(after
                    .iter()
                    .zip(&before)
                    .map(|(a, b)| a - b)
                    .collect::<Vec<f64>>())
            })
            .collect::<Result<Vec<_>>>()?;
        for change in per_layer {
            for (&tr, d) in touched.iter().zip(change) {
                budget.tracers[tr].chemistry_kg += d;
                budget.tracers[tr].chemistry_gross_kg += d.abs();
            }
        }
        Ok(())
    }
}
