//! One RTP packet (RFC 3550 §5.1), owned, read and written with
//! `rtp-types` (which checks the version, padding, CSRC count and
//! extension length against the buffer, and never panics on input).

use super::RtpError;

/// Bytes of a fixed RTP header (no CSRC, no extension).
pub const RTP_HEADER: usize = 12;

/// An RTP packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtpPacket {
    /// Payload type (7 bits).
    pub payload_type: u8,
    /// Sequence number.
    pub seq: u16,
    /// Timestamp, in the payload format's clock.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    /// The marker bit (the last packet of a video access unit).
    pub marker: bool,
    /// Contributing sources.
    pub csrc: Vec<u32>,
    /// The header extension: its profile-defined id and data (a multiple
    /// of 4 bytes).
    pub extension: Option<(u16, Vec<u8>)>,
    /// The payload, padding removed.
    pub payload: Vec<u8>,
}

impl RtpPacket {
    /// A packet with no CSRC and no extension.
    pub fn new(
        payload_type: u8,
        seq: u16,
        timestamp: u32,
        ssrc: u32,
        marker: bool,
        payload: Vec<u8>,
    ) -> RtpPacket {
        RtpPacket {
            payload_type,
            seq,
            timestamp,
            ssrc,
            marker,
            csrc: Vec::new(),
            extension: None,
            payload,
        }
    }

    /// Reads a packet.
    pub fn parse(data: &[u8]) -> Result<RtpPacket, RtpError> {
        let p = rtp_types::RtpPacket::parse(data).map_err(|e| RtpError::Rtp(e.to_string()))?;
        Ok(RtpPacket {
            payload_type: p.payload_type(),
            seq: p.sequence_number(),
            timestamp: p.timestamp(),
            ssrc: p.ssrc(),
            marker: p.marker_bit(),
            csrc: p.csrc().collect(),
            extension: p.extension().map(|(id, d)| (id, d.to_vec())),
            payload: p.payload().to_vec(),
        })
    }

    /// Writes the packet.
    pub fn write(&self) -> Result<Vec<u8>, RtpError> {
        let mut b = rtp_types::RtpPacketBuilder::<&[u8], &[u8]>::new()
            .payload_type(self.payload_type)
            .sequence_number(self.seq)
            .timestamp(self.timestamp)
            .ssrc(self.ssrc)
            .marker_bit(self.marker)
            .payload(self.payload.as_slice());
        for c in &self.csrc {
            b = b.add_csrc(*c);
        }
        if let Some((id, data)) = &self.extension {
            b = b.extension(*id, data.as_slice());
        }
        b.write_vec().map_err(|e| RtpError::Write {
            what: "an RTP packet",
            message: e.to_string(),
        })
    }

    /// Bytes on the wire.
    pub fn wire_len(&self) -> usize {
        RTP_HEADER
            + 4 * self.csrc.len()
            + self.extension.as_ref().map_or(0, |(_, d)| 4 + d.len())
            + self.payload.len()
    }
}

/// `b − a` in sequence-number space: positive when `b` comes after `a`
/// (within half the space), negative when before.
pub fn seq_delta(a: u16, b: u16) -> i32 {
    i32::from(b.wrapping_sub(a) as i16)
}

/// True when the RTP header's payload type says RTCP (RFC 5761 §4: types
/// 64–95 on the wire's second byte, i.e. 192–223 with the marker bit):
/// how a demultiplexer tells RTCP from RTP on one channel.
pub fn looks_like_rtcp(data: &[u8]) -> bool {
    data.len() >= 2 && (192..=223).contains(&data[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packet_round_trips_with_csrcs_an_extension_and_the_marker() {
        let mut p = RtpPacket::new(96, 65_535, 0xdead_beef, 0x1234_5678, true, vec![1, 2, 3]);
        p.csrc = vec![7, 8];
        p.extension = Some((0xbede, vec![0x10, 0xaa, 0, 0]));
        let bytes = p.write().unwrap();
        assert_eq!(bytes.len(), p.wire_len());
        assert_eq!(RtpPacket::parse(&bytes).unwrap(), p);
        // The plain header is 12 bytes; version 2.
        let plain = RtpPacket::new(97, 1, 2, 3, false, vec![9; 10]);
        let bytes = plain.write().unwrap();
        assert_eq!(bytes.len(), RTP_HEADER + 10);
        assert_eq!(bytes[0] >> 6, 2);
        assert_eq!(RtpPacket::parse(&bytes).unwrap(), plain);
        assert!(!looks_like_rtcp(&bytes));
    }

    #[test]
    fn short_and_wrong_version_packets_are_errors() {
        assert!(RtpPacket::parse(&[]).is_err());
        assert!(RtpPacket::parse(&[0x80, 96, 0, 1]).is_err());
        let mut bytes = RtpPacket::new(96, 1, 2, 3, false, vec![1]).write().unwrap();
        bytes[0] = 0x40; // version 1
        assert!(RtpPacket::parse(&bytes).is_err());
        // A CSRC count that runs past the end.
        let mut bytes = RtpPacket::new(96, 1, 2, 3, false, vec![]).write().unwrap();
        bytes[0] |= 0x0f;
        assert!(RtpPacket::parse(&bytes).is_err());
    }

    #[test]
    fn sequence_deltas_wrap() {
        assert_eq!(seq_delta(65_535, 0), 1);
        assert_eq!(seq_delta(0, 65_535), -1);
        assert_eq!(seq_delta(100, 90), -10);
        assert_eq!(seq_delta(10, 10), 0);
    }
}
