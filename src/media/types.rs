//! The media core types: codecs, tracks and access units (see the
//! [`crate::media`] module docs for the canonical form they carry).

use std::time::Duration;

/// A codec streamsim carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Codec {
    /// H.264 / AVC.
    H264,
    /// H.265 / HEVC.
    H265,
    /// AAC (LC and HE profiles).
    Aac,
}

impl Codec {
    /// Whether this is a video codec.
    pub fn is_video(self) -> bool {
        matches!(self, Codec::H264 | Codec::H265)
    }
}

/// What a decoder needs before the first access unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodecConfig {
    /// H.264 parameter sets (NAL units without start codes) and picture size.
    H264 {
        /// Sequence parameter sets.
        sps: Vec<Vec<u8>>,
        /// Picture parameter sets.
        pps: Vec<Vec<u8>>,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// H.265 parameter sets (NAL units without start codes) and picture size.
    H265 {
        /// Video parameter sets.
        vps: Vec<Vec<u8>>,
        /// Sequence parameter sets.
        sps: Vec<Vec<u8>>,
        /// Picture parameter sets.
        pps: Vec<Vec<u8>>,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// AAC AudioSpecificConfig and what it says.
    Aac {
        /// The AudioSpecificConfig bytes (ISO/IEC 14496-3).
        asc: Vec<u8>,
        /// Samples per second.
        sample_rate: u32,
        /// Channel count.
        channels: u8,
    },
}

/// One elementary stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Track {
    /// Track number, unique within a presentation, starting at 1.
    pub id: u32,
    /// The codec.
    pub codec: Codec,
    /// Timestamp ticks per second.
    pub timescale: u32,
    /// Decoder configuration.
    pub config: CodecConfig,
    /// Nominal frame rate as (numerator, denominator) for video.
    pub frame_rate: Option<(u32, u32)>,
}

/// One coded picture or audio frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessUnit {
    /// The [`Track::id`] it belongs to.
    pub track: u32,
    /// Presentation timestamp, in the track's timescale.
    pub pts: i64,
    /// Decoding timestamp, in the track's timescale (≤ `pts`).
    pub dts: i64,
    /// Duration, in the track's timescale.
    pub duration: u32,
    /// A random access point: an IDR picture (video) or any frame (audio).
    pub keyframe: bool,
    /// The coded data, in the canonical form described in the module docs.
    pub data: Vec<u8>,
    /// When the source captured it, in simulated time since scenario start.
    pub capture_time: Duration,
}

/// A live source of access units, paced in simulated time (sans-IO).
///
/// Pacing: an access unit's `capture_time` is the source's start time plus
/// its presentation time, counted from one zero shared by all tracks: the
/// earliest first pts of any track, as a time (so units of different tracks
/// presented at the same instant are captured at the same instant). Units
/// come out in decode order per track, tracks interleaved by release time,
/// where a unit's release time is the latest capture time of any unit of its
/// track up to it in decode order (an encoder cannot emit a picture before it
/// has captured every picture that picture depends on). A source that loops a
/// clip keeps timestamps and capture times continuous across loops.
pub trait Source {
    /// The tracks this source produces.
    fn tracks(&self) -> &[Track];
    /// When the next access unit is released, or `None` when the source ended.
    fn next_release(&self) -> Option<Duration>;
    /// The next access unit if it is released at or before `now`.
    fn poll_next(&mut self, now: Duration) -> Option<AccessUnit>;
}

/// `value` ticks of a `from`-per-second clock in ticks of a `to`-per-second
/// clock, rounded to the nearest tick (halves away from zero) and
/// saturating; unchanged when the clocks agree or `from` is 0. Every
/// container converts timestamps with it.
pub fn rescale(value: i64, from: u32, to: u32) -> i64 {
    if from == to || from == 0 {
        return value;
    }
    let scaled = i128::from(value) * i128::from(to);
    let from = i128::from(from);
    let magnitude = (scaled.abs() + from / 2) / from;
    let rounded = if scaled < 0 { -magnitude } else { magnitude };
    i64::try_from(rounded).unwrap_or(if rounded < 0 { i64::MIN } else { i64::MAX })
}

/// `ticks` of a `timescale`-per-second clock as a duration, rounded down to
/// the nanosecond; negative ticks are zero.
pub fn ticks_to_duration(ticks: i64, timescale: u32) -> Duration {
    let nanos = i128::from(ticks.max(0)) * 1_000_000_000 / i128::from(timescale.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// Maps presentation timestamps to capture times: what a measuring receiver
/// knows of the source's clock (a file source computes its own capture
/// times with it). Real receivers do not know it; the harness does, which
/// is how glass-to-glass latency is measured exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaptureClock {
    /// When the source captured its first unit.
    pub start: Duration,
    /// The pts captured at `start`, as (ticks, timescale).
    pub zero: (i64, u32),
}

impl CaptureClock {
    /// The capture time of `pts` in a `timescale` clock (never before the
    /// start; rounded down to the nanosecond).
    pub fn capture_time(&self, pts: i64, timescale: u32) -> Duration {
        let (zero, zero_scale) = (i128::from(self.zero.0), i128::from(self.zero.1.max(1)));
        let scale = i128::from(timescale.max(1));
        let num = (i128::from(pts) * zero_scale - zero * scale) * 1_000_000_000;
        let nanos = num.div_euclid(scale * zero_scale).max(0);
        self.start.saturating_add(Duration::from_nanos(
            u64::try_from(nanos).unwrap_or(u64::MAX),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescale_rounds_to_nearest_and_saturates() {
        assert_eq!(rescale(1024, 48_000, 90_000), 1920); // exact
        assert_eq!(rescale(3000, 90_000, 1000), 33); // 33.33 ms
        assert_eq!(rescale(1, 2, 1), 1); // 0.5 rounds away from zero
        assert_eq!(rescale(-1, 2, 1), -1);
        assert_eq!(rescale(7, 0, 5), 7); // an unknown clock: unchanged
        assert_eq!(rescale(i64::MAX, 1, 90_000), i64::MAX);
        assert_eq!(rescale(i64::MIN, 1, 90_000), i64::MIN);
        assert_eq!(ticks_to_duration(-5, 90_000), Duration::ZERO);
        assert_eq!(
            ticks_to_duration(135_000, 90_000),
            Duration::from_millis(1500)
        );
    }
}
