//! `airshed eval` and `airshed report`: the statistics against values
//! derived by hand, the HJ 663-2013 percentile against the standard's
//! formula worked by hand, station-to-cell pairing against a direct read of
//! the run's NetCDF file, the network's sample file, and errors that name
//! the file, line and field.

mod common;
use airshed::eval::{obs, report, run::Run, stats};
use common::{case, IO_LOCK};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-12 * b.abs().max(1.0),
        "{what}: {a} against {b}"
    );
}

#[test]
fn statistics_match_hand_derived_values() {
    // obs 10, 20, 50; model 20, 20, 20. Differences M - O: +10, 0, -30.
    let s = stats::scores(&[(10.0, 20.0), (20.0, 20.0), (50.0, 20.0)]);
    assert_eq!(s.n, 3);
    close(s.obs_mean, 80.0 / 3.0, "obs mean");
    close(s.model_mean, 20.0, "model mean");
    close(s.mb, -20.0 / 3.0, "MB = (10 + 0 - 30) / 3");
    close(s.nmb, -20.0 / 80.0, "NMB = -20 / 80");
    close(s.nme, 40.0 / 80.0, "NME = (10 + 0 + 30) / 80");
    close(
        s.rmse,
        (1000.0f64 / 3.0).sqrt(),
        "RMSE = sqrt((100 + 0 + 900) / 3)",
    );
    // Ratios 2 (inside, the bound counts), 1, 0.4 (outside).
    close(s.fac2, 2.0 / 3.0, "FAC2");
    assert!(s.r.is_nan(), "a constant model series has no correlation");
    // obs 1, 2, 3; model 2, 4, 7: deviations (-1, 0, 1) and (-7/3, -1/3, 8/3);
    // sum of products 5, sums of squares 2 and 114/9: r = 15 / sqrt(228).
    let s = stats::scores(&[(1.0, 2.0), (2.0, 4.0), (3.0, 7.0)]);
    close(s.r, 15.0 / 228.0f64.sqrt(), "r");
    close(s.mb, 7.0 / 3.0, "MB");
    // An observed zero is within a factor of two only of a modelled zero.
    close(
        stats::scores(&[(0.0, 0.0), (0.0, 1.0)]).fac2,
        0.5,
        "FAC2 at zero",
    );
    let empty = stats::scores(&[]);
    assert!(empty.n == 0 && empty.mb.is_nan() && empty.fac2.is_nan());
}

#[test]
fn the_hj663_percentile_follows_the_standards_formula() {
    // Sorted: 12 23 35 47 58 60 66 75 80 90 101 (n = 11). p = 95:
    // k = 1 + 10 x 0.95 = 10.5, s = 10: X(10) + (X(11) - X(10)) x 0.5
    // = 90 + 11 x 0.5 = 95.5.
    let v = [
        12.0, 80.0, 35.0, 60.0, 101.0, 47.0, 23.0, 90.0, 75.0, 66.0, 58.0,
    ];
    close(stats::percentile_hj663(&v, 95.0), 95.5, "P95 of 11 values");
    // n = 4, p = 95: k = 1 + 3 x 0.95 = 3.85, s = 3: 30 + 10 x 0.85 = 38.5.
    close(
        stats::percentile_hj663(&[40.0, 10.0, 30.0, 20.0], 95.0),
        38.5,
        "P95 of 4 values",
    );
    // p = 100 (s = n) and one value.
    close(stats::percentile_hj663(&v, 100.0), 101.0, "maximum");
    close(stats::percentile_hj663(&[42.0], 95.0), 42.0, "one value");
    assert!(stats::percentile_hj663(&[], 95.0).is_nan());
    // GB 3095-2012 statistics of four daily means: mean 67.5, two above 75
    // (75 itself is not above the limit), P95 = 80 + 20 x 0.85 = 97.
    let d = stats::daily_stats(&[75.0, 15.0, 100.0, 80.0]);
    assert_eq!((d.days, d.days_over_75), (4, 2));
    close(d.mean, 67.5, "mean");
    close(d.p95, 97.0, "P95");
}

