//! The whole-region inventory: city totals recomputed from the model's
//! gridded emissions against the published figures, stacks subtracted from
//! their cities, proxy allocation inside city polygons, and temporal profiles
//! that keep the annual total.

mod common;

use airshed::config::Case;
use airshed::emissions::{Inventory, Origin, SECONDS_PER_YEAR};
use airshed::grid::Grid;
use std::collections::BTreeMap;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

const SPECIES: [&str; 7] = ["PM25", "BC", "OC", "SO2", "NOX", "VOC", "NH3"];

/// The default case's grid and inputs with every inventory species, and the
/// `[emissions]` lines given.
fn default_with(emissions: &str) -> Case {
    let text = std::fs::read_to_string(root().join("configs/default.toml")).unwrap();
    let mut out = String::new();
    let mut skip = false;
    for line in text.lines() {
        if line.starts_with('[') {
            skip = line == "[emissions]" || line == "[attribution]";
            if line == "[emissions]" {
                out.push_str("[emissions]\n");
                out.push_str(emissions);
                out.push('\n');
            }
        }
        if !skip {
            out.push_str(line);
            out.push('\n');
        }
    }
    Case::from_str(&out, &root().join("configs/inventory-test.toml")).unwrap()
}

fn load(case: &Case) -> (Inventory, Grid) {
    let grid = Grid::new(&case.grid);
    let inv = Inventory::load(&case.emissions, &grid, &SPECIES).unwrap();
    (inv, grid)
}

/// t/yr per (city, species) from the gridded arrays: each city's cells
/// (by origin) plus the stacks that name it, integrated over the local year
/// 2023 with each sector's hourly factor (constant without profiles).
fn city_totals(inv: &mut Inventory, grid: &Grid) -> BTreeMap<(String, String), f64> {
    let nsec = inv.sectors.len();
    // Year-integrated factor per sector, seconds: sum over the 8760 hours.
    let start = 1_672_531_200.0 - 8.0 * 3600.0; // 2023-01-01T00 local (UTC+8)
    let year_s: Vec<f64> = (0..nsec)
        .map(|s| match &mut inv.temporal {
            Some(p) => (0..8760)
                .map(|h| {
                    let t = start + h as f64 * 3600.0;
                    p.mean_factor(s, t, t + 3600.0) * 3600.0
                })
                .sum(),
            None => 8760.0 * 3600.0,
        })
        .collect();
    // Gridded arrays per (city, species), kg/s, as the emission process adds them.
    let mut arrays: BTreeMap<(String, String), ndarray::Array2<f64>> = BTreeMap::new();
    let mut out: BTreeMap<(String, String), f64> = BTreeMap::new();
    for c in &inv.cells {
        if let Origin::City { name, .. } = &c.origin {
            let a = arrays
                .entry((name.to_string(), SPECIES[c.species].to_string()))
                .or_insert_with(|| ndarray::Array2::zeros((grid.ny, grid.nx)));
            a[[c.j, c.i]] += c.rate;
            *out.entry((name.to_string(), SPECIES[c.species].to_string()))
                .or_default() += c.rate * year_s[c.sector] / 1000.0;
        }
    }
    for p in &inv.points {
        if let Some(city) = &p.city {
            for &(s, r) in &p.rates {
                *out.entry((city.clone(), SPECIES[s].to_string()))
                    .or_default() += r * year_s[p.sector] / 1000.0;
            }
        }
    }
    // The arrays hold the same mass as the entries (a check on the sum).
    for (k, a) in &arrays {
        let cells: f64 = inv
            .cells
            .iter()
            .filter(|c| {
                matches!(&c.origin, Origin::City { name, .. } if **name == *k.0)
                    && SPECIES[c.species] == k.1
            })
            .map(|c| c.rate)
            .sum();
        assert!((a.sum() - cells).abs() <= 1e-12 * cells.max(1e-30));
    }
    out
}

