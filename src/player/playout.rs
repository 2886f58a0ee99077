//! The playout clock: when frames fall due, what happens at a deadline
//! (present, play broken, skip, stall), buffered start and resume, and the
//! buffered media ahead of the playhead.
//!
//! Invariants: steps are processed in time order and never before `floor`
//! (the last step or state change), so event times never go backwards; a
//! step due exactly at a call's `now` is processed after that call's input
//! (an arrival at its deadline is in time).

use std::time::Duration;

use super::buffer::{Outcome, Slot};
use super::{Player, PlayerEvent, PlayoutMode, RunKind};
use crate::media::ticks_to_duration;

/// Where playback stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// Not playing yet (before the join, or filling the startup buffer).
    Waiting,
    /// Playing since `since`; in buffered mode media `anchor.1` plays at
    /// time `anchor.0`.
    Playing {
        since: Duration,
        anchor: (Duration, Duration),
    },
    /// Stalled since `since` with the playhead at media time `playhead`.
    Stalled { since: Duration, playhead: Duration },
    /// After [`Player::finish`].
    Finished,
}

/// What falls due next.
#[derive(Clone, Copy, Debug)]
pub(super) enum Step {
    /// The queue entry `(media, dts)`.
    Entry(Duration, i64),
    /// Nothing is queued; the next frame (at this media time) is expected.
    Expect(Duration),
}

/// `anchor.0 + (media − anchor.1)`, saturating.
fn anchored((time, base): (Duration, Duration), media: Duration) -> Duration {
    match media.checked_sub(base) {
        Some(ahead) => time.saturating_add(ahead),
        None => time.saturating_sub(base - media),
    }
}

impl Player {
    /// Starts a call at `now`: clamps it, processes steps due before it and
    /// samples the bins it ends. `None` after [`Player::finish`].
    pub(super) fn enter(&mut self, now: Duration) -> Option<Duration> {
        if self.state == State::Finished {
            return None;
        }
        let now = now.max(self.now);
        self.now = now;
        self.advance(now, false);
        self.sample_until(now);
        Some(now)
    }

    /// Ends a call at `now`: buffered start or resume, steps due at `now`.
    pub(super) fn leave(&mut self, now: Duration) {
        self.check_thresholds(now);
        self.advance(now, true);
        self.refresh_play(now);
    }

    /// The frame cadence as a duration, when known and non-zero.
    pub(super) fn cadence_time(&self) -> Option<Duration> {
        let scale = self.video.as_ref().map_or(1, |v| v.timescale);
        let cadence = ticks_to_duration(self.cadence?, scale);
        (!cadence.is_zero()).then_some(cadence)
    }

    /// When a frame at `media` is due, if the schedule runs.
    pub(super) fn due(&self, media: Duration) -> Option<Duration> {
        match (self.config.mode, self.state) {
            (PlayoutMode::Live { target_latency }, _) => Some(media.saturating_add(target_latency)),
            (PlayoutMode::Buffered { .. }, State::Playing { anchor, .. }) => {
                Some(anchored(anchor, media))
            }
            _ => None,
        }
    }

    /// Whether a frame at `media` arriving at `now` is too late to play.
    pub(super) fn is_late(&self, media: Duration, now: Duration) -> bool {
        if self.last_media.is_some_and(|last| media < last) {
            return true;
        }
        match (self.due(media), self.state) {
            (Some(due), _) => due < now,
            (None, State::Stalled { playhead, .. }) => media < playhead,
            (None, _) => false,
        }
    }

    /// The media time at the playhead at `t`, once joined.
    fn playhead(&self, t: Duration) -> Option<Duration> {
        let (_, join_media) = self.join?;
        Some(match (self.config.mode, self.state) {
            (PlayoutMode::Live { target_latency }, _) => t.saturating_sub(target_latency),
            (
                _,
                State::Playing {
                    anchor: (time, base),
                    ..
                },
            ) => base.saturating_add(t.saturating_sub(time)),
            (_, State::Stalled { playhead, .. }) => playhead,
            _ => join_media,
        })
    }

    /// Buffered media ahead of the playhead at `t`, and where playback
    /// would resume: the playhead, or the first queued frame after a hole.
    pub(super) fn level(&self, t: Duration) -> (Duration, Option<Duration>) {
        let Some(playhead) = self.playhead(t) else {
            return (Duration::ZERO, None);
        };
        let cadence = self.cadence_time().unwrap_or_default();
        let Some((first, end)) = self.buffer.run(cadence) else {
            return (Duration::ZERO, Some(playhead));
        };
        let from = if first <= playhead.saturating_add(cadence) {
            playhead
        } else {
            first
        };
        (end.saturating_sub(from), Some(from))
    }

