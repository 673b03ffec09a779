//! Tags from the case: the areas (regions from the GeoJSON and the groups
//! declared over them), the tag list (region x sector, region alone or
//! sector alone, then `other`, `boundary` and `initial`), the routing of
//! every inventory entry to its tags, and the receptors the tables report.
//!
//! Routing by where an emission is:
//! - a city-total row goes wholly to the tagged area that contains its
//!   city (by name; by the city centre when no region has that name);
//! - a gridded cell is split by the fraction of the cell each tagged area
//!   covers, the uncovered rest going to `other`;
//! - a stack goes to the tagged area that contains it.
//!
//! An emission whose sector has no tag, or whose place no tagged area
//! covers, goes to `other`, so the tags always partition the total.

use super::regions::RegionMap;
use crate::config::{AttributionSpec, Case, SectorTags};
use crate::emissions::{CellEmission, Inventory, Origin};
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::species::Species;
use crate::state::{Tag, TagKind, TracerSet};
use ndarray::Array2;

/// A named area: one region of the GeoJSON, or a group of them.
#[derive(Debug, Clone)]
pub struct Area {
    pub name: String,
    /// Indices of its regions in the [`RegionMap`].
    pub members: Vec<usize>,
    /// Fraction of each cell inside the area, [j, i].
    pub coverage: Array2<f64>,
}

/// What a receptor is, for deciding which tags are local to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Place {
    /// A region or group of the run (index into `Tagging::areas`).
    Area(usize),
    /// A point, lon/lat.
    Point(f64, f64),
    /// A polygon or point given after the run (`airshed attribute`).
    Other,
}

/// Where a receptor's value comes from: an area-weighted mean over cells.
#[derive(Debug, Clone)]
pub struct Receptor {
    pub place: Place,
    pub name: String,
    /// "region", "group", "site" or "polygon".
    pub kind: String,
    /// Fraction of each cell inside the receptor (a site: 1 in its cell).
    pub coverage: Array2<f64>,
    /// (j, i, weight), weights summing to 1: coverage x cell area.
    pub weights: Vec<(usize, usize, f64)>,
}

impl Receptor {
    /// An area receptor from its coverage.
    pub fn area(name: &str, kind: &str, coverage: Array2<f64>, cell_area: &Array2<f64>) -> Self {
        Receptor {
            place: Place::Other,
            name: name.to_string(),
            kind: kind.to_string(),
            weights: area_weights(&coverage, cell_area),
            coverage,
        }
    }

    /// A point receptor: the cell (j, i) that holds it. Callers name sites
    /// "NAME (site)" ([`site_name`]) so a site and a region of the same
    /// name stay apart.
    pub fn site(name: &str, (j, i): (usize, usize), dim: (usize, usize)) -> Self {
        let mut coverage = Array2::zeros(dim);
        coverage[[j, i]] = 1.0;
        Receptor {
            place: Place::Other,
            name: name.to_string(),
            kind: "site".into(),
            coverage,
            weights: vec![(j, i, 1.0)],
        }
    }

    /// For receptors given after the run (a polygon or point that is not a
    /// region of the run): whether a region with coverage `region` is
    /// local, judged from coverage alone: more than half of the receptor
    /// lies in the region, or more than half of the region lies in the
    /// receptor, a cell's overlap taken as the product of the two
    /// coverages (exact for whole cells, approximate where both are
    /// partial). Receptors of the run use [`Tagging::local_flags`].
    pub fn overlaps_most(&self, region: &Array2<f64>, cell_area: &Array2<f64>) -> bool {
        let receptor_inside: f64 = self
            .weights
            .iter()
            .map(|&(j, i, w)| w * region[[j, i]])
            .sum();
        let (mut inside, mut whole) = (0.0, 0.0);
        for ((r, c), a) in region.iter().zip(&self.coverage).zip(cell_area) {
            whole += r * a;
            inside += r * c.min(1.0) * a;
        }
        receptor_inside > 0.5 || (whole > 0.0 && inside / whole > 0.5)
    }
}

