//! Moving meteorology from a source grid (WRF's, a lat-lon reanalysis) to
//! the model grid: interpolation of columns in height and of fields in the
//! horizontal, rotation of winds into the model grid, and completion of the
//! boundary layer from surface data where the source lacks it.

use super::{pbl, potential_temperature, MetFields, GRAVITY};
use crate::grid::Grid;
use ndarray::{Array2, Array3, ArrayView2, Axis};

/// Samples source fields (already on the model's layers) at model points.
/// `source_index` maps a longitude and latitude to the source's fractional
/// (x, y) index.
pub struct Sampler<'a, F: Fn(f64, f64) -> (f64, f64)> {
    pub grid: &'a Grid,
    pub source_index: F,
}

impl<F: Fn(f64, f64) -> (f64, f64)> Sampler<'_, F> {
    fn at(&self, fi: f64, fj: f64) -> (f64, f64) {
        let (lon, lat) = self.grid.lonlat_at(fi, fj);
        (self.source_index)(lon, lat)
    }

    /// A [layer, y, x] source field at the model's cell centres.
    pub fn centres3(&self, a: &Array3<f64>) -> Array3<f64> {
        let g = self.grid;
        let mut out = Array3::zeros((g.nz, g.ny, g.nx));
        for j in 0..g.ny {
            for i in 0..g.nx {
                let (x, y) = self.at(i as f64, j as f64);
                for k in 0..g.nz {
                    out[[k, j, i]] = bilinear(&a.index_axis(Axis(0), k), x, y);
                }
            }
        }
        out
    }

    /// A [y, x] source field at the model's cell centres.
    pub fn centres2(&self, a: &Array2<f64>) -> Array2<f64> {
        Array2::from_shape_fn((self.grid.ny, self.grid.nx), |(j, i)| {
            let (x, y) = self.at(i as f64, j as f64);
            bilinear(&a.view(), x, y)
        })
    }

    /// A categorical [y, x] source field (classes, e.g. land use) at the
    /// model's cell centres: the nearest source cell, never a blend.
    pub fn nearest2<T: Copy>(&self, a: &Array2<T>) -> Array2<T> {
        let (ny, nx) = a.dim();
        Array2::from_shape_fn((self.grid.ny, self.grid.nx), |(j, i)| {
            let (x, y) = self.at(i as f64, j as f64);
            let xi = x.round().clamp(0.0, (nx - 1) as f64) as usize;
            let yj = y.round().clamp(0.0, (ny - 1) as f64) as usize;
            a[[yj, xi]]
        })
    }

    /// Earth-relative (east, north) source winds [layer, y, x] to the model's
    /// face-normal winds: interpolated to each face, rotated into the grid there.
    pub fn face_winds(&self, east: &Array3<f64>, north: &Array3<f64>, m: &mut MetFields) {
        let g = self.grid;
        let sample = |k: usize, fi: f64, fj: f64| {
            let (lon, lat) = g.lonlat_at(fi, fj);
            let (x, y) = (self.source_index)(lon, lat);
            let e = bilinear(&east.index_axis(Axis(0), k), x, y);
            let n = bilinear(&north.index_axis(Axis(0), k), x, y);
            super::stats::grid_relative(g, lon, e, n)
        };
        for k in 0..g.nz {
            for j in 0..g.ny {
                for i in 0..=g.nx {
                    m.u_face[[k, j, i]] = sample(k, i as f64 - 0.5, j as f64).0;
                }
            }
            for j in 0..=g.ny {
                for i in 0..g.nx {
                    m.v_face[[k, j, i]] = sample(k, i as f64, j as f64 - 0.5).1;
                }
            }
        }
    }
}

/// Linear interpolation in height through a column (heights increasing),
/// holding the end values beyond the column.
pub fn interpolate_in_height(zs: &[f64], vs: &[f64], z: f64) -> f64 {
    if z <= zs[0] {
        return vs[0];
    }
    let n = zs.len();
    if z >= zs[n - 1] {
        return vs[n - 1];
    }
    let hi = zs.partition_point(|&h| h < z);
    let lo = hi - 1;
    let w = (z - zs[lo]) / (zs[hi] - zs[lo]);
    vs[lo] + w * (vs[hi] - vs[lo])
}

