//! The one player model every protocol hands its access units to, so QoE
//! metrics mean the same thing for UDP, RTSP, RTMP, HLS and DASH. Sans-IO:
//! time is always an argument (simulated time since scenario start), there
//! is no clock, no RNG and no IO, and only ordered containers are used.
//!
//! # Driving it
//!
//! Announce tracks with [`Player::handle_track`], then feed units with
//! [`Player::handle_access_unit`] / [`Player::handle_damaged`], call
//! [`Player::handle_timeout`] at [`Player::poll_timeout`], and after every
//! `handle_*` call poll [`Player::poll_event`] until `None`. End the run
//! with [`Player::finish`] and read [`Player::stats`]. Every call first
//! processes what fell due before its `now` (so late calls are harmless);
//! a `now` earlier than a previous one counts as that previous one. Calls
//! after [`Player::finish`] are ignored.
//!
//! # What is a frame
//!
//! Frames are the video units of the presentation track (the first video
//! track announced; other tracks only count bytes). A frame is identified
//! by its dts and placed on the media timeline by its capture time (the
//! source derives it from the pts, so capture-time differences are pts
//! differences, and stay well-defined whatever the timestamps). The cadence
//! in ticks is the unit's duration, else the track's frame rate, else the
//! smallest positive gap between consecutive dts. A new dts more than one
//! cadence above the highest known reveals `round(gap / cadence) − 1`
//! missing frames, with estimated dts evenly spread, pts = dts + the latest
//! keyframe's pts − dts, and media time derived from the new frame. A gap
//! of more frames than the buffer has room for is a timestamp jump
//! (`discontinuities`): its frames are not counted.
//!
//! # Outcomes (each frame from the join keyframe on counts once)
//!
//! * The viewer joins on the first keyframe that arrives (live mode: in
//!   time for its deadline). Video units with a smaller dts, or that
//!   arrived before it, are `frames_before_start`, except units that
//!   arrived just ahead of it (the last [`PENDING_CAP`]) but follow it in
//!   decode order: those are admitted as frames when the viewer joins,
//!   judged by their own arrival times.
//! * **Presented**: decoded and shown at its deadline; latency = deadline −
//!   capture time.
//! * **Late**: arrived after its deadline, or after the decoder needed it
//!   (a reference of a frame shown earlier), or when the buffer was full
//!   ([`FRAME_CAP`]). Late frames are dropped before the decoder.
//! * **Lost**: missing at its deadline (estimated, see above), when the
//!   decoder passes it, or announced damaged (placed right after the
//!   highest dts known). A lost frame that arrives later becomes late (the
//!   `FramesLost` event stays in the log; a `FramesLate` event follows).
//! * **Undecodable**: arrived in time, but the decoder lost its chain: after
//!   any lost, late or damaged frame every frame is undecodable until the
//!   next keyframe. This is conservative (no reference parsing). An
//!   undecodable frame is *played broken*: it keeps playback running (a
//!   frozen picture, not a stall) and ends a stall, but produces no
//!   `Presented` event, no latency sample and no presented unit.
//! * Duplicates (a dts already seen) and units older than the remembered
//!   history ([`HISTORY_CAP`] frames) count in `units_ignored` only.
//!
//! # Playout
//!
//! * **Live**: a frame captured at `c` is due at `c + target_latency`,
//!   always (the schedule never shifts, so every presented frame has
//!   latency = target). At a deadline: present the frame if it is there;
//!   a missing frame is skipped (lost) when a later frame is buffered,
//!   otherwise a stall starts at that deadline. When nothing is buffered,
//!   the next frame is expected one cadence after the last frame played,
//!   and a stall starts at its deadline. A stall ends when the next frame
//!   that arrived in time is played.
//! * **Live from arrival**: live, anchored where a real receiver anchors:
//!   at the join keyframe's arrival (see [`PlayoutMode::LiveFromArrival`]);
//!   from the join on it is live mode with the first frame's delay added
//!   to the target.
//! * **Buffered**: waits until `startup` of media is buffered from the join
//!   keyframe, then plays frame `m` at `anchor_time + (m − anchor_media)`.
//!   Missing frames are skipped as in live mode, an empty buffer stalls,
//!   and playback resumes when `rebuffer` is buffered, re-anchored at the
//!   frozen playhead (so latency grows by the stall). During a stall
//!   nothing falls due; frames for a time already played are late.
//! * Buffered media (thresholds and `buffer_series`, both modes) = the end
//!   of the contiguous run of queued frames that starts at the first
//!   arrived one (known-missing frames inside it count: playback skips
//!   them) − the playhead. A hole before that first frame is not counted,
//!   and a resume after a hole re-anchors at that frame (the hole is
//!   jumped, its missing frames are lost at once).
//!
//! # Finish
//!
//! [`Player::finish`] processes what is due by `now`; in live mode frames
//! due by `now` after the last one known are lost (counted by cadence); in
//! buffered mode nothing falls due during a stall, so none are. An ongoing
//! stall is closed at `now` (counted, with a `StallEnd` event; a stall
//! that starts exactly at `now` counts with zero duration). Frames due
//! after `now` are not counted.
//!
//! # Other tracks
//!
//! Units of other announced tracks count in `media_bytes` and the bitrate
//! series; damaged audio units count in `audio_units_lost`. Units and
//! damage of tracks never announced count in `units_ignored`.
//!
//! # Bounds
//!
//! At most [`FRAME_CAP`] frames are held (arrived, missing or awaiting the
//! decoder), [`HISTORY_CAP`] resolved frames remembered, [`EVENT_CAP`]
//! events and [`PRESENTED_CAP`] presented units waiting to be taken (the
//! oldest are dropped and counted), [`PENDING_CAP`] units before the join,
//! [`TRACK_CAP`] other tracks, [`SERIES_CAP`] bins per series. Latencies
//! beyond 1 h are recorded as 1 h.

