//! `airshed plume CASE.toml`: the hourly loop of the standalone plume model.
//!
//! ```text
//! for each hour of the met (valid or missing, in order):
//!   missing → counted; puffs held where they are; the hour is pushed as missing
//!   valid   → per source: wind and temperature at the release height (profile)
//!             → Briggs rise (rise) → effective height → wind there, σv, σw
//!             → calm hour (wind < calm_wind_m_s) with calm = "puff": the hour's
//!               mass goes into puffs released every sub-step
//!             → otherwise the steady plume: σy(x), σz(x) (sigma) → kernel χ/Q at
//!               every receptor, × each species' rate
//!           then every puff moves, grows and is sampled over the hour's sub-steps
//!   → stats and output files (stats, output)
//! ```
//!
//! Wind and temperature at a height come from the .PFL profile
//! ([`SiteHour::wind_speed_at`], [`SiteHour::temperature_at`]; log law below
//! its lowest wind). Directions are not turned with height: the plume and
//! the puffs travel along the reference direction. Speeds are scalar
//! means, the dilution speed ũ of AERMOD's default (no VECTORWS); with
//! meander ũ is at least √2 σv. The plume rise is the final rise at every
//! distance (ISC3's regulatory default; vol. II 1.1.4.10). In a calm hour
//! the rise is Briggs' calm-air rise in the profile's stratification (at
//! least 0.005 K/m), and the mass goes into puffs at that height.

use super::case::{CalmMode, PlumeCase};
use super::kernel::{self, Footprint, Penetrated, PlumeHour, PlumeSpec, ReceptorSet, Terrain};
use super::output::{Finished, OutputOptions, PlumeOutputs, RunInfo};
use super::puff::{DomainBox, PuffMet, PuffSet};
use super::rise::{self, RiseMet, Stack};
use super::sigma::{self, SigmaModel, SigmaTable};
use super::site::{Hour, SiteHour};
use super::sources::Shape;
use super::terrain::StratifiedProfile;
use crate::error::Result;
use crate::output::set::Inputs;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Puff sub-steps per hour: puffs are released, moved and sampled every
/// 5 minutes (a 1 m/s wind spaces them 300 m apart; the sampling is the
/// integrated one, so the train is smooth at any spacing).
pub const PUFF_SUBSTEPS: usize = 12;

/// Puffs farther than this from the origin are carried out, m (beyond
/// every receptor of a local-scale case).
pub const PUFF_DOMAIN_HALF_WIDTH_M: f64 = 100_000.0;

#[derive(Debug, Clone, Default)]
pub struct PlumeRunOptions {
    /// Write here instead of the case's `output.dir`.
    pub output_dir: Option<PathBuf>,
    pub progress: bool,
}

/// What one source does in one valid hour, worked out before the receptor loop.
struct SourceHour {
    plume: PlumeHour,
    sigma: SigmaTable,
    /// Effective height above the stack base, m.
    height: f64,
}

/// The release height of a source, m above its base.
fn release_height(shape: &Shape) -> f64 {
    match *shape {
        Shape::Point { height, .. } | Shape::Area { height, .. } | Shape::Line { height, .. } => {
            height
        }
    }
}

/// Where a source's calm-hour puffs start: (x, y, initial σy). A stack's at
/// the stack with σy = 0; an area's or a line's at the centre of its
/// footprint with the σy of equal horizontal second moment: a uniform
/// rectangle a × b about its centre has E[r²] = (a² + b²)/12, a circular
/// Gaussian 2σ², so σ = √((a² + b²)/24) (a line: length × width).
fn puff_origin(src: &super::sources::Source) -> (f64, f64, f64) {
    match Footprint::of(src) {
        Footprint::Point => (src.x, src.y, 0.0),
        // Areas and lines are rectangles: centre and sides from the corners.
        Footprint::Polygon(p) => {
            let n = p.len() as f64;
            let cx = p.iter().map(|q| q.0).sum::<f64>() / n;
            let cy = p.iter().map(|q| q.1).sum::<f64>() / n;
            let side = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).hypot(a.1 - b.1);
            let (a, b) = (side(p[0], p[1]), side(p[1], p[2]));
            (cx, cy, ((a * a + b * b) / 24.0).sqrt())
        }
    }
}

