//! The 188-byte transport packet: header, adaptation field (PCR, random
//! access, discontinuity, stuffing) and payload, parsed and emitted.
//!
//! Invariants: [`write_packet`] always produces exactly [`PACKET_SIZE`] bytes
//! starting with [`SYNC_BYTE`], filling any room the payload leaves with
//! adaptation-field stuffing (never payload padding), so a PES ends exactly
//! at a packet's end. [`parse_packet`] never panics: any byte pattern is
//! either a [`TsPacket`] view or a [`PacketError`].

/// Bytes in one transport packet.
pub const PACKET_SIZE: usize = 188;
/// The first byte of every packet.
pub const SYNC_BYTE: u8 = 0x47;
/// Payload room of a packet without adaptation field, in bytes.
pub const MAX_PAYLOAD: usize = PACKET_SIZE - 4;
/// The null packet PID, whose packets carry nothing.
pub const NULL_PID: u16 = 0x1fff;
/// PCR ticks (27 MHz) per PTS tick (90 kHz).
pub const PCR_PER_PTS: u64 = 300;

/// Errors in one transport packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// The packet does not start with 0x47.
    #[error("sync byte is {found:#04x}, expected 0x47")]
    Sync {
        /// The byte found.
        found: u8,
    },
    /// The adaptation field claims more bytes than the packet holds.
    #[error("adaptation field of {length} bytes does not fit in a packet")]
    AdaptationLength {
        /// The declared adaptation_field_length.
        length: usize,
    },
    /// The flags announce a PCR the adaptation field has no room for.
    #[error("adaptation field of {length} bytes is too short for its PCR")]
    PcrTruncated {
        /// The declared adaptation_field_length.
        length: usize,
    },
    /// adaptation_field_control is 0 (reserved).
    #[error("reserved adaptation_field_control 0 on PID {pid:#x}")]
    ReservedControl {
        /// The packet's PID.
        pid: u16,
    },
}

/// The adaptation-field contents streamsim reads and writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdaptationField {
    /// discontinuity_indicator: continuity counter and time base restart.
    pub discontinuity: bool,
    /// random_access_indicator: a keyframe's PES starts in this packet.
    pub random_access: bool,
    /// Program clock reference, in 27 MHz ticks modulo 2^33 × 300.
    pub pcr: Option<u64>,
}

impl AdaptationField {
    /// Encoded size without stuffing, including the length byte, in bytes.
    pub fn encoded_len(&self) -> usize {
        2 + if self.pcr.is_some() { 6 } else { 0 }
    }

    /// Writes the field padded with stuffing to exactly `out.len()` bytes
    /// (`out.len()` ≥ [`Self::encoded_len`], or 1 for an empty field).
    fn write(&self, out: &mut [u8]) {
        out[0] = (out.len() - 1) as u8;
        if out.len() == 1 {
            return;
        }
        out[1] = u8::from(self.discontinuity) << 7
            | u8::from(self.random_access) << 6
            | u8::from(self.pcr.is_some()) << 4;
        let mut pos = 2;
        if let Some(pcr) = self.pcr {
            let base = (pcr / PCR_PER_PTS) & ((1 << 33) - 1);
            let ext = pcr % PCR_PER_PTS;
            let bits = base << 15 | 0x3f << 9 | ext;
            out[2..8].copy_from_slice(&bits.to_be_bytes()[2..8]);
            pos = 8;
        }
        out[pos..].fill(0xff);
    }

    fn parse(field: &[u8]) -> Result<Self, PacketError> {
        let Some(&flags) = field.first() else {
            return Ok(Self::default());
        };
        let mut af = Self {
            discontinuity: flags & 0x80 != 0,
            random_access: flags & 0x40 != 0,
            pcr: None,
        };
        if flags & 0x10 != 0 {
            let b = field.get(1..7).ok_or(PacketError::PcrTruncated {
                length: field.len(),
            })?;
            let bits = b.iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x));
            af.pcr = Some((bits >> 15) * PCR_PER_PTS + (bits & 0x1ff));
        }
        Ok(af)
    }
}

/// A parsed view of one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsPacket<'a> {
    /// transport_error_indicator: a lower layer knows the packet is damaged.
    pub transport_error: bool,
    /// payload_unit_start_indicator: a PES or PSI section starts here.
    pub unit_start: bool,
    /// The packet identifier (13 bits).
    pub pid: u16,
    /// continuity_counter (4 bits).
    pub cc: u8,
    /// Whether the packet carries a payload (the counter only advances then).
    pub has_payload: bool,
    /// The adaptation field, if present.
    pub adaptation: Option<AdaptationField>,
    /// The payload bytes (empty without payload).
    pub payload: &'a [u8],
}

