//! The steady Gaussian plume kernel: χ/Q of one source for one hour at a
//! set of receptors, with ground and lid reflections, AERMOD's horizontal
//! meander and its two-state terrain weighting.
//!
//! For a point source (AERMOD formulation, EPA-454/B-23-010; Cimorelli et
//! al. 2005, JAM 44:682-693, section 5):
//!
//! ```text
//! χ/Q = f_r · F_z(σz(r)) / (2π r ũ)                        random ("pancake") state
//!     + (1 − f_r) · exp(−y²/2σy²)/(√(2π) σy) · F_z(σz(x)) / ũ   coherent plume (x > 0)
//! f_r = σ_r² / ũ²,   σ_r² = 2σv² + ū² (1 − exp(−t/T_r)),   t = r/ũ,   T_r = 24 h
//! ū² = ũ² − 2σv²   (ũ = √(ū² + 2σv²) is AERMOD's effective dilution speed)
//! ```
//!
//! (meander: the formulation document's section on lateral plume meander,
//! F_yR = 1/(2π x_r), and AERMOD's MEANDR routine, which we read: the
//! random energy 2σv² grows by the mean-wind energy as it decorrelates on
//! T_r = 24 h, over the total ũ²). As ū → 0, f_r → 1 and the field is
//! radially symmetric; upwind receptors (x ≤ 0) get the random state only.
//! Meander is applied to point sources only, as in AERMOD (EPA 2016,
//! "Issues related to plume meander in the AERMOD system").
//!
//! Vertical: F_z is the Gaussian at the plume height `h` reflected at the
//! ground and, below a lid `zi` above the plume, at the lid (the image sum,
//! e.g. Seinfeld & Pandis 2006, eq. 18.48). It is evaluated three ways,
//! all equal to the same series:
//! - σz < zi/4: the images within 9σz of the receptor (each neglected term
//!   is below e^-40.5 ≈ 2.6e-18 of the peak 1/(√(2π)σz), and they fall off
//!   faster than geometrically);
//! - zi/4 ≤ σz < 2.4 zi: its Poisson-summed cosine form
//!   F_z = (1/zi)[1 + 2 Σ_k exp(−k²π²σz²/2zi²) cos(kπz/zi) cos(kπh/zi)],
//!   truncated where the factor drops below 1e-17;
//! - σz ≥ 2.4 zi: the well-mixed 1/zi, where the series differs from it by
//!   less than 2 exp(−π²·2.4²/2) ≈ 9e-13 relative, so no mass is lost.
//!
//! A part at or above its lid has none (stable hours: the plume above the
//! mechanical mixing height sees no lid); above the lid F_z = 0. A plume
//! that partly penetrates the lid is given as two parts (fraction, height,
//! lid each), as AERMOD's direct and penetrated sources.
//!
//! Terrain (AERMOD formulation, section on the general concentration
//! equation in terrain; Cimorelli et al. 2005, eq. 1-2): χ = f χ_h(z_r) +
//! (1 − f) χ_t(z_p), f = ½(1 + φ_p), φ_p = ∫_0^{Hc} F_z dz the plume's
//! fraction below the dividing streamline ([`super::terrain`]). The
//! horizontal state sees the receptor at its height above the stack base
//! z_r = (elevation − base) + flagpole; the terrain-following state at its
//! flagpole above local ground z_p. Receptors at or below the stack base
//! see both states at z_p (our choice: a valley receptor is not placed
//! below the plume's reflecting ground). Hc uses AERMOD's hill height
//! min(hill_height − base, elevation − base + h) and is 0 without a stable
//! profile (convective and neutral hours).
//!
//! Area and line sources (no meander) follow ISC3's and AERMOD's area
//! algorithm (ISC3 user's guide vol. II, EPA-454/B-95-003b, section 1.2.3):
//! the crosswind integral of the Gaussian over the source is analytic
//! (erf), the along-wind integral numerical. AERMOD uses Romberg; we use
//! 8-point Gauss-Legendre on panels split at the polygon's vertices and
//! geometrically in upwind distance (1, 2, 4, ... m: the integrand varies
//! on the scale of the distance), from 1 m upwind of the receptor (AERMOD's
//! 1 m minimum distance). A line is a rectangle of its width.
//!
//! Receptors closer than 1 m to a point source are evaluated at 1 m.
//! Concentrations are added in µg/m³ (g/s × 10⁶ × χ/Q).
//!
//! Parallel: [`add_hour`] and [`add_sources`] split the receptors into
//! chunks; each receptor is written by one thread and its sources are
//! added in their given order, so results are bit-identical for any
//! thread count.

