//! One error type for the whole model. Every variant names where the problem
//! is (file, key or field) and what was expected, and maps to a stable exit
//! code so batch scripts can tell bad input from a numerical failure.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The case file is malformed or inconsistent (exit 2).
    #[error("{file}: key `{key}`: {expected}")]
    Config {
        file: PathBuf,
        key: String,
        expected: String,
    },
    /// An input data file (met, emissions) is missing, malformed or unphysical (exit 3).
    #[error("{file}: field `{field}`: {expected}")]
    Input {
        file: PathBuf,
        field: String,
        expected: String,
    },
    /// The requested case does not fit: in memory, or its outputs within
    /// `run.max_output_gib` or the free disk (exit 4). `what` says which.
    #[error("{what}: the case needs about {needed_gib:.3} GiB but at most {available_gib:.3} GiB may be used: {hint}")]
    Memory {
        what: &'static str,
        needed_gib: f64,
        available_gib: f64,
        hint: String,
    },
    /// The numerics failed (non-finite value, negative mass beyond round-off) (exit 5).
    #[error("numerical failure in {process}: {detail}")]
    Numerics { process: String, detail: String },
    /// An output could not be written (exit 6).
    #[error("{file}: cannot write output: {detail}")]
    Output { file: PathBuf, detail: String },
    /// SIGINT or SIGTERM stopped the run; its unfinished outputs were
    /// removed (exit 128 + the signal number: 130, 143, as shells report).
    #[error("interrupted by {}: the run stopped and its unfinished outputs were removed", signal_name(*.signal))]
    Interrupted { signal: i32 },
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config { .. } => 2,
            Error::Input { .. } => 3,
            Error::Memory { .. } => 4,
            Error::Numerics { .. } => 5,
            Error::Output { .. } => 6,
            Error::Interrupted { signal } => 128 + signal,
        }
    }

    pub fn config(file: &Path, key: impl Into<String>, expected: impl Into<String>) -> Self {
        Error::Config {
            file: file.to_path_buf(),
            key: key.into(),
            expected: expected.into(),
        }
    }

    pub fn input(file: &Path, field: impl Into<String>, expected: impl Into<String>) -> Self {
        Error::Input {
            file: file.to_path_buf(),
            field: field.into(),
            expected: expected.into(),
        }
    }

    pub fn output(file: &Path, detail: impl std::fmt::Display) -> Self {
        Error::Output {
            file: file.to_path_buf(),
            detail: detail.to_string(),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// `SIGINT`, `SIGTERM`, or the number.
pub fn signal_name(signal: i32) -> String {
    match signal {
        libc::SIGINT => "SIGINT".into(),
        libc::SIGTERM => "SIGTERM".into(),
        s => format!("signal {s}"),
    }
}
