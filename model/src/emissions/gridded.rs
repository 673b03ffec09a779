//! Gridded area emissions from NetCDF, on the model grid.
//!
//! An emission field is a variable with the text attributes `species` (a
//! built-in species name), `sector` (a configured sector label) and
//! `units` (kg s-1, g s-1, kg h-1 or t yr-1 per cell, or kg m-2 s-1).
//!
//! **Dimensions are identified by what they are, never by their length**:
//! by the `axis` attribute of their coordinate variable (T, Z, Y, X), its
//! `standard_name`, `positive` or `units` ("... since ..." is time,
//! degrees_north is y), or failing those by name (`time`, `Time`, `t`;
//! `z`, `lev`, `level`, `layer`, `bottom_top`; `y`, `lat`, `south_north`,
//! `row`; `x`, `lon`, `west_east`, `col`, ...). A field is (y, x) for the
//! lowest layer or (z, y, x) for the lowest z model layers, optionally
//! after a time dimension of length 1. Several time records are refused:
//! the model has no time profile for gridded emissions (write their mean).
//!
//! **Coordinates and projection are compared with the model grid**, not
//! only the array shape: a `grid_mapping` (lambert_conformal_conic or
//! latitude_longitude) must be the model's projection with the same
//! standard parallels and central meridian, and the cell centres given by
//! 2-D `lat`/`lon` (or those named in `coordinates`), or by 1-D coordinate
//! variables (degrees, or projection metres), must fall within 2 % of a
//! cell of the model's centres. A file without any coordinates is taken
//! to be on the model grid.
//!
//! **Values**: missing values (`_FillValue`, the netCDF default fill of a
//! never-written cell, `missing_value`, `valid_range`) are refused naming
//! the cell; rates must be finite, non-negative and at most
//! [`super::MAX_RATE_KG_S`] per cell once converted.
//!
//! **Other variables** (coordinates, bounds, grid mappings, cell areas,
//! masks) are ignored, unless they look like emissions without a usable
//! `species`: a variable with a `sector` attribute, with emission units,
//! with a differently spelled `Species`/`pollutant` attribute, with a
//! non-text `species`, or named after a species is refused by name.

use super::{
    check_kg_per_s, check_rate, check_species, to_kg_per_s, CellEmission, Inventory, UNITS_HELP,
};
use crate::error::{Error, Result};
use crate::grid::{Grid, Lambert, Projection};
use crate::input::nc;
use crate::input::units::{self, Quantity};
use std::path::Path;

/// How close the file's cell centres must lie to the model's, in cells.
const COORDINATE_TOLERANCE_CELLS: f64 = 0.02;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    T,
    Z,
    Y,
    X,
}

impl Axis {
    fn name(self) -> &'static str {
        match self {
            Axis::T => "time",
            Axis::Z => "vertical",
            Axis::Y => "y (north-south)",
            Axis::X => "x (east-west)",
        }
    }
}

/// Dimension names recognised when no coordinate variable says (compared
/// in lower case).
#[rustfmt::skip]
const NAMES: [(Axis, &[&str]); 4] = [
    (Axis::T, &["time", "t", "tstep", "date", "datetime", "record", "rec", "month", "hour"]),
    (Axis::Z, &["z", "lev", "level", "levels", "layer", "layers", "lay", "bottom_top", "nz", "height", "altitude", "k"]),
    (Axis::Y, &["y", "lat", "latitude", "south_north", "row", "rows", "ny", "j", "rlat"]),
    (Axis::X, &["x", "lon", "longitude", "west_east", "col", "cols", "column", "columns", "nx", "i", "rlon"]),
];

