//! Terrain: dividing-streamline height.
