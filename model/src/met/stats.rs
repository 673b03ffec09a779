//! Meteorological statistics at named sites, sampled once per output
//! interval from the met driving the run: wind rose, calm frequency
//! (speed < 0.5 m/s), scalar-mean and resultant wind, and mixing-height
//! percentiles. Winds are taken in the lowest layer and rotated from
//! grid-relative to earth-relative first.

use super::MetFields;
use crate::grid::{Grid, Projection};
use serde::Serialize;

/// Wind speeds below this are calm, m/s (the convention the plans' basin
/// cities report).
pub const CALM_MS: f64 = 0.5;
/// Upper edges of the speed classes of the rose above calm, m/s (the last
/// class is open).
pub const SPEED_CLASSES: [f64; 3] = [2.0, 4.0, 6.0];
/// Sectors of the rose, clockwise from north (N, NNE, ...).
pub const SECTORS: usize = 16;

/// Angle (radians) from true north to the grid's y axis at a longitude.
/// For Lambert, true north in grid coordinates is (-sin t, cos t) with
/// t = n (lon - lon0) (from Snyder 1987 eq. 15-1, 15-2); other grids are
/// aligned with north.
fn grid_rotation(grid: &Grid, lon: f64) -> f64 {
    match &grid.projection {
        Projection::Lambert {
            proj, stand_lon, ..
        } => (proj.cone_factor() * ((lon - stand_lon + 180.0).rem_euclid(360.0) - 180.0))
            .to_radians(),
        _ => 0.0,
    }
}

/// Earth-relative (east, north) components of a grid-relative wind at a
/// longitude.
pub fn earth_relative(grid: &Grid, lon: f64, u: f64, v: f64) -> (f64, f64) {
    let (sin_t, cos_t) = grid_rotation(grid, lon).sin_cos();
    (u * cos_t + v * sin_t, -u * sin_t + v * cos_t)
}

/// Inverse of [`earth_relative`]: grid-relative (u, v) of an earth-relative
/// (east, north) wind at a longitude.
pub fn grid_relative(grid: &Grid, lon: f64, east: f64, north: f64) -> (f64, f64) {
    let (sin_t, cos_t) = grid_rotation(grid, lon).sin_cos();
    (east * cos_t - north * sin_t, east * sin_t + north * cos_t)
}

/// Direction the wind blows from, degrees clockwise from north.
pub fn direction_from(east: f64, north: f64) -> f64 {
    (-east).atan2(-north).to_degrees().rem_euclid(360.0)
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteStats {
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    pub samples: usize,
    pub mean_speed_ms: f64,
    /// Direction of the vector-mean wind (blowing from), degrees.
    pub resultant_direction_deg: f64,
    pub resultant_speed_ms: f64,
    pub calm_fraction: f64,
    /// frequency[sector][class] for the non-calm samples' share of all samples;
    /// sectors clockwise from N, classes 0.5-2, 2-4, 4-6, >6 m/s.
    pub wind_rose: Vec<Vec<f64>>,
    pub mixing_height_p10_m: f64,
    pub mixing_height_p50_m: f64,
    pub mixing_height_p90_m: f64,
}

/// Accumulates samples at one site.
#[derive(Debug, Clone)]
pub struct SiteSampler {
    name: String,
    lon: f64,
    lat: f64,
    cell: (usize, usize),
    speeds: Vec<f64>,
    east: f64,
    north: f64,
    calm: usize,
    rose: Vec<Vec<usize>>,
    mixing: Vec<f64>,
}

impl SiteSampler {
    pub fn new(name: &str, lon: f64, lat: f64, cell: (usize, usize)) -> Self {
        SiteSampler {
            name: name.to_string(),
            lon,
            lat,
            cell,
            speeds: vec![],
            east: 0.0,
            north: 0.0,
            calm: 0,
            rose: vec![vec![0; SPEED_CLASSES.len() + 1]; SECTORS],
            mixing: vec![],
        }
    }

    pub fn sample(&mut self, grid: &Grid, met: &MetFields) {
        let (i, j) = self.cell;
        let (u, v) = met.centre_wind(0, j, i);
        let (e, n) = earth_relative(grid, grid.lon[[j, i]], u, v);
        let speed = e.hypot(n);
        self.speeds.push(speed);
        self.east += e;
        self.north += n;
        self.mixing.push(met.pblh[[j, i]]);
        if speed < CALM_MS {
            self.calm += 1;
        } else {
            let sector = ((direction_from(e, n) + 360.0 / SECTORS as f64 / 2.0)
                / (360.0 / SECTORS as f64)) as usize
                % SECTORS;
            let class = SPEED_CLASSES
                .iter()
                .position(|&edge| speed < edge)
                .unwrap_or(SPEED_CLASSES.len());
            self.rose[sector][class] += 1;
        }
    }

    pub fn finish(&self) -> SiteStats {
        let n = self.speeds.len().max(1) as f64;
        let mut mixing = self.mixing.clone();
        mixing.sort_by(|a, b| a.total_cmp(b));
        let pct = |p: f64| -> f64 {
            if mixing.is_empty() {
                return f64::NAN;
            }
            // Linear interpolation between order statistics.
            let x = p * (mixing.len() - 1) as f64;
            let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
            mixing[lo] + (x - lo as f64) * (mixing[hi] - mixing[lo])
        };
        let (e, nn) = (self.east / n, self.north / n);
        SiteStats {
            name: self.name.clone(),
            lon: self.lon,
            lat: self.lat,
            samples: self.speeds.len(),
            mean_speed_ms: self.speeds.iter().sum::<f64>() / n,
            resultant_direction_deg: direction_from(e, nn),
            resultant_speed_ms: e.hypot(nn),
            calm_fraction: self.calm as f64 / n,
            wind_rose: self
                .rose
                .iter()
                .map(|r| r.iter().map(|&c| c as f64 / n).collect())
                .collect(),
            mixing_height_p10_m: pct(0.1),
            mixing_height_p50_m: pct(0.5),
            mixing_height_p90_m: pct(0.9),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_follow_the_meteorological_convention() {
        assert!((direction_from(0.0, -1.0) - 0.0).abs() < 1e-12); // from the north
        assert!((direction_from(-1.0, 0.0) - 90.0).abs() < 1e-12); // from the east
        assert!((direction_from(0.0, 1.0) - 180.0).abs() < 1e-12); // from the south
    }

    #[test]
    fn lambert_grid_winds_rotate_to_true_north() {
        let cfg = crate::config::GridSpec {
            projection: crate::config::ProjectionSpec::Lambert {
                truelat1: 22.0,
                truelat2: 30.0,
                stand_lon: 111.0,
                centre_lon: 111.0,
                centre_lat: 26.0,
            },
            nx: 10,
            ny: 10,
            dx: 12000.0,
            dy: 12000.0,
            layer_tops_m: vec![100.0],
            lateral: crate::config::Lateral::Open,
        };
        let g = Grid::new(&cfg);
        // True north in grid coordinates at 114 E is (-sin t, cos t).
        let lon = 114.0;
        let t: f64 = match &g.projection {
            Projection::Lambert { proj, .. } => (proj.cone_factor() * 3.0).to_radians(),
            _ => unreachable!(),
        };
        let (e, n) = earth_relative(&g, lon, -t.sin(), t.cos());
        assert!(e.abs() < 1e-12 && (n - 1.0).abs() < 1e-12, "({e}, {n})");
        // And on the central meridian nothing turns.
        assert_eq!(earth_relative(&g, 111.0, 0.3, -0.7), (0.3, -0.7));
    }
}
