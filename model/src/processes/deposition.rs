//! Removal at the surface and by precipitation. Both are first-order losses
//! integrated exactly (m <- m exp(-k dt)), so they can never drive mass
//! negative whatever the step.
//!
//! Dry deposition, resistance model (Seinfeld & Pandis 2016, Atmospheric
//! Chemistry and Physics, 3rd ed., ch. 19):
//! - gases: v_d = 1 / (r_a + r_b + r_c)                        (eq. 19.2)
//! - particles: v_d = v_s + 1 / (r_a + r_b + r_a r_b v_s)      (eq. 19.7)
//! - r_a = [ln(z/z0) - psi_h(z/L) + psi_h(z0/L)] / (k u*)      (eq. 19.13)
//! - gas r_b = 2/(k u*) (Sc/Pr)^(2/3)                         (eq. 19.17),
//!   Sc = nu / D with both at the cell's T and p: the molecular
//!   diffusivity D = D0 (p0/p) (T/T0)^1.81 (Massman 1998, Atmos. Environ.
//!   32, 1111, T0 = 273.15 K, p0 = 1 atm) and the kinematic viscosity
//!   nu = mu(T) R T / p with Sutherland's mu = 1.458e-6 T^1.5 / (T + 110.4)
//!   (US Standard Atmosphere 1976, eq. 51), so Sc hardly changes with
//!   height (scaling D alone made r_b 37 % too low at 500 hPa)
//! - particle r_b = 1 / (u* (Sc^(-2/3) + 10^(-3/St)))         (eq. 19.18)
//!   with Stokes settling v_s (eq. 9.42), Cunningham slip (eq. 9.34) and
//!   Stokes-Einstein Brownian diffusivity (eq. 9.73).
//! - r_c of gases with Wesely parameters: Wesely (1989) by land use, season,
//!   sunlight, temperature and leaf wetness ([`super::surface_resistance`]);
//!   other gases keep the species table's constant r_c.
//! The loss acts on the lowest layer, whose midpoint is the reference height.
//!
//! Dry deposition runs in [`super::diffusion::VerticalDiffusion`]'s column pass, fused
//! with diffusion when no chemistry runs, else alone after chemistry
//! ([`super::standard_split`]; [`DryDeposition`] holds
//! its settings, [`DryStep`] what a step shares: the cell-independent
//! parts of v_d per species; [`DryRow`] a row's r_a, Schmidt scale and
//! Wesely surface terms, found row by row in the worker's reused scratch;
//! v_d once per cell for each class of species with equal deposition
//! parameters).
//!
//! Wet deposition ([`column_scavenging_rates`]), per layer:
//! - below-cloud scavenging in the CALPUFF form (Scire et al. 2000, CALPUFF
//!   user's guide, eq. 2-123 and Table 2-9): Lambda = lambda (R / 1 mm h-1),
//!   with the frozen-precipitation lambda where the layer is below 273.15 K
//!   (particles 3e-5 s-1, gases 0), in the layers at or below the cloud top
//!   (the highest layer with cloud water); without cloud water in the column
//!   the whole column, as CALPUFF scavenges a puff whatever its height;
//! - in-cloud scavenging where there is cloud water: the precipitation
//!   removes the column's cloud water at the rate k = P / W (P kg m-2 s-1,
//!   W the cloud liquid water path, kg m-2), and with it the activated
//!   accumulation-mode particles (all of them) and the dissolved fraction of
//!   soluble gases, f = H* R T L / (1 + H* R T L) (L volume of liquid water
//!   per volume of air): Lambda_in = f k (Giorgi & Chameides 1986, J.
//!   Geophys. Res. 91, 14367; Seinfeld & Pandis 2016 ch. 20, eq. 20.5 for f).

use super::surface_resistance::{self as wesely, Season, Surface};
use super::{Process, ProcessKind, StepContext};
use crate::budget::Budget;
use crate::error::Result;
use crate::met::land_use::LandUse;
use crate::met::pbl::psi_h;
use crate::met::{MetFields, GRAVITY, KARMAN};
use crate::species::{Phase, Species};
use crate::state::State;
use ndarray::{Array2, Axis};
use rayon::prelude::*;

/// Kinematic viscosity of air, m2/s; dynamic viscosity, kg/(m s) (~293 K).
const NU_AIR: f64 = 1.5e-5;
const MU_AIR: f64 = 1.81e-5;
/// Prandtl number of air; mean free path of air, m (S&P Table 9.? at 298 K).
const PRANDTL: f64 = 0.72;
const MEAN_FREE_PATH: f64 = 0.0651e-6;
const BOLTZMANN: f64 = 1.380649e-23;
use crate::species::{diffusivity_at, DIFFUSIVITY_P0};
/// Freezing point, K: precipitation in a colder layer is snow.
pub const FREEZING: f64 = 273.15;
/// CALPUFF (Scire et al. 2000) Table 2-9 frozen-precipitation coefficient of
/// particles at 1 mm/h, s^-1 (SO4, NO3, PM10: 3e-5; every gas listed: 0).
pub const FROZEN_PARTICLE_PER_MM_H: f64 = 3.0e-5;
/// Gas constant in L atm / (mol K), for Henry's law in M/atm.
const R_LATM: f64 = 0.082057;
/// Density of liquid water, kg/m3.
const RHO_WATER: f64 = 1000.0;

