//! One validation pass that `run` relies on (issue 14): every numeric key
//! of the case has a range, sizes cannot overflow, time keys follow one
//! rule, runs are bounded in steps, sub-steps and output bytes, `check`
//! finishes in seconds, and chemistry turns a non-finite value into an
//! error. Each class runs the real binary (`check` and `run`): the exit
//! code, the key in the message, no panic and no output left behind.

mod common;
use common::*;
use std::time::Duration;

/// Both `check` and `run` refuse `text` with exit `code`, naming the case
/// file and every one of `words`, within 10 s, without a panic and
/// without leaving any output (final or temporary).
fn refused(text: &str, code: i32, words: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut message = String::new();
    for command in ["check", "run"] {
        let o = airshed(dir.path(), command, text);
        assert!(!o.stderr.contains("panicked"), "panic: {}", o.stderr);
        assert_eq!(
            o.code, code,
            "`{command}`: exit code; stdout {} stderr {}",
            o.stdout, o.stderr
        );
        assert!(
            o.stderr.contains("case.toml"),
            "`{command}` should name the case file: {}",
            o.stderr
        );
        for w in words {
            assert!(
                o.stderr.contains(w),
                "`{command}` should name {w:?}: {}",
                o.stderr
            );
        }
        assert!(
            o.elapsed < Duration::from_secs(10),
            "`{command}` took {:?}",
            o.elapsed
        );
        let left: Vec<_> = std::fs::read_dir(dir.path().join("out"))
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "`{command}` left output behind: {left:?}");
        message = o.stderr.trim().to_string();
    }
    println!("refused (exit {code}): {message}");
    message
}

/// A small lat-lon analytic case with the inorganic chemistry carried.
const BASE: &str = r#"
[run]
name = "v"
start = "2023-01-20T00:00:00Z"
hours = 1
dt_s = 600
[grid]
projection = "latlon"
nx = 10
ny = 10
dx = 0.1
dy = 0.1
centre_lon = 112.5
centre_lat = 27.5
layer_tops_m = [50, 200, 800]
[species]
names = ["PM25", "SO2", "SO4", "NOX", "HNO3", "NO3", "NH3", "NH4", "O3", "H2O2", "N2O5"]
[met]
kind = "analytic"
u_ms = 2.0
[boundary]
initial_ugm3 = { SO2 = 20.0, NOX = 30.0, NH3 = 10.0, O3 = 60.0, H2O2 = 1.0 }
[physics]
[output]
dir = "out"
"#;

/// `BASE` with each `(from, to)` replaced (every `from` must occur).
fn edit(pairs: &[(&str, &str)]) -> String {
    let mut text = BASE.to_string();
    for (from, to) in pairs {
        assert!(text.contains(from), "{from:?} not in the base case");
        text = text.replacen(from, to, 1);
    }
    text
}

#[test]
fn the_base_case_passes_check_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let o = airshed(dir.path(), "check", BASE);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("ok"), "{}", o.stdout);
    let o = airshed(dir.path(), "run", BASE);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(dir.path().join("out/v.nc").exists());
}

