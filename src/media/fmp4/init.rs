//! The init segment: `ftyp` + `moov` (with `mvex`/`trex`) from [`Track`]s
//! and back. One `trak` per track, `avcC` for H.264, `esds` carrying the
//! AudioSpecificConfig verbatim for AAC; no sample tables (fragments carry
//! the samples).
//!
//! Building is deterministic (fixed brands, zero times). Parsing keeps
//! tracks whose sample entry is `avc1`/`avc3` or `mp4a` and skips others;
//! parsed tracks get the canonical timescale (90 kHz video, the sample rate
//! for audio) and the demuxer converts from the `mdhd` timescale.

use std::collections::BTreeMap;

use mp4_atom::{
    esds, Atom, Audio, Avc1, Avcc, Codec as SampleEntry, Decode, Dinf, Dref, Encode, Esds, Ftyp,
    Hdlr, Mdhd, Mdia, Minf, Moov, Mp4a, Mvex, Mvhd, Smhd, Stbl, Stco, Stsd, Tkhd, Trak, Trex, Url,
    Visual, Vmhd,
};

use super::{decode_err, encode_err, top_level_boxes, Fmp4Error};
use crate::media::h264::{build_avcc, sps_dimensions};
use crate::media::{Codec, CodecConfig, Track};

/// What the demuxer needs to know about each track beyond its [`Track`].
#[derive(Clone, Debug)]
pub(super) struct TrackInfo {
    /// The track itself, in the canonical timescale (90 kHz video, the
    /// sample rate for audio).
    pub track: Track,
    /// The `mdhd` timescale the fragments count in, ticks per second.
    pub media_timescale: u32,
    /// NAL length prefix size of video samples, bytes (0 for audio).
    pub nal_length_size: usize,
    /// The fragment defaults from `trex`.
    pub trex: Trex,
}

/// Builds the init segment (`ftyp` + `moov`) for `tracks`: H.264 video and
/// AAC audio, track ids unique and non-zero.
pub fn build_init_segment(tracks: &[Track]) -> Result<Vec<u8>, Fmp4Error> {
    let ftyp = Ftyp {
        major_brand: b"iso6".into(),
        minor_version: 0,
        compatible_brands: vec![b"iso6".into(), b"mp41".into()],
    };
    let next_track_id = tracks
        .iter()
        .map(|t| t.id)
        .max()
        .unwrap_or(0)
        .saturating_add(1);
    let mut moov = Moov {
        mvhd: Mvhd {
            timescale: 1000,
            rate: 1.into(),
            volume: 1.into(),
            next_track_id,
            ..Default::default()
        },
        mvex: Some(Mvex {
            mehd: None,
            trex: tracks
                .iter()
                .map(|t| Trex {
                    track_id: t.id,
                    default_sample_description_index: 1,
                    ..Default::default()
                })
                .collect(),
        }),
        ..Default::default()
    };
    for track in tracks {
        moov.trak.push(build_trak(track)?);
    }
    let mut out = Vec::new();
    ftyp.encode(&mut out).map_err(encode_err("ftyp"))?;
    moov.encode(&mut out).map_err(encode_err("moov"))?;
    Ok(out)
}

fn build_trak(track: &Track) -> Result<Trak, Fmp4Error> {
    let (entry, width, height) = sample_entry(track)?;
    let video = track.codec.is_video();
    let tkhd = Tkhd {
        track_id: track.id,
        enabled: true,
        in_movie: true,
        volume: if video { 0.into() } else { 1.into() },
        width: width.into(),
        height: height.into(),
        ..Default::default()
    };
    let (handler, name) = if video {
        (b"vide", "VideoHandler")
    } else {
        (b"soun", "SoundHandler")
    };
    let minf = Minf {
        vmhd: video.then(Vmhd::default),
        smhd: (!video).then(Smhd::default),
        dinf: Dinf {
            dref: Dref {
                entries: vec![Url {
                    location: String::new(),
                }
                .into()],
            },
        },
        stbl: Stbl {
            stsd: Stsd {
                codecs: vec![entry],
            },
            stco: Some(Stco::default()),
            ..Default::default()
        },
        ..Default::default()
    };
    Ok(Trak {
        tkhd,
        mdia: Mdia {
            mdhd: Mdhd {
                timescale: track.timescale,
                language: "und".into(),
                ..Default::default()
            },
            hdlr: Hdlr {
                handler: handler.into(),
                name: name.into(),
            },
            minf,
        },
        ..Default::default()
    })
}

