//! SIGINT and SIGTERM as an orderly stop.
//!
//! Design: the handler only sets a flag (the one thing a signal handler can
//! do safely); `Simulation::step` polls it at the start of each step and
//! between processes (`check`) and returns `Error::Interrupted`, so the run
//! unwinds through normal error handling and `OutputSet`'s `Drop` removes
//! the staging directory. A step is short (milliseconds to seconds), so the
//! stop is prompt; a second signal while the first is being handled ends
//! the process at once (exit 130 or 143), and the staging directory it
//! leaves is removed by the next run in that output directory, as after a
//! SIGKILL. Only the CLI's `run` installs the handler: a library user, a
//! test or `airshed check` keeps the default behaviour and never sees the
//! flag set.

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The signal that asked for the stop (0: none).
static SIGNAL: AtomicUsize = AtomicUsize::new(0);
/// Set by the first signal; arms the immediate exit on a second one.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// Turn SIGINT and SIGTERM into a stop request that [`check`] reports.
pub fn install() -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    for sig in [SIGINT, SIGTERM] {
        // The shutdown must be registered first: it runs before the flag is
        // set, so only a second signal finds STOPPING already true.
        signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, &STOPPING)?;
        signal_hook::flag::register(sig, &STOPPING)?;
        signal_hook::flag::register_usize(sig, &SIGNAL, sig as usize)?;
    }
    Ok(())
}

/// The signal asked for a stop, if one did.
pub fn requested() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s as i32),
    }
}

/// `Err(Error::Interrupted)` once a stop was asked for.
pub fn check() -> Result<()> {
    match requested() {
        None => Ok(()),
        Some(signal) => Err(Error::Interrupted { signal }),
    }
}
