//! NetCDF inputs read safely: names checked before they reach the netcdf
//! crate (which panics on some), files checked complete before they are
//! read, and every value checked for missing data, unpacked and converted
//! to the model's units.
//!
//! - **Names.** A variable name from a case file must be a NetCDF name:
//!   1 to 256 bytes, no `/` and no NUL ([`check_name`]).
//! - **Truncation.** A classic file (CDF-1, CDF-2 64-bit offset, CDF-5)
//!   must be at least as long as its header says (`begin` of each
//!   variable plus its size, record variables over `numrecs` records);
//!   a netCDF-4/HDF5 file at least as long as the end-of-file address in
//!   its superblock ([`open`]). The netCDF library itself reads the missing
//!   tail of a classic file as zeros.
//! - **Damaged netCDF-4.** HDF5 1.10 (under libnetcdf 4.9) is not
//!   memory-safe on a damaged file: it crashed (SIGSEGV, double free) on
//!   files whose damage our header checks cannot see, once another file
//!   had been opened in the process; and the netcdf crate unwraps some
//!   library errors on damaged headers of any format (`File::attribute`).
//!   So the CLI first reads each NetCDF input's whole header (every group,
//!   dimension, variable and attribute) in a child process
//!   ([`probe_child`]), once per file; a child that fails, panics or
//!   crashes makes the file an input error, and the main process never
//!   opens it ([`open`]). Library callers opt in with [`probe_netcdf_with`].
//! - **Missing values.** A value that is NaN or infinite, equal to the
//!   `_FillValue` (or, without one, the netCDF default fill of its type,
//!   e.g. 9.9692099683868690e36 for float and double), to a
//!   `missing_value`, outside `valid_range` / `valid_min` / `valid_max`,
//!   or of magnitude between 9.9e36 and 1e37 (a fill value that lost its
//!   attribute), is refused naming the variable and the cell ([`Missing`]).
//! - **Packing.** `scale_factor` and `add_offset` are applied after the
//!   missing-value test, as CF says.
//! - **Units.** The `units` attribute is converted through
//!   [`super::units`]; one the table does not know is refused naming it
//!   and the accepted ones. A variable without `units` (or with an empty
//!   one) is taken to be in the documented unit.

use super::units::{self, Conversion, Quantity};
use crate::error::{Error, Result};
use netcdf::types::{FloatType, IntType, NcVariableType};
use netcdf::AttributeValue;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

/// Longest NetCDF name, bytes (NC_MAX_NAME).
pub const MAX_NAME: usize = 256;

/// Refuse a name the netcdf crate cannot look up safely: empty, longer
/// than 256 bytes, or holding `/` (a group path) or NUL.
pub fn check_name(path: &Path, field: &str, name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_NAME || name.contains(['/', '\0']) {
        return Err(Error::input(
            path,
            field,
            format!(
                "a NetCDF variable name (1 to {MAX_NAME} bytes, no '/' and no NUL); got {name:?}"
            ),
        ));
    }
    Ok(())
}

/// A variable by a (checked) name, or None.
pub fn variable<'f>(
    file: &'f netcdf::File,
    path: &Path,
    name: &str,
) -> Result<Option<netcdf::Variable<'f>>> {
    check_name(path, name, name)?;
    Ok(file.variable(name))
}

/// Open a NetCDF input: a regular file, complete (see the module notes),
/// that the library can read.
pub fn open(path: &Path) -> Result<netcdf::File> {
    let meta = super::regular_file(path)?;
    let len = meta.len();
    let format = match expected_len(path, len) {
        Ok((format, Some(need))) if need > len => {
            return Err(Error::input(
                path,
                "(file)",
                format!(
                    "a complete {format} file: its header needs {need} bytes, the file has {len} ({:.1} %); it was truncated (copy or download it again)",
                    100.0 * len as f64 / need as f64
                ),
            ))
        }
        Ok((format, _)) => format,
        Err(why) => {
            return Err(Error::input(
                path,
                "(file)",
                format!("a NetCDF file with a readable header ({why})"),
            ))
        }
    };
    probe(path)?;
    netcdf::open(path).map_err(|e| {
        let hint = if format == "netCDF-4/HDF5" {
            "; a truncated or damaged netCDF-4 file fails this way"
        } else {
            ""
        };
        Error::input(
            path,
            "(file)",
            format!("a readable NetCDF file ({e}{hint})"),
        )
    })
}