/// The `stsd` entry for a track, and the picture size for `tkhd` (pixels).
fn sample_entry(track: &Track) -> Result<(SampleEntry, u16, u16), Fmp4Error> {
    let range = |what, value: u32| Fmp4Error::OutOfRange {
        track: track.id,
        what,
        value: i64::from(value),
    };
    match &track.config {
        CodecConfig::H264 {
            sps,
            pps,
            width,
            height,
        } => {
            let record = build_avcc(sps, pps).map_err(|source| Fmp4Error::H264 {
                track: track.id,
                source,
            })?;
            let avcc = Avcc::decode_body(&mut record.as_slice()).map_err(decode_err("avcC"))?;
            let w = u16::try_from(*width).map_err(|_| range("width", *width))?;
            let h = u16::try_from(*height).map_err(|_| range("height", *height))?;
            let visual = Visual {
                data_reference_index: 1,
                width: w,
                height: h,
                ..Default::default()
            };
            Ok((
                Avc1 {
                    visual,
                    avcc,
                    ..Default::default()
                }
                .into(),
                w,
                h,
            ))
        }
        CodecConfig::Aac {
            asc,
            sample_rate,
            channels,
        } => {
            let dec_specific = esds::DecoderSpecific {
                raw: asc.clone(),
                ..Default::default()
            };
            let es_desc = esds::EsDescriptor {
                es_id: u16::try_from(track.id).unwrap_or(0),
                dec_config: esds::DecoderConfig {
                    object_type_indication: 0x40, // MPEG-4 Audio
                    stream_type: 5,               // audio stream
                    dec_specific: Some(dec_specific),
                    ..Default::default()
                },
                ..Default::default()
            };
            let audio = Audio {
                data_reference_index: 1,
                channel_count: u16::from(*channels),
                sample_size: 16,
                // 16.16 fixed point: rates above 65535 Hz do not fit and are
                // written as 0; the ASC and the timescale still carry them.
                sample_rate: u16::try_from(*sample_rate).unwrap_or(0).into(),
            };
            Ok((
                Mp4a {
                    audio,
                    esds: Esds { es_desc },
                    btrt: None,
                    taic: None,
                }
                .into(),
                0,
                0,
            ))
        }
        CodecConfig::H265 { .. } => Err(Fmp4Error::UnsupportedCodec {
            track: track.id,
            codec: "H.265".into(),
        }),
    }
}

/// Parses an init segment into its tracks (see [`build_init_segment`]).
pub fn parse_init_segment(data: &[u8]) -> Result<Vec<Track>, Fmp4Error> {
    Ok(parse_init(data)?
        .into_values()
        .map(|info| info.track)
        .collect())
}

/// Parses the first `moov` in `data` into track infos keyed by track id.
pub(super) fn parse_init(data: &[u8]) -> Result<BTreeMap<u32, TrackInfo>, Fmp4Error> {
    let spans = top_level_boxes(data)?;
    let span = spans
        .iter()
        .find(|s| &s.kind == b"moov")
        .ok_or_else(|| Fmp4Error::MissingBox {
            kind: "moov",
            context: "in the init segment".into(),
        })?;
    let moov = Moov::decode(&mut &data[span.start..span.end]).map_err(decode_err("moov"))?;
    parse_moov(&moov)
}

