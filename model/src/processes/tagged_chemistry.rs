//! The attribution wrapper around [`Chemistry`]: the chemistry runs once on
//! the bulk (each species' sum over tags), and what it converted is then
//! shared among the tags by rules that keep every tag's sulfur, oxidised
//! nitrogen, reduced nitrogen and SOA products in step with the bulk.
//!
//! Species are grouped in *families*: a precursor pool (species that turn
//! into one another and feed the products) and one or more product pools,
//! sets of species that exchange by partitioning. A cell's step:
//! - each tag keeps its share of the precursor pool (its element moles
//!   over the bulk's, before the step) and, within it, follows the bulk's
//!   split among the pool's species. For a single precursor that is the
//!   bulk's after/before ratio, exact for first-order losses (OH, aerosol
//!   water) and the PSAT-style proportional rule for the second-order
//!   aqueous and night-time paths;
//! - each product pool's production (its bulk change, in moles for the
//!   inorganic pools, in mass for SOA) goes to the tags in proportion to
//!   their share of the precursor pool, i.e. of what was consumed;
//! - within a product pool, each tag's species follow the bulk's split, in
//!   proportion to the tag's share of the pool.
//!
//! Families: S (SO2 -> [SO4]); oxidised N ([NOX, N2O5, CLNO2] ->
//! [HNO3, NO3]: the night-time reservoirs N2O5 and ClNO2 return to NOx by
//! day, so they share NOx's pool); reduced N ([NH3, NH4], no precursor);
//! one per SOA class (VOC class -> [SV1, A1], [SV2, A2]); and the
//! oxidants O3 and H2O2, carried untagged, which take the bulk result. So
//! sulfate formed follows the tags' SO2, HNO3 formed their NOx and
//! reservoirs, particle nitrate after the NH4NO3 equilibrium their share
//! of total nitrate (HNO3 + NO3), ammonium their share of NHx, and SOA
//! their share of the precursor class. Each tag's S and N change by
//! exactly what its precursor pool lost, so S and N are conserved per tag
//! to round-off.
//!
//! Prior art: CMAQ-ISAM (CMAQ User's Guide ch. 11) assigns the products of
//! each reaction to the tags of its reactants, equally among the parent
//! reactants or, under its assignment options, to one class of parent (for
//! ozone, NOx or VOC); its guide notes that a tag's result can depend on
//! the rest of the tag list. CAMx PSAT (the CAMx User's Guide's source
//! apportionment chapter) tracks sulfate, nitrate and ammonium through
//! tagged precursor families in the same spirit; its exact rules could not
//! be checked here. Ours differs in that the oxidants (OH prescribed; H2O2
//! and O3 carried) are untagged, so a product follows its one nitrogen, sulfur
//! or carbon precursor alone; the NH4NO3 split follows total nitrate and
//! NHx separately, so a tag that brings only ammonia gets ammonium and no
//! nitrate; and every rule is linear in each tag for the given bulk, so
//! splitting a tag leaves every other tag unchanged.

use super::chemistry::Chemistry;
use super::{Process, ProcessKind, StepContext};
use crate::budget::Budget;
use crate::error::Result;
use crate::state::{State, TracerSet};
use ndarray::{Array4, Axis};
use rayon::prelude::*;

/// One family: the precursor pool (species that exchange among themselves
/// and feed the products) and the product pools it feeds, each a list of
/// (species, weight) with weight moles of the element per kg (moles) or 1
/// (mass).
#[derive(Debug, Clone)]
pub struct Family {
    pub precursors: Vec<(usize, f64)>,
    pub pools: Vec<Vec<(usize, f64)>>,
}

impl Family {
    fn members(&self) -> impl Iterator<Item = usize> + '_ {
        self.precursors
            .iter()
            .chain(self.pools.iter().flatten())
            .map(|p| p.0)
    }
}