/// Kinematic viscosity of air, m2/s, at T (K) and p (Pa): Sutherland's law
/// over the density (module notes).
pub fn kinematic_viscosity(temperature: f64, pressure: f64) -> f64 {
    let mu = 1.458e-6 * temperature.powf(1.5) / (temperature + 110.4);
    mu * crate::met::R_DRY * temperature / pressure
}

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

/// Dry deposition velocity of a species at 1 atm with the species table's
/// constant canopy resistance, m/s.
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
        DIFFUSIVITY_P0,
        None,
    )
}

/// Canopy resistance of a gas, s/m: Wesely's over `surface` when the gas has
/// Wesely parameters and a surface is given, else the species table's constant.
pub fn gas_canopy_resistance(sp: &Species, surface: Option<&Surface>) -> f64 {
    canopy_resistance(sp, wesely::gas(sp.name).as_ref(), surface)
}

/// As [`gas_canopy_resistance`] with the species' Wesely parameters (if any)
/// already looked up.
fn canopy_resistance(sp: &Species, gas: Option<&wesely::Gas>, surface: Option<&Surface>) -> f64 {
    let Phase::Gas {
        canopy_resistance, ..
    } = sp.phase
    else {
        return 0.0;
    };
    match (surface, gas) {
        (Some(s), Some(gas)) => wesely::canopy_resistance(gas, s),
        _ => canopy_resistance,
    }
}

/// The part of a gas's Schmidt number that depends on the air only:
/// nu(T, p) / (D(T, p) / D0), so that Sc = this / D0 for a gas whose
/// diffusivity is D0 at the reference state (module notes).
pub fn schmidt_scale(temperature: f64, pressure: f64) -> f64 {
    kinematic_viscosity(temperature, pressure) / diffusivity_at(1.0, temperature, pressure)
}

/// Deposition velocity given the aerodynamic resistance r_a (s/m), which
/// depends on the surface layer only and is shared by every species, at
/// temperature (K) and pressure (Pa), over `surface` (None: constant r_c).
pub fn deposition_velocity_with_ra(
    sp: &Species,
    ra: f64,
    ustar: f64,
    temperature: f64,
    pressure: f64,
    surface: Option<&Surface>,
) -> f64 {
    velocity(
        sp,
        wesely::gas(sp.name).as_ref(),
        ra,
        ustar,
        temperature,
        schmidt_scale(temperature, pressure),
        surface,
    )
}

