//! The valid inputs every mutation starts from: small cases (4 x 4 cells,
//! 3 layers, 1 hour, so one `check` takes about a millisecond) with one
//! valid file of each kind, written the way tests/common and
//! scripts/make-wrfout.py write them.

use super::nc::{Attr, Format, NcDoc, Ty};

pub enum SeedFile {
    Text(String),
    Nc(NcDoc),
}

pub struct SeedCase {
    pub name: &'static str,
    pub toml: String,
    pub files: Vec<(&'static str, SeedFile)>,
}

const RUN: &str = r#"[run]
name = "fuzz"
start = "2023-01-20T00:00:00Z"
hours = 1
dt_s = 600
threads = 1
max_memory_gib = 1.0
"#;

/// Lat-lon cells of 0.1 degree; cell centres 112.5-112.8 E, 27.5-27.8 N.
const LATLON_GRID: &str = r#"[grid]
projection = "latlon"
nx = 4
ny = 4
dx = 0.1
dy = 0.1
centre_lon = 112.5
centre_lat = 27.5
layer_tops_m = [50.0, 200.0, 800.0]
lateral = "open"
"#;

/// WRF's own mass grid (the WRF seed's projection and size).
const WRF_GRID: &str = r#"[grid]
projection = "lambert"
truelat1 = 30.0
truelat2 = 60.0
stand_lon = 112.0
centre_lon = 113.0
centre_lat = 27.0
nx = 4
ny = 4
dx = 12000.0
dy = 12000.0
layer_tops_m = [30.0, 80.0, 150.0]
"#;

/// A lat-lon grid inside the WRF domain (regridded).
const WRF_INNER_GRID: &str = r#"[grid]
projection = "latlon"
nx = 4
ny = 4
dx = 0.05
dy = 0.05
centre_lon = 112.93
centre_lat = 26.93
layer_tops_m = [30.0, 80.0, 150.0]
"#;

/// Lambert cells of 10 km around 112.65 E, 27.65 N, for the diagnostic
/// wind model (which measures cells in metres: a lat-lon grid with
/// terrain hangs, see tests/fuzz-regressions/diagnostic-terrain-on-latlon-grid).
const LAMBERT_GRID: &str = r#"[grid]
projection = "lambert"
truelat1 = 25.0
truelat2 = 30.0
stand_lon = 112.65
centre_lon = 112.65
centre_lat = 27.65
nx = 4
ny = 4
dx = 10000.0
dy = 10000.0
layer_tops_m = [50.0, 200.0, 800.0]
"#;

const SPECIES: &str = r#"[species]
names = ["PM25", "SO2", "SO4", "NOX", "HNO3", "NO3", "NH3", "NH4", "VOC", "O3", "H2O2", "N2O5", "CLNO2"]
"#;

const BOUNDARY_OUTPUT: &str = r#"[boundary]
background_ugm3 = { PM25 = 10.0, SO2 = 3.0, NOX = 5.0, NH3 = 2.0, O3 = 80.0, H2O2 = 1.5 }
initial_ugm3 = { PM25 = 10.0, SO2 = 3.0, NOX = 5.0, NH3 = 2.0, O3 = 80.0, H2O2 = 1.5 }

[output]
dir = "out"
interval_hours = 1
mode = "mean"
layers = 2
met_fields = false
"#;

const ANALYTIC_MET: &str = r#"[met]
kind = "analytic"
flow = "uniform"
u_ms = 2.0
v_ms = -1.0
pblh_day_m = 900.0
pblh_night_m = 250.0
surface_temperature_k = 280.0
precip_mm_h = 0.5
relative_humidity = 0.8
cloud_water_gkg = 0.1
constant_density = false
"#;

const PHYSICS_CHEMISTRY: &str = r#"[physics]
advection = true
vertical_diffusion = true
horizontal_kh_m2s = 100.0
dry_deposition = true
wet_deposition = true
land_use = "mixed_forest"
kz_min_m2s = 0.1
max_courant = 0.9
vertical_diffusion_theta = 1.0
ppm_edges = "cw84_limited"

[chemistry]
enabled = true
oh_peak_cm3 = 5.0e6
ozone_ppb = 40.0
ozone_recovery_hours = 3.0
h2o2_ppb = 1.0
h2o2_relaxation_hours = 24.0
cloud_ph = 4.5
n2o5_gamma = 0.022
clno2_yield = 0.34
so2_uptake_gamma = 5.0e-5
metastable = true
no_fraction_of_nox = 0.9
"#;

const CITY_CSV: &str = "city,lon,lat,radius_km,sector,species,t_per_yr,source
A,112.6,27.6,10,mobile,SO2,1000,plan
A,112.6,27.6,10,mobile,PM25,500,plan
B,112.7,27.7,5,industrial_process,NOX,2000,plan
B,112.7,27.7,5,dust,PM25,100,plan
";

const STACKS_CSV: &str =
    "name,lon,lat,height_m,diameter_m,velocity_m_s,temperature_k,sector,species,rate,units
S1,112.65,27.65,120,4,12,400,industrial_process,SO2,50,g s-1
S1,112.65,27.65,120,4,12,400,industrial_process,NOX,30,g s-1
S2,112.55,27.55,60,2,8,350,stationary_combustion,PM25,1000,t yr-1
";

const STATIONS_CSV: &str = "hour,station,lon,lat,speed_ms,direction_deg
0,west,112.6,27.65,3.0,270
0,east,112.7,27.65,2.0,0
1,west,112.6,27.65,3.5,260
1,east,112.7,27.65,2.5,10
";

/// Two regions splitting the lat-lon grid at 112.65 E.
const REGIONS: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"W"},"geometry":{"type":"Polygon","coordinates":[[[112.3,27.3],[112.65,27.3],[112.65,28.0],[112.3,28.0],[112.3,27.3]]]}},
{"type":"Feature","properties":{"name":"E"},"geometry":{"type":"Polygon","coordinates":[[[112.65,27.3],[113.0,27.3],[113.0,28.0],[112.65,28.0],[112.65,27.3]]]}}
]}
"#;

