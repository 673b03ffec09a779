//! The `airshed` command line.

use airshed::config::Case;
use airshed::run::{run_case, RunOptions};
use clap::{Parser, Subcommand};
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
recomputes those tables for any receptor and period (docs/attribution.md).\n\n\
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
    /// Check a case file and its inputs without running it.
    Check { case: PathBuf },
    /// List the built-in species and their deposition parameters.
    Species,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn execute(cli: Cli) -> airshed::Result<()> {
    match cli.command {
        Command::Run {
            case,
            output_dir,
            threads,
            quiet,
        } => {
            let case = Case::load(&case)?;
            let n = threads.unwrap_or(case.run.threads);
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| airshed::Error::Config {
                    file: case.file.clone(),
                    key: "run.threads (or --threads)".into(),
                    expected: format!("a thread count the system allows, got {n} ({e})"),
                })?;
            let summary = pool.install(|| {
                run_case(
                    &case,
                    &RunOptions {
                        output_dir,
                        progress: !quiet,
                    },
                )
            })?;
            print_summary(&summary);
            for table in &summary.attribution {
                print!("{table}");
            }
            Ok(())
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
            let text = airshed::output::tags::attribute(
                &file,
                &request,
                &period,
                &species,
                csv.as_deref(),
            )?;
            print!("{text}");
            Ok(())
        }
        Command::Check { case } => {
            let case = Case::load(&case)?;
            let sim = airshed::simulation::Simulation::from_case(&case)?;
            airshed::limits::check_output(&case, &sim.model.state.tracers, &case.output.dir)?;
            let g = &sim.model.grid;
            let names: Vec<&str> = sim.processes.iter().map(|p| p.name()).collect();
            println!(
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
                println!("{} tags: {}", names.len(), names.join(", "));
                println!("{} receptors: {}", receptors.len(), receptors.join(", "));
            }
            for w in &sim.warnings {
                println!("warning: {w}");
            }
            Ok(())
        }
        Command::Species => {
            println!(
                "{:<8} {:<8} {:>10} {:>14}  description",
                "name", "phase", "M g/mol", "scav s-1/mm/h"
            );
            for s in airshed::species::table() {
                let phase = match s.phase {
                    airshed::species::Phase::Gas { .. } => "gas",
                    airshed::species::Phase::Particle { .. } => "particle",
                };
                println!(
                    "{:<8} {:<8} {:>10.3} {:>14.1e}  {}",
                    s.name, phase, s.molar_mass, s.scavenging_per_mm_h, s.long_name
                );
            }
            Ok(())
        }
    }
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

fn print_summary(s: &airshed::simulation::RunSummary) {
    println!(
        "run {}: {} h in {} steps of {} s, {:.1} s wall on {} threads",
        s.run, s.hours, s.steps, s.dt_s, s.wall_seconds, s.threads
    );
    if s.synthetic_meteorology {
        println!("meteorology: {} ", s.meteorology);
    }
    println!("output: {}", s.output_file);
    for f in &s.other_files {
        println!("output: {f}");
    }
    let mut times: Vec<(&String, &f64)> = s.process_seconds.iter().collect();
    times.sort_by(|a, b| b.1.total_cmp(a.1));
    let times: Vec<String> = times.iter().map(|(n, t)| format!("{n} {t:.1} s")).collect();
    println!("time in processes: {}", times.join(", "));
    println!(
        "{:<7} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>9}",
        "species",
        "initial kg",
        "emitted",
        "chemistry",
        "dry dep",
        "wet dep",
        "net in",
        "final kg",
        "residual",
        "rel."
    );
    for b in &s.budget {
        let x = &b.budget;
        let net_in = x.lateral_in_kg - x.lateral_out_kg + x.top_in_kg - x.top_out_kg;
        println!(
            "{:<7} {:>11.4e} {:>11.4e} {:>11.4e} {:>11.4e} {:>11.4e} {:>11.4e} {:>11.4e} {:>11.2e} {:>9.1e}",
            b.species, x.initial_kg, x.emitted_kg, x.chemistry_kg,
            x.dry_deposited_kg,
            x.wet_deposited_kg,
            net_in,
            x.final_kg,
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
        println!(
            "surface PM2.5, run and domain mean: {total:.2} ug/m3 ({})",
            parts.join(", ")
        );
    }
    for site in &s.sites {
        println!(
            "site {:<12} mean wind {:.1} m/s, resultant from {:.0} deg, calm {:.0} %, mixing height p10/p50/p90 {:.0}/{:.0}/{:.0} m",
            site.name, site.mean_speed_ms, site.resultant_direction_deg, 100.0 * site.calm_fraction, site.mixing_height_p10_m, site.mixing_height_p50_m, site.mixing_height_p90_m
        );
    }
    for w in &s.emissions_outside_domain {
        println!("warning: {w}");
    }
}
