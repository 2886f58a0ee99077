//! The frame buffer of the presentation track: one slot per known frame in
//! decode (dts) order, a presentation queue ordered by media time, the
//! decode chain, and a bounded memory of frames already resolved.
//!
//! Invariants:
//! * `slots` holds at most [`FRAME_CAP`] entries; `history` at most
//!   [`HISTORY_CAP`] (the smallest dts is forgotten first).
//! * `queue` holds exactly the `(media, dts)` of the [`Slot::Arrived`] and
//!   [`Slot::Missing`] slots; a [`Slot::Gone`] slot is resolved already and
//!   only waits for the decoder to pass it (it breaks the chain).
//! * Every slot's dts is above `decoder` except arrived frames decoded ahead
//!   of their presentation (B-frames), which leave when presented.
//! * No arithmetic here can overflow: timestamps are widened to `i128` and
//!   times saturate.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::media::AccessUnit;

/// The most frames (arrived, missing or resolved-but-undecoded) held.
pub const FRAME_CAP: usize = 10_000;
/// How many resolved frames are remembered to recognise duplicates and
/// late arrivals of frames already booked lost.
pub const HISTORY_CAP: usize = 10_000;

/// How a frame ended up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    Presented,
    Undecodable,
    Lost,
    Late,
}

/// A frame that arrived and waits for its presentation time.
#[derive(Debug)]
pub(super) struct Frame {
    pub pts: i64,
    /// Capture time: where the frame sits on the media timeline.
    pub media: Duration,
    pub bytes: usize,
    pub keyframe: bool,
    /// The unit itself, kept only when the player keeps presented frames.
    pub unit: Option<AccessUnit>,
    /// Whether the decoder produced a picture (`None` until it reaches it).
    pub decoded: Option<bool>,
    /// A discontinuity or an unplaceable damaged unit precedes this frame.
    pub after_break: bool,
}

#[derive(Debug)]
pub(super) enum Slot {
    Arrived(Frame),
    /// Revealed by a gap (or a damaged unit); pts and media are estimates.
    Missing {
        pts: i64,
        media: Duration,
    },
    /// Booked lost or late; breaks the decode chain when the decoder passes.
    Gone {
        outcome: Outcome,
    },
}

/// What an arriving dts means, before timing is considered.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Known {
    /// Already arrived, presented or booked late: ignore it.
    Duplicate,
    /// Booked lost earlier; it arrives now, so it becomes late.
    WasLost,
    /// The decoder is past it and it was never known: late.
    Passed,
    /// Older than anything remembered: cannot be classified.
    Stale,
    /// Fills the missing slot at this dts.
    Fills(i64),
    /// A new frame.
    New,
}

/// Missing frames a new frame reveals.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Gap {
    None,
    /// `(dts, estimated pts, estimated media time)` of each missing frame.
    Missing(Vec<(i64, i64, Duration)>),
    /// More missing frames than the buffer has room for: a timestamp jump.
    Discontinuity,
}

/// Slots, presentation queue, decode chain and history (see module docs).
#[derive(Debug, Default)]
pub(super) struct Buffer {
    slots: BTreeMap<i64, Slot>,
    queue: BTreeSet<(Duration, i64)>,
    history: BTreeMap<i64, Outcome>,
    /// How many slots are [`Slot::Arrived`].
    arrived: usize,
    /// The last dts the decoder processed or skipped.
    decoder: Option<i64>,
    /// Whether the last frame the decoder reached decoded.
    chain_ok: bool,
    /// The highest dts known, and the media time of the latest frame known.
    pub max_dts: Option<i64>,
    pub max_media: Option<Duration>,
    /// pts − dts of the latest keyframe: the reordering delay, in ticks.
    pub delay: i64,
}

/// `media` moved by `ticks` of a `timescale` clock, saturating at 0 and
/// at `Duration::MAX`.
pub(super) fn shift(media: Duration, ticks: i128, timescale: u32) -> Duration {
    let nanos = ticks.saturating_mul(1_000_000_000) / i128::from(timescale.max(1));
    let magnitude = u64::try_from(nanos.unsigned_abs()).unwrap_or(u64::MAX);
    if nanos < 0 {
        media.saturating_sub(Duration::from_nanos(magnitude))
    } else {
        media.saturating_add(Duration::from_nanos(magnitude))
    }
}

impl Buffer {
    /// How many slots are held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// The earliest entry of the presentation queue: `(media, dts)`.
    pub fn first(&self) -> Option<(Duration, i64)> {
        self.queue.first().copied()
    }

