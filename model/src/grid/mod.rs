//! The model grid: a horizontal projection with finite-volume metrics, and
//! terrain-following layers given as heights above ground.
//!
//! Every process works from the metrics (cell areas, face lengths, centre
//! distances), never from the projection, so Lambert, lat-lon and Cartesian
//! grids share one code path. Arakawa C staggering: x-face (j, i) is the west
//! face of cell (j, i); there are nx+1 of them per row.
//!
//! A grid may be a window of a larger one (a subdomain of a decomposed run):
//! its metrics are slices of the whole grid's, `origin` places it, and its
//! `edges` say which sides face a neighbour's halo.

mod edges;

pub use edges::{Edge, Edges, Side};

use crate::config::{GridSpec, Lateral, ProjectionSpec};
use ndarray::{s, Array1, Array2};

/// Earth radius used by WRF and by our Lambert projection, m.
pub const EARTH_RADIUS: f64 = 6_370_000.0;

/// Lambert conformal conic on a sphere, Snyder (1987), "Map Projections: A
/// Working Manual", USGS PP 1395, eqs. 15-1 to 15-5 (forward), 14-10, 15-8
/// to 15-11 (inverse); scale factor k from eq. 15-4.
#[derive(Debug, Clone, Copy)]
pub struct Lambert {
    n: f64,
    f: f64,
    rho0: f64,
    lon0: f64,
}

impl Lambert {
    pub fn new(truelat1: f64, truelat2: f64, stand_lon: f64, ref_lat: f64) -> Self {
        let (p1, p2) = (truelat1.to_radians(), truelat2.to_radians());
        let t = |p: f64| (std::f64::consts::FRAC_PI_4 + p / 2.0).tan();
        let n = if (p1 - p2).abs() < 1e-10 {
            p1.sin()
        } else {
            (p1.cos() / p2.cos()).ln() / (t(p2) / t(p1)).ln()
        };
        let f = p1.cos() * t(p1).powf(n) / n;
        let rho0 = EARTH_RADIUS * f / t(ref_lat.to_radians()).powf(n);
        Lambert {
            n,
            f,
            rho0,
            lon0: stand_lon,
        }
    }

