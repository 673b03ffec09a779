//! Structure-aware mutations of a case file. The seed is parsed into a
//! `toml::Table`; a mutation removes, adds, retypes or replaces a value
//! (numbers by extremes, strings by hostile or domain words, arrays
//! emptied or grown) and the table is written back. Replacement values
//! are raw TOML literals, so `nan`, `-0.0`, `5e-324` and integers beyond
//! i64 reach the parser exactly as written. A few mutations work on the
//! text instead (duplicate or delete a line, truncate, insert a stray
//! line), which is how duplicate keys and syntax errors are made.

use super::rng::Rng;
use super::values;
use toml::{Table, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Key(String),
    Idx(usize),
}

pub type TPath = Vec<Seg>;

#[derive(Debug, Clone)]
pub enum TomlOp {
    Remove(TPath),
    /// Replace the value with a raw TOML literal.
    Set(TPath, String),
    /// Add `key = literal` to the table at the path.
    Add(TPath, String, String),
    DupElem(TPath, usize),
    DelElem(TPath, usize),
    Swap(TPath, TPath),
    // On the rendered text (line or character at a fraction of the text):
    DupLine(f64),
    DelLine(f64),
    Truncate(f64),
    InsertLine(f64, String),
    SetChar(f64, char),
}

/// A case file being mutated: the table, the raw literals it refers to,
/// and the text mutations to apply once it is written out.
#[derive(Debug, Clone)]
pub struct TomlDoc {
    table: Table,
    literals: Vec<String>,
    text_ops: Vec<TomlOp>,
}

fn placeholder(n: usize) -> String {
    format!("@@LIT{n}@@")
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Num,
    Str,
    Bool,
    Array,
    Table,
    Other,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Integer(_) | Value::Float(_) => Kind::Num,
        Value::String(s) if s.starts_with("@@LIT") => Kind::Other,
        Value::String(_) => Kind::Str,
        Value::Boolean(_) => Kind::Bool,
        Value::Array(_) => Kind::Array,
        Value::Table(_) => Kind::Table,
        _ => Kind::Other,
    }
}

