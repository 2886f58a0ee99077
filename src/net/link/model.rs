//! `LinkModel`: the sans-IO, deterministic state machine of one link
//! direction. Every fate is decided when a packet is offered.
//!
//! Invariants: all randomness comes from one [`SplitMix64`] seeded by the caller,
//! drawn in a fixed order (duplicate, loss, corrupt, reorder, delay); no
//! clock is read; scheduled changes apply in order at the first offer with
//! `now >= at`; callers offer packets with non-decreasing `now`. Copies not
//! arrived yet are kept (their times and length, not their bytes) until an
//! offer at or after their arrival, so the model holds at most what is
//! queued or on the wire.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use crate::rng::SplitMix64;

use super::config::{LinkChange, LinkConfig, ScheduledChange};
use super::loss::LossState;
use super::queue::{serialization, Backlog, TraceCursor};
use super::random::{sample_delay, Correlated};
use super::stats::{DropCause, LinkStats, Verdict};

/// Deterministic model of one direction of a link (netem + Mahimahi).
#[derive(Clone, Debug)]
pub struct LinkModel {
    config: LinkConfig,
    schedule: Vec<ScheduledChange>,
    next_change: usize,
    rng: SplitMix64,
    delay_corr: Correlated,
    loss: LossState,
    dup_corr: Correlated,
    corrupt_corr: Correlated,
    reorder_corr: Correlated,
    reorder_counter: u32,
    backlog: Backlog,
    cursor: TraceCursor,
    latest_delivery: Option<Duration>,
    stats: LinkStats,
    /// Deliveries of copies that arrived by the latest offer.
    arrived: LinkStats,
    /// Copies with a delivery verdict that have not arrived yet, earliest
    /// arrival first (ties in offer order).
    pending: BinaryHeap<Reverse<Pending>>,
    /// Copies given a delivery verdict so far: orders ties in `pending`.
    sent_copies: u64,
    /// Deliveries `stats` counted in `unbinned`.
    unbinned_deliveries: u64,
}

/// A delivered copy on its way: in the queue or on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Pending {
    at: Duration,
    order: u64,
    offered: Duration,
    departure: Duration,
    len: usize,
    corrupt: bool,
}

impl Pending {
    /// Records this copy's arrival into `stats`.
    fn record(&self, stats: &mut LinkStats) {
        stats.record_sojourn(self.departure - self.offered);
        stats.record_delivery(self.offered, self.at, self.len);
        stats.corrupted += u64::from(self.corrupt);
    }
}

impl LinkModel {
    /// Creates a link in state `config`, drawing randomness from `seed` only.
    pub fn new(config: LinkConfig, seed: u64) -> LinkModel {
        let mut schedule = config.schedule.clone();
        schedule.sort_by_key(|c| c.at);
        LinkModel {
            delay_corr: Correlated::new(config.delay.correlation),
            loss: LossState::new(&config.loss),
            dup_corr: Correlated::new(config.duplicate.correlation),
            corrupt_corr: Correlated::new(config.corrupt.correlation),
            reorder_corr: Correlated::new(config.reorder.map_or(0.0, |r| r.correlation)),
            reorder_counter: 0,
            backlog: Backlog::default(),
            cursor: TraceCursor::new(Duration::ZERO),
            latest_delivery: None,
            stats: LinkStats::default(),
            arrived: LinkStats::default(),
            pending: BinaryHeap::new(),
            sent_copies: 0,
            unbinned_deliveries: 0,
            rng: SplitMix64::new(seed),
            schedule,
            next_change: 0,
            config,
        }
    }

    /// Returns the counters accumulated so far, every copy given a
    /// delivery verdict counted as delivered (its arrival may be ahead).
    pub fn stats(&self) -> &LinkStats {
        &self.stats
    }

