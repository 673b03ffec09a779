//! What the outputs hold: each species' concentration (its tags summed),
//! plus the derived totals PM25_TOTAL and SOA_TOTAL, with their names,
//! units and CF standard names.

use crate::grid::Grid;
use crate::model::UG;
use crate::species::Phase;
use crate::state::State;

/// Name of the derived total-PM2.5 output variable.
pub const PM25_TOTAL: &str = "PM25_TOTAL";
/// The sum of the SOA product particles.
pub const SOA_TOTAL: &str = "SOA_TOTAL";

/// The output variables of a run: its species, then the totals that apply.
#[derive(Debug, Clone)]
pub struct Variables {
    /// Output names: species first (in the state's order), then totals.
    pub names: Vec<String>,
    /// Species summed into PM25_TOTAL and into SOA_TOTAL (indices).
    pub particles: Vec<usize>,
    pub soa_particles: Vec<usize>,
}

impl Variables {
    pub fn of(state: &State) -> Variables {
        let species = &state.tracers.species;
        let particles: Vec<usize> = (0..species.len())
            .filter(|&s| matches!(species[s].phase, Phase::Particle { .. }))
            .collect();
        let soa_particles: Vec<usize> = particles
            .iter()
            .copied()
            .filter(|&s| crate::processes::soa::is_soa_particle(species[s].name))
            .collect();
        let mut names: Vec<String> = species.iter().map(|s| s.name.to_string()).collect();
        if !particles.is_empty() {
            names.push(PM25_TOTAL.to_string());
        }
        if !soa_particles.is_empty() {
            names.push(SOA_TOTAL.to_string());
        }
        Variables {
            names,
            particles,
            soa_particles,
        }
    }

    /// Names of the species in PM25_TOTAL.
    pub fn pm25_components(&self) -> Vec<String> {
        self.particles
            .iter()
            .map(|&s| self.names[s].clone())
            .collect()
    }

    /// The species groups summed into the totals, in output order (after
    /// the species): PM25_TOTAL, then SOA_TOTAL, each when it applies.
    pub fn total_groups(&self) -> Vec<&[usize]> {
        [&self.particles, &self.soa_particles]
            .into_iter()
            .filter(|g| !g.is_empty())
            .map(|g| g.as_slice())
            .collect()
    }

    /// Append the totals to per-species fields (all the same length).
    pub fn add_totals(&self, fields: &mut Vec<Vec<f64>>) {
        for group in [&self.particles, &self.soa_particles] {
            if !group.is_empty() {
                let mut total = vec![0.0; fields[0].len()];
                for &s in group.iter() {
                    total.iter_mut().zip(&fields[s]).for_each(|(t, v)| *t += v);
                }
                fields.push(total);
            }
        }
    }
}

/// Add `1 / per` x the concentration of every species (tags summed),
/// ug/m3, in the lowest `nlev` layers to `acc[s]` (flattened (z, y, x)),
/// straight from the state: no field-sized temporary. Each cell's value is
/// the tags' m / volume / 1e-9 summed in tracer order, then divided by
/// `per`, so a mean accumulated here equals one
/// accumulated from those fields bit for bit; `per = 1` into zeros gives
/// the fields themselves.
pub fn add_species_concentrations(
    grid: &Grid,
    state: &State,
    nlev: usize,
    per: f64,
    acc: &mut [Vec<f64>],
) {
    let t = &state.tracers;
    let (ny, nx) = (grid.ny, grid.nx);
    let (mut row, mut volume) = (vec![0.0; nx], vec![0.0; nx]);
    for (s, a) in acc.iter_mut().enumerate().take(t.species.len()) {
        for k in 0..nlev {
            for j in 0..ny {
                row.fill(0.0);
                // Once per row, not once per tag.
                for (i, v) in volume.iter_mut().enumerate() {
                    *v = grid.volume(k, j, i);
                }
                for tr in t.tracers_of(s) {
                    let m = state.mass.slice(ndarray::s![tr, k, j, ..]);
                    for ((r, &m), &v) in row.iter_mut().zip(m.iter()).zip(&volume) {
                        *r += m / v / UG;
                    }
                }
                let at = (k * ny + j) * nx;
                for (a, &r) in a[at..at + nx].iter_mut().zip(&row) {
                    *a += r / per;
                }
            }
        }
    }
}

/// Concentration of every species (tags summed) in one cell, ug/m3.
pub fn cell_concentrations(
    grid: &Grid,
    state: &State,
    (k, j, i): (usize, usize, usize),
) -> Vec<f64> {
    let t = &state.tracers;
    (0..t.species.len())
        .map(|s| {
            t.tracers_of(s)
                .map(|tr| state.mass[[tr, k, j, i]] / grid.volume(k, j, i) / UG)
                .sum()
        })
        .collect()
}

/// A long name for an output variable.
pub fn long_name(name: &str) -> String {
    match crate::species::lookup(name) {
        Some(sp) => sp.long_name.to_string(),
        None if name == PM25_TOTAL => "total PM2.5: sum of the particulate species".to_string(),
        None if name == SOA_TOTAL => {
            "secondary organic aerosol: sum of the SOA product particles".to_string()
        }
        None => name.to_string(),
    }
}

/// The CF standard name of an output variable, where the CF standard-name
/// table has one that means exactly what the variable holds. NOX (carried
/// as NO2 mass), the lumped VOC and VOC classes, OC (carbon, not organic
/// matter) and the catch-all PM25 have none.
pub fn standard_name(name: &str) -> Option<&'static str> {
    Some(match name {
        PM25_TOTAL => "mass_concentration_of_pm2p5_ambient_aerosol_particles_in_air",
        SOA_TOTAL => {
            "mass_concentration_of_secondary_particulate_organic_matter_dry_aerosol_particles_in_air"
        }
        "SO2" => "mass_concentration_of_sulfur_dioxide_in_air",
        "SO4" => "mass_concentration_of_sulfate_dry_aerosol_particles_in_air",
        "HNO3" => "mass_concentration_of_nitric_acid_in_air",
        "NO3" => "mass_concentration_of_nitrate_dry_aerosol_particles_in_air",
        "NH3" => "mass_concentration_of_ammonia_in_air",
        "NH4" => "mass_concentration_of_ammonium_dry_aerosol_particles_in_air",
        "TERP" => "mass_concentration_of_terpenes_in_air",
        _ => return None,
    })
}