/// The program that reads a NetCDF header in a child process (`airshed
/// __probe-netcdf FILE`), when set.
static PROBE_EXE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Files the child has read whole, so each is probed once per process:
/// by device, inode, length and modification time, so a file replaced
/// under the same name is probed again.
static PROBED: std::sync::Mutex<Vec<FileKey>> = std::sync::Mutex::new(Vec::new());

/// Device, inode, length, modification seconds and nanoseconds.
type FileKey = (u64, u64, u64, i64, i64);

/// Read every NetCDF input's header in a child process of `exe` (the
/// `airshed` binary, which answers `__probe-netcdf FILE` with
/// [`probe_child`]) before opening it here.
pub fn probe_netcdf_with(exe: std::path::PathBuf) {
    let _ = PROBE_EXE.set(exe);
}

/// Refuse `path` if reading its header fails, panics or crashes in a child.
fn probe(path: &Path) -> Result<()> {
    let Some(exe) = PROBE_EXE.get() else {
        return Ok(());
    };
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::input(path, "(file)", format!("a readable file ({e})")))?;
    let key = (
        meta.dev(),
        meta.ino(),
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
    );
    let mut probed = PROBED.lock().unwrap_or_else(|e| e.into_inner());
    if probed.contains(&key) {
        return Ok(());
    }
    let attempt = || -> Result<(std::process::ExitStatus, String)> {
        let child = std::process::Command::new(exe)
            .arg("__probe-netcdf")
            .arg(path)
            // The probe only reads: HDF5's advisory file lock (1.10+) would
            // make it fail while another process holds the file (`main`
            // turns locking off for the whole program too).
            .env("HDF5_USE_FILE_LOCKING", "FALSE")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| {
                Error::input(
                    path,
                    "(file)",
                    format!(
                        "a netCDF-4 file read first in a child process, which could not start ({e})"
                    ),
                )
            })?;
        wait_for_probe(child, path)
    };
    // A damaged header fails every time; one retry keeps a transient
    // failure of a sound file from refusing it. (The "HDF error" once seen
    // in CI was a file lock leaked into another test's child process:
    // locking is now off, `tests/input_files.rs`
    // `a_netcdf4_input_locked_by_another_process_is_still_read`.)
    let (mut status, mut said) = attempt()?;
    if !status.success() && status.code().is_some() {
        std::thread::sleep(std::time::Duration::from_millis(100));
        (status, said) = attempt()?;
    }
    if !status.success() {
        let why = match (said.trim(), status.code()) {
            (w, _) if !w.is_empty() => w.to_string(),
            (_, Some(c)) => format!("the reader exited with code {c}"),
            (_, None) => "the netCDF/HDF5 library crashed reading it".to_string(),
        };
        return Err(Error::input(
            path,
            "(file)",
            format!("a readable NetCDF file: reading its header failed ({why}); a damaged file fails this way"),
        ));
    }
    probed.push(key);
    Ok(())
}

/// How long a header read may take. A sound header, even a WRF file's
/// few hundred variables, reads in well under a second; HDF5 can loop for
/// ever on a damaged one (the fuzz campaign found a variable-length
/// attribute whose global-heap walk never ends).
pub const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Wait for the probe child, killing it after [`PROBE_TIMEOUT`]. Returns
/// its exit status and what it printed.
fn wait_for_probe(
    mut child: std::process::Child,
    path: &Path,
) -> Result<(std::process::ExitStatus, String)> {
    use std::io::Read;
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < PROBE_TIMEOUT => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(50));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::input(
                    path,
                    "(file)",
                    format!(
                        "a readable NetCDF file: the netCDF/HDF5 library had not read its header after {} s and was stopped; a damaged file fails this way",
                        PROBE_TIMEOUT.as_secs()
                    ),
                ));
            }
            Err(e) => {
                let _ = child.kill();
                return Err(Error::input(
                    path,
                    "(file)",
                    format!("a netCDF-4 file read first in a child process, which could not be waited for ({e})"),
                ));
            }
        }
    };
    // The child prints one short line at most, well inside a pipe's buffer,
    // so it cannot block on a full pipe before it exits.
    let mut said = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut said);
    }
    Ok((status, said))
}

