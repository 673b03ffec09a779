//! A campaign: inputs drawn for each target from a fixed seed, checked by
//! worker processes in parallel, counted per target and outcome, failures
//! grouped into classes (a panic by its location, a hang or crash by its
//! target), saved for replay and minimised (mutations removed one at a
//! time while the same class still reproduces).

use super::known;
use super::pool::{Outcome, Verdict, Worker};
use super::rng::Rng;
use super::targets::{Recipe, Seeds, Target};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Config {
    pub seed: u64,
    /// Inputs per target.
    pub inputs: Vec<(Target, u64)>,
    pub workers: usize,
    /// An input whose check (or run) takes longer is a hang.
    pub limit: Duration,
    /// Also run every n-th input of the data targets, and every case-file
    /// input, when its check passes and it is small (0: never run).
    pub run_every: u64,
    /// Where failing inputs are copied (None: nowhere).
    pub crash_dir: Option<PathBuf>,
    /// Inputs kept per failure class.
    pub keep_per_class: usize,
    pub minimize: bool,
    /// Minimise hangs too (each attempt may take the whole time limit).
    pub minimize_hangs: bool,
    /// Print a progress line this often.
    pub progress: Option<Duration>,
}

#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub inputs: u64,
    pub ok: u64,
    /// Refusals by exit code.
    pub refused: BTreeMap<i64, u64>,
    /// Refusals whose message names no file or no key.
    pub unnamed: u64,
    pub panics: u64,
    pub hangs: u64,
    pub crashes: u64,
    /// Inputs the netcdf library would not write.
    pub skipped: u64,
    pub total_ms: f64,
    pub slowest_ms: f64,
    pub slowest_index: u64,
    pub run: u64,
    pub run_ok: u64,
    pub run_refused: BTreeMap<i64, u64>,
    pub run_failures: u64,
}

#[derive(Debug, Clone)]
pub struct Class {
    pub kind: &'static str,
    pub phase: &'static str,
    pub message: String,
    pub location: String,
    pub via: String,
    pub count: u64,
    pub targets: BTreeSet<&'static str>,
    pub examples: Vec<PathBuf>,
    pub first: (Target, u64),
    pub minimized: Option<(PathBuf, String)>,
    pub known: Option<&'static str>,
}

#[derive(Default)]
pub struct Report {
    pub counts: BTreeMap<Target, Counts>,
    pub classes: BTreeMap<String, Class>,
    pub unnamed_examples: Vec<String>,
    pub elapsed: Duration,
    pub seed: u64,
    /// Time the drivers spent on inputs that did not hang (writing the
    /// input and waiting for the worker), summed over drivers.
    pub busy_s: f64,
    pub workers: usize,
}

impl Report {
    /// Failure classes not in `known::KNOWN_OPEN`.
    pub fn unknown_failures(&self) -> Vec<&Class> {
        self.classes
            .values()
            .filter(|c| c.known.is_none())
            .collect()
    }
}

/// The scratch area: tmpfs when there is one (inputs are rewritten for
/// every check).
pub fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    tempfile::Builder::new()
        .prefix("airshed-fuzz-")
        .tempdir_in(base)
        .expect("scratch directory")
}

fn class_key(phase: &str, target: Target, v: &Verdict) -> Option<String> {
    Some(match v {
        Verdict::Panic { location, via, .. } => format!("panic {phase} {location} {via}"),
        Verdict::Hang => format!("hang {phase} {}", target.name()),
        Verdict::Crash { what, .. } => format!("crash {phase} {what} {}", target.name()),
        _ => return None,
    })
}

fn slug(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    out.trim_matches('-').chars().take(90).collect()
}

pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        if e.file_type()?.is_file() {
            std::fs::copy(e.path(), to.join(e.file_name()))?;
        }
    }
    Ok(())
}

