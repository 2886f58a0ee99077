//! Files a scenario references (capacity traces, media): paths resolve
//! against the scenario file's directory, and each must exist and (for
//! traces) parse before any run starts.
//!
//! Invariants: a trace file is read and parsed once however often it is
//! referenced, and every reference shares the same `Arc<Trace>`; the list
//! of referenced files is in file order without repeats; every file read
//! is a regular file read with a size cap ([`read_capped`]), so a device
//! (`/dev/zero`), a FIFO or a huge file is an error, never a hang.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::diag::Span;
use super::reader::{string, Ctx, Item};
use crate::net::link::Trace;

/// The files referenced so far, and the traces loaded from them.
#[derive(Default)]
pub(crate) struct Files {
    traces: Vec<(PathBuf, Result<Arc<Trace>, String>)>,
    referenced: Vec<(Span, PathBuf)>,
}

impl Files {
    /// `text` resolved against the scenario's directory.
    fn resolve(cx: &Ctx, text: &str) -> PathBuf {
        let path = Path::new(text);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            cx.base_dir.join(path)
        }
    }

    /// The path in `item`, resolved, or an error for a non-string or empty one.
    fn path(cx: &mut Ctx, item: Item) -> Option<PathBuf> {
        let text = string(cx, item)?;
        if text.trim().is_empty() {
            cx.error(
                item.span,
                format!("`{}` is empty; write a file path", item.key),
            );
            return None;
        }
        Some(Files::resolve(cx, text))
    }

    /// Loads the Mahimahi trace named by `item`.
    pub fn trace(&mut self, cx: &mut Ctx, item: Item) -> Option<Arc<Trace>> {
        let path = Files::path(cx, item)?;
        self.referenced.push((item.span, path.clone()));
        let loaded = match self.traces.iter().find(|(p, _)| *p == path) {
            Some((_, loaded)) => loaded.clone(),
            None => {
                let loaded = load_trace(&path).map(Arc::new);
                self.traces.push((path, loaded.clone()));
                loaded
            }
        };
        loaded.map_err(|message| cx.error(item.span, message)).ok()
    }

    /// Checks that the media file named by `item` is a regular file of at
    /// most [`MAX_MEDIA_BYTES`].
    pub fn media(&mut self, cx: &mut Ctx, item: Item) -> Option<PathBuf> {
        let path = Files::path(cx, item)?;
        self.referenced.push((item.span, path.clone()));
        let what = format!("media file \"{}\"", path.display());
        match regular_file(&path, &what, MAX_MEDIA_BYTES) {
            Ok(_) => Some(path),
            Err(message) => {
                cx.error(item.span, message);
                None
            }
        }
    }

    /// Every referenced file in file order, each once.
    pub fn into_paths(mut self) -> Vec<PathBuf> {
        self.referenced.sort_by_key(|r| r.0);
        let mut out: Vec<PathBuf> = Vec::new();
        for (_, path) in self.referenced {
            if !out.contains(&path) {
                out.push(path);
            }
        }
        out
    }
}

/// The largest scenario file read: 64 MiB.
pub const MAX_SCENARIO_BYTES: u64 = 64 << 20;

/// The largest Mahimahi trace read: 64 MiB (about 7 million delivery
/// opportunities, hours of a fast link).
pub const MAX_TRACE_BYTES: u64 = 64 << 20;

/// The largest media file accepted: 4 GiB.
pub const MAX_MEDIA_BYTES: u64 = 4 << 30;

/// The largest baseline summary read: 16 MiB.
pub const MAX_BASELINE_BYTES: u64 = 16 << 20;

/// Checks that `path` is a regular file of at most `cap` bytes; returns
/// its length. `what` names the file in messages (`trace file "x.trace"`).
pub fn regular_file(path: &Path, what: &str, cap: u64) -> Result<u64, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {what}: {e}"))?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a device, FIFO or socket)"
        };
        return Err(format!("{what} is {kind}"));
    }
    if meta.len() > cap {
        return Err(format!(
            "{what} is {} bytes, larger than the {cap} bytes accepted",
            meta.len()
        ));
    }
    Ok(meta.len())
}

/// Reads the regular file at `path`, refusing anything else and anything
/// over `cap` bytes (also when it grows while being read).
pub fn read_capped(path: &Path, what: &str, cap: u64) -> Result<Vec<u8>, String> {
    let len = regular_file(path, what, cap)?;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {what}: {e}"))?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {what}: {e}"))?;
    if bytes.len() as u64 > cap {
        return Err(format!("{what} is larger than the {cap} bytes accepted"));
    }
    Ok(bytes)
}

/// Reads and parses a trace, or says why it cannot.
fn load_trace(path: &Path) -> Result<Trace, String> {
    let shown = path.display();
    let bytes = read_capped(path, &format!("trace file \"{shown}\""), MAX_TRACE_BYTES)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("trace file \"{shown}\" is not a Mahimahi trace: not UTF-8 text"))?;
    Trace::parse(&text).map_err(|e| format!("trace file \"{shown}\" is not a Mahimahi trace: {e}"))
}
