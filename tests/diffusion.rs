//! Diffusion against analytic solutions, and a continuous ground-level point
//! source against the steady advection-diffusion solution.

mod common;
use common::*;
use std::f64::consts::PI;

/// A closed 4 x 4 column with constant Kz and only vertical diffusion.
fn column_case(nz: usize, height: f64, kz: f64, dt: f64, theta: f64) -> String {
    let tops: Vec<String> = (1..=nz)
        .map(|k| format!("{}", height * k as f64 / nz as f64))
        .collect();
    format!(
        r#"
[run]
name = "col"
start = "2023-01-01T00:00:00Z"
hours = 1
dt_s = {dt}
[grid]
projection = "cartesian"
nx = 4
ny = 4
dx = 1000.0
dy = 1000.0
layer_tops_m = [{}]
[species]
names = ["TRACER"]
[met]
kind = "analytic"
flow = "calm"
kz_m2s = {kz}
constant_density = true
[physics]
advection = false
horizontal_kh_m2s = 0.0
dry_deposition = false
wet_deposition = false
vertical_diffusion_theta = {theta}
[output]
dir = "out"
"#,
        tops.join(", ")
    )
}

#[test]
fn vertical_diffusion_matches_the_decaying_cosine_mode() {
    // Closed column of height H, constant K: r = 1 + cos(pi z/H) exp(-K pi^2 t / H^2).
    let (h, k, t_end) = (1000.0, 10.0, 6000.0);
    let mut errs = Vec::new();
    for nz in [10, 20, 40] {
        let dir = tempfile::tempdir().unwrap();
        // Crank-Nicolson with a short step isolates the spatial error.
        let steps = 600;
        let mut m = sim(
            &column_case(nz, h, k, t_end / steps as f64, 0.5),
            dir.path(),
        );
        let dz = h / nz as f64;
        let layer_mean = |kk: usize, amp: f64| {
            1.0 + amp * ((PI * (kk + 1) as f64 * dz / h).sin() - (PI * kk as f64 * dz / h).sin())
                / (PI * dz / h)
        };
        for kk in 0..nz {
            for j in 0..4 {
                for i in 0..4 {
                    m.model.state.mass[[0, kk, j, i]] =
                        layer_mean(kk, 1.0) * m.model.state.air_mass[[kk, j, i]];
                }
            }
        }
        reset_budget(&mut m);
        let before = m.model.state.totals()[0];
        for _ in 0..steps {
            m.step().unwrap();
        }
        let amp = (-k * PI * PI * t_end / (h * h)).exp();
        let got: Vec<f64> = (0..nz)
            .map(|kk| m.model.state.mass[[0, kk, 1, 1]] / m.model.state.air_mass[[kk, 1, 1]])
            .collect();
        let want: Vec<f64> = (0..nz).map(|kk| layer_mean(kk, amp)).collect();
        let err = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let dm = (m.model.state.totals()[0] - before) / before;
        assert!(dm.abs() < 1e-13, "mass change {dm}");
        errs.push((nz, err));
    }
    for w in errs.windows(2) {
        let order = (w[0].1 / w[1].1).log2();
        println!(
            "vertical diffusion: nz={} max error {:.2e}, nz={} max error {:.2e}, order {order:.2}",
            w[0].0, w[0].1, w[1].0, w[1].1
        );
        assert!(order > 1.8, "spatial order {order}");
    }
    assert!(errs[2].1 < 1e-3, "error at nz=40: {}", errs[2].1);
}

#[test]
fn backward_euler_vertical_diffusion_stays_positive_with_huge_steps() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = sim(&column_case(20, 2000.0, 500.0, 3600.0, 1.0), dir.path());
    m.model.state.mass[[0, 0, 2, 2]] = 1.0;
    reset_budget(&mut m);
    for _ in 0..3 {
        m.step().unwrap();
    }
    assert!(m.model.state.mass.iter().all(|&v| v >= 0.0));
    let dm = m.model.state.totals()[0] - 1.0;
    println!("backward Euler, K dt/dz^2 = 180: relative mass change {dm:.1e}");
    assert!(dm.abs() < 1e-12, "mass change {dm}");
}