    /// Whether any arrived frame waits in the queue.
    pub fn has_arrived(&self) -> bool {
        self.arrived > 0
    }

    /// The slot at `dts`.
    pub fn slot(&self, dts: i64) -> Option<&Slot> {
        self.slots.get(&dts)
    }

    /// Classifies an arriving `dts`; `tolerance` (ticks) matches a missing
    /// slot whose estimated dts is off the true one.
    pub fn known(&self, dts: i64, tolerance: i64) -> Known {
        match self.slots.get(&dts) {
            Some(Slot::Arrived(_))
            | Some(Slot::Gone {
                outcome: Outcome::Late,
            }) => return Known::Duplicate,
            Some(Slot::Gone { .. }) => return Known::WasLost,
            Some(Slot::Missing { .. }) => return Known::Fills(dts),
            None => {}
        }
        if self.decoder.is_some_and(|d| dts <= d) {
            return match self.history.get(&dts) {
                Some(Outcome::Lost) => Known::WasLost,
                Some(_) => Known::Duplicate,
                None if self.history.len() >= HISTORY_CAP
                    && self
                        .history
                        .first_key_value()
                        .is_some_and(|(&k, _)| dts < k) =>
                {
                    Known::Stale
                }
                None => Known::Passed,
            };
        }
        if self.max_dts.is_some_and(|m| dts < m) {
            let tolerance = tolerance.max(0);
            let lo = dts.saturating_sub(tolerance);
            let hi = dts.saturating_add(tolerance);
            let near = self
                .slots
                .range(lo..=hi)
                .find_map(|(&k, s)| matches!(s, Slot::Missing { .. }).then_some(k));
            if let Some(k) = near {
                return Known::Fills(k);
            }
        }
        Known::New
    }

    /// The missing frames between the highest known dts and `dts` (a new
    /// frame above it), for a `cadence` of ticks; estimates place each
    /// missing frame `delay` ticks after its dts on `media`'s timeline.
    pub fn gap(&self, dts: i64, pts: i64, media: Duration, cadence: i64, scale: u32) -> Gap {
        let Some(prev) = self.max_dts else {
            return Gap::None;
        };
        if cadence <= 0 || dts <= prev {
            return Gap::None;
        }
        let span = i128::from(dts) - i128::from(prev);
        let cadence = i128::from(cadence);
        // A frame is missing only when a whole one fits the gap (with a
        // quarter cadence of slack for rounded timestamps): a looped clip
        // whose audio outlasts its video leaves a gap of less than two
        // cadences at the loop, and no frame was lost there.
        let frames = (span + cadence / 4) / cadence;
        if frames < 2 {
            return Gap::None;
        }
        let missing = frames - 1;
        let room = FRAME_CAP.saturating_sub(self.slots.len() + 1);
        if missing > room as i128 {
            return Gap::Discontinuity;
        }
        let list = (1..frames)
            .map(|k| {
                let at = i128::from(prev) + span * k / frames;
                let at = i64::try_from(at).unwrap_or(dts);
                let est_pts = at.saturating_add(self.delay);
                let est = shift(media, i128::from(est_pts) - i128::from(pts), scale);
                (at, est_pts, est)
            })
            .collect();
        Gap::Missing(list)
    }

    /// Notes a known dts and media time (arrived or revealed).
    fn note(&mut self, dts: i64, media: Duration) {
        if self.max_dts.is_none_or(|m| dts > m) {
            self.max_dts = Some(dts);
        }
        if self.max_media.is_none_or(|m| media > m) {
            self.max_media = Some(media);
        }
    }

    /// Inserts an arrived frame at `dts` (new or filling a missing slot at
    /// `slot`). Returns false, inserting nothing, when the buffer is full.
    pub fn insert(&mut self, slot: i64, dts: i64, frame: Frame) -> bool {
        let filling = matches!(self.slots.get(&slot), Some(Slot::Missing { .. }));
        if !filling && self.slots.len() >= FRAME_CAP {
            return false;
        }
        if filling {
            self.remove(slot);
        }
        if frame.keyframe {
            self.delay = frame.pts.saturating_sub(dts).clamp(0, i64::from(u32::MAX));
        }
        self.note(dts, frame.media);
        self.queue.insert((frame.media, dts));
        self.slots.insert(dts, Slot::Arrived(frame));
        self.arrived += 1;
        true
    }

