//! netem-style string parser: `FromStr` for `LinkConfig` and `LinkChange`.
//!
//! Grammar (words separated by whitespace, keywords in any order, a later
//! keyword overrides an earlier one): tc-netem's `limit`, `delay`,
//! `distribution`, `loss`/`drop` (`random`, `gemodel`, `state`),
//! `duplicate`, `corrupt`, `reorder`, `gap`, `rate`, plus the extensions
//! `limit unlimited`, `queue_bytes`, `queue_time`, `no_reorder`, `outage`.
//!
//! Extensions: `limit unlimited` (no packet limit), `queue_bytes BYTES`
//! (drop-tail byte limit, e.g. `96000`, `64kib`), `queue_time TIME` (drop
//! when the wait behind the backlog would exceed TIME), `no_reorder` (clamp
//! arrivals to be non-decreasing), `outage START END` (drop all in
//! `[START, END)`, repeatable). Units follow tc: times `ns us ms s` (bare
//! number = µs), rates `bit kbit mbit gbit tbit`, `kibit`..., and
//! `bps kbps mbps gbps` in *bytes*/s (bare = bit/s), percentages `1%` or `1`.
//!
//! Invariants: parsing never panics; every error names the offending word
//! and its 1-based word index.

use std::str::FromStr;

use super::config::{
    Chance, Delay, Distribution, LinkChange, LinkConfig, LossModel, Outage, Rate, Reorder,
    NETEM_DEFAULT_LIMIT,
};
use super::error::LinkError;
use super::units::{
    edit_distance, looks_numeric, parse_bytes, parse_overhead, parse_percent, parse_rate,
    parse_time,
};

/// Every top-level keyword, for "did you mean" hints.
pub const KEYWORDS: [&str; 14] = [
    "limit",
    "delay",
    "distribution",
    "loss",
    "drop",
    "duplicate",
    "corrupt",
    "reorder",
    "gap",
    "rate",
    "no_reorder",
    "queue_bytes",
    "queue_time",
    "outage",
];

const TIME: &str = "a time such as 40ms (units ns, us, ms, s)";
const PERCENT: &str = "a percentage between 0% and 100%";
const RATE: &str = "a positive rate such as 8mbit (units bit, kbit, mbit, gbit, bps, kbps, mbps)";
const LIMIT: &str = "a packet count or \"unlimited\"";
const BYTES: &str = "a byte count such as 96000 or 64kib";
const DIST: &str = "uniform, normal, pareto or paretonormal";
const LOSS: &str = "random, gemodel, state or a percentage";
const GAP: &str = "a whole number of packets";
const OVERHEAD: &str = "a whole number of bytes, possibly negative";
const OUTAGE_END: &str = "an end time later than the start";

/// Which components a string mentions (for `LinkChange`).
#[derive(Clone, Copy, Debug, Default)]
struct Mentioned {
    delay: bool,
    no_reorder: bool,
    loss: bool,
    duplicate: bool,
    corrupt: bool,
    reorder: bool,
    rate: bool,
    queue: bool,
}

/// Cursor over the words of a netem string.
struct Words<'a> {
    words: Vec<&'a str>,
    next: usize,
}

impl<'a> Words<'a> {
    /// Takes the next word with its 1-based index.
    fn take(&mut self) -> Option<(usize, &'a str)> {
        let word = self.words.get(self.next).copied()?;
        self.next += 1;
        Some((self.next, word))
    }

    /// Takes and parses the mandatory value of keyword `kw`.
    fn value<T>(
        &mut self,
        kw: (usize, &str),
        expected: &'static str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T, LinkError> {
        let Some((position, word)) = self.take() else {
            return Err(LinkError::MissingValue {
                keyword: kw.1.to_string(),
                position: kw.0,
                expected,
            });
        };
        parse(word).ok_or_else(|| LinkError::InvalidValue {
            keyword: kw.1.to_string(),
            value: word.to_string(),
            position,
            expected,
        })
    }

