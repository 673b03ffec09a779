//! Hostile input files (issue 14): every reader refuses what it cannot use
//! with exit 3, naming the file, the variable or field and, where it
//! matters, the record and cell, without a panic and without leaving an
//! output; units and CF conventions are honoured; and `check` refuses what
//! `run` would. Each case runs the real binary.

mod common;
use airshed::config::GridSpec;
use airshed::grid::Grid;
use airshed::met::netcdf::NetcdfMet;
use airshed::met::MetSource;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Exit code, no panic, every needle in the message, no output left.
#[track_caller]
fn assert_refused(dir: &Path, o: &Outcome, code: i32, needles: &[&str]) {
    assert!(!o.stderr.contains("panicked"), "panic: {}", o.stderr);
    assert_eq!(o.code, code, "exit code; stderr: {}", o.stderr);
    for n in needles {
        assert!(
            o.stderr.contains(n),
            "message should name {n:?}: {}",
            o.stderr
        );
    }
    let left: Vec<_> = std::fs::read_dir(dir.join("out"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "output left behind: {left:?}");
    println!("refused (exit {code}): {}", o.stderr.trim());
}

/// Both `check` and `run` refuse the case the same way.
#[track_caller]
fn assert_both_refuse(dir: &Path, case_text: &str, code: i32, needles: &[&str]) {
    for sub in ["check", "run"] {
        let o = airshed(dir, sub, case_text);
        assert_refused(dir, &o, code, needles);
    }
}

// ---------------------------------------------------------------- CF met

enum Attr {
    Text(&'static str),
    Num(f64),
}

/// A CF met file like `common::write_met` (8 x 6 x 3, records hourly from
/// 0), in CDF-5 or netCDF-4, with attributes `(variable, name, value)`
/// (`_FillValue` set as the fill value) and values edited per record.
fn write_cf(
    path: &Path,
    nc4: bool,
    hours: usize,
    attrs: &[(&str, &str, Attr)],
    edit: impl Fn(&str, usize, &mut Vec<f64>),
) {
    let (nx, ny, nz, nt) = (8, 6, 3, hours + 1);
    let mut f = if nc4 {
        netcdf::create(path).unwrap()
    } else {
        netcdf::create_with(path, netcdf::Options::_64BIT_DATA).unwrap()
    };
    for (d, n) in [("time", nt), ("z", nz), ("y", ny), ("x", nx)] {
        f.add_dimension(d, n).unwrap();
    }
    let three = ["u", "v", "temperature", "pressure"];
    let two = ["pblh", "ustar", "obukhov_length", "precip"];
    let names: Vec<&str> = std::iter::once("time").chain(three).chain(two).collect();
    for name in &names {
        let dims: &[&str] = match *name {
            "time" => &["time"],
            n if three.contains(&n) => &["time", "z", "y", "x"],
            _ => &["time", "y", "x"],
        };
        let mut v = f.add_variable::<f64>(name, dims).unwrap();
        for (var, attr, value) in attrs {
            if var != name {
                continue;
            }
            match (*attr, value) {
                ("_FillValue", Attr::Num(x)) => v.set_fill_value(*x).unwrap(),
                (a, Attr::Num(x)) => {
                    v.put_attribute(a, *x).unwrap();
                }
                (a, Attr::Text(t)) => {
                    v.put_attribute(a, *t).unwrap();
                }
            }
        }
    }
    if !nc4 {
        f.enddef().unwrap();
    }
    let mut times: Vec<f64> = (0..nt).map(|t| t as f64).collect();
    edit("time", 0, &mut times);
    f.variable_mut("time")
        .unwrap()
        .put_values(&times, ..)
        .unwrap();
    for t in 0..nt {
        for name in three.iter().chain(&two) {
            let n = if three.contains(name) {
                nz * ny * nx
            } else {
                ny * nx
            };
            let base = match *name {
                "u" => 2.0 + t as f64 * 0.5,
                "v" => -1.0,
                "temperature" => 280.0,
                "pressure" => 95_000.0,
                "pblh" => 800.0,
                "ustar" => 0.3,
                "obukhov_length" => -100.0,
                _ => 0.2,
            };
            let mut vals = vec![base; n];
            edit(name, t, &mut vals);
            let ext: Vec<std::ops::Range<usize>> = if three.contains(name) {
                vec![t..t + 1, 0..nz, 0..ny, 0..nx]
            } else {
                vec![t..t + 1, 0..ny, 0..nx]
            };
            f.variable_mut(name)
                .unwrap()
                .put_values(&vals, ext.as_slice())
                .unwrap();
        }
    }
    f.close().unwrap();
}

fn cf_grid() -> Grid {
    Grid::new(&GridSpec::cartesian(8, 6, 3000.0, &[60.0, 250.0, 1000.0]))
}

fn start() -> airshed::time::StartTime {
    airshed::time::parse_start("2023-01-20T00:00:00Z").unwrap()
}

/// The met of a CF file at `t` seconds.
fn cf_met_at(path: &Path, hours: usize, t: f64) -> airshed::met::MetFields {
    let mut met = NetcdfMet::open(path, &cf_grid(), start(), 0.1, hours as f64 * 3600.0).unwrap();
    met.at(t).unwrap()
}

#[test]
fn cf_met_units_are_converted_through_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let plain = dir.path().join("plain.nc");
    write_cf(&plain, false, 3, &[], |_, _, _| {});
    // The same weather in km/h, knots, hPa, degC, kg m-2 s-1, km, and time
    // in seconds since the start; then in minutes since an hour before it.
    let converted = dir.path().join("converted.nc");
    write_cf(
        &converted,
        true,
        3,
        &[
            ("u", "units", Attr::Text("km/h")),
            ("v", "units", Attr::Text("knots")),
            ("pressure", "units", Attr::Text("hPa")),
            ("temperature", "units", Attr::Text("degC")),
            ("precip", "units", Attr::Text("kg m-2 s-1")),
            ("pblh", "units", Attr::Text("km")),
            (
                "time",
                "units",
                Attr::Text("seconds since 2023-01-20 00:00:00"),
            ),
        ],
        |name, _, v| {
            let to_file = |x: f64| match name {
                "u" => x * 3.6,
                "v" => x * 3600.0 / 1852.0,
                "pressure" => x / 100.0,
                "temperature" => x - 273.15,
                "precip" => x / 3600.0,
                "pblh" => x / 1000.0,
                "time" => x * 3600.0,
                _ => x,
            };
            v.iter_mut().for_each(|x| *x = to_file(*x));
        },
    );
    let shifted = dir.path().join("shifted.nc");
    write_cf(
        &shifted,
        false,
        4,
        &[(
            "time",
            "units",
            Attr::Text("minutes since 2023-01-19T23:00:00Z"),
        )],
        |name, t, v| match name {
            // Records at -1 ... 3 h; u as in `plain` one record later.
            "time" => v.iter_mut().for_each(|x| *x *= 60.0),
            "u" => v.fill(2.0 + (t as f64 - 1.0) * 0.5),
            _ => {}
        },
    );
    for t in [0.0, 1800.0, 3.0 * 3600.0] {
        let a = cf_met_at(&plain, 3, t);
        let b = cf_met_at(&converted, 3, t);
        let c = cf_met_at(&shifted, 3, t);
        let worst = |x: &ndarray::Array3<f64>, y: &ndarray::Array3<f64>| {
            x.iter()
                .zip(y.iter())
                .fold(0.0f64, |m, (p, q)| m.max((p - q).abs() / q.abs().max(1.0)))
        };
        let w2 = |x: &ndarray::Array2<f64>, y: &ndarray::Array2<f64>| {
            x.iter()
                .zip(y.iter())
                .fold(0.0f64, |m, (p, q)| m.max((p - q).abs() / q.abs().max(1.0)))
        };
        let errors = [
            worst(&b.u_face, &a.u_face),
            worst(&b.v_face, &a.v_face),
            worst(&b.pressure, &a.pressure),
            worst(&b.temperature, &a.temperature),
            w2(&b.precip, &a.precip),
            w2(&b.pblh, &a.pblh),
            worst(&c.u_face, &a.u_face),
        ];
        println!("t = {t} s: converted vs m/s, Pa, K, mm/h, m: {errors:?}");
        assert!(errors.iter().all(|e| *e < 1e-12), "{errors:?}");
    }
}

#[test]
fn cf_met_units_the_table_does_not_know_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    {
        let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        write_cf(
            &dir.path().join("met.nc"),
            false,
            3,
            &[("u", "units", Attr::Text("furlongs/fortnight"))],
            |_, _, _| {},
        );
    }
    assert_both_refuse(
        dir.path(),
        &netcdf_case(3, ""),
        3,
        &[
            "met.nc",
            "field `u`",
            "furlongs/fortnight",
            "\"m s-1\"",
            "\"km/h\"",
        ],
    );
    {
        let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        write_cf(
            &dir.path().join("met.nc"),
            false,
            3,
            &[("time", "units", Attr::Text("hours since yesterday"))],
            |_, _, _| {},
        );
    }
    assert_both_refuse(
        dir.path(),
        &netcdf_case(3, ""),
        3,
        &["met.nc", "field `time`", "hours since yesterday"],
    );
    // Pressure in hPa with no units: taken as Pa, and refused by its range.
    {
        let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        write_cf(&dir.path().join("met.nc"), false, 3, &[], |name, _, v| {
            if name == "pressure" {
                v.iter_mut().for_each(|p| *p /= 100.0);
            }
        });
    }
    assert_both_refuse(
        dir.path(),
        &netcdf_case(3, ""),
        3,
        &[
            "met.nc",
            "field `pressure`",
            "30000 exp(-z / 5000 m)",
            "record 0 at (z=0, y=0, x=0)",
        ],
    );
}

