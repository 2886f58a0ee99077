//! `udp-ts`: MPEG-TS over UDP, the simplest live streaming transport. The
//! server packs the live source as TS (PAT/PMT repeated, the PCR on a PID
//! of its own, video PES with their length) into datagrams of 7 × 188
//! bytes and pushes them to each client, as an IPTV head-end or `ffmpeg -f
//! mpegts udp://…` does; each client demuxes, counts continuity-counter
//! errors and damaged PES, and plays what arrives through the one player,
//! its clock started by the first keyframe's arrival.
//!
//! Nothing is retransmitted: a lost datagram damages the unit it carried a
//! part of (dropped whole, counted lost by the player) and every frame
//! after it up to the next keyframe (undecodable). So frames lost +
//! undecodable grow with loss, and glass-to-glass latency stays at the
//! first frame's delay + the target while the buffer covers the jitter.
//!
//! The same [`driver`] runs on real sockets (`streamsim serve udp-ts`,
//! `streamsim play udp://…`), and [`qoe`] is the one definition of what a
//! client reports, in a scenario and live alike.

pub mod core;
pub mod driver;
pub mod live;
pub mod qoe;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use self::core::TsReceiver;
use self::qoe::QoeTally;
use super::{
    CheckContext, InstallError, MediaFeed, OptionDef, OptionError, OptionKind, Options, Protocol,
    SessionEnd, SessionSetup, Transport,
};
use crate::media::decode::DecodeCheck;
use crate::media::ts::packet::PACKET_SIZE;
use crate::metrics::catalog::{def, join, QOE_METRICS};
use crate::metrics::{EventKind, MetricDef, Recorder, Unit};
use crate::net::{Net, NetUdp};
use crate::player::{Player, PlayerConfig, PlayerEvent, PlayoutMode};
use crate::sim::{Harness, RunReport};
use driver::Timeline;

/// The `udp-ts` protocol.
pub static PROTOCOL: Protocol = Protocol {
    name: "udp-ts",
    about: "MPEG-TS over UDP: the live source pushed as 1316-byte datagrams",
    transport: Transport::UdpPush,
    port: (5004, 2),
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
        ("CC errors", "cc_errors"),
    ],
    media: true,
    check,
    install,
    live_serve: Some(&live::SERVE),
    live_play: Some(&live::PLAY),
};

/// The target latency when a session sets none: what ffplay-style low
/// latency players and GStreamer's rtpjitterbuffer default to.
pub const DEFAULT_TARGET_LATENCY: Duration = Duration::from_millis(200);

const OPTIONS: &[OptionDef] = &[
    OptionDef {
        key: "datagram",
        kind: OptionKind::Size,
        required: false,
        help: "UDP payload per datagram, a multiple of 188 bytes (default 1316: 7 TS packets)",
    },
    OptionDef {
        key: "target_latency",
        kind: OptionKind::Duration,
        required: false,
        help: "capture → presentation delay of the player (default 200ms)",
    },
];

const OWN: &[MetricDef] = &[
    def(
        "datagrams_sent",
        Unit::Count,
        "datagrams the server sent, counted once per client",
    ),
    def(
        "datagrams_received",
        Unit::Count,
        "datagrams the clients received",
    ),
    def(
        "wire_bytes",
        Unit::Bytes,
        "UDP payload bytes the clients received",
    ),
    def(
        "cc_errors",
        Unit::Count,
        "TS continuity-counter errors the clients saw (packets lost on a PID)",
    ),
    def(
        "damaged_pes",
        Unit::Count,
        "PES that lost packets, dropped by the clients' demuxers",
    ),
    def(
        "stream_errors",
        Unit::Count,
        "other TS errors (sync, packet, PSI, PES header)",
    ),
];

/// Metrics of a `udp-ts` session: what viewers experienced, then the
/// transport's own.
pub const METRICS: [MetricDef; QOE_METRICS.len() + OWN.len()] = join(QOE_METRICS, OWN);

fn packets_of(options: &Options) -> usize {
    options.size("datagram").map_or(7, |d| {
        usize::try_from(d).unwrap_or(usize::MAX) / PACKET_SIZE
    })
}

