//! TCP options: MSS, window scale, SACK-permitted, SACK blocks, timestamps.
//!
//! Parsing skips unknown kinds by their length byte and stops at End of
//! Option List; a known kind with the wrong length, or a length that runs
//! past the options area, is malformed. Emission lays options out as Linux
//! does (NOPs align the 4-byte fields) and drops trailing SACK blocks that
//! would not fit in the 40-byte options area.

use super::WireError;
use crate::net::tcp::seq::SeqNum;

/// Option kinds (IANA "TCP Option Kind Numbers").
const END: u8 = 0;
const NOP: u8 = 1;
const MSS: u8 = 2;
const WINDOW_SCALE: u8 = 3;
const SACK_PERMITTED: u8 = 4;
const SACK: u8 = 5;
const TIMESTAMPS: u8 = 8;

/// Most bytes of options a header carries (data offset 15 × 4 − 20).
pub const MAX_OPTIONS_LEN: usize = 40;
/// Most SACK blocks one option carries (2 + 4 × 8 bytes fill 34 of 40).
pub const MAX_SACK_BLOCKS: usize = 4;
/// Largest window shift RFC 7323 allows; larger values are read as 14.
pub const MAX_WINDOW_SHIFT: u8 = 14;

/// Up to four SACK blocks, each `[left, right)` in sequence space.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SackBlocks {
    blocks: [(SeqNum, SeqNum); MAX_SACK_BLOCKS],
    len: u8,
}

impl SackBlocks {
    /// Appends a block; returns false (and keeps the list) when it is full.
    pub fn push(&mut self, left: SeqNum, right: SeqNum) -> bool {
        let Some(slot) = self.blocks.get_mut(usize::from(self.len)) else {
            return false;
        };
        *slot = (left, right);
        self.len += 1;
        true
    }

    /// The blocks in the order they were written.
    pub fn as_slice(&self) -> &[(SeqNum, SeqNum)] {
        &self.blocks[..usize::from(self.len)]
    }

    /// How many blocks there are.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keeps only the first `n` blocks.
    pub fn truncate(&mut self, n: usize) {
        self.len = self.len.min(u8::try_from(n).unwrap_or(u8::MAX));
    }
}

/// The timestamps option (RFC 7323): the sender's clock and the echo.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timestamps {
    /// TSval: the sender's timestamp clock when it sent the segment.
    pub value: u32,
    /// TSecr: the most recent TSval the sender received (0 when none).
    pub echo: u32,
}

/// The options of one segment this crate understands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    /// Maximum segment size the sender can receive, in bytes (SYN only).
    pub mss: Option<u16>,
    /// The sender's receive-window shift (SYN only), at most 14.
    pub window_scale: Option<u8>,
    /// The sender accepts SACK blocks (SYN only).
    pub sack_permitted: bool,
    /// SACK blocks (RFC 2018); the first may be a D-SACK (RFC 2883).
    pub sack: SackBlocks,
    /// Timestamps (RFC 7323).
    pub timestamps: Option<Timestamps>,
}

impl TcpOptions {
    /// Parses an options area (the bytes between the fixed header and the
    /// payload).
    pub fn parse(mut area: &[u8]) -> Result<TcpOptions, WireError> {
        let mut options = TcpOptions::default();
        while let Some((&kind, rest)) = area.split_first() {
            match kind {
                END => break,
                NOP => {
                    area = rest;
                    continue;
                }
                _ => {}
            }
            let &len = rest.first().ok_or(WireError::BadOption { kind, len: 0 })?;
            let len_usize = usize::from(len);
            if len_usize < 2 || len_usize > area.len() {
                return Err(WireError::BadOption { kind, len });
            }
            let body = &area[2..len_usize];
            options.parse_one(kind, len, body)?;
            area = &area[len_usize..];
        }
        Ok(options)
    }

    fn parse_one(&mut self, kind: u8, len: u8, body: &[u8]) -> Result<(), WireError> {
        let bad = WireError::BadOption { kind, len };
        match kind {
            MSS => {
                let bytes: [u8; 2] = body.try_into().map_err(|_| bad)?;
                self.mss = Some(u16::from_be_bytes(bytes));
            }
            WINDOW_SCALE => {
                let [shift]: [u8; 1] = body.try_into().map_err(|_| bad)?;
                self.window_scale = Some(shift.min(MAX_WINDOW_SHIFT));
            }
            SACK_PERMITTED if body.is_empty() => self.sack_permitted = true,
            SACK_PERMITTED => return Err(bad),
            SACK => {
                if body.is_empty()
                    || !body.len().is_multiple_of(8)
                    || body.len() / 8 > MAX_SACK_BLOCKS
                {
                    return Err(bad);
                }
                self.sack = SackBlocks::default();
                for block in body.chunks_exact(8) {
                    let left = u32::from_be_bytes([block[0], block[1], block[2], block[3]]);
                    let right = u32::from_be_bytes([block[4], block[5], block[6], block[7]]);
                    self.sack.push(SeqNum(left), SeqNum(right));
                }
            }
            TIMESTAMPS => {
                let bytes: [u8; 8] = body.try_into().map_err(|_| bad)?;
                let value = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                let echo = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
                self.timestamps = Some(Timestamps { value, echo });
            }
            _ => {}
        }
        Ok(())
    }

