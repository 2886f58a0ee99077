//! Files a scenario references (capacity traces, media): paths resolve
//! against the scenario file's directory, and each must exist and (for
//! traces) parse before any run starts.
//!
//! Invariants: a trace file is read and parsed once however often it is
//! referenced, and every reference shares the same `Arc<Trace>`; the list
//! of referenced files is in file order without repeats.

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

    /// Checks that the media file named by `item` exists and is a file.
    pub fn media(&mut self, cx: &mut Ctx, item: Item) -> Option<PathBuf> {
        let path = Files::path(cx, item)?;
        self.referenced.push((item.span, path.clone()));
        let shown = path.display();
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => Some(path),
            Ok(_) => {
                cx.error(item.span, format!("media file \"{shown}\" is not a file"));
                None
            }
            Err(e) => {
                cx.error(
                    item.span,
                    format!("cannot read media file \"{shown}\": {e}"),
                );
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

/// Reads and parses a trace, or says why it cannot.
fn load_trace(path: &Path) -> Result<Trace, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read trace file \"{shown}\": {e}"))?;
    Trace::parse(&text).map_err(|e| format!("trace file \"{shown}\" is not a Mahimahi trace: {e}"))
}