/// The child's side of [`probe`]: open `path` and read every group,
/// dimension, variable and attribute (values included, data not). Prints
/// the failure and returns false; a panic in the netcdf crate is caught
/// and reported the same way.
pub fn probe_child(path: &Path) -> bool {
    // Values that do not decode are not failures here: the readers
    // judge what they need. Only a failure to open, a panic or a crash is.
    fn read<'f>(
        attributes: impl Iterator<Item = netcdf::Attribute<'f>>,
        dimensions: impl Iterator<Item = netcdf::Dimension<'f>>,
        variables: impl Iterator<Item = netcdf::Variable<'f>>,
    ) {
        for a in attributes {
            let _ = (a.name(), a.value());
        }
        for d in dimensions {
            let _ = (d.name(), d.len());
        }
        for v in variables {
            let _ = (v.name(), v.vartype(), v.len());
            for d in v.dimensions() {
                let _ = (d.name(), d.len());
            }
            for a in v.attributes() {
                let _ = (a.name(), a.value());
            }
        }
    }
    fn walk(g: &netcdf::Group) {
        read(g.attributes(), g.dimensions(), g.variables());
        for sub in g.groups() {
            walk(&sub);
        }
    }
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(|| -> std::result::Result<(), String> {
        let f = netcdf::open(path).map_err(|e| e.to_string())?;
        // Classic files have no groups: the file is the root.
        match f.root() {
            Some(root) => walk(&root),
            None => read(f.attributes(), f.dimensions(), f.variables()),
        }
        Ok(())
    });
    match result {
        Ok(Ok(())) => true,
        Ok(Err(why)) => {
            println!("{why}");
            false
        }
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            println!("the netcdf crate failed: {msg}");
            false
        }
    }
}

/// The file's format and the length its header promises, if it is a
/// classic or HDF5 file whose header says; Err when a classic header is
/// malformed.
fn expected_len(path: &Path, len: u64) -> std::result::Result<(&'static str, Option<u64>), String> {
    let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut magic = [0u8; 8];
    let n = f.read(&mut magic).map_err(|e| e.to_string())?;
    if n >= 4 && &magic[..3] == b"CDF" {
        f.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
        let need = classic_expected_len(std::io::BufReader::new(f), len)?;
        return Ok(("classic netCDF", need));
    }
    Ok(match hdf5_expected_len(&mut f, len) {
        Some(need) => ("netCDF-4/HDF5", Some(need)),
        None if n == 8 && magic == HDF5_SIGNATURE => ("netCDF-4/HDF5", None),
        None => ("NetCDF", None),
    })
}

const HDF5_SIGNATURE: [u8; 8] = *b"\x89HDF\r\n\x1a\n";

