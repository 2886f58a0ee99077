//! The FLV demuxer: bytes in (any chunking), canonical access units out.
//!
//! Sequence headers define the tracks (video = [`VIDEO_TRACK`], audio =
//! [`AUDIO_TRACK`]); media tags before them are an error. A tag whose body
//! is malformed is consumed before its error is returned, so a caller may
//! keep feeding the demuxer after such an error: the next call continues
//! after the bad tag. Units parsed before a bad tag are never lost: a call
//! returns them, and the error comes from the next call (or [`finish`]).
//! Encrypted (filtered) tags cannot be read; they are skipped, and the
//! first one is reported as [`FlvError::Unsupported`]. In-band parameter
//! sets and access unit delimiters are removed (canonical form).
//!
//! [`finish`]: FlvDemuxer::finish

use super::mux::{CODEC_AVC, FORMAT_AAC};
use super::script::{frame_rate_of, read_metadata, Value};
use super::tag::{parse_header, parse_tag, FlvTag, ParsedTag, TagKind};
use super::{rescale, FlvError, AUDIO_TRACK, VIDEO_TRACK};
use crate::media::aac::AacOutput;
use crate::media::h264::{avcc_to_annex_b, canonicalize, parse_avcc, sps_dimensions};
use crate::media::{AccessUnit, Codec, CodecConfig, Track};

/// The canonical video timescale, ticks per second.
const VIDEO_TIMESCALE: u32 = 90_000;

/// Reads an FLV byte stream (sans-IO: bytes in, units out).
#[derive(Clone, Debug, Default)]
pub struct FlvDemuxer {
    /// Bytes received and not yet dropped; `pending[..cursor]` is parsed.
    pending: Vec<u8>,
    cursor: usize,
    /// Stream offset of `pending[0]`, bytes.
    base: usize,
    header_seen: bool,
    /// The video track and its NAL length size, bytes.
    video: Option<(Track, usize)>,
    /// The audio track and its samples per frame.
    audio: Option<(Track, u32)>,
    /// From `onMetaData`.
    frame_rate: Option<(u32, u32)>,
    /// An error met after units that were returned first; the next call
    /// reports it.
    deferred: Option<FlvError>,
    /// Whether an encrypted tag has been reported (later ones are skipped
    /// silently).
    filtered_reported: bool,
}

impl FlvDemuxer {
    /// A demuxer expecting the FLV file header first.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tracks whose sequence headers have arrived: video, then audio.
    pub fn tracks(&self) -> Vec<Track> {
        let video = self.video.as_ref().map(|(t, _)| t.clone());
        video
            .into_iter()
            .chain(self.audio.as_ref().map(|(t, _)| t.clone()))
            .collect()
    }

