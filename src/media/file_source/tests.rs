//! The file source on the fixtures: canonical units, exact timestamps,
//! pacing and looping; and its helpers on hand-made input.

use std::time::Duration;

use super::demux::{split_frames, strip_adts};
use super::hevc::{h265_type, parse_hvcc};
use super::*;
use crate::media::aac::{self, AacError};
use crate::media::{h264, AccessUnit, Codec, CodecConfig};

fn fixture() -> FileSource {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/clip.mp4");
    FileSource::open(path, Duration::from_secs(1)).expect("fixture opens")
}

fn video(source: &FileSource) -> Vec<&AccessUnit> {
    source
        .access_units()
        .iter()
        .filter(|u| u.track == 1)
        .collect()
}

#[test]
fn fixture_tracks() {
    let source = fixture();
    let tracks = source.tracks();
    assert_eq!(tracks.len(), 2);
    assert_eq!(
        (
            tracks[0].id,
            tracks[0].codec,
            tracks[0].timescale,
            tracks[0].frame_rate
        ),
        (1, Codec::H264, 90_000, Some((30, 1)))
    );
    let CodecConfig::H264 {
        sps,
        pps,
        width,
        height,
    } = &tracks[0].config
    else {
        panic!("video config {:?}", tracks[0].config)
    };
    assert_eq!((sps.len(), pps.len(), *width, *height), (1, 1, 640, 360));
    assert_eq!(sps[0][1], 77, "Main profile");
    assert_eq!(h264::sps_dimensions(&sps[0]), Ok((640, 360)));
    assert_eq!(
        (
            tracks[1].id,
            tracks[1].codec,
            tracks[1].timescale,
            tracks[1].frame_rate
        ),
        (2, Codec::Aac, 48_000, None)
    );
    // AAC-LC (2), 48 kHz (index 3), stereo: 00010 0011 0010 000 + GASpecificConfig.
    let expected = CodecConfig::Aac {
        asc: vec![0x11, 0x90, 0x56, 0xe5, 0x00],
        sample_rate: 48_000,
        channels: 2,
    };
    assert_eq!(tracks[1].config, expected);
}

#[test]
fn first_pass_is_canonical_with_exact_timestamps() {
    let source = fixture();
    let video = video(&source);
    assert_eq!(video.len(), 300);
    let keys: Vec<usize> = (0..300).filter(|&i| video[i].keyframe).collect();
    assert_eq!(keys, vec![0, 60, 120, 180, 240]);
    let mut pts: Vec<i64> = video.iter().map(|u| u.pts).collect();
    pts.sort_unstable();
    assert_eq!(pts, (0..300).map(|i| i * 3000).collect::<Vec<_>>());
    for unit in &video {
        assert_eq!(unit.duration, 3000);
        assert!(unit.dts <= unit.pts);
        assert_eq!(unit.data.get(..4), Some(&h264::START_CODE[..]));
        let types: Vec<u8> = h264::split_annex_b(&unit.data)
            .iter()
            .filter_map(|n| h264::nal_type(n))
            .collect();
        assert!(
            !types
                .iter()
                .any(|t| matches!(*t, h264::NAL_SPS | h264::NAL_PPS | h264::NAL_AUD)),
            "{types:?}"
        );
        assert_eq!(
            types.iter().filter(|t| matches!(**t, 1 | 5)).count(),
            1,
            "one slice per picture"
        );
        assert_eq!(
            unit.capture_time,
            Duration::from_secs(1) + ticks_to_duration(unit.pts, 90_000)
        );
    }
    let audio: Vec<&AccessUnit> = source
        .access_units()
        .iter()
        .filter(|u| u.track == 2)
        .collect();
    assert_eq!(audio.len(), 470);
    // Every AAC frame lasts 1024 samples, except that the file trims the
    // last one to end the track at exactly 10 s after the 1024 priming samples.
    let durations: Vec<u32> = audio.iter().map(|u| u.duration).collect();
    assert_eq!(durations, [vec![1024; 469], vec![768]].concat());
    assert!(audio.iter().all(|u| u.keyframe && u.data.len() > 4));
    assert_eq!(
        audio.iter().map(|u| u.pts).collect::<Vec<_>>(),
        (0..470).map(|i| i * 1024 - 1024).collect::<Vec<_>>()
    );
}

