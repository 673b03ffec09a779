//! A small table printed two ways: aligned columns for the terminal and
//! GitHub Markdown for report files.

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub notes: Vec<String>,
}

impl Table {
    pub fn new(title: &str, header: &[&str]) -> Table {
        Table {
            title: title.to_string(),
            header: header.iter().map(|h| h.to_string()).collect(),
            ..Table::default()
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn note(&mut self, text: &str) {
        self.notes.push(text.to_string());
    }

    fn widths(&self) -> Vec<usize> {
        let mut w: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (c, cell) in r.iter().enumerate() {
                if c < w.len() {
                    w[c] = w[c].max(cell.chars().count());
                }
            }
        }
        w
    }

    /// Aligned columns: the first left-aligned, the others right-aligned.
    pub fn text(&self) -> String {
        let w = self.widths();
        let line = |cells: &[String]| -> String {
            let parts: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(c, s)| {
                    let pad = w.get(c).copied().unwrap_or(0);
                    let n = s.chars().count();
                    let fill = " ".repeat(pad.saturating_sub(n));
                    if c == 0 {
                        format!("{s}{fill}")
                    } else {
                        format!("{fill}{s}")
                    }
                })
                .collect();
            parts.join("  ").trim_end().to_string() + "\n"
        };
        let mut out = format!("{}\n", self.title);
        out.push_str(&line(&self.header));
        for r in &self.rows {
            out.push_str(&line(r));
        }
        for n in &self.notes {
            out.push_str(&format!("  {n}\n"));
        }
        out.push('\n');
        out
    }

    /// A Markdown table under a bold title, notes after it.
    pub fn markdown(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|");
        let mut out = format!("**{}**\n\n", self.title);
        out.push_str(&format!(
            "| {} |\n",
            self.header
                .iter()
                .map(|h| esc(h))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
        out.push_str(&format!(
            "|{}|\n",
            (0..self.header.len())
                .map(|c| if c == 0 { "---" } else { "---:" })
                .collect::<Vec<_>>()
                .join("|")
        ));
        for r in &self.rows {
            out.push_str(&format!(
                "| {} |\n",
                r.iter().map(|h| esc(h)).collect::<Vec<_>>().join(" | ")
            ));
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                out.push_str(&format!("{n}\n"));
            }
        }
        out.push('\n');
        out
    }
}
