//! The SYNTHETIC regimes over a January at the plan cities, against
//! published January climatology, and a regime schedule's spells and
//! blends.
//!
//! `cargo test --release --test regime_climatology -- --nocapture` prints
//! the figures; the month-long run is `-- --ignored`.

mod common;
use airshed::config::MetSpec;
use airshed::grid::Grid;
use airshed::met::regime::{Regime, RegimeMet, BLEND_HOURS};
use airshed::met::stats::{SiteSampler, SiteStats};
use airshed::met::Records;
use common::*;

/// The default case's grid and plan-city sites (configs/default.toml), with
/// `met` as the [met] table.
fn january_case(start: &str, hours: usize, met: &str) -> String {
    format!(
        r#"
sites = [
  {{ name = "Changsha", lon = 112.94, lat = 28.23 }},
  {{ name = "Hengyang", lon = 112.57, lat = 26.89 }},
  {{ name = "Chenzhou", lon = 113.01, lat = 25.77 }},
  {{ name = "Liuzhou", lon = 109.41, lat = 24.33 }},
]
[run]
name = "january"
start = "{start}"
hours = {hours}
dt_s = 900
[grid]
projection = "lambert"
truelat1 = 22.0
truelat2 = 30.0
stand_lon = 111.0
centre_lon = 111.0
centre_lat = 26.0
nx = 68
ny = 88
dx = 12000.0
dy = 12000.0
layer_tops_m = [30, 80, 150, 250, 400, 600, 850, 1150, 1500, 2000, 2600, 3300, 4200, 5200]
[species]
names = ["TRACER"]
[met]
kind = "diagnostic"
{met}
[output]
dir = "out"
"#
    )
}

/// Site met statistics of `hours` hourly records of the case's regime met.
fn site_stats(text: &str, hours: usize) -> Vec<SiteStats> {
    let dir = tempfile::tempdir().unwrap();
    let c = case(text, dir.path());
    let grid = Grid::new(&c.grid);
    let MetSpec::Regime(spec) = &c.met else {
        panic!("a regime case")
    };
    let mut met = RegimeMet::new(&grid, spec, c.run.start, 0.1, hours).unwrap();
    let mut samplers: Vec<SiteSampler> = c
        .sites
        .iter()
        .map(|s| {
            let (fi, fj) = grid.index_of(s.lon, s.lat);
            SiteSampler::new(
                &s.name,
                s.lon,
                s.lat,
                (fi.round() as usize, fj.round() as usize),
            )
        })
        .collect();
    for h in 0..hours {
        let m = met.read_record(h).unwrap();
        for s in &mut samplers {
            s.sample(&grid, &m);
        }
    }
    samplers.iter().map(|s| s.finish()).collect()
}

fn print(stats: &[SiteStats]) {
    for s in stats {
        println!(
            "{:<9} mean {:.2} m/s, resultant from {:.0} deg ({:.2} m/s), calm {:.1} %, mixing height p10/p50/p90 {:.0}/{:.0}/{:.0} m",
            s.name,
            s.mean_speed_ms,
            s.resultant_direction_deg,
            s.resultant_speed_ms,
            100.0 * s.calm_fraction,
            s.mixing_height_p10_m,
            s.mixing_height_p50_m,
            s.mixing_height_p90_m
        );
    }
}

#[test]
#[ignore]
fn a_january_of_the_winter_regime_over_flat_ground() {
    let t = std::time::Instant::now();
    let text = january_case("2023-01-01T00:00:00Z", 744, "regime = \"winter\"");
    let stats = site_stats(&text, 744);
    print(&stats);
    println!("{:.1} s", t.elapsed().as_secs_f64());
}

#[test]
fn a_schedule_changes_regime_at_its_spells_and_blends_over_six_hours() {
    // Spells: winter from 4 days before the run, stagnant from hour 24,
    // winter again from hour 72.
    let met = r#"regime = [
  { start = "2023-01-14T00:00:00Z", regime = "winter" },
  { start = "2023-01-19T00:00:00Z", regime = "stagnant", calm_fraction = 1.0 },
  { start = "2023-01-21T00:00:00Z", regime = "winter", calm_fraction = 0.0 },
]"#;
    let dir = tempfile::tempdir().unwrap();
    let c = case(&january_case("2023-01-18T00:00:00Z", 96, met), dir.path());
    let grid = Grid::new(&c.grid);
    let MetSpec::Regime(spec) = &c.met else {
        panic!("a regime case")
    };
    let m = RegimeMet::new(&grid, spec, c.run.start, 0.1, 96).unwrap();
    let winter = Regime::of(airshed::config::RegimeName::Winter);
    let stagnant = Regime::of(airshed::config::RegimeName::Stagnant);
    // Before the change the first spell's regime, exactly.
    assert_eq!(
        m.regime_at(23.0).lapse_night_k_per_km,
        winter.lapse_night_k_per_km
    );
    // Halfway through the blend: the mean of the two, by hand (20 + 30) / 2.
    assert_eq!(BLEND_HOURS, 6.0);
    assert!((m.regime_at(27.0).lapse_night_k_per_km - 25.0).abs() < 1e-12);
    assert!((m.regime_at(27.0).heat_flux_wm2 - 100.0).abs() < 1e-12);
    assert_eq!(m.regime_at(30.0).heat_flux_wm2, stagnant.heat_flux_wm2);
    // The stagnant spell is all calm (its calm_fraction 1): 0.3 m/s.
    for h in 30..72 {
        let (e, n) = m.synoptic_wind(h);
        assert!((e.hypot(n) - 0.3).abs() < 1e-12, "hour {h}");
    }
    // The last winter spell has no calm block: at least 0.6 x 3 m/s after
    // its blend.
    for h in 78..96 {
        let (e, n) = m.synoptic_wind(h);
        assert!(e.hypot(n) >= 1.8 - 1e-12, "hour {h}");
    }
    // In the blend the wind starts from the calm spell's and is a weighting
    // of the two spells' winds, so never beyond winter's fastest, 1.4 x 3 m/s.
    let speeds: Vec<f64> = (72..78)
        .map(|h| {
            let (e, n) = m.synoptic_wind(h);
            e.hypot(n)
        })
        .collect();
    println!("blend hours 72-77: synoptic speeds {speeds:.2?} m/s");
    assert!((speeds[0] - 0.3).abs() < 1e-12 && speeds.iter().all(|&s| s <= 4.2));
    assert!(m.description().contains("SYNTHETIC regime schedule"));
}

#[test]
fn a_schedule_must_start_by_the_run_start_and_go_forward() {
    let dir = tempfile::tempdir().unwrap();
    let late = january_case(
        "2023-01-18T00:00:00Z",
        24,
        r#"regime = [{ start = "2023-01-18T01:00:00Z", regime = "winter" }]"#,
    );
    let path = dir.path().join("case.toml");
    let err = airshed::config::Case::from_str(&late, &path).unwrap_err();
    assert!(err.to_string().contains("met.regime[0].start"), "{err}");
    let back = january_case(
        "2023-01-18T00:00:00Z",
        24,
        r#"regime = [{ start = "2023-01-17T00:00:00Z", regime = "winter" }, { start = "2023-01-16T00:00:00Z", regime = "stagnant" }]"#,
    );
    let err = airshed::config::Case::from_str(&back, &path).unwrap_err();
    assert!(err.to_string().contains("met.regime[1].start"), "{err}");
}
