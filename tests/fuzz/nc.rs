//! NetCDF inputs as data: dimensions, variables (type, dimensions,
//! attributes, values) and global attributes, written with the netcdf
//! crate. The seeds are valid files of each kind; a mutation changes the
//! structure (dimension lengths 0, 1, off by one or swapped; variables
//! missing, extra, renamed, retyped or re-dimensioned; attributes such as
//! `units`, `_FillValue`, `missing_value`, `scale_factor`, WRF's `TRUELAT1`
//! or `MAP_PROJ`), the values (NaN, inf, 1e30, fill values in some cells,
//! whole fields scaled or reversed, `Times` strings), the format, or the
//! written bytes (cut at a fraction of the file, bytes flipped in the header).

use super::rng::Rng;
use super::values;
use netcdf::types::{FloatType, IntType, NcVariableType};
use netcdf::{AttributeValue, Options};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    Classic,
    Offset64,
    Cdf5,
    Nc4,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ty {
    F64,
    F32,
    I32,
    I16,
    I8,
    U8,
    I64,
    Char,
}

const TYPES: [Ty; 8] = [
    Ty::F64,
    Ty::F32,
    Ty::I32,
    Ty::I16,
    Ty::I8,
    Ty::U8,
    Ty::I64,
    Ty::Char,
];

impl Ty {
    fn nc(self) -> NcVariableType {
        match self {
            Ty::F64 => NcVariableType::Float(FloatType::F64),
            Ty::F32 => NcVariableType::Float(FloatType::F32),
            Ty::I32 => NcVariableType::Int(IntType::I32),
            Ty::I16 => NcVariableType::Int(IntType::I16),
            Ty::I8 => NcVariableType::Int(IntType::I8),
            Ty::U8 => NcVariableType::Int(IntType::U8),
            Ty::I64 => NcVariableType::Int(IntType::I64),
            Ty::Char => NcVariableType::Char,
        }
    }
}

/// NetCDF's `char`, for `Times` and other text variables.
#[repr(transparent)]
#[derive(Debug, Clone, Copy)]
struct NcChar(u8);

// SAFETY: a one-byte transparent wrapper, as the netcdf crate's docs show
// for NC_CHAR.
unsafe impl netcdf::NcTypeDescriptor for NcChar {
    fn type_descriptor() -> NcVariableType {
        NcVariableType::Char
    }
}

#[derive(Debug, Clone)]
pub enum Attr {
    Str(String),
    /// Numbers written in the variable's own type for `_FillValue`,
    /// `missing_value` and `valid_*`, as doubles otherwise.
    Num(Vec<f64>),
    F64(Vec<f64>),
    F32(Vec<f32>),
    I32(Vec<i32>),
}

#[derive(Debug, Clone)]
pub struct Dim {
    pub name: String,
    pub len: usize,
    pub unlimited: bool,
}

#[derive(Debug, Clone)]
pub struct Var {
    pub name: String,
    pub ty: Ty,
    pub dims: Vec<String>,
    pub attrs: Vec<(String, Attr)>,
    /// Values of numeric variables (cycled or cut to the dimensions' size).
    pub data: Vec<f64>,
    /// Bytes of char variables.
    pub text: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct NcDoc {
    pub format: Format,
    pub dims: Vec<Dim>,
    pub vars: Vec<Var>,
    pub attrs: Vec<(String, Attr)>,
}

impl NcDoc {
    pub fn new(format: Format) -> NcDoc {
        NcDoc {
            format,
            dims: vec![],
            vars: vec![],
            attrs: vec![],
        }
    }

    pub fn dim(&mut self, name: &str, len: usize) -> &mut Self {
        self.dims.push(Dim {
            name: name.into(),
            len,
            unlimited: false,
        });
        self
    }

    pub fn unlimited(&mut self, name: &str, len: usize) -> &mut Self {
        self.dims.push(Dim {
            name: name.into(),
            len,
            unlimited: true,
        });
        self
    }

