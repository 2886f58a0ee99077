//! # streamsim
//!
//! A deterministic network-level stream simulator and testbench: real
//! protocol implementations over a simulated network with loss, jitter,
//! bandwidth limits and outages, measured with one set of metrics.
//!
//! ## The one picture
//!
//! ```text
//!  app (server) ──► Net (SimNet) ──► smoltcp stack ──► Nic egress: link model ═╗
//!                                                                              ║ turmoil UDP frames,
//!  app (client) ◄── Net (SimNet) ◄── smoltcp stack ◄── Nic ingress: hold until ◄╝ stamped with delivery time
//! ```
//!
//! * [`sim`]: the turmoil harness. One host per node (each running any
//!   number of apps), pinned epoch, seeded named RNG streams, a run loop
//!   that reports progress and can be stopped early.
//! * [`net`]: the link model (tc-netem and Mahimahi features, sans-IO), the
//!   NIC, the smoltcp TCP/IP stack driven by simulated time, pcap capture,
//!   flow analysis, and the [`net::Net`] trait with a simulated and a live
//!   (`tokio::net`) implementation.
//! * [`scenario`]: scenario files: the TOML schema, units (`"40ms"`,
//!   `"5mbit"`, `"64KiB"`, `"1%"`), and validation that reports every error
//!   with file, line and column before a run starts.
//! * [`proto`]: the protocols (UDP/TS, TCP bulk, UDP CBR, …), each a sans-IO
//!   core and a driver over [`net::Net`], plugged in through one registry.
//! * [`metrics`]: the catalog, the per-session recorder, the event log, the
//!   summary and its writers.
//! * [`runner`]: one way to run a scenario: build the network, install each
//!   session through its protocol, run, summarise.
//! * [`workload`]: transport scenarios in one call (TCP bulk, UDP constant
//!   bit rate), used by the fidelity tests and the benchmark.
//! * [`player`]: the one player model every protocol hands its access
//!   units to (sans-IO): live or buffered playout, the decode chain, and
//!   the QoE accounting (startup, latency, stalls, frame outcomes, series).
//! * [`rng`]: SplitMix64, the one random generator of every simulation
//!   stream, written out here so no dependency update changes a result.
//! * [`cli`]: the command line: `run`, `validate` and `check` for scenario
//!   files, and live mode (`serve`, `play`), which runs a protocol's driver
//!   and the player over real sockets ([`net::TokioNet`]) in real time.
//!
//! ## Determinism
//!
//! Simulated time is the only clock; every random stream is seeded from the
//! scenario seed and a stable name ([`sim::seed::derive_seed`]) and drawn
//! from [`rng::SplitMix64`]; anything
//! iterated into output is ordered; `tokio::select!` is `biased;`. Same
//! scenario and seed ⇒ byte-identical counters and captures.
//!
//! ## A run, end to end
//!
//! ```
//! use std::time::Duration;
//! use streamsim::net::link::LinkConfig;
//! use streamsim::sim::SimConfig;
//! use streamsim::workload::{run_bulk, BulkSpec};
//!
//! let down: LinkConfig = "delay 10ms rate 5mbit limit 50".parse().unwrap();
//! let up: LinkConfig = "delay 10ms".parse().unwrap();
//! let sim = SimConfig { seed: 7, duration: Duration::from_secs(10), ..SimConfig::default() };
//! let result = run_bulk(&BulkSpec { sim, down, up }, |_progress| {}).unwrap();
//! // Over ten seconds, slow start included, TCP fills most of the link.
//! assert!(result.goodput_bps > 3.5e6 && result.goodput_bps < 5e6, "{}", result.goodput_bps);
//! ```

pub mod cli;
pub mod media;
pub mod metrics;
pub mod net;
pub mod player;
pub mod proto;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod sim;
pub mod workload;