/// Notes saved beside a failing input (and read by the regression replay:
/// the `phase:` line says whether it fails in check or in run).
pub fn about(target: Target, seed_name: &str, phase: &str, o: &Outcome, ops: &str) -> String {
    let mut s = format!(
        "target: {}\nseed case: {seed_name}\nphase: {phase}\n",
        target.name()
    );
    match &o.verdict {
        Verdict::Panic {
            message,
            location,
            via,
        } => {
            let _ = write!(
                s,
                "outcome: panic\nlocation: {location}\nvia: {via}\nmessage: {message}\n"
            );
        }
        Verdict::Hang => s.push_str("outcome: hang (over the time limit)\n"),
        Verdict::Crash { what, detail } => {
            let _ = write!(s, "outcome: crash: {what}\nstderr:\n{detail}\n");
        }
        v => {
            let _ = writeln!(s, "outcome: {v:?}");
        }
    }
    let _ = write!(s, "mutations:\n{ops}\n");
    s
}

struct Shared<'a> {
    cfg: &'a Config,
    seeds: &'a Seeds,
    items: Vec<(Target, u64)>,
    next: AtomicUsize,
    done: AtomicUsize,
    report: Mutex<Report>,
}

/// Check (and run) one recipe in `dir`.
pub fn evaluate(
    seeds: &Seeds,
    worker: &mut Worker,
    r: &Recipe,
    dir: &Path,
    run: bool,
    limit: Duration,
) -> Option<(Outcome, Option<Outcome>)> {
    seeds.materialize(r, dir).ok()?;
    Some(worker.evaluate(dir, run, limit))
}

/// Remove mutations one at a time while the failure keeps its class.
fn minimize(
    sh: &Shared,
    worker: &mut Worker,
    recipe: &Recipe,
    dir: &Path,
    phase: &str,
    key: &str,
) -> Recipe {
    let mut best = recipe.clone();
    let mut i = 0;
    while i < best.ops.len() {
        let trial = Recipe {
            ops: best.ops.without(i),
            ..best.clone()
        };
        let same = evaluate(sh.seeds, worker, &trial, dir, phase == "run", sh.cfg.limit)
            .and_then(|(c, r)| {
                let o = if phase == "run" { r? } else { c };
                class_key(phase, trial.target, &o.verdict)
            })
            .is_some_and(|k| k == key);
        if same {
            best = trial;
        } else {
            i += 1;
        }
    }
    best
}

/// Inputs a worker process checked before the current one (since it
/// started), oldest first.
type History = std::collections::VecDeque<(u64, Recipe)>;

/// How many earlier inputs are kept for crashes that need them.
const HISTORY: usize = 16;

