//! The Simulation's seams: sinks (netCDF-4 with bounds and standard names,
//! site series, meteorology, summary, staged as a set), hooks (state and
//! budget checks that can fail, timers), tag-ready state, process kinds and
//! the typed case's new refusals.

mod common;
use airshed::processes::ProcessKind;
use airshed::simulation::Simulation;
use airshed::state::{Tag, TagKind, TracerSet};
use common::*;

/// A small Lambert case with a stack, two sites and met output.
fn case_text(dir: &std::path::Path, mode: &str) -> String {
    std::fs::write(
        dir.join("stacks.csv"),
        "name,lon,lat,height_m,diameter_m,velocity_m_s,temperature_k,sector,species,rate,units\n\
         plant,112.45,27.45,80,4,15,420,stationary_combustion,SO2,200,g s-1\n\
         plant,112.45,27.45,80,4,15,420,stationary_combustion,PM25,30,g s-1\n",
    )
    .unwrap();
    format!(
        r#"
sites = [
  {{ name = "Upwind", lon = 112.3, lat = 27.6 }},
  {{ name = "Plant", lon = 112.45, lat = 27.45 }},
]
[run]
name = "sim"
start = "2023-01-20T00:00:00Z"
hours = 4
dt_s = 900
[grid]
projection = "lambert"
truelat1 = 22.0
truelat2 = 30.0
stand_lon = 111.0
centre_lon = 112.5
centre_lat = 27.5
nx = 14
ny = 12
dx = 6000.0
dy = 6000.0
layer_tops_m = [50, 200, 600, 1500]
[species]
names = ["PM25", "SO2", "SO4"]
[met]
kind = "analytic"
u_ms = 3.0
v_ms = 0.0
pblh_day_m = 900
pblh_night_m = 300
[emissions]
points = ["stacks.csv"]
[boundary]
background_ugm3 = {{ PM25 = 10.0, SO2 = 2.0 }}
initial_ugm3 = {{ PM25 = 10.0, SO2 = 2.0 }}
[output]
dir = "out"
interval_hours = 2
mode = "{mode}"
layers = 2
met_fields = true
"#
    )
}

fn text_attr(a: Option<netcdf::Attribute>) -> String {
    match a.expect("attribute present").value().unwrap() {
        netcdf::AttributeValue::Str(s) => s,
        other => panic!("not text: {other:?}"),
    }
}

