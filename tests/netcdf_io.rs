//! NetCDF in and out: a run driven by a met file whose density changes in
//! time (so air, and tracer, cross the model top) closes its budget, and the
//! CF output reads back with its coordinates, units and provenance.

mod common;
use common::*;

#[test]
fn netcdf_met_with_changing_density_exchanges_through_the_top_and_closes() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = MetSpec::new(8, 6, 3, 4);
    // Warming by 3 K per hour and converging wind: air leaves through the top.
    spec.edit = |name, t, v| match name {
        "temperature" => v.iter_mut().for_each(|x| *x += 3.0 * t as f64),
        "u" => {
            let n = v.len();
            for (idx, x) in v.iter_mut().enumerate() {
                let i = idx % 8;
                *x = if i < 4 { 2.0 } else { -2.0 } * (1.0 + (idx as f64) / n as f64);
            }
        }
        _ => {}
    };
    let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    write_met(&dir.path().join("met.nc"), &spec);
    let c = case(
        &netcdf_case(4, "initial_ugm3 = { PM25 = 20.0, SO2 = 4.0 }"),
        dir.path(),
    );
    let s = airshed::run::run_case(
        &c,
        &airshed::run::RunOptions {
            output_dir: None,
            progress: false,
        },
    )
    .unwrap();
    for b in &s.budget {
        println!(
            "netcdf met {}: top in {:.3e} out {:.3e}, lateral in {:.3e} out {:.3e}, residual/throughput {:.1e}",
            b.species, b.budget.top_in_kg, b.budget.top_out_kg, b.budget.lateral_in_kg, b.budget.lateral_out_kg, b.relative_residual
        );
        assert!(b.budget.top_out_kg > 0.0, "air must leave through the top");
        assert!(b.relative_residual < 1e-9);
    }
    assert!(!s.synthetic_meteorology);
}

#[test]
fn output_is_cf_with_coordinates_units_and_provenance() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
[run]
name = "cf"
start = "2023-01-20T00:00:00Z"
hours = 3
dt_s = 900
[grid]
projection = "lambert"
truelat1 = 22.0
truelat2 = 30.0
stand_lon = 111.0
centre_lon = 112.5
centre_lat = 27.5
nx = 12
ny = 10
dx = 12000.0
dy = 12000.0
layer_tops_m = [50, 200, 600, 1500]
[species]
names = ["PM25", "SO2"]
[met]
kind = "analytic"
u_ms = 2.0
v_ms = -1.0
[boundary]
background_ugm3 = { PM25 = 12.0 }
initial_ugm3 = { PM25 = 12.0 }
[output]
dir = "out"
mode = "instant"
layers = 2
"#;
    let c = case(text, dir.path());
    let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let s = airshed::run::run_case(
        &c,
        &airshed::run::RunOptions {
            output_dir: None,
            progress: false,
        },
    )
    .unwrap();
    let f = netcdf::open(&s.output_file).unwrap();
    let text_attr = |v: Option<netcdf::Attribute>| match v.unwrap().value().unwrap() {
        netcdf::AttributeValue::Str(s) => s,
        other => panic!("not text: {other:?}"),
    };
    assert_eq!(text_attr(f.attribute("Conventions")), "CF-1.8");
    assert!(text_attr(f.attribute("synthetic_meteorology")).contains("SYNTHETIC"));
    assert_eq!(f.dimension_len("time"), Some(3));
    assert_eq!(f.dimension_len("z"), Some(2));
    let pm = f.variable("PM25").unwrap();
    assert_eq!(text_attr(pm.attribute("units")), "ug m-3");
    assert_eq!(text_attr(pm.attribute("grid_mapping")), "crs");
    assert_eq!(
        text_attr(f.variable("crs").unwrap().attribute("grid_mapping_name")),
        "lambert_conformal_conic"
    );
    assert_eq!(
        text_attr(f.variable("time").unwrap().attribute("units")),
        "hours since 2023-01-20 00:00:00"
    );
    // The domain centre cell is near the requested centre.
    let lat: Vec<f64> = f.variable("lat").unwrap().get_values::<f64, _>(..).unwrap();
    let lon: Vec<f64> = f.variable("lon").unwrap().get_values::<f64, _>(..).unwrap();
    let mid = 5 * 12 + 6;
    assert!(
        (lat[mid] - 27.5).abs() < 0.1 && (lon[mid] - 112.5).abs() < 0.1,
        "centre at {} {}",
        lon[mid],
        lat[mid]
    );
    // Uniform background in, uniform initial field: PM2.5 stays 12 ug/m3
    // to within deposition's small loss over 3 h.
    let vals: Vec<f32> = pm.get_values::<f32, _>(..).unwrap();
    assert!(
        vals.iter().all(|v| *v > 11.0 && *v <= 12.0 + 1e-3),
        "range {:?}",
        vals.iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)))
    );
    // No temporary file or staging directory is left next to the output.
    let names: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.ends_with(".tmp") && !n.starts_with(".airshed-")),
        "{names:?}"
    );
}
