//! `streamsim run` and `streamsim validate`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use super::{console, progress};
use crate::runner::{
    default_report_dir, remove_stale_temp_files, remove_temp_files, run_scenario, scenario_hash,
    summary_json, write_report, RunOptions, RunOutput,
};
use crate::scenario::{self, units::parse_duration, Scenario};

/// Where reports go when `--out` is not given: `reports/` in the current
/// directory.
pub(super) const REPORTS_ROOT: &str = "reports";

#[derive(Debug, Args)]
pub(super) struct RunArgs {
    /// The scenario file.
    file: PathBuf,
    /// Use this seed instead of the scenario's.
    #[arg(long)]
    seed: Option<u64>,
    /// Run for this much simulated time instead of the scenario's duration
    /// (e.g. 20s, 2min).
    #[arg(long, value_name = "D")]
    duration: Option<String>,
    /// Write the report here instead of reports/<scenario>/seed-<n>/.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Also write packet captures: capture.pcap (the first host, normally
    /// the server) and capture-<host>.pcap for the others.
    #[arg(long)]
    pcap: bool,
    /// No progress bar or live view: only the final summary.
    #[arg(long)]
    headless: bool,
    /// Print nothing but errors (the report is still written).
    #[arg(long)]
    quiet: bool,
    /// Print summary.json on stdout instead of the summary table.
    #[arg(long)]
    json: bool,
}

/// Loads a scenario, printing its errors to stderr when it is invalid.
pub(super) fn load(file: &Path) -> Option<Scenario> {
    match scenario::load(file) {
        Ok(s) => Some(s),
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            None
        }
    }
}

/// Runs `scenario` with a progress bar; returns the output and whether the
/// run was interrupted.
/// Runs `scenario` with a progress bar; `capture_dir` streams captures into
/// that (report) directory.
pub(super) fn execute(
    file: &Path,
    scenario: &Scenario,
    capture_dir: Option<&Path>,
    show_progress: bool,
) -> Result<RunOutput> {
    let sha256 = scenario_hash(file, scenario)?;
    let mut bar = progress::Bar::new(&scenario.name, scenario.duration, show_progress);
    let options = RunOptions {
        capture: capture_dir
            .is_some()
            .then_some(crate::net::pcap::CaptureFormat::Pcap),
        capture_dir: capture_dir.map(Path::to_path_buf),
        ..RunOptions::default()
    };
    let output = run_scenario(
        scenario,
        &sha256,
        &options,
        |p| bar.step(p),
        progress::interrupted,
    );
    bar.finish();
    Ok(output?)
}

pub(super) fn run(args: &RunArgs) -> Result<i32> {
    progress::catch_interrupt();
    let Some(mut scenario) = load(&args.file) else {
        return Ok(2);
    };
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    if let Some(text) = &args.duration {
        if let Err(message) = override_duration(&mut scenario, text) {
            eprintln!("error: --duration {text}: {message}");
            return Ok(2);
        }
    }
    let dir = args.out.clone().unwrap_or_else(|| {
        default_report_dir(Path::new(REPORTS_ROOT), &scenario.name, scenario.seed)
    });
    let show = !(args.quiet || args.headless || args.json);
    // The directory exists before the run, so a path that cannot hold a
    // report fails before any simulation work.
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating the report directory {}", dir.display()))?;
    remove_stale_temp_files(&dir);
    let capture_dir = args.pcap.then_some(dir.as_path());
    let written = execute(&args.file, &scenario, capture_dir, show).and_then(|output| {
        write_report(&dir, &output)
            .with_context(|| format!("writing the report to {}", dir.display()))?;
        Ok(output)
    });
    let output = written.inspect_err(|_| remove_temp_files())?;
    if args.json {
        print!("{}", summary_json(&output));
    } else if !args.quiet {
        console::print_summary(&output.summary);
        println!("report: {}", dir.display());
    }
    Ok(if progress::interrupted() {
        130
    } else if output.summary.passed() {
        0
    } else {
        1
    })
}

/// Replaces the scenario's duration (see [`Scenario::set_duration`]); prints
/// what the shorter run leaves out.
fn override_duration(scenario: &mut Scenario, text: &str) -> Result<(), String> {
    let d = parse_duration(text).map_err(|e| e.to_string())?;
    for warning in scenario.set_duration(d)? {
        eprintln!("warning: --duration {text}: {warning}");
    }
    Ok(())
}

pub(super) fn validate(files: &[PathBuf]) -> i32 {
    let mut invalid = 0;
    for file in files {
        match load(file) {
            Some(s) => println!(
                "ok: {} ({}: {} hosts, {} links, {} sessions, {} expectations)",
                file.display(),
                s.name,
                s.hosts.len(),
                s.links.len(),
                s.sessions.len(),
                s.expect.len()
            ),
            None => invalid += 1,
        }
    }
    if invalid > 0 {
        eprintln!("{invalid} of {} files invalid", files.len());
        2
    } else {
        0
    }
}
