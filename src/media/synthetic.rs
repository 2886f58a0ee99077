//! A synthetic live [`Source`]: decodable H.264 and AAC-LC made from
//! nothing, at configured sizes, frame rates and bitrates, with no ffmpeg
//! at run time.
//!
//! Video is grey: IDR pictures of flat intra macroblocks and P pictures of
//! skipped macroblocks (see `avc`), padded with filler data NAL units to
//! sizes planned from the seed (see `plan`), an IDR every `gop` frames. Audio
//! is AAC-LC silence padded with fill elements to a constant bitrate (see
//! `silence`). Everything is a function of the config and the start time:
//! the same config gives the same bytes, and nothing reads a clock.

mod avc;
mod bits;
mod plan;
mod silence;
#[cfg(test)]
mod tests;

use std::time::Duration;

use crate::media::aac::{frequency_index, AudioSpecificConfig};
use crate::media::h264::START_CODE;
use crate::media::{AccessUnit, Codec, CodecConfig, Source, Track};
use avc::{AvcParams, Picture, MIN_FILLER};
use plan::{AudioPlan, VideoPlan};

/// Track id of the video track.
pub const VIDEO_TRACK: u32 = 1;
/// Track id of the audio track.
pub const AUDIO_TRACK: u32 = 2;
/// Video timestamp ticks per second.
pub const VIDEO_TIMESCALE: u32 = 90_000;
/// Samples per AAC frame.
pub const AAC_FRAME_SAMPLES: u32 = 1024;

/// Settings of the synthetic audio track.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SyntheticAudio {
    /// Samples per second; one of the AAC frequency table's rates.
    pub sample_rate: u32,
    /// Channel count: 1..=6, or 8 (7.1).
    pub channels: u8,
    /// Bitrate of the raw AAC frames, in bit/s.
    pub bitrate_bps: u64,
}

/// Settings of a [`SyntheticSource`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SyntheticConfig {
    /// Picture width in pixels (even, ≥ 2).
    pub width: u32,
    /// Picture height in pixels (even, ≥ 2).
    pub height: u32,
    /// Frame rate as (numerator, denominator), e.g. (30000, 1001).
    pub fps: (u32, u32),
    /// Frames from one IDR to the next (≥ 1).
    pub gop: u32,
    /// Mean bitrate of the video access units (start codes included), in
    /// bit/s.
    pub video_bitrate_bps: u64,
    /// How many times larger an I frame is than a P frame (≥ 1).
    pub i_to_p_ratio: f64,
    /// The audio track, if any.
    pub audio: Option<SyntheticAudio>,
    /// Seed of the frame size jitter.
    pub seed: u64,
}

/// A [`SyntheticConfig`] that cannot be produced.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SyntheticError {
    /// A setting out of its range.
    #[error("synthetic source: {field} = {value} is invalid: {reason}")]
    Invalid {
        field: &'static str,
        value: String,
        reason: &'static str,
    },
    /// A bitrate too low for the smallest frames this source can code.
    #[error("synthetic source: {track} bitrate {bitrate_bps} bit/s is below the minimum {minimum_bps} bit/s")]
    BitrateTooLow {
        track: &'static str,
        bitrate_bps: u64,
        minimum_bps: u64,
    },
}

/// The video generator's state.
#[derive(Clone, Debug)]
struct Video {
    params: AvcParams,
    gop: u64,
    plan: VideoPlan,
    /// Frames emitted so far.
    frame: u64,
}

/// The audio generator's state.
#[derive(Clone, Debug)]
struct Audio {
    sample_rate: u32,
    channel_config: u8,
    plan: AudioPlan,
    /// Frames emitted so far.
    frame: u64,
}

/// A live source of grey H.264 video and silent AAC-LC audio (see the
/// module docs), paced by the [`Source`] rule from its start time.
#[derive(Clone, Debug)]
pub struct SyntheticSource {
    tracks: Vec<Track>,
    start: Duration,
    video: Video,
    audio: Option<Audio>,
}

fn invalid(field: &'static str, value: impl ToString, reason: &'static str) -> SyntheticError {
    SyntheticError::Invalid {
        field,
        value: value.to_string(),
        reason,
    }
}

/// `ticks` (≥ 0) of a `timescale` clock as a duration.
fn ticks_to_duration(ticks: u64, timescale: u32) -> Duration {
    crate::media::ticks_to_duration(i64::try_from(ticks).unwrap_or(i64::MAX), timescale)
}