    fn rho(&self, lat: f64) -> f64 {
        EARTH_RADIUS * self.f
            / (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
                .tan()
                .powf(self.n)
    }

    pub fn forward(&self, lon: f64, lat: f64) -> (f64, f64) {
        let rho = self.rho(lat);
        let theta = self.n * wrap_degrees(lon - self.lon0).to_radians();
        (rho * theta.sin(), self.rho0 - rho * theta.cos())
    }

    pub fn inverse(&self, x: f64, y: f64) -> (f64, f64) {
        let s = self.n.signum();
        let rho = s * (x * x + (self.rho0 - y).powi(2)).sqrt();
        let theta = (s * x).atan2(s * (self.rho0 - y));
        let lat = 2.0 * (EARTH_RADIUS * self.f / rho).powf(1.0 / self.n).atan()
            - std::f64::consts::FRAC_PI_2;
        (self.lon0 + (theta / self.n).to_degrees(), lat.to_degrees())
    }

    /// Map scale factor k = n rho / (R cos phi) (Snyder eq. 15-4).
    pub fn scale(&self, lat: f64) -> f64 {
        self.n * self.rho(lat) / (EARTH_RADIUS * lat.to_radians().cos())
    }

    pub fn cone_factor(&self) -> f64 {
        self.n
    }
}

fn wrap_degrees(d: f64) -> f64 {
    (d + 180.0).rem_euclid(360.0) - 180.0
}

#[derive(Debug, Clone)]
pub enum Projection {
    Lambert {
        proj: Lambert,
        x0: f64,
        y0: f64,
        truelat1: f64,
        truelat2: f64,
        stand_lon: f64,
        centre_lat: f64,
    },
    LatLon {
        lon0: f64,
        lat0: f64,
    },
    Cartesian,
}

#[derive(Debug, Clone)]
pub struct Grid {
    pub nx: usize,
    pub ny: usize,
    pub nz: usize,
    /// Nominal spacing in projection units (m, or degrees for lat-lon).
    pub dx: f64,
    pub dy: f64,
    pub projection: Projection,
    /// What lies beyond each side: open inflow, the opposite side, or a
    /// neighbour's halo.
    pub edges: Edges,
    /// Index of this grid's first cell in the whole domain (0, 0 unless a window).
    pub origin: (usize, usize),
    /// Layer tops and thicknesses (m above ground), same in every column.
    pub z_top: Vec<f64>,
    pub dz: Vec<f64>,
    pub z_mid: Vec<f64>,
    /// True cell area, m2, [j, i].
    pub area: Array2<f64>,
    /// True length of x-faces (west faces) [j, i in 0..=nx], m.
    pub x_face_len: Array2<f64>,
    /// True length of y-faces (south faces) [j in 0..=ny, i], m.
    pub y_face_len: Array2<f64>,
    /// Distance between centres across x-faces [j, i in 0..=nx], m.
    pub x_face_dist: Array2<f64>,
    /// Distance between centres across y-faces [j in 0..=ny, i], m.
    pub y_face_dist: Array2<f64>,
    pub lon: Array2<f64>,
    pub lat: Array2<f64>,
    /// Projection x and y of cell centres (m or degrees), for CF output.
    pub x_coord: Array1<f64>,
    pub y_coord: Array1<f64>,
}

impl Grid {
    pub fn new(g: &GridSpec) -> Grid {
        let (nx, ny) = (g.nx, g.ny);
        let z_top = g.layer_tops_m.clone();
        let nz = z_top.len();
        let mut dz = Vec::with_capacity(nz);
        let mut z_mid = Vec::with_capacity(nz);
        let mut below = 0.0;
        for &t in &z_top {
            dz.push(t - below);
            z_mid.push(0.5 * (t + below));
            below = t;
        }
        let projection = match g.projection {
            ProjectionSpec::Lambert {
                truelat1,
                truelat2,
                stand_lon,
                centre_lon,
                centre_lat,
            } => {
                let proj = Lambert::new(truelat1, truelat2, stand_lon, centre_lat);
                let (xc, yc) = proj.forward(centre_lon, centre_lat);
                Projection::Lambert {
                    proj,
                    x0: xc - 0.5 * (nx as f64 - 1.0) * g.dx,
                    y0: yc - 0.5 * (ny as f64 - 1.0) * g.dy,
                    truelat1,
                    truelat2,
                    stand_lon,
                    centre_lat,
                }
            }
            ProjectionSpec::LatLon { sw_lon, sw_lat } => Projection::LatLon {
                lon0: sw_lon,
                lat0: sw_lat,
            },
            ProjectionSpec::Cartesian => Projection::Cartesian,
        };
        let mut grid = Grid {
            nx,
            ny,
            nz,
            dx: g.dx,
            dy: g.dy,
            projection,
            edges: match g.lateral {
                Lateral::Open => Edges::all(Edge::Open),
                Lateral::Periodic => Edges::all(Edge::Periodic),
            },
            origin: (0, 0),
            z_top,
            dz,
            z_mid,
            area: Array2::zeros((ny, nx)),
            x_face_len: Array2::zeros((ny, nx + 1)),
            y_face_len: Array2::zeros((ny + 1, nx)),
            x_face_dist: Array2::zeros((ny, nx + 1)),
            y_face_dist: Array2::zeros((ny + 1, nx)),
            lon: Array2::zeros((ny, nx)),
            lat: Array2::zeros((ny, nx)),
            x_coord: Array1::zeros(nx),
            y_coord: Array1::zeros(ny),
        };
        grid.fill_metrics();
        grid
    }

    /// Projection coordinates of a (possibly fractional) cell index.
    fn proj_xy(&self, fi: f64, fj: f64) -> (f64, f64) {
        let (fi, fj) = (fi + self.origin.0 as f64, fj + self.origin.1 as f64);
        match &self.projection {
            Projection::Lambert { x0, y0, .. } => (x0 + fi * self.dx, y0 + fj * self.dy),
            Projection::LatLon { lon0, lat0 } => (lon0 + fi * self.dx, lat0 + fj * self.dy),
            Projection::Cartesian => ((fi + 0.5) * self.dx, (fj + 0.5) * self.dy),
        }
    }

