//! [`FileSource`]: a media file demuxed with FFmpeg (no decoding), its H.264,
//! H.265 and AAC streams converted to the canonical form, and played as a
//! live [`Source`] that loops the clip forever.
//!
//! Invariants: the whole clip is read once at [`FileSource::open`]; every
//! access unit is canonical (see [`crate::media`]); timestamps are in the
//! track's timescale (90 kHz video, the sample rate for audio), converted
//! from the container's time base exactly when it divides, rounded to the
//! nearest tick otherwise; a packet whose timestamp lies beyond ±2^53 ticks
//! is an error, so timestamp arithmetic never overflows.
//!
//! Timestamps never start negative: every track is shifted by the same
//! amount of time so that the smallest dts across all tracks becomes 0
//! (files start with negative ones: AAC priming, B-frame decode times, which
//! MPEG-TS, FLV and an fMP4 base time cannot carry). The shift must be a
//! whole number of ticks in every track, so it is a multiple of the common
//! tick, 1 / gcd(timescales) s (1/6000 s for 90 kHz video and 48 kHz audio:
//! 15 video ticks, 8 audio ticks), the smallest one that makes every dts
//! non-negative. The smallest dts is then 0 exactly when it lies on the
//! common tick grid (as in any file whose tracks start on a frame boundary)
//! and less than one common tick otherwise. [`FileSource::access_units`] and
//! the paced source carry the same, shifted, timestamps.
//!
//! Capture times share one zero across tracks: the earliest first pts of
//! any track, as a time, so units presented at the same instant in
//! different tracks are captured at the same instant.
//!
//! Loop `k` adds `k` clip periods to every timestamp and capture time,
//! where the period is the longest track's span (first pts to last pts +
//! duration), so tracks stay in sync across loops; a shorter track's last
//! unit of each loop is stretched to cover the gap, so `pts + duration` of
//! one unit is the `pts` of the next in every track.
//!
//! `demux` turns the file into tracks and canonical units; `hevc` holds the
//! H.265 specifics (hvcC record, canonical form); `ffmpeg` initialises
//! FFmpeg once for the whole crate.

mod demux;
mod ffmpeg;
mod hevc;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::media::ticks_to_duration;
use crate::media::{AccessUnit, CaptureClock, Source, Track};
use demux::demux;
pub(crate) use ffmpeg::init as init_ffmpeg;

/// Video timescale: 90 kHz ticks per second.
const VIDEO_TIMESCALE: u32 = 90_000;

/// The largest timestamp magnitude a packet may have, in ticks of its
/// track: 2^53, beyond any real clip (over 3,000 years at 90 kHz) and far
/// enough from `i64::MAX` that shifting and looping cannot overflow.
const MAX_TIMESTAMP: u64 = 1 << 53;

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
    /// FFmpeg kept failing to read a packet: the file is corrupt.
    #[error("{path}: gave up after {count} consecutive unreadable packets")]
    Unreadable { path: PathBuf, count: usize },
}

/// One track of the clip, ready to loop.
#[derive(Clone, Debug)]
struct Lane {
    /// Units in decode order, timestamps of the first pass.
    units: Vec<AccessUnit>,
    /// Running maximum of pts in decode order: the pts a unit is released at.
    release_pts: Vec<i64>,
    /// Smallest pts of the track.
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
    /// The zero of capture times: the earliest first pts of any track, as
    /// (ticks, timescale).
    zero: (i64, u32),
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
    /// with the timestamps (shifted so that the smallest dts is 0, see the
    /// module docs) and capture times the live source gives them in the
    /// first loop.
    pub fn access_units(&self) -> &[AccessUnit] {
        &self.clip
    }

    /// The same clip as a source whose first capture is at `start` (no file
    /// is read again).
    pub fn restarted(&self, start: Duration) -> FileSource {
        FileSource::from_units(self.tracks.clone(), self.clip.clone(), start)
    }

    /// The capture time of pts `pts` in a `timescale` clock: the start plus
    /// the time from the zero of capture times to that pts (never before the
    /// start). A receiver that knows a unit's pts and timescale finds the
    /// time it was captured with it.
    pub fn capture_time_of(&self, pts: i64, timescale: u32) -> Duration {
        self.capture_clock().capture_time(pts, timescale)
    }

    /// The mapping from pts to capture time of this source.
    pub fn capture_clock(&self) -> CaptureClock {
        CaptureClock {
            start: self.start,
            zero: self.zero,
        }
    }

    /// How long one loop of the clip lasts.
    pub fn period(&self) -> Duration {
        ticks_to_duration(self.period.0, self.period.1)
    }

    fn from_units(tracks: Vec<Track>, mut units: Vec<AccessUnit>, start: Duration) -> FileSource {
        let shifts = dts_shifts(&tracks, &units);
        for unit in &mut units {
            if let Some(k) = tracks.iter().position(|t| t.id == unit.track) {
                unit.pts = unit.pts.saturating_add(shifts[k]);
                unit.dts = unit.dts.saturating_add(shifts[k]);
            }
        }
        let mut lanes = Vec::with_capacity(tracks.len());
        let mut period = (0i64, 1u32);
        let mut zero: Option<(i64, u32)> = None;
        for track in &tracks {
            let mut mine: Vec<AccessUnit> = units
                .iter()
                .filter(|u| u.track == track.id)
                .cloned()
                .collect();
            mine.sort_by_key(|u| u.dts);
            let lane = Lane::new(mine);
            let here = (lane.span, track.timescale);
            if before(period, here) {
                period = here;
            }
            let first = (lane.min_pts, track.timescale);
            if !lane.units.is_empty() && zero.is_none_or(|z| before(first, z)) {
                zero = Some(first);
            }
            lanes.push(lane);
        }
        let mut source = FileSource {
            tracks,
            lanes,
            clip: Vec::new(),
            start,
            period,
            zero: zero.unwrap_or((0, 1)),
        };
        for unit in &mut units {
            if let Some(k) = source.tracks.iter().position(|t| t.id == unit.track) {
                unit.capture_time = source.capture_time(k, unit.pts);
            }
        }
        source.clip = units;
        source
    }