#[allow(clippy::too_many_arguments)]
fn record(
    sh: &Shared,
    worker: &mut Worker,
    recipe: &Recipe,
    index: u64,
    dir: &Path,
    phase: &'static str,
    o: &Outcome,
    history: &History,
) {
    let target = recipe.target;
    let Some(mut key) = class_key(phase, target, &o.verdict) else {
        return;
    };
    // A crash of the C libraries may come from memory an earlier input
    // corrupted: check the input again in the new worker, alone.
    let mut alone = true;
    if matches!(o.verdict, Verdict::Crash { .. }) {
        alone = evaluate(
            sh.seeds,
            worker,
            recipe,
            &dir.with_file_name("alone"),
            phase == "run",
            sh.cfg.limit,
        )
        .and_then(|(c, r)| {
            let o = if phase == "run" { r? } else { c };
            class_key(phase, target, &o.verdict)
        })
        .is_some_and(|k| k == key);
        if !alone {
            key.push_str(" after earlier inputs");
        }
    }
    let (new, keep) = {
        let mut rep = sh.report.lock().unwrap();
        let (kind, message, location, via) = match &o.verdict {
            Verdict::Panic {
                message,
                location,
                via,
            } => ("panic", message.clone(), location.clone(), via.clone()),
            Verdict::Hang => (
                "hang",
                format!("{phase} of a {} input over the time limit", target.name()),
                target.name().to_string(),
                String::new(),
            ),
            Verdict::Crash { what, detail } => (
                "crash",
                format!(
                    "{what}: {}{}",
                    detail.lines().last().unwrap_or(""),
                    if alone {
                        ""
                    } else {
                        " (not alone: only after the earlier inputs saved beside it as before-N)"
                    }
                ),
                target.name().to_string(),
                String::new(),
            ),
            _ => unreachable!(),
        };
        let new = !rep.classes.contains_key(&key);
        let class = rep.classes.entry(key.clone()).or_insert_with(|| Class {
            kind,
            phase,
            known: known::matching(kind, &location, &via, &message).map(|k| k.id),
            message,
            location,
            via,
            count: 0,
            targets: BTreeSet::new(),
            examples: vec![],
            first: (target, index),
            minimized: None,
        });
        class.count += 1;
        class.targets.insert(target.name());
        let keep = sh.cfg.crash_dir.is_some() && class.examples.len() < sh.cfg.keep_per_class;
        (new, keep)
    };
    let Some(crash_dir) = &sh.cfg.crash_dir else {
        return;
    };
    let class_dir = crash_dir.join(slug(&key));
    let seed_name = sh.seeds.cases[recipe.seed].name;
    if keep {
        let to = class_dir.join(format!("{}-{index}", target.name()));
        if copy_dir(dir, &to).is_ok() {
            let _ = std::fs::write(
                to.join("about.txt"),
                about(target, seed_name, phase, o, &recipe.ops.describe()),
            );
            if !alone {
                // The inputs the crashed worker checked before, to replay
                // in order (AIRSHED_FUZZ_REPLAY=before-16,...,before-1,.).
                let tmp = dir.with_file_name("before");
                for (back, (i, r)) in history.iter().rev().enumerate() {
                    if sh.seeds.materialize(r, &tmp).is_ok() {
                        let b = to.join(format!("before-{}", back + 1));
                        let _ = copy_dir(&tmp, &b);
                        let _ = std::fs::write(
                            b.join("about.txt"),
                            format!(
                                "target: {}\ninput: {i}\nseed case: {}\nmutations:\n{}\n",
                                r.target.name(),
                                sh.seeds.cases[r.seed].name,
                                r.ops.describe()
                            ),
                        );
                    }
                }
            }
            sh.report
                .lock()
                .unwrap()
                .classes
                .get_mut(&key)
                .unwrap()
                .examples
                .push(to);
        }
    }
    let is_hang = matches!(o.verdict, Verdict::Hang);
    if new && alone && sh.cfg.minimize && (!is_hang || sh.cfg.minimize_hangs) {
        let min_dir = dir.with_file_name("min");
        let min = minimize(sh, worker, recipe, &min_dir, phase, &key);
        let to = class_dir.join("minimized");
        let ops = min.ops.describe();
        if sh.seeds.materialize(&min, &min_dir).is_ok() && copy_dir(&min_dir, &to).is_ok() {
            let _ = std::fs::write(
                to.join("about.txt"),
                about(target, seed_name, phase, o, &ops),
            );
            sh.report
                .lock()
                .unwrap()
                .classes
                .get_mut(&key)
                .unwrap()
                .minimized = Some((to, ops));
        }
    }
}

