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
