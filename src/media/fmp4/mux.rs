//! The fMP4 muxer: an init segment once, then one `moof` + `mdat` per call,
//! and [`segment_ranges`], which cuts a stream into segments at video
//! keyframes.
//!
//! Invariants: `mfhd` sequence numbers start at 1 and increase by one per
//! fragment; each `traf` has `default-base-is-moof`, a `tfdt` equal to its
//! first sample's dts, and one `trun` whose data offset points into the
//! `mdat` that follows. Within a fragment a sample's duration is the dts
//! step to the next sample of its track (so dts survive exactly); the last
//! sample of a track keeps [`AccessUnit::duration`].

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use mp4_atom::{Encode, Mfhd, Moof, Tfdt, Tfhd, Traf, Trun, TrunEntry, TrunSamples};

use super::init::build_init_segment;
use super::{encode_err, Fmp4Error, NON_SYNC_SAMPLE_FLAGS, SYNC_SAMPLE_FLAGS};
use crate::media::h264::annex_b_to_avcc;
use crate::media::{AccessUnit, Codec, Track};

/// Writes fragmented MP4 for a fixed set of tracks (sans-IO: bytes out).
#[derive(Clone, Debug)]
pub struct Fmp4Muxer {
    tracks: BTreeMap<u32, Track>,
    init: Vec<u8>,
    /// The `mfhd` sequence number of the next fragment.
    next_sequence: u32,
}

impl Fmp4Muxer {
    /// A muxer for `tracks` (H.264 and AAC); builds the init segment.
    pub fn new(tracks: &[Track]) -> Result<Self, Fmp4Error> {
        let init = build_init_segment(tracks)?;
        let tracks = tracks.iter().map(|t| (t.id, t.clone())).collect();
        Ok(Fmp4Muxer {
            tracks,
            init,
            next_sequence: 1,
        })
    }

    /// The init segment (`ftyp` + `moov`), identical for identical tracks.
    pub fn init_segment(&self) -> &[u8] {
        &self.init
    }

    /// The `mfhd` sequence number the next fragment gets.
    pub fn next_sequence(&self) -> u32 {
        self.next_sequence
    }

    /// One fragment (`moof` + `mdat`) holding `aus`, canonical access units
    /// in decode order per track (tracks may interleave). One `traf` per
    /// track, in track id order. No access units, no fragment: returns an
    /// empty buffer and keeps the sequence number.
    pub fn fragment(&mut self, aus: &[AccessUnit]) -> Result<Vec<u8>, Fmp4Error> {
        if aus.is_empty() {
            return Ok(Vec::new());
        }
        let mut by_track: BTreeMap<u32, Vec<&AccessUnit>> = BTreeMap::new();
        for au in aus {
            by_track.entry(au.track).or_default().push(au);
        }
        let mut trafs = Vec::with_capacity(by_track.len());
        let mut payload = Vec::new();
        let mut payload_offsets = Vec::with_capacity(by_track.len());
        for (id, units) in &by_track {
            let track = self
                .tracks
                .get(id)
                .ok_or(Fmp4Error::UnknownTrack { track: *id })?;
            payload_offsets.push(payload.len());
            trafs.push(build_traf(track, units, &mut payload)?);
        }
        let mut moof = Moof {
            mfhd: Mfhd {
                sequence_number: self.next_sequence,
            },
            traf: trafs,
        };
        // The data offsets count from the start of the moof, whose size does
        // not depend on their values: encode once to measure, then again.
        let moof_len = encoded_len(&moof)?;
        for (traf, offset) in moof.traf.iter_mut().zip(&payload_offsets) {
            let value = moof_len + 8 + offset;
            let value = i32::try_from(value).map_err(|_| Fmp4Error::OutOfRange {
                track: traf.tfhd.track_id,
                what: "data offset",
                value: value as i64,
            })?;
            for trun in &mut traf.trun {
                trun.data_offset = Some(value);
            }
        }
        let mdat_len = u32::try_from(payload.len() + 8).map_err(|_| Fmp4Error::OutOfRange {
            track: by_track.keys().next().copied().unwrap_or(0),
            what: "mdat size",
            value: payload.len() as i64,
        })?;
        let mut out = Vec::with_capacity(moof_len + payload.len() + 8);
        moof.encode(&mut out).map_err(encode_err("moof"))?;
        out.extend_from_slice(&mdat_len.to_be_bytes());
        out.extend_from_slice(b"mdat");
        out.extend_from_slice(&payload);
        self.next_sequence = self.next_sequence.wrapping_add(1);
        Ok(out)
    }
}

fn encoded_len(moof: &Moof) -> Result<usize, Fmp4Error> {
    let mut scratch = Vec::new();
    moof.encode(&mut scratch).map_err(encode_err("moof"))?;
    Ok(scratch.len())
}