/// Parses one packet.
pub fn parse_packet(buf: &[u8; PACKET_SIZE]) -> Result<TsPacket<'_>, PacketError> {
    if buf[0] != SYNC_BYTE {
        return Err(PacketError::Sync { found: buf[0] });
    }
    let pid = u16::from(buf[1] & 0x1f) << 8 | u16::from(buf[2]);
    let control = (buf[3] >> 4) & 3;
    if control == 0 {
        return Err(PacketError::ReservedControl { pid });
    }
    let mut payload_start = 4;
    let mut adaptation = None;
    if control & 2 != 0 {
        let length = usize::from(buf[4]);
        // With a payload the field may use at most 183 bytes, without 184.
        let max = if control & 1 != 0 { 182 } else { 183 };
        if length > max {
            return Err(PacketError::AdaptationLength { length });
        }
        adaptation = Some(AdaptationField::parse(&buf[5..5 + length])?);
        payload_start = 5 + length;
    }
    let has_payload = control & 1 != 0;
    Ok(TsPacket {
        transport_error: buf[1] & 0x80 != 0,
        unit_start: buf[1] & 0x40 != 0,
        pid,
        cc: buf[3] & 0x0f,
        has_payload,
        adaptation,
        payload: if has_payload {
            &buf[payload_start..]
        } else {
            &[]
        },
    })
}

/// What to put in the header of a packet being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketSpec {
    /// The PID (13 bits).
    pub pid: u16,
    /// payload_unit_start_indicator.
    pub unit_start: bool,
    /// continuity_counter (low 4 bits used).
    pub cc: u8,
}

/// Writes one packet carrying as much of `payload` as fits after `adaptation`,
/// stuffing the adaptation field when the payload is shorter than the room.
/// Returns the packet and the number of payload bytes it carries. With an
/// empty payload the packet is adaptation-only (its counter does not count).
pub fn write_packet(
    spec: PacketSpec,
    adaptation: Option<&AdaptationField>,
    payload: &[u8],
) -> ([u8; PACKET_SIZE], usize) {
    let mut pkt = [0xffu8; PACKET_SIZE];
    let af_min = adaptation.map_or(0, AdaptationField::encoded_len);
    let take = payload.len().min(MAX_PAYLOAD - af_min);
    let af_len = MAX_PAYLOAD - take;
    let control = match (af_len > 0, take > 0) {
        (true, true) => 3,
        (true, false) => 2,
        _ => 1,
    };
    pkt[0] = SYNC_BYTE;
    pkt[1] = u8::from(spec.unit_start) << 6 | ((spec.pid >> 8) & 0x1f) as u8;
    pkt[2] = spec.pid as u8;
    pkt[3] = control << 4 | (spec.cc & 0x0f);
    if af_len > 0 {
        adaptation
            .copied()
            .unwrap_or_default()
            .write(&mut pkt[4..4 + af_len]);
    }
    pkt[4 + af_len..].copy_from_slice(&payload[..take]);
    (pkt, take)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_round_trip_with_pcr_and_stuffing() {
        let af = AdaptationField {
            discontinuity: false,
            random_access: true,
            pcr: Some(123_456_789 * 300 + 299),
        };
        let spec = PacketSpec {
            pid: 0x100,
            unit_start: true,
            cc: 7,
        };
        let (pkt, used) = write_packet(spec, Some(&af), &[9; 10]);
        assert_eq!(used, 10);
        let p = parse_packet(&pkt).unwrap();
        assert_eq!(
            (p.pid, p.unit_start, p.cc, p.has_payload),
            (0x100, true, 7, true)
        );
        assert_eq!(p.adaptation, Some(af));
        assert_eq!(p.payload, &[9; 10]);
    }

    #[test]
    fn every_payload_size_fills_exactly_one_packet() {
        for n in 0..=MAX_PAYLOAD + 1 {
            let data: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let spec = PacketSpec {
                pid: 0x101,
                unit_start: false,
                cc: 3,
            };
            let (pkt, used) = write_packet(spec, None, &data);
            assert_eq!(used, n.min(MAX_PAYLOAD));
            let p = parse_packet(&pkt).unwrap();
            assert_eq!(p.payload, &data[..used], "payload of {n} bytes");
            assert_eq!(p.has_payload, used > 0);
        }
    }

    #[test]
    fn malformed_packets_are_errors() {
        let mut pkt = [0u8; PACKET_SIZE];
        assert_eq!(parse_packet(&pkt), Err(PacketError::Sync { found: 0 }));
        pkt[0] = SYNC_BYTE;
        assert!(matches!(
            parse_packet(&pkt),
            Err(PacketError::ReservedControl { .. })
        ));
        pkt[3] = 0x30;
        pkt[4] = 183;
        assert_eq!(
            parse_packet(&pkt),
            Err(PacketError::AdaptationLength { length: 183 })
        );
        pkt[4] = 2;
        pkt[5] = 0x10;
        assert_eq!(
            parse_packet(&pkt),
            Err(PacketError::PcrTruncated { length: 2 })
        );
    }
}