fn drive(sh: &Shared, w: usize, root: &Path) {
    let dir = root.join(format!("w{w}")).join("in");
    let mut worker = Worker::spawn();
    let mut history = History::new();
    loop {
        let i = sh.next.fetch_add(1, Ordering::Relaxed);
        let Some(&(target, index)) = sh.items.get(i) else {
            break;
        };
        let mut rng = Rng::for_input(sh.cfg.seed, target as usize, index);
        let t = Instant::now();
        let recipe = sh.seeds.generate(target, &mut rng);
        let want_run =
            sh.cfg.run_every > 0 && (target == Target::CaseToml || index % sh.cfg.run_every == 0);
        let result = evaluate(sh.seeds, &mut worker, &recipe, &dir, want_run, sh.cfg.limit);
        let hung = result.as_ref().is_some_and(|(c, r)| {
            matches!(c.verdict, Verdict::Hang)
                || r.as_ref()
                    .is_some_and(|r| matches!(r.verdict, Verdict::Hang))
        });
        {
            let mut rep = sh.report.lock().unwrap();
            if !hung {
                rep.busy_s += t.elapsed().as_secs_f64();
            }
            let c = rep.counts.entry(target).or_default();
            c.inputs += 1;
            match &result {
                None => c.skipped += 1,
                Some((check, run)) => {
                    c.total_ms += check.ms;
                    if check.ms > c.slowest_ms {
                        c.slowest_ms = check.ms;
                        c.slowest_index = index;
                    }
                    let mut unnamed = None;
                    match &check.verdict {
                        Verdict::Ok => c.ok += 1,
                        Verdict::Refused {
                            code,
                            named,
                            message,
                        } => {
                            *c.refused.entry(*code).or_default() += 1;
                            if !named {
                                c.unnamed += 1;
                                unnamed = Some(message.clone());
                            }
                        }
                        Verdict::Panic { .. } => c.panics += 1,
                        Verdict::Hang => c.hangs += 1,
                        Verdict::Crash { .. } => c.crashes += 1,
                        Verdict::Skipped => {}
                    }
                    if let Some(run) = run {
                        match &run.verdict {
                            Verdict::Skipped => {}
                            Verdict::Ok => {
                                c.run += 1;
                                c.run_ok += 1;
                            }
                            Verdict::Refused { code, .. } => {
                                c.run += 1;
                                *c.run_refused.entry(*code).or_default() += 1;
                            }
                            _ => {
                                c.run += 1;
                                c.run_failures += 1;
                            }
                        }
                    }
                    if let Some(m) = unnamed {
                        if rep.unnamed_examples.len() < 20 {
                            rep.unnamed_examples.push(format!("{}: {m}", target.name()));
                        }
                    }
                }
            }
        }
        if let Some((check, run)) = &result {
            let failed =
                check.verdict.is_failure() || run.as_ref().is_some_and(|r| r.verdict.is_failure());
            if check.verdict.is_failure() {
                record(
                    sh,
                    &mut worker,
                    &recipe,
                    index,
                    &dir,
                    "check",
                    check,
                    &history,
                );
            }
            if let Some(run) = run.as_ref().filter(|r| r.verdict.is_failure()) {
                record(sh, &mut worker, &recipe, index, &dir, "run", run, &history);
            }
            if failed {
                // The worker was replaced, or has checked other inputs.
                history.clear();
            } else {
                if history.len() == HISTORY {
                    history.pop_front();
                }
                history.push_back((index, recipe));
            }
        }
        sh.done.fetch_add(1, Ordering::Relaxed);
    }
}

pub fn run(cfg: &Config, seeds: &Seeds, root: &Path) -> Report {
    let t0 = Instant::now();
    let most = cfg.inputs.iter().map(|x| x.1).max().unwrap_or(0);
    let mut items = Vec::new();
    for i in 0..most {
        for &(t, n) in &cfg.inputs {
            if i < n {
                items.push((t, i));
            }
        }
    }
    let total = items.len();
    let sh = Shared {
        cfg,
        seeds,
        items,
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        report: Mutex::new(Report {
            seed: cfg.seed,
            workers: cfg.workers.max(1),
            ..Default::default()
        }),
    };
    std::thread::scope(|s| {
        for w in 0..cfg.workers.max(1) {
            let sh = &sh;
            s.spawn(move || drive(sh, w, root));
        }
        if let Some(every) = cfg.progress {
            let sh = &sh;
            s.spawn(move || {
                let mut last = Instant::now();
                while sh.done.load(Ordering::Relaxed) < total {
                    std::thread::sleep(Duration::from_millis(200));
                    if last.elapsed() >= every {
                        last = Instant::now();
                        let done = sh.done.load(Ordering::Relaxed);
                        let secs = t0.elapsed().as_secs_f64();
                        let classes = sh.report.lock().unwrap().classes.len();
                        eprintln!(
                            "fuzz: {done}/{total} inputs, {:.0}/s, {classes} failure classes, eta {:.0} s",
                            done as f64 / secs,
                            (total - done) as f64 * secs / done.max(1) as f64
                        );
                    }
                }
            });
        }
    });
    let mut report = sh.report.into_inner().unwrap();
    report.elapsed = t0.elapsed();
    report
}

