//! Runs a [`Scenario`]: builds the simulated network, starts every session
//! on its hosts, steps the simulation, and turns what happened into a
//! [`Summary`], an event log and plot data.
//!
//! The runner is the one place that knows both the scenario's vocabulary
//! (sessions, link ids such as `down`) and the network's (hosts, egress
//! names such as `server->client`); everything it produces speaks the
//! scenario's.

mod collect;
mod compare;
mod events;
mod files;
mod sessions;

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

pub use compare::{
    baseline_path, baseline_units_match, compare_baseline, evaluate, load_baseline, BaselineError,
};
pub use files::{
    check_replaceable, default_report_dir, exit_removing_temp_files, remove_stale_temp_files,
    remove_temp_files, summary_json, write_atomic, write_atomic_with, write_report,
};

use crate::metrics::{Event, EventSink, PlotData, ScenarioInfo, Summary};
use crate::net::link::LinkConfig;
use crate::net::pcap::CaptureFormat;
use crate::proto::{MediaFeed, MediaOrigin};
use crate::scenario::Scenario;
use crate::sim::{Harness, LinkSpec, Progress, RunReport, SimConfig, SimError, Topology};

/// Errors running a scenario.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The simulation could not be built or failed while running.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// A session could not be set up.
    #[error(transparent)]
    Install(#[from] crate::proto::InstallError),
    /// The scenario's media cannot be streamed.
    #[error("[media]: {0}")]
    Media(String),
    /// A file the scenario references could not be read for its hash.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// How to run a scenario, beyond what the file says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunOptions {
    /// Capture every host's traffic in this format.
    pub capture: Option<CaptureFormat>,
    /// In pcapng captures, mark packets the link dropped with their cause.
    pub capture_drops: bool,
    /// Stream the captures into temporary files in this directory (the
    /// report's), instead of keeping them in memory.
    pub capture_dir: Option<std::path::PathBuf>,
}

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// The summary (`summary.json`).
    pub summary: Summary,
    /// The event log, in time order (`events.jsonl`).
    pub events: Vec<Event>,
    /// Data for the plots.
    pub plots: PlotData,
    /// Captures by host, in host order (when asked for, in memory).
    pub captures: Vec<(String, Vec<u8>)>,
    /// Streamed captures by host, in host order: complete temporary files
    /// that [`write_report`] renames into place.
    pub capture_files: Vec<(String, std::path::PathBuf)>,
    /// What the network recorded (per-host flows, link counters, NIC logs).
    pub report: RunReport,
    /// What each session recorded, in scenario order (full histograms
    /// included).
    pub recorders: Vec<crate::metrics::Recorder>,
}