    /// Takes and parses an optional value, present when the next word
    /// satisfies `present` (netem's `NEXT_IS_NUMBER`).
    fn optional<T>(
        &mut self,
        kw: (usize, &str),
        expected: &'static str,
        present: impl Fn(&str) -> bool,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, LinkError> {
        match self.words.get(self.next) {
            Some(word) if present(word) => self.value(kw, expected, parse).map(Some),
            _ => Ok(None),
        }
    }

    /// Takes an optional percentage.
    fn percent(&mut self, kw: (usize, &str)) -> Result<Option<f64>, LinkError> {
        self.optional(kw, PERCENT, looks_numeric, parse_percent)
    }
}

/// Returns the closest keyword to `word`, if it is a plausible typo.
fn suggestion(word: &str) -> Option<&'static str> {
    let lower = word.to_ascii_lowercase();
    KEYWORDS
        .iter()
        .map(|k| (edit_distance(&lower, k), *k))
        .filter(|&(d, _)| d <= 2 && d < word.chars().count())
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

/// Parses `P [CORR]` after `duplicate`/`corrupt`/`loss random`.
fn chance(w: &mut Words, kw: (usize, &str)) -> Result<Chance, LinkError> {
    let percent = w.value(kw, PERCENT, parse_percent)?;
    let correlation = w.percent(kw)?.unwrap_or(0.0);
    Ok(Chance {
        percent,
        correlation,
    })
}

/// Parses `TIME [JITTER [CORR]]` after `delay`.
fn delay(w: &mut Words, kw: (usize, &str), distribution: Distribution) -> Result<Delay, LinkError> {
    let latency = w.value(kw, TIME, parse_time)?;
    let mut delay = Delay {
        latency,
        distribution,
        ..Delay::default()
    };
    if let Some(jitter) = w.optional(kw, TIME, looks_numeric, parse_time)? {
        delay.jitter = jitter;
        delay.correlation = w.percent(kw)?.unwrap_or(0.0);
    }
    Ok(delay)
}

/// Parses what follows `loss`/`drop`.
fn loss(w: &mut Words, kw: (usize, &str)) -> Result<LossModel, LinkError> {
    let model = match w.words.get(w.next).copied() {
        Some("random") => {
            let sub = w.take().unwrap_or(kw);
            let c = chance(w, sub)?;
            LossModel::Random {
                percent: c.percent,
                correlation: c.correlation,
            }
        }
        Some("gemodel") => gemodel(w)?,
        Some("state") => four_state(w)?,
        Some(word) if looks_numeric(word) => {
            let c = chance(w, kw)?;
            LossModel::Random {
                percent: c.percent,
                correlation: c.correlation,
            }
        }
        _ => return w.value(kw, LOSS, |_| None),
    };
    Ok(model)
}

/// Parses `gemodel p [r [1-h [1-k]]]`; omitted values take netem's
/// defaults (`r = 100 - p`, `1-h = 100`, `1-k = 0`, see `LossModel::gemodel`).
fn gemodel(w: &mut Words) -> Result<LossModel, LinkError> {
    let sub = w.take().unwrap_or((0, "gemodel"));
    let p = w.value(sub, PERCENT, parse_percent)?;
    let mut rest = [100.0 - p, 100.0, 0.0];
    fill_optional(w, sub, &mut rest)?;
    let [r, one_minus_h, one_minus_k] = rest;
    Ok(LossModel::GilbertElliott {
        p,
        r,
        one_minus_h,
        one_minus_k,
    })
}

/// Parses `state p13 [p31 [p32 [p23 [p14]]]]`; omitted values take netem's
/// defaults (`p31 = 100 - p13`, `p32 = 0`, `p23 = 100`, `p14 = 0`).
fn four_state(w: &mut Words) -> Result<LossModel, LinkError> {
    let sub = w.take().unwrap_or((0, "state"));
    let p13 = w.value(sub, PERCENT, parse_percent)?;
    let mut rest = [100.0 - p13, 0.0, 100.0, 0.0];
    fill_optional(w, sub, &mut rest)?;
    let [p31, p32, p23, p14] = rest;
    Ok(LossModel::FourState {
        p13,
        p31,
        p32,
        p23,
        p14,
    })
}

/// Overwrites leading `slots` with the optional percentages that follow.
fn fill_optional(w: &mut Words, kw: (usize, &str), slots: &mut [f64]) -> Result<(), LinkError> {
    for slot in slots {
        match w.percent(kw)? {
            Some(v) => *slot = v,
            None => break,
        }
    }
    Ok(())
}

/// Parses `RATE [OVERHEAD]` after `rate`.
fn rate(w: &mut Words, kw: (usize, &str)) -> Result<Rate, LinkError> {
    let bits_per_sec = w.value(kw, RATE, parse_rate)?;
    let signed = |s: &str| looks_numeric(s.strip_prefix('-').unwrap_or(s));
    let overhead = w.optional(kw, OVERHEAD, signed, parse_overhead)?;
    Ok(Rate {
        bits_per_sec,
        overhead: overhead.unwrap_or(0),
    })
}

/// Parses `START END` after `outage`.
fn outage(w: &mut Words, kw: (usize, &str)) -> Result<Outage, LinkError> {
    let start = w.value(kw, TIME, parse_time)?;
    let end = w.value(kw, OUTAGE_END, |s| parse_time(s).filter(|&e| e > start))?;
    Ok(Outage { start, end })
}

/// Parses a whole netem string into a config plus the components it names.
fn parse(text: &str) -> Result<(LinkConfig, Mentioned), LinkError> {
    let mut w = Words {
        words: text.split_whitespace().collect(),
        next: 0,
    };
    let mut c = LinkConfig::default();
    let mut m = Mentioned::default();
    let (mut limit_given, mut gap) = (false, None);
    while let Some(kw) = w.take() {
        match kw.1 {
            "limit" => {
                let limit = |s: &str| match s {
                    "unlimited" => Some(None),
                    _ => s.parse::<usize>().ok().map(Some),
                };
                c.queue.packets = w.value(kw, LIMIT, limit)?;
                (limit_given, m.queue) = (true, true);
            }
            "delay" => (c.delay, m.delay) = (delay(&mut w, kw, c.delay.distribution)?, true),
            "distribution" => {
                c.delay.distribution = w.value(kw, DIST, Distribution::from_name)?;
                m.delay = true;
            }
            "loss" | "drop" => (c.loss, m.loss) = (loss(&mut w, kw)?, true),
            "duplicate" => (c.duplicate, m.duplicate) = (chance(&mut w, kw)?, true),
            "corrupt" => (c.corrupt, m.corrupt) = (chance(&mut w, kw)?, true),
            "reorder" => {
                let ch = chance(&mut w, kw)?;
                c.reorder = Some(Reorder {
                    percent: ch.percent,
                    correlation: ch.correlation,
                    gap: 1,
                });
                m.reorder = true;
            }
            "gap" => gap = Some((kw.0, w.value(kw, GAP, |s| s.parse::<u32>().ok())?)),
            "rate" => (c.rate, m.rate) = (Some(rate(&mut w, kw)?), true),
            "no_reorder" => (c.no_reorder, m.no_reorder) = (true, true),
            "queue_bytes" => {
                c.queue.bytes = Some(w.value(kw, BYTES, parse_bytes)?);
                m.queue = true;
            }
            "queue_time" => {
                c.queue.time = Some(w.value(kw, TIME, parse_time)?);
                m.queue = true;
            }
            "outage" => c.outages.push(outage(&mut w, kw)?),
            word => {
                return Err(LinkError::UnknownKeyword {
                    word: word.to_string(),
                    position: kw.0,
                    suggestion: suggestion(word),
                })
            }
        }
    }
    if let Some((position, g)) = gap {
        let Some(r) = c.reorder.as_mut() else {
            return Err(LinkError::Conflict {
                keyword: "gap".to_string(),
                position,
                reason: "requires \"reorder\" (gap specified without reorder probability)",
            });
        };
        r.gap = g;
    }
    if !limit_given {
        c.queue.packets = Some(NETEM_DEFAULT_LIMIT);
    }
    Ok((c, m))
}

impl FromStr for LinkConfig {
    type Err = LinkError;

