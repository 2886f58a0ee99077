//! Media: what every protocol carries, and how a viewer would see it.
//!
//! The unit of media is the [`AccessUnit`]: one coded video picture or one
//! audio frame of one [`Track`], with its timestamps and the simulated time
//! it was captured. Sources produce them, containers (MPEG-TS, fragmented
//! MP4, FLV) carry them, protocols move them, and the player presents them.
//!
//! The canonical form, which every muxer takes and every demuxer gives back:
//! * H.264/H.265 access units are Annex B with 4-byte start codes, without
//!   in-band parameter sets or access unit delimiters: parameter sets live in
//!   the track's [`CodecConfig`]. Containers that need them in band (TS)
//!   insert them before each keyframe, and their demuxers take them out.
//! * AAC access units are raw frames (no ADTS header); the
//!   AudioSpecificConfig lives in the track's [`CodecConfig`].
//! * Timestamps are integers in the track's `timescale` (90 kHz for video,
//!   the sample rate for audio), so every container converts exactly.

pub mod aac;
pub mod decode;
pub mod file_source;
pub mod flv;
pub mod fmp4;
pub mod h264;
pub mod h265;
pub mod synthetic;
#[cfg(test)]
pub(crate) mod testkit;
pub mod ts;
mod types;

pub use types::{
    rescale, ticks_to_duration, AccessUnit, CaptureClock, Codec, CodecConfig, Source, Track,
};
