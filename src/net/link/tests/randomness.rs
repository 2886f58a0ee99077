//! Statistical tests of the random processes: loss models, jitter
//! distributions, correlation, duplication, corruption, reordering and
//! seeding. Tolerances are five standard errors unless stated otherwise.

use std::time::Duration;

use super::super::random::normal_quantile;
use super::super::{DropCause, LinkConfig, Verdict};
use super::{assert_close, cfg, delays_ms, five_sigma, lag1, mean_sd, ms, run, N};

/// Loss flags (true = lost) of `n` packets through `config`.
fn loss_flags(config: LinkConfig, n: usize) -> Vec<bool> {
    let (runs, _) = run(config, 11, n, ms(1), 100);
    runs.iter()
        .map(|(_, v)| {
            v[0] == Verdict::Drop {
                cause: DropCause::Loss,
            }
        })
        .collect()
}

fn rate_of(flags: &[bool]) -> f64 {
    flags.iter().filter(|&&l| l).count() as f64 / flags.len() as f64
}

#[test]
fn bernoulli_loss_rate() {
    let flags = loss_flags(cfg("loss random 5%"), N);
    assert_close("bernoulli loss", rate_of(&flags), 0.05, five_sigma(0.05, N));
}

#[test]
fn gilbert_elliott_rate_and_bursts() {
    let n = 400_000;
    let flags = loss_flags(cfg("loss gemodel 1% 30%"), n);
    let (p, r) = (0.01, 0.30);
    // Markov chain with lag-1 correlation 1-p-r = 0.69 inflates the variance
    // of the mean by (1+0.69)/(1-0.69) = 5.5; 5 sigma of that is ~0.0032.
    let inflation = (2.0 - p - r) / (p + r);
    let tol = five_sigma(p / (p + r), n) * f64::sqrt(inflation);
    assert_close("GE loss rate", rate_of(&flags), p / (p + r), tol);
    let bursts: Vec<f64> = flags
        .split(|&l| !l)
        .filter(|b| !b.is_empty())
        .map(|b| b.len() as f64)
        .collect();
    // Geometric bursts: sd = sqrt(1-r)/r = 2.79, ~3900 bursts -> se 0.045.
    let (mean, _) = mean_sd(&bursts);
    let se = (1.0 - r).sqrt() / r / (bursts.len() as f64).sqrt();
    assert_close("GE mean burst", mean, 1.0 / r, 5.0 * se);
}

#[test]
fn gemodel_bernoulli_special_case() {
    // With netem's default r = 1 - p the GE model is Bernoulli(p).
    let flags = loss_flags(cfg("loss gemodel 10%"), N);
    assert_close("GE default r", rate_of(&flags), 0.10, five_sigma(0.10, N));
    let lag = lag1(
        &flags
            .iter()
            .map(|&l| f64::from(u8::from(l)))
            .collect::<Vec<_>>(),
    );
    assert_close("GE default r lag-1", lag, 0.0, 5.0 / (N as f64).sqrt());
}

/// Stationary loss probability (pi3 + pi4) of the 4-state chain.
fn four_state_loss(p13: f64, p31: f64, p32: f64, p23: f64, p14: f64) -> f64 {
    let mut pi = [1.0, 0.0, 0.0, 0.0];
    for _ in 0..100_000 {
        let next = [
            pi[0] * (1.0 - p13 - p14) + pi[2] * p31 + pi[3],
            pi[1] * (1.0 - p23) + pi[2] * p32,
            pi[0] * p13 + pi[1] * p23 + pi[2] * (1.0 - p31 - p32),
            pi[0] * p14,
        ];
        pi = next;
    }
    pi[2] + pi[3]
}

#[test]
fn four_state_loss_rate() {
    let n = 400_000;
    let flags = loss_flags(cfg("loss state 5% 30% 10% 20% 2%"), n);
    let expected = four_state_loss(0.05, 0.30, 0.10, 0.20, 0.02);
    // Bursty chain: allow a variance inflation of 10 (lag correlations < 0.8).
    let tol = five_sigma(expected, n) * 10f64.sqrt();
    assert_close("4-state loss", rate_of(&flags), expected, tol);
    let only_p13 = loss_flags(cfg("loss state 3%"), N);
    assert_close(
        "4-state p13 only",
        rate_of(&only_p13),
        0.03,
        five_sigma(0.03, N),
    );
}

