//! `udp-cbr`: the server sends fixed-size UDP datagrams at a constant bit
//! rate to every client; each client measures loss, reordering, one-way
//! delay and RFC 3550 jitter. The transport baseline of the UDP protocols
//! and the workload of the UDP fidelity tests.
//!
//! The server stops one second before the end of the run (in runs longer
//! than two seconds) so that every datagram sent is received or lost by the
//! end; datagrams sent within the slowest observed delay of the end and not
//! received are counted as in flight, never as lost.

pub mod driver;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use hdrhistogram::Histogram;

pub use driver::{interval, ReceiverStats, HEADER};

use super::{
    CheckContext, InstallError, OptionDef, OptionError, OptionKind, Options, Protocol, SessionEnd,
    SessionSetup, Transport,
};
use crate::metrics::catalog::def;
use crate::metrics::{EventKind, MetricDef, Recorder, Unit};
use crate::net::Net;
use crate::sim::{Harness, RunReport};

/// The `udp-cbr` protocol.
pub static PROTOCOL: Protocol = Protocol {
    name: "udp-cbr",
    about: "UDP constant bit rate: fixed-size datagrams at a steady rate",
    transport: Transport::UdpPush,
    port: (5004, 2),
    options: OPTIONS,
    metrics: METRICS,
    headline: &[
        ("received", "received"),
        ("sent", "sent"),
        ("loss", "loss_rate"),
        ("longest burst", "max_loss_burst"),
        ("delay p50", "delay_p50"),
        ("p99", "delay_p99"),
        ("jitter", "jitter"),
    ],
    media: false,
    check,
    install,
    live_serve: None,
    live_play: None,
};

/// Default datagram payload: seven MPEG-TS packets.
pub const DEFAULT_PAYLOAD: u64 = 1316;

/// The most datagrams per second a session may send: 10 Gbit/s of
/// full-sized datagrams, and a bound on the simulation's work per second.
pub const MAX_DATAGRAMS_PER_SECOND: f64 = 1_000_000.0;

const OPTIONS: &[OptionDef] = &[
    OptionDef {
        key: "bitrate",
        kind: OptionKind::Bitrate,
        required: true,
        help: "udp-cbr sends at it: bit rate of UDP payload",
    },
    OptionDef {
        key: "payload",
        kind: OptionKind::Size,
        required: false,
        help: "bytes per datagram, 16..=65507 and one packet at the MTU (default 1316)",
    },
];

/// Metrics of a `udp-cbr` session, all clients together.
pub const METRICS: &[MetricDef] = &[
    def(
        "sent",
        Unit::Count,
        "datagrams the server sent, counted once per client",
    ),
    def(
        "received",
        Unit::Count,
        "datagrams the clients received (duplicates excluded)",
    ),
    def(
        "in_flight",
        Unit::Count,
        "datagrams sent within the slowest observed delay of the end, not yet received",
    ),
    def("lost", Unit::Count, "sent − received − in_flight"),
    def("loss_rate", Unit::Ratio, "lost / (sent − in_flight)"),
    def(
        "reordered",
        Unit::Count,
        "datagrams that arrived after a later-sent one",
    ),
    def(
        "goodput",
        Unit::BitsPerSecond,
        "payload bits received by all clients / time the stream ran",
    ),
    def("delay_p50", Unit::Seconds, "one-way delay, median"),
    def("delay_p90", Unit::Seconds, "one-way delay, 90th percentile"),
    def("delay_p99", Unit::Seconds, "one-way delay, 99th percentile"),
    def("delay_max", Unit::Seconds, "one-way delay, largest"),
    def(
        "jitter",
        Unit::Seconds,
        "RFC 3550 interarrival jitter at the end of the run (largest over clients)",
    ),
    def(
        "max_loss_burst",
        Unit::Count,
        "longest run of consecutive lost datagrams",
    ),
];

