//! The `airshed plume` case file.