/// Delays in ms of `N` packets through `text`, one packet per second so
/// that no queueing or clamping interferes.
fn jitter_sample(text: &str) -> Vec<f64> {
    let (runs, _) = run(cfg(text), 5, N, Duration::from_secs(1), 100);
    delays_ms(&runs)
}

#[test]
fn uniform_jitter() {
    let (mean, sd) = mean_sd(&jitter_sample("delay 100ms 10ms"));
    // Uniform on [-10, 10): sd 10/sqrt(3); se(sd) ~ sd*sqrt(0.8/4N) = 0.1 %.
    assert_close("uniform mean", mean, 100.0, 5.0 * 5.774 / (N as f64).sqrt());
    assert_close("uniform sd", sd, 10.0 / 3f64.sqrt(), 0.01 * 5.774);
}

#[test]
fn normal_jitter() {
    let (mean, sd) = mean_sd(&jitter_sample("delay 100ms 10ms distribution normal"));
    assert_close("normal mean", mean, 100.0, 5.0 * 10.0 / (N as f64).sqrt());
    // se(sd) = sd / sqrt(2N) = 0.16 %; allow 1.5 %.
    assert_close("normal sd", sd, 10.0, 0.15);
}

/// Mean and sd of netem's Pareto table value, by quadrature of its closed form.
fn pareto_moments(weight_normal: f64) -> (f64, f64) {
    let steps = 1_000_000;
    let (mut s1, mut s2) = (0.0, 0.0);
    for i in 0..steps {
        let u = (i as f64 + 0.5) / steps as f64;
        let pareto = (((1.0 - u).powf(-1.0 / 3.0) - 1.5) * 4.0 / 3.0).min(32767.0 / 8192.0);
        let x = weight_normal * normal_quantile(u) + (1.0 - weight_normal) * pareto;
        let x = x.clamp(-4.0, 32767.0 / 8192.0);
        s1 += x;
        s2 += x * x;
    }
    let mean = s1 / steps as f64;
    (mean, (s2 / steps as f64 - mean * mean).sqrt())
}

#[test]
fn pareto_jitter() {
    let (m, s) = pareto_moments(0.0);
    // Closed form: Z = X^(-1/3) capped at 4.5 has E[Z] = 1.4753 and
    // Var[Z] = 0.3791, so the table value 4/3 (Z - 1.5) has mean -0.033 and
    // sd 0.821 (the cap removes much of the unclamped sd 4/3 * sqrt(3)/2 = 1.155).
    assert!((m + 0.033).abs() < 1e-3 && (s - 0.821).abs() < 1e-3);
    println!("pareto table: mean {m:.4}, sd {s:.4}");
    let (mean, sd) = mean_sd(&jitter_sample("delay 100ms 10ms distribution pareto"));
    assert_close("pareto mean", mean, 100.0 + 10.0 * m, 0.15);
    assert_close("pareto sd", sd, 10.0 * s, 0.03 * 10.0 * s);
}

#[test]
fn paretonormal_jitter() {
    let (m, s) = pareto_moments(0.25);
    println!("paretonormal table: mean {m:.4}, sd {s:.4}");
    let (mean, sd) = mean_sd(&jitter_sample("delay 100ms 10ms distribution paretonormal"));
    assert_close("paretonormal mean", mean, 100.0 + 10.0 * m, 0.15);
    assert_close("paretonormal sd", sd, 10.0 * s, 0.03 * 10.0 * s);
}

#[test]
fn correlation_raises_autocorrelation() {
    let plain = lag1(&jitter_sample("delay 100ms 10ms"));
    let correlated = lag1(&jitter_sample("delay 100ms 10ms 75%"));
    // netem's mix u' = 0.25 u + 0.75 u_prev is AR(1): lag-1 correlation 0.75.
    assert_close(
        "lag-1 without correlation",
        plain,
        0.0,
        5.0 / (N as f64).sqrt(),
    );
    assert_close("lag-1 with 75% correlation", correlated, 0.75, 0.01);
}

