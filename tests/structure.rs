//! The layering the architecture promises, checked on the source tree:
//! lower layers never import the ones above them.
//!
//! * `net` (links, NICs, stacks, the `Net` trait and its clock) knows
//!   nothing of the harness (`sim`) that drives it;
//! * `metrics` (catalog, recorder, summary, writers) knows nothing of
//!   scenario files;
//! * `media` and `player` know nothing of networks, harnesses, scenarios or
//!   protocols;
//! * protocols (`proto`) never read scenario files: they declare options.

use std::path::Path;

/// Every `.rs` file under `dir`, recursively, with its text.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path.display().to_string(), text));
        }
    }
    out
}

/// Lines of files under `src/<module>` that import `crate::<forbidden>`.
fn imports(module: &str, forbidden: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(module);
    let mut found = Vec::new();
    for (file, text) in sources(&root) {
        for (n, line) in text.lines().enumerate() {
            for f in forbidden {
                if line.contains(&format!("crate::{f}::"))
                    || line.contains(&format!("crate::{f};"))
                    || line.contains(&format!("crate::{f}{{"))
                {
                    found.push(format!("{file}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    found
}

/// Whether line `n` of `text` lies inside a `use crate::{ … }` group.
fn in_group(text: &str, n: usize) -> bool {
    let mut open = false;
    for (i, line) in text.lines().take(n + 1).enumerate() {
        if line.contains("use crate::{") {
            open = true;
        }
        if open && i < n && line.contains("};") {
            open = false;
        }
    }
    open
}

#[test]
fn a_grouped_import_is_seen() {
    let text = "use crate::{\n    net::Net,\n    sim::Harness,\n};\n";
    assert!(in_group(text, 2));
    assert!(!in_group("use crate::{net::Net};\nsim::x\n", 1));
    let later = "use crate::{a::B};\nuse crate::{\n    sim::H,\n};\n";
    assert!(in_group(later, 2));
}

#[test]
fn net_does_not_import_the_harness() {
    let found = imports("net", &["sim", "scenario", "runner", "proto", "player"]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn metrics_does_not_import_scenarios_or_the_harness() {
    let found = imports("metrics", &["scenario", "sim", "runner"]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn media_and_player_stand_alone() {
    for module in ["media", "player"] {
        let found = imports(module, &["net", "sim", "scenario", "runner", "proto"]);
        assert!(found.is_empty(), "{found:#?}");
    }
}

#[test]
fn protocols_do_not_read_scenario_files() {
    let found = imports("proto", &["scenario", "runner"]);
    assert!(found.is_empty(), "{found:#?}");
}
