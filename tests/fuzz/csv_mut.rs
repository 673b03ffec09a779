//! Structure-aware mutations of an inventory or station CSV: the seed is
//! split into a header and rows of fields; mutations drop, add, duplicate,
//! reorder or rename columns, set fields to extreme numbers or hostile
//! strings, drop, repeat, blank or cut rows, and (on the text) add a BOM,
//! CRLF line ends, stray bytes or cut the file short.

use super::rng::Rng;
use super::values;

#[derive(Debug, Clone)]
pub enum CsvOp {
    DropColumn(usize),
    DuplicateColumn(usize),
    AddColumn(String, String),
    /// Swap two columns, header and values alike.
    SwapColumns(usize, usize),
    /// Swap two header names only (the values stay).
    SwapHeaders(usize, usize),
    RenameHeader(usize, String),
    SetField(usize, usize, String),
    DropRow(usize),
    DuplicateRow(usize, usize),
    BlankLine(usize),
    CommentLine(usize),
    /// Keep only the first n fields of a row.
    TruncateRow(usize, usize),
    ExtraField(usize, String),
    Quote(usize, usize),
    // On the text:
    Bom,
    Crlf,
    TruncateBytes(f64),
    FlipByte(f64, u8),
    InsertBytes(f64, Vec<u8>),
}

#[derive(Debug, Clone)]
pub struct CsvDoc {
    header: Vec<String>,
    /// Rows of fields; a row of one field starting with `#` is a comment,
    /// an empty row a blank line.
    rows: Vec<Vec<String>>,
    text_ops: Vec<CsvOp>,
}

const HEADER_NAMES: &[&str] = &[
    "city",
    "lon",
    "lat",
    "radius_km",
    "sector",
    "species",
    "t_per_yr",
    "source",
    "name",
    "height_m",
    "diameter_m",
    "velocity_m_s",
    "temperature_k",
    "rate",
    "units",
    "hour",
    "station",
    "speed_ms",
    "direction_deg",
    "LON",
    " lat",
    "\u{feff}city",
    "",
];

fn field_value(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=4 => rng.pick(values::NUMBER_TEXT).to_string(),
        5 => rng.pick(values::CSV_ONLY_NUMBERS).to_string(),
        6 | 7 => rng.pick(values::DOMAIN_WORDS).to_string(),
        8 => rng.pick(values::UNITS).to_string(),
        _ => values::weird_string(rng),
    }
}

impl CsvDoc {
    pub fn parse(text: &str) -> CsvDoc {
        let mut lines = text.lines();
        let header = lines
            .next()
            .unwrap_or("")
            .split(',')
            .map(String::from)
            .collect();
        CsvDoc {
            header,
            rows: lines
                .map(|l| l.split(',').map(String::from).collect())
                .collect(),
            text_ops: vec![],
        }
    }

    pub fn draw(&self, rng: &mut Rng) -> CsvOp {
        let ncol = self.header.len().max(1);
        let nrow = self.rows.len().max(1);
        match rng.weighted(&[6, 4, 4, 4, 3, 4, 40, 4, 3, 3, 2, 4, 3, 2, 2, 2, 3, 3, 2]) {
            0 => CsvOp::DropColumn(rng.below(ncol)),
            1 => CsvOp::DuplicateColumn(rng.below(ncol)),
            2 => CsvOp::AddColumn(rng.pick(HEADER_NAMES).to_string(), field_value(rng)),
            3 => CsvOp::SwapColumns(rng.below(ncol), rng.below(ncol)),
            4 => CsvOp::SwapHeaders(rng.below(ncol), rng.below(ncol)),
            5 => CsvOp::RenameHeader(rng.below(ncol), rng.pick(HEADER_NAMES).to_string()),
            6 => CsvOp::SetField(rng.below(nrow), rng.below(ncol), field_value(rng)),
            7 => CsvOp::DropRow(rng.below(nrow)),
            8 => CsvOp::DuplicateRow(rng.below(nrow), *rng.pick(&[1, 2, 100, 2000])),
            9 => CsvOp::BlankLine(rng.below(nrow + 1)),
            10 => CsvOp::CommentLine(rng.below(nrow + 1)),
            11 => CsvOp::TruncateRow(rng.below(nrow), rng.below(ncol)),
            12 => CsvOp::ExtraField(rng.below(nrow), field_value(rng)),
            13 => CsvOp::Quote(rng.below(nrow), rng.below(ncol)),
            14 => CsvOp::Bom,
            15 => CsvOp::Crlf,
            16 => CsvOp::TruncateBytes(rng.unit()),
            17 => CsvOp::FlipByte(rng.unit(), (rng.below(255) + 1) as u8),
            _ => CsvOp::InsertBytes(
                rng.unit(),
                rng.pick(&[
                    &b"\0"[..],
                    b"\"",
                    b"\r",
                    b"\n",
                    b",",
                    b"\xff\xfe",
                    b"\xc3",
                    b"#",
                ])
                .to_vec(),
            ),
        }
    }

