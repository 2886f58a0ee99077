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
//!
//! `demux` turns the file into tracks and canonical units; `hevc` holds the
//! H.265 specifics (hvcC record, canonical form).

mod demux;
mod hevc;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::media::ticks_to_duration;
use crate::media::{AccessUnit, Source, Track};
use demux::demux;

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

/// Rescales `ts` from a `(num, den)` time base (seconds per tick) to
/// `timescale` ticks per second, to the nearest tick.
fn rescale(ts: i64, (num, den): (i64, i64), timescale: u32) -> i64 {
    let den = u32::try_from(den.max(1)).unwrap_or(u32::MAX);
    crate::media::rescale(ts.saturating_mul(num), den, timescale)
}
