//! Plume rise of a stack: Briggs' buoyant and momentum final rise, with
//! stack-tip downwash and partial penetration of the mixing lid. The final
//! rise applies at every distance, ISC3's regulatory default (vol. II
//! 1.1.4.10; its gradual 2/3-law rise is a non-default option not built
//! here). One rise serves the Gaussian plume, the puffs and the Eulerian
//! stack-layer split (`processes::plume_rise`).
//!
//! Sources, as summarised in the ISC3 user's guide vol. II
//! (EPA-454/B-95-003b, 1995), section 1.1.4 (subsection numbers below):
//! - stack-tip downwash, Briggs (1974): h' = h + 2 d (v/u - 1.5) when
//!   v < 1.5 u (1.1.4.1);
//! - fluxes: F_b = g v d² ΔT / (4 T_s), F_m = v² d² T_a / (4 T_s) (1.1.4.2);
//! - neutral/unstable: crossover ΔT_c = 0.0297 T_s v^(1/3) / d^(2/3)
//!   (F_b < 55) or 0.00575 T_s v^(2/3) / d^(1/3) (F_b >= 55) (1.1.4.3);
//!   buoyant rise 21.425 F_b^(3/4)/u, x_f = 49 F_b^(5/8) (F_b < 55) or
//!   38.71 F_b^(3/5)/u, x_f = 119 F_b^(2/5) (1.1.4.4); momentum rise
//!   3 d v / u (1.1.4.5);
//! - stable, s = g/T_a dθ/dz with dθ/dz 0.020 K/m in class E and 0.035 in
//!   F (1.1.4.6): crossover ΔT_c = 0.019582 T_s v √s (1.1.4.7); buoyant
//!   rise 2.6 (F_b/(u s))^(1/3), x_f = 2.0715 u/√s (1.1.4.8); momentum rise
//!   1.5 (F_m/(u √s))^(1/3), not above the neutral one (1.1.4.9); and, as
//!   AERMOD does in its distance-to-final-rise code (`ADISTF`, read), not
//!   above the calm-air rise 4 F_b^(1/4) s^(-3/8).
//!
//! Partial penetration of the convective lid follows AERMOD (Cimorelli et
//! al. 2005, JAM 44:682, section on the penetrated source, after Weil
//! 1993; AERMOD source `PENFCT`/`CBLPR3`): with Δh_h = z_i - h',
//! N_h² = g/T dθ/dz above z_i (dθ/dz at least 0.005 K/m, AERMOD's floor),
//! P_s = F_b/(u N_h² Δh_h³) and Δh_eq = Δh_h (2.6³ P_s + (2/3)³)^(1/3),
//! the penetrated fraction is f_p = 0 for Δh_h >= 1.5 Δh_eq, 1 for
//! Δh_h <= 0.5 Δh_eq, else 1.5 - Δh_h/Δh_eq; the penetrated part sits at
//! h' + Δh_eq (f_p = 1) or z_i + 0.75 Δh_eq - 0.5 Δh_h.

use crate::emissions::PointSource;
use crate::met::GRAVITY;

use super::site::SiteHour;
use super::sources::Shape;

/// Wind speed below which the rise formulas are not taken at face value,
/// m/s: ISC3's 1 m/s floor on the wind (vol. II, section 1.1.3). A calm
/// plume's rise is bounded anyway by the calm stable formula and the lid.
pub const MIN_RISE_WIND_M_S: f64 = 1.0;

/// AERMOD's floor on the potential temperature gradient above the
/// convective mixing height, K/m (AERMOD `VPTGZI` check, as AERMET).
pub const MIN_LID_DTHETA_DZ: f64 = 0.005;

/// ISC3's stable potential temperature gradients, K/m (vol. II,
/// 1.1.4.6): class E 0.020, class F 0.035.
pub const DTHETA_DZ_CLASS_E: f64 = 0.020;
pub const DTHETA_DZ_CLASS_F: f64 = 0.035;

/// A stack as the rise sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stack {
    /// Physical height above its base, m.
    pub height: f64,
    /// Inner diameter at the top, m.
    pub diameter: f64,
    /// Exit velocity, m/s.
    pub velocity: f64,
    /// Exit temperature, K.
    pub temperature: f64,
}

