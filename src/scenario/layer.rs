//! Link settings as written in one place (`[network]`, `[network.down]`, a
//! `[[link]]`, `[link.up]`, a `[[schedule]]` entry): a [`Layer`] of optional
//! settings, merged from the general to the specific into a `LinkConfig`.
//!
//! Invariants: a layer's `netem` string is expanded into the same fields as
//! the keys, and the keys of the same table override it; `rate` and `trace`
//! are one capacity setting, so the most specific one wins; a table given
//! for `loss`, `duplicate`, `corrupt`, `reorder` or `queue` replaces the
//! whole setting (its omitted fields take netem's defaults).

use std::sync::Arc;
use std::time::Duration;

mod forms;

use toml::de::DeValue;

use super::files::Files;
use super::reader::{
    bitrate, boolean, choice, duration, integer, percent, string, At, Ctx, Item, Table,
};
use crate::net::link::{
    Chance, Delay, Distribution, LinkChange, LinkConfig, LossModel, Outage, QueueLimits, Rate,
    Reorder, Trace, NETEM_DEFAULT_LIMIT,
};
use forms::{chance, loss, queue, reorder};

/// How fast a link direction carries packets.
#[derive(Clone, Debug)]
pub(crate) enum Capacity {
    /// No limit.
    Unlimited,
    /// A fixed rate in bit/s.
    Rate(u64),
    /// A Mahimahi trace.
    Trace(Arc<Trace>),
}

/// Link settings written in one place; `None` leaves a setting to the
/// layers below.
#[derive(Clone, Debug, Default)]
pub(crate) struct Layer {
    /// `delay`: mean one-way delay.
    pub delay: Option<Duration>,
    /// `jitter`.
    pub jitter: Option<Duration>,
    /// `jitter_correlation`, percent.
    pub jitter_correlation: Option<f64>,
    /// `distribution` of the jitter.
    pub distribution: Option<Distribution>,
    /// `no_reorder`.
    pub no_reorder: Option<bool>,
    /// `loss`.
    pub loss: Option<LossModel>,
    /// `duplicate`.
    pub duplicate: Option<Chance>,
    /// `corrupt`.
    pub corrupt: Option<Chance>,
    /// `reorder` (`Some(None)`: `"off"`).
    pub reorder: Option<Option<Reorder>>,
    /// `rate` or `trace`.
    pub capacity: Option<Capacity>,
    /// `rate_overhead`, bytes per packet; applies wherever a rate is set.
    pub overhead: Option<i32>,
    /// `queue`.
    pub queue: Option<QueueLimits>,
    /// Outages of a `netem` string; they add up across layers.
    pub outages: Vec<Outage>,
}

fn over<T: Clone>(slot: &mut Option<T>, value: &Option<T>) {
    if value.is_some() {
        slot.clone_from(value);
    }
}

impl Layer {
    /// Lays `top` over `self`: every setting `top` gives wins; outages add up.
    pub fn merge(&mut self, top: &Layer) {
        over(&mut self.delay, &top.delay);
        over(&mut self.jitter, &top.jitter);
        over(&mut self.jitter_correlation, &top.jitter_correlation);
        over(&mut self.distribution, &top.distribution);
        over(&mut self.no_reorder, &top.no_reorder);
        over(&mut self.loss, &top.loss);
        over(&mut self.duplicate, &top.duplicate);
        over(&mut self.corrupt, &top.corrupt);
        over(&mut self.reorder, &top.reorder);
        over(&mut self.capacity, &top.capacity);
        over(&mut self.overhead, &top.overhead);
        over(&mut self.queue, &top.queue);
        self.outages.extend_from_slice(&top.outages);
    }

    /// The settings of a link direction with this layer on top of a LAN
    /// link ([`DEFAULT_RATE`], no delay, no loss) with netem's default
    /// queue. Outages are sorted by start.
    pub fn to_config(&self) -> LinkConfig {
        let capacity = self
            .capacity
            .clone()
            .unwrap_or(Capacity::Rate(DEFAULT_RATE));
        let (rate, trace) = match &capacity {
            Capacity::Unlimited => (None, None),
            Capacity::Rate(bits) => (
                Some(Rate {
                    bits_per_sec: *bits,
                    overhead: self.overhead.unwrap_or(0),
                }),
                None,
            ),
            Capacity::Trace(trace) => (None, Some(trace.clone())),
        };
        let mut outages = self.outages.clone();
        outages.sort_by_key(|o| o.start);
        LinkConfig {
            delay: Delay {
                latency: self.delay.unwrap_or_default(),
                jitter: self.jitter.unwrap_or_default(),
                correlation: self.jitter_correlation.unwrap_or(0.0),
                distribution: self.distribution.unwrap_or_default(),
            },
            no_reorder: self.no_reorder.unwrap_or(false),
            loss: self.loss.unwrap_or_default(),
            duplicate: self.duplicate.unwrap_or_default(),
            corrupt: self.corrupt.unwrap_or_default(),
            reorder: self.reorder.flatten(),
            rate,
            trace,
            queue: self.queue.unwrap_or(default_queue()),
            outages,
            schedule: Vec::new(),
        }
    }

