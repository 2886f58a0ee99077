//! H.265 helpers shared by the demuxers: NAL unit types and the one rule
//! for what counts as a keyframe.

/// NAL unit type: video parameter set.
pub const NAL_VPS: u8 = 32;
/// NAL unit type: sequence parameter set.
pub const NAL_SPS: u8 = 33;
/// NAL unit type: picture parameter set.
pub const NAL_PPS: u8 = 34;
/// NAL unit type: access unit delimiter.
pub const NAL_AUD: u8 = 35;

/// The type of an H.265 NAL unit (bits 1–6 of its first byte).
pub fn nal_type(nal: &[u8]) -> Option<u8> {
    nal.first().map(|b| (b >> 1) & 0x3f)
}

/// Whether a picture of NAL type `t` is a keyframe: an IRAP picture other
/// than CRA (BLA 16–18, IDR 19–20). A CRA (21) may be followed by leading
/// pictures that reference frames before it, so decoding cannot restart
/// cleanly there; it is not a keyframe here.
pub fn is_keyframe_type(t: u8) -> bool {
    (16..=20).contains(&t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyframes_are_bla_and_idr_only() {
        let keys: Vec<u8> = (0..64).filter(|&t| is_keyframe_type(t)).collect();
        assert_eq!(keys, vec![16, 17, 18, 19, 20]);
        assert_eq!(nal_type(&[0x40, 0x01]), Some(NAL_VPS));
        assert_eq!(nal_type(&[0x26, 0x01]), Some(19));
        assert_eq!(nal_type(&[]), None);
    }
}