    pub fn apply(&mut self, op: &CsvOp) -> bool {
        let ncol = self.header.len();
        let nrow = self.rows.len();
        match op {
            CsvOp::DropColumn(c) if *c < ncol => {
                self.header.remove(*c);
                for r in &mut self.rows {
                    if *c < r.len() && !is_comment(r) {
                        r.remove(*c);
                    }
                }
            }
            CsvOp::DuplicateColumn(c) if *c < ncol => {
                let h = self.header[*c].clone();
                self.header.push(h);
                for r in &mut self.rows {
                    if let Some(v) = r.get(*c).cloned() {
                        if !is_comment(r) {
                            r.push(v);
                        }
                    }
                }
            }
            CsvOp::AddColumn(name, value) => {
                self.header.push(name.clone());
                for r in &mut self.rows {
                    if !r.is_empty() && !is_comment(r) {
                        r.push(value.clone());
                    }
                }
            }
            CsvOp::SwapColumns(a, b) if *a < ncol && *b < ncol => {
                self.header.swap(*a, *b);
                for r in &mut self.rows {
                    if *a < r.len() && *b < r.len() && !is_comment(r) {
                        r.swap(*a, *b);
                    }
                }
            }
            CsvOp::SwapHeaders(a, b) if *a < ncol && *b < ncol => self.header.swap(*a, *b),
            CsvOp::RenameHeader(c, name) if *c < ncol => self.header[*c] = name.clone(),
            CsvOp::SetField(r, c, v) if *r < nrow && *c < self.rows[*r].len() => {
                self.rows[*r][*c] = v.clone()
            }
            CsvOp::DropRow(r) if *r < nrow => {
                self.rows.remove(*r);
            }
            CsvOp::DuplicateRow(r, times) if *r < nrow => {
                let row = self.rows[*r].clone();
                for _ in 0..*times {
                    self.rows.insert(*r, row.clone());
                }
            }
            CsvOp::BlankLine(r) if *r <= nrow => self.rows.insert(*r, vec![]),
            CsvOp::CommentLine(r) if *r <= nrow => self
                .rows
                .insert(*r, vec!["# a comment, with a comma".into()]),
            CsvOp::TruncateRow(r, keep) if *r < nrow => self.rows[*r].truncate(*keep),
            CsvOp::ExtraField(r, v) if *r < nrow => self.rows[*r].push(v.clone()),
            CsvOp::Quote(r, c) if *r < nrow && *c < self.rows[*r].len() => {
                let v = &mut self.rows[*r][*c];
                *v = format!("\"{v}\"");
            }
            CsvOp::Bom
            | CsvOp::Crlf
            | CsvOp::TruncateBytes(_)
            | CsvOp::FlipByte(..)
            | CsvOp::InsertBytes(..) => self.text_ops.push(op.clone()),
            _ => return false,
        }
        true
    }

    pub fn render(&self) -> Vec<u8> {
        let mut text = self.header.join(",");
        text.push('\n');
        for r in &self.rows {
            text.push_str(&r.join(","));
            text.push('\n');
        }
        let mut bytes = text.into_bytes();
        for op in &self.text_ops {
            let at = |f: f64, len: usize| ((f * len as f64) as usize).min(len);
            match op {
                CsvOp::Bom => bytes.splice(0..0, [0xef, 0xbb, 0xbf]).for_each(drop),
                CsvOp::Crlf => {
                    let mut out = Vec::with_capacity(bytes.len() * 11 / 10);
                    for &b in &bytes {
                        if b == b'\n' {
                            out.push(b'\r');
                        }
                        out.push(b);
                    }
                    bytes = out;
                }
                CsvOp::TruncateBytes(f) => bytes.truncate(at(*f, bytes.len())),
                CsvOp::FlipByte(f, x) if !bytes.is_empty() => {
                    let i = at(*f, bytes.len() - 1);
                    bytes[i] ^= x;
                }
                CsvOp::InsertBytes(f, b) => {
                    let i = at(*f, bytes.len());
                    bytes.splice(i..i, b.iter().copied()).for_each(drop);
                }
                _ => {}
            }
        }
        bytes
    }
}

fn is_comment(r: &[String]) -> bool {
    r.len() == 1 && r[0].starts_with('#')
}
