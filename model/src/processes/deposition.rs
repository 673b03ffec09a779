//! Removal at the surface and by precipitation. Both are first-order losses
//! integrated exactly (m <- m exp(-k dt)), so they can never drive mass
//! negative whatever the step.
//!
//! Dry deposition, resistance model (Seinfeld & Pandis 2016, Atmospheric
//! Chemistry and Physics, 3rd ed., ch. 19):
//! - gases: v_d = 1 / (r_a + r_b + r_c)                        (eq. 19.2)
//! - particles: v_d = v_s + 1 / (r_a + r_b + r_a r_b v_s)      (eq. 19.7)
//! - r_a = [ln(z/z0) - psi_h(z/L) + psi_h(z0/L)] / (k u*)      (eq. 19.13)
//! - gas r_b = 2/(k u*) (Sc/Pr)^(2/3)                         (eq. 19.17)
//! - particle r_b = 1 / (u* (Sc^(-2/3) + 10^(-3/St)))         (eq. 19.18)
//!   with Stokes settling v_s (eq. 9.42), Cunningham slip (eq. 9.34) and
//!   Stokes-Einstein Brownian diffusivity (eq. 9.73).
//! The loss acts on the lowest layer, whose midpoint is the reference height.
//!
//! Wet deposition, below-cloud scavenging in the CALPUFF form (Scire et al.
//! 2000, CALPUFF user's guide, eq. 2-123): Lambda = lambda (R / 1 mm h-1),
//! applied through the whole column wherever it rains.

use super::{Process, ProcessKind, StepContext};
use crate::budget::Budget;
use crate::error::Result;
use crate::met::pbl::psi_h;
use crate::met::{GRAVITY, KARMAN};
use crate::species::{Phase, Species};
use crate::state::State;
use ndarray::{Array2, Axis};

/// Kinematic viscosity of air, m2/s; dynamic viscosity, kg/(m s) (~293 K).
const NU_AIR: f64 = 1.5e-5;
const MU_AIR: f64 = 1.81e-5;
/// Prandtl number of air; mean free path of air, m (S&P Table 9.? at 298 K).
const PRANDTL: f64 = 0.72;
const MEAN_FREE_PATH: f64 = 0.0651e-6;
const BOLTZMANN: f64 = 1.380649e-23;

/// Aerodynamic resistance r_a between height z and the roughness length, s/m.
pub fn aerodynamic_resistance(z: f64, z0: f64, ustar: f64, obukhov: f64) -> f64 {
    let ustar = ustar.max(0.01);
    let (zeta, zeta0) = if obukhov.is_finite() {
        (z / obukhov, z0 / obukhov)
    } else {
        (0.0, 0.0)
    };
    // Cap the stable correction (z/L <= 1) where log-linear profiles stop applying.
    let (zeta, zeta0) = (zeta.min(1.0), zeta0.min(1.0));
    ((z / z0).ln() - psi_h(zeta) + psi_h(zeta0)).max(1.0) / (KARMAN * ustar)
}

/// Stokes settling velocity with Cunningham slip correction, m/s.
pub fn settling_velocity(diameter: f64, density: f64) -> f64 {
    density * diameter * diameter * GRAVITY * cunningham(diameter) / (18.0 * MU_AIR)
}

fn cunningham(d: f64) -> f64 {
    let l = MEAN_FREE_PATH;
    1.0 + 2.0 * l / d * (1.257 + 0.4 * (-1.1 * d / (2.0 * l)).exp())
}

/// Dry deposition velocity of a species, m/s.
pub fn deposition_velocity(
    sp: &Species,
    z: f64,
    z0: f64,
    ustar: f64,
    obukhov: f64,
    temperature: f64,
) -> f64 {
    deposition_velocity_with_ra(
        sp,
        aerodynamic_resistance(z, z0, ustar, obukhov),
        ustar,
        temperature,
    )
}

/// Deposition velocity given the aerodynamic resistance r_a (s/m), which
/// depends on the surface layer only and is shared by every species.
pub fn deposition_velocity_with_ra(sp: &Species, ra: f64, ustar: f64, temperature: f64) -> f64 {
    let us = ustar.max(0.01);
    match sp.phase {
        Phase::Gas {
            diffusivity,
            canopy_resistance,
        } => {
            if !canopy_resistance.is_finite() {
                return 0.0;
            }
            let sc = NU_AIR / diffusivity;
            let rb = 2.0 / (KARMAN * us) * (sc / PRANDTL).powf(2.0 / 3.0);
            1.0 / (ra + rb + canopy_resistance)
        }
        Phase::Particle { diameter, density } => {
            let vs = settling_velocity(diameter, density);
            let db = BOLTZMANN * temperature * cunningham(diameter)
                / (3.0 * std::f64::consts::PI * MU_AIR * diameter);
            let sc = NU_AIR / db;
            let st = vs * us * us / (GRAVITY * NU_AIR);
            let rb = 1.0 / (us * (sc.powf(-2.0 / 3.0) + 10f64.powf(-3.0 / st)));
            vs + 1.0 / (ra + rb + ra * rb * vs)
        }
    }
}

