//! The `rtsp` entry: options, metrics, and installing a session's server
//! and clients in the simulation.
//!
//! The server listens on the session's port (8554 for the first RTSP
//! session) and serves the scenario's media at `/live`; each client
//! connects, sets up every track over `transport` and plays through the
//! one player, its capture clock taken from the server's SRs (exact in
//! the simulator). The player's target latency is the jitter buffer's:
//! a frame is due when the jitter buffer gives up the last hole in front
//! of it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use super::client::{ClientConfig, ClientSession, ClientTransport};
use super::driver::{self, ClientObserver, ServerObserver, Timeline};
use super::server::ServerConfig;
use super::RtspEvent;
use crate::metrics::catalog::{def, join, QOE_METRICS};
use crate::metrics::{EventKind, MetricDef, Recorder, Unit};
use crate::net::{Net, NetUdp};
use crate::player::{Player, PlayerConfig, PlayerEvent, PlayoutMode};
use crate::proto::rtp::jitter::DEFAULT_LATENCY;
use crate::proto::rtp::RTP_HEADER;
use crate::proto::udp_ts::qoe::QoeTally;
use crate::proto::{
    CheckContext, InstallError, OptionDef, OptionError, OptionKind, Options, Protocol, SessionEnd,
    SessionSetup, Transport,
};
use crate::rng::mix64;
use crate::sim::{Harness, RunReport};

/// The `rtsp` protocol.
pub static PROTOCOL: Protocol = Protocol {
    name: "rtsp",
    about: "RTSP 1.0 with RTP/RTCP: UDP or TCP-interleaved, optional NACK retransmission",
    transport: Transport::Tcp,
    port: (8554, 2),
    options: OPTIONS,
    metrics: &METRICS,
    headline: &[
        ("startup", "startup"),
        ("latency p50", "latency_p50"),
        ("stalls", "stalls"),
        ("frames presented", "frames_presented"),
        ("lost", "frames_lost"),
        ("late", "frames_late"),
        ("undecodable", "frames_undecodable"),
        ("RTP lost", "rtp_packets_lost"),
        ("NACKs", "nacks_sent"),
    ],
    media: true,
    check,
    install,
    live_serve: None,
    live_play: None,
};

const OPTIONS: &[OptionDef] = &[
    OptionDef {
        key: "transport",
        kind: OptionKind::Choice(&["udp", "tcp"]),
        required: false,
        help: "RTP over UDP (default) or interleaved on the RTSP connection (tcp)",
    },
    OptionDef {
        key: "nack",
        kind: OptionKind::Bool,
        required: false,
        help: "clients send RFC 4585 NACKs and the server retransmits (RFC 4588) from its history (default false)",
    },
    OptionDef {
        key: "jitter_buffer",
        kind: OptionKind::Duration,
        required: false,
        help: "the clients' jitter buffer latency, also the player's target (default 200ms, as GStreamer's rtpjitterbuffer)",
    },
];

const OWN: &[MetricDef] = &[
    def(
        "rtp_packets_received",
        Unit::Count,
        "RTP packets the clients received (retransmissions included)",
    ),
    def(
        "rtp_bytes_received",
        Unit::Bytes,
        "RTP bytes the clients received",
    ),
    def(
        "rtp_packets_lost",
        Unit::Count,
        "RTP packets the clients' jitter buffers gave up",
    ),
    def(
        "rtp_packets_late",
        Unit::Count,
        "RTP packets that arrived after their place was given up",
    ),
    def(
        "rtcp_jitter",
        Unit::Seconds,
        "RFC 3550 interarrival jitter of the video stream, largest over clients at the end",
    ),
    def(
        "nacks_sent",
        Unit::Count,
        "sequence numbers the clients asked for again (NACK)",
    ),
    def(
        "rtx_in_time",
        Unit::Count,
        "retransmissions that filled a hole before the jitter buffer gave it up",
    ),
    def(
        "rtx_late",
        Unit::Count,
        "retransmissions that came too late",
    ),
    def(
        "retransmissions_sent",
        Unit::Count,
        "RFC 4588 retransmissions the server sent",
    ),
    def(
        "rtsp_requests",
        Unit::Count,
        "RTSP requests the clients sent",
    ),
];

/// Metrics of an `rtsp` session: what viewers experienced, then its own.
pub const METRICS: [MetricDef; QOE_METRICS.len() + OWN.len()] = join(QOE_METRICS, OWN);

fn check(options: &Options, _: &CheckContext) -> Result<(), Vec<OptionError>> {
    if options
        .duration("jitter_buffer")
        .is_some_and(|d| d > Duration::from_secs(10))
    {
        return Err(vec![OptionError::at(
            "jitter_buffer",
            "`jitter_buffer` must be at most 10s",
        )]);
    }
    Ok(())
}

/// One client: its player and session, shared with its task.
struct Client {
    host: String,
    player: Rc<RefCell<Player>>,
    session: Rc<RefCell<ClientSession>>,
}

