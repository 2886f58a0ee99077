//! Decode check: decodes the access units a client reassembled for one video
//! track with FFmpeg and says, per frame of the source, whether it decoded
//! cleanly, damaged, or not at all, with its Y-PSNR against the source's own
//! decode of the same frame (matched by pts).
//!
//! A frame is `Damaged` when the decoder reports an error for it (a failed
//! `send_packet`, `decode_error_flags`, the corrupt flag), when no picture
//! comes out for it, when its luma differs from the source decode, or when
//! an earlier frame in decode order since the last keyframe was damaged or
//! missing (it may reference that frame: "undecodable until the next IDR").
//! Received units are matched to the source by pts, so a caller checking a
//! looped stream maps pts back into the clip first. A pts the source has
//! matches exactly; any other matches the nearest source pts less than half
//! a frame duration away (the track's frame duration, see
//! [`DecodeCheck::frame_duration`]), so that timestamps rounded by a
//! container (FLV and RTMP keep milliseconds) still find their frame.
//!
//! FFmpeg's log is silenced (see [`crate::media::file_source`]): the
//! decoder's concealment messages are what the check measures, not news for
//! the user's terminal.

use std::collections::{BTreeMap, BTreeSet};

use ffmpeg_next as ff;

use crate::media::{AccessUnit, Codec, CodecConfig, Track};

/// Errors setting up a decode check.
#[derive(Debug, thiserror::Error)]
pub enum DecodeCheckError {
    /// The track is not H.264 or H.265.
    #[error("track {track}: cannot decode-check {codec:?}, only video")]
    NotVideo { track: u32, codec: Codec },
    /// FFmpeg failed.
    #[error("FFmpeg failed to {stage}: {source}")]
    Ffmpeg {
        stage: &'static str,
        source: ff::Error,
    },
    /// The reference itself does not decode cleanly.
    #[error("reference frame pts {pts} does not decode cleanly: {reason}")]
    Reference { pts: i64, reason: String },
}

/// How one frame of the source fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameStatus {
    /// Decoded without error and identical to the source decode.
    Clean,
    /// Arrived but decoded with an error or differently, or references such a frame.
    Damaged,
    /// Never arrived.
    Missing,
}

/// The verdict on one frame of the source.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameVerdict {
    /// Presentation timestamp, in the track's timescale.
    pub pts: i64,
    /// How it fared.
    pub status: FrameStatus,
    /// Luma PSNR against the source decode, in dB (`f64::INFINITY` when
    /// identical); `None` when no picture came out for it.
    pub psnr_y: Option<f64>,
    /// Whether the decoder itself reported an error for this frame.
    pub decoder_error: bool,
}

/// The verdicts on every frame of the source, in presentation order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecodeReport {
    /// One verdict per source frame, by ascending pts.
    pub frames: Vec<FrameVerdict>,
    /// Frames with [`FrameStatus::Clean`].
    pub clean: usize,
    /// Frames with [`FrameStatus::Damaged`].
    pub damaged: usize,
    /// Frames with [`FrameStatus::Missing`].
    pub missing: usize,
}

/// One decoded source frame.
struct Reference {
    /// Decode-order index, for the propagation rule.
    dts: i64,
    keyframe: bool,
    /// The luma plane, `width × height` bytes without stride padding.
    y: Vec<u8>,
}

/// A decode check for one video track: the source decoded once, then any
/// number of received sequences checked against it.
pub struct DecodeCheck {
    track: Track,
    /// Parameter sets as Annex B, sent ahead of every keyframe.
    parameter_sets: Vec<u8>,
    reference: BTreeMap<i64, Reference>,
}

/// What a decoder made of one input pts.
#[derive(Default)]
struct Decoded {
    psnr_y: Option<f64>,
    error: bool,
}

impl DecodeCheck {
    /// Decodes `reference` (the source's units of `track`; others are
    /// ignored) and keeps each frame's luma plane by pts. Memory: width ×
    /// height bytes per frame.
    pub fn new(track: &Track, reference: &[AccessUnit]) -> Result<DecodeCheck, DecodeCheckError> {
        let mut check = DecodeCheck {
            track: track.clone(),
            parameter_sets: parameter_sets(track)?,
            reference: BTreeMap::new(),
        };
        let units = check.decode_order(reference);
        let mut planes = BTreeMap::new();
        let errors = check.decode(&units, |pts, y, error| {
            planes.insert(pts, (y.to_vec(), error));
        })?;
        for unit in units {
            let (y, error) = planes.remove(&unit.pts).unwrap_or_default();
            if error || errors.contains(&unit.pts) || y.is_empty() {
                let reason = if y.is_empty() {
                    "no picture"
                } else {
                    "decoder error"
                };
                return Err(DecodeCheckError::Reference {
                    pts: unit.pts,
                    reason: reason.into(),
                });
            }
            check.reference.insert(
                unit.pts,
                Reference {
                    dts: unit.dts,
                    keyframe: unit.keyframe,
                    y,
                },
            );
        }
        Ok(check)
    }

