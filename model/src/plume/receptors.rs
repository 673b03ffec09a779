//! Receptors of the plume model.

/// A receptor in the local frame, as AERMAP gives them: position, terrain
/// elevation, the hill height scale that controls the dividing streamline,
/// and the flagpole height above ground.
#[derive(Debug, Clone, PartialEq)]
pub struct Receptor {
    pub name: String,
    /// m east and north of the case origin.
    pub x: f64,
    pub y: f64,
    /// Terrain elevation above sea level, m.
    pub elevation: f64,
    /// Hill height scale above sea level, m (AERMAP's hc; = elevation on flat ground).
    pub hill_height: f64,
    /// Height above ground, m.
    pub flagpole: f64,
}
