//! One track's RTP receiver inside a client session: RFC 4588
//! retransmissions unwrapped, the jitter buffer, the depacketizer, RTCP
//! reception statistics, and generic NACKs (RFC 4585) for the holes the
//! jitter buffer waits on.
//!
//! NACK timing respects the jitter buffer's deadline: a missing packet is
//! asked for when the packet after it arrives, again after the measured
//! round trip if it has not come, at most [`NACK_TRIES`] times, and never
//! when the retransmission could not arrive before the jitter buffer
//! gives the hole up (its deadline less the round trip).

use std::collections::BTreeMap;
use std::time::Duration;

use super::sdp::SdpMedia;
use super::sender::unwrap_rtx;
use crate::media::AccessUnit;
use crate::media::Codec;
use crate::proto::rtp::aac::AacDepacketizer;
use crate::proto::rtp::h264::H264Depacketizer;
use crate::proto::rtp::jitter::{JitterBuffer, Released};
use crate::proto::rtp::rtcp::{Block, ReceptionStats};
use crate::proto::rtp::{Depacketized, RtpPacket, TimestampUnwrapper};

/// How often one missing packet is asked for at most.
pub const NACK_TRIES: u32 = 2;

/// The round trip assumed before one is measured.
pub const INITIAL_RTT: Duration = Duration::from_millis(100);

/// What a receiver hands on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Received {
    /// A whole unit, completed at `at`; `pts` counts from the track's first
    /// RTP timestamp, `rtp_ts` is the unit's own.
    Unit {
        /// Arrival of its last packet.
        at: Duration,
        /// RTP timestamp.
        rtp_ts: u32,
        /// The unit (`capture_time` zero: the caller's to set).
        unit: AccessUnit,
    },
    /// A damaged unit.
    Damaged {
        /// When it was found.
        at: Duration,
        /// Its pts, as for units.
        pts: i64,
    },
}

/// NACK and retransmission counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NackCounters {
    /// Sequence numbers asked for (each time asked).
    pub nacks_sent: u64,
    /// Retransmissions that filled a hole in time.
    pub rtx_in_time: u64,
    /// Retransmissions that came after the hole was given up (or twice).
    pub rtx_late: u64,
}

enum Depacketizer {
    H264(H264Depacketizer),
    Aac(AacDepacketizer),
}

/// One track's receiver.
pub struct TrackReceiver {
    /// The track (its id is its index in the description).
    pub media: SdpMedia,
    /// The server's SSRC, once known.
    pub ssrc: Option<u32>,
    jitter: JitterBuffer,
    depacketizer: Depacketizer,
    stats: ReceptionStats,
    unwrapper: TimestampUnwrapper,
    first_ts: Option<i64>,
    nack: bool,
    /// Missing sequence numbers asked for: (times asked, last asked at).
    asked: BTreeMap<u16, (u32, Duration)>,
    rtt: Duration,
    counters: NackCounters,
    /// RTP packets and bytes received (retransmissions included).
    pub packets: u64,
    /// Bytes received.
    pub bytes: u64,
}

impl TrackReceiver {
    /// A receiver of `media` whose jitter buffer waits `latency`, sending
    /// NACKs when `nack`.
    pub fn new(media: SdpMedia, latency: Duration, nack: bool) -> TrackReceiver {
        let depacketizer = match media.track.codec {
            Codec::Aac => Depacketizer::Aac(AacDepacketizer::new(1024)),
            _ => Depacketizer::H264(H264Depacketizer::new()),
        };
        TrackReceiver {
            jitter: JitterBuffer::new(latency, media.clock_rate),
            stats: ReceptionStats::new(media.clock_rate),
            media,
            ssrc: None,
            depacketizer,
            unwrapper: TimestampUnwrapper::new(),
            first_ts: None,
            nack,
            asked: BTreeMap::new(),
            rtt: INITIAL_RTT,
            counters: NackCounters::default(),
            packets: 0,
            bytes: 0,
        }
    }

    /// An RTP packet for this track arrived at `now`; what it completed
    /// goes to `out`.
    pub fn handle_rtp(
        &mut self,
        now: Duration,
        packet: RtpPacket,
        wire_len: usize,
        out: &mut Vec<Received>,
    ) {
        self.packets += 1;
        self.bytes += wire_len as u64;
        let packet = if Some(packet.payload_type) == self.media.rtx_payload_type {
            let Some(original) =
                unwrap_rtx(&packet, self.media.payload_type, self.ssrc.unwrap_or(0))
            else {
                return;
            };
            let in_time = self.jitter.missing().contains(&original.seq);
            if let Some((_, at)) = self.asked.remove(&original.seq) {
                if in_time {
                    // The round trip, smoothed as TCP's SRTT (1/8).
                    let sample = now.saturating_sub(at);
                    self.rtt = (self.rtt * 7 + sample) / 8;
                }
            }
            if in_time {
                self.counters.rtx_in_time += 1;
            } else {
                self.counters.rtx_late += 1;
            }
            original
        } else {
            if packet.payload_type != self.media.payload_type {
                return;
            }
            self.ssrc.get_or_insert(packet.ssrc);
            self.stats.handle_packet(now, packet.seq, packet.timestamp);
            packet
        };
        self.jitter.handle_packet(now, packet);
        self.drain(now, out);
    }

