//! Plume-in-grid: stacks flagged in the case (`[emissions] plume_in_grid`)
//! are not injected into their cell but released every step as a Gaussian
//! puff ([`crate::plume::puff`]) that the grid's wind carries and the
//! boundary layer's turbulence grows, until it reaches grid scale and is
//! handed to the grid by [`hand_off`], the only place where puff mass
//! enters the grid (the CMAQ PinG / CAMx PiG idea: Gillani & Godowitch
//! 1999, EPA/600/R-99/030 ch. 9; Karamchandani et al. 2011, Atmosphere 2,
//! 389).
//!
//! - **Release.** One puff per stack per step, at the start of the step,
//!   carrying the step's emission of every species the stack emits (on the
//!   stack's attribution tag, scaled by the sector's temporal factor as in
//!   [`super::emission`]). Its centre is the stack top plus the Briggs rise
//!   of [`super::plume_rise::stack_rise`] in the mid-step met, the same
//!   rise the Eulerian injection uses; its initial sigmas are Pasquill's
//!   buoyancy-induced spread `dh / 3.5` (CALPUFF user's guide, Scire et
//!   al. 2000, sec. 2.2.2; it matches the standard deviation `dh / sqrt(12)`
//!   of the layer-fraction rule's even spread over `dh`), and at least the
//!   stack radius.
//! - **Transport and growth.** The wind at the puff centre is interpolated
//!   linearly between the face winds of the cell containing it, in the
//!   layer containing its height (sub-steps keep each move under half a
//!   cell). Turbulence and Lagrangian time scales come from the column's
//!   u*, L and mixing height by Hanna's (1982) boundary-layer formulas in
//!   the form of the FLEXPART technical description (Stohl et al. 2005,
//!   ACP 5, 2461, sec. 7.2), floored by [`crate::plume::Floors`] (and
//!   FLEXPART's 10 s / 30 s time-scale minima).
//! - **Hand-off** once `sigma_y >= f * cell width` (default f = 0.376:
//!   CAMx's PIGDRIVE dumps a puff when the ellipse of semi-axes 1.5
//!   sigma_y covers the cell's area, `pi (1.5 sigma_y)^2 >= dx dy`), or at
//!   the maximum age (default 12 h), or when its centre leaves the domain
//!   (handed off at the edge cell, so the grid's advection books it as
//!   lateral outflow: the lateral budget stays advection's alone).
//! - **Budget.** The release books `emitted_kg`; the mass the puffs hold is
//!   the budget's `in_puffs_kg` (set after every step), so grid + puffs =
//!   expected to round-off.
//!
//! Simplifications, said plainly: the puffs do no chemistry (CMAQ's PinG
//! does; here fresh NOx neither titrates ozone at release nor at hand-off)
//! and no deposition during their near-source life; the puff's frame uses
//! the stack cell's true cell lengths (the map factor is taken constant
//! over a puff's few-cell life). Plume-in-grid runs undivided only: a
//! divided run is refused at its first step (puffs would have to move
//! between ranks).
//!
//! The process is applied after every grid process of the step: a puff
//! handed off this step has already travelled the step, so its mass must
//! not be advected again.

use super::plume_rise::stack_rise;
use super::{Process, ProcessKind, StepContext};
use crate::budget::Budget;
use crate::config::{Case, PlumeInGridStacks};
use crate::emissions::temporal::TemporalProfiles;
use crate::emissions::{Inventory, PointSource};
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::met::{MetFields, KARMAN};
use crate::plume::puff::{vertical_fraction_below, DomainBox, Puff, PuffMet, PuffSet};
use crate::plume::Floors;
use crate::state::{State, TracerSet};
use std::path::PathBuf;

/// The frame of one stack's puffs: x = fractional cell index i x `lx`
/// (0 = centre of the first cell), y likewise, with the stack cell's true
/// cell lengths, m.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub lx: f64,
    pub ly: f64,
}

