//! `streamsim play udp://HOST:PORT`: receives MPEG-TS over UDP from a real
//! sender (ffmpeg, VLC, a head-end, `streamsim serve`), plays it through
//! the one player and prints the QoE summary a simulated `udp-ts` session
//! reports, with the same metric names and units.
//!
//! A real sender's capture clock is unknown, so units are timed from the
//! first one's arrival (`Timeline::FirstArrival`) and the player schedules
//! from the join keyframe's arrival (`PlayoutMode::LiveFromArrival`):
//! latency reads as the target latency plus how late each frame arrived
//! against the first one, not glass-to-glass.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use serde::Serialize;

use super::{live, progress};
use crate::metrics::{EventSink, Metric, Recorder};
use crate::net::{Net, TokioNet};
use crate::player::{Player, PlayerConfig, PlayerEvent, PlayoutMode};
use crate::proto::udp_ts::core::TsReceiver;
use crate::proto::udp_ts::driver::{self, Timeline};
use crate::proto::udp_ts::qoe::QoeTally;
use crate::proto::udp_ts::METRICS;
use crate::scenario::parse_duration;

/// The session name metrics are recorded under (not printed).
const SESSION: &str = "play";

#[derive(Debug, Args)]
pub(super) struct PlayArgs {
    /// Where to receive: udp://HOST:PORT binds that address (udp://:PORT
    /// or udp://@:PORT: every local address).
    #[arg(value_name = "URL")]
    url: String,
    /// Stop after this long (e.g. 10s); without it, on Ctrl-C.
    #[arg(long, value_name = "D")]
    duration: Option<String>,
    /// Print the metrics as JSON on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// Delay the player adds after the first keyframe's arrival (e.g.
    /// 200ms), what absorbs the network's jitter.
    #[arg(long, value_name = "D", default_value = "200ms")]
    target_latency: String,
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct PlayReport {
    streamsim_version: &'static str,
    protocol: &'static str,
    url: String,
    /// Seconds from binding to the end.
    elapsed_s: f64,
    /// True when Ctrl-C (or SIGTERM) ended it.
    interrupted: bool,
    /// What latency is measured from.
    latency_from: &'static str,
    /// Measured metrics by catalog name (`frames_presented`), as in
    /// `summary.json`.
    metrics: BTreeMap<String, Metric>,
}

pub(super) fn play(args: &PlayArgs) -> Result<i32> {
    progress::catch_interrupt();
    let (host, port) = parse_url(&args.url)?;
    let stop = args
        .duration
        .as_deref()
        .map(|d| live::duration_arg("duration", d))
        .transpose()?;
    let target = parse_duration(&args.target_latency)
        .map_err(|e| anyhow!("--target-latency {}: {e}", args.target_latency))?;
    if target > Duration::from_secs(60) {
        bail!(
            "--target-latency {}: must be at most 60s",
            args.target_latency
        );
    }
    let (metrics, elapsed) = live::block_on(receive(&args.url, &host, port, stop, target))??;
    let presented = metrics.get("frames_presented").map_or(0.0, |m| m.value);
    if args.json {
        let report = PlayReport {
            streamsim_version: env!("CARGO_PKG_VERSION"),
            protocol: "udp-ts",
            url: args.url.clone(),
            elapsed_s: elapsed.as_secs_f64(),
            interrupted: progress::interrupted(),
            latency_from: "first_arrival",
            metrics,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&args.url, elapsed, &metrics);
    }
    Ok(if presented > 0.0 { 0 } else { 1 })
}

/// `udp://HOST:PORT`, `udp://@HOST:PORT` or `udp://:PORT`.
fn parse_url(url: &str) -> Result<(String, u16)> {
    let Some(rest) = url.strip_prefix("udp://") else {
        bail!("{url:?}: only udp:// URLs can be played, e.g. udp://127.0.0.1:5004");
    };
    if rest.contains(['?', '/']) {
        bail!("{url:?}: expected udp://HOST:PORT with no path or options");
    }
    live::host_port("URL", rest.trim_start_matches('@'))
}

/// Binds, plays until `stop` or Ctrl-C, and returns the metrics by catalog
/// name with the time played.
async fn receive(
    url: &str,
    host: &str,
    port: u16,
    stop: Option<Duration>,
    target: Duration,
) -> Result<(BTreeMap<String, Metric>, Duration)> {
    let net = TokioNet::new();
    let addr = live::resolve(&net, "URL", host, port).await?;
    let socket = net
        .bind_udp(addr)
        .await
        .with_context(|| format!("cannot bind {addr} to receive {url}"))?;
    eprintln!("playing {url} (Ctrl-C stops)");
    let start = net.now();
    let config = PlayerConfig {
        mode: PlayoutMode::LiveFromArrival {
            target_latency: target,
        },
        keep_presented: false,
    };
    let receiver = RefCell::new(TsReceiver::new());
    let player = RefCell::new(Player::new(config, start));
    let on_event = |e: &PlayerEvent| {
        if let PlayerEvent::Started { startup, .. } = e {
            eprintln!("first frame presented after {startup:.3?}");
        }
    };
    let timeline = Timeline::FirstArrival;
    let result = tokio::select! {
        biased;
        () = live::interrupt(&net) => Ok(()),
        () = live::deadline(&net, stop) => Ok(()),
        r = driver::play(&net, &socket, &receiver, &player, timeline, &on_event) => r,
    };
    let end = net.now();
    result.with_context(|| format!("receiving {url}"))?;
    let rec = Recorder::new(SESSION, &METRICS, EventSink::new());
    let mut tally = QoeTally::new(&rec);
    tally.add_client(
        start,
        end,
        &mut receiver.borrow_mut(),
        &mut player.borrow_mut(),
    )?;
    tally.finish()?;
    let prefix = format!("session.{SESSION}.");
    let metrics = rec
        .metrics()
        .into_iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_owned(), v)))
        .collect();
    Ok((metrics, end.saturating_sub(start)))
}

fn print_table(url: &str, elapsed: Duration, metrics: &BTreeMap<String, Metric>) {
    let state = if progress::interrupted() {
        " (stopped by Ctrl-C)"
    } else {
        ""
    };
    let secs = crate::metrics::Unit::Seconds.format(elapsed.as_secs_f64());
    println!("udp-ts from {url}: played {secs}{state}");
    println!(
        "  latency is measured from the first frame's arrival, since the sender's capture clock is unknown"
    );
    for def in METRICS.iter() {
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