use std::f64::consts::PI;
use std::sync::Arc;

use rayon::prelude::*;

use super::receptors::Receptor;
use super::sources::{Shape, Source};
use super::terrain::StratifiedProfile;
use crate::error::{Error, Result};

const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// Images farther than this many σz from the receptor are dropped.
const IMAGE_REACH: f64 = 9.0;
/// σz/zi at which the image sum gives way to the cosine series.
const COSINE_FROM: f64 = 0.25;
/// σz/zi from which F_z = 1/zi (series within 9e-13 of it).
const WELL_MIXED_FROM: f64 = 2.4;
/// ln(1e17): cosine terms whose factor is below 1e-17 are dropped.
const COSINE_CUTOFF: f64 = 39.14;
/// The coherent plume is skipped where y²/2σy² exceeds this (its factor is
/// then below e^-40.5 ≈ 2.6e-18 of the centreline value).
const CROSSWIND_CUTOFF: f64 = 40.5;
/// AERMOD's random-dispersion time scale T_r = 24 h, s.
pub const MEANDER_TIME_SCALE_S: f64 = 24.0 * 3600.0;
/// Minimum source-receptor distance, m (AERMOD's 1 m).
pub const MIN_DISTANCE_M: f64 = 1.0;
/// µg per g.
const UG_PER_G: f64 = 1e6;

/// AERMOD's effective (dilution) wind speed ũ = √(ū² + 2σv²) from the
/// vector-mean speed and σv (AERMOD formulation, section on the minimum
/// wind; Cimorelli et al. 2005, section 3).
pub fn effective_speed(u_mean: f64, sigma_v: f64) -> f64 {
    (u_mean * u_mean + 2.0 * sigma_v * sigma_v).sqrt()
}

/// Receptors as structure of arrays (what the inner loop reads).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceptorSet {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// Terrain elevation above sea level, m.
    pub elevation: Vec<f64>,
    /// AERMAP hill height scale above sea level, m.
    pub hill_height: Vec<f64>,
    /// Height above local ground, m.
    pub flagpole: Vec<f64>,
}

impl ReceptorSet {
    pub fn new(receptors: &[Receptor]) -> Self {
        ReceptorSet {
            x: receptors.iter().map(|r| r.x).collect(),
            y: receptors.iter().map(|r| r.y).collect(),
            elevation: receptors.iter().map(|r| r.elevation).collect(),
            hill_height: receptors.iter().map(|r| r.hill_height).collect(),
            flagpole: receptors.iter().map(|r| r.flagpole).collect(),
        }
    }
    pub fn len(&self) -> usize {
        self.x.len()
    }
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
}

/// Where a source emits.
#[derive(Debug, Clone, PartialEq)]
pub enum Footprint {
    /// At the point (`PlumeSpec::x`, `PlumeSpec::y`).
    Point,
    /// Uniformly over a convex polygon (corners in order, local frame, m).
    Polygon(Vec<(f64, f64)>),
}

impl Footprint {
    /// The footprint of a source of the case: a stack is a point; an area
    /// is its rectangle (AERMOD's AREA: `x_len` east-west, `y_len`
    /// north-south from the south-west corner, rotated `angle_deg`
    /// clockwise about that corner); a line the rectangle of its width
    /// about the centreline.
    pub fn of(source: &Source) -> Footprint {
        match source.shape {
            Shape::Point { .. } => Footprint::Point,
            Shape::Area {
                x_len,
                y_len,
                angle_deg,
                ..
            } => {
                let (s, c) = angle_deg.to_radians().sin_cos();
                let rot =
                    |dx: f64, dy: f64| (source.x + dx * c + dy * s, source.y - dx * s + dy * c);
                Footprint::Polygon(vec![
                    rot(0.0, 0.0),
                    rot(0.0, y_len),
                    rot(x_len, y_len),
                    rot(x_len, 0.0),
                ])
            }
            Shape::Line {
                x_end,
                y_end,
                width,
                ..
            } => {
                let (dx, dy) = (x_end - source.x, y_end - source.y);
                let len = dx.hypot(dy);
                let (nx, ny) = if len > 0.0 {
                    (-dy / len * 0.5 * width, dx / len * 0.5 * width)
                } else {
                    (0.0, 0.0)
                };
                Footprint::Polygon(vec![
                    (source.x + nx, source.y + ny),
                    (x_end + nx, y_end + ny),
                    (x_end - nx, y_end - ny),
                    (source.x - nx, source.y - ny),
                ])
            }
        }
    }
}

