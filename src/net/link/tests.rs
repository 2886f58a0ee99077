//! Shared helpers for the link tests; the tests live in `tests/`.
//!
//! Invariant: helpers only drive the public API, with fixed seeds, so every
//! measured value is reproducible.

use std::time::Duration;

use super::{LinkConfig, LinkModel, Verdict};

mod parsing;
mod queueing;
mod randomness;
mod series;

/// Number of packets for statistical tests.
const N: usize = 200_000;

/// Offers `n` packets of `len` bytes every `interval`, starting at zero,
/// and returns (offer time, verdicts of that offer) plus the model.
fn run(
    config: LinkConfig,
    seed: u64,
    n: usize,
    interval: Duration,
    len: usize,
) -> (Vec<(Duration, Vec<Verdict>)>, LinkModel) {
    let mut model = LinkModel::new(config, seed);
    let mut all = Vec::with_capacity(n);
    for i in 0..n {
        let now = interval * i as u32;
        let mut out = Vec::new();
        model.offer(now, len, &mut out);
        all.push((now, out));
    }
    (all, model)
}

/// Parses a netem string, panicking with the error text on failure.
fn cfg(text: &str) -> LinkConfig {
    text.parse()
        .unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

/// Delay (arrival - offer) of every delivered copy, in ms.
fn delays_ms(runs: &[(Duration, Vec<Verdict>)]) -> Vec<f64> {
    runs.iter()
        .flat_map(|(now, vs)| {
            vs.iter()
                .filter_map(move |v| v.delivery_time().map(|at| (at - *now).as_secs_f64() * 1e3))
        })
        .collect()
}

/// Mean and standard deviation.
fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// Lag-1 autocorrelation.
fn lag1(xs: &[f64]) -> f64 {
    let (mean, sd) = mean_sd(xs);
    let cov: f64 = xs.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum();
    cov / ((xs.len() - 1) as f64 * sd * sd)
}

/// Asserts `|measured - expected| <= tol`, printing all three.
fn assert_close(what: &str, measured: f64, expected: f64, tol: f64) {
    println!("{what}: measured {measured:.6}, expected {expected:.6}, tolerance {tol:.6}");
    assert!(
        (measured - expected).abs() <= tol,
        "{what}: measured {measured}, expected {expected} +- {tol}"
    );
}

/// Five standard errors of a proportion `p` estimated from `n` trials.
fn five_sigma(p: f64, n: usize) -> f64 {
    5.0 * (p * (1.0 - p) / n as f64).sqrt()
}

fn ms(x: u64) -> Duration {
    Duration::from_millis(x)
}
