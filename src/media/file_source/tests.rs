//! The file source on the fixtures: canonical units, exact timestamps,
//! pacing and looping; and its helpers on hand-made input.

use std::time::Duration;

use std::path::Path;

use super::demux::{
    check_timestamps, fill_durations, read_packet, split_frames, strip_adts, MAX_INVALID_READS,
};
use super::hevc::{canonicalize_h265, parse_hvcc};
use super::*;
use crate::media::aac::{self, AacError};
use crate::media::{h264, h265, AccessUnit, Codec, CodecConfig, Track};

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
    // Shifted by 6000 ticks (1/15 s): the first decode time was −6000.
    assert_eq!(pts, (0..300).map(|i| 6000 + i * 3000).collect::<Vec<_>>());
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
        // The zero of capture times is the audio's first pts, 2176 / 48 kHz
        // = 4080 / 90 kHz.
        assert_eq!(
            unit.capture_time,
            Duration::from_secs(1) + ticks_to_duration(unit.pts - 4080, 90_000)
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
        // 1024 priming samples, shifted by 3200 (1/15 s).
        (0..470).map(|i| i * 1024 - 1024 + 3200).collect::<Vec<_>>()
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
    assert_eq!(second_loop_idr.pts, 6000 + 901_920);
    // The first IDR is captured 1024 audio samples (21.333 ms) after the
    // zero, the audio's first pts.
    assert_eq!(
        second_loop_idr.capture_time,
        Duration::from_secs(1) + Duration::from_nanos(10_021_333_333 + 21_333_333)
    );
    let video_loop_end = units
        .iter()
        .find(|u| u.track == 1 && u.pts == 6000 + 299 * 3000)
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
        // Shifted by 6000 ticks: the first decode time was −1024 / 15360 s.
        assert_eq!(
            idrs,
            vec![6000, 186_000, 366_000, 546_000, 726_000],
            "{name}"
        );
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
            .filter_map(|n| crate::media::h265::nal_type(n))
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

fn track(id: u32, timescale: u32) -> Track {
    let config = match id {
        1 => CodecConfig::H264 {
            sps: vec![],
            pps: vec![],
            width: 16,
            height: 16,
        },
        _ => CodecConfig::Aac {
            asc: vec![0x11, 0x90],
            sample_rate: timescale,
            channels: 2,
        },
    };
    Track {
        id,
        codec: if id == 1 { Codec::H264 } else { Codec::Aac },
        timescale,
        config,
        frame_rate: None,
    }
}

fn unit(track: u32, pts: i64, dts: i64, duration: u32) -> AccessUnit {
    AccessUnit {
        track,
        pts,
        dts,
        duration,
        keyframe: true,
        data: vec![1],
        capture_time: Duration::ZERO,
    }
}

/// The first `n` units the paced source releases.
fn paced(source: &mut FileSource, n: usize) -> Vec<AccessUnit> {
    let mut out = Vec::new();
    while out.len() < n {
        let Some(release) = source.next_release() else {
            break;
        };
        out.extend(source.poll_next(release));
    }
    out
}

#[test]
fn timestamps_are_shifted_by_one_time_so_the_smallest_dts_is_zero() {
    let source = fixture();
    let units = source.access_units();
    assert_eq!(units.iter().map(|u| u.dts).min(), Some(0));
    assert!(units.iter().all(|u| u.pts >= 0 && u.dts >= 0));
    // Both tracks moved by 1/15 s: 6000 ticks at 90 kHz, 3200 at 48 kHz.
    let first =
        |t: u32, key: fn(&AccessUnit) -> i64| units.iter().filter(|u| u.track == t).map(key).min();
    assert_eq!(first(1, |u| u.dts), Some(0));
    assert_eq!(first(1, |u| u.pts), Some(6000));
    assert_eq!(first(2, |u| u.pts), Some(2176));
    // The paced source's first loop has the same timestamps and capture
    // times (only the video's last duration is stretched over the loop gap).
    let timing = |v: &[AccessUnit]| {
        let mut t: Vec<_> = v
            .iter()
            .map(|u| (u.track, u.dts, u.pts, u.capture_time))
            .collect();
        t.sort_unstable();
        t
    };
    let mut live = fixture();
    assert_eq!(timing(&paced(&mut live, units.len())), timing(units));

    // Off the common tick grid (1/6000 s): the shift rounds up to it, the
    // same time in both tracks, and every dts ends up non-negative.
    let tracks = vec![track(1, 90_000), track(2, 48_000)];
    let units = vec![unit(1, 0, -1, 3000), unit(2, 100, 100, 1024)];
    let source = FileSource::from_units(tracks.clone(), units, Duration::ZERO);
    let dts: Vec<i64> = source.access_units().iter().map(|u| u.dts).collect();
    assert_eq!(dts, [14, 108], "1/6000 s: 15 video ticks, 8 audio ticks");
    // A clip that starts late moves back to 0.
    let units = vec![
        unit(1, 903_000, 900_000, 3000),
        unit(2, 480_000, 480_000, 1024),
    ];
    let source = FileSource::from_units(tracks, units, Duration::ZERO);
    let dts: Vec<i64> = source.access_units().iter().map(|u| u.dts).collect();
    assert_eq!(dts, [0, 0]);
}

#[test]
fn capture_times_count_from_one_zero_for_all_tracks() {
    let mut source = fixture();
    // Video pts 6000 and audio pts 3200 are both 1/15 s: captured together.
    let at = |units: &[AccessUnit], track: u32, pts: i64| {
        units
            .iter()
            .find(|u| u.track == track && u.pts == pts)
            .map(|u| u.capture_time)
            .expect("the unit is there")
    };
    let clip = source.access_units().to_vec();
    let video = at(&clip, 1, 6000);
    assert_eq!(video, at(&clip, 2, 3200));
    // The zero is the earliest first pts, the audio's (2176 = 1/15 s − 1024
    // samples): the first picture is captured 1024 samples after the start.
    assert_eq!(at(&clip, 2, 2176), Duration::from_secs(1));
    assert_eq!(
        video,
        Duration::from_secs(1) + ticks_to_duration(1024, 48_000)
    );
    let live = paced(&mut source, 40);
    assert_eq!(at(&live, 1, 6000), at(&live, 2, 3200));
    assert_eq!(source.next_release().map(|r| r >= video), Some(true));
}

#[test]
fn extreme_timestamps_do_not_overflow() {
    let tracks = vec![track(1, 90_000), track(2, 48_000)];
    let units = vec![
        unit(1, i64::MAX - 1, i64::MIN, u32::MAX),
        unit(1, i64::MAX, i64::MAX - 5, u32::MAX),
        unit(2, i64::MIN, i64::MIN, u32::MAX),
        unit(2, i64::MAX, 0, 1024),
    ];
    let mut source = FileSource::from_units(tracks, units.clone(), Duration::ZERO);
    let _ = source.period();
    let _ = paced(&mut source, 12);
    let mut filled: Vec<AccessUnit> = units
        .into_iter()
        .map(|u| AccessUnit { duration: 0, ..u })
        .collect();
    fill_durations(&mut filled);
    // What the conversion lets through stays far from overflow.
    let limit = 1i64 << 53;
    assert!(check_timestamps(limit, -limit).is_ok());
    assert!(check_timestamps(limit + 1, 0).is_err());
    assert!(check_timestamps(0, i64::MIN).is_err());
}

#[test]
fn unreadable_packets_are_an_error_not_an_endless_loop() {
    let path = Path::new("/clips/corrupt.mp4");
    let mut calls = 0;
    let err = read_packet(path, || {
        calls += 1;
        assert!(calls <= 10_000, "still reading after {calls} failures");
        Err(ffmpeg_next::Error::InvalidData)
    })
    .unwrap_err();
    assert!(
        matches!(err, FileSourceError::Unreadable { count: 64, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("/clips/corrupt.mp4"), "{err}");
    assert_eq!(calls, MAX_INVALID_READS);
    // Fewer failures in a row are skipped.
    let mut calls = 0;
    let ok = read_packet(path, || {
        calls += 1;
        match calls {
            64 => Ok(()),
            _ => Err(ffmpeg_next::Error::InvalidData),
        }
    });
    assert!(matches!(ok, Ok(true)));
    assert!(matches!(
        read_packet(path, || Err(ffmpeg_next::Error::Eof)),
        Ok(false)
    ));
}

#[test]
fn h265_keyframes_follow_the_crate_rule() {
    for t in 0..64u8 {
        if matches!(
            t,
            h265::NAL_VPS | h265::NAL_SPS | h265::NAL_PPS | h265::NAL_AUD
        ) {
            continue;
        }
        let nal = [0, 0, 0, 1, t << 1, 1, 0xaa];
        let (mut vps, mut sps, mut pps) = (vec![], vec![], vec![]);
        let (_, key) = canonicalize_h265(&nal, &mut vps, &mut sps, &mut pps);
        assert_eq!(key, h265::is_keyframe_type(t), "NAL type {t}");
    }
}

#[test]
fn ffmpeg_log_is_quiet_once_a_file_is_opened() {
    let _ = fixture();
    assert!(matches!(
        ffmpeg_next::util::log::get_level(),
        Ok(ffmpeg_next::util::log::Level::Quiet)
    ));
}