    /// Longitude and latitude at a fractional cell index (Cartesian grids
    /// are placed at 0E, 0N with a local tangent plane, for output only).
    pub fn lonlat_at(&self, fi: f64, fj: f64) -> (f64, f64) {
        let (x, y) = self.proj_xy(fi, fj);
        match &self.projection {
            Projection::Lambert { proj, .. } => proj.inverse(x, y),
            Projection::LatLon { .. } => (x, y),
            Projection::Cartesian => (
                (x / EARTH_RADIUS).to_degrees(),
                (y / EARTH_RADIUS).to_degrees(),
            ),
        }
    }

    /// Fractional cell index (0 = centre of the first cell) of a lon/lat point.
    pub fn index_of(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (fi, fj) = self.global_index_of(lon, lat);
        (fi - self.origin.0 as f64, fj - self.origin.1 as f64)
    }

    /// `index_of` in the whole domain's indices.
    fn global_index_of(&self, lon: f64, lat: f64) -> (f64, f64) {
        match &self.projection {
            Projection::Lambert { proj, x0, y0, .. } => {
                let (x, y) = proj.forward(lon, lat);
                ((x - x0) / self.dx, (y - y0) / self.dy)
            }
            Projection::LatLon { lon0, lat0 } => ((lon - lon0) / self.dx, (lat - lat0) / self.dy),
            Projection::Cartesian => {
                let x = lon.to_radians() * EARTH_RADIUS;
                let y = lat.to_radians() * EARTH_RADIUS;
                (x / self.dx - 0.5, y / self.dy - 0.5)
            }
        }
    }

    /// The cell containing a lon/lat point, if inside the domain.
    pub fn cell_of(&self, lon: f64, lat: f64) -> Option<(usize, usize)> {
        let (fi, fj) = self.index_of(lon, lat);
        let (i, j) = ((fi + 0.5).floor(), (fj + 0.5).floor());
        (i >= 0.0 && j >= 0.0 && (i as usize) < self.nx && (j as usize) < self.ny)
            .then(|| (i as usize, j as usize))
    }

    fn fill_metrics(&mut self) {
        let (nx, ny) = (self.nx, self.ny);
        for j in 0..ny {
            self.y_coord[j] = self.proj_xy(0.0, j as f64).1;
        }
        for i in 0..nx {
            self.x_coord[i] = self.proj_xy(i as f64, 0.0).0;
        }
        for j in 0..ny {
            for i in 0..nx {
                let (lo, la) = self.lonlat_at(i as f64, j as f64);
                self.lon[[j, i]] = lo;
                self.lat[[j, i]] = la;
            }
        }
        match self.projection.clone() {
            Projection::Lambert { proj, .. } => {
                // Conformal: lengths scale by 1/k, areas by 1/k^2.
                let k_at = |g: &Grid, fi: f64, fj: f64| proj.scale(g.lonlat_at(fi, fj).1);
                for j in 0..ny {
                    for i in 0..nx {
                        let k = k_at(self, i as f64, j as f64);
                        self.area[[j, i]] = self.dx * self.dy / (k * k);
                    }
                    for i in 0..=nx {
                        let k = k_at(self, i as f64 - 0.5, j as f64);
                        self.x_face_len[[j, i]] = self.dy / k;
                        self.x_face_dist[[j, i]] = self.dx / k;
                    }
                }
                for j in 0..=ny {
                    for i in 0..nx {
                        let k = k_at(self, i as f64, j as f64 - 0.5);
                        self.y_face_len[[j, i]] = self.dx / k;
                        self.y_face_dist[[j, i]] = self.dy / k;
                    }
                }
            }
            Projection::LatLon { lat0, .. } => {
                let r = EARTH_RADIUS;
                let (dl, dp) = (self.dx.to_radians(), self.dy.to_radians());
                let lat_at = |fj: f64| (lat0 + fj * self.dy).to_radians();
                for j in 0..ny {
                    let (s, n) = (lat_at(j as f64 - 0.5), lat_at(j as f64 + 0.5));
                    for i in 0..nx {
                        self.area[[j, i]] = r * r * dl * (n.sin() - s.sin());
                    }
                    for i in 0..=nx {
                        self.x_face_len[[j, i]] = r * dp;
                        self.x_face_dist[[j, i]] = r * lat_at(j as f64).cos() * dl;
                    }
                }
                for j in 0..=ny {
                    for i in 0..nx {
                        self.y_face_len[[j, i]] = r * lat_at(j as f64 - 0.5).cos() * dl;
                        self.y_face_dist[[j, i]] = r * dp;
                    }
                }
            }
            Projection::Cartesian => {
                self.area.fill(self.dx * self.dy);
                self.x_face_len.fill(self.dy);
                self.x_face_dist.fill(self.dx);
                self.y_face_len.fill(self.dx);
                self.y_face_dist.fill(self.dy);
            }
        }
    }

