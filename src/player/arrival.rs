//! Arrivals of presentation-track units: the join, the cadence, gap
//! detection, duplicates, late arrivals (and frames booked lost arriving
//! after all), and damaged units.
//!
//! Invariants: an arriving frame is counted at most once (a frame booked
//! lost that arrives moves to late, never both); every frame that is not
//! buffered for playback leaves a mark that breaks the decode chain (a gone
//! slot, or `broken_next` when the buffer is full).

use std::time::Duration;

use super::buffer::{shift, Frame, Gap, Known, Outcome};
use super::PlayoutMode;
use super::{Player, RunKind, PENDING_CAP};
use crate::media::AccessUnit;

impl Player {
    /// A unit of the presentation track arrived at `now`.
    pub(super) fn arrive(&mut self, now: Duration, au: AccessUnit) {
        let joined = self.join.is_some();
        if !self.joins(now, &au) {
            self.stats.frames_before_start += 1;
            if !joined {
                self.hold_before_join(now, au);
            }
            return;
        }
        self.admit(now, now, au);
        if !joined && self.join.is_some() {
            self.admit_held(now);
        }
    }

    /// Holds a unit that arrived before the join, in case it follows the
    /// join keyframe in decode order (reordered around it); only the
    /// latest [`PENDING_CAP`] are held.
    fn hold_before_join(&mut self, now: Duration, au: AccessUnit) {
        if self.pending.len() >= PENDING_CAP {
            self.pending.pop_front();
        }
        self.pending.push_back((now, au));
    }

    /// Admits the held units that follow the join keyframe in decode
    /// order, judged by their own arrival times: they were counted before
    /// start, and now count as frames.
    fn admit_held(&mut self, now: Duration) {
        let Some((join_dts, _)) = self.join else {
            return;
        };
        let mut held: Vec<_> = std::mem::take(&mut self.pending).into_iter().collect();
        held.sort_by_key(|(_, au)| au.dts);
        for (arrived, au) in held.into_iter().filter(|(_, au)| au.dts > join_dts) {
            self.stats.frames_before_start -= 1;
            self.admit(now, arrived, au);
        }
    }

    /// A unit at or after the join keyframe in decode order, booked at
    /// `now`, arrived at `arrived`.
    fn admit(&mut self, now: Duration, arrived: Duration, au: AccessUnit) {
        self.observe_cadence(&au);
        let tolerance = self.cadence.unwrap_or(0) / 2;
        match self.buffer.known(au.dts, tolerance) {
            Known::Duplicate | Known::Stale => self.stats.units_ignored += 1,
            Known::WasLost => {
                self.stats.frames_lost = self.stats.frames_lost.saturating_sub(1);
                self.classify(RunKind::Late, now, au.pts, 1);
                self.buffer.resolve(au.dts, Outcome::Late, au.capture_time);
            }
            Known::Passed => {
                self.classify(RunKind::Late, now, au.pts, 1);
                self.buffer.remember(au.dts, Outcome::Late);
            }
            Known::Fills(slot) => self.place(now, arrived, slot, au),
            Known::New => {
                self.reveal(now, arrived, &au);
                self.place(now, arrived, au.dts, au);
            }
        }
    }

    /// Whether `au` is at or after the join keyframe, joining on it if the
    /// viewer has not joined yet and it is a keyframe in time.
    fn joins(&mut self, now: Duration, au: &AccessUnit) -> bool {
        if let Some((dts, _)) = self.join {
            return au.dts >= dts;
        }
        let late = self.due(au.capture_time).is_some_and(|due| due < now);
        if !au.keyframe || late {
            return false;
        }
        self.join = Some((au.dts, au.capture_time));
        if let PlayoutMode::LiveFromArrival { target_latency } = self.config.mode {
            let first_delay = now.saturating_sub(au.capture_time);
            self.config.mode = PlayoutMode::Live {
                target_latency: target_latency.saturating_add(first_delay),
            };
        }
        true
    }