/// [`deposition_velocity_with_ra`] with what does not depend on the cell
/// (the species' Wesely parameters) or on the species (the air's
/// [`schmidt_scale`]) computed by the caller.
fn velocity(
    sp: &Species,
    gas: Option<&wesely::Gas>,
    ra: f64,
    ustar: f64,
    temperature: f64,
    schmidt_scale: f64,
    surface: Option<&Surface>,
) -> f64 {
    let us = ustar.max(0.01);
    match sp.phase {
        Phase::Gas {
            diffusivity,
            canopy_resistance: constant,
        } => {
            if !constant.is_finite() {
                return 0.0;
            }
            let rc = canopy_resistance(sp, gas, surface);
            let sc = schmidt_scale / diffusivity;
            let rb = 2.0 / (KARMAN * us) * (sc / PRANDTL).powf(2.0 / 3.0);
            1.0 / (ra + rb + rc)
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

/// The Wesely surface state of every column at the middle of the step:
/// land use (the met's, else `default`), season (month and latitude), solar
/// irradiance (clear sky dimmed under the column's cloud water as the
/// photolysis is), surface air temperature, and wet leaves (rain falling, or
/// dew when the lowest layer's relative humidity is at least 95 %, WRF-Chem's
/// `wetflag` test in `module_dep_simple.F`).
pub fn surfaces(ctx: &StepContext, default: LandUse) -> Array2<Surface> {
    let g = ctx.grid;
    let clock = SunClock::of(ctx);
    let mut lwp = vec![0.0; g.nx];
    let mut out = Vec::with_capacity(g.ny * g.nx);
    for j in 0..g.ny {
        ctx.met_mid.liquid_water_path_row(g, j, &mut lwp);
        out.extend((0..g.nx).map(|i| clock.surface(g, ctx.met_mid, default, j, i, lwp[i])));
    }
    Array2::from_shape_vec((g.ny, g.nx), out).expect("ny x nx surfaces")
}

/// The mid-step time that [`surfaces`] needs: UTC hour, day of the year
/// and month.
#[derive(Debug, Clone, Copy)]
struct SunClock {
    hour_utc: f64,
    day: f64,
    month: u32,
}

impl SunClock {
    fn of(ctx: &StepContext) -> SunClock {
        let hour_utc = ctx.start.hour_utc + (ctx.time + 0.5 * ctx.dt) / 3600.0;
        let day = ctx.start.day_of_year as f64 + (hour_utc / 24.0).floor();
        SunClock {
            hour_utc,
            day,
            month: wesely::month_of_day(day as u32),
        }
    }

    /// Column (j, i)'s surface state (see [`surfaces`]), given its liquid
    /// water path `lwp`.
    fn surface(
        &self,
        g: &crate::grid::Grid,
        m: &MetFields,
        default: LandUse,
        j: usize,
        i: usize,
        lwp: f64,
    ) -> Surface {
        let lat = g.lat[[j, i]];
        let solar_hour = (self.hour_utc + g.lon[[j, i]] / 15.0).rem_euclid(24.0);
        let mu = super::chemistry::cos_zenith(lat, self.day, solar_hour).max(0.0);
        let rain = m.precip[[j, i]] > 0.0;
        Surface {
            land_use: LandUse::from_index(m.land_use[[j, i]]).unwrap_or(default),
            season: Season::of(self.month, lat),
            solar: wesely::clear_sky_irradiance(mu) * super::chemistry::below_cloud_factor(lwp, mu),
            temperature_c: m.temperature[[0, j, i]] - 273.15,
            dew: !rain && m.rh[[0, j, i]] >= 0.95,
            rain,
        }
    }
}

/// Dry deposition's settings. It runs in a
/// [`super::diffusion::VerticalDiffusion`] column pass, as the lower
/// boundary of the vertical mixing or alone (module notes). Columns
/// whose met gives no land use take `default_land_use` (the case's
/// `physics.land_use`).
#[derive(Debug, Clone, Copy)]
pub struct DryDeposition {
    pub default_land_use: LandUse,
}

impl DryDeposition {
    /// What every species shares in one step: per species what does not
    /// depend on the cell. Species with the same deposition parameters
    /// share one class (one v_d per cell for all of them). The per-column
    /// inputs (r_a, the Wesely surface terms, the air's Schmidt scale) are
    /// found row by row by [`DryStep::row`].
    pub fn prepare<'a>(&self, ctx: &StepContext<'a>, species: &[Species]) -> DryStep<'a> {
        let g = ctx.grid;
        let (classes, members) = classes_of(
            species.iter().map(|sp| (*sp, wesely::gas(sp.name))),
            |(a, ga), (b, gb)| a.phase == b.phase && ga == gb,
        );
        let classes: Vec<DryClass> = classes
            .iter()
            .map(|(sp, gas)| DryClass::of(sp, *gas))
            .collect();
        let wesely = classes.iter().any(|c| {
            matches!(
                c,
                DryClass::Gas {
                    rc: GasRc::Wesely(_),
                    ..
                }
            )
        });
        DryStep {
            grid: g,
            met: ctx.met_mid,
            dt_over_dz: (ctx.dt, g.dz[0]),
            clock: SunClock::of(ctx),
            default_land_use: self.default_land_use,
            wesely,
            classes,
            members,
        }
    }
}

/// Items grouped into classes of equal keys (`same`), in order of first
/// appearance: each class's key (its first item's) and its items' indices.
/// Species that deposit or scavenge alike share one class, so one factor
/// per cell serves them all.
fn classes_of<K>(
    keys: impl IntoIterator<Item = K>,
    same: impl Fn(&K, &K) -> bool,
) -> (Vec<K>, Vec<Vec<usize>>) {
    let (mut classes, mut members): (Vec<K>, Vec<Vec<usize>>) = (Vec::new(), Vec::new());
    for (s, key) in keys.into_iter().enumerate() {
        match classes.iter().position(|c| same(c, &key)) {
            Some(c) => members[c].push(s),
            None => {
                classes.push(key);
                members.push(vec![s]);
            }
        }
    }
    (classes, members)
}

/// A gas's canopy resistance: Wesely's, or the species table's constant.
#[derive(Debug, Clone, Copy)]
enum GasRc {
    Wesely(wesely::Gas),
    Constant(f64),
}

/// What v_d of one class of species needs beyond the cell: the parts of
/// [`velocity`] that do not depend on the cell, computed once per step
/// with the same operations, so v_d is bit for bit that of [`velocity`].
#[derive(Debug, Clone, Copy)]
enum DryClass {
    /// No dry deposition (an infinite constant canopy resistance).
    None,
    Gas {
        diffusivity: f64,
        rc: GasRc,
    },
    Particle {
        /// Settling velocity, m/s; Cunningham factor; 3 pi mu d.
        vs: f64,
        slip: f64,
        drag: f64,
    },
}

impl DryClass {
    fn of(sp: &Species, gas: Option<wesely::Gas>) -> DryClass {
        match sp.phase {
            Phase::Gas {
                diffusivity,
                canopy_resistance: constant,
            } => {
                if !constant.is_finite() {
                    return DryClass::None;
                }
                DryClass::Gas {
                    diffusivity,
                    rc: match gas {
                        Some(gas) => GasRc::Wesely(gas),
                        None => GasRc::Constant(constant),
                    },
                }
            }
            Phase::Particle { diameter, density } => DryClass::Particle {
                vs: settling_velocity(diameter, density),
                slip: cunningham(diameter),
                drag: 3.0 * std::f64::consts::PI * MU_AIR * diameter,
            },
        }
    }
}

/// One step's dry deposition, shared by every tracer (see
/// [`DryDeposition::prepare`]).
pub struct DryStep<'a> {
    grid: &'a crate::grid::Grid,
    met: &'a MetFields,
    dt_over_dz: (f64, f64),
    clock: SunClock,
    default_land_use: LandUse,
    /// Some class takes Wesely's r_c (so rows need their surface terms).
    wesely: bool,
    classes: Vec<DryClass>,
    /// The species of each class, in order.
    members: Vec<Vec<usize>>,
}

