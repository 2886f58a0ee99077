//! The forms a link setting's value takes: a percentage or a table for
//! `loss`, `duplicate`, `corrupt` and `reorder`, `"unlimited"` or a table
//! for `queue`. Each table is checked for unknown keys like any other.
//!
//! Invariants: omitted parameters take netem's defaults (Gilbert-Elliott
//! `r = 100% - p`, bad-state loss 100 %, good-state 0 %; 4-state `p31 =
//! 100% - p13`, `p23 = 100%`, the rest 0; reorder gap 1; queue 1000
//! packets, no byte or time limit); every percentage is within 0–100 %.

use std::time::Duration;

use toml::de::DeValue;

use crate::net::link::{Chance, LossModel, QueueLimits, Reorder, NETEM_DEFAULT_LIMIT};
use crate::scenario::reader::{
    choice, duration, expected, integer, percent, size, Ctx, Item, Table,
};

/// A table value of key `item`, read with `place` naming it.
fn sub<'t, 'i>(cx: &mut Ctx, item: Item<'t, 'i>, place: &str) -> Option<Table<'t, 'i>> {
    Table::of(cx, item, format!("in the `{}` table {place}", item.key))
}

/// `key` of `t` as a percentage, or `default` when absent.
fn percent_or(cx: &mut Ctx, t: &mut Table, key: &'static str, default: f64) -> Option<f64> {
    match t.get(key) {
        Some(it) => percent(cx, it),
        None => Some(default),
    }
}

/// `key` of `t` as a percentage; an error when absent.
fn percent_required(cx: &mut Ctx, t: &mut Table, key: &'static str) -> Option<f64> {
    t.required(cx, key).and_then(|it| percent(cx, it))
}

/// `loss`: a percentage (Bernoulli) or a table with a `model` (default
/// `"random"`) and that model's parameters.
pub(super) fn loss(cx: &mut Ctx, item: Item, place: &str) -> Option<LossModel> {
    if !matches!(item.value, DeValue::Table(_)) {
        return percent(cx, item).map(|percent| LossModel::Random {
            percent,
            correlation: 0.0,
        });
    }
    let mut t = sub(cx, item, place)?;
    let model = match t.get("model") {
        Some(m) => choice(
            cx,
            m,
            "loss model",
            &["random", "gilbert-elliott", "4-state"],
        ),
        None => Some("random"),
    };
    let result = match model {
        Some("random") => random_loss(cx, &mut t),
        Some("gilbert-elliott") => gilbert_elliott(cx, &mut t),
        Some(_) => four_state(cx, &mut t),
        None => {
            // The model is unknown, so its parameters cannot be checked.
            t.rest();
            None
        }
    };
    t.finish(cx);
    result
}

fn random_loss(cx: &mut Ctx, t: &mut Table) -> Option<LossModel> {
    let percent = percent_required(cx, t, "rate");
    let correlation = percent_or(cx, t, "correlation", 0.0);
    Some(LossModel::Random {
        percent: percent?,
        correlation: correlation?,
    })
}

/// Defaults as netem's `gemodel`: `r = 100% - p`, bad 100 %, good 0 %.
fn gilbert_elliott(cx: &mut Ctx, t: &mut Table) -> Option<LossModel> {
    let p = percent_required(cx, t, "p");
    let r = percent_or(cx, t, "r", 100.0 - p.unwrap_or(0.0));
    let bad = percent_or(cx, t, "bad_loss", 100.0);
    let good = percent_or(cx, t, "good_loss", 0.0);
    Some(LossModel::GilbertElliott {
        p: p?,
        r: r?,
        one_minus_h: bad?,
        one_minus_k: good?,
    })
}

/// Defaults as netem's `state`: `p31 = 100% - p13`, `p32 = 0`, `p23 = 100%`, `p14 = 0`.
fn four_state(cx: &mut Ctx, t: &mut Table) -> Option<LossModel> {
    let p13 = percent_required(cx, t, "p13");
    let p31 = percent_or(cx, t, "p31", 100.0 - p13.unwrap_or(0.0));
    let p32 = percent_or(cx, t, "p32", 0.0);
    let p23 = percent_or(cx, t, "p23", 100.0);
    let p14 = percent_or(cx, t, "p14", 0.0);
    Some(LossModel::FourState {
        p13: p13?,
        p31: p31?,
        p32: p32?,
        p23: p23?,
        p14: p14?,
    })
}