impl SyntheticSource {
    /// A source whose first access units are captured at `start` (simulated
    /// time since scenario start).
    pub fn new(config: &SyntheticConfig, start: Duration) -> Result<Self, SyntheticError> {
        let video = Self::video(config)?;
        let params = video.params;
        let mut tracks = vec![Track {
            id: VIDEO_TRACK,
            codec: Codec::H264,
            timescale: VIDEO_TIMESCALE,
            config: CodecConfig::H264 {
                sps: vec![avc::sps(&params)],
                pps: vec![avc::pps()],
                width: config.width,
                height: config.height,
            },
            frame_rate: Some(config.fps),
        }];
        let audio = config.audio.as_ref().map(Self::audio).transpose()?;
        if let Some(a) = &audio {
            let asc = AudioSpecificConfig::aac_lc(a.sample_rate, a.channel_config);
            let bytes = asc.to_bytes().map_err(|_| {
                invalid(
                    "audio.sample_rate",
                    a.sample_rate,
                    "not representable in an AudioSpecificConfig",
                )
            })?;
            let channels = config.audio.map_or(0, |c| c.channels);
            tracks.push(Track {
                id: AUDIO_TRACK,
                codec: Codec::Aac,
                timescale: a.sample_rate,
                config: CodecConfig::Aac {
                    asc: bytes,
                    sample_rate: a.sample_rate,
                    channels,
                },
                frame_rate: None,
            });
        }
        Ok(Self {
            tracks,
            start,
            video,
            audio,
        })
    }

    fn video(c: &SyntheticConfig) -> Result<Video, SyntheticError> {
        if c.width < 2 || c.width % 2 == 1 || c.width > 16_384 {
            return Err(invalid("width", c.width, "must be even and 2..=16384"));
        }
        if c.height < 2 || c.height % 2 == 1 || c.height > 16_384 {
            return Err(invalid("height", c.height, "must be even and 2..=16384"));
        }
        let (num, den) = c.fps;
        if num == 0 || den == 0 || num > u32::MAX / 2 {
            return Err(invalid(
                "fps",
                format!("{num}/{den}"),
                "needs both parts > 0 and num < 2^31",
            ));
        }
        // A unit's duration is a u32 of 90 kHz ticks, and one frame lasts
        // at most ⌈90 000 × den / num⌉ ticks: that must fit.
        if u64::from(VIDEO_TIMESCALE) * u64::from(den) > u64::from(u32::MAX) * u64::from(num) {
            return Err(invalid(
                "fps",
                format!("{num}/{den}"),
                "one frame must last at most 2^32 - 1 ticks of 90 kHz",
            ));
        }
        if c.gop == 0 {
            return Err(invalid("gop", c.gop, "must be ≥ 1"));
        }
        if !(c.i_to_p_ratio.is_finite() && c.i_to_p_ratio >= 1.0) {
            return Err(invalid(
                "i_to_p_ratio",
                c.i_to_p_ratio,
                "must be finite and ≥ 1",
            ));
        }
        let log2_max_frame_num = (u32::BITS - (c.gop - 1).leading_zeros()).clamp(4, 16);
        let params = AvcParams {
            width: c.width,
            height: c.height,
            fps_num: num,
            fps_den: den,
            bitrate_bps: c.video_bitrate_bps,
            log2_max_frame_num,
        };
        let bytes_per_frame = c.video_bitrate_bps as f64 * f64::from(den) / f64::from(num) / 8.0;
        let plan = VideoPlan::new(c.gop, c.i_to_p_ratio, bytes_per_frame, c.seed);
        // The nominal sizes must hold the coded pictures; jitter around them
        // is paid back by later frames. Nominal sizes scale with the
        // bitrate, so the smallest workable bitrate follows from one plan.
        let (i_bytes, p_bytes) = VideoPlan::new(c.gop, c.i_to_p_ratio, 1.0, 0).nominal();
        let i_min = START_CODE.len() + avc::slice(&params, Picture::Idr { idr_pic_id: 0 }).len();
        let p_min = START_CODE.len() + avc::slice(&params, Picture::P { index: 1 }).len();
        let min_bytes_per_frame = (i_min as f64 / i_bytes).max(p_min as f64 / p_bytes);
        if bytes_per_frame < min_bytes_per_frame {
            let minimum_bps = (min_bytes_per_frame * 8.0 * f64::from(num) / f64::from(den)).ceil();
            return Err(SyntheticError::BitrateTooLow {
                track: "video",
                bitrate_bps: c.video_bitrate_bps,
                minimum_bps: minimum_bps as u64,
            });
        }
        Ok(Video {
            params,
            gop: c.gop.into(),
            plan,
            frame: 0,
        })
    }