/// The families among the run's species (see the module notes).
pub fn families(tracers: &TracerSet) -> Vec<Family> {
    let find = |n: &str| tracers.species_index(n);
    // Moles of the family's element (S or N) per unit mass.
    let atoms = |n: &str, per: f64| find(n).map(|s| (s, per / tracers.species[s].molar_mass));
    let moles = |n: &str| atoms(n, 1.0);
    let mass = |n: &str| find(n).map(|s| (s, 1.0));
    let mut out = vec![
        Family {
            precursors: moles("SO2").into_iter().collect(),
            pools: vec![moles("SO4").into_iter().collect()],
        },
        Family {
            precursors: [moles("NOX"), atoms("N2O5", 2.0), moles("CLNO2")]
                .into_iter()
                .flatten()
                .collect(),
            pools: vec![[moles("HNO3"), moles("NO3")]
                .into_iter()
                .flatten()
                .collect()],
        },
        Family {
            precursors: vec![],
            pools: vec![[moles("NH3"), moles("NH4")].into_iter().flatten().collect()],
        },
    ];
    // Oxidants: one-member families without precursor, untagged (checked
    // in `TaggedChemistry::new`), so they take the bulk result.
    for name in crate::species::OXIDANTS {
        if let Some(o) = mass(name) {
            out.push(Family {
                precursors: vec![],
                pools: vec![vec![o]],
            });
        }
    }
    for class in &super::soa::CLASSES {
        out.push(Family {
            precursors: mass(class.precursor).into_iter().collect(),
            pools: class
                .products
                .iter()
                .map(|p| {
                    [mass(p.gas), mass(p.particle)]
                        .into_iter()
                        .flatten()
                        .collect()
                })
                .collect(),
        });
    }
    for f in &mut out {
        f.pools.retain(|p| !p.is_empty());
    }
    out.retain(|f| !f.pools.is_empty());
    out
}

pub struct TaggedChemistry {
    pub inner: Chemistry,
    families: Vec<Family>,
    /// The tracers chemistry changes (every tag of every family member).
    touched: Vec<usize>,
    /// The bulk state the inner chemistry runs on, and the bulk before it
    /// ran, kept between steps.
    bulk: Option<State>,
    before: Option<Array4<f64>>,
}

impl TaggedChemistry {
    /// Refuses a family whose species are not all tagged or all untagged
    /// (a tag could not follow its sulfur or nitrogen otherwise), naming
    /// the family's species.
    pub fn new(inner: Chemistry, tracers: &TracerSet) -> std::result::Result<Self, String> {
        let families = families(tracers);
        for name in crate::species::OXIDANTS {
            if let Some(s) = tracers.species_index(name) {
                if tracers.species_is_tagged(s) {
                    return Err(format!(
                        "no oxidant: {name} is a background the chemistry consumes, carried untagged"
                    ));
                }
            }
        }
        for f in &families {
            let members: Vec<usize> = f.members().collect();
            let tagged = members
                .iter()
                .filter(|&&s| tracers.species_is_tagged(s))
                .count();
            if tagged != 0 && tagged != members.len() {
                let names: Vec<&str> = members.iter().map(|&s| tracers.species[s].name).collect();
                return Err(format!(
                    "all or none of the chemically linked species {} (tagged species follow their precursor's tags)",
                    names.join(", ")
                ));
            }
        }
        let touched = families
            .iter()
            .flat_map(|f| f.members())
            .flat_map(|s| tracers.tracers_of(s))
            .collect();
        Ok(TaggedChemistry {
            inner,
            families,
            touched,
            bulk: None,
            before: None,
        })
    }
}

/// Scratch of one row of cells for [`apportion_row`].
struct RowWork {
    inv: Vec<f64>,
    /// Per tag and cell: share of the precursor, and the tag's pool.
    share: Vec<f64>,
    tag_pool: Vec<f64>,
    pool_before: Vec<f64>,
    pool_after: Vec<f64>,
}

