//! Protocols: the seam every protocol plugs into, and the registry of those
//! that exist.
//!
//! A protocol is a folder `src/proto/<name>/` and one entry in
//! [`PROTOCOLS`]. Nothing else in the program names it: the scenario reader
//! reads its options from its [`OptionDef`]s, `[expect]` and the report
//! writers find its metrics in its table, and the runner starts it through
//! [`Protocol::install`] — one code path for every protocol.
//!
//! Inside the folder, the layers are:
//!
//! * a **sans-IO core** (`core.rs` and wire types): bytes and simulated time
//!   in, bytes, events and the next deadline out. No socket, no clock, no
//!   RNG inside: time is an argument (`handle_*(now, …)`, `poll_*`), so the
//!   core is tested with hand-built inputs and no runtime;
//! * a thin **driver** (`driver.rs`), generic over [`crate::net::Net`],
//!   that moves bytes between the core and sockets and takes time only
//!   from `Net::now` / `Net::sleep_until`. The same driver runs inside the
//!   simulator (`SimNet`) and on real sockets (`TokioNet`, for
//!   `streamsim serve` / `play`);
//! * the **entry** (`mod.rs`): its [`Protocol`] value — name, options,
//!   metric table, and `install`, which adds the session's server and
//!   client apps to the simulation and hands them a
//!   [`crate::metrics::Recorder`] to record into while they run.
//!
//! ## The polling order of a core (as quinn-proto documents its own)
//!
//! After every input (`handle_*`), poll every output until it is empty:
//! `poll_transmit` (bytes to send), `poll_event` (what happened), then
//! `poll_timeout` (when to call `handle_timeout` next; `None`: never). A
//! driver is this loop and nothing more:
//!
//! ```ignore
//! loop {
//!     while let Some(datagram) = core.poll_transmit() { socket.send(&datagram).await?; }
//!     while let Some(event) = core.poll_event() { record(event); }
//!     let deadline = core.poll_timeout();
//!     tokio::select! { biased;
//!         _ = sleep_until(net, deadline) => core.handle_timeout(net.now()),
//!         n = socket.recv(&mut buf) => core.handle_input(net.now(), &buf[..n?]),
//!     }
//! }
//! ```
//!
//! ## A worked example: adding a protocol
//!
//! 1. `src/proto/foo/core.rs`: the sans-IO server and client, with tests.
//! 2. `src/proto/foo/driver.rs`: a server and a client generic over
//!    `N: Net`, moving bytes between sockets and the core — `udp_ts`'s are
//!    `serve(net, targets, source, packets, stop, sent)` and
//!    `play(net, socket, receiver, player, timeline, on_event)`.
//! 3. `src/proto/foo/mod.rs`: `pub static PROTOCOL: Protocol = Protocol {
//!    name: "foo", options: &[…], metrics: &[…], check, install, … }`.
//! 4. One line in [`PROTOCOLS`]. `[[session]] protocol = "foo"` now works,
//!    with its options validated, its metrics in the summary, its bounds in
//!    `[expect]` and its events in the log.
//! 5. Optionally, live mode: `live_serve` and `live_play` entries (see
//!    [`live_mode`]) make `streamsim serve foo` and `streamsim play foo://…`
//!    run the same drivers on real sockets, with the entry's own flags.

pub mod live;
pub mod live_mode;
pub mod options;
pub mod rtp;
pub mod rtsp;
pub mod tcp_bulk;
pub mod udp_cbr;
pub mod udp_ts;

use std::fmt;
use std::time::Duration;

pub use live::{CaptureClock, LiveSource, MediaFeed, MediaOrigin};
pub use live_mode::{LiveFlag, LivePlay, LiveServe};
pub use options::{CheckContext, OptionDef, OptionError, OptionKind, OptionValue, Options};

use crate::metrics::{MetricDef, Recorder, RecorderError};
use crate::sim::{Harness, RunReport, SimError};

/// Every protocol this version runs, in the order the docs list them.
pub static PROTOCOLS: &[&Protocol] = &[
    &udp_ts::PROTOCOL,
    &rtsp::PROTOCOL,
    &tcp_bulk::PROTOCOL,
    &udp_cbr::PROTOCOL,
];

/// The protocol called `name` in scenario files.
pub fn find(name: &str) -> Option<&'static Protocol> {
    PROTOCOLS.iter().copied().find(|p| p.name == name)
}

/// The metric table of the protocol called `name` (empty when unknown).
pub fn metric_table(name: &str) -> &'static [MetricDef] {
    find(name).map_or(&[], |p| p.metrics)
}

/// Which transport carries a session, and so which side owns its port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// TCP: the server listens on the session's port.
    Tcp,
    /// UDP pushed to the clients: each client receives on the session's port.
    UdpPush,
}

