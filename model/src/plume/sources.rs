//! Sources of the plume model: stacks from the stack CSV, area and line
//! sources from the case.

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
