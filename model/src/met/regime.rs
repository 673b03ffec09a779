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
//! Hours come in 6-hour blocks (synoptic persistence); each block is calm
//! (0.3 m/s, direction at random) with probability `calm_fraction`, else the
//! prevailing speed times 0.6-1.4 and direction within the spread, from a
//! seeded SplitMix64 sequence (Steele et al. 2014), so runs are reproducible.
//! Mixing height: by day the slab growth of [`pbl::grow_convective_layer`]
//! from sunrise under a half-sine heat flux, at least the stable height; at
//! night the stable height of [`pbl::stable_mixing_height`]. Solar time is
//! that of the domain centre.

use super::diagnostic::{AdjustReport, DiagnosticWind, Forcing};
use super::terrain::Terrain;
use super::{pbl, MetFields, GRAVITY, R_DRY};
use crate::config::{RegimeName, RegimeSpec};
use crate::error::Result;
use crate::grid::Grid;
use crate::time::StartTime;
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
    regime: Regime,
    calm_fraction: f64,
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
        let regime = Regime::of(spec.regime);
        let terrain = Terrain::build(grid, &spec.terrain)?;
        let stations = match &spec.stations {
            Some(path) => Some(super::stations::Stations::load(path, hours)?),
            None => None,
        };
        Ok(RegimeMet {
            grid: grid.clone(),
            regime,
            calm_fraction: spec.calm_fraction.unwrap_or(regime.calm_fraction),
            seed: spec.seed,
            start,
            kz_min,
            relative_humidity: spec.relative_humidity,
            cloud_water: spec.cloud_water_gkg / 1000.0,
            model: DiagnosticWind::new(grid, terrain),
            stations,
            cache: Default::default(),
            last_report: AdjustReport::default(),
        })
    }

    /// Synoptic 10 m wind (earth-relative east, north) of an hour of the run.
    pub fn synoptic_wind(&self, hour: usize) -> (f64, f64) {
        let block = (hour / 6) as u64;
        let r = &self.regime;
        let (speed, from) = if uniform(self.seed, 3 * block) < self.calm_fraction {
            (CALM_SPEED, 360.0 * uniform(self.seed, 3 * block + 1))
        } else {
            (
                r.speed_ms * (0.6 + 0.8 * uniform(self.seed, 3 * block + 1)),
                r.from_deg + r.spread_deg * (2.0 * uniform(self.seed, 3 * block + 2) - 1.0),
            )
        };
        super::diagnostic::wind_from(speed, from)
    }

    fn solve_hour(&mut self, hour: usize) -> Result<MetFields> {
        let g = &self.grid;
        let r = self.regime;
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
        let lapse = if day {
            r.lapse_day_k_per_km
        } else {
            r.lapse_night_k_per_km
        } / 1000.0;
        let brunt = (GRAVITY / t_surface * lapse).sqrt();
        let mut m = MetFields::zeros(g);
        // Temperature: potential temperature rising at the lapse rate,
        // T = theta - (g/cp) z; pressure hydrostatic at the layer-mean temperature.
        for k in 0..g.nz {
            let z = g.z_mid[k];
            let t = t_surface + (lapse - GRAVITY / super::CP_DRY) * z;
            let p = 101_325.0 * (-GRAVITY * z / (R_DRY * 0.5 * (t + t_surface))).exp();
            m.temperature.index_axis_mut(ndarray::Axis(0), k).fill(t);
            m.pressure.index_axis_mut(ndarray::Axis(0), k).fill(p);
        }
        m.update_density();
        m.rh.fill(self.relative_humidity);
        m.cloud_water.fill(self.cloud_water);
        m.z0.fill(Z0);
        let surface_wind = self.stations.as_ref().map(|s| s.wind_field(g, hour));
        let (u10, v10) = match &surface_wind {
            // The domain-mean station wind sets the regional mixing height.
            Some((u, v)) => (u.mean().unwrap_or(0.0), v.mean().unwrap_or(0.0)),
            None => {
                let (east, north) = self.synoptic_wind(hour);
                super::stats::grid_relative(g, clon, east, north)
            }
        };
        // Mixing height from the domain-centre surface layer.
        let rho = m.density[[0, 0, 0]];
        let (us, l) = pbl::surface_layer(
            u10.hypot(v10).max(CALM_SPEED),
            10.0,
            Z0,
            heat,
            rho,
            t_surface,
        );
        let stable_h = pbl::stable_mixing_height(us, l, clat);
        let h = if day {
            // Heat put in since sunrise under the half-sine flux, J/m2.
            let since = (solar - 6.0).max(0.0);
            let energy = r.heat_flux_wm2 * 12.0 / PI * (1.0 - (PI * since / 12.0).cos()) * 3600.0;
            pbl::grow_convective_layer(stable_h, energy, rho, r.lapse_day_k_per_km / 1000.0)
        } else {
            stable_h
        };
        let forcing = Forcing {
            u10,
            v10,
            surface_wind,
            first_guess_winds: None,
            brunt_vaisala: brunt,
            slope_dtheta: if day {
                r.slope_dtheta_day * sun
            } else {
                r.slope_dtheta_night
            },
            mixing_height: h,
            theta: t_surface,
            z0: Z0,
        };
        let (wind, report) = self.model.solve(&forcing, &m.density)?;
        self.last_report = report;
        m.u_face = wind.u_face;
        m.v_face = wind.v_face;
        // Column boundary layer: u* and L from each column's own lowest-level
        // wind (weak in sheltered pools), the mixing height no deeper than the
        // regional one and no deeper than the stable height where the column is stable.
        for j in 0..g.ny {
            for i in 0..g.nx {
                let (u, v) = m.centre_wind(0, j, i);
                let (usc, lc) =
                    pbl::surface_layer(u.hypot(v), g.z_mid[0], Z0, heat, rho, t_surface);
                m.ustar[[j, i]] = usc;
                m.obukhov[[j, i]] = lc;
                m.pblh[[j, i]] = if day {
                    h
                } else {
                    pbl::stable_mixing_height(usc, lc, clat).min(h.max(pbl::MIN_MIXING_HEIGHT))
                };
            }
        }
        m.diagnose_kz(g, self.kz_min);
        Ok(m)
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
                self.calm_fraction, self.seed
            ),
        };
        format!(
            "SYNTHETIC {} regime thermodynamics, {wind}, through the diagnostic wind model, terrain {:.0}-{:.0} m",
            self.regime.name,
            t.iter().cloned().fold(f64::INFINITY, f64::min),
            t.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        )
    }

    fn synthetic(&self) -> bool {
        true
    }
}