    /// Updates the cadence from `au` (its duration, else the track's frame
    /// rate, else the smallest dts step seen).
    fn observe_cadence(&mut self, au: &AccessUnit) {
        let Some(video) = &self.video else { return };
        if au.duration > 0 {
            self.cadence = Some(i64::from(au.duration));
            return;
        }
        if let Some((num, den)) = video.frame_rate.filter(|&(n, d)| n > 0 && d > 0) {
            let ticks = (i128::from(video.timescale) * i128::from(den) + i128::from(num / 2))
                / i128::from(num);
            if ticks > 0 {
                self.cadence = Some(i64::try_from(ticks).unwrap_or(i64::MAX));
                return;
            }
        }
        let Some(max) = self.buffer.max_dts else {
            return;
        };
        if let Some(step) = au.dts.checked_sub(max).filter(|&s| s > 0) {
            let smallest = self.min_gap.map_or(step, |m| m.min(step));
            self.min_gap = Some(smallest);
            self.cadence = Some(smallest);
        }
    }

    /// Books the frames missing before the new frame `au`.
    fn reveal(&mut self, now: Duration, arrived: Duration, au: &AccessUnit) {
        let (Some(cadence), Some(video)) = (self.cadence, &self.video) else {
            return;
        };
        let scale = video.timescale;
        match self
            .buffer
            .gap(au.dts, au.pts, au.capture_time, cadence, scale)
        {
            Gap::None => {}
            Gap::Discontinuity => {
                self.stats.discontinuities += 1;
                self.broken_next = true;
            }
            Gap::Missing(list) => {
                for (dts, pts, media) in list {
                    self.add_missing(now, arrived, dts, pts, media);
                }
            }
        }
    }

    /// A frame at `dts` is known missing (estimated `pts` and `media`) at
    /// `seen`: lost now if its deadline passed, else it waits for it.
    fn add_missing(&mut self, now: Duration, seen: Duration, dts: i64, pts: i64, media: Duration) {
        let placed = if self.is_late(media, seen) {
            self.classify(RunKind::Lost, now, pts, 1);
            self.buffer.resolve(dts, Outcome::Lost, media)
        } else if self.buffer.insert_missing(dts, pts, media) {
            true
        } else {
            self.classify(RunKind::Lost, now, pts, 1);
            false
        };
        self.broken_next |= !placed;
    }

    /// Buffers `au` (new, or filling the missing slot `slot`), or books it
    /// late when its deadline passed or the buffer is full.
    fn place(&mut self, now: Duration, arrived: Duration, slot: i64, au: AccessUnit) {
        let media = au.capture_time;
        self.reference = Some((au.pts, media));
        if self.is_late(media, arrived) {
            self.classify(RunKind::Late, now, au.pts, 1);
            if slot != au.dts {
                self.buffer.remove(slot);
            }
            let placed = self.buffer.resolve(au.dts, Outcome::Late, media);
            self.broken_next |= !placed;
            return;
        }
        let (dts, pts) = (au.dts, au.pts);
        let frame = Frame {
            pts,
            media,
            bytes: au.data.len(),
            keyframe: au.keyframe,
            unit: self.config.keep_presented.then_some(au),
            decoded: None,
            after_break: std::mem::take(&mut self.broken_next),
        };
        if !self.buffer.insert(slot, dts, frame) {
            self.classify(RunKind::Late, now, pts, 1);
            self.broken_next = true;
        }
    }

    /// A damaged unit of the presentation track (`pts` when known): a
    /// missing frame right after the highest dts known.
    pub(super) fn damaged(&mut self, now: Duration, pts: Option<i64>) {
        let Some((_, join_media)) = self.join else {
            self.stats.frames_before_start += 1;
            return;
        };
        let (Some(cadence), Some(max), Some(video)) =
            (self.cadence, self.buffer.max_dts, &self.video)
        else {
            self.classify(RunKind::Lost, now, pts.unwrap_or(0), 1);
            self.broken_next = true;
            return;
        };
        let dts = max.saturating_add(cadence);
        let pts = pts.unwrap_or(dts.saturating_add(self.buffer.delay));
        let media = match self.reference {
            Some((ref_pts, ref_media)) => shift(
                ref_media,
                i128::from(pts) - i128::from(ref_pts),
                video.timescale,
            ),
            None => join_media,
        };
        self.add_missing(now, now, dts, pts, media);
    }
}
