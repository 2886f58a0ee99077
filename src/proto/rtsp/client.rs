//! The sans-IO RTSP 1.0 client: OPTIONS, DESCRIBE, SETUP of every H.264
//! and AAC track (UDP with `client_port`, or TCP-interleaved), PLAY, then
//! GET_PARAMETER keep-alives at half the session timeout, RTCP receiver
//! reports every [`RR_INTERVAL`], NACKs when enabled, and TEARDOWN on
//! stop. Media goes through each track's [`TrackReceiver`] (jitter
//! buffer, depacketizer) and comes out as units for the player.
//!
//! Polling order: after any `handle_*`, drain `poll_transmit`,
//! `poll_event` and `poll_output`, then sleep until `poll_timeout`. With
//! UDP, after DESCRIBE the client asks for one RTP/RTCP port pair per
//! track ([`ClientSession::udp_ports_needed`]) and goes on when given them
//! ([`ClientSession::handle_udp_ports`]).

use std::collections::VecDeque;
use std::time::Duration;

use rtsp_types::headers::{self, RtpInfos, RtpLowerTransport, Transport, Transports};
use rtsp_types::{Message, Method, Request, Response, Url, Version};

use super::framing::{interleave, write_message, Frame, Framer};
use super::receiver::{NackCounters, Received, TrackReceiver};
use super::sdp::parse_sdp;
use super::RtspEvent;
use crate::media::{AccessUnit, Track};
use crate::proto::rtp::rtcp::{parse_compound, write_compound, Rtcp};
use crate::proto::rtp::RtpPacket;

/// How often the client sends a receiver report.
pub const RR_INTERVAL: Duration = Duration::from_secs(1);

/// How media reaches the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientTransport {
    /// RTP/AVP over UDP.
    Udp,
    /// RTP/AVP/TCP interleaved on the connection.
    Tcp,
}

/// A client's settings.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `rtsp://host:port/path`.
    pub url: String,
    /// How media comes.
    pub transport: ClientTransport,
    /// Send generic NACKs for missing packets.
    pub nack: bool,
    /// The jitter buffer's latency.
    pub jitter_buffer: Duration,
    /// The SSRC of its reports.
    pub ssrc: u32,
}

/// Bytes a client sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientTransmit {
    /// On the connection.
    Tcp(Vec<u8>),
    /// To the server's RTCP port of track `track` (from the track's RTCP
    /// port).
    Rtcp {
        /// The track.
        track: usize,
        /// The datagram.
        data: Vec<u8>,
    },
}

/// What the client hands the player.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientOutput {
    /// A track became known.
    Track(Track),
    /// A whole unit; `wall` is its capture time on the server's clock
    /// (since the UNIX epoch) once an SR mapped its RTP clock.
    Unit {
        /// When it was complete.
        at: Duration,
        /// The unit (`capture_time` zero).
        unit: AccessUnit,
        /// Capture time from the sender's reports.
        wall: Option<Duration>,
    },
    /// A damaged unit.
    Damaged {
        /// When found.
        at: Duration,
        /// Its track.
        track: u32,
        /// Its pts.
        pts: i64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Options,
    Describe,
    Ports,
    Setup(usize),
    Play,
    Playing,
    Teardown,
    Done,
}

/// One RTSP client.
pub struct ClientSession {
    config: ClientConfig,
    framer: Framer,
    state: State,
    cseq: u32,
    base: String,
    tracks: Vec<TrackReceiver>,
    /// Per track: (client RTP, client RTCP) and the server's ports.
    ports: Vec<(u16, u16)>,
    server_ports: Vec<Option<(u16, u16)>>,
    channels: Vec<(u8, u8)>,
    /// Per track: the last SR's RTP timestamp and NTP time.
    sr: Vec<Option<(u32, u64)>>,
    session: Option<String>,
    keepalive: Duration,
    next_keepalive: Option<Duration>,
    next_rr: Option<Duration>,
    out: VecDeque<ClientTransmit>,
    events: VecDeque<RtspEvent>,
    output: VecDeque<ClientOutput>,
    error: Option<String>,
}

