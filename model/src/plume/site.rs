//! One site's hourly meteorology, as the plume and puff model use it: the
//! fields of an AERMET surface (.SFC) record and its profile (.PFL) levels
//! (AERMET user's guide, EPA-454/B-23-005, sections on the AERMOD-ready
//! output files), whether read from those files ([`super::aermet`]) or
//! sampled from one column of the Eulerian model's met.

/// A measured or modelled level of the profile (.PFL); `None` is missing.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileLevel {
    /// Height above ground, m.
    pub height: f64,
    /// Direction the wind blows from, degrees.
    pub wind_dir: Option<f64>,
    pub wind_speed: Option<f64>,
    /// K.
    pub temperature: Option<f64>,
    /// Standard deviation of the wind direction, degrees.
    pub sigma_theta: Option<f64>,
    /// Standard deviation of the vertical wind, m/s.
    pub sigma_w: Option<f64>,
}

/// One valid hour (hour-ending, local standard time as AERMET writes it).
#[derive(Debug, Clone, PartialEq)]
pub struct SiteHour {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    /// 1-24, hour ending.
    pub hour: u32,
    /// Sensible heat flux, W/m².
    pub heat_flux: f64,
    /// Friction velocity, m/s.
    pub ustar: f64,
    /// Convective velocity scale, m/s (0 in stable hours).
    pub wstar: f64,
    /// Potential temperature gradient above the mixed layer, K/m.
    pub vptg: f64,
    /// Convective and mechanical mixing heights, m (convective 0 when stable).
    pub zi_conv: f64,
    pub zi_mech: f64,
    /// Obukhov length, m (negative unstable).
    pub obukhov: f64,
    /// Surface roughness length, m.
    pub z0: f64,
    /// Reference wind: speed m/s, direction blown from (degrees), height m.
    pub wind_speed: f64,
    pub wind_dir: f64,
    pub wind_height: f64,
    /// Reference temperature K and its height m.
    pub temperature: f64,
    pub temp_height: f64,
    /// Precipitation rate, mm/h (0 when not reported).
    pub precip_mm_h: f64,
    pub profile: Vec<ProfileLevel>,
}

impl SiteHour {
    /// The mixing height the plume sees: the larger of the convective and
    /// mechanical heights in convective hours, the mechanical one otherwise
    /// (AERMOD formulation, section 3.3).
    pub fn mixing_height(&self) -> f64 {
        if self.obukhov < 0.0 {
            self.zi_conv.max(self.zi_mech)
        } else {
            self.zi_mech
        }
    }

    /// (height, value) of the profile levels that report `pick`.
    fn levels(&self, pick: impl Fn(&ProfileLevel) -> Option<f64>) -> Vec<(f64, f64)> {
        self.profile
            .iter()
            .filter_map(|l| pick(l).map(|v| (l.height, v)))
            .collect()
    }

    /// Wind speed at height `z` m above ground: the profile's, linear in
    /// height between its levels and constant above the top one; below the
    /// lowest level with a wind, the neutral log law u(z) = u(z1)
    /// ln(z/z0)/ln(z1/z0) (AERMOD uses the stability-corrected surface-layer
    /// profile there, which this simplifies). Without a profile the
    /// reference wind stands in for the first level.
    pub fn wind_speed_at(&self, z: f64) -> f64 {
        let levels = self.levels(|l| l.wind_speed);
        let levels = if levels.is_empty() {
            vec![(self.wind_height, self.wind_speed)]
        } else {
            levels
        };
        let z0 = self.z0.max(1e-4);
        let (z1, u1) = levels[0];
        if z <= z1 {
            let z = z.max(2.0 * z0);
            return u1 * ((z / z0).ln() / (z1 / z0).ln()).max(0.0);
        }
        interpolate(&levels, z)
    }

    /// Temperature at height `z` m, K: the profile's, else the reference one.
    pub fn temperature_at(&self, z: f64) -> f64 {
        let levels = self.levels(|l| l.temperature);
        if levels.is_empty() {
            self.temperature
        } else {
            interpolate(&levels, z)
        }
    }

    /// Potential temperature gradient dθ/dz = dT/dz + g/c_p at height `z`,
    /// K/m, from the two profile temperatures around it (the nearest pair at
    /// the ends); `None` with fewer than two temperatures.
    pub fn theta_gradient_at(&self, z: f64) -> Option<f64> {
        let t = self.levels(|l| l.temperature);
        if t.len() < 2 {
            return None;
        }
        let k = t
            .windows(2)
            .position(|w| z <= w[1].0)
            .unwrap_or(t.len() - 2);
        let ((za, ta), (zb, tb)) = (t[k], t[k + 1]);
        (zb > za).then(|| (tb - ta) / (zb - za) + crate::met::GRAVITY / crate::met::CP_DRY)
    }
}

/// Linear in height between levels (sorted by height), constant beyond.
fn interpolate(levels: &[(f64, f64)], z: f64) -> f64 {
    if z <= levels[0].0 {
        return levels[0].1;
    }
    for w in levels.windows(2) {
        let ((za, a), (zb, b)) = (w[0], w[1]);
        if z <= zb {
            return if zb > za {
                a + (b - a) * (z - za) / (zb - za)
            } else {
                b
            };
        }
    }
    levels[levels.len() - 1].1
}

/// An hour of the met series: valid, or marked missing by the file's
/// documented missing-value codes (counted and reported, never silently
/// skipped and never treated as calm).
#[derive(Debug, Clone, PartialEq)]
pub enum Hour {
    Valid(SiteHour),
    Missing {
        year: i32,
        month: u32,
        day: u32,
        hour: u32,
        /// Which field was missing, e.g. "wind speed (column 16) = 999.0".
        reason: String,
    },
}
