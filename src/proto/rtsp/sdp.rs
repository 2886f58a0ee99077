//! The session description a DESCRIBE answers with (RFC 4566, written and
//! read with `sdp-types`): one `m=` section per track with its control
//! URL, H.264 with `packetization-mode=1`, `profile-level-id` and
//! `sprop-parameter-sets` (RFC 6184 §8.1), AAC as `mpeg4-generic` AAC-hbr
//! with its AudioSpecificConfig in `config` (RFC 3640 §4.1).

use sdp_types::{Attribute, Media, Origin, Session, Time};

use super::RtspError;
use crate::media::aac::AudioSpecificConfig;
use crate::media::h264::sps_dimensions;
use crate::media::{Codec, CodecConfig, Track};

/// The payload type of the first track; the next ones follow.
pub const FIRST_PAYLOAD_TYPE: u8 = 96;

/// One media section, as a client needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdpMedia {
    /// Its control attribute (`trackID=0`), relative or absolute.
    pub control: String,
    /// Its RTP payload type.
    pub payload_type: u8,
    /// Its RTP clock rate, Hz.
    pub clock_rate: u32,
    /// The track it carries, numbered by its place in the description.
    pub track: Track,
    /// The payload type of its RFC 4588 retransmission stream, if offered.
    pub rtx_payload_type: Option<u8>,
}

/// The payload type of track `index`'s retransmission stream, of `count`
/// tracks: after every track's own.
pub fn rtx_payload_type(count: usize, index: usize) -> u8 {
    FIRST_PAYLOAD_TYPE + (count + index) as u8
}

/// The control attribute of track number `index`.
pub fn control(index: usize) -> String {
    format!("trackID={index}")
}

/// The description of `tracks` (H.264 and AAC; others are refused),
/// announced from `address` (an IPv4 literal), offering an RFC 4588
/// retransmission stream per track when `rtx`.
pub fn write_sdp(tracks: &[Track], address: &str, rtx: bool) -> Result<Vec<u8>, RtspError> {
    let mut session = Session {
        origin: Origin {
            username: None,
            sess_id: "1".into(),
            sess_version: 1,
            nettype: "IN".into(),
            addrtype: "IP4".into(),
            unicast_address: address.into(),
        },
        session_name: "streamsim".into(),
        session_description: None,
        uri: None,
        emails: Vec::new(),
        phones: Vec::new(),
        connection: None,
        bandwidths: Vec::new(),
        times: vec![Time {
            start_time: 0,
            stop_time: 0,
            repeats: Vec::new(),
        }],
        time_zones: Vec::new(),
        key: None,
        attributes: vec![
            Attribute::with_value("tool", "streamsim"),
            Attribute::with_value("control", "*"),
            Attribute::with_value("range", "npt=now-"),
        ],
        medias: Vec::new(),
    };
    for (i, track) in tracks.iter().enumerate() {
        let pt = FIRST_PAYLOAD_TYPE + i as u8;
        let (kind, rtpmap, fmtp) = match &track.config {
            CodecConfig::H264 { sps, pps, .. } => {
                let first = sps.first().ok_or(RtspError::Media("an H.264 track without SPS".into()))?;
                let profile = first.get(1..4).map_or_else(|| "42e01f".into(), hex);
                let sets: Vec<String> = sps.iter().chain(pps).map(|n| base64(n)).collect();
                (
                    "video",
                    format!("{pt} H264/90000"),
                    format!(
                        "{pt} packetization-mode=1;profile-level-id={profile};sprop-parameter-sets={}",
                        sets.join(",")
                    ),
                )
            }
            CodecConfig::Aac { asc, sample_rate, channels } => (
                "audio",
                format!("{pt} MPEG4-GENERIC/{sample_rate}/{channels}"),
                format!(
                    "{pt} streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config={}",
                    hex(asc)
                ),
            ),
            CodecConfig::H265 { .. } => {
                return Err(RtspError::Media("H.265 is not carried over RTSP here (H.264 and AAC only)".into()))
            }
        };
        let mut attributes = vec![
            Attribute::with_value("rtpmap", rtpmap),
            Attribute::with_value("fmtp", fmtp),
        ];
        let mut fmt = pt.to_string();
        if rtx {
            let rtx_pt = rtx_payload_type(tracks.len(), i);
            let clock = match &track.config {
                CodecConfig::Aac { sample_rate, .. } => *sample_rate,
                _ => 90_000,
            };
            fmt = format!("{pt} {rtx_pt}");
            attributes.push(Attribute::with_value(
                "rtpmap",
                format!("{rtx_pt} rtx/{clock}"),
            ));
            attributes.push(Attribute::with_value("fmtp", format!("{rtx_pt} apt={pt}")));
        }
        attributes.push(Attribute::with_value("control", control(i)));
        session.medias.push(Media {
            media: kind.into(),
            port: 0,
            num_ports: None,
            proto: "RTP/AVP".into(),
            fmt,
            media_title: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            key: None,
            attributes,
        });
    }
    let mut out = Vec::new();
    session
        .write(&mut out)
        .map_err(|e| RtspError::Media(e.to_string()))?;
    Ok(out)
}

