//! Attribution regions: named polygons read from GeoJSON and rasterised onto
//! the model grid as the exact fraction of each cell's area that lies inside
//! each region.
//!
//! **Input.** GeoJSON, RFC 7946 (Butler et al. 2016, "The GeoJSON Format"):
//! a FeatureCollection (or one Feature) whose geometries are Polygons or
//! MultiPolygons in WGS84 lon/lat degrees, holes as interior rings. Each
//! feature's name is its `name_property` property (a string, or a number
//! written as text). Parsing is the `geojson` crate's; areas for validation
//! and point-in-polygon tests are the `geo` crate's (`Area`, `Contains`).
//! Ring orientation is not relied on (RFC 7946 §3.1.6 asks for the
//! right-hand rule but tells parsers not to reject rings that break it): the
//! first ring of a polygon is its exterior, the rest are holes, whichever
//! way they wind.
//!
//! **Edges.** RFC 7946 §3.1.1 takes an edge as the straight line in lon/lat
//! between its vertices. On a Lambert grid that line is a curve in the
//! projection plane, so every edge is densified in lon/lat (bisection) until
//! no piece near the grid is longer than [`MAX_PIECE_CELLS`] of a cell in
//! index space, and each piece is then taken as straight. The error is the
//! sagitta of a piece, L^2 / (8 r) with r the curve's radius: for a parallel
//! in the default grid's Lambert projection (r = the parallel's cone radius,
//! about 1000 cells) it is about 1e-6 cell. Pieces whose reach (their chord's
//! bounding box grown by the chord length, which contains the curve while a
//! piece spans at most [`MAX_PIECE_DEGREES`]) misses the grid are not split:
//! they do not cut any cell.
//!
//! **Coverage.** Every vertex goes to fractional cell-index space by
//! [`Grid::index_of`], an affine map of the grid's projection plane, so an
//! area fraction in index space is the exact area fraction in the projection
//! plane (cell (i, j) is the unit square [i-1/2, i+1/2] x [j-1/2, j+1/2]).
//! The area of (ring ∩ cell) is the shoelace area of the ring clipped to the
//! cell by Sutherland and Hodgman's re-entrant polygon clipping (Sutherland
//! & Hodgman 1974, "Reentrant polygon clipping", CACM 17(1), 32-42): one
//! half-plane at a time, first to each row's strip, then each strip to each
//! cell of its column range, so a ring is only clipped against the cells of
//! its own bounding box. A cell's coverage is the sum of its exterior
//! pieces' areas minus its holes' pieces' areas.
//!
//! *Why not `geo::BooleanOps`:* clipping against a convex window is all that
//! is needed, and Sutherland-Hodgman is exact for it, even for a concave
//! ring: the clipped ring may carry zero-width spurs along the window's
//! edges, but they add nothing to the shoelace area, which is all we keep.
//! It reuses two buffers and does no allocation per cell, whereas a general
//! overlay (`i_overlay` under `geo::BooleanOps`) builds a full topology
//! for each of the thousands of cell-polygon pairs. The tests check it
//! against `BooleanOps` cell by cell on a concave polygon with a hole.
//!
//! **Assumptions.** The polygons of one MultiPolygon do not overlap and holes
//! lie inside their exterior: the OGC Simple Features rules (OGC 06-103r4,
//! §6.1.11 and §6.1.14) that GeoJSON geometries follow (RFC 7946 itself
//! does not restate them). Overlapping parts would be counted twice; a
//! cell covered more than once, or less than zero times, beyond round-off is
//! refused as invalid geometry (an overlap, or a ring crossing itself,
//! that stays within one cell's share is not detected). Coverage is then
//! clamped to [0, 1] only against round-off (1e-9). Regions of different
//! features may overlap: each has its own coverage, and their sum over
//! regions may exceed 1 where the data's neighbours overlap.
//!
//! *Why not `geo::Validation`* (the full OGC checks): on the default case's
//! `inputs/cities.geojson` it takes about 5 s (against ~60 ms for loading
//! and rasterising here), and it refuses five of the 28 cities for
//! self-intersecting exteriors that are only pinches (a ring passing twice
//! through one vertex), whose shoelace area is the intended one. The checks
//! made here are the ones the coverage needs: finite in-range coordinates,
//! rings of 3 or more distinct points enclosing an area, holes not
//! cancelling their exterior, and the per-cell count above.
//!
//! Rings crossing the antimeridian of a Lambert grid's central meridian
//! (`stand_lon` + 180) would tear in index space; they are far from any
//! regional grid, and RFC 7946 §3.1.9 asks writers to split such rings.

use crate::error::{Error, Result};
use crate::grid::Grid;
use geo::{Area, BoundingRect, Contains, Coord, LineString, MultiPolygon, Polygon, Rect};
use geojson::{Feature, GeoJson, GeometryValue, JsonValue, Position};
use ndarray::Array2;
use std::path::{Path, PathBuf};

/// Longest densified edge piece near the grid, in cells (index units).
pub const MAX_PIECE_CELLS: f64 = 0.1;
/// Longest densified edge piece anywhere, degrees of lon or lat, so that a
/// piece's curvature in the projection plane stays small.
pub const MAX_PIECE_DEGREES: f64 = 10.0;
/// Bisection depth limit (10 degrees / 2^60 is far below any cell).
const MAX_DEPTH: u32 = 60;
/// Coverage beyond [0, 1] by less than this is round-off; by more, invalid
/// geometry.
const ROUND_OFF: f64 = 1e-9;
/// Latitudes are kept this far (degrees) from the poles before projecting,
/// so the pole opposite a Lambert cone's apex maps to a finite point.
const POLE_MARGIN: f64 = 1e-9;

/// Named regions rasterised onto a grid.
#[derive(Debug, Clone)]
pub struct RegionMap {
    pub file: PathBuf,
    /// Feature names in file order (from the configurable name property).
    pub names: Vec<String>,
    /// Fraction of each cell's area inside each region, [j, i], 0..=1.
    pub coverage: Vec<Array2<f64>>,
    /// Each region's densified polygons in fractional-index space, with
    /// their bounding box, for point tests.
    shapes: Vec<IndexShape>,
    /// The grid the regions were rasterised on (only its projection is
    /// used after loading: `index_of` for point tests).
    grid: Grid,
}

#[derive(Debug, Clone)]
struct IndexShape {
    polygons: MultiPolygon<f64>,
    bbox: Option<Rect<f64>>,
}