#[test]
fn fill_and_missing_values_in_met_are_refused_by_record_and_cell() {
    let dir = tempfile::tempdir().unwrap();
    {
        let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        write_cf(
            &dir.path().join("met.nc"),
            true,
            3,
            &[("temperature", "_FillValue", Attr::Num(-999.0))],
            |name, t, v| {
                if name == "temperature" && t == 2 {
                    v[8 * 6 + 8 + 3] = -999.0; // z=1, y=1, x=3
                }
            },
        );
    }
    assert_both_refuse(
        dir.path(),
        &netcdf_case(3, ""),
        3,
        &[
            "met.nc",
            "temperature",
            "record 2 at (z=1, y=1, x=3)",
            "_FillValue",
        ],
    );
    {
        let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        write_cf(
            &dir.path().join("met.nc"),
            false,
            3,
            &[("pblh", "missing_value", Attr::Num(-1.0))],
            |name, t, v| {
                if name == "pblh" && t == 1 {
                    v[5] = -1.0;
                }
            },
        );
    }
    assert_both_refuse(
        dir.path(),
        &netcdf_case(3, ""),
        3,
        &["met.nc", "pblh", "record 1 at (y=0, x=5)", "missing_value"],
    );
}

#[test]
fn truncated_met_files_are_refused_in_both_formats() {
    for nc4 in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("met.nc");
        {
            let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
            write_cf(&path, nc4, 3, &[], |_, _, _| {});
        }
        let len = std::fs::metadata(&path).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(len * 97 / 100).unwrap();
        drop(f);
        assert_both_refuse(
            dir.path(),
            &netcdf_case(3, ""),
            3,
            &["met.nc", "(file)", "truncated"],
        );
    }
}