/// One row's per-column inputs of v_d ([`DryStep::row`]): r_a, the air's
/// [`schmidt_scale`], the Wesely surface terms, and the liquid water path
/// they need. A worker's scratch, reused from row to row.
#[derive(Debug, Clone, Default)]
pub struct DryRow {
    j: usize,
    ra: Vec<f64>,
    schmidt: Vec<f64>,
    surface: Vec<wesely::SurfaceTerms>,
    lwp: Vec<f64>,
}

impl DryStep<'_> {
    /// The number of deposition classes (species with equal parameters).
    pub fn classes(&self) -> usize {
        self.classes.len()
    }

    /// The species of class `class`, in order.
    pub fn members(&self, class: usize) -> &[usize] {
        &self.members[class]
    }

    /// False when the class does not deposit (every factor is 1).
    pub fn deposits(&self, class: usize) -> bool {
        !matches!(self.classes[class], DryClass::None)
    }

    /// Row `j`'s per-column inputs into `row`: r_a
    /// ([`aerodynamic_resistance`] at the lowest midpoint), the air's
    /// [`schmidt_scale`] and, when a class needs them, the Wesely surface
    /// terms of [`surfaces`]' state (once per column for every gas).
    pub fn row(&self, j: usize, row: &mut DryRow) {
        let (g, m) = (self.grid, self.met);
        let nx = g.nx;
        let z = g.z_mid[0];
        row.j = j;
        row.ra.clear();
        row.ra.extend(
            m.z0.row(j)
                .iter()
                .zip(m.ustar.row(j).iter())
                .zip(m.obukhov.row(j).iter())
                .map(|((&z0, &us), &l)| aerodynamic_resistance(z, z0, us, l)),
        );
        row.schmidt.clear();
        row.schmidt.extend(
            m.temperature
                .slice(ndarray::s![0, j, ..])
                .iter()
                .zip(m.pressure.slice(ndarray::s![0, j, ..]).iter())
                .map(|(&t, &p)| schmidt_scale(t, p)),
        );
        row.surface.clear();
        if self.wesely {
            row.lwp.resize(nx, 0.0);
            m.liquid_water_path_row(g, j, &mut row.lwp);
            let (clock, default) = (&self.clock, self.default_land_use);
            row.surface
                .extend(row.lwp.iter().enumerate().map(|(i, &lwp)| {
                    wesely::SurfaceTerms::of(&clock.surface(g, m, default, j, i, lwp))
                }));
        }
    }

    /// exp(-v_d dt / dz_0), the fraction of the lowest layer's mass of
    /// the species of `class` that survives the step, along the row whose
    /// inputs [`Self::row`] put in `row`, into `kept` [i]. Computed once
    /// per class and cell, applied to all the class's species and their
    /// tags; v_d is [`velocity`]'s, operation for operation.
    pub fn surviving_row(&self, class: usize, row: &DryRow, kept: &mut [f64]) {
        let m = self.met;
        let (dt, dz) = self.dt_over_dz;
        let ustar = m.ustar.row(row.j);
        let cells = kept.iter_mut().zip(row.ra.iter()).zip(ustar.iter());
        match self.classes[class] {
            DryClass::None => kept.fill(1.0),
            DryClass::Gas { diffusivity, rc } => {
                for (i, ((k, &ra), &us)) in cells.enumerate() {
                    let us = us.max(0.01);
                    let rc = match rc {
                        GasRc::Constant(rc) => rc,
                        GasRc::Wesely(gas) => row.surface[i].canopy_resistance(&gas),
                    };
                    let sc = row.schmidt[i] / diffusivity;
                    let rb = 2.0 / (KARMAN * us) * (sc / PRANDTL).powf(2.0 / 3.0);
                    let vd = 1.0 / (ra + rb + rc);
                    *k = (-vd * dt / dz).exp();
                }
            }
            DryClass::Particle { vs, slip, drag } => {
                let t = m.temperature.slice(ndarray::s![0, row.j, ..]);
                for (((k, &ra), &us), &t) in cells.zip(t.iter()) {
                    let us = us.max(0.01);
                    let db = BOLTZMANN * t * slip / drag;
                    let sc = NU_AIR / db;
                    let st = vs * us * us / (GRAVITY * NU_AIR);
                    let rb = 1.0 / (us * (sc.powf(-2.0 / 3.0) + 10f64.powf(-3.0 / st)));
                    let vd = vs + 1.0 / (ra + rb + ra * rb * vs);
                    *k = (-vd * dt / dz).exp();
                }
            }
        }
    }
}

