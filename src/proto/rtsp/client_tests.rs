//! The client against our server, both sans-IO, joined by hand: what the
//! server's transmits carry reaches the client after `delay` unless the
//! test drops it.

use super::*;
use crate::media::synthetic::SyntheticSource;
use crate::media::Source;
use crate::proto::rtsp::server::{ServerConfig, ServerSession, Transmit};
use crate::rng::SplitMix64;

fn tracks() -> Vec<Track> {
    crate::proto::live::MediaFeed::open(
        crate::proto::MediaOrigin::Synthetic(crate::proto::live::default_synthetic()),
        false,
        false,
    )
    .unwrap()
    .tracks()
}

const EPOCH: Duration = Duration::from_secs(1_700_000_000);

struct Pair {
    server: ServerSession,
    client: ClientSession,
    /// In flight: (arrival, to client?, what).
    wire: Vec<(Duration, bool, Flight)>,
    delay: Duration,
    rng: SplitMix64,
    /// Drop this share of server RTP packets.
    loss: f64,
    outputs: Vec<ClientOutput>,
    events: Vec<RtspEvent>,
}

enum Flight {
    Tcp(Vec<u8>),
    Udp {
        port: u16,
        rtcp: bool,
        data: Vec<u8>,
    },
}

impl Pair {
    fn new(transport: ClientTransport, nack: bool, loss: f64) -> Pair {
        let server = ServerSession::new(
            ServerConfig {
                path: "/live".into(),
                tracks: tracks(),
                max_payload: 1400,
                udp_ports: (6970, 6971),
                nack,
                epoch: EPOCH,
                address: "127.0.0.1".into(),
            },
            1,
            Duration::ZERO,
        );
        let client = ClientSession::new(ClientConfig {
            url: "rtsp://127.0.0.1:8554/live".into(),
            transport,
            nack,
            jitter_buffer: Duration::from_millis(200),
            ssrc: 77,
        });
        Pair {
            server,
            client,
            wire: Vec::new(),
            delay: Duration::from_millis(20),
            rng: SplitMix64::new(3),
            loss,
            outputs: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Moves what both ends send onto the wire at `now`.
    fn pump(&mut self, now: Duration) {
        if let Some(n) = self.client.udp_ports_needed() {
            self.client.handle_udp_ports(
                (0..n)
                    .map(|i| (5000 + 2 * i as u16, 5001 + 2 * i as u16))
                    .collect(),
            );
        }
        while let Some(t) = self.client.poll_transmit() {
            let f = match t {
                ClientTransmit::Tcp(b) => Flight::Tcp(b),
                ClientTransmit::Rtcp { data, .. } => Flight::Udp {
                    port: 6971,
                    rtcp: true,
                    data,
                },
            };
            self.wire.push((now + self.delay, false, f));
        }
        while let Some(t) = self.server.poll_transmit() {
            let f = match t {
                Transmit::Tcp(b) => Flight::Tcp(b),
                Transmit::Udp { port, rtcp, data } => {
                    if !rtcp && self.rng.next_f64() < self.loss {
                        continue;
                    }
                    Flight::Udp { port, rtcp, data }
                }
            };
            self.wire.push((now + self.delay, true, f));
        }
        self.events
            .extend(std::iter::from_fn(|| self.client.poll_event()));
        while self.server.poll_event().is_some() {}
        self.outputs
            .extend(std::iter::from_fn(|| self.client.poll_output()));
    }

    /// Delivers what arrives by `now`, in order.
    fn deliver(&mut self, now: Duration) {
        self.wire.sort_by_key(|(at, _, _)| *at);
        while self.wire.first().is_some_and(|(at, _, _)| *at <= now) {
            let (at, to_client, f) = self.wire.remove(0);
            match (to_client, f) {
                (true, Flight::Tcp(b)) => self.client.handle_bytes(at, &b),
                (true, Flight::Udp { port, rtcp, data }) => {
                    let track = usize::from((port - 5000) / 2);
                    self.client.handle_udp(at, track, rtcp, &data);
                }
                (false, Flight::Tcp(b)) => self.server.handle_bytes(at, &b),
                (false, Flight::Udp { data, .. }) => self.server.handle_rtcp(at, &data),
            }
            self.pump(at);
        }
    }

    /// Runs the source for `seconds`, stepping 1 ms.
    fn run(&mut self, seconds: u64) -> Vec<AccessUnit> {
        let mut source =
            SyntheticSource::new(&crate::proto::live::default_synthetic(), Duration::ZERO).unwrap();
        let mut sent = Vec::new();
        self.pump(Duration::ZERO);
        for ms in 0..seconds * 1000 {
            let now = Duration::from_millis(ms);
            self.deliver(now);
            while let Some(u) = source.poll_next(now) {
                if self.server.is_playing() {
                    sent.push(u.clone());
                }
                self.server.handle_access_unit(now, &u).unwrap();
            }
            self.server.handle_timeout(now);
            self.client.handle_timeout(now);
            self.pump(now);
        }
        sent
    }

    fn units(&self) -> Vec<(&AccessUnit, Option<Duration>)> {
        self.outputs
            .iter()
            .filter_map(|o| match o {
                ClientOutput::Unit { unit, wall, .. } => Some((unit, *wall)),
                _ => None,
            })
            .collect()
    }
}

fn check_clean(transport: ClientTransport) {
    let mut p = Pair::new(transport, false, 0.0);
    let sent = p.run(4);
    assert!(p.client.is_playing(), "{:?}", p.client.error());
    let methods: Vec<_> = p
        .events
        .iter()
        .filter_map(|e| match e {
            RtspEvent::Request { method, .. } => Some(method.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        &methods[..5],
        ["OPTIONS", "DESCRIBE", "SETUP", "SETUP", "PLAY"]
    );
    let got = p.units();
    let video_sent: Vec<_> = sent
        .iter()
        .filter(|u| u.track == 0)
        .skip_while(|u| !u.keyframe)
        .collect();
    let video_got: Vec<_> = got.iter().filter(|(u, _)| u.track == 0).collect();
    // Everything sent from the first keyframe on arrives whole, except
    // what is still in flight at the end.
    assert!(
        video_got.len() + 2 >= video_sent.len(),
        "{} of {}",
        video_got.len(),
        video_sent.len()
    );
    for ((u, wall), s) in video_got.iter().zip(&video_sent) {
        assert_eq!(u.data, s.data);
        assert_eq!(u.keyframe, s.keyframe);
        // The SR maps RTP time back to the capture time exactly.
        assert_eq!(
            wall.map(|w| w - EPOCH),
            Some(s.capture_time),
            "pts {}",
            s.pts
        );
    }
    // Audio too.
    assert!(got.iter().filter(|(u, _)| u.track == 1).count() > 150);
    // Receiver reports flow back; the session tears down on stop.
    assert!(p
        .events
        .iter()
        .any(|e| matches!(e, RtspEvent::Rtcp { sent: true, kind } if kind == "RR")));
    p.client.stop();
    p.pump(Duration::from_secs(4));
    p.deliver(Duration::from_secs(5));
    assert!(
        p.client.is_done() && p.client.error().is_none(),
        "{:?}",
        p.client.error()
    );
}

#[test]
fn a_client_plays_our_server_over_udp() {
    check_clean(ClientTransport::Udp);
}

#[test]
fn a_client_plays_our_server_over_tcp_interleaved() {
    check_clean(ClientTransport::Tcp);
}

fn damaged(p: &Pair) -> usize {
    p.outputs
        .iter()
        .filter(|o| matches!(o, ClientOutput::Damaged { track: 0, .. }))
        .count()
}

#[test]
fn nack_and_retransmission_repair_what_udp_loses() {
    let mut plain = Pair::new(ClientTransport::Udp, false, 0.03);
    plain.run(6);
    let mut nack = Pair::new(ClientTransport::Udp, true, 0.03);
    nack.run(6);
    let c = nack.client.nack_counters();
    assert!(c.nacks_sent > 10 && c.rtx_in_time > 10, "{c:?}");
    // A 40 ms round trip fits the 200 ms jitter buffer: almost every hole
    // is filled.
    assert!(damaged(&plain) > 5, "{}", damaged(&plain));
    assert!(
        damaged(&nack) * 5 < damaged(&plain),
        "{} vs {}",
        damaged(&nack),
        damaged(&plain)
    );
    assert!(nack.server.counters().retransmissions >= c.rtx_in_time);
}

#[test]
fn a_refused_request_fails_the_session_with_its_status() {
    let mut c = ClientSession::new(ClientConfig {
        url: "rtsp://127.0.0.1:8554/nothing".into(),
        transport: ClientTransport::Tcp,
        nack: false,
        jitter_buffer: Duration::from_millis(200),
        ssrc: 1,
    });
    let mut s = ServerSession::new(
        ServerConfig {
            path: "/live".into(),
            tracks: tracks(),
            max_payload: 1400,
            udp_ports: (1, 2),
            nack: false,
            epoch: EPOCH,
            address: "127.0.0.1".into(),
        },
        1,
        Duration::ZERO,
    );
    for _ in 0..4 {
        while let Some(ClientTransmit::Tcp(b)) = c.poll_transmit() {
            s.handle_bytes(Duration::ZERO, &b);
        }
        while let Some(Transmit::Tcp(b)) = s.poll_transmit() {
            c.handle_bytes(Duration::ZERO, &b);
        }
    }
    assert!(c.is_done());
    assert!(c.error().unwrap().contains("404"), "{:?}", c.error());
}