    fn audio(c: &SyntheticAudio) -> Result<Audio, SyntheticError> {
        if frequency_index(c.sample_rate).is_none() {
            return Err(invalid(
                "audio.sample_rate",
                c.sample_rate,
                "must be an AAC table rate (8000..=96000 Hz)",
            ));
        }
        let channel_config = match c.channels {
            1..=6 => c.channels,
            8 => 7,
            _ => return Err(invalid("audio.channels", c.channels, "must be 1..=6 or 8")),
        };
        let frames_per_second = f64::from(c.sample_rate) / f64::from(AAC_FRAME_SAMPLES);
        let bytes_per_frame = c.bitrate_bps as f64 / 8.0 / frames_per_second;
        let min = silence::min_size(channel_config).unwrap_or(0) as f64;
        let max = 768.0 * f64::from(c.channels); // 6144 bits per channel and frame
        if bytes_per_frame < min {
            return Err(SyntheticError::BitrateTooLow {
                track: "audio",
                bitrate_bps: c.bitrate_bps,
                minimum_bps: (min * 8.0 * frames_per_second).ceil() as u64,
            });
        }
        if bytes_per_frame > max {
            return Err(invalid(
                "audio.bitrate_bps",
                c.bitrate_bps,
                "exceeds AAC's 6144 bits per channel and frame",
            ));
        }
        Ok(Audio {
            sample_rate: c.sample_rate,
            channel_config,
            plan: AudioPlan::new(bytes_per_frame),
            frame: 0,
        })
    }

    /// The video pts of frame `n`, in 90 kHz ticks.
    fn video_pts(&self, n: u64) -> u64 {
        let (num, den) = (
            u128::from(self.video.params.fps_num),
            u128::from(self.video.params.fps_den),
        );
        (u128::from(n) * u128::from(VIDEO_TIMESCALE) * den / num) as u64
    }

    /// Release (= capture) time of the next video frame.
    fn video_release(&self) -> Duration {
        self.start + ticks_to_duration(self.video_pts(self.video.frame), VIDEO_TIMESCALE)
    }

    /// Release (= capture) time of the next audio frame.
    fn audio_release(&self) -> Option<Duration> {
        let a = self.audio.as_ref()?;
        Some(self.start + ticks_to_duration(a.frame * u64::from(AAC_FRAME_SAMPLES), a.sample_rate))
    }

    fn next_video(&mut self) -> AccessUnit {
        let n = self.video.frame;
        let (pts, next_pts) = (self.video_pts(n), self.video_pts(n + 1));
        let capture_time = self.video_release();
        let v = &mut self.video;
        let index = n % v.gop;
        let picture = if index == 0 {
            Picture::Idr {
                idr_pic_id: ((n / v.gop) % 65_536) as u32,
            }
        } else {
            Picture::P { index }
        };
        let mut data = START_CODE.to_vec();
        data.extend(avc::slice(&v.params, picture));
        let target = v.plan.next_target();
        let room = usize::try_from(target)
            .unwrap_or(usize::MAX)
            .saturating_sub(data.len());
        if room >= MIN_FILLER {
            data.extend_from_slice(&START_CODE);
            data.extend(avc::filler(room - START_CODE.len()));
        }
        v.plan.commit(data.len() as u64);
        v.frame += 1;
        AccessUnit {
            track: VIDEO_TRACK,
            pts: pts as i64,
            dts: pts as i64,
            duration: u32::try_from(next_pts - pts)
                .expect("video() rejects frame rates whose frame exceeds u32::MAX ticks"),
            keyframe: index == 0,
            data,
            capture_time,
        }
    }

    fn next_audio(&mut self) -> Option<AccessUnit> {
        let capture_time = self.audio_release()?;
        let a = self.audio.as_mut()?;
        let target = usize::try_from(a.plan.next_target()).unwrap_or(usize::MAX);
        let data = silence::silent_frame(a.channel_config, target)?;
        a.plan.commit(data.len() as u64);
        let pts = (a.frame * u64::from(AAC_FRAME_SAMPLES)) as i64;
        a.frame += 1;
        Some(AccessUnit {
            track: AUDIO_TRACK,
            pts,
            dts: pts,
            duration: AAC_FRAME_SAMPLES,
            keyframe: true,
            data,
            capture_time,
        })
    }
}

impl Source for SyntheticSource {
    fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// Always `Some`: a synthetic source never ends.
    fn next_release(&self) -> Option<Duration> {
        let video = self.video_release();
        Some(self.audio_release().map_or(video, |audio| audio.min(video)))
    }

    /// Video goes first when both tracks release at the same time.
    fn poll_next(&mut self, now: Duration) -> Option<AccessUnit> {
        let video = self.video_release();
        match self.audio_release() {
            Some(audio) if audio < video => (audio <= now).then(|| self.next_audio()).flatten(),
            _ => (video <= now).then(|| self.next_video()),
        }
    }
}