fn payload_of(options: &Options) -> usize {
    options
        .size("payload")
        .map_or(DEFAULT_PAYLOAD as usize, |p| {
            usize::try_from(p).unwrap_or(usize::MAX)
        })
}

fn check(options: &Options, cx: &CheckContext) -> Result<(), Vec<OptionError>> {
    let payload = payload_of(options);
    let fits = cx.mtu.saturating_sub(super::UDP_IP_HEADERS);
    if !(16..=65507).contains(&payload) {
        return Err(vec![OptionError::at(
            "payload",
            format!("`payload` must be between 16 and 65507 bytes, found {payload}"),
        )]);
    }
    if payload > fits {
        let mtu = cx.mtu;
        return Err(vec![OptionError::at(
            "payload",
            format!("`payload` of {payload} bytes does not fit one packet at mtu {mtu} (at most {fits} bytes; packets are not fragmented)"),
        )]);
    }
    let Some(bitrate) = options.bitrate("bitrate") else {
        return Ok(());
    };
    let per_second = bitrate as f64 / (payload as f64 * 8.0);
    if per_second > MAX_DATAGRAMS_PER_SECOND {
        return Err(vec![OptionError::at(
            "bitrate",
            format!(
                "`bitrate` {} in {payload}-byte datagrams is {per_second:.0} datagrams/s; \
                 at most {MAX_DATAGRAMS_PER_SECOND:.0} are simulated (raise `payload` or lower `bitrate`)",
                Unit::BitsPerSecond.format(bitrate as f64)
            ),
        )]);
    }
    Ok(())
}

fn install(
    harness: &mut Harness,
    setup: SessionSetup<'_>,
) -> Result<Box<dyn SessionEnd>, InstallError> {
    let spec = setup.spec;
    let rec = setup.recorder;
    let port = spec.port;
    let bitrate = spec.options.bitrate("bitrate").unwrap_or(1);
    let payload = payload_of(&spec.options);
    let stop = spec
        .stop
        .unwrap_or_else(|| super::default_udp_stop(setup.run));
    let sent = Rc::new(Cell::new(0u64));
    let started = Rc::new(Cell::new(None));
    let (clients, start, counter, began) = (
        spec.clients.clone(),
        spec.start,
        sent.clone(),
        started.clone(),
    );
    let (server_rec, server) = (rec.clone(), spec.server.clone());
    harness.app(&spec.server, move |net| {
        let (clients, counter, began) = (clients.clone(), counter.clone(), began.clone());
        let (rec, server) = (server_rec.clone(), server.clone());
        async move {
            super::start_at(&net, start).await;
            let now = net.now();
            began.set(Some(now));
            for client in &clients {
                let kind = EventKind::SessionStart {
                    session: rec.session().to_owned(),
                    client: client.clone(),
                };
                rec.event(now, kind);
            }
            let mut targets = Vec::new();
            for client in &clients {
                match net.resolve(client, port).await {
                    Ok(addr) => targets.push(addr),
                    Err(e) => {
                        return rec.fail(net.now(), &server, format!("resolve {client}: {e}"))
                    }
                }
            }
            let count = || counter.set(counter.get() + 1);
            if let Err(e) = driver::send(&net, &targets, bitrate, payload, stop, &count).await {
                rec.fail(net.now(), &server, format!("send: {e}"));
            }
        }
    })?;
    let mut receivers = Vec::new();
    for client in &spec.clients {
        let stats = Rc::new(RefCell::new(ReceiverStats::default()));
        let (keep, rec, host) = (stats.clone(), rec.clone(), client.clone());
        harness.app(client, move |net| {
            let (keep, rec, host) = (keep.clone(), rec.clone(), host.clone());
            async move {
                if let Err(e) = driver::receive(&net, port, keep).await {
                    rec.fail(net.now(), &host, format!("bind UDP port {port}: {e}"));
                }
            }
        })?;
        receivers.push(stats);
    }
    Ok(Box::new(CbrEnd {
        start: spec.start,
        stop,
        interval: interval(bitrate, payload),
        sent,
        started,
        receivers,
        recorder: rec,
    }))
}