impl RegionMap {
    /// Read and rasterise the regions of a GeoJSON file.
    pub fn load(path: &Path, name_property: &str, grid: &Grid) -> Result<RegionMap> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::input(path, "(file)", format!("a readable GeoJSON file ({e})")))?;
        Self::parse(&text, path, name_property, grid)
    }

    /// Same from text already read; `path` only labels errors.
    pub fn parse(text: &str, path: &Path, name_property: &str, grid: &Grid) -> Result<RegionMap> {
        let geojson: GeoJson = text.parse().map_err(|e| {
            Error::input(
                path,
                "(file)",
                format!(
                    "GeoJSON text (a FeatureCollection of polygons), but it does not parse: {e}"
                ),
            )
        })?;
        let (features, lone) = match geojson {
            GeoJson::FeatureCollection(fc) => (fc.features, false),
            GeoJson::Feature(f) => (vec![f], true),
            GeoJson::Geometry(g) => {
                return Err(Error::input(
                    path,
                    "(file)",
                    format!(
                        "a FeatureCollection or Feature (regions need a `{name_property}` \
                         property), found a bare {} geometry",
                        g.value.type_name()
                    ),
                ))
            }
        };
        if features.is_empty() {
            return Err(Error::input(
                path,
                "features",
                "at least one feature, found an empty FeatureCollection",
            ));
        }
        let mut map = RegionMap {
            file: path.to_path_buf(),
            names: Vec::with_capacity(features.len()),
            coverage: Vec::with_capacity(features.len()),
            shapes: Vec::with_capacity(features.len()),
            grid: grid.clone(),
        };
        for (k, f) in features.iter().enumerate() {
            let at = if lone {
                "feature".to_string()
            } else {
                format!("features[{k}]")
            };
            let name = feature_name(f, name_property).map_err(|e| Error::input(path, &at, e))?;
            let at = format!("{at} (name {name:?})");
            if let Some(first) = map.names.iter().position(|n| *n == name) {
                return Err(Error::input(
                    path,
                    &at,
                    format!(
                        "a unique `{name_property}` per feature, but features[{first}] \
                         and features[{k}] are both named {name:?}"
                    ),
                ));
            }
            let lonlat = feature_polygons(f).map_err(|e| Error::input(path, &at, e))?;
            let polygons = project(&lonlat, grid).map_err(|e| Error::input(path, &at, e))?;
            let raw = raw_coverage(&polygons, grid);
            check_coverage(&raw).map_err(|e| Error::input(path, &at, e))?;
            let cov = raw.mapv(|c| c.clamp(0.0, 1.0));
            if !cov.iter().any(|&c| c > ROUND_OFF) {
                return Err(Error::input(
                    path,
                    &at,
                    outside_message(&name, &lonlat, &polygons, grid),
                ));
            }
            map.names.push(name);
            map.coverage.push(cov);
            map.shapes.push(IndexShape {
                bbox: polygons.bounding_rect(),
                polygons,
            });
        }
        Ok(map)
    }

    /// Share the cells where features overlap: where the coverages of all
    /// features sum to more than 1 in a cell, each is scaled by 1/sum, so
    /// the regions partition at most the cell. Adjacent borders digitised
    /// independently overlap by slivers (up to 3.7e-4 of a 15 km cell for
    /// the prefecture borders of inputs/cities.geojson), and tags and
    /// emission proxies need a partition: an overlapped cell's emissions
    /// would otherwise be routed twice. Returns the largest sum found.
    pub fn share_overlaps(&mut self) -> f64 {
        let Some(first) = self.coverage.first() else {
            return 0.0;
        };
        let mut worst: f64 = 0.0;
        let (ny, nx) = first.dim();
        for j in 0..ny {
            for i in 0..nx {
                let sum: f64 = self.coverage.iter().map(|c| c[[j, i]]).sum();
                worst = worst.max(sum);
                if sum > 1.0 {
                    for c in self.coverage.iter_mut() {
                        c[[j, i]] /= sum;
                    }
                }
            }
        }
        worst
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Whether (lon, lat) lies inside region r (holes excluded). Points on
    /// an edge are outside (`geo::Contains`); the test is made on the same
    /// densified index-space polygons as the coverage, so it agrees with it.
    /// False for an unknown region or a non-finite or out-of-range point.
    pub fn contains(&self, r: usize, lon: f64, lat: f64) -> bool {
        let Some(shape) = self.shapes.get(r) else {
            return false;
        };
        if !(lon.abs() <= 180.0 && lat.abs() <= 90.0) {
            return false;
        }
        let Some(p) = to_index(&self.grid, Coord { x: lon, y: lat }) else {
            return false;
        };
        match shape.bbox {
            Some(b)
                if b.min().x <= p.x && p.x <= b.max().x && b.min().y <= p.y && p.y <= b.max().y =>
            {
                shape.polygons.contains(&p)
            }
            _ => false,
        }
    }
}

/// Fraction of every cell's area covered by a MultiPolygon given in lon/lat.
///
/// No validation: [`RegionMap::parse`] refuses invalid geometry before it
/// gets here. Polygons with a vertex that does not project to a finite
/// index are skipped; overlapping parts, holes outside their exterior and
/// self-intersecting rings give counts beyond [0, 1], which are clamped.
pub fn coverage_of(poly: &MultiPolygon<f64>, grid: &Grid) -> Array2<f64> {
    let projected: Vec<Polygon<f64>> = poly
        .0
        .iter()
        .filter_map(|p| project_polygon(p, grid))
        .collect();
    raw_coverage(&MultiPolygon(projected), grid).mapv(|c| c.clamp(0.0, 1.0))
}