struct Log {
    rec: Recorder,
    host: String,
}

impl Log {
    fn message(&self, at: Duration, message: String) {
        self.rec.event(
            at,
            EventKind::ProtocolMessage {
                session: self.rec.session().to_owned(),
                host: self.host.clone(),
                message,
            },
        );
    }
}

/// The event log's line for an RTSP event (`None`: not logged).
fn describe(event: &RtspEvent) -> Option<String> {
    Some(match event {
        RtspEvent::Request { method, uri, cseq } => format!(
            "{method} {uri} CSeq {}",
            cseq.map_or("-".into(), |c| c.to_string())
        ),
        RtspEvent::Response { status, cseq } => format!(
            "RTSP/1.0 {status} CSeq {}",
            cseq.map_or("-".into(), |c| c.to_string())
        ),
        RtspEvent::Setup { track, transport } => format!("track {track} set up: {transport:?}"),
        RtspEvent::Play => "playing".into(),
        RtspEvent::Pause => "paused".into(),
        RtspEvent::Teardown => "torn down".into(),
        RtspEvent::SessionTimeout => "session timed out".into(),
        // SRs and RRs every second would drown the log: NACKs and BYEs only.
        RtspEvent::Rtcp { sent, kind } if kind == "NACK" || kind == "BYE" => {
            format!("RTCP {kind} {}", if *sent { "sent" } else { "received" })
        }
        RtspEvent::Rtcp { .. } => return None,
        RtspEvent::Closed { reason } => format!("connection closes: {reason}"),
    })
}

struct ServerLog(Log, Rc<Cell<u64>>);

impl ServerObserver for ServerLog {
    fn retransmitted(&self, n: u64) {
        self.1.set(self.1.get() + n);
    }

    fn event(&self, at: Duration, _: std::net::SocketAddr, event: &RtspEvent) {
        if let Some(m) = describe(event) {
            self.0.message(at, m);
        }
    }
}

struct ClientLog {
    log: Log,
    requests: Rc<Cell<u64>>,
}

impl ClientObserver for ClientLog {
    fn event(&self, at: Duration, event: &RtspEvent) {
        if matches!(event, RtspEvent::Request { .. }) {
            self.requests.set(self.requests.get() + 1);
        }
        if let Some(m) = describe(event) {
            self.log.message(at, m);
        }
    }

    fn player(&self, event: &PlayerEvent) {
        crate::proto::udp_ts::record_event(&self.log.rec, &self.log.host, event, &Cell::new(false));
    }
}

