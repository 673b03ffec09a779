//! Worker processes. Each worker is this test binary started again in
//! worker mode (`fuzz_worker`, an ignored test that serves requests when
//! AIRSHED_FUZZ_WORKER=1), under a virtual-memory limit. The supervisor
//! sends one request per input and waits for each reply with a time limit:
//! an input that takes longer is a hang, and the worker is killed and
//! replaced, so a hang is reported rather than waited for. A worker that
//! dies (segfault in the C library, abort on allocation failure, stack
//! overflow) is a crash, reported with the tail of its stderr; the
//! campaign goes on with a new worker.

use super::oracle::MARK;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a worker said about one phase of one input.
#[derive(Debug, Clone)]
pub enum Verdict {
    Ok,
    Refused {
        code: i64,
        named: bool,
        message: String,
    },
    Panic {
        message: String,
        location: String,
        via: String,
    },
    Hang,
    Crash {
        what: String,
        detail: String,
    },
    Skipped,
}

impl Verdict {
    /// Panics, hangs and crashes: what the campaign must not find.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Verdict::Panic { .. } | Verdict::Hang | Verdict::Crash { .. }
        )
    }
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub verdict: Verdict,
    /// Time the worker measured (the time limit for hangs).
    pub ms: f64,
}

/// The run phase's time limit, in multiples of the check's: `check` must
/// answer within 10 s on any input (issue 14), but a run of a small case
/// at the shortest legal step (1 s, e.g. `dt_s = 2` over 2 h with tags:
/// 3600 steps) legitimately takes longer; a run that never ends still
/// shows as a hang.
pub const RUN_LIMIT_FACTOR: u32 = 6;

pub struct Worker {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<Option<String>>,
    stderr_tail: Arc<Mutex<Vec<u8>>>,
    /// The current request's number: replies to earlier ones are dropped.
    request: u64,
}

/// Virtual memory per worker, MiB (AIRSHED_FUZZ_MEMORY_MIB, default 4096):
/// a reader that allocates from a corrupt header aborts the worker instead
/// of the machine.
fn memory_limit_kib() -> u64 {
    std::env::var("AIRSHED_FUZZ_MEMORY_MIB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(4096)
        * 1024
}

impl Worker {
    pub fn spawn() -> Worker {
        let exe = std::env::current_exe().expect("test binary path");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("ulimit -v \"$1\" 2>/dev/null; shift; exec \"$@\"")
            .arg("sh")
            .arg(memory_limit_kib().to_string())
            .arg(exe)
            .args([
                "fuzz_worker",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
                "-q",
            ])
            .env("AIRSHED_FUZZ_WORKER", "1")
            .env("RAYON_NUM_THREADS", "1")
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn a fuzz worker");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, replies) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match r.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf);
                        if let Some(json) = line.trim_end().strip_prefix(MARK) {
                            if tx.send(Some(json.to_string())).is_err() {
                                return;
                            }
                        }
                    }
                }
            }
            let _ = tx.send(None);
        });
        let stderr_tail = Arc::new(Mutex::new(Vec::new()));
        let tail = stderr_tail.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                let mut t = tail.lock().unwrap();
                t.extend_from_slice(&chunk[..n]);
                let excess = t.len().saturating_sub(8192);
                t.drain(..excess);
            }
        });
        Worker {
            child,
            stdin,
            replies,
            stderr_tail,
            request: 0,
        }
    }

    /// Check the case in `dir` within `limit` (and run it when `run`,
    /// within [`RUN_LIMIT_FACTOR`] x `limit`). A hung or dead worker is
    /// replaced.
    pub fn evaluate(
        &mut self,
        dir: &Path,
        run: bool,
        limit: Duration,
    ) -> (Outcome, Option<Outcome>) {
        self.stderr_tail.lock().unwrap().clear();
        self.request += 1;
        let request = format!(
            "check\t{}\t{}\t{}\n",
            self.request,
            u8::from(run),
            dir.display()
        );
        if self.stdin.write_all(request.as_bytes()).is_err() || self.stdin.flush().is_err() {
            let o = self.died(0.0);
            return (o, None);
        }
        let check = self.reply(limit);
        // After a hang or a crash the worker is a new one: no run reply.
        if !run || matches!(check.verdict, Verdict::Hang | Verdict::Crash { .. }) {
            return (check, None);
        }
        let run = self.reply(limit * RUN_LIMIT_FACTOR);
        (check, Some(run))
    }

    /// The next reply to the current request.
    fn reply(&mut self, limit: Duration) -> Outcome {
        let t = Instant::now();
        loop {
            let left = limit.saturating_sub(t.elapsed());
            match self.replies.recv_timeout(left) {
                Ok(Some(line)) => {
                    let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
                    if v["id"].as_str() == Some(self.request.to_string().as_str()) {
                        return parse(&v, &line);
                    }
                }
                Ok(None) | Err(RecvTimeoutError::Disconnected) => {
                    return self.died(t.elapsed().as_secs_f64() * 1e3)
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.restart();
                    return Outcome {
                        verdict: Verdict::Hang,
                        ms: limit.as_secs_f64() * 1e3,
                    };
                }
            }
        }
    }

    fn died(&mut self, ms: f64) -> Outcome {
        let status = self.child.wait().ok();
        // Let the stderr reader catch the last words.
        std::thread::sleep(Duration::from_millis(50));
        let tail = String::from_utf8_lossy(&self.stderr_tail.lock().unwrap()).to_string();
        let signal = status.and_then(|s| std::os::unix::process::ExitStatusExt::signal(&s));
        let what = if tail.contains("memory allocation of") || tail.contains("capacity overflow") {
            "abort: memory allocation failed (worker limit AIRSHED_FUZZ_MEMORY_MIB)".to_string()
        } else if tail.contains("has overflowed its stack") {
            "abort: stack overflow".to_string()
        } else {
            match (signal, status.and_then(|s| s.code())) {
                (Some(11), _) => "segfault (SIGSEGV)".into(),
                (Some(6), _) => "abort (SIGABRT)".into(),
                (Some(7), _) => "bus error (SIGBUS)".into(),
                (Some(s), _) => format!("killed by signal {s}"),
                (None, Some(c)) => format!("worker exited with code {c}"),
                (None, None) => "worker died".into(),
            }
        };
        let detail: String = tail
            .lines()
            .rev()
            .take(12)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        self.restart();
        Outcome {
            verdict: Verdict::Crash { what, detail },
            ms,
        }
    }

    fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        *self = Worker::spawn();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse(v: &serde_json::Value, line: &str) -> Outcome {
    let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
    let verdict = match v["class"].as_str() {
        Some("ok") => Verdict::Ok,
        Some("refused") => Verdict::Refused {
            code: v["code"].as_i64().unwrap_or(-1),
            named: v["named"].as_bool().unwrap_or(false),
            message: s("msg"),
        },
        Some("panic") => Verdict::Panic {
            message: s("msg"),
            location: s("loc"),
            via: s("via"),
        },
        Some("skipped") => Verdict::Skipped,
        _ => Verdict::Crash {
            what: "unreadable worker reply".into(),
            detail: line.to_string(),
        },
    };
    Outcome {
        verdict,
        ms: v["ms"].as_f64().unwrap_or(0.0),
    }
}