#[test]
fn every_numeric_key_out_of_its_range_is_refused_naming_the_key() {
    let met = "u_ms = 2.0";
    let phys = "[physics]\n";
    let out = "dir = \"out\"";
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        // The chemistry panics of the issue: each passed check before.
        (
            vec![("[50, 200, 800]", "[50, 200, 90000]")],
            "grid.layer_tops_m",
        ),
        (
            vec![("[50, 200, 800]", "[1e-308, 200, 800]")],
            "grid.layer_tops_m",
        ),
        (
            vec![("[50, 200, 800]", "[50, 55, 800]")],
            "grid.layer_tops_m",
        ),
        (vec![(met, "u_ms = nan")], "met.u_ms"),
        (vec![(met, "u_ms = 1e6")], "met.u_ms"),
        (vec![(met, "u_ms = 2.0\nv_ms = -101")], "met.v_ms"),
        (
            vec![(met, "u_ms = 2.0\nsurface_temperature_k = nan")],
            "met.surface_temperature_k",
        ),
        (
            vec![(met, "u_ms = 2.0\nsurface_temperature_k = -1.5")],
            "met.surface_temperature_k",
        ),
        (
            vec![(met, "u_ms = 2.0\nsurface_temperature_k = 5e-324")],
            "met.surface_temperature_k",
        ),
        (
            vec![(met, "u_ms = 2.0\nsurface_temperature_k = 400")],
            "met.surface_temperature_k",
        ),
        // 190 K less 6.5 K/km over 8 km is 138 K at the top.
        (
            vec![
                (met, "u_ms = 2.0\nsurface_temperature_k = 190"),
                ("[50, 200, 800]", "[50, 200, 8000]"),
            ],
            "met.surface_temperature_k/grid.layer_tops_m",
        ),
        (vec![(met, "u_ms = 2.0\nkz_m2s = 1e300")], "met.kz_m2s"),
        (
            vec![(met, "u_ms = 2.0\npblh_day_m = 1e9")],
            "met.pblh_day_m",
        ),
        (
            vec![(met, "u_ms = 2.0\npblh_night_m = 0")],
            "met.pblh_night_m",
        ),
        (
            vec![(met, "u_ms = 2.0\nprecip_mm_h = 1e4")],
            "met.precip_mm_h",
        ),
        (
            vec![(met, "u_ms = 2.0\nrelative_humidity = nan")],
            "met.relative_humidity",
        ),
        (
            vec![(met, "u_ms = 2.0\ncloud_water_gkg = inf")],
            "met.cloud_water_gkg",
        ),
        (
            vec![(met, "flow = \"rotation\"\nperiod_s = 1e-9")],
            "met.period_s",
        ),
        (
            vec![(phys, "[physics]\nkz_min_m2s = 1e300\n")],
            "physics.kz_min_m2s",
        ),
        (
            vec![(phys, "[physics]\nhorizontal_kh_m2s = 1e300\n")],
            "physics.horizontal_kh_m2s",
        ),
        (
            vec![(phys, "[physics]\nhorizontal_kh_m2s = -1\n")],
            "physics.horizontal_kh_m2s",
        ),
        (
            vec![(phys, "[physics]\nvertical_diffusion_theta = nan\n")],
            "physics.vertical_diffusion_theta",
        ),
        (
            vec![("hours = 1\n", "hours = 1\nmax_memory_gib = nan\n")],
            "run.max_memory_gib",
        ),
        (
            vec![("hours = 1\n", "hours = 1\nmax_memory_gib = 0\n")],
            "run.max_memory_gib",
        ),
        (
            vec![("hours = 1\n", "hours = 1\nmax_output_gib = -1\n")],
            "run.max_output_gib",
        ),
        (
            vec![("hours = 1\n", "hours = 1\nspin_up_hours = 1\n")],
            "run.spin_up_hours",
        ),
        (
            vec![("hours = 1\n", "hours = 1\nspin_up_hours = -1\n")],
            "run.spin_up_hours",
        ),
        (
            vec![("hours = 1\n", "hours = 1\nspin_up_hours = nan\n")],
            "run.spin_up_hours",
        ),
        (
            vec![("hours = 1\n", "hours = 1\nthreads = 100000\n")],
            "run.threads",
        ),
        (
            vec![("SO2 = 20.0", "SO2 = 1e300")],
            "boundary.initial_ugm3.SO2",
        ),
        (vec![("dx = 0.1\n", "dx = 1e-9\n")], "grid.dx"),
        (vec![("centre_lat = 27.5", "centre_lat = 89.9")], "grid.ny"),
        (
            vec![("centre_lon = 112.5", "centre_lon = inf")],
            "grid.centre_lon",
        ),
        (
            vec![(out, "dir = \"out\"\n[chemistry]\ncloud_ph = nan")],
            "chemistry.cloud_ph",
        ),
        (
            vec![(
                out,
                "dir = \"out\"\n[attribution]\nsectors = \"all\"\nepisode_ugm3 = 1e300",
            )],
            "attribution.episode_ugm3",
        ),
    ];
    for (pairs, key) in &cases {
        refused(&edit(pairs), 2, &[&format!("`{key}")]);
    }
    // A site (a top-level key, before the first table).
    refused(
        &format!("sites = [{{ name = \"x\", lon = 1e300, lat = 27.8 }}]\n{BASE}"),
        2,
        &["`sites[0]"],
    );
}

#[test]
fn a_latlon_dy_is_named_as_dy_and_a_tiny_courant_limit_says_what_is_expected() {
    let m = refused(&edit(&[("dy = 0.1", "dy = 6")]), 2, &["grid.dy"]);
    assert!(!m.contains("grid.dx"), "{m}");
    let m = refused(
        &edit(&[("[physics]\n", "[physics]\nmax_courant = 1e-300\n")]),
        2,
        &["physics.max_courant", "[0.1, 1]"],
    );
    assert!(!m.contains("non-finite"), "{m}");
}

