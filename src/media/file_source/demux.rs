//! From file to tracks and canonical units: FFmpeg demuxes (no decoding),
//! each supported stream becomes a track, and each packet becomes access
//! units in the canonical form.
//!
//! Invariants: units come back in file order; parameter sets found in band
//! join the track's configuration (in order of first appearance) instead of
//! staying in the units; a packet of several ADTS frames becomes one unit
//! per frame, and a malformed one is an error, never passed on; reading
//! gives up after [`MAX_INVALID_READS`] unreadable packets in a row, so a
//! corrupt file is an error rather than an endless loop.

use std::path::Path;
use std::time::Duration;

use ffmpeg_next as ff;

use super::hevc::{canonicalize_h265, h265_config};
use super::{rescale, FileSourceError, MAX_TIMESTAMP, VIDEO_TIMESCALE};
use crate::media::aac::{self, AacError};
use crate::media::h264;
use crate::media::{AccessUnit, Codec, CodecConfig, Track};

/// How many reads in a row may fail with invalid data (FFmpeg skipping
/// garbage it cannot resync past) before the file counts as unreadable.
pub(super) const MAX_INVALID_READS: usize = 64;

/// How a stream's packets frame their NAL units or audio frames.
#[derive(Clone, Copy, Debug)]
pub(super) enum Framing {
    /// H.264/H.265 NAL units with big-endian length prefixes of this size.
    Lengths(usize),
    /// H.264/H.265 Annex B.
    AnnexB,
    /// AAC raw frames, or ADTS frames whose headers are stripped.
    Aac,
}

/// One demuxed stream being converted into a track.
struct StreamIn {
    index: usize,
    time_base: (i64, i64),
    framing: Framing,
    track: Track,
    units: Vec<AccessUnit>,
}

