//! Coarse gridded meteorology with its winds re-diagnosed over the model's
//! terrain: `kind = "diagnostic"` with `file` (the `reanalysis` format).
//! Each hour the coarse record is regridded ([`super::reanalysis`]); its
//! winds become the 3-D first guess of the diagnostic model, which adds
//! terrain blocking and the kinematic effect and makes the field
//! mass-consistent on the fine grid (the CALMET use of prognostic winds as
//! the initial guess, Scire et al. 2000 sec. 2.2). Temperature, pressure,
//! humidity and the boundary layer stay those of the coarse data. Slope
//! flows need a surface-cooling forcing the coarse data do not carry, so
//! they are off here. The Brunt-Vaisala frequency is the domain mean of the
//! potential-temperature gradient between the lowest layer and 1 km.

use super::diagnostic::{AdjustReport, DiagnosticWind, Forcing};
use super::reanalysis::ReanalysisMet;
use super::terrain::Terrain;
use super::{potential_temperature, MetFields, MetSource, RecordCache, GRAVITY};
use crate::error::Result;
use crate::grid::Grid;
use ndarray::Array3;

pub struct TerrainAdjustedMet {
    coarse: ReanalysisMet,
    model: DiagnosticWind,
    cache: RecordCache,
    pub last_report: AdjustReport,
}

impl TerrainAdjustedMet {
    pub fn new(coarse: ReanalysisMet, grid: &Grid, terrain: Terrain) -> Self {
        TerrainAdjustedMet {
            coarse,
            model: DiagnosticWind::new(grid, terrain),
            cache: RecordCache::default(),
            last_report: AdjustReport::default(),
        }
    }

    fn solve_hour(&mut self, hour: usize) -> Result<MetFields> {
        let mut m = self.coarse.at(hour as f64 * 3600.0)?;
        let g = &self.model.grid;
        let (nz, ny, nx) = (g.nz, g.ny, g.nx);
        let mut uc = Array3::zeros((nz, ny, nx));
        let mut vc = Array3::zeros((nz, ny, nx));
        for ((k, j, i), u) in uc.indexed_iter_mut() {
            let (cu, cv) = m.centre_wind(k, j, i);
            *u = cu;
            vc[[k, j, i]] = cv;
        }
        // Domain-mean stability between the lowest layer and ~1 km.
        let top = g.layer_of(1000.0).max(1).min(nz - 1);
        let theta = |k: usize, j: usize, i: usize| {
            potential_temperature(m.temperature[[k, j, i]], m.pressure[[k, j, i]])
        };
        let cells = (ny * nx) as f64;
        let (mut n2, mut th0, mut pblh, mut z0) = (0.0, 0.0, 0.0, 0.0);
        for j in 0..ny {
            for i in 0..nx {
                let t0 = theta(0, j, i);
                n2 += GRAVITY / t0 * (theta(top, j, i) - t0) / (g.z_mid[top] - g.z_mid[0]) / cells;
                th0 += t0 / cells;
                pblh += m.pblh[[j, i]] / cells;
                z0 += m.z0[[j, i]] / cells;
            }
        }
        let forcing = Forcing {
            u10: 0.0,
            v10: 0.0,
            surface_wind: None,
            first_guess_winds: Some((uc, vc)),
            cold_pool: None,
            brunt_vaisala: n2.max(1e-8).sqrt(),
            slope_dtheta: 0.0,
            mixing_height: pblh,
            theta: th0,
            z0,
        };
        let (wind, report) = self.model.solve_next(&forcing, &m.density)?;
        self.last_report = report;
        m.u_face = wind.u_face;
        m.v_face = wind.v_face;
        Ok(m)
    }
}

impl super::Records for TerrainAdjustedMet {
    fn record_times(&self) -> Option<Vec<f64>> {
        None
    }

    fn read_record(&mut self, rec: usize) -> Result<MetFields> {
        self.solve_hour(rec)
    }

    fn cache(&mut self) -> &mut super::RecordCache {
        &mut self.cache
    }

    fn description(&self) -> String {
        let t = &self.model.terrain.height;
        format!(
            "{}, winds re-diagnosed over terrain {:.0}-{:.0} m by the diagnostic wind model",
            MetSource::description(&self.coarse),
            t.iter().cloned().fold(f64::INFINITY, f64::min),
            t.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        )
    }

    fn solve_totals(&self) -> Option<super::diagnostic::SolveTotals> {
        Some(self.model.totals)
    }

    fn synthetic(&self) -> bool {
        false
    }

    /// The coarse records the hourly solves read (to the last whole hour).
    fn check_records(&mut self, until_s: f64) -> Result<()> {
        super::Records::check_records(&mut self.coarse, (until_s / 3600.0).ceil() * 3600.0)
    }
}
