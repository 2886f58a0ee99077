//! The fMP4 demuxer: tracks from an init segment, canonical access units
//! from fragments.
//!
//! Sample values resolve in the order `trun` entry → `tfhd` default →
//! `trex` default. Data offsets count from `tfhd.base_data_offset` when
//! present (an offset into the buffer handed in), else from the start of the
//! `moof` for the first `traf` or with `default-base-is-moof`, else (ISO/IEC
//! 14496-12 §8.8.7) from the end of the previous `traf`'s data. A `trun`
//! without a data offset continues after the previous run; the first run of
//! a `traf` without one starts where the previous `traf`'s data ended when
//! its base is that implicit one, else at the body of the `mdat` that follows
//! the `moof`. A `traf` without `tfdt` continues where the track's previous
//! fragment ended.
//!
//! A segment cannot expand beyond its size: across all its fragments, it
//! yields at most one sample per byte of `mdat` body and copies at most as
//! many sample bytes as its `mdat`s hold, and no two samples share a byte
//! (a `trun` with a data offset could otherwise re-read the same bytes over
//! and over).
//!
//! Timestamps convert from the `mdhd` timescale to the track's canonical
//! one (90 kHz video, sample rate audio): exact when they agree (any file
//! this crate writes), otherwise rounded to the nearest tick, with each
//! duration the difference of rounded ends so units stay contiguous.

use std::collections::BTreeMap;

use mp4_atom::{Decode, Moof, Traf};

use super::init::{parse_init, TrackInfo};
use super::{decode_err, top_level_boxes, BoxSpan, Fmp4Error, NON_SYNC_BIT};
use crate::media::h264::avcc_to_annex_b;
use crate::media::rescale;
use crate::media::{AccessUnit, Track};

/// Reads fragments of one presentation (sans-IO: bytes in, units out).
#[derive(Clone, Debug)]
pub struct Fmp4Demuxer {
    tracks: BTreeMap<u32, TrackInfo>,
    /// Per track, the dts where the last fragment ended, in the track's
    /// `mdhd` timescale (before conversion to the canonical one).
    next_dts: BTreeMap<u32, i64>,
}

impl Fmp4Demuxer {
    /// A demuxer for the presentation whose init segment is `init`.
    pub fn new(init: &[u8]) -> Result<Self, Fmp4Error> {
        Ok(Fmp4Demuxer {
            tracks: parse_init(init)?,
            next_dts: BTreeMap::new(),
        })
    }

    /// The H.264 and AAC tracks of the presentation, in track id order.
    pub fn tracks(&self) -> Vec<Track> {
        self.tracks
            .values()
            .map(|info| info.track.clone())
            .collect()
    }

    /// The access units of every `moof` + `mdat` in `data`, fragment by
    /// fragment, each fragment track by track in `traf` order, decode order
    /// within a track. Other top-level boxes (`styp`, `sidx`, `ftyp`,
    /// `moov`, `free`) are skipped.
    pub fn handle_segment(&mut self, data: &[u8]) -> Result<Vec<AccessUnit>, Fmp4Error> {
        let spans = top_level_boxes(data)?;
        let mdat_bytes = spans
            .iter()
            .filter(|s| &s.kind == b"mdat")
            .map(|s| (s.end - s.body) as u64)
            .sum();
        let mut budget = Budget {
            samples: mdat_bytes,
            bytes: mdat_bytes,
            read: BTreeMap::new(),
        };
        let mut out = Vec::new();
        for (i, span) in spans.iter().enumerate() {
            if &span.kind != b"moof" {
                continue;
            }
            let moof =
                Moof::decode(&mut &data[span.start..span.end]).map_err(decode_err("moof"))?;
            // The mdat that follows the moof (not necessarily adjacent).
            let mdat = spans[i + 1..].iter().find(|s| &s.kind == b"mdat");
            // Where the previous traf's data ended: the implicit base of
            // the next traf.
            let mut data_end = None;
            for traf in &moof.traf {
                let at = Placement {
                    moof: span,
                    mdat,
                    previous_end: data_end,
                };
                data_end = Some(self.read_traf(traf, data, at, &mut budget, &mut out)?);
            }
        }
        Ok(out)
    }

