//! Plume kernel throughput: 100 point sources × 10,000 receptors × 24
//! hours on all cores (rayon), meander on, a similarity-type sigma closure,
//! with and without terrain. Prints source-receptor-hours per second.
//!
//!     cargo bench --bench plume
//!
//! The sigmas are the similarity scheme (`sigma::SigmaModel`, AERMOD's
//! σv/σw profiles and σy/σz forms) for a convective day (L = -50 m,
//! zi 1200 m) and a stable night (L = 80 m, zi 150 m), tabulated per
//! source-hour as the run does (`sigma::SigmaTable`; building the tables
//! is inside the timed day).

use airshed::plume::kernel::{
    add_sources, effective_speed, Footprint, PlumeHour, PlumeSpec, ReceptorSet, Terrain,
};
use airshed::plume::sigma::{Scheme, SigmaModel, SigmaTable};
use airshed::plume::site::SiteHour;
use airshed::plume::terrain::StratifiedProfile;
use airshed::plume::Floors;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

const N_SOURCES: usize = 100;
const N_SIDE: usize = 100; // 100 × 100 receptors
const HOURS: usize = 24;

/// A deterministic pseudo-random sequence in [0, 1) (splitmix64).
fn rand01(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

fn receptors(terrain: bool) -> ReceptorSet {
    let mut r = ReceptorSet::default();
    for j in 0..N_SIDE {
        for i in 0..N_SIDE {
            let (x, y) = (i as f64 * 100.0, j as f64 * 100.0);
            // A 250 m Gaussian hill north-east of the sources.
            let elev = if terrain {
                250.0
                    * (-((x - 7000.0).powi(2) + (y - 7000.0).powi(2)) / (2.0 * 1500.0f64.powi(2)))
                        .exp()
            } else {
                0.0
            };
            r.x.push(x);
            r.y.push(y);
            r.elevation.push(elev);
            r.hill_height.push(if terrain { 250.0 } else { 0.0 });
            r.flagpole.push(0.0);
        }
    }
    r
}

type Sig = Box<dyn Fn(f64) -> (f64, f64) + Sync>;

/// One hour's source-hours: stable hours at night with a profile.
fn hour_sources(hour: usize, terrain: bool) -> Vec<(PlumeHour, Sig, f64)> {
    let mut st = 12345u64;
    let stable = !(7..=18).contains(&hour);
    let u_mean = if stable { 1.0 } else { 3.0 };
    let zi = if stable { 150.0 } else { 1200.0 };
    let site = SiteHour {
        year: 2023,
        month: 1,
        day: 20,
        hour: hour as u32 + 1,
        heat_flux: if stable { -10.0 } else { 150.0 },
        ustar: if stable { 0.15 } else { 0.35 },
        wstar: if stable { 0.0 } else { 1.6 },
        vptg: 0.01,
        zi_conv: if stable { 0.0 } else { zi },
        zi_mech: if stable { zi } else { 600.0 },
        obukhov: if stable { 80.0 } else { -50.0 },
        z0: 0.3,
        wind_speed: u_mean,
        wind_dir: 200.0 + 5.0 * hour as f64,
        wind_height: 10.0,
        temperature: 280.0,
        temp_height: 2.0,
        precip_mm_h: 0.0,
        profile: vec![],
    };
    let floors = Floors::default();
    let profile =
        (terrain && stable).then(|| Arc::new(StratifiedProfile::uniform(u_mean, 0.02).unwrap()));
    (0..N_SOURCES)
        .map(|_| {
            let (sx, sy) = (
                2000.0 + 4000.0 * rand01(&mut st),
                2000.0 + 4000.0 * rand01(&mut st),
            );
            let height = 30.0 + 150.0 * rand01(&mut st);
            let sm = SigmaModel::new(Scheme::Similarity, &site, height, u_mean, &floors);
            let sigma_v = sm.sigma_v();
            let u = effective_speed(u_mean, sigma_v);
            let spec = PlumeSpec {
                x: sx,
                y: sy,
                footprint: Footprint::Point,
                base_elevation: 0.0,
                height,
                mixing_height: zi,
                penetrated: None,
                u,
                wind_dir_deg: 200.0 + 5.0 * hour as f64,
                sigma_v,
                meander: true,
                terrain: if terrain {
                    Terrain::Elevated(profile.clone())
                } else {
                    Terrain::Flat
                },
            };
            let table = SigmaTable::new(sm);
            let sig: Sig = Box::new(move |x: f64| table.at(x));
            (PlumeHour::new(&spec).unwrap(), sig, 1.0 + rand01(&mut st))
        })
        .collect()
}

/// CPU seconds used by this process (all threads): the figure that the
/// other jobs sharing the machine do not distort.
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// The whole day: build each hour's source-hours and add them.
fn day(rec: &ReceptorSet, terrain: bool) -> Vec<f64> {
    let mut total = vec![0.0; rec.len()];
    let mut hourly = vec![0.0; rec.len()];
    for h in 0..HOURS {
        hourly.iter_mut().for_each(|v| *v = 0.0);
        add_sources(&hour_sources(h, terrain), rec, &mut hourly);
        total.iter_mut().zip(&hourly).for_each(|(t, v)| *t += v);
    }
    total
}

fn plume(c: &mut Criterion) {
    let srh = (N_SOURCES * N_SIDE * N_SIDE * HOURS) as f64;
    let mut group = c.benchmark_group("plume_kernel");
    group.sample_size(10);
    for terrain in [false, true] {
        let rec = receptors(terrain);
        // One timed pass for the headline figure (after a warm-up).
        black_box(day(&rec, terrain));
        let t0 = Instant::now();
        let cpu0 = cpu_seconds();
        let reps = 3;
        for _ in 0..reps {
            black_box(day(&rec, terrain));
        }
        let secs = t0.elapsed().as_secs_f64() / reps as f64;
        let cpu = (cpu_seconds() - cpu0) / reps as f64;
        let threads = rayon::current_num_threads();
        println!(
            "plume kernel, terrain {terrain}: {N_SOURCES} sources x {} receptors x {HOURS} h: \
             wall {secs:.3} s = {:.1} million source-receptor-hours/s on {threads} threads; \
             CPU {cpu:.3} s = {:.1} ns per source-receptor-hour per core, \
             {:.1} million/s on {threads} unloaded cores",
            rec.len(),
            srh / secs / 1e6,
            cpu / srh * 1e9,
            srh / cpu * threads as f64 / 1e6,
        );
        let name = if terrain { "day_terrain" } else { "day_flat" };
        group.bench_function(name, |b| b.iter(|| black_box(day(&rec, terrain))));
    }
    group.finish();
}

criterion_group!(benches, plume);
criterion_main!(benches);