#[test]
fn sizes_that_overflow_are_refused_before_anything_is_allocated() {
    // Overflowing nx*ny*nz: the case file's key, exit 2.
    refused(
        &edit(&[("nx = 10", "nx = 9223372036854775808")]),
        2,
        &["grid.nx"],
    );
    refused(
        &edit(&[
            ("nx = 10", "nx = 4294967296"),
            ("ny = 10", "ny = 4294967296"),
        ]),
        2,
        &["grid.nx"],
    );
    // Addressable but far beyond memory, even with a huge ceiling (which
    // the available memory caps): exit 4, not an allocation abort.
    for ceiling in ["", "max_memory_gib = 1e6\n"] {
        refused(
            &edit(&[
                ("hours = 1\n", &format!("hours = 1\n{ceiling}")),
                ("nx = 10", "nx = 3000000"),
                ("ny = 10", "ny = 500000"),
                ("dx = 0.1\n", "dx = 0.0001\n"),
                ("dy = 0.1\n", "dy = 0.0001\n"),
            ]),
            4,
            &["GiB", "max_memory_gib"],
        );
    }
}

#[test]
fn time_keys_follow_one_rule() {
    let hours = |h: &str| ("hours = 1\n", format!("hours = {h}\n"));
    let out = "dir = \"out\"";
    for (pairs, key) in [
        // hours a whole number (at least 1) of output intervals.
        (vec![hours("0.5")], "run.hours"),
        (vec![hours("1e-9")], "run.hours"),
        (
            vec![
                hours("5"),
                (out, "dir = \"out\"\ninterval_hours = 2".into()),
            ],
            "run.hours",
        ),
        (
            vec![(out, "dir = \"out\"\ninterval_hours = 1e5".into())],
            "run.hours",
        ),
        // Layers written: 1 to nz.
        (
            vec![(out, "dir = \"out\"\nlayers = 0".into())],
            "output.layers",
        ),
        (
            vec![(out, "dir = \"out\"\nlayers = 4".into())],
            "output.layers",
        ),
        // Steps that make progress: at least 1 s, at most 1e7 of them.
        (vec![("dt_s = 600", "dt_s = 1e-9".into())], "run.dt_s"),
        (vec![("dt_s = 600", "dt_s = 7200".into())], "run.dt_s"),
        (
            vec![(out, "dir = \"out\"\ninterval_hours = 1e-9".into())],
            "output.interval_hours",
        ),
        // 60.5 s intervals of 1 s steps would be cut into 61 of 0.99 s.
        (
            vec![
                hours("0.016805555555555556"),
                ("dt_s = 600", "dt_s = 1".into()),
                (
                    out,
                    "dir = \"out\"\ninterval_hours = 0.016805555555555556".into(),
                ),
            ],
            "output.interval_hours",
        ),
        (
            vec![hours("1e6"), ("dt_s = 600", "dt_s = 1".into())],
            "run.hours",
        ),
    ] {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(a, b)| (*a, b.as_str())).collect();
        refused(&edit(&pairs), 2, &[&format!("`{key}")]);
    }
}

#[test]
fn runs_beyond_the_output_ceiling_or_the_free_disk_are_refused_before_stepping() {
    // 1e5 hours of hourly output on a 300 x 300 grid: about 1.3 TB.
    let long = [
        ("hours = 1\n", "hours = 1e5\n"),
        ("dt_s = 600", "dt_s = 3600"),
        ("nx = 10", "nx = 300"),
        ("ny = 10", "ny = 300"),
        ("dx = 0.1\n", "dx = 0.01\n"),
        ("dy = 0.1\n", "dy = 0.01\n"),
    ];
    refused(&edit(&long), 4, &["max_output_gib"]);
    // The ceiling is a key: a small one refuses the base case.
    refused(
        &edit(&[("hours = 1\n", "hours = 1\nmax_output_gib = 1e-6\n")]),
        4,
        &["max_output_gib"],
    );
    // Raised to 1 PiB, 1e7 hours (100 TB) meets the free space instead.
    let mut huge = long.to_vec();
    huge[0] = ("hours = 1\n", "hours = 1e7\nmax_output_gib = 1048576\n");
    refused(&edit(&huge), 4, &["free space"]);
}

