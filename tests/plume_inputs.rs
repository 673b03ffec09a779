//! Inputs of the standalone plume mode (issue 9): AERMET surface and
//! profile readers, receptor and source readers, the local frame and the
//! plume case file. Expected values are the numbers written by hand in the
//! fixtures under tests/data/plume/ (and derivations written out below).

use airshed::error::Error;
use airshed::plume::aermet::{self, full_year};
use airshed::plume::case::{hour_ending_utc, site_hours, Average, CalmMode, LocalFrame, PlumeCase};
use airshed::plume::receptors::{self, great_circle};
use airshed::plume::site::Hour;
use airshed::plume::sources::{self, Shape};
use airshed::plume::Floors;
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/plume")
        .join(name)
}

fn text(name: &str) -> String {
    std::fs::read_to_string(data(name)).unwrap()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[track_caller]
fn assert_close(a: f64, b: f64, tol: f64) {
    assert!(close(a, b, tol), "{a} vs {b} (tolerance {tol})");
}

fn valid(h: &Hour) -> &airshed::plume::site::SiteHour {
    match h {
        Hour::Valid(s) => s,
        Hour::Missing { reason, .. } => panic!("expected a valid hour, got missing: {reason}"),
    }
}

/// The error's message, which must name every needle.
#[track_caller]
fn assert_input_error(e: Error, needles: &[&str]) {
    assert!(matches!(e, Error::Input { .. }), "an input error: {e}");
    let msg = e.to_string();
    for n in needles {
        assert!(msg.contains(n), "message should name {n:?}: {msg}");
    }
}

fn read_fixture() -> aermet::AermetMet {
    aermet::read(&data("site.sfc"), Some(&data("site.pfl"))).unwrap()
}

#[test]
fn surface_header_and_fields_land_in_their_places() {
    let m = read_fixture();
    assert_close(m.header.lat, 24.33, 1e-12);
    assert_close(m.header.lon, 109.41, 1e-12);
    assert_eq!(m.header.ua_id.as_deref(), Some("59431"));
    assert_eq!(m.header.sf_id.as_deref(), Some("59046"));
    assert_eq!(m.header.os_id, None);
    assert_eq!(m.header.version.as_deref(), Some("23132"));
    assert_eq!(m.hours.len(), 12);

    // Hour 1 (line 2): stable; w*, VPTG and the convective height are
    // AERMET's missing codes, which a stable hour does not need.
    let h = valid(&m.hours[0]);
    assert_eq!((h.year, h.month, h.day, h.hour), (2023, 1, 20, 1));
    assert_eq!(h.heat_flux, -12.3);
    assert_eq!(h.ustar, 0.187);
    assert_eq!(h.wstar, 0.0);
    assert_eq!(h.vptg, 0.005);
    assert_eq!(h.zi_conv, 0.0);
    assert_eq!(h.zi_mech, 163.0);
    assert_eq!(h.obukhov, 45.5);
    assert_eq!(h.z0, 0.25);
    assert_eq!(h.wind_speed, 2.10);
    assert_eq!(h.wind_dir, 30.0);
    assert_eq!(h.wind_height, 10.0);
    assert_eq!(h.temperature, 278.1);
    assert_eq!(h.temp_height, 2.0);
    assert_eq!(h.precip_mm_h, 0.0);
    assert_eq!(h.mixing_height(), 163.0);
    // Its profile: 10 m and 60 m; temperatures in deg C become K; sigmas
    // coded 99 are missing.
    assert_eq!(h.profile.len(), 2);
    let (a, b) = (&h.profile[0], &h.profile[1]);
    assert_eq!(
        (a.height, a.wind_dir, a.wind_speed),
        (10.0, Some(30.0), Some(2.10))
    );
    assert_close(a.temperature.unwrap(), 4.95 + 273.15, 1e-9);
    assert_eq!((a.sigma_theta, a.sigma_w), (None, None));
    assert_eq!(
        (b.height, b.wind_dir, b.wind_speed),
        (60.0, Some(38.0), Some(3.40))
    );
    assert_close(b.temperature.unwrap(), 5.30 + 273.15, 1e-9);
    assert_eq!((b.sigma_theta, b.sigma_w), (Some(12.5), Some(0.35)));

    // Hour 12 (line 13): convective, with precipitation.
    let h = valid(&m.hours[11]);
    assert_eq!(h.hour, 12);
    assert_eq!(h.heat_flux, 118.9);
    assert_eq!(h.ustar, 0.350);
    assert_eq!(h.wstar, 1.329);
    assert_eq!(h.vptg, 0.008);
    assert_eq!(h.zi_conv, 690.0);
    assert_eq!(h.zi_mech, 335.0);
    assert_eq!(h.obukhov, -31.5);
    assert_eq!((h.wind_speed, h.wind_dir), (3.20, 20.0));
    assert_eq!(h.temperature, 284.4);
    assert_eq!(h.precip_mm_h, 0.40);
    // Convective: the larger of the two heights (AERMOD formulation 3.3).
    assert_eq!(h.mixing_height(), 690.0);
}

#[test]
fn calm_hour_is_valid_with_heights_carried_and_reported() {
    let m = read_fixture();
    assert_eq!(m.calm, 1);
    // Hour 3 (line 4): wind 0, AERMET's missing u*, L and heights.
    let h = valid(&m.hours[2]);
    assert_eq!(h.hour, 3);
    assert_eq!(h.wind_speed, 0.0);
    assert_eq!(h.ustar, 0.0);
    assert!(h.obukhov.is_infinite() && h.obukhov > 0.0);
    assert_eq!(h.heat_flux, 0.0);
    assert_eq!(h.temperature, 277.5);
    // Mixing height carried from hour 2 (line 3), the nearest earlier valid hour.
    assert_eq!(h.zi_mech, 137.0);
    assert_eq!(h.z0, 0.25);
    assert!(
        m.notes.iter().any(|n| n.contains("line 4")
            && n.contains("mechanical mixing height")
            && n.contains("line 3")),
        "{:?}",
        m.notes
    );
    // The calm profile level has a speed of 0 and no direction; the 60 m
    // level is coded missing (999) throughout but its temperature.
    assert_eq!(h.profile[0].wind_speed, Some(0.0));
    assert_eq!(h.profile[0].wind_dir, None);
    assert_eq!(h.profile[1].wind_speed, None);
    assert_eq!(h.profile[1].wind_dir, None);
    assert_close(h.profile[1].temperature.unwrap(), 278.05, 1e-9);
}

#[test]
fn missing_wind_makes_a_missing_hour_counted_with_its_reason() {
    let m = read_fixture();
    assert_eq!(m.missing, 1);
    match &m.hours[4] {
        Hour::Missing {
            year,
            month,
            day,
            hour,
            reason,
        } => {
            assert_eq!((*year, *month, *day, *hour), (2023, 1, 20, 5));
            assert!(
                reason.contains("wind speed") && reason.contains("999"),
                "{reason}"
            );
        }
        h => panic!("hour 5 should be missing: {h:?}"),
    }
    assert!(m.summary().contains("1 missing"), "{}", m.summary());
    // The same record with a missing u* only is missing for u*.
    let sfc = text("site.sfc").replace(
        "23 01 20  20 02  -10.5  0.165",
        "23 01 20  20 02  -10.5 -9.000",
    );
    let m = aermet::read_str(&sfc, Path::new("x.sfc"), None).unwrap();
    match &m.hours[1] {
        Hour::Missing { reason, .. } => assert!(reason.contains("u*"), "{reason}"),
        h => panic!("hour 2 should be missing: {h:?}"),
    }
    // Missing temperature (999) too.
    let sfc = text("site.sfc").replace("10.0  277.8", "10.0  999.0");
    let m = aermet::read_str(&sfc, Path::new("x.sfc"), None).unwrap();
    assert!(matches!(&m.hours[1], Hour::Missing { reason, .. } if reason.contains("temperature")));
}

#[test]
fn missing_heat_flux_is_derived_from_the_obukhov_length() {
    // Hour 8 (line 9): H = -999, u* = 0.190 m/s, L = 146.1 m, T = 277.3 K,
    // p = 1003 mb. By hand: rho = 100300 / (287.05 x 277.3) = 1.26006
    // kg/m3; rho cp T u*^3 = 1.26006 x 1004.7 x 277.3 x 0.006859 = 2407.9;
    // k g L = 0.4 x 9.80665 x 146.1 = 573.1; H = -2407.9 / 573.1 = -4.2015.
    let m = read_fixture();
    let h = valid(&m.hours[7]);
    assert_close(h.heat_flux, -4.2015, 0.002);
    assert!(m
        .notes
        .iter()
        .any(|n| n.contains("line 9") && n.contains("heat flux")));
}

#[test]
fn two_digit_years_are_windowed() {
    assert_eq!(full_year(23), 2023);
    assert_eq!(full_year(0), 2000);
    assert_eq!(full_year(49), 2049);
    assert_eq!(full_year(50), 1950);
    assert_eq!(full_year(99), 1999);
    assert_eq!(full_year(2023), 2023);
    // A 4-digit surface file joins a 2-digit profile file.
    let sfc = text("site.sfc").replace("\n23 01 20", "\n2023 01 20");
    let m = aermet::read_str(
        &sfc,
        Path::new("x.sfc"),
        Some((&text("site.pfl"), Path::new("x.pfl"))),
    )
    .unwrap();
    assert_eq!(valid(&m.hours[0]).year, 2023);
}

#[test]
fn bad_surface_lines_are_errors_naming_file_line_and_field() {
    let sfc = text("site.sfc");
    let p = Path::new("met/site.sfc");
    let read = |t: &str| aermet::read_str(t, p, None).unwrap_err();
    // Unreadable number.
    assert_input_error(
        read(&sfc.replace("0.187", "0.1x7")),
        &["met/site.sfc", "line 2", "field 7 (u*)", "0.1x7"],
    );
    // A direction that is neither 0-360 nor a missing code.
    assert_input_error(
        read(&sfc.replace("2.10   30.0", "2.10  400.0")),
        &["line 2", "wind direction", "400"],
    );
    // A temperature that is neither physical nor 999.
    assert_input_error(
        read(&sfc.replace("278.1", "500.0")),
        &["line 2", "temperature", "500"],
    );
    // Wrong Julian day.
    assert_input_error(
        read(&sfc.replace("23 01 20  20 02", "23 01 20  21 02")),
        &["line 3", "julian day", "20"],
    );
    // Hour 25.
    assert_input_error(
        read(&sfc.replace("23 01 20  20 02", "23 01 20  20 25")),
        &["line 3", "hour"],
    );
    // Too few fields.
    let short: String = sfc
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 2 {
                l.split_whitespace().take(12).collect::<Vec<_>>().join(" ")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_input_error(read(&short), &["line 3", "20 fields", "12"]);
    // A gap: drop hour 4 (line 5); hour 5 is then line 5.
    let gap: String = sfc
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 4)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    assert_input_error(
        read(&gap),
        &["line 5", "gap of 1 hours", "hour 03", "line 4"],
    );
    // Out of order: swap hours 1 and 2.
    let lines: Vec<&str> = sfc.lines().collect();
    let swapped = [lines[0], lines[2], lines[1]].join("\n");
    assert_input_error(read(&swapped), &["line 3", "out of order"]);
    // No header.
    let headless = lines[1..].join("\n");
    assert_input_error(read(&headless), &["line 1", "header"]);
}

#[test]
fn profile_must_match_the_surface_hours() {
    let (sfc, pfl) = (text("site.sfc"), text("site.pfl"));
    let (ps, pp) = (Path::new("a.sfc"), Path::new("a.pfl"));
    // Drop the last hour's two levels: hour 12 has no profile.
    let short: String = pfl.lines().take(22).map(|l| format!("{l}\n")).collect();
    assert_input_error(
        aermet::read_str(&sfc, ps, Some((&short, pp))).unwrap_err(),
        &[
            "a.pfl",
            "a profile for every surface hour",
            "2023-01-20 hour 12",
            "line 13",
        ],
    );
    // An hour's levels without a top flag 1 before the next hour.
    let unflagged = pfl.replacen("   60.0 1 ", "   60.0 0 ", 1);
    assert_input_error(
        aermet::read_str(&sfc, ps, Some((&unflagged, pp))).unwrap_err(),
        &["a.pfl", "line 3", "top flag 1"],
    );
    // Levels not increasing.
    let down = pfl.replacen("   60.0 1 ", "    5.0 1 ", 1);
    assert_input_error(
        aermet::read_str(&sfc, ps, Some((&down, pp))).unwrap_err(),
        &["line 2", "height", "increasing"],
    );
    // A bad sigma-w token.
    let bad = pfl.replacen("0.35", "0,35", 1);
    assert_input_error(
        aermet::read_str(&sfc, ps, Some((&bad, pp))).unwrap_err(),
        &["line 2", "field 11 (sigma-w)"],
    );
}

#[test]
fn local_frame_round_trips_and_gives_true_distances_from_the_origin() {
    let r = airshed::grid::EARTH_RADIUS;
    let deg = std::f64::consts::PI / 180.0;
    // 1 degree north along the origin's meridian: y = R x (pi/180)
    // = 6 370 000 x 0.0174532925 = 111 177.47 m, x = 0.
    let f = LocalFrame::new(109.38, 24.40);
    let (x, y) = f.forward(109.38, 25.40);
    assert_close(x, 0.0, 1e-6);
    assert_close(y, 111_177.47, 0.01);
    // From the equator, a quarter of the equator east is R pi / 2 east,
    // and the pole R pi / 2 north (azimuthal equidistant: distances from
    // the centre are true).
    let e = LocalFrame::new(0.0, 0.0);
    let (x, y) = e.forward(90.0, 0.0);
    assert_close(x, r * 90.0 * deg, 1e-6);
    assert_close(y, 0.0, 1e-6);
    let (x, y) = e.forward(0.0, 90.0);
    assert_close(x, 0.0, 1e-6);
    assert_close(y, r * 90.0 * deg, 1e-6);
    // From the north pole, latitude 60 N on the 0 meridian lies 30 degrees
    // of arc due "south" (negative y, the direction of the 180 meridian is +y).
    let (x, y) = LocalFrame::new(0.0, 90.0).forward(0.0, 60.0);
    assert_close(x.hypot(y), r * 30.0 * deg, 1e-6);
    // Round trips.
    for (lon, lat) in [
        (109.42, 24.30),
        (108.0, 22.0),
        (111.5, 26.9),
        (109.38, 24.40),
    ] {
        let (x, y) = f.forward(lon, lat);
        let (lo, la) = f.inverse(x, y);
        assert_close(lo, lon, 1e-9);
        assert_close(la, lat, 1e-9);
        // Distance from the origin is the great-circle distance.
        assert_close(x.hypot(y), great_circle(109.38, 24.40, lon, lat), 1e-6);
    }
}

#[test]
fn receptor_grids_have_the_right_counts_and_coordinates() {
    let c = receptors::cartesian(-100.0, 200.0, 50.0, 25.0, 3, 2);
    assert_eq!(c.len(), 6);
    let last = c.iter().find(|r| r.name == "C2_1").unwrap();
    // x0 + 2 dx = -100 + 100 = 0; y0 + dy = 225.
    assert_eq!((last.x, last.y), (0.0, 225.0));
    assert_eq!(
        (last.elevation, last.hill_height, last.flagpole),
        (0.0, 0.0, 0.0)
    );
    let p = receptors::polar(10.0, 20.0, &[100.0, 200.0], 4);
    assert_eq!(p.len(), 8);
    let at = |n: &str| {
        let r = p
            .iter()
            .find(|r| r.name == n)
            .unwrap_or_else(|| panic!("{n}"));
        (r.x, r.y)
    };
    // North, east, south of the centre (10, 20).
    let (x, y) = at("P0_100");
    assert_close(x, 10.0, 1e-9);
    assert_close(y, 120.0, 1e-9);
    let (x, y) = at("P90_200");
    assert_close(x, 210.0, 1e-9);
    assert_close(y, 20.0, 1e-9);
    let (x, y) = at("P180_100");
    assert_close(x, 10.0, 1e-9);
    assert_close(y, -80.0, 1e-9);
}

#[test]
fn receptor_csv_takes_local_or_geographic_positions_and_optional_heights() {
    let f = LocalFrame::new(109.38, 24.40);
    let r = receptors::from_csv(&data("receptors.csv"), &f, None).unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].name, "School");
    assert_eq!((r[0].x, r[0].y), (1000.0, -500.0));
    assert_eq!(
        (r[0].elevation, r[0].hill_height, r[0].flagpole),
        (85.0, 120.0, 1.5)
    );
    // 0.01 degree north of the origin: 111 177.47 / 100 = 1111.77 m.
    assert_eq!(r[1].name, "Hospital");
    assert_close(r[1].x, 0.0, 1e-6);
    assert_close(r[1].y, 1111.77, 0.01);
    assert_eq!(
        (r[1].elevation, r[1].hill_height, r[1].flagpole),
        (0.0, 0.0, 0.0)
    );
    // Hill height defaults to the elevation.
    assert_eq!((r[2].elevation, r[2].hill_height), (210.0, 210.0));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("r.csv");
    std::fs::write(&bad, "name,x_m,y_m,lon,lat\nA,1,2,,\nB,,,109.4,\n").unwrap();
    assert_input_error(
        receptors::from_csv(&bad, &f, None).unwrap_err(),
        &["r.csv", "line 3", "position"],
    );
    std::fs::write(
        &bad,
        "name,x_m,y_m,hill_height_m,elevation_m\nA,1,2,50,80\n",
    )
    .unwrap();
    assert_input_error(
        receptors::from_csv(&bad, &f, None).unwrap_err(),
        &["line 2", "hill_height_m", "50"],
    );
}

