//! `tcp-bulk`: the server sends as fast as TCP allows, each client reads and
//! counts. The transport baseline every TCP protocol is compared with, and
//! the workload of the TCP fidelity tests (ns-3's BulkSend/PacketSink).
//!
//! Goodput is application bytes read × 8 over the time from the session's
//! start to the last client's end of stream (or the end of the run), slow
//! start included, as ns-3's figures are.

pub mod driver;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

pub use driver::{ClientLog, ClientObserver};

use super::{
    CheckContext, InstallError, OptionDef, OptionError, OptionKind, Options, Protocol, SessionEnd,
    SessionSetup, Transport,
};
use crate::metrics::catalog::def;
use crate::metrics::{Counter, EventKind, Gauge, MetricDef, Recorder, Unit};
use crate::sim::{Harness, RunReport};

/// The `tcp-bulk` protocol.
pub static PROTOCOL: Protocol = Protocol {
    name: "tcp-bulk",
    about: "TCP bulk transfer: the server sends as fast as TCP allows",
    transport: Transport::Tcp,
    port: (5001, 1),
    options: OPTIONS,
    metrics: METRICS,
    headline: &[
        ("goodput", "goodput"),
        ("startup", "startup"),
        ("retransmissions", "retransmissions"),
        ("RTOs", "rto_count"),
    ],
    media: false,
    check,
    install,
    live_serve: None,
    live_play: None,
};

const OPTIONS: &[OptionDef] = &[OptionDef {
    key: "bytes",
    kind: OptionKind::Size,
    required: false,
    help: "stop after this many bytes per client (default: never)",
}];

/// Metrics of a `tcp-bulk` session, all clients together.
pub const METRICS: &[MetricDef] = &[
    def("goodput", Unit::BitsPerSecond, "application bytes read × 8 / time from the session's start to the last client's end of stream (or the end of the run)"),
    def("bytes", Unit::Bytes, "application bytes the clients read"),
    def("clients_failed", Unit::Count, "clients that could not connect or lost their connection"),
    def(
        "startup",
        Unit::Seconds,
        "connect start → first byte read (largest over clients)",
    ),
    def("segments", Unit::Count, "TCP segments the server sent"),
    def("wire_bytes", Unit::Bytes, "IP bytes the server sent"),
    def(
        "retransmissions",
        Unit::Count,
        "segments the server's TCP retransmitted, as it counted them (smoltcp profile: tshark's count)",
    ),
    def(
        "retransmission_rate",
        Unit::Ratio,
        "retransmissions / segments",
    ),
    def(
        "wire_retransmissions",
        Unit::Count,
        "segments tshark flags as retransmissions (tcp.analysis.retransmission) on the server's capture",
    ),
    def(
        "fast_retransmits",
        Unit::Count,
        "retransmissions of losses found by ACKs: duplicate ACKs, SACK or RACK (smoltcp profile: tshark's fast retransmissions)",
    ),
    def(
        "rto_count",
        Unit::Count,
        "retransmission timeouts: how often the server's timer fired with data outstanding (smoltcp profile: inferred from the wire)",
    ),
    def(
        "spurious_rtos",
        Unit::Count,
        "timeouts the timestamp echo showed were spurious (nothing is undone)",
    ),
    def(
        "recoveries",
        Unit::Count,
        "fast-recovery episodes",
    ),
    def(
        "rack_losses",
        Unit::Count,
        "segments RACK marked lost",
    ),
    def(
        "tlp_probes",
        Unit::Count,
        "tail loss probes sent",
    ),
    def(
        "spurious_retransmissions",
        Unit::Count,
        "retransmissions of data already acknowledged (tshark's count)",
    ),
];

fn check(options: &Options, _: &CheckContext) -> Result<(), Vec<OptionError>> {
    match options.size("bytes") {
        Some(0) => Err(vec![OptionError::at(
            "bytes",
            "`bytes` must be above 0 bytes",
        )]),
        _ => Ok(()),
    }
}

/// A client's view, recorded as it happens.
struct Observer {
    recorder: Recorder,
    client: String,
    bytes: Counter,
}

impl ClientObserver for Observer {
    fn milestone(&self, at: Duration, what: &str) {
        self.recorder.event(
            at,
            EventKind::ProtocolMessage {
                session: self.recorder.session().to_owned(),
                host: self.client.clone(),
                message: what.to_owned(),
            },
        );
    }

    fn bytes(&self, n: u64) {
        self.bytes.add(n);
    }
}

