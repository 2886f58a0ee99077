//! The NIC's event log: what happened to individual packets, in the order
//! it happened, for event logs and plots.
//!
//! Invariants: events are appended in non-decreasing time (the NIC's calls
//! come in simulated-time order); the log holds at most its cap, and every
//! event refused past the cap is counted in [`NicEventLog::dropped`], so
//! none is lost silently and memory stays bounded.

use std::time::Duration;

use crate::net::flows::FlowKey;
use crate::net::link::DropCause;

/// Events a NIC keeps at most; later ones are only counted.
pub const NIC_EVENT_CAP: usize = 500_000;

/// One thing that happened at a NIC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NicEvent {
    /// When it happened, since scenario start.
    pub at: Duration,
    /// What happened.
    pub kind: NicEventKind,
}

/// What happened at a NIC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NicEventKind {
    /// The egress link dropped one copy of a packet; `at` is the offer time.
    Drop {
        /// The link direction's stable name, `"<from>-><to>"`.
        link: String,
        /// Why the link dropped it.
        cause: DropCause,
        /// The packet's length, in bytes.
        bytes: usize,
    },
    /// This host sent a TCP segment that flow analysis classifies as a
    /// retransmission (tshark `tcp.analysis.retransmission`); `at` is the
    /// send time. Flags as in [`crate::net::flows::SegmentClass`].
    Retransmission {
        /// The direction the segment belongs to.
        key: FlowKey,
        /// ≥ 3 duplicate ACKs for its sequence number preceded it.
        fast: bool,
        /// It starts a retransmission timeout.
        timeout: bool,
        /// Its payload had already been acknowledged.
        spurious: bool,
    },
}

/// A capped, append-only list of [`NicEvent`]s.
#[derive(Clone, Debug)]
pub struct NicEventLog {
    events: Vec<NicEvent>,
    cap: usize,
    dropped: u64,
}

impl Default for NicEventLog {
    fn default() -> Self {
        NicEventLog::with_cap(NIC_EVENT_CAP)
    }
}

impl NicEventLog {
    /// Creates an empty log keeping at most `cap` events.
    pub fn with_cap(cap: usize) -> NicEventLog {
        NicEventLog {
            events: Vec::new(),
            cap,
            dropped: 0,
        }
    }

    /// Appends an event at `at`, or counts it when the log is full.
    pub fn push(&mut self, at: Duration, kind: NicEventKind) {
        if self.events.len() < self.cap {
            self.events.push(NicEvent { at, kind });
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    /// The events kept, oldest first.
    pub fn events(&self) -> &[NicEvent] {
        &self.events
    }

    /// Events refused because the log was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_log_counts_what_it_refuses() {
        let mut log = NicEventLog::with_cap(2);
        for ms in 0..5 {
            log.push(
                Duration::from_millis(ms),
                NicEventKind::Drop {
                    link: "a->b".into(),
                    cause: DropCause::Loss,
                    bytes: 100,
                },
            );
        }
        assert_eq!(log.events().len(), 2);
        assert_eq!(log.events()[1].at, Duration::from_millis(1));
        assert_eq!(log.dropped(), 3);
    }
}
