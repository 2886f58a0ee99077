//! The sans-IO RTSP 1.0 server of one connection: bytes and access units
//! in; responses, RTP and RTCP (on the connection or to the client's UDP
//! ports) out, with events for the log.
//!
//! States (RFC 2326 §A.1): Init → (SETUP) Ready → (PLAY) Playing →
//! (PAUSE) Ready → (TEARDOWN) Init. A SETUP needs a DESCRIBE first on the
//! connection (455 otherwise); PLAY and PAUSE need a session (455 without
//! SETUP, 454 when the Session header names another); PLAY or PAUSE of one
//! track of several is refused (459: control is aggregate only);
//! transports other than RTP/AVP unicast over UDP (with `client_port`) or
//! TCP-interleaved are 461. Every response echoes the request's CSeq; a
//! request without one is 400. The session times out after
//! [`SESSION_TIMEOUT`] without a request or RTCP from the client.
//!
//! Polling order: after any `handle_*`, drain [`ServerSession::poll_transmit`]
//! and [`ServerSession::poll_event`], then sleep until
//! [`ServerSession::poll_timeout`].

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use rtsp_types::headers::{self, RtpLowerTransport, RtpProfile, Transport, Transports};
use rtsp_types::{Message, Method, Request, Response, StatusCode, Version};

use super::framing::{interleave, write_message, Frame, Framer};
use super::sender::TrackSender;
use super::{sdp, RtspError, RtspEvent};
use crate::media::{AccessUnit, Track};
use crate::proto::rtp::rtcp::{parse_compound, write_compound, Rtcp};
use crate::rng::SplitMix64;

/// How long a session lives without hearing from its client (RFC 2326's
/// default).
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(60);

/// How often a playing track sends an SR.
pub const SR_INTERVAL: Duration = Duration::from_secs(5);

/// The methods a server answers.
pub const PUBLIC: &str = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, GET_PARAMETER, TEARDOWN";

/// What a server serves.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The stream's path (`/live`).
    pub path: String,
    /// Its tracks (H.264 and AAC).
    pub tracks: Vec<Track>,
    /// The largest RTP payload, bytes.
    pub max_payload: usize,
    /// The server's RTP and RTCP UDP ports.
    pub udp_ports: (u16, u16),
    /// Keep a history and answer NACKs with RFC 4588 retransmissions.
    pub nack: bool,
    /// Time since the UNIX epoch that time zero maps to (SR NTP times).
    pub epoch: Duration,
    /// The address the SDP names.
    pub address: String,
}

/// Where one set-up track goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackTransport {
    /// UDP to the client's RTP and RTCP ports.
    Udp {
        /// RTP port.
        rtp: u16,
        /// RTCP port.
        rtcp: u16,
    },
    /// Interleaved on the connection.
    Tcp {
        /// RTP channel.
        rtp: u8,
        /// RTCP channel.
        rtcp: u8,
    },
}

/// Bytes to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// On the connection.
    Tcp(Vec<u8>),
    /// A UDP datagram to the client's address, from the server's RTP or
    /// RTCP port.
    Udp {
        /// The client's port.
        port: u16,
        /// From the server's RTCP port (else its RTP port).
        rtcp: bool,
        /// The datagram.
        data: Vec<u8>,
    },
}

/// Counters of a server session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerCounters {
    /// RTP packets sent (retransmissions included).
    pub rtp_packets: u64,
    /// RTP bytes sent (headers included).
    pub rtp_bytes: u64,
    /// NACKed sequence numbers received.
    pub nacked: u64,
    /// Retransmissions sent.
    pub retransmissions: u64,
    /// RTCP packets received.
    pub rtcp_received: u64,
}

struct SetupTrack {
    transport: TrackTransport,
    sender: TrackSender,
    next_sr: Duration,
}

/// One connection's RTSP session.
pub struct ServerSession {
    config: ServerConfig,
    rng: SplitMix64,
    framer: Framer,
    described: bool,
    session_id: Option<String>,
    setup: BTreeMap<usize, SetupTrack>,
    playing: bool,
    last_heard: Duration,
    closed: bool,
    out: VecDeque<Transmit>,
    events: VecDeque<RtspEvent>,
    counters: ServerCounters,
}

