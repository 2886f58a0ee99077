//! The summary of one run: every metric as a flat, named, unit-tagged value,
//! plus what the scenario expected of them.
//!
//! Invariants: metric names are `session.<name>.<metric>` or
//! `link.<id>.<metric>` (see [`super::catalog`]); maps are `BTreeMap`s and
//! floats print with serde_json's shortest round-trip form, so the same run
//! serialises to the same bytes. [`SCHEMA_VERSION`] changes whenever a field
//! is renamed, removed or changes meaning.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the `summary.json` layout.
pub const SCHEMA_VERSION: u32 = 2;

/// The unit a metric's value is in. Values are stored in the base unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Unit {
    /// Bits per second.
    #[serde(rename = "bit/s")]
    BitsPerSecond,
    /// Seconds.
    #[serde(rename = "s")]
    Seconds,
    /// Bytes.
    #[serde(rename = "B")]
    Bytes,
    /// A fraction in `0.0..=1.0` (shown as a percentage).
    #[serde(rename = "ratio")]
    Ratio,
    /// A plain count of things (packets, events, frames).
    #[serde(rename = "count")]
    Count,
    /// Decibels (PSNR).
    #[serde(rename = "dB")]
    Decibels,
}

impl Unit {
    /// Returns the unit as written in `summary.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::BitsPerSecond => "bit/s",
            Unit::Seconds => "s",
            Unit::Bytes => "B",
            Unit::Ratio => "ratio",
            Unit::Count => "count",
            Unit::Decibels => "dB",
        }
    }

    /// Formats `value` (in this unit's base) for a person: `1.234 Mbit/s`,
    /// `26.15 ms`, `64.0 KiB`, `0.92%`, `1234`.
    pub fn format(self, value: f64) -> String {
        if !value.is_finite() {
            return format!("{value}");
        }
        match self {
            Unit::BitsPerSecond => scaled(value, 1000.0, &["bit/s", "kbit/s", "Mbit/s", "Gbit/s"]),
            Unit::Bytes => scaled(value, 1024.0, &["B", "KiB", "MiB", "GiB"]),
            Unit::Seconds => {
                let abs = value.abs();
                if abs == 0.0 {
                    "0 s".to_owned()
                } else if abs < 1e-3 {
                    format!("{:.0} µs", value * 1e6)
                } else if abs < 1.0 {
                    format!("{:.2} ms", value * 1e3)
                } else {
                    format!("{value:.3} s")
                }
            }
            Unit::Ratio => format!("{:.3}%", value * 100.0),
            Unit::Decibels => format!("{value:.2} dB"),
            Unit::Count => {
                if value.fract() == 0.0 && value.abs() < 1e15 {
                    format!("{value:.0}")
                } else {
                    format!("{value:.3}")
                }
            }
        }
    }
}

fn scaled(value: f64, step: f64, names: &[&str]) -> String {
    let mut v = value;
    let mut i = 0;
    while v.abs() >= step && i + 1 < names.len() {
        v /= step;
        i += 1;
    }
    if i == 0 {
        format!("{v:.0} {}", names[0])
    } else {
        format!("{v:.3} {}", names[i])
    }
}

/// One measured value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// The value, in `unit`'s base.
    pub value: f64,
    /// Its unit.
    pub unit: Unit,
}

/// What the summary says about the scenario it ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    /// The scenario's `name`.
    pub name: String,
    /// The scenario's `description`.
    pub description: String,
    /// SHA-256 of the scenario file's bytes followed by those of every file
    /// it references (traces, media), in the order referenced; hex.
    pub sha256: String,
}

/// How one `[expect]` bound fared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExpectationOutcome {
    /// The metric name, as written.
    pub metric: String,
    /// The bound, as written (`">= 1.2mbit"`).
    pub bound: String,
    /// The measured value, in the metric's base unit (absent when the run
    /// ended before the metric could be measured).
    pub actual: Option<f64>,
    /// The metric's unit.
    pub unit: Unit,
    /// True when the bound holds.
    pub pass: bool,
}

/// One session of the run: what it ran, between which hosts, and whether
/// it failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The protocol's name (`udp-ts`), which names its metric table.
    pub protocol: String,
    /// The server host.
    pub server: String,
    /// The client hosts.
    pub clients: Vec<String>,
    /// What failed (`host: message`), in order; empty when nothing did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Counts of the event log (see [`super::EventLog`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventCounts {
    /// Events written to `events.jsonl`.
    pub logged: u64,
    /// Events not kept because the log reached its cap.
    pub dropped: u64,
}

/// Everything `summary.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The streamsim version that ran the scenario.
    pub streamsim_version: String,
    /// The scenario.
    pub scenario: ScenarioInfo,
    /// The seed the run used.
    pub seed: u64,
    /// Simulated seconds the scenario asked for.
    pub duration_s: f64,
    /// Simulated seconds the run covered (less when interrupted).
    pub elapsed_s: f64,
    /// False when the run was interrupted before its duration.
    pub complete: bool,
    /// Every session, by name.
    #[serde(default)]
    pub sessions: BTreeMap<String, SessionInfo>,
    /// Every metric, by name.
    pub metrics: BTreeMap<String, Metric>,
    /// The scenario's `[expect]` bounds, in file order.
    pub expectations: Vec<ExpectationOutcome>,
    /// The event log's counts.
    pub events: EventCounts,
}

impl Summary {
    /// True when every expectation holds and no session failed.
    pub fn passed(&self) -> bool {
        self.expectations.iter().all(|e| e.pass)
            && self.sessions.values().all(|s| s.errors.is_empty())
    }
}