/// The part of a plume that penetrated the mixing lid (AERMOD's
/// penetrated source): its mass fraction, height above the stack base and
/// the lid above it (`f64::INFINITY` for none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Penetrated {
    pub fraction: f64,
    pub height: f64,
    pub lid: f64,
}

/// How receptors' terrain is used.
#[derive(Debug, Clone, PartialEq)]
pub enum Terrain {
    /// Every receptor at its flagpole above flat ground (AERMOD's FLAT).
    Flat,
    /// AERMOD's two states; `Some(profile)` in stable hours gives the
    /// dividing streamline, `None` means Hc = 0 (convective, neutral).
    Elevated(Option<Arc<StratifiedProfile>>),
}

/// Everything the kernel needs for one source-hour, as the hourly loop
/// knows it (heights in m above the stack base).
#[derive(Debug, Clone, PartialEq)]
pub struct PlumeSpec {
    /// Point source position (m); unused for polygons.
    pub x: f64,
    pub y: f64,
    pub footprint: Footprint,
    /// Stack base / release ground elevation above sea level, m.
    pub base_elevation: f64,
    /// Effective plume height (release height plus rise) of the direct
    /// plume, m above the stack base.
    pub height: f64,
    /// Mixing height (lid) above the stack base, m; `f64::INFINITY` for
    /// none. Ignored by a part at or above it.
    pub mixing_height: f64,
    /// The penetrated part, if any (the direct part keeps 1 − fraction).
    pub penetrated: Option<Penetrated>,
    /// Effective transport (dilution) speed ũ, m/s, already floored; for
    /// meander it must be AERMOD's ũ = √(ū² + 2σv²) ≥ √2 σv.
    pub u: f64,
    /// Direction the wind blows from, degrees.
    pub wind_dir_deg: f64,
    /// Lateral turbulence σv (floored), m/s, for the meander weight.
    pub sigma_v: f64,
    /// Blend in the random state (point sources only).
    pub meander: bool,
    pub terrain: Terrain,
}

#[derive(Debug, Clone, Copy)]
struct Part {
    weight: f64,
    h: f64,
    /// Lid, or INFINITY.
    zi: f64,
    inv_zi: f64,
    /// cos(π h / zi).
    cos_h: f64,
}

impl Part {
    fn new(weight: f64, h: f64, lid: f64) -> Part {
        // A plume capped at the lid (the direct part of a partly penetrating
        // plume sits at z_i) still reflects there, as AERMOD's direct source.
        let zi = if lid >= h { lid } else { f64::INFINITY };
        let (inv_zi, cos_h) = if zi.is_finite() {
            (1.0 / zi, (PI * h / zi).cos())
        } else {
            (0.0, 1.0)
        };
        Part {
            weight,
            h,
            zi,
            inv_zi,
            cos_h,
        }
    }

    /// F_z (1/m) at height z for spread s.
    #[inline]
    fn fz(&self, z: f64, s: f64) -> f64 {
        let h = self.h;
        let k = -0.5 / (s * s);
        if self.zi == f64::INFINITY {
            let a = z - h;
            let g = if z == 0.0 {
                2.0 * (k * h * h).exp()
            } else {
                let b = z + h;
                (k * a * a).exp() + (k * b * b).exp()
            };
            return g * INV_SQRT_2PI / s;
        }
        let zi = self.zi;
        if z > zi {
            return 0.0;
        }
        let ratio = s * self.inv_zi;
        if ratio >= WELL_MIXED_FROM {
            self.inv_zi
        } else if ratio >= COSINE_FROM {
            // 1 + 2 Σ_k q^{k²} cos(kθz) cos(kθh): q^{k²} by q^{k²} =
            // q^{(k−1)²} q^{2k−1}, the cosines by Chebyshev's recurrence.
            let a = 0.5 * (PI * ratio) * (PI * ratio);
            let q = (-a).exp();
            let q2 = q * q;
            let kmax = (COSINE_CUTOFF / a).sqrt() as usize + 1;
            let ch1 = self.cos_h;
            let (mut ch_prev, mut ch) = (1.0, ch1);
            let (mut r, mut e) = (q, q);
            let sum = if z == 0.0 {
                let mut sum = e * ch;
                for _ in 2..=kmax {
                    let nh = 2.0 * ch1 * ch - ch_prev;
                    ch_prev = ch;
                    ch = nh;
                    r *= q2;
                    e *= r;
                    sum += e * ch;
                }
                sum
            } else {
                let cz1 = (PI * z * self.inv_zi).cos();
                let (mut cz_prev, mut cz) = (1.0, cz1);
                let mut sum = e * cz * ch;
                for _ in 2..=kmax {
                    let nz = 2.0 * cz1 * cz - cz_prev;
                    cz_prev = cz;
                    cz = nz;
                    let nh = 2.0 * ch1 * ch - ch_prev;
                    ch_prev = ch;
                    ch = nh;
                    r *= q2;
                    e *= r;
                    sum += e * cz * ch;
                }
                sum
            };
            self.inv_zi * (1.0 + 2.0 * sum)
        } else {
            // Images at c = ±h + 2m zi with |z − c| < reach (at z = 0 the
            // two families mirror each other).
            let reach = IMAGE_REACH * s;
            let two_zi = 2.0 * zi;
            let inv_two_zi = 0.5 * self.inv_zi;
            let family = |base: f64| {
                let m0 = ceil_i(((z - base - reach) * inv_two_zi).max(-1e9));
                let m1 = floor_i(((z - base + reach) * inv_two_zi).min(1e9));
                let mut g = 0.0;
                for m in m0..=m1 {
                    let d = z - base - two_zi * m as f64;
                    g += (k * d * d).exp();
                }
                g
            };
            let g = if z == 0.0 {
                2.0 * family(h)
            } else {
                family(h) + family(-h)
            };
            g * INV_SQRT_2PI / s
        }
    }

