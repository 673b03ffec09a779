//! Analytic meteorology for idealised cases and tests: uniform wind, solid-body
//! rotation, LeVeque's swirling deformation, linear shear and calm, over a
//! U.S. Standard Atmosphere (1976) troposphere, with a diurnal boundary layer.
//!
//! Rotating and deforming flows are built from a streamfunction at cell
//! corners, so the face winds are discretely non-divergent to round-off.

use super::{MetFields, MetSource, GRAVITY, KARMAN, R_DRY};
use crate::config::{AnalyticSpec, Flow};
use crate::error::Result;
use crate::grid::Grid;
use crate::time::StartTime;
use std::f64::consts::PI;

#[derive(Debug, Clone)]
pub struct AnalyticMet {
    grid: Grid,
    cfg: AnalyticSpec,
    start: StartTime,
    kz_min: f64,
    /// Roughness and land use from a land-cover map, replacing [`Z0`].
    surface: Option<super::land_use::Surface>,
}

/// Roughness length for the analytic surface (short crops / suburban mix), m.
const Z0: f64 = 0.1;

impl AnalyticMet {
    pub fn new(grid: &Grid, cfg: &AnalyticSpec, start: StartTime, kz_min: f64) -> Self {
        AnalyticMet {
            grid: grid.clone(),
            cfg: cfg.clone(),
            start,
            kz_min,
            surface: None,
        }
    }

    /// Roughness and land use per cell from a land-cover map (u*, L and
    /// Kz follow from them).
    pub fn with_surface(mut self, surface: Option<super::land_use::Surface>) -> Self {
        self.surface = surface;
        self
    }

    /// Domain extent in metres along x and y (nominal spacing).
    fn extent(&self) -> (f64, f64) {
        (
            self.grid.nx as f64 * self.grid.dx,
            self.grid.ny as f64 * self.grid.dy,
        )
    }

    /// Streamfunction at a corner (fractional position in [0,1]^2 of the domain).
    /// Face winds follow as u = -dpsi/dy, v = dpsi/dx.
    fn streamfunction(&self, xf: f64, yf: f64, t: f64) -> f64 {
        let (lx, ly) = self.extent();
        let period = self.cfg.period_s;
        match self.cfg.flow {
            Flow::Rotation => {
                let omega = 2.0 * PI / period;
                let (x, y) = ((xf - 0.5) * lx, (yf - 0.5) * ly);
                0.5 * omega * (x * x + y * y)
            }
            Flow::Deformation => {
                // LeVeque (1996), SIAM J. Numer. Anal. 33, 627, test 9.5: on the
                // unit square with T = 1.5, u = sin^2(pi x) sin(2 pi y) cos(pi t/T),
                // v = -sin^2(pi y) sin(2 pi x) cos(pi t/T). Scaled to the domain.
                let speed = lx * 1.5 / period;
                -speed * lx / PI
                    * (PI * xf).sin().powi(2)
                    * (PI * yf).sin().powi(2)
                    * (PI * t / period).cos()
            }
            Flow::Uniform | Flow::Shear | Flow::Calm => 0.0,
        }
    }

    fn fill_winds(&self, m: &mut MetFields, t: f64) {
        let g = &self.grid;
        let (nx, ny) = (g.nx as f64, g.ny as f64);
        match self.cfg.flow {
            Flow::Rotation | Flow::Deformation => {
                let (lx, ly) = self.extent();
                let (dxm, dym) = (lx / nx, ly / ny);
                for k in 0..g.nz {
                    for j in 0..g.ny {
                        for i in 0..=g.nx {
                            let x = i as f64 / nx;
                            let s = self.streamfunction(x, j as f64 / ny, t);
                            let n = self.streamfunction(x, (j + 1) as f64 / ny, t);
                            m.u_face[[k, j, i]] = -(n - s) / dym;
                        }
                    }
                    for j in 0..=g.ny {
                        for i in 0..g.nx {
                            let y = j as f64 / ny;
                            let w = self.streamfunction(i as f64 / nx, y, t);
                            let e = self.streamfunction((i + 1) as f64 / nx, y, t);
                            m.v_face[[k, j, i]] = (e - w) / dxm;
                        }
                    }
                }
            }
            Flow::Shear => {
                let top = *g.z_top.last().unwrap();
                for k in 0..g.nz {
                    let f = g.z_mid[k] / top;
                    m.u_face
                        .index_axis_mut(ndarray::Axis(0), k)
                        .fill(self.cfg.u_ms * f);
                    m.v_face
                        .index_axis_mut(ndarray::Axis(0), k)
                        .fill(self.cfg.v_ms * f);
                }
            }
            Flow::Calm => {}
            Flow::Uniform => {
                m.u_face.fill(self.cfg.u_ms);
                m.v_face.fill(self.cfg.v_ms);
            }
        }
    }
}

