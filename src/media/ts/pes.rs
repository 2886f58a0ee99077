//! The PES packet header: stream id, length, and 33-bit PTS/DTS at 90 kHz,
//! emitted and parsed; plus conversion between track timescales and 90 kHz
//! and the unwrapping of 33-bit timestamps.
//!
//! Invariants: emitted timestamps are reduced modulo 2^33; the parser keeps
//! "need more bytes" ([`PesError::Incomplete`]) apart from malformed headers.

/// The 90 kHz clock PTS and DTS count in.
pub const PTS_HZ: u32 = 90_000;
/// PTS/DTS wrap at 2^33 ticks (about 26.5 hours).
pub const PTS_MODULUS: i64 = 1 << 33;
/// stream_id of the first video stream.
pub const STREAM_ID_VIDEO: u8 = 0xe0;
/// stream_id of the first audio stream.
pub const STREAM_ID_AUDIO: u8 = 0xc0;

/// Errors in a PES header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PesError {
    /// The header continues beyond the bytes given.
    #[error("PES header needs {needed} bytes, {available} available")]
    Incomplete {
        /// Bytes the header needs.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// The packet does not start with the 00 00 01 prefix.
    #[error("PES start code prefix missing")]
    StartCode,
    /// A header field is inconsistent.
    #[error("malformed PES header: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// The payload is too long for a non-zero PES_packet_length.
    #[error("PES of {length} bytes exceeds 65535 and may not be unbounded")]
    TooLong {
        /// Bytes after the length field.
        length: usize,
    },
}

/// A PES header as streamsim writes and reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PesHeader {
    /// stream_id.
    pub stream_id: u8,
    /// PES_packet_length: bytes after the length field, 0 = unbounded (video).
    pub packet_length: u16,
    /// Presentation timestamp, 90 kHz, modulo 2^33.
    pub pts: Option<i64>,
    /// Decoding timestamp, 90 kHz, modulo 2^33 (absent when equal to `pts`).
    pub dts: Option<i64>,
    /// Bytes from the start code to the payload.
    pub header_len: usize,
}

fn write_ts(out: &mut Vec<u8>, prefix: u8, ts: i64) {
    let t = ts.rem_euclid(PTS_MODULUS) as u64;
    out.push(prefix << 4 | ((t >> 29) & 0x0e) as u8 | 1);
    out.extend_from_slice(&((((t >> 14) & 0xfffe) | 1) as u16).to_be_bytes());
    out.extend_from_slice(&((((t << 1) & 0xfffe) | 1) as u16).to_be_bytes());
}

fn read_ts(b: &[u8]) -> Result<i64, PesError> {
    if b[0] & 1 == 0 || b[2] & 1 == 0 || b[4] & 1 == 0 {
        return Err(PesError::Malformed {
            reason: "timestamp marker bit is 0",
        });
    }
    let hi = i64::from(b[0] >> 1 & 7);
    let mid = i64::from(u16::from_be_bytes([b[1], b[2]]) >> 1);
    let lo = i64::from(u16::from_be_bytes([b[3], b[4]]) >> 1);
    Ok(hi << 30 | mid << 15 | lo)
}

/// Emits a PES header for `payload_len` payload bytes. `bounded` selects a
/// real PES_packet_length; otherwise 0 (allowed for video only). `dts` is
/// written only when it differs from `pts`.
pub fn emit_header(
    stream_id: u8,
    pts: i64,
    dts: i64,
    payload_len: usize,
    bounded: bool,
) -> Result<Vec<u8>, PesError> {
    let with_dts = dts.rem_euclid(PTS_MODULUS) != pts.rem_euclid(PTS_MODULUS);
    let data_len: u8 = if with_dts { 10 } else { 5 };
    let length = if bounded {
        let n = 3 + usize::from(data_len) + payload_len;
        u16::try_from(n).map_err(|_| PesError::TooLong { length: n })?
    } else {
        0
    };
    let mut out = vec![0, 0, 1, stream_id];
    out.extend_from_slice(&length.to_be_bytes());
    // '10', not scrambled, no priority, data_alignment_indicator = 1.
    out.extend_from_slice(&[0x84, if with_dts { 0xc0 } else { 0x80 }, data_len]);
    write_ts(&mut out, if with_dts { 3 } else { 2 }, pts);
    if with_dts {
        write_ts(&mut out, 1, dts);
    }
    Ok(out)
}

/// Parses the PES header at the start of `data`.
pub fn parse_header(data: &[u8]) -> Result<PesHeader, PesError> {
    let incomplete = |needed| PesError::Incomplete {
        needed,
        available: data.len(),
    };
    let fixed = data.get(..9).ok_or(incomplete(9))?;
    if fixed[..3] != [0, 0, 1] {
        return Err(PesError::StartCode);
    }
    let stream_id = fixed[3];
    let packet_length = u16::from_be_bytes([fixed[4], fixed[5]]);
    if fixed[6] & 0xc0 != 0x80 {
        return Err(PesError::Malformed {
            reason: "optional header does not start with '10'",
        });
    }
    let header_len = 9 + usize::from(fixed[8]);
    let head = data.get(..header_len).ok_or(incomplete(header_len))?;
    let flags = fixed[7] >> 6;
    let need = match flags {
        2 => 5,
        3 => 10,
        0 => 0,
        _ => {
            return Err(PesError::Malformed {
                reason: "PTS_DTS_flags is 01",
            })
        }
    };
    if usize::from(fixed[8]) < need {
        return Err(PesError::Malformed {
            reason: "header too short for its timestamps",
        });
    }
    if packet_length != 0 && usize::from(packet_length) + 6 < header_len {
        return Err(PesError::Malformed {
            reason: "PES_packet_length shorter than the header",
        });
    }
    let pts = if flags & 2 != 0 {
        Some(read_ts(&head[9..14])?)
    } else {
        None
    };
    let dts = if flags == 3 {
        Some(read_ts(&head[14..19])?)
    } else {
        None
    };
    Ok(PesHeader {
        stream_id,
        packet_length,
        pts,
        dts,
        header_len,
    })
}