fn first_line(s: &str, n: usize) -> String {
    let l = s.lines().next().unwrap_or("");
    if l.chars().count() > n {
        format!("{}...", l.chars().take(n).collect::<String>())
    } else {
        l.to_string()
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "\nfuzz campaign, seed {}:", self.seed)?;
        writeln!(
            f,
            "{:<14} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>6} {:>6} {:>6} {:>7} {:>7} {:>9}  run: n ok refused failed",
            "target", "inputs", "ok", "exit2", "exit3", "exit4", "exit5+", "unnamed", "panic", "hang",
            "crash", "skip", "mean ms", "max ms", "max input"
        )?;
        let mut total = Counts::default();
        for (t, c) in &self.counts {
            let r = |k: i64| c.refused.get(&k).copied().unwrap_or(0);
            let other: u64 = c
                .refused
                .iter()
                .filter(|(k, _)| **k >= 5)
                .map(|x| x.1)
                .sum();
            let checked = (c.inputs - c.skipped).max(1);
            writeln!(
                f,
                "{:<14} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>6} {:>6} {:>6} {:>7.2} {:>7.0} {:>9}  {} {} {} {}",
                t.name(),
                c.inputs,
                c.ok,
                r(2),
                r(3),
                r(4),
                other,
                c.unnamed,
                c.panics,
                c.hangs,
                c.crashes,
                c.skipped,
                c.total_ms / checked as f64,
                c.slowest_ms,
                c.slowest_index,
                c.run,
                c.run_ok,
                c.run_refused.values().sum::<u64>(),
                c.run_failures
            )?;
            total.inputs += c.inputs;
            total.ok += c.ok;
            total.panics += c.panics;
            total.hangs += c.hangs;
            total.crashes += c.crashes;
            total.skipped += c.skipped;
            total.unnamed += c.unnamed;
            total.run += c.run;
            total.run_failures += c.run_failures;
            for (k, v) in &c.refused {
                *total.refused.entry(*k).or_default() += v;
            }
        }
        let secs = self.elapsed.as_secs_f64();
        // Throughput without the time-outs (hangs wait the whole limit).
        let rate = (total.inputs - total.hangs) as f64 / (self.busy_s / self.workers as f64);
        writeln!(
            f,
            "total: {} inputs ({} ok, {} refused, {} unnamed refusals, {} panics, {} hangs, {} crashes, {} skipped; {} runs, {} failed) in {:.1} s with {} workers: {:.0} inputs/s without the time-outs, 10^6 inputs in about {:.2} h",
            total.inputs,
            total.ok,
            total.refused.values().sum::<u64>(),
            total.unnamed,
            total.panics,
            total.hangs,
            total.crashes,
            total.skipped,
            total.run,
            total.run_failures,
            secs,
            self.workers,
            rate,
            1e6 / rate / 3600.0
        )?;
        if !self.classes.is_empty() {
            writeln!(f, "\nfailure classes:")?;
            for c in self.classes.values() {
                writeln!(
                    f,
                    "- {} in {} x{} [{}] at {}{}{}\n    {}",
                    c.kind,
                    c.phase,
                    c.count,
                    c.targets.iter().copied().collect::<Vec<_>>().join(","),
                    c.location,
                    if c.via.is_empty() {
                        String::new()
                    } else {
                        format!(" via {}", c.via)
                    },
                    match c.known {
                        Some(id) => format!(" (known open: {id})"),
                        None => " (NEW)".to_string(),
                    },
                    first_line(&c.message, 160)
                )?;
                writeln!(f, "    first: {} input {}", c.first.0.name(), c.first.1)?;
                if let Some(e) = c.examples.first() {
                    writeln!(f, "    saved: {}", e.display())?;
                }
                if let Some((p, ops)) = &c.minimized {
                    writeln!(f, "    minimized: {}", p.display())?;
                    for l in ops.lines() {
                        writeln!(f, "      {}", first_line(l, 200))?;
                    }
                }
            }
        }
        if !self.unnamed_examples.is_empty() {
            writeln!(
                f,
                "\nrefusals that name no file or key (first {}):",
                self.unnamed_examples.len()
            )?;
            for m in &self.unnamed_examples {
                writeln!(f, "- {}", first_line(m, 200))?;
            }
        }
        Ok(())
    }
}
