//! [`FileSource`]: a media file demuxed with FFmpeg (no decoding), its H.264,
//! H.265 and AAC streams converted to the canonical form, and played as a
//! live [`Source`] that loops the clip forever.
//!
//! Invariants: the whole clip is read once at [`FileSource::open`]; every
//! access unit is canonical (see [`crate::media`]); timestamps are in the
//! track's timescale (90 kHz video, the sample rate for audio), converted
//! from the container's time base exactly when it divides, rounded to the
//! nearest tick otherwise. Loop `k` adds `k` clip periods to every
//! timestamp and capture time, where the period is the longest track's span
//! (first pts to last pts + duration), so tracks stay in sync across loops;
//! a shorter track's last unit of each loop is stretched to cover the gap,
//! so `pts + duration` of one unit is the `pts` of the next in every track.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ffmpeg_next as ff;

use crate::media::aac::{self, AacError};
use crate::media::h264;
use crate::media::{AccessUnit, Codec, CodecConfig, Source, Track};

/// Video timescale: 90 kHz ticks per second.
const VIDEO_TIMESCALE: u32 = 90_000;

/// Errors opening or reading a media file.
#[derive(Debug, thiserror::Error)]
pub enum FileSourceError {
    /// The file does not exist or cannot be read.
    #[error("{path}: cannot read the file: {reason}")]
    NotFound { path: PathBuf, reason: String },
    /// FFmpeg could not open or demux the file.
    #[error("{path}: FFmpeg failed to {stage}: {reason}")]
    Demux {
        path: PathBuf,
        stage: &'static str,
        reason: String,
    },
    /// The file holds no H.264, H.265 or AAC stream.
    #[error("{path}: no H.264, H.265 or AAC stream")]
    NoStreams { path: PathBuf },
    /// A stream's decoder configuration is unusable.
    #[error("{path}: stream {stream}: bad decoder configuration: {reason}")]
    Config {
        path: PathBuf,
        stream: usize,
        reason: String,
    },
    /// A packet could not be converted to the canonical form.
    #[error("{path}: stream {stream}, packet {packet}: {reason}")]
    Packet {
        path: PathBuf,
        stream: usize,
        packet: usize,
        reason: String,
    },
}

/// How a stream's packets frame their NAL units or audio frames.
#[derive(Clone, Copy, Debug)]
enum Framing {
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

/// One track of the clip, ready to loop.
#[derive(Clone, Debug)]
struct Lane {
    /// Units in decode order, timestamps of the first pass.
    units: Vec<AccessUnit>,
    /// Running maximum of pts in decode order: the pts a unit is released at.
    release_pts: Vec<i64>,
    /// Smallest pts of the track, the zero of its capture times.
    min_pts: i64,
    /// Index of the unit that ends the track (largest pts + duration).
    last: usize,
    /// First pts to end of the last unit, in the track's timescale (at least
    /// 1, so that loops always advance).
    span: i64,
    /// Next unit to release: (loop number, index into `units`).
    cursor: (u64, usize),
}

/// A media file played as a live source, looping forever.
#[derive(Clone, Debug)]
pub struct FileSource {
    tracks: Vec<Track>,
    lanes: Vec<Lane>,
    /// The clip in file order, timestamps and capture times of the first pass.
    clip: Vec<AccessUnit>,
    start: Duration,
    /// The loop period: the longest track's span, as (ticks, timescale).
    period: (i64, u32),
}

impl FileSource {
    /// Reads the whole file at `path`; the source's first capture is at
    /// `start` (simulated time since scenario start).
    pub fn open(path: impl AsRef<Path>, start: Duration) -> Result<FileSource, FileSourceError> {
        let path = path.as_ref();
        let (tracks, units) = demux(path)?;
        Ok(FileSource::from_units(tracks, units, start))
    }

    /// The tracks and one pass of the clip's access units in file order,
    /// with the capture times the live source gives them in the first loop.
    pub fn access_units(&self) -> &[AccessUnit] {
        &self.clip
    }

    /// How long one loop of the clip lasts.
    pub fn period(&self) -> Duration {
        ticks_to_duration(self.period.0, self.period.1)
    }

