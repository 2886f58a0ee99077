//! `streamsim check`: run scenarios, judge their bounds (and, optionally,
//! every metric against a baseline), print what failed, write JUnit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;

use super::console::actual;
use super::progress;
use super::run::{execute, REPORTS_ROOT};
use crate::metrics::write::junit_xml;
use crate::metrics::{CheckOutcome, CheckedScenario};
use crate::runner::{
    baseline_units_match, check_replaceable, compare_baseline, default_report_dir, load_baseline,
    write_atomic, write_report,
};
use crate::scenario::{self, Scenario};

#[derive(Debug, Args)]
pub(super) struct CheckArgs {
    /// Scenario files, or directories searched (recursively) for *.toml.
    #[arg(required = true, value_name = "FILE|DIR")]
    paths: Vec<PathBuf>,
    /// Write a JUnit XML report here: one testcase per expectation.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Compare every metric with the summaries under this directory
    /// (<DIR>/<scenario>/seed-<n>/summary.json, as written by --out).
    #[arg(long, value_name = "DIR")]
    baseline: Option<PathBuf>,
    /// How far (in percent of the baseline value) a metric may move.
    #[arg(long, value_name = "PCT", default_value_t = 5.0)]
    tolerance: f64,
    /// Write each scenario's report under this directory instead of reports/.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Every scenario file named by `paths`, directories expanded (sorted).
/// Inside a directory, symbolic links to directories are not followed (a
/// link to a parent would run the same files again, or loop forever);
/// links to files are.
fn scenario_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            collect_toml(path, &mut found);
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    files
}

fn collect_toml(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            collect_toml(&path, found);
        } else if path.extension().is_some_and(|e| e == "toml") && !path.is_dir() {
            found.push(path);
        }
    }
}

