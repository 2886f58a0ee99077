//! Writing a run's report directory: `summary.json`, `summary.md`,
//! `events.jsonl`, the SVG plots and, when asked, the captures.
//!
//! Every file is written to a temporary name in the same directory and
//! renamed into place, so a reader (or a crash) never sees half a file.
//!
//! Invariants: a write replaces only a regular file or creates a new one;
//! a symlink, FIFO, device or directory at the path is refused, never
//! replaced. Temporary files are named `.<name>.tmp-<pid>`; each is
//! removed on every error, listed while it exists so an exit on a second
//! Ctrl-C can remove it ([`remove_temp_files`]), and one left behind by a
//! process that no longer runs is removed by the next report written into
//! the same directory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::RunOutput;
use crate::metrics::write::{plots, summary_markdown};

/// Temporary files being written now.
static TEMP_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every temporary file being written now (after an error).
pub fn remove_temp_files() {
    // A poisoned list is still a list: a panic elsewhere must not keep
    // temporary files behind.
    let list = TEMP_FILES.lock().unwrap_or_else(|e| e.into_inner());
    for path in list.iter() {
        let _ = std::fs::remove_file(path);
    }
}

/// Removes every temporary file being written now and exits with `code`
/// (for an exit that cannot wait for the writes to finish). The list stays
/// locked until the process is gone, so no write creates another one.
pub fn exit_removing_temp_files(code: i32) -> ! {
    let list = TEMP_FILES.lock().unwrap_or_else(|e| e.into_inner());
    for path in list.iter() {
        let _ = std::fs::remove_file(path);
    }
    // `list` is never dropped: exit returns to no one.
    std::process::exit(code)
}

/// Creates the temporary file `tmp` and lists it, both under the list's
/// lock: an exit removing the listed files either sees it or prevents it.
fn create_tracked(tmp: &Path) -> std::io::Result<std::fs::File> {
    let mut list = TEMP_FILES.lock().unwrap_or_else(|e| e.into_inner());
    let open = || {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(tmp)
    };
    // A file of that name is ours, from an earlier write: replace it.
    let file = open().or_else(|_| {
        std::fs::remove_file(tmp)?;
        open()
    })?;
    list.push(tmp.to_path_buf());
    Ok(file)
}

fn track(path: &Path, add: bool) {
    let mut list = TEMP_FILES.lock().unwrap_or_else(|e| e.into_inner());
    if add {
        list.push(path.to_path_buf());
    } else {
        list.retain(|p| p != path);
    }
}

/// Checks that `path` is a regular file or does not exist, so that an
/// atomic write may replace it.
pub fn check_replaceable(path: &Path) -> std::io::Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let kind = meta.file_type();
    let what = if kind.is_file() {
        return Ok(());
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file (a device, FIFO or socket)"
    };
    Err(std::io::Error::other(format!(
        "{} is {what}; refusing to replace it (remove it or choose another path)",
        path.display()
    )))
}

/// The temporary name `path` is written under by process `pid`.
fn temp_name(path: &Path, pid: u32) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{pid}"))
}

/// Removes temporary files of our naming in `dir` whose process is gone
/// (Linux: no `/proc/<pid>`; elsewhere only this process's own), except
/// those this process is writing now.
pub fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let own = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((_, pid)) = name.strip_prefix('.').and_then(|n| n.rsplit_once(".tmp-")) else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        let proc = Path::new("/proc");
        let gone = if proc.join("self").exists() {
            !proc.join(pid.to_string()).exists()
        } else {
            false
        };
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        let path = entry.path();
        let in_use = TEMP_FILES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&path);
        if is_file && (gone || pid == own) && !in_use {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// `reports/<scenario-name>/seed-<n>/` under `root`.
pub fn default_report_dir(root: &Path, name: &str, seed: u64) -> PathBuf {
    root.join(name).join(format!("seed-{seed}"))
}

/// Writes `bytes` to `path` atomically (temporary file, then rename).
/// Only a regular file or a new path is written ([`check_replaceable`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// Like [`write_atomic`], with `write` filling the temporary file.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    check_replaceable(path)?;
    let tmp = temp_name(path, std::process::id());
    let result = (|| {
        let mut file = create_tracked(&tmp)?;
        write(&mut file)?;
        file.sync_all()?;
        // Checked again: the path may have changed while we wrote.
        check_replaceable(path)?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    track(&tmp, false);
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
    remove_stale_temp_files(dir);
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
        put(&capture_name(i, host), capture)?;
    }
    for (i, (host, temp)) in output.capture_files.iter().enumerate() {
        let path = dir.join(capture_name(i, host));
        check_replaceable(&path)?;
        std::fs::rename(temp, &path)?;
        track(temp, false);
    }
    Ok(())
}

/// The report's name of the capture of `host`, the `index`th host:
/// `capture.pcap` for the first, `capture-<host>.pcap` for the others.
fn capture_name(index: usize, host: &str) -> String {
    if index == 0 {
        "capture.pcap".to_owned()
    } else {
        format!("capture-{host}.pcap")
    }
}

/// Where each host's capture streams while a run writes its report into
/// `dir`: the temporary name of its capture file there. The paths are
/// listed for [`remove_temp_files`] until [`write_report`] renames them.
pub(super) fn capture_temp_files(
    dir: &Path,
    hosts: &[String],
) -> std::collections::BTreeMap<String, PathBuf> {
    hosts
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let temp = temp_name(&dir.join(capture_name(i, host)), std::process::id());
            track(&temp, true);
            (host.clone(), temp)
        })
        .collect()
}
