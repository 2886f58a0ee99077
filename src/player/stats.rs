//! QoE statistics and their time series.
//!
//! Counters follow the QoE table of the architecture: every frame of the
//! presentation track from the join keyframe on is counted once, in exactly
//! one of presented, late, lost and undecodable (a frame booked lost that
//! arrives later moves from lost to late). Series are binned in [`BIN`]s
//! of simulated time aligned on multiples of [`BIN`]; each series holds at
//! most [`SERIES_CAP`] bins and drops later ones (counters still count).

use std::time::Duration;

use hdrhistogram::Histogram;

/// Width of every series bin.
pub const BIN: Duration = Duration::from_millis(100);
/// The most bins a series holds (about 2 h 47 min of 100 ms bins).
pub const SERIES_CAP: usize = 100_000;

/// What a viewer experienced (see the [`crate::player`] module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct QoeStats {
    /// Client start → first frame presented; `None` until then.
    pub startup: Option<Duration>,
    /// Stalls started (one still running at `finish` included).
    pub stalls: u64,
    /// Total time stalled.
    pub stall_time: Duration,
    /// Time playing: first presentation → last update, minus stalls.
    pub play_time: Duration,
    /// Video frames presented with a picture.
    pub frames_presented: u64,
    /// Frames that arrived after their deadline (dropped).
    pub frames_late: u64,
    /// Frames that never arrived (or arrived damaged).
    pub frames_lost: u64,
    /// Frames that arrived in time but reference a missing or broken
    /// frame, until the next keyframe: played as a frozen picture.
    pub frames_undecodable: u64,
    /// Video units before the keyframe the viewer joined on (or damaged
    /// before it): not counted in the frame counters above.
    pub frames_before_start: u64,
    /// Glass-to-glass latency per presented frame, in µs, 3 significant
    /// digits; latencies beyond 1 h count as 1 h.
    pub latency_us: Histogram<u64>,
    /// Bytes of every unit received (audio and video, duplicates and late
    /// units included, damaged units excluded).
    pub media_bytes: u64,
    /// Audio units that arrived damaged.
    pub audio_units_lost: u64,
    /// Units not counted as frames: duplicates, units of tracks never
    /// announced, and video units older than the remembered history.
    pub units_ignored: u64,
    /// Timestamp jumps: a dts gap of more frames than the buffer holds,
    /// whose frames are not counted.
    pub discontinuities: u64,
    /// Events dropped because more than the event cap waited unpolled.
    pub events_dropped: u64,
    /// Presented units dropped because more than the cap waited in
    /// [`crate::player::Player::take_presented`].
    pub presented_dropped: u64,
    /// `(bin start, mean latency of the frames presented in the bin)`;
    /// bins without a presented frame are omitted.
    pub latency_series: Vec<(Duration, Duration)>,
    /// `(bin start, buffered media ahead of the playhead at the bin's
    /// end)`, every bin from the client start to `finish` (the last,
    /// partial bin is sampled at `finish`).
    pub buffer_series: Vec<(Duration, Duration)>,
    /// `(bin start, media bytes received in the bin)`, every bin from the
    /// client start to the last unit or `finish`.
    pub bitrate_series: Vec<(Duration, u64)>,
}

impl Default for QoeStats {
    fn default() -> Self {
        QoeStats {
            startup: None,
            stalls: 0,
            stall_time: Duration::ZERO,
            play_time: Duration::ZERO,
            frames_presented: 0,
            frames_late: 0,
            frames_lost: 0,
            frames_undecodable: 0,
            frames_before_start: 0,
            latency_us: Histogram::new_with_bounds(1, 3_600_000_000, 3)
                .expect("1 µs to 1 h at 3 significant digits is valid"),
            media_bytes: 0,
            audio_units_lost: 0,
            units_ignored: 0,
            discontinuities: 0,
            events_dropped: 0,
            presented_dropped: 0,
            latency_series: Vec::new(),
            buffer_series: Vec::new(),
            bitrate_series: Vec::new(),
        }
    }
}

impl QoeStats {
    /// Stall time / (play time + stall time); `None` when both are zero.
    pub fn stall_ratio(&self) -> Option<f64> {
        let total = self.play_time.saturating_add(self.stall_time);
        if total.is_zero() {
            return None;
        }
        Some(self.stall_time.as_secs_f64() / total.as_secs_f64())
    }
}