// ------------------------------------------------------------------- WRF

fn make_wrfout(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make-wrfout.py");
    let status = Command::new("python3")
        .arg(&script)
        .arg(&out)
        .args(args)
        .status()
        .expect("python3 runs (see scripts/install-deps.sh for ncgen)");
    assert!(status.success(), "make-wrfout.py failed");
    out
}

const WRF_CASE: &str = r#"
[run]
name = "wrf"
start = "2023-01-20T00:00:00Z"
hours = 3
dt_s = 600
[grid]
projection = "lambert"
truelat1 = 30.0
truelat2 = 60.0
stand_lon = 112.0
centre_lon = 113.0
centre_lat = 27.0
nx = 6
ny = 5
dx = 12000.0
dy = 12000.0
layer_tops_m = [30, 80, 150, 250]
[species]
names = ["SO2"]
[met]
kind = "wrf"
files = ["wrfout_d01"]
[output]
dir = "out"
"#;

/// A wrfout made with `args` (and 4 records), refused by check and run.
#[track_caller]
fn wrf_refused(args: &[&str], needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["--times", "4"];
    all.extend_from_slice(args);
    make_wrfout(dir.path(), "wrfout_d01", &all);
    let mut n = vec!["wrfout_d01"];
    n.extend_from_slice(needles);
    assert_both_refuse(dir.path(), WRF_CASE, 3, &n);
}

#[test]
fn wrf_files_that_panicked_are_refused_by_name() {
    // No records: was an index out of bounds.
    wrf_refused(&["--times", "0"], &["field `Times`", "at least one record"]);
    // DateStrLen of length 0: was "chunk size must be non-zero".
    wrf_refused(
        &["--date-str-len", "0", "--netcdf4"],
        &["field `DateStrLen`", "length 0"],
    );
    // TRUELAT1 = NaN: was a message about the file itself.
    wrf_refused(
        &["--attr", "TRUELAT1=nan"],
        &["field `TRUELAT1`", "strictly between -90 and 90", "NaN"],
    );
}