/// m <- m f along a line, returning the mass removed, sum(m - m f),
/// summed in four interleaved partial sums (fixed order, so vectorisable
/// and independent of the thread count).
pub(crate) fn decay_line(line: &mut [f64], kept: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut lines = line.chunks_exact_mut(4);
    let mut factors = kept.chunks_exact(4);
    for (v, f) in (&mut lines).zip(&mut factors) {
        for q in 0..4 {
            let left = v[q] * f[q];
            acc[q] += v[q] - left;
            v[q] = left;
        }
    }
    let mut tail = 0.0;
    for (v, &f) in lines.into_remainder().iter_mut().zip(factors.remainder()) {
        let left = *v * f;
        tail += *v - left;
        *v = left;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Below-cloud scavenging coefficient at 1 mm/h of frozen precipitation,
/// s^-1: CALPUFF Table 2-9 gives particles 3e-5 and every gas 0.
pub fn frozen_scavenging_per_mm_h(sp: &Species) -> f64 {
    match sp.phase {
        Phase::Particle { .. } if sp.scavenging_per_mm_h > 0.0 => FROZEN_PARTICLE_PER_MM_H,
        _ => 0.0,
    }
}

/// In-cloud uptake of a species: the fraction of it in the cloud water of a
/// layer with liquid volume fraction `lv` at temperature `t` (K). Particles
/// that rain scavenges are taken as activated accumulation mode (all in the
/// drops); gases dissolve by their effective Henry's constant H* (Wesely
/// 1989 Table 2, M/atm): f = H* R T lv / (1 + H* R T lv); others stay out.
pub fn dissolved_fraction(sp: &Species, lv: f64, t: f64) -> f64 {
    Scavenging::of(sp).dissolved(lv, t)
}

/// Least liquid water content that makes a layer a cloud, kg/m3: CAMx's
/// `cwmin` of 0.05 g/m3 "to define clouds" (CAMx `chmdat.f`). Trace cloud
/// water below it (common in WRF's QCLOUD) is not a cloud: a cloud water
/// path made of it would give an unbounded washout rate P / W.
pub const CLOUD_MIN_KG_M3: f64 = 0.05e-3;

/// What a species brings to scavenging, looked up once per step: its
/// below-cloud coefficients (liquid, frozen) per mm/h and how it enters
/// cloud water.
#[derive(Debug, Clone, Copy)]
struct Scavenging {
    liquid: f64,
    frozen: f64,
    uptake: Uptake,
}

#[derive(Debug, Clone, Copy)]
enum Uptake {
    /// Activated particles: all in the drops.
    All,
    /// A gas dissolving by its effective Henry's constant H* (M/atm).
    Henry(f64),
    None,
}

impl Scavenging {
    fn of(sp: &Species) -> Scavenging {
        let uptake = match sp.phase {
            Phase::Particle { .. } if sp.scavenging_per_mm_h > 0.0 => Uptake::All,
            Phase::Particle { .. } => Uptake::None,
            Phase::Gas { .. } => match wesely::gas(sp.name) {
                Some(gas) => Uptake::Henry(gas.hstar),
                None => Uptake::None,
            },
        };
        Scavenging {
            liquid: sp.scavenging_per_mm_h,
            frozen: frozen_scavenging_per_mm_h(sp),
            uptake,
        }
    }

    /// True when `other` gives the same rate in every layer.
    fn same_as(&self, other: &Scavenging) -> bool {
        let uptake = match (self.uptake, other.uptake) {
            (Uptake::All, Uptake::All) | (Uptake::None, Uptake::None) => true,
            (Uptake::Henry(a), Uptake::Henry(b)) => a.to_bits() == b.to_bits(),
            _ => false,
        };
        uptake
            && self.liquid.to_bits() == other.liquid.to_bits()
            && self.frozen.to_bits() == other.frozen.to_bits()
    }

    fn dissolved(&self, lv: f64, t: f64) -> f64 {
        match self.uptake {
            Uptake::All => 1.0,
            Uptake::None => 0.0,
            Uptake::Henry(hstar) => {
                let x = hstar * R_LATM * t * lv;
                x / (1.0 + x)
            }
        }
    }

    /// The rate (s^-1) in a layer of a raining column.
    fn rate(&self, layer: RainLayer, precip: f64, removal: f64) -> f64 {
        match layer {
            RainLayer::Cloud { lv, t } => self.dissolved(lv, t) * removal,
            RainLayer::Below { frozen } => {
                (if frozen { self.frozen } else { self.liquid }) * precip
            }
            RainLayer::Above => 0.0,
        }
    }
}

/// A layer of a raining column as every species sees it.
#[derive(Debug, Clone, Copy)]
enum RainLayer {
    /// A cloud layer: liquid volume fraction and temperature (K).
    Cloud { lv: f64, t: f64 },
    /// At or below the cloud top (the whole column without cloud), in
    /// frozen precipitation or not.
    Below { frozen: bool },
    /// Above the cloud top.
    Above,
}

/// The species-independent part of [`column_scavenging_rates`]: each
/// layer's kind into `layers`, and the fraction of the cloud water that
/// precipitation removes per second (0 without cloud).
fn rain_layers(
    temperature: &[f64],
    cloud_water: &[f64],
    density: &[f64],
    dz: &[f64],
    precip: f64,
    layers: &mut [RainLayer],
) -> f64 {
    let cloudy = |k: usize| cloud_water[k] * density[k] >= CLOUD_MIN_KG_M3;
    let top = (0..layers.len()).rposition(cloudy);
    let path: f64 = (0..layers.len())
        .filter(|&k| cloudy(k))
        .map(|k| cloud_water[k] * density[k] * dz[k])
        .sum();
    for (k, l) in layers.iter_mut().enumerate() {
        *l = if cloudy(k) {
            RainLayer::Cloud {
                lv: cloud_water[k] * density[k] / RHO_WATER,
                t: temperature[k],
            }
        } else if top.is_none_or(|top| k <= top) {
            RainLayer::Below {
                frozen: temperature[k] < FREEZING,
            }
        } else {
            RainLayer::Above
        };
    }
    if path > 0.0 {
        precip / 3600.0 / path
    } else {
        0.0
    }
}

/// Wet scavenging rates (s^-1) of one column, layer by layer, into `rate`
/// (module notes): in cloud layers (liquid water >= [`CLOUD_MIN_KG_M3`])
/// the in-cloud rate f P / W, W the path of the cloud layers' water (the
/// washout time W / P of CMAQ's resolved-cloud scavenging); in the other
/// layers at and below the cloud top (the whole column without cloud) the
/// below-cloud rate, liquid or frozen by the layer's temperature. A cloud
/// layer takes the in-cloud rate only, so it is not counted twice.
/// `precip` mm/h; per layer `temperature` K, `cloud_water` kg/kg,
/// `density` kg/m3 and thickness `dz` m.
pub fn column_scavenging_rates(
    sp: &Species,
    precip: f64,
    temperature: &[f64],
    cloud_water: &[f64],
    density: &[f64],
    dz: &[f64],
    rate: &mut [f64],
) {
    rate.fill(0.0);
    if precip <= 0.0 {
        return;
    }
    let mut layers = vec![RainLayer::Above; rate.len()];
    let removal = rain_layers(temperature, cloud_water, density, dz, precip, &mut layers);
    let sc = Scavenging::of(sp);
    for (r, &l) in rate.iter_mut().zip(&layers) {
        *r = sc.rate(l, precip, removal);
    }
}

/// Wet deposition: below-cloud and in-cloud scavenging. Linear, in one
/// pass over rows of columns: a raining row's layer kinds (cloud, below
/// or above the cloud top) and its columns' cloud-water removal rates are
/// found once, layer by layer along the row; species that scavenge alike
/// (every particle rain scavenges has the same coefficients) share one
/// surviving fraction exp(-Lambda dt) per cell, computed once (one exp for
/// a run of equal rates along the row), and that fraction is applied to
/// all their tags while the row is in cache. Rows without rain, and layers
/// where a species' fraction is 1 everywhere, are not touched.
pub struct WetDeposition;

/// A layer of a raining column in the row-wise pass: the kinds of
/// [`RainLayer`] as codes, with the cloud layers' liquid volume fraction
/// and temperature in side arrays.
const ABOVE: u8 = 0;
const BELOW_LIQUID: u8 = 1;
const BELOW_FROZEN: u8 = 2;
const CLOUD: u8 = 3;

/// One row's scratch, reused from row to row by a worker.
struct WetRow {
    /// [k][i]: layer code, liquid volume fraction, temperature.
    kind: Vec<u8>,
    lv: Vec<f64>,
    t: Vec<f64>,
    /// [i]: precipitation (mm/h, 0 where dry), cloud-water path and
    /// removal rate, highest cloud layer + 1 (0: none).
    precip: Vec<f64>,
    path: Vec<f64>,
    removal: Vec<f64>,
    top: Vec<usize>,
    /// [k][i]: one class's surviving fraction; per layer whether any is < 1.
    kept: Vec<f64>,
    active: Vec<bool>,
}

impl WetRow {
    fn new(nz: usize, nx: usize) -> WetRow {
        WetRow {
            kind: vec![ABOVE; nz * nx],
            lv: vec![0.0; nz * nx],
            t: vec![0.0; nz * nx],
            precip: vec![0.0; nx],
            path: vec![0.0; nx],
            removal: vec![0.0; nx],
            top: vec![0; nx],
            kept: vec![1.0; nz * nx],
            active: vec![false; nz],
        }
    }

    /// Row `j`'s layers, as [`rain_layers`] finds them column by column
    /// (the same operations in the same order), layer by layer along the
    /// row. False when nothing rains on the row.
    fn layers(&mut self, ctx: &StepContext, j: usize) -> bool {
        let (m, g) = (ctx.met_mid, ctx.grid);
        let nx = g.nx;
        let mut any = false;
        for ((p, &v), (path, top)) in self
            .precip
            .iter_mut()
            .zip(m.precip.row(j).iter())
            .zip(self.path.iter_mut().zip(self.top.iter_mut()))
        {
            *p = if v > 0.0 { v } else { 0.0 };
            any |= v > 0.0;
            *path = 0.0;
            *top = 0;
        }
        if !any {
            return false;
        }
        for k in 0..g.nz {
            let qc = m.cloud_water.slice(ndarray::s![k, j, ..]);
            let rho = m.density.slice(ndarray::s![k, j, ..]);
            let (lv, t) = (
                &mut self.lv[k * nx..(k + 1) * nx],
                &mut self.t[k * nx..(k + 1) * nx],
            );
            for (i, ((&qc, &rho), &temperature)) in qc
                .iter()
                .zip(rho.iter())
                .zip(m.temperature.slice(ndarray::s![k, j, ..]).iter())
                .enumerate()
            {
                if self.precip[i] > 0.0 && qc * rho >= CLOUD_MIN_KG_M3 {
                    self.path[i] += qc * rho * g.dz[k];
                    self.top[i] = k + 1;
                    self.kind[k * nx + i] = CLOUD;
                    lv[i] = qc * rho / RHO_WATER;
                    t[i] = temperature;
                } else {
                    self.kind[k * nx + i] = if temperature < FREEZING {
                        BELOW_FROZEN
                    } else {
                        BELOW_LIQUID
                    };
                }
            }
        }
        for i in 0..nx {
            let p = self.precip[i];
            self.removal[i] = if self.path[i] > 0.0 {
                p / 3600.0 / self.path[i]
            } else {
                0.0
            };
            // Dry columns and the layers above the cloud top scavenge nothing.
            let from = if p > 0.0 && self.top[i] == 0 {
                g.nz
            } else if p > 0.0 {
                self.top[i]
            } else {
                0
            };
            for k in from..g.nz {
                self.kind[k * nx + i] = ABOVE;
            }
        }
        true
    }

    /// The surviving fractions of one scavenging class into `kept`, and
    /// which layers have any below 1.
    fn surviving(&mut self, sc: &Scavenging, dt: f64) {
        let nx = self.precip.len();
        for (k, active) in self.active.iter_mut().enumerate() {
            let at = k * nx;
            let mut last = (f64::NAN, 1.0);
            let mut any = false;
            for i in 0..nx {
                let rate = match self.kind[at + i] {
                    BELOW_LIQUID => sc.liquid * self.precip[i],
                    BELOW_FROZEN => sc.frozen * self.precip[i],
                    CLOUD => sc.dissolved(self.lv[at + i], self.t[at + i]) * self.removal[i],
                    _ => 0.0,
                };
                if rate != last.0 {
                    last = (rate, (-rate * dt).exp());
                }
                self.kept[at + i] = last.1;
                any |= last.1 != 1.0;
            }
            *active = any;
        }
    }
}

impl Process for WetDeposition {
    fn name(&self) -> &'static str {
        "wet deposition"
    }

    fn kind(&self) -> ProcessKind {
        ProcessKind::Linear
    }

    fn apply(&mut self, ctx: &StepContext, state: &mut State, budget: &mut Budget) -> Result<()> {
        let m = ctx.met_mid;
        let g = ctx.grid;
        if m.precip.iter().all(|&p| p <= 0.0) {
            return Ok(());
        }
        let (nz, nx, dt) = (g.nz, g.nx, ctx.dt);
        let tracers = &state.tracers;
        // Species that scavenge alike share one class.
        let (scavenging, members) = classes_of(
            tracers.species.iter().map(Scavenging::of),
            Scavenging::same_as,
        );
        let classes: Vec<(Scavenging, Vec<usize>)> = scavenging.into_iter().zip(members).collect();
        let ntr = tracers.len();
        // Per row j: each tracer's loss, summed in a fixed order (layers,
        // then cells in four interleaved partial sums), so the result does
        // not depend on the thread count.
        let lost: Vec<Vec<f64>> = state
            .mass
            .axis_iter_mut(Axis(2))
            .into_par_iter()
            .enumerate()
            .map_init(
                || WetRow::new(nz, nx),
                |scratch, (j, mut row)| {
                    let mut lost = vec![0.0; ntr];
                    if !scratch.layers(ctx, j) {
                        return lost;
                    }
                    for (sc, members) in &classes {
                        scratch.surviving(sc, dt);
                        if !scratch.active.contains(&true) {
                            continue;
                        }
                        for tr in members.iter().flat_map(|&s| tracers.tracers_of(s)) {
                            let mut sum = 0.0;
                            for k in (0..nz).filter(|&k| scratch.active[k]) {
                                let mut line = row.slice_mut(ndarray::s![tr, k, ..]);
                                let line = line.as_slice_mut().expect("standard layout");
                                sum += decay_line(line, &scratch.kept[k * nx..(k + 1) * nx]);
                            }
                            lost[tr] = sum;
                        }
                    }
                    lost
                },
            )
            .collect();
        for (tr, b) in budget.tracers.iter_mut().enumerate().take(ntr) {
            b.wet_deposited_kg += lost.iter().map(|row| row[tr]).sum::<f64>();
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

    /// A four-layer column of 500 m layers at density 1 kg/m3 with 0.5 g/kg
    /// of cloud water in layers 1 and 2 (cloud top: layer 2), 2 mm/h.
    fn column(t: f64) -> ([f64; 4], [f64; 4], [f64; 4], [f64; 4]) {
        ([t; 4], [0.0, 0.5e-3, 0.5e-3, 0.0], [1.0; 4], [500.0; 4])
    }

    fn surviving(name: &str, t: f64, seconds: f64) -> Vec<f64> {
        let sp = crate::species::lookup(name).unwrap();
        let (t, qc, rho, dz) = column(t);
        let mut rate = [0.0; 4];
        column_scavenging_rates(&sp, 2.0, &t, &qc, &rho, &dz, &mut rate);
        rate.iter().map(|r| (-r * seconds).exp()).collect()
    }

    #[test]
    fn rain_scavenging_of_particles_matches_the_hand_derivation() {
        // By hand: cloud water path W = 2 x 0.5e-3 x 1 x 500 = 0.5 kg/m2;
        // P = 2 mm/h = 2/3600 kg m-2 s-1 removes it at 1.111e-3 s-1. SO4 (1e-4
        // s-1 per mm/h) below cloud: 2e-4 s-1 in layer 0, in-cloud only in
        // the cloud layers 1-2, none above the cloud top. After 900 s: layer
        // 0 exp(-0.18) = 0.835270, layers 1-2 exp(-1.111e-3 x 900) =
        // exp(-1) = 0.367879, layer 3 1.
        let kept = surviving("SO4", 280.0, 900.0);
        let expect = [0.835270211, 0.367879441, 0.367879441, 1.0];
        for (k, (a, b)) in kept.iter().zip(expect).enumerate() {
            assert!((a - b).abs() < 1e-8, "layer {k}: {a} vs {b}");
        }
        // SO2 dissolves by H* = 1e5 M/atm: H* R T L = 1e5 x 0.082057 x 280 x
        // 5e-7 = 1.1488, f = 0.534624; in cloud exp(-f) = 0.585890.
        let so2 = surviving("SO2", 280.0, 900.0);
        assert!((so2[1] - 0.585889811).abs() < 1e-8, "{}", so2[1]);
        assert!((so2[0] - (-6e-5f64 * 900.0).exp()).abs() < 1e-12);
        assert_eq!(so2[3], 1.0);
        // Trace cloud water (below CAMx's 0.05 g/m3) is no cloud: the whole
        // column takes the below-cloud rate, and nothing is washed out at
        // an unbounded P / W.
        let sp = crate::species::lookup("SO4").unwrap();
        let (t, _, rho, dz) = column(280.0);
        let mut rate = [0.0; 4];
        column_scavenging_rates(&sp, 2.0, &t, &[0.0, 1e-12, 0.0, 0.0], &rho, &dz, &mut rate);
        assert_eq!(rate, [2e-4; 4]);
    }

    #[test]
    fn snow_scavenges_particles_less_and_so2_not_below_cloud() {
        // Below 273.15 K the CALPUFF frozen coefficients apply: particles 3e-5,
        // SO2 0 (rain: 1e-4 and 3e-5 per mm/h).
        let rain = surviving("SO4", 275.0, 900.0);
        let snow = surviving("SO4", 268.0, 900.0);
        assert!((snow[0] - (-3e-5f64 * 2.0 * 900.0).exp()).abs() < 1e-12);
        assert!((rain[0] - (-1e-4f64 * 2.0 * 900.0).exp()).abs() < 1e-12);
        assert!(snow[0] > rain[0]);
        assert_eq!(surviving("SO2", 268.0, 900.0)[0], 1.0);
        assert!(surviving("SO2", 275.0, 900.0)[0] < 1.0);
        // No precipitation, no removal, cloud or not.
        let sp = crate::species::lookup("SO4").unwrap();
        let (t, qc, rho, dz) = column(280.0);
        let mut rate = [1.0; 4];
        column_scavenging_rates(&sp, 0.0, &t, &qc, &rho, &dz, &mut rate);
        assert_eq!(rate, [0.0; 4]);
        // Rain without cloud water: the whole column, below-cloud only.
        column_scavenging_rates(&sp, 2.0, &t, &[0.0; 4], &rho, &dz, &mut rate);
        assert_eq!(rate, [2e-4; 4]);
    }

    #[test]
    fn air_viscosity_follows_sutherland() {
        // US Standard Atmosphere 1976 Table I: mu(288.15 K) = 1.7894e-5 Pa s,
        // rho(sea level) = 1.2250 kg/m3, so nu = 1.4607e-5 m2/s.
        let nu = kinematic_viscosity(288.15, 101_325.0);
        assert!((nu / 1.4607e-5 - 1.0).abs() < 1e-3, "{nu}");
        // Both nu and D go as 1/p: the Schmidt number does not change with p.
        let sc = |p: f64| kinematic_viscosity(280.0, p) / diffusivity_at(1.089e-5, 280.0, p);
        assert!((sc(50_000.0) / sc(101_325.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn diffusivity_scales_with_temperature_and_pressure() {
        assert_eq!(diffusivity_at(1e-5, 273.15, 101_325.0), 1e-5);
        let d = diffusivity_at(1e-5, 298.15, 0.5 * 101_325.0);
        assert!((d - 2e-5 * (298.15f64 / 273.15).powf(1.81)).abs() < 1e-18);
    }
}
