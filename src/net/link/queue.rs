//! The FIFO in front of the wire: drop-tail admission and departure times
//! under a fixed rate or a Mahimahi trace.
//!
//! Invariants: departure times pushed into a `Backlog` never decrease, so a
//! packet is "in the queue" at `now` exactly when its departure is later
//! than `now`; a `TraceCursor` never hands out an opportunity at or before
//! the arrival time, nor bytes of an opportunity twice.

use std::collections::VecDeque;
use std::time::Duration;

use super::config::{QueueLimits, Rate};
use super::trace::{Trace, TRACE_OPPORTUNITY_BYTES};

/// Packets accepted into the queue, as (departure time, size in bytes).
#[derive(Clone, Debug, Default)]
pub(super) struct Backlog {
    entries: VecDeque<(Duration, usize)>,
    bytes: usize,
}

impl Backlog {
    /// Forgets packets that left the queue at or before `now`.
    pub(super) fn drain(&mut self, now: Duration) {
        while let Some(&(departure, size)) = self.entries.front() {
            if departure > now {
                break;
            }
            self.bytes -= size;
            self.entries.pop_front();
        }
    }

    /// Returns (packets, bytes) still queued at `now`, without mutating.
    pub(super) fn occupancy(&self, now: Duration) -> (usize, usize) {
        let gone = self.entries.partition_point(|&(d, _)| d <= now);
        let gone_bytes: usize = self.entries.iter().take(gone).map(|&(_, s)| s).sum();
        (self.entries.len() - gone, self.bytes - gone_bytes)
    }

    /// Returns the departure time of the last queued packet.
    pub(super) fn tail(&self) -> Option<Duration> {
        self.entries.back().map(|&(d, _)| d)
    }

    /// Tells whether a packet of `len` bytes fits at `now` (call `drain` first).
    pub(super) fn admits(&self, now: Duration, len: usize, limits: &QueueLimits) -> bool {
        let packets_ok = limits.packets.is_none_or(|max| self.entries.len() < max);
        let bytes_ok = limits
            .bytes
            .is_none_or(|max| self.bytes.saturating_add(len) <= max);
        let wait = self
            .tail()
            .map_or(Duration::ZERO, |t| t.saturating_sub(now));
        let time_ok = limits.time.is_none_or(|max| wait <= max);
        packets_ok && bytes_ok && time_ok
    }

    /// Appends a packet leaving at `departure` (never before the current tail).
    pub(super) fn push(&mut self, departure: Duration, size: usize) {
        debug_assert!(self.tail().is_none_or(|t| t <= departure));
        self.entries.push_back((departure, size));
        self.bytes += size;
    }
}

/// Time to put `len` bytes plus the per-packet overhead on the wire, rounded
/// up to the nanosecond. Zero when the rate is zero (unlimited).
pub(super) fn serialization(rate: &Rate, len: usize) -> Duration {
    if rate.bits_per_sec == 0 {
        return Duration::ZERO;
    }
    let wire = (len as i128 + i128::from(rate.overhead)).max(0) as u128;
    let bps = u128::from(rate.bits_per_sec);
    let ns = (wire * 8 * 1_000_000_000).div_ceil(bps);
    Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
}

/// Position in a trace: the opportunity being filled and its unused bytes.
#[derive(Clone, Debug)]
pub(super) struct TraceCursor {
    origin: Duration,
    current: Option<(u64, usize)>,
}

impl TraceCursor {
    /// Starts a trace whose time zero is `origin` (since scenario start).
    pub(super) fn new(origin: Duration) -> TraceCursor {
        TraceCursor {
            origin,
            current: None,
        }
    }

    /// Absolute time of global opportunity `g`.
    fn time_of(&self, trace: &Trace, g: u64) -> Duration {
        self.origin.saturating_add(trace.time_of(g))
    }

    /// First opportunity strictly after `now` and at or after `not_before`.
    fn first_usable(&self, trace: &Trace, now: Duration, not_before: Duration) -> u64 {
        let bound = now.max(not_before.saturating_sub(Duration::from_nanos(1)));
        trace.first_after(bound.saturating_sub(self.origin))
    }

    /// Schedules `len` bytes arriving at `now` behind a backlog ending at
    /// `not_before`; returns the time of the opportunity carrying the last
    /// byte. Packets share and span opportunities byte by byte; capacity
    /// of an opportunity that finds the queue empty is lost (Mahimahi).
    pub(super) fn departure(
        &mut self,
        trace: &Trace,
        now: Duration,
        not_before: Duration,
        len: usize,
    ) -> Duration {
        let (mut g, mut left) = match self.current {
            Some((g, left)) if self.time_of(trace, g) > now && left > 0 => (g, left),
            Some((g, _)) if self.time_of(trace, g) > now => (g + 1, TRACE_OPPORTUNITY_BYTES),
            _ => (
                self.first_usable(trace, now, not_before),
                TRACE_OPPORTUNITY_BYTES,
            ),
        };
        let mut rest = len;
        while rest > left {
            rest -= left;
            g += 1;
            left = TRACE_OPPORTUNITY_BYTES;
        }
        self.current = Some((g, left - rest));
        self.time_of(trace, g)
    }
}
