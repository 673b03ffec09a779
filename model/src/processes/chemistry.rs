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
//! - Night-time nitrate through N2O5 (optional, `chemistry.ozone_ppb` > 0):
//!   NO2 + O3 -> NO3 + O2 with k = 1.4e-13 exp(-2470/T) (JPL evaluation 19-5,
//!   Burkholder et al. 2019; IUPAC the same), then NO3 + NO2 <-> N2O5 and
//!   N2O5 + H2O(aerosol) -> 2 HNO3. In the dark every NO3 is taken to end as
//!   N2O5 hydrolysed on particles, the upper limit reached when heterogeneous
//!   uptake dominates NO3 and N2O5 losses (Brown et al. 2006, Science 311,
//!   67): d[NO2]/dt = -2 k [O3] [NO2], integrated exactly; by day NO3
//!   photolyses within seconds and the path is off. Ozone is a prescribed
//!   background, not yet computed.
//! - Aqueous sulfate in cloud and fog (where the met has liquid water):
//!   S(IV) + H2O2 -> S(VI), R = k [H+][HSO3-][H2O2(aq)] / (1 + 13 [H+]) with
//!   k = 7.45e7 exp(-15.96 (298/T - 1)) M-2 s-1 (Jacobson 1997, as in CMAQ's
//!   AQCHEM), [HSO3-] = Ks1 H_SO2 p_SO2 / [H+], Ks1 = 1.30e-2
//!   exp(1960 (1/T - 1/298)) M (Smith & Martell 1976), H_SO2 = 1.4
//!   exp(2900 (1/T - 1/298)) and H_H2O2 = 1.1e5 exp(7400 (1/T - 1/298)) M/atm
//!   (Sander's compilation as in CMAQ's HLCONST). [H+] cancels except in
//!   1 + 13[H+] and the dissolved S(IV) share, taken at `cloud_ph` (4.5).
//!   Gas and dissolved amounts share one total per cell, so the rate is
//!   d[SO2]/dt = -k' [SO2][H2O2] with
//!   k' = k Ks1 H_SO2 H_H2O2 L / ((1/RT + H*_SO2 L)(1/RT + H_H2O2 L)),
//!   L the liquid water (litres per m3 of air). H2O2 is a prescribed
//!   background (`h2o2_ppb`), restored each step, and one step converts at
//!   most the H2O2 present (1:1 titration, Seinfeld & Pandis 2006 sec. 7.5).
//!   The O3 and metal-catalysed pathways are not included.
//! - Thermodynamics: sulfate takes ammonia first (to ammonium sulfate, or as
//!   much as there is); the ammonia left and the nitric acid then reach the
//!   NH4NO3(s) <-> NH3 + HNO3 equilibrium with Kp from Mozurkewich (1993),
//!   Atmos. Environ. 27A, 261: ln Kp = 118.87 - 24084/T - 6.025 ln T
//!   (Kp in nbar^2, taken as ppb^2; as given by Finlayson-Pitts & Pitts,
//!   Chemistry of the Upper and Lower Atmosphere, 2000, ch. 7); above the
//!   deliquescence humidity the aqueous Kp of [`kp_nh4no3_humid`].

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
    let h_h2o2 = 1.1e5 * (7400.0 * dt).exp();
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
    let kp = kp_nh4no3(temperature);
    if rh < drh_nh4no3(temperature) {
        return kp;
    }
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

/// Equilibrium partitioning of one cell. `air_moles` converts moles to ppb.
/// Totals of reduced N (NH3 + NH4) and oxidised N (HNO3 + NO3) are kept.
pub fn partition(c: Inorganic, air_moles: f64, temperature: f64, rh: f64) -> Inorganic {
    let ammonia = c.nh3 + c.nh4;
    let nitrate = c.hno3 + c.no3;
    // Sulfate first: up to two ammonium per sulfate.
    let bound = ammonia.min(2.0 * c.sulfate);
    let free_nh3 = ammonia - bound;
    // (free_nh3 - x)(nitrate - x) = Kp, in moles: Kp(ppb^2) (n_air 1e-9)^2.
    let kp = kp_nh4no3_humid(temperature, rh) * (air_moles * 1e-9).powi(2);
    let x = if free_nh3 * nitrate <= kp {
        0.0
    } else {
        // The smaller root, in a cancellation-free form.
        let sum = free_nh3 + nitrate;
        let disc = ((free_nh3 - nitrate).powi(2) + 4.0 * kp).sqrt();
        2.0 * (free_nh3 * nitrate - kp) / (sum + disc)
    };
    let x = x.clamp(0.0, free_nh3.min(nitrate));
    Inorganic {
        sulfate: c.sulfate,
        nh3: free_nh3 - x,
        nh4: bound + x,
        hno3: nitrate - x,
        no3: x,
    }
}