/// Rise, sigmas and kernel constants of one source in one valid hour.
fn source_hour(case: &PlumeCase, src: &super::sources::Source, h: &SiteHour) -> Result<SourceHour> {
    let o = &case.options;
    let floors = o.floors;
    let hs = release_height(&src.shape);
    let zi = h.mixing_height();
    let calm = h.wind_speed < floors.calm_wind_m_s;
    let (height, penetrated) = match Stack::from_shape(&src.shape) {
        Some(stack) => {
            let met = if calm {
                RiseMet::in_calm(h, hs)
            } else {
                RiseMet::from_site_hour(h, h.wind_speed_at(hs), h.temperature_at(hs))
            };
            let r = rise::briggs(&stack, &met, o.downwash);
            let pen = (r.penetrated_fraction > 0.0).then_some(Penetrated {
                fraction: r.penetrated_fraction,
                height: r.penetrated_height,
                lid: f64::INFINITY,
            });
            (r.effective_height, pen)
        }
        None => (hs, None),
    };
    // The .SFC/.PFL speeds are scalar means, which AERMOD (without its
    // VECTORWS option) takes as the dilution speed ũ; with meander the
    // mean-wind part is ū = √(ũ² − 2σv²) (kernel), so ũ is at least √2 σv.
    let u_scalar = h.wind_speed_at(height.max(1.0)).max(floors.min_wind_m_s);
    let mut sigma = SigmaModel::new(o.dispersion, h, height, u_scalar, &floors);
    let sigma_v = sigma.sigma_v();
    let u = if o.meander {
        u_scalar.max(std::f64::consts::SQRT_2 * sigma_v)
    } else {
        u_scalar
    };
    if u != u_scalar {
        sigma = SigmaModel::new(o.dispersion, h, height, u, &floors);
    }
    let terrain = if !o.terrain {
        Terrain::Flat
    } else if h.obukhov > 0.0 {
        let theta = h.temperature_at(0.0);
        Terrain::Elevated(StratifiedProfile::from_levels(&h.profile, h.vptg, theta).map(Arc::new))
    } else {
        Terrain::Elevated(None)
    };
    let spec = PlumeSpec {
        x: src.x,
        y: src.y,
        footprint: Footprint::of(src),
        base_elevation: src.elevation,
        height,
        mixing_height: if zi > 0.0 { zi } else { f64::INFINITY },
        penetrated,
        u,
        wind_dir_deg: h.wind_dir,
        sigma_v,
        meander: o.meander,
        terrain,
    };
    Ok(SourceHour {
        plume: PlumeHour::new(&spec)?,
        sigma: SigmaTable::new(sigma),
        height,
    })
}

/// The puffs' met at height `z`: the site's wind there, AERMOD's σv and
/// σw profiles ([`sigma::turbulence`]), and Hanna's (1982) Lagrangian
/// time scales ([`crate::processes::plume_in_grid::hanna_turbulence`]).
fn puff_met(case: &PlumeCase, h: &SiteHour, z: f64) -> PuffMet {
    let u = h.wind_speed_at(z.max(1.0));
    let (sigma_v, sigma_w) = sigma::turbulence(
        h,
        z,
        u.max(case.options.floors.min_wind_m_s),
        &case.options.floors,
    );
    let (_, _, tl_y, tl_z) = crate::processes::plume_in_grid::hanna_turbulence(
        z.max(1.0),
        h.ustar.max(1e-3),
        h.obukhov,
        h.mixing_height().max(10.0),
    );
    let (ux, uy) = crate::met::diagnostic::wind_from(u, h.wind_dir);
    PuffMet {
        u: ux,
        v: uy,
        sigma_v,
        sigma_w,
        tl_y,
        tl_z,
        mixing_height: if h.mixing_height() > 0.0 {
            h.mixing_height()
        } else {
            f64::INFINITY
        },
    }
}

/// The output files' options from the case's `[output]` table.
fn output_options(case: &PlumeCase) -> OutputOptions {
    use super::case::Average;
    let o = &case.output;
    OutputOptions {
        averaging_hours: o
            .averages
            .iter()
            .filter_map(|a| match a {
                Average::Hours(h) => Some(*h),
                _ => None,
            })
            .collect(),
        ranks: o.nth_highest.clone(),
        hourly_netcdf: o.netcdf,
        hourly_csv: o.csv,
        block_netcdf: o.netcdf,
        block_csv: o.csv,
    }
}