impl RowWork {
    fn new(nt: usize, nx: usize) -> Self {
        RowWork {
            inv: vec![0.0; nx],
            share: vec![0.0; nt * nx],
            tag_pool: vec![0.0; nt * nx],
            pool_before: vec![0.0; nx],
            pool_after: vec![0.0; nx],
        }
    }
}

/// Share out one row of cells' bulk change among the tags (module notes),
/// vectorised along the row. `tags` holds a row per tracer (species s, tag
/// t is `tracers.index(s, t)`), updated in place; `before(s)` and
/// `after(s)` are the bulk rows of species s. A family's species are all
/// tagged or all carried as their bulk (one "tag"; checked in `new`).
fn apportion_row<'a>(
    families: &[Family],
    tracers: &TracerSet,
    tags: &mut ndarray::ArrayViewMut2<'a, f64>,
    before: &dyn Fn(usize) -> &'a [f64],
    after: &dyn Fn(usize) -> &'a [f64],
    w: &mut RowWork,
) {
    let nx = tags.ncols();
    for fam in families {
        let first = fam.members().next().expect("families are not empty");
        if !tracers.species_is_tagged(first) {
            // An untagged family: its bulk tracers take the bulk result.
            for s in fam.members() {
                let mut row = tags.row_mut(tracers.index(s, 0));
                row.as_slice_mut()
                    .expect("rows contiguous")
                    .copy_from_slice(&after(s)[..nx]);
            }
            continue;
        }
        let nt = tracers.n_tags();
        // Shares of the precursor pool consumed (= of the pool before the
        // step); where there was none, the product pools keep their own
        // shares. Within the precursor pool each tag follows the bulk's
        // split: species s of tag t becomes share_t x bulk_after(s).
        let precursor = !fam.precursors.is_empty();
        if precursor {
            w.pool_before.fill(0.0);
            for &(s, wt) in &fam.precursors {
                for (pb, b) in w.pool_before.iter_mut().zip(before(s)) {
                    *pb += b * wt;
                }
            }
            for i in 0..nx {
                let pb = w.pool_before[i];
                w.inv[i] = if pb > 0.0 { 1.0 / pb } else { 0.0 };
            }
            w.share.fill(0.0);
            for &(s, wt) in &fam.precursors {
                for t in 0..nt {
                    let row = tags.row(tracers.index(s, t));
                    let m = row.as_slice().expect("rows contiguous");
                    let sh = &mut w.share[t * nx..(t + 1) * nx];
                    for i in 0..nx {
                        sh[i] += m[i] * wt * w.inv[i];
                    }
                }
            }
            for &(s, _) in &fam.precursors {
                let b1 = after(s);
                for t in 0..nt {
                    let mut row = tags.row_mut(tracers.index(s, t));
                    let m = row.as_slice_mut().expect("rows contiguous");
                    let sh = &w.share[t * nx..(t + 1) * nx];
                    for i in 0..nx {
                        if w.inv[i] > 0.0 {
                            m[i] = sh[i] * b1[i];
                        }
                    }
                }
            }
        }
        for pool in &fam.pools {
            w.pool_before.fill(0.0);
            w.pool_after.fill(0.0);
            w.tag_pool.fill(0.0);
            for &(s, wt) in pool {
                let (b0, b1) = (before(s), after(s));
                for i in 0..nx {
                    w.pool_before[i] += b0[i] * wt;
                    w.pool_after[i] += b1[i] * wt;
                }
                for t in 0..nt {
                    let row = tags.row(tracers.index(s, t));
                    let m = row.as_slice().expect("rows contiguous");
                    let tp = &mut w.tag_pool[t * nx..(t + 1) * nx];
                    for i in 0..nx {
                        tp[i] += m[i] * wt;
                    }
                }
            }
            // Each tag's pool after the step: what it had plus its share
            // of the production, or scaled with the pool where no
            // precursor was there to go by.
            let with_precursor = |i: usize| precursor && w.inv[i] > 0.0;
            for t in 0..nt {
                for i in 0..nx {
                    let tp = w.tag_pool[t * nx + i];
                    let (pb, pa) = (w.pool_before[i], w.pool_after[i]);
                    w.tag_pool[t * nx + i] = if with_precursor(i) {
                        tp + w.share[t * nx + i] * (pa - pb)
                    } else if pb > 0.0 {
                        tp * (pa / pb)
                    } else {
                        tp
                    };
                }
            }
            for &(s, _) in pool {
                let b1 = after(s);
                for t in 0..nt {
                    let mut row = tags.row_mut(tracers.index(s, t));
                    let m = row.as_slice_mut().expect("rows contiguous");
                    let tp = &w.tag_pool[t * nx..(t + 1) * nx];
                    for i in 0..nx {
                        let pa = w.pool_after[i];
                        m[i] = if pa > 0.0 { tp[i] * (b1[i] / pa) } else { 0.0 };
                    }
                }
            }
        }
    }
}

