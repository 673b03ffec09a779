//! Lat-lon rasters on the model grid: land cover setting roughness and
//! deposition land use per cell, terrain from a DEM, and the errors.

mod common;

use airshed::config::{GridSpec, Lateral, ProjectionSpec, TerrainSpec};
use airshed::grid::Grid;
use airshed::land_use::LandUse;
use airshed::met::terrain::Terrain;
use std::path::Path;

/// Pixel centres `start + k step`.
fn axis(start: f64, step: f64, n: usize) -> Vec<f64> {
    (0..n).map(|k| start + k as f64 * step).collect()
}

/// A class map `lc`(lat, lon) as bytes with _FillValue 255, as MCD12C1 is
/// stored, with latitudes descending (north first) as in the MODIS grids.
fn write_classes(path: &Path, lat: &[f64], lon: &[f64], class: impl Fn(f64, f64) -> u8) {
    let _io = common::IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut f = netcdf::create(path).unwrap();
    f.add_dimension("lat", lat.len()).unwrap();
    f.add_dimension("lon", lon.len()).unwrap();
    let mut v = f.add_variable::<f64>("lat", &["lat"]).unwrap();
    v.put_attribute("units", "degrees_north").unwrap();
    v.put_values(lat, ..).unwrap();
    let mut v = f.add_variable::<f64>("lon", &["lon"]).unwrap();
    v.put_attribute("units", "degrees_east").unwrap();
    v.put_values(lon, ..).unwrap();
    let vals: Vec<u8> = lat
        .iter()
        .flat_map(|&la| lon.iter().map(move |&lo| (lo, la)))
        .map(|(lo, la)| class(lo, la))
        .collect();
    let mut v = f.add_variable::<u8>("land_cover", &["lat", "lon"]).unwrap();
    v.put_attribute("_FillValue", 255u8).unwrap();
    v.put_values(&vals, ..).unwrap();
}

/// A DEM `elevation`(lat, lon) in m from `h(lon, lat)`.
fn write_dem(path: &Path, lat: &[f64], lon: &[f64], h: impl Fn(f64, f64) -> f64) {
    let _io = common::IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut f = netcdf::create(path).unwrap();
    f.add_dimension("lat", lat.len()).unwrap();
    f.add_dimension("lon", lon.len()).unwrap();
    f.add_variable::<f64>("lat", &["lat"])
        .unwrap()
        .put_values(lat, ..)
        .unwrap();
    f.add_variable::<f64>("lon", &["lon"])
        .unwrap()
        .put_values(lon, ..)
        .unwrap();
    let vals: Vec<f32> = lat
        .iter()
        .flat_map(|&la| lon.iter().map(move |&lo| (lo, la)))
        .map(|(lo, la)| h(lo, la) as f32)
        .collect();
    let mut v = f.add_variable::<f32>("elevation", &["lat", "lon"]).unwrap();
    v.put_attribute("units", "m").unwrap();
    v.put_values(&vals, ..).unwrap();
}

/// 4 x 4 cells of 0.5 degree over 110-112E, 25-27N: the column
/// 110.0-110.5E urban (IGBP 13), 110.5-111.0E water (0), the rest croplands
/// (12); the raster's 0.05-degree pixels reach 0.1 degree beyond the cells.
fn three_surfaces(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("lc.nc");
    let lat = axis(27.075, -0.05, 44); // 27.075 .. 24.925N, descending
    let lon = axis(109.925, 0.05, 44); // 109.925 .. 112.075E
    write_classes(&p, &lat, &lon, |lo, _| {
        if lo < 110.5 {
            13
        } else if lo < 111.0 {
            0
        } else {
            12
        }
    });
    p
}

