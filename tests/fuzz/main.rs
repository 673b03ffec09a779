//! Fuzzing the readers (issue 14): a target per reader (case TOML, city
//! and stack CSV, gridded emissions, CF met, WRF, reanalysis, stations,
//! terrain), structure-aware mutations of valid seeds, and an oracle that
//! does what `airshed check` does, in worker processes with a time limit.
//! See docs/robustness.md for the campaigns and what the counts mean.
//!
//! - `fuzz_short_campaign` (CI): a fixed seed, a few hundred inputs per
//!   target; fails on any panic, hang or crash not listed in
//!   `known::KNOWN_OPEN`.
//! - `fuzz_regressions`: replays tests/fuzz-regressions/*.
//! - `fuzz_seeds_pass_check_and_run`: every seed is valid.
//! - `fuzz_inputs_are_deterministic`: a seed gives the same files.
//! - `fuzz_long_campaign` (ignored, opt-in): 10^6 inputs by default;
//!   fails on any panic, hang or crash.
//! - `fuzz_replay` (ignored): AIRSHED_FUZZ_REPLAY=DIR[,DIR...] prints the
//!   oracle's verdict on saved inputs.
//!
//! Unix only: workers run under `sh -c 'ulimit -v ...'` and crashes are
//! told apart by their signal.
#![cfg(unix)]

mod campaign;
mod csv_mut;
mod known;
mod nc;
mod oracle;
mod pool;
mod rng;
mod seeds;
mod targets;
mod toml_mut;
mod values;

use campaign::Config;
use pool::{Verdict, Worker};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;
use targets::{Ops, Recipe, Seeds, Target};

/// The campaigns each start two workers: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// AIRSHED_FUZZ_TARGETS=a,b limits a campaign to some targets.
fn targets() -> Vec<Target> {
    match std::env::var("AIRSHED_FUZZ_TARGETS") {
        Ok(list) if !list.trim().is_empty() => list
            .split(',')
            .map(|n| Target::named(n).unwrap_or_else(|| panic!("unknown fuzz target {n:?}")))
            .collect(),
        _ => targets::ALL.to_vec(),
    }
}

fn workers() -> usize {
    env("AIRSHED_FUZZ_WORKERS").unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    })
}

fn limit() -> Duration {
    Duration::from_secs_f64(env("AIRSHED_FUZZ_TIMEOUT_S").unwrap_or(10.0))
}

#[test]
#[ignore = "a worker process of the fuzz campaigns (they start it)"]
fn fuzz_worker() {
    if std::env::var_os("AIRSHED_FUZZ_WORKER").is_some() {
        // As `airshed check` does: NetCDF headers read first in a child.
        airshed::input::nc::probe_netcdf_with(env!("CARGO_BIN_EXE_airshed").into());
        oracle::serve();
    }
}

#[test]
fn fuzz_seeds_pass_check_and_run() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let scratch = campaign::scratch();
    let seeds = Seeds::new(scratch.path());
    let mut worker = Worker::spawn();
    let dir = scratch.path().join("w").join("in");
    let mut bad = vec![];
    for (i, case) in seeds.cases.iter().enumerate() {
        let r = Recipe {
            target: Target::CaseToml,
            seed: i,
            ops: Ops::Toml(vec![]),
        };
        let (check, run) =
            campaign::evaluate(&seeds, &mut worker, &r, &dir, true, limit()).expect("seed writes");
        let run = run.map(|r| r.verdict);
        println!(
            "seed {}: check {:?} in {:.1} ms, run {:?}",
            case.name, check.verdict, check.ms, run
        );
        if !matches!(check.verdict, Verdict::Ok) || !matches!(run, Some(Verdict::Ok)) {
            bad.push(case.name);
        }
    }
    assert!(
        bad.is_empty(),
        "seed cases that no longer pass check and run: {bad:?} (update tests/fuzz/seeds.rs to the readers' requirements)"
    );
}

/// A seed gives the same inputs, byte for byte.
#[test]
fn fuzz_inputs_are_deterministic() {
    let scratch = campaign::scratch();
    let seeds = Seeds::new(scratch.path());
    let (da, db) = (scratch.path().join("a"), scratch.path().join("b"));
    for t in targets::ALL {
        for i in 0..25 {
            let a = seeds.generate(t, &mut rng::Rng::for_input(14, t as usize, i));
            let b = seeds.generate(t, &mut rng::Rng::for_input(14, t as usize, i));
            assert_eq!(a.ops.describe(), b.ops.describe(), "{} input {i}", t.name());
            let (ra, rb) = (seeds.materialize(&a, &da), seeds.materialize(&b, &db));
            assert_eq!(ra, rb, "{} input {i}", t.name());
            for e in std::fs::read_dir(&da).unwrap().flatten() {
                let other = db.join(e.file_name());
                assert!(
                    std::fs::read(e.path()).unwrap() == std::fs::read(&other).unwrap(),
                    "{} input {i}: {:?} differs",
                    t.name(),
                    e.file_name()
                );
            }
        }
    }
}

#[test]
fn fuzz_short_campaign() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let per_target: u64 = env("AIRSHED_FUZZ_CI_INPUTS").unwrap_or(300);
    let cfg = Config {
        seed: env("AIRSHED_FUZZ_SEED").unwrap_or(14),
        inputs: targets().into_iter().map(|t| (t, per_target)).collect(),
        workers: env("AIRSHED_FUZZ_WORKERS").unwrap_or(2),
        limit: limit(),
        run_every: env("AIRSHED_FUZZ_RUN_EVERY").unwrap_or(20),
        crash_dir: Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-ci")),
        keep_per_class: 3,
        minimize: true,
        minimize_hangs: false,
        progress: None,
    };
    if let Some(d) = &cfg.crash_dir {
        let _ = std::fs::remove_dir_all(d);
    }
    let scratch = campaign::scratch();
    let seeds = Seeds::new(scratch.path());
    let report = campaign::run(&cfg, &seeds, scratch.path());
    println!("{report}");
    let unknown = report.unknown_failures();
    assert!(
        unknown.is_empty(),
        "{} new failure classes (panics, hangs or crashes not in tests/fuzz/known.rs); inputs saved under {}",
        unknown.len(),
        cfg.crash_dir.unwrap().display()
    );
}

