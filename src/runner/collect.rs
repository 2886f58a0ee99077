//! Turns the network's counters into link metrics (see
//! [`crate::metrics::catalog`]) and plot data. Session metrics are what
//! each session recorded; nothing here knows a protocol.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::directions;
use crate::metrics::{Cdf, Metric, PlotData, Series, Unit};
use crate::net::link::{LinkStats, STATS_BIN};
use crate::scenario::Scenario;
use crate::sim::RunReport;

type Metrics = BTreeMap<String, Metric>;

fn put(metrics: &mut Metrics, prefix: &str, name: &str, unit: Unit, value: f64) {
    metrics.insert(format!("{prefix}.{name}"), Metric { value, unit });
}

/// Puts `part / whole` as a ratio; nothing when `whole` is 0 (a rate of
/// nothing is not measured, and a bound on it must not pass by default).
fn put_ratio(metrics: &mut Metrics, prefix: &str, name: &str, part: u64, whole: u64) {
    if whole > 0 {
        put(
            metrics,
            prefix,
            name,
            Unit::Ratio,
            part as f64 / whole as f64,
        );
    }
}

/// The metrics of every link direction, by name.
pub(super) fn link_metrics_of(scenario: &Scenario, report: &RunReport) -> Metrics {
    let mut metrics = Metrics::new();
    for dir in directions(scenario) {
        if let Some(stats) = report.link(&dir.egress) {
            link_metrics(
                &mut metrics,
                &format!("link.{}", dir.id),
                stats,
                report.elapsed,
            );
        }
    }
    metrics
}

fn link_metrics(metrics: &mut Metrics, prefix: &str, s: &LinkStats, elapsed: Duration) {
    let count = |m: &mut Metrics, name: &str, v: u64| put(m, prefix, name, Unit::Count, v as f64);
    count(metrics, "offered", s.offered);
    count(metrics, "delivered", s.delivered);
    // Bytes by arrival time up to the end: copies still in flight when the
    // run ends have not been delivered yet.
    let arrived: u64 = s
        .delivered_bytes_bins
        .iter()
        .take(bins_until(elapsed))
        .sum();
    put(
        metrics,
        prefix,
        "delivered_bytes",
        Unit::Bytes,
        arrived as f64,
    );
    let secs = elapsed.as_secs_f64();
    let throughput = if secs > 0.0 {
        arrived as f64 * 8.0 / secs
    } else {
        0.0
    };
    put(
        metrics,
        prefix,
        "throughput",
        Unit::BitsPerSecond,
        throughput,
    );
    count(metrics, "dropped", s.dropped());
    count(metrics, "dropped_loss", s.dropped_loss);
    count(metrics, "dropped_queue", s.dropped_queue);
    count(metrics, "dropped_outage", s.dropped_outage);
    put_ratio(
        metrics,
        prefix,
        "loss_rate",
        s.dropped(),
        s.offered + s.duplicated,
    );
    count(metrics, "duplicated", s.duplicated);
    count(metrics, "corrupted", s.corrupted);
    count(metrics, "reordered", s.reordered);
    percentiles(
        metrics,
        prefix,
        "delay",
        &s.delay_us,
        &[("p50", 0.5), ("p90", 0.9), ("p99", 0.99)],
    );
    percentiles(
        metrics,
        prefix,
        "queue_delay",
        &s.queue_delay_us,
        &[("p50", 0.5), ("p99", 0.99)],
    );
}

/// `<what>_<name>` for each quantile, and `<what>_max`, in seconds; nothing
/// when the histogram is empty (a delay that was never measured has no value).
fn percentiles(
    metrics: &mut Metrics,
    prefix: &str,
    what: &str,
    hist: &Histogram<u64>,
    quantiles: &[(&str, f64)],
) {
    if hist.is_empty() {
        return;
    }
    for (name, q) in quantiles {
        let v = hist.value_at_quantile(*q) as f64 / 1e6;
        put(metrics, prefix, &format!("{what}_{name}"), Unit::Seconds, v);
    }
    put(
        metrics,
        prefix,
        &format!("{what}_max"),
        Unit::Seconds,
        hist.max() as f64 / 1e6,
    );
}

/// How many 100 ms bins cover `elapsed`.
fn bins_until(elapsed: Duration) -> usize {
    usize::try_from(elapsed.as_nanos().div_ceil(STATS_BIN.as_nanos())).unwrap_or(usize::MAX)
}

/// Plot data: every link direction, in link order, down then up.
pub(super) fn plots(scenario: &Scenario, report: &RunReport) -> PlotData {
    let mut data = PlotData::default();
    let bins = bins_until(report.elapsed);
    let per_second = 1.0 / STATS_BIN.as_secs_f64();
    let binned = |values: &[u64], scale: f64| -> Vec<f64> {
        (0..bins)
            .map(|i| values.get(i).copied().unwrap_or(0) as f64 * scale)
            .collect()
    };
    for dir in directions(scenario) {
        let (id, Some(stats)) = (dir.id, report.link(&dir.egress)) else {
            continue;
        };
        data.throughput_bps.push(Series {
            label: id.clone(),
            bin: STATS_BIN,
            values: binned(&stats.delivered_bytes_bins, 8.0 * per_second),
        });
        data.queue_bytes.push(Series {
            label: id.clone(),
            bin: STATS_BIN,
            values: binned(&stats.queue_bytes_bins, 1.0),
        });
        data.delay_ms_cdf.push(Cdf {
            label: id,
            points: cdf_ms(&stats.delay_us),
        });
    }
    data
}

/// At most 501 points of the distribution of a µs histogram, in ms.
fn cdf_ms(hist: &Histogram<u64>) -> Vec<(f64, f64)> {
    if hist.is_empty() {
        return Vec::new();
    }
    let mut points: Vec<(f64, f64)> = Vec::new();
    for i in 0..=500u32 {
        let q = f64::from(i) / 500.0;
        let v = hist.value_at_quantile(q) as f64 / 1000.0;
        match points.last_mut() {
            Some(last) if last.0 == v => last.1 = q,
            _ => points.push((v, q)),
        }
    }
    points
}