/// Dry deposition. Linear: the surviving fraction of each surface cell is
/// computed once per species and applied to all its tags.
pub struct DryDeposition;

impl Process for DryDeposition {
    fn name(&self) -> &'static str {
        "dry deposition"
    }

    fn kind(&self) -> ProcessKind {
        ProcessKind::Linear
    }

    fn apply(&mut self, ctx: &StepContext, state: &mut State, budget: &mut Budget) -> Result<()> {
        let g = ctx.grid;
        let m = ctx.met_mid;
        let z = g.z_mid[0];
        // r_a is the same for every species: once per column per step.
        let ra = ndarray::Zip::from(&m.z0)
            .and(&m.ustar)
            .and(&m.obukhov)
            .map_collect(|&z0, &us, &l| aerodynamic_resistance(z, z0, us, l));
        // exp(-v_d dt / dz) of the lowest layer, [j, i], for one species at a time.
        let mut kept = Array2::zeros((g.ny, g.nx));
        for s in 0..state.tracers.species.len() {
            let sp = state.tracers.species[s];
            ndarray::Zip::indexed(&mut kept).for_each(|(j, i), k| {
                let vd = deposition_velocity_with_ra(
                    &sp,
                    ra[[j, i]],
                    m.ustar[[j, i]],
                    m.temperature[[0, j, i]],
                );
                *k = (-vd * ctx.dt / g.dz[0]).exp();
            });
            for tr in state.tracers.tracers_of(s) {
                let mut lost = 0.0;
                let mut layer = state.mass.index_axis_mut(Axis(0), tr);
                let mut surface = layer.index_axis_mut(Axis(0), 0);
                ndarray::Zip::from(&mut surface)
                    .and(&kept)
                    .for_each(|v, &f| {
                        let kept = *v * f;
                        lost += *v - kept;
                        *v = kept;
                    });
                budget.tracers[tr].dry_deposited_kg += lost;
            }
        }
        Ok(())
    }
}

/// Below-cloud scavenging. Linear: the surviving fraction of each column
/// is computed once per species and applied to all its tags and layers.
pub struct WetDeposition;

impl Process for WetDeposition {
    fn name(&self) -> &'static str {
        "wet deposition"
    }

    fn kind(&self) -> ProcessKind {
        ProcessKind::Linear
    }

    fn apply(&mut self, ctx: &StepContext, state: &mut State, budget: &mut Budget) -> Result<()> {
        let precip = &ctx.met_mid.precip;
        if precip.iter().all(|&p| p <= 0.0) {
            return Ok(());
        }
        for s in 0..state.tracers.species.len() {
            let lambda = state.tracers.species[s].scavenging_per_mm_h;
            if lambda == 0.0 {
                continue;
            }
            // exp(-Lambda dt) per column [j, i].
            let kept = precip.mapv(|p| {
                if p > 0.0 {
                    (-lambda * p * ctx.dt).exp()
                } else {
                    1.0
                }
            });
            for tr in state.tracers.tracers_of(s) {
                let mut lost = 0.0;
                for ((_, j, i), v) in state.mass.index_axis_mut(Axis(0), tr).indexed_iter_mut() {
                    if precip[[j, i]] > 0.0 {
                        let left = *v * kept[[j, i]];
                        lost += *v - left;
                        *v = left;
                    }
                }
                budget.tracers[tr].wet_deposited_kg += lost;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settling_velocity_of_a_10_micron_unit_density_sphere() {
        // Stokes law with slip: ~3.0e-3 m/s (Seinfeld & Pandis Table 9.5: 0.305 cm/s).
        let v = settling_velocity(10e-6, 1000.0);
        assert!((v - 3.05e-3).abs() < 0.1e-3, "{v}");
    }

    #[test]
    fn gas_deposition_is_bounded_by_the_canopy_resistance() {
        let so2 = crate::species::lookup("SO2").unwrap();
        let vd = deposition_velocity(&so2, 20.0, 0.1, 0.4, -100.0, 290.0);
        // 1 / (ra + rb + rc) with rc = 100 s/m: just below 1 cm/s.
        assert!(vd > 0.005 && vd < 0.01, "{vd}");
        let tracer = crate::species::lookup("TRACER").unwrap();
        assert_eq!(
            deposition_velocity(&tracer, 20.0, 0.1, 0.4, -100.0, 290.0),
            0.0
        );
    }

    #[test]
    fn stable_air_deposits_more_slowly() {
        let so2 = crate::species::lookup("SO2").unwrap();
        let unstable = deposition_velocity(&so2, 20.0, 0.1, 0.3, -30.0, 290.0);
        let stable = deposition_velocity(&so2, 20.0, 0.1, 0.3, 30.0, 290.0);
        assert!(stable < unstable);
    }
}