/// The attribution setup of a case.
#[derive(Debug, Clone)]
pub struct Tagging {
    pub spec: AttributionSpec,
    pub regions: Option<RegionMap>,
    /// Every region of the file, then every group.
    pub areas: Vec<Area>,
    pub tags: Vec<Tag>,
    /// Per emission tag: its area and sector label.
    keys: Vec<(Option<usize>, Option<String>)>,
    /// Areas that carry tags.
    pub tagged_areas: Vec<usize>,
    /// Per species of the case: whether it carries the tags.
    pub tagged_species: Vec<bool>,
    pub receptors: Vec<Receptor>,
}

fn cerr(case: &Case, key: &str, expected: impl Into<String>) -> Error {
    Error::config(&case.file, key, expected)
}

impl Tagging {
    /// Read the regions, build the areas, tags and receptors, and route the
    /// inventory (its entries get their tag indices; entries split among
    /// areas are divided). `grid` is the whole domain.
    pub fn new(case: &Case, grid: &Grid, inventory: &mut Inventory) -> Result<Tagging> {
        let spec = case
            .attribution
            .clone()
            .ok_or_else(|| cerr(case, "attribution", "an [attribution] table"))?;
        let regions = match &spec.regions_file {
            Some(f) => {
                let mut map = RegionMap::load(f, &spec.name_property, grid)?;
                map.share_overlaps();
                Some(map)
            }
            None => None,
        };
        let mut areas: Vec<Area> = regions
            .iter()
            .flat_map(|r| {
                r.names.iter().enumerate().map(|(n, name)| Area {
                    name: name.clone(),
                    members: vec![n],
                    coverage: r.coverage[n].clone(),
                })
            })
            .collect();
        let feature_count = areas.len();
        for (group, members) in &spec.groups {
            let key = format!("attribution.groups.{group}");
            if areas[..feature_count].iter().any(|a| &a.name == group) {
                return Err(cerr(
                    case,
                    &key,
                    format!(
                        "a group name that is not also a region's name ({group:?} is a region)"
                    ),
                ));
            }
            let mut idx = Vec::new();
            let mut coverage = Array2::zeros((grid.ny, grid.nx));
            for m in members {
                let n = areas[..feature_count]
                    .iter()
                    .position(|a| &a.name == m)
                    .ok_or_else(|| {
                        cerr(
                            case,
                            &key,
                            format!("names of regions in the regions file, got unknown {m:?}"),
                        )
                    })?;
                if idx.contains(&n) {
                    return Err(cerr(
                        case,
                        &key,
                        format!("each member once, {m:?} is repeated"),
                    ));
                }
                idx.push(n);
                coverage += &areas[n].coverage;
            }
            areas.push(Area {
                name: group.clone(),
                members: idx,
                coverage,
            });
        }
        let find_area = |key: &str, name: &str| -> Result<usize> {
            areas.iter().position(|a| a.name == name).ok_or_else(|| {
                cerr(
                    case,
                    key,
                    format!("a region or group name from the regions file or attribution.groups, got unknown {name:?}"),
                )
            })
        };
        let mut tagged_areas = Vec::new();
        for name in &spec.regions {
            let a = find_area("attribution.regions", name)?;
            if tagged_areas.contains(&a) {
                return Err(cerr(
                    case,
                    "attribution.regions",
                    format!("each region once: duplicate tag {name:?}"),
                ));
            }
            for &b in &tagged_areas {
                let shared: Vec<&str> = areas[a]
                    .members
                    .iter()
                    .filter(|m| areas[b].members.contains(m))
                    .map(|&m| areas[m].name.as_str())
                    .collect();
                if !shared.is_empty() {
                    return Err(cerr(
                        case,
                        "attribution.regions",
                        format!(
                            "regions that do not overlap: {name:?} and {:?} both contain {}",
                            areas[b].name,
                            shared.join(", ")
                        ),
                    ));
                }
            }
            tagged_areas.push(a);
        }
        let sector_labels: Vec<Option<String>> = match &spec.sectors {
            SectorTags::None => vec![None],
            SectorTags::All => inventory.sectors.iter().cloned().map(Some).collect(),
            SectorTags::List(l) => {
                for s in l {
                    if !inventory.sectors.contains(s) {
                        return Err(cerr(
                            case,
                            "attribution.sectors",
                            format!(
                                "sector labels of the inventory ({}), got unknown {s:?}",
                                inventory.sectors.join(", ")
                            ),
                        ));
                    }
                }
                l.iter().cloned().map(Some).collect()
            }
        };
        let region_keys: Vec<Option<usize>> = if tagged_areas.is_empty() {
            vec![None]
        } else {
            tagged_areas.iter().map(|&a| Some(a)).collect()
        };
        let mut keys = Vec::new();
        for &r in &region_keys {
            for s in &sector_labels {
                keys.push((r, s.clone()));
            }
        }
        let tagged_species = tagged_species(case, &spec)?;
        let mut tagging = Tagging {
            spec,
            regions,
            areas,
            tags: Vec::new(),
            keys,
            tagged_areas,
            tagged_species,
            receptors: Vec::new(),
        };
        tagging.route(inventory);
        if tagging.spec.sectors == SectorTags::All {
            tagging.prune_empty(inventory);
        }
        tagging.tags = tagging.make_tags();
        let mut seen = std::collections::BTreeSet::new();
        for t in &tagging.tags {
            if !seen.insert(t.name.as_str()) {
                return Err(cerr(
                    case,
                    "attribution",
                    format!("distinct tag names, but {:?} names two tags (a region and a sector with the same name?)", t.name),
                ));
            }
        }
        tagging.receptors = tagging.make_receptors(case, grid)?;
        Ok(tagging)
    }

