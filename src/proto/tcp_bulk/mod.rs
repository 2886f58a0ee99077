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
        "segments retransmitted (tshark's count)",
    ),
    def(
        "retransmission_rate",
        Unit::Ratio,
        "retransmissions / segments",
    ),
    def(
        "fast_retransmits",
        Unit::Count,
        "retransmissions after three duplicate ACKs",
    ),
    def(
        "rto_count",
        Unit::Count,
        "retransmission timeouts (episodes)",
    ),
    def(
        "spurious_retransmissions",
        Unit::Count,
        "retransmissions of data already acknowledged",
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
    }))
}

/// The server's TCP flow counters, as recorded by its NIC.
struct FlowGauges {
    segments: Counter,
    wire_bytes: Counter,
    retransmissions: Counter,
    rate: Gauge,
    fast: Counter,
    rto: Counter,
    spurious: Counter,
}

impl FlowGauges {
    fn new(rec: &Recorder) -> Result<FlowGauges, InstallError> {
        Ok(FlowGauges {
            segments: rec.counter("segments")?,
            wire_bytes: rec.counter("wire_bytes")?,
            retransmissions: rec.counter("retransmissions")?,
            rate: rec.gauge("retransmission_rate")?,
            fast: rec.counter("fast_retransmits")?,
            rto: rec.counter("rto_count")?,
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
}

impl SessionEnd for BulkEnd {
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
        if let Some(server) = report.host(&self.server) {
            for (_, f) in server.tcp_sent().filter(|(k, _)| k.src.port() == self.port) {
                flows.segments += f.segments;
                flows.wire_bytes += f.wire_bytes;
                flows.retransmitted_segments += f.retransmitted_segments;
                flows.fast_retransmits += f.fast_retransmits;
                flows.retransmission_timeouts += f.retransmission_timeouts;
                flows.spurious_retransmits += f.spurious_retransmits;
            }
        }
        let g = &self.flows;
        g.segments.add(flows.segments);
        g.wire_bytes.add(flows.wire_bytes);
        g.retransmissions.add(flows.retransmitted_segments);
        if flows.segments > 0 {
            g.rate
                .set(flows.retransmitted_segments as f64 / flows.segments as f64);
        }
        g.fast.add(flows.fast_retransmits);
        g.rto.add(flows.retransmission_timeouts);
        g.spurious.add(flows.spurious_retransmits);
    }
}