/// End of file promised by an HDF5 superblock (versions 0-3), found at
/// offset 0, 512, 1024, ...; None when there is none or it is undefined.
fn hdf5_expected_len(f: &mut std::fs::File, len: u64) -> Option<u64> {
    let mut at = 0u64;
    while at + 8 <= len {
        let mut b = [0u8; 64];
        f.seek(SeekFrom::Start(at)).ok()?;
        let n = f.read(&mut b).ok()?;
        if n >= 8 && b[..8] == HDF5_SIGNATURE {
            let (size_of_offsets, base_pos) = match b[8] {
                0 => (b[13] as usize, 24),
                1 => (b[13] as usize, 28),
                2 | 3 => (b[9] as usize, 12),
                _ => return None,
            };
            if !matches!(size_of_offsets, 2 | 4 | 8) {
                return None;
            }
            let word = |pos: usize| -> Option<u64> {
                let bytes = b.get(pos..pos + size_of_offsets)?;
                if bytes.iter().all(|&x| x == 0xff) {
                    return None; // undefined address
                }
                Some(
                    bytes
                        .iter()
                        .rev()
                        .fold(0u64, |acc, &x| (acc << 8) | x as u64),
                )
            };
            let base = word(base_pos)?;
            // v0/v1: base, free-space info, end of file; v2/v3: base, extension, end of file.
            let eof = word(base_pos + 2 * size_of_offsets)?;
            return base.checked_add(eof);
        }
        at = if at == 0 { 512 } else { at.checked_mul(2)? };
    }
    None
}

/// A classic header, read field by field (big-endian) with every count
/// bounded by the file length.
struct Header<R: Read> {
    r: R,
    pos: u64,
    len: u64,
    /// CDF-5: 64-bit counts, sizes and dimension ids.
    wide: bool,
}

impl<R: Read> Header<R> {
    fn bytes(&mut self, n: usize) -> std::result::Result<Vec<u8>, String> {
        if self.pos + n as u64 > self.len {
            return Err("the header runs past the end of the file".into());
        }
        let mut b = vec![0u8; n];
        self.r
            .read_exact(&mut b)
            .map_err(|e| format!("header: {e}"))?;
        self.pos += n as u64;
        Ok(b)
    }
    fn u32(&mut self) -> std::result::Result<u64, String> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as u64)
    }
    fn u64(&mut self) -> std::result::Result<u64, String> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&b);
        Ok(u64::from_be_bytes(a))
    }
    /// A count, size or id: 32 bits, 64 in CDF-5.
    fn size(&mut self) -> std::result::Result<u64, String> {
        if self.wide {
            self.u64()
        } else {
            self.u32()
        }
    }
    /// A count of elements that each take at least `min_bytes` of header.
    fn count(&mut self, min_bytes: u64) -> std::result::Result<u64, String> {
        let n = self.size()?;
        if n.saturating_mul(min_bytes) > self.len.saturating_sub(self.pos) {
            return Err(format!("a count of {n} entries the file cannot hold"));
        }
        Ok(n)
    }
    fn skip(&mut self, n: u64) -> std::result::Result<(), String> {
        if self.pos.saturating_add(n) > self.len {
            return Err("the header runs past the end of the file".into());
        }
        let copied = std::io::copy(&mut (&mut self.r).take(n), &mut std::io::sink())
            .map_err(|e| format!("header: {e}"))?;
        if copied != n {
            return Err("the header runs past the end of the file".into());
        }
        self.pos += n;
        Ok(())
    }
    /// A name: checked to be UTF-8 of at most 256 bytes.
    fn name(&mut self) -> std::result::Result<(), String> {
        let n = self.size()?;
        if n as usize > MAX_NAME || n == 0 {
            return Err(format!("a name of {n} bytes"));
        }
        let b = self.bytes(n as usize)?;
        if std::str::from_utf8(&b).is_err() {
            return Err("a name that is not UTF-8".into());
        }
        self.skip((4 - n % 4) % 4)
    }
    /// An attribute list: skipped after checking its tag and sizes.
    fn attributes(&mut self) -> std::result::Result<(), String> {
        let tag = self.u32()?;
        let n = self.count(12)?;
        if !(tag == 0x0C || (tag == 0 && n == 0)) {
            return Err(format!("an attribute list tag {tag:#x}"));
        }
        for _ in 0..n {
            self.name()?;
            let size = type_size(self.u32()?)?;
            let count = self.size()?;
            let bytes = count.checked_mul(size).ok_or("an attribute too large")?;
            self.skip(bytes.div_ceil(4) * 4)?;
        }
        Ok(())
    }
}

