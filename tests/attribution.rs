//! Source attribution: tags partition the total, are unaffected by how
//! other tags are cut, agree with brute-force emission cuts where the
//! model is linear, follow the wind between two cities, and the chemistry
//! wrapper keeps each tag's sulfur and nitrogen.

mod common;
use airshed::state::{Tag, TagKind, TracerSet};
use common::{case, IO_LOCK};
use std::path::Path;

/// A square (lon0..lon1, lat0..lat1) as a GeoJSON feature.
fn square(name: &str, lon0: f64, lon1: f64, lat0: f64, lat1: f64) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"name":"{name}"}},"geometry":{{"type":"Polygon","coordinates":[[[{lon0},{lat0}],[{lon1},{lat0}],[{lon1},{lat1}],[{lon0},{lat1}],[{lon0},{lat0}]]]}}}}"#
    )
}

/// Two cities on a 0.1-degree lat-lon grid: A (its halves A1 and A2) to
/// the west of B, 20 km apart; a third region C without emissions.
fn write_inputs(dir: &Path) {
    let features = [
        square("A1", 110.5, 110.65, 25.4, 25.8),
        square("A2", 110.65, 110.8, 25.4, 25.8),
        square("B", 111.0, 111.3, 25.4, 25.8),
        square("C", 111.6, 111.9, 25.4, 25.8),
    ];
    std::fs::write(
        dir.join("regions.geojson"),
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            features.join(",")
        ),
    )
    .unwrap();
    let mut csv = String::from("city,lon,lat,radius_km,sector,species,t_per_yr,source\n");
    for (city, lon, scale) in [("A1", 110.57, 1.0), ("A2", 110.72, 0.5), ("B", 111.15, 0.8)] {
        for (sector, species, t) in [
            ("industrial_process", "PM25", 20000.0),
            ("dust", "PM25", 8000.0),
            ("industrial_process", "SO2", 30000.0),
            ("mobile", "NOX", 40000.0),
            ("agriculture", "NH3", 15000.0),
            ("solvent_use", "VOC", 25000.0),
        ] {
            csv.push_str(&format!(
                "{city},{lon},25.6,6,{sector},{species},{},test\n",
                t * scale
            ));
        }
    }
    std::fs::write(dir.join("cities.csv"), csv).unwrap();
}

/// The two-city case: wind `u` m/s from the west, `hours` long.
fn two_cities(u: f64, hours: u32, species: &str, extra: &str, attribution: &str) -> String {
    format!(
        r#"
[run]
name = "two"
start = "2023-01-20T00:00:00Z"
hours = {hours}
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
names = [{species}]
[met]
kind = "analytic"
flow = "uniform"
u_ms = {u}
v_ms = 0.0
pblh_day_m = 900
pblh_night_m = 250
surface_temperature_k = 280.0
[emissions]
city_totals = ["cities.csv"]
{extra}
[output]
dir = "out"
[attribution]
regions_file = "regions.geojson"
{attribution}
"#
    )
}

/// A box: 4 x 4 periodic cells, one layer, fog, fixed OH, chemistry only.
const BOX_CASE: &str = r#"
[run]
name = "box"
start = "2023-01-20T00:00:00Z"
hours = 6
dt_s = 900
[grid]
projection = "cartesian"
nx = 4
ny = 4
dx = 10000.0
dy = 10000.0
layer_tops_m = [100.0]
lateral = "periodic"
[species]
names = ["SO2", "SO4", "NOX", "HNO3", "NO3", "NH3", "NH4"]
[met]
kind = "analytic"
flow = "uniform"
u_ms = 0.0
v_ms = 0.0
pblh_day_m = 900
pblh_night_m = 250
surface_temperature_k = 275.0
cloud_water_gkg = 0.3
relative_humidity = 0.95
[chemistry]
oh_cm3 = 5.0e6
ozone_ppb = 40.0
[physics]
advection = false
horizontal_kh_m2s = 0.0
vertical_diffusion = false
dry_deposition = false
wet_deposition = false
[output]
dir = "out"
"#;

const ALL_SPECIES: &str = r#""PM25", "SO2", "SO4", "NOX", "HNO3", "NO3", "NH3", "NH4""#;
const WHOLE_A: &str = r#"groups = { A = ["A1", "A2"] }
regions = ["A", "B"]
receptors = ["A", "B"]"#;
const SPLIT_A: &str = r#"groups = { A = ["A1", "A2"] }
regions = ["A1", "A2", "B"]
receptors = ["A", "B"]"#;
const BACKGROUND: &str = r#"[boundary]
background_ugm3 = { PM25 = 10.0, SO2 = 3.0, NOX = 5.0, NH3 = 2.0 }
initial_ugm3 = { PM25 = 10.0, SO2 = 3.0, NOX = 5.0, NH3 = 2.0 }
[chemistry]
ozone_ppb = 40.0"#;

/// A Simulation of `case` whose tracers are its species x emission tags
/// `names`, plus boundary and initial.
fn with_tags(c: &airshed::config::Case, names: &[&str]) -> airshed::simulation::Simulation {
    let mut tags: Vec<Tag> = names
        .iter()
        .map(|n| Tag::plain(n, TagKind::Emissions))
        .collect();
    tags.push(Tag::plain("boundary", TagKind::Boundary));
    tags.push(Tag::plain("initial", TagKind::Initial));
    airshed::simulation::Simulation::build(
        c,
        TracerSet::tagged(c.species.clone(), tags),
        None,
        Box::new(airshed::parallel::Serial),
    )
    .unwrap()
}

/// Largest |a - b| / max(|b|, floor) over two fields, floor = 1e-12 of b's peak.
fn worst_relative(a: &ndarray::Array3<f64>, b: &ndarray::ArrayView3<f64>) -> f64 {
    let peak = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let floor = (1e-12 * peak).max(f64::MIN_POSITIVE);
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs() / y.abs().max(floor))
        .fold(0.0, f64::max)
}

/// Largest [`worst_relative`] over species between the sum of `tagged`'s
/// tags and `untagged`'s bulk (an untagged run: tracer s is species s).
fn worst_tags_vs_bulk(
    tagged: &airshed::simulation::Simulation,
    untagged: &airshed::simulation::Simulation,
) -> f64 {
    let t = &tagged.model.state.tracers;
    let mut worst: f64 = 0.0;
    for s in 0..t.species.len() {
        let bulk = untagged.model.state.tracer(s);
        let mut sum = ndarray::Array3::<f64>::zeros(bulk.dim());
        for tr in t.tracers_of(s) {
            sum += &tagged.model.state.tracer(tr);
        }
        worst = worst.max(worst_relative(&sum, &bulk));
    }
    worst
}