#[test]
fn horizontal_diffusion_grows_variance_by_2kt() {
    let n = 81;
    let dir = tempfile::tempdir().unwrap();
    let (k, dt, steps) = (50.0, 100.0, 4);
    let text = flow_case(n, "calm", 1.0, dt)
        .replace("dx = 1000.0", "dx = 100.0")
        .replace("dy = 1000.0", "dy = 100.0")
        .replace(
            "horizontal_kh_m2s = 0.0",
            &format!("horizontal_kh_m2s = {k}"),
        )
        .replace("[physics]", "[physics]\nadvection = false");
    let mut m = sim(&text, dir.path());
    let sigma0 = 300.0;
    set_mixing_ratio(&mut m, |i, j| {
        let (x, y) = ((i as f64 - 40.0) * 100.0, (j as f64 - 40.0) * 100.0);
        (-(x * x + y * y) / (2.0 * sigma0 * sigma0)).exp()
    });
    let var_x = |m: &airshed::simulation::Simulation| {
        let t = m.model.state.tracer(0);
        let (mut s0, mut s2) = (0.0, 0.0);
        for ((_, _, i), &v) in t.indexed_iter() {
            let x = (i as f64 - 40.0) * 100.0;
            s0 += v;
            s2 += v * x * x;
        }
        s2 / s0
    };
    let v0 = var_x(&m);
    let t = dt * steps as f64;
    for _ in 0..steps {
        m.step().unwrap();
    }
    let growth = var_x(&m) - v0;
    println!(
        "horizontal diffusion: variance grew by {growth:.3} m2, 2Kt = {:.3} m2",
        2.0 * k * t
    );
    assert!(
        (growth - 2.0 * k * t).abs() < 1e-6 * 2.0 * k * t,
        "growth {growth}"
    );
}

/// Steady concentration from a continuous ground-level point source Q in
/// uniform wind U with isotropic constant K and a reflecting ground:
/// c = Q / (2 pi K r) exp(-U (r - x) / (2 K))  (e.g. Seinfeld & Pandis eq. 18.41 form
/// without the slender-plume approximation; the image source doubles the free-space 1/(4 pi K r)).
fn analytic_plume(q: f64, u: f64, k: f64, x: f64, y: f64, z: f64) -> f64 {
    let r = (x * x + y * y + z * z).sqrt();
    q / (2.0 * PI * k * r) * (-u * (r - x) / (2.0 * k)).exp()
}

#[test]
fn ground_point_source_converges_to_the_analytic_plume() {
    let (u, k, q) = (1.0, 5.0, 1.0);
    let mut rows = Vec::new();
    for dx in [100.0, 50.0, 25.0] {
        let (lx, ly, h) = (2000.0, 1000.0, 400.0);
        let (nx, ny, nz) = ((lx / dx) as usize, (ly / dx) as usize, (h / dx) as usize);
        let x_src = 500.0 + 0.5 * dx; // a cell centre
        let y_src = 500.0 + 0.5 * dx;
        let dir = tempfile::tempdir().unwrap();
        let deg = |m: f64| (m / airshed::grid::EARTH_RADIUS).to_degrees();
        std::fs::write(
            dir.path().join("src.csv"),
            format!("city,lon,lat,radius_km,sector,species,t_per_yr,source\nsrc,{},{},0.0001,other,TRACER,{},test\n", deg(x_src), deg(y_src), q * airshed::emissions::SECONDS_PER_YEAR / 1000.0),
        )
        .unwrap();
        let tops: Vec<String> = (1..=nz).map(|kk| format!("{}", kk as f64 * dx)).collect();
        // Refine time with space (dt ~ dx) so splitting error shrinks too.
        let dt = 0.6 * dx;
        let text = format!(
            r#"
[run]
name = "plume"
start = "2023-01-01T00:00:00Z"
hours = 1
dt_s = {dt}
[grid]
projection = "cartesian"
nx = {nx}
ny = {ny}
dx = {dx}
dy = {dx}
layer_tops_m = [{}]
[species]
names = ["TRACER"]
[met]
kind = "analytic"
flow = "uniform"
u_ms = {u}
kz_m2s = {k}
constant_density = true
[physics]
horizontal_kh_m2s = {k}
dry_deposition = false
wet_deposition = false
max_courant = 0.5
[emissions]
city_totals = ["src.csv"]
[output]
dir = "out"
"#,
            tops.join(", ")
        );
        let mut m = sim(&text, dir.path());
        for _ in 0..(3600.0 / dt) as usize {
            m.step().unwrap();
        }
        // Receptors on the centreline in the lowest layer, 200-1000 m downwind.
        let (mut e2, mut n2) = (0.0, 0.0);
        for xr in [200.0, 400.0, 700.0, 1000.0] {
            let i = ((x_src + xr) / dx - 0.5).round() as usize;
            let j = (y_src / dx - 0.5).round() as usize;
            let c = m.model.state.mass[[0, 0, j, i]] / m.model.grid.volume(0, j, i);
            let want = analytic_plume(q, u, k, (i as f64 + 0.5) * dx - x_src, 0.0, 0.5 * dx);
            e2 += (c - want).powi(2);
            n2 += want * want;
        }
        rows.push((dx, (e2 / n2).sqrt()));
    }
    for w in rows.windows(2) {
        let order = (w[0].1 / w[1].1).log2();
        println!("ground point source: dx={} rel. L2 error {:.3e}, dx={} rel. L2 error {:.3e}, order {order:.2}", w[0].0, w[0].1, w[1].0, w[1].1);
    }
    assert!(
        rows.windows(2).all(|w| w[1].1 < w[0].1),
        "error must fall with refinement: {rows:?}"
    );
    assert!(rows[2].1 < 0.03, "error at dx=25 m: {}", rows[2].1);
}