fn install(
    harness: &mut Harness,
    setup: SessionSetup<'_>,
) -> Result<Box<dyn SessionEnd>, InstallError> {
    let spec = setup.spec;
    let rec = setup.recorder;
    let feed = setup.media.ok_or_else(|| InstallError::Media {
        session: spec.name.clone(),
        message: "rtsp streams media, and the run has no media feed".into(),
    })?;
    let transport = match spec.options.choice("transport") {
        Some("tcp") => ClientTransport::Tcp,
        _ => ClientTransport::Udp,
    };
    let nack = spec.options.boolean("nack").unwrap_or(false);
    let jitter = spec
        .options
        .duration("jitter_buffer")
        .unwrap_or(DEFAULT_LATENCY);
    QoeTally::check_player(&rec)?;
    for name in OWN {
        match name.unit {
            Unit::Seconds => {
                rec.gauge(name.name)?;
            }
            _ => {
                rec.counter(name.name)?;
            }
        }
    }
    let retransmissions = Rc::new(Cell::new(0u64));
    let config = ServerConfig {
        path: "/live".into(),
        tracks: feed.tracks(),
        // IPv4 + UDP + RTP headers (and an RTX header's 2 bytes).
        max_payload: setup
            .mtu
            .saturating_sub(super::super::UDP_IP_HEADERS + RTP_HEADER + 2),
        udp_ports: (0, 0),
        nack,
        epoch: setup.epoch,
        address: "0.0.0.0".into(),
    };
    let (port, stop, start, seed, epoch) =
        (spec.port, spec.stop, spec.start, setup.seed, setup.epoch);
    let server_log = (
        rec.clone(),
        spec.server.clone(),
        feed.clone(),
        retransmissions.clone(),
    );
    harness.app(&spec.server, move |net| {
        let (rec, host, feed, rtx) = server_log.clone();
        let mut config = config.clone();
        async move {
            let source = feed.source(Duration::ZERO);
            let fail = |e: String| rec.fail(net.now(), &host, e);
            let listener = match net.listen(([0, 0, 0, 0], port).into(), 64).await {
                Ok(l) => l,
                Err(e) => return fail(format!("cannot listen on port {port}: {e}")),
            };
            let (rtp, rtcp) = match (
                net.bind_udp(([0, 0, 0, 0], 0).into()).await,
                net.bind_udp(([0, 0, 0, 0], 0).into()).await,
            ) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) | (_, Err(e)) => return fail(format!("cannot bind UDP: {e}")),
            };
            let ports = (
                rtp.local_addr().map(|a| a.port()),
                rtcp.local_addr().map(|a| a.port()),
            );
            config.udp_ports = (ports.0.unwrap_or(0), ports.1.unwrap_or(0));
            let observer = Rc::new(ServerLog(
                Log {
                    rec: rec.clone(),
                    host: host.clone(),
                },
                rtx.clone(),
            ));
            if let Err(e) = driver::serve(
                &net,
                driver::ServerSockets {
                    listener,
                    rtp,
                    rtcp,
                },
                config,
                source,
                stop,
                seed,
                observer,
            )
            .await
            {
                fail(format!("serving: {e}"));
            }
        }
    })?;
    let mut clients = Vec::new();
    let requests = Rc::new(Cell::new(0u64));
    for (i, host) in spec.clients.iter().enumerate() {
        let config = PlayerConfig {
            mode: PlayoutMode::LiveFromArrival {
                target_latency: jitter,
            },
            keep_presented: false,
        };
        let client_seed = mix64(seed ^ (0x00c1_1e47 + i as u64));
        let client_config = ClientConfig {
            url: String::new(),
            transport,
            nack,
            jitter_buffer: jitter,
            ssrc: client_seed as u32,
        };
        let c = Client {
            host: host.clone(),
            player: Rc::new(RefCell::new(Player::new(config, start))),
            // Made again with the server's address when the client starts.
            session: Rc::new(RefCell::new(ClientSession::new(client_config.clone()))),
        };
        let shared = (
            c.player.clone(),
            c.session.clone(),
            rec.clone(),
            host.clone(),
            spec.server.clone(),
        );
        let requests = requests.clone();
        harness.app(host, move |net| {
            let (player, slot, rec, host, server) = shared.clone();
            let (client_config, requests) = (client_config.clone(), requests.clone());
            async move {
                net.sleep_until(start).await;
                rec.event(
                    net.now(),
                    EventKind::SessionStart {
                        session: rec.session().to_owned(),
                        client: host.clone(),
                    },
                );
                let addr = match net.resolve(&server, port).await {
                    Ok(a) => a,
                    Err(e) => return rec.fail(net.now(), &host, format!("resolve {server}: {e}")),
                };
                let config = ClientConfig {
                    url: format!("rtsp://{}:{port}/live", addr.ip()),
                    ..client_config
                };
                *slot.borrow_mut() = ClientSession::new(config);
                let observer = ClientLog {
                    log: Log {
                        rec: rec.clone(),
                        host: host.clone(),
                    },
                    requests: requests.clone(),
                };
                let result = driver::play(
                    &net,
                    addr,
                    slot.clone(),
                    &player,
                    Timeline::SenderReports { epoch },
                    None,
                    &observer,
                )
                .await;
                if let Err(e) = result {
                    rec.fail(net.now(), &host, format!("playing: {e}"));
                }
            }
        })?;
        clients.push(c);
    }
    Ok(Box::new(RtspEnd {
        clients,
        start,
        recorder: rec,
        retransmissions,
        requests,
    }))
}

struct RtspEnd {
    clients: Vec<Client>,
    start: Duration,
    recorder: Recorder,
    retransmissions: Rc<Cell<u64>>,
    requests: Rc<Cell<u64>>,
}

impl RtspEnd {
    fn record(&self, end: Duration) -> Result<(), crate::metrics::RecorderError> {
        let rec = &self.recorder;
        let mut tally = QoeTally::new(rec);
        let mut jitter: f64 = 0.0;
        for c in &self.clients {
            tally.add_player(self.start, end, &mut c.player.borrow_mut())?;
            let s = c.session.borrow();
            for (i, r) in s.receivers().iter().enumerate() {
                rec.counter("rtp_packets_received")?.add(r.packets);
                rec.counter("rtp_bytes_received")?.add(r.bytes);
                let j = r.jitter_counters();
                rec.counter("rtp_packets_lost")?.add(j.lost);
                rec.counter("rtp_packets_late")?.add(j.late);
                if i == 0 {
                    jitter = jitter
                        .max(f64::from(r.stats().jitter()) / f64::from(r.media.clock_rate.max(1)));
                }
            }
            let n = s.nack_counters();
            rec.counter("nacks_sent")?.add(n.nacks_sent);
            rec.counter("rtx_in_time")?.add(n.rtx_in_time);
            rec.counter("rtx_late")?.add(n.rtx_late);
        }
        rec.gauge("rtcp_jitter")?.set(jitter);
        rec.counter("retransmissions_sent")?
            .add(self.retransmissions.get());
        rec.counter("rtsp_requests")?.add(self.requests.get());
        tally.finish()
    }
}

impl SessionEnd for RtspEnd {
    fn finish(&mut self, end: Duration, _: &RunReport) {
        if let Err(e) = self.record(end) {
            let host = self
                .clients
                .first()
                .map_or("", |c| c.host.as_str())
                .to_owned();
            self.recorder.fail(end, &host, e.to_string());
        }
    }
}