/// A night-time (21 h local) case, so every cell has the same stability
/// and no sunlight: only the surface differs between cells.
fn case_text(land_cover: &str, species: &str) -> String {
    format!(
        r#"
[run]
name = "lc"
start = "2023-01-15T14:00:00Z"
hours = 1
dt_s = 600
[grid]
projection = "latlon"
centre_lon = 110.25
centre_lat = 25.25
nx = 4
ny = 4
dx = 0.5
dy = 0.5
layer_tops_m = [50.0, 300.0]
[species]
names = ["{species}"]
[met]
kind = "analytic"
flow = "uniform"
u_ms = 3.0
v_ms = 0.0
[physics]
advection = false
horizontal_kh_m2s = 0.0
vertical_diffusion = false
wet_deposition = false
[chemistry]
enabled = false
[boundary]
initial_ugm3 = {{ {species} = 80.0 }}
background_ugm3 = {{ {species} = 80.0 }}
[output]
dir = "out"
{land_cover}
"#
    )
}

const LAND_COVER: &str = r#"
[surface]
land_cover = { file = "lc.nc", variable = "land_cover", classes = "igbp" }
"#;

#[test]
fn land_cover_sets_roughness_and_land_use_per_cell() {
    let dir = tempfile::tempdir().unwrap();
    three_surfaces(dir.path());
    let case = common::case(&case_text(LAND_COVER, "O3"), dir.path());
    let grid = Grid::new(&case.grid);
    let m = airshed::met::open_case(&case, &grid)
        .unwrap()
        .at(0.0)
        .unwrap();
    // Wesely categories: urban 1, water 7, agricultural 2 (WRF-Chem's
    // MODIS -> USGS -> Wesely map: 13 -> 1 -> urban, 17 -> 16 -> water,
    // 12 -> 4 -> agricultural).
    let want = [LandUse::Urban, LandUse::Water, LandUse::Agricultural].map(|l| l as u8);
    for j in 0..4 {
        assert_eq!(
            m.land_use.row(j).to_vec(),
            [want[0], want[1], want[2], want[2]]
        );
    }
    // WRF LANDUSE.TBL MODIFIED_IGBP_MODIS_NOAH, WINTER SFZ0 (January):
    // urban 80 cm, water 0.01 cm, croplands 5 cm.
    let want = [0.80, 1e-4, 0.05];
    for (got, want) in m.z0.row(2).iter().zip(want) {
        assert!((got / want - 1.0).abs() < 1e-12, "{got} vs {want}");
    }
    // u* follows each cell's z0 (analytic met: neutral log law at the
    // first level, 25 m, for a 3 m/s wind): k U / ln(z / z0).
    for (i, z0) in want.iter().enumerate() {
        let us = (0.4 * 3.0 / (25.0f64 / z0).ln()).max(0.05);
        assert!((m.ustar[[0, i]] - us).abs() < 1e-9, "cell {i}");
    }
    // Urban and cropland fractions for the emission proxies.
    let lc =
        airshed::land_cover::LandCover::load(&grid, case.land_cover.as_ref().unwrap()).unwrap();
    assert_eq!(lc.urban_fraction().row(3).to_vec(), [1.0, 0.0, 0.0, 0.0]);
    assert_eq!(lc.cropland_fraction().row(1).to_vec(), [0.0, 0.0, 1.0, 1.0]);
    // Without [surface], the analytic met's uniform 0.1 m and no land use.
    let plain = common::case(&case_text("", "O3"), dir.path());
    let m = airshed::met::open_case(&plain, &grid)
        .unwrap()
        .at(0.0)
        .unwrap();
    assert!(m.z0.iter().all(|&z| z == 0.1) && m.land_use.iter().all(|&l| l == 0));
}