impl Frame {
    /// The cell containing (x, y), clamped to the grid.
    pub fn cell(&self, g: &Grid, x: f64, y: f64) -> (usize, usize) {
        let clamp = |f: f64, n: usize| ((f + 0.5).floor().max(0.0) as usize).min(n - 1);
        (clamp(x / self.lx, g.nx), clamp(y / self.ly, g.ny))
    }

    /// The domain's box in this frame.
    pub fn domain(&self, g: &Grid) -> DomainBox {
        DomainBox {
            x_min: -0.5 * self.lx,
            x_max: (g.nx as f64 - 0.5) * self.lx,
            y_min: -0.5 * self.ly,
            y_max: (g.ny as f64 - 0.5) * self.ly,
        }
    }
}

/// One flagged stack and its puffs.
#[derive(Debug, Clone)]
pub struct StackPuffs {
    pub source: PointSource,
    /// The tracer of each puff slot, and the stack's rate into it, kg/s.
    pub tracers: Vec<usize>,
    pub rates: Vec<f64>,
    /// Set at the first step (it needs the grid).
    pub frame: Frame,
    pub puffs: PuffSet,
}

impl StackPuffs {
    /// Mean surface concentration of the puffs over the last step at the
    /// fractional cell index (fi, fj), kg/m3 per slot (see `tracers`).
    pub fn surface_concentration(&self, fi: f64, fj: f64) -> Vec<f64> {
        self.puffs
            .step_mean_concentration(fi * self.frame.lx, fj * self.frame.ly, 0.0)
    }
}

pub struct PlumeInGrid {
    pub stacks: Vec<StackPuffs>,
    temporal: Option<TemporalProfiles>,
    floors: Floors,
    handoff_sigma_fraction: f64,
    max_age_s: f64,
    case_file: PathBuf,
    ready: bool,
}

impl PlumeInGrid {
    /// Take the stacks the case flags out of `inventory` (so emission
    /// injection no longer sees them); None when none is flagged. A name
    /// that matches no stack inside the grid is an error.
    pub fn take_stacks(
        case: &Case,
        inventory: &mut Inventory,
        tracers: &TracerSet,
    ) -> Result<Option<PlumeInGrid>> {
        let spec = &case.emissions.plume_in_grid;
        let flagged = |p: &PointSource| match &spec.stacks {
            PlumeInGridStacks::None => false,
            PlumeInGridStacks::All => true,
            PlumeInGridStacks::Named(names) => names.contains(&p.name),
        };
        if let PlumeInGridStacks::Named(names) = &spec.stacks {
            for n in names {
                if !inventory.points.iter().any(|p| p.name == *n) {
                    return Err(Error::config(
                        &case.file,
                        "emissions.plume_in_grid",
                        format!(
                            "names of stacks in the stack CSV inside the grid; {n:?} is not one"
                        ),
                    ));
                }
            }
        }
        let (taken, kept): (Vec<PointSource>, Vec<PointSource>) =
            inventory.points.drain(..).partition(|p| flagged(p));
        inventory.points = kept;
        if taken.is_empty() {
            return Ok(None);
        }
        let floors = Floors::default();
        let stacks = taken
            .into_iter()
            .map(|source| {
                let tracers_of: Vec<usize> = source
                    .rates
                    .iter()
                    .map(|&(s, _)| tracers.index(s, source.tag))
                    .collect();
                let rates = source.rates.iter().map(|r| r.1).collect();
                let n = tracers_of.len();
                StackPuffs {
                    source,
                    tracers: tracers_of,
                    rates,
                    frame: Frame { lx: 1.0, ly: 1.0 },
                    puffs: PuffSet::new(n, floors, None),
                }
            })
            .collect();
        Ok(Some(PlumeInGrid {
            stacks,
            temporal: inventory.temporal.clone(),
            floors,
            handoff_sigma_fraction: spec.handoff_sigma_fraction,
            max_age_s: spec.max_age_hours * 3600.0,
            case_file: case.file.clone(),
            ready: false,
        }))
    }