#[test]
fn negative_delays_clamp_to_zero() {
    let delays = jitter_sample("delay 5ms 10ms");
    let zeros = delays.iter().filter(|&&d| d == 0.0).count() as f64 / delays.len() as f64;
    assert!(delays.iter().all(|&d| d >= 0.0));
    // P(5 + U[-10,10) < 0) = 0.25.
    assert_close("clamped fraction", zeros, 0.25, five_sigma(0.25, N));
}

#[test]
fn duplicate_and_corrupt_rates() {
    let (runs, model) = run(cfg("duplicate 10% corrupt 5%"), 3, N, ms(1), 200);
    let s = model.stats();
    assert_close(
        "duplicate",
        s.duplicated as f64 / N as f64,
        0.10,
        five_sigma(0.10, N),
    );
    let delivered = s.delivered as usize;
    let measured = s.corrupted as f64 / delivered as f64;
    assert_close("corrupt", measured, 0.05, five_sigma(0.05, delivered));
    for (_, verdicts) in &runs {
        let dup = verdicts.len() == 2;
        assert!(matches!(
            verdicts[0],
            Verdict::Deliver {
                duplicate: false,
                ..
            }
        ));
        if dup {
            assert!(matches!(
                verdicts[1],
                Verdict::Deliver {
                    duplicate: true,
                    ..
                }
            ));
        }
        for v in verdicts {
            if let Verdict::Deliver {
                corrupt_bit: Some(bit),
                ..
            } = v
            {
                assert!(*bit < 200 * 8);
            }
        }
    }
}

#[test]
fn every_copy_gets_one_verdict() {
    let text = "delay 10ms 5ms loss gemodel 5% 40% duplicate 20% rate 1mbit limit 20";
    let (runs, model) = run(cfg(text), 9, 50_000, Duration::from_micros(700), 300);
    let s = model.stats();
    let verdicts: usize = runs.iter().map(|(_, v)| v.len()).sum();
    assert_eq!(s.offered + s.duplicated, s.delivered + s.dropped());
    assert_eq!(verdicts as u64, s.delivered + s.dropped());
    assert_eq!(s.delay_us.len(), s.delivered);
    assert!(s.dropped_queue > 0 && s.dropped_loss > 0 && s.duplicated > 0);
}

#[test]
fn reorder_probability() {
    let (_, model) = run(cfg("delay 10ms reorder 25%"), 4, N, ms(1), 100);
    let measured = model.stats().reordered as f64 / N as f64;
    // Each immediate packet overtakes the delayed packets of the last 10 ms.
    assert_close("reorder 25%", measured, 0.25, five_sigma(0.25, N));
}

#[test]
fn reorder_gap_pattern() {
    let (runs, _) = run(cfg("delay 10ms reorder 100% gap 5"), 4, 100, ms(1), 100);
    for (i, (now, v)) in runs.iter().enumerate() {
        let immediate = v[0].delivery_time() == Some(*now);
        assert_eq!(immediate, i % 5 == 4, "packet {i}");
    }
    // With gap 3 and 50 %: cycles of 2 forced delays plus a geometric(0.5)
    // number of trials, mean length 4, so a quarter of packets is reordered.
    let (_, model) = run(cfg("delay 10ms reorder 50% gap 3"), 4, N, ms(1), 100);
    let measured = model.stats().reordered as f64 / N as f64;
    assert_close("reorder 50% gap 3", measured, 0.25, 0.01);
}

#[test]
fn no_reorder_never_reorders() {
    let text = "delay 50ms 40ms distribution normal";
    let (_, plain) = run(cfg(text), 2, N, ms(1), 100);
    assert!(plain.stats().reordered > N as u64 / 10);
    let (runs, model) = run(cfg(&format!("{text} no_reorder")), 2, N, ms(1), 100);
    assert_eq!(model.stats().reordered, 0);
    let times: Vec<Duration> = runs
        .iter()
        .filter_map(|(_, v)| v[0].delivery_time())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn seeds_determine_verdicts() {
    let text = "delay 30ms 10ms 20% distribution paretonormal loss gemodel 2% 20% \
                duplicate 3% corrupt 1% reorder 5% rate 2mbit limit 50";
    let sequence = |seed| run(cfg(text), seed, 20_000, Duration::from_micros(900), 400).0;
    let a = sequence(7);
    assert_eq!(a, sequence(7));
    assert_ne!(a, sequence(8));
}