#[test]
fn ozone_deposits_faster_over_the_city_than_over_water() {
    let dir = tempfile::tempdir().unwrap();
    three_surfaces(dir.path());
    let mut sim = common::sim(&case_text(LAND_COVER, "O3"), dir.path());
    let before: Vec<f64> = (0..3).map(|i| sim.model.state.mass[[0, 0, 0, i]]).collect();
    sim.step().unwrap();
    let lost: Vec<f64> = (0..3)
        .map(|i| 1.0 - sim.model.state.mass[[0, 0, 0, i]] / before[i])
        .collect();
    // Wesely (1989) table 3: ozone's ground path over water is r_gsO =
    // 2000 s/m; over urban land r_ac + r_gsO = 100 + 300 s/m (600 in
    // midwinter); and the rougher city has the smaller aerodynamic
    // resistance: both make the city's deposition faster.
    assert!(
        lost[0] > 2.0 * lost[1],
        "urban {} vs water {}",
        lost[0],
        lost[1]
    );
    assert!(lost[1] > 0.0);
    // With one land use everywhere (no land cover) the cells agree.
    let mut flat = common::sim(&case_text("", "O3"), dir.path());
    let b0 = flat.model.state.mass[[0, 0, 0, 0]];
    let b1 = flat.model.state.mass[[0, 0, 0, 1]];
    flat.step().unwrap();
    let f0 = 1.0 - flat.model.state.mass[[0, 0, 0, 0]] / b0;
    let f1 = 1.0 - flat.model.state.mass[[0, 0, 0, 1]] / b1;
    assert!((f0 / f1 - 1.0).abs() < 1e-3, "{f0} vs {f1}");
}

fn lambert(nx: usize, ny: usize) -> Grid {
    Grid::new(&GridSpec {
        projection: ProjectionSpec::Lambert {
            truelat1: 25.0,
            truelat2: 27.0,
            stand_lon: 111.0,
            centre_lon: 111.0,
            centre_lat: 26.0,
        },
        nx,
        ny,
        dx: 12_000.0,
        dy: 12_000.0,
        layer_tops_m: vec![50.0, 300.0],
        lateral: Lateral::Open,
    })
}

#[test]
fn terrain_from_a_lat_lon_dem_is_the_cell_mean_with_the_sea_at_zero() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("dem.nc");
    // 5-arc-minute pixels over 109.5-112.5E, 24.5-27.5N. A plane rising
    // 300 m per degree east and 500 m per degree north from 0 m along
    // 26N: south of it lies "sea" down to -500 m.
    let h = |lon: f64, lat: f64| 300.0 * (lon - 111.0) + 500.0 * (lat - 26.0);
    let d = 1.0 / 12.0;
    write_dem(
        &p,
        &axis(24.5 + d / 2.0, d, 36),
        &axis(109.5 + d / 2.0, d, 36),
        h,
    );
    let g = lambert(10, 12);
    let spec = TerrainSpec::File {
        path: p.clone(),
        variable: "elevation".into(),
        radius_km: 20.0,
    };
    let t = Terrain::build(&g, &spec).unwrap();
    let (mut land, mut sea) = (0, 0);
    for j in 0..g.ny {
        for i in 0..g.nx {
            let (lon, lat) = (g.lon[[j, i]], g.lat[[j, i]]);
            let centre = h(lon, lat);
            // A 12 km cell spans about 0.11 degree of latitude, 55 m of
            // this plane's height: cells wholly above (below) 26N take
            // the plane's value at their centre (0 m), as bilinear
            // interpolation reproduces a plane and the sub-points are
            // symmetric about the centre (to the Lambert grid's curvature).
            if centre > 60.0 {
                assert!((t.height[[j, i]] - centre).abs() < 0.5, "({i}, {j})");
                land += 1;
            } else if centre < -120.0 {
                // Every pixel it weighs is below sea level (0 up to round-off).
                assert!(t.height[[j, i]].abs() < 1e-9, "sea cell ({i}, {j})");
                sea += 1;
            }
        }
    }
    assert!(land > 20 && sea > 10, "{land} land, {sea} sea cells");
    // An on-grid file still reads as before (covered by
    // tests/diagnostic_wind.rs); a missing variable names file and field.
    let spec = TerrainSpec::File {
        path: p.clone(),
        variable: "HGT".into(),
        radius_km: 20.0,
    };
    let e = Terrain::build(&g, &spec).unwrap_err().to_string();
    assert!(e.contains("dem.nc") && e.contains("`HGT`"), "{e}");
}

