//! What `airshed check` validates beyond building the Simulation
//! ([`crate::simulation::Simulation::from_case`] reads the emissions and the
//! first met record): every met record the run will read, streamed one at
//! a time, and the sites. So a case `check` accepts is one `run` accepts,
//! as far as its inputs go.

use crate::config::Case;
use crate::error::{Error, Result};
use crate::grid::Grid;

/// Check everything `run` will read that building the Simulation does not:
/// every met record of the run (read and checked one at a time, not
/// kept), and that every site lies inside the grid.
pub fn inputs(case: &Case) -> Result<()> {
    let grid = Grid::new(&case.grid);
    for (n, site) in case.sites.iter().enumerate() {
        if grid.cell_of(site.lon, site.lat).is_none() {
            return Err(Error::config(
                &case.file,
                format!("sites[{n}] ({})", site.name),
                format!(
                    "a site inside the grid; ({}, {}) is outside it",
                    site.lon, site.lat
                ),
            ));
        }
    }
    let run_seconds = case.run.hours * 3600.0;
    let mut met = crate::met::open_case(case, &grid)?;
    met.check_records(run_seconds)
}