    /// ∫_0^hc F_z dz: the fraction of this part below `hc`.
    fn below(&self, hc: f64, s: f64) -> f64 {
        if hc <= 0.0 {
            return 0.0;
        }
        let h = self.h;
        let c = FRAC_1_SQRT_2 / s;
        if self.zi == f64::INFINITY {
            return 0.5 * (libm::erf((hc - h) * c) + libm::erf((hc + h) * c));
        }
        let zi = self.zi;
        if hc >= zi {
            return 1.0;
        }
        let ratio = s * self.inv_zi;
        if ratio >= WELL_MIXED_FROM {
            hc * self.inv_zi
        } else if ratio >= COSINE_FROM {
            // hc/zi + (2/π) Σ_k q^{k²} cos(kθh) sin(kθc)/k.
            let a = 0.5 * (PI * ratio) * (PI * ratio);
            let q = (-a).exp();
            let q2 = q * q;
            let kmax = (COSINE_CUTOFF / a).sqrt() as usize + 1;
            let ch1 = self.cos_h;
            let (s1, c1) = (PI * hc * self.inv_zi).sin_cos();
            let (mut ch_prev, mut ch) = (1.0, ch1);
            let (mut sn_prev, mut sn) = (0.0, s1);
            let (mut r, mut e) = (q, q);
            let mut sum = e * ch * sn;
            for k in 2..=kmax {
                let nh = 2.0 * ch1 * ch - ch_prev;
                ch_prev = ch;
                ch = nh;
                let ns = 2.0 * c1 * sn - sn_prev;
                sn_prev = sn;
                sn = ns;
                r *= q2;
                e *= r;
                sum += e * ch * sn / k as f64;
            }
            hc * self.inv_zi + 2.0 / PI * sum
        } else {
            // Images whose Gaussian reaches [0, hc] within 9σ.
            let reach = IMAGE_REACH * s;
            let two_zi = 2.0 * zi;
            let inv_two_zi = 0.5 * self.inv_zi;
            let mut f = 0.0;
            for base in [h, -h] {
                let m0 = ceil_i(((-reach - base) * inv_two_zi).max(-1e9));
                let m1 = floor_i(((hc + reach - base) * inv_two_zi).min(1e9));
                for m in m0..=m1 {
                    let cc = base + two_zi * m as f64;
                    f += 0.5 * (libm::erf((hc - cc) * c) - libm::erf(-cc * c));
                }
            }
            f
        }
    }
}

/// ⌈v⌉ and ⌊v⌋ for |v| < 2⁶³ without a libm call.
#[inline]
fn ceil_i(v: f64) -> i64 {
    let t = v as i64;
    if (t as f64) < v {
        t + 1
    } else {
        t
    }
}
#[inline]
fn floor_i(v: f64) -> i64 {
    let t = v as i64;
    if (t as f64) > v {
        t - 1
    } else {
        t
    }
}

/// One source for one hour, with its per-hour constants worked out.
#[derive(Debug, Clone)]
pub struct PlumeHour {
    x: f64,
    y: f64,
    base: f64,
    /// Downwind unit vector (east, north).
    ex: f64,
    ey: f64,
    inv_u: f64,
    u: f64,
    parts: [Part; 2],
    n_parts: usize,
    /// Meander: (2σv², ū², 1/(ũ T_r)); None when off.
    meander: Option<(f64, f64, f64)>,
    terrain: Terrain,
    /// Polygon: area, and its slices in the wind frame: (X, Ylo, Yhi) at
    /// the sorted vertex X's (along-wind coordinate), linear between.
    area: Option<Area>,
}