#[test]
fn cells_beyond_a_raster_are_refused_naming_file_field_and_place() {
    let dir = tempfile::tempdir().unwrap();
    // The land-cover raster stops at 111.2E: the third column of cells
    // (to 111.5E) is outside, first met in the southern row.
    let p = dir.path().join("lc.nc");
    write_classes(
        &p,
        &axis(27.075, -0.05, 44),
        &axis(109.925, 0.05, 26),
        |_, _| 12,
    );
    let case = common::case(&case_text(LAND_COVER, "O3"), dir.path());
    let e = match airshed::simulation::Simulation::from_case(&case) {
        Ok(_) => panic!("a raster short of the grid was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.contains("lc.nc")
            && e.contains("`land_cover`")
            && e.contains("i=2, j=0")
            && e.contains("111.250E 25.250N"),
        "{e}"
    );
    // A missing variable, through the case.
    let text = case_text(LAND_COVER, "O3")
        .replace(r#"variable = "land_cover""#, r#"variable = "LC_Type1""#);
    let case = common::case(&text, dir.path());
    let e = match airshed::simulation::Simulation::from_case(&case) {
        Ok(_) => panic!("a missing variable was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("lc.nc") && e.contains("`LC_Type1`"), "{e}");
    // An unknown legend is a case error naming the key.
    let text = case_text(LAND_COVER, "O3").replace(r#"classes = "igbp""#, r#"classes = "usgs""#);
    let e = airshed::config::Case::from_str(&text, &dir.path().join("case.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("surface.land_cover.classes"), "{e}");
}

/// The figures quoted in docs/numerics.md, from the real inputs when they
/// are there (`inputs/terrain_etopo5.nc`, `inputs/landcover_mcd12c1.nc`):
/// `cargo test --release --test land_cover -- --ignored --nocapture`.
#[test]
#[ignore = "needs the built inputs/; prints figures"]
fn real_rasters_on_the_default_grid() {
    use airshed::config::{LandCoverClasses, LandCoverSpec};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (dem, lc) = (
        root.join("inputs/terrain_etopo5.nc"),
        root.join("inputs/landcover_mcd12c1.nc"),
    );
    if !dem.exists() || !lc.exists() {
        eprintln!("inputs/ not built: nothing to show");
        return;
    }
    let text = std::fs::read_to_string(root.join("configs/default.toml")).unwrap();
    let case = airshed::config::Case::from_str(&text, &root.join("configs/default.toml")).unwrap();
    let g = Grid::new(&case.grid);
    let spec = TerrainSpec::File {
        path: dem,
        variable: "elevation".into(),
        radius_km: 30.0,
    };
    let t = Terrain::build(&g, &spec).unwrap();
    let (hi, hj) = g.cell_of(112.57, 26.89).unwrap();
    let ((mj, mi), mx) =
        t.height.indexed_iter().fold(
            ((0, 0), f64::MIN),
            |b, (c, &h)| if h > b.1 { (c, h) } else { b },
        );
    println!(
        "terrain: Hengyang cell (i={hi}, j={hj}) {:.1} m; highest cell (i={mi}, j={mj}) {:.1} m at {:.2}E {:.2}N",
        t.height[[hj, hi]],
        mx,
        g.lon[[mj, mi]],
        g.lat[[mj, mi]]
    );
    let spec = LandCoverSpec {
        path: lc,
        variable: "land_cover".into(),
        classes: LandCoverClasses::Igbp,
    };
    let cover = airshed::land_cover::LandCover::load(&g, &spec).unwrap();
    let (dom, z0) = (
        cover.dominant(),
        cover.roughness(case.run.start.day_of_year as f64),
    );
    for (name, lon, lat) in [
        ("Changsha", 112.94, 28.23),
        ("Hengyang", 112.57, 26.89),
        ("Liuzhou", 109.41, 24.33),
    ] {
        let (i, j) = g.cell_of(lon, lat).unwrap();
        let shares: Vec<String> = (0..17)
            .filter(|&c| cover.fractions[[j, i, c]] > 0.0)
            .map(|c| format!("{c}: {:.2}", cover.fractions[[j, i, c]]))
            .collect();
        println!(
            "{name} cell (i={i}, j={j}): dominant IGBP {}, z0 {:.2} m, classes {}",
            dom[[j, i]],
            z0[[j, i]],
            shares.join(", ")
        );
    }
}