    /// At the first step: refuse a divided run (`Model::new` already does), set each stack's frame.
    fn prepare(&mut self, ctx: &StepContext) -> Result<()> {
        if ctx.comm.size() > 1 || ctx.grid.edges.any_halo() {
            return Err(Error::config(
                &self.case_file,
                "emissions.plume_in_grid",
                "an undivided domain: plume-in-grid puffs do not yet move between subdomains",
            ));
        }
        for s in &mut self.stacks {
            let (i, j) = (s.source.i, s.source.j);
            s.frame = Frame {
                lx: ctx.grid.x_face_dist[[j, i]],
                ly: ctx.grid.y_face_dist[[j, i]],
            };
            s.puffs.floors = self.floors;
        }
        self.ready = true;
        Ok(())
    }
}

/// Release height (downwashed stack top + Briggs rise, capped at the model top) and
/// the rise, m, in the mid-step met at the stack's cell: the inputs of
/// [`super::plume_rise::layer_fractions`].
pub fn release_height(p: &PointSource, g: &Grid, met: &MetFields) -> (f64, f64) {
    let (dh, h) = stack_rise(p, g, met);
    let top = *g.z_top.last().unwrap();
    ((h + dh).min(top), dh)
}

/// Turbulence at height `z` in a column with friction velocity `ustar`,
/// Obukhov length `l` and mixing height `h`: (sigma_v, sigma_w, T_Lv,
/// T_Lw), Hanna (1982) as given by Stohl et al. (2005, sec. 7.2):
/// neutral (h/|L| < 1) sigma_v = sigma_w = 1.3 u* exp(-2e-4 z/u*),
/// T_L = 0.5 z / sigma_w / (1 + 1.5e-3 z/u*); unstable sigma_v =
/// u* (12 - 0.5 h/L)^(1/3), sigma_w piecewise in z/h with w* =
/// u* (-h/(k L))^(1/3), T_Lv = 0.15 h / sigma_v; stable sigma_v =
/// sigma_w = 1.3 u* (1 - z/h), T_Lv = 0.467 x 0.15 h sqrt(z/h) / (2 u*
/// (1 - z/h)), T_Lw = 0.1 h (z/h)^0.8 / sigma_w. Above the mixing height
/// the turbulence is left to the floors.
pub fn hanna_turbulence(z: f64, ustar: f64, l: f64, h: f64) -> (f64, f64, f64, f64) {
    const TL_V_MIN: f64 = 10.0;
    const TL_W_MIN: f64 = 30.0;
    let ust = ustar.max(1e-4);
    let h = h.max(1.0);
    let z = z.max(1.0);
    if z >= h {
        return (0.0, 0.0, TL_V_MIN, TL_W_MIN);
    }
    let zeta = z / h;
    let (sv, sw, tlv, tlw) = if !l.is_finite() || h / l.abs() < 1.0 {
        let sv = 1.3 * ust * (-2e-4 * z / ust).exp();
        let tl = 0.5 * z / sv / (1.0 + 1.5e-3 * z / ust);
        (sv, sv, tl, tl)
    } else if l < 0.0 {
        let wst = ust * (-h / (KARMAN * l)).cbrt();
        let sv = ust * (12.0 - 0.5 * h / l).cbrt();
        let sw = if zeta < 0.03 {
            0.96 * wst * (3.0 * zeta - l / h).cbrt()
        } else if zeta < 0.4 {
            wst * (0.96 * (3.0 * zeta - l / h).cbrt()).min(0.763 * zeta.powf(0.175))
        } else if zeta < 0.96 {
            0.722 * wst * (1.0 - zeta).powf(0.207)
        } else {
            0.37 * wst
        };
        let tlv = 0.15 * h / sv;
        let tlw = if z < l.abs() {
            0.1 * z / (sw * (0.55 - 0.38 * (z / l).abs()))
        } else if zeta < 0.1 {
            0.59 * z / sw
        } else {
            0.15 * h / sw * (1.0 - (-5.0 * zeta).exp())
        };
        (sv, sw, tlv, tlw)
    } else {
        let su = 2.0 * ust * (1.0 - zeta);
        let sv = 1.3 * ust * (1.0 - zeta);
        let tlu = 0.15 * h / su * zeta.sqrt();
        (sv, sv, 0.467 * tlu, 0.1 * h / sv * zeta.powf(0.8))
    };
    let ok = |x: f64, min: f64| if x.is_finite() { x.max(min) } else { min };
    (
        ok(sv, 0.0),
        ok(sw, 0.0),
        ok(tlv, TL_V_MIN),
        ok(tlw, TL_W_MIN),
    )
}