const ATTRIBUTION: &str = r#"[attribution]
regions_file = "regions.geojson"
name_property = "name"
groups = { B = ["W", "E"] }
regions = ["W", "E"]
sectors = "all"
receptors = ["B", "W"]
species = ["PM25", "SO2", "SO4", "NOX", "HNO3", "NO3", "NH3", "NH4", "N2O5", "CLNO2"]
episode_ugm3 = 75.0
utc_offset_hours = 8.0
"#;

fn case(parts: &[&str]) -> String {
    parts.join("\n")
}

/// The same file as netCDF-4 (HDF5), as WRF writes with io_form 11 and
/// tests/reanalysis.rs writes its coarse met.
fn nc4(mut doc: NcDoc) -> NcDoc {
    doc.format = Format::Nc4;
    doc
}

/// CF met on the lat-lon grid, every optional field present.
fn cf_met() -> NcDoc {
    let mut d = NcDoc::new(Format::Cdf5);
    d.dim("time", 2).dim("z", 3).dim("y", 4).dim("x", 4);
    d.var("time", &["time"], "hours", |i| i[0] as f64);
    let d4 = ["time", "z", "y", "x"];
    let d3 = ["time", "y", "x"];
    d.var("u", &d4, "m s-1", |i| {
        2.0 + 0.1 * i[0] as f64 + 0.2 * i[1] as f64
    });
    d.var("v", &d4, "m s-1", |i| -1.0 + 0.1 * i[2] as f64);
    d.var("temperature", &d4, "K", |i| 280.0 - i[1] as f64);
    d.var("pressure", &d4, "Pa", |i| 95_000.0 - 2000.0 * i[1] as f64);
    d.var("relative_humidity", &d4, "1", |_| 0.7);
    d.var("cloud_water", &d4, "kg kg-1", |i| {
        if i[2] == 1 && i[3] == 1 {
            1e-4
        } else {
            0.0
        }
    });
    d.var("kz", &d4, "m2 s-1", |i| 5.0 + i[1] as f64);
    d.var("pblh", &d3, "m", |_| 800.0);
    d.var("ustar", &d3, "m s-1", |_| 0.3);
    d.var("obukhov_length", &d3, "m", |_| -100.0);
    d.var("sensible_heat_flux", &d3, "W m-2", |_| 50.0);
    d.var("precip", &d3, "mm h-1", |i| 0.2 * i[0] as f64);
    d.var("z0", &["y", "x"], "m", |_| 0.1);
    d.var("land_use", &["y", "x"], "1", |i| {
        1.0 + ((i[0] + i[1]) % 11) as f64
    });
    d
}