impl Stack {
    pub fn new(height: f64, diameter: f64, velocity: f64, temperature: f64) -> Stack {
        Stack {
            height,
            diameter,
            velocity,
            temperature,
        }
    }

    /// The stack of a point source shape; `None` for areas and lines.
    pub fn from_shape(shape: &Shape) -> Option<Stack> {
        match *shape {
            Shape::Point {
                height,
                diameter,
                velocity,
                temperature,
            } => Some(Stack::new(height, diameter, velocity, temperature)),
            _ => None,
        }
    }
}

impl From<&PointSource> for Stack {
    fn from(p: &PointSource) -> Stack {
        Stack::new(p.height, p.diameter, p.velocity, p.temperature)
    }
}

/// Stratification at stack height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stability {
    /// Neutral or unstable (Pasquill A-D).
    NeutralUnstable,
    /// Stable, with the potential temperature gradient dθ/dz in K/m (> 0).
    Stable { dtheta_dz: f64 },
}

/// The capping inversion a convective plume may partly penetrate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lid {
    /// Mixing height above the stack base, m.
    pub height: f64,
    /// Potential temperature gradient above it, K/m (floored at
    /// [`MIN_LID_DTHETA_DZ`]).
    pub dtheta_dz: f64,
}

/// The meteorology the rise needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiseMet {
    /// Wind speed at stack top, m/s (raised to [`MIN_RISE_WIND_M_S`]).
    pub u_stack: f64,
    /// Ambient temperature at stack top, K.
    pub ambient_temperature: f64,
    pub stability: Stability,
    /// The convective lid, or `None` (stable hours: no penetration).
    pub lid: Option<Lid>,
}

impl RiseMet {
    /// Stability from the Obukhov length `l` and roughness `z0` through
    /// the Pasquill class (Golder 1972, [`super::sigma::pasquill_class`]):
    /// class E takes dθ/dz = 0.020 K/m and F 0.035 K/m (ISC3), A-D are
    /// neutral/unstable. No lid: the Eulerian split and stable hours.
    pub fn from_obukhov(u_stack: f64, ambient_temperature: f64, l: f64, z0: f64) -> RiseMet {
        use super::sigma::PasquillClass::*;
        let stability = match super::sigma::pasquill_class(l, z0) {
            E => Stability::Stable {
                dtheta_dz: DTHETA_DZ_CLASS_E,
            },
            F => Stability::Stable {
                dtheta_dz: DTHETA_DZ_CLASS_F,
            },
            _ => Stability::NeutralUnstable,
        };
        RiseMet {
            u_stack,
            ambient_temperature,
            stability,
            lid: None,
        }
    }

    /// One site hour: stability as [`RiseMet::from_obukhov`]; in
    /// convective hours (L < 0) the lid is the hour's mixing height with
    /// the gradient above it (`vptg`, floored at 0.005 K/m).
    pub fn from_site_hour(hour: &SiteHour, u_stack: f64, ambient_temperature: f64) -> RiseMet {
        let mut m = RiseMet::from_obukhov(u_stack, ambient_temperature, hour.obukhov, hour.z0);
        if hour.obukhov < 0.0 && hour.mixing_height() > 0.0 {
            m.lid = Some(Lid {
                height: hour.mixing_height(),
                dtheta_dz: hour.vptg,
            });
        }
        m
    }

    /// A calm hour at a stack `z_stack` m high: Briggs' theory has no
    /// finite rise in a neutral calm, so the plume rises into the profile's
    /// stratification there, taken at least as AERMOD's 0.005 K/m floor
    /// ([`MIN_LID_DTHETA_DZ`]; the calm-air cap 4 F^(1/4) s^(-3/8) then
    /// applies), with no lid.
    pub fn in_calm(hour: &SiteHour, z_stack: f64) -> RiseMet {
        let grad = hour.theta_gradient_at(z_stack).unwrap_or(0.0);
        RiseMet {
            u_stack: hour.wind_speed_at(z_stack),
            ambient_temperature: hour.temperature_at(z_stack),
            stability: Stability::Stable {
                dtheta_dz: grad.max(MIN_LID_DTHETA_DZ),
            },
            lid: None,
        }
    }
}