/// The H.264 and AAC sections of a description, in order; others are
/// skipped.
pub fn parse_sdp(text: &[u8]) -> Result<Vec<SdpMedia>, RtspError> {
    let session = Session::parse(text).map_err(|e| RtspError::Sdp(e.to_string()))?;
    let mut out = Vec::new();
    for (i, media) in session.medias.iter().enumerate() {
        let attr = |name: &str| {
            media
                .attributes
                .iter()
                .find(|a| a.attribute == name)
                .and_then(|a| a.value.clone())
        };
        let Some(pt) = media
            .fmt
            .split_whitespace()
            .next()
            .and_then(|f| f.parse::<u8>().ok())
        else {
            continue;
        };
        // The rtpmap and fmtp of this payload type (others may follow).
        let of_pt = |name: &str| {
            media
                .attributes
                .iter()
                .filter(|a| a.attribute == name)
                .filter_map(|a| a.value.clone())
                .find(|v| v.split_whitespace().next() == Some(&pt.to_string()))
        };
        let rtx_payload_type = media
            .attributes
            .iter()
            .filter(|a| a.attribute == "fmtp")
            .filter_map(|a| a.value.as_deref())
            .find(|v| v.contains(&format!("apt={pt}")))
            .and_then(|v| v.split_whitespace().next()?.parse::<u8>().ok());
        let Some(rtpmap) = of_pt("rtpmap") else {
            continue;
        };
        let mut words = rtpmap.split_whitespace();
        if words.next() != Some(&pt.to_string()) {
            continue;
        }
        let encoding = words.next().unwrap_or("");
        let mut parts = encoding.split('/');
        let name = parts.next().unwrap_or("").to_ascii_uppercase();
        let Some(clock_rate) = parts
            .next()
            .and_then(|r| r.parse::<u32>().ok())
            .filter(|r| *r > 0)
        else {
            continue;
        };
        let fmtp = of_pt("fmtp").unwrap_or_default();
        let params = fmtp_params(&fmtp);
        let param = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.as_str())
        };
        let (codec, config) = match name.as_str() {
            "H264" => {
                let (mut sps, mut pps) = (Vec::new(), Vec::new());
                for set in param("sprop-parameter-sets").unwrap_or("").split(',') {
                    let Some(nal) = unbase64(set.trim()) else {
                        continue;
                    };
                    match nal.first().map(|b| b & 0x1f) {
                        Some(7) => sps.push(nal),
                        Some(8) => pps.push(nal),
                        _ => {}
                    }
                }
                let (width, height) = sps
                    .first()
                    .and_then(|s| sps_dimensions(s).ok())
                    .unwrap_or((0, 0));
                (
                    Codec::H264,
                    CodecConfig::H264 {
                        sps,
                        pps,
                        width,
                        height,
                    },
                )
            }
            "MPEG4-GENERIC" => {
                let Some(asc) = param("config").and_then(unhex) else {
                    continue;
                };
                let Ok(parsed) = AudioSpecificConfig::parse(&asc) else {
                    continue;
                };
                (
                    Codec::Aac,
                    CodecConfig::Aac {
                        sample_rate: parsed.sample_rate,
                        channels: parsed.channel_config,
                        asc,
                    },
                )
            }
            _ => continue,
        };
        out.push(SdpMedia {
            control: attr("control").unwrap_or_default(),
            payload_type: pt,
            clock_rate,
            track: Track {
                id: i as u32,
                codec,
                timescale: clock_rate,
                config,
                frame_rate: None,
            },
            rtx_payload_type,
        });
    }
    Ok(out)
}