/// Adds a session's apps to the simulation; gives what closes it at the end.
pub type Install = fn(&mut Harness, SessionSetup<'_>) -> Result<Box<dyn SessionEnd>, InstallError>;

/// A protocol: everything the rest of the program knows about it.
pub struct Protocol {
    /// Its name in scenario files (`udp-ts`).
    pub name: &'static str,
    /// One line saying what it is.
    pub about: &'static str,
    /// Its transport.
    pub transport: Transport,
    /// Default port of the session at index `i` in the file: `base + step × i`
    /// (moved up by `step` while taken).
    pub port: (u16, u16),
    /// The keys its sessions may hold.
    pub options: &'static [OptionDef],
    /// Its metrics (`session.<name>.<metric>`), in report order.
    pub metrics: &'static [MetricDef],
    /// The metrics a one-line summary of a session shows, with their labels
    /// (`("goodput", "goodput")`), in order.
    pub headline: &'static [(&'static str, &'static str)],
    /// It streams the scenario's `[media]` (the synthetic source when the
    /// scenario has none).
    pub media: bool,
    /// Judges a session's options as a whole (after each key was read).
    pub check: fn(&Options, &CheckContext) -> Result<(), Vec<OptionError>>,
    /// Adds the session's apps to the simulation.
    pub install: Install,
    /// Its server on real sockets, for `streamsim serve <name>` (see
    /// [`live_mode`]); `None`: it cannot be served live.
    pub live_serve: Option<&'static LiveServe>,
    /// Its client on real sockets, for `streamsim play URL` with a URL of
    /// one of its schemes; `None`: it cannot be played live.
    pub live_play: Option<&'static LivePlay>,
}

impl fmt::Debug for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Protocol")
            .field("name", &self.name)
            .finish()
    }
}

/// One `[[session]]`: a protocol between a server and its clients.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionSpec {
    /// `name` (default: the protocol name, then `-2`, `-3`, … when taken).
    pub name: String,
    /// The protocol's name (a key of [`PROTOCOLS`]).
    pub protocol: &'static str,
    /// `server` host (default `server`).
    pub server: String,
    /// Client hosts, each linked to `server`.
    pub clients: Vec<String>,
    /// When the clients start (default 0s).
    pub start: Duration,
    /// When the server stops sending (default: the end of the run, or 1 s
    /// before it for UDP streams so that nothing is in flight at the end).
    pub stop: Option<Duration>,
    /// The session's port (see [`Transport`]).
    pub port: u16,
    /// The protocol's own options.
    pub options: Options,
}

/// What `install` gets for one session.
pub struct SessionSetup<'a> {
    /// The session.
    pub spec: &'a SessionSpec,
    /// Where it records (made with the protocol's metric table).
    pub recorder: Recorder,
    /// The scenario's media, for protocols that stream it.
    pub media: Option<&'a MediaFeed>,
    /// The run's duration.
    pub run: Duration,
    /// The interfaces' MTU, bytes.
    pub mtu: usize,
    /// The session's own random stream seed, derived from the scenario
    /// seed and the session's name (SSRCs, sequence numbers, session ids).
    pub seed: u64,
    /// Wall-clock time of simulated time zero (since the UNIX epoch), for
    /// wall-clock-looking values such as RTCP NTP times.
    pub epoch: Duration,
}

/// A session after the run: the last word on what it measured.
pub trait SessionEnd {
    /// Called once when the run ended at `end`: closes what is still open
    /// (a player's last frames, a stream's datagrams in flight) and sets the
    /// metrics only the end can tell. `report` is what the network recorded
    /// (TCP flow analysis, link counters).
    fn finish(&mut self, end: Duration, report: &RunReport);

    /// Series for the run's plots, after [`SessionEnd::finish`] (none by
    /// default; media sessions give their players' latency and buffer).
    fn plots(&self) -> SessionPlots {
        SessionPlots::default()
    }
}

/// A session's series for the run's plots, one per client.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionPlots {
    /// Glass-to-glass latency, ms (see [`crate::metrics::PlotData`]).
    pub latency_ms: Vec<crate::metrics::Series>,
    /// Playout buffer level, ms.
    pub buffer_ms: Vec<crate::metrics::Series>,
    /// Congestion window of each connection the session's server sends
    /// on, KiB (its TCP's own samples; none under the `smoltcp` profile).
    pub cwnd_kib: Vec<crate::metrics::Series>,
}

/// Why a session could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The simulation refused an app (an unknown host).
    #[error(transparent)]
    Sim(#[from] SimError),
    /// The protocol asked for a metric its table does not have.
    #[error(transparent)]
    Recorder(#[from] RecorderError),
    /// The session's media cannot be streamed.
    #[error("session {session:?}: {message}")]
    Media {
        /// The session.
        session: String,
        /// Why.
        message: String,
    },
}

/// `now` up to `at` on the host's clock, then nothing: the start of a
/// client or server that begins later than the run.
pub async fn start_at<N: crate::net::Net>(net: &N, at: Duration) {
    net.sleep_until(at).await;
}

/// IPv4 + UDP header bytes in front of a datagram's payload: what a UDP
/// protocol's payload must leave of the MTU (packets are not fragmented).
pub const UDP_IP_HEADERS: usize = 28;

/// Where a UDP stream that lasts the whole run stops sending: one second
/// before the end in runs longer than two seconds, so that every datagram
/// sent is received or lost by the end.
pub fn default_udp_stop(duration: Duration) -> Duration {
    let drain = Duration::from_secs(1);
    if duration > 2 * drain {
        duration - drain
    } else {
        duration
    }
}
