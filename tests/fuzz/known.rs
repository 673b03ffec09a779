//! Failure classes still open on the code this harness was written
//! against (issue 14). The short campaign tolerates a panic, hang or crash
//! only when it matches an entry here; the regression replay expects each
//! entry's `regression` directory to fail, and fails when it no longer
//! does. A newly found class that cannot be fixed at once goes here with
//! its reproducer; the list is empty now.

pub struct Known {
    /// What the fix is about (for the table).
    pub id: &'static str,
    /// "panic", "hang" or "crash".
    pub kind: &'static str,
    /// A substring of the panic's location or airshed frame ("via"); for
    /// hangs and crashes, the target's name.
    pub location: &'static str,
    /// A substring of the panic message ("" matches any).
    pub message: &'static str,
    /// The directory under tests/fuzz-regressions/ that reproduces it.
    pub regression: Option<&'static str>,
}

/// Empty: every class the harness found on issue 14's starting code is
/// fixed, and its directory under tests/fuzz-regressions/ now replays as a
/// plain refusal (see `fuzz_regressions`).
pub const KNOWN_OPEN: &[Known] = &[];

/// The entry a failure class matches, if any.
pub fn matching(kind: &str, location: &str, via: &str, message: &str) -> Option<&'static Known> {
    KNOWN_OPEN.iter().find(|k| {
        k.kind == kind
            && (location.contains(k.location) || (!via.is_empty() && via.contains(k.location)))
            && message.contains(k.message)
    })
}
