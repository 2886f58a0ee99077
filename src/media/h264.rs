//! H.264 helpers: NAL unit framing (Annex B ↔ length-prefixed), NAL types,
//! the avcC record, and picture size from an SPS (via h264-reader).
//!
//! Parsers here never panic on input: malformed data is an [`H264Error`]
//! naming what was wrong and where.

use h264_reader::nal::sps::SeqParameterSet;
use h264_reader::nal::{Nal, RefNal};

/// NAL unit type: coded slice of a non-IDR picture.
pub const NAL_SLICE: u8 = 1;
/// NAL unit type: coded slice of an IDR picture.
pub const NAL_IDR: u8 = 5;
/// NAL unit type: supplemental enhancement information.
pub const NAL_SEI: u8 = 6;
/// NAL unit type: sequence parameter set.
pub const NAL_SPS: u8 = 7;
/// NAL unit type: picture parameter set.
pub const NAL_PPS: u8 = 8;
/// NAL unit type: access unit delimiter.
pub const NAL_AUD: u8 = 9;

/// The 4-byte Annex B start code the canonical form uses.
pub const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// Errors in H.264 data.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum H264Error {
    /// A length-prefixed NAL unit runs past the end of the buffer.
    #[error("NAL unit at byte {offset} claims {length} bytes, only {available} remain")]
    TruncatedNal {
        offset: usize,
        length: usize,
        available: usize,
    },
    /// A length prefix size other than 1, 2 or 4 bytes.
    #[error("unsupported NAL length size {size} (expected 1, 2 or 4)")]
    LengthSize { size: usize },
    /// The avcC record is malformed.
    #[error("malformed avcC record: {reason}")]
    AvcC { reason: String },
    /// The SPS could not be parsed.
    #[error("malformed SPS: {reason}")]
    Sps { reason: String },
    /// An empty NAL unit.
    #[error("empty NAL unit")]
    EmptyNal,
}

/// The type of a NAL unit (its first byte's low 5 bits).
pub fn nal_type(nal: &[u8]) -> Option<u8> {
    nal.first().map(|b| b & 0x1f)
}

/// Splits Annex B data (3- or 4-byte start codes) into NAL units, without
/// their start codes. Leading bytes before the first start code and empty
/// units are skipped. Trailing zero bytes of a unit (`trailing_zero_8bits`)
/// are removed.
pub fn split_annex_b(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut nals = Vec::with_capacity(starts.len());
    for (k, &start) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(data.len(), |&next| next - 3);
        while end > start && data[end - 1] == 0 {
            end -= 1;
        }
        if end > start {
            nals.push(&data[start..end]);
        }
    }
    nals
}

/// Joins NAL units into canonical Annex B (4-byte start codes).
pub fn join_annex_b<'a>(nals: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for nal in nals {
        out.extend_from_slice(&START_CODE);
        out.extend_from_slice(nal);
    }
    out
}

/// Converts Annex B to length-prefixed NAL units (AVCC, 4-byte lengths), as
/// MP4 and FLV carry them.
pub fn annex_b_to_avcc(data: &[u8]) -> Vec<u8> {
    let nals = split_annex_b(data);
    let mut out = Vec::with_capacity(data.len() + 4);
    for nal in nals {
        out.extend_from_slice(&(nal.len() as u32).to_be_bytes());
        out.extend_from_slice(nal);
    }
    out
}

/// Splits length-prefixed NAL units with `length_size`-byte lengths.
pub fn split_avcc(data: &[u8], length_size: usize) -> Result<Vec<&[u8]>, H264Error> {
    if !matches!(length_size, 1 | 2 | 4) {
        return Err(H264Error::LengthSize { size: length_size });
    }
    let mut nals = Vec::new();
    let mut offset = 0;
    while offset < data.len() {
        let Some(prefix) = data.get(offset..offset + length_size) else {
            return Err(H264Error::TruncatedNal {
                offset,
                length: length_size,
                available: data.len() - offset,
            });
        };
        let length = prefix
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        let start = offset + length_size;
        let Some(nal) = data.get(start..start + length) else {
            return Err(H264Error::TruncatedNal {
                offset,
                length,
                available: data.len() - start,
            });
        };
        if !nal.is_empty() {
            nals.push(nal);
        }
        offset = start + length;
    }
    Ok(nals)
}

