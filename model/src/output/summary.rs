//! The summary sink: the run summary as pretty JSON, `<run>.summary.json`.
//! It must be the last sink, so the summary holds what the others added.

use crate::error::{Error, Result};
use crate::simulation::{RunSummary, Sink, Staged, View};
use std::path::{Path, PathBuf};

pub struct SummaryJson {
    path: PathBuf,
}

impl SummaryJson {
    pub fn new(dir: &Path, run_name: &str) -> SummaryJson {
        SummaryJson {
            path: dir.join(format!("{run_name}.summary.json")),
        }
    }
}

impl Sink for SummaryJson {
    fn name(&self) -> &'static str {
        "summary"
    }

    fn after_step(&mut self, _view: &View) -> Result<()> {
        Ok(())
    }

    fn finish(&mut self, _view: &View, summary: &mut RunSummary) -> Result<Vec<Staged>> {
        let json = serde_json::to_string_pretty(summary)
            .map_err(|e| Error::output(&self.path, format!("the summary as JSON ({e})")))?;
        Ok(vec![super::stage_text(&self.path, &json)?])
    }
}
