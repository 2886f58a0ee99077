//! Structured link settings: the plain data a `LinkModel` runs on.
//!
//! Invariants: probabilities and correlations are percentages in
//! `0.0..=100.0`; times are `Duration`s; `LinkConfig::default()` is an ideal
//! link (no delay, no loss, unlimited rate, unlimited queue). Nothing here
//! holds random state, so configs compare with `==`.

use std::sync::Arc;
use std::time::Duration;

use super::trace::Trace;

/// Queue limit in packets that netem applies when `limit` is not given.
pub const NETEM_DEFAULT_LIMIT: usize = 1000;

/// Shape of the jitter around the mean delay (netem's `distribution`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Distribution {
    /// Uniform in `[latency - jitter, latency + jitter)`; netem's default.
    #[default]
    Uniform,
    /// Normal with standard deviation `jitter`.
    Normal,
    /// netem's Pareto table (shape 3), scaled by `jitter`; skewed to the right.
    Pareto,
    /// netem's mix `0.25 * normal + 0.75 * pareto`, scaled by `jitter`.
    ParetoNormal,
}

impl Distribution {
    /// All distributions, in netem order.
    pub const ALL: [Distribution; 4] = [
        Distribution::Uniform,
        Distribution::Normal,
        Distribution::Pareto,
        Distribution::ParetoNormal,
    ];

    /// Returns the netem name (`"uniform"`, `"normal"`, `"pareto"`, `"paretonormal"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Distribution::Uniform => "uniform",
            Distribution::Normal => "normal",
            Distribution::Pareto => "pareto",
            Distribution::ParetoNormal => "paretonormal",
        }
    }

    /// Looks a distribution up by its netem name.
    pub fn from_name(name: &str) -> Option<Distribution> {
        Self::ALL.into_iter().find(|d| d.as_str() == name)
    }
}

/// Propagation delay with jitter (netem `delay TIME [JITTER [CORR]]`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Delay {
    /// Mean one-way delay added after the packet leaves the queue.
    pub latency: Duration,
    /// Jitter scale: half-width for uniform, standard deviation for normal.
    pub jitter: Duration,
    /// Correlation with the previous draw, in percent.
    pub correlation: f64,
    /// Shape of the jitter.
    pub distribution: Distribution,
}

/// A per-packet event probability with netem correlation (duplicate, corrupt).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Chance {
    /// Probability in percent.
    pub percent: f64,
    /// Correlation with the previous draw, in percent.
    pub correlation: f64,
}

/// Packet loss process (netem `loss ...`). All fields are percentages.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum LossModel {
    /// No loss.
    #[default]
    None,
    /// Bernoulli loss (`loss random P [CORR]`).
    Random {
        /// Loss probability.
        percent: f64,
        /// Correlation with the previous draw.
        correlation: f64,
    },
    /// Gilbert-Elliott (`loss gemodel p [r [1-h [1-k]]]`).
    GilbertElliott {
        /// Good to bad transition probability.
        p: f64,
        /// Bad to good transition probability.
        r: f64,
        /// Loss probability in the bad state.
        one_minus_h: f64,
        /// Loss probability in the good state.
        one_minus_k: f64,
    },
    /// 4-state Markov model (`loss state p13 [p31 [p32 [p23 [p14]]]]`).
    /// States: 1 good, 2 good within a burst, 3 burst loss, 4 isolated loss.
    FourState {
        /// 1 -> 3 transition probability.
        p13: f64,
        /// 3 -> 1 transition probability.
        p31: f64,
        /// 3 -> 2 transition probability.
        p32: f64,
        /// 2 -> 3 transition probability.
        p23: f64,
        /// 1 -> 4 transition probability.
        p14: f64,
    },
}

impl LossModel {
    /// Gilbert-Elliott with netem's defaults: `r = 100 - p`, `1-h = 100`, `1-k = 0`.
    pub fn gemodel(p: f64) -> LossModel {
        LossModel::GilbertElliott {
            p,
            r: 100.0 - p,
            one_minus_h: 100.0,
            one_minus_k: 0.0,
        }
    }

    /// 4-state model with netem's defaults: `p31 = 100 - p13`, `p32 = 0`, `p23 = 100`, `p14 = 0`.
    pub fn state(p13: f64) -> LossModel {
        LossModel::FourState {
            p13,
            p31: 100.0 - p13,
            p32: 0.0,
            p23: 100.0,
            p14: 0.0,
        }
    }
}

/// netem reordering (`reorder P [CORR] gap G`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reorder {
    /// Probability in percent that an eligible packet skips the delay.
    pub percent: f64,
    /// Correlation with the previous draw, in percent.
    pub correlation: f64,
    /// Packets `1..gap` after a reordered one are always delayed; 0 disables.
    pub gap: u32,
}

