//! A run's outputs as one set (`airshed::output::set`), through the real
//! binary: nothing is written through a link or over an input, a failed,
//! interrupted or killed run leaves no final file, the next run sweeps
//! what a killed one left, and the CLI exits quietly into a closed pipe.

mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_airshed");

/// A Lambert case with a stack, a site and met output (five files in its
/// set with the manifest), `hours` long: 12 h run in about a second.
fn case_text(dir: &Path, name: &str, hours: usize) -> String {
    std::fs::write(
        dir.join("stacks.csv"),
        "name,lon,lat,height_m,diameter_m,velocity_m_s,temperature_k,sector,species,rate,units\n\
         plant,112.45,27.45,80,4,15,420,stationary_combustion,SO2,200,g s-1\n",
    )
    .unwrap();
    format!(
        r#"
sites = [{{ name = "Plant", lon = 112.45, lat = 27.45 }}]
[run]
name = "{name}"
start = "2023-01-20T00:00:00Z"
hours = {hours}
dt_s = 600
[grid]
projection = "lambert"
truelat1 = 22.0
truelat2 = 30.0
stand_lon = 111.0
centre_lon = 112.5
centre_lat = 27.5
nx = 60
ny = 50
dx = 6000.0
dy = 6000.0
layer_tops_m = [50, 200, 600, 1500]
[species]
names = ["PM25", "SO2", "SO4"]
[met]
kind = "analytic"
u_ms = 3.0
v_ms = 0.0
[emissions]
points = ["stacks.csv"]
[boundary]
background_ugm3 = {{ PM25 = 10.0, SO2 = 2.0 }}
[output]
dir = "out"
interval_hours = 1
met_fields = true
"#
    )
}

/// The files of the set of run `k` (manifest last).
const SET: [&str; 5] = [
    "k.nc",
    "k.sites.csv",
    "k.met.nc",
    "k.summary.json",
    "k.manifest.json",
];

fn write_case(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("case.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `airshed <args>` to completion, one binary at a time.
fn airshed(args: &[&str]) -> Output {
    let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    Command::new(BIN).args(args).output().unwrap()
}

fn run(case: &Path) -> Output {
    airshed(&["run", case.to_str().unwrap(), "--quiet"])
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn staging_dirs(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with(".airshed-"))
        .collect()
}

/// The final files in `dir` are either none or exactly the set of run `k`
/// with a manifest whose sizes match. Returns whether the set is there.
fn assert_all_or_nothing(dir: &Path, context: &str) -> bool {
    let finals: Vec<String> = names(dir)
        .into_iter()
        .filter(|n| !n.starts_with(".airshed-"))
        .collect();
    if finals.is_empty() {
        return false;
    }
    let mut want: Vec<String> = SET.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(finals, want, "{context}: a partial set");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("k.manifest.json")).unwrap())
            .unwrap();
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), SET.len() - 1, "{context}: {manifest}");
    for f in files {
        let name = f["name"].as_str().unwrap();
        let bytes = std::fs::metadata(dir.join(name)).unwrap().len();
        assert_eq!(bytes, f["bytes"].as_u64().unwrap(), "{context}: {name}");
    }
    true
}

fn assert_clean_exit(o: &Output, context: &str) {
    let e = stderr(o);
    assert!(!e.contains("panicked"), "{context}: panic: {e}");
    assert_eq!(o.status.code(), Some(0), "{context}: {e}");
}

#[test]
fn a_link_at_a_final_or_old_temporary_name_is_never_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let case = write_case(dir.path(), &case_text(dir.path(), "k", 2));
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let target = dir.path().join("precious.txt");
    std::fs::write(&target, "keep me").unwrap();
    // The old `<file>.tmp` names: no longer used, so never followed.
    for n in ["k.nc.tmp", "k.summary.json.tmp"] {
        std::os::unix::fs::symlink(&target, out.join(n)).unwrap();
    }
    let o = run(&case);
    assert_clean_exit(&o, "links at .tmp names");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    assert!(std::fs::symlink_metadata(out.join("k.nc.tmp"))
        .unwrap()
        .file_type()
        .is_symlink());
    // A link at a final name: refused before the run, named, untouched.
    std::fs::remove_dir_all(&out).unwrap();
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::symlink(&target, out.join("k.sites.csv")).unwrap();
    let o = run(&case);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(6), "{e}");
    assert!(
        e.contains("k.sites.csv") && e.contains("symbolic link"),
        "{e}"
    );
    assert!(!e.contains("panicked"), "{e}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    assert_eq!(names(&out), ["k.sites.csv"], "nothing else written");
}

