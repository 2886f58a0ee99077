//! TCP sequence numbers: 32-bit values compared in serial-number arithmetic.
//!
//! A [`SeqNum`] lives on the wire. Two of them compare by the sign of their
//! wrapping difference (RFC 1982 style, as RFC 9293 §3.4 requires), so
//! `0x0000_0010 > 0xffff_fff0`. Values exactly 2^31 apart are incomparable:
//! [`PartialOrd::partial_cmp`] returns `None` and every `<`/`>` is false.
//!
//! Inside a connection nothing is kept as a `SeqNum`: offsets are 64-bit
//! counts from the initial sequence number, which never wrap. [`SeqNum::unwrap_near`]
//! turns a wire value back into such an offset, taking the candidate closest
//! to a known offset.

use std::cmp::Ordering;
use std::fmt;

/// A 32-bit TCP sequence (or acknowledgment) number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// The number `n` bytes after `self`, wrapping at 2^32.
    pub fn wrapping_add(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }

    /// The signed distance from `other` to `self`: positive when `self` is
    /// after `other`. Exactly 2^31 apart gives `i32::MIN`.
    pub fn diff(self, other: SeqNum) -> i32 {
        // Reinterpreting the wrapped difference as signed is the serial
        // comparison itself.
        self.0.wrapping_sub(other.0) as i32
    }

    /// The sequence number at `offset` bytes from `base` (offsets wrap).
    pub fn from_offset(base: SeqNum, offset: u64) -> SeqNum {
        // Truncation is the wraparound.
        SeqNum(base.0.wrapping_add(offset as u32))
    }

    /// The 64-bit offset from `base` that `self` denotes, choosing the one
    /// nearest to `near` (an offset already known to be close). Offsets below
    /// zero saturate at zero.
    pub fn unwrap_near(self, base: SeqNum, near: u64) -> u64 {
        let near_seq = SeqNum::from_offset(base, near);
        let delta = i64::from(self.diff(near_seq));
        near.saturating_add_signed(delta)
    }

    /// Whether `self` lies in `[start, start + len)`.
    pub fn in_window(self, start: SeqNum, len: u32) -> bool {
        self.0.wrapping_sub(start.0) < len
    }
}

impl PartialOrd for SeqNum {
    fn partial_cmp(&self, other: &SeqNum) -> Option<Ordering> {
        match self.diff(*other) {
            0 => Some(Ordering::Equal),
            i32::MIN => None,
            d if d > 0 => Some(Ordering::Greater),
            _ => Some(Ordering::Less),
        }
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_across_the_wrap() {
        let before = SeqNum(u32::MAX - 15);
        let after = before.wrapping_add(32);
        assert_eq!(after, SeqNum(16));
        assert!(after > before);
        assert!(before < after);
        assert_eq!(after.diff(before), 32);
        assert_eq!(before.diff(after), -32);
    }

    #[test]
    fn half_the_space_apart_is_incomparable() {
        let a = SeqNum(0);
        let b = SeqNum(1 << 31);
        assert_eq!(a.partial_cmp(&b), None);
        assert_ne!(a, b);
        assert!(SeqNum((1 << 31) - 1) > a);
        assert!(SeqNum((1 << 31) + 1) < a);
    }

    #[test]
    fn unwraps_offsets_past_two_to_the_32() {
        let base = SeqNum(u32::MAX - 99);
        let near = (1u64 << 32) + 50;
        let seq = SeqNum::from_offset(base, near + 1000);
        assert_eq!(seq.unwrap_near(base, near), near + 1000);
        let seq = SeqNum::from_offset(base, near - 1000);
        assert_eq!(seq.unwrap_near(base, near), near - 1000);
        // Far behind offset 0 saturates rather than wrapping around u64.
        assert_eq!(SeqNum(base.0.wrapping_sub(10)).unwrap_near(base, 5), 0);
    }

    #[test]
    fn windows_wrap() {
        let start = SeqNum(u32::MAX - 1);
        assert!(SeqNum(u32::MAX).in_window(start, 4));
        assert!(SeqNum(1).in_window(start, 4));
        assert!(!SeqNum(2).in_window(start, 4));
        assert!(!SeqNum(u32::MAX - 2).in_window(start, 4));
        assert!(!start.in_window(start, 0));
    }
}