/// Two cities (regions A and B) on a 0.1-degree lat-lon grid, 24 h of
/// hourly means covering local (UTC+8) day 2023-01-20, tagged.
fn write_case(dir: &Path) -> String {
    let square = |name: &str, lon0: f64, lon1: f64| {
        format!(
            r#"{{"type":"Feature","properties":{{"name":"{name}"}},"geometry":{{"type":"Polygon","coordinates":[[[{lon0},25.4],[{lon1},25.4],[{lon1},25.8],[{lon0},25.8],[{lon0},25.4]]]}}}}"#
        )
    };
    std::fs::write(
        dir.join("regions.geojson"),
        format!(
            r#"{{"type":"FeatureCollection","features":[{},{}]}}"#,
            square("A", 110.5, 110.8),
            square("B", 111.0, 111.3)
        ),
    )
    .unwrap();
    let mut csv = String::from("city,lon,lat,radius_km,sector,species,t_per_yr,source\n");
    for (city, lon) in [("A", 110.65), ("B", 111.15)] {
        for (sector, species, t) in [
            ("industrial_process", "PM25", 20000.0),
            ("industrial_process", "SO2", 30000.0),
            ("mobile", "NOX", 40000.0),
            ("agriculture", "NH3", 15000.0),
        ] {
            csv.push_str(&format!(
                "{city},{lon},25.6,6,{sector},{species},{t},test\n"
            ));
        }
    }
    std::fs::write(dir.join("cities.csv"), csv).unwrap();
    r#"
[run]
name = "ev"
start = "2023-01-19T16:00:00Z"
hours = 24
dt_s = 900
[grid]
projection = "latlon"
centre_lon = 110.05
centre_lat = 25.05
nx = 30
ny = 12
dx = 0.1
dy = 0.1
layer_tops_m = [50, 150, 400, 900, 1800]
[species]
names = ["PM25", "SO2", "SO4", "NOX", "HNO3", "NO3", "NH3", "NH4"]
[met]
kind = "analytic"
flow = "uniform"
u_ms = 1.5
v_ms = 0.3
pblh_day_m = 900
pblh_night_m = 250
surface_temperature_k = 280.0
[emissions]
city_totals = ["cities.csv"]
[boundary]
background_ugm3 = { PM25 = 10.0, SO2 = 3.0, NOX = 5.0, NH3 = 2.0 }
initial_ugm3 = { PM25 = 10.0, SO2 = 3.0, NOX = 5.0, NH3 = 2.0 }
[chemistry]
ozone_ppb = 40.0
[output]
dir = "out"
[attribution]
regions_file = "regions.geojson"
regions = ["A", "B"]
receptors = ["A", "B"]
sectors = "all"
utc_offset_hours = 8
"#
    .to_string()
}

/// Stations: S1 in A (Changsha), S2 in B (Zhuzhou), S3 in B with five
/// missing hours (19 valid: no daily mean), S4 off the grid (Qinzhou).
const STATIONS: &[(&str, &str, f64, f64)] = &[
    ("S1", "长沙市", 110.62, 25.63),
    ("S2", "株洲市", 111.17, 25.58),
    ("S3", "株洲市", 111.21, 25.71),
    ("S4", "钦州市", 108.6, 21.9),
];

/// An observed value for station `s` at local hour index `n` (0-23).
fn observed(s: usize, n: usize) -> f64 {
    (20 + 7 * s + (n * 13) % 40) as f64
}

/// The CNEMC layout: 2023-01-20 hours 1-23 and 2023-01-21 hour 0 (the 24
/// hours ending in local day 2023-01-20), plus hour 0 of 2023-01-20 (an
/// hour before the run).
fn write_obs(path: &Path) {
    let mut s = String::from("date,hour,stationcode,AQI,CO,CO_24h,NO2,NO2_24h,O3,O3_24h,O3_8h,O3_8h_24h,PM10,PM10_24h,PM2.5,PM2.5_24h,SO2,SO2_24h,area,positionname,longitude,latitude\n");
    for (k, (code, area, lon, lat)) in STATIONS.iter().enumerate() {
        for n in 0..=24 {
            // n = 0: 2023-01-20 00:00, before the run; n = 24: 2023-01-21 00:00.
            let (date, hour) = if n < 24 {
                ("20230120", n)
            } else {
                ("20230121", 0)
            };
            let pm = if k == 2 && (5..10).contains(&n) {
                String::new()
            } else {
                format!("{}", observed(k, n))
            };
            s.push_str(&format!(
                "{date},{hour},{code},50.0,0.8,0.7,30.0,22.0,48.0,97.0,77.0,89.0,84.0,84.0,{pm},60.0,2.0,2.0,{area},site {code},{lon},{lat}\n"
            ));
        }
    }
    std::fs::write(path, s).unwrap();
}

