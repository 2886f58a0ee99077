//! Turns a run's raw counters into named metrics (see
//! [`crate::metrics::catalog`]) and plot data.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::egress_name;
use super::sessions::Probe;
use crate::metrics::{Cdf, Metric, PlotData, Series, Unit};
use crate::net::link::{LinkStats, STATS_BIN};
use crate::scenario::{Scenario, SessionSpec};
use crate::sim::RunReport;

type Metrics = BTreeMap<String, Metric>;

fn put(metrics: &mut Metrics, prefix: &str, name: &str, unit: Unit, value: f64) {
    metrics.insert(format!("{prefix}.{name}"), Metric { value, unit });
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Every metric of the run, by name.
pub(super) fn metrics(scenario: &Scenario, report: &RunReport, probes: &[Probe]) -> Metrics {
    let mut metrics = Metrics::new();
    for link in &scenario.links {
        let directions = [
            (link.down_id(), egress_name(&link.server, &link.client)),
            (link.up_id(), egress_name(&link.client, &link.server)),
        ];
        for (id, egress) in directions {
            if let Some(stats) = report.link(&egress) {
                link_metrics(&mut metrics, &format!("link.{id}"), stats, report.elapsed);
            }
        }
    }
    for (session, probe) in scenario.sessions.iter().zip(probes) {
        let prefix = format!("session.{}", session.name);
        match probe {
            Probe::Bulk { clients } => {
                bulk_metrics(&mut metrics, &prefix, session, clients, report)
            }
            Probe::Cbr {
                sent,
                stop,
                clients,
                ..
            } => {
                let ran = stop.min(&report.elapsed).saturating_sub(session.start);
                let sent = sent.get() * clients.len() as u64;
                cbr_metrics(&mut metrics, &prefix, sent, ran, clients);
            }
        }
    }
    metrics
}

fn link_metrics(metrics: &mut Metrics, prefix: &str, s: &LinkStats, elapsed: Duration) {
    let count = |m: &mut Metrics, name: &str, v: u64| put(m, prefix, name, Unit::Count, v as f64);
    count(metrics, "offered", s.offered);
    count(metrics, "delivered", s.delivered);
    put(
        metrics,
        prefix,
        "delivered_bytes",
        Unit::Bytes,
        s.delivered_bytes as f64,
    );
    let secs = elapsed.as_secs_f64();
    let throughput = if secs > 0.0 {
        s.delivered_bytes as f64 * 8.0 / secs
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
    let loss = ratio(s.dropped(), s.offered + s.duplicated);
    put(metrics, prefix, "loss_rate", Unit::Ratio, loss);
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

fn bulk_metrics(
    metrics: &mut Metrics,
    prefix: &str,
    session: &SessionSpec,
    clients: &[(
        String,
        std::rc::Rc<std::cell::RefCell<crate::workload::BulkClientStats>>,
    )],
    report: &RunReport,
) {
    let bytes: u64 = clients.iter().map(|(_, s)| s.borrow().bytes).sum();
    let end = session.stop.unwrap_or(report.elapsed).min(report.elapsed);
    let secs = end.saturating_sub(session.start).as_secs_f64();
    let goodput = if secs > 0.0 {
        bytes as f64 * 8.0 / secs
    } else {
        0.0
    };
    put(metrics, prefix, "goodput", Unit::BitsPerSecond, goodput);
    put(metrics, prefix, "bytes", Unit::Bytes, bytes as f64);
    let startups: Option<Vec<Duration>> = clients
        .iter()
        .map(|(_, s)| {
            let s = s.borrow();
            Some(s.first_byte?.saturating_sub(s.started?))
        })
        .collect();
    if let Some(startup) = startups.and_then(|v| v.into_iter().max()) {
        put(
            metrics,
            prefix,
            "startup",
            Unit::Seconds,
            startup.as_secs_f64(),
        );
    }
    let mut flows = crate::net::flows::TcpFlowStats::default();
    if let Some(server) = report.host(&session.server) {
        for (_, f) in server
            .tcp_sent()
            .filter(|(k, _)| k.src.port() == session.port)
        {
            flows.segments += f.segments;
            flows.wire_bytes += f.wire_bytes;
            flows.retransmitted_segments += f.retransmitted_segments;
            flows.fast_retransmits += f.fast_retransmits;
            flows.retransmission_timeouts += f.retransmission_timeouts;
            flows.spurious_retransmits += f.spurious_retransmits;
        }
    }
    let count = |m: &mut Metrics, name: &str, v: u64| put(m, prefix, name, Unit::Count, v as f64);
    count(metrics, "segments", flows.segments);
    put(
        metrics,
        prefix,
        "wire_bytes",
        Unit::Bytes,
        flows.wire_bytes as f64,
    );
    count(metrics, "retransmissions", flows.retransmitted_segments);
    let rate = ratio(flows.retransmitted_segments, flows.segments);
    put(metrics, prefix, "retransmission_rate", Unit::Ratio, rate);
    count(metrics, "fast_retransmits", flows.fast_retransmits);
    count(metrics, "rto_count", flows.retransmission_timeouts);
    count(
        metrics,
        "spurious_retransmissions",
        flows.spurious_retransmits,
    );
}

fn cbr_metrics(
    metrics: &mut Metrics,
    prefix: &str,
    sent: u64,
    ran: Duration,
    clients: &[(
        String,
        std::rc::Rc<std::cell::RefCell<crate::workload::CbrReceiverStats>>,
    )],
) {
    let mut received = 0;
    let mut bytes = 0;
    let mut reordered = 0;
    let mut jitter: f64 = 0.0;
    let mut burst = 0;
    let mut delay = Histogram::<u64>::new(3).expect("3 significant digits is valid");
    let per_client = sent / (clients.len().max(1) as u64);
    for (_, stats) in clients {
        let s = stats.borrow();
        received += s.received;
        bytes += s.bytes;
        reordered += s.reordered;
        jitter = jitter.max(s.jitter_s);
        burst = burst.max(s.max_loss_burst(per_client));
        // Both histograms auto-resize; adding cannot fail.
        let _ = delay.add(&s.delay_us);
    }
    let count = |m: &mut Metrics, name: &str, v: u64| put(m, prefix, name, Unit::Count, v as f64);
    count(metrics, "sent", sent);
    count(metrics, "received", received);
    let lost = sent.saturating_sub(received);
    count(metrics, "lost", lost);
    put(metrics, prefix, "loss_rate", Unit::Ratio, ratio(lost, sent));
    count(metrics, "reordered", reordered);
    let secs = ran.as_secs_f64();
    let goodput = if secs > 0.0 {
        bytes as f64 * 8.0 / secs
    } else {
        0.0
    };
    put(metrics, prefix, "goodput", Unit::BitsPerSecond, goodput);
    percentiles(
        metrics,
        prefix,
        "delay",
        &delay,
        &[("p50", 0.5), ("p90", 0.9), ("p99", 0.99)],
    );
    if received > 1 {
        put(metrics, prefix, "jitter", Unit::Seconds, jitter);
    }
    count(metrics, "max_loss_burst", burst);
}

/// Plot data: every link direction, in link order, down then up.
pub(super) fn plots(scenario: &Scenario, report: &RunReport) -> PlotData {
    let mut data = PlotData::default();
    let bins = usize::try_from(report.elapsed.as_nanos().div_ceil(STATS_BIN.as_nanos()))
        .unwrap_or(usize::MAX);
    let per_second = 1.0 / STATS_BIN.as_secs_f64();
    for link in &scenario.links {
        let directions = [
            (link.down_id(), egress_name(&link.server, &link.client)),
            (link.up_id(), egress_name(&link.client, &link.server)),
        ];
        for (id, egress) in directions {
            let Some(stats) = report.link(&egress) else {
                continue;
            };
            let binned = |values: &[u64], scale: f64| -> Vec<f64> {
                (0..bins)
                    .map(|i| values.get(i).copied().unwrap_or(0) as f64 * scale)
                    .collect()
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