/// SHA-256 (hex) of the scenario file's bytes followed by those of every
/// file it references.
pub fn scenario_hash(path: &Path, scenario: &Scenario) -> Result<String, RunError> {
    let mut hasher = Sha256::new();
    for file in std::iter::once(path).chain(scenario.referenced_files.iter().map(|p| p.as_path())) {
        // Streamed: a media file may be gigabytes.
        std::fs::File::open(file)
            .and_then(|mut f| std::io::copy(&mut f, &mut hasher))
            .map_err(|source| RunError::Read {
                path: file.display().to_string(),
                source,
            })?;
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Runs `scenario` to its duration, or until `stop` returns true (then the
/// summary says `complete: false`). `on_step` sees progress after every
/// simulation step.
pub fn run_scenario(
    scenario: &Scenario,
    sha256: &str,
    options: &RunOptions,
    on_step: impl FnMut(Progress),
    stop: impl Fn() -> bool,
) -> Result<RunOutput, RunError> {
    let topology = topology(scenario)?;
    let config = SimConfig {
        seed: scenario.seed,
        duration: scenario.duration,
        tick: scenario.tick,
        mtu: scenario.mtu,
        tcp: scenario.tcp.clone(),
        capture: options.capture,
        capture_drops: options.capture_drops,
        capture_files: match (&options.capture_dir, options.capture.is_some()) {
            (Some(dir), true) => files::capture_temp_files(dir, &scenario.hosts),
            _ => Default::default(),
        },
        ..SimConfig::default()
    };
    let media = media_feed(scenario)?;
    let mut harness = Harness::new(config, topology)?;
    let events = EventSink::new();
    let mut sessions = sessions::install(&mut harness, scenario, media.as_ref(), &events)?;
    let report = harness.run_until(on_step, stop)?;
    let elapsed = report.elapsed;
    let mut metrics = collect::link_metrics_of(scenario, &report);
    let mut infos = BTreeMap::new();
    for session in &mut sessions {
        let info = session.finish(elapsed, &report);
        metrics.extend(session.recorder().metrics());
        infos.insert(session.name().to_owned(), info);
    }
    let recorders = sessions.iter().map(|s| s.recorder().clone()).collect();
    let events = events::collect(scenario, &report, events.snapshot());
    let mut plots = collect::plots(scenario, &report);
    for session in &sessions {
        let extra = session.plots();
        plots.latency_ms.extend(extra.latency_ms);
        plots.buffer_ms.extend(extra.buffer_ms);
        plots.cwnd_kib.extend(extra.cwnd_kib);
    }
    let mut summary = Summary {
        schema_version: crate::metrics::SCHEMA_VERSION,
        streamsim_version: env!("CARGO_PKG_VERSION").to_owned(),
        scenario: ScenarioInfo {
            name: scenario.name.clone(),
            description: scenario.description.clone(),
            sha256: sha256.to_owned(),
        },
        seed: scenario.seed,
        duration_s: scenario.duration.as_secs_f64(),
        elapsed_s: elapsed.as_secs_f64(),
        complete: report.complete,
        sessions: infos,
        metrics,
        expectations: Vec::new(),
        events: events.1,
    };
    summary.expectations = evaluate(&scenario.expect, &summary.metrics);
    let captures = report
        .hosts
        .iter()
        .filter_map(|h| h.capture.clone().map(|c| (h.name.clone(), c)))
        .collect();
    let capture_files = report
        .hosts
        .iter()
        .filter_map(|h| h.capture_file.clone().map(|f| (h.name.clone(), f)))
        .collect();
    Ok(RunOutput {
        summary,
        events: events.0,
        plots,
        captures,
        capture_files,
        report,
        recorders,
    })
}

/// The scenario's media feed, when a session streams media: its `[media]`,
/// or the synthetic source.
fn media_feed(scenario: &Scenario) -> Result<Option<MediaFeed>, RunError> {
    let streams = scenario
        .sessions
        .iter()
        .any(|s| crate::proto::find(s.protocol).is_some_and(|p| p.media));
    if !streams {
        return Ok(None);
    }
    let (origin, looped, decode_check) = match &scenario.media {
        Some(m) => (
            match &m.file {
                Some(path) => MediaOrigin::File(path.clone()),
                None => MediaOrigin::Synthetic(crate::proto::live::default_synthetic()),
            },
            m.looped,
            m.decode_check,
        ),
        None => (
            MediaOrigin::Synthetic(crate::proto::live::default_synthetic()),
            true,
            false,
        ),
    };
    MediaFeed::open(origin, looped, decode_check)
        .map(Some)
        .map_err(RunError::Media)
}

/// The simulated network of a scenario.
fn topology(scenario: &Scenario) -> Result<Topology, SimError> {
    let mut topology = Topology::new();
    for host in &scenario.hosts {
        topology.add_host(host)?;
    }
    for link in &scenario.links {
        topology.add_link(LinkSpec {
            a: link.server.clone(),
            b: link.client.clone(),
            a_to_b: link.down.clone(),
            b_to_a: link.up.clone(),
        })?;
    }
    Ok(topology)
}

/// One direction of a scenario link, in both vocabularies.
struct Direction<'s> {
    /// The scenario's id: `down`, `up`, `<link>.down`, ...
    id: String,
    /// The network's egress name: `"<from>-><to>"`.
    egress: String,
    /// Its settings.
    config: &'s LinkConfig,
}

/// Every link direction of `scenario`, in link order, down then up.
fn directions(scenario: &Scenario) -> impl Iterator<Item = Direction<'_>> {
    scenario.links.iter().flat_map(|l| {
        [
            Direction {
                id: l.down_id(),
                egress: format!("{}->{}", l.server, l.client),
                config: &l.down,
            },
            Direction {
                id: l.up_id(),
                egress: format!("{}->{}", l.client, l.server),
                config: &l.up,
            },
        ]
    })
}