#[test]
fn steps_the_analytic_wind_or_kh_would_cut_too_fine_are_refused_up_front() {
    // 50 m/s over 10 m cells in an hour: 18000 cells per step.
    let cartesian = [
        ("projection = \"latlon\"", "projection = \"cartesian\""),
        ("dx = 0.1\n", "dx = 10\n"),
        ("dy = 0.1\n", "dy = 10\n"),
        ("dt_s = 600", "dt_s = 3600"),
    ];
    let mut fast = cartesian.to_vec();
    fast.push(("u_ms = 2.0", "u_ms = 50.0"));
    fast.push(("[physics]\n", "[physics]\nhorizontal_kh_m2s = 0\n"));
    refused(&edit(&fast), 2, &["`run.dt_s", "sub-steps"]);
    // Kh = 1e4 m2/s over 10 m cells: explicit diffusion would need 1.4e7.
    let mut kh = cartesian.to_vec();
    kh.push(("u_ms = 2.0", "u_ms = 0.0"));
    kh.push(("[physics]\n", "[physics]\nhorizontal_kh_m2s = 1e4\n"));
    refused(&edit(&kh), 2, &["`physics.horizontal_kh_m2s", "sub-steps"]);
}

#[test]
fn a_met_wind_that_needs_too_many_sub_steps_stops_the_run_naming_cell_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = MetSpec::new(8, 6, 3, 2);
    spec.edit = |name, t, v| {
        if name == "u" && t >= 1 {
            v[3 * 8 + 4] = 140.0;
        }
    };
    {
        let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        write_met(&dir.path().join("met.nc"), &spec);
    }
    // 100 m cells and hour-long steps: the ordinary 2-3 m/s wind takes
    // about 100 sub-steps, the 140 m/s cell several thousand.
    let text = netcdf_case(2, "[physics]\nhorizontal_kh_m2s = 0.0")
        .replace("dx = 3000.0", "dx = 100.0")
        .replace("dy = 3000.0", "dy = 100.0")
        .replace("dt_s = 600", "dt_s = 3600");
    let o = airshed(dir.path(), "check", &text);
    assert_eq!(o.code, 0, "140 m/s is a valid wind: {}", o.stderr);
    let o = airshed(dir.path(), "run", &text);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    assert_eq!(o.code, 5, "{}", o.stderr);
    for w in [
        "advection",
        "sub-steps",
        "1000",
        "cell (k=0, j=3, i=",
        "h after the start",
        "u =",
    ] {
        assert!(o.stderr.contains(w), "should name {w:?}: {}", o.stderr);
    }
    let left: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "output left behind: {left:?}");
    println!("stopped (exit 5): {}", o.stderr.trim());
}

/// A small Cartesian diagnostic-wind case.
const DIAGNOSTIC: &str = r#"
[run]
name = "d"
start = "2023-01-20T00:00:00Z"
hours = 1
dt_s = 600
[grid]
projection = "cartesian"
nx = 12
ny = 12
dx = 4000.0
dy = 4000.0
layer_tops_m = [50, 150, 400, 1000]
[species]
names = ["TRACER"]
[met]
kind = "diagnostic"
regime = "winter"
terrain = { shape = "hill", height_m = 300.0, radius_km = 5.0 }
[output]
dir = "out"
"#;

#[test]
fn check_refuses_in_seconds_what_used_to_run_for_minutes() {
    let diag = |from: &str, to: &str| {
        assert!(DIAGNOSTIC.contains(from));
        DIAGNOSTIC.replacen(from, to, 1)
    };
    // Station winds on a grid with dy = 5e-324 (the stations file is never read).
    refused(
        &diag(
            "regime = \"winter\"",
            "regime = \"winter\"\nstations = \"s.csv\"",
        )
        .replace("dy = 4000.0", "dy = 5e-324"),
        2,
        &["`grid.dy"],
    );
    refused(
        &diag("radius_km = 5.0", "radius_km = 1e6"),
        2,
        &["`met.terrain.radius_km"],
    );
    // A 100 km search around each of 200 x 200 columns of 100 m: 1.6e11 visits.
    refused(
        &diag("radius_km = 5.0", "radius_km = 50.0")
            .replace("nx = 12", "nx = 200")
            .replace("ny = 12", "ny = 200")
            .replace("dx = 4000.0", "dx = 100.0")
            .replace("dy = 4000.0", "dy = 100.0"),
        2,
        &["`met.terrain.radius_km", "obstacle search"],
    );
    // Coarse gridded winds on 1e-9 m cells (the file is never read).
    refused(
        &diag("regime = \"winter\"", "file = \"coarse.nc\"").replace("dx = 4000.0", "dx = 1e-9"),
        2,
        &["`grid.dx"],
    );
    // The diagnostic model works in metres: a lat-lon grid is refused.
    refused(
        &diag(
            "projection = \"cartesian\"",
            "projection = \"latlon\"\ncentre_lon = 112.5\ncentre_lat = 27.5",
        )
        .replace("dx = 4000.0", "dx = 0.05")
        .replace("dy = 4000.0", "dy = 0.05"),
        2,
        &["`met.kind", "metric grid"],
    );
    refused(
        &diag("height_m = 300.0", "height_m = 3e4"),
        2,
        &["`met.terrain.height_m"],
    );
}

