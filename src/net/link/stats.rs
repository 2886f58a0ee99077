//! Per-packet verdicts, cumulative link counters, and the per-link series
//! plots are drawn from (one-way delay histogram, time-binned throughput and
//! backlog).
//!
//! Invariants (checked by tests): after any sequence of offers,
//! `offered + duplicated` equals `delivered + dropped_loss + dropped_queue +
//! dropped_outage + in_queue_at_end + in_flight_at_end`, i.e. every copy (original or
//! duplicate) gets exactly one verdict; `delay_us.len() == delivered`; and
//! while `unbinned == 0`, the bins of `delivered_bytes_bins` sum to
//! `delivered_bytes`. Series never grow past [`STATS_HORIZON`] of simulated
//! time, whatever time a caller passes in.
//!
//! Two views exist: [`LinkModel::stats`](super::LinkModel::stats) counts
//! every copy as delivered once its verdict is given (its arrival may still
//! be ahead), while [`LinkModel::stats_at`](super::LinkModel::stats_at)
//! counts only copies that arrived by a given time, and the rest as
//! `in_queue_at_end` or `in_flight_at_end`: what a run reports.

use std::time::Duration;

use hdrhistogram::Histogram;

/// Width of one bin of the time series in [`LinkStats`].
pub const STATS_BIN: Duration = Duration::from_millis(100);

/// Simulated time beyond which samples are left out of the time series
/// (and counted in [`LinkStats::unbinned`]): 24 hours, so a bogus far-future
/// time cannot make a series allocate without bound.
pub const STATS_HORIZON: Duration = Duration::from_secs(24 * 3600);

/// Largest value `delay_us` holds: 24 hours in µs; larger delays saturate.
const MAX_DELAY_US: u64 = 86_400_000_000;

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
    /// Copies still waiting for or in transmission at the end
    /// ([`LinkModel::stats_at`](super::LinkModel::stats_at) only).
    pub in_queue_at_end: u64,
    /// Copies on the wire (sent, not yet arrived) at the end
    /// ([`LinkModel::stats_at`](super::LinkModel::stats_at) only).
    pub in_flight_at_end: u64,
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
    /// One-way delay (arrival − offer time) of delivered copies, in µs,
    /// 3 significant digits; delays beyond 24 h count as 24 h.
    pub delay_us: Histogram<u64>,
    /// Bytes of delivered copies per [`STATS_BIN`] of arrival time: index
    /// `i` covers `[i × STATS_BIN, (i + 1) × STATS_BIN)`.
    pub delivered_bytes_bins: Vec<u64>,
    /// The largest backlog in bytes (waiting for or in transmission) seen
    /// per [`STATS_BIN`] of offer time, sampled at every offer once its
    /// copies are admitted or dropped. A bin without offers reads 0.
    pub queue_bytes_bins: Vec<u64>,
    /// Samples (delivered copies or backlog samples) at or beyond
    /// [`STATS_HORIZON`], left out of the two series above.
    pub unbinned: u64,
}

impl Default for LinkStats {
    fn default() -> Self {
        LinkStats {
            offered: 0,
            delivered: 0,
            in_queue_at_end: 0,
            in_flight_at_end: 0,
            delivered_bytes: 0,
            dropped_loss: 0,
            dropped_queue: 0,
            dropped_outage: 0,
            corrupted: 0,
            duplicated: 0,
            reordered: 0,
            queue_delay_us: Histogram::new(3).expect("3 significant digits is valid"),
            delay_us: Histogram::new_with_bounds(1, MAX_DELAY_US, 3)
                .expect("1 µs to 24 h at 3 significant digits is valid"),
            delivered_bytes_bins: Vec::new(),
            queue_bytes_bins: Vec::new(),
            unbinned: 0,
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

    /// Records a copy of `len` bytes offered at `offered` and delivered at
    /// `at`: its one-way delay and its bytes in the arrival-time series.
    pub(super) fn record_delivery(&mut self, offered: Duration, at: Duration, len: usize) {
        self.delivered += 1;
        self.delivered_bytes += len as u64;
        let us = u64::try_from(at.saturating_sub(offered).as_micros()).unwrap_or(u64::MAX);
        // A bounded histogram refuses values past its top: clamp them there.
        self.delay_us.saturating_record(us.min(MAX_DELAY_US));
        match bin_index(at) {
            Some(i) => *grow_to(&mut self.delivered_bytes_bins, i) += len as u64,
            None => self.unbinned += 1,
        }
    }

    /// Samples the backlog (`bytes` waiting or in transmission) at `now`.
    pub(super) fn record_backlog(&mut self, now: Duration, bytes: usize) {
        match bin_index(now) {
            Some(i) => {
                let bin = grow_to(&mut self.queue_bytes_bins, i);
                *bin = (*bin).max(bytes as u64);
            }
            None => self.unbinned += 1,
        }
    }
}

/// The series index of time `t`, or `None` at or beyond the horizon.
fn bin_index(t: Duration) -> Option<usize> {
    if t >= STATS_HORIZON {
        return None;
    }
    // Below the horizon the quotient is under 864 000: it fits any usize.
    usize::try_from(t.as_nanos() / STATS_BIN.as_nanos()).ok()
}

/// Returns bin `i` of `bins`, growing the series with zeros to reach it.
fn grow_to(bins: &mut Vec<u64>, i: usize) -> &mut u64 {
    if bins.len() <= i {
        bins.resize(i + 1, 0);
    }
    &mut bins[i]
}
