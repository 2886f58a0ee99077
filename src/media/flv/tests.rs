//! Tests of the FLV muxer and demuxer: round trips (to the millisecond, and
//! exact on whole milliseconds), chunked input, hostile input, and interop
//! with the ffmpeg CLI.

use super::tag::{parse_tag, write_tag, TagKind, HEADER_LEN};
use super::*;
use crate::media::testkit::{
    check_ffmpeg_units, check_remux, ffmpeg_encode, flip_bytes, of_track, scratch_dir,
    synthetic_aus, synthetic_tracks,
};
use crate::media::{AccessUnit, CodecConfig, Track};

fn mux(tracks: &[Track], aus: &[AccessUnit]) -> Vec<u8> {
    let muxer = FlvMuxer::new(tracks).unwrap();
    let mut file = muxer.header().unwrap();
    for au in aus {
        file.extend(muxer.write(au).unwrap());
    }
    file
}

fn ms(ts: i64, timescale: u32) -> i64 {
    rescale(ts, timescale, 1000)
}

#[test]
fn round_trip_is_exact_to_the_millisecond() {
    let (tracks, aus) = (synthetic_tracks(), synthetic_aus(90));
    let file = mux(&tracks, &aus);
    assert_eq!(
        &file[..HEADER_LEN + 4],
        b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00"
    );
    let (got_tracks, got) = demux(&file).unwrap();
    assert_eq!(got_tracks, tracks, "frame rate comes back from onMetaData");
    for track in &tracks {
        let (want, got) = (of_track(&aus, track.id), of_track(&got, track.id));
        assert_eq!(want.len(), got.len());
        for (w, g) in want.iter().zip(&got) {
            let scale = track.timescale;
            assert_eq!(
                (&w.data, w.keyframe, w.duration),
                (&g.data, g.keyframe, g.duration)
            );
            assert_eq!(
                (ms(w.dts, scale), ms(w.pts, scale)),
                (ms(g.dts, scale), ms(g.pts, scale))
            );
            assert!(
                (w.dts - g.dts).abs() <= i64::from(scale) / 2000,
                "within half a millisecond"
            );
        }
    }
    // Every previous-tag-size field matches the tag before it.
    let mut at = HEADER_LEN + 4;
    while at < file.len() {
        let (_, len) = parse_tag(&file[at..], at).unwrap();
        let prev = &file[at + len - 4..at + len];
        assert_eq!(
            u32::from_be_bytes([prev[0], prev[1], prev[2], prev[3]]) as usize,
            len - 4
        );
        at += len;
    }
}

#[test]
fn round_trip_is_exact_on_whole_milliseconds() {
    let mut tracks = synthetic_tracks();
    tracks[0].frame_rate = Some((25, 1));
    // AAC LC, 48 kHz, mono, 960-sample frames (20 ms).
    tracks[1].config = CodecConfig::Aac {
        asc: vec![0x11, 0x8c],
        sample_rate: 48_000,
        channels: 1,
    };
    let mut aus = synthetic_aus(50);
    for au in &mut aus {
        if au.track == 1 {
            (au.dts, au.pts, au.duration) = (au.dts / 3000 * 3600, au.pts / 3000 * 3600, 3600);
        } else {
            (au.dts, au.pts, au.duration) = (au.dts / 1024 * 960, au.pts / 1024 * 960, 960);
        }
        au.capture_time = std::time::Duration::from_micros(
            au.pts as u64 * 1_000_000 / if au.track == 1 { 90_000 } else { 48_000 },
        );
    }
    let file = mux(&tracks, &aus);
    let (got_tracks, got) = demux(&file).unwrap();
    assert_eq!(got_tracks, tracks);
    assert_eq!(of_track(&got, 1), of_track(&aus, 1));
    assert_eq!(of_track(&got, 2), of_track(&aus, 2));
    // Any chunking gives the same units.
    let mut demuxer = FlvDemuxer::new();
    let mut chunked = Vec::new();
    for chunk in file.chunks(7) {
        chunked.extend(demuxer.handle_input(chunk).unwrap());
    }
    demuxer.finish().unwrap();
    assert_eq!(chunked, got);
}

