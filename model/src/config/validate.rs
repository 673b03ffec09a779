//! Raw case -> typed [`Case`], checking every key, unit and range first.
//! Messages are `FILE: key `KEY`: what was expected`.

use super::raw::{RawAttribution, RawCase, RawGrid, RawMet, RawSectors, RawTerrain};
use super::*;
use std::collections::BTreeMap;

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
            Err(self.err(key, format!("a positive finite number, got {v}")))
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
    let dt_s = c.positive("run.dt_s", raw.run.dt_s)?;
    if dt_s > 3600.0 {
        return Err(c.err("run.dt_s", "at most 3600 s (met is hourly)"));
    }
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
    let per_species = |table: &BTreeMap<String, f64>, key: &str| -> Result<Vec<f64>> {
        for (name, &v) in table {
            if !raw.species.names.contains(name) {
                return Err(c.err(
                    &format!("{key}.{name}"),
                    "a species listed in species.names",
                ));
            }
            if !(v.is_finite() && v >= 0.0) {
                return Err(c.err(
                    &format!("{key}.{name}"),
                    format!("a non-negative concentration in ug/m3, got {v}"),
                ));
            }
        }
        Ok(species
            .iter()
            .map(|s| table.get(s.name).copied().unwrap_or(0.0))
            .collect())
    };
    let boundary = BoundarySpec {
        background_ugm3: per_species(&raw.boundary.background_ugm3, "boundary.background_ugm3")?,
        initial_ugm3: per_species(&raw.boundary.initial_ugm3, "boundary.initial_ugm3")?,
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
    let met = met(&c, &raw.met)?;
    let p = &raw.physics;
    if !(p.horizontal_kh_m2s.is_finite() && p.horizontal_kh_m2s >= 0.0) {
        return Err(c.err(
            "physics.horizontal_kh_m2s",
            "a non-negative diffusivity in m2/s",
        ));
    }
    c.positive("physics.kz_min_m2s", p.kz_min_m2s)?;
    if !(p.max_courant > 0.0 && p.max_courant <= 1.0) {
        return Err(c.err(
            "physics.max_courant",
            "a number in (0, 1]: PPM is monotone only below 1",
        ));
    }
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
        if !(site.lon.is_finite() && site.lat.is_finite() && site.lat.abs() <= 90.0) {
            return Err(c.err(
                &format!("sites[{n}] ({})", site.name),
                "a finite longitude and a latitude within +-90 degrees",
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
                "a whole number (at least 1) of output intervals of {interval_hours} h, got {hours} h"
            ),
        ));
    }
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
    let resolve_all = |v: &[PathBuf]| v.iter().map(|p| c.resolve(p)).collect();
    let attribution = raw
        .attribution
        .as_ref()
        .map(|a| attribution(&c, a))
        .transpose()?;
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
            max_memory_gib: raw.run.max_memory_gib,
        },
        grid,
        species,
        met,
        emissions: EmissionsSpec {
            sectors: e.sectors.clone(),
            gridded: resolve_all(&e.gridded),
            points: resolve_all(&e.points),
            city_totals: resolve_all(&e.city_totals),
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
    if !(a.episode_ugm3.is_finite() && a.episode_ugm3 > 0.0) {
        return Err(c.err(
            "attribution.episode_ugm3",
            format!("a positive daily mean in ug/m3, got {}", a.episode_ugm3),
        ));
    }
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
    let dx = c.positive("grid.dx", g.dx)?;
    let dy = c.positive("grid.dy", g.dy)?;
    let projection = match g.projection.as_str() {
        "lambert" => {
            let need = |k: &str, v: Option<f64>| {
                v.ok_or_else(|| c.err(k, "required for projection = \"lambert\""))
            };
            let truelat1 = need("grid.truelat1", g.truelat1)?;
            let truelat2 = need("grid.truelat2", g.truelat2)?;
            let stand_lon = need("grid.stand_lon", g.stand_lon)?;
            let centre_lon = need("grid.centre_lon", g.centre_lon)?;
            let centre_lat = need("grid.centre_lat", g.centre_lat)?;
            if !(truelat1.abs() < 90.0 && truelat2.abs() < 90.0 && truelat1 * truelat2 > 0.0) {
                return Err(c.err(
                    "grid.truelat1/grid.truelat2",
                    "standard parallels in one hemisphere, strictly between -90 and 90",
                ));
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
            if dx > 5.0 || dy > 5.0 {
                return Err(c.err("grid.dx", "degrees (at most 5) for a latlon grid"));
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
                format!("strictly increasing positive heights; entry {i} is {z} after {prev}"),
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

fn met(c: &Checker, m: &RawMet) -> Result<MetSpec> {
    let rh = m.relative_humidity.unwrap_or(DEFAULT_RELATIVE_HUMIDITY);
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
                m.period_s.unwrap_or(1.0)
            };
            if let Some(k) = m.kz_m2s {
                if !(k.is_finite() && k >= 0.0) {
                    return Err(c.err("met.kz_m2s", "a non-negative diffusivity in m2/s"));
                }
            }
            if !(m.precip_mm_h.is_finite() && m.precip_mm_h >= 0.0) {
                return Err(c.err("met.precip_mm_h", "a non-negative rate in mm/h"));
            }
            let day = m.pblh_day_m.unwrap_or(1000.0);
            MetSpec::Analytic(AnalyticSpec {
                flow,
                u_ms: m.u_ms,
                v_ms: m.v_ms,
                period_s,
                pblh_day_m: day,
                pblh_night_m: m.pblh_night_m.unwrap_or(day),
                kz_m2s: m.kz_m2s,
                surface_temperature_k: m.surface_temperature_k.unwrap_or(288.15),
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
            let r = m.regime.as_deref().unwrap_or("");
            if m.file.is_some() && (m.regime.is_some() || m.stations.is_some()) {
                return Err(c.err(
                    "met.file",
                    "either coarse gridded winds (met.file) or met.regime / met.stations for kind = \"diagnostic\", not both",
                ));
            }
            let regime = RegimeName::named(r);
            let calm = m.calm_fraction.unwrap_or(0.0);
            if !(0.0..=1.0).contains(&calm) {
                return Err(c.err("met.calm_fraction", "a fraction between 0 and 1"));
            }
            let terrain = terrain(c, m.terrain.as_ref())?;
            match (&m.file, regime) {
                (Some(file), _) => MetSpec::Adjusted {
                    file: c.resolve(file),
                    terrain,
                },
                (None, Some(regime)) => MetSpec::Regime(RegimeSpec {
                    regime,
                    calm_fraction: m.calm_fraction,
                    seed: m.seed.unwrap_or(1),
                    stations: m.stations.as_deref().map(|p| c.resolve(p)),
                    terrain,
                    relative_humidity: rh,
                    cloud_water_gkg: m.cloud_water_gkg,
                }),
                (None, None) => {
                    let names: Vec<&str> = RegimeName::ALL.iter().map(|r| r.name()).collect();
                    return Err(c.err(
                        "met.regime",
                        format!(
                            "one of {} for kind = \"diagnostic\" (or a coarse met.file); got {r:?}",
                            names.join(", ")
                        ),
                    ));
                }
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

fn terrain(c: &Checker, t: Option<&RawTerrain>) -> Result<TerrainSpec> {
    let Some(t) = t else {
        return Ok(TerrainSpec::Flat);
    };
    let shape = |c: &Checker| -> Result<TerrainShape> {
        Ok(TerrainShape {
            height_m: c.positive("met.terrain.height_m", t.height_m)?,
            radius_km: c.positive("met.terrain.radius_km", t.radius_km)?,
            centre: t.centre_lon.zip(t.centre_lat),
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
            radius_km: t.radius_km,
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
