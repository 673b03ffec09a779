//! What every input-file reader shares: opening files safely (regular
//! files only, CSVs of bounded size), the NetCDF checks (names, truncation,
//! missing values, packing, units) and the unit table. The rules are
//! documented for users in docs/input-files.md.

pub mod nc;
pub mod raster;
pub mod units;

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// Largest CSV input read, bytes (256 MiB: a stack or city inventory of
/// a million rows is about 100 MiB; anything bigger is a wrong path).
pub const MAX_CSV_BYTES: u64 = 256 * 1024 * 1024;

/// The file's metadata when it is a regular file (symlinks followed), else
/// an input error naming what it is.
pub fn regular_file(path: &Path) -> Result<std::fs::Metadata> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::input(path, "(file)", format!("a readable file ({e})")))?;
    if meta.is_file() {
        return Ok(meta);
    }
    let what = if meta.is_dir() {
        "a directory"
    } else {
        "a device, FIFO or socket"
    };
    Err(Error::input(
        path,
        "(file)",
        format!("a regular file; this is {what}"),
    ))
}

/// The whole of a CSV input, refused unless it is a regular file of at
/// most [`MAX_CSV_BYTES`] (checked before and while reading).
pub fn read_csv_bytes(path: &Path) -> Result<Vec<u8>> {
    let too_big = |n: u64| {
        Error::input(
            path,
            "(file)",
            format!(
                "a CSV file of at most {} MiB; it has {} bytes",
                MAX_CSV_BYTES / (1024 * 1024),
                n
            ),
        )
    };
    let meta = regular_file(path)?;
    if meta.len() > MAX_CSV_BYTES {
        return Err(too_big(meta.len()));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| Error::input(path, "(file)", format!("a readable CSV file ({e})")))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_CSV_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::input(path, "(file)", format!("a readable CSV file ({e})")))?;
    if bytes.len() as u64 > MAX_CSV_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}
