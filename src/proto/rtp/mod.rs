//! RTP and RTCP (RFC 3550) for the protocols that carry media in RTP
//! (RTSP now; WebRTC-like and SRT-like later): packets, payload formats,
//! reception statistics, feedback and a jitter buffer. All sans-IO: bytes
//! and times in, bytes and units out; no clock, no RNG (SSRCs and initial
//! sequence numbers and timestamps are the caller's, from its seeded
//! streams).
//!
//! * [`packet`]: one RTP packet, parsed and written with `rtp-types`;
//!   sequence-number arithmetic with wraparound.
//! * [`h264`]: RFC 6184 packetization mode 1 (single NAL unit, STAP-A,
//!   FU-A), MTU-aware, and its depacketizer.
//! * [`aac`]: RFC 3640 `mpeg4-generic` AAC-hbr, and its depacketizer.
//! * [`rtcp`]: reception statistics (RFC 3550 A.1, A.3, A.8), SR, RR, SDES
//!   CNAME, BYE and RFC 4585 generic NACK, written and parsed with
//!   `rtcp-types`.
//! * [`jitter`]: the receiver's jitter buffer (200 ms by default, as
//!   GStreamer's `rtpjitterbuffer`): it puts packets back in sequence and
//!   waits for a missing one until the packet after it is due.
//!
//! Depacketizers take packets in sequence order (what the jitter buffer
//! releases) and hand out complete access units, or a report that a unit
//! was damaged: a gap in the sequence numbers inside a unit, or a
//! fragmented NAL unit that lost a fragment, damages it; a unit is never
//! handed out with a hole in it.

pub mod aac;
pub mod h264;
pub mod jitter;
pub mod packet;
pub mod rtcp;

pub use packet::{seq_delta, RtpPacket, RTP_HEADER};

/// What went wrong reading or writing RTP or RTCP.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RtpError {
    /// An RTP packet is malformed.
    #[error("malformed RTP packet: {0}")]
    Rtp(String),
    /// An RTCP packet is malformed.
    #[error("malformed RTCP packet: {0}")]
    Rtcp(String),
    /// A packet could not be written (too large a payload, …).
    #[error("cannot write {what}: {message}")]
    Write {
        /// What was being written.
        what: &'static str,
        /// Why it failed.
        message: String,
    },
    /// The MTU leaves no room for a payload.
    #[error("an MTU of {mtu} bytes leaves no room for an RTP payload")]
    Mtu {
        /// The MTU given.
        mtu: usize,
    },
}

/// One access unit out of a depacketizer, or the news that one was lost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Depacketized {
    /// A complete unit: its RTP timestamp and its data in the canonical
    /// form of [`crate::media`] (Annex B without parameter sets for H.264,
    /// a raw frame for AAC).
    Unit {
        /// RTP timestamp.
        rtp_ts: u32,
        /// An IDR picture (H.264); every AAC frame is one.
        keyframe: bool,
        /// The data.
        data: Vec<u8>,
    },
    /// A unit that lost packets, dropped whole.
    Damaged {
        /// Its RTP timestamp.
        rtp_ts: u32,
    },
}

/// Extends 32-bit RTP timestamps to 64 bits across wraparound, relative to
/// the first one seen (which maps to `0 + offset`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimestampUnwrapper {
    last: Option<(u32, i64)>,
}

impl TimestampUnwrapper {
    /// An unwrapper that has seen nothing.
    pub fn new() -> TimestampUnwrapper {
        TimestampUnwrapper::default()
    }

    /// `ts` as a 64-bit value, the first timestamp seen being `ts` itself;
    /// later ones move by their signed 32-bit difference from the last.
    pub fn unwrap(&mut self, ts: u32) -> i64 {
        let value = match self.last {
            None => i64::from(ts),
            Some((last_ts, last)) => last + i64::from(ts.wrapping_sub(last_ts) as i32),
        };
        self.last = Some((ts, value));
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_unwrap_across_the_32_bit_boundary_both_ways() {
        let mut u = TimestampUnwrapper::new();
        assert_eq!(u.unwrap(u32::MAX - 1000), i64::from(u32::MAX - 1000));
        assert_eq!(u.unwrap(2000), i64::from(u32::MAX) + 2001);
        // A reordered (earlier) timestamp goes back, across the wrap too.
        assert_eq!(u.unwrap(u32::MAX - 10), i64::from(u32::MAX - 10));
        assert_eq!(u.unwrap(5), i64::from(u32::MAX) + 6);
    }
}