#[test]
fn tags_sum_to_the_untagged_run_in_every_cell_every_hour() {
    // Chemistry, advection, diffusion and deposition all on, with inflow
    // and initial values: for every species, cell and output hour the sum
    // of the tags equals an untagged run of the same case.
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let c = case(
        &two_cities(
            2.0,
            24,
            ALL_SPECIES,
            BACKGROUND,
            &format!("{WHOLE_A}\nsectors = \"all\""),
        ),
        dir.path(),
    );
    let mut tagged = airshed::simulation::Simulation::from_case(&c).unwrap();
    let mut untagged = airshed::simulation::Simulation::build(
        &c,
        TracerSet::new(c.species.clone()),
        None,
        Box::new(airshed::parallel::Serial),
    )
    .unwrap();
    let t = tagged.model.state.tracers.clone();
    println!(
        "{} tags: {:?}",
        t.n_tags(),
        t.tags.iter().map(|t| &t.name).collect::<Vec<_>>()
    );
    assert!(
        t.n_tags() >= 8,
        "A and B times their sectors, plus other, boundary, initial"
    );
    let mut worst: f64 = 0.0;
    let mut hours = 0;
    while !tagged.clock.done() {
        tagged.step().unwrap();
        untagged.step().unwrap();
        if tagged.clock.step % tagged.clock.steps_per_period != 0 {
            continue;
        }
        hours += 1;
        worst = worst.max(worst_tags_vs_bulk(&tagged, &untagged));
    }
    println!("completeness: worst |sum of tags - untagged| / untagged over {hours} hours, all cells and species: {worst:.1e}");
    assert_eq!(hours, 24);
    assert!(worst < 1e-9, "{worst}");
    // Every tag's budget closes, chemistry included (BudgetCheck ran hourly);
    // inflow through the sides and the top enters the boundary tag alone;
    // and the S budget of each tag: its chemistry terms in moles cancel.
    let b = &tagged.model.budget;
    for tr in 0..t.len() {
        let inflow = b.tracers[tr].lateral_in_kg + b.tracers[tr].top_in_kg;
        if t.tag_of(tr) == Some(t.boundary_tag) {
            assert!(t.species_index_of(tr) != 0 || inflow > 0.0, "PM25 flows in");
        } else {
            assert_eq!(inflow, 0.0, "inflow on tracer {tr}");
        }
    }
    let (so2, so4) = (
        t.species_index("SO2").unwrap(),
        t.species_index("SO4").unwrap(),
    );
    for tag in 0..t.n_tags() {
        let (a, s) = (&b.tracers[t.index(so2, tag)], &b.tracers[t.index(so4, tag)]);
        let net = a.chemistry_kg / 64.066 + s.chemistry_kg / 96.06;
        let scale = a.chemistry_kg.abs() / 64.066 + 1e-30;
        assert!(
            net.abs() <= 1e-12 * scale.max(1e-3),
            "tag {tag}: S chemistry {net} mol"
        );
    }
}

#[test]
fn splitting_a_tag_leaves_every_other_tag_unchanged() {
    // A as one tag, then as its halves A1 and A2 (same emissions): B,
    // other, boundary and initial do not change, and A1 + A2 = A.
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let whole = case(
        &two_cities(3.0, 12, ALL_SPECIES, BACKGROUND, WHOLE_A),
        dir.path(),
    );
    let split = case(
        &two_cities(3.0, 12, ALL_SPECIES, BACKGROUND, SPLIT_A),
        dir.path(),
    );
    let mut a = airshed::simulation::Simulation::from_case(&whole).unwrap();
    let mut b = airshed::simulation::Simulation::from_case(&split).unwrap();
    while !a.clock.done() {
        a.step().unwrap();
        b.step().unwrap();
    }
    let (ta, tb) = (a.model.state.tracers.clone(), b.model.state.tracers.clone());
    let names = |t: &TracerSet| t.tags.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ta), ["A", "B", "other", "boundary", "initial"]);
    assert_eq!(
        names(&tb),
        ["A1", "A2", "B", "other", "boundary", "initial"]
    );
    let mut worst_other: f64 = 0.0;
    let mut worst_halves: f64 = 0.0;
    for s in 0..ta.species.len() {
        for name in ["B", "other", "boundary", "initial"] {
            let x = a
                .model
                .state
                .tracer(ta.index(s, ta.tag_index(name).unwrap()))
                .to_owned();
            let y = b
                .model
                .state
                .tracer(tb.index(s, tb.tag_index(name).unwrap()));
            worst_other = worst_other.max(worst_relative(&x, &y));
        }
        let halves = &b.model.state.tracer(tb.index(s, 0)).to_owned()
            + &b.model.state.tracer(tb.index(s, 1));
        let whole_a = a.model.state.tracer(ta.index(s, 0));
        worst_halves = worst_halves.max(worst_relative(&halves, &whole_a));
    }
    println!(
        "invariance after 12 h with chemistry: other tags differ by {worst_other:.1e}, A1 + A2 vs A by {worst_halves:.1e} (relative)"
    );
    assert!(worst_other < 1e-9, "{worst_other}");
    assert!(worst_halves < 1e-9, "{worst_halves}");
    assert!(b.model.state.tracer(tb.index(0, 1)).sum() > 0.0, "A2 emits");
}

/// The receptor series of a tagged run, stepped to its end.
fn receptor_series(c: &airshed::config::Case) -> airshed::attribution::report::Series {
    let sim = airshed::simulation::Simulation::from_case(c).unwrap();
    let receptors = sim.tagging.as_ref().unwrap().receptors.clone();
    let calendar = airshed::attribution::report::Calendar {
        episode_ugm3: 75.0,
        utc_offset_hours: 0.0,
        spin_up_hours: 0.0,
    };
    airshed::output::tags::run_series(sim, c, receptors, calendar).unwrap()
}

/// Run-mean share (%) of tag `tag` in PM2.5 at receptor `rec`.
fn share(series: &airshed::attribution::report::Series, rec: usize, tag: usize) -> f64 {
    let pm = series.species.len() - 1;
    let r = &series.receptors[rec];
    let of_tag: f64 = r.values.iter().map(|v| v[pm][tag]).sum();
    let total: f64 = r.values.iter().map(|v| v[pm].iter().sum::<f64>()).sum();
    100.0 * of_tag / total
}

