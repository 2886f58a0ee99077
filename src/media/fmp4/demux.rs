//! The fMP4 demuxer: tracks from an init segment, canonical access units
//! from fragments.
//!
//! Sample values resolve in the order `trun` entry → `tfhd` default →
//! `trex` default. Data offsets count from `tfhd.base_data_offset` when
//! present (an offset into the buffer handed in), else from the start of the
//! `moof`; a `trun` without one continues after the previous run, or starts
//! at the body of the `mdat` that follows the `moof`. A `traf` without
//! `tfdt` continues where the track's previous fragment ended.
//!
//! Timestamps convert from the `mdhd` timescale to the track's canonical
//! one (90 kHz video, sample rate audio): exact when they agree (any file
//! this crate writes), otherwise rounded to the nearest tick, with each
//! duration the difference of rounded ends so units stay contiguous.

use std::collections::BTreeMap;
use std::time::Duration;

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
    /// Per track, the dts where the last fragment ended (track timescale).
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
        let mut out = Vec::new();
        for (i, span) in spans.iter().enumerate() {
            if &span.kind != b"moof" {
                continue;
            }
            let moof =
                Moof::decode(&mut &data[span.start..span.end]).map_err(decode_err("moof"))?;
            // The mdat that follows the moof (not necessarily adjacent).
            let mdat = spans[i + 1..].iter().find(|s| &s.kind == b"mdat");
            for traf in &moof.traf {
                self.read_traf(traf, data, span, mdat, &mut out)?;
            }
        }
        Ok(out)
    }

    fn read_traf(
        &mut self,
        traf: &Traf,
        data: &[u8],
        moof: &BoxSpan,
        mdat: Option<&BoxSpan>,
        out: &mut Vec<AccessUnit>,
    ) -> Result<(), Fmp4Error> {
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
        let base = tfhd.base_data_offset.unwrap_or(moof.start as u64);
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
            pos = match (trun.data_offset, pos) {
                (Some(offset), _) => Some(
                    base.checked_add_signed(i64::from(offset))
                        .unwrap_or(u64::MAX),
                ),
                (None, Some(pos)) => Some(pos),
                (None, None) => Some(mdat.map_or(u64::MAX, |m| m.body as u64)),
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
                    capture_time: capture_time_of(pts, to),
                });
                dts = end;
            }
        }
        self.next_dts.insert(id, dts);
        Ok(())
    }
}

fn sample_bytes(data: &[u8], offset: u64, size: u32) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    data.get(start..start.checked_add(usize::try_from(size).ok()?)?)
}

/// The capture time a demuxed unit gets: its pts as time since zero
/// (negative pts clamp to zero), since containers do not carry capture
/// times.
pub(crate) fn capture_time_of(pts: i64, timescale: u32) -> Duration {
    if pts <= 0 || timescale == 0 {
        return Duration::ZERO;
    }
    let nanos = pts as u128 * 1_000_000_000 / u128::from(timescale);
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// Demuxes a whole fMP4 file: the init segment and every fragment in one
/// buffer. Returns the tracks and all access units (see
/// [`Fmp4Demuxer::handle_segment`] for their order).
pub fn demux(data: &[u8]) -> Result<(Vec<Track>, Vec<AccessUnit>), Fmp4Error> {
    let mut demuxer = Fmp4Demuxer::new(data)?;
    let aus = demuxer.handle_segment(data)?;
    Ok((demuxer.tracks(), aus))
}
