//! netem-style random variates: correlated uniforms (`get_crandom`) and the
//! jitter distributions (`tabledist`), computed analytically instead of
//! from netem's 4096-entry tables.
//!
//! Invariants: every function takes the single link generator explicitly, so
//! draw order (and thus determinism) is visible at the call sites; outputs
//! of `Correlated::next` lie in `[0, 1)`.

use std::time::Duration;

use crate::rng::SplitMix64;

use super::config::{Delay, Distribution};

/// Largest table value netem can hold (`SHRT_MAX / NETEM_DIST_SCALE`).
const TABLE_MAX: f64 = 32767.0 / 8192.0;
/// Smallest table value netem can hold (`SHRT_MIN / NETEM_DIST_SCALE`).
const TABLE_MIN: f64 = -32768.0 / 8192.0;

/// A uniform source whose draws mix with the previous one: netem's
/// `next = (1 - rho) * fresh + rho * last`.
#[derive(Clone, Debug)]
pub(super) struct Correlated {
    rho: f64,
    last: Option<f64>,
}

impl Correlated {
    /// Creates a source with correlation `percent` (0..=100).
    pub(super) fn new(percent: f64) -> Correlated {
        Correlated {
            rho: (percent / 100.0).clamp(0.0, 1.0),
            last: None,
        }
    }

    /// Draws the next correlated uniform in `[0, 1)`.
    pub(super) fn next(&mut self, rng: &mut SplitMix64) -> f64 {
        let fresh = rng.next_f64();
        if self.rho == 0.0 {
            return fresh;
        }
        let last = match self.last {
            Some(v) => v,
            None => rng.next_f64(),
        };
        let value = ((1.0 - self.rho) * fresh + self.rho * last).min(1.0 - f64::EPSILON);
        self.last = Some(value);
        value
    }

    /// Tells whether an event of probability `percent` happens (`u < p`).
    pub(super) fn fires(&mut self, percent: f64, rng: &mut SplitMix64) -> bool {
        percent > 0.0 && self.next(rng) < percent / 100.0
    }
}

/// Maps a uniform `u` to netem's standardized table value for `dist`.
pub(super) fn table_value(dist: Distribution, u: f64) -> f64 {
    match dist {
        Distribution::Uniform => 2.0 * u - 1.0,
        Distribution::Normal => normal_quantile(u),
        Distribution::Pareto => pareto_value(u),
        Distribution::ParetoNormal => {
            ((normal_quantile(u) + 3.0 * pareto_value(u)) / 4.0).clamp(TABLE_MIN, TABLE_MAX)
        }
    }
}

/// netem's Pareto table entry: shape 3, shifted to mean 0, scaled by 4/3,
/// capped at the table maximum.
fn pareto_value(u: f64) -> f64 {
    let tail = (1.0 - u).max(1e-12);
    ((tail.powf(-1.0 / 3.0) - 1.5) * 4.0 / 3.0).min(TABLE_MAX)
}

/// Inverse standard normal CDF (Acklam's rational approximation, |err| < 1.2e-9).
pub(super) fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383_577_518_672_69e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    if (0.02425..=0.97575).contains(&p) {
        let q = p - 0.5;
        let r = q * q;
        let num = A.iter().fold(0.0, |acc, &a| acc * r + a);
        let den = B.iter().fold(0.0, |acc, &b| acc * r + b) * r + 1.0;
        q * num / den
    } else if p < 0.5 {
        normal_tail(p)
    } else {
        -normal_tail(1.0 - p)
    }
}

/// Lower-tail part of `normal_quantile` for `p < 0.02425`.
fn normal_tail(p: f64) -> f64 {
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let q = (-2.0 * p.ln()).sqrt();
    let num = C.iter().fold(0.0, |acc, &c| acc * q + c);
    let den = D.iter().fold(0.0, |acc, &d| acc * q + d) * q + 1.0;
    num / den
}

/// Draws one propagation delay (netem `tabledist`): `latency + jitter * table(u)`,
/// clamped at zero. Draws nothing when the jitter is zero.
pub(super) fn sample_delay(delay: &Delay, corr: &mut Correlated, rng: &mut SplitMix64) -> Duration {
    if delay.jitter.is_zero() {
        return delay.latency;
    }
    let u = corr.next(rng);
    let offset = delay.jitter.as_nanos() as f64 * table_value(delay.distribution, u);
    let ns = delay.latency.as_nanos() as f64 + offset;
    Duration::from_nanos(ns.max(0.0).round() as u64)
}