#[test]
fn wrf_fields_outside_their_physical_ranges_are_refused_by_record_and_cell() {
    // U = 1e6 m/s at flat index 3 of record 0.
    wrf_refused(
        &["--set", "U:3=1e6"],
        &[
            "field `U`",
            "within +-150 m/s",
            "record 0 at (bottom_top=0, south_north=0, west_east_stag=3)",
            "1000000",
        ],
    );
    // T' = 1e30 K in record 1 (4 x 5 x 6 values per record), cell 7.
    wrf_refused(
        &["--set", "T:127=1e30"],
        &[
            "field `T`",
            "between 150 and 350 K",
            "record 1 at (bottom_top=0, south_north=1, west_east=1)",
        ],
    );
    // PHB decreasing with height.
    wrf_refused(
        &["--reverse-phb"],
        &[
            "field `PHB`",
            "increasing with height",
            "record 0 at (bottom_top_stag=1, south_north=0, west_east=0)",
        ],
    );
    // Rain accumulating 1000 mm in an hour.
    wrf_refused(
        &["--set", "RAINNC:30=1000"],
        &["field `RAINNC`", "rain rates between 0 and 500 mm/h"],
    );
}

#[test]
fn make_wrfout_rolls_hour_24_over_to_the_next_day() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_wrfout(dir.path(), "wrfout_d01", &["--times", "26"]);
    let grid = Grid::new(&GridSpec {
        projection: airshed::config::ProjectionSpec::Lambert {
            truelat1: 30.0,
            truelat2: 60.0,
            stand_lon: 112.0,
            centre_lon: 113.0,
            centre_lat: 27.0,
        },
        nx: 6,
        ny: 5,
        dx: 12000.0,
        dy: 12000.0,
        layer_tops_m: vec![30.0, 80.0, 150.0, 250.0],
        lateral: airshed::config::Lateral::Open,
    });
    let f = netcdf::open(&path).unwrap();
    let times = f.variable("Times").unwrap().get_raw_values(..).unwrap();
    let t24 = String::from_utf8_lossy(&times[24 * 19..25 * 19]).to_string();
    assert_eq!(t24, "2023-01-21_00:00:00");
    let mut met =
        airshed::met::wrf::WrfMet::open(&[path], &grid, start(), 25.0 * 3600.0, 0.1).unwrap();
    met.check_records(25.0 * 3600.0).unwrap();
    assert!(met.at(24.5 * 3600.0).is_ok());
}

// ------------------------------------------------------------ reanalysis

/// A small lat-lon file (2 records, 0 and 3 h) with `edit` applied.
fn write_reanalysis(path: &Path, edit: impl Fn(&str, usize, &mut Vec<f64>)) {
    let mut f = netcdf::create(path).unwrap();
    let lons: Vec<f64> = (0..13).map(|i| 110.0 + 0.5 * i as f64).collect();
    let lats: Vec<f64> = (0..13).map(|j| 24.0 + 0.5 * j as f64).collect();
    let heights = [10.0, 100.0, 500.0, 1500.0, 3000.0];
    for (n, len) in [("time", 2), ("level", 5), ("lat", 13), ("lon", 13)] {
        f.add_dimension(n, len).unwrap();
    }
    for (name, dim, v) in [
        ("time", "time", vec![0.0, 3.0]),
        ("lon", "lon", lons),
        ("lat", "lat", lats),
        ("height", "level", heights.to_vec()),
    ] {
        f.add_variable::<f64>(name, &[dim])
            .unwrap()
            .put_values(&v, ..)
            .unwrap();
    }
    let d4 = ["time", "level", "lat", "lon"];
    for (name, base) in [
        ("u", 2.0),
        ("v", -1.0),
        ("temperature", 285.0),
        ("pressure", 95_000.0),
    ] {
        let mut vals = vec![];
        for t in 0..2 {
            let mut rec = vec![base; 5 * 13 * 13];
            edit(name, t, &mut rec);
            vals.extend(rec);
        }
        f.add_variable::<f64>(name, &d4)
            .unwrap()
            .put_values(&vals, ..)
            .unwrap();
    }
    f.add_variable::<f64>("sensible_heat_flux", &["time", "lat", "lon"])
        .unwrap()
        .put_values(&vec![100.0; 2 * 13 * 13], ..)
        .unwrap();
}

const REANALYSIS_CASE: &str = r#"
[run]
name = "coarse"
start = "2023-01-20T00:00:00Z"
hours = 3
dt_s = 600
[grid]
projection = "lambert"
truelat1 = 25.0
truelat2 = 40.0
stand_lon = 110.0
centre_lon = 113.0
centre_lat = 27.0
nx = 10
ny = 8
dx = 20000.0
dy = 20000.0
layer_tops_m = [30, 80, 150, 400]
[species]
names = ["SO2"]
[met]
kind = "reanalysis"
file = "era.nc"
[output]
dir = "out"
"#;

