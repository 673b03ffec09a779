//! The `airshed` command line.

use airshed::config::Case;
use airshed::run::{run_case, RunOptions};
use clap::{Parser, Subcommand};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "airshed",
    version,
    about = "Regional air-quality dispersion and source-attribution model",
    long_about = "Regional air-quality dispersion and source-attribution model.\n\n\
Start with the embedded default case (Hunan and northern Guangxi):\n    \
airshed run configs/default.toml\n\
It writes a CF-NetCDF file of hourly mean concentrations, hourly values at\n\
the case's sites (CSV) and a JSON summary with the mass budget to the case's\n\
output directory, and prints the budget. The default case is tagged by city\n\
and sector: it also prints who is responsible for each city's PM2.5 (local,\n\
regional, background; sectors; primary vs secondary), and\n    \
airshed attribute out/default/default.nc --receptor Hengyang --period day\n\
recomputes those tables for any receptor and period (docs/attribution.md).\n\
`airshed report RUN.nc --obs DIR` prints the run's report (attribution,\n\
composition, GB 3095-2012 statistics) and `airshed eval RUN.nc DIR` compares\n\
it with the national network's hourly station files (docs/eval.md).\n\n\
Exit codes: 0 ok, 2 bad case file, 3 bad input data, 4 too big for memory,\n\
5 numerical failure, 6 output could not be written."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a case end to end: met + emissions -> processes -> NetCDF, site CSV, summary.
    Run {
        /// The case file (TOML); see docs/case-file.md for every key.
        case: PathBuf,
        /// Write outputs here instead of the case's output.dir.
        #[arg(long)]
        output_dir: Option<PathBuf>,
        /// Worker threads (default: the case's run.threads, or all cores).
        /// Results are identical whatever the count.
        #[arg(long)]
        threads: Option<usize>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Attribution tables from a finished tagged run, for any receptor and
    /// period, without running again.
    Attribute {
        /// The run's tags file (`<run>.tags.nc`), or its main `<run>.nc`
        /// with the tags file beside it.
        file: PathBuf,
        /// A region or group of the run (repeatable).
        #[arg(long)]
        receptor: Vec<String>,
        /// A point receptor, NAME=LON,LAT (repeatable).
        #[arg(long)]
        point: Vec<String>,
        /// Polygon receptors: every feature of this GeoJSON file.
        #[arg(long)]
        polygons: Option<PathBuf>,
        /// The GeoJSON property that names a polygon.
        #[arg(long, default_value = "name")]
        name_property: String,
        /// Periods to print: run, month, day, episode or all.
        #[arg(long, default_value = "run")]
        period: String,
        /// Species to print (PM25_TOTAL, a species name, or all).
        #[arg(long, default_value = "PM25_TOTAL")]
        species: String,
        /// Also write every row (all periods and species) as CSV here.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Near-source Gaussian plume and puff run at receptors (stacks, areas,
    /// lines; AERMET .SFC/.PFL or one site of a case's met): hourly values,
    /// block, period and annual averages, N-th highest (docs/plume.md).
    /// Example: airshed plume configs/plume_example.toml
    Plume {
        /// The plume case file (TOML); docs/case-file.md, "The plume case file".
        case: PathBuf,
        /// Write outputs here instead of the case's output.dir.
        #[arg(long)]
        output_dir: Option<PathBuf>,
        /// Worker threads (default: all cores). Results are identical whatever the count.
        #[arg(long)]
        threads: Option<usize>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Compare a finished run's surface PM2.5 with the national monitoring
    /// network's (CNEMC) hourly station files: MB, NMB, NME, RMSE, r and
    /// FAC2 per city and for all stations, hourly and daily (docs/eval.md).
    Eval {
        /// The run's concentration file (`<run>.nc`).
        run: PathBuf,
        /// CNEMC hourly CSV files, or directories of them.
        #[arg(required = true)]
        obs: Vec<PathBuf>,
        /// Also write the table as CSV here.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// The report of a finished run: attribution, PM2.5 composition,
    /// GB 3095-2012 statistics per receptor and, with --obs, the
    /// evaluation against the stations (docs/eval.md).
    Report {
        /// The run's concentration file (`<run>.nc`); its tags file beside it.
        run: PathBuf,
        /// A region or group of the run (repeatable; default: the run's receptors).
        #[arg(long)]
        receptor: Vec<String>,
        /// CNEMC hourly CSV files or directories (repeatable).
        #[arg(long)]
        obs: Vec<PathBuf>,
        /// First local date reported, YYYY-MM-DD (earlier records are spin-up).
        #[arg(long)]
        from: Option<String>,
        /// Also write the report as Markdown here.
        #[arg(long)]
        markdown: Option<PathBuf>,
    },
    /// Check a case file and its inputs without running it.
    Check { case: PathBuf },
    /// List the built-in species and their deposition parameters.
    Species,
    /// Internal: read a NetCDF file's whole header, exit 0 if it reads
    /// (the child process of the damaged-file check, `input::nc`).
    #[command(name = "__probe-netcdf", hide = true)]
    ProbeNetcdf { file: PathBuf },
}

use airshed::config::MAX_THREADS;

fn main() -> ExitCode {
    // airshed only reads its NetCDF inputs and writes its outputs in a
    // staging directory of its own, so HDF5's advisory file locks (1.10+)
    // guard nothing here, and they do harm: a lock taken on a file by
    // another process leaks into that process's children (HDF5 opens
    // without close-on-exec), so an unrelated process can hold a file
    // "locked" for its whole life, and opening it then fails with "HDF
    // error" (seen under parallel tests in CI). Set before any thread or
    // library call; a value the user set is kept.
    if std::env::var_os("HDF5_USE_FILE_LOCKING").is_none() {
        std::env::set_var("HDF5_USE_FILE_LOCKING", "FALSE");
    }
    let cli = Cli::parse();
    if let Command::ProbeNetcdf { file } = &cli.command {
        let ok = airshed::input::nc::probe_child(file);
        return if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(3)
        };
    }
    // NetCDF inputs' headers are read first in a child of this binary.
    if let Ok(exe) = std::env::current_exe() {
        airshed::input::nc::probe_netcdf_with(exe);
    }
    match execute(cli) {
        Ok(text) => match write_stdout(&text) {
            Ok(()) => ExitCode::SUCCESS,
            // A closed pipe (`airshed species | head -1`): the reader has
            // what it wanted. Quiet, as ripgrep and the shell tools do.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(e) => fail(&airshed::Error::output(
                std::path::Path::new("(standard output)"),
                e,
            )),
        },
        Err(e) => fail(&e),
    }
}

