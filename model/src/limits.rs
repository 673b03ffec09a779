//! The limits that keep a run bounded in time and in disk space, in one
//! place: `config` checks a case against them before anything is computed
//! (so `airshed check` reports the same refusals as `airshed run`),
//! advection and horizontal diffusion enforce the sub-step cap while
//! running, and [`check_output`] compares the run's estimated output with
//! `run.max_output_gib` and the free space of the output directory.
//! `docs/case-file.md` ("Limits") lists them for users.

use crate::error::{Error, Result};
use std::path::Path;

/// Shortest outer step, s. Regional models step minutes (CMAQ's
/// synchronisation step is at most 720 s; CAMx 5-15 min); 1 s is already
/// below any large-eddy grid this model accepts (10 m cells at 10 m/s).
pub const MIN_DT_S: f64 = 1.0;

/// Most outer steps in one run: a year at 3.2 s steps, or ten years at
/// 32 s. More is a mistyped step or length, not a run.
pub const MAX_STEPS: u64 = 10_000_000;

/// Most sub-steps advection (each of its horizontal and vertical sweeps)
/// or horizontal diffusion may take inside one outer step. An outer step
/// cut into more than 1000 pieces means the step is far too long for the
/// grid and wind (operator splitting then has no meaning) or the met has a
/// wild value; the run stops with exit 5 naming the cell and the time.
pub const MAX_SUBSTEPS: usize = 1000;

/// Default `run.max_output_gib`: the estimated (uncompressed) size of all
/// of a run's output files above which it is refused up front.
pub const DEFAULT_MAX_OUTPUT_GIB: f64 = 50.0;

/// Bytes in a GiB.
pub const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// A number as a person would write it in a message: 1e300, not 301
/// digits; 2.25, not 2.2500e0.
pub fn num(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e7).contains(&v.abs()) {
        let s = format!("{v:.4e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        format!("{mantissa}e{exponent}")
    } else if v.is_finite() && v.fract() != 0.0 {
        // At most 6 significant digits, without trailing zeros.
        let digits = (5 - v.abs().log10().floor() as i32).clamp(0, 9) as usize;
        let s = format!("{v:.digits$}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v}")
    }
}

/// Bytes in binary units: 512 B, 3.2 MiB, 1.3 TiB.
pub fn bytes(b: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut x = b;
    let mut u = 0;
    while x >= 1024.0 && u + 1 < units.len() {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{x:.0} B")
    } else {
        format!("{x:.1} {}", units[u])
    }
}

/// Rough bytes a run needs for `cells` grid cells and `ntracers` tracers
/// (species x tags): four tracer-sized arrays (state, output accumulator,
/// kernel work) and about 48 cell-sized ones (three met instants of ~12
/// fields, advection work arrays). In f64, so it cannot overflow.
pub fn memory_bytes(cells: usize, ntracers: usize) -> f64 {
    (ntracers as f64 * 4.0 + 48.0) * cells as f64 * 8.0
}

fn available_memory() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0)
}

/// Refuse (exit 4) a run of `cells` cells and `ntracers` tracers that
/// cannot fit, before anything grid-sized is allocated. The ceiling is the
/// smallest of `run.max_memory_gib`, the machine's available memory and
/// what one array can address, so no allocation can overflow whatever the
/// sizes (`file` names the case).
pub fn check_memory(
    file: &Path,
    max_memory_gib: Option<f64>,
    cells: usize,
    ntracers: usize,
) -> Result<()> {
    let needed = memory_bytes(cells, ntracers);
    // f64::min passes over a NaN ceiling (validation refuses one anyway).
    let limit = [
        max_memory_gib.map(|g| g * GIB),
        available_memory(),
        Some(isize::MAX as f64),
    ]
    .into_iter()
    .flatten()
    .fold(f64::INFINITY, f64::min);
    if needed > limit {
        return Err(Error::Memory {
            what: "memory",
            needed_gib: needed / GIB,
            available_gib: limit / GIB,
            hint: format!(
                "{}: reduce grid.nx/ny or the number of layers or species (ceiling: run.max_memory_gib or the available memory)",
                file.display()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_sizes_read_as_a_person_writes_them() {
        assert_eq!(num(1e300), "1e300");
        assert_eq!(num(5e-324), "4.9407e-324");
        assert_eq!(num(2.25), "2.25");
        assert_eq!(num(36.625), "36.625");
        assert_eq!(num(-101.0), "-101");
        assert_eq!(num(0.016805555555555556), "0.0168056");
        assert_eq!(num(287.15), "287.15");
        assert_eq!(num(101325.123456), "101325");
        assert_eq!(num(f64::NAN), "NaN");
        assert_eq!(num(1.5e7), "1.5e7");
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(1.5 * GIB), "1.5 GiB");
    }
}
