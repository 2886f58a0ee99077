//! The FLV muxer: a file header, `onMetaData` and the sequence headers
//! once, then one tag per access unit. The same tag bodies serve RTMP
//! (see [`FlvMuxer::start_tags`] and [`FlvMuxer::tag`]).
//!
//! Invariants: at most one H.264 and one AAC track; sequence headers carry
//! timestamp 0 and precede all media tags; timestamps are rounded to the
//! nearest millisecond (see the module docs of [`crate::media::flv`]).

use super::script::{write_metadata, Value};
use super::tag::{write_header, write_tag, FlvTag, TagKind};
use super::{rescale, FlvError};
use crate::media::h264::{annex_b_to_avcc, build_avcc};
use crate::media::{AccessUnit, Codec, CodecConfig, Track};

/// FLV `CodecID` of AVC.
pub(super) const CODEC_AVC: u8 = 7;
/// FLV `SoundFormat` of AAC.
pub(super) const FORMAT_AAC: u8 = 10;
/// The first byte of every AAC audio tag: AAC, 44 kHz, 16-bit, stereo (the
/// rate and channel bits are fixed for AAC; the ASC tells the truth).
const AAC_TAG_BYTE: u8 = (FORMAT_AAC << 4) | (3 << 2) | (1 << 1) | 1;

/// Writes FLV for one H.264 and/or one AAC track (sans-IO: bytes out).
#[derive(Clone, Debug)]
pub struct FlvMuxer {
    video: Option<Track>,
    audio: Option<Track>,
}

impl FlvMuxer {
    /// A muxer for `tracks`: at most one H.264 track and one AAC track.
    pub fn new(tracks: &[Track]) -> Result<Self, FlvError> {
        let mut muxer = FlvMuxer {
            video: None,
            audio: None,
        };
        for track in tracks {
            let slot = match track.codec {
                Codec::H264 => &mut muxer.video,
                Codec::Aac => &mut muxer.audio,
                Codec::H265 => {
                    return Err(FlvError::BadTrack {
                        track: track.id,
                        reason: "H.265 needs enhanced FLV".into(),
                    })
                }
            };
            if slot.replace(track.clone()).is_some() {
                return Err(FlvError::BadTrack {
                    track: track.id,
                    reason: "a second track of its kind".into(),
                });
            }
        }
        Ok(muxer)
    }

    /// The file header, then [`FlvMuxer::start_tags`], as bytes.
    pub fn header(&self) -> Result<Vec<u8>, FlvError> {
        let mut out = write_header(self.audio.is_some(), self.video.is_some());
        for tag in self.start_tags()? {
            write_tag(&mut out, &tag)?;
        }
        Ok(out)
    }

    /// `onMetaData`, the AVC sequence header (avcC) and the AAC sequence
    /// header (AudioSpecificConfig), all at timestamp 0.
    pub fn start_tags(&self) -> Result<Vec<FlvTag>, FlvError> {
        let mut tags = vec![FlvTag {
            kind: TagKind::Script,
            timestamp: 0,
            body: self.metadata(),
        }];
        if let Some(Track {
            config: CodecConfig::H264 { sps, pps, .. },
            ..
        }) = &self.video
        {
            let mut body = vec![(1 << 4) | CODEC_AVC, 0, 0, 0, 0];
            body.extend(build_avcc(sps, pps)?);
            tags.push(FlvTag {
                kind: TagKind::Video,
                timestamp: 0,
                body,
            });
        }
        if let Some(Track {
            config: CodecConfig::Aac { asc, .. },
            ..
        }) = &self.audio
        {
            let mut body = vec![AAC_TAG_BYTE, 0];
            body.extend_from_slice(asc);
            tags.push(FlvTag {
                kind: TagKind::Audio,
                timestamp: 0,
                body,
            });
        }
        Ok(tags)
    }

    fn metadata(&self) -> Vec<u8> {
        let mut entries = Vec::new();
        if let Some(video) = &self.video {
            if let CodecConfig::H264 { width, height, .. } = video.config {
                entries.push(("width", Value::Number(f64::from(width))));
                entries.push(("height", Value::Number(f64::from(height))));
            }
            if let Some((num, den)) = video.frame_rate.filter(|&(_, den)| den > 0) {
                entries.push(("framerate", Value::Number(f64::from(num) / f64::from(den))));
            }
            entries.push(("videocodecid", Value::Number(f64::from(CODEC_AVC))));
        }
        if let Some(audio) = &self.audio {
            if let CodecConfig::Aac {
                sample_rate,
                channels,
                ..
            } = audio.config
            {
                entries.push(("audiosamplerate", Value::Number(f64::from(sample_rate))));
                entries.push(("audiosamplesize", Value::Number(16.0)));
                entries.push(("stereo", Value::Bool(channels >= 2)));
            }
            entries.push(("audiocodecid", Value::Number(f64::from(FORMAT_AAC))));
        }
        write_metadata(&entries)
    }

    /// The tag carrying `au`: its dts rounded to ms as the tag timestamp,
    /// for video the composition offset `round(pts) − round(dts)` in ms.
    pub fn tag(&self, au: &AccessUnit) -> Result<FlvTag, FlvError> {
        let ms = |track: &Track, ts: i64| rescale(ts, track.timescale, 1000);
        let bad_time = |what, value| FlvError::Timestamp {
            track: au.track,
            what,
            value,
        };
        if let Some(video) = self.video.as_ref().filter(|t| t.id == au.track) {
            let dts = ms(video, au.dts);
            let cto = ms(video, au.pts) - dts;
            if !(-0x80_0000..0x80_0000).contains(&cto) {
                return Err(bad_time("composition offset", cto));
            }
            let frame_type = if au.keyframe { 1 } else { 2 };
            let cto = (cto as i32).to_be_bytes();
            let mut body = vec![(frame_type << 4) | CODEC_AVC, 1, cto[1], cto[2], cto[3]];
            body.extend(annex_b_to_avcc(&au.data));
            let timestamp = u32::try_from(dts).map_err(|_| bad_time("dts", dts))?;
            return Ok(FlvTag {
                kind: TagKind::Video,
                timestamp,
                body,
            });
        }
        if let Some(audio) = self.audio.as_ref().filter(|t| t.id == au.track) {
            let dts = ms(audio, au.dts);
            let mut body = vec![AAC_TAG_BYTE, 1];
            body.extend_from_slice(&au.data);
            let timestamp = u32::try_from(dts).map_err(|_| bad_time("dts", dts))?;
            return Ok(FlvTag {
                kind: TagKind::Audio,
                timestamp,
                body,
            });
        }
        Err(FlvError::BadTrack {
            track: au.track,
            reason: "not one of the muxer's tracks".into(),
        })
    }

    /// [`FlvMuxer::tag`] as bytes, with its previous-tag-size field.
    pub fn write(&self, au: &AccessUnit) -> Result<Vec<u8>, FlvError> {
        let mut out = Vec::new();
        write_tag(&mut out, &self.tag(au)?)?;
        Ok(out)
    }
}