#[test]
fn a_directory_at_a_final_name_is_refused_and_nothing_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let case = write_case(dir.path(), &case_text(dir.path(), "k", 2));
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("k.summary.json/inside")).unwrap();
    let o = run(&case);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(6), "{e}");
    assert!(e.contains("k.summary.json"), "{e}");
    assert_eq!(names(&out), ["k.summary.json"]);
}

#[test]
fn an_output_over_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        write_met(&dir.path().join("met.nc"), &MetSpec::new(8, 6, 3, 3));
    }
    let before = std::fs::read(dir.path().join("met.nc")).unwrap();
    // run.name "met" with output.dir "." would write met.nc over the input.
    let text = netcdf_case(3, "")
        .replace("name = \"ncmet\"", "name = \"met\"")
        .replace("dir = \"out\"", "dir = \".\"");
    let case = write_case(dir.path(), &text);
    let o = run(&case);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("run.name") && e.contains("output.dir"), "{e}");
    assert!(e.contains("met.nc") && e.contains("met.file"), "{e}");
    assert_eq!(std::fs::read(dir.path().join("met.nc")).unwrap(), before);
    assert_eq!(names(dir.path()), ["case.toml", "met.nc"]);
    // The same through --output-dir names that option.
    let text = netcdf_case(3, "").replace("name = \"ncmet\"", "name = \"met\"");
    let case = write_case(dir.path(), &text);
    let o = airshed(&[
        "run",
        case.to_str().unwrap(),
        "--quiet",
        "--output-dir",
        dir.path().to_str().unwrap(),
    ]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("--output-dir"), "{e}");
    assert_eq!(std::fs::read(dir.path().join("met.nc")).unwrap(), before);
}

#[test]
fn a_run_name_with_a_path_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("case");
    std::fs::create_dir(&inner).unwrap();
    for name in ["../x", "a/b", ".hidden", "..", ""] {
        let case = write_case(&inner, &case_text(&inner, name, 2));
        let o = airshed(&["check", case.to_str().unwrap()]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name:?}: {e}");
        assert!(e.contains("run.name"), "{name:?}: {e}");
        let o = run(&case);
        assert_eq!(o.status.code(), Some(2), "{name:?}: {}", stderr(&o));
    }
    assert_eq!(names(dir.path()), ["case"], "nothing written outside");
    assert_eq!(names(&inner), ["case.toml", "stacks.csv"]);
}

#[test]
fn an_exit_6_failure_in_the_middle_of_the_run_leaves_nothing() {
    // The NetCDF file grows past a file-size limit after a few records:
    // the write fails (SIGXFSZ is ignored), the run exits 6 naming the
    // file, and the staging directory goes with it.
    let dir = tempfile::tempdir().unwrap();
    let case = write_case(dir.path(), &case_text(dir.path(), "k", 12));
    let o = {
        let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        Command::new("bash")
            .arg("-c")
            .arg("ulimit -c 0; ulimit -f 600; exec \"$0\" run \"$1\" --quiet")
            .arg(BIN)
            .arg(&case)
            .output()
            .unwrap()
    };
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(6), "{e}");
    assert!(e.contains("k.nc") || e.contains("k.met.nc"), "{e}");
    assert!(!e.contains("panicked"), "{e}");
    assert!(names(&dir.path().join("out")).is_empty(), "left behind");
}