#[test]
#[ignore = "opt-in long campaign: see docs/robustness.md"]
fn fuzz_long_campaign() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let targets = targets();
    let total: u64 = env("AIRSHED_FUZZ_INPUTS").unwrap_or(1_000_000);
    let per_target = total.div_ceil(targets.len() as u64);
    let crash_dir = std::env::var_os("AIRSHED_FUZZ_CRASH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-crashes"));
    let cfg = Config {
        seed: env("AIRSHED_FUZZ_SEED").unwrap_or(1),
        inputs: targets.into_iter().map(|t| (t, per_target)).collect(),
        workers: workers(),
        limit: limit(),
        run_every: env("AIRSHED_FUZZ_RUN_EVERY").unwrap_or(100),
        crash_dir: Some(crash_dir.join(format!(
            "seed-{}",
            env::<u64>("AIRSHED_FUZZ_SEED").unwrap_or(1)
        ))),
        keep_per_class: env("AIRSHED_FUZZ_KEEP").unwrap_or(100),
        minimize: env::<u8>("AIRSHED_FUZZ_MINIMIZE").unwrap_or(1) != 0,
        minimize_hangs: true,
        progress: Some(Duration::from_secs(30)),
    };
    let scratch = campaign::scratch();
    let seeds = Seeds::new(scratch.path());
    let report = campaign::run(&cfg, &seeds, scratch.path());
    println!("{report}");
    let failures: u64 = report.classes.values().map(|c| c.count).sum();
    assert_eq!(
        failures,
        0,
        "the campaign found {} failure classes ({failures} inputs); inputs saved under {}",
        report.classes.len(),
        cfg.crash_dir.unwrap().display()
    );
}

/// Saved inputs (a directory with case.toml and its files, as the
/// campaigns and tests/fuzz-regressions keep them), through the oracle.
fn replay(worker: &mut Worker, scratch: &Path, case_dir: &Path) -> (Verdict, Option<Verdict>) {
    let about = std::fs::read_to_string(case_dir.join("about.txt")).unwrap_or_default();
    let run = about.lines().any(|l| l.trim() == "phase: run")
        || std::env::var_os("AIRSHED_FUZZ_REPLAY_RUN").is_some();
    let dir = scratch.join("in");
    let _ = std::fs::remove_dir_all(&dir);
    campaign::copy_dir(case_dir, &dir).expect("copy the saved input");
    let (check, run) = worker.evaluate(&dir, run, limit());
    (check.verdict, run.map(|r| r.verdict))
}

#[test]
#[ignore = "replays AIRSHED_FUZZ_REPLAY=DIR[,DIR...]"]
fn fuzz_replay() {
    let Ok(list) = std::env::var("AIRSHED_FUZZ_REPLAY") else {
        return;
    };
    let scratch = campaign::scratch();
    let mut worker = Worker::spawn();
    for d in list.split(',') {
        let mut p = PathBuf::from(d.trim());
        if p.is_file() {
            p.pop();
        }
        let (check, run) = replay(&mut worker, scratch.path(), &p);
        println!("{}:\n  check: {check:?}\n  run: {run:?}", p.display());
    }
}

#[test]
fn fuzz_regressions() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.join("case.toml").is_file())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    // Two workers: an open hang costs the whole time limit.
    let scratch = campaign::scratch();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = Mutex::new(vec![]);
    std::thread::scope(|s| {
        for w in 0..2 {
            let (dirs, next, results, scratch) = (&dirs, &next, &results, scratch.path());
            s.spawn(move || {
                let mut worker = Worker::spawn();
                let scratch = scratch.join(format!("w{w}"));
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(d) = dirs.get(i) else { break };
                    let r = replay(&mut worker, &scratch, d);
                    results.lock().unwrap().push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.0);
    let (mut failing, mut fixed) = (vec![], vec![]);
    for (i, (check, run)) in results {
        let name = dirs[i].file_name().unwrap().to_string_lossy().to_string();
        // A regression whose input file went missing (not committed, say)
        // would pass vacuously as "no such file": that is a failure too.
        let incomplete = matches!(&check, Verdict::Refused { message, .. }
            if message.contains("No such file or directory"));
        let failed =
            incomplete || check.is_failure() || run.as_ref().is_some_and(Verdict::is_failure);
        let listed = known::KNOWN_OPEN
            .iter()
            .any(|k| k.regression == Some(name.as_str()));
        println!(
            "{name}: {}{}",
            if failed { "FAILS" } else { "passes" },
            if listed { " (known open)" } else { "" }
        );
        if failed {
            println!("  check: {check:?}\n  run: {run:?}");
        }
        match (failed, listed) {
            (true, false) => failing.push(name),
            (false, true) => fixed.push(name),
            _ => {}
        }
    }
    let missing: Vec<&str> = known::KNOWN_OPEN
        .iter()
        .filter_map(|k| k.regression)
        .filter(|r| !root.join(r).join("case.toml").is_file())
        .collect();
    assert!(
        failing.is_empty() && fixed.is_empty() && missing.is_empty(),
        "regressions that panic, hang or crash: {failing:?}; fixed, remove from known::KNOWN_OPEN: {fixed:?}; listed but missing: {missing:?}"
    );
}
