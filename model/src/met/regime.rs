//! SYNTHETIC seasonal regimes for the Hunan-Guangxi domain, driving the
//! diagnostic wind model hour by hour. For demonstration and testing only:
//! every output of a run that uses them says SYNTHETIC.
//!
//! Each regime is a prevailing 10 m wind, a spread of direction, a surface
//! temperature with a 4 K diurnal swing, a midday sensible heat flux, the
//! day and night lapse rates above the surface, the slope-flow forcing and a
//! default calm fraction. The numbers are round illustrative values chosen
//! to mimic the seasons the plans describe (winter northerlies under the
//! cold high, humid southerly summers, calm multi-day episodes), not a
//! climatology:
//!
//! | regime   | from | speed m/s | spread | T K | H W/m2 | gamma day/night K/km | slope dT day/night K | calm |
//! |----------|------|-----------|--------|-----|--------|----------------------|----------------------|------|
//! | winter   | 20   | 3.0       | 30     | 280 | 120    | 5 / 20               | +2 / -4              | 0.3  |
//! | spring   | 150  | 2.5       | 90     | 290 | 200    | 5 / 12               | +3 / -3              | 0.2  |
//! | summer   | 200  | 3.0       | 30     | 300 | 300    | 4 / 8                | +4 / -2              | 0.1  |
//! | stagnant | 20   | 0.8       | 180    | 282 | 80     | 6 / 30               | +1 / -5              | 0.9  |
//!
//! Against published winter climatology (issue 12; side by side in
//! docs/numerics.md). No station table of January wind speed, prevailing
//! direction or calm frequency for Changsha, Hengyang, Chenzhou, Liuzhou or
//! Qinzhou (CMA or WMO normals) was found in the reference material
//! searched, so the winter and stagnant numbers are unchanged and each is
//! marked with what does and does not support it:
//! - winter `from` 20 deg: the northern sector is supported (PM2.5
//!   episodes under northerly winds at the bottom of the continental cold
//!   high, Chenzhou plan L164; Liubei, north-west of Liuzhou's centre,
//!   "upwind of the urban area", Liuzhou plan L54, L59; strong northerly
//!   winter flow at Changsha, Sun et al. 2022, Remote Sens. 14, 3333); the
//!   exact bearing (NNE rather than N or NNW) has no source;
//! - winter speed 3.0 m/s (flat-ground expectation 0.7 x 3.0 + 0.3 x 0.3 =
//!   2.19 m/s): no January normal found; the Liuzhou plan gives a
//!   long-term mean below 2 m/s in its basin (L57), where the terrain, not
//!   the synoptic regime, lowers the wind;
//! - calm fractions 0.3 and 0.9: no frequency found; the Chenzhou (L163)
//!   and Liuzhou (L57) plans say only that calms are frequent;
//! - winter heat flux 120 W/m2: 0.40 of summer's 300, as January sunshine
//!   is 0.37 of July's at Changde (83.1 h vs 224.0 h, CMA 1971-2000 normals
//!   as quoted in the Changde climate table);
//! - mixing height: a January of the winter regime over flat ground mixes
//!   to 1487 m on average at 14 Beijing time, against about 0.6 km over
//!   south-eastern China at that hour in the radiosonde climatology of
//!   Zhang et al. 2022 (J. Geophys. Res. Atmos. 127, e2021JD036367; all
//!   seasons, and winter is lower: Guo et al. 2016, ACP 16, 13309): too
//!   deep, not yet corrected (no source for the heat flux or lapse rate
//!   that would fix it).
//!
//! Hours come in 6-hour blocks (synoptic persistence); each block is calm
//! (0.3 m/s, direction at random) with probability `calm_fraction`, else the
//! prevailing speed times 0.6-1.4 and direction within the spread, from a
//! seeded SplitMix64 sequence (Steele et al. 2014), so runs are reproducible.
//! Mixing height: by day the slab growth of [`pbl::grow_convective_layer`]
//! from sunrise under a half-sine heat flux, at least the stable height; at
//! night the stable height of [`pbl::stable_mixing_height`]. Solar time is
//! that of the domain centre. The surface layer that sets them breathes
//! sea-level air at the regime's surface temperature.
//!
//! Thermodynamics follow the terrain. Temperatures are carried as the
//! static temperature theta = T + g Z / cp (Z altitude; the dry static
//! energy over cp, which the slab model conserves: Stull 1988, An
//! Introduction to Boundary Layer Meteorology, sec. 1.5):
//! - free atmosphere: the same at a given altitude everywhere, theta rising
//!   at the regime's day gradient gamma_day from sea level (the stratification
//!   the daytime mixed layer grows into), so the surface over terrain of
//!   height zs is colder by (g/cp - gamma_day) zs: 3.8 K/km (stagnant) to
//!   5.8 K/km (summer), against 6.5 K/km in the US Standard Atmosphere 1976;
//! - night, open ground: a surface inversion of the regime's night gradient
//!   gamma_night through the stable boundary layer (the regional stable
//!   height), joining the free atmosphere at its top; the free atmosphere is
//!   placed so that flat sea-level ground has the regime's surface
//!   temperature (day and night);
//! - pressure: hydrostatic from 101325 Pa at sea level up the free
//!   atmosphere to where a column joins it, then down through the column's
//!   own layers, each piece by the hypsometric equation for a constant lapse
//!   rate ([`hypsometric`]; US Standard Atmosphere 1976, NOAA-S/T 76-1562,
//!   eq. 33a-b); density p / (R_d T).
//!
//! Cold-air pools (a topographic depression filled with air colder than the
//! air above, stagnant below a capping inversion: Whiteman et al. 2001,
//! Weather Forecast. 16, 432; Lareau et al. 2013, Bull. Amer. Meteor. Soc.
//! 94, 51). A column's pool depth is its depth below the lowest pass out of
//! its depression (the spill-over height; [`Terrain::pool_depth`]) less
//! U/N, the dividing streamline (Sheppard 1956) for the column's 10 m wind
//! and the pool's stratification N = sqrt(g gamma_night / T): air below it
//! cannot be lifted out over the rim. Parameters come from the regime and
//! the terrain only:
//! - night: where the pool is deeper than the open-ground inversion, the
//!   inversion fills the basin to its depth (gamma_night from the floor to
//!   the pool top, where it meets the free atmosphere), so the floor is
//!   colder than open ground at its altitude by
//!   (gamma_night - gamma_day) (depth - stable height): 13 K for the
//!   stagnant regime in a 600 m basin. The build is the regime's prescribed
//!   nocturnal stratification carried to the spill height, as the open-ground
//!   inversion is prescribed, not a radiation budget;
//! - day: the pool erodes only as the surface heat allows. The mixed layer
//!   grows from the floor into the pool's stratification by the entraining
//!   slab model, rho cp gamma_night h^2 / 2 = (1 + 2A) E with E the heat put
//!   in since sunrise (Carson 1973; [`pbl::grow_convective_layer`] from
//!   zero), and sits the jump A gamma_night h / (1 + 2A) below the pool's
//!   sounding at h (Tennekes 1973), so the column gains exactly E; once h
//!   reaches the pool top the pool is mixed through and warmed by the rest.
//!   The pool is removed when E reaches its heat deficit
//!   rho cp gamma_night depth^2 / 2 relative to its top (the energy budget of
//!   Whiteman & McKee 1982, J. Appl. Meteorol. 21, 290, with the inversion
//!   top held: no sidewall-flow subsidence). Until then the pool top caps
//!   mixing (mixing height h, at least 50 m; Kz is the floor above it) and
//!   the pool keeps no synoptic wind. A stagnant day (80 W/m2 at noon:
//!   2.2 MJ/m2, mixing 400 m by sunset) leaves a
//!   591 m pool (deficit 6.6 MJ/m2) for the next night, so the pool persists
//!   through the spell, as midwinter heating fails to remove persistent
//!   pools (Zhong et al. 2001, Mon. Weather Rev. 129, 2600); the other
//!   regimes' days with more heat can remove a 600 m basin's pool within the
//!   day;
//! - by day a pool no deeper than the 50 m minimum mixing height caps
//!   nothing and is ignored (at night the pool must be deeper than the
//!   open-ground inversion, itself at least 50 m);
//! - a run that starts by day assumes the night before was of the same
//!   regime. The pool is horizontally uniform at a given altitude by night;
//!   by day each column mixes its own lowest h.

