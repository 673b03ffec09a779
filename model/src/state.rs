//! The model state: tracer masses per cell and the air mass they ride in.
//!
//! A *tracer* is one (species, tag) pair. Tags are the attribution
//! dimension (region x sector, other, boundary, initial; see
//! `crate::attribution`); an untagged run has one tag, "all". A species
//! carries every tag, or (left out by `attribution.species`) only its bulk;
//! the tracers of one species are adjacent (`tracers_of`), so linear
//! processes loop over tracers blindly and the attribution wrappers find a
//! species' tags as one contiguous range. Boundary inflow belongs to the
//! boundary tag and initial values to the initial tag (an untagged
//! species' bulk takes both); every other tag starts at zero and sees zero
//! inflow.
//!
//! Tracers are stored as mass per cell (kg), laid out [tracer, k, j, i] with i
//! fastest. Mass storage makes conservation a sum and keeps advection in flux
//! form; concentrations are mass / volume and mixing ratios mass / air mass.

use crate::grid::Grid;
use crate::species::Species;
use ndarray::{Array3, Array4, ArrayView3, Axis};

/// What a tag stands for. Emission tags carry what their region and/or
/// sector emits; `Other` what no declared tag covers; `Boundary` the
/// lateral and top inflow; `Initial` the initial values. Together they
/// partition the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    /// The single tag of an untagged run: everything.
    All,
    Emissions,
    Other,
    Boundary,
    Initial,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub kind: TagKind,
    /// The region (feature or group) and sector the tag covers, if any.
    pub region: Option<String>,
    pub sector: Option<String>,
}