    /// Tag index of `other`, `boundary` and `initial` (after the emission tags).
    pub fn other_tag(&self) -> usize {
        self.keys.len()
    }

    fn make_tags(&self) -> Vec<Tag> {
        let mut tags: Vec<Tag> = self
            .keys
            .iter()
            .map(|(a, s)| {
                let region = a.map(|a| self.areas[a].name.clone());
                let name = match (&region, s) {
                    (Some(r), Some(s)) => format!("{r}/{s}"),
                    (Some(r), None) => r.clone(),
                    (None, Some(s)) => s.clone(),
                    (None, None) => "emissions".into(),
                };
                Tag {
                    name,
                    kind: TagKind::Emissions,
                    region,
                    sector: s.clone(),
                }
            })
            .collect();
        tags.push(Tag::plain("other", TagKind::Other));
        tags.push(Tag::plain("boundary", TagKind::Boundary));
        tags.push(Tag::plain("initial", TagKind::Initial));
        tags
    }

    /// The run's tracers: the tagged species x these tags, the others as
    /// their bulk.
    pub fn tracers(&self, species: Vec<Species>) -> TracerSet {
        TracerSet::tagged(species, self.tags.clone()).only_on(&self.tagged_species)
    }

    /// The tagged area containing a lon/lat point, if any.
    /// (Regions may overlap, so the tagged areas' own regions are searched.)
    fn area_at(&self, lon: f64, lat: f64) -> Option<usize> {
        let r = self.regions.as_ref()?;
        self.tagged_areas.iter().copied().find(|&a| {
            self.areas[a]
                .members
                .iter()
                .any(|&m| r.contains(m, lon, lat))
        })
    }

    /// Fractions of an emission per tagged area (the rest is untagged).
    fn area_split(&self, origin: &Origin, j: usize, i: usize) -> Vec<(usize, f64)> {
        match origin {
            Origin::City { name, lon, lat } => {
                // The tagged area holding the named region; when none holds
                // all of it (no such region, or it is split among tags),
                // the city centre decides.
                let by_name = self.areas.iter().position(|a| a.name == **name);
                let area = by_name
                    .and_then(|a| {
                        self.tagged_areas
                            .iter()
                            .copied()
                            .find(|&t| self.contains_area(t, a))
                    })
                    .or_else(|| self.area_at(*lon, *lat));
                area.map(|a| vec![(a, 1.0)]).unwrap_or_default()
            }
            Origin::Located => {
                let mut split: Vec<(usize, f64)> = self
                    .tagged_areas
                    .iter()
                    .map(|&a| (a, self.areas[a].coverage[[j, i]]))
                    .filter(|&(_, f)| f > 0.0)
                    .collect();
                // Neighbouring polygons may overlap by round-off along a
                // shared border: never hand out more than the whole cell.
                let sum: f64 = split.iter().map(|s| s.1).sum();
                if sum > 1.0 {
                    split.iter_mut().for_each(|s| s.1 /= sum);
                }
                split
            }
        }
    }

