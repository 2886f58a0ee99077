//! Tests of the series plots are drawn from: the one-way delay histogram,
//! delivered bytes binned by arrival time and the backlog binned by offer
//! time, including their bounds on far-future times.

use std::time::Duration;

use super::super::{LinkConfig, LinkModel, STATS_BIN, STATS_HORIZON};
use super::{cfg, delays_ms, ms, run};

#[test]
fn delivered_bins_sum_to_delivered_bytes() {
    let text = "delay 10ms 5ms loss gemodel 5% 40% duplicate 20% rate 1mbit limit 20";
    let (_, model) = run(cfg(text), 9, 20_000, Duration::from_micros(700), 300);
    let s = model.stats();
    assert_eq!(s.unbinned, 0);
    assert_eq!(
        s.delivered_bytes_bins.iter().sum::<u64>(),
        s.delivered_bytes
    );
    // 20 000 offers 0.7 ms apart span 14 s: 140 bins, a few more for the
    // last arrivals.
    assert!((140..=142).contains(&s.delivered_bytes_bins.len()));
}

#[test]
fn delay_histogram_counts_every_delivered_copy() {
    let (runs, model) = run(
        cfg("delay 30ms 10ms duplicate 5% loss 3%"),
        4,
        5000,
        ms(1),
        200,
    );
    let s = model.stats();
    assert_eq!(s.delay_us.len(), s.delivered);
    let delays = delays_ms(&runs);
    let max_ms = delays.iter().copied().fold(0.0, f64::max);
    let min_ms = delays.iter().copied().fold(f64::MAX, f64::min);
    // 3 significant digits: within 0.1 % of the exact extremes.
    let hist_max = s.delay_us.max() as f64 / 1e3;
    let hist_min = s.delay_us.min() as f64 / 1e3;
    assert!(
        (hist_max - max_ms).abs() <= max_ms * 1e-3,
        "{hist_max} vs {max_ms}"
    );
    assert!(
        (hist_min - min_ms).abs() <= min_ms * 1e-3,
        "{hist_min} vs {min_ms}"
    );
}

#[test]
fn zero_delay_records_as_zero() {
    let (_, model) = run(LinkConfig::default(), 1, 10, ms(1), 100);
    let s = model.stats();
    assert_eq!(s.delay_us.len(), 10);
    assert_eq!(s.delay_us.max(), 0);
    assert_eq!(s.queue_bytes_bins, vec![0]);
}

#[test]
fn overdriven_link_shows_queue_growth() {
    // 1000-byte packets every 0.5 ms into 8 Mbit/s (1000 packets/s): the
    // backlog grows by 100 packets (100 000 bytes) per 100 ms bin until the
    // 500-packet limit holds it.
    let (_, model) = run(
        cfg("rate 8mbit limit 500"),
        1,
        2000,
        Duration::from_micros(500),
        1000,
    );
    let bins = &model.stats().queue_bytes_bins;
    assert_eq!(bins.len(), 10);
    for (i, &bytes) in bins.iter().enumerate() {
        let expected = (100_000 * (i as u64 + 1)).min(500_000);
        assert!(bytes.abs_diff(expected) <= 1000, "bin {i}: {bins:?}");
    }
    assert!(bins.windows(2).all(|w| w[0] <= w[1]), "{bins:?}");
    // What leaves is the rate: 100 000 bytes per bin once the queue is busy.
    let delivered = &model.stats().delivered_bytes_bins;
    assert!(delivered[1..10]
        .iter()
        .all(|&b| (99_000..=101_000).contains(&b)));
}

#[test]
fn far_future_times_are_not_binned() {
    let mut model = LinkModel::new(cfg("rate 8mbit"), 1);
    let mut out = Vec::new();
    model.offer(ms(50), 1000, &mut out);
    model.offer(STATS_HORIZON + ms(1), 1000, &mut out);
    model.offer(Duration::from_secs(u64::MAX / 4), 1000, &mut out);
    let s = model.stats();
    assert_eq!(s.delivered, 3);
    // One delivered copy and one backlog sample for each far offer.
    assert_eq!(s.unbinned, 4);
    assert_eq!(s.delivered_bytes_bins, vec![1000]);
    assert_eq!(s.queue_bytes_bins, vec![1000]);
    assert_eq!(s.delay_us.len(), 3);
}

#[test]
fn huge_delays_saturate() {
    let mut config = LinkConfig::default();
    config.delay.latency = Duration::from_secs(30 * 3600);
    let mut model = LinkModel::new(config, 1);
    let mut out = Vec::new();
    model.offer(Duration::ZERO, 100, &mut out);
    let s = model.stats();
    assert_eq!(s.delay_us.len(), 1);
    assert!(s.delay_us.max() >= 86_000_000_000, "{}", s.delay_us.max());
    // The arrival lies beyond the horizon: not binned, no huge series.
    assert_eq!(s.unbinned, 1);
    assert!(s.delivered_bytes_bins.is_empty());
    assert_eq!(STATS_BIN, ms(100));
}
