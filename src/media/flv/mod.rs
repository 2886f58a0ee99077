//! FLV (Adobe Flash Video, version 1), written and read by hand: the file
//! header, tags with previous-tag-size fields, H.264 in AVC packets
//! (sequence header = avcC, then NAL units with a composition time offset),
//! AAC in AAC packets (sequence header = AudioSpecificConfig, then raw
//! frames), and a minimal `onMetaData` script tag. RTMP carries the same
//! tag bodies.
//!
//! Invariants:
//! * FLV counts time in milliseconds. The muxer rounds each timestamp from
//!   the track's timescale to the nearest ms (pts and dts separately, so the
//!   composition offset is their difference); the demuxer converts back to
//!   the canonical timescale (90 kHz video, sample rate audio), rounding to
//!   the nearest tick. A round trip is therefore exact to the millisecond,
//!   and exact to the tick when timestamps fall on whole milliseconds.
//! * FLV carries no durations: the demuxer gives nominal ones (the
//!   `onMetaData` frame rate for video, 0 without one; the AAC frame length
//!   for audio).
//! * Demuxed tracks are fixed: video is track 1, audio track 2.
//! * Parsers never panic: short input is [`FlvError::Truncated`], anything
//!   else malformed is another variant.

mod demux;
mod mux;
mod script;
mod tag;
#[cfg(test)]
mod tests;

pub use demux::{demux, FlvDemuxer};
pub use mux::FlvMuxer;
pub use tag::{FlvTag, TagKind};

use crate::media::h264::H264Error;

/// The track id the demuxer gives video.
pub const VIDEO_TRACK: u32 = 1;
/// The track id the demuxer gives audio.
pub const AUDIO_TRACK: u32 = 2;

/// Errors while muxing or demuxing FLV.
#[derive(Clone, Debug, thiserror::Error)]
pub enum FlvError {
    /// The input ends inside a header or tag (more bytes may complete it).
    #[error("{what} at byte {offset} needs {needed} bytes, only {available} remain")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    /// The file header is not an FLV header.
    #[error("not an FLV header: {reason}")]
    BadHeader { reason: String },
    /// A tag is malformed.
    #[error("malformed {what} tag at byte {offset}: {reason}")]
    BadTag {
        what: &'static str,
        offset: usize,
        reason: String,
    },
    /// A codec or tag feature this module does not carry.
    #[error("unsupported {what}: {value}")]
    Unsupported { what: &'static str, value: u32 },
    /// Media data arrived before the sequence header that configures it.
    #[error("{what} data before its sequence header")]
    MissingSequenceHeader { what: &'static str },
    /// An H.264 configuration or payload is malformed.
    #[error(transparent)]
    H264(#[from] H264Error),
    /// The muxer's tracks are not one H.264 and/or one AAC track.
    #[error("cannot mux track {track}: {reason}")]
    BadTrack { track: u32, reason: String },
    /// A timestamp does not fit FLV's fields (unsigned 32-bit ms, signed
    /// 24-bit ms composition offset).
    #[error("track {track}: {what} {value} ms does not fit FLV")]
    Timestamp {
        track: u32,
        what: &'static str,
        value: i64,
    },
}

impl FlvError {
    /// Whether more bytes could complete the input (as opposed to it being
    /// malformed).
    pub fn is_incomplete(&self) -> bool {
        matches!(self, FlvError::Truncated { .. })
    }
}

use crate::media::rescale;