/// Published totals, t/yr, typed from their sources: Hengyang 2018 (plan
/// extract plan_001 L106-L116: PM2.5 3.3, SO2 2.2, NOx 5.4, VOCs 4.3, NH3
/// 3.5 x 10^4 t) and Changsha + Zhuzhou + Xiangtan (Xu et al. 2020,
/// Atmosphere 11(7):739, abstract: SO2 132.5, NOx 148.9, PM2.5 56.5, VOCs
/// 119.0, NH3 72.0 kt).
const HENGYANG: [(&str, f64); 5] = [
    ("PM2.5", 33_000.0),
    ("SO2", 22_000.0),
    ("NOX", 54_000.0),
    ("VOC", 43_000.0),
    ("NH3", 35_000.0),
];
const CZT: [(&str, f64); 5] = [
    ("PM2.5", 56_500.0),
    ("SO2", 132_500.0),
    ("NOX", 148_900.0),
    ("VOC", 119_000.0),
    ("NH3", 72_000.0),
];

fn check_published(totals: &BTreeMap<(String, String), f64>, label: &str) {
    let get = |cities: &[&str], sp: &str| -> f64 {
        let species: Vec<&str> = if sp == "PM2.5" {
            vec!["PM25", "BC", "OC"]
        } else {
            vec![sp]
        };
        cities
            .iter()
            .flat_map(|c| species.iter().map(move |s| (c.to_string(), s.to_string())))
            .map(|k| totals.get(&k).copied().unwrap_or(0.0))
            .sum()
    };
    for (cities, expected) in [
        (&["Hengyang"][..], &HENGYANG),
        (&["Changsha", "Zhuzhou", "Xiangtan"][..], &CZT),
    ] {
        for &(sp, want) in expected.iter() {
            let got = get(cities, sp);
            println!(
                "{label}: {} {sp}: {got:.1} t/yr (published {want})",
                cities.join("+")
            );
            assert!(
                (got / want - 1.0).abs() < 1e-3,
                "{label}: {cities:?} {sp} {got} t/yr vs published {want}"
            );
        }
    }
}

#[test]
fn city_totals_from_the_gridded_emissions_match_the_published_figures() {
    // (1) Gaussian spread, constant rates; (2) polygons and proxies with the
    // temporal profiles over a year.
    let plain = default_with(
        r#"city_totals = ["../inputs/city_totals.csv"]
points = ["../inputs/stacks.csv"]"#,
    );
    let (mut inv, grid) = load(&plain);
    check_published(&city_totals(&mut inv, &grid), "gaussian");
    let full = default_with(
        r#"city_totals = ["../inputs/city_totals.csv"]
points = ["../inputs/stacks.csv"]
temporal_profiles = "../inputs/temporal_profiles.csv"
city_allocation = { regions_file = "../inputs/cities.geojson", places = "../inputs/places_geonames.csv", land_cover = "../inputs/landcover_mcd12c1.nc" }"#,
    );
    for f in ["places_geonames.csv", "landcover_mcd12c1.nc"] {
        if !root().join("inputs").join(f).exists() {
            panic!("inputs/{f} is missing (branch i12-data)");
        }
    }
    let (mut inv, grid) = load(&full);
    assert!(inv.temporal.is_some());
    check_published(&city_totals(&mut inv, &grid), "polygons + profiles");
}