#[test]
fn pacing_releases_nothing_early_and_in_order() {
    let mut source = fixture();
    assert_eq!(source.next_release(), Some(Duration::from_secs(1)));
    assert_eq!(source.poll_next(Duration::from_millis(999)), None);
    let mut now = Duration::from_secs(1);
    let mut last_dts = [i64::MIN; 2];
    let mut last_release = Duration::ZERO;
    let mut seen = 0;
    while now < Duration::from_secs(4) {
        while let Some(next) = source.next_release().filter(|&r| r <= now) {
            let unit = source.poll_next(now).expect("a released unit comes out");
            assert!(next >= last_release, "release order");
            assert!(unit.capture_time <= next, "released after capture");
            let lane = usize::try_from(unit.track - 1).unwrap();
            assert!(unit.dts > last_dts[lane], "decode order per track");
            last_dts[lane] = unit.dts;
            last_release = next;
            seen += 1;
        }
        assert!(source.next_release().is_some_and(|r| r > now));
        assert_eq!(source.poll_next(now), None);
        now += Duration::from_millis(7);
    }
    // About 3 s of 30 fps video (90) and 46.875 AAC frames/s (141), less
    // the frames held back by B-frame reordering.
    assert!((225..=235).contains(&seen), "{seen}");
}

#[test]
fn looping_keeps_timestamps_and_capture_times_continuous() {
    let mut source = fixture();
    // The audio track is the longer one: 1024 priming samples + 10 s.
    assert_eq!(source.period(), Duration::from_nanos(10_021_333_333));
    let mut units = Vec::new();
    let end = Duration::from_secs(32);
    while let Some(unit) = source.poll_next(end) {
        units.push(unit);
    }
    for track in [1u32, 2] {
        let mut mine: Vec<&AccessUnit> = units.iter().filter(|u| u.track == track).collect();
        mine.sort_by_key(|u| u.pts);
        assert!(mine.len() > 3 * if track == 1 { 300 } else { 470 });
        for pair in mine.windows(2) {
            assert_eq!(
                pair[0].pts + i64::from(pair[0].duration),
                pair[1].pts,
                "track {track} contiguous"
            );
            assert!(pair[0].capture_time < pair[1].capture_time);
        }
    }
    let second_loop_idr = units
        .iter()
        .filter(|u| u.track == 1 && u.keyframe)
        .nth(5)
        .expect("six IDRs");
    assert_eq!(second_loop_idr.pts, 901_920);
    assert_eq!(
        second_loop_idr.capture_time,
        Duration::from_secs(1) + Duration::from_nanos(10_021_333_333)
    );
    let video_loop_end = units
        .iter()
        .find(|u| u.track == 1 && u.pts == 299 * 3000)
        .expect("last picture");
    assert_eq!(
        video_loop_end.duration,
        3000 + 1920,
        "stretched over the loop gap"
    );
}

fn open_fixture(name: &str) -> FileSource {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    FileSource::open(path, Duration::ZERO).expect("fixture opens")
}

#[test]
fn abr_renditions_share_idr_times() {
    for (name, size) in [("abr-400k.mp4", (426, 240)), ("abr-1600k.mp4", (960, 540))] {
        let source = open_fixture(name);
        let CodecConfig::H264 { width, height, .. } = source.tracks()[0].config else {
            panic!("{name}: not H.264")
        };
        assert_eq!((width, height), size, "{name}");
        let idrs: Vec<i64> = source
            .access_units()
            .iter()
            .filter(|u| u.track == 1 && u.keyframe)
            .map(|u| u.pts)
            .collect();
        assert_eq!(idrs, vec![0, 180_000, 360_000, 540_000, 720_000], "{name}");
    }
}