/// What a dimension is, from its coordinate variable's attributes, else
/// its name.
fn axis_of(file: &netcdf::File, path: &Path, dim: &str) -> Result<Option<Axis>> {
    if let Some(c) = nc::variable(file, path, dim)?.filter(|c| c.dimensions().len() == 1) {
        if let Some(a) = nc::text(&c, "axis") {
            match a.trim().to_ascii_uppercase().as_str() {
                "T" => return Ok(Some(Axis::T)),
                "Z" => return Ok(Some(Axis::Z)),
                "Y" => return Ok(Some(Axis::Y)),
                "X" => return Ok(Some(Axis::X)),
                _ => {}
            }
        }
        if let Some(sn) = nc::text(&c, "standard_name") {
            match sn.trim() {
                "time" => return Ok(Some(Axis::T)),
                "latitude" | "grid_latitude" | "projection_y_coordinate" => {
                    return Ok(Some(Axis::Y))
                }
                "longitude" | "grid_longitude" | "projection_x_coordinate" => {
                    return Ok(Some(Axis::X))
                }
                s if s == "height"
                    || s == "altitude"
                    || s == "model_level_number"
                    || s.starts_with("atmosphere_") =>
                {
                    return Ok(Some(Axis::Z))
                }
                _ => {}
            }
        }
        if c.attribute("positive").is_some() {
            return Ok(Some(Axis::Z));
        }
        if let Some(u) = nc::text(&c, "units") {
            if units::time_units(&u).is_some_and(|t| t.since_epoch_s.is_some()) {
                return Ok(Some(Axis::T));
            }
            let u = u.trim();
            if matches!(
                u,
                "degrees_north" | "degree_north" | "degree_N" | "degrees_N"
            ) {
                return Ok(Some(Axis::Y));
            }
            if matches!(u, "degrees_east" | "degree_east" | "degree_E" | "degrees_E") {
                return Ok(Some(Axis::X));
            }
        }
    }
    let lower = dim.to_ascii_lowercase();
    Ok(NAMES
        .iter()
        .find(|(_, names)| names.contains(&lower.as_str()))
        .map(|(a, _)| *a))
}

/// The layout of one emission field: the hyperslab to read and the layers.
struct Layout {
    ext: Vec<std::ops::Range<usize>>,
    nlev: usize,
    /// Names of the y and x dimensions.
    ydim: String,
    xdim: String,
}