/// Converts length-prefixed NAL units to canonical Annex B.
pub fn avcc_to_annex_b(data: &[u8], length_size: usize) -> Result<Vec<u8>, H264Error> {
    Ok(join_annex_b(split_avcc(data, length_size)?))
}

/// Whether an Annex B access unit holds an IDR slice.
pub fn is_idr(annex_b: &[u8]) -> bool {
    split_annex_b(annex_b)
        .iter()
        .any(|n| nal_type(n) == Some(NAL_IDR))
}

/// An access unit in canonical form: the same NAL units without parameter
/// sets and access unit delimiters, which go to the track's configuration.
/// Returns the canonical data and the parameter sets found (SPS, PPS).
pub fn canonicalize(annex_b: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut sps = Vec::new();
    let mut pps = Vec::new();
    let mut keep = Vec::new();
    for nal in split_annex_b(annex_b) {
        match nal_type(nal) {
            Some(NAL_SPS) => sps.push(nal.to_vec()),
            Some(NAL_PPS) => pps.push(nal.to_vec()),
            Some(NAL_AUD) => {}
            _ => keep.push(nal),
        }
    }
    (join_annex_b(keep), sps, pps)
}

/// Builds an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1) with
/// 4-byte NAL lengths.
pub fn build_avcc(sps: &[Vec<u8>], pps: &[Vec<u8>]) -> Result<Vec<u8>, H264Error> {
    let first = sps.first().ok_or_else(|| H264Error::AvcC {
        reason: "no SPS".into(),
    })?;
    if first.len() < 4 {
        return Err(H264Error::AvcC {
            reason: format!("SPS of {} bytes is too short", first.len()),
        });
    }
    if sps.len() > 31 || pps.len() > 255 {
        return Err(H264Error::AvcC {
            reason: format!(
                "{} SPS and {} PPS exceed the record's counts",
                sps.len(),
                pps.len()
            ),
        });
    }
    let mut out = vec![
        1,
        first[1],
        first[2],
        first[3],
        0xfc | 3,
        0xe0 | sps.len() as u8,
    ];
    for set in sps {
        push_sized(&mut out, set)?;
    }
    out.push(pps.len() as u8);
    for set in pps {
        push_sized(&mut out, set)?;
    }
    Ok(out)
}

fn push_sized(out: &mut Vec<u8>, set: &[u8]) -> Result<(), H264Error> {
    let len = u16::try_from(set.len()).map_err(|_| H264Error::AvcC {
        reason: format!("parameter set of {} bytes", set.len()),
    })?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(set);
    Ok(())
}

/// The parsed parts of an avcC record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvcC {
    /// Bytes per NAL length prefix (1, 2 or 4).
    pub length_size: usize,
    /// Sequence parameter sets.
    pub sps: Vec<Vec<u8>>,
    /// Picture parameter sets.
    pub pps: Vec<Vec<u8>>,
}

/// Parses an AVCDecoderConfigurationRecord.
pub fn parse_avcc(record: &[u8]) -> Result<AvcC, H264Error> {
    let bad = |reason: &str| H264Error::AvcC {
        reason: reason.to_owned(),
    };
    if record.len() < 7 || record[0] != 1 {
        return Err(bad("shorter than 7 bytes or version is not 1"));
    }
    let length_size = usize::from(record[4] & 3) + 1;
    let mut pos = 6;
    let sets = |count: usize, pos: &mut usize| -> Result<Vec<Vec<u8>>, H264Error> {
        let mut v = Vec::with_capacity(count);
        for _ in 0..count {
            let len = record
                .get(*pos..*pos + 2)
                .ok_or_else(|| bad("parameter set length runs past the end"))?;
            let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
            let set = record
                .get(*pos + 2..*pos + 2 + len)
                .ok_or_else(|| bad("parameter set runs past the end"))?;
            v.push(set.to_vec());
            *pos += 2 + len;
        }
        Ok(v)
    };
    let sps = sets(usize::from(record[5] & 0x1f), &mut pos)?;
    let pps_count = usize::from(*record.get(pos).ok_or_else(|| bad("no PPS count"))?);
    pos += 1;
    let pps = sets(pps_count, &mut pos)?;
    if length_size == 3 {
        return Err(H264Error::LengthSize { size: 3 });
    }
    Ok(AvcC {
        length_size,
        sps,
        pps,
    })
}