#[derive(Debug, Clone)]
struct Area {
    inv_area: f64,
    slices: Vec<(f64, f64, f64)>,
}

fn numerics(detail: String) -> Error {
    Error::Numerics {
        process: "plume kernel".into(),
        detail,
    }
}

impl PlumeHour {
    pub fn new(spec: &PlumeSpec) -> Result<PlumeHour> {
        let finite = [
            spec.x,
            spec.y,
            spec.base_elevation,
            spec.height,
            spec.u,
            spec.wind_dir_deg,
            spec.sigma_v,
        ];
        if finite.iter().any(|v| !v.is_finite()) || spec.mixing_height.is_nan() {
            return Err(numerics(format!("non-finite source-hour input {spec:?}")));
        }
        if spec.u <= 0.0 || spec.sigma_v < 0.0 || spec.height < 0.0 || spec.mixing_height <= 0.0 {
            return Err(numerics(format!(
                "expected u > 0, sigma_v >= 0, height >= 0 and mixing height > 0; got u {} sigma_v {} height {} zi {}",
                spec.u, spec.sigma_v, spec.height, spec.mixing_height
            )));
        }
        // Downwind = opposite of the direction blown from (clockwise from north).
        let (s, c) = spec.wind_dir_deg.to_radians().sin_cos();
        let (ex, ey) = (-s, -c);
        let mut parts = [Part::new(1.0, spec.height, spec.mixing_height); 2];
        let mut n_parts = 1;
        if let Some(p) = spec.penetrated {
            if !(0.0..=1.0).contains(&p.fraction)
                || !p.height.is_finite()
                || p.height < 0.0
                || p.lid.is_nan()
            {
                return Err(numerics(format!("bad penetrated part {p:?}")));
            }
            parts[0].weight = 1.0 - p.fraction;
            parts[1] = Part::new(p.fraction, p.height, p.lid);
            n_parts = 2;
        }
        let area = match &spec.footprint {
            Footprint::Point => None,
            Footprint::Polygon(v) => Some(Area::new(v, ex, ey)?),
        };
        let meander = (spec.meander && area.is_none()).then(|| {
            let two_sv2 = 2.0 * spec.sigma_v * spec.sigma_v;
            let umean2 = (spec.u * spec.u - two_sv2).max(0.0);
            (two_sv2, umean2, 1.0 / (spec.u * MEANDER_TIME_SCALE_S))
        });
        Ok(PlumeHour {
            x: spec.x,
            y: spec.y,
            base: spec.base_elevation,
            ex,
            ey,
            inv_u: 1.0 / spec.u,
            u: spec.u,
            parts,
            n_parts,
            meander,
            terrain: spec.terrain.clone(),
            area,
        })
    }

    /// The meander weight f_r of the random state at distance r (0 when
    /// meander is off).
    pub fn random_fraction(&self, r: f64) -> f64 {
        match self.meander {
            None => 0.0,
            Some((two_sv2, umean2, k)) => {
                let r = r.max(MIN_DISTANCE_M);
                ((two_sv2 - umean2 * (-r * k).exp_m1()) * self.inv_u * self.inv_u).min(1.0)
            }
        }
    }

    /// The receptor's heights: (horizontal-state height above the stack
    /// base, terrain-following height) and the hill height above the base.
    #[inline]
    fn heights(&self, elevation: f64, hill: f64, flagpole: f64) -> (f64, f64, f64) {
        match self.terrain {
            Terrain::Flat => (flagpole, flagpole, 0.0),
            Terrain::Elevated(_) => {
                let rel = elevation - self.base;
                (rel.max(0.0) + flagpole, flagpole, hill - self.base)
            }
        }
    }

    /// Dividing streamline for each part at a receptor (0 without a
    /// stable profile or on flat ground).
    #[inline]
    fn hc(&self, z_h: f64, z_t: f64, hill_rel: f64) -> [f64; 2] {
        let mut hc = [0.0; 2];
        if let Terrain::Elevated(Some(p)) = &self.terrain {
            if z_h != z_t {
                let rel = z_h - z_t;
                for (k, part) in self.parts[..self.n_parts].iter().enumerate() {
                    hc[k] = p.dividing_streamline(hill_rel.min(rel + part.h));
                }
            }
        }
        hc
    }