#[test]
fn h265_in_mp4_and_h264_adts_in_ts() {
    let hevc = open_fixture("small-h265.mp4");
    let CodecConfig::H265 {
        vps,
        sps,
        pps,
        width,
        height,
    } = &hevc.tracks()[0].config
    else {
        panic!("not H.265")
    };
    assert_eq!(
        (vps.len(), sps.len(), pps.len(), *width, *height),
        (1, 1, 1, 160, 90)
    );
    let video: Vec<&AccessUnit> = hevc
        .access_units()
        .iter()
        .filter(|u| u.track == 1)
        .collect();
    assert_eq!(video.len(), 30);
    assert_eq!(video.iter().filter(|u| u.keyframe).count(), 2);
    for unit in &video {
        let types: Vec<u8> = h264::split_annex_b(&unit.data)
            .iter()
            .filter_map(|n| h265_type(n))
            .collect();
        assert!(
            !types.is_empty() && types.iter().all(|t| !(32..=35).contains(t)),
            "{types:?}"
        );
    }
    let ts = open_fixture("small-h264.ts");
    let CodecConfig::H264 {
        sps,
        pps,
        width,
        height,
    } = &ts.tracks()[0].config
    else {
        panic!("not H.264")
    };
    assert_eq!((sps.len(), pps.len(), *width, *height), (1, 1, 160, 90));
    let CodecConfig::Aac {
        asc,
        sample_rate,
        channels,
    } = &ts.tracks()[1].config
    else {
        panic!("not AAC")
    };
    assert_eq!(
        (&asc[..2], *sample_rate, *channels),
        (&[0x11u8, 0x90][..], 48_000, 2)
    );
    let video: Vec<&AccessUnit> = ts.access_units().iter().filter(|u| u.track == 1).collect();
    assert_eq!(
        (video.len(), video.iter().filter(|u| u.keyframe).count()),
        (30, 2)
    );
    assert!(video.iter().all(|u| u.duration == 3000
        && !h264::split_annex_b(&u.data)
            .iter()
            .any(|n| h264::nal_type(n) == Some(h264::NAL_SPS))));
    let audio: Vec<&AccessUnit> = ts.access_units().iter().filter(|u| u.track == 2).collect();
    assert!(
        audio.len() >= 47
            && audio
                .iter()
                .all(|u| u.duration == 1024 && u.data.first() != Some(&0xff))
    );
}

#[test]
fn not_media_is_an_error() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/README.md");
    let err = FileSource::open(path, Duration::ZERO).unwrap_err();
    assert!(
        matches!(
            err,
            FileSourceError::Demux { .. } | FileSourceError::NoStreams { .. }
        ),
        "{err}"
    );
}

#[test]
fn missing_file_is_an_error() {
    let err = FileSource::open("/nonexistent/clip.mp4", Duration::ZERO).unwrap_err();
    assert!(matches!(err, FileSourceError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/clip.mp4"));
}

#[test]
fn helpers_never_panic_and_round() {
    assert_eq!(rescale(512, (1, 15360), 90_000), 3000);
    assert_eq!(rescale(-1024, (1, 48000), 48_000), -1024);
    assert_eq!(rescale(1, (1, 3), 2), 1);
    assert_eq!(rescale(-1, (1, 3), 2), -1);
    let mut asc = Vec::new();
    let adts = vec![0xff, 0xf1, 0x4c, 0x80, 0x01, 0x3f, 0xfc, 0xaa, 0xbb];
    assert_eq!(
        strip_adts(&adts, &mut asc),
        Ok((vec![vec![0xaa, 0xbb]], Some(48_000)))
    );
    assert_eq!(asc, vec![0x11, 0x90]);
    for len in 0..40usize {
        let data: Vec<u8> = (0..len).map(|i| (i * 53 % 256) as u8).collect();
        let _ = parse_hvcc(&[&[1u8; 23][..], &data[..]].concat());
        let _ = strip_adts(&data, &mut Vec::new());
    }
}

#[test]
fn packets_of_several_adts_frames_become_several_units() {
    let config = aac::AudioSpecificConfig::aac_lc(24_000, 1);
    let packet = [
        aac::raw_to_adts(&[1, 2], &config).unwrap(),
        aac::raw_to_adts(&[3], &config).unwrap(),
    ]
    .concat();
    let mut asc = vec![0x13, 0x08];
    let (frames, rate) = strip_adts(&packet, &mut asc).unwrap();
    assert_eq!(asc, vec![0x13, 0x08], "a known config is kept");
    assert_eq!((&frames, rate), (&vec![vec![1, 2], vec![3]], Some(24_000)));
    let first = AccessUnit {
        track: 2,
        pts: 100,
        dts: 100,
        duration: 4096,
        keyframe: true,
        data: Vec::new(),
        capture_time: Duration::ZERO,
    };
    // At twice the ADTS rate (implicit SBR), a frame lasts 2048 ticks.
    let units = split_frames(first.clone(), frames, rate, 48_000);
    let timing: Vec<(i64, i64, u32)> = units.iter().map(|u| (u.pts, u.dts, u.duration)).collect();
    assert_eq!(timing, [(100, 100, 2048), (2148, 2148, 2048)]);
    assert_eq!(units[1].data, [3]);
    let one = split_frames(first.clone(), vec![vec![7]], rate, 48_000);
    assert_eq!(
        (one[0].pts, one[0].duration),
        (100, 4096),
        "one frame keeps the packet timing"
    );
    // A packet cut inside its second frame is reported, not passed on.
    assert!(matches!(
        strip_adts(&packet[..packet.len() - 1], &mut Vec::new()),
        Err(AacError::Truncated { offset: 9, .. })
    ));
}