    /// The tag of an emission in area `a` (None: outside every tagged
    /// area) with sector label `sector`.
    fn tag_of(&self, a: Option<usize>, sector: &str) -> usize {
        self.keys
            .iter()
            .position(|(r, s)| {
                // Sector-only tags (no region key) match anywhere.
                let region_ok = r.is_none_or(|r| Some(r) == a);
                region_ok && s.as_deref().is_none_or(|s| s == sector)
            })
            .unwrap_or(self.other_tag())
    }

    /// Give every inventory entry its tag, splitting gridded cells among
    /// the areas that cover them.
    pub fn route(&self, inv: &mut Inventory) {
        let cells = std::mem::take(&mut inv.cells);
        for c in cells {
            let sector = inv.sectors[c.sector].clone();
            let split = self.area_split(&c.origin, c.j, c.i);
            let covered: f64 = split.iter().map(|s| s.1).sum();
            for &(a, f) in &split {
                inv.cells.push(CellEmission {
                    rate: c.rate * f,
                    tag: self.tag_of(Some(a), &sector),
                    ..c.clone()
                });
            }
            let rest = 1.0 - covered;
            if rest > 0.0 {
                inv.cells.push(CellEmission {
                    rate: c.rate * rest,
                    tag: self.tag_of(None, &sector),
                    ..c
                });
            }
        }
        for p in &mut inv.points {
            let sector = inv.sectors[p.sector].clone();
            p.tag = self.tag_of(self.area_at(p.lon, p.lat), &sector);
        }
    }

    /// Drop emission tags that received nothing of a tagged species
    /// (`sectors = "all"` makes every region x sector pair a candidate) and
    /// renumber the entries; what they had goes to untagged bulks anyway.
    fn prune_empty(&mut self, inv: &mut Inventory) {
        let n = self.keys.len();
        let mut used = vec![false; n + 1];
        // Only emissions of tagged species count (an untagged species'
        // emissions all go to its bulk).
        let tagged = &self.tagged_species;
        inv.cells
            .iter()
            .filter(|c| tagged[c.species])
            .for_each(|c| used[c.tag] = true);
        inv.points
            .iter()
            .filter(|p| p.rates.iter().any(|r| tagged[r.0]))
            .for_each(|p| used[p.tag] = true);
        let kept_count = used[..n].iter().filter(|&&u| u).count();
        // Dropped tags' entries (untagged species only) go to `other`.
        let mut new_index = vec![kept_count; n + 1];
        let mut kept = Vec::new();
        for (t, key) in self.keys.iter().enumerate() {
            if used[t] {
                new_index[t] = kept.len();
                kept.push(key.clone());
            }
        }
        self.keys = kept;
        inv.cells.iter_mut().for_each(|c| c.tag = new_index[c.tag]);
        inv.points.iter_mut().for_each(|p| p.tag = new_index[p.tag]);
    }

    fn make_receptors(&self, case: &Case, grid: &Grid) -> Result<Vec<Receptor>> {
        let mut out = Vec::new();
        let features = self.regions.as_ref().map_or(0, |r| r.names.len());
        for name in &self.spec.receptors {
            let a = self
                .areas
                .iter()
                .position(|a| &a.name == name)
                .ok_or_else(|| {
                    cerr(
                        case,
                        "attribution.receptors",
                        format!("region or group names, got unknown {name:?}"),
                    )
                })?;
            let kind = if a < features { "region" } else { "group" };
            let mut rec = Receptor::area(name, kind, self.areas[a].coverage.clone(), &grid.area);
            rec.place = Place::Area(a);
            out.push(rec);
        }
        for site in &case.sites {
            if let Some((i, j)) = grid.cell_of(site.lon, site.lat) {
                let mut rec = Receptor::site(&site_name(&site.name), (j, i), (grid.ny, grid.nx));
                rec.place = Place::Point(site.lon, site.lat);
                out.push(rec);
            }
        }
        Ok(out)
    }