#[test]
fn receptor_terrain_gives_elevation_and_the_highest_ground_nearby() {
    use airshed::input::raster::LatLonRaster;
    use airshed::plume::receptors::ReceptorTerrain;
    // A 0.01-degree raster, 5 x 5 pixels centred on (109.38, 24.40), flat
    // at 100 m with one 400 m pixel two columns east (about 2 km away) and
    // sea (-20 m, taken as 0) in the south-west corner.
    let mut v = ndarray::Array2::from_elem((5, 5), 100.0);
    v[[2, 4]] = 400.0;
    v[[0, 0]] = -20.0;
    let dem = LatLonRaster::from_values(
        Path::new("dem.nc"),
        "elevation",
        (109.36, 24.38),
        (0.01, 0.01),
        v,
    );
    let f = LocalFrame::new(109.38, 24.40);
    let near = ReceptorTerrain::from_raster(dem.clone(), 2500.0);
    let far = ReceptorTerrain::from_raster(dem, 1500.0);
    // Pixel (2, 4) is 0.02 degrees of longitude east at 24.40 N:
    // 0.02 x 111 177.47 x cos(24.40) = 2024.7 m, within 2500 m, beyond 1500 m.
    let (e, h) = near.at(&f, 0.0, 0.0, "origin").unwrap();
    assert_close(e, 100.0, 1e-9);
    assert_eq!(h, 400.0);
    let (_, h) = far.at(&f, 0.0, 0.0, "origin").unwrap();
    assert_eq!(h, 100.0);
    // Half way between the centre column and the next one east, on the
    // 400 m pixel's row: column 3.5, bilinear (100 + 400) / 2 = 250 m.
    let (x, y) = f.forward(109.395, 24.40);
    let (e, _) = near.at(&f, x, y, "r").unwrap();
    assert_close(e, 250.0, 1e-6);
    // Sea pixel raised to 0: the south-west corner centre.
    let (x, y) = f.forward(109.36, 24.38);
    assert_close(near.at(&f, x, y, "sw").unwrap().0, 0.0, 1e-6);
    // Outside the raster: an error naming the receptor.
    assert_input_error(
        near.at(&f, 50_000.0, 0.0, "far away").unwrap_err(),
        &["dem.nc", "far away"],
    );
}

