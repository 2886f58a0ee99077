//! Transport workloads in one call: a TCP bulk transfer (`tcp-bulk`) or a
//! UDP constant-bit-rate stream (`udp-cbr`) between a server and a client
//! over one link.
//!
//! They are what the simulated network is measured with (the fidelity
//! tests compare them with ns-3 and with analytic expectations) and what
//! `streamsim bench` times. Each builds a two-host [`Scenario`] and runs it
//! through [`crate::runner::run_scenario`], so there is one way to start a
//! run: these are scenarios written in code.

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::net::flows::TcpFlowStats;
use crate::net::link::{LinkConfig, LinkStats};
use crate::net::{HostTcp, TcpProfile};
use crate::proto::{OptionValue, Options, SessionSpec};
use crate::runner::{run_scenario, RunOptions, RunOutput};
use crate::scenario::{Scenario, ScenarioLink};
use crate::sim::{Progress, RunReport, SimConfig, SimError};

/// Port the bulk server listens on.
pub const BULK_PORT: u16 = 5001;
/// Port the CBR client receives on.
pub const CBR_PORT: u16 = 5004;

/// A TCP bulk transfer from `server` to `client`.
#[derive(Clone, Debug)]
pub struct BulkSpec {
    /// Simulation settings (seed, duration, capture, TCP).
    pub sim: SimConfig,
    /// The data direction, server → client.
    pub down: LinkConfig,
    /// The ACK direction, client → server.
    pub up: LinkConfig,
}

/// What a bulk transfer achieved.
#[derive(Clone, Debug)]
pub struct BulkResult {
    /// Application bytes the client read.
    pub bytes: u64,
    /// `bytes` × 8 / duration, in bit/s.
    pub goodput_bps: f64,
    /// The sender's view of the data flow (retransmissions, RTOs), at its NIC.
    pub sender_flow: TcpFlowStats,
    /// The data direction's link counters.
    pub down_link: LinkStats,
    /// The full run report (captures included when asked for).
    pub report: RunReport,
}

/// A UDP stream from `server` to `client`.
#[derive(Clone, Debug)]
pub struct CbrSpec {
    /// Simulation settings.
    pub sim: SimConfig,
    /// The stream's direction, server → client.
    pub down: LinkConfig,
    /// The reverse direction.
    pub up: LinkConfig,
    /// Stream bitrate of UDP payload, in bit/s.
    pub bitrate_bps: u64,
    /// UDP payload bytes per datagram (at least 16).
    pub payload: usize,
}

/// What the client saw.
#[derive(Clone, Debug)]
pub struct CbrResult {
    /// Datagrams the server sent.
    pub sent: u64,
    /// Datagrams the client received (duplicates excluded).
    pub received: u64,
    /// Datagrams that arrived after a later-sent one.
    pub reordered: u64,
    /// One-way delay of received datagrams, in microseconds.
    pub delay_us: Histogram<u64>,
    /// The stream direction's link counters.
    pub down_link: LinkStats,
    /// The full run report.
    pub report: RunReport,
}

impl CbrResult {
    /// Fraction of sent datagrams that never arrived.
    pub fn loss_rate(&self) -> f64 {
        if self.sent == 0 {
            return 0.0;
        }
        1.0 - self.received as f64 / self.sent as f64
    }
}

/// The TCP settings of the ns-3 comparison: the `ns3` profile (NewReno,
/// SACK recovery with PRR, 1 s minimum RTO, a delayed ACK for every second
/// segment with a 200 ms timer) with the reference's 4 MiB buffers.
pub fn ns3_tcp() -> HostTcp {
    let mut tcp = HostTcp::profile(TcpProfile::Ns3);
    tcp.conn.send_buffer = 4 << 20;
    tcp.conn.recv_buffer = 4 << 20;
    tcp
}