/// Bilinear interpolation at a fractional index, clamped to the array.
pub fn bilinear(a: &ArrayView2<f64>, fi: f64, fj: f64) -> f64 {
    let (ny, nx) = a.dim();
    let fi = fi.clamp(0.0, nx as f64 - 1.0);
    let fj = fj.clamp(0.0, ny as f64 - 1.0);
    let (i0, j0) = (
        (fi.floor() as usize).min(nx.saturating_sub(2)),
        (fj.floor() as usize).min(ny.saturating_sub(2)),
    );
    let (i1, j1) = ((i0 + 1).min(nx - 1), (j0 + 1).min(ny - 1));
    let (wx, wy) = (fi - i0 as f64, fj - j0 as f64);
    (1.0 - wy) * ((1.0 - wx) * a[[j0, i0]] + wx * a[[j0, i1]])
        + wy * ((1.0 - wx) * a[[j1, i0]] + wx * a[[j1, i1]])
}

/// Boundary-layer fields of a met record on the model grid: density, u*
/// from Monin-Obukhov similarity where the source gave none, L from u* and
/// the heat flux, the bulk-Richardson mixing height where the source gave
/// none, and Kz (Holtslag & Boville).
pub fn finish_boundary_layer(
    mut m: MetFields,
    g: &Grid,
    hfx: &Array2<f64>,
    has_pblh: bool,
    has_ust: bool,
    kz_min: f64,
) -> MetFields {
    m.update_density();
    for j in 0..g.ny {
        for i in 0..g.nx {
            let (rho, t) = (m.density[[0, j, i]], m.temperature[[0, j, i]]);
            let (u1, v1) = m.centre_wind(0, j, i);
            if !has_ust {
                let (us, _) =
                    pbl::surface_layer(u1.hypot(v1), g.z_mid[0], m.z0[[j, i]], hfx[[j, i]], rho, t);
                m.ustar[[j, i]] = us;
            }
            m.ustar[[j, i]] = m.ustar[[j, i]].max(0.01);
            m.obukhov[[j, i]] = pbl::obukhov_length(m.ustar[[j, i]], hfx[[j, i]], rho, t);
            if !has_pblh {
                m.pblh[[j, i]] = bulk_richardson_height(&m, g, j, i);
            }
        }
    }
    m.diagnose_kz(g, kz_min);
    m
}

/// Critical bulk Richardson number and the shear term's weight on u*^2
/// (Vogelezang & Holtslag 1996, Boundary-Layer Meteorol. 81, 245, eq. 3:
/// Ri_b = (g/theta_s)(theta(z) - theta_s)(z - z_s) / ((du)^2 + (dv)^2 + b u*^2),
/// Ri_c = 0.25, b = 100).
const RI_CRITICAL: f64 = 0.25;
const USTAR_WEIGHT: f64 = 100.0;

/// Mixing height from the model column's own profile: the height where the
/// bulk Richardson number from the lowest layer first reaches Ri_c,
/// interpolated between layers; floored at [`pbl::MIN_MIXING_HEIGHT`].
pub fn bulk_richardson_height(m: &MetFields, g: &Grid, j: usize, i: usize) -> f64 {
    let theta = |k: usize| potential_temperature(m.temperature[[k, j, i]], m.pressure[[k, j, i]]);
    let (us, vs) = m.centre_wind(0, j, i);
    let (ths, zs) = (theta(0), g.z_mid[0]);
    let mut prev = (zs, 0.0);
    for k in 1..g.nz {
        let (u, v) = m.centre_wind(k, j, i);
        let shear = (u - us).powi(2) + (v - vs).powi(2) + USTAR_WEIGHT * m.ustar[[j, i]].powi(2);
        let ri = GRAVITY / ths * (theta(k) - ths) * (g.z_mid[k] - zs) / shear.max(1e-6);
        if ri >= RI_CRITICAL {
            let w = (RI_CRITICAL - prev.1) / (ri - prev.1);
            return (prev.0 + w * (g.z_mid[k] - prev.0)).max(pbl::MIN_MIXING_HEIGHT);
        }
        prev = (g.z_mid[k], ri);
    }
    g.z_top[g.nz - 1]
}