/// Serialization rate of the link (netem `rate RATE [OVERHEAD]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Bits per second; 0 behaves as unlimited.
    pub bits_per_sec: u64,
    /// Bytes added to (or, if negative, removed from) each packet on the wire.
    pub overhead: i32,
}

/// Drop-tail limits of the FIFO in front of the wire. `None` is unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueLimits {
    /// Packets that may wait or be in transmission (netem `limit`).
    pub packets: Option<usize>,
    /// Bytes that may wait or be in transmission (`queue_bytes`).
    pub bytes: Option<usize>,
    /// Longest wait behind the backlog before transmission starts (`queue_time`).
    pub time: Option<Duration>,
}

/// A window in which every offered packet is dropped: `start <= t < end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outage {
    /// First instant of the outage (inclusive).
    pub start: Duration,
    /// End of the outage (exclusive).
    pub end: Duration,
}

impl Outage {
    /// Tells whether `t` falls inside the window.
    pub fn contains(&self, t: Duration) -> bool {
        self.start <= t && t < self.end
    }
}

/// A change taking effect at `at` (time since scenario start).
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduledChange {
    /// When the change takes effect (applied at the first offer with `now >= at`).
    pub at: Duration,
    /// What changes.
    pub change: LinkChange,
}

/// A patch on a `LinkConfig`: each `Some` field replaces that component.
/// Outages and the schedule itself cannot be changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkChange {
    /// New delay and jitter.
    pub delay: Option<Delay>,
    /// New `no_reorder` flag.
    pub no_reorder: Option<bool>,
    /// New loss process (its state restarts in the good state).
    pub loss: Option<LossModel>,
    /// New duplication probability.
    pub duplicate: Option<Chance>,
    /// New corruption probability.
    pub corrupt: Option<Chance>,
    /// New reordering (`Some(None)` disables it).
    pub reorder: Option<Option<Reorder>>,
    /// New rate (`Some(None)` removes the limit).
    pub rate: Option<Option<Rate>>,
    /// New trace (`Some(None)` removes it); a new trace starts at the change time.
    pub trace: Option<Option<Arc<Trace>>>,
    /// New queue limits.
    pub queue: Option<QueueLimits>,
}

impl LinkChange {
    /// Builds a change that replaces every changeable component with `config`'s.
    pub fn replace_with(config: &LinkConfig) -> LinkChange {
        LinkChange {
            delay: Some(config.delay),
            no_reorder: Some(config.no_reorder),
            loss: Some(config.loss),
            duplicate: Some(config.duplicate),
            corrupt: Some(config.corrupt),
            reorder: Some(config.reorder),
            rate: Some(config.rate),
            trace: Some(config.trace.clone()),
            queue: Some(config.queue),
        }
    }

    /// Writes the `Some` fields into `config`.
    pub fn apply_to(&self, config: &mut LinkConfig) {
        set(&mut config.delay, self.delay);
        set(&mut config.no_reorder, self.no_reorder);
        set(&mut config.loss, self.loss);
        set(&mut config.duplicate, self.duplicate);
        set(&mut config.corrupt, self.corrupt);
        set(&mut config.reorder, self.reorder);
        set(&mut config.rate, self.rate);
        set(&mut config.trace, self.trace.clone());
        set(&mut config.queue, self.queue);
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// Settings of one link direction. `Default` is an ideal link.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkConfig {
    /// Propagation delay and jitter, added after the queue.
    pub delay: Delay,
    /// When true, no packet is delivered before a previously offered one.
    pub no_reorder: bool,
    /// Loss process.
    pub loss: LossModel,
    /// Duplication probability.
    pub duplicate: Chance,
    /// Single-bit corruption probability.
    pub corrupt: Chance,
    /// netem-style reordering (eligible packets skip the delay).
    pub reorder: Option<Reorder>,
    /// Serialization rate; ignored while `trace` is set.
    pub rate: Option<Rate>,
    /// Mahimahi delivery-opportunity trace; replaces `rate`.
    pub trace: Option<Arc<Trace>>,
    /// Drop-tail limits of the queue in front of the wire.
    pub queue: QueueLimits,
    /// Windows in which every offered packet is dropped.
    pub outages: Vec<Outage>,
    /// Timed changes, applied in `at` order (ties in list order).
    pub schedule: Vec<ScheduledChange>,
}

impl LinkConfig {
    /// The propagation delay without jitter.
    pub fn base_delay(&self) -> Duration {
        self.delay.latency
    }

    /// The capacity packets leave at, in bit/s: the trace's mean when a trace
    /// is set, else the rate; `None` when the link is not rate-limited.
    pub fn bottleneck_bps(&self) -> Option<u64> {
        match (&self.trace, &self.rate) {
            (Some(trace), _) => Some(trace.mean_bits_per_sec() as u64),
            (None, Some(rate)) => Some(rate.bits_per_sec),
            (None, None) => None,
        }
    }
}
