//! The plume model's local frame: an azimuthal equidistant projection
//! about the case origin (Snyder 1987, *Map Projections: A Working
//! Manual*, USGS PP 1395, chapter 25), on the model's sphere. Distances
//! and bearings from the origin are true; across the radius the scale is
//! c/sin c (c the angular distance), 1 + 1.0e-5 at 50 km.

use crate::grid::EARTH_RADIUS;

/// Azimuthal equidistant projection about (`lon0`, `lat0`): x east, y
/// north, metres (see the module notes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalFrame {
    pub lon0: f64,
    pub lat0: f64,
}

impl LocalFrame {
    pub fn new(lon0: f64, lat0: f64) -> LocalFrame {
        LocalFrame { lon0, lat0 }
    }

    /// (x, y) m of a lon/lat point (Snyder eqs. 5-3, 25-2, 22-4, 22-5).
    pub fn forward(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (p1, p) = (self.lat0.to_radians(), lat.to_radians());
        let dl = ((lon - self.lon0 + 180.0).rem_euclid(360.0) - 180.0).to_radians();
        let cos_c = (p1.sin() * p.sin() + p1.cos() * p.cos() * dl.cos()).clamp(-1.0, 1.0);
        let c = cos_c.acos();
        let k = if c < 1e-12 { 1.0 } else { c / c.sin() };
        (
            EARTH_RADIUS * k * p.cos() * dl.sin(),
            EARTH_RADIUS * k * (p1.cos() * p.sin() - p1.sin() * p.cos() * dl.cos()),
        )
    }

    /// (lon, lat) of a point (x, y) m (Snyder eqs. 20-18, 25-15, 20-14, 20-15).
    pub fn inverse(&self, x: f64, y: f64) -> (f64, f64) {
        let rho = x.hypot(y);
        if rho < 1e-9 {
            return (self.lon0, self.lat0);
        }
        let p1 = self.lat0.to_radians();
        let c = rho / EARTH_RADIUS;
        let lat = (c.cos() * p1.sin() + y * c.sin() * p1.cos() / rho).asin();
        let dl = (x * c.sin()).atan2(rho * p1.cos() * c.cos() - y * p1.sin() * c.sin());
        let lon = (self.lon0 + dl.to_degrees() + 180.0).rem_euclid(360.0) - 180.0;
        (lon, lat.to_degrees())
    }
}