use super::diagnostic::{AdjustReport, DiagnosticWind, Forcing};
use super::terrain::Terrain;
use super::{pbl, MetFields, CP_DRY, GRAVITY, R_DRY};
use crate::config::{RegimeName, RegimeSpec, Spell};
use crate::error::Result;
use crate::grid::Grid;
use crate::time::StartTime;
use ndarray::Array2;
use std::f64::consts::PI;

#[derive(Debug, Clone, Copy)]
pub struct Regime {
    pub name: &'static str,
    pub from_deg: f64,
    pub speed_ms: f64,
    pub spread_deg: f64,
    pub surface_temperature_k: f64,
    pub heat_flux_wm2: f64,
    pub lapse_day_k_per_km: f64,
    pub lapse_night_k_per_km: f64,
    pub slope_dtheta_day: f64,
    pub slope_dtheta_night: f64,
    pub calm_fraction: f64,
}

impl Regime {
    /// The parameters of a named regime (table above).
    pub fn of(name: RegimeName) -> Regime {
        let r = |name, from_deg, speed_ms, spread_deg, t, h, gd, gn, sd, sn, calm| Regime {
            name,
            from_deg,
            speed_ms,
            spread_deg,
            surface_temperature_k: t,
            heat_flux_wm2: h,
            lapse_day_k_per_km: gd,
            lapse_night_k_per_km: gn,
            slope_dtheta_day: sd,
            slope_dtheta_night: sn,
            calm_fraction: calm,
        };
        match name {
            RegimeName::Winter => r(
                "winter", 20.0, 3.0, 30.0, 280.0, 120.0, 5.0, 20.0, 2.0, -4.0, 0.3,
            ),
            RegimeName::Spring => r(
                "spring", 150.0, 2.5, 90.0, 290.0, 200.0, 5.0, 12.0, 3.0, -3.0, 0.2,
            ),
            RegimeName::Summer => r(
                "summer", 200.0, 3.0, 30.0, 300.0, 300.0, 4.0, 8.0, 4.0, -2.0, 0.1,
            ),
            RegimeName::Stagnant => r(
                "stagnant", 20.0, 0.8, 180.0, 282.0, 80.0, 6.0, 30.0, 1.0, -5.0, 0.9,
            ),
        }
    }
}