/// The `traf` for one track's units; appends their sample data to `payload`.
fn build_traf(
    track: &Track,
    units: &[&AccessUnit],
    payload: &mut Vec<u8>,
) -> Result<Traf, Fmp4Error> {
    let id = track.id;
    let range = |what, value: i64| Fmp4Error::OutOfRange {
        track: id,
        what,
        value,
    };
    let first_dts = units.first().map_or(0, |au| au.dts);
    let base = u64::try_from(first_dts).map_err(|_| range("dts", first_dts))?;
    let with_cts = units.iter().any(|au| au.pts != au.dts);
    let mut entries = Vec::with_capacity(units.len());
    for (i, au) in units.iter().enumerate() {
        let duration = match units.get(i + 1) {
            Some(next) if next.dts < au.dts => {
                return Err(Fmp4Error::DtsOrder {
                    track: id,
                    previous: au.dts,
                    dts: next.dts,
                })
            }
            Some(next) => u32::try_from(next.dts - au.dts)
                .map_err(|_| range("sample duration", next.dts - au.dts))?,
            None => au.duration,
        };
        let start = payload.len();
        match track.codec {
            Codec::H264 | Codec::H265 => payload.extend_from_slice(&annex_b_to_avcc(&au.data)),
            Codec::Aac => payload.extend_from_slice(&au.data),
        }
        let size = payload.len() - start;
        let cts = au.pts - au.dts;
        let cts = if with_cts {
            Some(i64::from(
                i32::try_from(cts).map_err(|_| range("composition offset", cts))?,
            ))
        } else {
            None
        };
        let flags = if au.keyframe {
            SYNC_SAMPLE_FLAGS
        } else {
            NON_SYNC_SAMPLE_FLAGS
        };
        entries.push(TrunEntry {
            duration: Some(duration),
            size: Some(u32::try_from(size).map_err(|_| range("sample size", size as i64))?),
            flags: Some(flags),
            cts,
        });
    }
    let default_flags = compact_flags(&mut entries);
    Ok(Traf {
        tfhd: Tfhd {
            track_id: id,
            default_sample_flags: default_flags,
            default_base_is_moof: true,
            ..Default::default()
        },
        tfdt: Some(Tfdt {
            base_media_decode_time: base,
        }),
        trun: vec![Trun {
            data_offset: Some(0),
            samples: TrunSamples::Explicit(entries),
        }],
        ..Default::default()
    })
}

/// Moves sample flags into `tfhd` defaults where that is exact: all sync
/// (audio, intra-only video) → one default; only the first sync (a GOP per
/// fragment) → non-sync default plus `first_sample_flags`. Returns the
/// default for `tfhd`, or `None` to keep per-sample flags.
fn compact_flags(entries: &mut [TrunEntry]) -> Option<u32> {
    let sync = |e: &TrunEntry| e.flags == Some(SYNC_SAMPLE_FLAGS);
    if entries.iter().all(sync) {
        entries.iter_mut().for_each(|e| e.flags = None);
        return Some(SYNC_SAMPLE_FLAGS);
    }
    let (first, rest) = entries.split_first_mut()?;
    if sync(first) && !rest.is_empty() && !rest.iter().any(sync) {
        rest.iter_mut().for_each(|e| e.flags = None);
        return Some(NON_SYNC_SAMPLE_FLAGS);
    }
    None
}

/// Cuts `aus` (interleaved, in the order a source releases them) into
/// segments of at least `target` each: a segment starts at a keyframe of
/// the first video track once the current one spans `target` of that
/// track's decode time. Without video, the first track's units (all random
/// access points) anchor the cuts. Units before the first anchor keyframe
/// join the first segment. Returns index ranges covering `aus` in order.
pub fn segment_ranges(tracks: &[Track], aus: &[AccessUnit], target: Duration) -> Vec<Range<usize>> {
    let anchor = tracks
        .iter()
        .find(|t| t.codec.is_video())
        .or_else(|| tracks.first());
    let Some(anchor) = anchor else {
        // No tracks to anchor on: one segment of everything, if anything.
        return std::iter::once(0..aus.len())
            .filter(|r| !r.is_empty())
            .collect();
    };
    // Compare dts spans in integer nanoseconds × timescale, never floats.
    let target = i128::try_from(target.as_nanos())
        .unwrap_or(i128::MAX)
        .saturating_mul(i128::from(anchor.timescale));
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut start_dts: Option<i64> = None;
    for (i, au) in aus.iter().enumerate() {
        if au.track != anchor.id || !au.keyframe {
            continue;
        }
        match start_dts {
            None => start_dts = Some(au.dts),
            Some(dts0) if i128::from(au.dts - dts0) * 1_000_000_000 >= target => {
                if i > start {
                    ranges.push(start..i);
                }
                start = i;
                start_dts = Some(au.dts);
            }
            Some(_) => {}
        }
    }
    if start < aus.len() {
        ranges.push(start..aus.len());
    }
    ranges
}
