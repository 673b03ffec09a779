//! What lies beyond each side of a grid. Advection and diffusion read the
//! same description, and the lateral budget is booked only where a side is
//! `Open`.

/// One side of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    West,
    East,
    South,
    North,
}

impl Side {
    pub const ALL: [Side; 4] = [Side::West, Side::East, Side::South, Side::North];

    /// Position in [`Side::ALL`] (west, east, south, north).
    pub fn index(self) -> usize {
        match self {
            Side::West => 0,
            Side::East => 1,
            Side::South => 2,
            Side::North => 3,
        }
    }

    pub fn opposite(self) -> Side {
        match self {
            Side::West => Side::East,
            Side::East => Side::West,
            Side::South => Side::North,
            Side::North => Side::South,
        }
    }
}

/// The kind of a side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// The domain boundary: inflow takes the boundary values, outflow
    /// leaves; turbulent diffusion is closed. Booked in the lateral budget.
    Open,
    /// The opposite side (idealised tests). Both sides of a direction are
    /// periodic together.
    Periodic,
    /// A neighbouring subdomain, whose `width` nearest cells are exchanged
    /// through the communicator before each stencil that reaches across.
    Halo { width: usize },
}

/// The four sides of a grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edges {
    pub west: Edge,
    pub east: Edge,
    pub south: Edge,
    pub north: Edge,
}

impl Edges {
    pub fn all(e: Edge) -> Edges {
        Edges {
            west: e,
            east: e,
            south: e,
            north: e,
        }
    }

    pub fn side(&self, s: Side) -> Edge {
        match s {
            Side::West => self.west,
            Side::East => self.east,
            Side::South => self.south,
            Side::North => self.north,
        }
    }

    pub fn set(&mut self, s: Side, e: Edge) {
        match s {
            Side::West => self.west = e,
            Side::East => self.east = e,
            Side::South => self.south = e,
            Side::North => self.north = e,
        }
    }

    /// True when x wraps round (west and east periodic).
    pub fn periodic_x(&self) -> bool {
        self.west == Edge::Periodic
    }

    /// True when y wraps round (south and north periodic).
    pub fn periodic_y(&self) -> bool {
        self.south == Edge::Periodic
    }

    /// True when some side faces a neighbouring subdomain.
    pub fn any_halo(&self) -> bool {
        Side::ALL
            .iter()
            .any(|&s| matches!(self.side(s), Edge::Halo { .. }))
    }
}