    /// Σ parts weight × (f F_z(z_h) + (1 − f) F_z(z_t)) for spread sz.
    #[inline]
    fn vertical(&self, sz: f64, z_h: f64, z_t: f64, hc: &[f64; 2]) -> f64 {
        let mut v = 0.0;
        for (k, part) in self.parts[..self.n_parts].iter().enumerate() {
            let fz = if z_h == z_t {
                part.fz(z_t, sz)
            } else {
                let f = 0.5 * (1.0 + part.below(hc[k], sz));
                f * part.fz(z_h, sz) + (1.0 - f) * part.fz(z_t, sz)
            };
            v += part.weight * fz;
        }
        v
    }

    /// χ/Q (s/m³) at a point, split as AERMOD's meander states:
    /// (f_r, random-state χ/Q, coherent-state χ/Q); the total is
    /// f_r·random + (1 − f_r)·coherent. Area sources return (0, 0, χ/Q).
    pub fn components<S: Fn(f64) -> (f64, f64)>(
        &self,
        sig: &S,
        x: f64,
        y: f64,
        elevation: f64,
        hill_height: f64,
        flagpole: f64,
    ) -> (f64, f64, f64) {
        let (z_h, z_t, hill_rel) = self.heights(elevation, hill_height, flagpole);
        if let Some(area) = &self.area {
            return (0.0, 0.0, self.area_chi(area, sig, x, y, z_h, z_t, hill_rel));
        }
        let (dx, dy) = (x - self.x, y - self.y);
        let xd = dx * self.ex + dy * self.ey;
        let yc = -dx * self.ey + dy * self.ex;
        let r = (xd * xd + yc * yc).sqrt().max(MIN_DISTANCE_M);
        let hc = self.hc(z_h, z_t, hill_rel);
        let fr = self.random_fraction(r);
        let mut random = 0.0;
        let mut skip_coherent = false;
        if self.meander.is_some() {
            let (sy_r, sz_r) = sig(r);
            random = self.vertical(sz_r, z_h, z_t, &hc) * self.inv_u / (2.0 * PI * r);
            // σy(x) ≤ σy(r) for x ≤ r (σy grows with distance).
            skip_coherent = yc * yc > 2.0 * CROSSWIND_CUTOFF * sy_r * sy_r;
        }
        let mut coherent = 0.0;
        if xd > 0.0 && !skip_coherent {
            let (sy, sz) = sig(xd.max(MIN_DISTANCE_M));
            let a = yc * yc / (2.0 * sy * sy);
            if a <= CROSSWIND_CUTOFF {
                coherent =
                    (-a).exp() * INV_SQRT_2PI / sy * self.vertical(sz, z_h, z_t, &hc) * self.inv_u;
            }
        }
        (fr, random, coherent)
    }