impl ServerSession {
    /// A session for a new connection at `now`; `seed` draws its session
    /// id, SSRCs, first sequence numbers and timestamps.
    pub fn new(config: ServerConfig, seed: u64, now: Duration) -> ServerSession {
        ServerSession {
            config,
            rng: SplitMix64::new(seed),
            framer: Framer::new(),
            described: false,
            session_id: None,
            setup: BTreeMap::new(),
            playing: false,
            last_heard: now,
            closed: false,
            out: VecDeque::new(),
            events: VecDeque::new(),
            counters: ServerCounters::default(),
        }
    }

    /// Bytes arrived on the connection.
    pub fn handle_bytes(&mut self, now: Duration, bytes: &[u8]) {
        if self.closed {
            return;
        }
        self.framer.handle_bytes(bytes);
        loop {
            match self.framer.poll() {
                Ok(Some(Frame::Message(Message::Request(request)))) => {
                    self.handle_request(now, &request)
                }
                Ok(Some(Frame::Message(_))) => {}
                Ok(Some(Frame::Data { channel, payload })) => {
                    self.handle_data(now, channel, &payload)
                }
                Ok(None) => break,
                Err(e) => {
                    self.respond_status(e.status(), None, &[]);
                    self.close(format!("bad input: {e}"));
                    break;
                }
            }
            if self.closed {
                break;
            }
        }
    }

    /// An RTCP datagram arrived from the client's UDP RTCP port.
    pub fn handle_rtcp(&mut self, now: Duration, data: &[u8]) {
        let Ok(packets) = parse_compound(data) else {
            return;
        };
        self.counters.rtcp_received += 1;
        self.last_heard = now;
        for p in packets {
            self.handle_report(now, p);
        }
    }

    /// A unit of the source, at `now`: its packets go out while playing.
    pub fn handle_access_unit(&mut self, now: Duration, au: &AccessUnit) -> Result<(), RtspError> {
        if !self.playing || self.closed {
            return Ok(());
        }
        let epoch = self.config.epoch;
        for track in self.setup.values_mut() {
            if track.sender.track_id != au.track {
                continue;
            }
            let first = track.sender.packets == 0;
            let packets = track.sender.packets(now, au)?;
            if first && !packets.is_empty() {
                // An SR ahead of the first packets: the receiver can map
                // RTP time to capture time from the first unit on.
                track.next_sr = now + SR_INTERVAL;
                let sr = track.sender.sender_report(au.capture_time, epoch);
                let cname = Rtcp::Cname {
                    ssrc: track.sender.ssrc,
                    cname: "streamsim".into(),
                };
                if let Ok(bytes) = write_compound(&[sr, cname]) {
                    self.events.push_back(RtspEvent::Rtcp {
                        sent: true,
                        kind: "SR".into(),
                    });
                    self.out
                        .push_back(rtp_transmit(track.transport, true, bytes));
                }
            }
            for packet in packets {
                let bytes = packet
                    .write()
                    .map_err(|e| RtspError::Media(e.to_string()))?;
                self.counters.rtp_packets += 1;
                self.counters.rtp_bytes += bytes.len() as u64;
                self.out
                    .push_back(rtp_transmit(track.transport, false, bytes));
            }
        }
        Ok(())
    }