/// Report an error on stderr (quietly if stderr is closed too) and exit
/// with its code.
///
/// Through `_exit`, skipping the C libraries' exit handlers: after a
/// failed write (a full disk, `ulimit -f`) HDF5 still holds the broken
/// file and its exit handler crashes closing it (SIGSEGV, exit 139, seen
/// under `ulimit -f`). By now everything of ours is closed and the run's
/// staging directory removed (the `Drop`s ran when `execute` returned), and
/// stderr is unbuffered, so nothing is lost.
fn fail(e: &airshed::Error) -> ! {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {e}");
    let _ = stderr.flush();
    let code = u8::try_from(e.exit_code()).unwrap_or(1);
    // SAFETY: ends the process; nothing runs after it.
    unsafe { libc::_exit(i32::from(code)) }
}

/// Everything a command prints goes through here in one write: `print!`
/// panics on a closed stdout, a locked `write_all` returns the error.
fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// The worker pool: `threads` (0: all cores). It is a pool of our own, not
/// rayon's global one, because the global pool panics when the system
/// refuses its threads; ours reports that as an error naming the key, and
/// `fallback` retries with one thread for commands where the count was
/// not asked for.
fn pool(
    threads: usize,
    file: &std::path::Path,
    key: &str,
    fallback: bool,
) -> airshed::Result<rayon::ThreadPool> {
    let built = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
    match built {
        Ok(p) => Ok(p),
        Err(_) if fallback => rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .map_err(|e| airshed::Error::config(file, key, format!("one worker thread ({e})"))),
        Err(e) => Err(airshed::Error::config(
            file,
            key,
            format!("a thread count the system allows, got {threads} ({e})"),
        )),
    }
}

/// The thread count of a run and the key it came from: `--threads` (at
/// least 1) or the case's own count (`run.threads`, 0: all cores; a plume
/// case has none and takes all cores), at most [`MAX_THREADS`].
fn thread_count(
    cli: Option<usize>,
    case_threads: Option<(usize, &std::path::Path)>,
) -> airshed::Result<(usize, PathBuf, String)> {
    let (n, file, key) = match (cli, case_threads) {
        (Some(n), _) => (n, PathBuf::from("(command line)"), "--threads"),
        (None, Some((n, file))) => (n, file.to_path_buf(), "run.threads"),
        (None, None) => (0, PathBuf::from("(command line)"), "--threads"),
    };
    if cli == Some(0) {
        return Err(airshed::Error::config(
            &file,
            key,
            "at least 1 worker thread (leave --threads out to use the case's run.threads, or all cores), got 0",
        ));
    }
    if n > MAX_THREADS {
        return Err(airshed::Error::config(
            &file,
            key,
            format!("at most {MAX_THREADS} worker threads, got {n}"),
        ));
    }
    Ok((n, file, key.to_string()))
}

