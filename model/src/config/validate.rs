//! Raw case -> typed [`Case`], checking every key, unit and range first.
//! Messages are `FILE: key `KEY`: what was expected`.
//!
//! Every number has a range: finite, and within physical bounds given
//! (with their source) by the constants below; `docs/case-file.md` lists
//! them next to each key. The run's length, step and sub-steps are checked
//! against [`crate::limits`] here too, so `airshed check` refuses what
//! `airshed run` would.

use super::raw::{RawAttribution, RawCase, RawGrid, RawMet, RawRegime, RawSectors, RawTerrain};
use super::*;
use crate::limits::{num, MAX_STEPS, MAX_SUBSTEPS, MIN_DT_S};
use std::collections::BTreeMap;

/// Thinnest layer, m, and so the lowest first layer top: the reference
/// height of surface-layer similarity (the 10-m wind) and half the
/// thinnest first layer of common WRF and CMAQ grids (about 20 m).
pub const MIN_LAYER_M: f64 = 10.0;
/// Highest model top, m above ground: above the 50 hPa top of the default
/// CMAQ and WRF grids (20.6 km in the US Standard Atmosphere 1976) and the
/// highest tropopause (about 17 km, tropics). The chemistry is
/// tropospheric and the analytic atmosphere the 1976 troposphere.
pub const MAX_TOP_M: f64 = 25_000.0;
/// Metric cell sizes (lambert, cartesian), m: from 10 m (a building-block
/// scale below which the turbulence closures do not hold) to 500 km
/// (about twice the cells of the coarsest global models, 2 x 2.5 deg).
pub const CELL_M: (f64, f64) = (10.0, 500_000.0);
/// Lat-lon cell sizes, degrees: 1e-4 deg (11 m) to 5 deg.
pub const CELL_DEG: (f64, f64) = (1e-4, 5.0);
/// Widest Lambert conformal domain, m: a meridian from pole to pole
/// (20,000 km); beyond it the plane wraps round the cone.
pub const MAX_EXTENT_M: f64 = 2.0e7;
/// Largest wind component, m/s: the fastest jet-stream cores (about 100 m/s).
pub const MAX_WIND_MS: f64 = 100.0;
/// Surface temperature, K: around the world records, -89.2 C (183.95 K,
/// Vostok, 1983) and 56.7 C (329.8 K, Death Valley, 1913), WMO Archive of
/// Weather and Climate Extremes.
pub const SURFACE_T_K: (f64, f64) = (180.0, 340.0);
/// Coldest air the analytic atmosphere may reach at the model top, K: the
/// lower bound the met readers accept for temperature.
pub const MIN_AIR_T_K: f64 = 150.0;
/// Analytic mixing heights, m: the thinnest layer to the 8 km the met
/// readers accept (deep desert boundary layers reach 5-6 km).
pub const PBLH_M: (f64, f64) = (MIN_LAYER_M, 8000.0);
/// Largest analytic Kz, m2/s: above the peak of the convective boundary
/// layer's K profile (a few hundred m2/s; Holtslag & Boville 1993).
pub const MAX_KZ_M2S: f64 = 1000.0;
/// Largest Kz floor, m2/s: floors in use are 0.01-1 (CMAQ's KZMIN 0.01
/// rural to 1 urban); 100 is already mixed-layer mixing everywhere.
pub const MAX_KZ_MIN_M2S: f64 = 100.0;
/// Largest horizontal eddy diffusivity, m2/s: the order of synoptic-scale
/// horizontal mixing; grid-scale values in regional models are 1e2-1e4.
pub const MAX_KH_M2S: f64 = 1.0e5;
/// Largest precipitation rate, mm/h: what the met readers accept (the
/// world 1-hour record is 305 mm, Holt, Missouri, 1947).
pub const MAX_PRECIP_MM_H: f64 = 500.0;
/// Highest idealised terrain, m (Everest, 8849 m).
pub const MAX_TERRAIN_M: f64 = 9000.0;
/// Largest terrain radius, km: a hill's e-folding radius, a basin's
/// floor or an obstacle search; the largest basins (Tarim, Sichuan) are
/// 250-700 km across.
pub const MAX_TERRAIN_RADIUS_KM: f64 = 1000.0;
/// Most cell visits of the terrain's obstacle search (columns x search
/// window), a few seconds of work: the search is quadratic in its radius.
pub const MAX_TERRAIN_SEARCH: f64 = 1.0e9;
/// Largest background or initial concentration, ug/m3: ten times the
/// densest dust storms (about 1e4 ug/m3 of PM10).
pub const MAX_UGM3: f64 = 1.0e5;
/// `physics.max_courant`: at most 1 (PPM is monotone and positive below
/// it); below 0.1 it only multiplies the sub-steps.
pub const COURANT: (f64, f64) = (0.1, 1.0);
/// Largest `max_memory_gib` and `max_output_gib`: 1 PiB.
pub const MAX_GIB: f64 = 1_048_576.0;
/// Shortest output interval, h: one minute (met is hourly).
pub const MIN_INTERVAL_H: f64 = 1.0 / 60.0;
/// Most worker threads `run.threads` or `--threads` may ask for: far
/// beyond any useful count (results do not depend on it), and a clear
/// refusal instead of an OS error for a mistyped number.
pub const MAX_THREADS: usize = 1024;

struct Checker<'a> {
    file: &'a Path,
    base_dir: PathBuf,
}

impl Checker<'_> {
    fn err(&self, key: &str, expected: impl Into<String>) -> Error {
        Error::config(self.file, key, expected)
    }

    fn positive(&self, key: &str, v: f64) -> Result<f64> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(self.err(key, format!("a positive finite number, got {}", num(v))))
        }
    }

    /// `v` finite and within `[lo, hi]`; `what` says what it is.
    fn within(&self, key: &str, v: f64, (lo, hi): (f64, f64), what: &str) -> Result<f64> {
        if v.is_finite() && lo <= v && v <= hi {
            Ok(v)
        } else {
            Err(self.err(
                key,
                format!("{what} in [{}, {}], got {}", num(lo), num(hi), num(v)),
            ))
        }
    }

    /// `v` finite, above 0 and at most `hi`.
    fn up_to(&self, key: &str, v: f64, hi: f64, what: &str) -> Result<f64> {
        if v.is_finite() && 0.0 < v && v <= hi {
            Ok(v)
        } else {
            Err(self.err(key, format!("{what} in (0, {}], got {}", num(hi), num(v))))
        }
    }

    /// A path from the case file, resolved against the case file's directory.
    fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }
}

