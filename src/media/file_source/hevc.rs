//! H.265 specifics of the file source: the track configuration from an
//! hvcC record (ISO/IEC 14496-15 §8.3.3.1) or Annex B extradata, and the
//! canonical form of an access unit.
//!
//! Invariants: the hvcC parser never panics on a record of at least 23
//! bytes (the caller checks); parameter sets and access unit delimiters
//! never stay in a canonical unit.

use super::demux::{merge, Config, Framing};
use crate::media::h264;
use crate::media::h265::{is_keyframe_type, nal_type, NAL_AUD, NAL_PPS, NAL_SPS, NAL_VPS};
use crate::media::{Codec, CodecConfig};

/// The configuration of an H.265 stream from its extradata (an hvcC
/// record or Annex B parameter sets) and the container's picture size.
pub(super) fn h265_config(extra: &[u8], (width, height): (u32, u32)) -> Result<Config, String> {
    let (sets, framing) = if extra.len() >= 23 && extra[0] == 1 {
        parse_hvcc(extra)?
    } else {
        (
            h264::split_annex_b(extra)
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect(),
            Framing::AnnexB,
        )
    };
    let pick = |t: u8| {
        sets.iter()
            .filter(|n| nal_type(n) == Some(t))
            .cloned()
            .collect::<Vec<_>>()
    };
    let config = CodecConfig::H265 {
        vps: pick(NAL_VPS),
        sps: pick(NAL_SPS),
        pps: pick(NAL_PPS),
        width,
        height,
    };
    Ok((Codec::H265, config, framing))
}

/// Parses an HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1):
/// the NAL units of its arrays and the NAL length size.
pub(super) fn parse_hvcc(record: &[u8]) -> Result<(Vec<Vec<u8>>, Framing), String> {
    let length_size = usize::from(record[21] & 3) + 1;
    let mut pos = 23;
    let mut nals = Vec::new();
    let u16_at = |p: usize| {
        record
            .get(p..p + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    };
    for array in 0..record[22] {
        let count =
            u16_at(pos + 1).ok_or_else(|| format!("hvcC array {array} runs past the end"))?;
        pos += 3;
        for _ in 0..count {
            let len = u16_at(pos).ok_or("hvcC NAL length runs past the end")?;
            let nal = record
                .get(pos + 2..pos + 2 + len)
                .ok_or("hvcC NAL unit runs past the end")?;
            nals.push(nal.to_vec());
            pos += 2 + len;
        }
    }
    if length_size == 3 {
        return Err("hvcC NAL length size 3".into());
    }
    Ok((nals, Framing::Lengths(length_size)))
}

/// The H.265 canonical form: parameter sets and delimiters out; the unit is a
/// keyframe when it holds a picture that is one by the crate's one rule,
/// [`is_keyframe_type`] (BLA or IDR, not CRA).
pub(super) fn canonicalize_h265(
    annex_b: &[u8],
    vps: &mut Vec<Vec<u8>>,
    sps: &mut Vec<Vec<u8>>,
    pps: &mut Vec<Vec<u8>>,
) -> (Vec<u8>, bool) {
    let mut keep = Vec::new();
    let mut key = false;
    for nal in h264::split_annex_b(annex_b) {
        match nal_type(nal) {
            Some(NAL_VPS) => merge(vps, vec![nal.to_vec()]),
            Some(NAL_SPS) => merge(sps, vec![nal.to_vec()]),
            Some(NAL_PPS) => merge(pps, vec![nal.to_vec()]),
            Some(NAL_AUD) => {}
            t => {
                key |= t.is_some_and(is_keyframe_type);
                keep.push(nal);
            }
        }
    }
    (h264::join_annex_b(keep), key)
}