/// What a puff at (x, y, z) of `frame` sees in the mid-step met.
fn met_at(g: &Grid, met: &MetFields, frame: Frame, x: f64, y: f64, z: f64) -> PuffMet {
    let (i, j) = frame.cell(g, x, y);
    let k = g.layer_of(z);
    // Position within the cell, 0 at its west (south) face, 1 at its east (north).
    let wx = (x / frame.lx - (i as f64 - 0.5)).clamp(0.0, 1.0);
    let wy = (y / frame.ly - (j as f64 - 0.5)).clamp(0.0, 1.0);
    let u = (1.0 - wx) * met.u_face[[k, j, i]] + wx * met.u_face[[k, j, i + 1]];
    let v = (1.0 - wy) * met.v_face[[k, j, i]] + wy * met.v_face[[k, j + 1, i]];
    let h = met.pblh[[j, i]];
    let (sigma_v, sigma_w, tl_y, tl_z) =
        hanna_turbulence(z, met.ustar[[j, i]], met.obukhov[[j, i]], h);
    PuffMet {
        u,
        v,
        sigma_v,
        sigma_w,
        tl_y,
        tl_z,
        mixing_height: h,
    }
}

/// Normalised Gaussian fractions of a centre `c` with `sigma` over cells
/// of width `len` centred at `idx * len`, for the cells within 5 sigma of
/// `c` (and always `host`), clipped to `0..n`: (first index, fractions).
fn cell_fractions(c: f64, sigma: f64, len: f64, n: usize, host: usize) -> (usize, Vec<f64>) {
    if sigma <= 0.0 {
        return (host, vec![1.0]);
    }
    let reach = 5.0 * sigma;
    let lo = (((c - reach) / len + 0.5).floor().max(0.0) as usize).min(host);
    let hi = ((((c + reach) / len + 0.5).floor().max(0.0) as usize).min(n - 1)).max(host);
    let cdf = |x: f64| 0.5 * (1.0 + libm::erf(x / (std::f64::consts::SQRT_2 * sigma)));
    let mut f: Vec<f64> = (lo..=hi)
        .map(|i| cdf((i as f64 + 0.5) * len - c) - cdf((i as f64 - 0.5) * len - c))
        .collect();
    let sum: f64 = f.iter().sum();
    if sum > 0.0 && sum.is_finite() {
        f.iter_mut().for_each(|x| *x /= sum);
    } else {
        f.iter_mut().for_each(|x| *x = 0.0);
        f[host - lo] = 1.0;
    }
    (lo, f)
}

