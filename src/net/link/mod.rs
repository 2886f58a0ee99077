//! One direction of a network link, modelled sans-IO and deterministically
//! after Linux tc-netem (delay, jitter, loss, duplication, corruption,
//! reordering, rate) and Mahimahi (trace-driven capacity).
//!
//! The sending NIC calls [`LinkModel::offer`] for every outgoing packet; the
//! model decides at once whether each copy is dropped (and why) or when it
//! arrives at the far end: `arrival = departure + delay`, where `departure`
//! comes from a drop-tail FIFO drained at the configured rate or trace, and
//! `delay` is the propagation delay plus jitter. [`LinkStats`] keeps the
//! counters, the one-way delay histogram and the [`STATS_BIN`]-wide series
//! of delivered bytes and backlog that plots are drawn from.
//!
//! Invariants: time is only what callers pass in (`Duration` since scenario
//! start, non-decreasing across calls); all randomness comes from one
//! [`crate::rng::SplitMix64`] seeded with the caller's `u64`, so equal
//! seeds and inputs give equal verdicts, in every version of every
//! dependency; the module depends only on std, `crate::rng`, `hdrhistogram`
//! and `thiserror`.
//!
//! Semantics chosen where netem or Mahimahi leave room:
//! - The default jitter distribution is uniform in `[-jitter, +jitter)`
//!   (what the kernel does without a table, despite the man page's "Normal").
//! - Queueing comes before the propagation delay (Mahimahi order); netem's
//!   overlap of delay and rate is not reproduced.
//! - The queue holds only packets waiting for or in transmission, so
//!   `limit` never counts packets in propagation.
//! - A reordered packet (netem `reorder`) skips delay and jitter but still
//!   passes through the rate/trace queue.
//! - Trace opportunities carry 1500 bytes shared byte-wise among packets in
//!   FIFO order; capacity finding the queue empty is lost; an opportunity
//!   at the very arrival instant is already spent (Mahimahi).

mod config;
mod display;
mod error;
mod loss;
mod model;
mod netem;
mod queue;
mod random;
mod stats;
mod trace;
mod units;

#[cfg(test)]
mod tests;

pub use self::config::{
    Chance, Delay, Distribution, LinkChange, LinkConfig, LossModel, Outage, QueueLimits, Rate,
    Reorder, ScheduledChange, NETEM_DEFAULT_LIMIT,
};
pub use self::error::LinkError;
pub use self::model::LinkModel;
pub use self::netem::KEYWORDS;
pub use self::stats::{DropCause, LinkStats, Verdict, STATS_BIN, STATS_HORIZON};
pub use self::trace::{Trace, TRACE_OPPORTUNITY_BYTES};
pub(crate) use self::units::edit_distance;
