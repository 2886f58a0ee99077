//! Fragmented MP4 (ISO/IEC 14496-12 with `mvex`): one init segment
//! (`ftyp` + `moov`) and any number of fragments (`moof` + `mdat`), as CMAF,
//! HLS fMP4 and DASH carry them. Boxes are encoded and decoded with the
//! `mp4-atom` crate; this module maps them to and from [`Track`]s and
//! canonical [`AccessUnit`]s.
//!
//! Invariants:
//! * Output is deterministic: fixed brands (`iso6`, compatible `iso6`,
//!   `mp41`), zero creation and modification times, no encoder name.
//! * Video samples in `mdat` are AVCC with 4-byte lengths; audio samples are
//!   raw AAC frames. Parameter sets live only in `avcC`, never in band.
//! * The muxer writes the track's timescale as the `mdhd` timescale, so
//!   mux → demux is exact: `dts = tfdt + Σ durations`, `pts = dts +
//!   composition offset` (signed, `trun` version 1). Files from elsewhere
//!   (ffmpeg uses 15360 for 30 fps) are converted to the canonical
//!   timescale, rounded to the nearest tick.
//! * Parsers never panic: a box that runs past its buffer is
//!   [`Fmp4Error::Truncated`], anything else malformed is another variant.
//!
//! [`Track`]: crate::media::Track
//! [`AccessUnit`]: crate::media::AccessUnit

mod demux;
mod init;
mod mux;
#[cfg(test)]
mod tests;

pub use demux::{demux, Fmp4Demuxer};
pub use init::{build_init_segment, parse_init_segment};
pub use mux::{segment_ranges, Fmp4Muxer};

use crate::media::h264::H264Error;

/// `sample_flags` of a sync sample: depends on no other sample
/// (`sample_depends_on` = 2), `sample_is_non_sync_sample` = 0.
pub const SYNC_SAMPLE_FLAGS: u32 = 0x0200_0000;
/// `sample_flags` of a non-sync sample: depends on others
/// (`sample_depends_on` = 1), `sample_is_non_sync_sample` = 1.
pub const NON_SYNC_SAMPLE_FLAGS: u32 = 0x0101_0000;
/// The `sample_is_non_sync_sample` bit of `sample_flags`.
const NON_SYNC_BIT: u32 = 0x0001_0000;

/// Errors while muxing or demuxing fragmented MP4.
#[derive(Debug, thiserror::Error)]
pub enum Fmp4Error {
    /// A box runs past the end of the buffer (more bytes may complete it).
    #[error("box {kind:?} at byte {offset} needs {needed} bytes, only {available} remain")]
    Truncated {
        /// The box type, or `"????"` when even the header is cut.
        kind: String,
        /// Byte offset of the box in the buffer.
        offset: usize,
        /// Bytes the box declares.
        needed: u64,
        /// Bytes left in the buffer from `offset`.
        available: usize,
    },
    /// A box header is malformed (size smaller than its header).
    #[error("malformed box header at byte {offset}: {reason}")]
    BadHeader { offset: usize, reason: String },
    /// `mp4-atom` rejected a box body.
    #[error("cannot {action} {kind} box: {source}")]
    Atom {
        /// `"encode"` or `"decode"`.
        action: &'static str,
        /// The box type.
        kind: &'static str,
        #[source]
        source: mp4_atom::Error,
    },
    /// A required box is absent.
    #[error("no {kind} box {context}")]
    MissingBox { kind: &'static str, context: String },
    /// A fragment or access unit names a track the init segment lacks.
    #[error("unknown track {track}")]
    UnknownTrack { track: u32 },
    /// A codec this module does not carry.
    #[error("track {track}: unsupported codec {codec}")]
    UnsupportedCodec { track: u32, codec: String },
    /// The track's H.264 configuration is unusable.
    #[error("track {track}: {source}")]
    H264 {
        track: u32,
        #[source]
        source: H264Error,
    },
    /// A timestamp or offset does not fit the box field that carries it.
    #[error("track {track}: {what} {value} is out of range")]
    OutOfRange {
        track: u32,
        what: &'static str,
        value: i64,
    },
    /// Decoding timestamps go backwards within a track.
    #[error("track {track}: dts {dts} follows dts {previous}")]
    DtsOrder { track: u32, previous: i64, dts: i64 },
    /// A sample's data lies outside the buffer.
    #[error(
        "track {track}: sample of {size} bytes at byte {offset} lies outside {available} bytes"
    )]
    SampleOutOfRange {
        track: u32,
        offset: u64,
        size: u32,
        available: usize,
    },
    /// A sample's data overlaps bytes an earlier sample of the segment
    /// already took.
    #[error(
        "track {track}: sample of {size} bytes at byte {offset} overlaps the sample at bytes {previous:?}"
    )]
    SampleOverlap {
        track: u32,
        offset: u64,
        size: u32,
        previous: std::ops::Range<u64>,
    },
}

impl Fmp4Error {
    /// Whether more bytes could complete the input (as opposed to it being
    /// malformed).
    pub fn is_incomplete(&self) -> bool {
        matches!(self, Fmp4Error::Truncated { .. })
    }
}

/// One top-level box located in a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BoxSpan {
    /// The four-character type.
    kind: [u8; 4],
    /// Offset of the box header in the buffer, bytes.
    start: usize,
    /// Offset of the body (after the 8- or 16-byte header), bytes.
    body: usize,
    /// Offset one past the box's last byte.
    end: usize,
}

/// Lists the top-level boxes of `data` in order. A size of 0 means "to the
/// end of the buffer"; a size of 1 takes the 64-bit `largesize`.
fn top_level_boxes(data: &[u8]) -> Result<Vec<BoxSpan>, Fmp4Error> {
    let mut spans = Vec::new();
    let mut start = 0;
    while start < data.len() {
        let available = data.len() - start;
        let truncated = |kind: String, needed: u64| Fmp4Error::Truncated {
            kind,
            offset: start,
            needed,
            available,
        };
        let Some(head) = data.get(start..start + 8) else {
            return Err(truncated("????".into(), 8));
        };
        let kind = [head[4], head[5], head[6], head[7]];
        let name = String::from_utf8_lossy(&kind).into_owned();
        let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let (size, header) = match size32 {
            0 => (available as u64, 8),
            1 => {
                let large = data
                    .get(start + 8..start + 16)
                    .ok_or_else(|| truncated(name.clone(), 16))?;
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(large);
                (u64::from_be_bytes(bytes), 16)
            }
            n => (u64::from(n), 8),
        };
        if size < header as u64 {
            return Err(Fmp4Error::BadHeader {
                offset: start,
                reason: format!("{name} box of {size} bytes"),
            });
        }
        if size > available as u64 {
            return Err(truncated(name, size));
        }
        let end = start + size as usize;
        spans.push(BoxSpan {
            kind,
            start,
            body: start + header,
            end,
        });
        start = end;
    }
    Ok(spans)
}

/// Wraps an `mp4-atom` decode error with the box it came from.
fn decode_err(kind: &'static str) -> impl FnOnce(mp4_atom::Error) -> Fmp4Error {
    move |source| Fmp4Error::Atom {
        action: "decode",
        kind,
        source,
    }
}

/// Wraps an `mp4-atom` encode error with the box it came from.
fn encode_err(kind: &'static str) -> impl FnOnce(mp4_atom::Error) -> Fmp4Error {
    move |source| Fmp4Error::Atom {
        action: "encode",
        kind,
        source,
    }
}
