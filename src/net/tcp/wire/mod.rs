//! TCP segments on the wire: a checked view over bytes, and a parsed
//! representation that emits back to bytes.
//!
//! [`TcpPacket::new_checked`] separates "the buffer is too short"
//! ([`WireError::Incomplete`]) from "these bytes are not a TCP header"
//! (every other error); after it succeeds no accessor can panic.
//! [`TcpRepr::parse`] also checks options and, when asked, the checksum
//! over the IPv4 pseudo-header. [`TcpHeader::emit`] writes a header, its
//! options and a payload, checksum included.

use std::net::Ipv4Addr;

use super::seq::SeqNum;

mod options;

pub use self::options::{
    SackBlocks, TcpOptions, Timestamps, MAX_OPTIONS_LEN, MAX_SACK_BLOCKS, MAX_WINDOW_SHIFT,
};

/// Length of the fixed TCP header, in bytes.
pub const HEADER_LEN: usize = 20;

/// IP protocol number of TCP.
const PROTO_TCP: u8 = 6;

/// Why bytes are not a TCP segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The buffer ends before the header (and its options) does.
    #[error("incomplete TCP header: {have} of {needed} bytes")]
    Incomplete {
        /// Bytes the header needs.
        needed: usize,
        /// Bytes present.
        have: usize,
    },
    /// The data offset is below the 5 words of the fixed header.
    #[error("data offset {words} words is below 5")]
    BadDataOffset {
        /// The data offset field, in 32-bit words.
        words: u8,
    },
    /// An option whose length is impossible for its kind or overruns the area.
    #[error("malformed TCP option kind {kind} length {len}")]
    BadOption {
        /// Option kind.
        kind: u8,
        /// Option length byte (0 when missing).
        len: u8,
    },
    /// The checksum does not match the pseudo-header and segment.
    #[error("bad TCP checksum")]
    BadChecksum,
}

/// TCP header flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags(pub u8);

impl Flags {
    /// No more data from the sender.
    pub const FIN: Flags = Flags(0x01);
    /// Synchronize sequence numbers.
    pub const SYN: Flags = Flags(0x02);
    /// Reset the connection.
    pub const RST: Flags = Flags(0x04);
    /// Push.
    pub const PSH: Flags = Flags(0x08);
    /// The acknowledgment field is significant.
    pub const ACK: Flags = Flags(0x10);
    /// The urgent pointer is significant.
    pub const URG: Flags = Flags(0x20);

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether FIN is set.
    pub fn fin(self) -> bool {
        self.contains(Flags::FIN)
    }

    /// Whether SYN is set.
    pub fn syn(self) -> bool {
        self.contains(Flags::SYN)
    }

    /// Whether RST is set.
    pub fn rst(self) -> bool {
        self.contains(Flags::RST)
    }

    /// Whether ACK is set.
    pub fn ack(self) -> bool {
        self.contains(Flags::ACK)
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
}

/// A checked, zero-copy view of a TCP segment.
#[derive(Debug, Clone, Copy)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps `buffer` after checking that the fixed header and the options
    /// the data offset announces are all present.
    pub fn new_checked(buffer: T) -> Result<TcpPacket<T>, WireError> {
        let bytes = buffer.as_ref();
        if bytes.len() < HEADER_LEN {
            return Err(WireError::Incomplete {
                needed: HEADER_LEN,
                have: bytes.len(),
            });
        }
        let words = bytes[12] >> 4;
        if words < 5 {
            return Err(WireError::BadDataOffset { words });
        }
        let needed = usize::from(words) * 4;
        if bytes.len() < needed {
            return Err(WireError::Incomplete {
                needed,
                have: bytes.len(),
            });
        }
        Ok(TcpPacket { buffer })
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    fn u16_at(&self, at: usize) -> u16 {
        u16::from_be_bytes([self.bytes()[at], self.bytes()[at + 1]])
    }

    fn u32_at(&self, at: usize) -> u32 {
        let b = self.bytes();
        u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        self.u16_at(0)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        self.u16_at(2)
    }

    /// Sequence number.
    pub fn seq(&self) -> SeqNum {
        SeqNum(self.u32_at(4))
    }

    /// Acknowledgment number.
    pub fn ack(&self) -> SeqNum {
        SeqNum(self.u32_at(8))
    }

    /// Header length including options, in bytes.
    pub fn header_len(&self) -> usize {
        usize::from(self.bytes()[12] >> 4) * 4
    }

    /// Flags (the low six bits; ECN bits are ignored).
    pub fn flags(&self) -> Flags {
        Flags(self.bytes()[13] & 0x3f)
    }

    /// The window field, unscaled.
    pub fn window(&self) -> u16 {
        self.u16_at(14)
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        self.u16_at(16)
    }

    /// The urgent pointer.
    pub fn urgent(&self) -> u16 {
        self.u16_at(18)
    }

    /// The options area.
    pub fn options(&self) -> &[u8] {
        &self.bytes()[HEADER_LEN..self.header_len()]
    }

    /// The payload.
    pub fn payload(&self) -> &[u8] {
        &self.bytes()[self.header_len()..]
    }

    /// Whether the checksum matches the segment sent from `src` to `dst`.
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        checksum(src, dst, self.bytes()) == 0
    }
}