    /// Time passed to `now`: SRs fall due, an idle session times out.
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.closed {
            return;
        }
        if self.session_id.is_some() && now.saturating_sub(self.last_heard) >= SESSION_TIMEOUT {
            self.events.push_back(RtspEvent::SessionTimeout);
            self.close("session timed out".into());
            return;
        }
        if !self.playing {
            return;
        }
        let epoch = self.config.epoch;
        let mut reports = Vec::new();
        for track in self.setup.values_mut() {
            if now >= track.next_sr && track.sender.packets > 0 {
                track.next_sr = now + SR_INTERVAL;
                let sr = track.sender.sender_report(now, epoch);
                let cname = Rtcp::Cname {
                    ssrc: track.sender.ssrc,
                    cname: "streamsim".into(),
                };
                reports.push((track.transport, sr, cname));
            }
        }
        for (transport, sr, cname) in reports {
            self.events.push_back(RtspEvent::Rtcp {
                sent: true,
                kind: "SR".into(),
            });
            if let Ok(bytes) = write_compound(&[sr, cname]) {
                self.out.push_back(rtp_transmit(transport, true, bytes));
            }
        }
    }

    /// When to call [`Self::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Duration> {
        if self.closed {
            return None;
        }
        let idle = self
            .session_id
            .as_ref()
            .map(|_| self.last_heard + SESSION_TIMEOUT);
        let sr = self
            .playing
            .then(|| self.setup.values().map(|t| t.next_sr).min())
            .flatten();
        [idle, sr].into_iter().flatten().min()
    }

    /// The next bytes to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<RtspEvent> {
        self.events.pop_front()
    }

    /// True once the connection should close (after its last transmits).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// True while playing.
    pub fn is_playing(&self) -> bool {
        self.playing
    }

    /// Its counters.
    pub fn counters(&self) -> ServerCounters {
        self.counters
    }

    /// The tracks set up, with where they go.
    pub fn transports(&self) -> Vec<(usize, TrackTransport)> {
        self.setup.iter().map(|(i, t)| (*i, t.transport)).collect()
    }

    /// The server stops: BYE on every track, then the connection closes.
    pub fn shutdown(&mut self) {
        self.send_bye("server stopping");
        self.close("server stopping".into());
    }

    fn close(&mut self, reason: String) {
        if !self.closed {
            self.closed = true;
            self.playing = false;
            self.events.push_back(RtspEvent::Closed { reason });
        }
    }

    fn send_bye(&mut self, reason: &str) {
        let mut byes = Vec::new();
        for track in self.setup.values() {
            let bye = Rtcp::Bye {
                ssrcs: vec![track.sender.ssrc],
                reason: Some(reason.into()),
            };
            let sr = track
                .sender
                .sender_report(self.last_heard, self.config.epoch);
            if let Ok(bytes) = write_compound(&[sr, bye]) {
                byes.push(rtp_transmit(track.transport, true, bytes));
            }
        }
        if !byes.is_empty() {
            self.events.push_back(RtspEvent::Rtcp {
                sent: true,
                kind: "BYE".into(),
            });
        }
        self.out.extend(byes);
    }

    fn handle_data(&mut self, now: Duration, channel: u8, payload: &[u8]) {
        let known = self.setup.values().find_map(|t| match t.transport {
            TrackTransport::Tcp { rtp, rtcp } if channel == rtp || channel == rtcp => {
                Some(channel == rtcp)
            }
            _ => None,
        });
        match known {
            Some(true) => self.handle_rtcp(now, payload),
            // RTP from a client that only plays: ignored.
            Some(false) => {}
            None => self.close(format!(
                "interleaved data on channel {channel}, which no track set up"
            )),
        }
    }

    fn handle_report(&mut self, now: Duration, packet: Rtcp) {
        let kind = match &packet {
            Rtcp::Rr { .. } => "RR",
            Rtcp::Sr { .. } => "SR",
            Rtcp::Bye { .. } => "BYE",
            Rtcp::Nack { .. } => "NACK",
            Rtcp::Cname { .. } | Rtcp::Other { .. } => return,
        };
        self.events.push_back(RtspEvent::Rtcp {
            sent: false,
            kind: kind.into(),
        });
        if let Rtcp::Nack {
            media_ssrc, seqs, ..
        } = packet
        {
            self.counters.nacked += seqs.len() as u64;
            let _ = now;
            for track in self.setup.values_mut() {
                if track.sender.ssrc != media_ssrc {
                    continue;
                }
                for seq in &seqs {
                    if let Some(rtx) = track.sender.retransmission(*seq) {
                        if let Ok(bytes) = rtx.write() {
                            self.counters.retransmissions += 1;
                            self.counters.rtp_packets += 1;
                            self.counters.rtp_bytes += bytes.len() as u64;
                            self.out
                                .push_back(rtp_transmit(track.transport, false, bytes));
                        }
                    }
                }
            }
        }
    }
}

fn rtp_transmit(transport: TrackTransport, rtcp: bool, data: Vec<u8>) -> Transmit {
    match transport {
        TrackTransport::Udp {
            rtp,
            rtcp: rtcp_port,
        } => Transmit::Udp {
            port: if rtcp { rtcp_port } else { rtp },
            rtcp,
            data,
        },
        TrackTransport::Tcp { rtp, rtcp: ch } => {
            Transmit::Tcp(interleave(if rtcp { ch } else { rtp }, &data))
        }
    }
}

#[path = "server_requests.rs"]
mod requests;

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;

pub use requests::parse_transport;