    /// Number of source frames.
    pub fn frames(&self) -> usize {
        self.reference.len()
    }

    /// The track's frame duration in its timescale: from the nominal frame
    /// rate, or else the smallest pts step between source frames (at least
    /// 1 tick).
    pub fn frame_duration(&self) -> i64 {
        let nominal = self.track.frame_rate.and_then(|(num, den)| {
            let ticks = u64::from(self.track.timescale) * u64::from(den) / u64::from(num.max(1));
            i64::try_from(ticks).ok().filter(|&t| t > 0)
        });
        let step = || {
            let pts: Vec<i64> = self.reference.keys().copied().collect();
            pts.windows(2).map(|w| w[1].saturating_sub(w[0])).min()
        };
        nominal.or_else(step).unwrap_or(1).max(1)
    }

    /// The source pts a received pts stands for: itself when the source has
    /// it, else the nearest source pts less than half a frame duration away
    /// (the earlier one on a tie), else none.
    fn match_pts(&self, pts: i64) -> Option<i64> {
        if self.reference.contains_key(&pts) {
            return Some(pts);
        }
        let below = self.reference.range(..pts).next_back().map(|(&p, _)| p);
        let above = self.reference.range(pts..).next().map(|(&p, _)| p);
        let distance = |p: i64| (i128::from(p) - i128::from(pts)).unsigned_abs();
        let nearest = match (below, above) {
            (Some(b), Some(a)) => Some(if distance(a) < distance(b) { a } else { b }),
            (b, a) => b.or(a),
        }?;
        // Strictly less than half a frame: 2 · distance < frame duration.
        let frame = self.frame_duration().unsigned_abs() as u128;
        (2 * distance(nearest) < frame).then_some(nearest)
    }

    /// Decodes `received` (units of other tracks and pts matching no source
    /// frame are ignored; of duplicates, the first unit matching a source
    /// frame counts) and judges every source frame.
    pub fn check(&self, received: &[AccessUnit]) -> Result<DecodeReport, DecodeCheckError> {
        let mut seen = BTreeSet::new();
        let mut matched: Vec<AccessUnit> = received
            .iter()
            .filter(|u| u.track == self.track.id)
            .filter_map(|u| {
                let pts = self.match_pts(u.pts)?;
                seen.insert(pts).then(|| AccessUnit { pts, ..u.clone() })
            })
            .collect();
        matched.sort_by_key(|u| u.dts);
        let units: Vec<&AccessUnit> = matched.iter().collect();
        let arrived: BTreeSet<i64> = units.iter().map(|u| u.pts).collect();
        let mut decoded: BTreeMap<i64, Decoded> = BTreeMap::new();
        let errors = self.decode(&units, |pts, y, error| {
            let psnr_y = self.reference.get(&pts).map(|r| psnr(&r.y, y));
            decoded.insert(pts, Decoded { psnr_y, error });
        })?;
        Ok(self.judge(&arrived, &decoded, &errors))
    }

    /// Applies the verdict rules, walking the source in decode order.
    fn judge(
        &self,
        arrived: &BTreeSet<i64>,
        decoded: &BTreeMap<i64, Decoded>,
        errors: &BTreeSet<i64>,
    ) -> DecodeReport {
        let mut by_dts: Vec<(&i64, &Reference)> = self.reference.iter().collect();
        by_dts.sort_by_key(|(_, r)| r.dts);
        let mut broken = false;
        let mut verdicts = BTreeMap::new();
        for (&pts, reference) in by_dts {
            broken &= !reference.keyframe;
            let out = decoded.get(&pts);
            let psnr_y = out.and_then(|d| d.psnr_y);
            let decoder_error = errors.contains(&pts) || out.is_some_and(|d| d.error);
            let status = if !arrived.contains(&pts) {
                FrameStatus::Missing
            } else if broken || decoder_error || psnr_y.is_none_or(|p| p.is_finite()) {
                FrameStatus::Damaged
            } else {
                FrameStatus::Clean
            };
            broken |= status != FrameStatus::Clean;
            verdicts.insert(
                pts,
                FrameVerdict {
                    pts,
                    status,
                    psnr_y,
                    decoder_error,
                },
            );
        }
        let frames: Vec<FrameVerdict> = verdicts.into_values().collect();
        let count = |s: FrameStatus| frames.iter().filter(|f| f.status == s).count();
        DecodeReport {
            clean: count(FrameStatus::Clean),
            damaged: count(FrameStatus::Damaged),
            missing: count(FrameStatus::Missing),
            frames,
        }
    }

