//! A run's outputs as one set: written apart, moved into place together,
//! with a manifest last.
//!
//! ```text
//! <dir>/.airshed-<run>.<pid>.<random>/   staging, created exclusively (mode 0700)
//!     owner                               pid, host, start time (for people)
//!     <run>.nc, <run>.summary.json, ...   every file of the run, created new
//!     <run>.manifest.json                 written at commit, moved last
//!     commit.json                         the commit journal
//! <dir>/<run>.nc ... <run>.manifest.json  the committed set
//! ```
//!
//! Why each piece:
//! - **A private staging directory**, not `<file>.tmp` beside each final
//!   name: one `remove_dir_all` (on error, on a signal, or by a later run)
//!   removes everything unfinished, and nothing is ever created at a name
//!   someone else could have planted. Files inside it are created with
//!   `O_CREAT | O_EXCL | O_NOFOLLOW` (NetCDF with `NC_NOCLOBBER`, which
//!   HDF5 turns into `O_EXCL`), so no link is ever followed.
//! - **Final paths are checked, not trusted**: a symbolic link or a
//!   directory at a final name is refused (exit 6), and so is a final path
//!   that is one of the case's inputs (exit 2 on `run.name` / `output.dir`),
//!   before the run and again at commit. Moving into place is `rename`,
//!   which replaces a directory entry and never writes through it.
//! - **The manifest is written last**: `<run>.manifest.json` lists every
//!   file with its size. A set is complete exactly when its manifest is
//!   there; the old manifest is removed before the first file moves.
//!   Sizes and not checksums: hashing a multi-GiB NetCDF file would read
//!   it back at the end of every run, and sizes already catch a truncated
//!   copy.
//! - **A commit journal** (`commit.json` in the staging directory, written
//!   and renamed into place atomically before the first move) says what
//!   the commit does. If the process dies during the moves, the next run
//!   in the directory finds the journal and rolls the commit forward (every
//!   file was complete and synced before the journal was written), so the
//!   set is either all there with its manifest or not there.
//! - **Liveness by lock, not by pid**: the owning process holds an
//!   exclusive `flock` on its staging directory for its lifetime. The
//!   kernel drops it when the process dies however it dies, so a later run
//!   that can take the lock knows the owner is gone (no pid-reuse guess);
//!   where `flock` is unsupported it falls back to the pid in the name.
//!   Sweeping, creating the staging directory and committing happen under
//!   a lock on the output directory itself, so two runs never interleave
//!   and a second live run of the same name is refused.

use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Every staging directory's name starts so: hidden, and known to the sweep.
pub const STAGING_PREFIX: &str = ".airshed-";
const OWNER: &str = "owner";
const JOURNAL: &str = "commit.json";
const JOURNAL_PART: &str = "commit.json.part";

/// A file of the set: where it is written (in the staging directory) and
/// where it will be once the set is committed.
#[derive(Debug, Clone)]
pub struct Staged {
    pub staged: PathBuf,
    pub path: PathBuf,
}

/// The case's input files, which no output may replace.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The case file, for messages.
    pub case_file: PathBuf,
    /// The key that names the output directory (`output.dir`, or
    /// `--output-dir` when the command line overrides it).
    pub dir_key: String,
    /// (what the input is, its path).
    pub files: Vec<(String, PathBuf)>,
}

/// One file in the manifest.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ManifestEntry {
    pub name: String,
    pub bytes: u64,
}

/// `<run>.manifest.json`: the committed set. Written last; its presence
/// means every file listed is complete.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub run: String,
    pub airshed: String,
    /// Seconds since 1970 when the set was committed.
    pub committed_unix_s: u64,
    pub files: Vec<ManifestEntry>,
}

/// What a commit does, written before its first move.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Journal {
    /// The manifest's file name (moved last).
    manifest: String,
    /// Files to move from the staging directory, in order.
    files: Vec<String>,
    /// Files of the previous set that the new one does not have.
    remove: Vec<String>,
}

