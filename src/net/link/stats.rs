//! Per-packet verdicts and cumulative link counters.
//!
//! Invariant (checked by tests): after any sequence of offers,
//! `offered + duplicated == delivered + dropped_loss + dropped_queue + dropped_outage`,
//! i.e. every copy (original or duplicate) gets exactly one verdict.

use std::time::Duration;

use hdrhistogram::Histogram;

/// Why a packet copy was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropCause {
    /// Dropped by the loss process.
    Loss,
    /// Dropped because the queue in front of the wire was full.
    Queue,
    /// Dropped because the link was in an outage window.
    Outage,
}

impl DropCause {
    /// Returns `"loss"`, `"queue"` or `"outage"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DropCause::Loss => "loss",
            DropCause::Queue => "queue",
            DropCause::Outage => "outage",
        }
    }
}

/// The fate of one packet copy, decided when it is offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The copy arrives at the far end.
    Deliver {
        /// Arrival time at the far end, since scenario start.
        at: Duration,
        /// Bit to flip (index `< packet_len * 8`), if the copy is corrupted.
        corrupt_bit: Option<usize>,
        /// True for the extra copy made by duplication.
        duplicate: bool,
    },
    /// The copy never arrives.
    Drop {
        /// Why it was dropped.
        cause: DropCause,
    },
}

impl Verdict {
    /// Returns the arrival time of a delivered copy.
    pub fn delivery_time(&self) -> Option<Duration> {
        match self {
            Verdict::Deliver { at, .. } => Some(*at),
            Verdict::Drop { .. } => None,
        }
    }
}

/// Cumulative counters of a link since it was created.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkStats {
    /// Packets offered (excluding duplicates).
    pub offered: u64,
    /// Copies delivered (including duplicates and corrupted copies).
    pub delivered: u64,
    /// Bytes of delivered copies (packet lengths, without rate overhead).
    pub delivered_bytes: u64,
    /// Copies dropped by the loss process.
    pub dropped_loss: u64,
    /// Copies dropped by a full queue.
    pub dropped_queue: u64,
    /// Packets dropped during an outage.
    pub dropped_outage: u64,
    /// Delivered copies carrying a corrupt bit.
    pub corrupted: u64,
    /// Duplicate copies created (each then gets its own verdict).
    pub duplicated: u64,
    /// Delivered copies arriving before a copy offered earlier.
    pub reordered: u64,
    /// Time from offer to leaving the queue (wait + serialization) of
    /// delivered copies, in µs, 3 significant digits.
    pub queue_delay_us: Histogram<u64>,
}

impl Default for LinkStats {
    fn default() -> Self {
        LinkStats {
            offered: 0,
            delivered: 0,
            delivered_bytes: 0,
            dropped_loss: 0,
            dropped_queue: 0,
            dropped_outage: 0,
            corrupted: 0,
            duplicated: 0,
            reordered: 0,
            queue_delay_us: Histogram::new(3).expect("3 significant digits is valid"),
        }
    }
}

impl LinkStats {
    /// Returns all drops, whatever the cause.
    pub fn dropped(&self) -> u64 {
        self.dropped_loss + self.dropped_queue + self.dropped_outage
    }

    /// Counts a dropped copy.
    pub(super) fn count_drop(&mut self, cause: DropCause) {
        match cause {
            DropCause::Loss => self.dropped_loss += 1,
            DropCause::Queue => self.dropped_queue += 1,
            DropCause::Outage => self.dropped_outage += 1,
        }
    }

    /// Records the queue sojourn of a delivered copy.
    pub(super) fn record_sojourn(&mut self, sojourn: Duration) {
        let us = u64::try_from(sojourn.as_micros()).unwrap_or(u64::MAX);
        // Auto-resizing histograms accept any value; saturate as a fallback.
        if self.queue_delay_us.record(us).is_err() {
            self.queue_delay_us.saturating_record(us);
        }
    }
}