#[test]
fn outputs_are_deflated_netcdf4_with_bounds_names_sites_and_met() {
    let dir = tempfile::tempdir().unwrap();
    let c = case(&case_text(dir.path(), "mean"), dir.path());
    let s = run_in(&c, dir.path()).unwrap();
    // netCDF-4 is HDF5 underneath: the HDF5 signature opens the file.
    let bytes = std::fs::read(&s.output_file).unwrap();
    assert_eq!(&bytes[..8], b"\x89HDF\r\n\x1a\n", "not netCDF-4");
    let f = netcdf::open(&s.output_file).unwrap();
    // Two 2-hour means, stamped at their middles, bounded by their ends.
    let time: Vec<f64> = f.variable("time").unwrap().get_values(..).unwrap();
    let bnds: Vec<f64> = f.variable("time_bnds").unwrap().get_values(..).unwrap();
    assert_eq!(time, vec![1.0, 3.0]);
    assert_eq!(bnds, vec![0.0, 2.0, 2.0, 4.0]);
    assert_eq!(
        text_attr(f.variable("time").unwrap().attribute("bounds")),
        "time_bnds"
    );
    let so2 = f.variable("SO2").unwrap();
    assert_eq!(
        text_attr(so2.attribute("standard_name")),
        "mass_concentration_of_sulfur_dioxide_in_air"
    );
    assert_eq!(text_attr(so2.attribute("cell_methods")), "time: mean");
    assert_eq!(
        text_attr(f.variable("PM25_TOTAL").unwrap().attribute("standard_name")),
        "mass_concentration_of_pm2p5_ambient_aerosol_particles_in_air"
    );
    // The catch-all primary PM25 has no CF name.
    assert!(f
        .variable("PM25")
        .unwrap()
        .attribute("standard_name")
        .is_none());
    // The site series: its means and the NetCDF's, computed by two sinks
    // independently, agree to float32 rounding at the plant's cell.
    let csv = std::fs::read_to_string(dir.path().join("out/sim.sites.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows[0],
        "time_start,time_end,site,lon,lat,PM25,SO2,SO4,PM25_TOTAL"
    );
    assert_eq!(rows.len(), 1 + 2 * 2, "a row per site and interval");
    let plant: Vec<&str> = rows[4].split(',').collect();
    assert_eq!(&plant[..3], &["2", "4", "Plant"]);
    let g = airshed::grid::Grid::new(&c.grid);
    let (i, j) = g.cell_of(112.45, 27.45).unwrap();
    let nc: Vec<f32> = so2.get_values(..).unwrap();
    let nc_at = nc[(2 * g.ny + j) * g.nx + i] as f64; // record 1, layer 0
    let csv_at: f64 = plant[6].parse().unwrap();
    println!("SO2 at the plant, 2-4 h mean: site CSV {csv_at:.6e}, NetCDF {nc_at:.6e} ug/m3");
    assert!(csv_at > 2.5, "the plume reaches the plant's cell: {csv_at}");
    assert!((csv_at - nc_at).abs() < 1e-6 * csv_at);
    // The meteorology: a uniform 3 m/s grid-relative westerly, rotated to
    // earth-relative by the cone angle at each cell (Snyder 1987 eq. 15-1).
    let m = netcdf::open(dir.path().join("out/sim.met.nc")).unwrap();
    let east: Vec<f32> = m.variable("eastward_wind").unwrap().get_values(..).unwrap();
    let north: Vec<f32> = m
        .variable("northward_wind")
        .unwrap()
        .get_values(..)
        .unwrap();
    for (e, nn) in east.iter().zip(&north) {
        assert!(((*e as f64).hypot(*nn as f64) - 3.0).abs() < 1e-5, "speed");
        assert!(*e > 2.9 && nn.abs() < 0.3, "a westerly: ({e}, {nn})");
    }
    let pblh: Vec<f32> = m.variable("pblh").unwrap().get_values(..).unwrap();
    assert!(pblh.iter().all(|&h| (300.0..=900.0).contains(&h)));
    // The summary names every file and times every process.
    assert_eq!(s.other_files.len(), 2);
    for p in [
        "emissions",
        "advection",
        "vertical diffusion",
        "dry deposition",
    ] {
        assert!(s.process_seconds.contains_key(p), "no time for {p}");
    }
    let json = std::fs::read_to_string(dir.path().join("out/sim.summary.json")).unwrap();
    assert!(json.contains("\"process_seconds\"") && json.contains("sim.sites.csv"));
}

/// A sink that, as the run finishes, puts a directory where the summary
/// is to go (as a user or another program might meanwhile).
struct Saboteur(std::path::PathBuf);

impl airshed::simulation::Sink for Saboteur {
    fn name(&self) -> &'static str {
        "saboteur"
    }
    fn after_step(&mut self, _view: &airshed::simulation::View) -> airshed::Result<()> {
        Ok(())
    }
    fn finish(
        &mut self,
        _view: &airshed::simulation::View,
        _summary: &mut airshed::simulation::RunSummary,
    ) -> airshed::Result<()> {
        std::fs::create_dir_all(self.0.join("x")).unwrap();
        Ok(())
    }
}

