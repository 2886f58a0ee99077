//! What a valid scenario file describes, after units are parsed, defaults
//! filled in and every reference checked. The runner needs nothing else.

use std::path::PathBuf;
use std::time::Duration;

use crate::metrics::Unit;
use crate::net::link::LinkConfig;
use crate::net::HostTcp;

/// A validated scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// `name`: letters, digits, `-`, `_`, `.`; used in report paths.
    pub name: String,
    /// `description` (may be empty).
    pub description: String,
    /// `seed` (default 1).
    pub seed: u64,
    /// `duration` of simulated time.
    pub duration: Duration,
    /// `tick`: turmoil's step, a whole number of milliseconds (default 1ms).
    pub tick: Duration,
    /// `[network] mtu` in bytes (default 1500).
    pub mtu: usize,
    /// `[tcp]`: settings of every host's TCP; buffers of 0 mean "derive
    /// from the path".
    pub tcp: HostTcp,
    /// Host names, in declaration order (default `server`, `client`).
    pub hosts: Vec<String>,
    /// Links, in declaration order.
    pub links: Vec<ScenarioLink>,
    /// Sessions, in file order.
    pub sessions: Vec<SessionSpec>,
    /// `[media]`, when given.
    pub media: Option<MediaSpec>,
    /// `[expect]` bounds, in file order.
    pub expect: Vec<Expectation>,
    /// Files the scenario references (traces, media), resolved relative to
    /// the scenario file, in the order referenced; all exist.
    pub referenced_files: Vec<PathBuf>,
}

/// One link between two hosts.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioLink {
    /// The link's name; empty for the implicit link of a one-client
    /// scenario, whose directions are then called `down` and `up`.
    pub name: String,
    /// The server-side end (`down` leaves it).
    pub server: String,
    /// The client-side end (`up` leaves it).
    pub client: String,
    /// The direction server → client, schedule and outages included.
    pub down: LinkConfig,
    /// The direction client → server.
    pub up: LinkConfig,
}

impl ScenarioLink {
    /// The metric id of the down direction: `down` or `<name>.down`.
    pub fn down_id(&self) -> String {
        direction_id(&self.name, "down")
    }

    /// The metric id of the up direction: `up` or `<name>.up`.
    pub fn up_id(&self) -> String {
        direction_id(&self.name, "up")
    }
}

fn direction_id(name: &str, dir: &str) -> String {
    if name.is_empty() {
        dir.to_owned()
    } else {
        format!("{name}.{dir}")
    }
}

pub use crate::proto::SessionSpec;

/// `[media]`: the source that media sessions stream.
#[derive(Clone, Debug, PartialEq)]
pub struct MediaSpec {
    /// `file`, resolved relative to the scenario file; it exists. Without
    /// it, media sessions stream the synthetic source.
    pub file: Option<PathBuf>,
    /// `loop` the file (default true).
    pub looped: bool,
    /// `decode_check`: run the real decoder over what players present and
    /// report decode errors and PSNR (default false).
    pub decode_check: bool,
}

/// A comparison in a bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `>=`
    AtLeast,
    /// `>`
    Above,
    /// `<=`
    AtMost,
    /// `<`
    Below,
    /// `==`
    Equal,
}

impl Comparison {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::AtLeast => ">=",
            Comparison::Above => ">",
            Comparison::AtMost => "<=",
            Comparison::Below => "<",
            Comparison::Equal => "==",
        }
    }

    /// Tells whether `actual <op> bound` holds. NaN never holds.
    pub fn holds(self, actual: f64, bound: f64) -> bool {
        match self {
            Comparison::AtLeast => actual >= bound,
            Comparison::Above => actual > bound,
            Comparison::AtMost => actual <= bound,
            Comparison::Below => actual < bound,
            Comparison::Equal => actual == bound,
        }
    }
}

/// One `[expect]` entry: `"<metric>" = "<op> <value>"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// The metric name, checked against the catalog.
    pub metric: String,
    /// The metric's unit; `value` is in its base.
    pub unit: Unit,
    /// The comparison.
    pub comparison: Comparison,
    /// The bound, in the metric's base unit.
    pub value: f64,
    /// The bound as written (`">= 1.2mbit"`).
    pub text: String,
    /// Where it is written: `file:line:column`.
    pub location: String,
}