/// Maps a decoded `moov` to track infos keyed by track id.
pub(super) fn parse_moov(moov: &Moov) -> Result<BTreeMap<u32, TrackInfo>, Fmp4Error> {
    if moov.trak.is_empty() {
        return Err(Fmp4Error::MissingBox {
            kind: "trak",
            context: "in moov".into(),
        });
    }
    let trex: BTreeMap<u32, Trex> = moov
        .mvex
        .iter()
        .flat_map(|m| m.trex.iter())
        .map(|t| (t.track_id, t.clone()))
        .collect();
    let mut tracks = BTreeMap::new();
    for trak in &moov.trak {
        let id = trak.tkhd.track_id;
        let Some((track, nal_length_size)) = parse_trak(trak)? else {
            continue;
        };
        let trex = trex.get(&id).cloned().unwrap_or(Trex {
            track_id: id,
            ..Default::default()
        });
        let media_timescale = trak.mdia.mdhd.timescale;
        tracks.insert(
            id,
            TrackInfo {
                track,
                media_timescale,
                nal_length_size,
                trex,
            },
        );
    }
    Ok(tracks)
}

/// The [`Track`] and NAL length size of a `trak`, or `None` for a codec this
/// module does not carry.
fn parse_trak(trak: &Trak) -> Result<Option<(Track, usize)>, Fmp4Error> {
    let id = trak.tkhd.track_id;
    let timescale = trak.mdia.mdhd.timescale;
    match trak.mdia.minf.stbl.stsd.codecs.first() {
        Some(SampleEntry::Avc1(Avc1 { avcc, visual, .. })) => {
            Ok(Some(h264_track(id, avcc, visual)))
        }
        Some(SampleEntry::Avc3(entry)) => Ok(Some(h264_track(id, &entry.avcc, &entry.visual))),
        Some(SampleEntry::Mp4a(mp4a)) => {
            let specific = mp4a.esds.es_desc.dec_config.dec_specific.as_ref();
            let specific = specific.ok_or_else(|| Fmp4Error::MissingBox {
                kind: "DecoderSpecificInfo",
                context: format!("in the esds of track {id}"),
            })?;
            let mut asc = specific.raw.clone();
            if asc.is_empty() {
                asc = vec![
                    (specific.profile << 3) | (specific.freq_index >> 1),
                    (specific.freq_index << 7) | (specific.chan_conf << 3),
                ];
            }
            // The container's own fields first; mp4-atom's parse of the ASC
            // prefix when they are zero.
            let sample_rate = match u32::from(mp4a.audio.sample_rate.integer()) {
                0 => AAC_RATES
                    .get(usize::from(specific.freq_index))
                    .copied()
                    .unwrap_or(timescale),
                rate => rate,
            };
            let channels = match specific.chan_conf {
                0 => u8::try_from(mp4a.audio.channel_count).unwrap_or(0),
                conf => conf,
            };
            let config = CodecConfig::Aac {
                asc,
                sample_rate,
                channels,
            };
            Ok(Some((
                Track {
                    id,
                    codec: Codec::Aac,
                    timescale: sample_rate,
                    config,
                    frame_rate: None,
                },
                0,
            )))
        }
        _ => Ok(None),
    }
}

/// The canonical video timescale, ticks per second.
const VIDEO_TIMESCALE: u32 = 90_000;

/// The sampling frequencies of ISO/IEC 14496-3 `samplingFrequencyIndex`, Hz.
const AAC_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// An H.264 track from its `avcC`; the SPS gives the picture size, the
/// sample entry's fields are the fallback.
fn h264_track(id: u32, avcc: &Avcc, visual: &Visual) -> (Track, usize) {
    let sps = avcc.sequence_parameter_sets.clone();
    let pps = avcc.picture_parameter_sets.clone();
    let (width, height) = match sps.first().map(|s| sps_dimensions(s)) {
        Some(Ok(size)) => size,
        _ => (u32::from(visual.width), u32::from(visual.height)),
    };
    let length_size = usize::from(avcc.length_size);
    let config = CodecConfig::H264 {
        sps,
        pps,
        width,
        height,
    };
    (
        Track {
            id,
            codec: Codec::H264,
            timescale: VIDEO_TIMESCALE,
            config,
            frame_rate: None,
        },
        length_size,
    )
}
