//! MPEG transport stream (ISO/IEC 13818-1): the container of UDP/TS and
//! HLS, as a sans-IO muxer and demuxer over the canonical access units of
//! [`crate::media`].
//!
//! * [`packet`]: the 188-byte packet and its adaptation field (PCR, random
//!   access, stuffing).
//! * [`psi`]: PAT and PMT sections with their CRC32.
//! * [`pes`]: PES headers, 33-bit PTS/DTS, 90 kHz conversion, unwrapping.
//! * [`mux`]: [`TsMuxer`], units in, packets out.
//! * [`demux`]: [`TsDemuxer`], bytes in, [`TsEvent`]s (tracks, units, errors) out.
//! * `es`: the demuxer's per-stream state. AAC travels in ADTS framing,
//!   read and written with [`crate::media::aac`].
//!
//! What round-trips exactly through mux → demux: data, pts, dts, keyframe
//! and track configuration for every unit; audio durations (1024 samples a
//! frame); video durations, derived from the next unit's DTS, except the
//! last unit of a stream, which repeats its predecessor's. Timestamps of
//! timescales ≤ 90 kHz survive the 90 kHz trip exactly, negative ones too:
//! a track's first DTS must lie within ±2^32 ticks of 90 kHz (read back as
//! signed 33 bits), later ones within ±2^32 of their predecessor. `capture_time` and
//! `frame_rate` are not carried (zero / `None` after demuxing).

pub mod demux;
mod es;
pub mod mux;
pub mod packet;
pub mod pes;
pub mod psi;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_ffmpeg;

pub use demux::{TsDemuxError, TsDemuxer, TsEvent};
pub use mux::{TsMuxConfig, TsMuxError, TsMuxer};

use crate::media::Codec;

/// The program number the muxer writes.
pub const PROGRAM_NUMBER: u16 = 1;
/// The PID of the muxer's PMT.
pub const PMT_PID: u16 = 0x1000;
/// stream_type of H.264 video.
pub const STREAM_TYPE_H264: u8 = 0x1b;
/// stream_type of H.265 video.
pub const STREAM_TYPE_H265: u8 = 0x24;
/// stream_type of AAC audio in ADTS framing.
pub const STREAM_TYPE_AAC_ADTS: u8 = 0x0f;

/// The PMT stream_type of a codec.
pub fn stream_type(codec: Codec) -> u8 {
    match codec {
        Codec::H264 => STREAM_TYPE_H264,
        Codec::H265 => STREAM_TYPE_H265,
        Codec::Aac => STREAM_TYPE_AAC_ADTS,
    }
}

/// The codec a PMT stream_type carries, if streamsim supports it.
pub fn codec_of(stream_type: u8) -> Option<Codec> {
    match stream_type {
        STREAM_TYPE_H264 => Some(Codec::H264),
        STREAM_TYPE_H265 => Some(Codec::H265),
        STREAM_TYPE_AAC_ADTS => Some(Codec::Aac),
        _ => None,
    }
}