/// U.S. Standard Atmosphere 1976 troposphere: lapse 6.5 K/km from (T0, 101325 Pa).
pub fn standard_atmosphere(z: f64, t0: f64) -> (f64, f64) {
    let lapse = 0.0065;
    let t = t0 - lapse * z;
    let p = 101_325.0 * (t / t0).powf(GRAVITY / (R_DRY * lapse));
    (t, p)
}

impl MetSource for AnalyticMet {
    fn at(&mut self, t: f64) -> Result<MetFields> {
        let g = &self.grid;
        let mut m = MetFields::zeros(g);
        self.fill_winds(&mut m, t);
        let t0 = self.cfg.surface_temperature_k;
        for k in 0..g.nz {
            let z = if self.cfg.constant_density {
                0.0
            } else {
                g.z_mid[k]
            };
            let (tk, pk) = standard_atmosphere(z, t0);
            m.temperature.index_axis_mut(ndarray::Axis(0), k).fill(tk);
            m.pressure.index_axis_mut(ndarray::Axis(0), k).fill(pk);
        }
        m.update_density();
        m.precip.fill(self.cfg.precip_mm_h);
        m.rh.fill(self.cfg.relative_humidity);
        m.cloud_water.fill(self.cfg.cloud_water_gkg / 1000.0);
        match &self.surface {
            Some(s) => {
                m.z0 = s.z0.clone();
                m.land_use = s.land_use.clone();
            }
            None => m.z0.fill(Z0),
        }
        let (day, night) = (self.cfg.pblh_day_m, self.cfg.pblh_night_m);
        let hour_utc = self.start.hour_utc + t / 3600.0;
        for j in 0..g.ny {
            for i in 0..g.nx {
                // Diurnal cycle by local solar time: sensible heat flux follows
                // the sine of the solar elevation between 06 and 18 h, with a
                // weak night-time downward flux (Stull 1988, ch. 1 fig. 1.7 shape).
                let solar = (hour_utc + g.lon[[j, i]] / 15.0).rem_euclid(24.0);
                let sun = ((solar - 6.0) / 12.0 * PI).sin().max(0.0);
                let h = night + (day - night) * sun;
                let (cu, cv) = m.centre_wind(0, j, i);
                let u1 = cu.hypot(cv);
                // Neutral log law at the first level, floored at 0.05 m/s in calms.
                let ustar = (KARMAN * u1 / (g.z_mid[0] / m.z0[[j, i]]).ln()).max(0.05);
                let heat_flux = if sun > 0.0 { 150.0 * sun } else { -10.0 };
                let rho = m.density[[0, j, i]];
                let theta = m.temperature[[0, j, i]];
                let l = super::pbl::obukhov_length(ustar, heat_flux, rho, theta);
                m.pblh[[j, i]] = h;
                m.ustar[[j, i]] = ustar;
                m.obukhov[[j, i]] = l;
            }
        }
        match self.cfg.kz_m2s {
            Some(kz) => m.kz.fill(kz),
            None => m.diagnose_kz(g, self.kz_min),
        }
        Ok(m)
    }

    fn description(&self) -> String {
        format!(
            "SYNTHETIC analytic meteorology: flow={} u={} m/s v={} m/s, standard atmosphere, diurnal mixing height {}-{} m",
            self.cfg.flow.name(),
            self.cfg.u_ms,
            self.cfg.v_ms,
            self.cfg.pblh_night_m,
            self.cfg.pblh_day_m
        )
    }

    fn synthetic(&self) -> bool {
        true
    }
}
