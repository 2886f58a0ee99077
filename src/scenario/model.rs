//! What a valid scenario file describes, after units are parsed, defaults
//! filled in and every reference checked. The runner needs nothing else.

use std::path::PathBuf;
use std::time::Duration;

use crate::metrics::Unit;
use crate::net::link::LinkConfig;
use crate::net::TcpConfig;

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
    pub tcp: TcpConfig,
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

/// The protocols a session can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProtocolKind {
    /// `tcp-bulk`: the server sends as fast as TCP allows.
    TcpBulk,
    /// `udp-cbr`: the server sends a constant-bit-rate UDP stream.
    UdpCbr,
}

impl ProtocolKind {
    /// Every protocol, in the order the docs list them.
    pub const ALL: [ProtocolKind; 2] = [ProtocolKind::TcpBulk, ProtocolKind::UdpCbr];

    /// The name used in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            ProtocolKind::TcpBulk => "tcp-bulk",
            ProtocolKind::UdpCbr => "udp-cbr",
        }
    }
}

/// One `[[session]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionSpec {
    /// `name` (default: the protocol name, then `-2`, `-3`, … when taken).
    pub name: String,
    /// `server` host (default `server`).
    pub server: String,
    /// Client hosts (from `clients`, a list of hosts or a count; default
    /// every host linked to the server). Each is linked to `server`.
    pub clients: Vec<String>,
    /// When the clients start (default 0s).
    pub start: Duration,
    /// When the server stops sending (default: the end of the run, or 1 s
    /// before it for `udp-cbr` so that nothing is in flight at the end).
    pub stop: Option<Duration>,
    /// Port the session uses on the server (`tcp-bulk`) or clients
    /// (`udp-cbr`); default 5001 + index (`tcp-bulk`) or 5004 + 2 × index
    /// (`udp-cbr`), index being the session's place in the file, moved up
    /// by the same step while another session uses it.
    pub port: u16,
    /// Protocol and its options.
    pub protocol: ProtocolOptions,
}

/// A session's protocol with its options.
#[derive(Clone, Debug, PartialEq)]
pub enum ProtocolOptions {
    /// `tcp-bulk`.
    TcpBulk {
        /// `bytes`: stop after this many bytes per client (default: never).
        limit: Option<u64>,
    },
    /// `udp-cbr`.
    UdpCbr {
        /// `bitrate` of UDP payload, bit/s.
        bitrate: u64,
        /// `payload` bytes per datagram (16..=65507, default 1316).
        payload: usize,
    },
}

impl ProtocolOptions {
    /// The protocol this is an option set of.
    pub fn kind(&self) -> ProtocolKind {
        match self {
            ProtocolOptions::TcpBulk { .. } => ProtocolKind::TcpBulk,
            ProtocolOptions::UdpCbr { .. } => ProtocolKind::UdpCbr,
        }
    }
}

/// `[media]`: the source that media sessions stream (filled by the media
/// protocols; validated now so a missing file fails before a run).
#[derive(Clone, Debug, PartialEq)]
pub struct MediaSpec {
    /// `file`, resolved relative to the scenario file; it exists.
    pub file: Option<PathBuf>,
    /// `loop` the file (default true).
    pub looped: bool,
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