    /// The track's units, sorted by dts, first of each pts only.
    fn decode_order<'a>(&self, units: &'a [AccessUnit]) -> Vec<&'a AccessUnit> {
        let mut seen = BTreeSet::new();
        let mut mine: Vec<&AccessUnit> = units
            .iter()
            .filter(|u| u.track == self.track.id && seen.insert(u.pts))
            .collect();
        mine.sort_by_key(|u| u.dts);
        mine
    }

    /// Decodes `units` in order with a fresh single-threaded decoder, calling
    /// `frame(pts, luma, decoder_error)` for each picture (luma packed to
    /// width × height); returns the pts of units the decoder rejected.
    fn decode<F>(
        &self,
        units: &[&AccessUnit],
        mut frame: F,
    ) -> Result<BTreeSet<i64>, DecodeCheckError>
    where
        F: FnMut(i64, &[u8], bool),
    {
        let ffe = |stage| move |source| DecodeCheckError::Ffmpeg { stage, source };
        let mut decoder = open_decoder(self.track.codec)?;
        let mut rejected = BTreeSet::new();
        let mut picture = ff::frame::Video::empty();
        let mut luma = Vec::new();
        let mut drain = |decoder: &mut ff::decoder::Video, luma: &mut Vec<u8>| {
            while decoder.receive_frame(&mut picture).is_ok() {
                let Some(pts) = picture.pts().or_else(|| picture.timestamp()) else {
                    continue;
                };
                let error = picture.has_decode_errors() || picture.is_corrupt();
                pack_luma(&picture, luma);
                frame(pts, luma, error);
            }
        };
        let mut data = Vec::new();
        for unit in units {
            data.clear();
            if unit.keyframe {
                data.extend_from_slice(&self.parameter_sets);
            }
            data.extend_from_slice(&unit.data);
            let mut packet = ff::Packet::copy(&data);
            packet.set_pts(Some(unit.pts));
            packet.set_dts(Some(unit.dts));
            packet.set_duration(i64::from(unit.duration));
            if decoder.send_packet(&packet).is_err() {
                rejected.insert(unit.pts);
            }
            drain(&mut decoder, &mut luma);
        }
        decoder.send_eof().map_err(ffe("flush the decoder"))?;
        drain(&mut decoder, &mut luma);
        Ok(rejected)
    }
}

/// A single-threaded decoder that conceals errors and flags the frames it
/// concealed rather than failing on them.
fn open_decoder(codec: Codec) -> Result<ff::decoder::Video, DecodeCheckError> {
    let ffe = |stage| move |source| DecodeCheckError::Ffmpeg { stage, source };
    crate::media::file_source::init_ffmpeg().map_err(ffe("initialise"))?;
    let id = if codec == Codec::H265 {
        ff::codec::Id::HEVC
    } else {
        ff::codec::Id::H264
    };
    let found = ff::decoder::find(id)
        .ok_or(ff::Error::DecoderNotFound)
        .map_err(ffe("find a decoder"))?;
    let mut decoder = ff::codec::Context::new_with_codec(found).decoder();
    decoder.set_threading(ff::threading::Config {
        kind: ff::threading::Type::None,
        count: 1,
        ..Default::default()
    });
    // Check the bitstream carefully but do not explode: a broken slice is
    // concealed and flagged in `decode_error_flags`, not dropped.
    decoder.check(
        ff::decoder::Check::CRC
            | ff::decoder::Check::BITSTREAM
            | ff::decoder::Check::BUFFER
            | ff::decoder::Check::CAREFUL,
    );
    decoder.conceal(ff::decoder::Conceal::GUESS_MVS | ff::decoder::Conceal::DEBLOCK);
    decoder.video().map_err(ffe("open the decoder"))
}