    fn from_units(tracks: Vec<Track>, units: Vec<AccessUnit>, start: Duration) -> FileSource {
        let mut lanes = Vec::with_capacity(tracks.len());
        let mut period = (0i64, 1u32);
        for track in &tracks {
            let mut mine: Vec<AccessUnit> = units
                .iter()
                .filter(|u| u.track == track.id)
                .cloned()
                .collect();
            mine.sort_by_key(|u| u.dts);
            let lane = Lane::new(mine);
            // Compare span / timescale as fractions.
            if i128::from(lane.span) * i128::from(period.1)
                > i128::from(period.0) * i128::from(track.timescale)
            {
                period = (lane.span, track.timescale);
            }
            lanes.push(lane);
        }
        let mut clip = units;
        for unit in &mut clip {
            if let Some(k) = tracks.iter().position(|t| t.id == unit.track) {
                let rel = unit.pts - lanes[k].min_pts;
                unit.capture_time = start + ticks_to_duration(rel, tracks[k].timescale);
            }
        }
        FileSource {
            tracks,
            lanes,
            clip,
            start,
            period,
        }
    }

    /// The pts offset of loop `k` for track `t`, in its timescale.
    fn loop_offset(&self, t: usize, k: u64) -> i64 {
        let (ticks, scale) = self.period;
        let num = i128::from(k) * i128::from(ticks) * i128::from(self.tracks[t].timescale);
        let den = i128::from(scale);
        i64::try_from((num + den / 2) / den).unwrap_or(i64::MAX)
    }

    /// The release time of the unit under track `t`'s cursor.
    fn release_of(&self, t: usize) -> Option<Duration> {
        let lane = &self.lanes[t];
        let (k, i) = lane.cursor;
        let pts = *lane.release_pts.get(i)?;
        let rel = pts + self.loop_offset(t, k) - lane.min_pts;
        Some(self.start + ticks_to_duration(rel, self.tracks[t].timescale))
    }

    /// The track whose next unit is released first (ties: lowest track).
    fn next_lane(&self) -> Option<(usize, Duration)> {
        (0..self.lanes.len())
            .filter_map(|t| self.release_of(t).map(|r| (t, r)))
            .min_by_key(|&(t, r)| (r, t))
    }
}

impl Lane {
    fn new(units: Vec<AccessUnit>) -> Lane {
        let mut release_pts = Vec::with_capacity(units.len());
        let mut running = i64::MIN;
        for unit in &units {
            running = running.max(unit.pts);
            release_pts.push(running);
        }
        let min_pts = units.iter().map(|u| u.pts).min().unwrap_or(0);
        let last = (0..units.len())
            .max_by_key(|&i| (units[i].pts + i64::from(units[i].duration), i))
            .unwrap_or(0);
        let span = (units
            .get(last)
            .map_or(0, |u| u.pts + i64::from(u.duration) - min_pts))
        .max(1);
        Lane {
            units,
            release_pts,
            min_pts,
            last,
            span,
            cursor: (0, 0),
        }
    }
}

impl Source for FileSource {
    fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    fn next_release(&self) -> Option<Duration> {
        self.next_lane().map(|(_, r)| r)
    }