#[test]
fn hostile_input_is_an_error_never_a_panic() {
    let (tracks, aus) = (synthetic_tracks(), synthetic_aus(20));
    let file = mux(&tracks, &aus);
    let (_, all) = demux(&file).unwrap();
    for cut in 0..file.len() {
        match demux(&file[..cut]) {
            Ok((_, got)) => assert_eq!(
                got[..],
                all[..got.len()],
                "a cut at a tag boundary keeps a prefix"
            ),
            Err(e) => assert!(e.is_incomplete(), "cut at {cut}: {e}"),
        }
    }
    flip_bytes(&file, 0x9e37_79b9_u32, 3000, |bad| {
        let _ = demux(bad);
    });
    for len in 0..100 {
        let noise: Vec<u8> = (0..len).map(|i| (i * 73 % 256) as u8).collect();
        assert!(demux(&noise).is_err());
    }
}

#[test]
fn misuse_is_an_error() {
    let tracks = synthetic_tracks();
    let aus = synthetic_aus(3);
    // Media before its sequence header.
    let muxer = FlvMuxer::new(&tracks).unwrap();
    let mut file = tag::write_header(true, true);
    write_tag(&mut file, &muxer.tag(&aus[0]).unwrap()).unwrap();
    assert!(matches!(
        demux(&file),
        Err(FlvError::MissingSequenceHeader { what: "video" })
    ));
    assert!(matches!(
        demux(b"RIFF\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
        Err(FlvError::BadHeader { .. })
    ));
    assert!(matches!(
        FlvMuxer::new(&[tracks[0].clone(), tracks[0].clone()]),
        Err(FlvError::BadTrack { .. })
    ));
    let stranger = AccessUnit {
        track: 9,
        ..aus[0].clone()
    };
    assert!(matches!(
        muxer.tag(&stranger),
        Err(FlvError::BadTrack { track: 9, .. })
    ));
    let early = AccessUnit {
        dts: -90,
        pts: 0,
        ..aus[0].clone()
    };
    assert!(matches!(
        muxer.tag(&early),
        Err(FlvError::Timestamp { what: "dts", .. })
    ));
    assert_eq!(
        muxer
            .start_tags()
            .unwrap()
            .iter()
            .map(|t| t.kind)
            .collect::<Vec<_>>(),
        [TagKind::Script, TagKind::Video, TagKind::Audio]
    );
}

/// The header and sequence headers, `before` media units, then `after`.
fn file_with(aus: &[AccessUnit], before: usize, middle: &[u8]) -> Vec<u8> {
    let tracks = synthetic_tracks();
    let muxer = FlvMuxer::new(&tracks).unwrap();
    let mut file = muxer.header().unwrap();
    for au in &aus[..before] {
        file.extend(muxer.write(au).unwrap());
    }
    file.extend_from_slice(middle);
    for au in &aus[before..] {
        file.extend(muxer.write(au).unwrap());
    }
    file
}

/// A complete tag of `kind` with `body`, its type byte or-ed with `flags`.
fn raw_tag(kind: TagKind, flags: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let tag = FlvTag {
        kind,
        timestamp: 0,
        body: body.to_vec(),
    };
    write_tag(&mut out, &tag).unwrap();
    out[0] |= flags;
    out
}

#[test]
fn encrypted_tags_are_skipped_and_reported_once() {
    let aus = synthetic_aus(20);
    let (_, all) = demux(&mux(&synthetic_tracks(), &aus)).unwrap();
    // An encrypted AAC frame before each unit from the 11th on.
    let encrypted = raw_tag(TagKind::Audio, 0x20, &[0xaf, 0x01, 0x00]);
    let muxer = FlvMuxer::new(&synthetic_tracks()).unwrap();
    let mut file = muxer.header().unwrap();
    for (i, au) in aus.iter().enumerate() {
        if i >= 10 {
            file.extend_from_slice(&encrypted);
        }
        file.extend(muxer.write(au).unwrap());
    }
    let mut demuxer = FlvDemuxer::new();
    let mut got = demuxer.handle_input(&file).unwrap();
    assert_eq!(got.len(), 10, "the units before the encrypted tag");
    assert!(matches!(
        demuxer.handle_input(&[]),
        Err(FlvError::Unsupported { value: 0x28, .. })
    ));
    // Later encrypted tags are skipped without another report.
    got.extend(demuxer.handle_input(&[]).unwrap());
    demuxer.finish().unwrap();
    assert_eq!(got, all);
    // Fed one byte at a time, the stream never stalls.
    let mut demuxer = FlvDemuxer::new();
    let (mut bytewise, mut errors) = (Vec::new(), 0);
    for byte in &file {
        match demuxer.handle_input(std::slice::from_ref(byte)) {
            Ok(units) => bytewise.extend(units),
            Err(_) => errors += 1,
        }
    }
    bytewise.extend(demuxer.handle_input(&[]).unwrap());
    assert_eq!((bytewise, errors), (all, 1));
}

#[test]
fn units_before_a_bad_tag_are_returned_and_feeding_continues() {
    let aus = synthetic_aus(20);
    let (_, all) = demux(&mux(&synthetic_tracks(), &aus)).unwrap();
    // An AVC packet of type 7, which does not exist.
    let bad = raw_tag(TagKind::Video, 0, &[0x27, 7, 0, 0, 0]);
    let file = file_with(&aus, 12, &bad);
    let mut demuxer = FlvDemuxer::new();
    let mut got = demuxer.handle_input(&file).unwrap();
    assert_eq!(got[..], all[..12]);
    // The error comes next; bytes fed with it are kept.
    let (head, tail) = file.split_at(file.len() - 30);
    let mut demuxer = FlvDemuxer::new();
    got = demuxer.handle_input(head).unwrap();
    assert!(matches!(
        demuxer.handle_input(tail),
        Err(FlvError::BadTag { what: "video", .. })
    ));
    got.extend(demuxer.handle_input(&[]).unwrap());
    demuxer.finish().unwrap();
    assert_eq!(got, all);
    // A whole-file demux still fails on the bad tag.
    assert!(matches!(demux(&file), Err(FlvError::BadTag { .. })));
    // An error waiting to be reported fails `finish`.
    let mut demuxer = FlvDemuxer::new();
    assert_eq!(
        demuxer
            .handle_input(&file[..file.len() - 30])
            .unwrap()
            .len(),
        12
    );
    assert!(matches!(demuxer.finish(), Err(FlvError::BadTag { .. })));
}

#[test]
fn huge_header_data_offset_is_rejected() {
    let mut demuxer = FlvDemuxer::new();
    assert!(matches!(
        demuxer.handle_input(b"FLV\x01\x05\xff\xff\xff\xf0"),
        Err(FlvError::BadHeader { .. })
    ));
    assert!(matches!(
        demux(b"FLV\x01\x05\x00\x00\x04\x01"),
        Err(FlvError::BadHeader { .. })
    ));
    // Up to the limit, padding after the header is skipped.
    let aus = synthetic_aus(10);
    let file = mux(&synthetic_tracks(), &aus);
    let mut padded = file[..HEADER_LEN].to_vec();
    padded[5..9].copy_from_slice(&(tag::MAX_DATA_OFFSET as u32).to_be_bytes());
    padded.resize(tag::MAX_DATA_OFFSET, 0);
    padded.extend_from_slice(&file[HEADER_LEN..]);
    assert_eq!(demux(&padded).unwrap(), demux(&file).unwrap());
}

#[test]
fn aac_sequence_header_with_a_zero_sample_rate_is_an_error() {
    let tracks = synthetic_tracks();
    let muxer = FlvMuxer::new(&tracks[..1]).unwrap();
    let mut file = muxer.header().unwrap();
    // AAC-LC with an explicit sampling frequency of 0 Hz.
    file.extend(raw_tag(
        TagKind::Audio,
        0,
        &[0xaf, 0x00, 0x17, 0x80, 0x00, 0x00, 0x10],
    ));
    assert!(matches!(
        demux(&file),
        Err(FlvError::BadTag { what: "audio", .. })
    ));
}

#[test]
fn ffmpeg_flv_demuxes_and_remuxes_to_identical_frames() {
    let dir = scratch_dir("flv-interop");
    let theirs = ffmpeg_encode(&dir, "theirs.flv", &["-f", "flv"]);
    let (tracks, aus) = demux(&std::fs::read(&theirs).unwrap()).unwrap();
    check_ffmpeg_units(&tracks, &aus);
    assert_eq!(tracks[0].frame_rate, Some((30, 1)));
    let ours = dir.join("ours.flv");
    std::fs::write(&ours, mux(&tracks, &aus)).unwrap();

    check_remux(&theirs, &ours);
    let _ = std::fs::remove_dir_all(dir);
}
