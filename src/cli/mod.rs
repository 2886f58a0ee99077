//! The command line: `run`, `validate` and `check` for scenario files,
//! `serve` and `play` for live mode on real sockets, plus `demo` and
//! `bench`.
//!
//! This is the edge of the program: it parses arguments, runs library code,
//! prints results and maps outcomes to exit codes (0 success, 1 a bound or
//! comparison failed, 2 invalid input or an error, 130 interrupted). It is
//! also the only place that reads the wall clock, to report how fast the
//! simulation runs, and the only place that handles Ctrl-C.

mod check;
mod console;
mod demo;
mod live;
mod play;
mod progress;
mod run;
mod serve;

use std::path::PathBuf;

use anyhow::Result;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Deterministic network-level stream simulator and testbench.
#[derive(Debug, Parser)]
#[command(name = "streamsim", version, about, long_about = None)]
#[command(after_help = "Examples:
  streamsim run scenarios/tcp-loss-ladder.toml
  streamsim run scenarios/udp-bursty-loss.toml --seed 7 --pcap --out /tmp/run
  streamsim validate scenarios/*.toml
  streamsim check scenarios/ --junit reports/junit.xml
  streamsim check scenarios/ --baseline reports/baseline --tolerance 2
  streamsim serve udp-ts --to 127.0.0.1:5004 --media fixtures/clip.mp4
  streamsim play udp://127.0.0.1:5004 --duration 30s
  streamsim demo
  streamsim bench")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one scenario and write its report (summary.json, summary.md,
    /// events.jsonl, SVG plots, and capture.pcap with --pcap).
    #[command(after_help = "Examples:
  streamsim run scenarios/tcp-loss-ladder.toml
  streamsim run scenarios/outage-recovery.toml --duration 20s --headless
  streamsim run scenarios/udp-bursty-loss.toml --json > summary.json

Exit status: 0 when every [expect] bound holds, 1 when one fails, 2 when the
scenario is invalid or the run fails, 130 when interrupted (the report is
still written, marked incomplete).")]
    Run(run::RunArgs),
    /// Check scenario files without running them; print every error.
    #[command(after_help = "Examples:
  streamsim validate scenarios/tcp-loss-ladder.toml
  streamsim validate scenarios/*.toml

Exit status: 0 when every file is valid, 2 otherwise.")]
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run scenarios (files, or every .toml under a directory) and judge
    /// their [expect] bounds, optionally against a baseline.
    #[command(after_help = "Examples:
  streamsim check scenarios/
  streamsim check scenarios/ --junit reports/junit.xml
  streamsim check scenarios/ --out reports/baseline        # record a baseline
  streamsim check scenarios/ --baseline reports/baseline --tolerance 2

Exit status: 0 when every bound holds (and no metric moved beyond the
tolerance), 1 when one does not, 2 when a scenario is invalid or cannot run.")]
    Check(check::CheckArgs),
    /// Serve a live stream to real players in real time (live mode): the
    /// simulator's source and a protocol's driver over the operating
    /// system's sockets.
    #[command(after_help = "Examples:
  streamsim serve udp-ts --to 127.0.0.1:5004
  streamsim serve udp-ts --to 127.0.0.1:5004 --media fixtures/clip.mp4 --loop --duration 1min
  ffplay -fflags nobuffer 'udp://127.0.0.1:5004'      # in another terminal

Exit status: 0 when the stream was sent (also when stopped with Ctrl-C),
2 when an argument is invalid or sending fails.")]
    Serve(serve::ServeArgs),
    /// Receive a live stream from a real sender, play it through the
    /// simulator's player and print its QoE summary (live mode).
    #[command(after_help = "Examples:
  streamsim play udp://127.0.0.1:5004 --duration 30s
  streamsim play udp://:5004 --json > qoe.json
  ffmpeg -re -i fixtures/clip.mp4 -c copy -f mpegts 'udp://127.0.0.1:5004?pkt_size=1316'

Exit status: 0 when frames were presented (also when stopped with Ctrl-C),
1 when none was, 2 when an argument is invalid or receiving fails.")]
    Play(play::PlayArgs),
    /// Run the transport demo: a TCP bulk transfer and a UDP stream over a
    /// lossy 10 Mbit/s link, and print what they achieved.
    Demo {
        /// Scenario seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Simulated seconds each transfer lasts.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Write pcapng captures of every host into this directory.
        #[arg(long)]
        pcap: Option<PathBuf>,
    },
    /// Measure simulated seconds per wall-clock second for the reference
    /// workloads (TCP bulk at 0% and 1% loss, a 5 Mbit/s UDP stream), and
    /// the decode check's frames per second.
    Bench {
        /// Simulated seconds per workload.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
}

/// Runs the command line; returns the process exit code.
pub fn main() -> Result<i32> {
    // Each protocol's live flags join `serve` and `play` here.
    let matches = live::with_live_flags(Cli::command()).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let flags = match matches.subcommand() {
        Some((_, m)) => live::given_flags(m)?,
        None => crate::proto::Options::new(),
    };
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Validate { files } => Ok(run::validate(&files)),
        Command::Check(args) => check::check(&args),
        Command::Serve(args) => serve::serve(&args, &flags),
        Command::Play(args) => play::play(&args, &flags),
        Command::Demo {
            seed,
            seconds,
            pcap,
        } => demo::demo(seed, seconds, pcap),
        Command::Bench { seconds } => demo::bench(seconds),
    }
}