/// SIGINT and SIGTERM stop a run cleanly (`airshed::interrupt`), and a
/// file-size limit (`ulimit -f`) fails the write (exit 6, staging
/// removed) instead of killing the process with the staging directory
/// left behind. Registering can only fail for forbidden signals, which
/// these are not; without it the default (die) still writes nothing
/// final, and the next run sweeps the staging directory.
fn stop_cleanly_on_signals() {
    let _ = airshed::interrupt::install();
    // SAFETY: setting a signal's disposition to ignore.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Run a command; returns what it prints on stdout.
fn execute(cli: Cli) -> airshed::Result<String> {
    let no_file = PathBuf::from("(command line)");
    match cli.command {
        Command::Run {
            case,
            output_dir,
            threads,
            quiet,
        } => {
            stop_cleanly_on_signals();
            let case = Case::load(&case)?;
            let (n, file, key) = thread_count(threads, Some((case.run.threads, &case.file)))?;
            let summary = pool(n, &file, &key, false)?.install(|| {
                run_case(
                    &case,
                    &RunOptions {
                        output_dir,
                        progress: !quiet,
                    },
                )
            })?;
            let mut text = summary_text(&summary);
            for table in &summary.attribution {
                text.push_str(table);
            }
            Ok(text)
        }
        Command::Attribute {
            file,
            receptor,
            point,
            polygons,
            name_property,
            period,
            species,
            csv,
        } => {
            let points = point
                .iter()
                .map(|p| parse_point(p))
                .collect::<airshed::Result<Vec<_>>>()?;
            let request = airshed::output::tags::ReceptorRequest {
                names: receptor,
                points,
                polygons: polygons.map(|p| (p, name_property)),
            };
            pool(0, &no_file, "(worker threads)", true)?.install(|| {
                airshed::output::tags::attribute(&file, &request, &period, &species, csv.as_deref())
            })
        }
        Command::Plume {
            case,
            output_dir,
            threads,
            quiet,
        } => {
            stop_cleanly_on_signals();
            let case = airshed::plume::case::PlumeCase::load(&case)?;
            let (n, file, key) = thread_count(threads, None)?;
            let done = pool(n, &file, &key, threads.is_none())?.install(|| {
                airshed::plume::run::run_plume(
                    &case,
                    &airshed::plume::run::PlumeRunOptions {
                        output_dir,
                        progress: !quiet,
                    },
                )
            })?;
            let mut text = done.table;
            for f in &done.files {
                let _ = writeln!(text, "wrote {}", f.display());
            }
            Ok(text)
        }
        Command::Eval { run, obs, csv } => airshed::eval::eval_command(&run, &obs, csv.as_deref()),
        Command::Report {
            run,
            receptor,
            obs,
            from,
            markdown,
        } => airshed::eval::report::report_command(
            &run,
            &airshed::eval::report::ReportOptions {
                receptors: receptor,
                obs,
                from,
            },
            markdown.as_deref(),
        ),
        Command::Check { case } => {
            let case = Case::load(&case)?;
            pool(0, &case.file, "run.threads", true)?.install(|| check_text(&case))
        }
        Command::ProbeNetcdf { .. } => Ok(String::new()),
        Command::Species => {
            let mut text = String::new();
            let _ = writeln!(
                text,
                "{:<8} {:<8} {:>10} {:>14}  description",
                "name", "phase", "M g/mol", "scav s-1/mm/h"
            );
            for s in airshed::species::table() {
                let phase = match s.phase {
                    airshed::species::Phase::Gas { .. } => "gas",
                    airshed::species::Phase::Particle { .. } => "particle",
                };
                let _ = writeln!(
                    text,
                    "{:<8} {:<8} {:>10.3} {:>14.1e}  {}",
                    s.name, phase, s.molar_mass, s.scavenging_per_mm_h, s.long_name
                );
            }
            Ok(text)
        }
    }
}

/// `airshed check`: the case builds; what it would run.
fn check_text(case: &Case) -> airshed::Result<String> {
    let sim = airshed::simulation::Simulation::from_case(case)?;
    airshed::check::inputs(case)?;
    airshed::output::size::check_output(case, &sim.model.state.tracers, &case.output.dir)?;
    let g = &sim.model.grid;
    let names: Vec<&str> = sim.processes.iter().map(|p| p.name()).collect();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{}: ok ({} x {} x {} cells, {} tracers, {} steps of {} s; {})",
        case.file.display(),
        g.nx,
        g.ny,
        g.nz,
        sim.model.state.tracers.len(),
        sim.clock.steps,
        sim.clock.dt,
        names.join(" -> ")
    );
    if let Some(t) = &sim.tagging {
        let names: Vec<&str> = t.tags.iter().map(|t| t.name.as_str()).collect();
        let receptors: Vec<&str> = t.receptors.iter().map(|r| r.name.as_str()).collect();
        let _ = writeln!(text, "{} tags: {}", names.len(), names.join(", "));
        let _ = writeln!(
            text,
            "{} receptors: {}",
            receptors.len(),
            receptors.join(", ")
        );
    }
    for w in &sim.warnings {
        let _ = writeln!(text, "warning: {w}");
    }
    Ok(text)
}

