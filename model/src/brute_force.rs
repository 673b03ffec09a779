//! The brute-force check of the tags (`[attribution.brute_force]`): the
//! base case and one run per listed tag with that tag's emissions cut by
//! `cut` (0.2 removes a fifth, 1.0 all), plus one run with all of them cut.
//! Per receptor, the tagged contribution (run mean of PM2.5, from the
//! tagged run's file) stands beside the brute-force one, (C_base - C_cut) /
//! cut; the nonlinearity residual is the sum of the brute-force changes
//! minus the change with all cut at once, in ug/m3 and in percent of the
//! latter. The cut runs are untagged and run in parallel.

use crate::attribution::report::{Calendar, Series, PM25};
use crate::attribution::tagging::Tagging;
use crate::config::Case;
use crate::error::{Error, Result};
use crate::output::tags::{run_series, series_from_file, ReceptorRequest};
use crate::parallel::Serial;
use crate::simulation::Simulation;
use crate::state::TracerSet;
use rayon::prelude::*;
use std::fmt::Write as _;
use std::path::Path;

/// One receptor x tag comparison.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Comparison {
    pub receptor: String,
    /// "region", "group" or "site".
    pub kind: String,
    pub tag: String,
    /// Run-mean PM2.5 of the tag at the receptor, ug/m3.
    pub tagged_ugm3: f64,
    /// (C_base - C_cut) / cut, ug/m3.
    pub brute_force_ugm3: f64,
    /// The base run's PM2.5 at the receptor, ug/m3.
    pub base_ugm3: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct BruteForce {
    pub cut: f64,
    pub comparisons: Vec<Comparison>,
    /// Per receptor: (sum of the single-cut changes - change with all cut,
    /// ug/m3; the same in percent of the all-cut change).
    pub residuals: Vec<(String, f64, f64)>,
}

/// Run-mean PM2.5 (summed over tags) per receptor of an untagged run whose
/// emissions of `cut_tags` are scaled by `1 - cut`.
fn cut_run(
    case: &Case,
    tagging: &Tagging,
    base: &crate::emissions::Inventory,
    cut_tags: &[usize],
    cut: f64,
) -> Result<Vec<f64>> {
    let mut inv = base.clone();
    Tagging::scale(&mut inv, cut_tags, 1.0 - cut);
    inv.cells.iter_mut().for_each(|c| c.tag = 0);
    inv.points.iter_mut().for_each(|p| p.tag = 0);
    let sim = Simulation::with_inventory(
        case,
        TracerSet::new(case.species.clone()),
        inv,
        None,
        Box::new(Serial),
    )?;
    let series = run_series(
        sim,
        case,
        tagging.receptors.clone(),
        Calendar::of(&tagging.spec, &case.run),
    )?;
    Ok(run_means(&series))
}

/// Run-mean PM2.5 per receptor, all tags summed.
fn run_means(series: &Series) -> Vec<f64> {
    let pm = series.species.len() - 1;
    series
        .receptors
        .iter()
        .map(|r| {
            let n = r.values.len().max(1) as f64;
            r.values
                .iter()
                .map(|rec| rec[pm].iter().sum::<f64>())
                .sum::<f64>()
                / n
        })
        .collect()
}