fn install(
    harness: &mut Harness,
    setup: SessionSetup<'_>,
) -> Result<Box<dyn SessionEnd>, InstallError> {
    let spec = setup.spec;
    let rec = setup.recorder;
    let (port, stop, limit) = (spec.port, spec.stop, spec.options.size("bytes"));
    // Every client may connect at once: the backlog holds them all.
    let backlog = spec.clients.len().max(16);
    let server_rec = rec.clone();
    let server_host = spec.server.clone();
    harness.app(&spec.server, move |net| {
        let (rec, host) = (server_rec.clone(), server_host.clone());
        async move {
            if let Err(e) = driver::serve(net.clone(), port, backlog, limit, stop).await {
                rec.fail(
                    crate::net::Net::now(&net),
                    &host,
                    format!("cannot listen on port {port}: {e}"),
                );
            }
        }
    })?;
    let bytes = rec.counter("bytes")?;
    let mut clients = Vec::new();
    for client in &spec.clients {
        let log = Rc::new(RefCell::new(ClientLog::default()));
        let observer = Rc::new(Observer {
            recorder: rec.clone(),
            client: client.clone(),
            bytes: bytes.clone(),
        });
        let (server, start, keep) = (spec.server.clone(), spec.start, log.clone());
        let session = spec.name.clone();
        let host = client.clone();
        harness.app(client, move |net| {
            let (server, keep, observer) = (server.clone(), keep.clone(), observer.clone());
            let (session, host) = (session.clone(), host.clone());
            async move {
                super::start_at(&net, start).await;
                let at = crate::net::Net::now(&net);
                observer.recorder.event(
                    at,
                    EventKind::SessionStart {
                        session,
                        client: host,
                    },
                );
                driver::play(net, &server, port, keep, observer.as_ref()).await;
            }
        })?;
        clients.push(log);
    }
    Ok(Box::new(BulkEnd {
        start: spec.start,
        server: spec.server.clone(),
        port,
        clients,
        goodput: rec.gauge("goodput")?,
        failed: rec.counter("clients_failed")?,
        startup: rec.gauge("startup")?,
        bytes,
        flows: FlowGauges::new(&rec)?,
        cwnd: Vec::new(),
        session: rec.session().to_owned(),
    }))
}

/// The server's TCP counters: its NIC's view of the wire and its TCP's own.
struct FlowGauges {
    segments: Counter,
    wire_bytes: Counter,
    retransmissions: Counter,
    rate: Gauge,
    wire_retransmissions: Counter,
    fast: Counter,
    rto: Counter,
    spurious_rtos: Counter,
    recoveries: Counter,
    rack_losses: Counter,
    tlp_probes: Counter,
    spurious: Counter,
}

impl FlowGauges {
    fn new(rec: &Recorder) -> Result<FlowGauges, InstallError> {
        Ok(FlowGauges {
            segments: rec.counter("segments")?,
            wire_bytes: rec.counter("wire_bytes")?,
            retransmissions: rec.counter("retransmissions")?,
            rate: rec.gauge("retransmission_rate")?,
            wire_retransmissions: rec.counter("wire_retransmissions")?,
            fast: rec.counter("fast_retransmits")?,
            rto: rec.counter("rto_count")?,
            spurious_rtos: rec.counter("spurious_rtos")?,
            recoveries: rec.counter("recoveries")?,
            rack_losses: rec.counter("rack_losses")?,
            tlp_probes: rec.counter("tlp_probes")?,
            spurious: rec.counter("spurious_retransmissions")?,
        })
    }
}

struct BulkEnd {
    start: Duration,
    server: String,
    port: u16,
    clients: Vec<Rc<RefCell<ClientLog>>>,
    goodput: Gauge,
    failed: Counter,
    startup: Gauge,
    bytes: Counter,
    flows: FlowGauges,
    /// The server's congestion window per connection, filled by `finish`.
    cwnd: Vec<crate::metrics::Series>,
    session: String,
}

/// Width of a congestion-window bin.
const CWND_BIN: Duration = Duration::from_millis(100);
/// Most bins per congestion-window series (one hour).
const CWND_BINS: usize = 36_000;