    /// Parses a netem-style string such as
    /// `"delay 40ms 10ms distribution normal loss gemodel 1% 30% rate 8mbit limit 100"`.
    /// Without `limit`, the queue holds netem's default of 1000 packets.
    fn from_str(s: &str) -> Result<LinkConfig, LinkError> {
        parse(s).map(|(config, _)| config)
    }
}

impl FromStr for LinkChange {
    type Err = LinkError;

    /// Parses a netem-style string into a change that replaces only the
    /// components the string mentions (`limit`, `queue_bytes` and
    /// `queue_time` together form the queue component; `outage` is rejected).
    fn from_str(s: &str) -> Result<LinkChange, LinkError> {
        let (c, m) = parse(s)?;
        if let Some(position) = s.split_whitespace().position(|w| w == "outage") {
            return Err(LinkError::Conflict {
                keyword: "outage".to_string(),
                position: position + 1,
                reason: "cannot be part of a scheduled change",
            });
        }
        Ok(LinkChange {
            delay: m.delay.then_some(c.delay),
            no_reorder: m.no_reorder.then_some(c.no_reorder),
            loss: m.loss.then_some(c.loss),
            duplicate: m.duplicate.then_some(c.duplicate),
            corrupt: m.corrupt.then_some(c.corrupt),
            reorder: m.reorder.then_some(c.reorder),
            rate: m.rate.then_some(c.rate),
            trace: None,
            queue: m.queue.then_some(c.queue),
        })
    }
}