/// The case run once for the tests of this file: (its directory, run file).
fn the_run() -> &'static (tempfile::TempDir, PathBuf) {
    static RUN: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let c = case(&write_case(dir.path()), dir.path());
        let out = dir.path().join("out");
        let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        airshed::run::run_case(
            &c,
            &airshed::run::RunOptions {
                output_dir: Some(out.clone()),
                progress: false,
            },
        )
        .unwrap();
        write_obs(&dir.path().join("obs.csv"));
        (dir, out.join("ev.nc"))
    })
}

#[test]
fn eval_pairs_stations_with_their_cells_and_agrees_with_a_direct_read() {
    let (dir, nc) = the_run();
    let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let o = obs::read(&[dir.path().join("obs.csv")]).unwrap();
    assert_eq!(o.stations.len(), 4);
    assert_eq!(o.missing, 5);
    let run = Run::open(nc).unwrap();
    assert!(run.synthetic, "analytic met is labelled synthetic");
    let e = airshed::eval::evaluate(&run, &o, None).unwrap();
    // Cells by hand: lat-lon cells of 0.1 degree centred on 110.05 + 0.1 i,
    // 25.05 + 0.1 j, so the cell of (lon, lat) is (round((lat - 25.05) /
    // 0.1), round((lon - 110.05) / 0.1)).
    let by_hand = |lon: f64, lat: f64| {
        (
            ((lat - 25.05) / 0.1).round() as usize,
            ((lon - 110.05) / 0.1).round() as usize,
        )
    };
    for (k, (st, cell)) in e.stations.iter().enumerate() {
        let (_, _, lon, lat) = STATIONS[k];
        if k == 3 {
            assert_eq!(*cell, None, "{} is off the grid", st.code);
        } else {
            assert_eq!(*cell, Some(by_hand(lon, lat)), "{}", st.code);
        }
    }
    assert_eq!(e.outside().len(), 1);
    assert_eq!(
        (e.stations[0].0.city.as_str(), e.stations[1].0.city.as_str()),
        ("Changsha", "Zhuzhou")
    );
    // Pairs: S1 and S2 24 h each, S3 19 h; the hour before the run and the
    // station off the grid have none.
    assert_eq!(e.pairs.len(), 24 + 24 + 19);
    // The model values straight from the file: local hour n of 2023-01-20
    // ends at UTC (n - 8) h, i.e. n h after the run start (16:00 UTC on the
    // 19th), so it is record n - 1 (the hour [n - 1, n) since the start).
    let f = netcdf::open(nc).unwrap();
    assert!(
        f.attribute("grid_toml").is_some(),
        "the concentration file keeps its grid"
    );
    let v = f.variable("PM25_TOTAL").unwrap();
    let direct = |n: usize, (j, i): (usize, usize)| -> f64 {
        let x: Vec<f32> = v.get_values([n - 1..n, 0..1, j..j + 1, i..i + 1]).unwrap();
        f64::from(x[0])
    };
    let mut pairs_by_hand: Vec<(usize, f64, f64)> = Vec::new();
    for (k, &(_, _, lon, lat)) in STATIONS.iter().enumerate().take(3) {
        for n in 1..=24 {
            if k == 2 && (5..10).contains(&n) {
                continue;
            }
            pairs_by_hand.push((k, observed(k, n), direct(n, by_hand(lon, lat))));
        }
    }
    let mut got: Vec<(usize, f64, f64)> = e
        .pairs
        .iter()
        .map(|p| (p.station, p.obs, p.model))
        .collect();
    got.sort_by(|a, b| a.partial_cmp(b).unwrap());
    pairs_by_hand.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(got, pairs_by_hand);
    // Zhuzhou pools S2 (24 h) and S3 (19 h); its MB and NMB summed here.
    let zz: Vec<&(usize, f64, f64)> = pairs_by_hand.iter().filter(|p| p.0 >= 1).collect();
    let sum_d: f64 = zz.iter().map(|p| p.2 - p.1).sum();
    let sum_o: f64 = zz.iter().map(|p| p.1).sum();
    let g = e.groups.iter().find(|g| g.group == "Zhuzhou").unwrap();
    assert_eq!((g.stations, g.hourly.n), (2, 43));
    assert!((g.hourly.mb - sum_d / 43.0).abs() < 1e-9);
    assert!((g.hourly.nmb - sum_d / sum_o).abs() < 1e-12);
    // Daily: S2 has its whole local day, S3 19 hours (< 20): one day.
    assert_eq!(g.daily.n, 1);
    let s2: Vec<&(usize, f64, f64)> = pairs_by_hand.iter().filter(|p| p.0 == 1).collect();
    let (o_day, m_day) = (
        s2.iter().map(|p| p.1).sum::<f64>() / 24.0,
        s2.iter().map(|p| p.2).sum::<f64>() / 24.0,
    );
    assert!((g.daily.obs_mean - o_day).abs() < 1e-9);
    assert!((g.daily.model_mean - m_day).abs() < 1e-9);
    // Groups: the cities, CZT, all (Qinzhou listed, with no pairs).
    let names: Vec<&str> = e.groups.iter().map(|g| g.group.as_str()).collect();
    assert_eq!(names, ["Changsha", "Zhuzhou", "Qinzhou", "CZT", "all"]);
    let czt = &e.groups[3];
    assert_eq!((czt.stations, czt.hourly.n, czt.daily.n), (3, 67, 2));
    assert_eq!(e.groups[2].hourly.n, 0);
    // The terminal text says the met is synthetic and lists the station
    // off the grid; the CSV has a row per group and average.
    let text = e.text();
    println!("{text}");
    assert!(text.starts_with("WARNING") && text.contains("NOT a validation"));
    assert!(text.contains("1 stations outside the grid") && text.contains("S4"));
    let csv = e.csv();
    assert_eq!(csv.lines().count(), 1 + 2 * names.len());
    assert!(csv
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("Changsha,hour,1,24,"));
}