    /// The change that moves a link from `below` to `below` + `self`:
    /// only the settings `self` gives.
    pub fn change_from(&self, below: &Layer) -> LinkChange {
        let mut after = below.clone();
        after.merge(self);
        let config = after.to_config();
        let delay_set = self.delay.is_some()
            || self.jitter.is_some()
            || self.jitter_correlation.is_some()
            || self.distribution.is_some();
        let rate_set = self.capacity.is_some() || self.overhead.is_some();
        LinkChange {
            delay: delay_set.then_some(config.delay),
            no_reorder: self.no_reorder,
            loss: self.loss,
            duplicate: self.duplicate,
            corrupt: self.corrupt,
            reorder: self.reorder,
            rate: rate_set.then_some(config.rate),
            trace: self.capacity.is_some().then(|| config.trace.clone()),
            queue: self.queue,
        }
    }
}

/// The rate of a link whose `rate` is not set: 100 Mbit/s, a LAN. A link
/// without any limit (`rate = "unlimited"`) carries whatever its senders
/// offer, and the simulation pays for every packet of it: a TCP download
/// then reaches tens of Gbit/s and a 10 s run takes minutes.
pub const DEFAULT_RATE: u64 = 100_000_000;

fn default_queue() -> QueueLimits {
    QueueLimits {
        packets: Some(NETEM_DEFAULT_LIMIT),
        ..QueueLimits::default()
    }
}

/// Every key a layer reads besides `netem`, in the order the docs list them.
pub(crate) const CHANGEABLE: [&str; 13] = [
    "delay",
    "jitter",
    "jitter_correlation",
    "distribution",
    "no_reorder",
    "loss",
    "duplicate",
    "corrupt",
    "reorder",
    "rate",
    "rate_overhead",
    "queue",
    "trace",
];

/// Reads the link settings of `t`; `netem` is read when `with_netem`.
pub(crate) fn read(cx: &mut Ctx, t: &mut Table, files: &mut Files, with_netem: bool) -> Layer {
    let mut layer = if with_netem {
        t.read(cx, "netem", netem)
            .map(|n| n.value)
            .unwrap_or_default()
    } else {
        Layer::default()
    };
    let place = t.place().to_owned();
    set(&mut layer.delay, t.read(cx, "delay", duration));
    set(&mut layer.jitter, t.read(cx, "jitter", duration));
    set(
        &mut layer.jitter_correlation,
        t.read(cx, "jitter_correlation", percent),
    );
    let names = Distribution::ALL.map(Distribution::as_str);
    let dist = t.read(cx, "distribution", |cx, it| {
        choice(cx, it, "distribution", &names).and_then(Distribution::from_name)
    });
    set(&mut layer.distribution, dist);
    set(&mut layer.no_reorder, t.read(cx, "no_reorder", boolean));
    set(
        &mut layer.loss,
        t.read(cx, "loss", |cx, it| loss(cx, it, &place)),
    );
    set(
        &mut layer.duplicate,
        t.read(cx, "duplicate", |cx, it| chance(cx, it, &place)),
    );
    set(
        &mut layer.corrupt,
        t.read(cx, "corrupt", |cx, it| chance(cx, it, &place)),
    );
    set(
        &mut layer.reorder,
        t.read(cx, "reorder", |cx, it| reorder(cx, it, &place)),
    );
    let rate = t.read(cx, "rate", capacity);
    let overhead = t.read(cx, "rate_overhead", |cx, it| {
        let n = integer(cx, it, i128::MIN, i128::MAX)?;
        overhead(cx, it.span, n)
    });
    set(&mut layer.overhead, overhead);
    set(
        &mut layer.queue,
        t.read(cx, "queue", |cx, it| queue(cx, it, &place)),
    );
    let trace = t.get("trace").map(|it| (it, files.trace(cx, it)));
    if let (Some(_), Some((item, _))) = (&rate, &trace) {
        cx.error(
            item.key_span,
            "`rate` and `trace` both set the capacity; keep one (a trace replaces the rate)",
        );
    }
    set(&mut layer.capacity, rate);
    if let Some((_, Some(trace))) = trace {
        layer.capacity = Some(Capacity::Trace(trace));
    }
    layer
}