impl ClientSession {
    /// A client that sends OPTIONS at once.
    pub fn new(config: ClientConfig) -> ClientSession {
        let base = config.url.trim_end_matches('/').to_owned();
        let mut c = ClientSession {
            config,
            framer: Framer::new(),
            state: State::Options,
            cseq: 0,
            base,
            tracks: Vec::new(),
            ports: Vec::new(),
            server_ports: Vec::new(),
            channels: Vec::new(),
            sr: Vec::new(),
            session: None,
            keepalive: Duration::from_secs(30),
            next_keepalive: None,
            next_rr: None,
            out: VecDeque::new(),
            events: VecDeque::new(),
            output: VecDeque::new(),
            error: None,
        };
        let url = c.config.url.clone();
        c.send(Method::Options, &url, &[]);
        c
    }

    /// Why the session failed, if it did.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// True once PLAY was answered.
    pub fn is_playing(&self) -> bool {
        self.state == State::Playing
    }

    /// True once the session is over (torn down or failed).
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// How many UDP port pairs the client waits for (UDP, after DESCRIBE).
    pub fn udp_ports_needed(&self) -> Option<usize> {
        (self.state == State::Ports).then_some(self.tracks.len())
    }

    /// The RTP and RTCP ports bound for each track, in order.
    pub fn handle_udp_ports(&mut self, ports: Vec<(u16, u16)>) {
        if self.state == State::Ports && ports.len() == self.tracks.len() {
            self.ports = ports;
            self.setup(0);
        }
    }

    /// The server's RTP and RTCP ports of track `track` (UDP).
    pub fn server_ports(&self, track: usize) -> Option<(u16, u16)> {
        self.server_ports.get(track).copied().flatten()
    }

    /// The tracks' receivers.
    pub fn receivers(&self) -> &[TrackReceiver] {
        &self.tracks
    }

    /// NACK counters over every track.
    pub fn nack_counters(&self) -> NackCounters {
        self.tracks.iter().fold(NackCounters::default(), |a, t| {
            let c = t.nack_counters();
            NackCounters {
                nacks_sent: a.nacks_sent + c.nacks_sent,
                rtx_in_time: a.rtx_in_time + c.rtx_in_time,
                rtx_late: a.rtx_late + c.rtx_late,
            }
        })
    }

    /// Bytes arrived on the connection.
    pub fn handle_bytes(&mut self, now: Duration, bytes: &[u8]) {
        self.framer.handle_bytes(bytes);
        loop {
            match self.framer.poll() {
                Ok(Some(Frame::Message(Message::Response(r)))) => self.handle_response(now, &r),
                Ok(Some(Frame::Message(_))) => {}
                Ok(Some(Frame::Data { channel, payload })) => {
                    let found = self
                        .channels
                        .iter()
                        .position(|(rtp, rtcp)| channel == *rtp || channel == *rtcp);
                    if let Some(track) = found {
                        let rtcp = self.channels[track].1 == channel;
                        self.handle_udp(now, track, rtcp, &payload);
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    self.fail(format!("server sent {e}"));
                    break;
                }
            }
        }
    }

    /// A datagram (or interleaved frame) for track `track` arrived: RTP,
    /// or RTCP when `rtcp`.
    pub fn handle_udp(&mut self, now: Duration, track: usize, rtcp: bool, data: &[u8]) {
        if track >= self.tracks.len() {
            return;
        }
        if rtcp {
            return self.handle_rtcp(now, track, data);
        }
        let Ok(packet) = RtpPacket::parse(data) else {
            return;
        };
        let mut received = Vec::new();
        self.tracks[track].handle_rtp(now, packet, data.len(), &mut received);
        self.emit(track, received);
        self.send_nacks(now, track);
    }

    /// Time passed to `now`.
    pub fn handle_timeout(&mut self, now: Duration) {
        for i in 0..self.tracks.len() {
            let mut received = Vec::new();
            self.tracks[i].handle_timeout(now, &mut received);
            self.emit(i, received);
            self.send_nacks(now, i);
        }
        if self.state != State::Playing {
            return;
        }
        if self.next_rr.is_some_and(|t| now >= t) {
            self.next_rr = Some(now + RR_INTERVAL);
            for i in 0..self.tracks.len() {
                if let Some(block) = self.tracks[i].report(now) {
                    let rr = Rtcp::Rr {
                        ssrc: self.config.ssrc,
                        blocks: vec![block],
                    };
                    let cname = Rtcp::Cname {
                        ssrc: self.config.ssrc,
                        cname: "streamsim-client".into(),
                    };
                    self.send_rtcp(i, &[rr, cname], "RR");
                }
            }
        }
        if self.next_keepalive.is_some_and(|t| now >= t) {
            self.next_keepalive = Some(now + self.keepalive);
            let url = self.base.clone();
            self.send(Method::GetParameter, &url, &[]);
        }
    }

    /// When to call [`Self::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let tracks = self.tracks.iter().filter_map(TrackReceiver::poll_timeout);
        tracks.chain(self.next_rr).chain(self.next_keepalive).min()
    }