/// Demuxes every supported stream of the file into tracks and units (file order).
pub(super) fn demux(path: &Path) -> Result<(Vec<Track>, Vec<AccessUnit>), FileSourceError> {
    std::fs::metadata(path).map_err(|e| FileSourceError::NotFound {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let ff_err = |stage, e: ff::Error| FileSourceError::Demux {
        path: path.to_owned(),
        stage,
        reason: e.to_string(),
    };
    super::init_ffmpeg().map_err(|e| ff_err("initialise", e))?;
    let mut input = ff::format::input(path).map_err(|e| ff_err("open the file", e))?;
    let mut streams = Vec::new();
    for stream in input.streams() {
        let id = u32::try_from(streams.len() + 1).unwrap_or(u32::MAX);
        if let Some(s) = stream_in(path, &stream, id)? {
            streams.push(s);
        }
    }
    if streams.is_empty() {
        return Err(FileSourceError::NoStreams {
            path: path.to_owned(),
        });
    }
    let mut order = Vec::new();
    let mut packet = ff::Packet::empty();
    let mut count = 0usize;
    while read_packet(path, || packet.read(&mut input))? {
        count += 1;
        let Some(s) = streams.iter_mut().find(|s| s.index == packet.stream()) else {
            continue;
        };
        let stream = s.index;
        let bad = |reason: String| FileSourceError::Packet {
            path: path.to_owned(),
            stream,
            packet: count,
            reason,
        };
        for unit in convert(s, &packet).map_err(bad)? {
            s.units.push(unit);
            order.push((s.track.id, s.units.len() - 1));
        }
    }
    finish(path, streams, &order)
}

/// Calls `read` until it reads a packet (`true`) or reaches the end of the
/// file (`false`), skipping invalid data up to [`MAX_INVALID_READS`]
/// failures in a row.
pub(super) fn read_packet(
    path: &Path,
    mut read: impl FnMut() -> Result<(), ff::Error>,
) -> Result<bool, FileSourceError> {
    let mut invalid = 0;
    loop {
        match read() {
            Ok(()) => return Ok(true),
            Err(ff::Error::Eof) => return Ok(false),
            Err(ff::Error::InvalidData) => {
                invalid += 1;
                if invalid >= MAX_INVALID_READS {
                    return Err(FileSourceError::Unreadable {
                        path: path.to_owned(),
                        count: invalid,
                    });
                }
            }
            Err(e) => {
                return Err(FileSourceError::Demux {
                    path: path.to_owned(),
                    stage: "read a packet",
                    reason: e.to_string(),
                })
            }
        }
    }
}

/// Fills durations the container left out and parameter sets it carried in
/// band, then returns the tracks and the units in file order.
fn finish(
    path: &Path,
    mut streams: Vec<StreamIn>,
    order: &[(u32, usize)],
) -> Result<(Vec<Track>, Vec<AccessUnit>), FileSourceError> {
    for s in &mut streams {
        fill_durations(&mut s.units);
        let missing = match &s.track.config {
            CodecConfig::H264 { sps, pps, .. } => sps.is_empty() || pps.is_empty(),
            CodecConfig::H265 { sps, .. } => sps.is_empty(),
            CodecConfig::Aac { asc, .. } => asc.is_empty(),
        };
        if missing {
            return Err(FileSourceError::Config {
                path: path.to_owned(),
                stream: s.index,
                reason: "no parameter sets in extradata or in band".into(),
            });
        }
    }
    let mut units = Vec::with_capacity(order.len());
    for &(id, i) in order {
        if let Some(s) = streams.iter().find(|s| s.track.id == id) {
            units.push(s.units[i].clone());
        }
    }
    Ok((streams.into_iter().map(|s| s.track).collect(), units))
}

/// Units with duration 0 get the dts distance to the next unit (the last one
/// keeps the previous distance; a distance that does not fit a `u32` is not
/// one).
pub(super) fn fill_durations(units: &mut [AccessUnit]) {
    let mut by_dts: Vec<usize> = (0..units.len()).collect();
    by_dts.sort_by_key(|&i| units[i].dts);
    let mut last = 0u32;
    for w in 0..by_dts.len() {
        let i = by_dts[w];
        if let Some(&j) = by_dts.get(w + 1) {
            let step = units[j].dts.checked_sub(units[i].dts);
            last = step.and_then(|d| u32::try_from(d).ok()).unwrap_or(last);
        }
        if units[i].duration == 0 {
            units[i].duration = last;
        }
    }
}

/// The track a stream becomes, or `None` for codecs streamsim does not carry.
fn stream_in(
    path: &Path,
    stream: &ff::format::stream::Stream,
    id: u32,
) -> Result<Option<StreamIn>, FileSourceError> {
    let params = stream.parameters();
    // SAFETY: `params` owns a valid AVCodecParameters for this scope; the
    // extradata pointer is valid for `extradata_size` bytes when non-null.
    let (extradata, width, height, sample_rate, channels) = unsafe {
        let p = &*params.as_ptr();
        let extra = if p.extradata.is_null() || p.extradata_size <= 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts(p.extradata, p.extradata_size as usize).to_vec()
        };
        (
            extra,
            p.width,
            p.height,
            p.sample_rate,
            p.ch_layout.nb_channels,
        )
    };
    let bad = |reason: String| FileSourceError::Config {
        path: path.to_owned(),
        stream: stream.index(),
        reason,
    };
    let size = (
        u32::try_from(width).unwrap_or(0),
        u32::try_from(height).unwrap_or(0),
    );
    let (codec, config, framing) = match params.id() {
        ff::codec::Id::H264 => h264_config(&extradata, size).map_err(bad)?,
        ff::codec::Id::HEVC => h265_config(&extradata, size).map_err(bad)?,
        ff::codec::Id::AAC => {
            let sample_rate = u32::try_from(sample_rate)
                .ok()
                .filter(|&r| r > 0)
                .ok_or_else(|| bad(format!("sample rate {sample_rate}")))?;
            let channels =
                u8::try_from(channels).map_err(|_| bad(format!("{channels} channels")))?;
            (
                Codec::Aac,
                CodecConfig::Aac {
                    asc: extradata,
                    sample_rate,
                    channels,
                },
                Framing::Aac,
            )
        }
        _ => return Ok(None),
    };
    let timescale = match &config {
        CodecConfig::Aac { sample_rate, .. } => *sample_rate,
        _ => VIDEO_TIMESCALE,
    };
    let rate = [stream.avg_frame_rate(), stream.rate()]
        .into_iter()
        .find(|r| r.numerator() > 0 && r.denominator() > 0);
    let frame_rate = match codec.is_video() {
        true => rate.and_then(|r| {
            Some((
                u32::try_from(r.numerator()).ok()?,
                u32::try_from(r.denominator()).ok()?,
            ))
        }),
        false => None,
    };
    let tb = stream.time_base();
    let track = Track {
        id,
        codec,
        timescale,
        config,
        frame_rate,
    };
    let time_base = (i64::from(tb.numerator()), i64::from(tb.denominator()));
    Ok(Some(StreamIn {
        index: stream.index(),
        time_base,
        framing,
        track,
        units: Vec::new(),
    }))
}

pub(super) type Config = (Codec, CodecConfig, Framing);

/// The configuration of an H.264 stream from its extradata (an avcC record
/// or Annex B parameter sets); the picture size comes from the SPS when the
/// container gives none.
fn h264_config(extra: &[u8], (width, height): (u32, u32)) -> Result<Config, String> {
    let (sps, pps, framing) = if extra.first() == Some(&1) {
        let avcc = h264::parse_avcc(extra).map_err(|e| e.to_string())?;
        (avcc.sps, avcc.pps, Framing::Lengths(avcc.length_size))
    } else {
        let (_, sps, pps) = h264::canonicalize(extra);
        (sps, pps, Framing::AnnexB)
    };
    let (width, height) = match (width, height, sps.first()) {
        (0, _, Some(s)) | (_, 0, Some(s)) => h264::sps_dimensions(s).map_err(|e| e.to_string())?,
        _ => (width, height),
    };
    Ok((
        Codec::H264,
        CodecConfig::H264 {
            sps,
            pps,
            width,
            height,
        },
        framing,
    ))
}

/// Converts one packet to canonical access units of its stream's track
/// (one, or one per frame of a packet of several ADTS frames), moving
/// in-band parameter sets into the track's configuration.
fn convert(s: &mut StreamIn, packet: &ff::Packet) -> Result<Vec<AccessUnit>, String> {
    let data = packet.data().unwrap_or(&[]);
    let ts = |v: Option<i64>| v.map(|t| rescale(t, s.time_base, s.track.timescale));
    let (pts, dts) = match (ts(packet.pts()), ts(packet.dts())) {
        (Some(p), Some(d)) => (p, d),
        (Some(t), None) | (None, Some(t)) => (t, t),
        (None, None) => return Err("no timestamp".into()),
    };
    check_timestamps(pts, dts)?;
    let duration =
        u32::try_from(rescale(packet.duration(), s.time_base, s.track.timescale)).unwrap_or(0);
    let unit = |data: Vec<u8>, keyframe: bool| AccessUnit {
        track: s.track.id,
        pts,
        dts,
        duration,
        keyframe,
        data,
        capture_time: Duration::ZERO,
    };
    let annex_b = match s.framing {
        Framing::Lengths(n) => h264::avcc_to_annex_b(data, n).map_err(|e| e.to_string())?,
        Framing::AnnexB => data.to_vec(),
        Framing::Aac => {
            let timescale = s.track.timescale;
            let CodecConfig::Aac { asc, .. } = &mut s.track.config else {
                return Err("AAC framing on a video track".into());
            };
            let (frames, adts_rate) = strip_adts(data, asc).map_err(|e| e.to_string())?;
            let first = unit(Vec::new(), true);
            return Ok(split_frames(first, frames, adts_rate, timescale));
        }
    };
    let (data, keyframe) = match &mut s.track.config {
        CodecConfig::H264 { sps, pps, .. } => {
            let (canon, new_sps, new_pps) = h264::canonicalize(&annex_b);
            merge(sps, new_sps);
            merge(pps, new_pps);
            let key = h264::is_idr(&canon);
            (canon, key)
        }
        CodecConfig::H265 { vps, sps, pps, .. } => canonicalize_h265(&annex_b, vps, sps, pps),
        CodecConfig::Aac { .. } => return Err("video framing on an AAC track".into()),
    };
    Ok(vec![unit(data, keyframe)])
}

/// Refuses timestamps beyond ±[`MAX_TIMESTAMP`] ticks (a saturated
/// conversion, or a file no clip could be).
pub(super) fn check_timestamps(pts: i64, dts: i64) -> Result<(), String> {
    if pts.unsigned_abs() > MAX_TIMESTAMP || dts.unsigned_abs() > MAX_TIMESTAMP {
        return Err(format!(
            "timestamp beyond ±2^53 ticks (pts {pts}, dts {dts})"
        ));
    }
    Ok(())
}

/// Units for the raw AAC `frames` of one packet, all like `first`. One frame
/// keeps the packet's timing; several (back-to-back ADTS frames at
/// `adts_rate` Hz) each last 1024 samples of that rate in `timescale` ticks,
/// and follow each other from the packet's timestamps.
pub(super) fn split_frames(
    first: AccessUnit,
    frames: Vec<Vec<u8>>,
    adts_rate: Option<u32>,
    timescale: u32,
) -> Vec<AccessUnit> {
    let step = match adts_rate {
        Some(rate) if frames.len() > 1 => {
            rescale(aac::SAMPLES_PER_BLOCK.into(), (1, rate.into()), timescale)
        }
        _ => 0,
    };
    let mut at = 0i64;
    let mut units = Vec::with_capacity(frames.len());
    for data in frames {
        let mut unit = first.clone();
        if step > 0 {
            unit.duration = u32::try_from(step).unwrap_or(u32::MAX);
            (unit.pts, unit.dts) = (unit.pts + at, unit.dts + at);
            at += step;
        }
        unit.data = data;
        units.push(unit);
    }
    units
}

/// Adds parameter sets not yet known (kept in order of first appearance).
pub(super) fn merge(known: &mut Vec<Vec<u8>>, found: Vec<Vec<u8>>) {
    for set in found {
        if !known.contains(&set) {
            known.push(set);
        }
    }
}

/// The raw AAC frames of a packet, and the sample rate of their ADTS
/// headers if it had any. A packet starting with an ADTS syncword must hold
/// whole ADTS frames of one raw data block each (anything else is an error);
/// their headers are removed, and the first one gives the
/// AudioSpecificConfig when none is known. Any other packet is a raw frame.
pub(super) fn strip_adts(
    data: &[u8],
    asc: &mut Vec<u8>,
) -> Result<(Vec<Vec<u8>>, Option<u32>), AacError> {
    if !aac::is_adts(data) {
        return Ok((vec![data.to_vec()], None));
    }
    let frames = aac::split_adts(data)?;
    let first = frames.first().map(|(header, _)| *header);
    let rate = first.and_then(|h| h.sample_rate());
    if let (true, Some(config)) = (
        asc.is_empty(),
        first.and_then(|h| h.audio_specific_config()),
    ) {
        *asc = config.to_bytes()?;
    }
    let raw = frames.into_iter().map(|(_, raw)| raw.to_vec()).collect();
    Ok((raw, rate))
}