mod account;
mod arrival;
mod buffer;
mod playout;
mod stats;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use crate::media::{AccessUnit, Codec, Track};

pub use buffer::{FRAME_CAP, HISTORY_CAP};
pub use stats::{QoeStats, BIN, SERIES_CAP};

use account::{Run, RunKind};
use buffer::Buffer;
use playout::State;
use stats::Bins;

/// The most events held unpolled; older ones are dropped and counted.
pub const EVENT_CAP: usize = 100_000;
/// The most presented units held for [`Player::take_presented`].
pub const PRESENTED_CAP: usize = 10_000;
/// The most video units held before the join, in case they follow the
/// join keyframe in decode order (arrived ahead of it).
pub const PENDING_CAP: usize = 64;
/// The most non-presentation tracks remembered.
pub const TRACK_CAP: usize = 64;

/// How the player schedules frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlayerConfig {
    /// Live or buffered playout.
    pub mode: PlayoutMode,
    /// Keep presented video units for [`Player::take_presented`].
    pub keep_presented: bool,
}

/// The playout policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlayoutMode {
    /// Live with a fixed target latency: each video frame is due at capture_time + target_latency.
    Live {
        /// Capture → presentation delay of every frame.
        target_latency: Duration,
    },
    /// Live, as a receiver that does not know the sender's clock plays it:
    /// the schedule starts when the join keyframe arrives. A frame captured
    /// at `c` is due at `c + (a₀ − c₀) + target_latency`, where `a₀` and
    /// `c₀` are the join keyframe's arrival and capture times, so
    /// glass-to-glass latency is the first frame's delay plus the target
    /// (what ffplay, VLC and GStreamer's jitter buffer do). From the join on
    /// it is [`PlayoutMode::Live`] with that sum as its target.
    LiveFromArrival {
        /// Delay added after the join keyframe's arrival.
        target_latency: Duration,
    },
    /// Buffered (segment protocols: HLS, DASH): playback starts once `startup` of media is buffered
    /// (contiguous from the first keyframe); after a stall it resumes once `rebuffer` is buffered again.
    Buffered {
        /// Media buffered before the first frame plays.
        startup: Duration,
        /// Media buffered before playback resumes after a stall.
        rebuffer: Duration,
    },
}

/// What the player reports, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlayerEvent {
    /// First frame presented.
    Started {
        /// When it was presented.
        at: Duration,
        /// `at` − client start.
        startup: Duration,
    },
    /// One video frame presented at `at` with glass-to-glass `latency` = at − capture_time.
    Presented {
        /// Presentation time.
        at: Duration,
        /// The frame's pts, in the track's timescale.
        pts: i64,
        /// `at` − capture time.
        latency: Duration,
        /// Size of the access unit.
        bytes: usize,
    },
    /// Playback froze: a frame was due and nothing presentable was there.
    StallStart {
        /// When the stall began.
        at: Duration,
    },
    /// Playback resumed (or the run ended during the stall).
    StallEnd {
        /// When the stall ended.
        at: Duration,
        /// How long it lasted.
        duration: Duration,
    },
    /// Runs (coalesced: consecutive frames of the same kind are one event, closed when the run ends) for the event log.
    /// `at` is when the run's first frame was classified; `first_pts` may be an estimate.
    FramesLost {
        /// When the first frame of the run was booked.
        at: Duration,
        /// The pts of the first frame of the run (estimated if it never arrived).
        first_pts: i64,
        /// Frames in the run.
        count: u64,
    },
    /// A run of frames that arrived after their deadline (see [`PlayerEvent::FramesLost`]).
    FramesLate {
        /// When the first frame of the run was booked.
        at: Duration,
        /// The pts of the first frame of the run.
        first_pts: i64,
        /// Frames in the run.
        count: u64,
    },
    /// A run of frames that could not be decoded (see [`PlayerEvent::FramesLost`]).
    FramesUndecodable {
        /// When the first frame of the run was played broken.
        at: Duration,
        /// The pts of the first frame of the run.
        first_pts: i64,
        /// Frames in the run.
        count: u64,
    },
}