/// Converts a timestamp from `timescale` ticks to 90 kHz, rounding to
/// nearest. Exact when 90 000 is a multiple of the tick rate's divisor
/// (e.g. 48 kHz audio in 1024-sample frames, 90 kHz video).
pub fn to_90k(ts: i64, timescale: u32) -> i64 {
    crate::media::rescale(ts, timescale, PTS_HZ)
}

/// Converts a 90 kHz timestamp to `timescale` ticks, rounding to nearest.
/// For timescales ≤ 90 kHz, `from_90k(to_90k(x))` == `x`.
pub fn from_90k(ts: i64, timescale: u32) -> i64 {
    crate::media::rescale(ts, PTS_HZ, timescale)
}

/// Extends 33-bit timestamps to a continuous timeline: each value lands
/// within ±2^32 ticks of the previous one, so a stream that wraps after
/// 26.5 hours keeps counting up.
///
/// The first value is taken as is ([`Unwrapper::default`], in [0, 2^33)) or
/// as a signed 33-bit value ([`Unwrapper::signed`], in [-2^32, 2^32)): the
/// wire cannot tell a stream starting slightly below 0 from one starting
/// 26.5 hours in, so the demuxer reads the nearer one, which is what the
/// muxer accepts as a first timestamp.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unwrapper {
    last: Option<i64>,
    signed_start: bool,
}

impl Unwrapper {
    /// An unwrapper whose first value is read as signed (see the type docs).
    pub fn signed() -> Self {
        Self {
            last: None,
            signed_start: true,
        }
    }

    /// The extended value of a 33-bit `raw` timestamp.
    pub fn unwrap(&mut self, raw: i64) -> i64 {
        let value = match self.last {
            None if self.signed_start => signed_33(raw),
            None => raw,
            Some(last) => last + signed_33(raw - last),
        };
        self.last = Some(value);
        value
    }
}

/// A 33-bit value (or difference) as a signed value in [-2^32, 2^32).
pub fn signed_33(value: i64) -> i64 {
    let v = value.rem_euclid(PTS_MODULUS);
    if v >= PTS_MODULUS / 2 {
        v - PTS_MODULUS
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_with_and_without_dts() {
        let h = emit_header(STREAM_ID_VIDEO, 1 << 32 | 12345, 99, 1000, false).unwrap();
        let p = parse_header(&h).unwrap();
        assert_eq!(
            (p.pts, p.dts, p.packet_length, p.header_len),
            (Some(1 << 32 | 12345), Some(99), 0, 19)
        );
        let h = emit_header(STREAM_ID_AUDIO, -1, -1, 300, true).unwrap();
        let p = parse_header(&h).unwrap();
        assert_eq!(
            (p.pts, p.dts, p.packet_length, p.header_len),
            (Some(PTS_MODULUS - 1), None, 308, 14)
        );
        assert_eq!(
            parse_header(&h[..10]),
            Err(PesError::Incomplete {
                needed: 14,
                available: 10
            })
        );
        assert_eq!(
            parse_header(&[0, 0, 2, 0, 0, 0, 0x80, 0, 0]),
            Err(PesError::StartCode)
        );
        assert_eq!(
            emit_header(STREAM_ID_AUDIO, 0, 0, 70_000, true),
            Err(PesError::TooLong { length: 70_008 })
        );
    }

    #[test]
    fn timescale_conversion_is_exact_where_promised() {
        for frame in 0..1000i64 {
            assert_eq!(to_90k(frame * 1024, 48_000), frame * 1920);
            assert_eq!(from_90k(to_90k(frame * 1024, 44_100), 44_100), frame * 1024);
        }
        assert_eq!(to_90k(-1024, 48_000), -1920);
    }

    #[test]
    fn unwrapping_crosses_the_33_bit_boundary() {
        let mut u = Unwrapper::default();
        assert_eq!(u.unwrap(PTS_MODULUS - 3000), PTS_MODULUS - 3000);
        assert_eq!(u.unwrap(3000), PTS_MODULUS + 3000);
        assert_eq!(u.unwrap(PTS_MODULUS - 6000), PTS_MODULUS - 6000);
    }

    #[test]
    fn a_signed_unwrapper_reads_its_first_value_as_signed_33_bits() {
        let mut u = Unwrapper::signed();
        assert_eq!(u.unwrap(PTS_MODULUS - 6000), -6000);
        assert_eq!(u.unwrap(3000), 3000);
        let mut u = Unwrapper::signed();
        assert_eq!(u.unwrap((1 << 32) - 1), (1 << 32) - 1);
        assert_eq!(u.unwrap(1 << 32), 1 << 32);
        assert_eq!(Unwrapper::signed().unwrap(1 << 32), -(1 << 32));
    }
}