#[test]
fn a_run_that_fails_while_writing_leaves_no_output_of_the_set() {
    let dir = tempfile::tempdir().unwrap();
    let c = case(&case_text(dir.path(), "instant"), dir.path());
    let out = dir.path().join("out");
    let names = |skip: &str| -> Vec<String> {
        std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != skip)
            .collect()
    };
    // A directory at a final name is refused before the run.
    std::fs::create_dir_all(out.join("sim.summary.json/x")).unwrap();
    let err = run_in(&c, dir.path()).unwrap_err();
    assert_eq!(err.exit_code(), 6, "{err}");
    assert!(err.to_string().contains("sim.summary.json"), "{err}");
    assert!(names("sim.summary.json").is_empty(), "left behind");
    std::fs::remove_dir_all(out.join("sim.summary.json")).unwrap();
    // One that appears while the run writes fails the commit: every
    // file was complete in the staging directory, and none of them moves.
    let _g = IO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut set =
        airshed::output::OutputSet::create(&out, "sim", airshed::output::set::Inputs::default())
            .unwrap();
    let mut s = airshed::run::simulation_with_outputs(&c, &mut set).unwrap();
    s.sinks
        .push(Box::new(Saboteur(out.join("sim.summary.json"))));
    s.run().unwrap();
    let staged = std::fs::read_dir(set.staging()).unwrap().count();
    assert!(staged >= 4, "nc, sites, met, summary staged: {staged}");
    let err = set.commit().unwrap_err();
    assert_eq!(err.exit_code(), 6, "{err}");
    assert!(err.to_string().contains("sim.summary.json"), "{err}");
    let left = names("sim.summary.json");
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn the_state_check_names_the_process_after_which_mass_went_bad() {
    let dir = tempfile::tempdir().unwrap();
    let c = case(&case_text(dir.path(), "mean"), dir.path());
    let mut s = Simulation::from_case(&c).unwrap();
    s.hooks
        .push(Box::new(airshed::simulation::hooks::StateCheck {
            schedule: airshed::time::Schedule::every(1),
            after_each_process: true,
        }));
    s.model.state.mass[[1, 2, 3, 4]] = f64::NAN;
    let err = s.step().unwrap_err().to_string();
    println!("{err}");
    assert!(
        err.contains("after emissions") && err.contains("SO2"),
        "{err}"
    );
}

#[test]
fn the_state_check_reports_the_first_bad_cell_of_the_first_bad_tracer() {
    let dir = tempfile::tempdir().unwrap();
    let c = case(&case_text(dir.path(), "mean"), dir.path());
    let mut s = Simulation::from_case(&c).unwrap();
    let m = &mut s.model.state.mass;
    // Within round-off of the tracer's largest mass: not an error.
    let big = m
        .index_axis(ndarray::Axis(0), 1)
        .fold(0.0f64, |a, &v| a.max(v));
    assert!(big > 0.0);
    m[[1, 0, 1, 1]] = -1e-12 * big;
    s.model.check_state("test").unwrap();
    // Two bad cells in tracer 1 and a NaN in tracer 2: the first cell in
    // index order of the first tracer is the one named.
    let m = &mut s.model.state.mass;
    m[[1, 0, 2, 3]] = -1e-3 * big;
    m[[1, 1, 0, 0]] = -1e-3 * big;
    m[[2, 0, 0, 0]] = f64::NAN;
    let err = s.model.check_state("test").unwrap_err().to_string();
    let name = &s.model.state.tracers.species_of(1).name;
    assert!(err.contains(&format!("tracer {name} ")), "{err}");
    assert!(err.contains("(k=0, j=2, i=3)"), "{err}");
    // An infinity alone is reported too.
    let m = &mut s.model.state.mass;
    m[[1, 0, 2, 3]] = 1.0;
    m[[1, 1, 0, 0]] = 1.0;
    m[[2, 0, 0, 0]] = 1.0;
    m[[2, 1, 1, 1]] = f64::INFINITY;
    let err = s.model.check_state("test").unwrap_err().to_string();
    assert!(
        err.contains("(k=1, j=1, i=1)") && err.contains("inf"),
        "{err}"
    );
}

#[test]
fn the_budget_check_refuses_mass_that_no_process_booked() {
    let dir = tempfile::tempdir().unwrap();
    let c = case(&case_text(dir.path(), "mean"), dir.path());
    let mut s = Simulation::from_case(&c).unwrap();
    // One part in a million appears from nowhere.
    s.model
        .state
        .mass
        .index_axis_mut(ndarray::Axis(0), 0)
        .mapv_inplace(|v| v * (1.0 + 1e-6));
    let mut err = None;
    for _ in 0..8 {
        if let Err(e) = s.step() {
            err = Some(e.to_string());
            break;
        }
    }
    let err = err.expect("the budget check fires at the first output interval");
    println!("{err}");
    assert!(
        err.contains("budget check") && err.contains("PM25"),
        "{err}"
    );
    assert_eq!(s.clock.step, s.clock.steps_per_period);
}

