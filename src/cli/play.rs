//! `streamsim play URL`: plays a live stream from a real server or sender
//! through the simulator's player and prints the QoE summary a simulated
//! session of that protocol reports, with the same metric names and units.
//! The protocol is the one whose live entry ([`crate::proto::LivePlay`])
//! plays the URL's scheme; this file reads the shared arguments and
//! prints what it measured.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{anyhow, Result};
use clap::Args;
use serde::Serialize;

use super::{live, progress};
use crate::metrics::{Metric, MetricDef};
use crate::proto::live_mode::{PlayOutcome, PlayRequest};
use crate::proto::{LivePlay, Options, Protocol};

#[derive(Debug, Args)]
pub(super) struct PlayArgs {
    /// What to play: udp://HOST:PORT binds that address (udp://:PORT or
    /// udp://@:PORT: every local address).
    #[arg(value_name = "URL")]
    url: String,
    /// Stop after this long (e.g. 10s); without it, on Ctrl-C.
    #[arg(long, value_name = "D")]
    duration: Option<String>,
    /// Print the metrics as JSON on stdout instead of the table.
    #[arg(long)]
    json: bool,
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct PlayReport {
    streamsim_version: &'static str,
    protocol: &'static str,
    url: String,
    /// Seconds from the start of playing to the end.
    elapsed_s: f64,
    /// True when Ctrl-C (or SIGTERM) ended it.
    interrupted: bool,
    /// What latency is measured from.
    latency_from: &'static str,
    /// Measured metrics by catalog name (`frames_presented`), as in
    /// `summary.json`.
    metrics: BTreeMap<String, Metric>,
}

/// The protocol whose live player plays `url`'s scheme.
fn player_of(url: &str) -> Result<(&'static Protocol, &'static LivePlay)> {
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    crate::proto::PROTOCOLS
        .iter()
        .find_map(|p| {
            let entry = p.live_play?;
            let s = scheme.as_deref()?;
            entry.schemes.contains(&s).then_some((*p, entry))
        })
        .ok_or_else(|| {
            anyhow!(
                "{url:?}: no protocol plays this URL; these can be played: {}",
                live::playable()
            )
        })
}

pub(super) fn play(args: &PlayArgs, flags: &Options) -> Result<i32> {
    let (protocol, entry) = player_of(&args.url)?;
    if let Some(name) = flags
        .keys()
        .find(|name| !entry.flags.iter().any(|f| f.name == *name))
    {
        return Err(anyhow!(
            "--{name} is not an option of `play` for {} URLs",
            entry.schemes.join(", ")
        ));
    }
    progress::catch_interrupt();
    let stop = args
        .duration
        .as_deref()
        .map(|d| live::duration_arg("duration", d))
        .transpose()?;
    let request = PlayRequest {
        url: &args.url,
        stop,
        flags,
        interrupted: progress::interrupted,
    };
    let outcome = live::block_on((entry.run)(&request))??;
    let presented = outcome
        .metrics
        .get("frames_presented")
        .map_or(0.0, |m| m.value);
    if args.json {
        let report = PlayReport {
            streamsim_version: env!("CARGO_PKG_VERSION"),
            protocol: protocol.name,
            url: args.url.clone(),
            elapsed_s: outcome.elapsed.as_secs_f64(),
            interrupted: progress::interrupted(),
            latency_from: outcome.latency_from,
            metrics: outcome.metrics,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(protocol, &args.url, &outcome);
    }
    Ok(if presented > 0.0 { 0 } else { 1 })
}

fn print_table(protocol: &Protocol, url: &str, outcome: &PlayOutcome) {
    let state = if progress::interrupted() {
        " (stopped by Ctrl-C)"
    } else {
        ""
    };
    let elapsed: Duration = outcome.elapsed;
    let secs = crate::metrics::Unit::Seconds.format(elapsed.as_secs_f64());
    println!("{} from {url}: played {secs}{state}", protocol.name);
    for note in &outcome.notes {
        println!("  {note}");
    }
    let metrics = &outcome.metrics;
    let table: &[MetricDef] = protocol.metrics;
    for def in table {
        let value = metrics
            .get(def.name)
            .map_or_else(|| "–".to_owned(), |m| m.unit.format(m.value));
        println!("  {:<20} {value:>14}  {}", def.name, def.meaning);
    }
    let count = |name: &str| metrics.get(name).map_or(0.0, |m| m.value);
    let presented = count("frames_presented");
    let due = presented + count("frames_late") + count("frames_lost") + count("frames_undecodable");
    if due > 0.0 {
        println!(
            "  {:.1}% of {due:.0} frames presented (presented / presented + late + lost + undecodable)",
            presented * 100.0 / due
        );
    } else {
        println!("  no frame was due: nothing playable arrived");
    }
}