/// Area emissions on the lat-lon grid: a surface field and a layered flux.
fn gridded() -> NcDoc {
    let mut d = NcDoc::new(Format::Cdf5);
    d.dim("z", 2).dim("y", 4).dim("x", 4);
    d.var("lon", &["x"], "degrees_east", |i| 112.5 + 0.1 * i[0] as f64);
    d.var("lat", &["y"], "degrees_north", |i| 27.5 + 0.1 * i[0] as f64);
    d.var("so2_power", &["y", "x"], "t yr-1", |i| 10.0 + i[1] as f64)
        .attr("species", Attr::Str("SO2".into()))
        .attr("sector", Attr::Str("stationary_combustion".into()));
    d.var("pm25_dust", &["z", "y", "x"], "kg m-2 s-1", |i| {
        1e-9 * (1 + i[0]) as f64
    })
    .attr("species", Attr::Str("PM25".into()))
    .attr("sector", Attr::Str("dust".into()));
    d
}

/// A wrfout file as scripts/make-wrfout.py writes it (4 x 4 x 3 mass
/// points, 2 hourly records), with its closed-form fields.
fn wrfout() -> NcDoc {
    let (nx, ny, nz) = (4usize, 4usize, 3usize);
    let mut zw = vec![0.0];
    let mut gap = 40.0;
    for _ in 0..nz {
        zw.push(zw.last().unwrap() + gap);
        gap *= 1.6;
    }
    let zm: Vec<f64> = (0..nz).map(|k| 0.5 * (zw[k] + zw[k + 1])).collect();
    let hgt = |j: usize, i: usize| 100.0 + 10.0 * i as f64 + 5.0 * j as f64;
    let mut d = NcDoc::new(Format::Offset64);
    d.unlimited("Time", 2)
        .dim("DateStrLen", 19)
        .dim("west_east", nx)
        .dim("south_north", ny)
        .dim("bottom_top", nz)
        .dim("bottom_top_stag", nz + 1)
        .dim("west_east_stag", nx + 1)
        .dim("south_north_stag", ny + 1);
    d.text_var(
        "Times",
        &["Time", "DateStrLen"],
        b"2023-01-20_00:00:002023-01-20_01:00:00",
    );
    let d3 = ["Time", "bottom_top", "south_north", "west_east"];
    let d2 = ["Time", "south_north", "west_east"];
    let w3 = ["Time", "bottom_top_stag", "south_north", "west_east"];
    d.var("XLAT", &d2, "degree_north", |i| {
        27.0 + 0.108 * (i[1] as f64 - 1.5)
    });
    d.var("XLONG", &d2, "degree_east", |i| {
        113.0 + 0.12 * (i[2] as f64 - 1.5)
    });
    d.var(
        "U",
        &["Time", "bottom_top", "south_north", "west_east_stag"],
        "m s-1",
        |i| 2.0 + 0.5 * i[3] as f64 + 0.01 * zm[i[1]] + 0.25 * i[0] as f64,
    );
    d.var(
        "V",
        &["Time", "bottom_top", "south_north_stag", "west_east"],
        "m s-1",
        |i| -1.0 + 0.3 * i[2] as f64 + 0.002 * zm[i[1]],
    );
    d.var("PH", &w3, "m2 s-2", |_| 0.0);
    d.var("PHB", &w3, "m2 s-2", |i| {
        9.81 * (hgt(i[2], i[3]) + zw[i[1]])
    });
    d.var("P", &d3, "Pa", |_| 0.0);
    d.var("PB", &d3, "Pa", |i| 100_000.0 * (-zm[i[1]] / 8000.0).exp());
    d.var("T", &d3, "K", |i| 290.0 + 0.005 * zm[i[1]] - 300.0);
    d.var("QVAPOR", &d3, "kg kg-1", |_| 0.005);
    d.var("QCLOUD", &d3, "kg kg-1", |i| {
        if (i[2], i[3]) == (1, 1) {
            1e-4
        } else {
            0.0
        }
    });
    d.var("PBLH", &d2, "m", |_| 800.0);
    d.var("UST", &d2, "m s-1", |_| 0.3);
    d.var("HFX", &d2, "W m-2", |_| 50.0);
    d.var("RAINC", &d2, "mm", |i| 0.5 * i[0] as f64);
    d.var("RAINNC", &d2, "mm", |i| 1.0 * i[0] as f64);
    d.var("HGT", &d2, "m", |i| hgt(i[1], i[2]));
    d.var("LU_INDEX", &d2, "", |i| {
        if (i[1], i[2]) == (0, 0) {
            17.0
        } else {
            12.0
        }
    });
    for v in &mut d.vars {
        if v.ty == Ty::F64 {
            v.ty = Ty::F32;
        }
    }
    let f = |x: f32| Attr::F32(vec![x]);
    d.global("MAP_PROJ", Attr::I32(vec![1]))
        .global("MMINLU", Attr::Str("MODIFIED_IGBP_MODIS_NOAH".into()))
        .global("TRUELAT1", f(30.0))
        .global("TRUELAT2", f(60.0))
        .global("STAND_LON", f(112.0))
        .global("CEN_LAT", f(27.0))
        .global("CEN_LON", f(113.0))
        .global("DX", f(12000.0))
        .global("DY", f(12000.0))
        .global("START_DATE", Attr::Str("2023-01-20_00:00:00".into()));
    d
}