/// The staging directory of one run and the files reserved in it.
pub struct OutputSet {
    dir: PathBuf,
    name: String,
    staging: PathBuf,
    inputs: Inputs,
    files: Vec<String>,
    committed: bool,
    /// Holds the staging directory's lock for as long as the set lives.
    _lock: Option<File>,
}

/// A run name that is one plain file-name component: no separator, no
/// `..`, not hidden (staging directories are hidden), no control characters.
pub fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains("..")
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control)
}

impl OutputSet {
    /// Start the set of run `name` in `dir` (which must exist): remove what
    /// killed runs left in `dir`, refuse a live run of the same name, and
    /// create a fresh staging directory.
    pub fn create(dir: &Path, name: &str, inputs: Inputs) -> Result<OutputSet> {
        if !plain_name(name) {
            return Err(Error::config(
                &inputs.case_file,
                "run.name",
                format!("a plain file name (no path separator, no \"..\", not starting with '.'), got {name:?}"),
            ));
        }
        let dir = dir.canonicalize().map_err(|e| Error::output(dir, e))?;
        let _dir_lock = lock_dir(&dir, true).map_err(|e| Error::output(&dir, e))?;
        sweep(&dir, Some(name))?;
        let pid = std::process::id();
        let mut staging = None;
        for _ in 0..16 {
            let candidate = dir.join(format!(
                "{STAGING_PREFIX}{name}.{pid}.{:016x}",
                random_u64()
            ));
            match fs::DirBuilder::new().mode(0o700).create(&candidate) {
                Ok(()) => {
                    staging = Some(candidate);
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(Error::output(
                        &candidate,
                        format!("cannot create the staging directory ({e})"),
                    ))
                }
            }
        }
        let staging = staging.ok_or_else(|| {
            Error::output(&dir, "no fresh name for a staging directory after 16 tries")
        })?;
        let mut set = OutputSet {
            dir,
            name: name.to_string(),
            staging,
            inputs,
            files: vec![],
            committed: false,
            _lock: None,
        };
        // From here on, Drop removes the staging directory on any error.
        set._lock = lock_dir(&set.staging, true).map_err(|e| Error::output(&set.staging, e))?;
        let owner = format!(
            "pid {pid}\nhost {}\nstarted_unix_s {}\nrun {name}\n",
            hostname(),
            now_unix_s()
        );
        write_new(&set.staging.join(OWNER), owner.as_bytes())
            .map_err(|e| Error::output(&set.staging.join(OWNER), e))?;
        set.check_final(&set.manifest_name())?;
        Ok(set)
    }

    /// The output directory (canonical).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The staging directory.
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    pub fn run_name(&self) -> &str {
        &self.name
    }

    fn manifest_name(&self) -> String {
        format!("{}.manifest.json", self.name)
    }

    /// Reserve `<run>.<suffix>` in the set: its final path is checked now
    /// (not a link, not a directory, not an input) so a bad one fails
    /// before the run, and the file must exist at commit.
    pub fn reserve(&mut self, suffix: &str) -> Result<Staged> {
        let file = format!("{}.{suffix}", self.name);
        let path = self.dir.join(&file);
        if self.files.contains(&file) || file == self.manifest_name() {
            return Err(Error::output(&path, "the run writes this file twice"));
        }
        self.check_final(&file)?;
        self.files.push(file.clone());
        Ok(Staged {
            staged: self.staging.join(&file),
            path,
        })
    }

    /// Where `<run>.<suffix>` is written until the set is committed.
    pub fn staged_path(&self, suffix: &str) -> PathBuf {
        self.staging.join(format!("{}.{suffix}", self.name))
    }

    /// Reserve `<run>.<suffix>` and write it now.
    pub fn write_text(&mut self, suffix: &str, contents: &str) -> Result<Staged> {
        let staged = self.reserve(suffix)?;
        staged.write_text(contents)?;
        Ok(staged)
    }