    /// Returns the counters as they stand at `end` (at or after the latest
    /// offer): a copy counts as delivered, with its delay, sojourn and
    /// bytes, only when it arrived by `end`; the others are counted in
    /// `in_queue_at_end` (not yet departed) or `in_flight_at_end`.
    pub fn stats_at(&self, end: Duration) -> LinkStats {
        let mut arrived = self.arrived.clone();
        let mut in_queue = 0;
        let mut in_flight = 0;
        for Reverse(p) in &self.pending {
            if p.at <= end {
                p.record(&mut arrived);
            } else if p.departure > end {
                in_queue += 1;
            } else {
                in_flight += 1;
            }
        }
        LinkStats {
            delivered: arrived.delivered,
            in_queue_at_end: in_queue,
            in_flight_at_end: in_flight,
            delivered_bytes: arrived.delivered_bytes,
            corrupted: arrived.corrupted,
            queue_delay_us: arrived.queue_delay_us,
            delay_us: arrived.delay_us,
            delivered_bytes_bins: arrived.delivered_bytes_bins,
            // Backlog samples beyond the horizon, and deliveries that arrived.
            unbinned: self.stats.unbinned - self.unbinned_deliveries + arrived.unbinned,
            ..self.stats.clone()
        }
    }

    /// Records every pending copy that arrived by `now`.
    fn settle(&mut self, now: Duration) {
        while let Some(Reverse(p)) = self.pending.peek() {
            if p.at > now {
                break;
            }
            p.record(&mut self.arrived);
            self.pending.pop();
        }
    }

    /// Returns the config in force after the changes applied so far.
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// Returns (packets, bytes) waiting for or in transmission at `now`.
    pub fn queue_len(&self, now: Duration) -> (usize, usize) {
        self.backlog.occupancy(now)
    }

    /// Offers one packet of `packet_len` bytes at `now` (since scenario
    /// start) and pushes one verdict per copy into `out`: one, or two when
    /// duplicated (the second concerns the duplicate).
    pub fn offer(&mut self, now: Duration, packet_len: usize, out: &mut Vec<Verdict>) {
        self.apply_due_changes(now);
        self.settle(now);
        self.stats.offered += 1;
        self.decide(now, packet_len, out);
        let (_, backlog) = self.backlog.occupancy(now);
        self.stats.record_backlog(now, backlog);
    }

    /// Decides the fate of the packet and of its duplicate, if any.
    fn decide(&mut self, now: Duration, packet_len: usize, out: &mut Vec<Verdict>) {
        if self.config.outages.iter().any(|o| o.contains(now)) {
            self.drop_copy(DropCause::Outage, out);
            return;
        }
        let duplicate = self
            .dup_corr
            .fires(self.config.duplicate.percent, &mut self.rng);
        let lost = self.loss.lose(&mut self.rng);
        match (duplicate, lost) {
            (false, true) => self.drop_copy(DropCause::Loss, out),
            // As in netem, a loss coinciding with a duplication cancels the copy.
            (true, true) | (false, false) => self.send_copy(now, packet_len, false, out),
            (true, false) => {
                self.send_copy(now, packet_len, false, out);
                self.stats.duplicated += 1;
                // netem re-enqueues the clone, so it meets the loss process again.
                if self.loss.lose(&mut self.rng) {
                    self.drop_copy(DropCause::Loss, out);
                } else {
                    self.send_copy(now, packet_len, true, out);
                }
            }
        }
    }

    fn drop_copy(&mut self, cause: DropCause, out: &mut Vec<Verdict>) {
        self.stats.count_drop(cause);
        out.push(Verdict::Drop { cause });
    }

