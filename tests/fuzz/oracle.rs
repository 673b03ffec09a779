//! The oracle, run inside a worker process: each input goes through what
//! `airshed check CASE` does (`Case::load`, then `Simulation::from_case`),
//! inside `catch_unwind`, and optionally through `run` (`run_case` into a
//! scratch output directory). One reply line per phase goes back to the
//! supervisor on stdout, marked so libtest's own lines are ignored.
//!
//! The panic hook is replaced: no stderr spam, but the message, the
//! location and (when the location is outside airshed, e.g. in core or the
//! netcdf crate) the innermost airshed function on the stack are kept.

use airshed::config::Case;
use airshed::run::{run_case, RunOptions};
use airshed::simulation::Simulation;
use serde_json::json;
use std::io::{BufRead, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

/// Marks a reply line on the worker's stdout.
pub const MARK: &str = "\u{1e}FUZZ\t";

struct PanicRecord {
    message: String,
    location: String,
    via: String,
}

static LAST_PANIC: Mutex<Option<PanicRecord>> = Mutex::new(None);

/// A source path without the machine's prefix: `model/src/...`,
/// `netcdf-0.12.1/src/...` (registry crates) or `rust/library/...`.
pub fn short_path(file: &str) -> String {
    if let Some(rest) = file.split("/registry/src/").nth(1) {
        return rest.split_once('/').map_or(rest, |r| r.1).to_string();
    }
    if let Some(rest) = file.strip_prefix("/rustc/") {
        return format!("rust/{}", rest.split_once('/').map_or(rest, |r| r.1));
    }
    file.to_string()
}

/// The innermost `airshed::` function on the stack (names only: the
/// release profile has no line tables).
fn airshed_frame() -> String {
    let bt = std::backtrace::Backtrace::force_capture().to_string();
    for line in bt.lines() {
        let name = line.trim().split_once(": ").map_or("", |x| x.1);
        if name.starts_with("airshed::") || name.starts_with("<airshed::") {
            let name = match name.rfind("::h") {
                Some(i) if name.len() - i == 19 => &name[..i],
                _ => name,
            };
            return name.to_string();
        }
    }
    String::new()
}

fn install_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(non-string panic payload)".into());
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", short_path(l.file()), l.line(), l.column()))
            .unwrap_or_default();
        let via = if location.starts_with("model/") {
            String::new()
        } else {
            airshed_frame()
        };
        let mut last = LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_none() {
            *last = Some(PanicRecord {
                message,
                location,
                via,
            });
        }
    }));
}

/// Does a refusal name a file the user can find (the case file, a file
/// beside it, or a path the case file names) and a key or field?
fn names_file_and_key(e: &airshed::Error, dir: &Path, case_text: &str) -> bool {
    use airshed::Error;
    let known_file = |f: &Path| {
        let name = f.file_name().map(|n| n.to_string_lossy().to_string());
        f == dir.join("case.toml")
            || (!f.as_os_str().is_empty() && case_text.contains(&*f.to_string_lossy()))
            || name.as_ref().is_some_and(|n| {
                !n.is_empty() && (dir.join(n).exists() || case_text.contains(n.as_str()))
            })
    };
    match e {
        Error::Config { file, key, .. } => known_file(file) && !key.trim().is_empty(),
        Error::Input { file, field, .. } => known_file(file) && !field.trim().is_empty(),
        Error::Memory { hint, .. } => hint.contains("case.toml"),
        Error::Numerics { process, .. } => !process.trim().is_empty(),
        Error::Output { file, .. } => !file.as_os_str().is_empty(),
        // Only a signal sent to the worker; the campaign sends none.
        Error::Interrupted { .. } => false,
    }
}

fn take_panic() -> PanicRecord {
    LAST_PANIC
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or(PanicRecord {
            message: "(panic without a record)".into(),
            location: String::new(),
            via: String::new(),
        })
}

fn clear_panic() {
    *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

fn refused(e: &airshed::Error, dir: &Path, case_text: &str, ms: f64) -> serde_json::Value {
    json!({
        "class": "refused",
        "code": e.exit_code(),
        "named": names_file_and_key(e, dir, case_text),
        "msg": e.to_string(),
        "ms": ms,
    })
}

fn panicked(ms: f64) -> serde_json::Value {
    let p = take_panic();
    json!({
        "class": "panic",
        "msg": p.message,
        "loc": p.location,
        "via": p.via,
        "ms": ms,
    })
}

/// `airshed check`: the case and everything it reads.
fn check(dir: &Path) -> (serde_json::Value, Option<Case>) {
    let path = dir.join("case.toml");
    let case_text = std::fs::read_to_string(&path).unwrap_or_default();
    clear_panic();
    let t = Instant::now();
    let r = catch_unwind(AssertUnwindSafe(|| -> airshed::Result<Case> {
        let case = Case::load(&path)?;
        let _sim = Simulation::from_case(&case)?;
        Ok(case)
    }));
    let ms = t.elapsed().as_secs_f64() * 1e3;
    match r {
        Ok(Ok(case)) => (json!({"class": "ok", "ms": ms}), Some(case)),
        Ok(Err(e)) => (refused(&e, dir, &case_text, ms), None),
        Err(_) => (panicked(ms), None),
    }
}

/// Cases small enough to run in a fuzz campaign (and whose outputs stay
/// in the scratch directory).
fn runnable(case: &Case) -> bool {
    let g = &case.grid;
    let name = &case.run.name;
    case.run.hours <= 2.0
        && g.nx
            .saturating_mul(g.ny)
            .saturating_mul(g.layer_tops_m.len())
            <= 4096
        && !name.is_empty()
        && name.len() <= 64
        && !name.contains(['/', '\\', '\0'])
        && !name.starts_with('.')
}

/// `airshed run`, outputs into `<dir>/../run/out`.
fn run(dir: &Path, case: &Case) -> serde_json::Value {
    if !runnable(case) {
        return json!({"class": "skipped"});
    }
    let out_root = dir.parent().unwrap().join("run");
    let _ = std::fs::remove_dir_all(&out_root);
    let out = out_root.join("out");
    let case_text = std::fs::read_to_string(dir.join("case.toml")).unwrap_or_default();
    clear_panic();
    let t = Instant::now();
    let r = catch_unwind(AssertUnwindSafe(|| {
        run_case(
            case,
            &RunOptions {
                output_dir: Some(out.clone()),
                progress: false,
            },
        )
    }));
    let ms = t.elapsed().as_secs_f64() * 1e3;
    match r {
        Ok(Ok(_)) => json!({"class": "ok", "ms": ms}),
        Ok(Err(e)) => refused(&e, dir, &case_text, ms),
        Err(_) => panicked(ms),
    }
}

fn reply(id: &str, phase: &str, mut v: serde_json::Value) {
    v["phase"] = json!(phase);
    v["id"] = json!(id);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{MARK}{v}");
    let _ = out.flush();
}

/// Serve requests `check<TAB>ID<TAB>0|1<TAB>DIR` (1: also run) until
/// stdin closes; every reply carries the request's ID.
pub fn serve() {
    install_hook();
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let mut parts = line.splitn(4, '\t');
        let (Some("check"), Some(id), Some(want_run), Some(dir)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let dir = Path::new(dir);
        let (result, case) = check(dir);
        reply(id, "check", result);
        if want_run == "1" {
            let r = match case {
                Some(case) => run(dir, &case),
                None => json!({"class": "skipped"}),
            };
            reply(id, "run", r);
        }
    }
}