#[test]
fn reanalysis_fields_are_range_checked_in_every_record() {
    let dir = tempfile::tempdir().unwrap();
    {
        let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        write_reanalysis(&dir.path().join("era.nc"), |name, t, v| {
            if name == "u" && t == 1 {
                v[2 * 169 + 13 + 4] = 1e6; // level 2, lat 1, lon 4
            }
        });
    }
    assert_both_refuse(
        dir.path(),
        REANALYSIS_CASE,
        3,
        &[
            "era.nc",
            "field `u`",
            "below 150 m/s",
            "record 1 at (level=2, lat=1, lon=4)",
        ],
    );
    {
        let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        write_reanalysis(&dir.path().join("era.nc"), |name, _, v| {
            if name == "pressure" {
                v.iter_mut().for_each(|p| *p /= 100.0); // hPa without units
            }
        });
    }
    assert_both_refuse(
        dir.path(),
        REANALYSIS_CASE,
        3,
        &[
            "era.nc",
            "field `pressure`",
            "30000 exp(-z / 5000 m)",
            "record 0 at (level=0, lat=0, lon=0)",
        ],
    );
}

// ------------------------------------------------------------- terrain

#[test]
fn terrain_variable_names_that_panicked_the_netcdf_crate_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let mut f = netcdf::create(dir.path().join("terrain.nc")).unwrap();
        f.add_dimension("y", 8).unwrap();
        f.add_dimension("x", 8).unwrap();
        f.add_variable::<f64>("HGT", &["y", "x"])
            .unwrap()
            .put_values(&[100.0; 64], ..)
            .unwrap();
    }
    for name in ["/x", "../x", "a/b"] {
        let text = format!(
            r#"
[run]
name = "terrain"
start = "2023-01-20T00:00:00Z"
hours = 1
dt_s = 600
[grid]
projection = "cartesian"
nx = 8
ny = 8
dx = 2000.0
dy = 2000.0
layer_tops_m = [50, 200, 800]
[species]
names = ["SO2"]
[met]
kind = "diagnostic"
regime = "winter"
terrain = {{ shape = "file", file = "terrain.nc", variable = "{name}", radius_km = 3.0 }}
[output]
dir = "out"
"#
        );
        assert_both_refuse(
            dir.path(),
            &text,
            3,
            &["terrain.nc", "met.terrain.variable", "no '/'", name],
        );
    }
}

// ---------------------------------------------------- gridded emissions

fn emission_case(kind: &str, file: &str) -> String {
    format!(
        r#"
[run]
name = "emis"
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
names = ["PM25", "SO2"]
[met]
kind = "analytic"
u_ms = 2.0
[emissions]
{kind} = ["{file}"]
[output]
dir = "out"
"#
    )
}

/// A netCDF-4 emission file `area.nc`: `define` adds dimensions and
/// variables (returning nothing), `fill` writes data.
fn write_area(
    dir: &Path,
    define: impl FnOnce(&mut netcdf::FileMut),
    fill: impl FnOnce(&mut netcdf::FileMut),
) {
    let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut f = netcdf::create(dir.join("area.nc")).unwrap();
    define(&mut f);
    fill(&mut f);
    f.close().unwrap();
}

fn emission_var<'f>(
    f: &'f mut netcdf::FileMut,
    name: &str,
    dims: &[&str],
) -> netcdf::VariableMut<'f> {
    let mut v = f.add_variable::<f64>(name, dims).unwrap();
    v.put_attribute("species", "PM25").unwrap();
    v.put_attribute("sector", "dust").unwrap();
    v.put_attribute("units", "kg s-1").unwrap();
    v
}