/// A TCP header in parsed form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpHeader {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number of the first byte (or of the SYN/FIN).
    pub seq: SeqNum,
    /// Acknowledgment number; meaningful only with [`Flags::ACK`].
    pub ack: SeqNum,
    /// Flags.
    pub flags: Flags,
    /// Window field as sent (the receiver applies the scale).
    pub window: u16,
    /// Options.
    pub options: TcpOptions,
}

impl TcpHeader {
    /// Header length with options, in bytes.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.wire_len()
    }

    /// Writes this header followed by `payload` into `buf` (which must be
    /// exactly `header_len() + payload.len()` bytes) with the checksum for a
    /// segment from `src` to `dst`.
    pub fn emit(&self, buf: &mut [u8], payload: &[u8], src: Ipv4Addr, dst: Ipv4Addr) {
        let header_len = self.header_len();
        buf[0..2].copy_from_slice(&self.src_port.to_be_bytes());
        buf[2..4].copy_from_slice(&self.dst_port.to_be_bytes());
        buf[4..8].copy_from_slice(&self.seq.0.to_be_bytes());
        buf[8..12].copy_from_slice(&self.ack.0.to_be_bytes());
        // header_len ≤ 60, so the word count fits the 4-bit field.
        buf[12] = ((header_len / 4) as u8) << 4;
        buf[13] = self.flags.0;
        buf[14..16].copy_from_slice(&self.window.to_be_bytes());
        buf[16..20].fill(0);
        self.options.emit(&mut buf[HEADER_LEN..header_len]);
        buf[header_len..].copy_from_slice(payload);
        let sum = checksum(src, dst, buf);
        buf[16..18].copy_from_slice(&sum.to_be_bytes());
    }

    /// This header and `payload` as a new buffer.
    pub fn to_bytes(&self, payload: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
        let mut buf = vec![0; self.header_len() + payload.len()];
        self.emit(&mut buf, payload, src, dst);
        buf
    }
}

/// A parsed segment: header and a borrowed payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpRepr<'a> {
    /// The header.
    pub header: TcpHeader,
    /// The payload.
    pub payload: &'a [u8],
}

impl<'a> TcpRepr<'a> {
    /// Parses a segment. With `addrs` (source, destination) the checksum
    /// over the IPv4 pseudo-header is verified.
    pub fn parse(
        bytes: &'a [u8],
        addrs: Option<(Ipv4Addr, Ipv4Addr)>,
    ) -> Result<TcpRepr<'a>, WireError> {
        let packet = TcpPacket::new_checked(bytes)?;
        if let Some((src, dst)) = addrs {
            if !packet.verify_checksum(src, dst) {
                return Err(WireError::BadChecksum);
            }
        }
        let options = TcpOptions::parse(packet.options())?;
        let header = TcpHeader {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            seq: packet.seq(),
            ack: packet.ack(),
            flags: packet.flags(),
            window: packet.window(),
            options,
        };
        Ok(TcpRepr {
            header,
            payload: &bytes[packet.header_len()..],
        })
    }

    /// Sequence space the segment occupies: payload plus SYN and FIN.
    pub fn seq_len(&self) -> u64 {
        let flags = self.header.flags;
        self.payload.len() as u64 + u64::from(flags.syn()) + u64::from(flags.fin())
    }
}