    /// Whether area `outer` contains every region of area `inner`.
    fn contains_area(&self, outer: usize, inner: usize) -> bool {
        self.areas[inner]
            .members
            .iter()
            .all(|m| self.areas[outer].members.contains(m))
    }

    /// Per tag, whether it is local to receptor `r`: for a region or group
    /// receptor, the tag's region is the receptor, lies inside it or
    /// contains it (by their regions); for a site, the site lies in the
    /// tag's region (point in polygon). Other tags are never local.
    pub fn local_flags(&self, r: usize) -> Vec<bool> {
        let place = self.receptors[r].place;
        (0..self.tags.len())
            .map(|t| {
                let Some((Some(region), _)) = self.keys.get(t) else {
                    return false;
                };
                match place {
                    Place::Area(a) => {
                        self.contains_area(a, *region) || self.contains_area(*region, a)
                    }
                    Place::Point(lon, lat) => self.regions.as_ref().is_some_and(|map| {
                        self.areas[*region]
                            .members
                            .iter()
                            .any(|&m| map.contains(m, lon, lat))
                    }),
                    Place::Other => false,
                }
            })
            .collect()
    }

    /// Scale the emissions of the given tags by `factor` (brute-force runs).
    pub fn scale(inv: &mut Inventory, tags: &[usize], factor: f64) {
        for c in &mut inv.cells {
            if tags.contains(&c.tag) {
                c.rate *= factor;
            }
        }
        for p in &mut inv.points {
            if tags.contains(&p.tag) {
                p.rates.iter_mut().for_each(|r| r.1 *= factor);
            }
        }
    }
}

/// Which species carry tags: `attribution.species`, or all. Every
/// particulate species must (the PM2.5 tables sum them per tag); whether
/// chemically linked species are tagged together is checked by the
/// chemistry wrapper.
fn tagged_species(case: &Case, spec: &AttributionSpec) -> Result<Vec<bool>> {
    let oxidant = |name: &str| crate::species::OXIDANTS.contains(&name);
    let Some(list) = &spec.species else {
        // Every species but the oxidants (backgrounds, never emitted).
        return Ok(case.species.iter().map(|s| !oxidant(s.name)).collect());
    };
    if list.is_empty() {
        return Err(cerr(
            case,
            "attribution.species",
            "at least one species, or leave the key out to tag them all",
        ));
    }
    for name in list {
        if oxidant(name) {
            return Err(cerr(
                case,
                "attribution.species",
                format!("no oxidant: {name} is a background the chemistry consumes and is carried untagged"),
            ));
        }
        if !case.species.iter().any(|s| s.name == name) {
            return Err(cerr(
                case,
                "attribution.species",
                format!("species of the run (species.names), got unknown {name:?}"),
            ));
        }
    }
    let keep: Vec<bool> = case
        .species
        .iter()
        .map(|s| list.iter().any(|n| n == s.name))
        .collect();
    let missing: Vec<&str> = case
        .species
        .iter()
        .zip(&keep)
        .filter(|(s, &k)| !k && matches!(s.phase, crate::species::Phase::Particle { .. }))
        .map(|(s, _)| s.name)
        .collect();
    if !missing.is_empty() {
        return Err(cerr(
            case,
            "attribution.species",
            format!(
                "every particulate species, since the PM2.5 tables add them per tag; missing {}",
                missing.join(", ")
            ),
        ));
    }
    Ok(keep)
}

/// The receptor name of a point: "NAME (site)".
pub fn site_name(name: &str) -> String {
    format!("{name} (site)")
}

/// Receptor weights of an area: coverage x cell area, normalised.
pub fn area_weights(coverage: &Array2<f64>, cell_area: &Array2<f64>) -> Vec<(usize, usize, f64)> {
    let mut w: Vec<(usize, usize, f64)> = coverage
        .indexed_iter()
        .filter(|(_, &c)| c > 0.0)
        .map(|((j, i), &c)| (j, i, c * cell_area[[j, i]]))
        .collect();
    let total: f64 = w.iter().map(|x| x.2).sum();
    w.iter_mut().for_each(|x| x.2 /= total);
    w
}