    /// The final path must be absent or a regular file that is not an input.
    fn check_final(&self, file: &str) -> Result<()> {
        let path = self.dir.join(file);
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::output(&path, e)),
        };
        if meta.file_type().is_symlink() {
            return Err(Error::output(
                &path,
                "is a symbolic link; airshed never writes through a link: remove it, or change run.name or the output directory",
            ));
        }
        if !meta.is_file() {
            return Err(Error::output(
                &path,
                "exists and is not a regular file (a directory?); remove it, or change run.name or the output directory",
            ));
        }
        let canonical = path.canonicalize().map_err(|e| Error::output(&path, e))?;
        for (what, input) in &self.inputs.files {
            if input.canonicalize().is_ok_and(|i| i == canonical) {
                return Err(Error::config(
                    &self.inputs.case_file,
                    format!("run.name / {}", self.inputs.dir_key),
                    format!(
                        "outputs that do not replace an input, but {} is the case's {what}",
                        path.display()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Move the whole set into place, the manifest last (module doc).
    pub fn commit(mut self) -> Result<Manifest> {
        let _dir_lock = lock_dir(&self.dir, true).map_err(|e| Error::output(&self.dir, e))?;
        let (manifest, journal) = self.prepare()?;
        if let Err(e) = roll_forward(&self.staging, &self.dir, &journal) {
            roll_back(&self.staging, &self.dir, &journal);
            return Err(e);
        }
        self.committed = true;
        // The set is in place; a leftover staging directory (should this
        // fail) holds only the owner file and journal, and the next run
        // removes it.
        let _ = fs::remove_dir_all(&self.staging);
        Ok(manifest)
    }

    /// Everything before the first move: every file complete and synced,
    /// the final paths checked again, the manifest and the journal
    /// written. Up to here a failure changes nothing outside the staging
    /// directory.
    fn prepare(&mut self) -> Result<(Manifest, Journal)> {
        let mut entries = Vec::with_capacity(self.files.len());
        for file in &self.files {
            let (staged, path) = (self.staging.join(file), self.dir.join(file));
            let meta = fs::symlink_metadata(&staged).map_err(|e| {
                Error::output(
                    &path,
                    format!("was not written in {} ({e})", staged.display()),
                )
            })?;
            if !meta.is_file() {
                return Err(Error::output(
                    &path,
                    "the staged file is not a regular file",
                ));
            }
            File::open(&staged)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::output(&path, e))?;
            entries.push(ManifestEntry {
                name: file.clone(),
                bytes: meta.len(),
            });
        }
        let manifest_name = self.manifest_name();
        for file in self.files.iter().chain([&manifest_name]) {
            self.check_final(file)?;
        }
        let old = read_manifest(&self.dir.join(&manifest_name))
            .map(|m| m.files)
            .unwrap_or_default();
        let remove = old
            .into_iter()
            .map(|e| e.name)
            .filter(|n| owned_name(&self.name, n) && !self.files.contains(n) && *n != manifest_name)
            .collect();
        let manifest = Manifest {
            run: self.name.clone(),
            airshed: env!("CARGO_PKG_VERSION").to_string(),
            committed_unix_s: now_unix_s(),
            files: entries,
        };
        let json = serde_json::to_string_pretty(&manifest)
            .map_err(|e| Error::output(&self.dir.join(&manifest_name), e))?
            + "\n";
        Staged {
            staged: self.staging.join(&manifest_name),
            path: self.dir.join(&manifest_name),
        }
        .write_text(&json)?;
        let journal = Journal {
            manifest: manifest_name,
            files: self.files.clone(),
            remove,
        };
        write_journal(&self.staging, &journal)?;
        Ok((manifest, journal))
    }
}

impl Drop for OutputSet {
    /// Not committed: an error, a signal turned into an error, or a panic
    /// unwinding. Nothing of the set reaches the output directory.
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

impl Staged {
    /// Write the file in the staging directory (created new), naming its
    /// final path in an error.
    pub fn write_text(&self, contents: &str) -> Result<()> {
        write_new(&self.staged, contents.as_bytes()).map_err(|e| {
            let _ = fs::remove_file(&self.staged);
            Error::output(
                &self.path,
                format!("{e} (writing it in {})", self.staged.display()),
            )
        })
    }
}

/// Create a file that must not exist yet (never following a link), write
/// it and sync it.
pub fn write_new(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .mode(0o644)
        .open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

/// A name that a set of run `run` may own: `<run>.<something>`, plain.
fn owned_name(run: &str, name: &str) -> bool {
    plain_name(name)
        && name
            .strip_prefix(run)
            .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1)
}

fn read_manifest(path: &Path) -> Option<Manifest> {
    let meta = fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() > 16 << 20 {
        return None;
    }
    serde_json::from_str(&fs::read_to_string(path).ok()?).ok()
}

/// The journal, made visible atomically (written as `.part`, synced,
/// renamed, and the directory synced).
fn write_journal(staging: &Path, journal: &Journal) -> Result<()> {
    let part = staging.join(JOURNAL_PART);
    let e = |err: std::io::Error| Error::output(&staging.join(JOURNAL), err);
    let json = serde_json::to_string(journal).map_err(|err| Error::output(&part, err))?;
    write_new(&part, json.as_bytes()).map_err(e)?;
    fs::rename(&part, staging.join(JOURNAL)).map_err(e)?;
    sync_dir(staging).map_err(e)
}

fn read_journal(staging: &Path) -> Option<Journal> {
    let path = staging.join(JOURNAL);
    let meta = fs::symlink_metadata(&path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let j: Journal = serde_json::from_str(&fs::read_to_string(&path).ok()?).ok()?;
    // Only plain names: a journal never moves anything outside `dir`.
    let plain = plain_name(&j.manifest) && j.files.iter().chain(&j.remove).all(|n| plain_name(n));
    plain.then_some(j)
}

fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Remove a regular file (never a link or directory); absent is fine.
fn remove_if_file(path: &Path) -> std::io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => match fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Carry out a journaled commit; safe to repeat after it was cut short.
fn roll_forward(staging: &Path, dir: &Path, j: &Journal) -> Result<()> {
    roll_forward_steps(staging, dir, j, usize::MAX)
}

/// [`roll_forward`], stopping (as a killed process would) after `moves`
/// renames; tests cut commits short with it.
fn roll_forward_steps(staging: &Path, dir: &Path, j: &Journal, moves: usize) -> Result<()> {
    let mut moves_left = moves;
    let staged_manifest = staging.join(&j.manifest);
    if !exists(&staged_manifest) {
        // The manifest moved: the commit had finished.
        return Ok(());
    }
    let out = |name: &str, e: std::io::Error| Error::output(&dir.join(name), e);
    remove_if_file(&dir.join(&j.manifest)).map_err(|e| out(&j.manifest, e))?;
    for name in &j.remove {
        remove_if_file(&dir.join(name)).map_err(|e| out(name, e))?;
    }
    for name in &j.files {
        let from = staging.join(name);
        if exists(&from) {
            if moves_left == 0 {
                return Ok(());
            }
            moves_left -= 1;
            fs::rename(&from, dir.join(name)).map_err(|e| out(name, e))?;
        }
    }
    sync_dir(dir).map_err(|e| Error::output(dir, e))?;
    if moves_left == 0 {
        return Ok(());
    }
    fs::rename(&staged_manifest, dir.join(&j.manifest)).map_err(|e| out(&j.manifest, e))?;
    sync_dir(dir).map_err(|e| Error::output(dir, e))
}

/// Undo a commit that cannot finish: remove the files it already moved
/// (those gone from the staging directory), so no partial set stays.
fn roll_back(staging: &Path, dir: &Path, j: &Journal) {
    if !exists(&staging.join(&j.manifest)) {
        return;
    }
    for name in &j.files {
        if !exists(&staging.join(name)) {
            let _ = remove_if_file(&dir.join(name));
        }
    }
    let _ = sync_dir(dir);
}

/// Whether the process that owns a staging directory is alive.
enum Owner {
    Alive(u32),
    /// Gone; the lock on its directory is held until this is dropped.
    Gone(Option<File>),
    /// Cannot tell (another host, no locks, no /proc): leave it alone.
    Unknown,
}

fn owner_of(path: &Path, pid: u32) -> Owner {
    if let Ok(f) = File::open(path) {
        // SAFETY: flock on a descriptor we own.
        if unsafe {
            libc::flock(
                std::os::fd::AsRawFd::as_raw_fd(&f),
                libc::LOCK_EX | libc::LOCK_NB,
            )
        } == 0
        {
            return Owner::Gone(Some(f));
        }
        if std::io::Error::last_os_error().raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Owner::Alive(pid);
        }
    }
    // No locks here: judge by the pid, on this host only.
    let owner = fs::read_to_string(path.join(OWNER)).unwrap_or_default();
    let host = owner
        .lines()
        .find_map(|l| l.strip_prefix("host "))
        .unwrap_or_default();
    if !host.is_empty() && host != hostname() {
        return Owner::Unknown;
    }
    // SAFETY: kill with signal 0 only checks that the process exists.
    let alive = unsafe { libc::kill(pid as libc::pid_t, 0) } == 0
        || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if alive {
        Owner::Alive(pid)
    } else {
        Owner::Gone(None)
    }
}

/// `<run>`, pid of `.airshed-<run>.<pid>.<random>`.
fn parse_staging_name(name: &str) -> Option<(&str, u32)> {
    let rest = name.strip_prefix(STAGING_PREFIX)?;
    let mut parts = rest.rsplitn(3, '.');
    let random = parts.next()?;
    let pid = parts.next()?.parse().ok()?;
    let run = parts.next()?;
    (!random.is_empty() && random.chars().all(|c| c.is_ascii_hexdigit())).then_some((run, pid))
}

/// Finish or remove what runs that died left in `dir`: a staging directory
/// with a journal is rolled forward (rolled back if that fails), one
/// without is removed. A live run of `refuse_live` is an error. Call with
/// the directory locked.
fn sweep(dir: &Path, refuse_live: Option<&str>) -> Result<()> {
    let entries = fs::read_dir(dir).map_err(|e| Error::output(dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((run, pid)) = name.to_str().and_then(parse_staging_name) else {
            continue;
        };
        let path = entry.path();
        if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        match owner_of(&path, pid) {
            Owner::Alive(pid) if Some(run) == refuse_live => {
                return Err(Error::output(
                    &dir.join(format!("{run}.nc")),
                    format!(
                        "another airshed run (pid {pid}) is writing run {run:?} into this directory; wait for it to end, or change run.name or the output directory"
                    ),
                ))
            }
            Owner::Alive(_) | Owner::Unknown => {}
            Owner::Gone(_lock) => {
                if let Some(j) = read_journal(&path) {
                    if roll_forward(&path, dir, &j).is_err() {
                        roll_back(&path, dir, &j);
                    }
                }
                let _ = fs::remove_dir_all(&path);
            }
        }
    }
    Ok(())
}

/// Remove the leftovers of dead runs in `dir` (any run name), as a run
/// does before it starts. For tests and tools.
pub fn clean_stale(dir: &Path) -> Result<()> {
    let _lock = lock_dir(dir, true).map_err(|e| Error::output(dir, e))?;
    sweep(dir, None)
}

/// An exclusive `flock` on a directory, released when the file is closed.
/// `Ok(None)` where the file system has no locks (then runs are not
/// serialised, and liveness falls back to pids).
fn lock_dir(dir: &Path, wait: bool) -> std::io::Result<Option<File>> {
    let f = File::open(dir)?;
    let op = if wait {
        libc::LOCK_EX
    } else {
        libc::LOCK_EX | libc::LOCK_NB
    };
    loop {
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&f), op) } == 0 {
            return Ok(Some(f));
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::ENOLCK) | Some(libc::EOPNOTSUPP) | Some(libc::EINVAL) => return Ok(None),
            _ => return Err(e),
        }
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

fn now_unix_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// A random number for names: std's per-process random hash keys, mixed
/// with the time (no extra crate; `create_dir` refuses a collision anyway).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    h.finish()
}

/// Write one file outside a run's set (`airshed attribute --csv`): to a
/// fresh hidden name beside it (created new, never through a link), then
/// renamed over the final name, which must not be a link or a directory.
pub fn write_alone(path: &Path, contents: &str) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(Error::output(
                path,
                "is a symbolic link; airshed never writes through a link",
            ))
        }
        Ok(m) if !m.is_file() => {
            return Err(Error::output(path, "exists and is not a regular file"))
        }
        _ => {}
    }
    let name = path
        .file_name()
        .ok_or_else(|| Error::output(path, "not a file name"))?;
    let tmp = path.with_file_name(format!(
        ".{}.{}.{:016x}.part",
        name.to_string_lossy(),
        std::process::id(),
        random_u64()
    ));
    let result = write_new(&tmp, contents.as_bytes()).and_then(|()| fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::output(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Inputs {
        Inputs {
            case_file: PathBuf::from("case.toml"),
            dir_key: "output.dir".into(),
            files: vec![],
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn plain_names() {
        for ok in ["met", "run-1", "a.b", "x y"] {
            assert!(plain_name(ok), "{ok}");
        }
        for bad in ["", "../x", "a/b", ".hidden", "a..b", "..", "a\\b", "a\nb"] {
            assert!(!plain_name(bad), "{bad:?}");
        }
        assert_eq!(
            parse_staging_name(".airshed-a.b.12.00ff"),
            Some(("a.b", 12))
        );
        assert_eq!(parse_staging_name(".airshed-a.12"), None);
        assert!(owned_name("r", "r.nc") && !owned_name("r", "rx.nc") && !owned_name("r", "r."));
    }

    #[test]
    fn a_set_commits_whole_and_an_old_set_loses_its_extra_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut set = OutputSet::create(dir.path(), "r", inputs()).unwrap();
        set.write_text("a.csv", "a").unwrap();
        set.write_text("extra.csv", "old").unwrap();
        set.commit().unwrap();
        assert_eq!(
            names(dir.path()),
            ["r.a.csv", "r.extra.csv", "r.manifest.json"]
        );
        let mut set = OutputSet::create(dir.path(), "r", inputs()).unwrap();
        set.write_text("a.csv", "new").unwrap();
        let m = set.commit().unwrap();
        assert_eq!(names(dir.path()), ["r.a.csv", "r.manifest.json"]);
        assert_eq!(
            m.files,
            vec![ManifestEntry {
                name: "r.a.csv".into(),
                bytes: 3
            }]
        );
        let on_disk = read_manifest(&dir.path().join("r.manifest.json")).unwrap();
        assert_eq!(on_disk, m);
    }

    #[test]
    fn dropping_an_uncommitted_set_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut set = OutputSet::create(dir.path(), "r", inputs()).unwrap();
        set.write_text("a.csv", "a").unwrap();
        assert_eq!(names(dir.path()).len(), 1, "the staging directory");
        drop(set);
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn a_reserved_file_that_was_never_written_fails_the_commit() {
        let dir = tempfile::tempdir().unwrap();
        let mut set = OutputSet::create(dir.path(), "r", inputs()).unwrap();
        set.write_text("a.csv", "a").unwrap();
        set.reserve("b.nc").unwrap();
        let e = set.commit().unwrap_err();
        assert_eq!(e.exit_code(), 6);
        assert!(e.to_string().contains("r.b.nc"), "{e}");
        assert!(names(dir.path()).is_empty());
    }

    /// A commit cut short after `moves` renames (the process died: no
    /// Drop, its lock gone) is finished by the next run in the directory,
    /// over an old set with a file the new one does not have.
    #[test]
    fn a_commit_cut_short_is_rolled_forward_by_the_next_run() {
        for moves in 0..=4 {
            let dir = tempfile::tempdir().unwrap();
            let mut old = OutputSet::create(dir.path(), "r", inputs()).unwrap();
            old.write_text("a.csv", "old").unwrap();
            old.write_text("gone.csv", "old").unwrap();
            old.commit().unwrap();
            let mut set = OutputSet::create(dir.path(), "r", inputs()).unwrap();
            set.write_text("a.csv", "a").unwrap();
            set.write_text("b.csv", "bb").unwrap();
            set.write_text("c.csv", "ccc").unwrap();
            let (_, journal) = set.prepare().unwrap();
            roll_forward_steps(&set.staging, dir.path(), &journal, moves).unwrap();
            // Die here.
            set.committed = true;
            let staging = set.staging.clone();
            drop(set);
            let partial = names(dir.path());
            if moves < 4 {
                assert!(staging.exists());
                assert!(
                    !partial.contains(&"r.manifest.json".to_string()),
                    "{moves}: {partial:?}"
                );
            }
            clean_stale(dir.path()).unwrap();
            assert_eq!(
                names(dir.path()),
                ["r.a.csv", "r.b.csv", "r.c.csv", "r.manifest.json"],
                "after {moves} moves"
            );
            assert_eq!(fs::read_to_string(dir.path().join("r.a.csv")).unwrap(), "a");
            let m = read_manifest(&dir.path().join("r.manifest.json")).unwrap();
            assert_eq!(m.files.len(), 3);
        }
    }

    #[test]
    fn a_live_run_of_the_same_name_is_refused_and_a_dead_one_removed() {
        let dir = tempfile::tempdir().unwrap();
        let live = OutputSet::create(dir.path(), "r", inputs()).unwrap();
        let e = OutputSet::create(dir.path(), "r", inputs()).err().unwrap();
        assert_eq!(e.exit_code(), 6);
        assert!(e.to_string().contains("another airshed run"), "{e}");
        // Another name may run beside it.
        let other = OutputSet::create(dir.path(), "s", inputs()).unwrap();
        drop(other);
        // A staging directory whose owner died (no lock held) is removed.
        let dead = dir.path().join(format!("{STAGING_PREFIX}q.999999.00ab"));
        fs::create_dir(&dead).unwrap();
        fs::write(dead.join("q.nc"), "partial").unwrap();
        clean_stale(dir.path()).unwrap();
        assert!(!dead.exists());
        assert!(live.staging().exists(), "a live run's staging stays");
    }

    #[test]
    fn links_directories_and_inputs_at_final_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.txt");
        fs::write(&target, "keep").unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("r.csv")).unwrap();
        fs::create_dir(dir.path().join("r.json")).unwrap();
        fs::write(dir.path().join("met.nc"), "input").unwrap();
        let mut set = OutputSet::create(
            dir.path(),
            "r",
            Inputs {
                files: vec![("met.file".into(), dir.path().join("met.nc"))],
                ..inputs()
            },
        )
        .unwrap();
        let e = set.reserve("csv").unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        let e = set.reserve("json").unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        drop(set);
        let mut set = OutputSet::create(
            dir.path(),
            "met",
            Inputs {
                files: vec![("met.file".into(), dir.path().join("met.nc"))],
                ..inputs()
            },
        )
        .unwrap();
        let e = set.reserve("nc").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("run.name / output.dir"), "{e}");
        drop(set);
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep");
        assert_eq!(
            fs::read_to_string(dir.path().join("met.nc")).unwrap(),
            "input"
        );
        let e = OutputSet::create(dir.path(), "../x", inputs())
            .err()
            .unwrap();
        assert_eq!(e.exit_code(), 2);
    }
}