    /// The next step and its time.
    pub(super) fn next_step(&self) -> Option<(Duration, Step)> {
        let entry = self.buffer.first();
        let (at, step) = match (self.state, entry) {
            (State::Finished, _) => return None,
            (_, Some((media, dts))) => (self.due(media)?, Step::Entry(media, dts)),
            (State::Playing { .. }, None) => {
                let next = self.last_media?.saturating_add(self.cadence_time()?);
                (self.due(next)?, Step::Expect(next))
            }
            _ => return None,
        };
        Some((at.max(self.floor), step))
    }

    /// Processes the steps due before `limit` (or at it, if `inclusive`).
    fn advance(&mut self, limit: Duration, inclusive: bool) {
        while let Some((at, step)) = self.next_step() {
            if at > limit || (!inclusive && at == limit) {
                break;
            }
            self.sample_until(at);
            self.floor = at;
            match step {
                Step::Entry(media, dts) => self.play_entry(at, media, dts),
                Step::Expect(media) => self.stall(at, media),
            }
        }
    }

    /// The queue entry `dts` is due at `at`.
    fn play_entry(&mut self, at: Duration, queued: Duration, dts: i64) {
        match self.buffer.slot(dts) {
            Some(Slot::Missing { pts, media }) => {
                let (pts, media) = (*pts, *media);
                self.buffer.resolve(dts, Outcome::Lost, media);
                self.classify(RunKind::Lost, at, pts, 1);
                self.last_media = self.last_media.max(Some(media));
                if matches!(self.state, State::Playing { .. }) && !self.buffer.has_arrived() {
                    self.stall(at, media);
                }
            }
            Some(Slot::Arrived(_)) => {
                for (_, pts) in self.buffer.decode_through(dts) {
                    self.classify(RunKind::Lost, at, pts, 1);
                }
                if let Some(Slot::Arrived(frame)) = self.buffer.remove(dts) {
                    self.last_media = Some(frame.media);
                    if frame.decoded == Some(true) {
                        self.buffer.remember(dts, Outcome::Presented);
                        self.present(at, frame);
                    } else {
                        self.buffer.remember(dts, Outcome::Undecodable);
                        self.classify(RunKind::Undecodable, at, frame.pts, 1);
                        if let State::Stalled { since, .. } = self.state {
                            self.end_stall(at, since);
                        }
                    }
                }
            }
            // Unreachable by the queue invariant; dropping the entry keeps
            // the loop finite whatever happens.
            _ => self.buffer.drop_entry(queued, dts),
        }
    }

    /// Playback freezes at `at` with the playhead at media time `playhead`.
    fn stall(&mut self, at: Duration, playhead: Duration) {
        let State::Playing { since, .. } = self.state else {
            return;
        };
        self.play_closed = self.play_closed.saturating_add(at.saturating_sub(since));
        self.state = State::Stalled {
            since: at,
            playhead,
        };
        self.stats.stalls += 1;
        self.push_event(PlayerEvent::StallStart { at });
    }

    /// The stall that began at `since` ends at `at`; playback runs again
    /// (buffered mode: media `resume` plays at `at`).
    fn end_stall_at(&mut self, at: Duration, since: Duration, resume: Duration) {
        let duration = at.saturating_sub(since);
        self.stats.stall_time = self.stats.stall_time.saturating_add(duration);
        self.state = State::Playing {
            since: at,
            anchor: (at, resume),
        };
        self.push_event(PlayerEvent::StallEnd { at, duration });
    }

    /// Live mode: the stall ends at `at` (the schedule never moves).
    pub(super) fn end_stall(&mut self, at: Duration, since: Duration) {
        let resume = self.playhead(at).unwrap_or_default();
        self.end_stall_at(at, since, resume);
    }

    /// Buffered mode: starts or resumes once enough media is buffered.
    fn check_thresholds(&mut self, now: Duration) {
        let PlayoutMode::Buffered { startup, rebuffer } = self.config.mode else {
            return;
        };
        let (level, from) = self.level(now);
        let Some(from) = from else { return };
        match self.state {
            State::Waiting if self.join.is_some() && level >= startup => {
                self.state = State::Playing {
                    since: now,
                    anchor: (now, from),
                };
                self.floor = now;
            }
            State::Stalled { since, .. } if level >= rebuffer && !level.is_zero() => {
                self.end_stall_at(now, since, from);
                self.floor = now;
            }
            _ => {}
        }
    }
}