/// Copies the luma plane of `picture` into `out` without stride padding.
fn pack_luma(picture: &ff::frame::Video, out: &mut Vec<u8>) {
    let (width, height, stride) = (
        picture.width() as usize,
        picture.height() as usize,
        picture.stride(0),
    );
    let plane = picture.data(0);
    out.clear();
    for row in 0..height {
        if let Some(line) = plane.get(row * stride..row * stride + width) {
            out.extend_from_slice(line);
        }
    }
}

/// Peak signal-to-noise ratio of 8-bit planes, in dB; `f64::INFINITY` when
/// identical, 0 when the sizes differ.
pub fn psnr(reference: &[u8], decoded: &[u8]) -> f64 {
    if reference.len() != decoded.len() || reference.is_empty() {
        return 0.0;
    }
    let sse: u64 = reference
        .iter()
        .zip(decoded)
        .map(|(&a, &b)| u64::from(a.abs_diff(b)).pow(2))
        .sum();
    if sse == 0 {
        return f64::INFINITY;
    }
    let mse = sse as f64 / reference.len() as f64;
    10.0 * (255.0 * 255.0 / mse).log10()
}

/// Decodes `units` of `track` once and returns how many pictures came out;
/// the benchmark for decode speed (the caller times it).
pub fn bench_decode(track: &Track, units: &[AccessUnit]) -> Result<usize, DecodeCheckError> {
    let check = DecodeCheck {
        track: track.clone(),
        parameter_sets: parameter_sets(track)?,
        reference: BTreeMap::new(),
    };
    let mut count = 0;
    check.decode(&check.decode_order(units), |_, _, _| count += 1)?;
    Ok(count)
}

/// The track's parameter sets joined as Annex B.
fn parameter_sets(track: &Track) -> Result<Vec<u8>, DecodeCheckError> {
    let sets: Vec<&Vec<Vec<u8>>> = match &track.config {
        CodecConfig::H264 { sps, pps, .. } => vec![sps, pps],
        CodecConfig::H265 { vps, sps, pps, .. } => vec![vps, sps, pps],
        CodecConfig::Aac { .. } => {
            return Err(DecodeCheckError::NotVideo {
                track: track.id,
                codec: track.codec,
            })
        }
    };
    Ok(crate::media::h264::join_annex_b(
        sets.into_iter().flatten().map(Vec::as_slice),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psnr_of_known_planes() {
        assert_eq!(psnr(&[10, 20, 30], &[10, 20, 30]), f64::INFINITY);
        // One sample off by 255 in 4: MSE = 255² / 4, PSNR = 10·log10(4).
        let p = psnr(&[0, 0, 0, 0], &[255, 0, 0, 0]);
        assert!((p - 10.0 * 4f64.log10()).abs() < 1e-9, "{p}");
        assert_eq!(psnr(&[1, 2], &[1]), 0.0);
        assert_eq!(psnr(&[], &[]), 0.0);
    }

    #[test]
    fn audio_tracks_are_refused() {
        let track = Track {
            id: 2,
            codec: Codec::Aac,
            timescale: 48_000,
            config: CodecConfig::Aac {
                asc: vec![0x11, 0x90],
                sample_rate: 48_000,
                channels: 2,
            },
            frame_rate: None,
        };
        assert!(matches!(
            DecodeCheck::new(&track, &[]),
            Err(DecodeCheckError::NotVideo { track: 2, .. })
        ));
    }

    #[test]
    fn garbage_is_damaged_not_a_panic() {
        let track = Track {
            id: 1,
            codec: Codec::H264,
            timescale: 90_000,
            config: CodecConfig::H264 {
                sps: vec![],
                pps: vec![],
                width: 16,
                height: 16,
            },
            frame_rate: Some((30, 1)),
        };
        let check = DecodeCheck::new(&track, &[]).expect("an empty reference is fine");
        let junk = AccessUnit {
            track: 1,
            pts: 0,
            dts: 0,
            duration: 3000,
            keyframe: true,
            data: vec![0, 0, 0, 1, 0x65, 0xff, 0x00, 0x13],
            capture_time: std::time::Duration::ZERO,
        };
        // Not in the (empty) reference: ignored.
        assert_eq!(
            check
                .check(std::slice::from_ref(&junk))
                .expect("check runs"),
            DecodeReport::default()
        );
        // Decoded, whatever comes out, without a panic.
        assert!(bench_decode(&track, std::slice::from_ref(&junk)).expect("decoder runs") <= 1);
        assert!(matches!(
            DecodeCheck::new(&track, &[junk]),
            Err(DecodeCheckError::Reference { pts: 0, .. })
        ));
        assert_eq!(bench_decode(&track, &[]).expect("nothing to decode"), 0);
    }
}