    pub fn global(&mut self, name: &str, a: Attr) -> &mut Self {
        self.attrs.push((name.into(), a));
        self
    }

    fn dim_len(&self, name: &str) -> Option<usize> {
        self.dims.iter().find(|d| d.name == name).map(|d| d.len)
    }

    /// A variable whose value at each index (row-major over its
    /// dimensions) is `f(index)`.
    pub fn var(
        &mut self,
        name: &str,
        dims: &[&str],
        units: &str,
        f: impl Fn(&[usize]) -> f64,
    ) -> &mut Var {
        let lens: Vec<usize> = dims.iter().map(|d| self.dim_len(d).unwrap()).collect();
        let n: usize = lens.iter().product();
        let mut data = Vec::with_capacity(n);
        let mut idx = vec![0; lens.len()];
        for _ in 0..n {
            data.push(f(&idx));
            for k in (0..lens.len()).rev() {
                idx[k] += 1;
                if idx[k] < lens[k] {
                    break;
                }
                idx[k] = 0;
            }
        }
        let mut attrs = vec![];
        if !units.is_empty() {
            attrs.push(("units".to_string(), Attr::Str(units.into())));
        }
        self.vars.push(Var {
            name: name.into(),
            ty: Ty::F64,
            dims: dims.iter().map(|d| d.to_string()).collect(),
            attrs,
            data,
            text: vec![],
        });
        self.vars.last_mut().unwrap()
    }

    pub fn text_var(&mut self, name: &str, dims: &[&str], text: &[u8]) {
        self.vars.push(Var {
            name: name.into(),
            ty: Ty::Char,
            dims: dims.iter().map(|d| d.to_string()).collect(),
            attrs: vec![],
            data: vec![],
            text: text.to_vec(),
        });
    }

    fn var_index(&self, name: &str) -> Option<usize> {
        self.vars.iter().position(|v| v.name == name)
    }

    fn size_of(&self, v: &Var) -> usize {
        v.dims
            .iter()
            .map(|d| self.dim_len(d).unwrap_or(0))
            .product()
    }