#[test]
fn a_time_dimension_is_never_read_as_layers() {
    // Ten hourly records of a 10 x 10 field on a 14-layer grid: before,
    // read as 10 layers (10 x the emissions) because 10 <= 14.
    let dir = tempfile::tempdir().unwrap();
    write_area(
        dir.path(),
        |f| {
            for (d, n) in [("time", 10), ("y", 10), ("x", 10)] {
                f.add_dimension(d, n).unwrap();
            }
            emission_var(f, "pm", &["time", "y", "x"]);
        },
        |f| {
            f.variable_mut("pm")
                .unwrap()
                .put_values(&vec![0.1; 1000], ..)
                .unwrap();
        },
    );
    let text = emission_case("gridded", "area.nc").replace(
        "layer_tops_m = [50, 200, 800]",
        "layer_tops_m = [30, 80, 150, 250, 400, 600, 850, 1150, 1500, 2000, 2600, 3300, 4200, 5200]",
    );
    assert_both_refuse(
        dir.path(),
        &text,
        3,
        &["area.nc", "field `pm`", "`time` has 10 records"],
    );
    // A dimension that says nothing about what it is.
    write_area(
        dir.path(),
        |f| {
            for (d, n) in [("dim0", 3), ("y", 10), ("x", 10)] {
                f.add_dimension(d, n).unwrap();
            }
            emission_var(f, "pm", &["dim0", "y", "x"]);
        },
        |f| {
            f.variable_mut("pm")
                .unwrap()
                .put_values(&vec![0.1; 300], ..)
                .unwrap();
        },
    );
    assert_both_refuse(dir.path(), &text, 3, &["area.nc", "field `pm`", "`dim0`"]);
    // A layer dimension identified by its coordinate's `axis` runs.
    write_area(
        dir.path(),
        |f| {
            for (d, n) in [("k_emis", 2), ("y", 10), ("x", 10)] {
                f.add_dimension(d, n).unwrap();
            }
            f.add_variable::<f64>("k_emis", &["k_emis"])
                .unwrap()
                .put_attribute("axis", "Z")
                .unwrap();
            emission_var(f, "pm", &["k_emis", "y", "x"]);
        },
        |f| {
            f.variable_mut("k_emis")
                .unwrap()
                .put_values(&[0.0, 1.0], ..)
                .unwrap();
            f.variable_mut("pm")
                .unwrap()
                .put_values(&vec![0.1; 200], ..)
                .unwrap();
        },
    );
    let o = airshed(dir.path(), "check", &text);
    assert_eq!(o.code, 0, "{}", o.stderr);
}

#[test]
fn unwritten_cells_keep_the_default_fill_and_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_area(
        dir.path(),
        |f| {
            f.add_dimension("y", 10).unwrap();
            f.add_dimension("x", 10).unwrap();
            emission_var(f, "so2", &["y", "x"])
                .put_attribute("species", "SO2")
                .unwrap();
        },
        |f| {
            // Rows 0-4 only: rows 5-9 keep netCDF's default fill, 9.97e36.
            f.variable_mut("so2")
                .unwrap()
                .put_values(&[1.0; 50], [0..5, 0..10].as_slice())
                .unwrap();
        },
    );
    assert_both_refuse(
        dir.path(),
        &emission_case("gridded", "area.nc"),
        3,
        &["area.nc", "field `so2`", "cell [0,5,0]", "default fill"],
    );
}

#[test]
fn emission_rates_beyond_any_real_source_are_refused_not_made_infinite() {
    let dir = tempfile::tempdir().unwrap();
    write_area(
        dir.path(),
        |f| {
            f.add_dimension("y", 10).unwrap();
            f.add_dimension("x", 10).unwrap();
            emission_var(f, "pm", &["y", "x"])
                .put_attribute("units", "kg m-2 s-1")
                .unwrap();
        },
        |f| {
            let mut vals = vec![1e-9; 100];
            vals[23] = 1e300;
            f.variable_mut("pm").unwrap().put_values(&vals, ..).unwrap();
        },
    );
    assert_both_refuse(
        dir.path(),
        &emission_case("gridded", "area.nc"),
        3,
        &["area.nc", "pm[0,2,3]", "at most 1e5 kg/s"],
    );
    // The same through a city total and a stack.
    std::fs::write(
        dir.path().join("city.csv"),
        "city,lon,lat,radius_km,sector,species,t_per_yr,source\nX,112.8,27.8,10,dust,PM25,1e300,t\n",
    )
    .unwrap();
    assert_both_refuse(
        dir.path(),
        &emission_case("city_totals", "city.csv"),
        3,
        &["city.csv", "line 2, t_per_yr", "at most 1e5 kg/s"],
    );
    std::fs::write(
        dir.path().join("stacks.csv"),
        format!("{STACK_HEADER}p,112.8,27.8,100,4,12,400,mobile,SO2,1e300,g s-1\n"),
    )
    .unwrap();
    assert_both_refuse(
        dir.path(),
        &emission_case("points", "stacks.csv"),
        3,
        &["stacks.csv", "line 2, rate", "at most 1e5 kg/s"],
    );
}

#[test]
fn emission_variables_with_unrecognised_attributes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (attr, value, expect) in [
        ("Species", "PM25", "`Species` instead of `species`"),
        ("pollutant", "PM25", "`pollutant` instead of `species`"),
        ("sector", "dust", "a `sector` but no `species`"),
        (
            "units",
            "t yr-1",
            "emission units \"t yr-1\" but no `species`",
        ),
    ] {
        write_area(
            dir.path(),
            |f| {
                f.add_dimension("y", 10).unwrap();
                f.add_dimension("x", 10).unwrap();
                emission_var(f, "pm", &["y", "x"]);
                let mut v = f.add_variable::<f64>("so2_power", &["y", "x"]).unwrap();
                v.put_attribute(attr, value).unwrap();
            },
            |f| {
                for n in ["pm", "so2_power"] {
                    f.variable_mut(n)
                        .unwrap()
                        .put_values(&[0.5; 100], ..)
                        .unwrap();
                }
            },
        );
        assert_both_refuse(
            dir.path(),
            &emission_case("gridded", "area.nc"),
            3,
            &["area.nc", "field `so2_power`", expect],
        );
    }
}