#[test]
fn stacks_group_rows_convert_units_and_go_into_the_local_frame() {
    let f = LocalFrame::new(109.38, 24.40);
    let s = sources::stacks_from_csv(&data("stacks.csv"), &f, &[], &[]).unwrap();
    assert_eq!(s.len(), 2);
    let north = &s[0];
    assert_eq!(north.name, "North works");
    assert_close(north.x, 0.0, 1e-6);
    assert_close(north.y, 0.0, 1e-6);
    assert_eq!(
        north.shape,
        Shape::Point {
            height: 120.0,
            diameter: 6.0,
            velocity: 15.0,
            temperature: 423.0
        }
    );
    // SO2: 3153.6 t/yr over the mean Gregorian year (31 556 952 s) is
    // 99.9337 g/s, plus the 50 g/s row of another sector: 149.9337 g/s.
    let rate = |src: &sources::Source, sp: &str| src.rates.iter().find(|r| r.0 == sp).map(|r| r.1);
    assert_close(rate(north, "SO2").unwrap(), 149.9337, 1e-4);
    assert_close(rate(north, "PM25").unwrap(), 20.0, 1e-12);
    let south = &s[1];
    // 36 kg/h = 10 g/s.
    assert_close(rate(south, "NOX").unwrap(), 10.0, 1e-12);
    // 0.1 degree south: R x 0.1 x pi/180 = 11 117.75 m, less about 0.6 m
    // as the frame's y axis curves from the parallel (R sin(lat0) cos(lat)
    // (1 - cos dlon) = 6.37e6 x 0.4131 x 0.9114 x 2.44e-7); 0.04 degree
    // east on the point's own parallel, x = R cos(lat) sin(dlon):
    // 4447.10 x cos(24.30) = 4447.10 x 0.91140 = 4053.1 m.
    assert_close(south.y, -11_117.2, 1.0);
    assert_close(south.x, 4053.1, 1.0);

    let so2 = sources::stacks_from_csv(
        &data("stacks.csv"),
        &f,
        &["SO2".into()],
        &["South plant".into()],
    )
    .unwrap();
    assert_eq!(so2.len(), 1);
    assert_eq!(so2[0].rates, vec![("SO2".to_string(), 10.0)]);

    // A row that moves its stack is refused, naming the line.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("s.csv");
    let t = text("stacks.csv").replace(
        "South plant,109.42,24.30,80,3.5,12,393,stationary_combustion,SO2",
        "South plant,109.42,24.31,80,3.5,12,393,stationary_combustion,SO2",
    );
    std::fs::write(&bad, t).unwrap();
    assert_input_error(
        sources::stacks_from_csv(&bad, &f, &[], &[]).unwrap_err(),
        &["s.csv", "line 8", "South plant", "line 7"],
    );
}

