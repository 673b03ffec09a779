//! Sources of the plume model: stacks from the project's stack CSV (the
//! format of `emissions::point`: one row per stack and species), and area
//! and line sources from the case file (`super::case`).
//!
//! Stack rows are grouped by `name` into one [`Source`] with a rate per
//! species (rows of the same stack and species in several sectors are
//! summed); every row of a stack must give the same location and exit
//! parameters. Positions go into the case's local frame; rates are
//! converted to g/s through the unit table (`input::units`,
//! `Quantity::EmissionRate`). Ranges are those of `emissions::point`.

use super::frame::LocalFrame;
use crate::emissions::point::{for_each_stack_row, StackRow};
use crate::error::{Error, Result};
use std::path::Path;

/// Geometry of a source.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A stack: height, inner diameter m, exit velocity m/s, exit temperature K.
    Point {
        height: f64,
        diameter: f64,
        velocity: f64,
        temperature: f64,
    },
    /// A rectangle `x_len` by `y_len` m from its south-west corner (the
    /// source's x, y), rotated `angle_deg` clockwise from north, releasing
    /// at `height` m.
    Area {
        x_len: f64,
        y_len: f64,
        angle_deg: f64,
        height: f64,
    },
    /// A line from the source's x, y to (x_end, y_end), `width` m wide,
    /// releasing at `height` m.
    Line {
        x_end: f64,
        y_end: f64,
        width: f64,
        height: f64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub name: String,
    /// m east and north of the case origin (SW corner of an area, start of a line).
    pub x: f64,
    pub y: f64,
    /// Base elevation above sea level, m.
    pub elevation: f64,
    pub shape: Shape,
    /// (species name, g/s); per source, not per area.
    pub rates: Vec<(String, f64)>,
}

/// Stacks of the stack CSV at `path` (header
/// `name,lon,lat,height_m,diameter_m,velocity_m_s,temperature_k,sector,species,rate,units`,
/// optional `city`, which is ignored here), in the order first named.
/// Only rows of `species` (all when empty) and stacks named in `names`
/// (all when empty) are kept; a stack left with no rate is dropped.
pub fn stacks_from_csv(
    path: &Path,
    frame: &LocalFrame,
    species: &[String],
    names: &[String],
) -> Result<Vec<Source>> {
    // (source, line of its first row, lon, lat)
    let mut out: Vec<(Source, String, f64, f64)> = Vec::new();
    for_each_stack_row(path, |r, row| {
        let StackRow {
            name,
            lon,
            lat,
            height: h,
            diameter: d,
            velocity: w,
            temperature: t,
            species: sp,
            kg_s: kgs,
            ..
        } = r;
        if !names.is_empty() && !names.contains(&name) {
            return Ok(());
        }
        let shape = Shape::Point {
            height: h,
            diameter: d,
            velocity: w,
            temperature: t,
        };
        let g_s = kgs * 1000.0;
        match out.iter_mut().find(|s| s.0.name == name) {
            Some((s, first, slon, slat)) => {
                if s.shape != shape || *slon != lon || *slat != lat {
                    return Err(row.error(
                        "name",
                        format!(
                            "the location and exit parameters of stack {name:?} as on its first row ({first}); every row of a stack must give the same"
                        ),
                    ));
                }
                if species.is_empty() || species.contains(&sp) {
                    match s.rates.iter_mut().find(|r| r.0 == sp) {
                        Some(r) => r.1 += g_s,
                        None => s.rates.push((sp, g_s)),
                    }
                }
            }
            None => {
                let (x, y) = frame.forward(lon, lat);
                let rates = if species.is_empty() || species.contains(&sp) {
                    vec![(sp, g_s)]
                } else {
                    vec![]
                };
                out.push((
                    Source {
                        name,
                        x,
                        y,
                        elevation: 0.0,
                        shape,
                        rates,
                    },
                    row.field("name"),
                    lon,
                    lat,
                ));
            }
        }
        Ok(())
    })?;
    let out: Vec<Source> = out
        .into_iter()
        .map(|s| s.0)
        .filter(|s| !s.rates.is_empty())
        .collect();
    if out.is_empty() {
        return Err(Error::input(
            path,
            "(rows)",
            "at least one stack emitting one of the case's species",
        ));
    }
    Ok(out)
}