/// A 10 x 10 emission file with 1-D `lat`/`lon` coordinates offset by
/// `shift` degrees and a `crs` grid mapping of `mapping`.
fn write_located(dir: &Path, shift: f64, mapping: &'static str) {
    write_area(
        dir,
        |f| {
            f.add_dimension("lat", 10).unwrap();
            f.add_dimension("lon", 10).unwrap();
            let mut lat = f.add_variable::<f64>("lat", &["lat"]).unwrap();
            lat.put_attribute("units", "degrees_north").unwrap();
            let mut lon = f.add_variable::<f64>("lon", &["lon"]).unwrap();
            lon.put_attribute("units", "degrees_east").unwrap();
            let mut crs = f.add_variable::<i32>("crs", &[]).unwrap();
            crs.put_attribute("grid_mapping_name", mapping).unwrap();
            if mapping == "lambert_conformal_conic" {
                crs.put_attribute("standard_parallel", vec![30.0, 60.0])
                    .unwrap();
                crs.put_attribute("longitude_of_central_meridian", 112.0)
                    .unwrap();
            }
            emission_var(f, "pm", &["lat", "lon"])
                .put_attribute("grid_mapping", "crs")
                .unwrap();
        },
        |f| {
            let lats: Vec<f64> = (0..10).map(|j| 27.5 + 0.1 * j as f64).collect();
            let lons: Vec<f64> = (0..10).map(|i| 112.5 + shift + 0.1 * i as f64).collect();
            f.variable_mut("lat")
                .unwrap()
                .put_values(&lats, ..)
                .unwrap();
            f.variable_mut("lon")
                .unwrap()
                .put_values(&lons, ..)
                .unwrap();
            f.variable_mut("pm")
                .unwrap()
                .put_values(&[0.01; 100], ..)
                .unwrap();
        },
    );
}

/// An input another process holds under an exclusive flock (as HDF5's own
/// file lock leaks into the children of a process that had the file open,
/// e.g. a parallel test spawning `airshed`) is still read: airshed turns
/// HDF5's advisory locking off. Before that, this failed with "NetCDF: HDF
/// error", the transient CI failure.
#[test]
fn a_netcdf4_input_locked_by_another_process_is_still_read() {
    use std::os::fd::AsRawFd;
    let dir = tempfile::tempdir().unwrap();
    let text = emission_case("gridded", "area.nc");
    write_located(dir.path(), 0.0, "latitude_longitude");
    let held = std::fs::File::open(dir.path().join("area.nc")).unwrap();
    // SAFETY: flock on a descriptor this test owns.
    let rc = unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(rc, 0, "could not take the lock");
    std::fs::write(dir.path().join("case.toml"), &text).unwrap();
    // Without the variable (scripts/test.sh sets it for the test processes):
    // the binary itself must turn locking off.
    let o = Command::new(env!("CARGO_BIN_EXE_airshed"))
        .arg("check")
        .arg(dir.path().join("case.toml"))
        .env_remove("HDF5_USE_FILE_LOCKING")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    drop(held);
}

#[test]
fn gridded_coordinates_and_projection_are_compared_with_the_model_grid() {
    let dir = tempfile::tempdir().unwrap();
    let text = emission_case("gridded", "area.nc");
    // On the model grid: accepted.
    write_located(dir.path(), 0.0, "latitude_longitude");
    let o = airshed(dir.path(), "check", &text);
    assert_eq!(o.code, 0, "{}", o.stderr);
    println!("{}", o.stdout.trim());
    // Half a cell east: same shape, wrong place.
    write_located(dir.path(), 0.05, "latitude_longitude");
    assert_both_refuse(
        dir.path(),
        &text,
        3,
        &[
            "area.nc",
            "field `lat`",
            "cell centres on the model grid",
            "(y=0, x=0)",
        ],
    );
    // A Lambert file on a lat-lon model grid.
    write_located(dir.path(), 0.0, "lambert_conformal_conic");
    assert_both_refuse(
        dir.path(),
        &text,
        3,
        &[
            "area.nc",
            "crs:grid_mapping_name",
            "latitude_longitude",
            "lambert_conformal_conic",
        ],
    );
}

// ----------------------------------------------------------------- CSVs

const STACK_HEADER: &str =
    "name,lon,lat,height_m,diameter_m,velocity_m_s,temperature_k,sector,species,rate,units\n";

