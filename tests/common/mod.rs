//! Helpers shared by the integration tests.
#![allow(dead_code)]

use airshed::config::Case;
use airshed::run::Model;
use std::path::Path;

/// Parse a case from TOML text as if it lived at `dir/case.toml`.
pub fn case(text: &str, dir: &Path) -> Case {
    Case::from_str(text, &dir.join("case.toml"))
        .unwrap_or_else(|e| panic!("test case invalid: {e}"))
}

pub fn model(text: &str, dir: &Path) -> Model {
    Model::from_case(&case(text, dir)).unwrap_or_else(|e| panic!("model build failed: {e}"))
}

/// Error norms of `a` against exact `b`, normalised by the exact field:
/// L1 = sum|a-b| / sum|b|, L2 = sqrt(sum (a-b)^2 / sum b^2), Linf = max|a-b| / max|b|.
pub fn norms(a: &[f64], b: &[f64]) -> (f64, f64, f64) {
    let (mut e1, mut n1, mut e2, mut n2, mut ei, mut ni) = (0.0, 0.0, 0.0, 0.0, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let d = (x - y).abs();
        e1 += d;
        n1 += y.abs();
        e2 += d * d;
        n2 += y * y;
        ei = ei.max(d);
        ni = ni.max(y.abs());
    }
    (e1 / n1, (e2 / n2).sqrt(), ei / ni)
}

/// A 2-D single-layer Cartesian periodic case driven by an analytic flow,
/// with every process but advection off.
pub fn flow_case(n: usize, flow: &str, period_s: f64) -> String {
    format!(
        r#"
[run]
name = "flow"
start = "2023-01-01T00:00:00Z"
hours = 1
dt_s = 60
[grid]
projection = "cartesian"
nx = {n}
ny = {n}
dx = 1000.0
dy = 1000.0
layer_tops_m = [100.0]
lateral = "periodic"
[species]
names = ["TRACER"]
[met]
kind = "analytic"
flow = "{flow}"
period_s = {period_s}
constant_density = true
[physics]
horizontal_kh_m2s = 0.0
vertical_diffusion = false
dry_deposition = false
wet_deposition = false
[output]
dir = "out"
"#
    )
}

/// Mixing ratios (tracer / air) of the lowest layer of tracer 0, flattened.
pub fn mixing_ratio_layer0(m: &Model) -> Vec<f64> {
    let t = m.state.tracer(0);
    let a = &m.state.air_mass;
    let (_, ny, nx) = a.dim();
    let mut out = Vec::with_capacity(ny * nx);
    for j in 0..ny {
        for i in 0..nx {
            out.push(t[[0, j, i]] / a[[0, j, i]]);
        }
    }
    out
}

/// Set tracer 0 of layer 0 from a mixing-ratio function of cell (i, j).
pub fn set_mixing_ratio(m: &mut Model, f: impl Fn(usize, usize) -> f64) {
    let (_, ny, nx) = m.state.air_mass.dim();
    for j in 0..ny {
        for i in 0..nx {
            let air = m.state.air_mass[[0, j, i]];
            m.state.mass[[0, 0, j, i]] = f(i, j) * air;
        }
    }
}

/// Serialise tests that spawn the binary or touch NetCDF files.
pub static IO_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