/// Bytes of a classic external type (NC_BYTE = 1 ... NC_UINT64 = 11).
fn type_size(t: u64) -> std::result::Result<u64, String> {
    Ok(match t {
        1 | 2 | 7 => 1,
        3 | 8 => 2,
        4 | 5 | 9 => 4,
        6 | 10 | 11 => 8,
        _ => return Err(format!("an unknown type code {t}")),
    })
}

/// The length a classic file needs: the largest end of any variable's
/// data. None for a streaming file (numrecs unknown).
fn classic_expected_len<R: Read>(r: R, len: u64) -> std::result::Result<Option<u64>, String> {
    let mut h = Header {
        r,
        pos: 0,
        len,
        wide: false,
    };
    let magic = h.bytes(4)?;
    let version = magic[3];
    if !matches!(version, 1 | 2 | 5) {
        return Err(format!("an unknown classic version {version}"));
    }
    h.wide = version == 5;
    let numrecs = h.size()?;
    let streaming = if h.wide {
        numrecs == u64::MAX
    } else {
        numrecs == u32::MAX as u64
    };
    // Dimensions.
    let tag = h.u32()?;
    let ndims = h.count(8)?;
    if !(tag == 0x0A || (tag == 0 && ndims == 0)) {
        return Err(format!("a dimension list tag {tag:#x}"));
    }
    let mut dims = Vec::with_capacity(ndims as usize);
    for _ in 0..ndims {
        h.name()?;
        dims.push(h.size()?);
    }
    h.attributes()?;
    // Variables: (is record, data bytes of one record or of all, vsize, begin).
    let tag = h.u32()?;
    let nvars = h.count(16)?;
    if !(tag == 0x0B || (tag == 0 && nvars == 0)) {
        return Err(format!("a variable list tag {tag:#x}"));
    }
    let mut vars = Vec::with_capacity(nvars as usize);
    for _ in 0..nvars {
        h.name()?;
        let nd = h.count(4)?;
        let mut shape = Vec::with_capacity(nd as usize);
        for _ in 0..nd {
            let id = h.size()?;
            shape.push(
                *dims
                    .get(id as usize)
                    .ok_or(format!("a dimension id {id} out of range"))?,
            );
        }
        h.attributes()?;
        let size = type_size(h.u32()?)?;
        let vsize = h.size()?;
        let begin = if version == 1 { h.u32()? } else { h.u64()? };
        let record = shape.first() == Some(&0);
        let skip = usize::from(record);
        let data = shape[skip..]
            .iter()
            .try_fold(size, |a, &d| a.checked_mul(d))
            .ok_or("a variable too large to address")?;
        vars.push((record, data, vsize, begin));
    }
    if streaming {
        return Ok(None);
    }
    // Record size: the record variables' padded sizes, or the one record
    // variable's own size (netCDF's special case).
    let recvars: Vec<_> = vars.iter().filter(|v| v.0).collect();
    let recsize = if recvars.len() == 1 {
        recvars[0].1
    } else {
        recvars
            .iter()
            .try_fold(0u64, |a, v| a.checked_add(v.1.div_ceil(4) * 4))
            .ok_or("a record too large to address")?
    };
    let mut need = h.pos;
    for &(record, data, _vsize, begin) in &vars {
        let end = if record {
            if numrecs == 0 {
                0 // no records: the record section may be absent
            } else {
                (numrecs - 1)
                    .checked_mul(recsize)
                    .and_then(|x| x.checked_add(begin))
                    .and_then(|x| x.checked_add(data))
                    .ok_or("record data too large to address")?
            }
        } else {
            begin.checked_add(data).ok_or("data too large to address")?
        };
        need = need.max(end);
    }
    Ok(Some(need))
}