fn layout(
    file: &netcdf::File,
    path: &Path,
    var: &netcdf::Variable,
    vname: &str,
    grid: &Grid,
) -> Result<Layout> {
    let dims: Vec<(String, usize)> = var
        .dimensions()
        .iter()
        .map(|d| (d.name(), d.len()))
        .collect();
    let mut axes = Vec::with_capacity(dims.len());
    for (name, _) in &dims {
        let a = axis_of(file, path, name)?.ok_or_else(|| {
            Error::input(
                path,
                vname,
                format!(
                    "dimensions that say what they are (an `axis`, `standard_name` or `units` on a coordinate variable, or a name such as time, z/lev/layer, y/lat/south_north, x/lon/west_east); `{name}` is none of these"
                ),
            )
        })?;
        axes.push(a);
    }
    let found = || {
        dims.iter()
            .zip(&axes)
            .map(|((n, l), a)| format!("{n} = {l} ({})", a.name()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // A leading time dimension of one record is allowed; more are not.
    let mut first = 0;
    if axes.first() == Some(&Axis::T) {
        if dims[0].1 != 1 {
            return Err(Error::input(
                path,
                vname,
                format!(
                    "one field, without a time profile: `{}` has {} records (time-varying gridded emissions are not supported; write their mean); dimensions ({})",
                    dims[0].0,
                    dims[0].1,
                    found()
                ),
            ));
        }
        first = 1;
    }
    let rest = &axes[first..];
    let nlev = match rest {
        [Axis::Y, Axis::X] => 1,
        [Axis::Z, Axis::Y, Axis::X] => dims[first].1,
        _ => {
            return Err(Error::input(
                path,
                vname,
                format!("dimensions (y, x) or (z, y, x), optionally after a time dimension of length 1; found ({})", found()),
            ))
        }
    };
    let n = dims.len();
    let (ylen, xlen) = (dims[n - 2].1, dims[n - 1].1);
    if (ylen, xlen) != (grid.ny, grid.nx) || nlev == 0 || nlev > grid.nz {
        return Err(Error::input(
            path,
            vname,
            format!(
                "y = {}, x = {} (the model grid) and 1 to {} layers; found ({})",
                grid.ny,
                grid.nx,
                grid.nz,
                found()
            ),
        ));
    }
    Ok(Layout {
        ext: dims.iter().map(|d| 0..d.1).collect(),
        nlev,
        ydim: dims[n - 2].0.clone(),
        xdim: dims[n - 1].0.clone(),
    })
}

/// The file's projection from a `grid_mapping`, checked against the
/// model's: None for lat-lon or no mapping; the file's Lambert with its
/// false easting and northing otherwise.
fn mapping(
    file: &netcdf::File,
    path: &Path,
    var: &netcdf::Variable,
    vname: &str,
    grid: &Grid,
) -> Result<Option<(Lambert, f64, f64)>> {
    let Some(gm) = nc::text(var, "grid_mapping") else {
        return Ok(None);
    };
    let gm_name = gm
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_end_matches(':')
        .to_string();
    let field = format!("{vname}:grid_mapping");
    let m = nc::variable(file, path, &gm_name)?.ok_or_else(|| {
        Error::input(
            path,
            &field,
            format!("the name of a grid-mapping variable; there is no `{gm_name}`"),
        )
    })?;
    let kind = nc::text(&m, "grid_mapping_name").unwrap_or_default();
    let number = |attr: &str| -> Option<Vec<f64>> {
        let v = m.attribute_value(attr)?.ok()?;
        match v {
            netcdf::AttributeValue::Double(x) => Some(vec![x]),
            netcdf::AttributeValue::Doubles(x) => Some(x),
            netcdf::AttributeValue::Float(x) => Some(vec![x as f64]),
            netcdf::AttributeValue::Floats(x) => Some(x.into_iter().map(f64::from).collect()),
            netcdf::AttributeValue::Int(x) => Some(vec![x as f64]),
            netcdf::AttributeValue::Ints(x) => Some(x.into_iter().map(f64::from).collect()),
            netcdf::AttributeValue::Short(x) => Some(vec![x as f64]),
            _ => None,
        }
    };
    let model = match &grid.projection {
        Projection::Lambert { .. } => "lambert_conformal_conic",
        Projection::LatLon { .. } => "latitude_longitude",
        Projection::Cartesian => "none (a Cartesian grid)",
    };
    let mgm = format!("{gm_name}:grid_mapping_name");
    match (kind.trim(), &grid.projection) {
        ("latitude_longitude", Projection::LatLon { .. }) => Ok(None),
        (
            "lambert_conformal_conic",
            Projection::Lambert {
                truelat1,
                truelat2,
                stand_lon,
                ..
            },
        ) => {
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-4;
            let sp = number("standard_parallel")
                .filter(|v| {
                    (1..=2).contains(&v.len()) && v.iter().all(|x| x.is_finite() && x.abs() < 90.0)
                })
                .ok_or_else(|| {
                    Error::input(
                        path,
                        format!("{gm_name}:standard_parallel"),
                        "one or two standard parallels in degrees",
                    )
                })?;
            let (s1, s2) = (sp[0], *sp.last().unwrap_or(&sp[0]));
            let same = (close(s1, *truelat1) && close(s2, *truelat2))
                || (close(s1, *truelat2) && close(s2, *truelat1));
            if !same {
                return Err(Error::input(
                    path,
                    format!("{gm_name}:standard_parallel"),
                    format!("the model's standard parallels {truelat1}, {truelat2}; the file has {sp:?}"),
                ));
            }
            let lon0 = number("longitude_of_central_meridian")
                .and_then(|v| v.first().copied())
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    Error::input(
                        path,
                        format!("{gm_name}:longitude_of_central_meridian"),
                        "the central meridian in degrees",
                    )
                })?;
            if ((lon0 - stand_lon + 180.0).rem_euclid(360.0) - 180.0).abs() > 1e-4 {
                return Err(Error::input(
                    path,
                    format!("{gm_name}:longitude_of_central_meridian"),
                    format!("the model's central meridian {stand_lon}; the file has {lon0}"),
                ));
            }
            let origin = number("latitude_of_projection_origin")
                .and_then(|v| v.first().copied())
                .filter(|x| x.is_finite() && x.abs() < 90.0)
                .unwrap_or(0.5 * (s1 + s2));
            let fe = number("false_easting")
                .and_then(|v| v.first().copied())
                .filter(|x| x.is_finite())
                .unwrap_or(0.0);
            let fnn = number("false_northing")
                .and_then(|v| v.first().copied())
                .filter(|x| x.is_finite())
                .unwrap_or(0.0);
            Ok(Some((Lambert::new(s1, s2, lon0, origin), fe, fnn)))
        }
        _ => Err(Error::input(
            path,
            mgm,
            format!("the model grid's projection, {model}; the file's grid mapping is {kind:?}"),
        )),
    }
}

/// Refuse a file cell centre (lon, lat) that is not the model's cell (j, i).
fn compare_lonlat(
    path: &Path,
    field: &str,
    grid: &Grid,
    j: usize,
    i: usize,
    lon: f64,
    lat: f64,
) -> Result<()> {
    let model_lon = grid.lon[[j, i]];
    let lon = model_lon + ((lon - model_lon + 180.0).rem_euclid(360.0) - 180.0);
    let (fi, fj) = grid.index_of(lon, lat);
    if (fi - i as f64).abs() <= COORDINATE_TOLERANCE_CELLS
        && (fj - j as f64).abs() <= COORDINATE_TOLERANCE_CELLS
    {
        return Ok(());
    }
    Err(Error::input(
        path,
        field,
        format!(
            "cell centres on the model grid (within {} % of a cell); the file's cell (y={j}, x={i}) at {lon:.5}E {lat:.5}N is the model's centre ({:.5}E {:.5}N) of cell (y={fj:.2}, x={fi:.2})",
            COORDINATE_TOLERANCE_CELLS * 100.0,
            grid.lon[[j, i]],
            grid.lat[[j, i]],
        ),
    ))
}

/// A coordinate variable read as a quantity, all of it (the first record
/// of a leading time dimension).
fn coordinate_values(
    path: &Path,
    var: &netcdf::Variable,
    name: &str,
    q: Quantity,
) -> Result<Vec<f64>> {
    let dims = var.dimensions();
    let ext: Vec<std::ops::Range<usize>> = dims
        .iter()
        .enumerate()
        .map(|(d, dim)| {
            if dims.len() == 3 && d == 0 {
                0..1
            } else {
                0..dim.len()
            }
        })
        .collect();
    nc::read(var, path, name, &ext, Some(q), &|i| format!("index {i}"))
}

const LAT_UNITS: &[&str] = &[
    "degrees_north",
    "degree_north",
    "degree_N",
    "degrees_N",
    "degreeN",
    "degreesN",
];
const LON_UNITS: &[&str] = &[
    "degrees_east",
    "degree_east",
    "degree_E",
    "degrees_E",
    "degreeE",
    "degreesE",
];

/// Compare the file's coordinates (2-D lat/lon, or 1-D coordinate
/// variables of the y and x dimensions) with the model grid.
fn compare_coordinates(
    file: &netcdf::File,
    path: &Path,
    var: &netcdf::Variable,
    vname: &str,
    lay: &Layout,
    grid: &Grid,
) -> Result<()> {
    let proj = mapping(file, path, var, vname, grid)?;
    let (ny, nx) = (grid.ny, grid.nx);
    // 2-D latitude and longitude: named in `coordinates`, or by the usual names.
    let mut names: Vec<String> = nc::text(var, "coordinates")
        .map(|c| c.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    names.extend(["lat", "latitude", "XLAT", "lon", "longitude", "XLONG"].map(String::from));
    let mut lat2 = None;
    let mut lon2 = None;
    for n in &names {
        let Some(c) = nc::variable(file, path, n)? else {
            continue;
        };
        let d: Vec<String> = c.dimensions().iter().map(|d| d.name()).collect();
        let lens: Vec<usize> = c.dimensions().iter().map(|d| d.len()).collect();
        let on_grid = d.len() >= 2
            && d[d.len() - 2] == lay.ydim
            && d[d.len() - 1] == lay.xdim
            && (d.len() == 2 || (d.len() == 3 && lens[0] >= 1));
        if !on_grid {
            continue;
        }
        let units = nc::text(&c, "units").unwrap_or_default();
        let sn = nc::text(&c, "standard_name").unwrap_or_default();
        let is_lat = sn == "latitude"
            || LAT_UNITS.contains(&units.trim())
            || matches!(n.as_str(), "lat" | "latitude" | "XLAT");
        let is_lon = sn == "longitude"
            || LON_UNITS.contains(&units.trim())
            || matches!(n.as_str(), "lon" | "longitude" | "XLONG");
        if is_lat && lat2.is_none() {
            lat2 = Some((
                n.clone(),
                coordinate_values(path, &c, n, Quantity::Latitude)?,
            ));
        } else if is_lon && !is_lat && lon2.is_none() {
            lon2 = Some((
                n.clone(),
                coordinate_values(path, &c, n, Quantity::Longitude)?,
            ));
        }
    }
    if let (Some((latn, lat)), Some((_, lon))) = (&lat2, &lon2) {
        for j in 0..ny {
            for i in 0..nx {
                let c = j * nx + i;
                compare_lonlat(path, latn, grid, j, i, lon[c], lat[c])?;
            }
        }
        return Ok(());
    }
    // 1-D coordinate variables of the y and x dimensions.
    let ycoord = nc::variable(file, path, &lay.ydim)?.filter(|c| c.dimensions().len() == 1);
    let xcoord = nc::variable(file, path, &lay.xdim)?.filter(|c| c.dimensions().len() == 1);
    let (Some(yc), Some(xc)) = (ycoord, xcoord) else {
        return Ok(()); // no coordinates: taken to be on the model grid
    };
    let kind = |c: &netcdf::Variable, name: &str, deg: Quantity| -> Result<(Quantity, Vec<f64>)> {
        let u = nc::text(c, "units").unwrap_or_default();
        let sn = nc::text(c, "standard_name").unwrap_or_default();
        let q = if units::conversion(deg, &u).is_some() || sn == "latitude" || sn == "longitude" {
            deg
        } else if units::conversion(Quantity::Length, &u).is_some() {
            Quantity::Length
        } else {
            return Err(Error::input(
                path,
                name,
                format!("coordinate units that can be compared with the model grid: degrees (degrees_north / degrees_east) or a length (m, km); the attribute `units` is {u:?}"),
            ));
        };
        Ok((q, coordinate_values(path, c, name, q)?))
    };
    let (yq, ys) = kind(&yc, &lay.ydim, Quantity::Latitude)?;
    let (xq, xs) = kind(&xc, &lay.xdim, Quantity::Longitude)?;
    match (yq, xq) {
        (Quantity::Latitude, Quantity::Longitude) => {
            for (j, lat) in ys.iter().enumerate() {
                for (i, lon) in xs.iter().enumerate() {
                    compare_lonlat(path, &lay.ydim, grid, j, i, *lon, *lat)?;
                }
            }
            Ok(())
        }
        (Quantity::Length, Quantity::Length) => match (proj, &grid.projection) {
            (Some((lambert, fe, fnn)), _) => {
                for (j, y) in ys.iter().enumerate() {
                    for (i, x) in xs.iter().enumerate() {
                        let (lon, lat) = lambert.inverse(x - fe, y - fnn);
                        compare_lonlat(path, &lay.xdim, grid, j, i, lon, lat)?;
                    }
                }
                Ok(())
            }
            (None, Projection::Lambert { .. } | Projection::Cartesian) => {
                // Projection metres of the model's own projection.
                for (name, vals, model, step) in [
                    (&lay.xdim, &xs, &grid.x_coord, grid.dx),
                    (&lay.ydim, &ys, &grid.y_coord, grid.dy),
                ] {
                    if let Some(k) = (0..vals.len()).find(|&k| (vals[k] - model[k]).abs() > COORDINATE_TOLERANCE_CELLS * step) {
                        return Err(Error::input(
                            path,
                            name.as_str(),
                            format!(
                                "the model's projection coordinates (within {} % of a cell); index {k} is {} m, the model's is {} m",
                                COORDINATE_TOLERANCE_CELLS * 100.0,
                                vals[k],
                                model[k]
                            ),
                        ));
                    }
                }
                Ok(())
            }
            (None, Projection::LatLon { .. }) => Err(Error::input(
                path,
                lay.xdim.as_str(),
                "coordinates in degrees for a lat-lon model grid; the file's are lengths (a projected grid)",
            )),
        },
        _ => Err(Error::input(
            path,
            lay.xdim.as_str(),
            "x and y coordinates of one kind: both degrees or both lengths",
        )),
    }
}

/// Refuse a variable without a usable `species` attribute that looks like
/// an emission field (see the module notes); others are ignored.
fn looks_like_emission(var: &netcdf::Variable, path: &Path, vname: &str) -> Result<()> {
    let refuse = |why: String| {
        Error::input(
            path,
            vname,
            format!("an emission field with the text attributes `species`, `sector` and `units`, or a variable that does not look like one; {why}"),
        )
    };
    if var.attribute("species").is_some() {
        return Err(refuse("its `species` attribute is not text".into()));
    }
    for a in [
        "Species",
        "SPECIES",
        "pollutant",
        "Pollutant",
        "POLLUTANT",
        "species_name",
    ] {
        if var.attribute(a).is_some() {
            return Err(refuse(format!(
                "it has `{a}` instead of `species` (attribute names are case-sensitive)"
            )));
        }
    }
    if var.attribute("sector").is_some() {
        return Err(refuse("it has a `sector` but no `species`".into()));
    }
    if let Some(u) = nc::text(var, "units") {
        if to_kg_per_s(1.0, &u, 1.0).is_some() {
            return Err(refuse(format!(
                "it has emission units {u:?} but no `species`"
            )));
        }
    }
    if crate::species::lookup(vname).is_some()
        || crate::species::lookup(&vname.to_ascii_uppercase()).is_some()
    {
        return Err(refuse(
            "it is named after a species but has no `species` attribute".into(),
        ));
    }
    Ok(())
}

pub fn load(path: &Path, grid: &Grid, species: &[&str], inv: &mut Inventory) -> Result<()> {
    let file = nc::open(path)?;
    for var in file.variables() {
        let vname = var.name();
        let sp_name = match var.attribute("species") {
            None => {
                looks_like_emission(&var, path, &vname)?;
                continue;
            }
            Some(_) => match nc::text(&var, "species") {
                Some(s) => s,
                None => {
                    looks_like_emission(&var, path, &vname)?;
                    continue;
                }
            },
        };
        check_species(path, &format!("{vname}:species"), &sp_name)?;
        let sector_label = nc::text(&var, "sector").ok_or_else(|| {
            Error::input(
                path,
                format!("{vname}:sector"),
                "a `sector` attribute naming the emission sector",
            )
        })?;
        let sector = inv.sector_index(path, &format!("{vname}:sector"), &sector_label)?;
        let units = nc::text(&var, "units").ok_or_else(|| {
            Error::input(
                path,
                format!("{vname}:units"),
                format!("a `units` attribute, {UNITS_HELP}"),
            )
        })?;
        if to_kg_per_s(1.0, &units, 1.0).is_none() {
            return Err(Error::input(
                path,
                format!("{vname}:units"),
                format!("{UNITS_HELP}, got {units:?}"),
            ));
        }
        let lay = layout(&file, path, &var, &vname, grid)?;
        compare_coordinates(&file, path, &var, &vname, &lay, grid)?;
        let plane = grid.ny * grid.nx;
        let cell = |idx: usize| {
            let (k, j, i) = (idx / plane, (idx % plane) / grid.nx, idx % grid.nx);
            format!("cell [{k},{j},{i}] (layer, y, x)")
        };
        let vals = nc::read(&var, path, &vname, &lay.ext, None, &cell)?;
        debug_assert_eq!(vals.len(), lay.nlev * plane);
        let s = species.iter().position(|n| *n == sp_name);
        for (idx, &v) in vals.iter().enumerate() {
            let (k, j, i) = (idx / plane, (idx % plane) / grid.nx, idx % grid.nx);
            let field = format!("{vname}[{k},{j},{i}]");
            check_rate(path, &field, v)?;
            let rate = to_kg_per_s(v, &units, grid.area[[j, i]]).expect("unit checked");
            check_kg_per_s(path, &field, rate)?;
            let Some(s) = s else {
                continue; // checked, but not a species of this case
            };
            if v == 0.0 {
                continue;
            }
            inv.cells.push(CellEmission {
                species: s,
                sector,
                k,
                j,
                i,
                rate,
                origin: super::Origin::Located,
                tag: 0,
            });
        }
    }
    Ok(())
}