/// Run a plume case: every hour through the kernel and the puffs, into
/// the statistics and the output files (committed together at the end).
pub fn run_plume(case: &PlumeCase, opts: &PlumeRunOptions) -> Result<Finished> {
    let dir = opts
        .output_dir
        .clone()
        .unwrap_or_else(|| case.output.dir.clone());
    std::fs::create_dir_all(&dir).map_err(|e| crate::error::Error::output(&dir, e))?;
    let mut files = vec![("met".to_string(), PathBuf::from(&case.met.source))];
    files.push(("case".into(), case.file.clone()));
    let inputs = Inputs {
        case_file: case.file.clone(),
        dir_key: if opts.output_dir.is_some() {
            "--output-dir".into()
        } else {
            "output.dir".into()
        },
        files,
    };
    let info = RunInfo {
        run_name: case.name.clone(),
        title: format!("airshed plume: {}", case.name),
        case_file: case.file.clone(),
        meteorology: format!("{} ({})", case.met.source, case.met.clock),
        met_file: PathBuf::from(&case.met.source),
        origin_lon_lat: Some(case.origin),
    };
    let mut out = PlumeOutputs::new(
        &dir,
        inputs,
        info,
        &case.receptors,
        &case.species,
        output_options(case),
    )?;
    let receptors = ReceptorSet::new(&case.receptors);
    let (nr, ns) = (receptors.len(), case.species.len());
    // Rates per source, in the case's species order, g/s.
    let rates: Vec<Vec<f64>> = case
        .sources
        .iter()
        .map(|s| {
            case.species
                .iter()
                .map(|sp| s.rates.iter().filter(|(n, _)| n == sp).map(|r| r.1).sum())
                .collect()
        })
        .collect();
    let half = PUFF_DOMAIN_HALF_WIDTH_M;
    let mut puffs = PuffSet::new(
        ns,
        case.options.floors,
        Some(DomainBox {
            x_min: -half,
            x_max: half,
            y_min: -half,
            y_max: half,
        }),
    );
    let bar = crate::run::progress_bar(opts.progress, case.hours.len() as u64, "hours");
    let (mut calm_hours, mut puff_hours) = (0usize, 0usize);
    let mut conc = vec![0.0; nr * ns];
    let mut unit = vec![0.0; nr];
    for hour in &case.hours {
        crate::interrupt::check()?;
        let h = match hour {
            Hour::Missing {
                year,
                month,
                day,
                hour,
                ..
            } => {
                out.push_hour((*year, *month, *day, *hour), None)?;
                bar.inc(1);
                continue;
            }
            Hour::Valid(h) => h,
        };
        conc.iter_mut().for_each(|c| *c = 0.0);
        let calm = h.wind_speed < case.options.floors.calm_wind_m_s;
        calm_hours += usize::from(calm);
        let to_puffs = calm && case.options.calm == CalmMode::Puff;
        let dt = 3600.0 / PUFF_SUBSTEPS as f64;
        let mut releases = vec![];
        for (src, q) in case.sources.iter().zip(&rates) {
            let sh = source_hour(case, src, h)?;
            if to_puffs {
                releases.push((src, sh.height, q));
                continue;
            }
            unit.iter_mut().for_each(|c| *c = 0.0);
            kernel::add_hour(&sh.plume, &|x| sh.sigma.at(x), &receptors, 1.0, &mut unit);
            for (r, &c) in unit.iter().enumerate() {
                for (s, &qs) in q.iter().enumerate() {
                    conc[r * ns + s] += c * qs;
                }
            }
        }
        puff_hours += usize::from(to_puffs);
        if to_puffs || !puffs.puffs.is_empty() {
            let no_deposition = vec![0.0; ns];
            let mut mean = vec![0.0; nr * ns];
            for _ in 0..PUFF_SUBSTEPS {
                for &(src, height, q) in &releases {
                    // kg per sub-step (the puff books kg; sampling gives kg/m³).
                    let mass: Vec<f64> = q.iter().map(|g| g * dt * 1e-3).collect();
                    let (x, y, sigma_y) = puff_origin(src);
                    puffs.release(x, y, height, sigma_y, 0.0, mass);
                }
                puffs.step(dt, |_, _, z| puff_met(case, h, z), &no_deposition);
                // Each receptor by one thread: identical for any thread count.
                let puffs = &puffs;
                mean.par_chunks_mut(ns).enumerate().for_each(|(r, m)| {
                    let z = case.receptors[r].flagpole;
                    let c = puffs.step_mean_concentration(receptors.x[r], receptors.y[r], z);
                    for (m, c) in m.iter_mut().zip(c) {
                        // kg/m³ → µg/m³, averaged over the sub-steps.
                        *m += c * 1e9 / PUFF_SUBSTEPS as f64;
                    }
                });
            }
            for (c, m) in conc.iter_mut().zip(&mean) {
                *c += m;
            }
        }
        out.push_hour((h.year, h.month, h.day, h.hour), Some(&conc))?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    let mut extra = BTreeMap::new();
    extra.insert("calm_hours".into(), calm_hours.into());
    extra.insert("calm_hours_in_puffs".into(), puff_hours.into());
    extra.insert("met_notes".into(), case.met.notes.clone().into());
    let balance: Vec<serde_json::Value> = case
        .species
        .iter()
        .enumerate()
        .map(|(s, name)| {
            serde_json::json!({
                "species": name,
                "emitted_kg": puffs.emitted[s],
                "in_puffs_kg": puffs.in_puffs()[s],
                "deposited_kg": puffs.deposited[s],
                "carried_out_kg": puffs.carried_out[s],
            })
        })
        .collect();
    extra.insert("puff_mass_kg".into(), balance.into());
    out.finish(extra)
}