    /// Stops: TEARDOWN (the session is done when it is answered).
    pub fn stop(&mut self) {
        if self.session.is_some() && !matches!(self.state, State::Done | State::Teardown) {
            let url = self.base.clone();
            self.state = State::Teardown;
            self.next_keepalive = None;
            self.next_rr = None;
            self.send(Method::Teardown, &url, &[]);
        } else {
            self.state = State::Done;
        }
    }

    /// The next bytes to send.
    pub fn poll_transmit(&mut self) -> Option<ClientTransmit> {
        self.out.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<RtspEvent> {
        self.events.pop_front()
    }

    /// The next output for the player.
    pub fn poll_output(&mut self) -> Option<ClientOutput> {
        self.output.pop_front()
    }

    fn fail(&mut self, reason: String) {
        if self.error.is_none() {
            self.error = Some(reason.clone());
        }
        self.state = State::Done;
        self.events.push_back(RtspEvent::Closed { reason });
    }

    fn emit(&mut self, track: usize, received: Vec<Received>) {
        for r in received {
            self.output.push_back(match r {
                Received::Unit { at, rtp_ts, unit } => {
                    let wall = self.wall(track, rtp_ts);
                    ClientOutput::Unit { at, unit, wall }
                }
                Received::Damaged { at, pts } => ClientOutput::Damaged {
                    at,
                    track: track as u32,
                    pts,
                },
            });
        }
    }

    /// The capture time of `rtp_ts` on track `track` by its last SR.
    fn wall(&self, track: usize, rtp_ts: u32) -> Option<Duration> {
        let (sr_ts, ntp) = self.sr.get(track).copied().flatten()?;
        let clock = i128::from(self.tracks[track].media.clock_rate);
        let secs = i128::from(ntp >> 32) - 2_208_988_800;
        let nanos = secs * 1_000_000_000 + ((i128::from(ntp & 0xffff_ffff) * 1_000_000_000) >> 32);
        let offset = i128::from(rtp_ts.wrapping_sub(sr_ts) as i32) * 1_000_000_000 / clock;
        u64::try_from(nanos + offset).ok().map(Duration::from_nanos)
    }

    fn send_nacks(&mut self, now: Duration, track: usize) {
        let seqs = self.tracks[track].poll_nack(now);
        if seqs.is_empty() {
            return;
        }
        let Some(media_ssrc) = self.tracks[track].ssrc else {
            return;
        };
        let nack = Rtcp::Nack {
            sender_ssrc: self.config.ssrc,
            media_ssrc,
            seqs,
        };
        let rr = Rtcp::Rr {
            ssrc: self.config.ssrc,
            blocks: Vec::new(),
        };
        self.send_rtcp(track, &[rr, nack], "NACK");
    }

    fn send_rtcp(&mut self, track: usize, packets: &[Rtcp], kind: &str) {
        let Ok(data) = write_compound(packets) else {
            return;
        };
        self.events.push_back(RtspEvent::Rtcp {
            sent: true,
            kind: kind.into(),
        });
        match self.config.transport {
            ClientTransport::Udp => self.out.push_back(ClientTransmit::Rtcp { track, data }),
            ClientTransport::Tcp => {
                if let Some((_, ch)) = self.channels.get(track) {
                    self.out
                        .push_back(ClientTransmit::Tcp(interleave(*ch, &data)));
                }
            }
        }
    }

    fn handle_rtcp(&mut self, now: Duration, track: usize, data: &[u8]) {
        let Ok(packets) = parse_compound(data) else {
            return;
        };
        for p in packets {
            match p {
                Rtcp::Sr { rtp_ts, ntp, .. } => {
                    self.events.push_back(RtspEvent::Rtcp {
                        sent: false,
                        kind: "SR".into(),
                    });
                    self.sr[track] = Some((rtp_ts, ntp));
                    self.tracks[track].handle_sender_report(now, ntp);
                }
                Rtcp::Bye { .. } => self.events.push_back(RtspEvent::Rtcp {
                    sent: false,
                    kind: "BYE".into(),
                }),
                _ => {}
            }
        }
    }
}

#[path = "client_requests.rs"]
mod requests;

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