/// The rise of one stack in one hour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rise {
    /// F_b, m⁴/s³ (0 for plumes no warmer than the air).
    pub buoyancy_flux: f64,
    /// F_m, m⁴/s².
    pub momentum_flux: f64,
    /// The wind the formulas used, m/s.
    pub u: f64,
    /// h': the stack height after stack-tip downwash, m.
    pub release_height: f64,
    /// True when the momentum formula applied (ΔT below the crossover).
    pub momentum_dominated: bool,
    /// Final rise above h', m.
    pub final_rise: f64,
    /// Distance to final rise, m.
    pub distance_to_final_rise: f64,
    /// Plume centreline above the stack base, m: h' + final rise, not above
    /// the lid when there is one and the plume does not wholly penetrate.
    pub effective_height: f64,
    /// Fraction of the plume above the lid, 0..1 (0 without a lid).
    pub penetrated_fraction: f64,
    /// Centreline of the penetrated part above the stack base, m (equal to
    /// `effective_height` when nothing penetrates).
    pub penetrated_height: f64,
}

/// Briggs final rise of `stack` in `met`, with stack-tip downwash when
/// `downwash` (module docs give the equations and sources).
pub fn briggs(stack: &Stack, met: &RiseMet, downwash: bool) -> Rise {
    let u = met.u_stack.max(MIN_RISE_WIND_M_S);
    let (d, v, ts, ta) = (
        stack.diameter.max(0.0),
        stack.velocity.max(0.0),
        stack.temperature,
        met.ambient_temperature,
    );
    let release_height = if downwash && v < 1.5 * u {
        (stack.height + 2.0 * d * (v / u - 1.5)).max(0.0)
    } else {
        stack.height
    };
    let dt = ts - ta;
    let (fb, fm) = if ts > 0.0 {
        (
            (GRAVITY * v * d * d * dt / (4.0 * ts)).max(0.0),
            v * v * d * d * ta / (4.0 * ts),
        )
    } else {
        (0.0, 0.0)
    };
    let neutral_momentum = 3.0 * d * v / u;
    let (final_rise, xf, momentum) = match met.stability {
        Stability::NeutralUnstable => {
            let dtc = if fb < 55.0 {
                0.0297 * ts * v.cbrt() / d.powf(2.0 / 3.0)
            } else {
                0.00575 * ts * v.powf(2.0 / 3.0) / d.cbrt()
            };
            if fb > 0.0 && dt >= dtc {
                if fb < 55.0 {
                    (21.425 * fb.powf(0.75) / u, 49.0 * fb.powf(0.625), false)
                } else {
                    (38.71 * fb.powf(0.6) / u, 119.0 * fb.powf(0.4), false)
                }
            } else {
                let xf = if v > 0.0 {
                    4.0 * d * (v + 3.0 * u).powi(2) / (v * u)
                } else {
                    0.0
                };
                (neutral_momentum, xf, true)
            }
        }
        Stability::Stable { dtheta_dz } => {
            let s = GRAVITY / ta * dtheta_dz.max(1e-6);
            let rs = s.sqrt();
            let dtc = 0.019582 * ts * v * rs;
            if fb > 0.0 && dt >= dtc {
                let windy = 2.6 * (fb / (u * s)).cbrt();
                let calm = 4.0 * fb.powf(0.25) * s.powf(-0.375);
                (windy.min(calm), 2.0715 * u / rs, false)
            } else {
                let stable = 1.5 * (fm / (u * rs)).cbrt();
                (
                    stable.min(neutral_momentum),
                    0.5 * std::f64::consts::PI * u / rs,
                    true,
                )
            }
        }
    };
    let top = release_height + final_rise;
    let (mut effective_height, mut penetrated_fraction, mut penetrated_height) = (top, 0.0, top);
    if let Some(lid) = met.lid {
        let dhh = lid.height - release_height;
        if dhh <= 0.0 {
            // Released above the lid: all of it is above.
            penetrated_fraction = 1.0;
        } else if fb > 0.0 {
            let n2 = GRAVITY / ta * lid.dtheta_dz.max(MIN_LID_DTHETA_DZ);
            let ps = fb / (u * n2 * dhh.powi(3));
            let ratio = (2.6f64.powi(3) * ps + (2.0f64 / 3.0).powi(3)).cbrt(); // Δh_eq/Δh_h
            penetrated_fraction = if ratio >= 2.0 {
                1.0
            } else {
                (1.5 - 1.0 / ratio).clamp(0.0, 1.0)
            };
            if penetrated_fraction >= 1.0 {
                penetrated_height = release_height + ratio * dhh;
            } else if penetrated_fraction > 0.0 {
                penetrated_height = lid.height + (0.75 * ratio - 0.5) * dhh;
            }
            if penetrated_fraction < 1.0 {
                effective_height = top.min(lid.height);
            }
        } else {
            effective_height = top.min(lid.height);
        }
    }
    Rise {
        buoyancy_flux: fb,
        momentum_flux: fm,
        u,
        release_height,
        momentum_dominated: momentum,
        final_rise,
        distance_to_final_rise: xf,
        effective_height,
        penetrated_fraction,
        penetrated_height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neutral(u: f64, ta: f64) -> RiseMet {
        RiseMet {
            u_stack: u,
            ambient_temperature: ta,
            stability: Stability::NeutralUnstable,
            lid: None,
        }
    }

    /// Stern, Boubel, Turner & Fox, *Fundamentals of Air Pollution* 3rd ed.
    /// (1994): the example of ch. 19 (p. 303) releases "at an effective
    /// height of 40 m" with "the wind blowing at 2 m/s" in class B, and
    /// ch. 20 (p. 323) gives its stack: h = 20 m, d = 0.537 m, v_s = 20 m/s,
    /// T_s = 350 K. The ambient temperature is not in the text we could
    /// read; 293 K (20 °C) is assumed. F_b = 2.303 < 55, ΔT = 57 K above the
    /// crossover 42.7 K: buoyant, 21.425 F^0.75 / 2 = 20.0 m. Printed: 40 m.
    #[test]
    fn fundamentals_of_air_pollution_example_stack_reaches_40_m() {
        let s = Stack::new(20.0, 0.537, 20.0, 350.0);
        let r = briggs(&s, &neutral(2.0, 293.0), true);
        assert!(!r.momentum_dominated);
        assert_eq!(r.release_height, 20.0); // v_s = 20 > 1.5 u = 3: no downwash
        assert_eq!(r.effective_height.round(), 40.0, "{r:?}");
    }

    /// A second implementation: EPA's SCREEN3 (the ISC3 plume rise of
    /// EPA-454/B-95-003b, 1.1.4, final rise at every distance when there is
    /// no building) prints its inputs, the fluxes and the plume height.
    ///
    /// Listing 1, SCREEN3 "VERSION DATED 13043", run "PRUEBA_PM10_X-1404",
    /// file `runs/testcase/SCREEN.OUT` of the GitHub repository
    /// gauss-ma/screen3 (commit 021cf684989f). Printed inputs: point source,
    /// STACK HEIGHT 23.7000 m, STK INSIDE DIAM 2.0000 m, STK EXIT VELOCITY
    /// 8.7080 m/s, STK GAS EXIT TEMP 476.4000 K, AMBIENT AIR TEMP 293.1500 K,
    /// RURAL, building height 0 (no building downwash; stack-tip downwash is
    /// SCREEN3's default), anemometer height 10 m. Printed outputs:
    /// "BUOY. FLUX = 32.847 M**4/S**3; MOM. FLUX = 46.661 M**4/S**2." and,
    /// per row (STAB, U10M, USTK, PLUME HT): 6 (F), 1.0, 1.6, 91.14;
    /// 5 (E), 1.0, 1.4, 109.79; 3 (C), 10.0, 10.9, 47.86; 1 (A) and 2 (B),
    /// 1.0, 1.1, 300.43 (the same height at every distance: final rise).
    ///
    /// Listing 2, the example shipped with SCREEN3 (`EXAMPLE.OUT`, "VERSION
    /// DATED 96043", same repository, `runs/EXAMPLES/`): h = 100 m, d = 2 m,
    /// v = 15 m/s, T_s = 450 K, T_a = 293 K prints "BUOY. FLUX = 51.319
    /// M**4/S**3; MOM. FLUX = 146.500 M**4/S**2." (its plume heights are
    /// Schulman-Scire building-downwash heights, outside this module).
    ///
    /// USTK is printed to 0.1 m/s only; SCREEN3 takes it from U10M by the
    /// ISC3 rural power law u = u10 (h/10)^p, p = 0.07, 0.07, 0.10, 0.15,
    /// 0.35, 0.55 for A-F (EPA-454/B-95-003b, 1.1.3), which is used here.
    ///
    /// g: SCREEN3 uses G = 9.80616 m/s² (its MAIN.INC), we use standard
    /// gravity 9.80665. F_b scales with g, and so does the neutral rise as
    /// F_b^(3/4); the stable rise 2.6 (F_b/(u s))^(1/3) does not depend on g
    /// (s = g/T dθ/dz). We convert our F_b and neutral rise to SCREEN3's g
    /// before comparing at the printed precision (half a unit in the last
    /// printed digit). Unconverted, F_b = 32.848 (not 32.847) and the class
    /// A/B height 300.44 (not 300.43): a 5e-5 relative difference, all g.
    #[test]
    fn briggs_rise_matches_screen3_listing_worked_example() {
        const G_SCREEN3: f64 = 9.80616;
        let g_ratio = G_SCREEN3 / GRAVITY;
        let within = |got: f64, printed: f64, half_unit: f64, what: &str| {
            assert!(
                (got - printed).abs() <= half_unit,
                "{what}: {got} vs printed {printed} (± {half_unit})"
            );
        };

        // Listing 2: the fluxes of SCREEN3's own example.
        let example = Stack::new(100.0, 2.0, 15.0, 450.0);
        let r = briggs(&example, &neutral(5.0, 293.0), true);
        within(r.buoyancy_flux * g_ratio, 51.319, 0.0005, "example F_b");
        within(r.momentum_flux, 146.500, 0.0005, "example F_m");

        // Listing 1.
        let h = 23.7;
        let stack = Stack::new(h, 2.0, 8.708, 476.4);
        let ta = 293.15;
        let u_stack = |u10: f64, p: f64| u10 * (h / 10.0f64).powf(p);
        let stable = |u: f64, dtheta_dz: f64| RiseMet {
            stability: Stability::Stable { dtheta_dz },
            ..neutral(u, ta)
        };

        // Classes A and B: U10M 1.0, p = 0.07 (USTK 1.06, printed 1.1).
        // F_b < 55, buoyant: 21.425 F_b^(3/4)/u; v = 8.7 > 1.5 u: no downwash.
        // The two classes share p, so one run serves both rows.
        let r = briggs(&stack, &neutral(u_stack(1.0, 0.07), ta), true);
        within(r.buoyancy_flux * g_ratio, 32.847, 0.0005, "F_b");
        within(r.momentum_flux, 46.661, 0.0005, "F_m");
        assert!(!r.momentum_dominated && r.release_height == h);
        let height = r.release_height + r.final_rise * g_ratio.powf(0.75);
        within(height, 300.43, 0.005, "class A/B plume height");

        // Class C: U10M 10.0, p = 0.10 (USTK 10.90): v < 1.5 u, so stack-tip
        // downwash lowers the release to h' = 23.7 + 4 (8.708/10.90 - 1.5).
        let r = briggs(&stack, &neutral(u_stack(10.0, 0.10), ta), true);
        assert!(!r.momentum_dominated && r.release_height < h);
        let height = r.release_height + r.final_rise * g_ratio.powf(0.75);
        within(height, 47.86, 0.005, "class C plume height");

        // Class E: U10M 1.0, p = 0.35 (USTK 1.35), dθ/dz = 0.020 K/m.
        let r = briggs(&stack, &stable(u_stack(1.0, 0.35), DTHETA_DZ_CLASS_E), true);
        assert!(!r.momentum_dominated);
        within(r.effective_height, 109.79, 0.005, "class E plume height");

        // Class F: U10M 1.0, p = 0.55 (USTK 1.61), dθ/dz = 0.035 K/m.
        let r = briggs(&stack, &stable(u_stack(1.0, 0.55), DTHETA_DZ_CLASS_F), true);
        assert!(!r.momentum_dominated);
        within(r.effective_height, 91.14, 0.005, "class F plume height");
    }

    /// Hand derivations from the ISC3 equations (numbers worked on paper).
    #[test]
    fn isc3_formulas_worked_by_hand() {
        // Large buoyant plume, neutral: d = 5, v = 20, Ts = 400, Ta = 290, u = 6.
        // F_b = 9.80665*20*25*110/1600 = 337.10; >= 55.
        // ΔT_c = 0.00575*400*20^(2/3)/5^(1/3) = 2.3*7.3681/1.70998 = 9.911 < 110.
        // Δh = 38.71 * 337.10^0.6 / 6 = 38.71*32.859/6 = 212.00 m;
        // x_f = 119 * 337.10^0.4 = 119*10.259 = 1220.8 m.
        let s = Stack::new(100.0, 5.0, 20.0, 400.0);
        let r = briggs(&s, &neutral(6.0, 290.0), true);
        assert!(
            (r.buoyancy_flux - 337.10).abs() < 0.01,
            "{}",
            r.buoyancy_flux
        );
        assert!((r.final_rise - 212.00).abs() < 0.01, "{}", r.final_rise);
        assert!((r.distance_to_final_rise - 1220.8).abs() < 0.1);
        // F_m = v² d² Ta/(4 Ts) = 400*25*290/1600 = 1812.5.
        assert!((r.momentum_flux - 1812.5).abs() < 1e-9);

        // Small plume, neutral: d = 1, v = 10, Ts = 400, Ta = 290, u = 4.
        // F_b = 9.80665*10*1*110/1600 = 6.7421 < 55;
        // ΔT_c = 0.0297*400*10^(1/3)/1 = 11.88*2.15443 = 25.59 < 110;
        // Δh = 21.425 * 6.7421^0.75 / 4 = 21.425*4.1841/4 = 22.411 m;
        // x_f = 49 * 6.7421^0.625 = 49*3.2961 = 161.51 m.
        let s = Stack::new(30.0, 1.0, 10.0, 400.0);
        let r = briggs(&s, &neutral(4.0, 290.0), true);
        assert!((r.final_rise - 22.411).abs() < 0.001, "{}", r.final_rise);
        assert!((r.distance_to_final_rise - 161.51).abs() < 0.01);

        // Stable, class F: dθ/dz = 0.035, Ta = 280: s = 9.80665*0.035/280
        // = 1.22583e-3, √s = 0.0350119. Same small stack, u = 2, ΔT = 120:
        // F_b = 9.80665*10*120/1600 = 7.35499; ΔT_c = 0.019582*400*10*0.0350119
        // = 2.7424 < 120: buoyant. Windy 2.6 (7.35499/(2*1.22583e-3))^(1/3)
        // = 2.6*14.4225 = 37.498 m; calm 4*7.35499^0.25*1.22583e-3^-0.375
        // = 4*1.64682*12.3549 = 81.38 m; rise 37.50 m, x_f = 2.0715*2/0.0350119
        // = 118.33 m.
        let met = RiseMet {
            u_stack: 2.0,
            ambient_temperature: 280.0,
            stability: Stability::Stable { dtheta_dz: 0.035 },
            lid: None,
        };
        let r = briggs(&s, &met, false);
        assert!((r.final_rise - 37.50).abs() < 0.01, "{}", r.final_rise);
        assert!((r.distance_to_final_rise - 118.33).abs() < 0.05);

        // Stack-tip downwash: h = 50, d = 2, v = 3 < 1.5*4: h' = 50 + 4(0.75 - 1.5) = 47.
        let s = Stack::new(50.0, 2.0, 3.0, 400.0);
        assert_eq!(briggs(&s, &neutral(4.0, 290.0), true).release_height, 47.0);
        assert_eq!(briggs(&s, &neutral(4.0, 290.0), false).release_height, 50.0);
    }

    #[test]
    fn cold_jets_rise_by_momentum_and_stable_air_lowers_the_rise() {
        // No buoyancy: momentum, 3 d v / u = 3*2*20/5 = 24 m neutral.
        let jet = Stack::new(40.0, 2.0, 20.0, 280.0);
        let r = briggs(&jet, &neutral(5.0, 290.0), false);
        assert!(r.momentum_dominated && r.buoyancy_flux == 0.0);
        assert!((r.final_rise - 24.0).abs() < 1e-12);
        // Barely warm, fast jet: ΔT = 1 K below the crossover -> momentum.
        let warm_jet = Stack::new(40.0, 2.0, 20.0, 291.0);
        assert!(briggs(&warm_jet, &neutral(5.0, 290.0), false).momentum_dominated);
        // Stable momentum rise: 1.5 (F_m/(u √s))^(1/3), below the neutral one.
        let stable = RiseMet {
            stability: Stability::Stable { dtheta_dz: 0.02 },
            ..neutral(5.0, 290.0)
        };
        let rs = briggs(&jet, &stable, false);
        assert!(rs.momentum_dominated && rs.final_rise < r.final_rise);
        // Buoyant plume: stable rise below neutral rise, and lower still in F.
        let hot = Stack::new(100.0, 4.0, 15.0, 420.0);
        let n = briggs(&hot, &neutral(3.0, 285.0), false).final_rise;
        let e = briggs(
            &hot,
            &RiseMet {
                stability: Stability::Stable { dtheta_dz: 0.02 },
                ..neutral(3.0, 285.0)
            },
            false,
        )
        .final_rise;
        let f = briggs(
            &hot,
            &RiseMet {
                stability: Stability::Stable { dtheta_dz: 0.035 },
                ..neutral(3.0, 285.0)
            },
            false,
        )
        .final_rise;
        assert!(f < e && e < n, "{f} {e} {n}");
        // Downwash lowers the plume when the wind beats the exit velocity.
        let slow = Stack::new(30.0, 3.0, 4.0, 400.0);
        let with = briggs(&slow, &neutral(8.0, 290.0), true);
        let without = briggs(&slow, &neutral(8.0, 290.0), false);
        assert!(with.effective_height < without.effective_height);
    }

    #[test]
    fn penetration_is_none_far_below_the_lid_all_far_above_and_half_in_between() {
        let s = Stack::new(50.0, 2.0, 10.0, 400.0);
        let lid = |height, dtheta_dz| RiseMet {
            lid: Some(Lid { height, dtheta_dz }),
            ..neutral(5.0, 290.0)
        };
        // f_p = 1.5 - Δh_h/Δh_eq only reaches 0 for F_b = 0 (Δh_eq >= 2/3 Δh_h).
        let high = briggs(&s, &lid(3000.0, 0.01), false);
        assert!(high.penetrated_fraction < 1e-4, "{high:?}");
        let cold = briggs(
            &Stack::new(50.0, 2.0, 10.0, 280.0),
            &lid(300.0, 0.01),
            false,
        );
        assert_eq!(cold.penetrated_fraction, 0.0);
        assert_eq!(high.effective_height, 50.0 + high.final_rise);
        let low = briggs(&s, &lid(55.0, 0.005), false);
        assert_eq!(low.penetrated_fraction, 1.0);
        assert!(low.penetrated_height > 55.0);
        let above = briggs(
            &Stack::new(500.0, 2.0, 10.0, 400.0),
            &lid(400.0, 0.01),
            false,
        );
        assert_eq!(above.penetrated_fraction, 1.0);
        // Δh_eq = Δh_h exactly when 2.6³ P_s + (2/3)³ = 1, i.e.
        // P_s = (19/27)/17.576 = 0.0400377; then f_p = 1.5 - 1 = 0.5 and the
        // penetrated part sits at z_i + (0.75 - 0.5) Δh_h.
        let fb = s_fb(&s, 290.0);
        let n2 = GRAVITY / 290.0 * 0.01;
        let dhh = (fb / (5.0 * n2 * (19.0 / 27.0) / 17.576)).cbrt();
        let half = briggs(&s, &lid(50.0 + dhh, 0.01), false);
        assert!((half.penetrated_fraction - 0.5).abs() < 1e-9, "{half:?}");
        assert!((half.penetrated_height - (50.0 + dhh + 0.25 * dhh)).abs() < 1e-6);
        assert!(half.effective_height <= 50.0 + dhh);
    }

    fn s_fb(s: &Stack, ta: f64) -> f64 {
        GRAVITY * s.velocity * s.diameter * s.diameter * (s.temperature - ta)
            / (4.0 * s.temperature)
    }

    #[test]
    fn stacks_come_from_shapes_and_point_sources() {
        let shape = Shape::Point {
            height: 80.0,
            diameter: 3.0,
            velocity: 12.0,
            temperature: 410.0,
        };
        assert_eq!(
            Stack::from_shape(&shape),
            Some(Stack::new(80.0, 3.0, 12.0, 410.0))
        );
        let area = Shape::Area {
            x_len: 1.0,
            y_len: 1.0,
            angle_deg: 0.0,
            height: 1.0,
        };
        assert_eq!(Stack::from_shape(&area), None);
    }
}