/// A numeric attribute as f64 values.
fn numbers(v: &netcdf::Variable, name: &str) -> Option<Vec<f64>> {
    Some(match v.attribute_value(name)?.ok()? {
        AttributeValue::Uchar(x) => vec![x as f64],
        AttributeValue::Uchars(x) => x.into_iter().map(f64::from).collect(),
        AttributeValue::Schar(x) => vec![x as f64],
        AttributeValue::Schars(x) => x.into_iter().map(f64::from).collect(),
        AttributeValue::Ushort(x) => vec![x as f64],
        AttributeValue::Ushorts(x) => x.into_iter().map(f64::from).collect(),
        AttributeValue::Short(x) => vec![x as f64],
        AttributeValue::Shorts(x) => x.into_iter().map(f64::from).collect(),
        AttributeValue::Uint(x) => vec![x as f64],
        AttributeValue::Uints(x) => x.into_iter().map(f64::from).collect(),
        AttributeValue::Int(x) => vec![x as f64],
        AttributeValue::Ints(x) => x.into_iter().map(f64::from).collect(),
        AttributeValue::Ulonglong(x) => vec![x as f64],
        AttributeValue::Ulonglongs(x) => x.into_iter().map(|x| x as f64).collect(),
        AttributeValue::Longlong(x) => vec![x as f64],
        AttributeValue::Longlongs(x) => x.into_iter().map(|x| x as f64).collect(),
        AttributeValue::Float(x) => vec![x as f64],
        AttributeValue::Floats(x) => x.into_iter().map(f64::from).collect(),
        AttributeValue::Double(x) => vec![x],
        AttributeValue::Doubles(x) => x,
        AttributeValue::Str(_) | AttributeValue::Strs(_) => return None,
    })
}

/// A text attribute, or None.
pub fn text(v: &netcdf::Variable, name: &str) -> Option<String> {
    match v.attribute_value(name)?.ok()? {
        AttributeValue::Str(s) => Some(s),
        AttributeValue::Strs(s) => Some(s.join(" ")),
        _ => None,
    }
}

/// A global text attribute, or None.
pub fn global_text(f: &netcdf::File, name: &str) -> Option<String> {
    match f.attribute(name)?.value().ok()? {
        AttributeValue::Str(s) => Some(s),
        _ => None,
    }
}

/// NC_FILL_FLOAT, 9.9692099683868690e+36f: the f32 with bits 0x7cf00000.
const NC_FILL_FLOAT: f32 = f32::from_bits(0x7cf0_0000);

/// The netCDF default fill value of a numeric type (netcdf.h NC_FILL_*).
fn default_fill(t: &NcVariableType) -> Option<f64> {
    Some(match t {
        NcVariableType::Float(FloatType::F32) => NC_FILL_FLOAT as f64,
        NcVariableType::Float(FloatType::F64) => 9.969_209_968_386_869e36,
        NcVariableType::Int(IntType::I8) => -127.0,
        NcVariableType::Int(IntType::U8) => 255.0,
        NcVariableType::Int(IntType::I16) => -32767.0,
        NcVariableType::Int(IntType::U16) => 65535.0,
        NcVariableType::Int(IntType::I32) => -2_147_483_647.0,
        NcVariableType::Int(IntType::U32) => 4_294_967_295.0,
        NcVariableType::Int(IntType::I64) => -9_223_372_036_854_775_806.0,
        NcVariableType::Int(IntType::U64) => 18_446_744_073_709_551_614.0,
        _ => return None,
    })
}

/// What marks a value missing in one variable (CF conventions, sec. 2.5.1).
#[derive(Debug, Clone, Default)]
pub struct Missing {
    /// `_FillValue`, or the type's default fill.
    fill: Option<f64>,
    fill_is_default: bool,
    missing: Vec<f64>,
    valid_min: Option<f64>,
    valid_max: Option<f64>,
}

impl Missing {
    pub fn of(var: &netcdf::Variable) -> Missing {
        let explicit = numbers(var, "_FillValue").and_then(|v| v.first().copied());
        let fill_is_default = explicit.is_none();
        let fill = explicit.or_else(|| default_fill(&var.vartype()));
        let range = numbers(var, "valid_range").filter(|r| r.len() == 2);
        let first = |name: &str| numbers(var, name).and_then(|v| v.first().copied());
        Missing {
            fill,
            fill_is_default,
            missing: numbers(var, "missing_value").unwrap_or_default(),
            valid_min: range.as_ref().map(|r| r[0]).or_else(|| first("valid_min")),
            valid_max: range.as_ref().map(|r| r[1]).or_else(|| first("valid_max")),
        }
    }