/// The congestion window of each connection `server` sent on from `port`,
/// binned: each bin holds the window at its end. Labelled with the session,
/// and the client's host when there are several connections.
fn cwnd_series(
    session: &str,
    server: &crate::sim::HostReport,
    report: &RunReport,
    port: u16,
    end: Duration,
) -> Vec<crate::metrics::Series> {
    let conns: Vec<_> = server
        .connections
        .iter()
        .filter(|c| c.local.port() == port && !c.series.is_empty())
        .collect();
    conns
        .iter()
        .map(|c| {
            let label = if conns.len() > 1 {
                let peer = report
                    .hosts
                    .iter()
                    .find(|h| h.addr == *c.remote.ip())
                    .map_or_else(|| c.remote.to_string(), |h| h.name.clone());
                format!("{session}/{peer}")
            } else {
                session.to_owned()
            };
            let bins = usize::try_from(end.as_nanos().div_ceil(CWND_BIN.as_nanos()))
                .unwrap_or(CWND_BINS)
                .min(CWND_BINS);
            let mut values = vec![f64::NAN; bins];
            let mut samples = c.series.iter().peekable();
            let mut current = f64::NAN;
            for (i, value) in values.iter_mut().enumerate() {
                let bin_end = CWND_BIN * (i as u32 + 1);
                while let Some(s) = samples.next_if(|s| s.at < bin_end) {
                    current = s.cwnd as f64 / 1024.0;
                }
                *value = current;
            }
            crate::metrics::Series {
                label,
                bin: CWND_BIN,
                values,
            }
        })
        .collect()
}

impl SessionEnd for BulkEnd {
    fn plots(&self) -> super::SessionPlots {
        super::SessionPlots {
            cwnd_kib: self.cwnd.clone(),
            ..super::SessionPlots::default()
        }
    }

    fn finish(&mut self, end: Duration, report: &RunReport) {
        let logs: Vec<ClientLog> = self.clients.iter().map(|c| c.borrow().clone()).collect();
        // The transfer ends when every client has read the end of the
        // stream (after a `bytes` limit or `stop`), else at the end of the run.
        let finished: Option<Vec<Duration>> = logs.iter().map(|l| l.finished).collect();
        let last = finished
            .and_then(|f| f.into_iter().max())
            .unwrap_or(end)
            .min(end);
        let secs = last.saturating_sub(self.start).as_secs_f64();
        let bytes = self.bytes.get();
        self.goodput.set(if secs > 0.0 {
            bytes as f64 * 8.0 / secs
        } else {
            0.0
        });
        self.failed
            .add(logs.iter().filter(|l| l.error.is_some()).count() as u64);
        let startups: Option<Vec<Duration>> = logs
            .iter()
            .map(|l| Some(l.first_byte?.saturating_sub(l.started?)))
            .collect();
        if let Some(startup) = startups.and_then(|v| v.into_iter().max()) {
            self.startup.set(startup.as_secs_f64());
        }
        let mut flows = crate::net::flows::TcpFlowStats::default();
        let mut own = crate::net::tcp::TcpStats::default();
        let mut has_own = false;
        if let Some(server) = report.host(&self.server) {
            for (_, f) in server.tcp_sent().filter(|(k, _)| k.src.port() == self.port) {
                flows.segments += f.segments;
                flows.wire_bytes += f.wire_bytes;
                flows.retransmitted_segments += f.retransmitted_segments;
                flows.fast_retransmits += f.fast_retransmits;
                flows.retransmission_timeouts += f.retransmission_timeouts;
                flows.spurious_retransmits += f.spurious_retransmits;
            }
            has_own = server.tcp_table.is_some();
            self.cwnd = cwnd_series(&self.session, server, report, self.port, end);
            for c in server
                .connections
                .iter()
                .filter(|c| c.local.port() == self.port)
            {
                let s = &c.stats;
                own.retransmitted_segments += s.retransmitted_segments;
                own.fast_retransmits += s.fast_retransmits;
                own.rtos += s.rtos;
                own.spurious_rtos += s.spurious_rtos;
                own.recoveries += s.recoveries;
                own.rack_losses += s.rack_losses;
                own.tlp_probes += s.tlp_probes;
            }
        }
        if !has_own {
            // smoltcp's TCP counts nothing itself: the wire is all we have.
            own.retransmitted_segments = flows.retransmitted_segments;
            own.fast_retransmits = flows.fast_retransmits;
            own.rtos = flows.retransmission_timeouts;
        }
        let g = &self.flows;
        g.segments.add(flows.segments);
        g.wire_bytes.add(flows.wire_bytes);
        g.retransmissions.add(own.retransmitted_segments);
        if flows.segments > 0 {
            g.rate
                .set(own.retransmitted_segments as f64 / flows.segments as f64);
        }
        g.wire_retransmissions.add(flows.retransmitted_segments);
        g.fast.add(own.fast_retransmits);
        g.rto.add(own.rtos);
        g.spurious_rtos.add(own.spurious_rtos);
        g.recoveries.add(own.recoveries);
        g.rack_losses.add(own.rack_losses);
        g.tlp_probes.add(own.tlp_probes);
        g.spurious.add(flows.spurious_retransmits);
    }
}