/// The largest `rate_overhead`: more framing per packet than any link
/// layer adds (Ethernet adds 38 bytes, PPPoE over ATM about 100).
pub(crate) const MAX_OVERHEAD: i128 = 1000;

/// The largest queue in packets: more than any router buffers (a 10 Gbit/s
/// link with 100 ms of buffer holds about 83,000 full-size packets), and
/// every queued packet is held in memory.
pub(crate) const MAX_QUEUE_PACKETS: usize = 100_000;

/// The largest queue in bytes (256 MiB), for the same reasons.
pub(crate) const MAX_QUEUE_BYTES: usize = 256 << 20;

/// `rate_overhead`: bytes added to each packet on the wire.
fn overhead(cx: &mut Ctx, span: super::diag::Span, n: i128) -> Option<i32> {
    if (0..=MAX_OVERHEAD).contains(&n) {
        return Some(n as i32);
    }
    let why = if n < 0 {
        "a negative overhead would let the link carry more than its rate"
    } else {
        "more than any link layer's framing (Ethernet adds 38)"
    };
    cx.error(
        span,
        format!("`rate_overhead` must be between 0 and {MAX_OVERHEAD} bytes per packet, found {n}: {why}"),
    );
    None
}

/// Checks the queue limit of a `netem` string like the `queue` key's.
fn netem_queue(cx: &mut Ctx, span: super::diag::Span, queue: &QueueLimits) -> bool {
    match queue.packets {
        Some(n) if n > MAX_QUEUE_PACKETS => {
            cx.error(span, forms::too_many_packets(n as u128));
            false
        }
        _ => true,
    }
}

fn set<T>(slot: &mut Option<T>, value: Option<At<T>>) {
    if let Some(v) = value {
        *slot = Some(v.value);
    }
}

/// `rate`: a bitrate or `"unlimited"`.
fn capacity(cx: &mut Ctx, item: Item) -> Option<Capacity> {
    match item.value {
        DeValue::String(s) if s.as_ref() == "unlimited" => Some(Capacity::Unlimited),
        _ => bitrate(cx, item).map(Capacity::Rate),
    }
}

/// `netem`: a tc-netem string, expanded into layer fields.
fn netem(cx: &mut Ctx, item: Item) -> Option<Layer> {
    let text = string(cx, item)?;
    let config: LinkConfig = match text.parse() {
        Ok(config) => config,
        Err(e) => {
            cx.error(item.span, format!("invalid netem string: {e}"));
            return None;
        }
    };
    // `LinkChange` tells which parts the string mentions; it rejects
    // outages, which `config` already holds.
    let mut words = Vec::new();
    let mut iter = text.split_whitespace();
    while let Some(word) = iter.next() {
        if word == "outage" {
            iter.next();
            iter.next();
        } else {
            words.push(word);
        }
    }
    let change: LinkChange = match words.join(" ").parse() {
        Ok(change) => change,
        Err(e) => {
            cx.error(item.span, format!("invalid netem string: {e}"));
            return None;
        }
    };
    if let Some(r) = change.rate.flatten() {
        overhead(cx, item.span, r.overhead.into())?;
    }
    if let Some(q) = &change.queue {
        if !netem_queue(cx, item.span, q) {
            return None;
        }
    }
    let delay = change.delay;
    let rate = change
        .rate
        .map(|r| r.map_or(Capacity::Unlimited, |r| Capacity::Rate(r.bits_per_sec)));
    Some(Layer {
        delay: delay.map(|d| d.latency),
        jitter: delay.map(|d| d.jitter),
        jitter_correlation: delay.map(|d| d.correlation),
        distribution: delay.map(|d| d.distribution),
        no_reorder: change.no_reorder,
        loss: change.loss,
        duplicate: change.duplicate,
        corrupt: change.corrupt,
        reorder: change.reorder,
        overhead: change.rate.flatten().map(|r| r.overhead),
        capacity: rate,
        queue: change.queue,
        outages: config.outages,
    })
}