/// `a=b;c=d` → [(a, b), (c, d)] (the payload type in front is dropped).
fn fmtp_params(fmtp: &str) -> Vec<(String, String)> {
    let rest = fmtp.split_once(' ').map_or(fmtp, |(_, r)| r);
    rest.split(';')
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            Some((k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional); `None` when invalid.
pub fn unbase64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = B64.iter().position(|b| *b == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_hex_round_trip() {
        for n in 0..40u8 {
            let bytes: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(unbase64(&base64(&bytes)).unwrap(), bytes);
            assert_eq!(unhex(&hex(&bytes)).unwrap(), bytes);
        }
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(&[0x67, 0x42]), "Z0I=");
        assert!(unbase64("a*b").is_none());
        assert!(unhex("abc").is_none());
    }

    #[test]
    fn the_feed_description_round_trips_its_tracks() {
        let tracks = crate::proto::live::MediaFeed::open(
            crate::proto::MediaOrigin::Synthetic(crate::proto::live::default_synthetic()),
            false,
            false,
        )
        .unwrap()
        .tracks();
        let sdp = write_sdp(&tracks, "127.0.0.1", false).unwrap();
        let text = String::from_utf8(sdp.clone()).unwrap();
        assert!(text.contains("a=rtpmap:96 H264/90000"), "{text}");
        assert!(
            text.contains("packetization-mode=1;profile-level-id="),
            "{text}"
        );
        assert!(text.contains("a=rtpmap:97 MPEG4-GENERIC/48000/2"), "{text}");
        assert!(
            text.contains("mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config="),
            "{text}"
        );
        let medias = parse_sdp(&sdp).unwrap();
        assert_eq!(medias.len(), tracks.len());
        for (i, (m, t)) in medias.iter().zip(&tracks).enumerate() {
            assert_eq!(m.control, control(i));
            assert_eq!(m.payload_type, 96 + i as u8);
            assert_eq!(m.track.codec, t.codec);
            assert_eq!(m.track.config, t.config, "{text}");
            assert_eq!(m.rtx_payload_type, None);
        }
        // With retransmission offered, each section names its RTX type.
        let sdp = write_sdp(&tracks, "127.0.0.1", true).unwrap();
        let medias = parse_sdp(&sdp).unwrap();
        assert_eq!(medias[0].rtx_payload_type, Some(98));
        assert_eq!(medias[1].rtx_payload_type, Some(99));
        assert_eq!(medias[1].track.config, tracks[1].config);
    }

    #[test]
    fn bad_descriptions_are_errors_or_skipped_never_panics() {
        assert!(parse_sdp(b"garbage").is_err());
        let odd = b"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/0\r\nm=audio 0 RTP/AVP 98\r\na=rtpmap:98 MPEG4-GENERIC/48000/2\r\na=fmtp:98 config=zz\r\n";
        assert_eq!(parse_sdp(odd).unwrap(), vec![]);
    }
}