/// The feature's name: its `prop` property as a non-empty string, or a
/// number written as text.
fn feature_name(f: &Feature, prop: &str) -> std::result::Result<String, String> {
    let props = f.properties.as_ref();
    match props.and_then(|p| p.get(prop)) {
        Some(JsonValue::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(JsonValue::String(_)) => Err(format!(
            "a non-empty `{prop}` property naming the region, found an empty string"
        )),
        Some(JsonValue::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(format!(
            "a string or number `{prop}` property naming the region, found {}",
            json_kind(other)
        )),
        None => {
            let present = match props {
                None => "no properties".to_string(),
                Some(p) if p.is_empty() => "an empty properties object".to_string(),
                Some(p) => format!(
                    "only the properties {}",
                    p.keys()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            Err(format!(
                "a `{prop}` property naming the region, found {present}"
            ))
        }
    }
}

fn json_kind(v: &JsonValue) -> &'static str {
    match v {
        JsonValue::Null => "null",
        JsonValue::Bool(_) => "a boolean",
        JsonValue::Number(_) => "a number",
        JsonValue::String(_) => "a string",
        JsonValue::Array(_) => "an array",
        JsonValue::Object(_) => "an object",
    }
}

/// The feature's geometry as validated lon/lat polygons.
fn feature_polygons(f: &Feature) -> std::result::Result<MultiPolygon<f64>, String> {
    let Some(g) = &f.geometry else {
        return Err("a Polygon or MultiPolygon geometry, found a null geometry".into());
    };
    match &g.value {
        GeometryValue::Polygon { coordinates } => Ok(MultiPolygon(vec![polygon(coordinates)?])),
        GeometryValue::MultiPolygon { coordinates } => {
            if coordinates.is_empty() {
                return Err("a MultiPolygon with at least one polygon, found none".into());
            }
            let polys = coordinates
                .iter()
                .enumerate()
                .map(|(p, rings)| polygon(rings).map_err(|e| format!("polygon {p}: {e}")))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Ok(MultiPolygon(polys))
        }
        other => Err(format!(
            "a Polygon or MultiPolygon geometry, found a {}",
            other.type_name()
        )),
    }
}

/// One polygon's rings (exterior first), checked: at least one ring, each
/// of at least 3 distinct finite in-range points enclosing a non-zero area,
/// and the holes not cancelling the exterior.
fn polygon(rings: &[Vec<Position>]) -> std::result::Result<Polygon<f64>, String> {
    if rings.is_empty() {
        return Err("a polygon with at least one ring (its exterior), found no rings".into());
    }
    let mut lines = Vec::with_capacity(rings.len());
    let mut areas = Vec::with_capacity(rings.len());
    for (r, ring) in rings.iter().enumerate() {
        let what = if r == 0 {
            "exterior ring".to_string()
        } else {
            format!("ring {r} (hole)")
        };
        let mut coords = Vec::with_capacity(ring.len());
        for (v, pos) in ring.iter().enumerate() {
            let c = pos.as_slice();
            if c.len() < 2 {
                return Err(format!(
                    "{what}: position {v} as [lon, lat], found {} number(s)",
                    c.len()
                ));
            }
            let (lon, lat) = (c[0], c[1]);
            if !(lon.is_finite() && lat.is_finite() && lon.abs() <= 180.0 && lat.abs() <= 90.0) {
                return Err(format!(
                    "{what}: position {v} with lon in [-180, 180] and lat in [-90, 90], \
                     found [{lon}, {lat}]"
                ));
            }
            coords.push(Coord { x: lon, y: lat });
        }
        let mut distinct: Vec<(u64, u64)> = coords
            .iter()
            .map(|c| ((c.x + 0.0).to_bits(), (c.y + 0.0).to_bits()))
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 3 {
            return Err(format!(
                "{what}: at least 3 distinct points, found {}",
                distinct.len()
            ));
        }
        let line = LineString::from(coords);
        // geo closes the ring if the file did not.
        let area = Polygon::new(line.clone(), vec![]).unsigned_area();
        if area <= 0.0 {
            return Err(format!(
                "{what}: a ring enclosing a non-zero area, found zero area (collinear points)"
            ));
        }
        lines.push(line);
        areas.push(area);
    }
    let holes: f64 = areas[1..].iter().sum();
    if holes >= areas[0] {
        return Err(format!(
            "holes smaller than their exterior, found holes of {holes:.6e} deg2 \
             in an exterior of {:.6e} deg2 (zero or negative area)",
            areas[0]
        ));
    }
    let exterior = lines.remove(0);
    Ok(Polygon::new(exterior, lines))
}

/// Fractional cell index of a lon/lat point, latitude kept off the poles;
/// None if not finite.
fn to_index(grid: &Grid, c: Coord<f64>) -> Option<Coord<f64>> {
    let lat = c.y.clamp(-90.0 + POLE_MARGIN, 90.0 - POLE_MARGIN);
    let (x, y) = grid.index_of(c.x, lat);
    (x.is_finite() && y.is_finite()).then_some(Coord { x, y })
}

/// Validated lon/lat polygons to densified index-space polygons.
fn project(mp: &MultiPolygon<f64>, grid: &Grid) -> std::result::Result<MultiPolygon<f64>, String> {
    mp.0.iter()
        .enumerate()
        .map(|(p, poly)| {
            project_polygon(poly, grid).ok_or_else(|| {
                format!(
                    "polygon {p}: vertices that map to finite grid indices, \
                     found one that does not"
                )
            })
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map(MultiPolygon)
}

fn project_polygon(poly: &Polygon<f64>, grid: &Grid) -> Option<Polygon<f64>> {
    let exterior = project_ring(poly.exterior(), grid)?;
    let holes = poly
        .interiors()
        .iter()
        .map(|r| project_ring(r, grid))
        .collect::<Option<Vec<_>>>()?;
    Some(Polygon::new(exterior, holes))
}

/// Index-space rectangle that the grid's cells cover.
#[derive(Clone, Copy)]
struct Window {
    x1: f64,
    y1: f64,
}

impl Window {
    fn of(grid: &Grid) -> Window {
        Window {
            x1: grid.nx as f64 - 0.5,
            y1: grid.ny as f64 - 0.5,
        }
    }

    /// Whether the bounding box of a and b, grown by `margin`, meets the grid.
    fn reaches(self, a: Coord<f64>, b: Coord<f64>, margin: f64) -> bool {
        a.x.min(b.x) - margin <= self.x1
            && a.x.max(b.x) + margin >= -0.5
            && a.y.min(b.y) - margin <= self.y1
            && a.y.max(b.y) + margin >= -0.5
    }
}

/// A closed lon/lat ring in index space, each edge densified.
fn project_ring(ring: &LineString<f64>, grid: &Grid) -> Option<LineString<f64>> {
    let pts = &ring.0;
    let first = to_index(grid, *pts.first()?)?;
    let window = Window::of(grid);
    let mut out = Vec::with_capacity(pts.len() * 2);
    out.push(first);
    let mut a = (pts[0], first);
    for &b_ll in &pts[1..] {
        let b = (b_ll, to_index(grid, b_ll)?);
        densify(grid, window, a, b, 0, &mut out)?;
        out.push(b.1);
        a = b;
    }
    Some(LineString(out))
}

/// Push the interior points of edge a-b (each a (lon/lat, index) pair),
/// bisected in lon/lat until the pieces are short enough.
fn densify(
    grid: &Grid,
    window: Window,
    a: (Coord<f64>, Coord<f64>),
    b: (Coord<f64>, Coord<f64>),
    depth: u32,
    out: &mut Vec<Coord<f64>>,
) -> Option<()> {
    if depth >= MAX_DEPTH {
        return Some(());
    }
    let wide =
        (b.0.x - a.0.x).abs() > MAX_PIECE_DEGREES || (b.0.y - a.0.y).abs() > MAX_PIECE_DEGREES;
    let len = (b.1.x - a.1.x).hypot(b.1.y - a.1.y);
    if !(wide || (len > MAX_PIECE_CELLS && window.reaches(a.1, b.1, len))) {
        return Some(());
    }
    let m_ll = Coord {
        x: 0.5 * (a.0.x + b.0.x),
        y: 0.5 * (a.0.y + b.0.y),
    };
    let m = (m_ll, to_index(grid, m_ll)?);
    densify(grid, window, a, m, depth + 1, out)?;
    out.push(m.1);
    densify(grid, window, m, b, depth + 1, out)
}

/// Twice the signed (shoelace) area of a ring given without or with its
/// closing point, taken about `origin` to keep round-off small.
fn twice_area(ring: &[Coord<f64>], origin: Coord<f64>) -> f64 {
    let Some(&last) = ring.last() else {
        return 0.0;
    };
    let mut prev = last - origin;
    let mut s = 0.0;
    for &c in ring {
        let c = c - origin;
        s += prev.x * c.y - c.x * prev.y;
        prev = c;
    }
    s
}

#[derive(Clone, Copy)]
enum Axis {
    X,
    Y,
}

/// Sutherland-Hodgman: clip a ring to the half-plane `axis >= bound`
/// (`keep_above`) or `axis <= bound`, writing the result to `out`.
fn clip(ring: &[Coord<f64>], axis: Axis, bound: f64, keep_above: bool, out: &mut Vec<Coord<f64>>) {
    out.clear();
    let Some(&last) = ring.last() else {
        return;
    };
    let coord = |c: Coord<f64>| match axis {
        Axis::X => c.x,
        Axis::Y => c.y,
    };
    let inside = |c: Coord<f64>| {
        if keep_above {
            coord(c) >= bound
        } else {
            coord(c) <= bound
        }
    };
    // Where segment p-c crosses the bound (p and c on opposite sides, so
    // the denominator is not zero); the crossing coordinate is set exactly.
    let cross = |p: Coord<f64>, c: Coord<f64>| {
        let t = (bound - coord(p)) / (coord(c) - coord(p));
        match axis {
            Axis::X => Coord {
                x: bound,
                y: p.y + t * (c.y - p.y),
            },
            Axis::Y => Coord {
                x: p.x + t * (c.x - p.x),
                y: bound,
            },
        }
    };
    let (mut prev, mut prev_in) = (last, inside(last));
    for &c in ring {
        let c_in = inside(c);
        if c_in != prev_in {
            out.push(cross(prev, c));
        }
        if c_in {
            out.push(c);
        }
        (prev, prev_in) = (c, c_in);
    }
}

/// Inclusive range of cells whose centres' unit squares meet [lo, hi],
/// clamped to 0..n; None if it misses them all.
fn cell_range(lo: f64, hi: f64, n: usize) -> Option<(usize, usize)> {
    let (a, b) = (
        (lo + 0.5).floor().max(0.0),
        (hi + 0.5).floor().min(n as f64 - 1.0),
    );
    (a <= b).then_some((a as usize, b as usize))
}

/// Signed coverage of every cell (exterior pieces minus hole pieces), not
/// yet clamped.
fn raw_coverage(mp: &MultiPolygon<f64>, grid: &Grid) -> Array2<f64> {
    let mut cov = Array2::zeros((grid.ny, grid.nx));
    let mut bufs = (Vec::new(), Vec::new(), Vec::new());
    for poly in &mp.0 {
        add_ring(&poly.exterior().0, 1.0, &mut cov, &mut bufs);
        for hole in poly.interiors() {
            add_ring(&hole.0, -1.0, &mut cov, &mut bufs);
        }
    }
    cov
}

type Buffers = (Vec<Coord<f64>>, Vec<Coord<f64>>, Vec<Coord<f64>>);

/// Add `role` (1 exterior, -1 hole) times the area of ring ∩ cell to each
/// cell of the ring's bounding box, whichever way the ring winds.
fn add_ring(
    ring: &[Coord<f64>],
    role: f64,
    cov: &mut Array2<f64>,
    (tmp, strip, cell): &mut Buffers,
) {
    let ring = match ring.split_last() {
        Some((last, rest)) if Some(last) == rest.first() => rest,
        _ => ring,
    };
    if ring.len() < 3 {
        return;
    }
    let Some(bbox) = LineString::from(ring.to_vec()).bounding_rect() else {
        return;
    };
    let orientation = twice_area(ring, bbox.min()).signum();
    if orientation == 0.0 || !orientation.is_finite() {
        return;
    }
    let weight = 0.5 * role * orientation;
    let (ny, nx) = cov.dim();
    let Some((j0, j1)) = cell_range(bbox.min().y, bbox.max().y, ny) else {
        return;
    };
    for j in j0..=j1 {
        let y = j as f64;
        clip(ring, Axis::Y, y - 0.5, true, tmp);
        clip(tmp, Axis::Y, y + 0.5, false, strip);
        if strip.len() < 3 {
            continue;
        }
        let (xlo, xhi) = strip
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| {
                (lo.min(c.x), hi.max(c.x))
            });
        let Some((i0, i1)) = cell_range(xlo, xhi, nx) else {
            continue;
        };
        for i in i0..=i1 {
            let x = i as f64;
            clip(strip, Axis::X, x - 0.5, true, tmp);
            clip(tmp, Axis::X, x + 0.5, false, cell);
            if cell.len() >= 3 {
                cov[[j, i]] += weight * twice_area(cell, Coord { x, y });
            }
        }
    }
}

/// Refuse coverage beyond [0, 1] by more than round-off.
fn check_coverage(raw: &Array2<f64>) -> std::result::Result<(), String> {
    for ((j, i), &c) in raw.indexed_iter() {
        if !(-ROUND_OFF..=1.0 + ROUND_OFF).contains(&c) {
            return Err(format!(
                "non-overlapping polygons with holes inside their exteriors and rings that \
                 do not cross themselves, but cell (i {i}, j {j}) is covered {c:.6} times \
                 (coverage must lie in [0, 1])"
            ));
        }
    }
    Ok(())
}

fn outside_message(
    name: &str,
    lonlat: &MultiPolygon<f64>,
    ix: &MultiPolygon<f64>,
    grid: &Grid,
) -> String {
    let span = |r: Option<Rect<f64>>| {
        r.map(|r| {
            format!(
                "{:.4}..{:.4}, {:.4}..{:.4}",
                r.min().x,
                r.max().x,
                r.min().y,
                r.max().y
            )
        })
        .unwrap_or_default()
    };
    format!(
        "a region overlapping the model grid, but region {name:?} lies outside the model grid: \
         its lon, lat span {} (cell index i, j span {}) and the grid's cells span i, j \
         -0.5..{}, -0.5..{}",
        span(lonlat.bounding_rect()),
        span(ix.bounding_rect()),
        grid.nx as f64 - 0.5,
        grid.ny as f64 - 0.5
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Case;

    const CASE: &str = r#"
[run]
name = "regions"
start = "2023-01-01T00:00:00Z"
hours = 1
dt_s = 600
[grid]
projection = "latlon"
centre_lon = 100.5
centre_lat = 20.5
nx = 10
ny = 8
dx = 1.0
dy = 1.0
layer_tops_m = [100.0]
[species]
names = ["PM25"]
[met]
kind = "analytic"
flow = "uniform"
u_ms = 1.0
v_ms = 0.0
[output]
dir = "out"
"#;

    /// 10 x 8 lat-lon grid of 1-degree cells: cell (i, j) spans lon
    /// 100+i..101+i, lat 20+j..21+j, and index = (lon - 100.5, lat - 20.5).
    fn latlon_grid() -> Grid {
        let case = Case::from_str(CASE, Path::new("/tmp/case.toml")).unwrap();
        Grid::new(&case.grid)
    }

    fn default_grid() -> Grid {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let case = Case::load(&root.join("configs/default.toml")).unwrap();
        Grid::new(&case.grid)
    }

    fn ring(pts: &[(f64, f64)]) -> String {
        let mut s: Vec<String> = pts.iter().map(|(x, y)| format!("[{x}, {y}]")).collect();
        s.push(s[0].clone());
        format!("[{}]", s.join(", "))
    }

    fn rect(lon0: f64, lat0: f64, lon1: f64, lat1: f64) -> Vec<(f64, f64)> {
        vec![(lon0, lat0), (lon1, lat0), (lon1, lat1), (lon0, lat1)]
    }

    fn feature(name: &str, geometry: &str) -> String {
        format!(
            r#"{{"type": "Feature", "properties": {{"name": "{name}"}}, "geometry": {geometry}}}"#
        )
    }

    fn polygon_geom(rings: &[Vec<(f64, f64)>]) -> String {
        let r: Vec<String> = rings.iter().map(|r| ring(r)).collect();
        format!(
            r#"{{"type": "Polygon", "coordinates": [{}]}}"#,
            r.join(", ")
        )
    }

    fn collection(features: &[String]) -> String {
        format!(
            r#"{{"type": "FeatureCollection", "features": [{}]}}"#,
            features.join(", ")
        )
    }

    fn parse(text: &str, grid: &Grid) -> Result<RegionMap> {
        RegionMap::parse(text, Path::new("regions.geojson"), "name", grid)
    }

    fn one(rings: &[Vec<(f64, f64)>], grid: &Grid) -> Array2<f64> {
        let map = parse(&collection(&[feature("A", &polygon_geom(rings))]), grid).unwrap();
        map.coverage[0].clone()
    }

    /// Every cell equals `expected` (i, j, fraction) or else 0, to `tol`.
    fn assert_cells(cov: &Array2<f64>, expected: &[(usize, usize, f64)], tol: f64) {
        for ((j, i), &c) in cov.indexed_iter() {
            let want = expected
                .iter()
                .find(|e| e.0 == i && e.1 == j)
                .map_or(0.0, |e| e.2);
            assert!(
                (c - want).abs() <= tol,
                "cell (i {i}, j {j}): {c} != {want}"
            );
        }
    }

    #[test]
    fn aligned_rectangle_covers_exactly_its_two_by_three_cells() {
        // lon 102..104 x lat 23..26 = cells i 2..=3, j 3..=5, each whole.
        let g = latlon_grid();
        let cov = one(&[rect(102.0, 23.0, 104.0, 26.0)], &g);
        let mut want = vec![];
        for j in 3..=5 {
            for i in 2..=3 {
                want.push((i, j, 1.0));
            }
        }
        assert_cells(&cov, &want, 1e-12);
        assert!((cov.sum() - 6.0).abs() < 1e-12);
    }

    #[test]
    fn rectangle_shifted_a_quarter_cell_gives_products_of_edge_overlaps() {
        // lon 102.25..104.25: cell i 2 holds 103-102.25 = 0.75 of its width,
        // i 3 all of it, i 4 104.25-104 = 0.25. lat 23.25..26.25: j 3 0.75,
        // j 4 and 5 1, j 6 0.25. Each cell's fraction is the product, e.g.
        // (2, 3) 0.75 x 0.75 = 0.5625 and (4, 6) 0.25 x 0.25 = 0.0625.
        let g = latlon_grid();
        let cov = one(&[rect(102.25, 23.25, 104.25, 26.25)], &g);
        let xs = [(2, 0.75), (3, 1.0), (4, 0.25)];
        let ys = [(3, 0.75), (4, 1.0), (5, 1.0), (6, 0.25)];
        let mut want = vec![];
        for &(j, fy) in &ys {
            for &(i, fx) in &xs {
                want.push((i, j, fx * fy));
            }
        }
        assert!(want.contains(&(2, 3, 0.5625)) && want.contains(&(4, 6, 0.0625)));
        assert_cells(&cov, &want, 1e-12);
    }

    #[test]
    fn right_triangle_area_is_half_base_times_height_and_cut_cells_are_exact() {
        // Legs b = 3 (lon 102..105) and h = 2 (lat 22..24) cells from the
        // right angle at (102, 22) = index (1.5, 1.5). With u = lon - 102 and
        // v = lat - 22 the hypotenuse is v = 2 - 2u/3. Cells (i = 2 + floor u,
        // j = 2 + floor v):
        //   (2,2): u 0..1 under v >= 1 throughout: 1
        //   (3,2): full for u 1..1.5 (0.5), then int_1.5^2 (2 - 2u/3) du
        //          = [2u - u^2/3] = 2.6667 - 2.25 = 5/12: total 11/12
        //   (4,2): int_2^3 (2 - 2u/3) du = 3 - 8/3 = 1/3
        //   (2,3): int_0^1 (1 - 2u/3) du = 1 - 1/3 = 2/3
        //   (3,3): int_1^1.5 (1 - 2u/3) du = 0.5 - 1.25/3 = 1/12
        // Sum 1 + 11/12 + 1/3 + 2/3 + 1/12 = 3 = b h / 2.
        let g = latlon_grid();
        let cov = one(&[vec![(102.0, 22.0), (105.0, 22.0), (102.0, 24.0)]], &g);
        // Cell area is 1 in index units on this grid.
        assert!((cov.sum() - 0.5 * 3.0 * 2.0).abs() < 1e-12, "{}", cov.sum());
        let want = [
            (2, 2, 1.0),
            (3, 2, 11.0 / 12.0),
            (4, 2, 1.0 / 3.0),
            (2, 3, 2.0 / 3.0),
            (3, 3, 1.0 / 12.0),
        ];
        assert_cells(&cov, &want, 1e-12);
    }

    #[test]
    fn hole_is_subtracted_from_its_exterior() {
        // Exterior lon 102..106 x lat 22..26: cells i 2..=5, j 2..=5 whole.
        // Hole 103.5..104.5 x 23.5..24.5 takes a quarter from each of cells
        // i 3..=4, j 3..=4 (written clockwise here, counter-clockwise is the
        // RFC's rule; orientation must not matter). Total 16 - 1 = 15.
        let g = latlon_grid();
        let mut hole = rect(103.5, 23.5, 104.5, 24.5);
        hole.reverse();
        let cov = one(&[rect(102.0, 22.0, 106.0, 26.0), hole.clone()], &g);
        let mut want = vec![];
        for j in 2..=5 {
            for i in 2..=5 {
                let quarter = (3..=4).contains(&i) && (3..=4).contains(&j);
                want.push((i, j, if quarter { 0.75 } else { 1.0 }));
            }
        }
        assert_cells(&cov, &want, 1e-12);
        assert!((cov.sum() - 15.0).abs() < 1e-12);
        // The same hole wound the other way round gives the same coverage.
        hole.reverse();
        let again = one(&[rect(102.0, 22.0, 106.0, 26.0), hole], &g);
        assert_cells(&again, &want, 1e-12);
    }

    #[test]
    fn multipolygon_of_two_disjoint_squares() {
        // Square 1: lon 101..102 x lat 21..22 = cell (1, 1) whole. Square 2:
        // lon 106.5..107.5 x lat 25..26 = half of cells (6, 5) and (7, 5).
        let g = latlon_grid();
        let geom = format!(
            r#"{{"type": "MultiPolygon", "coordinates": [[{}], [{}]]}}"#,
            ring(&rect(101.0, 21.0, 102.0, 22.0)),
            ring(&rect(106.5, 25.0, 107.5, 26.0))
        );
        let map = parse(&collection(&[feature("two", &geom)]), &g).unwrap();
        assert_cells(
            &map.coverage[0],
            &[(1, 1, 1.0), (6, 5, 0.5), (7, 5, 0.5)],
            1e-12,
        );
        // coverage_of on the same geometry as geo types agrees.
        let sq = |r: Vec<(f64, f64)>| Polygon::new(LineString::from(r), vec![]);
        let mp = MultiPolygon(vec![
            sq(rect(101.0, 21.0, 102.0, 22.0)),
            sq(rect(106.5, 25.0, 107.5, 26.0)),
        ]);
        let cov = coverage_of(&mp, &g);
        assert_cells(&cov, &[(1, 1, 1.0), (6, 5, 0.5), (7, 5, 0.5)], 1e-12);
    }

    #[test]
    fn concave_polygon_with_a_hole_matches_geo_boolean_ops_cell_by_cell() {
        use geo::BooleanOps;
        // A 13-pointed star (concave, vertices off the cell lines) with an
        // off-centre hexagonal hole, on the lat-lon grid where index space
        // is lon/lat shifted by (100.5, 20.5), so cells are unit squares in
        // lon/lat too. Reference: geo's general polygon overlay, which
        // snaps coordinates to a fixed-point (i32) grid over the shapes'
        // extent (~6 degrees / 2^31 ~ 3e-9), so it agrees only to ~1e-9 in
        // area (seen: 1.4e-9); hence 1e-7 per cell. The total is checked
        // exactly against the shoelace area (geo::Area), to 1e-12.
        let g = latlon_grid();
        let (cx, cy) = (104.37, 23.81);
        let star: Vec<(f64, f64)> = (0..26)
            .map(|k| {
                let a = k as f64 * std::f64::consts::PI / 13.0 + 0.1;
                let r = if k % 2 == 0 { 3.1 } else { 1.3 };
                (cx + r * a.cos(), cy + r * a.sin())
            })
            .collect();
        let hole: Vec<(f64, f64)> = (0..6)
            .map(|k| {
                let a = k as f64 * std::f64::consts::PI / 3.0;
                (cx + 0.2 + 0.7 * a.cos(), cy - 0.1 + 0.7 * a.sin())
            })
            .collect();
        let cov = one(&[star.clone(), hole.clone()], &g);
        let poly = Polygon::new(LineString::from(star), vec![LineString::from(hole)]);
        let mut checked = 0;
        for ((j, i), &c) in cov.indexed_iter() {
            let (x, y) = (100.5 + i as f64, 20.5 + j as f64);
            let cell = Rect::new(
                Coord {
                    x: x - 0.5,
                    y: y - 0.5,
                },
                Coord {
                    x: x + 0.5,
                    y: y + 0.5,
                },
            )
            .to_polygon();
            let want = poly.intersection(&cell).unsigned_area();
            assert!(
                (c - want).abs() < 1e-7,
                "cell (i {i}, j {j}): {c} vs geo {want}"
            );
            checked += usize::from(want > 0.0 && want < 1.0);
        }
        assert!(checked > 20, "only {checked} partly covered cells");
        assert!((cov.sum() - poly.unsigned_area()).abs() < 1e-12);
    }

    #[test]
    fn one_degree_box_on_the_lambert_grid_has_its_spherical_area() {
        // Box lon 111..112 x lat 26..27 near the default grid's centre. Its
        // area on the model's sphere (R = EARTH_RADIUS, as the projection)
        // is R^2 (sin 27 - sin 26) (1 degree in radians).
        //
        // Tolerance: grid.area is the TRUE cell area, dx dy / k^2 with the
        // Lambert scale k at the cell centre (Snyder eq. 15-4), so the
        // map-scale distortion is already removed; summing coverage x area
        // errs only where k varies inside a partly covered cell. d ln k /
        // d phi = tan phi - n / cos phi, about 0.01 per radian here, is
        // 2e-5 across a 12 km cell (4e-5 in 1/k^2), and edge cells hold
        // under half the box, with centroid offsets of at most half a cell
        // that cancel between opposite edges: under 1e-5 (seen: 4e-7).
        // Densification error (sagitta) is ~1e-6 cell per edge piece.
        // Hence 2e-5, far tighter than the distortion itself: here k is
        // about 0.9976, so the map-plane area (coverage x dx dy) is off by
        // 1/k^2 - 1 ~ 0.5 %, which a ~1 % tolerance could not even see.
        use crate::grid::EARTH_RADIUS;
        let g = default_grid();
        let cov = one(&[rect(111.0, 26.0, 112.0, 27.0)], &g);
        let sphere = EARTH_RADIUS.powi(2)
            * (27f64.to_radians().sin() - 26f64.to_radians().sin())
            * 1f64.to_radians();
        let true_area = (&cov * &g.area).sum();
        let map_area = cov.sum() * g.dx * g.dy;
        println!(
            "1x1 degree box: sphere {sphere:.6e} m2, coverage x area {true_area:.6e} \
             (rel {:.2e}), coverage x dx dy {map_area:.6e} (rel {:.2e})",
            true_area / sphere - 1.0,
            map_area / sphere - 1.0
        );
        assert!((true_area / sphere - 1.0).abs() < 2e-5);
        assert!((map_area / sphere - 1.0).abs() > 3e-3);
    }

    #[test]
    fn contains_inside_outside_and_in_a_hole() {
        // The exterior and hole of `hole_is_subtracted_from_its_exterior`.
        let g = latlon_grid();
        let text = collection(&[
            feature(
                "ring",
                &polygon_geom(&[
                    rect(102.0, 22.0, 106.0, 26.0),
                    rect(103.5, 23.5, 104.5, 24.5),
                ]),
            ),
            feature("far", &polygon_geom(&[rect(108.0, 26.0, 109.0, 27.0)])),
        ]);
        let map = parse(&text, &g).unwrap();
        let r = map.index("ring").unwrap();
        assert_eq!(map.index("far"), Some(1));
        assert_eq!(map.index("nowhere"), None);
        assert!(map.contains(r, 102.5, 22.5), "inside");
        assert!(!map.contains(r, 101.5, 22.5), "outside");
        assert!(!map.contains(r, 104.0, 24.0), "in the hole");
        assert!(map.contains(1, 108.5, 26.5) && !map.contains(1, 102.5, 22.5));
        assert!(!map.contains(2, 102.5, 22.5), "no region 2");
        assert!(!map.contains(r, f64::NAN, 22.5));
    }

    #[test]
    fn contains_follows_a_curved_parallel_on_the_lambert_grid() {
        // On the Lambert grid the parallel lat = 27 is an arc about the
        // cone's apex (north), so the straight chord between (111, 27) and
        // (112, 27) lies north of it: by L^2 / (8 rho) with L = 99 km and
        // rho ~ 12,900 km, about 100 m (0.0009 degree) at lon 111.5. A point
        // 0.0003 degree (33 m) north of the parallel is outside the box but
        // inside the undensified chord; densified pieces of 1.2 km sag
        // ~1.5 cm, so the test below tells them apart.
        let g = default_grid();
        let text = collection(&[feature(
            "box",
            &polygon_geom(&[rect(111.0, 26.0, 112.0, 27.0)]),
        )]);
        let map = parse(&text, &g).unwrap();
        assert!(map.contains(0, 111.5, 26.9997));
        assert!(!map.contains(0, 111.5, 27.0003));
        assert!(map.contains(0, 111.5, 26.0003));
        assert!(!map.contains(0, 111.5, 25.9997));
        // The chord really does pass north of the test point.
        let (a, b) = (g.index_of(111.0, 27.0), g.index_of(112.0, 27.0));
        let p = g.index_of(111.5, 27.0003);
        let chord_y = a.1 + (b.1 - a.1) * (p.0 - a.0) / (b.0 - a.0);
        assert!(chord_y > p.1, "chord {chord_y} vs point {}", p.1);
    }

    fn err(text: &str, grid: &Grid) -> String {
        match parse(text, grid) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => {
                assert!(matches!(e, Error::Input { .. }));
                e.to_string()
            }
        }
    }

    #[test]
    fn bad_files_are_refused_naming_the_feature() {
        let g = latlon_grid();
        let good = feature("A", &polygon_geom(&[rect(102.0, 22.0, 103.0, 23.0)]));
        let with = |second: String| collection(&[good.clone(), second]);
        let cases: Vec<(String, &[&str])> = vec![
            (
                with(feature("B", r#"{"type": "Point", "coordinates": [102.5, 22.5]}"#)),
                &["features[1] (name \"B\")", "found a Point"],
            ),
            (
                with(feature("B", r#"{"type": "LineString", "coordinates": [[102, 22], [103, 23]]}"#)),
                &["features[1] (name \"B\")", "found a LineString"],
            ),
            (
                with(feature("B", "null")),
                &["features[1] (name \"B\")", "null geometry"],
            ),
            (
                with(
                    r#"{"type": "Feature", "properties": {"id": 7, "NAME": "B"},
                        "geometry": {"type": "Polygon", "coordinates": [[[102,22],[103,22],[103,23],[102,22]]]}}"#
                        .into(),
                ),
                &["features[1]", "`name`", "`id`", "`NAME`"],
            ),
            (
                with(
                    r#"{"type": "Feature", "properties": {"name": true},
                        "geometry": {"type": "Polygon", "coordinates": [[[102,22],[103,22],[103,23],[102,22]]]}}"#
                        .into(),
                ),
                &["features[1]", "a boolean"],
            ),
            (
                with(feature("A", &polygon_geom(&[rect(104.0, 22.0, 105.0, 23.0)]))),
                &["features[1] (name \"A\")", "features[0] and features[1]"],
            ),
            (
                with(feature("B", r#"{"type": "Polygon", "coordinates": []}"#)),
                &["features[1] (name \"B\")", "no rings"],
            ),
            (
                with(feature("B", r#"{"type": "MultiPolygon", "coordinates": []}"#)),
                &["features[1] (name \"B\")", "found none"],
            ),
            (
                with(feature("B", r#"{"type": "Polygon", "coordinates": [[[102,22],[103,23],[102,22],[103,23]]]}"#)),
                &["features[1] (name \"B\")", "3 distinct points, found 2"],
            ),
            (
                with(feature("B", &polygon_geom(&[vec![(102.0, 22.0), (103.0, 23.0), (104.0, 24.0)]]))),
                &["features[1] (name \"B\")", "zero area"],
            ),
            (
                with(feature("B", &polygon_geom(&[rect(179.0, 22.0, 181.0, 23.0)]))),
                &["features[1] (name \"B\")", "[181, 22]"],
            ),
            (
                with(feature("B", &polygon_geom(&[rect(102.0, 89.0, 103.0, 91.0)]))),
                &["features[1] (name \"B\")", "lat in [-90, 90]"],
            ),
            (
                with(feature(
                    "B",
                    r#"{"type": "MultiPolygon", "coordinates": [[[[102,22],[103,22],[103,23],[102,22]]], [[[102,22],[103,22],[103]]]]}"#,
                )),
                &["features[1] (name \"B\")", "polygon 1", "position 2"],
            ),
            (
                with(feature(
                    "B",
                    &polygon_geom(&[rect(102.0, 22.0, 103.0, 23.0), rect(102.0, 22.0, 103.0, 23.0)]),
                )),
                &["features[1] (name \"B\")", "holes smaller than their exterior"],
            ),
            (
                with(feature("Far", &polygon_geom(&[rect(0.0, 0.0, 1.0, 1.0)]))),
                &["features[1] (name \"Far\")", "region \"Far\" lies outside the model grid"],
            ),
            (
                with(feature(
                    "B",
                    &format!(
                        r#"{{"type": "MultiPolygon", "coordinates": [[{}], [{}]]}}"#,
                        ring(&rect(102.0, 22.0, 104.0, 24.0)),
                        ring(&rect(102.5, 22.0, 103.5, 23.0))
                    ),
                )),
                &["features[1] (name \"B\")", "covered 1.500000 times"],
            ),
            (
                with(feature(
                    "B",
                    &polygon_geom(&[rect(102.0, 22.0, 104.0, 24.0), rect(101.0, 22.0, 102.0, 23.0)]),
                )),
                &["features[1] (name \"B\")", "covered -1.000000 times"],
            ),
            (
                with(feature(
                    "B",
                    r#"{"type": "Polygon", "coordinates": [[[102,22],[104,24],[104,22],[102,24],[102,22]]]}"#,
                )),
                &["features[1] (name \"B\")", "zero area"],
            ),
            (
                with(feature("B", r#"{"type": "Polygon", "coordinates": [[[102,22],[1e999,22],[103,23],[102,22]]]}"#)),
                &["regions.geojson", "does not parse"],
            ),
            (r#"{"type": "Polygon", "coordinates": [[[102,22],[103,22],[103,23],[102,22]]]}"#.into(), &["bare Polygon"]),
            (collection(&[]), &["empty FeatureCollection"]),
            ("{not json".into(), &["does not parse"]),
        ];
        for (text, needles) in &cases {
            let msg = err(text, &g);
            assert!(msg.starts_with("regions.geojson: "), "{msg}");
            for n in *needles {
                assert!(msg.contains(n), "{msg:?} lacks {n:?}");
            }
        }
    }

    #[test]
    fn names_numbers_and_a_lone_feature() {
        let g = latlon_grid();
        let geom = polygon_geom(&[rect(102.0, 22.0, 103.0, 23.0)]);
        let text = format!(
            r#"{{"type": "Feature", "properties": {{"code": 430400}}, "geometry": {geom}}}"#
        );
        let map = RegionMap::parse(&text, Path::new("x.geojson"), "code", &g).unwrap();
        assert_eq!(map.names, vec!["430400"]);
        // A lone feature's errors call it "feature".
        let text =
            format!(r#"{{"type": "Feature", "properties": {{"code": 1}}, "geometry": {geom}}}"#);
        let e = RegionMap::parse(&text, Path::new("x.geojson"), "name", &g).unwrap_err();
        assert!(e.to_string().contains("field `feature`"), "{e}");
    }

    #[test]
    fn load_reads_a_file_and_reports_a_missing_one() {
        let g = latlon_grid();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.geojson");
        let text = collection(&[
            feature("B", &polygon_geom(&[rect(102.0, 22.0, 103.0, 23.0)])),
            feature("A", &polygon_geom(&[rect(104.0, 22.0, 105.0, 23.0)])),
        ]);
        std::fs::write(&path, text).unwrap();
        let map = RegionMap::load(&path, "name", &g).unwrap();
        assert_eq!(map.names, vec!["B", "A"]);
        assert_eq!(map.file, path);
        assert_eq!(map.coverage[1][[2, 4]], 1.0);
        let e = RegionMap::load(&dir.path().join("none.geojson"), "name", &g).unwrap_err();
        assert!(e.to_string().contains("none.geojson") && e.to_string().contains("readable"));
    }

    #[test]
    fn few_thousand_vertex_polygons_rasterise_fast_on_the_default_grid() {
        // 30 wiggly "cities" of 4000 vertices each (radius 0.3-0.5 degree,
        // about 4 cells, spread over the default grid) and one 12,000-vertex
        // "province" of radius ~3 degrees. Loading the 30 must take well
        // under a second in an optimised build (tests build with
        // opt-level 3). Their vertices lie ~0.006 cell apart, so no edge is
        // split and each coverage sum (in cells) must equal the polygon's
        // shoelace area in index space up to round-off.
        let g = default_grid();
        let wiggly = |c: usize, n: usize, scale: f64| -> Vec<(f64, f64)> {
            let (cx, cy) = (108.5 + (c % 6) as f64, 23.0 + (c / 6) as f64 * 1.2);
            (0..n)
                .map(|k| {
                    let a = k as f64 * std::f64::consts::TAU / n as f64;
                    let r =
                        scale * (0.4 + 0.08 * (7.0 * a + c as f64).sin() + 0.02 * (61.0 * a).cos());
                    (cx + r * a.cos(), cy + r * a.sin())
                })
                .collect()
        };
        let index_area = |pts: &[(f64, f64)]| {
            let ix: Vec<Coord<f64>> = pts
                .iter()
                .map(|&(x, y)| {
                    let (fi, fj) = g.index_of(x, y);
                    Coord { x: fi, y: fj }
                })
                .collect();
            0.5 * twice_area(&ix, ix[0]).abs()
        };
        let mut features = vec![];
        let mut index_areas = vec![];
        for c in 0..30 {
            let pts = wiggly(c, 4000, 1.0);
            index_areas.push(index_area(&pts));
            features.push(feature(&format!("c{c}"), &polygon_geom(&[pts])));
        }
        let text = collection(&features);
        let t = std::time::Instant::now();
        let map = parse(&text, &g).unwrap();
        let secs = t.elapsed().as_secs_f64();
        for (cov, want) in map.coverage.iter().zip(&index_areas) {
            assert!(
                (cov.sum() / want - 1.0).abs() < 1e-12,
                "{} vs {want}",
                cov.sum()
            );
        }
        // Rasterisation alone (no JSON), one city and one province.
        let geo_poly =
            |pts: Vec<(f64, f64)>| MultiPolygon(vec![Polygon::new(LineString::from(pts), vec![])]);
        let city = geo_poly(wiggly(14, 4000, 1.0));
        let t1 = std::time::Instant::now();
        let reps = 20;
        for _ in 0..reps {
            std::hint::black_box(coverage_of(std::hint::black_box(&city), &g));
        }
        let city_ms = t1.elapsed().as_secs_f64() * 1e3 / reps as f64;
        let pts = wiggly(14, 12_000, 7.5);
        let want = index_area(&pts);
        let province = geo_poly(pts);
        let t2 = std::time::Instant::now();
        let cov = coverage_of(&province, &g);
        let province_ms = t2.elapsed().as_secs_f64() * 1e3;
        assert!((cov.sum() / want - 1.0).abs() < 1e-12);
        println!(
            "on {} x {}: 30 polygons x 4000 vertices parsed and rasterised in {:.1} ms; \
             one 4000-vertex city rasterised in {city_ms:.2} ms; one 12,000-vertex \
             province ({:.0} cells) in {province_ms:.1} ms",
            g.nx,
            g.ny,
            secs * 1e3,
            want
        );
        assert!(secs < 1.0, "{secs} s");
    }

    #[test]
    fn the_default_case_city_borders_load_and_hold_their_city_centres() {
        // inputs/cities.geojson (28 prefecture cities; areas on the WGS84
        // ellipsoid in inputs/README.md). Within the grid, coverage x area
        // on the R = 6370 km sphere should be within ~1 % of them for
        // cities wholly inside (sphere vs ellipsoid at 22-28 N differ by a
        // few tenths of a percent; seen: +0.12 to +0.18 %).
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let path = root.join("inputs/cities.geojson");
        let g = default_grid();
        let t = std::time::Instant::now();
        let map = RegionMap::load(&path, "name", &g).unwrap();
        println!(
            "inputs/cities.geojson: {} regions in {:.1} ms",
            map.names.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
        assert_eq!(map.names.len(), 28);
        for (name, lon, lat, km2) in [
            ("Changsha", 112.94, 28.23, 11_820.0),
            ("Hengyang", 112.57, 26.89, 15_304.0),
            ("Chenzhou", 113.01, 25.77, 19_324.0),
            ("Liuzhou", 109.41, 24.33, 18_601.0),
        ] {
            let r = map.index(name).unwrap();
            assert!(map.contains(r, lon, lat), "{name}");
            let others = (0..map.names.len())
                .filter(|&o| o != r && map.contains(o, lon, lat))
                .count();
            assert_eq!(others, 0, "{name}'s centre in another city");
            let area = (&map.coverage[r] * &g.area).sum() / 1e6;
            println!("{name}: {area:.0} km2 vs {km2}");
            assert!(
                (area / km2 - 1.0).abs() < 0.01,
                "{name}: {area} km2 vs {km2}"
            );
        }
        // Neighbouring cities share their borders vertex for vertex, and
        // a shared edge densifies to the same points from either side, but
        // the data do overlap a little: slivers of 5e-7 to 2e-5 deg2
        // (0.006 to 0.25 km2) between 21 pairs of neighbours (Guigang x
        // Yulin the largest), so the regions' summed coverage reaches
        // 1.0006 in one cell. Allow that, no more.
        let total = map
            .coverage
            .iter()
            .fold(Array2::<f64>::zeros((g.ny, g.nx)), |a, c| a + c);
        let max = total.iter().cloned().fold(0.0, f64::max);
        assert!(max <= 1.0 + 1e-3, "max summed coverage {max}");
    }
}