pub fn validate(raw: RawCase, file: &Path) -> Result<Case> {
    let c = Checker {
        file,
        base_dir: file.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let start = crate::time::parse_start(&raw.run.start).ok_or_else(|| {
        c.err(
            "run.start",
            format!(
                "a UTC time like 2023-01-20T00:00:00Z, got {:?}",
                raw.run.start
            ),
        )
    })?;
    let hours = c.positive("run.hours", raw.run.hours)?;
    let dt_s = c.within(
        "run.dt_s",
        raw.run.dt_s,
        (MIN_DT_S, 3600.0),
        "an outer step in seconds (met is hourly)",
    )?;
    if raw.run.threads > MAX_THREADS {
        return Err(c.err(
            "run.threads",
            format!(
                "a worker thread count from 0 (all cores) to {MAX_THREADS}, got {}",
                raw.run.threads
            ),
        ));
    }
    let max_memory_gib = raw
        .run
        .max_memory_gib
        .map(|g| c.up_to("run.max_memory_gib", g, MAX_GIB, "a memory ceiling in GiB"))
        .transpose()?;
    let max_output_gib = c.up_to(
        "run.max_output_gib",
        raw.run
            .max_output_gib
            .unwrap_or(crate::limits::DEFAULT_MAX_OUTPUT_GIB),
        MAX_GIB,
        "a ceiling on the run's outputs in GiB",
    )?;
    let grid = grid(&c, &raw.grid)?;
    if raw.species.names.is_empty() {
        return Err(c.err("species.names", "at least one species"));
    }
    let species = raw
        .species
        .names
        .iter()
        .map(|name| {
            crate::species::lookup(name).ok_or_else(|| {
                c.err(
                    "species.names",
                    format!(
                        "a species from the built-in table ({}), got {name:?}",
                        crate::species::known_names()
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if let Some(dup) = species
        .iter()
        .enumerate()
        .find(|(n, s)| species[..*n].iter().any(|t| t.name == s.name))
    {
        return Err(c.err(
            "species.names",
            format!("each species once; {:?} is listed twice", dup.1.name),
        ));
    }
    // Too big for memory (exit 4) before anything else is judged; Model::new
    // checks again with the tags counted. The grid check made the product fit.
    crate::limits::check_memory(
        file,
        max_memory_gib,
        grid.nx * grid.ny * grid.layer_tops_m.len(),
        species.len(),
    )?;
    let named = |table: &BTreeMap<String, f64>, key: &str| -> Result<Vec<Option<f64>>> {
        for (name, &v) in table {
            if !raw.species.names.contains(name) {
                return Err(c.err(
                    &format!("{key}.{name}"),
                    "a species listed in species.names",
                ));
            }
            c.within(
                &format!("{key}.{name}"),
                v,
                (0.0, MAX_UGM3),
                "a concentration in ug/m3",
            )?;
        }
        Ok(species.iter().map(|s| table.get(s.name).copied()).collect())
    };
    let per_species = |table: &BTreeMap<String, f64>, key: &str| -> Result<Vec<f64>> {
        Ok(named(table, key)?
            .into_iter()
            .map(|v| v.unwrap_or(0.0))
            .collect())
    };
    let b = &raw.boundary;
    let background_ugm3 = per_species(&b.background_ugm3, "boundary.background_ugm3")?;
    // A side's table overrides the background species by species.
    let side = |table: &BTreeMap<String, f64>, key: &str| -> Result<Vec<f64>> {
        Ok(named(table, key)?
            .into_iter()
            .zip(&background_ugm3)
            .map(|(v, &bg)| v.unwrap_or(bg))
            .collect())
    };
    let boundary = BoundarySpec {
        sides_ugm3: [
            side(&b.west_ugm3, "boundary.west_ugm3")?,
            side(&b.east_ugm3, "boundary.east_ugm3")?,
            side(&b.south_ugm3, "boundary.south_ugm3")?,
            side(&b.north_ugm3, "boundary.north_ugm3")?,
        ],
        background_ugm3: background_ugm3.clone(),
        initial_ugm3: per_species(&b.initial_ugm3, "boundary.initial_ugm3")?,
    };
    if let Some(rh) = raw.met.relative_humidity {
        if !(0.0..=1.0).contains(&rh) {
            return Err(c.err("met.relative_humidity", "a fraction between 0 and 1"));
        }
    }
    if !(0.0..10.0).contains(&raw.met.cloud_water_gkg) {
        return Err(c.err(
            "met.cloud_water_gkg",
            "a liquid water content between 0 and 10 g/kg",
        ));
    }
    if !(2.0..=7.0).contains(&raw.chemistry.cloud_ph) {
        return Err(c.err("chemistry.cloud_ph", "a cloud-water pH between 2 and 7"));
    }
    let met = met(&c, &raw.met, &start)?;
    met_on_grid(&c, &met, &grid)?;
    let p = &raw.physics;
    c.within(
        "physics.horizontal_kh_m2s",
        p.horizontal_kh_m2s,
        (0.0, MAX_KH_M2S),
        "a horizontal eddy diffusivity in m2/s (0: off)",
    )?;
    c.up_to(
        "physics.kz_min_m2s",
        p.kz_min_m2s,
        MAX_KZ_MIN_M2S,
        "a floor on Kz in m2/s",
    )?;
    c.within(
        "physics.max_courant",
        p.max_courant,
        COURANT,
        "the largest fraction of a cell's air mass one advection sub-step may move out \
         (PPM is monotone only up to 1; below 0.1 only multiplies the sub-steps)",
    )?;
    if !(0.5..=1.0).contains(&p.vertical_diffusion_theta) {
        return Err(c.err("physics.vertical_diffusion_theta", "a number in [0.5, 1]"));
    }
    if crate::land_use::LandUse::from_name(&p.land_use).is_none() {
        return Err(c.err(
            "physics.land_use",
            format!(
                "a Wesely (1989) land-use category: {}",
                crate::land_use::LandUse::known_names()
            ),
        ));
    }
    let ch = &raw.chemistry;
    for (key, v, lo, hi, what) in [
        (
            "chemistry.oh_peak_cm3",
            Some(ch.oh_peak_cm3),
            0.0,
            1e8,
            "an OH number density in [0, 1e8) molecules/cm3",
        ),
        (
            "chemistry.oh_cm3",
            ch.oh_cm3,
            0.0,
            1e8,
            "an OH number density in [0, 1e8) molecules/cm3",
        ),
        (
            "chemistry.ozone_ppb",
            Some(ch.ozone_ppb),
            0.0,
            1000.0,
            "an ozone mixing ratio in [0, 1000) ppb",
        ),
        (
            "chemistry.h2o2_ppb",
            Some(ch.h2o2_ppb),
            0.0,
            1000.0,
            "an H2O2 mixing ratio in [0, 1000) ppb",
        ),
        (
            "chemistry.ozone_recovery_hours",
            Some(ch.ozone_recovery_hours),
            0.0,
            1e4,
            "a relaxation time in [0, 1e4) hours (0: off)",
        ),
        (
            "chemistry.h2o2_relaxation_hours",
            Some(ch.h2o2_relaxation_hours),
            0.0,
            1e4,
            "a relaxation time in [0, 1e4) hours (0: off)",
        ),
        (
            "chemistry.n2o5_gamma",
            Some(ch.n2o5_gamma),
            0.0,
            1.0,
            "an uptake coefficient in [0, 1)",
        ),
        (
            "chemistry.clno2_yield",
            Some(ch.clno2_yield),
            0.0,
            1.000_000_1,
            "a yield in [0, 1]",
        ),
        (
            "chemistry.so2_uptake_gamma",
            Some(ch.so2_uptake_gamma),
            0.0,
            1.0,
            "an uptake coefficient in [0, 1)",
        ),
        (
            "chemistry.no_fraction_of_nox",
            Some(ch.no_fraction_of_nox),
            0.0,
            1.000_000_1,
            "a mole fraction in [0, 1]",
        ),
    ] {
        if let Some(v) = v {
            if !(v.is_finite() && (lo..hi).contains(&v)) {
                return Err(c.err(key, what));
            }
        }
    }
    let mut sites = Vec::with_capacity(raw.sites.len());
    for (n, site) in raw.sites.iter().enumerate() {
        if !(site.lon.is_finite()
            && site.lat.is_finite()
            && site.lat.abs() <= 90.0
            && site.lon.abs() <= 360.0)
        {
            return Err(c.err(
                &format!("sites[{n}] ({})", site.name),
                format!(
                    "a longitude within +-360 and a latitude within +-90 degrees, got ({}, {})",
                    num(site.lon),
                    num(site.lat)
                ),
            ));
        }
        sites.push(Site {
            name: site.name.clone(),
            lon: site.lon,
            lat: site.lat,
        });
    }
    let o = &raw.output;
    let interval_hours = c.positive("output.interval_hours", o.interval_hours)?;
    if interval_hours < MIN_INTERVAL_H * (1.0 - 1e-9) {
        return Err(c.err(
            "output.interval_hours",
            format!(
                "at least one minute (1/60 h), got {} h",
                num(interval_hours)
            ),
        ));
    }
    let mode = match o.mode.as_str() {
        "mean" => OutputMode::Mean,
        "instant" => OutputMode::Instant,
        other => {
            return Err(c.err(
                "output.mode",
                format!("\"mean\" or \"instant\", got {other:?}"),
            ))
        }
    };
    let intervals = hours / interval_hours;
    if (intervals - intervals.round()).abs() > 1e-9 * intervals.max(1.0) || intervals.round() < 1.0
    {
        return Err(c.err(
            "run.hours",
            format!(
                "a whole number (at least 1) of output intervals of {} h, got {} h",
                num(interval_hours),
                num(hours)
            ),
        ));
    }
    let spin_up = raw.run.spin_up_hours / interval_hours;
    if !(spin_up.is_finite()
        && (spin_up - spin_up.round()).abs() <= 1e-9 * spin_up.max(1.0)
        && spin_up.round() >= 0.0
        && raw.run.spin_up_hours < hours)
    {
        return Err(c.err(
            "run.spin_up_hours",
            format!(
                "a whole number (0 or more) of output intervals of {} h, less than run.hours = {}, got {}",
                num(interval_hours),
                num(hours),
                raw.run.spin_up_hours
            ),
        ));
    }
    let step_s = steps(&c, hours, dt_s, interval_hours)?;
    substeps(&c, &raw, &met, &grid, step_s)?;
    let nz = grid.layer_tops_m.len();
    let layers = o.layers.unwrap_or(nz);
    if !(1..=nz).contains(&layers) {
        return Err(c.err(
            "output.layers",
            format!("between 1 and the number of layers ({nz}), got {layers}"),
        ));
    }
    let e = &raw.emissions;
    if let Some(sectors) = &e.sectors {
        if sectors.is_empty() {
            return Err(c.err(
                "emissions.sectors",
                "at least one sector label, or leave it out for the default classes",
            ));
        }
    }
    if !(e.utc_offset_hours.is_finite() && e.utc_offset_hours.abs() <= 14.0) {
        return Err(c.err(
            "emissions.utc_offset_hours",
            format!(
                "an offset from UTC in hours within +-14, got {}",
                e.utc_offset_hours
            ),
        ));
    }
    let plume_in_grid = plume_in_grid(&c, e)?;
    let resolve_all = |v: &[PathBuf]| v.iter().map(|p| c.resolve(p)).collect();
    let attribution = raw
        .attribution
        .as_ref()
        .map(|a| attribution(&c, a))
        .transpose()?;
    let land_cover = match raw.surface.as_ref().and_then(|s| s.land_cover.as_ref()) {
        None => None,
        Some(l) => Some(LandCoverSpec {
            path: c.resolve(&l.file),
            variable: l
                .variable
                .clone()
                .unwrap_or_else(|| "land_cover".to_string()),
            classes: match l.classes.as_deref().unwrap_or("igbp") {
                "igbp" => LandCoverClasses::Igbp,
                other => {
                    return Err(c.err(
                        "surface.land_cover.classes",
                        format!("\"igbp\" (the only legend known); got {other:?}"),
                    ))
                }
            },
        }),
    };
    let grid_toml = toml::to_string(&raw.grid).unwrap_or_default();
    Ok(Case {
        file: file.to_path_buf(),
        grid_toml,
        run: RunSpec {
            name: run_name(file, &raw.run.name)?,
            start,
            start_text: raw.run.start.clone(),
            hours,
            dt_s,
            threads: raw.run.threads,
            max_memory_gib,
            max_output_gib,
            spin_up_hours: raw.run.spin_up_hours,
        },
        grid,
        species,
        met,
        emissions: EmissionsSpec {
            sectors: e.sectors.clone(),
            gridded: resolve_all(&e.gridded),
            points: resolve_all(&e.points),
            city_totals: resolve_all(&e.city_totals),
            temporal_profiles: e.temporal_profiles.as_ref().map(|p| c.resolve(p)),
            utc_offset_hours: e.utc_offset_hours,
            city_allocation: e.city_allocation.as_ref().map(|a| CityAllocationSpec {
                regions_file: c.resolve(&a.regions_file),
                name_property: a.name_property.clone(),
                places: a.places.as_ref().map(|p| c.resolve(p)),
                land_cover: a.land_cover.as_ref().map(|p| c.resolve(p)),
                land_cover_variable: a.land_cover_variable.clone(),
            }),
            plume_in_grid,
        },
        boundary,
        physics: raw.physics.clone(),
        chemistry: raw.chemistry.clone(),
        sites,
        output: OutputSpec {
            dir: c.resolve(&o.dir),
            interval_hours,
            mode,
            layers,
            met_fields: o.met_fields,
        },
        attribution,
        land_cover,
    })
}

/// `[emissions] plume_in_grid*`. Names are checked against the stack
/// CSV when the process is built (`processes::plume_in_grid`).
fn plume_in_grid(c: &Checker, e: &super::raw::RawEmissions) -> Result<PlumeInGridSpec> {
    let stacks = match &e.plume_in_grid {
        None => PlumeInGridStacks::None,
        Some(RawSectors::Word(w)) if w == "all" => PlumeInGridStacks::All,
        Some(RawSectors::Word(w)) => {
            return Err(c.err(
                "emissions.plume_in_grid",
                format!("\"all\" or a list of stack names, got {w:?}"),
            ))
        }
        Some(RawSectors::List(l)) if l.is_empty() => {
            return Err(c.err(
                "emissions.plume_in_grid",
                "at least one stack name, or leave the key out",
            ))
        }
        Some(RawSectors::List(l)) => PlumeInGridStacks::Named(l.clone()),
    };
    let max_age_hours = e
        .plume_in_grid_max_age_hours
        .unwrap_or(PlumeInGridSpec::DEFAULT_MAX_AGE_HOURS);
    if !(max_age_hours.is_finite() && max_age_hours > 0.0 && max_age_hours <= 72.0) {
        return Err(c.err(
            "emissions.plume_in_grid_max_age_hours",
            format!("hours in (0, 72], got {max_age_hours}"),
        ));
    }
    let handoff_sigma_fraction = e
        .plume_in_grid_handoff_sigma_fraction
        .unwrap_or(PlumeInGridSpec::DEFAULT_HANDOFF_SIGMA_FRACTION);
    if !(handoff_sigma_fraction.is_finite()
        && handoff_sigma_fraction > 0.0
        && handoff_sigma_fraction <= 2.0)
    {
        return Err(c.err(
            "emissions.plume_in_grid_handoff_sigma_fraction",
            format!("a fraction of the cell width in (0, 2], got {handoff_sigma_fraction}"),
        ));
    }
    Ok(PlumeInGridSpec {
        stacks,
        max_age_hours,
        handoff_sigma_fraction,
    })
}

/// The `[attribution]` table. Names are checked against the regions file
/// when it is read (`crate::attribution`); here only what the case alone
/// decides.
fn attribution(c: &Checker, a: &RawAttribution) -> Result<AttributionSpec> {
    let sectors = match &a.sectors {
        None => SectorTags::None,
        Some(RawSectors::Word(w)) if w == "all" => SectorTags::All,
        Some(RawSectors::Word(w)) => {
            return Err(c.err(
                "attribution.sectors",
                format!("\"all\" or a list of sector labels, got {w:?}"),
            ))
        }
        Some(RawSectors::List(l)) if l.is_empty() => {
            return Err(c.err(
                "attribution.sectors",
                "at least one sector, or leave the key out for region tags alone",
            ))
        }
        Some(RawSectors::List(l)) => SectorTags::List(l.clone()),
    };
    let needs_file = !a.regions.is_empty() || !a.receptors.is_empty() || !a.groups.is_empty();
    if needs_file && a.regions_file.is_none() {
        return Err(c.err(
            "attribution.regions_file",
            "a GeoJSON file of region polygons (regions, groups and receptors name its features)",
        ));
    }
    if a.regions.is_empty() && sectors == SectorTags::None {
        return Err(c.err(
            "attribution.regions",
            "at least one region or a `sectors` key: with neither there is nothing to tag",
        ));
    }
    for (name, members) in &a.groups {
        if members.is_empty() {
            return Err(c.err(
                &format!("attribution.groups.{name}"),
                "at least one member region",
            ));
        }
    }
    if !(a.utc_offset_hours.is_finite() && a.utc_offset_hours.abs() <= 14.0) {
        return Err(c.err(
            "attribution.utc_offset_hours",
            format!(
                "an offset of local time from UTC within +-14 h, got {}",
                a.utc_offset_hours
            ),
        ));
    }
    c.up_to(
        "attribution.episode_ugm3",
        a.episode_ugm3,
        MAX_UGM3,
        "a daily-mean PM2.5 threshold in ug/m3",
    )?;
    let brute_force = match &a.brute_force {
        None => None,
        Some(b) => {
            if !(b.cut > 0.0 && b.cut <= 1.0) {
                return Err(c.err(
                    "attribution.brute_force.cut",
                    format!("a fraction of the emissions in (0, 1], got {}", b.cut),
                ));
            }
            if b.tags.is_empty() {
                return Err(c.err("attribution.brute_force.tags", "at least one tag name"));
            }
            Some(BruteForceSpec {
                tags: b.tags.clone(),
                cut: b.cut,
            })
        }
    };
    Ok(AttributionSpec {
        regions_file: a.regions_file.as_ref().map(|p| c.resolve(p)),
        name_property: a.name_property.clone(),
        groups: a
            .groups
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        regions: a.regions.clone(),
        sectors,
        receptors: a.receptors.clone(),
        species: a.species.clone(),
        episode_ugm3: a.episode_ugm3,
        utc_offset_hours: a.utc_offset_hours,
        brute_force,
    })
}

/// A grid alone, from the `[grid]` table's keys (as kept in outputs).
pub fn grid_only(text: &str, file: &Path) -> Result<GridSpec> {
    let raw: RawGrid = toml::from_str(text)
        .map_err(|e| Error::config(file, "grid", format!("a [grid] table ({})", e.message())))?;
    let c = Checker {
        file,
        base_dir: PathBuf::new(),
    };
    grid(&c, &raw)
}

fn grid(c: &Checker, g: &RawGrid) -> Result<GridSpec> {
    if g.nx < 4 || g.ny < 4 {
        return Err(c.err(
            "grid.nx/grid.ny",
            format!("at least 4 cells each way, got {} x {}", g.nx, g.ny),
        ));
    }
    let cells =
        g.nx.checked_mul(g.ny)
            .and_then(|n| n.checked_mul(g.layer_tops_m.len().max(1)))
            .filter(|&n| n <= isize::MAX as usize / 8);
    if cells.is_none() {
        return Err(c.err(
            "grid.nx/grid.ny",
            format!(
                "a grid small enough to address, got {} x {} x {} cells",
                g.nx,
                g.ny,
                g.layer_tops_m.len()
            ),
        ));
    }
    // Cell sizes: metres, or degrees on a lat-lon grid.
    let (cell, unit) = if g.projection == "latlon" {
        (CELL_DEG, "degrees (latlon)")
    } else {
        (CELL_M, "metres")
    };
    let dx = c.within("grid.dx", g.dx, cell, &format!("a cell size in {unit}"))?;
    let dy = c.within("grid.dy", g.dy, cell, &format!("a cell size in {unit}"))?;
    let degrees =
        |key: &str, v: f64, limit: f64| c.within(key, v, (-limit, limit), "an angle in degrees");
    let projection = match g.projection.as_str() {
        "lambert" => {
            let need = |k: &str, v: Option<f64>| {
                v.ok_or_else(|| c.err(k, "required for projection = \"lambert\""))
            };
            let truelat1 = need("grid.truelat1", g.truelat1)?;
            let truelat2 = need("grid.truelat2", g.truelat2)?;
            let stand_lon = degrees(
                "grid.stand_lon",
                need("grid.stand_lon", g.stand_lon)?,
                360.0,
            )?;
            let centre_lon = degrees(
                "grid.centre_lon",
                need("grid.centre_lon", g.centre_lon)?,
                360.0,
            )?;
            let centre_lat = degrees(
                "grid.centre_lat",
                need("grid.centre_lat", g.centre_lat)?,
                89.0,
            )?;
            // Near the equator the cone flattens into Mercator's cylinder
            // (cone constant -> 0); at a pole it closes.
            let parallel = |t: f64| (1.0..=89.0).contains(&t.abs());
            if !(parallel(truelat1) && parallel(truelat2) && truelat1 * truelat2 > 0.0) {
                return Err(c.err(
                    "grid.truelat1/grid.truelat2",
                    format!(
                        "standard parallels in one hemisphere, between 1 and 89 degrees from the equator, got {} and {}",
                        num(truelat1),
                        num(truelat2)
                    ),
                ));
            }
            for (key, n, d) in [("grid.nx", g.nx, dx), ("grid.ny", g.ny, dy)] {
                if n as f64 * d > MAX_EXTENT_M {
                    return Err(c.err(
                        key,
                        format!(
                            "a Lambert domain at most {} km across (pole to pole), got {n} cells of {} m",
                            MAX_EXTENT_M / 1000.0,
                            num(d)
                        ),
                    ));
                }
            }
            ProjectionSpec::Lambert {
                truelat1,
                truelat2,
                stand_lon,
                centre_lon,
                centre_lat,
            }
        }
        "latlon" => {
            let (Some(sw_lon), Some(sw_lat)) = (g.centre_lon, g.centre_lat) else {
                return Err(c.err(
                    "grid.centre_lon/grid.centre_lat",
                    "the south-west cell centre, required for latlon",
                ));
            };
            let sw_lon = degrees("grid.centre_lon", sw_lon, 360.0)?;
            let sw_lat = degrees("grid.centre_lat", sw_lat, 90.0)?;
            let (south, north) = (sw_lat - 0.5 * dy, sw_lat + (g.ny as f64 - 0.5) * dy);
            if south < -90.0 || north > 90.0 {
                return Err(c.err(
                    "grid.ny",
                    format!(
                        "rows within the poles: {} rows of {} degrees from centre_lat = {} span {} to {}",
                        g.ny,
                        num(dy),
                        num(sw_lat),
                        num(south),
                        num(north)
                    ),
                ));
            }
            if g.nx as f64 * dx > 360.0 {
                return Err(c.err(
                    "grid.nx",
                    format!(
                        "columns spanning at most 360 degrees, got {} of {} degrees",
                        g.nx,
                        num(dx)
                    ),
                ));
            }
            ProjectionSpec::LatLon { sw_lon, sw_lat }
        }
        "cartesian" => ProjectionSpec::Cartesian,
        other => {
            return Err(c.err(
                "grid.projection",
                format!("one of \"lambert\", \"latlon\", \"cartesian\", got {other:?}"),
            ))
        }
    };
    let lateral = match g.lateral.as_str() {
        "open" => Lateral::Open,
        "periodic" => Lateral::Periodic,
        other => {
            return Err(c.err(
                "grid.lateral",
                format!("\"open\" or \"periodic\", got {other:?}"),
            ))
        }
    };
    if g.layer_tops_m.is_empty() {
        return Err(c.err("grid.layer_tops_m", "at least one layer top height (m)"));
    }
    let mut prev = 0.0;
    for (i, &z) in g.layer_tops_m.iter().enumerate() {
        if !(z.is_finite() && z > prev) {
            return Err(c.err(
                "grid.layer_tops_m",
                format!(
                    "strictly increasing positive heights; entry {i} is {} after {}",
                    num(z),
                    num(prev)
                ),
            ));
        }
        if z - prev < MIN_LAYER_M {
            return Err(c.err(
                "grid.layer_tops_m",
                format!(
                    "layers at least {MIN_LAYER_M} m thick (the first top at least {MIN_LAYER_M} m up); entry {i} is {} after {}",
                    num(z),
                    num(prev)
                ),
            ));
        }
        if z > MAX_TOP_M {
            return Err(c.err(
                "grid.layer_tops_m",
                format!(
                    "a model top at most {MAX_TOP_M} m above ground (a tropospheric model: the default CMAQ and WRF tops, 50 hPa, are at 20.6 km); entry {i} is {}",
                    num(z)
                ),
            ));
        }
        prev = z;
    }
    Ok(GridSpec {
        projection,
        nx: g.nx,
        ny: g.ny,
        dx,
        dy,
        layer_tops_m: g.layer_tops_m.clone(),
        lateral,
    })
}

fn met(c: &Checker, m: &RawMet, start: &crate::time::StartTime) -> Result<MetSpec> {
    let rh = m.relative_humidity.unwrap_or(DEFAULT_RELATIVE_HUMIDITY);
    // Read only by analytic met, but a number in the case is checked anyway.
    for (key, v) in [("met.u_ms", m.u_ms), ("met.v_ms", m.v_ms)] {
        c.within(
            key,
            v,
            (-MAX_WIND_MS, MAX_WIND_MS),
            "a wind component in m/s (jet-stream cores reach about 100 m/s)",
        )?;
    }
    Ok(match m.kind.as_str() {
        "analytic" => {
            let flow = match m.flow.as_deref().unwrap_or("uniform") {
                "uniform" => Flow::Uniform,
                "rotation" => Flow::Rotation,
                "deformation" => Flow::Deformation,
                "shear" => Flow::Shear,
                "calm" => Flow::Calm,
                other => {
                    return Err(c.err(
                        "met.flow",
                        format!(
                            "one of uniform, rotation, deformation, shear, calm; got {other:?}"
                        ),
                    ))
                }
            };
            let period_s = if matches!(flow, Flow::Rotation | Flow::Deformation) {
                c.positive("met.period_s", m.period_s.unwrap_or(f64::NAN))?
            } else {
                c.positive("met.period_s", m.period_s.unwrap_or(1.0))?
            };
            if let Some(k) = m.kz_m2s {
                c.within(
                    "met.kz_m2s",
                    k,
                    (0.0, MAX_KZ_M2S),
                    "a vertical diffusivity in m2/s",
                )?;
            }
            c.within(
                "met.precip_mm_h",
                m.precip_mm_h,
                (0.0, MAX_PRECIP_MM_H),
                "a precipitation rate in mm/h",
            )?;
            let day = c.within(
                "met.pblh_day_m",
                m.pblh_day_m.unwrap_or(1000.0),
                PBLH_M,
                "a mixing height in m",
            )?;
            let night = c.within(
                "met.pblh_night_m",
                m.pblh_night_m.unwrap_or(day),
                PBLH_M,
                "a mixing height in m",
            )?;
            let surface_temperature_k = c.within(
                "met.surface_temperature_k",
                m.surface_temperature_k.unwrap_or(288.15),
                SURFACE_T_K,
                "a surface air temperature in K",
            )?;
            MetSpec::Analytic(AnalyticSpec {
                flow,
                u_ms: m.u_ms,
                v_ms: m.v_ms,
                period_s,
                pblh_day_m: day,
                pblh_night_m: night,
                kz_m2s: m.kz_m2s,
                surface_temperature_k,
                precip_mm_h: m.precip_mm_h,
                constant_density: m.constant_density,
                relative_humidity: rh,
                cloud_water_gkg: m.cloud_water_gkg,
            })
        }
        "netcdf" => MetSpec::Netcdf {
            file: c.resolve(m.file.as_deref().ok_or_else(|| {
                c.err(
                    "met.file",
                    "a CF-NetCDF met file path for kind = \"netcdf\"",
                )
            })?),
        },
        "reanalysis" => MetSpec::Reanalysis {
            file: c.resolve(m.file.as_deref().ok_or_else(|| {
                c.err(
                    "met.file",
                    "a lat-lon gridded met file for kind = \"reanalysis\"",
                )
            })?),
        },
        "wrf" => {
            if m.files.is_empty() {
                return Err(c.err("met.files", "a list of wrfout files for kind = \"wrf\""));
            }
            MetSpec::Wrf {
                files: m.files.iter().map(|f| c.resolve(f)).collect(),
            }
        }
        "diagnostic" => {
            if m.file.is_some() && (m.regime.is_some() || m.stations.is_some()) {
                return Err(c.err(
                    "met.file",
                    "either coarse gridded winds (met.file) or met.regime / met.stations for kind = \"diagnostic\", not both",
                ));
            }
            let calm = m.calm_fraction.unwrap_or(0.0);
            if !(0.0..=1.0).contains(&calm) {
                return Err(c.err("met.calm_fraction", "a fraction between 0 and 1"));
            }
            let terrain = terrain(c, m.terrain.as_ref())?;
            match &m.file {
                Some(file) => MetSpec::Adjusted {
                    file: c.resolve(file),
                    terrain,
                },
                None => MetSpec::Regime(RegimeSpec {
                    spells: spells(c, m.regime.as_ref(), start)?,
                    calm_fraction: m.calm_fraction,
                    seed: m.seed.unwrap_or(1),
                    stations: m.stations.as_deref().map(|p| c.resolve(p)),
                    terrain,
                    relative_humidity: rh,
                    cloud_water_gkg: m.cloud_water_gkg,
                }),
            }
        }
        other => {
            return Err(c.err(
                "met.kind",
                format!(
                    "one of \"analytic\", \"netcdf\", \"reanalysis\", \"wrf\", \"diagnostic\"; got {other:?}"
                ),
            ))
        }
    })
}

/// `met.regime`: one name (a single spell covering the run) or a schedule
/// of spells with increasing starts, the first at or before the run start.
fn spells(
    c: &Checker,
    r: Option<&RawRegime>,
    start: &crate::time::StartTime,
) -> Result<Vec<Spell>> {
    let names = || {
        RegimeName::ALL
            .iter()
            .map(|r| r.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let named = |key: &str, name: &str| {
        RegimeName::named(name).ok_or_else(|| {
            c.err(
                key,
                format!(
                    "one of {} for kind = \"diagnostic\" (or a coarse met.file); got {name:?}",
                    names()
                ),
            )
        })
    };
    match r {
        None => Err(c.err(
            "met.regime",
            format!(
                "one of {}, or a list of spells [{{ start, regime }}], for kind = \"diagnostic\" (or a coarse met.file)",
                names()
            ),
        )),
        Some(RawRegime::Name(name)) => Ok(vec![Spell {
            start_hour: f64::NEG_INFINITY,
            regime: named("met.regime", name)?,
            calm_fraction: None,
        }]),
        Some(RawRegime::Spells(list)) => {
            if list.is_empty() || list.len() > 10_000 {
                return Err(c.err(
                    "met.regime",
                    "a regime name or a list of 1 to 10000 spells [{ start, regime }]",
                ));
            }
            let t0 = start.epoch_seconds();
            let mut out: Vec<Spell> = Vec::with_capacity(list.len());
            for (n, s) in list.iter().enumerate() {
                let key = |k: &str| format!("met.regime[{n}].{k}");
                let at = crate::time::parse_start(&s.start).ok_or_else(|| {
                    c.err(
                        &key("start"),
                        format!("a UTC time like 2023-01-14T00:00:00Z, got {:?}", s.start),
                    )
                })?;
                let start_hour = (at.epoch_seconds() - t0) / 3600.0;
                if n == 0 && start_hour > 0.0 {
                    return Err(c.err(
                        &key("start"),
                        format!("the first spell starting at or before run.start; got {:?}", s.start),
                    ));
                }
                if let Some(prev) = out.last() {
                    if start_hour <= prev.start_hour {
                        return Err(c.err(
                            &key("start"),
                            format!("a start after the previous spell's; got {:?}", s.start),
                        ));
                    }
                }
                if let Some(f) = s.calm_fraction {
                    if !(0.0..=1.0).contains(&f) {
                        return Err(c.err(&key("calm_fraction"), "a fraction between 0 and 1"));
                    }
                }
                out.push(Spell {
                    start_hour,
                    regime: named(&key("regime"), &s.regime)?,
                    calm_fraction: s.calm_fraction,
                });
            }
            Ok(out)
        }
    }
}

fn terrain(c: &Checker, t: Option<&RawTerrain>) -> Result<TerrainSpec> {
    let Some(t) = t else {
        return Ok(TerrainSpec::Flat);
    };
    let radius = |c: &Checker, lo_open: bool| -> Result<f64> {
        let r = t.radius_km;
        if r.is_finite() && (r > 0.0 || (!lo_open && r == 0.0)) && r <= MAX_TERRAIN_RADIUS_KM {
            Ok(r)
        } else {
            Err(c.err(
                "met.terrain.radius_km",
                format!(
                    "a radius in km, {} and at most {MAX_TERRAIN_RADIUS_KM}, got {r}",
                    if lo_open { "above 0" } else { "from 0" }
                ),
            ))
        }
    };
    let shape = |c: &Checker| -> Result<TerrainShape> {
        let centre = match (t.centre_lon, t.centre_lat) {
            (Some(lon), Some(lat)) => Some((
                c.within(
                    "met.terrain.centre_lon",
                    lon,
                    (-360.0, 360.0),
                    "a longitude",
                )?,
                c.within("met.terrain.centre_lat", lat, (-90.0, 90.0), "a latitude")?,
            )),
            _ => None,
        };
        Ok(TerrainShape {
            height_m: c.up_to(
                "met.terrain.height_m",
                t.height_m,
                MAX_TERRAIN_M,
                "a terrain height in m (Everest: 8849 m)",
            )?,
            radius_km: radius(c, true)?,
            centre,
        })
    };
    Ok(match t.shape.as_str() {
        "flat" => TerrainSpec::Flat,
        "hill" => TerrainSpec::Hill(shape(c)?),
        "basin" => TerrainSpec::Basin(shape(c)?),
        "file" => TerrainSpec::File {
            path: c.resolve(t.file.as_deref().ok_or_else(|| {
                c.err(
                    "met.terrain.file",
                    "a NetCDF terrain file for shape = \"file\"",
                )
            })?),
            variable: t
                .variable
                .clone()
                .unwrap_or_else(|| "terrain_height".to_string()),
            radius_km: radius(c, false)?,
        },
        other => {
            return Err(c.err(
                "met.terrain.shape",
                format!("one of flat, hill, basin, file; got {other:?}"),
            ))
        }
    })
}

/// `run.name` names files in the output directory: one plain file-name
/// component, so no output lands outside that directory or on a hidden
/// name (staging directories are hidden), and short enough that
/// `<name>.source_receptor.csv` and the staging name fit in 255 bytes.
fn run_name(file: &Path, name: &str) -> Result<String> {
    const MAX: usize = 128;
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains("..")
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control);
    if !plain || name.len() > MAX {
        return Err(Error::config(
            file,
            "run.name",
            format!(
                "a plain file name of at most {MAX} bytes (no path separator, no \"..\", not starting with '.'), got {name:?}"
            ),
        ));
    }
    Ok(name.to_string())
}

/// Checks that need both the met and the grid: the diagnostic wind model
/// needs a metric grid, its terrain search a bounded window, and the
/// analytic troposphere must stay above 150 K up to the model top.
fn met_on_grid(c: &Checker, met: &MetSpec, g: &GridSpec) -> Result<()> {
    let terrain = match met {
        MetSpec::Regime(r) => Some(&r.terrain),
        MetSpec::Adjusted { terrain, .. } => Some(terrain),
        _ => None,
    };
    if let Some(terrain) = terrain {
        if matches!(g.projection, ProjectionSpec::LatLon { .. }) {
            return Err(c.err(
                "met.kind",
                "a metric grid (projection = \"lambert\" or \"cartesian\") for kind = \"diagnostic\": \
                 the diagnostic wind model and its terrain slopes work in metres",
            ));
        }
        // The obstacle search visits a window of cells around every column
        // (`met::terrain`): twice the radius of a hill or basin, the radius
        // of a file's search, at least one cell.
        let search_m = match terrain {
            TerrainSpec::Flat => 0.0,
            TerrainSpec::Hill(t) | TerrainSpec::Basin(t) => 2.0 * t.radius_km * 1000.0,
            TerrainSpec::File { radius_km, .. } => radius_km * 1000.0,
        }
        .max(g.dx.max(g.dy));
        let window = |d: f64| 2.0 * (search_m / d).ceil() + 1.0;
        let visits = g.nx as f64 * g.ny as f64 * window(g.dx) * window(g.dy);
        if visits > MAX_TERRAIN_SEARCH {
            return Err(c.err(
                "met.terrain.radius_km",
                format!(
                    "an obstacle search of at most {MAX_TERRAIN_SEARCH:e} cell visits (a few seconds): {} km around each of the {} x {} columns of {} x {} m is {visits:.1e}; a smaller radius or coarser cells",
                    search_m / 1000.0,
                    g.nx,
                    g.ny,
                    g.dx,
                    g.dy
                ),
            ));
        }
    }
    if let MetSpec::Analytic(a) = met {
        let top = g.layer_tops_m.last().copied().unwrap_or(0.0);
        // US Standard Atmosphere 1976 troposphere (`met::analytic`).
        let t_top = a.surface_temperature_k - 0.0065 * top;
        if !a.constant_density && t_top < MIN_AIR_T_K {
            return Err(c.err(
                "met.surface_temperature_k/grid.layer_tops_m",
                format!(
                    "an analytic troposphere above {MIN_AIR_T_K} K at the model top: from {} K at the surface, 6.5 K/km (US Standard Atmosphere 1976) gives {t_top:.1} K at {top} m; a warmer surface, a lower top or constant_density = true",
                    a.surface_temperature_k
                ),
            ));
        }
    }
    Ok(())
}

/// The smallest cell sizes in metres along x and y (nominal for Lambert,
/// whose map factor stays near 1 in a regional domain; on a lat-lon grid at
/// the row nearest a pole).
fn metric_cells(g: &GridSpec) -> (f64, f64) {
    match g.projection {
        ProjectionSpec::LatLon { sw_lat, .. } => {
            const M_PER_DEG: f64 = 6_371_000.0 * std::f64::consts::PI / 180.0;
            let edge = (sw_lat - 0.5 * g.dy)
                .abs()
                .max((sw_lat + (g.ny as f64 - 0.5) * g.dy).abs())
                .min(90.0);
            (
                g.dx * M_PER_DEG * edge.to_radians().cos().max(1e-6),
                g.dy * M_PER_DEG,
            )
        }
        _ => (g.dx, g.dy),
    }
}

/// The run's outer step (`run.dt_s`, shortened to divide the output
/// interval, as [`crate::time::Clock`] does), which must be at least
/// [`MIN_DT_S`], and its number of steps, at most [`MAX_STEPS`]. Counted
/// in f64, so an absurd length cannot overflow.
fn steps(c: &Checker, hours: f64, dt_s: f64, interval_hours: f64) -> Result<f64> {
    let interval_s = interval_hours * 3600.0;
    let per = (interval_s / dt_s).ceil().max(1.0);
    let step = interval_s / per;
    if step < MIN_DT_S * (1.0 - 1e-9) {
        return Err(c.err(
            "output.interval_hours",
            format!(
                "an interval that whole steps of at least {MIN_DT_S} s divide; {interval_hours} h with run.dt_s = {dt_s} gives steps of {step} s"
            ),
        ));
    }
    let total = per * (hours / interval_hours).round();
    if total > MAX_STEPS as f64 {
        return Err(c.err(
            "run.hours",
            format!(
                "a run of at most {MAX_STEPS} outer steps; {hours} h in steps of {step} s is {total:.3e} steps: a longer run.dt_s or a shorter run"
            ),
        ));
    }
    Ok(step)
}

/// Sub-steps the case needs per outer step of `dt` s, estimated before
/// running: advection from the analytic winds (the met files' winds are
/// checked as they are read, `processes::advection`), horizontal diffusion
/// from Kh; each at most [`MAX_SUBSTEPS`].
fn substeps(c: &Checker, raw: &RawCase, met: &MetSpec, g: &GridSpec, dt: f64) -> Result<()> {
    let p = &raw.physics;
    let (dx, dy) = metric_cells(g);
    if let (MetSpec::Analytic(a), true) = (met, p.advection) {
        // Largest wind components (`met::analytic`), from the nominal
        // domain extent as the analytic met computes them.
        let (lx, ly) = (g.nx as f64 * g.dx, g.ny as f64 * g.dy);
        let (u, v) = match a.flow {
            Flow::Uniform | Flow::Shear => (a.u_ms.abs(), a.v_ms.abs()),
            Flow::Calm => (0.0, 0.0),
            Flow::Rotation => {
                let omega = 2.0 * std::f64::consts::PI / a.period_s;
                (omega * 0.5 * ly, omega * 0.5 * lx)
            }
            Flow::Deformation => {
                let speed = lx * 1.5 / a.period_s;
                (speed * lx / ly, speed)
            }
        };
        if u.max(v) > MAX_WIND_MS {
            return Err(c.err(
                "met.period_s",
                format!(
                    "a period slow enough for winds of at most {MAX_WIND_MS} m/s: {} s gives {:.3e} m/s across the domain",
                    a.period_s,
                    u.max(v)
                ),
            ));
        }
        let courant = (u * dt / dx).max(v * dt / dy);
        let need = courant / p.max_courant;
        if need > MAX_SUBSTEPS as f64 {
            let longest = MAX_SUBSTEPS as f64 * p.max_courant / (u / dx).max(v / dy);
            return Err(c.err(
                "run.dt_s",
                format!(
                    "a step advection can take in at most {MAX_SUBSTEPS} sub-steps: the analytic wind ({u} m/s, {v} m/s) crosses {courant:.3e} cells of {dx:.1} x {dy:.1} m in a {dt} s step (physics.max_courant {}); at most {longest:.3} s",
                    p.max_courant
                ),
            ));
        }
    }
    let kh = p.horizontal_kh_m2s;
    if kh > 0.0 {
        // Forward Euler: dt * sum of the four face conductances / air mass
        // <= 1/2 (`processes::diffusion`), i.e. 4 Kh dt (1/dx^2 + 1/dy^2).
        let rate = 4.0 * (1.0 / (dx * dx) + 1.0 / (dy * dy));
        let need = kh * dt * rate;
        if need > MAX_SUBSTEPS as f64 {
            return Err(c.err(
                "physics.horizontal_kh_m2s",
                format!(
                    "a diffusivity explicit horizontal diffusion can take in at most {MAX_SUBSTEPS} sub-steps: {kh} m2/s over cells of {dx:.1} x {dy:.1} m needs {need:.3e} in a {dt} s step; at most {:.3e} m2/s (or a shorter run.dt_s)",
                    MAX_SUBSTEPS as f64 / (dt * rate)
                ),
            ));
        }
    }
    Ok(())
}