/// The index of the bin holding `t`.
pub(super) fn bin_of(t: Duration) -> u64 {
    u64::try_from(t.as_nanos() / BIN.as_nanos()).unwrap_or(u64::MAX)
}

/// The start of bin `index`.
pub(super) fn bin_start(index: u64) -> Duration {
    Duration::from_millis(index.saturating_mul(100))
}

/// Accumulates the binned series as time moves forward.
#[derive(Debug)]
pub(super) struct Bins {
    /// The first bin of every dense series (the client start's bin).
    first: u64,
    /// Next bin whose end the buffer series samples.
    next_sample: u64,
    /// The bitrate bin being filled: `(index, bytes)`.
    bytes: Option<(u64, u64)>,
    /// The latency bin being filled: `(index, sum of ns, frames)`.
    latency: Option<(u64, u128, u64)>,
}

impl Bins {
    pub fn new(start: Duration) -> Bins {
        let first = bin_of(start);
        Bins {
            first,
            next_sample: first,
            bytes: None,
            latency: None,
        }
    }

    /// The ends of bins reached by `now` whose buffer level is not yet
    /// sampled: `(bin index, bin end)`, oldest first. Marks them sampled.
    pub fn due_samples(&mut self, now: Duration, stats: &QoeStats) -> Vec<(u64, Duration)> {
        let mut due = Vec::new();
        let room = SERIES_CAP.saturating_sub(stats.buffer_series.len());
        while due.len() < room && self.next_sample < u64::MAX {
            let end = bin_start(self.next_sample.saturating_add(1));
            if end > now {
                break;
            }
            due.push((self.next_sample, end));
            self.next_sample += 1;
        }
        due
    }

    /// The bin `now` falls in if its end is not sampled yet (`finish`
    /// samples the last, partial bin).
    pub fn partial(&mut self, now: Duration) -> Option<u64> {
        let index = bin_of(now);
        (index >= self.next_sample && bin_start(index) < now).then(|| {
            self.next_sample = index.saturating_add(1);
            index
        })
    }

    /// Adds `bytes` received at `now`.
    pub fn add_bytes(&mut self, now: Duration, bytes: usize, stats: &mut QoeStats) {
        let index = bin_of(now).max(self.first);
        self.roll_bytes(index, stats);
        if let Some((_, total)) = &mut self.bytes {
            *total = total.saturating_add(bytes as u64);
        }
    }

    /// Closes bitrate bins before `index` (filling empty ones with 0) and
    /// opens `index`.
    fn roll_bytes(&mut self, index: u64, stats: &mut QoeStats) {
        let from = match self.bytes {
            Some((open, _)) if open >= index => return,
            Some((open, total)) => {
                push_capped(&mut stats.bitrate_series, (bin_start(open), total));
                open.saturating_add(1)
            }
            None => self.first,
        };
        let mut gap = from;
        while gap < index && stats.bitrate_series.len() < SERIES_CAP {
            push_capped(&mut stats.bitrate_series, (bin_start(gap), 0));
            gap += 1;
        }
        self.bytes = Some((index, 0));
    }

    /// Adds one presented frame's latency at `at`.
    pub fn add_latency(&mut self, at: Duration, latency: Duration, stats: &mut QoeStats) {
        let index = bin_of(at);
        match &mut self.latency {
            Some((open, sum, count)) if *open == index => {
                *sum = sum.saturating_add(latency.as_nanos());
                *count += 1;
            }
            open => {
                if let Some(bin) = open.take() {
                    push_latency(bin, stats);
                }
                *open = Some((index, latency.as_nanos(), 1));
            }
        }
    }

    /// Closes the open bins at the end of the run `now`.
    pub fn finish(&mut self, now: Duration, stats: &mut QoeStats) {
        let last = bin_of(now).max(self.first);
        let close = if bin_start(last) < now {
            last.saturating_add(1)
        } else {
            last
        };
        self.roll_bytes(close, stats);
        self.bytes = None;
        if let Some(bin) = self.latency.take() {
            push_latency(bin, stats);
        }
    }
}

fn push_latency((index, sum, count): (u64, u128, u64), stats: &mut QoeStats) {
    let mean = sum / u128::from(count.max(1));
    let mean = Duration::from_nanos(u64::try_from(mean).unwrap_or(u64::MAX));
    push_capped(&mut stats.latency_series, (bin_start(index), mean));
}

/// Pushes unless the series is full.
pub(super) fn push_capped<T>(series: &mut Vec<T>, value: T) {
    if series.len() < SERIES_CAP {
        series.push(value);
    }
}