    /// Why a raw (packed) value is missing, or None when it is valid.
    pub fn why(&self, v: f64) -> Option<String> {
        if !v.is_finite() {
            return Some("not a finite number".into());
        }
        if Some(v) == self.fill {
            return Some(if self.fill_is_default {
                "the netCDF default fill value (a cell never written)".into()
            } else {
                "the _FillValue".into()
            });
        }
        if self.missing.contains(&v) {
            return Some("the missing_value".into());
        }
        if self.valid_min.is_some_and(|lo| v < lo) || self.valid_max.is_some_and(|hi| v > hi) {
            return Some(format!(
                "outside the valid range [{}, {}]",
                self.valid_min.map_or("-".into(), |x| x.to_string()),
                self.valid_max.map_or("-".into(), |x| x.to_string())
            ));
        }
        if (9.9e36..=1e37).contains(&v.abs()) {
            return Some("a fill-like value (magnitude near 9.97e36)".into());
        }
        None
    }
}

/// The conversion of a variable's `units` to the model's unit of
/// `quantity`; the identity when it has none (or an empty one).
pub fn unit_conversion(
    var: &netcdf::Variable,
    path: &Path,
    name: &str,
    quantity: Quantity,
) -> Result<Conversion> {
    let Some(u) = text(var, "units").filter(|u| !u.trim().is_empty()) else {
        return Ok(Conversion::IDENTITY);
    };
    units::conversion(quantity, &u).ok_or_else(|| {
        Error::input(
            path,
            name,
            format!(
                "units of {}; the attribute `units` is {u:?}",
                units::accepted(quantity)
            ),
        )
    })
}

/// Refuse a variable that is not of a numeric type.
pub fn check_numeric(var: &netcdf::Variable, path: &Path, name: &str) -> Result<()> {
    match var.vartype() {
        NcVariableType::Int(_) | NcVariableType::Float(_) => Ok(()),
        other => Err(Error::input(
            path,
            name,
            format!("a numeric variable (integer or floating point); it is of type {other:?}"),
        )),
    }
}

/// Read a hyperslab as model values: numeric type checked, missing values
/// refused naming the cell through `at(flat index)`, unpacked
/// (`scale_factor`, `add_offset`) and converted from its `units` when a
/// `quantity` is given.
pub fn read(
    var: &netcdf::Variable,
    path: &Path,
    name: &str,
    ext: &[Range<usize>],
    quantity: Option<Quantity>,
    at: &dyn Fn(usize) -> String,
) -> Result<Vec<f64>> {
    read_values(var, path, name, ext, quantity, at, false)
}

/// [`read`], but a missing value (see [`Missing`]) becomes NaN instead of
/// an error, for inputs with legitimate gaps (a land-cover raster's
/// unclassified pixels); the caller decides what a NaN means.
pub fn read_or_nan(
    var: &netcdf::Variable,
    path: &Path,
    name: &str,
    ext: &[Range<usize>],
    quantity: Option<Quantity>,
    at: &dyn Fn(usize) -> String,
) -> Result<Vec<f64>> {
    read_values(var, path, name, ext, quantity, at, true)
}