    fn poll_next(&mut self, now: Duration) -> Option<AccessUnit> {
        let (t, release) = self.next_lane()?;
        if release > now {
            return None;
        }
        let (k, i) = self.lanes[t].cursor;
        let offset = self.loop_offset(t, k);
        let next_offset = self.loop_offset(t, k + 1);
        let timescale = self.tracks[t].timescale;
        let lane = &mut self.lanes[t];
        let mut unit = lane.units[i].clone();
        if i == lane.last {
            // Cover the gap up to the next loop so timestamps stay contiguous.
            let gap = next_offset - offset - lane.span;
            unit.duration =
                u32::try_from(i64::from(unit.duration) + gap.max(0)).unwrap_or(u32::MAX);
        }
        unit.pts += offset;
        unit.dts += offset;
        unit.capture_time = self.start + ticks_to_duration(unit.pts - lane.min_pts, timescale);
        lane.cursor = if i + 1 < lane.units.len() {
            (k, i + 1)
        } else {
            (k + 1, 0)
        };
        Some(unit)
    }
}

/// Simulated time of `ticks` (≥ 0) at `timescale` ticks per second, rounded down
/// to the nanosecond.
fn ticks_to_duration(ticks: i64, timescale: u32) -> Duration {
    let nanos = i128::from(ticks.max(0)) * 1_000_000_000 / i128::from(timescale.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// Rescales `ts` from a `(num, den)` time base to `timescale`, exactly when it
/// divides, to the nearest tick otherwise.
fn rescale(ts: i64, (num, den): (i64, i64), timescale: u32) -> i64 {
    let n = i128::from(ts) * i128::from(num) * i128::from(timescale);
    let d = i128::from(den.max(1));
    let q = n.div_euclid(d);
    let r = n.rem_euclid(d);
    let q = if 2 * r >= d { q + 1 } else { q };
    i64::try_from(q).unwrap_or(if q < 0 { i64::MIN } else { i64::MAX })
}

/// Demuxes every supported stream of the file into tracks and units (file order).
fn demux(path: &Path) -> Result<(Vec<Track>, Vec<AccessUnit>), FileSourceError> {
    std::fs::metadata(path).map_err(|e| FileSourceError::NotFound {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let ff_err = |stage, e: ff::Error| FileSourceError::Demux {
        path: path.to_owned(),
        stage,
        reason: e.to_string(),
    };
    ff::init().map_err(|e| ff_err("initialise", e))?;
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
    loop {
        match packet.read(&mut input) {
            Ok(()) => {}
            Err(ff::Error::Eof) => break,
            Err(ff::Error::InvalidData) => continue,
            Err(e) => return Err(ff_err("read a packet", e)),
        }
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
/// keeps the previous distance).
fn fill_durations(units: &mut [AccessUnit]) {
    let mut by_dts: Vec<usize> = (0..units.len()).collect();
    by_dts.sort_by_key(|&i| units[i].dts);
    let mut last = 0u32;
    for w in 0..by_dts.len() {
        let i = by_dts[w];
        if let Some(&j) = by_dts.get(w + 1) {
            last = u32::try_from(units[j].dts - units[i].dts).unwrap_or(last);
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

type Config = (Codec, CodecConfig, Framing);

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

fn h265_config(extra: &[u8], (width, height): (u32, u32)) -> Result<Config, String> {
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
            .filter(|n| h265_type(n) == Some(t))
            .cloned()
            .collect::<Vec<_>>()
    };
    let config = CodecConfig::H265 {
        vps: pick(H265_VPS),
        sps: pick(H265_SPS),
        pps: pick(H265_PPS),
        width,
        height,
    };
    Ok((Codec::H265, config, framing))
}

/// H.265 NAL unit types: VPS, SPS, PPS, access unit delimiter.
const H265_VPS: u8 = 32;
const H265_SPS: u8 = 33;
const H265_PPS: u8 = 34;
const H265_AUD: u8 = 35;

/// The type of an H.265 NAL unit (bits 1..7 of its first byte).
fn h265_type(nal: &[u8]) -> Option<u8> {
    nal.first().map(|b| (b >> 1) & 0x3f)
}

/// Parses an HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1):
/// the NAL units of its arrays and the NAL length size.
fn parse_hvcc(record: &[u8]) -> Result<(Vec<Vec<u8>>, Framing), String> {
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

/// Units for the raw AAC `frames` of one packet, all like `first`. One frame
/// keeps the packet's timing; several (back-to-back ADTS frames at
/// `adts_rate` Hz) each last 1024 samples of that rate in `timescale` ticks,
/// and follow each other from the packet's timestamps.
fn split_frames(
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
fn merge(known: &mut Vec<Vec<u8>>, found: Vec<Vec<u8>>) {
    for set in found {
        if !known.contains(&set) {
            known.push(set);
        }
    }
}

/// The H.265 canonical form: parameter sets and delimiters out; the unit is a
/// keyframe when it holds an IRAP picture that is not a CRA (types 16..=20).
fn canonicalize_h265(
    annex_b: &[u8],
    vps: &mut Vec<Vec<u8>>,
    sps: &mut Vec<Vec<u8>>,
    pps: &mut Vec<Vec<u8>>,
) -> (Vec<u8>, bool) {
    let mut keep = Vec::new();
    let mut key = false;
    for nal in h264::split_annex_b(annex_b) {
        match h265_type(nal) {
            Some(H265_VPS) => merge(vps, vec![nal.to_vec()]),
            Some(H265_SPS) => merge(sps, vec![nal.to_vec()]),
            Some(H265_PPS) => merge(pps, vec![nal.to_vec()]),
            Some(H265_AUD) => {}
            t => {
                key |= matches!(t, Some(16..=20));
                keep.push(nal);
            }
        }
    }
    (h264::join_annex_b(keep), key)
}

/// The raw AAC frames of a packet, and the sample rate of their ADTS
/// headers if it had any. A packet starting with an ADTS syncword must hold
/// whole ADTS frames of one raw data block each (anything else is an error);
/// their headers are removed, and the first one gives the
/// AudioSpecificConfig when none is known. Any other packet is a raw frame.
fn strip_adts(data: &[u8], asc: &mut Vec<u8>) -> Result<(Vec<Vec<u8>>, Option<u32>), AacError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> FileSource {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/clip.mp4");
        FileSource::open(path, Duration::from_secs(1)).expect("fixture opens")
    }

    fn video(source: &FileSource) -> Vec<&AccessUnit> {
        source
            .access_units()
            .iter()
            .filter(|u| u.track == 1)
            .collect()
    }

    #[test]
    fn fixture_tracks() {
        let source = fixture();
        let tracks = source.tracks();
        assert_eq!(tracks.len(), 2);
        assert_eq!(
            (
                tracks[0].id,
                tracks[0].codec,
                tracks[0].timescale,
                tracks[0].frame_rate
            ),
            (1, Codec::H264, 90_000, Some((30, 1)))
        );
        let CodecConfig::H264 {
            sps,
            pps,
            width,
            height,
        } = &tracks[0].config
        else {
            panic!("video config {:?}", tracks[0].config)
        };
        assert_eq!((sps.len(), pps.len(), *width, *height), (1, 1, 640, 360));
        assert_eq!(sps[0][1], 77, "Main profile");
        assert_eq!(h264::sps_dimensions(&sps[0]), Ok((640, 360)));
        assert_eq!(
            (
                tracks[1].id,
                tracks[1].codec,
                tracks[1].timescale,
                tracks[1].frame_rate
            ),
            (2, Codec::Aac, 48_000, None)
        );
        // AAC-LC (2), 48 kHz (index 3), stereo: 00010 0011 0010 000 + GASpecificConfig.
        let expected = CodecConfig::Aac {
            asc: vec![0x11, 0x90, 0x56, 0xe5, 0x00],
            sample_rate: 48_000,
            channels: 2,
        };
        assert_eq!(tracks[1].config, expected);
    }

    #[test]
    fn first_pass_is_canonical_with_exact_timestamps() {
        let source = fixture();
        let video = video(&source);
        assert_eq!(video.len(), 300);
        let keys: Vec<usize> = (0..300).filter(|&i| video[i].keyframe).collect();
        assert_eq!(keys, vec![0, 60, 120, 180, 240]);
        let mut pts: Vec<i64> = video.iter().map(|u| u.pts).collect();
        pts.sort_unstable();
        assert_eq!(pts, (0..300).map(|i| i * 3000).collect::<Vec<_>>());
        for unit in &video {
            assert_eq!(unit.duration, 3000);
            assert!(unit.dts <= unit.pts);
            assert_eq!(unit.data.get(..4), Some(&h264::START_CODE[..]));
            let types: Vec<u8> = h264::split_annex_b(&unit.data)
                .iter()
                .filter_map(|n| h264::nal_type(n))
                .collect();
            assert!(
                !types
                    .iter()
                    .any(|t| matches!(*t, h264::NAL_SPS | h264::NAL_PPS | h264::NAL_AUD)),
                "{types:?}"
            );
            assert_eq!(
                types.iter().filter(|t| matches!(**t, 1 | 5)).count(),
                1,
                "one slice per picture"
            );
            assert_eq!(
                unit.capture_time,
                Duration::from_secs(1) + ticks_to_duration(unit.pts, 90_000)
            );
        }
        let audio: Vec<&AccessUnit> = source
            .access_units()
            .iter()
            .filter(|u| u.track == 2)
            .collect();
        assert_eq!(audio.len(), 470);
        // Every AAC frame lasts 1024 samples, except that the file trims the
        // last one to end the track at exactly 10 s after the 1024 priming samples.
        let durations: Vec<u32> = audio.iter().map(|u| u.duration).collect();
        assert_eq!(durations, [vec![1024; 469], vec![768]].concat());
        assert!(audio.iter().all(|u| u.keyframe && u.data.len() > 4));
        assert_eq!(
            audio.iter().map(|u| u.pts).collect::<Vec<_>>(),
            (0..470).map(|i| i * 1024 - 1024).collect::<Vec<_>>()
        );
    }

    #[test]
    fn pacing_releases_nothing_early_and_in_order() {
        let mut source = fixture();
        assert_eq!(source.next_release(), Some(Duration::from_secs(1)));
        assert_eq!(source.poll_next(Duration::from_millis(999)), None);
        let mut now = Duration::from_secs(1);
        let mut last_dts = [i64::MIN; 2];
        let mut last_release = Duration::ZERO;
        let mut seen = 0;
        while now < Duration::from_secs(4) {
            while let Some(next) = source.next_release().filter(|&r| r <= now) {
                let unit = source.poll_next(now).expect("a released unit comes out");
                assert!(next >= last_release, "release order");
                assert!(unit.capture_time <= next, "released after capture");
                let lane = usize::try_from(unit.track - 1).unwrap();
                assert!(unit.dts > last_dts[lane], "decode order per track");
                last_dts[lane] = unit.dts;
                last_release = next;
                seen += 1;
            }
            assert!(source.next_release().is_some_and(|r| r > now));
            assert_eq!(source.poll_next(now), None);
            now += Duration::from_millis(7);
        }
        // About 3 s of 30 fps video (90) and 46.875 AAC frames/s (141), less
        // the frames held back by B-frame reordering.
        assert!((225..=235).contains(&seen), "{seen}");
    }

    #[test]
    fn looping_keeps_timestamps_and_capture_times_continuous() {
        let mut source = fixture();
        // The audio track is the longer one: 1024 priming samples + 10 s.
        assert_eq!(source.period(), Duration::from_nanos(10_021_333_333));
        let mut units = Vec::new();
        let end = Duration::from_secs(32);
        while let Some(unit) = source.poll_next(end) {
            units.push(unit);
        }
        for track in [1u32, 2] {
            let mut mine: Vec<&AccessUnit> = units.iter().filter(|u| u.track == track).collect();
            mine.sort_by_key(|u| u.pts);
            assert!(mine.len() > 3 * if track == 1 { 300 } else { 470 });
            for pair in mine.windows(2) {
                assert_eq!(
                    pair[0].pts + i64::from(pair[0].duration),
                    pair[1].pts,
                    "track {track} contiguous"
                );
                assert!(pair[0].capture_time < pair[1].capture_time);
            }
        }
        let second_loop_idr = units
            .iter()
            .filter(|u| u.track == 1 && u.keyframe)
            .nth(5)
            .expect("six IDRs");
        assert_eq!(second_loop_idr.pts, 901_920);
        assert_eq!(
            second_loop_idr.capture_time,
            Duration::from_secs(1) + Duration::from_nanos(10_021_333_333)
        );
        let video_loop_end = units
            .iter()
            .find(|u| u.track == 1 && u.pts == 299 * 3000)
            .expect("last picture");
        assert_eq!(
            video_loop_end.duration,
            3000 + 1920,
            "stretched over the loop gap"
        );
    }

    fn open_fixture(name: &str) -> FileSource {
        let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        FileSource::open(path, Duration::ZERO).expect("fixture opens")
    }

    #[test]
    fn abr_renditions_share_idr_times() {
        for (name, size) in [("abr-400k.mp4", (426, 240)), ("abr-1600k.mp4", (960, 540))] {
            let source = open_fixture(name);
            let CodecConfig::H264 { width, height, .. } = source.tracks()[0].config else {
                panic!("{name}: not H.264")
            };
            assert_eq!((width, height), size, "{name}");
            let idrs: Vec<i64> = source
                .access_units()
                .iter()
                .filter(|u| u.track == 1 && u.keyframe)
                .map(|u| u.pts)
                .collect();
            assert_eq!(idrs, vec![0, 180_000, 360_000, 540_000, 720_000], "{name}");
        }
    }

    #[test]
    fn h265_in_mp4_and_h264_adts_in_ts() {
        let hevc = open_fixture("small-h265.mp4");
        let CodecConfig::H265 {
            vps,
            sps,
            pps,
            width,
            height,
        } = &hevc.tracks()[0].config
        else {
            panic!("not H.265")
        };
        assert_eq!(
            (vps.len(), sps.len(), pps.len(), *width, *height),
            (1, 1, 1, 160, 90)
        );
        let video: Vec<&AccessUnit> = hevc
            .access_units()
            .iter()
            .filter(|u| u.track == 1)
            .collect();
        assert_eq!(video.len(), 30);
        assert_eq!(video.iter().filter(|u| u.keyframe).count(), 2);
        for unit in &video {
            let types: Vec<u8> = h264::split_annex_b(&unit.data)
                .iter()
                .filter_map(|n| h265_type(n))
                .collect();
            assert!(
                !types.is_empty() && types.iter().all(|t| !(32..=35).contains(t)),
                "{types:?}"
            );
        }
        let ts = open_fixture("small-h264.ts");
        let CodecConfig::H264 {
            sps,
            pps,
            width,
            height,
        } = &ts.tracks()[0].config
        else {
            panic!("not H.264")
        };
        assert_eq!((sps.len(), pps.len(), *width, *height), (1, 1, 160, 90));
        let CodecConfig::Aac {
            asc,
            sample_rate,
            channels,
        } = &ts.tracks()[1].config
        else {
            panic!("not AAC")
        };
        assert_eq!(
            (&asc[..2], *sample_rate, *channels),
            (&[0x11u8, 0x90][..], 48_000, 2)
        );
        let video: Vec<&AccessUnit> = ts.access_units().iter().filter(|u| u.track == 1).collect();
        assert_eq!(
            (video.len(), video.iter().filter(|u| u.keyframe).count()),
            (30, 2)
        );
        assert!(video.iter().all(|u| u.duration == 3000
            && !h264::split_annex_b(&u.data)
                .iter()
                .any(|n| h264::nal_type(n) == Some(h264::NAL_SPS))));
        let audio: Vec<&AccessUnit> = ts.access_units().iter().filter(|u| u.track == 2).collect();
        assert!(
            audio.len() >= 47
                && audio
                    .iter()
                    .all(|u| u.duration == 1024 && u.data.first() != Some(&0xff))
        );
    }

    #[test]
    fn not_media_is_an_error() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/README.md");
        let err = FileSource::open(path, Duration::ZERO).unwrap_err();
        assert!(
            matches!(
                err,
                FileSourceError::Demux { .. } | FileSourceError::NoStreams { .. }
            ),
            "{err}"
        );
    }

    #[test]
    fn missing_file_is_an_error() {
        let err = FileSource::open("/nonexistent/clip.mp4", Duration::ZERO).unwrap_err();
        assert!(matches!(err, FileSourceError::NotFound { .. }), "{err}");
        assert!(err.to_string().contains("/nonexistent/clip.mp4"));
    }

    #[test]
    fn helpers_never_panic_and_round() {
        assert_eq!(rescale(512, (1, 15360), 90_000), 3000);
        assert_eq!(rescale(-1024, (1, 48000), 48_000), -1024);
        assert_eq!(rescale(1, (1, 3), 2), 1);
        assert_eq!(rescale(-1, (1, 3), 2), -1);
        let mut asc = Vec::new();
        let adts = vec![0xff, 0xf1, 0x4c, 0x80, 0x01, 0x3f, 0xfc, 0xaa, 0xbb];
        assert_eq!(
            strip_adts(&adts, &mut asc),
            Ok((vec![vec![0xaa, 0xbb]], Some(48_000)))
        );
        assert_eq!(asc, vec![0x11, 0x90]);
        for len in 0..40usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 53 % 256) as u8).collect();
            let _ = parse_hvcc(&[&[1u8; 23][..], &data[..]].concat());
            let _ = strip_adts(&data, &mut Vec::new());
        }
    }

    #[test]
    fn packets_of_several_adts_frames_become_several_units() {
        let config = aac::AudioSpecificConfig::aac_lc(24_000, 1);
        let packet = [
            aac::raw_to_adts(&[1, 2], &config).unwrap(),
            aac::raw_to_adts(&[3], &config).unwrap(),
        ]
        .concat();
        let mut asc = vec![0x13, 0x08];
        let (frames, rate) = strip_adts(&packet, &mut asc).unwrap();
        assert_eq!(asc, vec![0x13, 0x08], "a known config is kept");
        assert_eq!((&frames, rate), (&vec![vec![1, 2], vec![3]], Some(24_000)));
        let first = AccessUnit {
            track: 2,
            pts: 100,
            dts: 100,
            duration: 4096,
            keyframe: true,
            data: Vec::new(),
            capture_time: Duration::ZERO,
        };
        // At twice the ADTS rate (implicit SBR), a frame lasts 2048 ticks.
        let units = split_frames(first.clone(), frames, rate, 48_000);
        let timing: Vec<(i64, i64, u32)> =
            units.iter().map(|u| (u.pts, u.dts, u.duration)).collect();
        assert_eq!(timing, [(100, 100, 2048), (2148, 2148, 2048)]);
        assert_eq!(units[1].data, [3]);
        let one = split_frames(first.clone(), vec![vec![7]], rate, 48_000);
        assert_eq!(
            (one[0].pts, one[0].duration),
            (100, 4096),
            "one frame keeps the packet timing"
        );
        // A packet cut inside its second frame is reported, not passed on.
        assert!(matches!(
            strip_adts(&packet[..packet.len() - 1], &mut Vec::new()),
            Err(AacError::Truncated { offset: 9, .. })
        ));
    }
}
