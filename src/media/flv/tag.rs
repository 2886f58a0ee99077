//! FLV framing: the 9-byte file header and tags (11-byte tag header, body,
//! 4-byte previous tag size). No codec knowledge here.
//!
//! A tag's timestamp is 32-bit milliseconds: the low 24 bits in
//! `Timestamp`, the high 8 in `TimestampExtended`. Stream ids are always 0.
//! Previous-tag-size fields are written correctly and not checked on read
//! (some encoders get them wrong).

use super::FlvError;

/// Bytes of the file header.
pub const HEADER_LEN: usize = 9;
/// Bytes of a tag header.
pub const TAG_HEADER_LEN: usize = 11;
/// Largest tag body (24-bit size field), bytes.
pub const MAX_BODY: usize = 0xff_ffff;
/// Largest `DataOffset` the header may declare, bytes. Version 1 headers
/// are 9 bytes; the limit leaves room for padding while keeping a hostile
/// 32-bit offset from making a reader buffer gigabytes before the first tag.
pub const MAX_DATA_OFFSET: usize = 1024;

/// What a tag carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagKind {
    /// Audio (type 8).
    Audio,
    /// Video (type 9).
    Video,
    /// Script data, AMF0 (type 18).
    Script,
}

impl TagKind {
    fn code(self) -> u8 {
        match self {
            TagKind::Audio => 8,
            TagKind::Video => 9,
            TagKind::Script => 18,
        }
    }
}

/// One tag: its kind, timestamp (ms) and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlvTag {
    /// What the body holds.
    pub kind: TagKind,
    /// Milliseconds (the decode time for video).
    pub timestamp: u32,
    /// The tag body.
    pub body: Vec<u8>,
}

/// The file header (signature, version 1, which streams are present) and
/// `PreviousTagSize0`.
pub fn write_header(audio: bool, video: bool) -> Vec<u8> {
    let flags = (u8::from(audio) << 2) | u8::from(video);
    let mut out = vec![b'F', b'L', b'V', 1, flags];
    out.extend_from_slice(&(HEADER_LEN as u32).to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out
}

/// Appends `tag` and its previous-tag-size field to `out`. Bodies over
/// [`MAX_BODY`] bytes do not fit.
pub fn write_tag(out: &mut Vec<u8>, tag: &FlvTag) -> Result<(), FlvError> {
    if tag.body.len() > MAX_BODY {
        let reason = format!("body of {} bytes exceeds {MAX_BODY}", tag.body.len());
        return Err(FlvError::BadTag {
            what: "outgoing",
            offset: out.len(),
            reason,
        });
    }
    let size = (tag.body.len() as u32).to_be_bytes();
    let ts = tag.timestamp.to_be_bytes();
    out.extend_from_slice(&[
        tag.kind.code(),
        size[1],
        size[2],
        size[3],
        ts[1],
        ts[2],
        ts[3],
        ts[0],
        0,
        0,
        0,
    ]);
    out.extend_from_slice(&tag.body);
    out.extend_from_slice(&((TAG_HEADER_LEN + tag.body.len()) as u32).to_be_bytes());
    Ok(())
}

/// Parses the file header at the start of `data`; returns the number of
/// bytes up to the first tag (header, padding, `PreviousTagSize0`).
pub fn parse_header(data: &[u8]) -> Result<usize, FlvError> {
    let truncated = |needed| FlvError::Truncated {
        what: "FLV header",
        offset: 0,
        needed,
        available: data.len(),
    };
    let head = data.get(..HEADER_LEN).ok_or_else(|| {
        if data.iter().zip(b"FLV").any(|(a, b)| a != b) {
            FlvError::BadHeader {
                reason: "signature is not FLV".into(),
            }
        } else {
            truncated(HEADER_LEN)
        }
    })?;
    if &head[..3] != b"FLV" {
        return Err(FlvError::BadHeader {
            reason: format!("signature {:02x?}", &head[..3]),
        });
    }
    if head[3] != 1 {
        return Err(FlvError::BadHeader {
            reason: format!("version {}", head[3]),
        });
    }
    let offset = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) as usize;
    if offset < HEADER_LEN {
        return Err(FlvError::BadHeader {
            reason: format!("data offset {offset}"),
        });
    }
    if offset > MAX_DATA_OFFSET {
        return Err(FlvError::BadHeader {
            reason: format!("data offset {offset} exceeds the {MAX_DATA_OFFSET}-byte limit"),
        });
    }
    let first_tag = offset.checked_add(4).ok_or(FlvError::BadHeader {
        reason: "data offset overflows".into(),
    })?;
    if data.len() < first_tag {
        return Err(truncated(first_tag));
    }
    Ok(first_tag)
}

/// What [`parse_tag`] found in one complete tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParsedTag {
    /// An audio, video or script tag.
    Tag(FlvTag),
    /// A tag of another type, which this module skips.
    Other,
    /// An encrypted tag (the `Filter` bit set): its body cannot be read
    /// without the key, so it is skipped too.
    Filtered {
        /// The tag's first byte (filter bit and type).
        type_byte: u8,
    },
}

/// Parses the tag at the start of `data` (`offset` is its position in the
/// stream, for errors). Returns what it holds and the bytes it took,
/// including its previous-tag-size field; a skipped tag has a length too,
/// so the caller can step over it.
pub fn parse_tag(data: &[u8], offset: usize) -> Result<(ParsedTag, usize), FlvError> {
    let available = data.len();
    let head = data.get(..TAG_HEADER_LEN).ok_or(FlvError::Truncated {
        what: "tag header",
        offset,
        needed: TAG_HEADER_LEN,
        available,
    })?;
    let size = u32::from_be_bytes([0, head[1], head[2], head[3]]) as usize;
    let total = TAG_HEADER_LEN + size + 4;
    let body = data
        .get(TAG_HEADER_LEN..TAG_HEADER_LEN + size)
        .filter(|_| available >= total)
        .ok_or(FlvError::Truncated {
            what: "tag",
            offset,
            needed: total,
            available,
        })?;
    if head[0] & 0x20 != 0 {
        let type_byte = head[0];
        return Ok((ParsedTag::Filtered { type_byte }, total));
    }
    let timestamp = u32::from_be_bytes([head[7], head[4], head[5], head[6]]);
    let kind = match head[0] & 0x1f {
        8 => TagKind::Audio,
        9 => TagKind::Video,
        18 => TagKind::Script,
        _ => return Ok((ParsedTag::Other, total)),
    };
    Ok((
        ParsedTag::Tag(FlvTag {
            kind,
            timestamp,
            body: body.to_vec(),
        }),
        total,
    ))
}