/// The picture size an SPS (a NAL unit without start code) declares.
pub fn sps_dimensions(sps: &[u8]) -> Result<(u32, u32), H264Error> {
    if sps.is_empty() {
        return Err(H264Error::EmptyNal);
    }
    let nal = RefNal::new(sps, &[], true);
    let parsed = SeqParameterSet::from_bits(nal.rbsp_bits()).map_err(|e| H264Error::Sps {
        reason: format!("{e:?}"),
    })?;
    parsed.pixel_dimensions().map_err(|e| H264Error::Sps {
        reason: format!("{e:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPS: [u8; 4] = [0x67, 0x4d, 0x00, 0x1e];
    const PPS: [u8; 2] = [0x68, 0xee];

    #[test]
    fn annex_b_and_avcc_round_trip() {
        let au = join_annex_b([&[0x65u8, 1, 2, 3][..], &[0x41u8, 9][..]]);
        assert_eq!(
            split_annex_b(&au),
            vec![&[0x65u8, 1, 2, 3][..], &[0x41u8, 9][..]]
        );
        let avcc = annex_b_to_avcc(&au);
        assert_eq!(avcc, [0, 0, 0, 4, 0x65, 1, 2, 3, 0, 0, 0, 2, 0x41, 9]);
        assert_eq!(avcc_to_annex_b(&avcc, 4).unwrap(), au);
        assert!(is_idr(&au));
    }

    #[test]
    fn three_byte_start_codes_and_trailing_zeros() {
        let data = [
            0xff, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x65, 7, 0, 0, 1, 0x41, 8, 0,
        ];
        assert_eq!(
            split_annex_b(&data),
            vec![&[0x09u8, 0xf0][..], &[0x65u8, 7][..], &[0x41u8, 8][..]]
        );
    }

    #[test]
    fn canonicalize_moves_parameter_sets_out() {
        let au = join_annex_b([&[0x09u8, 0xf0][..], &SPS[..], &PPS[..], &[0x65u8, 5][..]]);
        let (data, sps, pps) = canonicalize(&au);
        assert_eq!(data, join_annex_b([&[0x65u8, 5][..]]));
        assert_eq!((sps, pps), (vec![SPS.to_vec()], vec![PPS.to_vec()]));
    }

    #[test]
    fn avcc_record_round_trip_and_errors() {
        let record = build_avcc(&[SPS.to_vec()], &[PPS.to_vec()]).unwrap();
        let parsed = parse_avcc(&record).unwrap();
        assert_eq!(
            parsed,
            AvcC {
                length_size: 4,
                sps: vec![SPS.to_vec()],
                pps: vec![PPS.to_vec()]
            }
        );
        assert!(parse_avcc(&record[..record.len() - 1]).is_err());
        assert!(parse_avcc(&[]).is_err());
        assert_eq!(
            split_avcc(&[0, 0, 0, 9, 1], 4),
            Err(H264Error::TruncatedNal {
                offset: 0,
                length: 9,
                available: 1
            })
        );
        assert_eq!(
            split_avcc(&[0, 0], 3),
            Err(H264Error::LengthSize { size: 3 })
        );
    }

    #[test]
    fn garbage_never_panics() {
        for len in 0..64usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 % 7) as u8).collect();
            let _ = split_annex_b(&data);
            let _ = split_avcc(&data, 4);
            let _ = parse_avcc(&data);
            let _ = sps_dimensions(&data);
        }
    }
}