/// Start a long run and wait until its staging directory exists.
fn start_long_run(dir: &Path) -> std::process::Child {
    let case = write_case(dir, &case_text(dir, "k", 480));
    let child = Command::new(BIN)
        .args(["run", case.to_str().unwrap(), "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = dir.join("out");
    let t0 = Instant::now();
    while staging_dirs(&out).is_empty() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no staging directory"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

#[test]
fn sigint_and_sigterm_stop_the_run_and_leave_nothing() {
    for (signal, code, name) in [("INT", 130, "SIGINT"), ("TERM", 143, "SIGTERM")] {
        let dir = tempfile::tempdir().unwrap();
        let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let child = start_long_run(dir.path());
        std::thread::sleep(Duration::from_millis(300));
        let status = Command::new("kill")
            .args(["-s", signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let o = child.wait_with_output().unwrap();
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(code), "{name}: {e}");
        assert!(e.contains(&format!("interrupted by {name}")), "{e}");
        assert!(!e.contains("panicked"), "{e}");
        let left = names(&dir.path().join("out"));
        assert!(left.is_empty(), "{name} left {left:?}");
    }
}

#[test]
fn a_stale_staging_directory_is_removed_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    // What killed runs leave: partial files, of this run and another one.
    for stale in [".airshed-k.999999.0123abcd", ".airshed-other.999998.ff"] {
        std::fs::create_dir(out.join(stale)).unwrap();
        std::fs::write(out.join(stale).join("k.nc"), "partial").unwrap();
    }
    // Not ours: kept.
    std::fs::write(out.join(".airshed-notes"), "mine").unwrap();
    let case = write_case(dir.path(), &case_text(dir.path(), "k", 2));
    assert_clean_exit(&run(&case), "after stale");
    assert_eq!(staging_dirs(&out), [".airshed-notes"], "{:?}", names(&out));
    assert!(assert_all_or_nothing(&out, "after stale"), "no set");
}

/// A tiny seeded generator (no test dependency for it).
struct Lcg(u64);

impl Lcg {
    fn next_f64(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn sigkill_at_random_points_leaves_all_or_nothing_and_the_next_run_starts_clean() {
    let dir = tempfile::tempdir().unwrap();
    let case = write_case(dir.path(), &case_text(dir.path(), "k", 12));
    let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    // How long a whole run takes here, start to exit.
    let t0 = Instant::now();
    let o = Command::new(BIN)
        .args(["run", case.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    assert_clean_exit(&o, "baseline");
    let whole = t0.elapsed();
    println!("a whole run takes {whole:?}");
    let out = dir.path().join("out");
    assert!(assert_all_or_nothing(&out, "baseline"));
    let mut rng = Lcg(14);
    let (mut cut_short, mut complete, mut over_old) = (0, 0, 0);
    for k in 0..8 {
        // Even rounds start from an empty directory, odd ones over the
        // previous round's complete set.
        if k % 2 == 0 {
            std::fs::remove_dir_all(&out).unwrap();
        }
        let had_set = k % 2 == 1;
        let at = whole.mul_f64(1.1 * rng.next_f64());
        let mut child = Command::new(BIN)
            .args(["run", case.to_str().unwrap(), "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(at);
        let _ = child.kill();
        let status = child.wait().unwrap();
        let context = format!("round {k}, SIGKILL at {at:?} ({status})");
        let staging = staging_dirs(&out);
        let journaled = staging
            .iter()
            .any(|s| out.join(s).join("commit.json").exists());
        if journaled {
            // Killed during the moves: the next run rolls it forward.
            cut_short += 1;
        } else {
            let there = assert_all_or_nothing(&out, &context);
            if had_set {
                assert!(there, "{context}: the old set was touched");
                over_old += 1;
            } else if there {
                complete += 1;
            }
        }
        println!("{context}: staging {staging:?}, journal {journaled}");
        // The next run sweeps what the killed one left, and succeeds.
        let o = Command::new(BIN)
            .args(["run", case.to_str().unwrap(), "--quiet"])
            .output()
            .unwrap();
        assert_clean_exit(&o, &context);
        assert!(
            staging_dirs(&out).is_empty(),
            "{context}: {:?}",
            names(&out)
        );
        assert!(assert_all_or_nothing(&out, &context), "{context}: no set");
    }
    println!(
        "{cut_short} cut short in the commit, {complete} complete, {over_old} over an old set"
    );
}

/// A pipe whose reading end is already closed: every write gets EPIPE.
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: pipe fills two descriptors we then own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: closing the reading end we own.
    unsafe { libc::close(fds[0]) };
    // SAFETY: the writing end is ours and open.
    Stdio::from(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fds[1]) })
}

#[test]
fn every_command_into_a_closed_pipe_exits_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let case = write_case(dir.path(), &case_text(dir.path(), "k", 2));
    let case = case.to_str().unwrap();
    for args in [
        vec!["species"],
        vec!["check", case],
        vec!["run", case, "--quiet"],
        vec!["--help"],
    ] {
        let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let o = Command::new(BIN)
            .args(&args)
            .stdout(closed_pipe())
            .output()
            .unwrap();
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {e}");
        assert!(e.is_empty(), "{args:?}: stderr should be empty: {e}");
    }
    // The run's set is complete: stdout only gets the summary afterwards.
    assert!(assert_all_or_nothing(
        &dir.path().join("out"),
        "run into a closed pipe"
    ));
    // As a user types it.
    let o = Command::new("bash")
        .arg("-c")
        .arg("set -o pipefail; \"$0\" species | head -1")
        .arg(BIN)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
}

#[test]
fn thread_counts_are_checked_and_name_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let case = write_case(dir.path(), &case_text(dir.path(), "k", 2));
    for n in ["0", "100000"] {
        let o = airshed(&["run", case.to_str().unwrap(), "--quiet", "--threads", n]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{n}: {e}");
        assert!(e.contains("--threads"), "{n}: {e}");
        assert!(!e.contains("panicked"), "{e}");
    }
    let text = case_text(dir.path(), "k", 2).replace("dt_s = 600", "dt_s = 600\nthreads = 99999");
    let case = write_case(dir.path(), &text);
    let o = run(&case);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("run.threads"), "{e}");
    assert!(names(&dir.path().join("out")).is_empty());
}