struct CbrEnd {
    start: Duration,
    stop: Duration,
    interval: Duration,
    /// Datagrams sent to each client.
    sent: Rc<Cell<u64>>,
    /// When the first was sent.
    started: Rc<Cell<Option<Duration>>>,
    receivers: Vec<Rc<RefCell<ReceiverStats>>>,
    recorder: Recorder,
}

impl CbrEnd {
    /// How many datagrams (from the first) were sent at least `delay` before
    /// `end`, so that they had as long to arrive as the slowest one that did.
    fn settled(&self, end: Duration, delay: Duration) -> u64 {
        let started = self.started.get().unwrap_or(self.start);
        let cutoff = end.saturating_sub(delay);
        if cutoff < started {
            return 0;
        }
        let n = (cutoff - started).as_nanos() / self.interval.as_nanos().max(1) + 1;
        u64::try_from(n).unwrap_or(u64::MAX).min(self.sent.get())
    }

    fn record(&self, end: Duration) -> Result<(), InstallError> {
        let rec = &self.recorder;
        let sent_each = self.sent.get();
        let (mut received, mut bytes, mut reordered, mut in_flight, mut burst) = (0, 0, 0, 0, 0);
        let mut jitter: f64 = 0.0;
        let mut delay = Histogram::<u64>::new(3).expect("3 significant digits is valid");
        for stats in &self.receivers {
            let s = stats.borrow();
            // Datagrams sent within the slowest observed delay of the end,
            // and not received, may still arrive: in flight, not lost.
            let slowest = Duration::from_micros(s.delay_us.max()) + Duration::from_millis(1);
            let settled = if s.received == 0 {
                sent_each
            } else {
                self.settled(end, slowest)
            };
            in_flight += (settled..sent_each).filter(|seq| !s.has(*seq)).count() as u64;
            received += s.received;
            bytes += s.bytes;
            reordered += s.reordered;
            jitter = jitter.max(s.jitter_s);
            burst = burst.max(s.max_loss_burst(settled));
            let _ = delay.add(&s.delay_us);
        }
        let sent = sent_each * self.receivers.len() as u64;
        rec.counter("sent")?.add(sent);
        rec.counter("received")?.add(received);
        rec.counter("in_flight")?.add(in_flight);
        let lost = sent.saturating_sub(received + in_flight);
        rec.counter("lost")?.add(lost);
        if sent > in_flight {
            rec.gauge("loss_rate")?
                .set(lost as f64 / (sent - in_flight) as f64);
        }
        rec.counter("reordered")?.add(reordered);
        let ran = self.stop.min(end).saturating_sub(self.start).as_secs_f64();
        let goodput = if ran > 0.0 {
            bytes as f64 * 8.0 / ran
        } else {
            0.0
        };
        rec.gauge("goodput")?.set(goodput);
        rec.histogram("delay")?.add(&delay);
        if received > 1 {
            rec.gauge("jitter")?.set(jitter);
        }
        rec.counter("max_loss_burst")?.add(burst);
        Ok(())
    }
}

impl SessionEnd for CbrEnd {
    fn finish(&mut self, end: Duration, _: &RunReport) {
        // Every name is in METRICS (a test checks it), so this cannot fail.
        let _ = self.record(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::EventSink;

    #[test]
    fn every_metric_it_records_is_in_its_table() {
        let rec = Recorder::new("s", METRICS, EventSink::new());
        let end = CbrEnd {
            start: Duration::ZERO,
            stop: Duration::from_secs(1),
            interval: Duration::from_millis(10),
            sent: Rc::new(Cell::new(3)),
            started: Rc::new(Cell::new(Some(Duration::ZERO))),
            receivers: vec![Rc::new(RefCell::new(ReceiverStats::default()))],
            recorder: rec,
        };
        end.record(Duration::from_secs(2)).unwrap();
    }
}