#[test]
fn more_than_256_layers_run_with_diagnostic_met() {
    let tops: Vec<String> = (1..=300).map(|k| (20 * k).to_string()).collect();
    let text = DIAGNOSTIC.replace("[50, 150, 400, 1000]", &format!("[{}]", tops.join(", ")));
    let dir = tempfile::tempdir().unwrap();
    let o = airshed(dir.path(), "run", &text);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(dir.path().join("out/d.nc").exists());
}

#[test]
fn chemistry_reports_a_value_it_makes_non_finite_instead_of_panicking() {
    let dir = tempfile::tempdir().unwrap();
    // Chemistry alone, in a cell whose nitrate precursors sit at the top
    // of the f64 range: the partitioning overflows.
    let text = BASE.replace(
        "[physics]\n",
        "[physics]\nadvection = false\nvertical_diffusion = false\nhorizontal_kh_m2s = 0\ndry_deposition = false\nwet_deposition = false\n",
    );
    let mut sim = common::sim(&text, dir.path());
    let t = &sim.model.state.tracers;
    let (nh3, hno3) = (
        t.index(t.species_index("NH3").unwrap(), 0),
        t.index(t.species_index("HNO3").unwrap(), 0),
    );
    sim.model.state.mass[[nh3, 1, 2, 3]] = 1.5e308;
    sim.model.state.mass[[hno3, 1, 2, 3]] = 1.5e308;
    let err = match sim.step() {
        Err(e) => e,
        Ok(_) => panic!("a non-finite result was not reported"),
    };
    let text = err.to_string();
    println!("{text}");
    assert_eq!(err.exit_code(), 5, "{text}");
    assert!(text.contains("chemistry"), "{text}");
    assert!(text.contains("cell (k=1, j=2, i=3)"), "{text}");
    assert!(
        ["NH3", "NH4", "HNO3", "NO3"]
            .iter()
            .any(|s| text.contains(s)),
        "{text}"
    );
}

/// A stations file of 2,000 rows, each with an ignored 10 kB `note` column
/// (20 MB): `check` took 14 s when every row's line number was counted
/// from the top of the file (found by the long fuzz campaign, seed 1).
/// Line numbers must still be right when counted on from the last row.
#[test]
fn a_large_csv_is_read_in_linear_time_with_its_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let note = "x".repeat(10_000);
    let mut csv =
        String::from("hour,station,lon,lat,speed_ms,direction_deg,note\n# a comment line\n\n");
    for r in 0..2000 {
        let (name, x) = if r % 2 == 0 {
            ("west", 112.4)
        } else {
            ("east", 112.6)
        };
        // Hours 0 and 1 (a 1 h run needs both ends), 1000 rows each.
        csv += &format!("{},{name},{x},27.5,3.0,270,{note}\n", r / 1000);
    }
    let text = DIAGNOSTIC.replacen(
        "regime = \"winter\"",
        "regime = \"winter\"\nstations = \"stations.csv\"",
        1,
    );
    std::fs::write(dir.path().join("stations.csv"), &csv).unwrap();
    let o = airshed(dir.path(), "check", &text);
    println!("check of a 20 MB stations file: {:?}", o.elapsed);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.elapsed < Duration::from_secs(3),
        "check took {:?}: {}",
        o.elapsed,
        o.stderr
    );
    // A bad speed on the last row (line 3 + 2000) is named by its line.
    let last = csv.rfind("1,east").unwrap();
    let bad = format!(
        "{}{}",
        &csv[..last],
        csv[last..].replacen(",3.0,", ",fast,", 1)
    );
    std::fs::write(dir.path().join("stations.csv"), bad).unwrap();
    let o = airshed(dir.path(), "check", &text);
    println!("{}", o.stderr);
    assert_ne!(o.code, 0, "{}", o.stdout);
    assert!(o.stderr.contains("line 2003"), "{}", o.stderr);
    assert!(o.stderr.contains("speed_ms"), "{}", o.stderr);
}