fn walk(v: &Value, path: &mut TPath, out: &mut Vec<(TPath, Kind)>) {
    out.push((path.clone(), kind(v)));
    match v {
        Value::Table(t) => {
            for (k, v) in t {
                path.push(Seg::Key(k.clone()));
                walk(v, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                path.push(Seg::Idx(i));
                walk(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn get<'a>(t: &'a Table, path: &[Seg]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let Seg::Key(k) = first else { return None };
    let mut v = t.get(k)?;
    for s in rest {
        v = match (s, v) {
            (Seg::Key(k), Value::Table(t)) => t.get(k)?,
            (Seg::Idx(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

fn get_mut<'a>(t: &'a mut Table, path: &[Seg]) -> Option<&'a mut Value> {
    let (first, rest) = path.split_first()?;
    let Seg::Key(k) = first else { return None };
    let mut v = t.get_mut(k)?;
    for s in rest {
        v = match (s, v) {
            (Seg::Key(k), Value::Table(t)) => t.get_mut(k)?,
            (Seg::Idx(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

/// A literal of some other type than the value had.
fn other_type_literal(rng: &mut Rng) -> String {
    match rng.below(11) {
        0 => "\"s\"".into(),
        1 => "true".into(),
        2 => "[]".into(),
        3 => "{}".into(),
        4 => "1".into(),
        5 => "1.5".into(),
        6 => "1979-05-27T07:32:00Z".into(),
        7 => "[1, \"a\"]".into(),
        8 => "{ a = 1 }".into(),
        9 => "\"\"".into(),
        _ => format!("{}{}", "[".repeat(2000), "]".repeat(2000)),
    }
}

fn string_literal(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// Increasing numbers (for layer tops) or repeats of one value.
fn long_array(v: &[Value], n: usize) -> String {
    let items: Vec<String> = match v.first() {
        Some(Value::Integer(_)) | Some(Value::Float(_)) | None => {
            (1..=n).map(|i| format!("{}.0", 10 * i)).collect()
        }
        Some(x) => (0..n).map(|_| x.to_string()).collect(),
    };
    format!("[{}]", items.join(", "))
}

/// A value near the current one: sign, scale, truncation.
fn nearby_literal(v: &Value, rng: &mut Rng) -> String {
    let x = match v {
        Value::Integer(i) => *i as f64,
        Value::Float(f) => *f,
        _ => 1.0,
    };
    let y = match rng.below(7) {
        0 => -x,
        1 => x * 1000.0,
        2 => x / 1000.0,
        3 => x + 0.5,
        4 => x.trunc() + 1.0,
        5 => x * 1e-300,
        _ => x * 1e300,
    };
    let s = format!("{y:?}");
    match s.as_str() {
        "NaN" => "nan".into(),
        "inf" => "inf".into(),
        "-inf" => "-inf".into(),
        _ => s,
    }
}

const STRAY_LINES: &[&str] = &[
    "[run]",
    "[[grid]]",
    "x =",
    "= 1",
    "\"unterminated",
    "[met",
    "a.b.c = 1",
    "run.hours = 2",
    "\u{feff}",
    "\0",
    "[grid.x]",
    "nx = 5",
    "[physics]",
    "hours = 2",
];

const STRAY_CHARS: &[char] = &[
    '"', '[', ']', '=', '\n', '#', '\\', '\0', '{', 'x', '.', '\'',
];

impl TomlDoc {
    pub fn parse(text: &str) -> TomlDoc {
        TomlDoc {
            table: text.parse::<Table>().expect("seed case parses"),
            literals: vec![],
            text_ops: vec![],
        }
    }

    fn nodes(&self) -> Vec<(TPath, Kind)> {
        let mut out = Vec::new();
        let mut path = Vec::new();
        for (k, v) in &self.table {
            path.push(Seg::Key(k.clone()));
            walk(v, &mut path, &mut out);
            path.pop();
        }
        out
    }

    /// Every (table path, key, literal) of the doc: what `Add` draws from.
    pub fn keys(&self) -> Vec<(TPath, String, String)> {
        let mut out = Vec::new();
        for (path, kind) in self.nodes() {
            if kind == Kind::Table || matches!(path.last(), Some(Seg::Idx(_))) {
                continue;
            }
            if let (Some(Seg::Key(k)), Some(v)) = (path.last(), get(&self.table, &path)) {
                out.push((path[..path.len() - 1].to_vec(), k.clone(), v.to_string()));
            }
        }
        out
    }

    /// Draw one mutation for the doc as it is now.
    pub fn draw(&self, rng: &mut Rng, dictionary: &[(TPath, String, String)]) -> TomlOp {
        let nodes = self.nodes();
        if nodes.is_empty() {
            return TomlOp::InsertLine(rng.unit(), rng.pick(STRAY_LINES).to_string());
        }
        let of = |k: Kind| -> Vec<&TPath> {
            nodes
                .iter()
                .filter(|(_, kk)| *kk == k)
                .map(|(p, _)| p)
                .collect()
        };
        let nums = of(Kind::Num);
        let strs = of(Kind::Str);
        let arrays = of(Kind::Array);
        let tables: Vec<TPath> = std::iter::once(vec![])
            .chain(of(Kind::Table).into_iter().cloned())
            .collect();
        let pick_any = |rng: &mut Rng| nodes[rng.below(nodes.len())].0.clone();
        match rng.weighted(&[12, 30, 8, 12, 8, 8, 4, 10, 8]) {
            0 => TomlOp::Remove(pick_any(rng)),
            1 if !nums.is_empty() => TomlOp::Set(
                rng.pick(&nums).to_vec(),
                rng.pick(values::NUMBER_TEXT).to_string(),
            ),
            1 => TomlOp::Set(pick_any(rng), rng.pick(values::NUMBER_TEXT).to_string()),
            2 => TomlOp::Set(pick_any(rng), other_type_literal(rng)),
            3 if !strs.is_empty() => TomlOp::Set(
                rng.pick(&strs).to_vec(),
                string_literal(&values::string_value(rng)),
            ),
            4 if !dictionary.is_empty() && rng.chance(0.85) => {
                let (table, key, lit) = rng.pick(dictionary).clone();
                TomlOp::Add(table, key, lit)
            }
            4 => TomlOp::Add(rng.pick(&tables).clone(), "zz_unknown".into(), "1".into()),
            5 if !arrays.is_empty() => {
                let path = rng.pick(&arrays).to_vec();
                let len = match get(&self.table, &path) {
                    Some(Value::Array(a)) => a.len(),
                    _ => 0,
                };
                match rng.below(4) {
                    0 if len > 0 => TomlOp::DupElem(path, rng.below(len)),
                    1 if len > 0 => TomlOp::DelElem(path, rng.below(len)),
                    2 => TomlOp::Set(path, "[]".into()),
                    _ => {
                        let items = match get(&self.table, &path) {
                            Some(Value::Array(a)) => a.clone(),
                            _ => vec![],
                        };
                        let n = *rng.pick(&[2, 257, 300, 1000]);
                        TomlOp::Set(path, long_array(&items, n))
                    }
                }
            }
            6 if nodes.len() > 1 => TomlOp::Swap(pick_any(rng), pick_any(rng)),
            7 => match rng.below(5) {
                0 => TomlOp::DupLine(rng.unit()),
                1 => TomlOp::DelLine(rng.unit()),
                2 => TomlOp::Truncate(rng.unit()),
                3 => TomlOp::InsertLine(rng.unit(), rng.pick(STRAY_LINES).to_string()),
                _ => TomlOp::SetChar(rng.unit(), *rng.pick(STRAY_CHARS)),
            },
            8 if !nums.is_empty() => {
                let path = rng.pick(&nums).to_vec();
                let lit = nearby_literal(get(&self.table, &path).unwrap(), rng);
                TomlOp::Set(path, lit)
            }
            _ => TomlOp::Set(pick_any(rng), rng.pick(values::NUMBER_TEXT).to_string()),
        }
    }

    /// Apply a mutation; false when it no longer fits the doc (a path
    /// another mutation removed), in which case nothing changes.
    pub fn apply(&mut self, op: &TomlOp) -> bool {
        match op {
            TomlOp::Remove(path) => self.remove(path).is_some(),
            TomlOp::Set(path, lit) => {
                let n = self.literals.len();
                match get_mut(&mut self.table, path) {
                    Some(v) => {
                        *v = Value::String(placeholder(n));
                        self.literals.push(lit.clone());
                        true
                    }
                    None => false,
                }
            }
            TomlOp::Add(table, key, lit) => {
                let n = self.literals.len();
                let t = if table.is_empty() {
                    Some(&mut self.table)
                } else {
                    match get_mut(&mut self.table, table) {
                        Some(Value::Table(t)) => Some(t),
                        _ => None,
                    }
                };
                match t {
                    Some(t) => {
                        t.insert(key.clone(), Value::String(placeholder(n)));
                        self.literals.push(lit.clone());
                        true
                    }
                    None => false,
                }
            }
            TomlOp::DupElem(path, i) => match get_mut(&mut self.table, path) {
                Some(Value::Array(a)) if *i < a.len() => {
                    let x = a[*i].clone();
                    a.insert(*i, x);
                    true
                }
                _ => false,
            },
            TomlOp::DelElem(path, i) => match get_mut(&mut self.table, path) {
                Some(Value::Array(a)) if *i < a.len() => {
                    a.remove(*i);
                    true
                }
                _ => false,
            },
            TomlOp::Swap(a, b) => {
                if a.starts_with(b) || b.starts_with(a) {
                    return false;
                }
                let (Some(va), Some(vb)) =
                    (get(&self.table, a).cloned(), get(&self.table, b).cloned())
                else {
                    return false;
                };
                *get_mut(&mut self.table, a).unwrap() = vb;
                *get_mut(&mut self.table, b).unwrap() = va;
                true
            }
            _ => {
                self.text_ops.push(op.clone());
                true
            }
        }
    }

    fn remove(&mut self, path: &[Seg]) -> Option<Value> {
        let (last, parent) = path.split_last()?;
        let container = if parent.is_empty() {
            return match last {
                Seg::Key(k) => self.table.remove(k),
                Seg::Idx(_) => None,
            };
        } else {
            get_mut(&mut self.table, parent)?
        };
        match (last, container) {
            (Seg::Key(k), Value::Table(t)) => t.remove(k),
            (Seg::Idx(i), Value::Array(a)) if *i < a.len() => Some(a.remove(*i)),
            _ => None,
        }
    }

    /// The case file text.
    pub fn render(&self) -> String {
        let mut text = toml::to_string(&self.table).unwrap_or_default();
        for (n, lit) in self.literals.iter().enumerate().rev() {
            let p = placeholder(n);
            text = text
                .replace(&format!("\"{p}\""), lit)
                .replace(&format!("'{p}'"), lit);
        }
        for op in &self.text_ops {
            text = text_op(&text, op);
        }
        text
    }
}

fn line_at(lines: &[&str], frac: f64) -> usize {
    ((frac * lines.len() as f64) as usize).min(lines.len().saturating_sub(1))
}

fn char_boundary(text: &str, frac: f64) -> usize {
    let mut at = ((frac * text.len() as f64) as usize).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn text_op(text: &str, op: &TomlOp) -> String {
    let lines: Vec<&str> = text.lines().collect();
    match op {
        TomlOp::DupLine(f) if !lines.is_empty() => {
            let i = line_at(&lines, *f);
            let mut l = lines.clone();
            l.insert(i, lines[i]);
            l.join("\n") + "\n"
        }
        TomlOp::DelLine(f) if !lines.is_empty() => {
            let mut l = lines.clone();
            l.remove(line_at(&lines, *f));
            l.join("\n") + "\n"
        }
        TomlOp::InsertLine(f, s) => {
            let mut l = lines.clone();
            let i = ((*f * (lines.len() + 1) as f64) as usize).min(lines.len());
            l.insert(i, s);
            l.join("\n") + "\n"
        }
        TomlOp::Truncate(f) => text[..char_boundary(text, *f)].to_string(),
        TomlOp::SetChar(f, c) if !text.is_empty() => {
            let at = char_boundary(text, *f);
            let mut s = text[..at].to_string();
            s.push(*c);
            let rest = &text[at..];
            let mut chars = rest.chars();
            chars.next();
            s.push_str(chars.as_str());
            s
        }
        _ => text.to_string(),
    }
}