impl Regime {
    /// The parameters a fraction `w` (0 to 1) of the way from `a` to `b`,
    /// each linearly (the blend of a spell change); named as `b`.
    pub fn blend(a: &Regime, b: &Regime, w: f64) -> Regime {
        let l = |x: f64, y: f64| x + w * (y - x);
        Regime {
            name: b.name,
            from_deg: b.from_deg,
            speed_ms: l(a.speed_ms, b.speed_ms),
            spread_deg: b.spread_deg,
            surface_temperature_k: l(a.surface_temperature_k, b.surface_temperature_k),
            heat_flux_wm2: l(a.heat_flux_wm2, b.heat_flux_wm2),
            lapse_day_k_per_km: l(a.lapse_day_k_per_km, b.lapse_day_k_per_km),
            lapse_night_k_per_km: l(a.lapse_night_k_per_km, b.lapse_night_k_per_km),
            slope_dtheta_day: l(a.slope_dtheta_day, b.slope_dtheta_day),
            slope_dtheta_night: l(a.slope_dtheta_night, b.slope_dtheta_night),
            calm_fraction: l(a.calm_fraction, b.calm_fraction),
        }
    }
}

/// Hours over which a new spell blends in from the previous one: one
/// synoptic block. Every regime parameter goes linearly from the old
/// spell's value to the new one's, and the synoptic wind is the same
/// weighting of the two spells' winds for the block, so temperature,
/// lapse rates, cold pools, mixing height and wind change over 6 hourly
/// records rather than in one (module notes).
pub const BLEND_HOURS: f64 = 6.0;

/// A spell with its regime's parameters and its calm fraction.
#[derive(Debug, Clone, Copy)]
struct SpellParams {
    start_hour: f64,
    regime: Regime,
    calm_fraction: f64,
}