fn read_values(
    var: &netcdf::Variable,
    path: &Path,
    name: &str,
    ext: &[Range<usize>],
    quantity: Option<Quantity>,
    at: &dyn Fn(usize) -> String,
    keep_missing: bool,
) -> Result<Vec<f64>> {
    check_numeric(var, path, name)?;
    let conv = match quantity {
        Some(q) => unit_conversion(var, path, name, q)?,
        None => Conversion::IDENTITY,
    };
    let one = |attr: &str, default: f64, nonzero: bool| -> Result<f64> {
        match numbers(var, attr) {
            None => Ok(default),
            Some(v) if v.len() == 1 && v[0].is_finite() && !(nonzero && v[0] == 0.0) => Ok(v[0]),
            Some(v) => Err(Error::input(
                path,
                format!("{name}:{attr}"),
                format!(
                    "one finite{} number, got {v:?}",
                    if nonzero { ", non-zero" } else { "" }
                ),
            )),
        }
    };
    let (scale, offset) = (
        one("scale_factor", 1.0, true)?,
        one("add_offset", 0.0, false)?,
    );
    let mut vals: Vec<f64> = var
        .get_values::<f64, _>(ext)
        .map_err(|e| Error::input(path, name, format!("numeric values ({e})")))?;
    let missing = Missing::of(var);
    for (i, v) in vals.iter_mut().enumerate() {
        if let Some(why) = missing.why(*v) {
            if keep_missing {
                *v = f64::NAN;
                continue;
            }
            return Err(Error::input(
                path,
                name,
                format!("a value in every cell; {} is {} ({why})", at(i), v),
            ));
        }
        *v = conv.apply(*v * scale + offset);
        if !v.is_finite() {
            return Err(Error::input(
                path,
                name,
                format!(
                    "values that stay finite when unpacked and converted; {} is not",
                    at(i)
                ),
            ));
        }
    }
    Ok(vals)
}

/// Names each flat index of a hyperslab as `(dim=index, ...)`, counting
/// from the start of each range.
pub fn cell_namer(dims: &[(String, Range<usize>)]) -> impl Fn(usize) -> String + '_ {
    move |flat| {
        let mut rest = flat;
        let mut parts = vec![String::new(); dims.len()];
        for (d, (name, r)) in dims.iter().enumerate().rev() {
            let n = r.len().max(1);
            parts[d] = format!("{name}={}", r.start + rest % n);
            rest /= n;
        }
        format!("({})", parts.join(", "))
    }
}

/// Refuse the first value `ok` rejects, naming the variable, the cell
/// (through `at`) and what was expected.
pub fn check_range(
    path: &Path,
    name: &str,
    vals: &[f64],
    ok: impl Fn(f64) -> bool,
    expected: &str,
    at: &dyn Fn(usize) -> String,
) -> Result<()> {
    match vals.iter().position(|&v| !ok(v)) {
        Some(i) => Err(Error::input(
            path,
            name,
            format!("{expected}; {} is {}", at(i), vals[i]),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_would_reach_the_crate_unchecked_are_refused() {
        let p = Path::new("t.nc");
        for bad in ["/x", "../x", "", "a\0b", &"x".repeat(257)] {
            let e = check_name(p, "terrain", bad).unwrap_err().to_string();
            assert!(e.contains("t.nc") && e.contains("terrain"), "{e}");
        }
        assert!(check_name(p, "v", "HGT").is_ok());
    }

    #[test]
    fn cells_are_named_by_dimension() {
        let dims = vec![
            ("time".to_string(), 3..4),
            ("y".to_string(), 0..2),
            ("x".to_string(), 0..5),
        ];
        let at = cell_namer(&dims);
        assert_eq!(at(0), "(time=3, y=0, x=0)");
        assert_eq!(at(7), "(time=3, y=1, x=2)");
    }

    #[test]
    fn missing_values_follow_cf() {
        let m = Missing {
            fill: Some(-999.0),
            fill_is_default: false,
            missing: vec![-1.0],
            valid_min: Some(0.0),
            valid_max: Some(100.0),
        };
        assert!(m.why(-999.0).unwrap().contains("_FillValue"));
        assert!(m.why(-1.0).unwrap().contains("missing_value"));
        assert!(m.why(101.0).unwrap().contains("valid range"));
        assert!(m.why(f64::NAN).is_some());
        assert!(m.why(50.0).is_none());
        // Without _FillValue, the type's default fill (never-written cells).
        let d = Missing {
            fill: default_fill(&NcVariableType::Float(FloatType::F32)),
            fill_is_default: true,
            ..Default::default()
        };
        assert!(d
            .why(NC_FILL_FLOAT as f64)
            .unwrap()
            .contains("default fill"));
    }
}
