//! QoE accounting: presenting a frame (latency, startup, presented units),
//! frame outcome runs for the event log, play time, the buffer-level
//! samples, and the end of the run.
//!
//! Invariants: every counter moves through [`Player::classify`] or
//! [`Player::present`], so a frame is counted once and its run event
//! follows; a run closes (its event is queued) before any `Presented`
//! event and at the end of the run.

use std::time::Duration;

use super::buffer::Frame;
use super::stats::{bin_start, push_capped};
use super::{Player, PlayerEvent, PlayoutMode, State, PRESENTED_CAP};

/// The frame classes the run events coalesce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RunKind {
    Lost,
    Late,
    Undecodable,
}

/// An open run of frames of one kind.
#[derive(Clone, Copy, Debug)]
pub(super) struct Run {
    pub kind: RunKind,
    pub at: Duration,
    pub first_pts: i64,
    pub count: u64,
}

impl Player {
    /// Samples the buffer level at the ends of the bins `now` closes.
    pub(super) fn sample_until(&mut self, now: Duration) {
        for (index, end) in self.bins.due_samples(now, &self.stats) {
            let (level, _) = self.level(end);
            self.stats.buffer_series.push((bin_start(index), level));
        }
    }

    /// Shows a decoded frame at `at`.
    pub(super) fn present(&mut self, at: Duration, frame: Frame) {
        self.close_run();
        let latency = at.saturating_sub(frame.media);
        if self.stats.startup.is_none() {
            let startup = at.saturating_sub(self.started_at);
            self.stats.startup = Some(startup);
            self.push_event(PlayerEvent::Started { at, startup });
        }
        match self.state {
            State::Waiting => {
                self.state = State::Playing {
                    since: at,
                    anchor: (at, frame.media),
                }
            }
            State::Stalled { since, .. } => self.end_stall(at, since),
            _ => {}
        }
        self.stats.frames_presented += 1;
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.stats.latency_us.saturating_record(micros);
        self.bins.add_latency(at, latency, &mut self.stats);
        self.push_event(PlayerEvent::Presented {
            at,
            pts: frame.pts,
            latency,
            bytes: frame.bytes,
        });
        if let Some(unit) = frame.unit {
            if self.presented.len() >= PRESENTED_CAP {
                self.presented.pop_front();
                self.stats.presented_dropped += 1;
            }
            self.presented.push_back(unit);
        }
    }

    /// Counts `count` frames of `kind` booked at `at` (the first with
    /// `pts`), extending the open run or starting a new one.
    pub(super) fn classify(&mut self, kind: RunKind, at: Duration, pts: i64, count: u64) {
        let counter = match kind {
            RunKind::Lost => &mut self.stats.frames_lost,
            RunKind::Late => &mut self.stats.frames_late,
            RunKind::Undecodable => &mut self.stats.frames_undecodable,
        };
        *counter = counter.saturating_add(count);
        match &mut self.run {
            Some(run) if run.kind == kind => run.count = run.count.saturating_add(count),
            _ => {
                self.close_run();
                self.run = Some(Run {
                    kind,
                    at,
                    first_pts: pts,
                    count,
                });
            }
        }
    }

    /// Emits the open run's event.
    pub(super) fn close_run(&mut self) {
        let Some(Run {
            kind,
            at,
            first_pts,
            count,
        }) = self.run.take()
        else {
            return;
        };
        self.push_event(match kind {
            RunKind::Lost => PlayerEvent::FramesLost {
                at,
                first_pts,
                count,
            },
            RunKind::Late => PlayerEvent::FramesLate {
                at,
                first_pts,
                count,
            },
            RunKind::Undecodable => PlayerEvent::FramesUndecodable {
                at,
                first_pts,
                count,
            },
        });
    }

    /// Brings `play_time` up to `now`.
    pub(super) fn refresh_play(&mut self, now: Duration) {
        let open = match self.state {
            State::Playing { since, .. } => now.saturating_sub(since),
            _ => Duration::ZERO,
        };
        self.stats.play_time = self.play_closed.saturating_add(open);
    }

    /// The end of the run at `now` (after everything due is processed).
    pub(super) fn finish_run(&mut self, now: Duration) {
        self.count_unseen(now);
        if let State::Stalled { since, .. } = self.state {
            let duration = now.saturating_sub(since);
            self.stats.stall_time = self.stats.stall_time.saturating_add(duration);
            self.push_event(PlayerEvent::StallEnd { at: now, duration });
        }
        self.refresh_play(now);
        self.close_run();
        if let Some(index) = self.bins.partial(now) {
            let (level, _) = self.level(now);
            push_capped(&mut self.stats.buffer_series, (bin_start(index), level));
        }
        self.bins.finish(now, &mut self.stats);
        self.state = State::Finished;
    }

    /// Live mode: frames after the latest known one, due by `now`, never
    /// arrived: lost.
    fn count_unseen(&mut self, now: Duration) {
        let PlayoutMode::Live { target_latency } = self.config.mode else {
            return;
        };
        let (Some(_), Some(latest), Some(cadence)) =
            (self.join, self.buffer.max_media, self.cadence_time())
        else {
            return;
        };
        let horizon = now.saturating_sub(target_latency);
        let frames = horizon.saturating_sub(latest).as_nanos() / cadence.as_nanos();
        if frames > 0 {
            let step = self.cadence.unwrap_or(0);
            let pts = self.buffer.max_dts.unwrap_or(0).saturating_add(step);
            let pts = pts.saturating_add(self.buffer.delay);
            let count = u64::try_from(frames).unwrap_or(u64::MAX);
            self.classify(RunKind::Lost, now, pts, count);
        }
    }
}