fn example_text() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/plume_example.toml"),
    )
    .unwrap()
}

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/plume_example.toml")
}

#[test]
fn example_case_resolves_everything() {
    let c = PlumeCase::load(&example_path()).unwrap();
    assert_eq!(c.name, "plume_example");
    assert_eq!(c.origin, (109.38, 24.40));
    assert_eq!(c.hours.len(), 12);
    assert_eq!((c.met.missing, c.met.calm), (1, 1));
    assert_eq!(c.sources.len(), 2);
    assert_eq!(c.species, vec!["SO2", "PM25", "NOX"]);
    // 3 listed + 6 distances x 36 directions.
    assert_eq!(c.receptors.len(), 3 + 216);
    assert_eq!(
        c.options.dispersion,
        airshed::plume::sigma::Scheme::Similarity
    );
    assert_eq!(c.options.calm, CalmMode::Puff);
    assert!(c.options.meander && !c.options.terrain && !c.options.downwash);
    assert_eq!(c.options.floors, Floors::default());
    assert_eq!(
        c.output.averages,
        vec![
            Average::Hours(1),
            Average::Hours(3),
            Average::Hours(8),
            Average::Hours(24),
            Average::Period
        ]
    );
    assert_eq!(c.output.nth_highest, vec![1, 2]);
    assert!(c.output.dir.ends_with("out/plume_example"));
}