#[test]
fn csv_inputs_must_be_regular_files_of_bounded_size() {
    let dir = tempfile::tempdir().unwrap();
    assert_both_refuse(
        dir.path(),
        &emission_case("points", "/dev/zero"),
        3,
        &["/dev/zero", "a regular file", "device"],
    );
    // A sparse 300 MiB file: refused from its size, before reading.
    let big = dir.path().join("big.csv");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(300 << 20)
        .unwrap();
    assert_both_refuse(
        dir.path(),
        &emission_case("city_totals", "big.csv"),
        3,
        &["big.csv", "at most 256 MiB"],
    );
}

#[test]
fn csv_numbers_must_be_finite_and_in_range() {
    let dir = tempfile::tempdir().unwrap();
    let city = "city,lon,lat,radius_km,sector,species,t_per_yr,source\n";
    for (file, kind, body, expect) in [
        (
            "city.csv",
            "city_totals",
            format!("{city}X,112.8,27.8,10,dust,PM25,inf,t\n"),
            "line 2, t_per_yr",
        ),
        (
            "city.csv",
            "city_totals",
            format!("{city}# comment\nX,112.8,27.8,NaN,dust,PM25,5,t\n"),
            "line 3, radius_km",
        ),
        (
            "city.csv",
            "city_totals",
            format!("{city}X,112.8,27.8,5000,dust,PM25,5,t\n"),
            "line 2, radius_km",
        ),
        (
            "stacks.csv",
            "points",
            format!("{STACK_HEADER}p,112.8,27.8,NaN,4,12,400,mobile,SO2,5,g s-1\n"),
            "line 2, height_m",
        ),
        (
            "stacks.csv",
            "points",
            format!("{STACK_HEADER}p,112.8,27.8,100,4,-inf,400,mobile,SO2,5,g s-1\n"),
            "line 2, velocity_m_s",
        ),
    ] {
        std::fs::write(dir.path().join(file), body).unwrap();
        assert_both_refuse(dir.path(), &emission_case(kind, file), 3, &[file, expect]);
    }
    // Station winds: a speed of inf in hour 1.
    let mut csv = String::from("hour,station,lon,lat,speed_ms,direction_deg\n");
    for h in 0..=1 {
        let speed = if h == 1 { "inf" } else { "3.0" };
        csv += &format!("{h},a,0.1,0.1,{speed},270\n");
    }
    std::fs::write(dir.path().join("stations.csv"), csv).unwrap();
    let text = r#"
[run]
name = "stations"
start = "2023-01-20T00:00:00Z"
hours = 1
dt_s = 600
[grid]
projection = "cartesian"
nx = 8
ny = 8
dx = 2000.0
dy = 2000.0
layer_tops_m = [50, 200, 800]
[species]
names = ["SO2"]
[met]
kind = "diagnostic"
regime = "winter"
stations = "stations.csv"
[output]
dir = "out"
"#;
    assert_both_refuse(
        dir.path(),
        text,
        3,
        &["stations.csv", "line 3, speed_ms", "finite"],
    );
}

// -------------------------------------------------------- check vs run

#[test]
fn check_streams_every_met_record_and_checks_sites_and_species() {
    // A NaN in the last record: check used to read only the first.
    let dir = tempfile::tempdir().unwrap();
    {
        let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        write_cf(&dir.path().join("met.nc"), false, 4, &[], |name, t, v| {
            if name == "v" && t == 4 {
                v[10] = f64::NAN;
            }
        });
    }
    assert_both_refuse(
        dir.path(),
        &netcdf_case(4, ""),
        3,
        &["met.nc", "field `v`", "record 4 at (z=0, y=1, x=2)"],
    );
    // A site outside the grid: a case error for check as for run.
    let dir = tempfile::tempdir().unwrap();
    let text = emission_case("points", "stacks.csv").replace(
        "[run]",
        "sites = [{ name = \"Far\", lon = 100.0, lat = 27.5 }]\n[run]",
    );
    std::fs::write(dir.path().join("stacks.csv"), STACK_HEADER).unwrap();
    assert_both_refuse(
        dir.path(),
        &text,
        2,
        &["case.toml", "sites[0] (Far)", "inside the grid"],
    );
    // A species listed twice: exit 2 naming the key, not exit 6 from NetCDF.
    let text = emission_case("points", "stacks.csv").replace(
        "names = [\"PM25\", \"SO2\"]",
        "names = [\"PM25\", \"SO2\", \"PM25\"]",
    );
    assert_both_refuse(
        dir.path(),
        &text,
        2,
        &["case.toml", "species.names", "\"PM25\" is listed twice"],
    );
}
