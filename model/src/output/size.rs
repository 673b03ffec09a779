//! The up-front output-size check of a run (`check` and `run` alike): the
//! estimated bytes of every file it writes against `run.max_output_gib`
//! and the free space where they go. The constants and number formats are
//! `crate::limits`'.

use crate::config::Case;
use crate::error::{Error, Result};
use crate::limits::{bytes, GIB};
use crate::state::TracerSet;
use std::path::Path;

/// Estimated bytes of every file a run writes, before compression (an
/// upper bound: the NetCDF files are deflated): 4-byte floats per output
/// variable (the species and the PM2.5 and SOA totals), written layer and
/// output interval; the tags file (surface, per tag); the met file
/// (six 3-D and three 2-D fields); the site CSV (about 16 characters per
/// value). Computed in f64, so no size overflows.
pub fn output_bytes(case: &Case, tracers: &TracerSet) -> f64 {
    let records = case.run.hours / case.output.interval_hours;
    let plane = case.grid.nx as f64 * case.grid.ny as f64;
    let species = tracers.species.len() as f64;
    let variables = species + 2.0;
    let layers = case.output.layers as f64;
    let mut per_record = variables * layers * plane * 4.0;
    if tracers.is_tagged() {
        let tagged = (0..tracers.species.len())
            .filter(|&s| tracers.species_is_tagged(s))
            .count() as f64;
        per_record += (tagged + 1.0) * tracers.n_tags() as f64 * plane * 4.0;
    }
    if case.output.met_fields {
        per_record += (6.0 * layers + 3.0) * plane * 4.0;
    }
    per_record += case.sites.len() as f64 * (variables * 16.0 + 64.0);
    // Coordinates and the like, once per file.
    records * per_record + 4.0 * plane * 8.0
}

/// Refuse (exit 4) a run whose outputs would exceed `run.max_output_gib`
/// or the free space where they go (`dir`, or its nearest existing
/// ancestor when it does not exist yet).
pub fn check_output(case: &Case, tracers: &TracerSet, dir: &Path) -> Result<()> {
    let needed = output_bytes(case, tracers);
    let ceiling = case.run.max_output_gib * GIB;
    let refuse = |limit: f64, why: String| {
        Error::Memory {
        what: "output size",
        needed_gib: needed / GIB,
        available_gib: limit / GIB,
        hint: format!(
            "{}: the outputs (about {} over {} output intervals of the {} written layers, estimated before compression) exceed {why}; shorten run.hours, write fewer output.layers or a longer output.interval_hours",
            case.file.display(),
            bytes(needed),
            case.intervals(),
            case.output.layers,
        ),
    }
    };
    if needed > ceiling {
        return Err(refuse(
            ceiling,
            format!(
                "key `run.max_output_gib` ({}; raise it if the disk can take it)",
                bytes(ceiling)
            ),
        ));
    }
    if let Some((free, at)) = free_space(dir) {
        if needed > free {
            return Err(refuse(
                free,
                format!("the free space of {} ({})", at.display(), bytes(free)),
            ));
        }
    }
    Ok(())
}

/// Free bytes for an unprivileged user on the file system holding `dir`
/// (or its nearest existing ancestor), and that directory.
fn free_space(dir: &Path) -> Option<(f64, std::path::PathBuf)> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let at = dir.ancestors().find(|p| p.is_dir())?.to_path_buf();
    available(&at).map(|bytes| (bytes, at))
}

#[cfg(unix)]
fn available(dir: &Path) -> Option<f64> {
    let s = rustix::fs::statvfs(dir).ok()?;
    Some(s.f_bavail as f64 * s.f_frsize as f64)
}

#[cfg(not(unix))]
fn available(_dir: &Path) -> Option<f64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_free_space_of_a_missing_directory_is_its_parents() {
        let tmp = std::env::temp_dir();
        let (free, at) = free_space(&tmp.join("no/such/dir")).expect("a unix file system");
        assert!(free > 0.0);
        assert_eq!(at, tmp);
    }
}
