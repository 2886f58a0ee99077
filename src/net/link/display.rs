//! `Display` for `LinkConfig`: prints the netem-style string that parses back
//! to the same config.
//!
//! Invariant: `s.parse::<LinkConfig>() == Ok(c)` for `s = c.to_string()`
//! whenever `c.trace` is `None` and `c.schedule` is empty; those two have no
//! string form and are omitted. The queue limit is always printed
//! (`limit unlimited` when `None`) because an absent `limit` means netem's 1000.

use std::fmt;

use super::config::{Chance, Delay, Distribution, LinkConfig, LossModel};
use super::units::{fmt_percent, fmt_rate, fmt_time};

impl fmt::Display for LinkConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut words: Vec<String> = Vec::new();
        push_delay(&mut words, &self.delay);
        if self.no_reorder {
            words.push("no_reorder".into());
        }
        push_loss(&mut words, &self.loss);
        push_chance(&mut words, "duplicate", &self.duplicate);
        push_chance(&mut words, "corrupt", &self.corrupt);
        if let Some(r) = &self.reorder {
            words.push(format!("reorder {}", fmt_percent(r.percent)));
            push_correlation(&mut words, r.correlation);
            words.push(format!("gap {}", r.gap));
        }
        if let Some(rate) = &self.rate {
            words.push(format!("rate {}", fmt_rate(rate.bits_per_sec)));
            if rate.overhead != 0 {
                words.push(rate.overhead.to_string());
            }
        }
        self.push_queue(&mut words);
        for o in &self.outages {
            words.push(format!("outage {} {}", fmt_time(o.start), fmt_time(o.end)));
        }
        f.write_str(&words.join(" "))
    }
}

impl LinkConfig {
    fn push_queue(&self, words: &mut Vec<String>) {
        match self.queue.packets {
            Some(n) => words.push(format!("limit {n}")),
            None => words.push("limit unlimited".into()),
        }
        if let Some(b) = self.queue.bytes {
            words.push(format!("queue_bytes {b}"));
        }
        if let Some(t) = self.queue.time {
            words.push(format!("queue_time {}", fmt_time(t)));
        }
    }
}

fn push_correlation(words: &mut Vec<String>, correlation: f64) {
    if correlation != 0.0 {
        words.push(fmt_percent(correlation));
    }
}

fn push_delay(words: &mut Vec<String>, d: &Delay) {
    if d.latency.is_zero() && d.jitter.is_zero() && d.correlation == 0.0 {
        // Nothing to print beyond a possible distribution.
    } else {
        words.push(format!("delay {}", fmt_time(d.latency)));
        if !d.jitter.is_zero() || d.correlation != 0.0 {
            words.push(fmt_time(d.jitter));
            push_correlation(words, d.correlation);
        }
    }
    if d.distribution != Distribution::Uniform {
        words.push(format!("distribution {}", d.distribution.as_str()));
    }
}

fn push_chance(words: &mut Vec<String>, keyword: &str, c: &Chance) {
    if *c != Chance::default() {
        words.push(format!("{keyword} {}", fmt_percent(c.percent)));
        push_correlation(words, c.correlation);
    }
}

fn push_loss(words: &mut Vec<String>, loss: &LossModel) {
    let (head, values): (&str, Vec<f64>) = match *loss {
        LossModel::None => return,
        LossModel::Random {
            percent,
            correlation,
        } => {
            words.push(format!("loss random {}", fmt_percent(percent)));
            push_correlation(words, correlation);
            return;
        }
        LossModel::GilbertElliott {
            p,
            r,
            one_minus_h,
            one_minus_k,
        } => ("loss gemodel", vec![p, r, one_minus_h, one_minus_k]),
        LossModel::FourState {
            p13,
            p31,
            p32,
            p23,
            p14,
        } => ("loss state", vec![p13, p31, p32, p23, p14]),
    };
    let values: Vec<String> = values.into_iter().map(fmt_percent).collect();
    words.push(format!("{head} {}", values.join(" ")));
}
