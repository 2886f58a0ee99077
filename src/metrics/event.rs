//! The event log: typed events stamped with simulated time.
//!
//! Events are appended as the run produces them and sorted (stably) by time
//! when the log is taken, so the order is deterministic: ties keep the order
//! in which the single-threaded simulation produced them. The log is capped;
//! events past the cap are counted, never silently lost.

use std::time::Duration;

use serde::Serialize;

/// The most events a log keeps (about 100–200 MB of JSON lines at most).
pub const DEFAULT_EVENT_CAP: usize = 1_000_000;

/// One event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// Simulated time since scenario start, in seconds (exact to the ns).
    #[serde(rename = "t", serialize_with = "seconds")]
    pub at: Duration,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// What happened. Serialised with a `"type"` tag in snake case.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A session's client started (first socket opened or request sent).
    SessionStart {
        /// Session name.
        session: String,
        /// Client host.
        client: String,
    },
    /// A protocol-level message or milestone of a session.
    ProtocolMessage {
        /// Session name.
        session: String,
        /// Host that sent it, or saw it happen.
        host: String,
        /// What it was (`"connected"`, `"first byte"`, `"DESCRIBE"`, ...).
        message: String,
    },
    /// A client's player presented its first frame.
    PlaybackStart {
        /// Session name.
        session: String,
        /// Client host.
        client: String,
        /// Client start → first frame, seconds.
        startup: f64,
    },
    /// A client's playback froze: a frame was due and none was presentable.
    StallStart {
        /// Session name.
        session: String,
        /// Client host.
        client: String,
    },
    /// A client's playback resumed.
    StallEnd {
        /// Session name.
        session: String,
        /// Client host.
        client: String,
        /// How long it froze, seconds.
        duration: f64,
    },
    /// A run of consecutive video frames with one fate at a client.
    Frames {
        /// Session name.
        session: String,
        /// Client host.
        client: String,
        /// `lost`, `late` or `undecodable`.
        outcome: String,
        /// Frames in the run.
        count: u64,
        /// The pts of its first frame (90 kHz for video).
        first_pts: i64,
    },
    /// A session's host failed to do its part; the session failed.
    SessionError {
        /// Session name.
        session: String,
        /// The host.
        host: String,
        /// What went wrong.
        message: String,
    },
    /// A link dropped a packet.
    PacketDrop {
        /// Link direction id (`down`, `up`, `<link>.down`, ...).
        link: String,
        /// `loss`, `queue` or `outage`.
        cause: String,
        /// IP packet length in bytes.
        bytes: u64,
    },
    /// A TCP segment was retransmitted (tshark's `tcp.analysis.retransmission`).
    Retransmission {
        /// Host that sent it.
        host: String,
        /// Flow `src -> dst` with ports.
        flow: String,
        /// `fast` (after three duplicate ACKs), `timeout` (the first of an
        /// RTO episode) or `other`.
        kind: String,
        /// Its payload had already been acknowledged.
        spurious: bool,
    },
    /// A scheduled change took effect on a link direction.
    LinkChange {
        /// Link direction id.
        link: String,
        /// The change, in netem words.
        change: String,
    },
    /// A link direction went down (outage start).
    OutageStart {
        /// Link direction id.
        link: String,
    },
    /// A link direction came back (outage end).
    OutageEnd {
        /// Link direction id.
        link: String,
    },
}

/// An append-only, capped event log.
#[derive(Clone, Debug)]
pub struct EventLog {
    events: Vec<Event>,
    cap: usize,
    dropped: u64,
}

impl Default for EventLog {
    fn default() -> Self {
        EventLog::with_cap(DEFAULT_EVENT_CAP)
    }
}

impl EventLog {
    /// A log that keeps at most `cap` events.
    pub fn with_cap(cap: usize) -> EventLog {
        EventLog {
            events: Vec::new(),
            cap,
            dropped: 0,
        }
    }

    /// Appends an event, or counts it as dropped when the log is full.
    pub fn push(&mut self, at: Duration, kind: EventKind) {
        if self.events.len() < self.cap {
            self.events.push(Event { at, kind });
        } else {
            self.dropped += 1;
        }
    }

    /// Events not kept because the log was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Events kept so far.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when no event was kept.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The events, sorted by time (stable: ties keep their order).
    pub fn into_sorted(mut self) -> (Vec<Event>, u64) {
        self.events.sort_by_key(|e| e.at);
        (self.events, self.dropped)
    }
}