    /// Runs corruption, queue admission, reordering and delay for one copy.
    fn send_copy(&mut self, now: Duration, len: usize, duplicate: bool, out: &mut Vec<Verdict>) {
        let corrupt = self
            .corrupt_corr
            .fires(self.config.corrupt.percent, &mut self.rng);
        let corrupt_bit =
            (corrupt && len > 0).then(|| self.rng.below(len.saturating_mul(8) as u64) as usize);
        self.backlog.drain(now);
        if !self.backlog.admits(now, len, &self.config.queue) {
            self.drop_copy(DropCause::Queue, out);
            return;
        }
        let immediate = self.reorder_now();
        let delay = if immediate {
            Duration::ZERO
        } else {
            sample_delay(&self.config.delay, &mut self.delay_corr, &mut self.rng)
        };
        let departure = self.depart(now, len);
        let at = self.arrival(departure.saturating_add(delay));
        let pending = Pending {
            at,
            order: self.sent_copies,
            offered: now,
            departure,
            len,
            corrupt: corrupt_bit.is_some(),
        };
        self.sent_copies += 1;
        let unbinned = self.stats.unbinned;
        pending.record(&mut self.stats);
        self.unbinned_deliveries += self.stats.unbinned - unbinned;
        self.pending.push(Reverse(pending));
        out.push(Verdict::Deliver {
            at,
            corrupt_bit,
            duplicate,
        });
    }

    /// netem's reorder rule: after `gap - 1` delayed packets, each packet
    /// skips the delay with the reorder probability, restarting the count.
    fn reorder_now(&mut self) -> bool {
        let chosen = match self.config.reorder {
            Some(r) if r.gap > 0 && self.reorder_counter >= r.gap - 1 => {
                self.reorder_corr.fires(r.percent, &mut self.rng)
            }
            _ => false,
        };
        self.reorder_counter = if chosen {
            0
        } else {
            self.reorder_counter.saturating_add(1)
        };
        chosen
    }

    /// Computes when the copy leaves the queue and records it in the backlog.
    fn depart(&mut self, now: Duration, len: usize) -> Duration {
        let tail = self.backlog.tail().map_or(now, |t| t.max(now));
        let departure = if let Some(trace) = &self.config.trace {
            self.cursor.departure(trace, now, tail, len)
        } else if let Some(rate) = self.config.rate.filter(|r| r.bits_per_sec > 0) {
            tail.saturating_add(serialization(&rate, len))
        } else if tail > now {
            tail // unshaped, but still FIFO behind a backlog left by an earlier rate
        } else {
            return now;
        };
        self.backlog.push(departure, len);
        departure
    }

    /// Applies `no_reorder` and counts reordering against earlier copies.
    fn arrival(&mut self, at: Duration) -> Duration {
        let latest = self.latest_delivery.unwrap_or(Duration::ZERO);
        let at = if self.config.no_reorder {
            at.max(latest)
        } else {
            at
        };
        if at < latest {
            self.stats.reordered += 1;
        }
        self.latest_delivery = Some(latest.max(at));
        at
    }

    /// Applies every scheduled change whose time has come, in order.
    fn apply_due_changes(&mut self, now: Duration) {
        while let Some(next) = self.schedule.get(self.next_change) {
            if next.at > now {
                break;
            }
            let (at, change) = (next.at, next.change.clone());
            self.apply_change(at, &change);
            self.next_change += 1;
        }
    }

    /// Installs `change`, restarting the random state of changed components.
    fn apply_change(&mut self, at: Duration, change: &LinkChange) {
        change.apply_to(&mut self.config);
        let c = &self.config;
        if change.delay.is_some() {
            self.delay_corr = Correlated::new(c.delay.correlation);
        }
        if change.loss.is_some() {
            self.loss = LossState::new(&c.loss);
        }
        if change.duplicate.is_some() {
            self.dup_corr = Correlated::new(c.duplicate.correlation);
        }
        if change.corrupt.is_some() {
            self.corrupt_corr = Correlated::new(c.corrupt.correlation);
        }
        if change.reorder.is_some() {
            self.reorder_corr = Correlated::new(c.reorder.map_or(0.0, |r| r.correlation));
            self.reorder_counter = 0;
        }
        if change.trace.is_some() {
            self.cursor = TraceCursor::new(at);
        }
    }
}