#[test]
fn tags_start_from_boundary_and_initial_and_transport_keeps_their_sum() {
    // Four tags: inflow goes to "boundary" alone, initial values to
    // "initial" alone, the stack to tag 0. With chemistry off every process
    // acts on each tracer alone, and advection shares the bulk's PPM fluxes
    // among the tags (flux-fraction form), so the tags' sum follows the
    // one-tag run to round-off, advection included.
    let dir = tempfile::tempdir().unwrap();
    let text =
        case_text(dir.path(), "mean").replace("[output]", "[chemistry]\nenabled = false\n[output]");
    let c = case(&text, dir.path());
    let tags = vec![
        Tag::plain("plant", TagKind::Emissions),
        Tag::plain("other", TagKind::Other),
        Tag::plain("boundary", TagKind::Boundary),
        Tag::plain("initial", TagKind::Initial),
    ];
    let tracers = TracerSet::tagged(c.species.clone(), tags);
    let mut tagged =
        Simulation::build(&c, tracers, None, Box::new(airshed::parallel::Serial)).unwrap();
    let mut bulk = Simulation::from_case(&c).unwrap();
    assert!(tagged
        .processes
        .iter()
        .all(|p| p.kind() == ProcessKind::Linear));
    let t = &tagged.model.state.tracers;
    for tr in 0..t.len() {
        // PM25 and SO2 (species 0 and 1) have background and initial values.
        let first_two = t.species_index_of(tr) < 2;
        let has = tagged.model.state.tracer(tr).sum() > 0.0;
        assert_eq!(
            has,
            first_two && t.tag_of(tr) == Some(3),
            "initial values on tracer {tr}"
        );
        assert_eq!(
            tagged
                .model
                .boundary
                .lateral
                .iter()
                .all(|side| side[tr] > 0.0),
            first_two && t.tag_of(tr) == Some(2),
            "inflow on {tr}"
        );
    }
    for _ in 0..16 {
        tagged.step().unwrap();
        bulk.step().unwrap();
    }
    let t = &tagged.model.state.tracers;
    let mut worst: f64 = 0.0;
    for s in 0..t.species.len() {
        let b = bulk.model.state.tracer(s);
        let mut sum = ndarray::Array3::<f64>::zeros(b.dim());
        for tr in t.tracers_of(s) {
            sum += &tagged.model.state.tracer(tr);
        }
        let scale = b.iter().fold(0.0f64, |a, &v| a.max(v));
        for (x, y) in sum.iter().zip(b.iter()) {
            worst = worst.max((x - y).abs() / scale);
        }
    }
    println!(
        "sum of 4 tags vs the one-tag run after 4 h: largest difference {worst:.1e} of the peak"
    );
    assert!(worst < 1e-12, "{worst}");
    // The stack's SO2 is all in tag 0 ("plant"): the other tag stays empty.
    assert_eq!(tagged.model.state.tracer(t.index(1, 1)).sum(), 0.0);
    assert!(tagged.model.state.tracer(t.index(1, 0)).sum() > 0.0);
}

#[test]
fn the_size_check_counts_tracers() {
    let dir = tempfile::tempdir().unwrap();
    // 14 x 12 x 4 cells, (4 x tracers + 48) x 8 B each: 3 tracers need
    // 0.3 MB and fit in 1 MiB; 400 tags (1200 tracers) need 26 MB.
    let text = case_text(dir.path(), "mean")
        .replace("dt_s = 900", "dt_s = 900\nmax_memory_gib = 0.001")
        .replace("[output]", "[chemistry]\nenabled = false\n[output]");
    let c = case(&text, dir.path());
    assert!(Simulation::from_case(&c).is_ok());
    let many = TracerSet::tagged(
        c.species.clone(),
        (0..400)
            .map(|t| Tag::plain(&t.to_string(), TagKind::All))
            .collect(),
    );
    let err = Simulation::build(&c, many, None, Box::new(airshed::parallel::Serial))
        .err()
        .expect("refused");
    assert_eq!(err.exit_code(), 4, "{err}");
}

#[test]
fn the_typed_case_refuses_a_partial_interval_and_zero_layers() {
    let dir = tempfile::tempdir().unwrap();
    let base = case_text(dir.path(), "mean");
    let path = dir.path().join("case.toml");
    for (from, to, key) in [
        ("hours = 4", "hours = 3", "run.hours"),
        ("hours = 4", "hours = 0.5", "run.hours"),
        ("layers = 2", "layers = 0", "output.layers"),
        ("layers = 2", "layers = 5", "output.layers"),
    ] {
        let Err(err) = airshed::config::Case::from_str(&base.replace(from, to), &path) else {
            panic!("{key}: refused")
        };
        let err = err.to_string();
        println!("{err}");
        assert!(err.contains(key) && err.contains("case.toml"), "{err}");
    }
}