/// The name a file's results go under when it has no valid scenario name.
fn stem(file: &Path) -> String {
    file.file_stem().map_or_else(
        || file.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

/// A file's scenario, or the name its result goes under and why it does
/// not run.
type Loaded = Result<Scenario, (String, CheckOutcome)>;

/// Loads every file; a scenario whose name an earlier one already uses is
/// an error before anything runs (reports and baselines are kept by name).
fn load_all(files: &[PathBuf]) -> Vec<(PathBuf, Loaded)> {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    files
        .iter()
        .map(|file| {
            let loaded = match scenario::load(file) {
                Err(diagnostics) => Err((
                    stem(file),
                    CheckOutcome::Invalid {
                        message: diagnostics.to_string(),
                    },
                )),
                Ok(s) => match names.get(&s.name) {
                    Some(first) => {
                        let message = format!(
                            "scenario name {:?} is also used by {first}; reports and baselines \
                             are kept by name, so each scenario needs its own",
                            s.name
                        );
                        Err((s.name, CheckOutcome::Error { message }))
                    }
                    None => {
                        names.insert(s.name.clone(), file.display().to_string());
                        Ok(s)
                    }
                },
            };
            (file.clone(), loaded)
        })
        .collect()
}

fn check_one(file: &Path, scenario: &Scenario, args: &CheckArgs) -> CheckedScenario {
    let checked = |name: String, outcome| CheckedScenario {
        file: file.display().to_string(),
        name,
        outcome,
    };
    let name = scenario.name.clone();
    let baseline = match &args.baseline {
        Some(dir) => match load_baseline(dir, &name, scenario.seed) {
            Ok(b) => Some(b),
            Err(e) => {
                return checked(
                    name,
                    CheckOutcome::Error {
                        message: e.to_string(),
                    },
                )
            }
        },
        None => None,
    };
    let started = Instant::now();
    let output = match execute(file, scenario, None, true) {
        Ok(o) => o,
        Err(e) => {
            return checked(
                name,
                CheckOutcome::Error {
                    message: format!("{e:#}"),
                },
            )
        }
    };
    let wall_s = started.elapsed().as_secs_f64();
    let root = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(REPORTS_ROOT));
    let dir = default_report_dir(&root, &name, scenario.seed);
    if let Err(e) = write_report(&dir, &output) {
        let message = format!("writing the report to {}: {e}", dir.display());
        return checked(name, CheckOutcome::Error { message });
    }
    if let Some(Err(message)) = baseline
        .as_ref()
        .map(|b| baseline_units_match(b, &output.summary))
    {
        return checked(name, CheckOutcome::Error { message });
    }
    let baseline = baseline.map(|b| compare_baseline(&b, &output.summary, args.tolerance));
    checked(
        name,
        CheckOutcome::Ran {
            summary: Box::new(output.summary),
            baseline,
            wall_s,
        },
    )
}

fn print_result(c: &CheckedScenario, tolerance: f64) {
    match &c.outcome {
        CheckOutcome::Invalid { message } => {
            println!("INVALID {}", c.file);
            for line in message.lines() {
                println!("        {line}");
            }
        }
        CheckOutcome::Error { message } => println!("ERROR   {} ({}): {message}", c.file, c.name),
        CheckOutcome::Ran {
            summary,
            baseline,
            wall_s,
        } => {
            let verdict = if c.passed() { "PASS" } else { "FAIL" };
            println!(
                "{verdict:<7} {} ({}: {} expectations, {:.1} s simulated in {wall_s:.1} s)",
                c.file,
                c.name,
                summary.expectations.len(),
                summary.elapsed_s
            );
            if !summary.complete {
                println!("        run interrupted at {:.1} s", summary.elapsed_s);
            }
            for e in summary.expectations.iter().filter(|e| !e.pass) {
                println!(
                    "        {}: expected {}, actual {}",
                    e.metric,
                    e.bound,
                    actual(e.actual, e.unit)
                );
            }
            for d in baseline.iter().flatten().filter(|d| !d.pass) {
                let change = match d.change {
                    None => "missing on one side".to_owned(),
                    Some(x) if x.is_infinite() => "from 0".to_owned(),
                    Some(x) => format!("{:+.2}%", x * 100.0),
                };
                println!(
                    "        baseline: {} moved {} → {} ({change}, tolerance ±{tolerance}%)",
                    d.metric,
                    actual(d.old, d.unit),
                    actual(d.new, d.unit)
                );
            }
        }
    }
}

pub(super) fn check(args: &CheckArgs) -> Result<i32> {
    progress::catch_interrupt();
    if !(args.tolerance.is_finite() && args.tolerance >= 0.0) {
        eprintln!(
            "error: --tolerance must be a percentage ≥ 0, got {}",
            args.tolerance
        );
        return Ok(2);
    }
    if let Some(path) = &args.junit {
        if let Err(e) = check_replaceable(path) {
            eprintln!("error: --junit: {e}");
            return Ok(2);
        }
    }
    let files = scenario_files(&args.paths);
    if files.is_empty() {
        eprintln!("error: no scenario files (*.toml) found in the paths given");
        return Ok(2);
    }
    let mut results: Vec<CheckedScenario> = Vec::new();
    for (file, loaded) in load_all(&files) {
        if progress::interrupted() {
            break;
        }
        let result = match loaded {
            Ok(scenario) => check_one(&file, &scenario, args),
            Err((name, outcome)) => CheckedScenario {
                file: file.display().to_string(),
                name,
                outcome,
            },
        };
        print_result(&result, args.tolerance);
        results.push(result);
    }
    let invalid = results
        .iter()
        .filter(|r| !matches!(r.outcome, CheckOutcome::Ran { .. }))
        .count();
    let passed = results.iter().filter(|r| r.passed()).count();
    let failed = results.len() - passed - invalid;
    println!(
        "{} scenarios: {passed} passed, {failed} failed, {invalid} invalid or not run",
        results.len()
    );
    if let Some(path) = &args.junit {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        write_atomic(path, junit_xml(&results, args.tolerance).as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        println!("junit: {}", path.display());
    }
    Ok(if progress::interrupted() {
        130
    } else if invalid > 0 {
        2
    } else if failed > 0 {
        1
    } else {
        0
    })
}