    /// How many SACK blocks fit beside the other options.
    fn sack_room(&self) -> usize {
        let fixed = self.fixed_len();
        let free = MAX_OPTIONS_LEN.saturating_sub(fixed);
        // NOP NOP kind len, then 8 bytes a block.
        (free.saturating_sub(4) / 8).min(self.sack.len())
    }

    /// Length of everything but the SACK blocks, padded to 4 bytes.
    fn fixed_len(&self) -> usize {
        let mut len = 0;
        if self.mss.is_some() {
            len += 4;
        }
        // SACK-permitted shares a 4-byte word with the timestamps' padding.
        len += match (self.timestamps.is_some(), self.sack_permitted) {
            (true, _) => 12,
            (false, true) => 4,
            (false, false) => 0,
        };
        if self.window_scale.is_some() {
            len += 4;
        }
        len
    }

    /// Bytes these options take on the wire, a multiple of 4.
    pub fn wire_len(&self) -> usize {
        let sack = self.sack_room();
        self.fixed_len() + if sack > 0 { 4 + 8 * sack } else { 0 }
    }

    /// Writes the options into `buf`, which is exactly [`Self::wire_len`] long.
    pub fn emit(&self, buf: &mut [u8]) {
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            buf[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        if let Some(mss) = self.mss {
            let [hi, lo] = mss.to_be_bytes();
            put(&[MSS, 4, hi, lo]);
        }
        match (self.timestamps, self.sack_permitted) {
            (Some(ts), sack_permitted) => {
                if sack_permitted {
                    put(&[SACK_PERMITTED, 2]);
                } else {
                    put(&[NOP, NOP]);
                }
                put(&[TIMESTAMPS, 10]);
                put(&ts.value.to_be_bytes());
                put(&ts.echo.to_be_bytes());
            }
            (None, true) => put(&[NOP, NOP, SACK_PERMITTED, 2]),
            (None, false) => {}
        }
        if let Some(shift) = self.window_scale {
            put(&[NOP, WINDOW_SCALE, 3, shift.min(MAX_WINDOW_SHIFT)]);
        }
        let blocks = self.sack_room();
        if blocks > 0 {
            // Bounded by MAX_SACK_BLOCKS, so the length fits a byte.
            put(&[NOP, NOP, SACK, (2 + 8 * blocks) as u8]);
            for (left, right) in &self.sack.as_slice()[..blocks] {
                put(&left.0.to_be_bytes());
                put(&right.0.to_be_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(options: TcpOptions) -> TcpOptions {
        let mut buf = vec![0; options.wire_len()];
        options.emit(&mut buf);
        assert_eq!(buf.len() % 4, 0);
        TcpOptions::parse(&buf).expect("emitted options parse")
    }

    #[test]
    fn syn_options_round_trip() {
        let options = TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: Some(Timestamps { value: 7, echo: 0 }),
            ..TcpOptions::default()
        };
        assert_eq!(options.wire_len(), 20);
        assert_eq!(round_trip(options), options);
    }

    #[test]
    fn sack_blocks_are_cut_to_what_fits() {
        let mut options = TcpOptions::default();
        for i in 0..4 {
            options.sack.push(SeqNum(i * 100), SeqNum(i * 100 + 50));
        }
        assert_eq!(options.wire_len(), 36);
        assert_eq!(round_trip(options), options);
        options.timestamps = Some(Timestamps { value: 1, echo: 2 });
        assert_eq!(options.wire_len(), 40);
        let parsed = round_trip(options);
        assert_eq!(parsed.sack.len(), 3);
        assert_eq!(parsed.sack.as_slice(), &options.sack.as_slice()[..3]);
    }

    #[test]
    fn malformed_lengths_are_errors() {
        assert!(TcpOptions::parse(&[MSS, 3, 0]).is_err());
        assert!(TcpOptions::parse(&[MSS]).is_err());
        assert!(TcpOptions::parse(&[99, 1]).is_err());
        assert!(TcpOptions::parse(&[SACK, 10, 0, 0, 0, 0, 0, 0, 0, 0]).is_ok());
        assert!(TcpOptions::parse(&[SACK, 9, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(TcpOptions::parse(&[SACK, 2]).is_err());
        // Unknown kinds are skipped; END stops parsing whatever follows.
        let parsed = TcpOptions::parse(&[99, 3, 0, END, MSS]).expect("valid");
        assert_eq!(parsed, TcpOptions::default());
    }

    #[test]
    fn window_shift_is_capped() {
        let parsed = TcpOptions::parse(&[WINDOW_SCALE, 3, 20, NOP]).expect("valid");
        assert_eq!(parsed.window_scale, Some(MAX_WINDOW_SHIFT));
    }
}