    /// Appends the samples of one `traf` to `out`; returns where its data
    /// ends (its base when it has no runs), the implicit base of the next
    /// `traf`.
    fn read_traf(
        &mut self,
        traf: &Traf,
        data: &[u8],
        at: Placement<'_>,
        budget: &mut Budget,
        out: &mut Vec<AccessUnit>,
    ) -> Result<u64, Fmp4Error> {
        let id = traf.tfhd.track_id;
        let info = self
            .tracks
            .get(&id)
            .ok_or(Fmp4Error::UnknownTrack { track: id })?;
        let tfhd = &traf.tfhd;
        let default_duration = tfhd
            .default_sample_duration
            .unwrap_or(info.trex.default_sample_duration);
        let default_size = tfhd
            .default_sample_size
            .unwrap_or(info.trex.default_sample_size);
        let default_flags = tfhd
            .default_sample_flags
            .unwrap_or(info.trex.default_sample_flags);
        let mut dts = match &traf.tfdt {
            Some(tfdt) => {
                i64::try_from(tfdt.base_media_decode_time).map_err(|_| Fmp4Error::OutOfRange {
                    track: id,
                    what: "tfdt",
                    value: i64::MAX,
                })?
            }
            None => self.next_dts.get(&id).copied().unwrap_or(0),
        };
        // The base of the first traf is the moof; a later one without
        // default-base-is-moof continues after the previous traf's data.
        let chained = match (tfhd.base_data_offset, tfhd.default_base_is_moof) {
            (None, false) => at.previous_end,
            _ => None,
        };
        let base = tfhd
            .base_data_offset
            .or(chained)
            .unwrap_or(at.moof.start as u64);
        let mut pos: Option<u64> = None;
        for trun in &traf.trun {
            if trun.samples.len() > data.len() {
                let value = trun.samples.len() as i64;
                return Err(Fmp4Error::OutOfRange {
                    track: id,
                    what: "trun sample count",
                    value,
                });
            }
            budget.take_samples(id, trun.samples.len())?;
            pos = match (trun.data_offset, pos) {
                (Some(offset), _) => Some(
                    base.checked_add_signed(i64::from(offset))
                        .unwrap_or(u64::MAX),
                ),
                (None, Some(pos)) => Some(pos),
                (None, None) => {
                    Some(chained.unwrap_or_else(|| at.mdat.map_or(u64::MAX, |m| m.body as u64)))
                }
            };
            for entry in trun.samples.iter() {
                let size = entry.size.unwrap_or(default_size);
                let duration = entry.duration.unwrap_or(default_duration);
                let flags = entry.flags.unwrap_or(default_flags);
                let offset = pos.unwrap_or(u64::MAX);
                let sample =
                    sample_bytes(data, offset, size).ok_or(Fmp4Error::SampleOutOfRange {
                        track: id,
                        offset,
                        size,
                        available: data.len(),
                    })?;
                budget.take_bytes(id, offset, size)?;
                pos = Some(offset + u64::from(size));
                let data = if info.nal_length_size == 0 {
                    sample.to_vec()
                } else {
                    avcc_to_annex_b(sample, info.nal_length_size)
                        .map_err(|source| Fmp4Error::H264 { track: id, source })?
                };
                let (from, to) = (info.media_timescale, info.track.timescale);
                let end = dts.saturating_add(i64::from(duration));
                let (au_dts, au_end) = (rescale(dts, from, to), rescale(end, from, to));
                let pts = rescale(dts.saturating_add(entry.cts.unwrap_or(0)), from, to);
                out.push(AccessUnit {
                    track: id,
                    pts,
                    dts: au_dts,
                    duration: u32::try_from(au_end - au_dts).unwrap_or(u32::MAX),
                    keyframe: flags & NON_SYNC_BIT == 0,
                    data,
                    capture_time: crate::media::ticks_to_duration(pts, to),
                });
                dts = end;
            }
        }
        self.next_dts.insert(id, dts);
        Ok(pos.unwrap_or(base))
    }
}

/// Where a `traf`'s data may lie.
#[derive(Clone, Copy)]
struct Placement<'a> {
    /// The `moof` that holds the `traf`.
    moof: &'a BoxSpan,
    /// The first `mdat` after that `moof`.
    mdat: Option<&'a BoxSpan>,
    /// Where the previous `traf` of the same `moof` ended its data.
    previous_end: Option<u64>,
}

/// What the rest of a segment may still take, so that `trun`s cannot make
/// a small segment yield more units or bytes than it holds.
struct Budget {
    /// Samples still allowed: one per byte of `mdat` body in the segment.
    samples: u64,
    /// Sample bytes still allowed to be copied.
    bytes: u64,
    /// Byte ranges already read (start → end, offsets into the segment).
    read: BTreeMap<u64, u64>,
}

impl Budget {
    /// Takes `count` samples; checked before a `trun` is walked, so a
    /// count-only run never iterates past the budget.
    fn take_samples(&mut self, track: u32, count: usize) -> Result<(), Fmp4Error> {
        let count = count as u64;
        if count > self.samples {
            return Err(Fmp4Error::OutOfRange {
                track,
                what: "segment sample count (one per mdat byte at most)",
                value: i64::try_from(count).unwrap_or(i64::MAX),
            });
        }
        self.samples -= count;
        Ok(())
    }

    /// Takes the `size` bytes at `offset` (already known to lie in the
    /// buffer): an error if they exceed the byte budget or overlap a range
    /// already read.
    fn take_bytes(&mut self, track: u32, offset: u64, size: u32) -> Result<(), Fmp4Error> {
        if size == 0 {
            return Ok(());
        }
        let size64 = u64::from(size);
        let end = offset + size64;
        // The range starting last before `end` is the only one that can
        // overlap, since stored ranges never overlap each other.
        if let Some((&start, &previous_end)) = self.read.range(..end).next_back() {
            if previous_end > offset {
                return Err(Fmp4Error::SampleOverlap {
                    track,
                    offset,
                    size,
                    previous: start..previous_end,
                });
            }
        }
        if size64 > self.bytes {
            return Err(Fmp4Error::OutOfRange {
                track,
                what: "segment sample bytes (the mdat size at most)",
                value: i64::from(size),
            });
        }
        self.read.insert(offset, end);
        self.bytes -= size64;
        Ok(())
    }
}

fn sample_bytes(data: &[u8], offset: u64, size: u32) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    data.get(start..start.checked_add(usize::try_from(size).ok()?)?)
}

/// Demuxes a whole fMP4 file: the init segment and every fragment in one
/// buffer. Returns the tracks and all access units (see
/// [`Fmp4Demuxer::handle_segment`] for their order).
pub fn demux(data: &[u8]) -> Result<(Vec<Track>, Vec<AccessUnit>), Fmp4Error> {
    let mut demuxer = Fmp4Demuxer::new(data)?;
    let aus = demuxer.handle_segment(data)?;
    Ok((demuxer.tracks(), aus))
}