#[test]
fn stacks_leave_their_city_totals_unchanged() {
    let with = default_with(
        r#"city_totals = ["../inputs/city_totals.csv"]
points = ["../inputs/stacks.csv"]"#,
    );
    let without = default_with(r#"city_totals = ["../inputs/city_totals.csv"]"#);
    let (mut a, grid) = load(&with);
    let (mut b, _) = load(&without);
    let (ta, tb) = (city_totals(&mut a, &grid), city_totals(&mut b, &grid));
    let named: Vec<&str> = a.points.iter().filter_map(|p| p.city.as_deref()).collect();
    assert!(named.len() >= 6, "named stacks: {named:?}");
    for (k, v) in &tb {
        let w = ta.get(k).copied().unwrap_or(0.0);
        assert!(
            (w - v).abs() <= 1e-9 * v.max(1.0),
            "{k:?}: {w} with stacks vs {v}"
        );
    }
    // The stacks did move mass: Hengyang's area SO2 is smaller by Shuikoushan.
    let area = |inv: &Inventory, city: &str, sp: usize| -> f64 {
        inv.cells
            .iter()
            .filter(|c| {
                c.species == sp && matches!(&c.origin, Origin::City { name, .. } if &**name == city)
            })
            .map(|c| c.rate)
            .sum::<f64>()
            * SECONDS_PER_YEAR
            / 1000.0
    };
    let moved = area(&b, "Hengyang", 3) - area(&a, "Hengyang", 3);
    assert!(
        (moved - 2420.0).abs() < 0.01,
        "Shuikoushan SO2 moved: {moved} t/yr"
    );
}

/// A 10 x 10 lat-lon grid of 0.1 degree cells from (110.0, 25.0) (cell
/// centres), a square city from 110.30 to 110.60 E and 25.30 to 25.60 N.
fn synthetic(dir: &Path, rows: &str, places: &str, far: bool) -> airshed::Result<Inventory> {
    let far = if far {
        r#",
{"type":"Feature","properties":{"name":"Farcity"},"geometry":{"type":"Polygon","coordinates":[[[120.0,30.0],[120.5,30.0],[120.5,30.5],[120.0,30.0]]]}}"#
    } else {
        ""
    };
    std::fs::write(
        dir.join("cities.geojson"),
        format!(
            r#"{{"type":"FeatureCollection","features":[
{{"type":"Feature","properties":{{"name":"Testcity"}},"geometry":{{"type":"Polygon","coordinates":[[[110.30,25.30],[110.60,25.30],[110.60,25.60],[110.30,25.60],[110.30,25.30]]]}}}}{far}]}}"#
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("places.csv"),
        format!("geonameid,name,lon,lat,population,admin1\n{places}"),
    )
    .unwrap();
    common::write_city_totals(&dir.join("cities.csv"), rows);
    let text = r#"
[run]
name = "alloc"
start = "2023-01-01T00:00:00Z"
hours = 1
dt_s = 600
[grid]
projection = "latlon"
nx = 10
ny = 10
dx = 0.1
dy = 0.1
centre_lon = 110.0
centre_lat = 25.0
layer_tops_m = [100.0]
[species]
names = ["SO2"]
[met]
kind = "analytic"
flow = "uniform"
[emissions]
city_totals = ["cities.csv"]
city_allocation = { regions_file = "cities.geojson", places = "places.csv" }
[output]
dir = "out"
"#;
    let case = common::case(text, dir);
    Inventory::load(&case.emissions, &Grid::new(&case.grid), &["SO2"])
}

#[test]
fn proxy_allocation_stays_in_the_polygon_and_follows_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    // Two places in the city: 1000 people in cell (3, 4), half inside the
    // polygon (x from 110.25 to 110.35, polygon from 110.30), and 3000 in
    // cell (4, 4), wholly inside; a million outside in cell (8, 8).
    let places = "1,a,110.32,25.42,1000,\n2,b,110.42,25.42,3000,\n3,c,110.82,25.82,1000000,\n";
    let rows = "Testcity,110.45,25.45,20,residential_commercial,SO2,7000,test\n\
                Testcity,110.45,25.45,20,dust,SO2,1000,test\n";
    let inv = synthetic(dir.path(), rows, places, false).unwrap();
    let t_per_yr = |kgs: f64| kgs * SECONDS_PER_YEAR / 1000.0;
    let res: Vec<_> = inv.cells.iter().filter(|c| c.sector == 7).collect();
    let dust: Vec<_> = inv.cells.iter().filter(|c| c.sector == 0).collect();
    // Population: weights coverage x population = 0.5 x 1000 : 1 x 3000, so
    // 1/7 and 6/7 of 7000 t.
    assert_eq!(res.len(), 2);
    for c in &res {
        let want = match (c.i, c.j) {
            (3, 4) => 1000.0,
            (4, 4) => 6000.0,
            other => panic!("mass in cell {other:?}"),
        };
        assert!((t_per_yr(c.rate) - want).abs() < 1e-6, "{c:?}");
    }
    // Dust has no urban field here: area x coverage. Cells 4-5 x 4-5 whole,
    // 3 and 6 half in each direction: 9 units of cell area in one row band.
    let total: f64 = dust.iter().map(|c| t_per_yr(c.rate)).sum();
    assert!((total - 1000.0).abs() < 1e-6);
    for c in &dust {
        assert!(
            (3..=6).contains(&c.i) && (3..=6).contains(&c.j),
            "dust outside: {c:?}"
        );
    }
    let at = |i, j| {
        dust.iter()
            .find(|c| c.i == i && c.j == j)
            .map(|c| c.rate)
            .unwrap()
    };
    // Same row: equal cell areas, so a whole cell holds twice a half one.
    assert!((at(4, 4) / at(3, 4) - 2.0).abs() < 1e-9);
    // A city polygon that misses the grid: refused, named.
    let e = synthetic(
        dir.path(),
        "Farcity,110.45,25.45,20,dust,SO2,1000,test\n",
        places,
        true,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("Farcity") && e.contains("outside the model grid"),
        "{e}"
    );
    // A city without a polygon keeps the Gaussian.
    let inv = synthetic(
        dir.path(),
        "Nocity,110.45,25.45,5,dust,SO2,1000,test\n",
        places,
        false,
    )
    .unwrap();
    let total: f64 = inv.cells.iter().map(|c| t_per_yr(c.rate)).sum();
    assert!((total - 1000.0).abs() < 1e-6 && inv.cells.len() > 4);
}