#[test]
fn report_prints_attribution_composition_gb3095_and_the_evaluation() {
    let (dir, nc) = the_run();
    let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let md = dir.path().join("report.md");
    let opts = report::ReportOptions {
        obs: vec![dir.path().join("obs.csv")],
        ..Default::default()
    };
    let text = report::report_command(nc, &opts, Some(&md)).unwrap();
    println!("{text}");
    let first = text.lines().nth(1).unwrap();
    assert!(first.starts_with("WARNING") && first.contains("SYNTHETIC"));
    for part in [
        "Who is responsible",
        "A (region)",
        "B (region)",
        "Surface PM2.5 and its components",
        "SO4",
        "GB 3095-2012 statistics (model)",
        "GB 3095-2012 statistics (observed)",
        "Evaluation against the stations",
        "Zhuzhou",
    ] {
        assert!(text.contains(part), "report lacks {part:?}");
    }
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(markdown.starts_with("# Report of run ev"));
    assert!(markdown.contains("| receptor | days | mean | 24-h P95 | days > 75 | highest day |"));
    // The model's daily means: local day 2023-01-20 is the run's 24 records,
    // so its mean is the receptor's mean over all of them.
    let series = airshed::output::tags::series_from_file(
        &dir.path().join("out/ev.tags.nc"),
        &Default::default(),
    )
    .unwrap();
    let pm = series.species.len() - 1;
    for (n, rec) in series.receptors.iter().enumerate() {
        let daily = report::receptor_daily_means(&series, n);
        assert_eq!(daily.len(), 1, "{}", rec.name);
        let mean: f64 = rec
            .values
            .iter()
            .map(|v| v[pm].iter().sum::<f64>())
            .sum::<f64>()
            / 24.0;
        assert!((daily[0].1 - mean).abs() < 1e-9 * mean);
    }
    // Observed city values: Zhuzhou's day is S2's mean (S3 has 19 hours).
    let o = obs::read(&[dir.path().join("obs.csv")]).unwrap();
    let city = report::observed_city_daily(&o, None);
    let s2_day: f64 = (1..=24).map(|n| observed(1, n)).sum::<f64>() / 24.0;
    let zz = &city["Zhuzhou"];
    assert!(zz.iter().any(|(_, v)| (v - s2_day).abs() < 1e-9), "{zz:?}");
    // --from after the run is refused, naming the option.
    let err = report::build(
        nc,
        &report::ReportOptions {
            from: Some("2023-02-01".into()),
            ..Default::default()
        },
    )
    .err()
    .expect("refused")
    .to_string();
    assert!(err.contains("--from"), "{err}");
}

