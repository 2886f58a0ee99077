//! An H.264 RBSP bit writer: fixed-width fields, Exp-Golomb codes, trailing
//! bits, and the NAL unit wrapper with emulation prevention.

/// Writes bits most significant first into a growing buffer.
#[derive(Clone, Debug, Default)]
pub(crate) struct BitWriter {
    bytes: Vec<u8>,
    /// Bits used in the last byte (0 = the last byte is full or absent).
    used: u32,
}

impl BitWriter {
    /// Appends the low `n` bits of `value` (n ≤ 64).
    pub(crate) fn u(&mut self, n: u32, value: u64) {
        for i in (0..n).rev() {
            self.bit((value >> i) & 1 == 1);
        }
    }

    /// Appends one bit.
    pub(crate) fn bit(&mut self, one: bool) {
        if self.used == 0 {
            self.bytes.push(0);
        }
        if one {
            if let Some(last) = self.bytes.last_mut() {
                *last |= 0x80 >> self.used;
            }
        }
        self.used = (self.used + 1) % 8;
    }

    /// Appends an unsigned Exp-Golomb code `ue(v)`.
    pub(crate) fn ue(&mut self, value: u32) {
        let code = u64::from(value) + 1;
        let len = 64 - code.leading_zeros();
        self.u(len - 1, 0);
        self.u(len, code);
    }

    /// Appends a signed Exp-Golomb code `se(v)`.
    pub(crate) fn se(&mut self, value: i32) {
        let mapped = if value > 0 {
            2 * value.unsigned_abs() - 1
        } else {
            2 * value.unsigned_abs()
        };
        self.ue(mapped);
    }

    /// Bits written so far.
    pub(crate) fn bit_len(&self) -> usize {
        self.bytes.len() * 8
            - if self.used == 0 {
                0
            } else {
                8 - self.used as usize
            }
    }

    /// Whether the writer sits on a byte boundary.
    pub(crate) fn byte_aligned(&self) -> bool {
        self.used == 0
    }

    /// Appends `rbsp_trailing_bits()`: a one bit, then zeros to the byte end.
    pub(crate) fn trailing_bits(&mut self) {
        self.bit(true);
        while !self.byte_aligned() {
            self.bit(false);
        }
    }

    /// The RBSP bytes written so far.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// A NAL unit (no start code) from its header byte and RBSP, with
/// emulation prevention: a 0x03 after any two zero bytes that precede a
/// byte ≤ 0x03, so no start code appears inside the unit.
pub(crate) fn nal_unit(header: u8, rbsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rbsp.len() + rbsp.len() / 64 + 2);
    out.push(header);
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb_codes() {
        let mut w = BitWriter::default();
        // ue(0)=1, ue(1)=010, ue(2)=011, ue(3)=00100 → 1010 0110 0100 + pad.
        for v in 0..4 {
            w.ue(v);
        }
        assert_eq!(w.clone().into_bytes(), [0xa6, 0x40]);
        let mut w = BitWriter::default();
        // se(1)=010, se(-1)=011, se(0)=1, then the trailing 1 → 0100 1111.
        w.se(1);
        w.se(-1);
        w.se(0);
        assert_eq!(w.bit_len(), 7);
        w.trailing_bits();
        assert_eq!(w.into_bytes(), [0x4f]);
        let mut w = BitWriter::default();
        w.ue(u32::MAX); // 32 zeros, then the 33-bit code 2^32
        assert_eq!(w.bit_len(), 65);
    }

    #[test]
    fn emulation_prevention() {
        assert_eq!(
            nal_unit(0x65, &[0, 0, 1, 0, 0, 0, 0, 0, 4]),
            [0x65, 0, 0, 3, 1, 0, 0, 3, 0, 0, 3, 0, 4]
        );
        assert_eq!(nal_unit(0x0c, &[0xff, 0x80]), [0x0c, 0xff, 0x80]);
    }
}