/// SplitMix64 (Steele, Lea & Flood 2014, OOPSLA), as a uniform in [0, 1).
fn uniform(seed: u64, stream: u64) -> f64 {
    let mut z = seed
        .wrapping_add(stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Roughness length of the regime surfaces (crops and villages), m.
const Z0: f64 = 0.1;
/// Speed of a calm block, m/s (below the 0.5 m/s calm threshold).
const CALM_SPEED: f64 = 0.3;
/// Diurnal half-range of the surface temperature, K.
const DIURNAL_SWING: f64 = 4.0;

pub struct RegimeMet {
    grid: Grid,
    spells: Vec<SpellParams>,
    seed: u64,
    start: StartTime,
    kz_min: f64,
    relative_humidity: f64,
    cloud_water: f64,
    model: DiagnosticWind,
    /// Station reports replacing the regime's synoptic wind, when given.
    stations: Option<super::stations::Stations>,
    cache: super::RecordCache,
    /// The adjustment report of the most recent hour solved.
    pub last_report: AdjustReport,
    /// Roughness and land use from a land-cover map, replacing [`Z0`].
    surface: Option<super::land_use::Surface>,
}

impl RegimeMet {
    /// Regime (or station) winds over the spec's terrain; station files
    /// must give every hour of a run `hours` long.
    pub fn new(
        grid: &Grid,
        spec: &RegimeSpec,
        start: StartTime,
        kz_min: f64,
        hours: usize,
    ) -> Result<Self> {
        let spells = spec
            .spells
            .iter()
            .map(|s: &Spell| {
                let regime = Regime::of(s.regime);
                SpellParams {
                    start_hour: s.start_hour,
                    regime,
                    calm_fraction: s
                        .calm_fraction
                        .or(spec.calm_fraction)
                        .unwrap_or(regime.calm_fraction),
                }
            })
            .collect();
        let terrain = Terrain::build(grid, &spec.terrain)?;
        let stations = match &spec.stations {
            Some(path) => Some(super::stations::Stations::load(path, hours)?),
            None => None,
        };
        Ok(RegimeMet {
            grid: grid.clone(),
            spells,
            seed: spec.seed,
            start,
            kz_min,
            relative_humidity: spec.relative_humidity,
            cloud_water: spec.cloud_water_gkg / 1000.0,
            model: DiagnosticWind::new(grid, terrain),
            stations,
            cache: Default::default(),
            last_report: AdjustReport::default(),
            surface: None,
        })
    }

    /// The adjustment's preconditioner and whether each hour starts from
    /// the previous hour's multiplier (default: multigrid, warm).
    pub fn with_solver(
        mut self,
        preconditioner: super::diagnostic::Preconditioner,
        warm_start: bool,
    ) -> Self {
        self.model.preconditioner = preconditioner;
        self.model.warm_start = warm_start;
        self
    }

    /// Roughness and land use per cell from a land-cover map: each
    /// column's u*, L, stable mixing height and Kz follow from its own z0;
    /// the regional surface layer and the diagnostic model's first-guess
    /// profile take the domain's log-mean z0.
    pub fn with_surface(mut self, surface: Option<super::land_use::Surface>) -> Self {
        self.surface = surface;
        self.cache = Default::default();
        self
    }

    /// The spell in force at an hour of the run (the first before its
    /// start), the previous one, and the weight of the current one in the
    /// blend (1 after [`BLEND_HOURS`]).
    fn spell_at(&self, hour: f64) -> (SpellParams, SpellParams, f64) {
        let n = self
            .spells
            .partition_point(|s| s.start_hour <= hour)
            .saturating_sub(1);
        let cur = self.spells[n];
        if n == 0 {
            return (cur, cur, 1.0);
        }
        let w = ((hour - cur.start_hour) / BLEND_HOURS).clamp(0.0, 1.0);
        (cur, self.spells[n - 1], w)
    }

    /// The regime parameters of an hour of the run (blended after a change).
    pub fn regime_at(&self, hour: f64) -> Regime {
        let (cur, prev, w) = self.spell_at(hour);
        if w >= 1.0 {
            cur.regime
        } else {
            Regime::blend(&prev.regime, &cur.regime, w)
        }
    }

    /// One spell's synoptic wind for a 6-hour block.
    fn block_wind(&self, spell: &SpellParams, block: u64) -> (f64, f64) {
        let r = &spell.regime;
        let (speed, from) = if uniform(self.seed, 3 * block) < spell.calm_fraction {
            (CALM_SPEED, 360.0 * uniform(self.seed, 3 * block + 1))
        } else {
            (
                r.speed_ms * (0.6 + 0.8 * uniform(self.seed, 3 * block + 1)),
                r.from_deg + r.spread_deg * (2.0 * uniform(self.seed, 3 * block + 2) - 1.0),
            )
        };
        super::diagnostic::wind_from(speed, from)
    }

    /// Synoptic 10 m wind (earth-relative east, north) of an hour of the run.
    pub fn synoptic_wind(&self, hour: usize) -> (f64, f64) {
        let block = (hour / 6) as u64;
        let (cur, prev, w) = self.spell_at(hour as f64);
        let (e, n) = self.block_wind(&cur, block);
        if w >= 1.0 {
            return (e, n);
        }
        let (pe, pn) = self.block_wind(&prev, block);
        (pe + w * (e - pe), pn + w * (n - pn))
    }

    fn solve_hour(&mut self, hour: usize) -> Result<MetFields> {
        let g = &self.grid;
        let r = self.regime_at(hour as f64);
        let terrain = &self.model.terrain;
        let (clon, clat) = g.lonlat_at(0.5 * (g.nx as f64 - 1.0), 0.5 * (g.ny as f64 - 1.0));
        let solar = (self.start.hour_utc + hour as f64 + clon / 15.0).rem_euclid(24.0);
        let sun = ((solar - 6.0) / 12.0 * PI).sin().max(0.0);
        let day = sun > 0.0;
        let heat = if day {
            r.heat_flux_wm2 * sun
        } else {
            -0.15 * r.heat_flux_wm2
        };
        let t_surface =
            r.surface_temperature_k + DIURNAL_SWING * (2.0 * PI * (solar - 15.0) / 24.0).cos();
        let gamma_day = r.lapse_day_k_per_km / 1000.0;
        let gamma_night = r.lapse_night_k_per_km / 1000.0;
        let lapse = if day { gamma_day } else { gamma_night };
        let brunt = (GRAVITY / t_surface * lapse).sqrt();
        let surface_wind = self.stations.as_ref().map(|s| s.wind_field(g, hour));
        let (u10, v10) = match &surface_wind {
            // The domain-mean station wind sets the regional mixing height.
            Some((u, v)) => (u.mean().unwrap_or(0.0), v.mean().unwrap_or(0.0)),
            None => {
                let (east, north) = self.synoptic_wind(hour);
                super::stats::grid_relative(g, clon, east, north)
            }
        };
        // Regional mixing height from the surface layer of sea-level air.
        let rho = SEA_LEVEL_PRESSURE / (R_DRY * t_surface);
        let z0_region = self.surface.as_ref().map_or(Z0, |s| s.mean_z0());
        let (us, l) = pbl::surface_layer(
            u10.hypot(v10).max(CALM_SPEED),
            10.0,
            z0_region,
            heat,
            rho,
            t_surface,
        );
        let stable_h = pbl::stable_mixing_height(us, l, clat);
        // Heat put in since sunrise under the half-sine flux, J/m2.
        let energy = if day {
            let since = (solar - 6.0).max(0.0);
            r.heat_flux_wm2 * 12.0 / PI * (1.0 - (PI * since / 12.0).cos()) * 3600.0
        } else {
            0.0
        };
        let h = if day {
            pbl::grow_convective_layer(stable_h, energy, rho, gamma_day)
        } else {
            stable_h
        };
        // Thermodynamics (module notes): the free atmosphere by altitude, the
        // nocturnal inversion over open ground, cold pools in closed basins.
        let inversion = if day { 0.0 } else { stable_h };
        let free = FreeAtmosphere {
            theta0: t_surface + (gamma_night - gamma_day) * inversion,
            gamma: gamma_day,
        };
        let pool_brunt = (GRAVITY / t_surface * gamma_night).sqrt();
        // Depth of the mixed layer grown into a pool since sunrise.
        let pool_mixed = pbl::grow_convective_layer(0.0, energy, rho, gamma_night);
        let mut m = MetFields::zeros(g);
        let mut pool = Array2::zeros((g.ny, g.nx));
        for j in 0..g.ny {
            for i in 0..g.nx {
                let speed = match &surface_wind {
                    Some((u, v)) => u[[j, i]].hypot(v[[j, i]]),
                    None => u10.hypot(v10),
                };
                // Below the dividing streamline of the pool's stratification.
                let depth = terrain.pool_depth[[j, i]] - speed / pool_brunt;
                let zs = terrain.height[[j, i]];
                let column = if !day && depth > inversion {
                    pool[[j, i]] = depth;
                    Column::stable_layer(zs, depth, gamma_night, free)
                } else if !day {
                    Column::stable_layer(zs, inversion, gamma_night, free)
                } else if depth > pbl::MIN_MIXING_HEIGHT
                    && energy < rho * CP_DRY * gamma_night * depth * depth / 2.0
                {
                    // The day's heat so far is below the pool's deficit.
                    pool[[j, i]] = depth;
                    Column::eroding_pool(zs, depth, energy, rho, gamma_night, free)
                } else {
                    Column::stable_layer(zs, 0.0, gamma_night, free)
                };
                for k in 0..g.nz {
                    let (t, p) = column.state(g.z_mid[k]);
                    m.temperature[[k, j, i]] = t;
                    m.pressure[[k, j, i]] = p;
                }
            }
        }
        m.update_density();
        m.rh.fill(self.relative_humidity);
        m.cloud_water.fill(self.cloud_water);
        match &self.surface {
            Some(s) => {
                m.z0 = s.z0.clone();
                m.land_use = s.land_use.clone();
            }
            None => m.z0.fill(Z0),
        }
        let forcing = Forcing {
            u10,
            v10,
            surface_wind,
            first_guess_winds: None,
            cold_pool: Some(pool.clone()),
            brunt_vaisala: brunt,
            slope_dtheta: if day {
                r.slope_dtheta_day * sun
            } else {
                r.slope_dtheta_night
            },
            mixing_height: h,
            theta: t_surface,
            z0: z0_region,
        };
        let (wind, report) = self.model.solve_next(&forcing, &m.density)?;
        self.last_report = report;
        m.u_face = wind.u_face;
        m.v_face = wind.v_face;
        // Column boundary layer: u* and L from each column's own lowest-level
        // wind (weak in sheltered pools), the mixing height no deeper than the
        // regional one and no deeper than the stable height where the column
        // is stable; by day a surviving pool's capping inversion holds the
        // mixed layer to the depth grown into the pool.
        for j in 0..g.ny {
            for i in 0..g.nx {
                let (u, v) = m.centre_wind(0, j, i);
                let (usc, lc) =
                    pbl::surface_layer(u.hypot(v), g.z_mid[0], m.z0[[j, i]], heat, rho, t_surface);
                m.ustar[[j, i]] = usc;
                m.obukhov[[j, i]] = lc;
                m.pblh[[j, i]] = if !day {
                    pbl::stable_mixing_height(usc, lc, clat).min(h.max(pbl::MIN_MIXING_HEIGHT))
                } else if pool[[j, i]] > 0.0 {
                    pool_mixed.min(pool[[j, i]]).max(pbl::MIN_MIXING_HEIGHT)
                } else {
                    h
                };
            }
        }
        m.diagnose_kz(g, self.kz_min);
        Ok(m)
    }
}

/// Pressure at sea level under the free atmosphere, Pa (US Standard
/// Atmosphere 1976, NOAA-S/T 76-1562, table 1).
pub const SEA_LEVEL_PRESSURE: f64 = 101_325.0;

/// Pressure after a height change dz (m, either sign) from pressure p0 through
/// air whose temperature goes linearly from t0 to t1: the hypsometric
/// equation integrated exactly for a constant lapse rate,
/// p1 = p0 (t1/t0)^(-g dz / (R (t1 - t0))) (US Standard Atmosphere 1976,
/// eq. 33a), and p0 exp(-g dz / (R t0)) for an isothermal layer (eq. 33b).
pub fn hypsometric(p0: f64, t0: f64, t1: f64, dz: f64) -> f64 {
    if (t1 - t0).abs() < 1e-9 * t0 {
        p0 * (-GRAVITY * dz / (R_DRY * 0.5 * (t0 + t1))).exp()
    } else {
        p0 * (t1 / t0).powf(-GRAVITY * dz / (R_DRY * (t1 - t0)))
    }
}

/// The free atmosphere of an hour, the same at a given altitude everywhere:
/// static temperature theta = T + g Z / cp rising at `gamma` (K/m) from
/// `theta0` at sea level.
#[derive(Debug, Clone, Copy)]
struct FreeAtmosphere {
    theta0: f64,
    gamma: f64,
}

impl FreeAtmosphere {
    fn theta(&self, altitude: f64) -> f64 {
        self.theta0 + self.gamma * altitude
    }

    fn temperature(&self, altitude: f64) -> f64 {
        self.theta(altitude) - GRAVITY / CP_DRY * altitude
    }

    fn pressure(&self, altitude: f64) -> f64 {
        hypsometric(
            SEA_LEVEL_PRESSURE,
            self.temperature(0.0),
            self.temperature(altitude),
            altitude,
        )
    }
}

/// One column's static temperature: piecewise linear through `knots`
/// (height above ground, theta) up to the last knot, where it joins the
/// free atmosphere, and the free atmosphere above.
struct Column {
    ground: f64,
    knots: Vec<(f64, f64)>,
    free: FreeAtmosphere,
}

impl Column {
    /// A surface-based stable layer of `depth` m with gradient `gamma`,
    /// joining the free atmosphere at its top (none when depth is 0).
    fn stable_layer(ground: f64, depth: f64, gamma: f64, free: FreeAtmosphere) -> Column {
        let top = free.theta(ground + depth);
        Column {
            ground,
            knots: vec![(0.0, top - gamma * depth), (depth, top)],
            free,
        }
    }

    /// A pool of `depth` m with gradient `gamma` after a day's surface heat
    /// input `energy` (J/m2) in air of density `rho`. The mixed layer grows
    /// from the floor by the entraining slab model (Carson 1973;
    /// [`pbl::grow_convective_layer`]) and sits the jump A gamma h / (1 + 2A)
    /// below the pool's stratification at its top h (Tennekes 1973), so its
    /// heat gain, rho cp gamma h^2 / (2 (1 + 2A)), is exactly `energy`. Once
    /// h reaches the pool's depth the pool is mixed through and warmed by
    /// what is left; it is gone when `energy` reaches its heat deficit
    /// rho cp gamma D^2 / 2 (Whiteman & McKee 1982), where the mixed layer
    /// meets the pool top's theta.
    fn eroding_pool(
        ground: f64,
        depth: f64,
        energy: f64,
        rho: f64,
        gamma: f64,
        free: FreeAtmosphere,
    ) -> Column {
        let top = free.theta(ground + depth);
        let bottom = top - gamma * depth;
        let grown = pbl::grow_convective_layer(0.0, energy, rho, gamma);
        let a = pbl::ENTRAINMENT_RATIO;
        let knots = if grown < depth {
            let theta_mixed = bottom + gamma * grown * (1.0 + a) / (1.0 + 2.0 * a);
            // The jump at the mixed layer's top, then the pool's sounding.
            vec![
                (0.0, theta_mixed),
                (grown, theta_mixed),
                (grown, bottom + gamma * grown),
                (depth, top),
            ]
        } else {
            let theta_mixed =
                (bottom + gamma * depth / 2.0 + energy / (rho * CP_DRY * depth)).min(top);
            vec![(0.0, theta_mixed), (depth, theta_mixed)]
        };
        Column {
            ground,
            knots,
            free,
        }
    }

    fn theta(&self, z: f64) -> f64 {
        let last = self.knots[self.knots.len() - 1];
        if z >= last.0 {
            return self.free.theta(self.ground + z);
        }
        let k = self.knots.partition_point(|&(zk, _)| zk <= z).max(1);
        let ((za, ta), (zb, tb)) = (self.knots[k - 1], self.knots[k]);
        ta + (tb - ta) * (z - za) / (zb - za)
    }

    fn temperature(&self, z: f64) -> f64 {
        self.kelvin(z, self.theta(z))
    }

    /// Temperature, K, of potential temperature `theta` at height z above
    /// the column's ground (theta referred to sea level, module notes).
    fn kelvin(&self, z: f64, theta: f64) -> f64 {
        theta - GRAVITY / CP_DRY * (self.ground + z)
    }

    /// Temperature and pressure at height z above ground: hydrostatic from
    /// sea level through the free atmosphere to where the column joins it,
    /// then down through the column's own segments, each with its own end
    /// temperatures (so a jump, a zero-thickness segment, is crossed at
    /// constant pressure).
    fn state(&self, z: f64) -> (f64, f64) {
        let join = self.knots[self.knots.len() - 1].0;
        if z >= join {
            let a = self.ground + z;
            return (self.free.temperature(a), self.free.pressure(a));
        }
        let mut p = self.free.pressure(self.ground + join);
        for k in (1..self.knots.len()).rev() {
            let ((za, ta), (zb, tb)) = (self.knots[k - 1], self.knots[k]);
            let lo = za.max(z);
            if zb > lo {
                let theta_lo = ta + (tb - ta) * (lo - za) / (zb - za);
                p = hypsometric(p, self.kelvin(zb, tb), self.kelvin(lo, theta_lo), lo - zb);
            }
            if za <= z {
                break;
            }
        }
        (self.temperature(z), p)
    }
}

impl super::Records for RegimeMet {
    fn record_times(&self) -> Option<Vec<f64>> {
        None
    }

    fn read_record(&mut self, hour: usize) -> Result<MetFields> {
        self.solve_hour(hour)
    }

    fn cache(&mut self) -> &mut super::RecordCache {
        &mut self.cache
    }

    fn description(&self) -> String {
        let t = &self.model.terrain.height;
        let wind = match &self.stations {
            Some(s) => format!("station winds from {}", s.path().display()),
            None => format!(
                "regime winds (calm fraction {}, seed {})",
                self.spells
                    .iter()
                    .map(|s| s.calm_fraction.to_string())
                    .collect::<Vec<_>>()
                    .join("/"),
                self.seed
            ),
        };
        let regimes = if self.spells.len() == 1 {
            format!("{} regime", self.spells[0].regime.name)
        } else {
            let list: Vec<String> = self
                .spells
                .iter()
                .map(|s| format!("{} from hour {}", s.regime.name, s.start_hour))
                .collect();
            format!(
                "regime schedule ({}; {BLEND_HOURS} h blends)",
                list.join(", ")
            )
        };
        format!(
            "SYNTHETIC {regimes} thermodynamics (lapse-rate terrain, basin cold pools), {wind}, through the diagnostic wind model, terrain {:.0}-{:.0} m",
            t.iter().cloned().fold(f64::INFINITY, f64::min),
            t.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        )
    }

    fn solve_totals(&self) -> Option<super::diagnostic::SolveTotals> {
        Some(self.model.totals)
    }

    fn synthetic(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pressure at height z above ground of a column, by integrating
    /// d ln p / dZ = -g / (R T) in 1 cm midpoint steps: up the free
    /// atmosphere from sea level to where the column joins it, then through
    /// the column to z.
    fn integrated(c: &Column, z: f64) -> f64 {
        let steps = |from: f64, to: f64, t: &dyn Fn(f64) -> f64| {
            let n = ((to - from).abs() / 0.01).round().max(1.0) as usize;
            let dz = (to - from) / n as f64;
            (0..n)
                .map(|s| -GRAVITY * dz / (R_DRY * t(from + (s as f64 + 0.5) * dz)))
                .sum::<f64>()
        };
        let join = c.knots[c.knots.len() - 1].0;
        let free = |a: f64| c.free.temperature(a);
        let column = |zz: f64| c.temperature(zz);
        let ln_p = if z >= join {
            SEA_LEVEL_PRESSURE.ln() + steps(0.0, c.ground + z, &free)
        } else {
            SEA_LEVEL_PRESSURE.ln() + steps(0.0, c.ground + join, &free) + steps(join, z, &column)
        };
        ln_p.exp()
    }

    #[test]
    fn a_ridge_is_colder_and_at_lower_pressure_by_the_lapse_rate_and_hydrostatics() {
        // Stagnant day at 282 K: theta rises 6 K/km, so T falls
        // g/cp - 6 K/km = 3.761 K/km; on a 600 m ridge, 10 m above ground,
        // T = 282 - 3.761e-3 * 610 = 279.706 K.
        let free = FreeAtmosphere {
            theta0: 282.0,
            gamma: 0.006,
        };
        let ridge = Column::stable_layer(600.0, 0.0, 0.03, free);
        let (t, p) = ridge.state(10.0);
        let lapse = GRAVITY / CP_DRY - 0.006;
        assert!((t - (282.0 - lapse * 610.0)).abs() < 1e-9, "{t}");
        // US Standard Atmosphere 1976 eq. 33a with the regime's lapse rate,
        // and the hydrostatic equation integrated numerically.
        let by_hand = SEA_LEVEL_PRESSURE * (t / 282.0).powf(GRAVITY / (R_DRY * lapse));
        assert!((p - by_hand).abs() < 1e-6, "{p} vs {by_hand}");
        assert!((p - integrated(&ridge, 10.0)).abs() < 1e-3);
        assert!(p > 94_000.0 && p < 94_500.0, "ridge at {p} Pa");
    }

    #[test]
    fn a_pool_column_is_hydrostatic_through_its_inversion_and_mixed_layer() {
        // Night: a 500 m pool (30 K/km) on a floor at 100 m; day: the same
        // pool with its lowest 200 m mixed.
        let free = FreeAtmosphere {
            theta0: 283.0,
            gamma: 0.006,
        };
        let night = Column::stable_layer(100.0, 500.0, 0.03, free);
        // A day's heat that grows a 200 m mixed layer with entrainment:
        // E = rho cp gamma h^2 / (2 (1 + 2A)) at rho = 1.2.
        let (rho, h) = (1.2, 200.0);
        let energy = rho * CP_DRY * 0.03 * h * h / (2.0 * 1.4);
        let day = Column::eroding_pool(100.0, 500.0, energy, rho, 0.03, free);
        // Floor theta: the free atmosphere's at the pool top less 30 K/km x 500 m.
        let top = 283.0 + 0.006 * 600.0;
        assert!((night.theta(0.0) - (top - 15.0)).abs() < 1e-12);
        // The mixed layer: the pool's theta at 200 m (top - 9 K) less the
        // entrainment jump A gamma h / (1 + 2A) = 0.2 x 6 / 1.4 K.
        let mixed = top - 9.0 - 0.2 * 6.0 / 1.4;
        assert!((day.theta(50.0) - mixed).abs() < 1e-9);
        // Its heat gain over the pool's initial profile is exactly E.
        let gain: f64 = (0..2000)
            .map(|n| (n as f64 + 0.5) * 0.25)
            .map(|z| day.theta(z) - (top - 0.03 * (500.0 - z)))
            .sum::<f64>()
            * 0.25
            * rho
            * CP_DRY;
        assert!((gain / energy - 1.0).abs() < 1e-3, "{gain} vs {energy}");
        // Above the mixed layer the pool's sounding is untouched.
        assert!((day.theta(350.0) - (top - 0.03 * 150.0)).abs() < 1e-9);
        // With the deficit met the pool is mixed to the top's theta.
        let gone = Column::eroding_pool(
            100.0,
            500.0,
            rho * CP_DRY * 0.03 * 500.0 * 500.0 / 2.0,
            rho,
            0.03,
            free,
        );
        assert!((gone.theta(10.0) - top).abs() < 1e-9);
        for z in [10.0, 150.0, 250.0, 499.0, 700.0, 2000.0] {
            for c in [&night, &day] {
                let (_, p) = c.state(z);
                let q = integrated(c, z);
                assert!((p - q).abs() < 2e-3, "z {z}: {p} vs {q}");
            }
        }
        // The pool's cold air weighs more: the floor's pressure exceeds the
        // free atmosphere's at the floor's altitude.
        assert!(night.state(10.0).1 > free.pressure(110.0));
        // Above the pool the column is the free atmosphere.
        assert_eq!(
            night.state(800.0),
            (free.temperature(900.0), free.pressure(900.0))
        );
    }
}