#[test]
fn case_keys_are_checked_by_name() {
    let base = example_text();
    let p = example_path();
    let err = |t: &str| PlumeCase::from_str(t, &p).unwrap_err();
    let cfg = |e: Error, needles: &[&str]| {
        assert!(matches!(e, Error::Config { .. }), "a config error: {e}");
        let m = e.to_string();
        for n in needles {
            assert!(m.contains(n), "message should name {n:?}: {m}");
        }
    };
    cfg(
        err(&base.replace("meander = true", "meander = true\ncolour = \"red\"")),
        &["plume_example.toml", "plume", "colour"],
    );
    cfg(
        err(&base.replace("dispersion = \"similarity\"", "dispersion = \"gaussian\"")),
        &["plume.dispersion", "gaussian"],
    );
    cfg(
        err(&base.replace("calm = \"puff\"", "calm = \"puff\"\nmin_sigma_v_m_s = -1")),
        &["plume.min_sigma_v_m_s"],
    );
    cfg(
        err(&base.replace("hours = 12", "hours = 12\nend = \"2023-01-20 12\"")),
        &["plume.end"],
    );
    cfg(
        err(&base.replace("hours = 12", "hours = 13")),
        &["plume.hours"],
    );
    cfg(
        err(&base.replace("\"2023-01-20 01\"", "\"2023-01-21 01\"")),
        &["plume.start"],
    );
    cfg(
        err(&base.replace("\"1h\", ", "\"2h\", ")),
        &["output.averages[0]", "2h"],
    );
    cfg(
        err(&base.replace(
            "surface = ",
            "site = { case = \"default.toml\", lon = 109.4, lat = 24.3 }\nsurface = ",
        )),
        &["met", "either"],
    );
    // A window of the met.
    let c = PlumeCase::from_str(
        &base
            .replace("hours = 12", "hours = 3")
            .replace("\"2023-01-20 01\"", "\"2023-01-20 03\""),
        &p,
    )
    .unwrap();
    assert_eq!(c.hours.len(), 3);
    assert_eq!(c.met.calm, 1);
    assert_eq!(c.met.missing, 1);
}