impl Tag {
    /// A tag of the given kind with no region or sector.
    pub fn plain(name: &str, kind: TagKind) -> Tag {
        Tag {
            name: name.to_string(),
            kind,
            region: None,
            sector: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TracerSet {
    pub species: Vec<Species>,
    pub tags: Vec<Tag>,
    /// The tags that carry boundary inflow and initial values.
    pub boundary_tag: usize,
    pub initial_tag: usize,
    /// Per species: whether it carries every tag; an untagged species has
    /// one tracer, its bulk (`attribution.species` leaves it out).
    tagged: Vec<bool>,
    /// First tracer of each species, and the tracer count at the end.
    offsets: Vec<usize>,
}

impl TracerSet {
    /// One tag, "all": emissions, inflow and initial values together.
    pub fn new(species: Vec<Species>) -> Self {
        TracerSet::tagged(species, vec![Tag::plain("all", TagKind::All)])
    }

    /// Species x `tags`, with the boundary and initial tags found by kind
    /// (the first `All` tag stands in for either when absent).
    pub fn tagged(species: Vec<Species>, tags: Vec<Tag>) -> Self {
        let find = |kind: TagKind| {
            tags.iter()
                .position(|t| t.kind == kind)
                .or_else(|| tags.iter().position(|t| t.kind == TagKind::All))
                .expect("a boundary and an initial tag, or an `all` tag")
        };
        let (boundary_tag, initial_tag) = (find(TagKind::Boundary), find(TagKind::Initial));
        let all = vec![true; species.len()];
        TracerSet {
            offsets: offsets(&all, tags.len()),
            tagged: all,
            species,
            tags,
            boundary_tag,
            initial_tag,
        }
    }

    /// The same tags on the species where `keep` is true; every other
    /// species is carried as its bulk alone.
    pub fn only_on(mut self, keep: &[bool]) -> Self {
        self.tagged = keep.to_vec();
        self.offsets = offsets(&self.tagged, self.tags.len());
        self
    }

    pub fn len(&self) -> usize {
        self.offsets[self.species.len()]
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn n_tags(&self) -> usize {
        self.tags.len()
    }
    /// True when the run carries more than one tag.
    pub fn is_tagged(&self) -> bool {
        self.tags.len() > 1
    }
    /// True when species `s` carries every tag (not only its bulk).
    pub fn species_is_tagged(&self, s: usize) -> bool {
        self.tagged[s]
    }
    /// The tracer of (species, tag); an untagged species' bulk for any tag.
    pub fn index(&self, species: usize, tag: usize) -> usize {
        if self.tagged[species] {
            self.offsets[species] + tag
        } else {
            self.offsets[species]
        }
    }
    pub fn species_of(&self, tracer: usize) -> &Species {
        &self.species[self.species_index_of(tracer)]
    }
    /// Index of the species of a tracer.
    pub fn species_index_of(&self, tracer: usize) -> usize {
        self.offsets.partition_point(|&o| o <= tracer) - 1
    }
    /// Index of the tag of a tracer (None for an untagged species' bulk).
    pub fn tag_of(&self, tracer: usize) -> Option<usize> {
        let s = self.species_index_of(tracer);
        self.tagged[s].then(|| tracer - self.offsets[s])
    }
    /// The tracers of one species (its tags, or its bulk), a contiguous range.
    pub fn tracers_of(&self, species: usize) -> std::ops::Range<usize> {
        self.offsets[species]..self.offsets[species + 1]
    }
    pub fn species_index(&self, name: &str) -> Option<usize> {
        self.species.iter().position(|s| s.name == name)
    }
    pub fn tag_index(&self, name: &str) -> Option<usize> {
        self.tags.iter().position(|t| t.name == name)
    }
}

/// First tracer of each species (and the total at the end).
fn offsets(tagged: &[bool], ntags: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(tagged.len() + 1);
    let mut at = 0;
    out.push(0);
    for &t in tagged {
        at += if t { ntags } else { 1 };
        out.push(at);
    }
    out
}

#[derive(Debug, Clone)]
pub struct State {
    pub tracers: TracerSet,
    /// Tracer mass per cell, kg, [tracer, k, j, i].
    pub mass: Array4<f64>,
    /// Air mass per cell, kg, [k, j, i]; equals met density x volume at the
    /// start of every step (advection carries it as Easter's pseudo-density).
    pub air_mass: Array3<f64>,
}

impl State {
    pub fn new(grid: &Grid, tracers: TracerSet, density: &Array3<f64>) -> Self {
        let n = tracers.len();
        let air_mass = air_mass_of(grid, density);
        State {
            mass: Array4::zeros((n, grid.nz, grid.ny, grid.nx)),
            tracers,
            air_mass,
        }
    }

    /// Total mass of each tracer, kg, summed in a fixed order.
    pub fn totals(&self) -> Vec<f64> {
        self.mass.outer_iter().map(|m| m.iter().sum()).collect()
    }

    /// Concentration of one tracer, kg/m3.
    pub fn concentration(&self, grid: &Grid, tracer: usize) -> Array3<f64> {
        let mut c = self.mass.index_axis(Axis(0), tracer).to_owned();
        for ((k, j, i), v) in c.indexed_iter_mut() {
            *v /= grid.volume(k, j, i);
        }
        c
    }

    pub fn tracer(&self, tracer: usize) -> ArrayView3<'_, f64> {
        self.mass.index_axis(Axis(0), tracer)
    }
}

/// Air mass per cell = density x volume.
pub fn air_mass_of(grid: &Grid, density: &Array3<f64>) -> Array3<f64> {
    let mut m = Array3::zeros(density.dim());
    air_mass_into(grid, density, &mut m);
    m
}

/// Air mass per cell into an existing array, layers in parallel.
pub fn air_mass_into(grid: &Grid, density: &Array3<f64>, out: &mut Array3<f64>) {
    use rayon::prelude::*;
    let area = grid.area.as_slice().expect("standard layout");
    out.axis_iter_mut(Axis(0))
        .into_par_iter()
        .enumerate()
        .for_each(|(k, mut o)| {
            let d = density.index_axis(Axis(0), k);
            air_mass_of_cells(
                d.as_slice().expect("standard layout"),
                area,
                grid.dz[k],
                o.as_slice_mut().expect("standard layout"),
            );
        });
}

/// Air mass = density x area x layer depth for a run of cells of one layer
/// (`density`, `area` and `out` alike in length and order).
pub fn air_mass_of_cells(density: &[f64], area: &[f64], dz: f64, out: &mut [f64]) {
    for ((o, &d), &a) in out.iter_mut().zip(density).zip(area) {
        *o = d * a * dz;
    }
}