    /// χ/Q (s/m³) at a point.
    pub fn chi_over_q<S: Fn(f64) -> (f64, f64)>(
        &self,
        sig: &S,
        x: f64,
        y: f64,
        elevation: f64,
        hill_height: f64,
        flagpole: f64,
    ) -> f64 {
        let (fr, random, coherent) = self.components(sig, x, y, elevation, hill_height, flagpole);
        if self.area.is_some() {
            coherent
        } else {
            fr * random + (1.0 - fr) * coherent
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn area_chi<S: Fn(f64) -> (f64, f64)>(
        &self,
        area: &Area,
        sig: &S,
        x: f64,
        y: f64,
        z_h: f64,
        z_t: f64,
        hill_rel: f64,
    ) -> f64 {
        // Receptor in the wind frame (absolute, like the slices).
        let xr = x * self.ex + y * self.ey;
        let yr = -x * self.ey + y * self.ex;
        let sl = &area.slices;
        let x_lo = sl[0].0;
        let x_hi = sl[sl.len() - 1].0.min(xr - MIN_DISTANCE_M);
        if x_hi <= x_lo {
            return 0.0;
        }
        let hc = self.hc(z_h, z_t, hill_rel);
        // Panel ends: vertices, and X = xr − 2^k.
        let mut ends: Vec<f64> = sl
            .iter()
            .map(|s| s.0)
            .filter(|&v| v > x_lo && v < x_hi)
            .collect();
        let mut d = MIN_DISTANCE_M;
        while xr - d > x_lo {
            if xr - d < x_hi {
                ends.push(xr - d);
            }
            d *= 2.0;
        }
        ends.push(x_lo);
        ends.push(x_hi);
        ends.sort_by(f64::total_cmp);
        ends.dedup();
        let mut total = 0.0;
        let mut j = 0; // slice segment index
        for w in ends.windows(2) {
            let (a, b) = (w[0], w[1]);
            let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
            for (t, wt) in GL8 {
                let xs = mid + half * t;
                while j + 2 < sl.len() && sl[j + 1].0 <= xs {
                    j += 1;
                }
                let (x0, lo0, hi0) = sl[j];
                let (x1, lo1, hi1) = sl[j + 1];
                let f = if x1 > x0 { (xs - x0) / (x1 - x0) } else { 0.0 };
                let ylo = lo0 + f * (lo1 - lo0);
                let yhi = hi0 + f * (hi1 - hi0);
                let (sy, sz) = sig(xr - xs);
                let width = yhi - ylo;
                let cross = if width < 1e-3 * sy {
                    let m = yr - 0.5 * (ylo + yhi);
                    width * INV_SQRT_2PI / sy * (-0.5 * m * m / (sy * sy)).exp()
                } else {
                    let c = FRAC_1_SQRT_2 / sy;
                    0.5 * (libm::erf((yr - ylo) * c) - libm::erf((yr - yhi) * c))
                };
                if cross > 0.0 {
                    total += wt * half * cross * self.vertical(sz, z_h, z_t, &hc);
                }
            }
        }
        total * area.inv_area * self.inv_u
    }

    /// The effective transport speed ũ, m/s.
    pub fn speed(&self) -> f64 {
        self.u
    }

    #[inline]
    fn add_chunk<S: Fn(f64) -> (f64, f64)>(
        &self,
        sig: &S,
        rec: &ReceptorSet,
        start: usize,
        q: f64,
        out: &mut [f64],
    ) {
        let scale = q * UG_PER_G;
        let end = start + out.len();
        let rx = &rec.x[start..end];
        let ry = &rec.y[start..end];
        let re = &rec.elevation[start..end];
        let rh = &rec.hill_height[start..end];
        let rf = &rec.flagpole[start..end];
        for (k, o) in out.iter_mut().enumerate() {
            *o += scale * self.chi_over_q(sig, rx[k], ry[k], re[k], rh[k], rf[k]);
        }
    }
}

impl Area {
    fn new(v: &[(f64, f64)], ex: f64, ey: f64) -> Result<Area> {
        if v.len() < 3 || v.iter().any(|p| !p.0.is_finite() || !p.1.is_finite()) {
            return Err(numerics(format!(
                "area source polygon needs 3+ finite corners, got {v:?}"
            )));
        }
        let area = 0.5
            * v.iter()
                .zip(v.iter().cycle().skip(1))
                .map(|(p, q)| p.0 * q.1 - q.0 * p.1)
                .sum::<f64>()
                .abs();
        if area <= 0.0 || area.is_nan() {
            return Err(numerics(format!("area source polygon has no area: {v:?}")));
        }
        // To the wind frame: X along wind, Y crosswind (left of the wind).
        let w: Vec<(f64, f64)> = v
            .iter()
            .map(|&(x, y)| (x * ex + y * ey, -x * ey + y * ex))
            .collect();
        let mut xs: Vec<f64> = w.iter().map(|p| p.0).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        // The slice of a convex polygon at X: the range of Y on its edges.
        let slice = |xq: f64| {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for (p, q) in w.iter().zip(w.iter().cycle().skip(1)) {
                let (a, b) = if p.0 <= q.0 { (p, q) } else { (q, p) };
                if xq < a.0 || xq > b.0 {
                    continue;
                }
                let yv = if b.0 > a.0 {
                    a.1 + (b.1 - a.1) * (xq - a.0) / (b.0 - a.0)
                } else {
                    lo = lo.min(a.1.min(b.1));
                    hi = hi.max(a.1.max(b.1));
                    continue;
                };
                lo = lo.min(yv);
                hi = hi.max(yv);
            }
            (xq, lo, hi)
        };
        let mut slices: Vec<(f64, f64, f64)> = xs.iter().map(|&xq| slice(xq)).collect();
        if slices.len() < 2 {
            return Err(numerics(format!(
                "area source polygon has no along-wind extent: {v:?}"
            )));
        }
        // At a vertex X the slice of an edge parallel to the crosswind
        // axis is the whole edge; the integrand is taken from the
        // neighbouring panels, so use the one-sided limits.
        let n = slices.len();
        let eps = 1e-9 * (xs[n - 1] - xs[0]);
        slices[0] = {
            let s = slice(xs[0] + eps);
            (xs[0], s.1, s.2)
        };
        slices[n - 1] = {
            let s = slice(xs[n - 1] - eps);
            (xs[n - 1], s.1, s.2)
        };
        Ok(Area {
            inv_area: 1.0 / area,
            slices,
        })
    }
}

/// 8-point Gauss-Legendre nodes and weights on [−1, 1]
/// (Abramowitz & Stegun 1964, table 25.4, digits as printed).
#[allow(clippy::excessive_precision)]
const GL8: [(f64, f64); 8] = [
    (-0.960_289_856_497_536_3, 0.101_228_536_290_376_3),
    (-0.796_666_477_413_626_7, 0.222_381_034_453_374_5),
    (-0.525_532_409_916_329_0, 0.313_706_645_877_887_3),
    (-0.183_434_642_495_649_8, 0.362_683_783_378_362_0),
    (0.183_434_642_495_649_8, 0.362_683_783_378_362_0),
    (0.525_532_409_916_329_0, 0.313_706_645_877_887_3),
    (0.796_666_477_413_626_7, 0.222_381_034_453_374_5),
    (0.960_289_856_497_536_3, 0.101_228_536_290_376_3),
];

/// Receptors per parallel task.
const CHUNK: usize = 256;

/// Add one source-hour (`q_g_s` g/s) into `out` (µg/m³, one per receptor)
/// in parallel; `sig(x)` gives (σy, σz) at downwind distance x > 0 and
/// must not decrease with x.
pub fn add_hour<S>(hour: &PlumeHour, sig: &S, receptors: &ReceptorSet, q_g_s: f64, out: &mut [f64])
where
    S: Fn(f64) -> (f64, f64) + Sync,
{
    assert_eq!(out.len(), receptors.len(), "one output per receptor");
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| hour.add_chunk(sig, receptors, c * CHUNK, q_g_s, chunk));
}

/// Add several source-hours (plume, sigma closure, g/s) into `out`: the
/// same sums as calling [`add_hour`] for each in order, with one pass over
/// the receptors (each chunk stays in cache across the sources).
pub fn add_sources<S>(sources: &[(PlumeHour, S, f64)], receptors: &ReceptorSet, out: &mut [f64])
where
    S: Fn(f64) -> (f64, f64) + Sync,
{
    assert_eq!(out.len(), receptors.len(), "one output per receptor");
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| {
            for (hour, sig, q) in sources {
                hour.add_chunk(sig, receptors, c * CHUNK, *q, chunk);
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(h: f64, zi: f64) -> Part {
        Part::new(1.0, h, zi)
    }

    /// Plain image sum with many images: the reference for every regime.
    fn brute(h: f64, zi: f64, z: f64, s: f64) -> f64 {
        let mut g = 0.0;
        for m in -30i64..=30 {
            for c in [h + 2.0 * zi * m as f64, -h + 2.0 * zi * m as f64] {
                g += (-(z - c) * (z - c) / (2.0 * s * s)).exp();
            }
        }
        g * INV_SQRT_2PI / s
    }

    #[test]
    fn vertical_regimes_agree_with_the_full_image_sum() {
        let zi = 800.0;
        for &h in &[0.0, 50.0, 400.0, 790.0, 800.0] {
            let p = part(h, zi);
            for &ratio in &[0.01, 0.1, 0.2499, 0.25, 0.5, 1.0, 2.0, 2.399, 2.4, 5.0] {
                let s = ratio * zi;
                for &z in &[0.0, 1.5, 200.0, 799.0] {
                    let want = brute(h, zi, z, s);
                    let got = p.fz(z, s);
                    let peak = INV_SQRT_2PI / s;
                    assert!(
                        (got - want).abs() <= 1e-11 * peak.max(want),
                        "h {h} s/zi {ratio} z {z}: {got} vs {want}"
                    );
                }
                // Fraction below hc against midpoint quadrature of brute.
                let hc = 300.0;
                let n = 3000;
                let dz = hc / n as f64;
                let want: f64 = (0..n)
                    .map(|k| brute(h, zi, (k as f64 + 0.5) * dz, s) * dz)
                    .sum();
                let got = p.below(hc, s);
                assert!(
                    (got - want).abs() < 1e-7,
                    "below: h {h} s/zi {ratio}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn part_above_its_lid_has_none() {
        let p = part(300.0, 200.0);
        assert_eq!(p.zi, f64::INFINITY);
    }

    #[test]
    fn part_at_its_lid_reflects_there_and_mixes_to_one_over_zi() {
        // The direct part of a partly penetrating plume sits at z_i: far
        // downwind its ground-level density is the well-mixed 1/z_i, not
        // the ground-reflected-only 2/(sqrt(2 pi) s), which keeps falling.
        let zi = 300.0;
        let p = part(zi, zi);
        assert_eq!(p.zi, zi);
        let s = 5.0 * zi;
        assert!(
            (p.fz(0.0, s) * zi - 1.0).abs() < 1e-12,
            "{}",
            p.fz(0.0, s) * zi
        );
    }
}