/// Coarse lat-lon met around the lat-lon grid, latitudes falling.
fn reanalysis() -> NcDoc {
    let heights = [10.0, 100.0, 500.0, 1500.0];
    let mut d = NcDoc::new(Format::Cdf5);
    d.dim("time", 2).dim("level", 4).dim("lat", 5).dim("lon", 5);
    d.var("time", &["time"], "hours", |i| i[0] as f64);
    d.var("lon", &["lon"], "degrees_east", |i| {
        111.5 + 0.5 * i[0] as f64
    });
    d.var("lat", &["lat"], "degrees_north", |i| {
        28.5 - 0.5 * i[0] as f64
    });
    d.var("height", &["level"], "m", |i| heights[i[0]]);
    let d4 = ["time", "level", "lat", "lon"];
    let d3 = ["time", "lat", "lon"];
    d.var("u", &d4, "m s-1", |i| {
        2.0 + 0.3 * i[3] as f64 + 0.002 * heights[i[1]] + 0.5 * i[0] as f64
    });
    d.var("v", &d4, "m s-1", |i| -1.0 + 0.2 * i[2] as f64);
    d.var("temperature", &d4, "K", |i| 290.0 - 0.0065 * heights[i[1]]);
    d.var("pressure", &d4, "Pa", |i| {
        1e5 * (-heights[i[1]] / 8000.0).exp()
    });
    d.var("relative_humidity", &d4, "1", |_| 0.6);
    d.var("sensible_heat_flux", &d3, "W m-2", |_| 100.0);
    d.var("pblh", &d3, "m", |_| 700.0);
    d.var("ustar", &d3, "m s-1", |_| 0.35);
    d.var("precip", &d3, "mm h-1", |_| 0.1);
    d
}

/// Terrain heights on the 4 x 4 grid, WRF-style (Time, y, x).
fn terrain() -> NcDoc {
    let mut d = NcDoc::new(Format::Cdf5);
    d.dim("Time", 1).dim("y", 4).dim("x", 4);
    d.var("HGT", &["Time", "y", "x"], "m", |i| {
        100.0 + 40.0 * i[2] as f64 + 25.0 * i[1] as f64
    });
    d.var("terrain_height", &["y", "x"], "m", |i| {
        50.0 + 10.0 * (i[0] * i[1]) as f64
    });
    d
}

