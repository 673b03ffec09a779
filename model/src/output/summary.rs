//! The summary sink: the run summary as pretty JSON, `<run>.summary.json`.
//! It must be the last sink, so the summary holds what the others added.

use super::set::{OutputSet, Staged};
use crate::error::{Error, Result};
use crate::simulation::{RunSummary, Sink, View};

pub struct SummaryJson {
    file: Staged,
}

impl SummaryJson {
    pub fn new(set: &mut OutputSet) -> Result<SummaryJson> {
        Ok(SummaryJson {
            file: set.reserve("summary.json")?,
        })
    }
}

impl Sink for SummaryJson {
    fn name(&self) -> &'static str {
        "summary"
    }

    fn after_step(&mut self, _view: &View) -> Result<()> {
        Ok(())
    }

    fn finish(&mut self, _view: &View, summary: &mut RunSummary) -> Result<()> {
        let json = serde_json::to_string_pretty(summary)
            .map_err(|e| Error::output(&self.file.path, format!("the summary as JSON ({e})")))?;
        self.file.write_text(&json)
    }
}
