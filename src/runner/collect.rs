//! Turns a run's raw counters into named metrics (see
//! [`crate::metrics::catalog`]) and plot data.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::directions;
use super::sessions::Probe;
use crate::metrics::{Cdf, Metric, PlotData, Series, Unit};
use crate::net::link::{LinkStats, STATS_BIN};
use crate::scenario::{ProtocolOptions, Scenario, SessionSpec};
use crate::sim::RunReport;
use crate::workload::{cbr_interval, BulkClientStats, CbrReceiverStats};

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

/// Every metric of the run, by name.
pub(super) fn metrics(scenario: &Scenario, report: &RunReport, probes: &[Probe]) -> Metrics {
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
    for (session, probe) in scenario.sessions.iter().zip(probes) {
        let prefix = format!("session.{}", session.name);
        match probe {
            Probe::Bulk { clients } => {
                bulk_metrics(&mut metrics, &prefix, session, clients, report)
            }
            Probe::Cbr {
                sent,
                started,
                stop,
                clients,
            } => {
                let ran = stop.min(&report.elapsed).saturating_sub(session.start);
                let stream = Stream {
                    sent: sent.get(),
                    started: started.get().unwrap_or(session.start),
                    interval: session_interval(session),
                    elapsed: report.elapsed,
                };
                cbr_metrics(&mut metrics, &prefix, &stream, ran, clients);
            }
        }
    }
    metrics
}

fn link_metrics(metrics: &mut Metrics, prefix: &str, s: &LinkStats, elapsed: Duration) {
    let count = |m: &mut Metrics, name: &str, v: u64| put(m, prefix, name, Unit::Count, v as f64);
    count(metrics, "offered", s.offered);
    count(metrics, "delivered", s.delivered);
    count(metrics, "in_queue_at_end", s.in_queue_at_end);
    count(metrics, "in_flight_at_end", s.in_flight_at_end);
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
    // Of the copies whose fate was settled by the end: those still queued
    // or on the wire are neither lost nor delivered.
    put_ratio(
        metrics,
        prefix,
        "loss_rate",
        s.dropped(),
        s.dropped() + s.delivered,
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

fn bulk_metrics(
    metrics: &mut Metrics,
    prefix: &str,
    session: &SessionSpec,
    clients: &[(String, Rc<RefCell<BulkClientStats>>)],
    report: &RunReport,
) {
    let bytes: u64 = clients.iter().map(|(_, s)| s.borrow().bytes).sum();
    // The transfer ends when every client has read the end of the stream
    // (after a `bytes` limit or `stop`), else at the end of the run.
    let finished: Option<Vec<Duration>> =
        clients.iter().map(|(_, s)| s.borrow().finished).collect();
    let end = finished
        .and_then(|f| f.into_iter().max())
        .unwrap_or(report.elapsed)
        .min(report.elapsed);
    let secs = end.saturating_sub(session.start).as_secs_f64();
    let goodput = if secs > 0.0 {
        bytes as f64 * 8.0 / secs
    } else {
        0.0
    };
    put(metrics, prefix, "goodput", Unit::BitsPerSecond, goodput);
    put(metrics, prefix, "bytes", Unit::Bytes, bytes as f64);
    let failed = clients
        .iter()
        .filter(|(_, s)| s.borrow().error.is_some())
        .count();
    put(
        metrics,
        prefix,
        "clients_failed",
        Unit::Count,
        failed as f64,
    );
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
    let (retransmitted, segments) = (flows.retransmitted_segments, flows.segments);
    put_ratio(
        metrics,
        prefix,
        "retransmission_rate",
        retransmitted,
        segments,
    );
    count(metrics, "fast_retransmits", flows.fast_retransmits);
    count(metrics, "rto_count", flows.retransmission_timeouts);
    count(
        metrics,
        "spurious_retransmissions",
        flows.spurious_retransmits,
    );
}

/// What the sender of a CBR stream did, for telling lost datagrams from
/// those still in flight when the run ended.
struct Stream {
    /// Datagrams sent to each client.
    sent: u64,
    /// When the first was sent.
    started: Duration,
    /// Time between datagrams.
    interval: Duration,
    /// When the run ended.
    elapsed: Duration,
}

impl Stream {
    /// How many datagrams (from the first) were sent at least `delay`
    /// before the end, so that they had as long to arrive as the slowest
    /// one that did.
    fn settled(&self, delay: Duration) -> u64 {
        let cutoff = self.elapsed.saturating_sub(delay);
        if cutoff < self.started {
            return 0;
        }
        let since = (cutoff - self.started).as_nanos();
        let n = since / self.interval.as_nanos().max(1) + 1;
        u64::try_from(n).unwrap_or(u64::MAX).min(self.sent)
    }
}

fn session_interval(session: &SessionSpec) -> Duration {
    match session.protocol {
        ProtocolOptions::UdpCbr { bitrate, payload } => cbr_interval(bitrate, payload),
        ProtocolOptions::TcpBulk { .. } => Duration::ZERO,
    }
}

type CbrClients = [(String, Rc<RefCell<CbrReceiverStats>>)];

fn cbr_metrics(
    metrics: &mut Metrics,
    prefix: &str,
    stream: &Stream,
    ran: Duration,
    clients: &CbrClients,
) {
    let mut received = 0;
    let mut bytes = 0;
    let mut reordered = 0;
    let mut jitter: f64 = 0.0;
    let mut burst = 0;
    let mut in_flight = 0;
    let mut delay = Histogram::<u64>::new(3).expect("3 significant digits is valid");
    for (_, stats) in clients {
        let s = stats.borrow();
        // Datagrams sent within the slowest observed delay of the end, and
        // not received, may still arrive: in flight, not lost.
        let slowest = Duration::from_micros(s.delay_us.max()) + Duration::from_millis(1);
        let settled = if s.received == 0 {
            stream.sent
        } else {
            stream.settled(slowest)
        };
        in_flight += (settled..stream.sent).filter(|seq| !s.has(*seq)).count() as u64;
        received += s.received;
        bytes += s.bytes;
        reordered += s.reordered;
        jitter = jitter.max(s.jitter_s);
        burst = burst.max(s.max_loss_burst(settled));
        // Both histograms auto-resize; adding cannot fail.
        let _ = delay.add(&s.delay_us);
    }
    let sent = stream.sent * clients.len() as u64;
    let count = |m: &mut Metrics, name: &str, v: u64| put(m, prefix, name, Unit::Count, v as f64);
    count(metrics, "sent", sent);
    count(metrics, "received", received);
    count(metrics, "in_flight", in_flight);
    let lost = sent.saturating_sub(received + in_flight);
    count(metrics, "lost", lost);
    put_ratio(metrics, prefix, "loss_rate", lost, sent - in_flight);
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