#[test]
fn temporal_profiles_average_to_one_over_each_local_year() {
    let case = default_with(
        r#"city_totals = ["../inputs/city_totals.csv"]
temporal_profiles = "../inputs/temporal_profiles.csv""#,
    );
    let (inv, _) = load(&case);
    let mut p = inv.temporal.clone().unwrap();
    assert_eq!(p.utc_offset_hours, 8.0);
    for (year, hours, start) in [(2023, 8760, 1_672_531_200.0), (2024, 8784, 1_704_067_200.0)] {
        let t0 = start - 8.0 * 3600.0; // local midnight, 1 January
        for (s, name) in inv.sectors.iter().enumerate() {
            // Hour by hour, and in 7-hour steps that straddle hour marks.
            let hourly: f64 = (0..hours)
                .map(|h| p.mean_factor(s, t0 + h as f64 * 3600.0, t0 + (h + 1) as f64 * 3600.0))
                .sum::<f64>()
                / hours as f64;
            let step = 7.0 * 3600.0 + 1234.0;
            let (mut t, end, mut sum) = (t0, t0 + hours as f64 * 3600.0, 0.0);
            while t < end {
                let e = (t + step).min(end);
                sum += p.mean_factor(s, t, e) * (e - t);
                t = e;
            }
            let stepped = sum / (end - t0);
            println!("{year} {name}: mean factor {hourly:.12} (hourly), {stepped:.12} (stepped)");
            assert!((hourly - 1.0).abs() < 1e-9, "{year} {name}: {hourly}");
            assert!((stepped - 1.0).abs() < 1e-9, "{year} {name}: {stepped}");
        }
    }
    // Road transport peaks at 17-18 h local on a weekday: 2023-01-04 was a
    // Wednesday; 08 h local is 00 UTC.
    let mobile = inv.sectors.iter().position(|s| s == "mobile").unwrap();
    let wed = 1_672_531_200.0 + 3.0 * 86400.0 - 8.0 * 3600.0;
    let mut f = |h: f64| p.mean_factor(mobile, wed + h * 3600.0, wed + (h + 1.0) * 3600.0);
    let (f17, f12, f3) = (f(17.0), f(12.0), f(3.0));
    // Same day, so the ratios are the TNO hourly factors' (17 h 2.08, 12 h
    // 1.32, 3 h 0.05): a wrong offset would pick other hours.
    assert!((f17 / f12 - 2.08 / 1.32).abs() < 1e-9, "{f17} {f12}");
    assert!((f3 / f12 - 0.05 / 1.32).abs() < 1e-9, "{f3}");
}