impl Process for TaggedChemistry {
    fn name(&self) -> &'static str {
        "chemistry"
    }

    fn kind(&self) -> ProcessKind {
        ProcessKind::Nonlinear
    }

    fn apply(&mut self, ctx: &StepContext, state: &mut State, budget: &mut Budget) -> Result<()> {
        let t = &state.tracers;
        let ns = t.species.len();
        let mut bulk = match self.bulk.take() {
            Some(b) if b.air_mass.dim() == state.air_mass.dim() => b,
            _ => State {
                tracers: TracerSet::new(t.species.clone()),
                mass: Array4::zeros((ns, ctx.grid.nz, ctx.grid.ny, ctx.grid.nx)),
                air_mass: state.air_mass.clone(),
            },
        };
        bulk.air_mass.assign(&state.air_mass);
        for s in 0..ns {
            let mut b = bulk.mass.index_axis_mut(Axis(0), s);
            b.fill(0.0);
            for tr in t.tracers_of(s) {
                b += &state.mass.index_axis(Axis(0), tr);
            }
        }
        let before = match self.before.take() {
            Some(mut b) if b.dim() == bulk.mass.dim() => {
                b.assign(&bulk.mass);
                b
            }
            _ => bulk.mass.clone(),
        };
        let mut scratch = Budget::new(&vec![0.0; ns]);
        self.inner.apply(ctx, &mut bulk, &mut scratch)?;
        let (families, touched) = (&self.families, &self.touched);
        let after = &bulk.mass;
        let nt = t.n_tags();
        // Per layer: apportion row by row, and sum each tracer's change
        // while its row is in cache, in a fixed order (thread-count
        // independent), for the budget.
        let per_layer: Vec<Vec<f64>> = state
            .mass
            .axis_iter_mut(Axis(1))
            .into_par_iter()
            .enumerate()
            .map(|(k, mut layer)| {
                let (_, ny, nx) = layer.dim();
                let mut change = vec![0.0; t.len()];
                let mut w = RowWork::new(nt, nx);
                let nz = before.dim().1;
                let (flat0, flat1) = (
                    before.as_slice().expect("standard layout"),
                    after.as_slice().expect("standard layout"),
                );
                for j in 0..ny {
                    let at = move |s: usize| ((s * nz + k) * ny + j) * nx;
                    let b0 = |s: usize| &flat0[at(s)..at(s) + nx];
                    let b1 = |s: usize| &flat1[at(s)..at(s) + nx];
                    let mut rows = layer.index_axis_mut(Axis(1), j);
                    for &tr in touched {
                        change[tr] -= rows.row(tr).sum();
                    }
                    apportion_row(families, t, &mut rows, &b0, &b1, &mut w);
                    for &tr in touched {
                        change[tr] += rows.row(tr).sum();
                    }
                }
                change
            })
            .collect();
        for change in per_layer {
            for (b, d) in budget.tracers.iter_mut().zip(change) {
                b.chemistry_kg += d;
                b.chemistry_gross_kg += d.abs();
            }
        }
        self.before = Some(before);
        self.bulk = Some(bulk);
        Ok(())
    }
}