/// The player: a playout buffer and QoE accounting (see module docs).
#[derive(Debug)]
pub struct Player {
    config: PlayerConfig,
    started_at: Duration,
    /// The latest time seen.
    now: Duration,
    /// No step is processed earlier than this (the last step or change).
    floor: Duration,
    video: Option<Track>,
    others: BTreeMap<u32, Codec>,
    buffer: Buffer,
    /// Frame cadence in ticks of the video track.
    cadence: Option<i64>,
    /// Smallest positive dts gap seen (the last-resort cadence).
    min_gap: Option<i64>,
    /// dts and media time of the join keyframe.
    join: Option<(i64, Duration)>,
    /// Units that arrived before the join, with their arrival times.
    pending: VecDeque<(Duration, AccessUnit)>,
    state: State,
    /// Media time of the last frame played, broken or skipped.
    last_media: Option<Duration>,
    /// pts and media time of the latest arrived frame (for estimates).
    reference: Option<(i64, Duration)>,
    /// The next frame follows a damaged unit that could not be placed.
    broken_next: bool,
    /// Play time of closed play periods.
    play_closed: Duration,
    events: VecDeque<PlayerEvent>,
    run: Option<Run>,
    presented: VecDeque<AccessUnit>,
    stats: QoeStats,
    bins: Bins,
}

impl Player {
    /// `started_at`: when the client started (first request / socket open): startup delay is measured from it.
    pub fn new(config: PlayerConfig, started_at: Duration) -> Player {
        Player {
            config,
            started_at,
            now: started_at,
            floor: started_at,
            video: None,
            others: BTreeMap::new(),
            buffer: Buffer::default(),
            cadence: None,
            min_gap: None,
            join: None,
            pending: VecDeque::new(),
            state: State::Waiting,
            last_media: None,
            reference: None,
            broken_next: false,
            play_closed: Duration::ZERO,
            events: VecDeque::new(),
            run: None,
            presented: VecDeque::new(),
            stats: QoeStats::default(),
            bins: Bins::new(started_at),
        }
    }

    /// A track became known (or changed). The first video track drives presentation; audio units are accepted and counted (bytes), not scheduled.
    /// A changed presentation track keeps its buffer (same timeline).
    pub fn handle_track(&mut self, track: Track) {
        match &self.video {
            Some(video) if video.id == track.id => self.video = Some(track),
            None if track.codec.is_video() => {
                self.others.remove(&track.id);
                self.video = Some(track);
            }
            _ if self.others.len() < TRACK_CAP || self.others.contains_key(&track.id) => {
                self.others.insert(track.id, track.codec);
            }
            _ => {}
        }
    }

    /// An access unit arrived at `now`. `au.capture_time` is already set by the client (ground truth from the source's clock).
    pub fn handle_access_unit(&mut self, now: Duration, au: AccessUnit) {
        let Some(now) = self.enter(now) else { return };
        self.stats.media_bytes = self.stats.media_bytes.saturating_add(au.data.len() as u64);
        self.bins.add_bytes(now, au.data.len(), &mut self.stats);
        if self.video.as_ref().is_some_and(|v| v.id == au.track) {
            self.arrive(now, au);
        } else if !self.others.contains_key(&au.track) {
            self.stats.units_ignored += 1;
        }
        self.leave(now);
    }

    /// A unit of `track` arrived damaged and was dropped by the demuxer (`pts` when known): it counts as missing, and breaks decoding until the next keyframe.
    pub fn handle_damaged(&mut self, now: Duration, track: u32, pts: Option<i64>) {
        let Some(now) = self.enter(now) else { return };
        if self.video.as_ref().is_some_and(|v| v.id == track) {
            self.damaged(now, pts);
        } else if self.others.get(&track).is_some_and(|c| !c.is_video()) {
            self.stats.audio_units_lost += 1;
        } else {
            self.stats.units_ignored += 1;
        }
        self.leave(now);
    }

    /// The next time `handle_timeout` must be called (a frame due, a stall check), if any.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.next_step().map(|(at, _)| at)
    }

    /// Processes everything due by `now`.
    pub fn handle_timeout(&mut self, now: Duration) {
        if let Some(now) = self.enter(now) {
            self.leave(now);
        }
    }

    /// What happened, in order. Poll until None after every handle_* call.
    pub fn poll_event(&mut self) -> Option<PlayerEvent> {
        self.events.pop_front()
    }

    /// End of run at `now`: frames that were due by `now` and never arrived become lost; an ongoing stall is closed at `now` (counted). Idempotent.
    pub fn finish(&mut self, now: Duration) {
        let Some(now) = self.enter(now) else { return };
        self.leave(now);
        self.finish_run(now);
    }

    /// The statistics so far (final after [`Player::finish`]).
    pub fn stats(&self) -> &QoeStats {
        &self.stats
    }

    /// Presented video units (in presentation order) when keep_presented is on, for the decode check; drains them.
    pub fn take_presented(&mut self) -> Vec<AccessUnit> {
        self.presented.drain(..).collect()
    }

    /// Queues an event, dropping the oldest beyond [`EVENT_CAP`].
    fn push_event(&mut self, event: PlayerEvent) {
        if self.events.len() >= EVENT_CAP {
            self.events.pop_front();
            self.stats.events_dropped += 1;
        }
        self.events.push_back(event);
    }
}