/// A server–client scenario of one session, in code.
fn pair_scenario(
    name: &str,
    sim: &SimConfig,
    down: &LinkConfig,
    up: &LinkConfig,
    session: SessionSpec,
) -> Scenario {
    Scenario {
        name: name.to_owned(),
        description: String::new(),
        seed: sim.seed,
        duration: sim.duration,
        tick: sim.tick,
        mtu: sim.mtu,
        tcp: sim.tcp.clone(),
        hosts: vec!["server".to_owned(), "client".to_owned()],
        links: vec![ScenarioLink {
            name: String::new(),
            server: "server".to_owned(),
            client: "client".to_owned(),
            down: down.clone(),
            up: up.clone(),
        }],
        sessions: vec![session],
        media: None,
        expect: Vec::new(),
        referenced_files: Vec::new(),
    }
}

fn run(
    scenario: &Scenario,
    sim: &SimConfig,
    on_step: impl FnMut(Progress),
) -> Result<RunOutput, SimError> {
    let options = RunOptions {
        capture: sim.capture,
        capture_drops: sim.capture_drops,
        capture_dir: None,
    };
    let output = run_scenario(scenario, "", &options, on_step, || false).map_err(|e| match e {
        crate::runner::RunError::Sim(e) => e,
        other => SimError::Run {
            message: other.to_string(),
        },
    })?;
    // A failed session is an error, never a run of zeros.
    let errors: Vec<String> = output
        .summary
        .sessions
        .iter()
        .flat_map(|(name, s)| s.errors.iter().map(move |e| format!("session {name}: {e}")))
        .collect();
    if !errors.is_empty() {
        return Err(SimError::Run {
            message: errors.join("; "),
        });
    }
    Ok(output)
}

fn count(output: &RunOutput, name: &str) -> u64 {
    output
        .summary
        .metrics
        .get(&format!("session.{name}"))
        .map_or(0, |m| m.value as u64)
}

/// Runs a bulk transfer; `on_step` sees the run's progress.
pub fn run_bulk(spec: &BulkSpec, on_step: impl FnMut(Progress)) -> Result<BulkResult, SimError> {
    let session = SessionSpec {
        name: "bulk".to_owned(),
        protocol: "tcp-bulk",
        server: "server".to_owned(),
        clients: vec!["client".to_owned()],
        start: Duration::ZERO,
        stop: None,
        port: BULK_PORT,
        options: Options::new(),
    };
    let scenario = pair_scenario("bulk", &spec.sim, &spec.down, &spec.up, session);
    let output = run(&scenario, &spec.sim, on_step)?;
    let bytes = count(&output, "bulk.bytes");
    let report = output.report;
    let sender_flow = report
        .host("server")
        .and_then(|s| s.tcp_sent().find(|(k, _)| k.src.port() == BULK_PORT))
        .map(|(_, s)| s.clone())
        .unwrap_or_default();
    let down_link = report.link("server->client").cloned().unwrap_or_default();
    Ok(BulkResult {
        bytes,
        goodput_bps: bytes as f64 * 8.0 / report.elapsed.as_secs_f64(),
        sender_flow,
        down_link,
        report,
    })
}

/// Runs a UDP stream (which stops one second before the end of runs longer
/// than two seconds); `on_step` sees the run's progress.
pub fn run_cbr(spec: &CbrSpec, on_step: impl FnMut(Progress)) -> Result<CbrResult, SimError> {
    let session = SessionSpec {
        name: "cbr".to_owned(),
        protocol: "udp-cbr",
        server: "server".to_owned(),
        clients: vec!["client".to_owned()],
        start: Duration::ZERO,
        stop: None,
        port: CBR_PORT,
        options: Options::new()
            .with("bitrate", OptionValue::Bitrate(spec.bitrate_bps))
            .with("payload", OptionValue::Size(spec.payload as u64)),
    };
    let scenario = pair_scenario("cbr", &spec.sim, &spec.down, &spec.up, session);
    let output = run(&scenario, &spec.sim, on_step)?;
    let delay_us = output
        .recorders
        .first()
        .and_then(|r| r.histogram_values("delay"))
        .unwrap_or_else(|| Histogram::new(3).expect("3 significant digits is valid"));
    Ok(CbrResult {
        sent: count(&output, "cbr.sent"),
        received: count(&output, "cbr.received"),
        reordered: count(&output, "cbr.reordered"),
        delay_us,
        down_link: output
            .report
            .link("server->client")
            .cloned()
            .unwrap_or_default(),
        report: output.report,
    })
}