/// `duplicate`, `corrupt`: a percentage or `{ rate, correlation }`.
pub(super) fn chance(cx: &mut Ctx, item: Item, place: &str) -> Option<Chance> {
    if !matches!(item.value, DeValue::Table(_)) {
        return percent(cx, item).map(|percent| Chance {
            percent,
            correlation: 0.0,
        });
    }
    let mut t = sub(cx, item, place)?;
    let percent = percent_required(cx, &mut t, "rate");
    let correlation = percent_or(cx, &mut t, "correlation", 0.0);
    t.finish(cx);
    Some(Chance {
        percent: percent?,
        correlation: correlation?,
    })
}

/// `reorder`: `"off"`, a percentage, or `{ rate, correlation, gap }`
/// (gap 1 when omitted, as tc sets it).
pub(super) fn reorder(cx: &mut Ctx, item: Item, place: &str) -> Option<Option<Reorder>> {
    match item.value {
        DeValue::String(s) if s.as_ref() == "off" => return Some(None),
        DeValue::Table(_) => {}
        _ => {
            return percent(cx, item).map(|percent| {
                Some(Reorder {
                    percent,
                    correlation: 0.0,
                    gap: 1,
                })
            })
        }
    }
    let mut t = sub(cx, item, place)?;
    let percent = percent_required(cx, &mut t, "rate");
    let correlation = percent_or(cx, &mut t, "correlation", 0.0);
    let gap = match t.get("gap") {
        Some(it) => integer(cx, it, 0, u32::MAX.into()).map(|g| g as u32),
        None => Some(1),
    };
    t.finish(cx);
    Some(Some(Reorder {
        percent: percent?,
        correlation: correlation?,
        gap: gap?,
    }))
}

/// `queue`: `"unlimited"` or `{ packets, bytes, time }`; packets default to
/// netem's 1000 (`"unlimited"` lifts it), bytes and time to no limit.
pub(super) fn queue(cx: &mut Ctx, item: Item, place: &str) -> Option<QueueLimits> {
    match item.value {
        DeValue::String(s) if s.as_ref() == "unlimited" => return Some(QueueLimits::default()),
        DeValue::Table(_) => {}
        _ => return expected(cx, item, "a table like { packets = 100 } or \"unlimited\""),
    }
    let mut t = sub(cx, item, place)?;
    let packets = match t.get("packets") {
        Some(it) if matches!(it.value, DeValue::String(s) if s.as_ref() == "unlimited") => {
            Some(None)
        }
        Some(it) => integer(cx, it, 1, u32::MAX.into()).and_then(|n| {
            if n as usize > super::MAX_QUEUE_PACKETS {
                cx.error(it.span, too_many_packets(n as u128));
                return None;
            }
            Some(Some(n as usize))
        }),
        None => Some(Some(NETEM_DEFAULT_LIMIT)),
    };
    let bytes = t.get("bytes").map(|it| positive_size(cx, it));
    let time = t.get("time").map(|it| positive_duration(cx, it));
    t.finish(cx);
    Some(QueueLimits {
        packets: packets?,
        bytes: bytes.map_or(Some(None), |b| b.map(Some))?,
        time: time.map_or(Some(None), |d| d.map(Some))?,
    })
}

/// The message for a queue of `n` packets, beyond the largest.
pub(super) fn too_many_packets(n: u128) -> String {
    format!(
        "a queue of {n} packets is more than the {} accepted: no router buffers that much (10 Gbit/s × 100 ms is about 83,000 packets), and every queued packet is held in memory",
        super::MAX_QUEUE_PACKETS
    )
}

/// A queue size in bytes: above zero, at most [`super::MAX_QUEUE_BYTES`].
fn positive_size(cx: &mut Ctx, item: Item) -> Option<usize> {
    let bytes = size(cx, item)?;
    match usize::try_from(bytes) {
        Ok(n) if n > super::MAX_QUEUE_BYTES => {
            cx.error(
                item.span,
                format!(
                    "a queue of {n} bytes is more than the 256MiB accepted: every queued packet is held in memory"
                ),
            );
            None
        }
        Ok(n) if n > 0 => Some(n),
        _ => {
            cx.error(item.span, format!("`{}` must be above 0 bytes", item.key));
            None
        }
    }
}

/// A duration above zero.
fn positive_duration(cx: &mut Ctx, item: Item) -> Option<Duration> {
    let d = duration(cx, item)?;
    if d.is_zero() {
        cx.error(item.span, format!("`{}` must be above 0", item.key));
        return None;
    }
    Some(d)
}
