//! `airshed plume`: the hourly loop.