    /// The capture time of pts `pts` of track `t`: the start plus the time
    /// from the zero of capture times to that pts, rounded down to the
    /// nanosecond (never before the start).
    fn capture_time(&self, t: usize, pts: i64) -> Duration {
        // pts / scale − zero / zero_scale seconds, over a common denominator;
        // at most 2^63 · 2^32 · 2^30 in magnitude, well within i128.
        self.capture_time_of(pts, self.tracks[t].timescale)
    }

    /// The pts offset of loop `k` for track `t`, in its timescale.
    fn loop_offset(&self, t: usize, k: u64) -> i64 {
        let (ticks, scale) = self.period;
        let num = i128::from(k)
            .saturating_mul(i128::from(ticks))
            .saturating_mul(i128::from(self.tracks[t].timescale));
        let den = i128::from(scale);
        i64::try_from((num + den / 2) / den).unwrap_or(i64::MAX)
    }

    /// The release time of the unit under track `t`'s cursor.
    fn release_of(&self, t: usize) -> Option<Duration> {
        let lane = &self.lanes[t];
        let (k, i) = lane.cursor;
        let pts = *lane.release_pts.get(i)?;
        Some(self.capture_time(t, pts.saturating_add(self.loop_offset(t, k))))
    }

    /// The track whose next unit is released first (ties: lowest track).
    fn next_lane(&self) -> Option<(usize, Duration)> {
        (0..self.lanes.len())
            .filter_map(|t| self.release_of(t).map(|r| (t, r)))
            .min_by_key(|&(t, r)| (r, t))
    }
}

/// Whether the time `a` (ticks, timescale) lies strictly before `b`.
fn before(a: (i64, u32), b: (i64, u32)) -> bool {
    i128::from(a.0) * i128::from(b.1) < i128::from(b.0) * i128::from(a.1)
}

/// The ticks to add to each track's timestamps (in the order of `tracks`)
/// so that the smallest dts across all tracks becomes 0: the same time for
/// every track, the smallest multiple of the common tick (1 / gcd of the
/// timescales, in seconds) that makes every dts non-negative, so that it is
/// a whole number of ticks in each track. Negative when the clip starts late.
fn dts_shifts(tracks: &[Track], units: &[AccessUnit]) -> Vec<i64> {
    let scale = |t: &Track| i128::from(t.timescale.max(1));
    let common = tracks.iter().fold(0, |g, t| gcd(g, scale(t))).max(1);
    // In common ticks: for each track, ceil(−min_dts · common / timescale).
    let shift = tracks
        .iter()
        .filter_map(|t| {
            let min = units
                .iter()
                .filter(|u| u.track == t.id)
                .map(|u| u.dts)
                .min()?;
            Some(-(i128::from(min) * common).div_euclid(scale(t)))
        })
        .max()
        .unwrap_or(0);
    tracks
        .iter()
        .map(|t| {
            let ticks = shift.saturating_mul(scale(t) / common);
            i64::try_from(ticks).unwrap_or(if ticks < 0 { i64::MIN } else { i64::MAX })
        })
        .collect()
}

/// Greatest common divisor (of non-negative numbers).
fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
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
        let end = |u: &AccessUnit| u.pts.saturating_add(i64::from(u.duration));
        let last = (0..units.len())
            .max_by_key(|&i| (end(&units[i]), i))
            .unwrap_or(0);
        let span = units
            .get(last)
            .map_or(0, |u| end(u).saturating_sub(min_pts))
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
        let lane = &self.lanes[t];
        let mut unit = lane.units[i].clone();
        if i == lane.last {
            // Cover the gap up to the next loop so timestamps stay contiguous.
            let gap = next_offset.saturating_sub(offset).saturating_sub(lane.span);
            unit.duration = u32::try_from(i64::from(unit.duration).saturating_add(gap.max(0)))
                .unwrap_or(u32::MAX);
        }
        unit.pts = unit.pts.saturating_add(offset);
        unit.dts = unit.dts.saturating_add(offset);
        unit.capture_time = self.capture_time(t, unit.pts);
        let lane = &mut self.lanes[t];
        lane.cursor = if i + 1 < lane.units.len() {
            (k, i + 1)
        } else {
            (k + 1, 0)
        };
        Some(unit)
    }
}

/// Rescales `ts` from a `(num, den)` time base (seconds per tick) to
/// `timescale` ticks per second, to the nearest tick.
fn rescale(ts: i64, (num, den): (i64, i64), timescale: u32) -> i64 {
    let den = u32::try_from(den.max(1)).unwrap_or(u32::MAX);
    crate::media::rescale(ts.saturating_mul(num), den, timescale)
}