    pub fn volume(&self, k: usize, j: usize, i: usize) -> f64 {
        self.area[[j, i]] * self.dz[k]
    }

    /// The window `i0..i1` x `j0..j1` of this grid as a grid of its own, for
    /// a subdomain: metrics are sliced (bit-identical to the whole grid's),
    /// and `edges` says what lies beyond each of its sides.
    pub fn window(&self, (i0, i1): (usize, usize), (j0, j1): (usize, usize), edges: Edges) -> Grid {
        assert!(i0 < i1 && i1 <= self.nx && j0 < j1 && j1 <= self.ny);
        Grid {
            nx: i1 - i0,
            ny: j1 - j0,
            edges,
            origin: (self.origin.0 + i0, self.origin.1 + j0),
            area: self.area.slice(s![j0..j1, i0..i1]).to_owned(),
            x_face_len: self.x_face_len.slice(s![j0..j1, i0..=i1]).to_owned(),
            y_face_len: self.y_face_len.slice(s![j0..=j1, i0..i1]).to_owned(),
            x_face_dist: self.x_face_dist.slice(s![j0..j1, i0..=i1]).to_owned(),
            y_face_dist: self.y_face_dist.slice(s![j0..=j1, i0..i1]).to_owned(),
            lon: self.lon.slice(s![j0..j1, i0..i1]).to_owned(),
            lat: self.lat.slice(s![j0..j1, i0..i1]).to_owned(),
            x_coord: self.x_coord.slice(s![i0..i1]).to_owned(),
            y_coord: self.y_coord.slice(s![j0..j1]).to_owned(),
            ..self.clone()
        }
    }

    /// Layer index containing height z (m above ground), clamped to the grid.
    pub fn layer_of(&self, z: f64) -> usize {
        self.z_top
            .iter()
            .position(|&t| z < t)
            .unwrap_or(self.nz - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambert_round_trips_and_is_true_scale_on_the_standard_parallels() {
        let p = Lambert::new(22.0, 30.0, 111.0, 26.0);
        for (lon, lat) in [(108.0, 21.5), (111.0, 26.0), (114.5, 30.5), (109.4, 24.3)] {
            let (x, y) = p.forward(lon, lat);
            let (lo, la) = p.inverse(x, y);
            assert!(
                (lo - lon).abs() < 1e-9 && (la - lat).abs() < 1e-9,
                "({lon}, {lat}) -> ({lo}, {la})"
            );
        }
        // Snyder eq. 15-4: k = 1 on both standard parallels, < 1 between them.
        assert!((p.scale(22.0) - 1.0).abs() < 1e-12);
        assert!((p.scale(30.0) - 1.0).abs() < 1e-12);
        assert!(p.scale(26.0) < 1.0 && p.scale(26.0) > 0.99);
    }

    #[test]
    fn latlon_cell_areas_sum_to_the_spherical_band() {
        let cfg = GridSpec {
            projection: ProjectionSpec::LatLon {
                sw_lon: 5.0,
                sw_lat: 20.5,
            },
            nx: 36,
            ny: 10,
            dx: 10.0,
            dy: 1.0,
            layer_tops_m: vec![100.0],
            lateral: Lateral::Open,
        };
        let g = Grid::new(&cfg);
        // Cells span 20..30 N all round the globe: area 2 pi R^2 (sin 30 - sin 20).
        let band = 2.0
            * std::f64::consts::PI
            * EARTH_RADIUS.powi(2)
            * (30f64.to_radians().sin() - 20f64.to_radians().sin());
        assert!((g.area.sum() / band - 1.0).abs() < 1e-12);
    }
}
