//! Writing a run's report directory: `summary.json`, `summary.md`,
//! `events.jsonl`, the SVG plots and, when asked, the captures.
//!
//! Every file is written to a temporary name in the same directory and
//! renamed into place, so a reader (or a crash) never sees half a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::RunOutput;
use crate::metrics::write::{plots, summary_markdown};

/// `reports/<scenario-name>/seed-<n>/` under `root`.
pub fn default_report_dir(root: &Path, name: &str, seed: u64) -> PathBuf {
    root.join(name).join(format!("seed-{seed}"))
}

/// Writes `bytes` to `path` atomically (temporary file, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The bytes of `summary.json`: pretty JSON and a final newline.
pub fn summary_json(output: &RunOutput) -> String {
    let mut text =
        serde_json::to_string_pretty(&output.summary).expect("a summary always serialises");
    text.push('\n');
    text
}

/// Writes the report of `output` into `dir` (created if needed).
pub fn write_report(dir: &Path, output: &RunOutput) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let put = |name: &str, bytes: &[u8]| write_atomic(&dir.join(name), bytes);
    put("summary.json", summary_json(output).as_bytes())?;
    put(
        "summary.md",
        summary_markdown(&output.summary, crate::proto::metric_table).as_bytes(),
    )?;
    let mut events = String::new();
    for event in &output.events {
        events.push_str(&serde_json::to_string(event).expect("an event always serialises"));
        events.push('\n');
    }
    put("events.jsonl", events.as_bytes())?;
    let svgs = plots(&output.plots, &output.summary.scenario.name)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    for (name, svg) in svgs {
        put(name, svg.as_bytes())?;
    }
    // Captures of an earlier run in the same directory would otherwise be
    // mistaken for this run's.
    for entry in std::fs::read_dir(dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("capture") && name.ends_with(".pcap") {
            std::fs::remove_file(entry.path())?;
        }
    }
    for (i, (host, capture)) in output.captures.iter().enumerate() {
        let name = if i == 0 {
            "capture.pcap".to_owned()
        } else {
            format!("capture-{host}.pcap")
        };
        put(&name, capture)?;
    }
    Ok(())
}