    /// Feeds `data`; returns the access units of every tag it completes, in
    /// tag order. Incomplete trailing bytes wait for the next call.
    ///
    /// Parsing stops at a malformed tag (consumed). If units came before
    /// it, they are returned and the error waits for the next call, which
    /// returns only the error and keeps its `data`; the call after that
    /// parses on from the bad tag. To drain bytes already fed after an
    /// error, call again with no data.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<Vec<AccessUnit>, FlvError> {
        self.pending.extend_from_slice(data);
        if let Some(error) = self.deferred.take() {
            return Err(error);
        }
        let mut out = Vec::new();
        let result = self.parse_pending(&mut out);
        self.pending.drain(..self.cursor);
        self.base += self.cursor;
        self.cursor = 0;
        match result {
            Ok(()) => Ok(out),
            Err(error) if out.is_empty() => Err(error),
            Err(error) => {
                self.deferred = Some(error);
                Ok(out)
            }
        }
    }

    /// Declares the end of the stream: an error if one is still waiting to
    /// be reported, or if the stream stopped inside the header or a tag.
    pub fn finish(&self) -> Result<(), FlvError> {
        if let Some(error) = &self.deferred {
            return Err(error.clone());
        }
        let rest = &self.pending[self.cursor..];
        if !self.header_seen {
            parse_header(rest)?;
        } else if !rest.is_empty() {
            parse_tag(rest, self.base + self.cursor)?;
        }
        Ok(())
    }

    fn parse_pending(&mut self, out: &mut Vec<AccessUnit>) -> Result<(), FlvError> {
        if !self.header_seen {
            match parse_header(&self.pending) {
                Ok(len) => {
                    self.cursor = len;
                    self.header_seen = true;
                }
                Err(e) if e.is_incomplete() => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        loop {
            let offset = self.base + self.cursor;
            let (parsed, len) = match parse_tag(&self.pending[self.cursor..], offset) {
                Ok(parsed) => parsed,
                Err(e) if e.is_incomplete() => return Ok(()),
                Err(e) => return Err(e),
            };
            // Consumed before it is interpreted, so an error never stalls.
            self.cursor += len;
            match parsed {
                ParsedTag::Tag(tag) => out.extend(self.handle_tag(tag, offset)?),
                ParsedTag::Other => {}
                ParsedTag::Filtered { type_byte } if !self.filtered_reported => {
                    self.filtered_reported = true;
                    return Err(FlvError::Unsupported {
                        what: "encrypted (filtered) tag, skipped",
                        value: u32::from(type_byte),
                    });
                }
                ParsedTag::Filtered { .. } => {}
            }
        }
    }

    fn handle_tag(&mut self, tag: FlvTag, offset: usize) -> Result<Option<AccessUnit>, FlvError> {
        match tag.kind {
            TagKind::Script => {
                if let Some(Value::Number(fps)) =
                    read_metadata(&tag.body).and_then(|m| m.get("framerate").copied())
                {
                    self.frame_rate = frame_rate_of(fps);
                    if let Some((video, _)) = &mut self.video {
                        video.frame_rate = self.frame_rate;
                    }
                }
                Ok(None)
            }
            TagKind::Video => self.video_tag(&tag, offset),
            TagKind::Audio => self.audio_tag(&tag, offset),
        }
    }

    fn video_tag(&mut self, tag: &FlvTag, offset: usize) -> Result<Option<AccessUnit>, FlvError> {
        let bad = |reason: &str| FlvError::BadTag {
            what: "video",
            offset,
            reason: reason.into(),
        };
        let first = *tag.body.first().ok_or_else(|| bad("empty body"))?;
        let frame_type = first >> 4;
        if frame_type == 5 {
            return Ok(None); // video info / command frame
        }
        if first & 0x80 != 0 || first & 0x0f != CODEC_AVC {
            return Err(FlvError::Unsupported {
                what: "video codec (byte)",
                value: u32::from(first),
            });
        }
        let head = tag
            .body
            .get(..5)
            .ok_or_else(|| bad("AVC packet shorter than 5 bytes"))?;
        let payload = &tag.body[5..];
        let cto = (i32::from_be_bytes([head[2], head[3], head[4], 0]) >> 8) as i64;
        match head[1] {
            0 => {
                let avcc = parse_avcc(payload)?;
                let sps = avcc.sps.first().ok_or_else(|| bad("avcC without SPS"))?;
                let (width, height) = sps_dimensions(sps)?;
                let config = CodecConfig::H264 {
                    sps: avcc.sps.clone(),
                    pps: avcc.pps,
                    width,
                    height,
                };
                let (id, timescale, frame_rate) = (VIDEO_TRACK, VIDEO_TIMESCALE, self.frame_rate);
                self.video = Some((
                    Track {
                        id,
                        codec: Codec::H264,
                        timescale,
                        config,
                        frame_rate,
                    },
                    avcc.length_size,
                ));
                Ok(None)
            }
            1 => {
                let (track, length_size) = self
                    .video
                    .as_ref()
                    .ok_or(FlvError::MissingSequenceHeader { what: "video" })?;
                let (data, _, _) = canonicalize(&avcc_to_annex_b(payload, *length_size)?);
                if data.is_empty() {
                    return Ok(None);
                }
                let ms = i64::from(tag.timestamp);
                let pts = rescale(ms + cto, 1000, VIDEO_TIMESCALE);
                let duration = match track.frame_rate {
                    Some((num, den)) if num > 0 => rescale(i64::from(den), num, VIDEO_TIMESCALE),
                    _ => 0,
                };
                Ok(Some(AccessUnit {
                    track: track.id,
                    pts,
                    dts: rescale(ms, 1000, VIDEO_TIMESCALE),
                    duration: u32::try_from(duration).unwrap_or(0),
                    keyframe: frame_type == 1,
                    data,
                    capture_time: crate::media::ticks_to_duration(pts, VIDEO_TIMESCALE),
                }))
            }
            2 => Ok(None), // end of sequence
            other => Err(bad(&format!("AVC packet type {other}"))),
        }
    }

    fn audio_tag(&mut self, tag: &FlvTag, offset: usize) -> Result<Option<AccessUnit>, FlvError> {
        let bad = |reason: &str| FlvError::BadTag {
            what: "audio",
            offset,
            reason: reason.into(),
        };
        let first = *tag.body.first().ok_or_else(|| bad("empty body"))?;
        if first >> 4 != FORMAT_AAC {
            return Err(FlvError::Unsupported {
                what: "audio format",
                value: u32::from(first >> 4),
            });
        }
        let packet_type = *tag
            .body
            .get(1)
            .ok_or_else(|| bad("AAC packet shorter than 2 bytes"))?;
        let payload = &tag.body[2..];
        match packet_type {
            0 => {
                let output = AacOutput::parse(payload)
                    .map_err(|e| bad(&format!("unreadable AudioSpecificConfig: {e}")))?;
                let (sample_rate, channels) = (output.sample_rate, output.channel_config);
                let config = CodecConfig::Aac {
                    asc: payload.to_vec(),
                    sample_rate,
                    channels,
                };
                let track = Track {
                    id: AUDIO_TRACK,
                    codec: Codec::Aac,
                    timescale: sample_rate,
                    config,
                    frame_rate: None,
                };
                self.audio = Some((track, output.frame_length));
                Ok(None)
            }
            1 => {
                let (track, frame_samples) = self
                    .audio
                    .as_ref()
                    .ok_or(FlvError::MissingSequenceHeader { what: "audio" })?;
                let ts = rescale(i64::from(tag.timestamp), 1000, track.timescale);
                Ok(Some(AccessUnit {
                    track: track.id,
                    pts: ts,
                    dts: ts,
                    duration: *frame_samples,
                    keyframe: true,
                    data: payload.to_vec(),
                    capture_time: crate::media::ticks_to_duration(ts, track.timescale),
                }))
            }
            other => Err(bad(&format!("AAC packet type {other}"))),
        }
    }
}

/// Demuxes a whole FLV file. Returns the tracks and all access units in
/// tag order; a file cut inside a tag is [`FlvError::Truncated`].
pub fn demux(data: &[u8]) -> Result<(Vec<Track>, Vec<AccessUnit>), FlvError> {
    let mut demuxer = FlvDemuxer::new();
    let aus = demuxer.handle_input(data)?;
    demuxer.finish()?;
    Ok((demuxer.tracks(), aus))
}