/// `NAME=LON,LAT` of `--point`.
fn parse_point(text: &str) -> airshed::Result<(String, f64, f64)> {
    let bad = || airshed::Error::Config {
        file: PathBuf::from("(command line)"),
        key: "--point".into(),
        expected: format!("NAME=LON,LAT with numbers in degrees, got {text:?}"),
    };
    let (name, coords) = text.split_once('=').ok_or_else(bad)?;
    let (lon, lat) = coords.split_once(',').ok_or_else(bad)?;
    let (lon, lat): (f64, f64) = (
        lon.trim().parse().map_err(|_| bad())?,
        lat.trim().parse().map_err(|_| bad())?,
    );
    if !(lon.is_finite() && lat.is_finite() && lat.abs() <= 90.0) {
        return Err(bad());
    }
    Ok((name.to_string(), lon, lat))
}

/// The run's summary for the terminal.
fn summary_text(s: &airshed::simulation::RunSummary) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "run {}: {} h in {} steps of {} s, {:.1} s wall on {} threads",
        s.run, s.hours, s.steps, s.dt_s, s.wall_seconds, s.threads
    );
    if s.synthetic_meteorology {
        let _ = writeln!(text, "meteorology: {} ", s.meteorology);
    }
    if let Some(m) = &s.met_solves {
        let _ = writeln!(
            text,
            "diagnostic winds: {} hourly solves, {} CG iterations ({:.1} per hour, {} warm starts), {:.1} s",
            m.hours,
            m.iterations,
            m.iterations as f64 / m.hours.max(1) as f64,
            m.warm_starts,
            m.seconds
        );
    }
    let _ = writeln!(text, "output: {}", s.output_file);
    for f in &s.other_files {
        let _ = writeln!(text, "output: {f}");
    }
    let mut times: Vec<(&String, &f64)> = s.process_seconds.iter().collect();
    times.sort_by(|a, b| b.1.total_cmp(a.1));
    let times: Vec<String> = times.iter().map(|(n, t)| format!("{n} {t:.1} s")).collect();
    let _ = writeln!(text, "time in processes: {}", times.join(", "));
    let _ = writeln!(
        text,
        "{:<7} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>9}",
        "species",
        "initial kg",
        "emitted",
        "chemistry",
        "dry dep",
        "wet dep",
        "net in",
        "final kg",
        "in puffs",
        "residual",
        "rel."
    );
    for b in &s.budget {
        let x = &b.budget;
        let net_in = x.lateral_in_kg - x.lateral_out_kg + x.top_in_kg - x.top_out_kg;
        let _ = writeln!(
        text,
            "{:<7} {:>11.4e} {:>11.4e} {:>11.4e} {:>11.4e} {:>11.4e} {:>11.4e} {:>11.4e} {:>11.4e} {:>11.2e} {:>9.1e}",
            b.species, x.initial_kg, x.emitted_kg, x.chemistry_kg,
            x.dry_deposited_kg,
            x.wet_deposited_kg,
            net_in,
            x.final_kg,
            x.in_puffs_kg,
            b.residual_kg,
            b.relative_residual
        );
    }
    if let Some(total) = s.surface_mean_ugm3.get("PM25_TOTAL") {
        let parts: Vec<String> = s
            .pm25_composition_percent
            .iter()
            .map(|(k, v)| format!("{k} {v:.1} %"))
            .collect();
        let _ = writeln!(
            text,
            "surface PM2.5, run and domain mean: {total:.2} ug/m3 ({})",
            parts.join(", ")
        );
    }
    for site in &s.sites {
        let _ = writeln!(
        text,
            "site {:<12} mean wind {:.1} m/s, resultant from {:.0} deg, calm {:.0} %, mixing height p10/p50/p90 {:.0}/{:.0}/{:.0} m",
            site.name, site.mean_speed_ms, site.resultant_direction_deg, 100.0 * site.calm_fraction, site.mixing_height_p10_m, site.mixing_height_p50_m, site.mixing_height_p90_m
        );
    }
    for w in &s.emissions_outside_domain {
        let _ = writeln!(text, "warning: {w}");
    }
    text
}
