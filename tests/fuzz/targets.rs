//! The fuzz targets (one per reader), how an input is drawn (a seed case
//! plus a list of mutations, the recipe) and how a recipe becomes files.
//! A recipe replays exactly, and any subset of its mutations replays too
//! (mutations that no longer fit are skipped), which is what minimising
//! a crash needs.

use super::csv_mut::{CsvDoc, CsvOp};
use super::nc::{self, NcOp};
use super::rng::Rng;
use super::seeds::{self, SeedCase, SeedFile};
use super::toml_mut::{TPath, TomlDoc, TomlOp};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    CaseToml,
    CityCsv,
    StackCsv,
    GriddedNc,
    CfMetNc,
    WrfNc,
    ReanalysisNc,
    StationsCsv,
    TerrainNc,
}

pub const ALL: [Target; 9] = [
    Target::CaseToml,
    Target::CityCsv,
    Target::StackCsv,
    Target::GriddedNc,
    Target::CfMetNc,
    Target::WrfNc,
    Target::ReanalysisNc,
    Target::StationsCsv,
    Target::TerrainNc,
];

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::CaseToml => "case-toml",
            Target::CityCsv => "city-csv",
            Target::StackCsv => "stack-csv",
            Target::GriddedNc => "gridded-nc",
            Target::CfMetNc => "cf-met-nc",
            Target::WrfNc => "wrf-nc",
            Target::ReanalysisNc => "reanalysis-nc",
            Target::StationsCsv => "stations-csv",
            Target::TerrainNc => "terrain-nc",
        }
    }

    pub fn named(name: &str) -> Option<Target> {
        ALL.into_iter().find(|t| t.name() == name.trim())
    }

    /// The seed cases this target mutates (None: all of them).
    fn seeds(self) -> Option<&'static [&'static str]> {
        Some(match self {
            Target::CaseToml => return None,
            Target::CityCsv | Target::StackCsv => &["analytic", "attribution"],
            Target::GriddedNc => &["gridded"],
            Target::CfMetNc => &["cf-met"],
            Target::WrfNc => &["wrf", "wrf-regridded"],
            Target::ReanalysisNc => &["reanalysis", "reanalysis-diagnostic"],
            Target::StationsCsv => &["stations"],
            Target::TerrainNc => &["terrain"],
        })
    }

    /// The file the target mutates.
    pub fn file(self) -> &'static str {
        match self {
            Target::CaseToml => "case.toml",
            Target::CityCsv => "city.csv",
            Target::StackCsv => "stacks.csv",
            Target::GriddedNc => "area.nc",
            Target::CfMetNc => "met.nc",
            Target::WrfNc => "wrfout.nc",
            Target::ReanalysisNc => "era.nc",
            Target::StationsCsv => "stations.csv",
            Target::TerrainNc => "terrain.nc",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Ops {
    Toml(Vec<TomlOp>),
    Csv(Vec<CsvOp>),
    Nc(Vec<NcOp>),
}

impl Ops {
    pub fn len(&self) -> usize {
        match self {
            Ops::Toml(o) => o.len(),
            Ops::Csv(o) => o.len(),
            Ops::Nc(o) => o.len(),
        }
    }

    /// The same mutations without the i-th.
    pub fn without(&self, i: usize) -> Ops {
        fn drop<T: Clone>(v: &[T], i: usize) -> Vec<T> {
            v.iter()
                .enumerate()
                .filter(|(k, _)| *k != i)
                .map(|(_, x)| x.clone())
                .collect()
        }
        match self {
            Ops::Toml(o) => Ops::Toml(drop(o, i)),
            Ops::Csv(o) => Ops::Csv(drop(o, i)),
            Ops::Nc(o) => Ops::Nc(drop(o, i)),
        }
    }

    /// One mutation per line, for the notes saved with a crash.
    pub fn describe(&self) -> String {
        fn lines<T: std::fmt::Debug>(v: &[T]) -> String {
            v.iter()
                .map(|o| {
                    let s = format!("{o:?}");
                    if s.len() > 300 {
                        let mut at = 300;
                        while !s.is_char_boundary(at) {
                            at -= 1;
                        }
                        format!("{}... ({} chars)", &s[..at], s.len())
                    } else {
                        s
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
        match self {
            Ops::Toml(o) => lines(o),
            Ops::Csv(o) => lines(o),
            Ops::Nc(o) => lines(o),
        }
    }
}

/// One input: a target, the seed case it starts from, the mutations.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub target: Target,
    pub seed: usize,
    pub ops: Ops,
}

/// The seed cases, with their NetCDF files written once.
pub struct Seeds {
    pub cases: Vec<SeedCase>,
    bytes: HashMap<(usize, &'static str), Vec<u8>>,
    /// Every (table, key, literal) of every seed case file.
    dictionary: Vec<(TPath, String, String)>,
}

impl Seeds {
    pub fn new(scratch: &Path) -> Seeds {
        let cases = seeds::all();
        let mut bytes = HashMap::new();
        let mut dictionary = Vec::new();
        for (c, case) in cases.iter().enumerate() {
            dictionary.extend(TomlDoc::parse(&case.toml).keys());
            for (name, file) in &case.files {
                let b = match file {
                    SeedFile::Text(t) => t.clone().into_bytes(),
                    SeedFile::Nc(doc) => {
                        let p = scratch.join(format!("seed-{c}-{name}"));
                        nc::write(doc, &p).unwrap_or_else(|e| panic!("seed {name}: {e}"));
                        let b = std::fs::read(&p).unwrap();
                        std::fs::remove_file(&p).unwrap();
                        b
                    }
                };
                bytes.insert((c, *name), b);
            }
        }
        Seeds {
            cases,
            bytes,
            dictionary,
        }
    }

    fn index(&self, name: &str) -> usize {
        self.cases.iter().position(|c| c.name == name).unwrap()
    }

    /// Draw an input of `target`.
    pub fn generate(&self, target: Target, rng: &mut Rng) -> Recipe {
        let seed = match target.seeds() {
            Some(names) => {
                let name: &&str = rng.pick(names);
                self.index(name)
            }
            None => rng.below(self.cases.len()),
        };
        let n = rng.count(6);
        let case = &self.cases[seed];
        let ops = match target {
            Target::CaseToml => {
                let mut doc = TomlDoc::parse(&case.toml);
                let mut ops = Vec::with_capacity(n);
                for _ in 0..n {
                    let op = doc.draw(rng, &self.dictionary);
                    doc.apply(&op);
                    ops.push(op);
                }
                Ops::Toml(ops)
            }
            _ => match self.seed_file(seed, target.file()) {
                SeedFile::Text(text) => {
                    let mut doc = CsvDoc::parse(text);
                    let mut ops = Vec::with_capacity(n);
                    for _ in 0..n {
                        let op = doc.draw(rng);
                        doc.apply(&op);
                        ops.push(op);
                    }
                    Ops::Csv(ops)
                }
                SeedFile::Nc(seed_doc) => {
                    let mut doc = seed_doc.clone();
                    let mut ops = Vec::with_capacity(n);
                    for _ in 0..n {
                        let op = doc.draw(rng);
                        doc.apply(&op);
                        ops.push(op);
                    }
                    Ops::Nc(ops)
                }
            },
        };
        Recipe { target, seed, ops }
    }

    fn seed_file(&self, seed: usize, name: &str) -> &SeedFile {
        &self.cases[seed]
            .files
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("seed {} has no {name}", self.cases[seed].name))
            .1
    }

    /// Write the recipe's case and files into `dir` (emptied first). An
    /// error means the netcdf library refused to write the structure: the
    /// input is skipped.
    pub fn materialize(&self, r: &Recipe, dir: &Path) -> Result<(), String> {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| e.to_string())?;
        }
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let case = &self.cases[r.seed];
        let toml = match &r.ops {
            Ops::Toml(ops) => {
                let mut doc = TomlDoc::parse(&case.toml);
                for op in ops {
                    doc.apply(op);
                }
                doc.render()
            }
            _ => case.toml.clone(),
        };
        std::fs::write(dir.join("case.toml"), toml).map_err(|e| e.to_string())?;
        for (name, file) in &case.files {
            let path = dir.join(name);
            let mutated = *name == r.target.file();
            match (&r.ops, file) {
                (Ops::Csv(ops), SeedFile::Text(text)) if mutated => {
                    let mut doc = CsvDoc::parse(text);
                    for op in ops {
                        doc.apply(op);
                    }
                    std::fs::write(&path, doc.render())
                }
                (Ops::Nc(ops), SeedFile::Nc(seed_doc)) if mutated => {
                    if ops.iter().all(NcOp::on_bytes) {
                        std::fs::write(&path, &self.bytes[&(r.seed, *name)])
                            .map_err(|e| e.to_string())?;
                    } else {
                        let mut doc = seed_doc.clone();
                        for op in ops {
                            doc.apply(op);
                        }
                        nc::write(&doc, &path)?;
                    }
                    nc::apply_bytes(&path, ops)
                }
                _ => std::fs::write(&path, &self.bytes[&(r.seed, *name)]),
            }
            .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