#[test]
fn the_networks_sample_file_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/obs");
    if !dir.is_dir() {
        println!("skipped: no CNEMC sample at {}", dir.display());
        return;
    }
    let o = obs::read(&[dir]).unwrap();
    let cities = o.cities();
    println!(
        "{} files, {} stations, {} valid hours, {} missing; cities: {cities:?}",
        o.files.len(),
        o.stations.len(),
        o.hours.len(),
        o.missing
    );
    assert!(!o.stations.is_empty() && !o.hours.is_empty());
    for c in cities.keys() {
        assert!(
            obs::CITY_NAMES.iter().any(|(_, en)| en == c),
            "{c} is not mapped to an English name"
        );
    }
    for h in &o.hours {
        assert!(h.pm25 >= 0.0 && h.pm25 < 2000.0);
    }
}

#[test]
fn malformed_observations_are_refused_naming_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let header = "date,hour,stationcode,PM2.5,area,positionname,longitude,latitude";
    let good = "20230120,3,1335A,68.0,长沙市,经开区环保局,113.0833,28.2325";
    for (rows, expect) in [
        (
            format!("{header}\n{good}\n20231320,3,1336A,60,长沙市,x,113,28\n"),
            "line 3, column date",
        ),
        (
            format!("{header}\n{good}\n20230120,24,1336A,60,长沙市,x,113,28\n"),
            "line 3, column hour",
        ),
        (
            format!("{header}\n{good}\n20230120,4,1336A,abc,长沙市,x,113,28\n"),
            "line 3, column PM2.5",
        ),
        (
            format!("{header}\n{good}\n20230120,4,1336A,-5,长沙市,x,113,28\n"),
            "line 3, column PM2.5",
        ),
        (
            format!("{header}\n{good}\n20230120,4,1336A,5,长沙市,x,,28\n"),
            "line 3, column longitude",
        ),
        (
            format!("{header}\n{good}\n20230120,4,1335A,5,长沙市,x,112.5,28\n"),
            "line 3, column longitude",
        ),
        (
            format!("{header}\n{good}\n{good}\n"),
            "line 3, column stationcode",
        ),
        (format!("{header}\n{good}\n20230120,4,1336A,5\n"), "line 3"),
        (
            "date,hour,stationcode,area,longitude,latitude\n".to_string(),
            "`PM2.5`",
        ),
    ] {
        let path = dir.path().join("bad.csv");
        std::fs::write(&path, rows).unwrap();
        let err = obs::read(std::slice::from_ref(&path))
            .expect_err(expect)
            .to_string();
        println!("{err}");
        assert!(
            err.contains("bad.csv") && err.contains(expect),
            "{expect}: {err}"
        );
    }
    // A directory without CSV files, and a missing file.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = obs::read(&[empty]).unwrap_err().to_string();
    assert!(err.contains("empty") && err.contains(".csv"), "{err}");
    let err = obs::read(&[dir.path().join("none.csv")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("none.csv"), "{err}");
}

#[test]
fn the_commands_write_csv_and_markdown_and_exit_3_on_bad_observations() {
    let (dir, nc) = the_run();
    let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let bin = env!("CARGO_BIN_EXE_airshed");
    let csv = dir.path().join("eval.csv");
    let out = std::process::Command::new(bin)
        .arg("eval")
        .arg(nc)
        .arg(dir.path().join("obs.csv"))
        .arg("--csv")
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("group,average,stations,n,"));
    assert!(text.contains("\nall,day,3,2,"), "{text}");
    let md = dir.path().join("cli-report.md");
    let out = std::process::Command::new(bin)
        .arg("report")
        .arg(nc)
        .arg("--obs")
        .arg(dir.path().join("obs.csv"))
        .arg("--markdown")
        .arg(&md)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read_to_string(&md).unwrap().contains("SYNTHETIC"));
    let bad = dir.path().join("bad-obs.csv");
    std::fs::write(
        &bad,
        "date,hour,stationcode,PM2.5,area,positionname,longitude,latitude\n20230120,3,1335A,x,长沙市,a,113,28\n",
    )
    .unwrap();
    let out = std::process::Command::new(bin)
        .arg("eval")
        .arg(nc)
        .arg(&bad)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("bad-obs.csv") && err.contains("line 2, column PM2.5"),
        "{err}"
    );
}