    fn largest_var(&self) -> usize {
        self.vars.iter().map(|v| self.size_of(v)).max().unwrap_or(0)
    }
}

impl Var {
    pub fn attr(&mut self, name: &str, a: Attr) -> &mut Self {
        self.attrs.retain(|(n, _)| n != name);
        self.attrs.push((name.into(), a));
        self
    }
}

fn cycle<T: Copy>(data: &[T], n: usize, pad: T) -> Vec<T> {
    if data.is_empty() {
        return vec![pad; n];
    }
    (0..n).map(|i| data[i % data.len()]).collect()
}

fn attr_value(a: &Attr, ty: Option<Ty>, name: &str) -> AttributeValue {
    let typed = matches!(
        name,
        "_FillValue" | "missing_value" | "valid_range" | "valid_min" | "valid_max"
    );
    match a {
        Attr::Str(s) => AttributeValue::Str(s.clone()),
        Attr::F64(v) => AttributeValue::Doubles(v.clone()),
        Attr::F32(v) => AttributeValue::Floats(v.clone()),
        Attr::I32(v) => AttributeValue::Ints(v.clone()),
        Attr::Num(v) => match ty.filter(|_| typed) {
            Some(Ty::F32) => AttributeValue::Floats(v.iter().map(|&x| x as f32).collect()),
            Some(Ty::I32) => AttributeValue::Ints(v.iter().map(|&x| x as i32).collect()),
            Some(Ty::I16) => AttributeValue::Shorts(v.iter().map(|&x| x as i16).collect()),
            Some(Ty::I8) => AttributeValue::Schars(v.iter().map(|&x| x as i8).collect()),
            Some(Ty::U8) => AttributeValue::Uchars(v.iter().map(|&x| x as u8).collect()),
            Some(Ty::I64) => AttributeValue::Longlongs(v.iter().map(|&x| x as i64).collect()),
            Some(Ty::Char) => AttributeValue::Str(
                v.iter()
                    .map(|&x| char::from((x as u8).clamp(32, 126)))
                    .collect(),
            ),
            _ => AttributeValue::Doubles(v.clone()),
        },
    }
}

/// Write the file; an error means the netcdf library would not write this
/// structure (say a `ubyte` in a classic file) and the input is skipped.
pub fn write(doc: &NcDoc, path: &Path) -> Result<(), String> {
    let e = |x: netcdf::Error| x.to_string();
    let opts = match doc.format {
        Format::Classic => Options::empty(),
        Format::Offset64 => Options::_64BIT_OFFSET,
        Format::Cdf5 => Options::_64BIT_DATA,
        Format::Nc4 => Options::NETCDF4,
    };
    let mut f = netcdf::create_with(path, opts).map_err(e)?;
    for d in &doc.dims {
        if d.unlimited {
            f.add_unlimited_dimension(&d.name).map_err(e)?;
        } else {
            f.add_dimension(&d.name, d.len).map_err(e)?;
        }
    }
    for (n, a) in &doc.attrs {
        f.add_attribute(n, attr_value(a, None, n)).map_err(e)?;
    }
    for v in &doc.vars {
        let dims: Vec<&str> = v.dims.iter().map(String::as_str).collect();
        let mut var = f
            .add_variable_with_type(&v.name, &dims, &v.ty.nc())
            .map_err(e)?;
        for (n, a) in &v.attrs {
            var.put_attribute(n, attr_value(a, Some(v.ty), n))
                .map_err(e)?;
        }
    }
    if doc.format != Format::Nc4 {
        f.enddef().map_err(e)?;
    }
    for v in &doc.vars {
        let ext: Vec<std::ops::Range<usize>> = v
            .dims
            .iter()
            .map(|d| 0..doc.dim_len(d).unwrap_or(0))
            .collect();
        let n: usize = ext.iter().map(|r| r.end).product();
        if n == 0 {
            continue;
        }
        let mut var = f.variable_mut(&v.name).ok_or("variable vanished")?;
        let d = &v.data;
        let ext = ext.as_slice();
        match v.ty {
            Ty::F64 => var.put_values(&cycle(d, n, 0.0), ext),
            Ty::F32 => {
                let x: Vec<f32> = cycle(d, n, 0.0).iter().map(|&v| v as f32).collect();
                var.put_values(&x, ext)
            }
            Ty::I32 => {
                let x: Vec<i32> = cycle(d, n, 0.0).iter().map(|&v| v as i32).collect();
                var.put_values(&x, ext)
            }
            Ty::I16 => {
                let x: Vec<i16> = cycle(d, n, 0.0).iter().map(|&v| v as i16).collect();
                var.put_values(&x, ext)
            }
            Ty::I8 => {
                let x: Vec<i8> = cycle(d, n, 0.0).iter().map(|&v| v as i8).collect();
                var.put_values(&x, ext)
            }
            Ty::U8 => {
                let x: Vec<u8> = cycle(d, n, 0.0).iter().map(|&v| v as u8).collect();
                var.put_values(&x, ext)
            }
            Ty::I64 => {
                let x: Vec<i64> = cycle(d, n, 0.0).iter().map(|&v| v as i64).collect();
                var.put_values(&x, ext)
            }
            Ty::Char => {
                let text: Vec<u8> = if v.text.is_empty() {
                    d.iter().map(|&x| x as u8).collect()
                } else {
                    v.text.clone()
                };
                let x: Vec<NcChar> = cycle(&text, n, b' ').into_iter().map(NcChar).collect();
                var.put_values(&x, ext)
            }
        }
        .map_err(e)?;
    }
    f.close().map_err(e)?;
    Ok(())
}

#[derive(Debug, Clone)]
pub enum NcOp {
    Format(Format),
    DimLen(String, usize),
    SwapDimLens(String, String),
    Unlimited(String, bool),
    RenameDim(String, String),
    VarDims(String, Vec<String>),
    RemoveVar(String),
    CopyVar(String, String),
    RenameVar(String, String),
    VarType(String, Ty),
    /// Set an attribute of a variable, or a global one (None).
    SetAttr(Option<String>, String, Attr),
    RemoveAttr(Option<String>, String),
    /// Values at fractions of the variable's length.
    SetCells(String, Vec<(f64, f64)>),
    SetAll(String, f64),
    Scale(String, f64),
    Reverse(String),
    /// Overwrite bytes of a char variable at a fraction of its length.
    SetText(String, f64, Vec<u8>),
    // On the written file:
    Truncate(f64),
    /// (offset, xor) pairs; offsets wrap at the file length.
    FlipBytes(Vec<(usize, u8)>),
}

impl NcOp {
    pub fn on_bytes(&self) -> bool {
        matches!(self, NcOp::Truncate(_) | NcOp::FlipBytes(_))
    }
}

/// Variable names the readers look for: copies and renames aim at them.
const READER_NAMES: &[&str] = &[
    "u",
    "v",
    "temperature",
    "pressure",
    "pblh",
    "ustar",
    "obukhov_length",
    "sensible_heat_flux",
    "precip",
    "kz",
    "z0",
    "land_use",
    "relative_humidity",
    "cloud_water",
    "time",
    "lat",
    "lon",
    "height",
    "U",
    "V",
    "PH",
    "PHB",
    "P",
    "PB",
    "T",
    "QVAPOR",
    "QCLOUD",
    "HGT",
    "PBLH",
    "UST",
    "HFX",
    "RAINC",
    "RAINNC",
    "LU_INDEX",
    "ZNT",
    "Times",
    "terrain_height",
    "extra",
    "x",
];

const VAR_ATTRS: &[&str] = &[
    "units",
    "units",
    "units",
    "_FillValue",
    "_FillValue",
    "missing_value",
    "scale_factor",
    "add_offset",
    "valid_range",
    "valid_min",
    "valid_max",
    "species",
    "sector",
    "long_name",
    "axis",
    "positive",
    "calendar",
];

const GLOBAL_ATTRS: &[&str] = &[
    "MAP_PROJ",
    "TRUELAT1",
    "TRUELAT2",
    "STAND_LON",
    "CEN_LAT",
    "CEN_LON",
    "DX",
    "DY",
    "MMINLU",
    "Conventions",
];

const TEXT_EDITS: &[&[u8]] = &[
    b"2023-01-20_24:00:00",
    b"",
    b"\0\0\0\0",
    b"\xff\xfe\xfd",
    b"2023-01-20_00:00:00",
    b"2023-13-45_99:99:99",
    b"garbage",
    b"2023-01-20T01:00:00",
    b"1970-01-01_00:00:00",
    b"9999-12-31_23:59:59",
];

fn attr_for(name: &str, var: Option<&Var>, rng: &mut Rng) -> Attr {
    let num = |rng: &mut Rng| *rng.pick(values::NUMBER_VALUES);
    match name {
        "units" if rng.chance(0.9) => Attr::Str(rng.pick(values::UNITS).to_string()),
        "species" | "sector" | "MMINLU" | "long_name" | "axis" | "positive" | "calendar"
        | "Conventions" => Attr::Str(values::string_value(rng)),
        "_FillValue" | "missing_value" => match rng.below(10) {
            // A value some cells really hold: those cells become "missing".
            0..=3 => {
                let d = var.map(|v| v.data.as_slice()).unwrap_or(&[]);
                Attr::Num(vec![if d.is_empty() { 0.0 } else { *rng.pick(d) }])
            }
            4..=7 => Attr::Num(vec![num(rng)]),
            8 => Attr::F64(vec![num(rng)]),
            _ => Attr::Str("-999".into()),
        },
        "valid_range" => {
            let (a, b) = (num(rng), num(rng));
            Attr::Num(vec![a.min(b), a.max(b)])
        }
        "scale_factor" | "add_offset" => match rng.below(4) {
            0 => Attr::F32(vec![*rng.pick(&[0.0f32, 1e-3, 1000.0, -1.0])]),
            1 => Attr::Str("1".into()),
            _ => Attr::F64(vec![*rng.pick(&[0.0, f64::NAN, 1e30, -1.0, 1e-3, 1000.0])]),
        },
        _ => match rng.below(6) {
            0 => Attr::Str(values::string_value(rng)),
            1 => Attr::I32(vec![*rng.pick(&[0, 1, 2, 3, 6, -1, i32::MAX])]),
            2 => Attr::F64(vec![]),
            _ => Attr::F64(vec![*rng.pick(&[
                f64::NAN,
                f64::INFINITY,
                0.0,
                90.0,
                -90.0,
                1.5,
                -1.0,
                1e300,
                1e-300,
                45.0,
                -45.0,
                180.0,
                12000.0,
            ])]),
        },
    }
}

impl NcDoc {
    pub fn draw(&self, rng: &mut Rng) -> NcOp {
        let var_names: Vec<&str> = self.vars.iter().map(|v| v.name.as_str()).collect();
        let dim_names: Vec<&str> = self.dims.iter().map(|d| d.name.as_str()).collect();
        if var_names.is_empty() || dim_names.is_empty() {
            return NcOp::Truncate(rng.unit());
        }
        let var = |rng: &mut Rng| rng.pick(&var_names).to_string();
        let dim = |rng: &mut Rng| rng.pick(&dim_names).to_string();
        match rng.weighted(&[3, 8, 2, 1, 1, 5, 5, 2, 2, 4, 22, 3, 14, 3, 3, 2, 4, 8, 7]) {
            0 => NcOp::Format(*rng.pick(&[
                Format::Classic,
                Format::Offset64,
                Format::Cdf5,
                Format::Nc4,
            ])),
            1 => {
                let d = dim(rng);
                let len = self.dim_len(&d).unwrap();
                let other = self.dims[rng.below(self.dims.len())].len;
                let new = *rng.pick(&[0, 1, len.saturating_sub(1), len + 1, 2 * len, other, 3]);
                // Keep files small: no variable above 300k values.
                let mut trial = self.clone();
                trial.apply(&NcOp::DimLen(d.clone(), new));
                if trial.largest_var() > 300_000 {
                    NcOp::DimLen(d, len + 1)
                } else {
                    NcOp::DimLen(d, new)
                }
            }
            2 => NcOp::SwapDimLens(dim(rng), dim(rng)),
            3 => NcOp::Unlimited(dim(rng), rng.chance(0.5)),
            4 => NcOp::RenameDim(
                dim(rng),
                rng.pick(&["x", "y", "z", "time", "Time", "lat", "lon", "level", "w"])
                    .to_string(),
            ),
            5 => {
                let v = var(rng);
                let mut dims = self.vars[self.var_index(&v).unwrap()].dims.clone();
                match rng.below(4) {
                    0 if dims.len() >= 2 => {
                        let (a, b) = (rng.below(dims.len()), rng.below(dims.len()));
                        dims.swap(a, b);
                    }
                    1 if !dims.is_empty() => {
                        dims.remove(rng.below(dims.len()));
                    }
                    2 if !dims.is_empty() => {
                        let i = rng.below(dims.len());
                        dims[i] = dim(rng);
                    }
                    _ => {
                        let i = rng.below(dims.len() + 1);
                        dims.insert(i, dim(rng));
                    }
                }
                NcOp::VarDims(v, dims)
            }
            6 => NcOp::RemoveVar(var(rng)),
            7 => NcOp::CopyVar(var(rng), rng.pick(READER_NAMES).to_string()),
            8 => NcOp::RenameVar(var(rng), rng.pick(READER_NAMES).to_string()),
            9 => NcOp::VarType(var(rng), *rng.pick(&TYPES)),
            10 => {
                let v = var(rng);
                let name = rng.pick(VAR_ATTRS).to_string();
                let a = attr_for(&name, self.vars.get(self.var_index(&v).unwrap()), rng);
                NcOp::SetAttr(Some(v), name, a)
            }
            11 => {
                if !self.attrs.is_empty() && rng.chance(0.5) {
                    let name = self.attrs[rng.below(self.attrs.len())].0.clone();
                    let a = attr_for(&name, None, rng);
                    NcOp::SetAttr(None, name, a)
                } else if rng.chance(0.5) {
                    let name = rng.pick(GLOBAL_ATTRS).to_string();
                    let a = attr_for(&name, None, rng);
                    NcOp::SetAttr(None, name, a)
                } else {
                    let v = var(rng);
                    let attrs = &self.vars[self.var_index(&v).unwrap()].attrs;
                    if attrs.is_empty() {
                        NcOp::RemoveAttr(None, rng.pick(GLOBAL_ATTRS).to_string())
                    } else {
                        let name = attrs[rng.below(attrs.len())].0.clone();
                        NcOp::RemoveAttr(Some(v), name)
                    }
                }
            }
            12 => {
                let v = var(rng);
                let n = rng.count(4);
                let fill = self.vars[self.var_index(&v).unwrap()]
                    .attrs
                    .iter()
                    .find_map(|(n, a)| match (n.as_str(), a) {
                        ("_FillValue" | "missing_value", Attr::Num(x)) => x.first().copied(),
                        _ => None,
                    });
                let cells = (0..n)
                    .map(|_| {
                        let val = match fill {
                            Some(f) if rng.chance(0.3) => f,
                            _ => *rng.pick(values::NUMBER_VALUES),
                        };
                        (rng.unit(), val)
                    })
                    .collect();
                NcOp::SetCells(v, cells)
            }
            13 => NcOp::SetAll(var(rng), *rng.pick(values::NUMBER_VALUES)),
            14 => NcOp::Scale(
                var(rng),
                *rng.pick(&[1e3, 1e-3, -1.0, 0.0, 3.6, 100.0, 1e30, 0.01]),
            ),
            15 => NcOp::Reverse(var(rng)),
            16 => {
                let text: Vec<&str> = self
                    .vars
                    .iter()
                    .filter(|v| v.ty == Ty::Char)
                    .map(|v| v.name.as_str())
                    .collect();
                if text.is_empty() {
                    NcOp::SetCells(var(rng), vec![(rng.unit(), f64::NAN)])
                } else {
                    NcOp::SetText(
                        rng.pick(&text).to_string(),
                        rng.unit(),
                        rng.pick(TEXT_EDITS).to_vec(),
                    )
                }
            }
            17 => NcOp::Truncate(rng.unit()),
            _ => {
                let n = rng.count(4);
                NcOp::FlipBytes(
                    (0..n)
                        .map(|_| {
                            let at = if rng.chance(0.7) {
                                rng.below(1024)
                            } else {
                                rng.next_u64() as u32 as usize
                            };
                            (at, (rng.below(255) + 1) as u8)
                        })
                        .collect(),
                )
            }
        }
    }