/// The Internet checksum of `segment` with the IPv4 pseudo-header for a TCP
/// segment from `src` to `dst`. Over a segment whose checksum field is set
/// correctly the result is 0.
pub fn checksum(src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    for addr in [src, dst] {
        let [a, b, c, d] = addr.octets();
        sum += u64::from(u16::from_be_bytes([a, b])) + u64::from(u16::from_be_bytes([c, d]));
    }
    sum += u64::from(PROTO_TCP) + segment.len() as u64;
    let mut words = segment.chunks_exact(2);
    for word in &mut words {
        sum += u64::from(u16::from_be_bytes([word[0], word[1]]));
    }
    if let [last] = words.remainder() {
        sum += u64::from(*last) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    // The fold above leaves at most 16 bits.
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    fn data_header() -> TcpHeader {
        let mut options = TcpOptions {
            timestamps: Some(Timestamps {
                value: 0xdead_beef,
                echo: 42,
            }),
            ..TcpOptions::default()
        };
        options.sack.push(SeqNum(u32::MAX - 10), SeqNum(20));
        TcpHeader {
            src_port: 80,
            dst_port: 40_000,
            seq: SeqNum(u32::MAX - 3),
            ack: SeqNum(17),
            flags: Flags::ACK | Flags::PSH,
            window: 512,
            options,
        }
    }

    #[test]
    fn segment_round_trips_with_checksum() {
        let header = data_header();
        let payload = b"hello, odd length";
        let bytes = header.to_bytes(payload, SRC, DST);
        let repr = TcpRepr::parse(&bytes, Some((SRC, DST))).expect("valid segment");
        assert_eq!(repr.header, header);
        assert_eq!(repr.payload, payload);
        assert_eq!(repr.seq_len(), payload.len() as u64);
        // Another destination is a different pseudo-header.
        assert_eq!(
            TcpRepr::parse(&bytes, Some((SRC, Ipv4Addr::new(10, 0, 0, 3)))),
            Err(WireError::BadChecksum)
        );
    }

    #[test]
    fn checksum_matches_a_known_segment() {
        // A SYN whose checksum was computed independently: 10.0.0.1:1 ->
        // 10.0.0.2:2, seq 1, data offset 5, window 0.
        let mut seg = [0u8; 20];
        seg[1] = 1;
        seg[3] = 2;
        seg[7] = 1;
        seg[12] = 0x50;
        seg[13] = 0x02;
        // Sum: 0x0a00+0x0001+0x0a00+0x0002+6+20 + 1+2+1+0x5002 = 0x6423.
        assert_eq!(checksum(SRC, DST, &seg), !0x6423u16);
    }

    #[test]
    fn incomplete_differs_from_malformed() {
        let bytes = data_header().to_bytes(&[], SRC, DST);
        for len in 0..bytes.len() {
            assert!(
                matches!(
                    TcpRepr::parse(&bytes[..len], None),
                    Err(WireError::Incomplete { .. })
                ),
                "{len}"
            );
        }
        let mut bad = bytes.clone();
        bad[12] = 0x40;
        assert_eq!(
            TcpRepr::parse(&bad, None),
            Err(WireError::BadDataOffset { words: 4 })
        );
        let mut bad = bytes;
        bad[HEADER_LEN] = 2; // MSS kind where NOP was, length byte NOP (1).
        assert!(matches!(
            TcpRepr::parse(&bad, None),
            Err(WireError::BadOption { kind: 2, .. })
        ));
    }

    #[test]
    fn view_reads_fields() {
        let header = data_header();
        let bytes = header.to_bytes(b"x", SRC, DST);
        let packet = TcpPacket::new_checked(&bytes[..]).expect("valid");
        assert_eq!(packet.src_port(), 80);
        assert_eq!(packet.dst_port(), 40_000);
        assert_eq!(packet.seq(), header.seq);
        assert_eq!(packet.ack(), header.ack);
        assert_eq!(packet.window(), 512);
        assert_eq!(packet.urgent(), 0);
        assert_ne!(packet.checksum(), 0);
        assert_eq!(packet.payload(), b"x");
        assert!(packet.flags().ack() && !packet.flags().syn());
    }
}