/// Which tracers take part (the bulk tracer of each species).
#[derive(Debug, Clone, Copy)]
struct Participants {
    so2: Option<usize>,
    so4: Option<usize>,
    nox: Option<usize>,
    hno3: Option<usize>,
    nh3: Option<usize>,
    nh4: Option<usize>,
    no3: Option<usize>,
}

pub struct Chemistry {
    pub oh_peak_cm3: f64,
    /// Fixed OH, overriding the diurnal field when set.
    pub oh_fixed_cm3: Option<f64>,
    /// Background ozone for the night-time N2O5 path, ppb (0: off).
    pub ozone_ppb: f64,
    /// Background H2O2 for aqueous sulfate, ppb, and the cloud-water pH.
    pub h2o2_ppb: f64,
    pub cloud_ph: f64,
}

impl Chemistry {
    /// Chemistry on each species' bulk tracer. A tagged run wraps it in
    /// [`super::tagged_chemistry::TaggedChemistry`], which runs it on the
    /// bulk and apportions what it converted among the tags.
    pub fn new(spec: &ChemistrySpec) -> Chemistry {
        Chemistry {
            oh_peak_cm3: spec.oh_peak_cm3,
            oh_fixed_cm3: spec.oh_cm3,
            ozone_ppb: spec.ozone_ppb,
            h2o2_ppb: spec.h2o2_ppb,
            cloud_ph: spec.cloud_ph,
        }
    }