/// The brute-force check of a case whose tagged run wrote `tags_file`.
pub fn run(case: &Case, tags_file: &Path) -> Result<BruteForce> {
    let spec = case
        .attribution
        .as_ref()
        .and_then(|a| a.brute_force.clone())
        .ok_or_else(|| {
            Error::config(
                &case.file,
                "attribution.brute_force",
                "a [attribution.brute_force] table",
            )
        })?;
    let (tagging, inventory) = Simulation::tagged_inventory(case)?;
    let tag_ids = brute_force_tags(case, &tagging, &spec.tags)?;
    let tagged = series_from_file(tags_file, &ReceptorRequest::default())?;
    let pm = tagged.species.len() - 1;
    // Base, each tag cut alone, all cut together: in parallel.
    let mut sets: Vec<Vec<usize>> = vec![vec![]];
    sets.extend(tag_ids.iter().map(|&t| vec![t]));
    sets.push(tag_ids.clone());
    let means: Vec<Vec<f64>> = sets
        .par_iter()
        .map(|set| {
            let cut = if set.is_empty() { 0.0 } else { spec.cut };
            cut_run(case, &tagging, &inventory, set, cut)
        })
        .collect::<Result<_>>()?;
    let base = &means[0];
    let all = &means[means.len() - 1];
    let mut comparisons = Vec::new();
    let mut residuals = Vec::new();
    for (r, rec) in tagged.receptors.iter().enumerate() {
        let n = rec.values.len().max(1) as f64;
        let mut sum_changes = 0.0;
        for (k, (&t, name)) in tag_ids.iter().zip(&spec.tags).enumerate() {
            let tagged_mean = rec.values.iter().map(|v| v[pm][t]).sum::<f64>() / n;
            let change = base[r] - means[k + 1][r];
            sum_changes += change;
            comparisons.push(Comparison {
                receptor: rec.name.clone(),
                kind: rec.kind.clone(),
                tag: name.clone(),
                tagged_ugm3: tagged_mean,
                brute_force_ugm3: change / spec.cut,
                base_ugm3: base[r],
            });
        }
        let total_change = base[r] - all[r];
        let residual = sum_changes - total_change;
        let pct = if total_change.abs() > 0.0 {
            100.0 * residual / total_change
        } else {
            0.0
        };
        residuals.push((rec.name.clone(), residual / spec.cut, pct));
    }
    Ok(BruteForce {
        cut: spec.cut,
        comparisons,
        residuals,
    })
}

/// The tag indices of the brute-force tag names.
pub fn brute_force_tags(case: &Case, tagging: &Tagging, names: &[String]) -> Result<Vec<usize>> {
    names
        .iter()
        .map(|n| {
            tagging
                .tags
                .iter()
                .position(|t| &t.name == n && t.kind == crate::state::TagKind::Emissions)
                .ok_or_else(|| {
                    Error::config(
                        &case.file,
                        "attribution.brute_force.tags",
                        format!(
                            "emission tag names of the run ({}), got unknown {n:?}",
                            tagging
                                .tags
                                .iter()
                                .filter(|t| t.kind == crate::state::TagKind::Emissions)
                                .map(|t| t.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })
        })
        .collect()
}

impl BruteForce {
    /// CSV: receptor, tag, tagged, brute force, base; then the residuals.
    pub fn csv(&self) -> String {
        let mut s = String::from("receptor,kind,tag,tagged_ugm3,brute_force_ugm3,base_ugm3,cut\n");
        for c in &self.comparisons {
            let _ = writeln!(
                s,
                "{},{},{},{:.6},{:.6},{:.6},{}",
                c.receptor, c.kind, c.tag, c.tagged_ugm3, c.brute_force_ugm3, c.base_ugm3, self.cut
            );
        }
        s
    }

    /// The terminal table.
    pub fn table(&self) -> String {
        let mut s = format!(
            "brute force ({PM25}, run mean, cut {}): receptor / tag: tagged vs brute-force ug/m3\n",
            self.cut
        );
        for c in &self.comparisons {
            let _ = writeln!(
                s,
                "  {:<12} {:<6} {:<28} {:>9.3} {:>9.3}  (base {:.2})",
                c.receptor, c.kind, c.tag, c.tagged_ugm3, c.brute_force_ugm3, c.base_ugm3
            );
        }
        for (r, v, pct) in &self.residuals {
            let _ = writeln!(
                s,
                "  {r:<12} nonlinearity residual {v:>9.4} ug/m3 ({pct:.2} %)"
            );
        }
        s
    }
}