#[test]
fn the_upwind_city_share_follows_the_wind() {
    // Primary PM2.5 only. B's share from A (A 20 km upwind) rises as the
    // west wind strengthens from 0.5 to 5 m/s and falls in a calm; with
    // the wind from B to A, A contributes nothing to B.
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let run = |u: f64, physics: &str| {
        let text = two_cities(u, 24, r#""PM25""#, physics, WHOLE_A);
        let s = receptor_series(&case(&text, dir.path()));
        assert_eq!(s.receptors[1].name, "B");
        share(&s, 1, 0)
    };
    let (calm, slow, mid, fast) = (run(0.0, ""), run(0.5, ""), run(2.0, ""), run(5.0, ""));
    let reverse = run(-2.0, "");
    let reverse_no_kh = run(-2.0, "[physics]\nhorizontal_kh_m2s = 0.0");
    println!(
        "share of A in B's PM2.5 over 24 h: calm {calm:.3} %, 0.5 m/s {slow:.3} %, 2 m/s {mid:.3} %, 5 m/s {fast:.3} %; wind from B to A {reverse:.1e} % (K_h 100 m2/s), {reverse_no_kh} % (K_h 0)"
    );
    assert!(slow < mid && mid < fast, "{slow} {mid} {fast}");
    assert!(calm < slow, "{calm} {slow}");
    // Against the wind only eddy diffusion reaches B: 20 km against 2 m/s
    // with K_h = 100 m2/s is a factor of order exp(-u L / K) = e^-400 in
    // the continuum; the explicit scheme leaves ~1e-6 of B's total. With
    // K_h = 0 nothing of A can reach B.
    assert!(reverse < 1e-4, "{reverse}");
    assert_eq!(reverse_no_kh, 0.0);
}

#[test]
fn the_brute_force_report_compares_tags_with_cuts_and_bounds_the_upwind_share_shift() {
    // Chemistry off, primary PM2.5, A's plume crossing B 20 km downwind.
    // The model is linear but for PPM's limiter (the nonlinearity residual
    // stays below 1 %), so tagged and brute-force contributions differ only
    // by the donor-cell share transport: it assigns a cell the share of its
    // outflow face, half a cell downstream, which overstates B's own share
    // inside B where A's plume and B's emissions mix. Measured: 3.1 % of
    // B's mean here; on the default case's cities, 100 km and more apart,
    // under 1 % (`default_case_tags_match_brute_force_cuts_within_one_percent`).
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let text = two_cities(
        2.0,
        24,
        r#""PM25""#,
        "[boundary]\nbackground_ugm3 = { PM25 = 10.0 }",
        &format!("{WHOLE_A}\n[attribution.brute_force]\ntags = [\"A\", \"B\"]\ncut = 1.0"),
    );
    let c = case(&text, dir.path());
    let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let out = tempfile::tempdir().unwrap();
    let s = airshed::run::run_case(
        &c,
        &airshed::run::RunOptions {
            output_dir: Some(out.path().to_path_buf()),
            progress: false,
        },
    )
    .unwrap();
    assert!(out.path().join("two.brute_force.csv").exists());
    let table = s
        .attribution
        .iter()
        .find(|t| t.contains("brute force"))
        .unwrap();
    print!("{table}");
    let report = airshed::brute_force::run(&c, &out.path().join("two.tags.nc")).unwrap();
    let mut worst: f64 = 0.0;
    for (receptor, tag) in [("A", "A"), ("B", "B"), ("B", "A"), ("A", "B")] {
        let c = report
            .comparisons
            .iter()
            .find(|c| c.receptor == receptor && c.tag == tag)
            .unwrap();
        let diff = (c.tagged_ugm3 - c.brute_force_ugm3).abs();
        println!(
            "{receptor} from {tag}: tagged {:.4}, brute force {:.4} ug/m3, difference {:.3} % of the receptor's mean",
            c.tagged_ugm3,
            c.brute_force_ugm3,
            100.0 * diff / c.base_ugm3
        );
        worst = worst.max(diff / c.base_ugm3);
    }
    assert!(worst > 0.0 && worst <= 0.05, "{worst}");
    for (r, v, pct) in &report.residuals {
        assert!(pct.abs() < 1.0, "{r}: nonlinearity residual {v} ({pct} %)");
    }
}

#[test]
fn default_case_tags_match_brute_force_cuts_within_one_percent() {
    // The default case's geography, met and inventory with chemistry off
    // and primary PM2.5 only: each city's tagged contribution against
    // removing the city (cut 1.0), at every receptor, within 1 % of the
    // receptor's mean.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Line by line: PM25 alone in the species list and the boundary (no
    // per-side values), no species restriction or sector split in
    // [attribution].
    let text: String = std::fs::read_to_string(root.join("configs/default.toml"))
        .unwrap()
        .lines()
        .filter(|l| {
            !l.starts_with("species = [")
                && !l.starts_with("sectors = ")
                && !l.starts_with("north_ugm3")
        })
        .map(|l| {
            // Two days, all reported: the comparison needs no spin-up.
            if l.starts_with("hours = ") {
                "hours = 48".to_string()
            } else if l.starts_with("spin_up_hours = ") {
                "spin_up_hours = 0".to_string()
            } else if l.starts_with("names = [") {
                r#"names = ["PM25"]"#.to_string()
            } else if let Some(key) = ["background_ugm3", "initial_ugm3"]
                .into_iter()
                .find(|k| l.starts_with(k))
            {
                format!("{key} = {{ PM25 = 10.0 }}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n[attribution.brute_force]\ntags = [\"Hengyang\", \"Chenzhou\", \"Liuzhou\"]\ncut = 1.0\n";
    // The analytic met of issue 8's measurement (a uniform 2.5 m/s
    // north-north-easterly) in place of the regimes: on the diagnostic
    // winds over ETOPO5 the largest difference is 1.58 % (Chenzhou, 48 h;
    // docs/attribution.md), above this test's 1 % bound.
    let (a, b) = (
        text.find("\n[met]\n").unwrap(),
        text.find("\n[surface]\n").unwrap(),
    );
    let text = format!(
        "{}\n[met]\nkind = \"analytic\"\nflow = \"uniform\"\nu_ms = -1.0\nv_ms = -2.3\npblh_day_m = 900\npblh_night_m = 250\nsurface_temperature_k = 280.0\n{}",
        &text[..a],
        &text[b..]
    );
    let c = airshed::config::Case::from_str(&text, &root.join("configs/linear.toml")).unwrap();
    assert_eq!(c.species.len(), 1);
    let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let out = tempfile::tempdir().unwrap();
    airshed::run::run_case(
        &c,
        &airshed::run::RunOptions {
            output_dir: Some(out.path().to_path_buf()),
            progress: false,
        },
    )
    .unwrap();
    let report = airshed::brute_force::run(&c, &out.path().join("default.tags.nc")).unwrap();
    // Cities are the polygon receptors; sites (one cell each) are printed.
    let mut worst = (0.0f64, String::new());
    let mut worst_site = (0.0f64, String::new());
    for cmp in &report.comparisons {
        let rel = (cmp.tagged_ugm3 - cmp.brute_force_ugm3).abs() / cmp.base_ugm3;
        let w = if cmp.kind == "site" {
            &mut worst_site
        } else {
            &mut worst
        };
        if rel > w.0 {
            *w = (rel, format!("{} from {}", cmp.receptor, cmp.tag));
        }
        if cmp.receptor == cmp.tag && cmp.kind != "site" {
            println!(
                "{}: own tag {:.3}, brute force {:.3} ug/m3 ({:.2} % of {:.2})",
                cmp.receptor,
                cmp.tagged_ugm3,
                cmp.brute_force_ugm3,
                100.0 * rel,
                cmp.base_ugm3
            );
        }
    }
    println!(
        "largest difference: {:.2} % of the city's mean ({}); at the single-cell sites {:.2} % ({})",
        100.0 * worst.0,
        worst.1,
        100.0 * worst_site.0,
        worst_site.1
    );
    assert!(worst.0 < 0.01, "{worst:?}");
}

#[test]
fn a_tag_in_a_uniform_bulk_spreads_as_donor_cell_upwinding_predicts() {
    // The price of the flux-fraction form: a tag's share moves by donor-cell
    // upwinding (here across the periodic seam). A Gaussian tag puff inside a uniform bulk (which PPM leaves
    // exactly uniform) spreads with the upwind scheme's numerical
    // diffusivity, K = u dx (1 - C) / 2 (modified equation, LeVeque 2002,
    // Finite Volume Methods, sec. 8.6), so its variance grows by
    // 2 K t = u dx (1 - C) t, while its mean moves at u.
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
[run]
name = "puff"
start = "2023-01-01T00:00:00Z"
hours = 1
dt_s = 100
[grid]
projection = "cartesian"
nx = 96
ny = 4
dx = 1000.0
dy = 1000.0
layer_tops_m = [100.0]
lateral = "periodic"
[species]
names = ["PM25"]
[met]
kind = "analytic"
flow = "uniform"
u_ms = 5.0
v_ms = 0.0
constant_density = true
[physics]
horizontal_kh_m2s = 0.0
vertical_diffusion = false
dry_deposition = false
wet_deposition = false
[output]
dir = "out"
"#;
    let c = case(text, dir.path());
    let tags = vec![
        Tag::plain("puff", TagKind::Emissions),
        Tag::plain("boundary", TagKind::Boundary),
        Tag::plain("initial", TagKind::Initial),
    ];
    let mut sim = airshed::simulation::Simulation::build(
        &c,
        TracerSet::tagged(c.species.clone(), tags),
        None,
        Box::new(airshed::parallel::Serial),
    )
    .unwrap();
    // Starting 11 km before the periodic seam, the puff crosses it.
    let (x0, sigma0, length) = (85_000.0, 4_000.0, 96_000.0);
    let air = sim.model.state.air_mass.clone();
    for ((_, j, i), a) in air.indexed_iter() {
        let x = (i as f64 + 0.5) * 1000.0;
        let d = (x - x0 + 0.5 * length).rem_euclid(length) - 0.5 * length;
        let puff = (-0.5 * (d / sigma0).powi(2)).exp();
        // Bulk mixing ratio 1 everywhere: the puff's share of it, the rest "initial".
        sim.model.state.mass[[0, 0, j, i]] = puff * a;
        sim.model.state.mass[[2, 0, j, i]] = (1.0 - puff) * a;
    }
    common::reset_budget(&mut sim);
    // Moments in x unwrapped around the start: x0 + ((x - x0 + L/2) mod L) - L/2,
    // then about x0 + 9 km, the middle of the path.
    let moments = |sim: &airshed::simulation::Simulation| {
        let m = sim.model.state.tracer(0);
        let centre = x0 + 9_000.0;
        let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
        for ((_, _, i), &v) in m.indexed_iter() {
            let x = (i as f64 + 0.5) * 1000.0;
            let x = centre + (x - centre + 0.5 * length).rem_euclid(length) - 0.5 * length;
            s0 += v;
            s1 += v * x;
            s2 += v * x * x;
        }
        let mean = s1 / s0;
        (mean, s2 / s0 - mean * mean)
    };
    let (mean0, var0) = moments(&sim);
    while !sim.clock.done() {
        sim.step().unwrap();
    }
    let (mean1, var1) = moments(&sim);
    let (u, dx, t) = (5.0, 1000.0, 3600.0);
    let courant = u * 100.0 / dx;
    let expected = u * dx * (1.0 - courant) * t;
    let bulk_max_dev = sim
        .model
        .state
        .tracer(0)
        .iter()
        .zip(sim.model.state.tracer(2).iter())
        .zip(sim.model.state.air_mass.iter())
        .map(|((p, r), a)| ((p + r) / a - 1.0).abs())
        .fold(0.0, f64::max);
    println!(
        "tag puff over 1 h at C = {courant}: moved {:.0} m (u t = {:.0}), variance grew {:.3e} m2, donor-cell prediction {:.3e} m2; bulk stays uniform to {bulk_max_dev:.1e}",
        mean1 - mean0,
        u * t,
        var1 - var0,
        expected
    );
    assert!(((mean1 - mean0) / (u * t) - 1.0).abs() < 1e-6);
    assert!(
        ((var1 - var0) / expected - 1.0).abs() < 0.02,
        "{} vs {expected}",
        var1 - var0
    );
    assert!(bulk_max_dev < 1e-12);
}

#[test]
fn the_chemistry_wrapper_splits_sulfate_by_the_tags_so2_and_keeps_each_tags_s_and_n() {
    // A box (chemistry only) with fog, fixed OH and two tags holding SO2,
    // NOx and NH3 in the ratio 3:1: sulfate, nitrate and ammonium split
    // 3:1, and each tag's S, oxidised N and reduced N stay constant.
    let dir = tempfile::tempdir().unwrap();
    let c = case(BOX_CASE, dir.path());
    let mut sim = with_tags(&c, &["a", "b"]);
    assert!(sim.processes.iter().any(|p| p.name() == "chemistry"));
    let t = sim.model.state.tracers.clone();
    let sp = |n: &str| t.species_index(n).unwrap();
    // Masses per kg of air: SO2 ~ 8 ppb, NOX ~ 20 ppb, NH3 ~ 30 ppb in all.
    for (name, ratio) in [("SO2", 2.1e-8), ("NOX", 3.2e-8), ("NH3", 1.8e-8)] {
        for (tag, share) in [(0, 0.75), (1, 0.25)] {
            let tr = t.index(sp(name), tag);
            let air = sim.model.state.air_mass.clone();
            sim.model
                .state
                .mass
                .index_axis_mut(ndarray::Axis(0), tr)
                .assign(&(&air * (ratio * share)));
        }
    }
    common::reset_budget(&mut sim);
    let molar = |n: &str| t.species[sp(n)].molar_mass;
    let moles = |sim: &airshed::simulation::Simulation, tag: usize, names: &[&str]| -> f64 {
        names
            .iter()
            .map(|n| sim.model.state.tracer(t.index(sp(n), tag)).sum() / molar(n))
            .sum()
    };
    let families: [&[&str]; 3] = [&["SO2", "SO4"], &["NOX", "HNO3", "NO3"], &["NH3", "NH4"]];
    let start: Vec<Vec<f64>> = (0..2)
        .map(|tag| families.iter().map(|f| moles(&sim, tag, f)).collect())
        .collect();
    while !sim.clock.done() {
        sim.step().unwrap();
    }
    let total = |tag: usize, n: &str| sim.model.state.tracer(t.index(sp(n), tag)).sum();
    assert!(
        total(0, "SO4") > 0.1 * total(0, "SO2"),
        "sulfate forms in the fog"
    );
    assert!(total(0, "NO3") > 0.0 && total(0, "NH4") > 0.0);
    for n in ["SO4", "HNO3", "NO3", "NH4", "SO2", "NOX", "NH3"] {
        let ratio = total(0, n) / total(1, n);
        println!("{n}: tag a / tag b = {ratio:.15}");
        assert!((ratio - 3.0).abs() < 1e-12, "{n}: {ratio}");
    }
    for (tag, start) in start.iter().enumerate() {
        for (f, family) in families.iter().enumerate() {
            let now = moles(&sim, tag, family);
            let drift = (now - start[f]).abs() / start[f];
            println!("tag {tag} {family:?}: relative change in moles {drift:.1e}");
            assert!(drift < 1e-12, "{drift}");
        }
    }
    for tr in 0..t.len() {
        let b = &sim.model.budget.tracers[tr];
        let scale = b.initial_kg.abs() + b.chemistry_kg.abs() + 1e-30;
        let residual = b.initial_kg + b.chemistry_kg - sim.model.state.tracer(tr).sum();
        assert!(residual.abs() <= 1e-12 * scale, "tracer {tr}: {residual}");
    }
}

#[test]
fn bad_attribution_input_is_refused_naming_the_file_and_key() {
    let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let build = |attribution: &str| {
        let c = airshed::config::Case::from_str(
            &two_cities(2.0, 1, r#""PM25""#, "", attribution),
            &dir.path().join("case.toml"),
        )?;
        airshed::simulation::Simulation::from_case(&c).map(|_| ())
    };
    let cases: &[(&str, &str)] = &[
        ("regions = [\"Nowhere\"]", "Nowhere"),
        (
            "groups = { G = [\"A1\", \"Z\"] }\nregions = [\"G\"]",
            "\"Z\"",
        ),
        (
            "groups = { A = [\"A1\", \"A2\"] }\nregions = [\"A\", \"A1\"]",
            "overlap",
        ),
        ("regions = [\"B\", \"B\"]", "duplicate"),
        ("regions = [\"B\"]\nsectors = [\"steel\"]", "steel"),
        ("regions = [\"B\"]\nreceptors = [\"Q\"]", "Q"),
        (
            "regions = [\"B\"]\n[attribution.brute_force]\ntags = [\"B\"]\ncut = 1.5",
            "cut",
        ),
    ];
    for (text, expect) in cases {
        let err = build(text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {text}"))
            .to_string();
        println!("{err}");
        assert!(
            err.contains("case.toml") && err.contains(expect),
            "{text}: {err}"
        );
    }
    // A brute-force tag the run does not have, before any running.
    let c = case(
        &two_cities(
            2.0,
            1,
            r#""PM25""#,
            "",
            "regions = [\"B\"]\n[attribution.brute_force]\ntags = [\"A\"]",
        ),
        dir.path(),
    );
    let err = airshed::run::run_case(
        &c,
        &airshed::run::RunOptions {
            output_dir: Some(dir.path().join("out")),
            progress: false,
        },
    )
    .expect_err("refused")
    .to_string();
    assert!(
        err.contains("brute_force.tags") && err.contains("\"A\""),
        "{err}"
    );
    // A polygon that misses the grid, and an empty one, name the feature.
    for (feature, expect) in [
        (square("Far", 120.0, 121.0, 40.0, 41.0), "Far"),
        (
            r#"{"type":"Feature","properties":{"name":"Empty"},"geometry":{"type":"Polygon","coordinates":[]}}"#.to_string(),
            "Empty",
        ),
    ] {
        std::fs::write(
            dir.path().join("bad.geojson"),
            format!(r#"{{"type":"FeatureCollection","features":[{}, {feature}]}}"#, square("B", 111.0, 111.3, 25.4, 25.8)),
        )
        .unwrap();
        let text = two_cities(2.0, 1, r#""PM25""#, "", "regions = [\"B\"]")
            .replace("regions_file = \"regions.geojson\"", "regions_file = \"bad.geojson\"");
        let c = case(&text, dir.path());
        let err = airshed::simulation::Simulation::from_case(&c).err().expect("refused").to_string();
        println!("{err}");
        assert!(err.contains("bad.geojson") && err.contains(expect), "{err}");
    }
}

#[test]
fn emissions_reach_tags_by_where_they_are() {
    // Tags A1, A2, B on the 0.1-degree grid. A1 spans lon 110.50-110.65:
    // cell i = 5 whole and half of i = 6, rows j = 4..7 (lat 25.4-25.8).
    // - a gridded PM25 field of 1 kg/s in every cell: A1 gets 4 x 1 + 4 x
    //   0.5 = 6 kg/s, A2 (110.65-110.80) the other halves of i = 6 and all
    //   of i = 7: 6 kg/s, B (111.0-111.3, i = 10..12) 12 kg/s, `other`
    //   the remaining 30 x 12 - 24 = 336 kg/s;
    // - a stack inside B goes to B, one outside every region to `other`;
    // - a city row named "A", a group split among the tags A1 and A2, goes
    //   by its centre (110.57 E: in A1) to A1.
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    {
        let mut f = netcdf::create(dir.path().join("grid.nc")).unwrap();
        f.add_dimension("y", 12).unwrap();
        f.add_dimension("x", 30).unwrap();
        let mut v = f.add_variable::<f64>("pm", &["y", "x"]).unwrap();
        v.put_attribute("species", "PM25").unwrap();
        v.put_attribute("sector", "dust").unwrap();
        v.put_attribute("units", "kg s-1").unwrap();
        v.put_values(&vec![1.0; 360], ..).unwrap();
    }
    std::fs::write(
        dir.path().join("stacks.csv"),
        "name,lon,lat,height_m,diameter_m,velocity_m_s,temperature_k,sector,species,rate,units\n\
         in B,111.2,25.5,50,2,10,400,industrial_process,PM25,2,kg s-1\n\
         outside,112.5,25.1,50,2,10,400,industrial_process,PM25,3,kg s-1\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("cityA.csv"),
        "city,lon,lat,radius_km,sector,species,t_per_yr,source\n\
         A,110.57,25.6,6,mobile,PM25,31556.952,test (1 kg/s)\n",
    )
    .unwrap();
    let text = two_cities(
        2.0,
        1,
        r#""PM25""#,
        "",
        "groups = { A = [\"A1\", \"A2\"] }\nregions = [\"A1\", \"A2\", \"B\"]",
    )
    .replace(
        r#"city_totals = ["cities.csv"]"#,
        r#"city_totals = ["cityA.csv"]
gridded = ["grid.nc"]
points = ["stacks.csv"]"#,
    );
    let c = case(&text, dir.path());
    let (tagging, inventory) = airshed::simulation::Simulation::tagged_inventory(&c).unwrap();
    let names: Vec<&str> = tagging.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["A1", "A2", "B", "other", "boundary", "initial"]);
    let mut per_tag = [0.0f64; 6];
    for cell in &inventory.cells {
        per_tag[cell.tag] += cell.rate;
    }
    for p in &inventory.points {
        per_tag[p.tag] += p.rates.iter().map(|r| r.1).sum::<f64>();
    }
    println!("routed emission per tag, kg/s: {per_tag:?}");
    let expected = [6.0 + 1.0, 6.0, 12.0 + 2.0, 336.0 + 3.0, 0.0, 0.0];
    for (t, (got, want)) in per_tag.iter().zip(expected).enumerate() {
        assert!(
            (got - want).abs() < 1e-9 * want.max(1.0),
            "{}: {got} vs {want}",
            names[t]
        );
    }
}

#[test]
fn receptors_count_their_own_regions_tags_as_local() {
    // A1 covers its edge cells by half: the A1 receptor, the group A and a
    // site inside A1 all count A1's tag as local; B's receptor does not.
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let text = two_cities(
        2.0,
        1,
        r#""PM25""#,
        "",
        "groups = { A = [\"A1\", \"A2\"] }\nregions = [\"A1\", \"B\"]\nreceptors = [\"A1\", \"A\", \"B\"]",
    )
    .replace("[run]", "sites = [{ name = \"Inside A1\", lon = 110.64, lat = 25.5 }]\n[run]");
    let c = case(&text, dir.path());
    let (tagging, _) = airshed::simulation::Simulation::tagged_inventory(&c).unwrap();
    let names: Vec<&str> = tagging.receptors.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["A1", "A", "B", "Inside A1 (site)"]);
    let a1 = tagging.tags.iter().position(|t| t.name == "A1").unwrap();
    let b = tagging.tags.iter().position(|t| t.name == "B").unwrap();
    let local: Vec<Vec<bool>> = (0..4).map(|r| tagging.local_flags(r)).collect();
    assert!(local[0][a1] && local[1][a1] && local[3][a1]);
    assert!(!local[2][a1] && local[2][b] && !local[0][b] && !local[3][b]);
    // Only emission tags are ever local.
    assert!(local.iter().all(|l| !l[tagging.tags.len() - 1]));
}

#[test]
fn a_tagged_run_on_a_divided_domain_is_refused() {
    use airshed::parallel::decomp::split;
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let c = case(&two_cities(2.0, 1, r#""PM25""#, "", WHOLE_A), dir.path());
    let whole = airshed::grid::Grid::new(&c.grid);
    let parts = split(&whole, 2, 1, airshed::processes::advection::HALO_WIDTH);
    let (tagging, _) = airshed::simulation::Simulation::tagged_inventory(&c).unwrap();
    let err = airshed::simulation::Simulation::build(
        &c,
        tagging.tracers(c.species.clone()),
        Some(&parts[0]),
        Box::new(airshed::parallel::Serial),
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(err.contains("undivided"), "{err}");
}

#[test]
fn attribute_reads_a_finished_run_and_refuses_files_that_are_not_one() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let c = case(
        &two_cities(
            2.0,
            3,
            r#""PM25", "SO2""#,
            "",
            &format!("{WHOLE_A}\nsectors = \"all\""),
        ),
        dir.path(),
    );
    let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let out = dir.path().join("out");
    airshed::run::run_case(
        &c,
        &airshed::run::RunOptions {
            output_dir: Some(out.clone()),
            progress: false,
        },
    )
    .unwrap();
    use airshed::output::tags::{attribute, series_from_file, ReceptorRequest};
    // The run's own receptors, through the main file's name.
    let text = attribute(
        &out.join("two.nc"),
        &ReceptorRequest::default(),
        "all",
        "all",
        None,
    )
    .unwrap();
    assert!(
        text.contains("A (group)")
            && text.contains("B (region)")
            && text.contains("day 2023-01-20")
    );
    // A named region, a point and a polygon, after the run.
    std::fs::write(
        dir.path().join("poly.geojson"),
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            square("East of B", 111.3, 111.6, 25.4, 25.8)
        ),
    )
    .unwrap();
    let request = ReceptorRequest {
        names: vec!["B".into()],
        points: vec![("P".into(), 111.15, 25.6)],
        polygons: Some((dir.path().join("poly.geojson"), "name".into())),
    };
    let s = series_from_file(&out.join("two.tags.nc"), &request).unwrap();
    let names: Vec<&str> = s.receptors.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["B", "P (site)", "East of B"]);
    let b_tags: Vec<bool> = s.tags.iter().map(|t| t.region == "B").collect();
    assert_eq!(s.receptors[0].local, b_tags, "B's own tags are local to B");
    assert_eq!(s.receptors[1].local, b_tags, "a point in the middle of B");
    for r in &s.receptors {
        for per in s
            .rows()
            .iter()
            .filter(|row| row.receptor == r.name && row.period.starts_with("run"))
        {
            assert!(per.share >= -1e-9 && per.share <= 100.0 + 1e-9);
        }
    }
    // Not a tags file, a truncated one, and an unknown receptor: errors.
    let truncated = dir.path().join("cut.tags.nc");
    let bytes = std::fs::read(out.join("two.tags.nc")).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    for (file, request, expect) in [
        (
            out.join("two.sites.csv"),
            ReceptorRequest::default(),
            "readable",
        ),
        (truncated, ReceptorRequest::default(), "cut.tags.nc"),
        (
            out.join("two.tags.nc"),
            ReceptorRequest {
                names: vec!["Nowhere".into()],
                ..Default::default()
            },
            "Nowhere",
        ),
    ] {
        let err = series_from_file(&file, &request)
            .expect_err("refused")
            .to_string();
        println!("{err}");
        assert!(err.contains(expect), "{err}");
    }
    let err = series_from_file(&out.join("two.nc"), &ReceptorRequest::default())
        .expect_err("the concentration file has no tags")
        .to_string();
    assert!(err.contains("tag_name"), "{err}");
}

#[test]
fn secondary_mass_follows_the_tag_that_brought_the_precursor() {
    // Tag a brings SO2 and NOx, tag b sulfate and nitrate already formed,
    // tag c only ammonia: new sulfate and nitric acid go to a alone, b's
    // sulfate stays b's, and c gets ammonium but no nitrate.
    let dir = tempfile::tempdir().unwrap();
    let c = case(BOX_CASE, dir.path());
    let mut sim = with_tags(&c, &["a", "b", "c"]);
    let t = sim.model.state.tracers.clone();
    let sp = |n: &str| t.species_index(n).unwrap();
    let air = sim.model.state.air_mass.clone();
    for (name, tag, ratio) in [
        ("SO2", 0, 2.0e-8),
        ("NOX", 0, 3.0e-8),
        ("SO4", 1, 4.0e-9),
        ("NO3", 1, 2.0e-9),
        ("NH3", 2, 2.0e-8),
    ] {
        sim.model
            .state
            .mass
            .index_axis_mut(ndarray::Axis(0), t.index(sp(name), tag))
            .assign(&(&air * ratio));
    }
    common::reset_budget(&mut sim);
    let total = |sim: &airshed::simulation::Simulation, tag: usize, n: &str| {
        sim.model.state.tracer(t.index(sp(n), tag)).sum()
    };
    let b_sulfate = total(&sim, 1, "SO4");
    while !sim.clock.done() {
        sim.step().unwrap();
    }
    let molar = |n: &str| t.species[sp(n)].molar_mass;
    let a_so4 = total(&sim, 0, "SO4");
    let a_so2_lost = 2.0e-8 * air.sum() - total(&sim, 0, "SO2");
    println!(
        "tag a: SO2 lost {:.4e} mol, SO4 gained {:.4e} mol; tag b SO4 {:.6e} -> {:.6e} kg; tag c NH4 {:.3e}, NO3 {:.3e}, HNO3 {:.3e} kg",
        a_so2_lost / molar("SO2"),
        a_so4 / molar("SO4"),
        b_sulfate,
        total(&sim, 1, "SO4"),
        total(&sim, 2, "NH4"),
        total(&sim, 2, "NO3"),
        total(&sim, 2, "HNO3")
    );
    assert!(a_so4 > 0.0);
    assert!((a_so4 / molar("SO4") / (a_so2_lost / molar("SO2")) - 1.0).abs() < 1e-12);
    assert!((total(&sim, 1, "SO4") / b_sulfate - 1.0).abs() < 1e-12);
    assert_eq!(total(&sim, 1, "SO2"), 0.0);
    assert!(total(&sim, 2, "NH4") > 0.0, "the ammonia tag gets ammonium");
    assert_eq!(
        total(&sim, 2, "NO3") + total(&sim, 2, "HNO3") + total(&sim, 2, "SO4"),
        0.0
    );
}

#[test]
fn tags_can_be_restricted_to_some_species() {
    // VOC (first in the list, with emissions of its own sector, inflow and
    // initial values) carried as its bulk alone: one tracer instead of one
    // per tag; every species still follows the untagged run, and the
    // solvent tags, which emit only VOC, are dropped.
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let species = format!("\"VOC\", {ALL_SPECIES}");
    let restricted = format!("{WHOLE_A}\nsectors = \"all\"\nspecies = [{ALL_SPECIES}]");
    let background = BACKGROUND.replace("NH3 = 2.0 }", "NH3 = 2.0, VOC = 5.0 }");
    let c = case(
        &two_cities(2.0, 6, &species, &background, &restricted),
        dir.path(),
    );
    let mut tagged = airshed::simulation::Simulation::from_case(&c).unwrap();
    let t = tagged.model.state.tracers.clone();
    let voc = t.species_index("VOC").unwrap();
    assert_eq!(voc, 0);
    assert_eq!(t.len(), 8 * t.n_tags() + 1);
    assert_eq!(t.tracers_of(voc), 0..1);
    assert!(!t.species_is_tagged(voc) && t.species_is_tagged(1));
    assert!(t.tags.iter().all(|tag| !tag.name.contains("solvent")));
    let mut untagged = airshed::simulation::Simulation::build(
        &c,
        TracerSet::new(c.species.clone()),
        None,
        Box::new(airshed::parallel::Serial),
    )
    .unwrap();
    while !tagged.clock.done() {
        tagged.step().unwrap();
        untagged.step().unwrap();
    }
    let worst = worst_tags_vs_bulk(&tagged, &untagged);
    println!("restricted tags (VOC as bulk): worst difference from the untagged run {worst:.1e}");
    assert!(worst < 1e-9, "{worst}");
    let (voc_tagged, voc_bulk) = (
        tagged.model.state.tracer(t.index(voc, 0)),
        untagged.model.state.tracer(voc),
    );
    assert!(voc_bulk.sum() > 0.0);
    assert!(voc_tagged
        .iter()
        .zip(voc_bulk.iter())
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    let budget = &tagged.model.budget.tracers[t.index(voc, 0)];
    assert!(budget.emitted_kg > 0.0 && budget.lateral_in_kg > 0.0);
    // Leaving out a particle, or half of a chemical family, is refused.
    for (list, expect) in [
        (
            r#""PM25", "SO2", "NOX", "HNO3", "NO3", "NH3", "NH4""#,
            "SO4",
        ),
        (
            r#""PM25", "SO2", "SO4", "HNO3", "NO3", "NH3", "NH4""#,
            "NOX, HNO3, NO3",
        ),
    ] {
        let text = two_cities(
            2.0,
            1,
            &species,
            BACKGROUND,
            &format!("{WHOLE_A}\nspecies = [{list}]"),
        );
        let c = case(&text, dir.path());
        let err = airshed::simulation::Simulation::from_case(&c)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        println!("{err}");
        assert!(
            err.contains("attribution.species") && err.contains(expect),
            "{err}"
        );
    }
}

#[test]
fn soa_follows_the_tags_share_of_its_precursor_class() {
    // Aromatics in tags a and b in the ratio 4:1, primary OC (absorbing
    // mass) in tag c: the SOA products (gas and particle) split 4:1 between
    // a and b, c gets none, and each tag's products grow by the class's
    // total mass yield (0.058 + 0.113) times the aromatics it lost.
    let dir = tempfile::tempdir().unwrap();
    let text = BOX_CASE.replace(
        r#"names = ["SO2", "SO4", "NOX", "HNO3", "NO3", "NH3", "NH4"]"#,
        r#"names = ["ARO", "SVARO1", "AARO1", "SVARO2", "AARO2", "OC"]"#,
    );
    let c = case(&text, dir.path());
    let mut sim = with_tags(&c, &["a", "b", "c"]);
    let t = sim.model.state.tracers.clone();
    let sp = |n: &str| t.species_index(n).unwrap();
    let air = sim.model.state.air_mass.clone();
    for (name, tag, ratio) in [("ARO", 0, 4.0e-8), ("ARO", 1, 1.0e-8), ("OC", 2, 5.0e-9)] {
        sim.model
            .state
            .mass
            .index_axis_mut(ndarray::Axis(0), t.index(sp(name), tag))
            .assign(&(&air * ratio));
    }
    common::reset_budget(&mut sim);
    let aro0 = [4.0e-8 * air.sum(), 1.0e-8 * air.sum()];
    while !sim.clock.done() {
        sim.step().unwrap();
    }
    let total = |tag: usize, n: &str| sim.model.state.tracer(t.index(sp(n), tag)).sum();
    let products = |tag: usize| -> f64 {
        ["SVARO1", "AARO1", "SVARO2", "AARO2"]
            .iter()
            .map(|n| total(tag, n))
            .sum()
    };
    let particles = |tag: usize| total(tag, "AARO1") + total(tag, "AARO2");
    println!(
        "SOA products a {:.4e}, b {:.4e}, c {:.1e} kg; particles a/b {:.15}",
        products(0),
        products(1),
        products(2),
        particles(0) / particles(1)
    );
    assert!(particles(0) > 0.0, "SOA forms");
    assert!((products(0) / products(1) - 4.0).abs() < 1e-12);
    assert!((particles(0) / particles(1) - 4.0).abs() < 1e-12);
    assert_eq!(products(2), 0.0);
    for (tag, start) in aro0.iter().enumerate() {
        let lost = start - total(tag, "ARO");
        let yield_ = products(tag) / lost;
        assert!((yield_ / (0.0580 + 0.1130) - 1.0).abs() < 1e-12, "{yield_}");
    }
}

#[test]
fn tagged_results_do_not_depend_on_the_thread_count() {
    // Tags, chemistry wrapper and budgets bit for bit on 1 and 3 threads.
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let c = case(
        &two_cities(
            2.0,
            6,
            ALL_SPECIES,
            BACKGROUND,
            &format!("{WHOLE_A}\nsectors = \"all\""),
        ),
        dir.path(),
    );
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut s = airshed::simulation::Simulation::from_case(&c).unwrap();
            while !s.clock.done() {
                s.step().unwrap();
            }
            s.model.close_budget();
            (s.model.state.mass.clone(), s.model.budget.tracers.clone())
        })
    };
    let ((m1, b1), (m3, b3)) = (run(1), run(3));
    assert!(m1.len() > 1000);
    assert!(
        m1.iter()
            .zip(m3.iter())
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "tagged masses differ between 1 and 3 threads"
    );
    assert_eq!(b1, b3, "tagged budgets differ between 1 and 3 threads");
}

#[test]
fn night_reservoirs_and_carried_oxidants_keep_each_tags_s_and_n_and_sum_to_the_bulk() {
    // The fog box for 24 h with the carried oxidants (O3, H2O2, untagged)
    // and the night-time reservoirs (N2O5, ClNO2, in NOx's family): two
    // tags with *different* shares of SO2, NOx and NH3. Each tag's S,
    // oxidised N (NOx + 2 N2O5 + ClNO2 + HNO3 + NO3) and reduced N stay
    // constant, and the tags sum to an untagged run of the same case.
    let dir = tempfile::tempdir().unwrap();
    let text = BOX_CASE
        .replace("hours = 6", "hours = 24")
        .replace(
            r#"names = ["SO2", "SO4", "NOX", "HNO3", "NO3", "NH3", "NH4"]"#,
            r#"names = ["SO2", "SO4", "NOX", "HNO3", "NO3", "NH3", "NH4", "O3", "H2O2", "N2O5", "CLNO2"]"#,
        )
        .replace("oh_cm3 = 5.0e6", "oh_peak_cm3 = 5.0e6");
    let c = case(&text, dir.path());
    let t0 = TracerSet::new(c.species.clone());
    let keep: Vec<bool> = c
        .species
        .iter()
        .map(|s| !airshed::species::OXIDANTS.contains(&s.name))
        .collect();
    let tags = vec![
        Tag::plain("a", TagKind::Emissions),
        Tag::plain("b", TagKind::Emissions),
        Tag::plain("boundary", TagKind::Boundary),
        Tag::plain("initial", TagKind::Initial),
    ];
    let t = TracerSet::tagged(c.species.clone(), tags).only_on(&keep);
    let build = |tracers: TracerSet| {
        airshed::simulation::Simulation::build(
            &c,
            tracers,
            None,
            Box::new(airshed::parallel::Serial),
        )
        .unwrap()
    };
    let (mut bulk, mut sim) = (build(t0.clone()), build(t.clone()));
    let sp = |n: &str| t.species_index(n).unwrap();
    // SO2 ~8 ppb, NOx ~20 ppb, NH3 ~30 ppb, O3 40 ppb, H2O2 1 ppb in all.
    let fill = |s: &mut airshed::simulation::Simulation, tr: usize, per_kg_air: f64| {
        let air = s.model.state.air_mass.clone();
        s.model
            .state
            .mass
            .index_axis_mut(ndarray::Axis(0), tr)
            .assign(&(&air * per_kg_air));
    };
    for (name, ratio, share_a) in [
        ("SO2", 2.1e-8, 0.8),
        ("NOX", 3.2e-8, 0.3),
        ("NH3", 1.8e-8, 0.6),
        ("O3", 6.6e-8, 1.0),
        ("H2O2", 1.2e-9, 1.0),
    ] {
        fill(&mut bulk, t0.index(sp(name), 0), ratio);
        if t.species_is_tagged(sp(name)) {
            fill(&mut sim, t.index(sp(name), 0), ratio * share_a);
            fill(&mut sim, t.index(sp(name), 1), ratio * (1.0 - share_a));
        } else {
            fill(&mut sim, t.index(sp(name), 0), ratio);
        }
    }
    common::reset_budget(&mut sim);
    common::reset_budget(&mut bulk);
    let moles = |s: &airshed::simulation::Simulation, tag: usize, family: &[(&str, f64)]| -> f64 {
        family
            .iter()
            .map(|(n, atoms)| {
                atoms * s.model.state.tracer(t.index(sp(n), tag)).sum()
                    / t.species[sp(n)].molar_mass
            })
            .sum()
    };
    let families: [&[(&str, f64)]; 3] = [
        &[("SO2", 1.0), ("SO4", 1.0)],
        &[
            ("NOX", 1.0),
            ("N2O5", 2.0),
            ("CLNO2", 1.0),
            ("HNO3", 1.0),
            ("NO3", 1.0),
        ],
        &[("NH3", 1.0), ("NH4", 1.0)],
    ];
    let start: Vec<Vec<f64>> = (0..2)
        .map(|tag| families.iter().map(|f| moles(&sim, tag, f)).collect())
        .collect();
    let (mut saw_n2o5, mut saw_clno2) = (0.0f64, 0.0f64);
    while !sim.clock.done() {
        sim.step().unwrap();
        bulk.step().unwrap();
        saw_n2o5 = saw_n2o5.max(sim.model.state.tracer(t.index(sp("N2O5"), 0)).sum());
        saw_clno2 = saw_clno2.max(sim.model.state.tracer(t.index(sp("CLNO2"), 0)).sum());
    }
    assert!(saw_n2o5 > 0.0 && saw_clno2 > 0.0, "the night paths ran");
    for (tag, start) in start.iter().enumerate() {
        for (f, family) in families.iter().enumerate() {
            let drift = (moles(&sim, tag, family) - start[f]).abs() / start[f];
            println!("tag {tag} family {f}: relative change in moles over 24 h {drift:.1e}");
            assert!(drift < 1e-12, "{drift}");
        }
    }
    let mut worst = 0.0f64;
    for s in 0..t.species.len() {
        let tagged: f64 = t
            .tracers_of(s)
            .map(|tr| sim.model.state.tracer(tr).sum())
            .sum();
        let untagged = bulk.model.state.tracer(t0.index(s, 0)).sum();
        let scale = untagged.abs().max(1e-30);
        worst = worst.max((tagged - untagged).abs() / scale);
    }
    println!("tags vs untagged run, worst relative difference over species: {worst:.1e}");
    assert!(worst < 1e-11, "{worst}");
}
