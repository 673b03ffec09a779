//! The cost of attribution tags on the default case: the same 6 h of the
//! embedded default case (nine species, chemistry on) untagged and with 0,
//! 5, 10 and 20 region tags (plus `other`, `boundary` and `initial`), in
//! one criterion run. `scripts/attribution-bench.sh` runs it and prints the
//! marginal cost of one tag as a fraction of the untagged run (target at
//! most 0.35), the memory per tag and the projected wall time of a year.

use airshed::config::Case;
use airshed::parallel::Serial;
use airshed::simulation::Simulation;
use airshed::state::{Tag, TagKind, TracerSet};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

/// Hours simulated per iteration.
pub const HOURS: u32 = 6;

/// Region tags in the order they are added: the emitting cities first.
const CITIES: [&str; 20] = [
    "Hengyang",
    "Chenzhou",
    "Liuzhou",
    "Changsha",
    "Zhuzhou",
    "Xiangtan",
    "Qinzhou",
    "Yongzhou",
    "Shaoyang",
    "Loudi",
    "Guilin",
    "Hezhou",
    "Wuzhou",
    "Laibin",
    "Nanning",
    "Guigang",
    "Yulin",
    "Beihai",
    "Fangchenggang",
    "Hechi",
];

/// The default case, `HOURS` long, without its [attribution] table, or with
/// `n` region tags (no sector split).
fn case(n: Option<usize>) -> Case {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("configs/default.toml")).expect("default case");
    let mut text = text[..text.find("[attribution]").expect("attribution table")].to_string();
    text = text.replace("hours = 48", &format!("hours = {HOURS}"));
    if let Some(n) = n.filter(|&n| n > 0) {
        let regions: Vec<String> = CITIES[..n].iter().map(|c| format!("\"{c}\"")).collect();
        text.push_str(&format!(
            "[attribution]\nregions_file = \"../inputs/cities.geojson\"\nregions = [{}]\n",
            regions.join(", ")
        ));
    }
    Case::from_str(&text, &root.join("configs/bench.toml")).expect("bench case")
}

/// The Simulation of `n` region tags (None: untagged; 0: only other,
/// boundary and initial, every emission in `other`).
fn simulation(n: Option<usize>) -> Simulation {
    let c = case(n);
    match n {
        Some(0) => {
            let tags = vec![
                Tag::plain("other", TagKind::Other),
                Tag::plain("boundary", TagKind::Boundary),
                Tag::plain("initial", TagKind::Initial),
            ];
            let t = TracerSet::tagged(c.species.clone(), tags);
            Simulation::build(&c, t, None, Box::new(Serial)).expect("tagged model")
        }
        _ => Simulation::from_case(&c).expect("model"),
    }
}

fn tags(c: &mut Criterion) {
    let mut g = c.benchmark_group("default_case_6h");
    g.sample_size(10);
    for (name, n) in [
        ("untagged", None),
        ("tags_0", Some(0)),
        ("tags_5", Some(5)),
        ("tags_10", Some(10)),
        ("tags_20", Some(20)),
    ] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || simulation(n),
                |mut sim| {
                    while !sim.clock.done() {
                        sim.step().expect("step");
                    }
                    sim
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, tags);
criterion_main!(benches);