    /// Adds a missing slot; false when full or the dts is taken.
    pub fn insert_missing(&mut self, dts: i64, pts: i64, media: Duration) -> bool {
        if self.slots.len() >= FRAME_CAP || self.slots.contains_key(&dts) {
            return false;
        }
        self.note(dts, media);
        self.queue.insert((media, dts));
        self.slots.insert(dts, Slot::Missing { pts, media });
        true
    }

    /// Marks `dts` resolved as `outcome` without a picture: a gone slot if
    /// the decoder has not reached it (false when full), else history.
    pub fn resolve(&mut self, dts: i64, outcome: Outcome, media: Duration) -> bool {
        if self.decoder.is_some_and(|d| dts <= d) {
            self.remove(dts);
            self.remember(dts, outcome);
            return true;
        }
        if !self.slots.contains_key(&dts) && self.slots.len() >= FRAME_CAP {
            return false;
        }
        self.remove(dts);
        self.note(dts, media);
        self.slots.insert(dts, Slot::Gone { outcome });
        true
    }

    /// Removes the queue entry `(media, dts)` and the slot at `dts`.
    pub fn drop_entry(&mut self, media: Duration, dts: i64) {
        if self.queue.remove(&(media, dts)) {
            if let Some(Slot::Arrived(_)) = self.slots.remove(&dts) {
                self.arrived -= 1;
            }
        }
    }

    /// Removes a slot (and its queue entry), returning it.
    pub fn remove(&mut self, dts: i64) -> Option<Slot> {
        let slot = self.slots.remove(&dts)?;
        match &slot {
            Slot::Arrived(f) => {
                self.arrived -= 1;
                self.queue.remove(&(f.media, dts))
            }
            Slot::Missing { media, .. } => self.queue.remove(&(*media, dts)),
            Slot::Gone { .. } => false,
        };
        Some(slot)
    }

    /// Records how a passed frame ended, forgetting the oldest beyond the cap.
    pub fn remember(&mut self, dts: i64, outcome: Outcome) {
        self.history.insert(dts, outcome);
        while self.history.len() > HISTORY_CAP {
            self.history.pop_first();
        }
    }

    /// Runs the decoder through `dts` in decode order. Missing slots it
    /// passes can no longer be decoded: they are removed and returned as
    /// `(dts, estimated pts)` for the caller to book lost.
    pub fn decode_through(&mut self, dts: i64) -> Vec<(i64, i64)> {
        if self.decoder.is_some_and(|d| dts <= d) {
            return Vec::new();
        }
        let start = self.decoder.map_or(i64::MIN, |d| d.saturating_add(1));
        let keys: Vec<i64> = self.slots.range(start..=dts).map(|(&k, _)| k).collect();
        let mut passed = Vec::new();
        for key in keys {
            match self.slots.get_mut(&key) {
                Some(Slot::Arrived(frame)) => {
                    let ok = frame.keyframe || (self.chain_ok && !frame.after_break);
                    frame.decoded = Some(ok);
                    self.chain_ok = ok;
                }
                Some(Slot::Missing { pts, .. }) => {
                    passed.push((key, *pts));
                    self.remove(key);
                    self.remember(key, Outcome::Lost);
                    self.chain_ok = false;
                }
                Some(Slot::Gone { outcome }) => {
                    let outcome = *outcome;
                    self.slots.remove(&key);
                    self.remember(key, outcome);
                    self.chain_ok = false;
                }
                None => {}
            }
        }
        self.decoder = Some(dts);
        passed
    }

    /// The contiguous run starting at the first arrived frame in the
    /// queue: its first media time and where it ends; `None` when nothing
    /// arrived. Consecutive entries belong to one run when the next starts
    /// within half a `cadence` of where the previous ends; missing slots
    /// inside the run count (playback skips them), missing slots before it
    /// do not (a hole at the playhead is jumped).
    pub fn run(&self, cadence: Duration) -> Option<(Duration, Duration)> {
        let arrived = |dts: &i64| matches!(self.slots.get(dts), Some(Slot::Arrived(_)));
        let mut entries = self
            .queue
            .iter()
            .skip_while(|(_, dts)| !arrived(dts))
            .map(|&(m, _)| m);
        let first = entries.next()?;
        let mut end = first.saturating_add(cadence);
        for media in entries {
            if media > end.saturating_add(cadence / 2) {
                break;
            }
            end = end.max(media.saturating_add(cadence));
        }
        Some((first, end))
    }
}