    /// True when the run carries any pair of species this process links.
    pub fn applies(species: &[&str]) -> bool {
        let has = |n: &str| species.contains(&n);
        (has("SO2") && has("SO4"))
            || (has("NOX") && has("HNO3"))
            || (has("NH3") && has("NH4") && has("HNO3") && has("NO3"))
            || super::soa::SoaTracers::find(|n| species.iter().position(|s| *s == n)).is_some()
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
        };
        let soa = super::soa::SoaTracers::find(find);
        let molar =
            |tr: Option<usize>| tr.map(|i| t.species_of(i).molar_mass * 1e-3).unwrap_or(1.0);
        let (m_so2, m_so4, m_nox, m_hno3, m_nh3, m_nh4, m_no3) = (
            molar(p.so2),
            molar(p.so4),
            molar(p.nox),
            molar(p.hno3),
            molar(p.nh3),
            molar(p.nh4),
            molar(p.no3),
        );
        let g = ctx.grid;
        let met = ctx.met_mid;
        let dt = ctx.dt;
        let hour_utc = ctx.start.hour_utc + (ctx.time + 0.5 * dt) / 3600.0;
        let day = ctx.start.day_of_year as f64 + (hour_utc / 24.0).floor();
        let air = &state.air_mass;
        // Sun, OH and darkness per column, once per step (OH does not vary
        // with height here); OH is dimmed under cloud like the photolysis
        // that makes it, and the N2O5 path runs where the sun is down.
        let mut oh_column = ndarray::Array2::zeros((g.ny, g.nx));
        let mut dark = ndarray::Array2::from_elem((g.ny, g.nx), false);
        for ((j, i), oh) in oh_column.indexed_iter_mut() {
            let solar = (hour_utc + g.lon[[j, i]] / 15.0).rem_euclid(24.0);
            let mu = cos_zenith(g.lat[[j, i]], day, solar).max(0.0);
            dark[[j, i]] = self.ozone_ppb > 0.0 && mu <= 0.0;
            *oh = self.oh_fixed_cm3.unwrap_or_else(|| {
                if mu <= 0.0 {
                    return 0.0;
                }
                let lwp: f64 = (0..g.nz)
                    .map(|k| met.cloud_water[[k, j, i]] * met.density[[k, j, i]] * g.dz[k])
                    .sum();
                self.oh_peak_cm3 * mu * below_cloud_factor(lwp, mu)
            });
        }
        // The tracers chemistry changes; their per-layer change is the
        // budget's chemistry term, summed in layer order (thread-independent).
        let mut touched: Vec<usize> = [p.so2, p.so4, p.nox, p.hno3, p.nh3, p.nh4, p.no3]
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
                        let m_cm3 = air_number_density(met.pressure[[k, j, i]], temp);
                        let oh = oh_column[[j, i]];
                        // Gas-phase oxidation, exact first-order decay over
                        // the step (nothing to do without OH, i.e. at night).
                        if let (Some(so2), Some(so4), true) = (p.so2, p.so4, oh > 0.0) {
                            let lost =
                                layer[[so2, j, i]] * -(-k_so2_oh(temp, m_cm3) * oh * dt).exp_m1();
                            layer[[so2, j, i]] -= lost;
                            layer[[so4, j, i]] += lost / m_so2 * m_so4;
                        }
                        if let (Some(nox), Some(hno3), true) = (p.nox, p.hno3, oh > 0.0) {
                            let lost =
                                layer[[nox, j, i]] * -(-k_no2_oh(temp, m_cm3) * oh * dt).exp_m1();
                            layer[[nox, j, i]] -= lost;
                            layer[[hno3, j, i]] += lost / m_nox * m_hno3;
                        }
                        let liquid = met.cloud_water[[k, j, i]];
                        if let (Some(so2), Some(so4), true) =
                            (p.so2, p.so4, liquid > 0.0 && self.h2o2_ppb > 0.0)
                        {
                            // Per m3 of air: litres of water, moles of H2O2 and SO2.
                            let rho = met.density[[k, j, i]];
                            let volume = air[[k, j, i]] / rho;
                            let l = liquid * rho;
                            let n_air = rho / M_AIR;
                            let h2o2 = self.h2o2_ppb * 1e-9 * n_air;
                            let so2_now = layer[[so2, j, i]] / m_so2 / volume;
                            let rate = k_aqueous_h2o2(temp, l, self.cloud_ph) * h2o2;
                            let converted = (so2_now * -(-rate * dt).exp_m1()).min(h2o2) * volume;
                            layer[[so2, j, i]] -= converted * m_so2;
                            layer[[so4, j, i]] += converted * m_so4;
                        }
                        if let (Some(nox), Some(hno3), true) = (p.nox, p.hno3, dark[[j, i]]) {
                            let o3 = self.ozone_ppb * 1e-9 * m_cm3;
                            let lost =
                                layer[[nox, j, i]] * -(-2.0 * k_no2_o3(temp) * o3 * dt).exp_m1();
                            layer[[nox, j, i]] -= lost;
                            layer[[hno3, j, i]] += lost / m_nox * m_hno3;
                        }
                        if let Some(soa) = &soa {
                            let volume = air[[k, j, i]] / met.density[[k, j, i]];
                            soa.apply_cell(&mut layer, j, i, temp, oh, dt, volume);
                        }
                        // Equilibrium partitioning, in moles.
                        if let (Some(nh3), Some(nh4), Some(hno3), Some(no3)) =
                            (p.nh3, p.nh4, p.hno3, p.no3)
                        {
                            let sulfate = p.so4.map(|s| layer[[s, j, i]] / m_so4).unwrap_or(0.0);
                            let c = Inorganic {
                                sulfate,
                                nh3: layer[[nh3, j, i]] / m_nh3,
                                nh4: layer[[nh4, j, i]] / m_nh4,
                                hno3: layer[[hno3, j, i]] / m_hno3,
                                no3: layer[[no3, j, i]] / m_no3,
                            };
                            let e = partition(c, air[[k, j, i]] / M_AIR, temp, met.rh[[k, j, i]]);
                            layer[[nh3, j, i]] = e.nh3 * m_nh3;
                            layer[[nh4, j, i]] = e.nh4 * m_nh4;
                            layer[[hno3, j, i]] = e.hno3 * m_hno3;
                            layer[[no3, j, i]] = e.no3 * m_no3;
                        }
                    }
                }
                let after = layer_sums(&layer);
                after
                    .iter()
                    .zip(&before)
                    .map(|(a, b)| a - b)
                    .collect::<Vec<f64>>()
            })
            .collect::<Vec<_>>();
        for change in per_layer {
            for (&tr, d) in touched.iter().zip(change) {
                budget.tracers[tr].chemistry_kg += d;
            }
        }
        Ok(())
    }
}