pub fn all() -> Vec<SeedCase> {
    use SeedFile::{Nc, Text};
    let analytic_emissions =
        "[emissions]\ncity_totals = [\"city.csv\"]\npoints = [\"stacks.csv\"]\n";
    let sites = "sites = [\n  { name = \"A\", lon = 112.6, lat = 27.6 },\n  { name = \"B\", lon = 112.75, lat = 27.55 },\n]\n";
    let csvs = || {
        vec![
            ("city.csv", Text(CITY_CSV.into())),
            ("stacks.csv", Text(STACKS_CSV.into())),
        ]
    };
    vec![
        SeedCase {
            name: "analytic",
            toml: case(&[
                sites,
                RUN,
                LATLON_GRID,
                SPECIES,
                ANALYTIC_MET,
                analytic_emissions,
                PHYSICS_CHEMISTRY,
                BOUNDARY_OUTPUT,
            ]),
            files: csvs(),
        },
        SeedCase {
            name: "attribution",
            toml: case(&[
                sites,
                RUN,
                LATLON_GRID,
                SPECIES,
                ANALYTIC_MET,
                analytic_emissions,
                BOUNDARY_OUTPUT,
                ATTRIBUTION,
            ]),
            files: {
                let mut f = csvs();
                f.push(("regions.geojson", Text(REGIONS.into())));
                f
            },
        },
        SeedCase {
            name: "gridded",
            toml: case(&[
                RUN,
                LATLON_GRID,
                SPECIES,
                ANALYTIC_MET,
                "[emissions]\ngridded = [\"area.nc\"]\n",
                BOUNDARY_OUTPUT,
            ]),
            files: vec![("area.nc", Nc(gridded()))],
        },
        SeedCase {
            name: "cf-met",
            toml: case(&[
                sites,
                RUN,
                LATLON_GRID,
                SPECIES,
                "[met]\nkind = \"netcdf\"\nfile = \"met.nc\"\n",
                analytic_emissions,
                BOUNDARY_OUTPUT,
            ]),
            files: {
                let mut f = csvs();
                f.push(("met.nc", Nc(cf_met())));
                f
            },
        },
        SeedCase {
            name: "wrf",
            toml: case(&[
                RUN,
                WRF_GRID,
                SPECIES,
                "[met]\nkind = \"wrf\"\nfiles = [\"wrfout.nc\"]\n",
                BOUNDARY_OUTPUT,
            ]),
            files: vec![("wrfout.nc", Nc(wrfout()))],
        },
        SeedCase {
            name: "wrf-regridded",
            toml: case(&[
                RUN,
                WRF_INNER_GRID,
                SPECIES,
                "[met]\nkind = \"wrf\"\nfiles = [\"wrfout.nc\"]\n",
                BOUNDARY_OUTPUT,
            ]),
            files: vec![("wrfout.nc", Nc(nc4(wrfout())))],
        },
        SeedCase {
            name: "reanalysis",
            toml: case(&[
                RUN,
                LATLON_GRID,
                SPECIES,
                "[met]\nkind = \"reanalysis\"\nfile = \"era.nc\"\n",
                BOUNDARY_OUTPUT,
            ]),
            files: vec![("era.nc", Nc(reanalysis()))],
        },
        SeedCase {
            name: "reanalysis-diagnostic",
            toml: case(&[
                RUN,
                LAMBERT_GRID,
                SPECIES,
                "[met]\nkind = \"diagnostic\"\nfile = \"era.nc\"\nterrain = { shape = \"hill\", height_m = 300.0, radius_km = 5.0 }\n",
                BOUNDARY_OUTPUT,
            ]),
            files: vec![("era.nc", Nc(nc4(reanalysis())))],
        },
        SeedCase {
            name: "stations",
            toml: case(&[
                RUN,
                LAMBERT_GRID,
                SPECIES,
                "[met]\nkind = \"diagnostic\"\nregime = \"winter\"\nstations = \"stations.csv\"\nseed = 3\ncalm_fraction = 0.2\nrelative_humidity = 0.75\nterrain = { shape = \"hill\", height_m = 300.0, radius_km = 5.0 }\n",
                BOUNDARY_OUTPUT,
            ]),
            files: vec![("stations.csv", Text(STATIONS_CSV.into()))],
        },
        SeedCase {
            name: "terrain",
            toml: case(&[
                RUN,
                LAMBERT_GRID,
                SPECIES,
                "[met]\nkind = \"diagnostic\"\nregime = \"summer\"\nterrain = { shape = \"file\", file = \"terrain.nc\", variable = \"HGT\", radius_km = 5.0 }\n",
                BOUNDARY_OUTPUT,
            ]),
            files: vec![("terrain.nc", Nc(terrain()))],
        },
    ]
}