    /// Time passed to `now`: holes fall due.
    pub fn handle_timeout(&mut self, now: Duration, out: &mut Vec<Received>) {
        self.jitter.handle_timeout(now);
        self.drain(now, out);
    }

    /// When to call [`Self::handle_timeout`] next: a hole's deadline, or a
    /// NACK to repeat.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let retry = self
            .asked
            .values()
            .filter(|(n, _)| *n < NACK_TRIES)
            .map(|(_, at)| *at + self.rtt)
            .min();
        [self.jitter.poll_timeout(), retry]
            .into_iter()
            .flatten()
            .min()
    }

    /// The sequence numbers to NACK now (empty when NACK is off).
    pub fn poll_nack(&mut self, now: Duration) -> Vec<u16> {
        if !self.nack {
            return Vec::new();
        }
        let Some(deadline) = self.jitter.poll_timeout() else {
            self.asked.clear();
            return Vec::new();
        };
        // Too late to ask: the answer would come after the deadline. What
        // was asked is not asked again (no retry timer stays due).
        if now + self.rtt >= deadline {
            for entry in self.asked.values_mut() {
                entry.0 = NACK_TRIES;
            }
            return Vec::new();
        }
        let missing = self.jitter.missing();
        self.asked.retain(|seq, _| missing.contains(seq));
        let mut ask = Vec::new();
        for seq in missing {
            let entry = self.asked.entry(seq).or_insert((0, now));
            let due = entry.0 == 0 || (entry.0 < NACK_TRIES && now >= entry.1 + self.rtt);
            if due {
                *entry = (entry.0 + 1, now);
                ask.push(seq);
            }
        }
        self.counters.nacks_sent += ask.len() as u64;
        ask
    }

    /// The server's SR arrived at `now`.
    pub fn handle_sender_report(&mut self, now: Duration, ntp: u64) {
        self.stats.handle_sender_report(now, ntp);
    }

    /// Its report block at `now` (starts the next interval).
    pub fn report(&mut self, now: Duration) -> Option<Block> {
        Some(self.stats.report(now, self.ssrc?))
    }

    /// Reception statistics so far.
    pub fn stats(&self) -> &ReceptionStats {
        &self.stats
    }

    /// NACK counters.
    pub fn nack_counters(&self) -> NackCounters {
        self.counters
    }

    /// Jitter buffer counters.
    pub fn jitter_counters(&self) -> crate::proto::rtp::jitter::JitterCounters {
        self.jitter.counters()
    }

    /// `rtp_ts` as a pts counted from the track's first timestamp.
    pub fn pts(&mut self, rtp_ts: u32) -> i64 {
        let ts = self.unwrapper.unwrap(rtp_ts);
        ts - *self.first_ts.get_or_insert(ts)
    }

    fn drain(&mut self, now: Duration, out: &mut Vec<Received>) {
        while let Some(r) = self.jitter.poll() {
            match (&mut self.depacketizer, r) {
                (Depacketizer::H264(d), Released::Packet { packet, .. }) => {
                    d.handle_packet(packet.seq, packet.timestamp, packet.marker, &packet.payload)
                }
                (Depacketizer::Aac(d), Released::Packet { packet, .. }) => {
                    d.handle_packet(packet.seq, packet.timestamp, packet.marker, &packet.payload)
                }
                (Depacketizer::H264(d), Released::Lost { .. }) => d.handle_gap(),
                (Depacketizer::Aac(d), Released::Lost { .. }) => d.handle_gap(),
            }
        }
        loop {
            let next = match &mut self.depacketizer {
                Depacketizer::H264(d) => d.poll(),
                Depacketizer::Aac(d) => d.poll(),
            };
            let Some(next) = next else { break };
            match next {
                Depacketized::Unit {
                    rtp_ts,
                    keyframe,
                    data,
                } => {
                    let pts = self.pts(rtp_ts);
                    out.push(Received::Unit {
                        at: now,
                        rtp_ts,
                        unit: AccessUnit {
                            track: self.media.track.id,
                            pts,
                            dts: pts,
                            duration: 0,
                            keyframe,
                            data,
                            capture_time: Duration::ZERO,
                        },
                    });
                }
                Depacketized::Damaged { rtp_ts } => {
                    let pts = self.pts(rtp_ts);
                    out.push(Received::Damaged { at: now, pts });
                }
            }
        }
    }
}