    /// Apply a structural or value mutation (byte mutations are applied
    /// by [`apply_bytes`] after writing); false when it no longer fits.
    pub fn apply(&mut self, op: &NcOp) -> bool {
        let vi = |doc: &NcDoc, name: &str| doc.var_index(name);
        match op {
            NcOp::Format(f) => self.format = *f,
            NcOp::DimLen(d, len) => match self.dims.iter_mut().find(|x| &x.name == d) {
                Some(x) => x.len = *len,
                None => return false,
            },
            NcOp::SwapDimLens(a, b) => {
                let (Some(la), Some(lb)) = (self.dim_len(a), self.dim_len(b)) else {
                    return false;
                };
                for d in &mut self.dims {
                    if &d.name == a {
                        d.len = lb;
                    } else if &d.name == b {
                        d.len = la;
                    }
                }
            }
            NcOp::Unlimited(d, on) => match self.dims.iter_mut().find(|x| &x.name == d) {
                Some(x) => x.unlimited = *on,
                None => return false,
            },
            NcOp::RenameDim(d, to) => {
                if self.dim_len(d).is_none() {
                    return false;
                }
                for x in &mut self.dims {
                    if &x.name == d {
                        x.name = to.clone();
                    }
                }
                for v in &mut self.vars {
                    for x in &mut v.dims {
                        if x == d {
                            *x = to.clone();
                        }
                    }
                }
            }
            NcOp::VarDims(v, dims) => match vi(self, v) {
                Some(i) => self.vars[i].dims = dims.clone(),
                None => return false,
            },
            NcOp::RemoveVar(v) => match vi(self, v) {
                Some(i) => {
                    self.vars.remove(i);
                }
                None => return false,
            },
            NcOp::CopyVar(v, to) => match vi(self, v) {
                Some(i) if vi(self, to).is_none() => {
                    let mut x = self.vars[i].clone();
                    x.name = to.clone();
                    self.vars.push(x);
                }
                _ => return false,
            },
            NcOp::RenameVar(v, to) => match vi(self, v) {
                Some(i) if vi(self, to).is_none() => self.vars[i].name = to.clone(),
                _ => return false,
            },
            NcOp::VarType(v, ty) => match vi(self, v) {
                Some(i) => self.vars[i].ty = *ty,
                None => return false,
            },
            NcOp::SetAttr(None, name, a) => {
                self.attrs.retain(|(n, _)| n != name);
                self.attrs.push((name.clone(), a.clone()));
            }
            NcOp::SetAttr(Some(v), name, a) => match vi(self, v) {
                Some(i) => {
                    self.vars[i].attr(name, a.clone());
                }
                None => return false,
            },
            NcOp::RemoveAttr(None, name) => {
                let n = self.attrs.len();
                self.attrs.retain(|(x, _)| x != name);
                return self.attrs.len() < n;
            }
            NcOp::RemoveAttr(Some(v), name) => match vi(self, v) {
                Some(i) => {
                    let attrs = &mut self.vars[i].attrs;
                    let n = attrs.len();
                    attrs.retain(|(x, _)| x != name);
                    return attrs.len() < n;
                }
                None => return false,
            },
            NcOp::SetCells(v, cells) => match vi(self, v) {
                Some(i) if !self.vars[i].data.is_empty() => {
                    let d = &mut self.vars[i].data;
                    let n = d.len();
                    for &(f, x) in cells {
                        d[((f * n as f64) as usize).min(n - 1)] = x;
                    }
                }
                _ => return false,
            },
            NcOp::SetAll(v, x) => match vi(self, v) {
                Some(i) => self.vars[i].data.iter_mut().for_each(|d| *d = *x),
                None => return false,
            },
            NcOp::Scale(v, by) => match vi(self, v) {
                Some(i) => self.vars[i].data.iter_mut().for_each(|d| *d *= by),
                None => return false,
            },
            NcOp::Reverse(v) => match vi(self, v) {
                Some(i) => self.vars[i].data.reverse(),
                None => return false,
            },
            NcOp::SetText(v, f, bytes) => match vi(self, v) {
                Some(i) => {
                    let t = &mut self.vars[i].text;
                    let at = ((f * t.len() as f64) as usize).min(t.len());
                    let end = (at + bytes.len()).min(t.len());
                    t.splice(at..end, bytes.iter().copied()).for_each(drop);
                }
                None => return false,
            },
            NcOp::Truncate(_) | NcOp::FlipBytes(_) => {}
        }
        true
    }
}

/// Apply the byte mutations of `ops` to a written file.
pub fn apply_bytes(path: &Path, ops: &[NcOp]) -> std::io::Result<()> {
    if !ops.iter().any(NcOp::on_bytes) {
        return Ok(());
    }
    let mut bytes = std::fs::read(path)?;
    for op in ops {
        match op {
            NcOp::Truncate(f) => {
                let at = ((f * bytes.len() as f64) as usize).min(bytes.len());
                bytes.truncate(at);
            }
            NcOp::FlipBytes(flips) if !bytes.is_empty() => {
                for &(at, x) in flips {
                    let n = bytes.len();
                    bytes[at % n] ^= x;
                }
            }
            _ => {}
        }
    }
    std::fs::write(path, bytes)
}