/// Hand one puff's mass to the grid: the only place where puff mass enters
/// it. The mass goes to the cells and layers the puff covers, by the
/// fractions of its Gaussian (reflected vertically as in the puff,
/// [`vertical_fraction_below`], against the puff's mixing height) over
/// each cell's extent in x and y and each layer's in z, renormalised over
/// the grid (what lies beyond the domain's edges or the model top goes to
/// the cells inside); a puff centred outside the domain is spread about
/// the nearest edge cell. `tracers[s]` is the tracer of the puff's slot s.
pub fn hand_off(puff: &Puff, tracers: &[usize], state: &mut State, grid: &Grid, frame: Frame) {
    let (hi, hj) = frame.cell(grid, puff.x, puff.y);
    let (i0, fx) = cell_fractions(puff.x, puff.sigma_y, frame.lx, grid.nx, hi);
    let (j0, fy) = cell_fractions(puff.y, puff.sigma_y, frame.ly, grid.ny, hj);
    let mut fz: Vec<f64> = Vec::with_capacity(grid.nz);
    let mut below = 0.0;
    for &top in &grid.z_top {
        let f = vertical_fraction_below(top, puff.z, puff.sigma_z, puff.lid)
            - vertical_fraction_below(below, puff.z, puff.sigma_z, puff.lid);
        fz.push(f.max(0.0));
        below = top;
    }
    let sum: f64 = fz.iter().sum();
    if sum > 0.0 && sum.is_finite() {
        fz.iter_mut().for_each(|x| *x /= sum);
    } else {
        fz.iter_mut().for_each(|x| *x = 0.0);
        fz[grid.layer_of(puff.z)] = 1.0;
    }
    for (&tr, &m) in tracers.iter().zip(&puff.mass) {
        if m == 0.0 {
            continue;
        }
        for (k, &wz) in fz.iter().enumerate() {
            if wz == 0.0 {
                continue;
            }
            for (dj, &wy) in fy.iter().enumerate() {
                for (di, &wx) in fx.iter().enumerate() {
                    state.mass[[tr, k, j0 + dj, i0 + di]] += m * wz * wy * wx;
                }
            }
        }
    }
}

impl Process for PlumeInGrid {
    fn name(&self) -> &'static str {
        "plume-in-grid"
    }

    fn kind(&self) -> ProcessKind {
        ProcessKind::Linear
    }

    fn puffs(&self) -> &[StackPuffs] {
        &self.stacks
    }

    fn apply(&mut self, ctx: &StepContext, state: &mut State, budget: &mut Budget) -> Result<()> {
        if !self.ready {
            self.prepare(ctx)?;
        }
        let (g, met, dt) = (ctx.grid, ctx.met_mid, ctx.dt);
        let t0 = ctx.start.epoch_seconds() + ctx.time;
        // Sub-steps: no puff moves more than half a cell in one.
        let fastest = met
            .u_face
            .iter()
            .chain(met.v_face.iter())
            .fold(0.0f64, |a, &w| a.max(w.abs()));
        for s in &mut self.stacks {
            let factor = match &mut self.temporal {
                Some(p) => p.mean_factor(s.source.sector, t0, t0 + dt),
                None => 1.0,
            };
            let (z, dh) = release_height(&s.source, g, met);
            let sigma0 = (dh / 3.5).max(0.5 * s.source.diameter);
            let masses: Vec<f64> = s.rates.iter().map(|r| r * dt * factor).collect();
            for (&tr, &m) in s.tracers.iter().zip(&masses) {
                budget.tracers[tr].emitted_kg += m;
            }
            let (fi, fj) = g.index_of(s.source.lon, s.source.lat);
            let frame = s.frame;
            s.puffs
                .release(fi * frame.lx, fj * frame.ly, z, sigma0, sigma0, masses);
            let n_sub = (dt * fastest / (0.5 * frame.lx.min(frame.ly)))
                .ceil()
                .max(1.0);
            let no_deposition = vec![0.0; s.tracers.len()];
            for _ in 0..n_sub as usize {
                s.puffs.step(
                    dt / n_sub,
                    |x, y, z| met_at(g, met, frame, x, y, z),
                    &no_deposition,
                );
            }
            let limit = self.handoff_sigma_fraction * frame.lx.min(frame.ly);
            let (max_age, domain) = (self.max_age_s, frame.domain(g));
            let gone = s.puffs.take_where(|p| {
                p.sigma_y >= limit || p.age >= max_age * (1.0 - 1e-12) || !domain.contains(p.x, p.y)
            });
            for p in &gone {
                hand_off(p, &s.tracers, state, g, frame);
            }
        }
        // The stock held in puffs, per tracer (stacks in order).
        for s in &self.stacks {
            for &tr in &s.tracers {
                budget.tracers[tr].in_puffs_kg = 0.0;
            }
        }
        for s in &self.stacks {
            for (&tr, m) in s.tracers.iter().zip(s.puffs.in_puffs()) {
                budget.tracers[tr].in_puffs_kg += m;
            }
        }
        Ok(())
    }
}