fn check(options: &Options, cx: &CheckContext) -> Result<(), Vec<OptionError>> {
    let mut errors = Vec::new();
    if let Some(size) = options.size("datagram") {
        let fits = cx.mtu.saturating_sub(super::UDP_IP_HEADERS) as u64;
        if size == 0 || size % PACKET_SIZE as u64 != 0 {
            errors.push(OptionError::at(
                "datagram",
                format!(
                    "`datagram` must be a multiple of 188 bytes (whole TS packets), found {size}"
                ),
            ));
        } else if size > fits {
            let mtu = cx.mtu;
            errors.push(OptionError::at(
                "datagram",
                format!("`datagram` of {size} bytes does not fit one packet at mtu {mtu} (at most {} TS packets)", fits / 188),
            ));
        }
    }
    if options
        .duration("target_latency")
        .is_some_and(|d| d > Duration::from_secs(60))
    {
        errors.push(OptionError::at(
            "target_latency",
            "`target_latency` must be at most 60s",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// One client: its receiver and player, shared with its task.
struct Client {
    host: String,
    receiver: Rc<RefCell<TsReceiver>>,
    player: Rc<RefCell<Player>>,
}

fn install(
    harness: &mut Harness,
    setup: SessionSetup<'_>,
) -> Result<Box<dyn SessionEnd>, InstallError> {
    let spec = setup.spec;
    let rec = setup.recorder;
    let feed = setup.media.ok_or_else(|| InstallError::Media {
        session: spec.name.clone(),
        message: "udp-ts streams media, and the run has no media feed".into(),
    })?;
    let port = spec.port;
    let packets = packets_of(&spec.options);
    let target = spec
        .options
        .duration("target_latency")
        .unwrap_or(DEFAULT_TARGET_LATENCY);
    // A live stream runs to the end of the run unless told to stop: frames
    // still in flight at the end are due after it, so none counts lost.
    let stop = spec.stop;
    // The source starts with the run, whenever the clients join: live.
    let source_start = Duration::ZERO;
    let datagrams_sent = rec.counter("datagrams_sent")?;
    // Every name is checked now, when the session is created.
    QoeTally::check(&rec)?;
    if feed.decode_check {
        rec.counter("decode_errors")?;
        rec.gauge("psnr_mean")?;
        rec.gauge("psnr_p5")?;
    }
    let (clients, start, server, srv_rec) = (
        spec.clients.clone(),
        spec.start,
        spec.server.clone(),
        rec.clone(),
    );
    let server_feed = feed.clone();
    harness.app(&spec.server, move |net| {
        let (clients, server, rec, feed) = (
            clients.clone(),
            server.clone(),
            srv_rec.clone(),
            server_feed.clone(),
        );
        let sent = datagrams_sent.clone();
        async move {
            let mut source = feed.source(source_start);
            net.sleep_until(start).await;
            let mut targets = Vec::new();
            for client in &clients {
                match net.resolve(client, port).await {
                    Ok(addr) => targets.push(addr),
                    Err(e) => {
                        return rec.fail(net.now(), &server, format!("resolve {client}: {e}"))
                    }
                }
            }
            let count = |_: usize| sent.add(1);
            if let Err(e) = driver::serve(&net, &targets, &mut source, packets, stop, &count).await
            {
                rec.fail(net.now(), &server, format!("send: {e}"));
            }
        }
    })?;
    let clock = feed.capture_clock(source_start);
    let mut installed = Vec::new();
    for client in &spec.clients {
        let config = PlayerConfig {
            mode: PlayoutMode::LiveFromArrival {
                target_latency: target,
            },
            keep_presented: feed.decode_check && installed.is_empty(),
        };
        let c = Client {
            host: client.clone(),
            receiver: Rc::new(RefCell::new(TsReceiver::new())),
            player: Rc::new(RefCell::new(Player::new(config.clone(), spec.start))),
        };
        let (receiver, player, rec, host) = (
            c.receiver.clone(),
            c.player.clone(),
            rec.clone(),
            client.clone(),
        );
        let started = Rc::new(Cell::new(false));
        harness.app(client, move |net| {
            let (receiver, player, rec, host) =
                (receiver.clone(), player.clone(), rec.clone(), host.clone());
            let started = started.clone();
            async move {
                net.sleep_until(start).await;
                let session = rec.session().to_owned();
                rec.event(
                    net.now(),
                    EventKind::SessionStart {
                        session,
                        client: host.clone(),
                    },
                );
                let socket = match net.bind_udp(([0, 0, 0, 0], port).into()).await {
                    Ok(s) => s,
                    Err(e) => {
                        return rec.fail(net.now(), &host, format!("bind UDP port {port}: {e}"))
                    }
                };
                let _ = socket.local_addr();
                let on_event = |e: &PlayerEvent| record_event(&rec, &host, e, &started);
                let timeline = Timeline::Source(clock);
                if let Err(e) =
                    driver::play(&net, &socket, &receiver, &player, timeline, &on_event).await
                {
                    rec.fail(net.now(), &host, format!("receive: {e}"));
                }
            }
        })?;
        installed.push(c);
    }
    Ok(Box::new(TsEnd {
        clients: installed,
        start: spec.start,
        recorder: rec,
        feed: feed.clone(),
    }))
}

/// A player event as it happens: into the event log (shared by every
/// protocol whose client feeds the player).
pub(crate) fn record_event(
    rec: &Recorder,
    client: &str,
    event: &PlayerEvent,
    started: &Cell<bool>,
) {
    let (session, client) = (rec.session().to_owned(), client.to_owned());
    let (at, kind) = match *event {
        PlayerEvent::Started { at, startup } => {
            started.set(true);
            (
                at,
                EventKind::PlaybackStart {
                    session,
                    client,
                    startup: startup.as_secs_f64(),
                },
            )
        }
        PlayerEvent::Presented { .. } => return,
        PlayerEvent::StallStart { at } => (at, EventKind::StallStart { session, client }),
        PlayerEvent::StallEnd { at, duration } => (
            at,
            EventKind::StallEnd {
                session,
                client,
                duration: duration.as_secs_f64(),
            },
        ),
        PlayerEvent::FramesLost {
            at,
            first_pts,
            count,
        } => (at, frames(session, client, "lost", count, first_pts)),
        PlayerEvent::FramesLate {
            at,
            first_pts,
            count,
        } => (at, frames(session, client, "late", count, first_pts)),
        PlayerEvent::FramesUndecodable {
            at,
            first_pts,
            count,
        } => (at, frames(session, client, "undecodable", count, first_pts)),
    };
    rec.event(at, kind);
}

fn frames(session: String, client: String, outcome: &str, count: u64, first_pts: i64) -> EventKind {
    EventKind::Frames {
        session,
        client,
        outcome: outcome.to_owned(),
        count,
        first_pts,
    }
}

struct TsEnd {
    clients: Vec<Client>,
    start: Duration,
    recorder: Recorder,
    feed: MediaFeed,
}

impl TsEnd {
    fn record(&self, end: Duration) -> Result<(), InstallError> {
        let mut tally = QoeTally::new(&self.recorder);
        for c in &self.clients {
            tally.add_client(
                self.start,
                end,
                &mut c.receiver.borrow_mut(),
                &mut c.player.borrow_mut(),
            )?;
        }
        tally.finish()?;
        self.decode_check()
    }

    /// The real decoder over what the first client presented, against the
    /// source's first pass (file media only).
    fn decode_check(&self) -> Result<(), InstallError> {
        let (Some(first), Some(reference)) = (self.clients.first(), self.feed.reference()) else {
            return Ok(());
        };
        if !self.feed.decode_check {
            return Ok(());
        }
        let Some(track) = self.feed.tracks().into_iter().find(|t| t.codec.is_video()) else {
            return Ok(());
        };
        // The demuxer numbers tracks in PMT order; the check wants the
        // source's id.
        let mut presented = first.player.borrow_mut().take_presented();
        for unit in &mut presented {
            unit.track = track.id;
        }
        let fail = |e: String| InstallError::Media {
            session: self.recorder.session().to_owned(),
            message: format!("decode check: {e}"),
        };
        let check = DecodeCheck::new(&track, reference).map_err(|e| fail(e.to_string()))?;
        let report = check.check(&presented).map_err(|e| fail(e.to_string()))?;
        // Only frames that were presented are judged: the player already
        // counts the ones that were not.
        let mut psnr: Vec<f64> = report
            .frames
            .iter()
            .filter(|f| f.status != crate::media::decode::FrameStatus::Missing)
            .filter_map(|f| f.psnr_y)
            .map(|p| p.min(MAX_PSNR))
            .collect();
        let errors = report
            .frames
            .iter()
            .filter(|f| f.status == crate::media::decode::FrameStatus::Damaged)
            .count();
        self.recorder.counter("decode_errors")?.add(errors as u64);
        if !psnr.is_empty() {
            psnr.sort_by(f64::total_cmp);
            let mean = psnr.iter().sum::<f64>() / psnr.len() as f64;
            let p5 = psnr[(psnr.len() - 1) * 5 / 100];
            self.recorder.gauge("psnr_mean")?.set(mean);
            self.recorder.gauge("psnr_p5")?.set(p5);
        }
        Ok(())
    }
}

/// The PSNR reported for a frame identical to the source (whose PSNR is
/// infinite), so means stay finite.
pub const MAX_PSNR: f64 = 100.0;

impl SessionEnd for TsEnd {
    fn plots(&self) -> super::SessionPlots {
        player_plots(self)
    }

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

/// A player's binned series as plot series over the whole run, labelled
/// `session` or `session/client` when the session has several clients.
fn player_plots(end: &TsEnd) -> super::SessionPlots {
    let mut plots = super::SessionPlots::default();
    let session = end.recorder.session();
    for c in &end.clients {
        let label = if end.clients.len() > 1 {
            format!("{session}/{}", c.host)
        } else {
            session.to_owned()
        };
        let player = c.player.borrow();
        let stats = player.stats();
        let binned = |points: &mut dyn Iterator<Item = (Duration, f64)>| {
            let mut values = Vec::new();
            for (at, v) in points {
                let i = usize::try_from(at.as_nanos() / crate::player::BIN.as_nanos())
                    .unwrap_or(usize::MAX);
                if i >= crate::player::SERIES_CAP {
                    break;
                }
                if values.len() <= i {
                    values.resize(i + 1, f64::NAN);
                }
                values[i] = v;
            }
            crate::metrics::Series {
                label: label.clone(),
                bin: crate::player::BIN,
                values,
            }
        };
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        plots.latency_ms.push(binned(
            &mut stats.latency_series.iter().map(|&(t, l)| (t, ms(l))),
        ));
        plots.buffer_ms.push(binned(
            &mut stats.buffer_series.iter().map(|&(t, b)| (t, ms(b))),
        ));
    }
    plots
}
