//! Failure classes still open on the code this harness was written
//! against (issue 14). The short campaign tolerates a panic, hang or crash
//! only when it matches an entry here; the regression replay expects each
//! entry's `regression` directory to fail, and fails when it no longer
//! does, so the list is emptied as the fixes land. It must be empty
//! before issue 14 closes.

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

pub const KNOWN_OPEN: &[Known] = &[
    // Panics in check.
    Known {
        id: "wrf: index out of bounds (0 records, or staggered dimensions not checked)",
        kind: "panic",
        location: "model/src/met/wrf.rs",
        message: "index out of bounds",
        regression: Some("wrf-zero-records"),
    },
    Known {
        id: "wrf: staggered dimensions not checked against the mass dimensions",
        kind: "panic",
        location: "model/src/met/wrf.rs",
        message: "index out of bounds",
        regression: Some("wrf-bottom-top-stag-short"),
    },
    Known {
        id: "wrf: staggered dimensions not checked (lengths swapped)",
        kind: "panic",
        location: "model/src/met/wrf.rs",
        message: "index out of bounds",
        regression: Some("wrf-stag-lengths-swapped"),
    },
    Known {
        id: "wrf: staggered dimensions not checked (bottom_top_stag = 0)",
        kind: "panic",
        location: "model/src/met/wrf.rs",
        message: "index out of bounds",
        regression: Some("wrf-bottom-top-stag-zero"),
    },
    Known {
        id: "wrf: DateStrLen of length 0 (chunk size must be non-zero)",
        kind: "panic",
        location: "model/src/met/wrf.rs",
        message: "chunk size",
        regression: Some("wrf-datestrlen-zero"),
    },
    Known {
        id: "reanalysis: coordinate lengths not checked against the fields' dimensions",
        kind: "panic",
        location: "model/src/met/reanalysis.rs",
        message: "dims checked",
        regression: Some("reanalysis-height-on-time-dimension"),
    },
    Known {
        id: "netcdf crate: expect on a dimension name that is not UTF-8",
        kind: "panic",
        location: "netcdf-0.12.1/src/dimension.rs",
        message: "valid name",
        regression: Some("netcdf-dimension-name-not-utf8"),
    },
    Known {
        id: "netcdf crate: expect on a variable name that is not UTF-8",
        kind: "panic",
        location: "netcdf-0.12.1/src/variable.rs",
        message: "invalid sequence",
        regression: Some("netcdf-variable-name-not-utf8"),
    },
    Known {
        id: "netcdf crate: unwrap in File::variable on a name it cannot look up",
        kind: "panic",
        location: "netcdf-0.12.1/src/file.rs",
        message: "unwrap",
        regression: Some("terrain-variable-name-too-long"),
    },
    Known {
        id: "netcdf crate: unwrap in File::attribute on a corrupt netCDF-4 file",
        kind: "panic",
        location: "netcdf-0.12.1/src/file.rs",
        message: "unwrap",
        regression: Some("wrf-attribute-lookup-unwrap"),
    },
    Known {
        id: "netcdf crate: a NUL in a variable name",
        kind: "panic",
        location: "netcdf-0.12.1/src/lib.rs",
        message: "copy_from_slice",
        regression: Some("terrain-variable-name-with-nul"),
    },
    Known {
        id: "readers size buffers from a corrupt header (capacity overflow)",
        kind: "panic",
        location: "rust/library/alloc",
        message: "capacity overflow",
        regression: Some("reanalysis-coordinate-capacity-overflow"),
    },
    // Hangs (location: the target).
    Known {
        id: "terrain obstacle search unbounded: tiny or huge grid spacing, huge radius_km",
        kind: "hang",
        location: "case-toml",
        message: "check of",
        regression: Some("terrain-search-radius-tiny-dy"),
    },
    Known {
        id: "terrain obstacle search counts metres in degrees on a lat-lon grid",
        kind: "hang",
        location: "case-toml",
        message: "check of",
        regression: Some("diagnostic-terrain-on-latlon-grid"),
    },
    Known {
        id:
            "run: unbounded work that check accepts (1 m cells, tiny dt_s or intervals, huge winds)",
        kind: "hang",
        location: "case-toml",
        message: "run of",
        regression: Some("run-one-metre-cells"),
    },
    Known {
        id: "wrf: winds not range-checked, the run sub-steps without end",
        kind: "hang",
        location: "wrf-nc",
        message: "run of",
        regression: Some("run-wrf-wind-1e30"),
    },
    Known {
        id: "reanalysis: winds not range-checked, the run sub-steps without end",
        kind: "hang",
        location: "reanalysis-nc",
        message: "run of",
        regression: None,
    },
    Known {
        id: "libnetcdf: nc_open of a corrupt header allocates GBs for seconds",
        kind: "hang",
        location: "-nc",
        message: "check of",
        regression: None,
    },
    // Crashes of the worker process.
    Known {
        id: "libnetcdf 4.9.0: SIGSEGV in nc_open on a corrupt classic/CDF-5 header",
        kind: "crash",
        location: "-nc",
        message: "segfault",
        regression: Some("libnetcdf-segfault-corrupt-header"),
    },
    Known {
        id: "libnetcdf 4.9.0: SIGSEGV in nc_open after a failed allocation (memory limit)",
        kind: "crash",
        location: "-nc",
        message: "segfault",
        regression: Some("libnetcdf-segfault-after-malloc-failure"),
    },
    Known {
        id: "libnetcdf 4.9.0: SIGFPE in nc_open on a corrupt classic/CDF-5 header",
        kind: "crash",
        location: "-nc",
        message: "signal 8",
        regression: Some("libnetcdf-sigfpe-corrupt-header"),
    },
    Known {
        id: "libnetcdf 4.9.0 / HDF5 1.10.8: heap corruption opening a corrupt netCDF-4 file after another one",
        kind: "crash",
        location: "-nc",
        message: "abort (SIGABRT)",
        regression: Some("libnetcdf-heap-corruption-after-another-file"),
    },
    Known {
        id: "wrf: Times read with the length a corrupt header gives (abort on allocation)",
        kind: "crash",
        location: "",
        message: "memory allocation failed",
        regression: Some("wrf-corrupt-header-huge-allocation"),
    },
    Known {
        id: "CSV readers read /dev/zero without bound",
        kind: "crash",
        location: "",
        message: "memory allocation failed",
        regression: Some("city-totals-dev-zero"),
    },
];

/// The entry a failure class matches, if any.
pub fn matching(kind: &str, location: &str, via: &str, message: &str) -> Option<&'static Known> {
    KNOWN_OPEN.iter().find(|k| {
        k.kind == kind
            && (location.contains(k.location) || (!via.is_empty() && via.contains(k.location)))
            && message.contains(k.message)
    })
}