#[test]
fn hour_ending_stamps_put_midnight_on_hour_24() {
    // 2023-01-20T00:00Z is day 19377 since 1970: 19377 x 86400 s.
    let midnight = 19_377.0 * 86_400.0;
    assert_eq!(hour_ending_utc(midnight + 3600.0), (2023, 1, 20, 1));
    assert_eq!(hour_ending_utc(midnight), (2023, 1, 19, 24));
    assert_eq!(hour_ending_utc(midnight + 24.0 * 3600.0), (2023, 1, 20, 24));
}

#[test]
fn site_met_from_an_eulerian_case_takes_the_column() {
    // Uniform analytic wind u = 3 m/s (towards the east, so from 270
    // degrees) on a Cartesian grid.
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
[run]
name = "col"
start = "2023-01-20T00:00:00Z"
hours = 3
dt_s = 600
[grid]
projection = "cartesian"
nx = 4
ny = 4
dx = 1000.0
dy = 1000.0
layer_tops_m = [50.0, 200.0, 600.0, 1500.0]
[species]
names = ["TRACER"]
[met]
kind = "analytic"
flow = "uniform"
u_ms = 3.0
v_ms = 0.0
[output]
dir = "out"
"#;
    let case = airshed::config::Case::from_str(text, &dir.path().join("col.toml")).unwrap();
    let grid = airshed::grid::Grid::new(&case.grid);
    let (lon, lat) = (grid.lon[[1, 2]], grid.lat[[1, 2]]);
    let hours = site_hours(&case, lon, lat).unwrap();
    assert_eq!(hours.len(), 3);
    let h = valid(&hours[0]);
    assert_eq!((h.year, h.month, h.day, h.hour), (2023, 1, 20, 1));
    assert_close(h.wind_speed, 3.0, 1e-9);
    assert_close(h.wind_dir, 270.0, 1e-9);
    assert_eq!(h.wind_height, 25.0);
    assert_eq!(h.profile.len(), 4);
    assert_eq!(h.profile[3].height, 1050.0);
    assert!(h.vptg >= 0.005);
    if h.obukhov < 0.0 {
        assert!(h.wstar > 0.0 && h.zi_conv == h.zi_mech);
    } else {
        assert_eq!((h.wstar, h.zi_conv), (0.0, 0.0));
    }
    assert_eq!(valid(&hours[2]).hour, 3);
}
