//! Tests of the synthetic source: pacing, sizes, determinism, and decoding
//! by the ffmpeg and ffprobe command line tools (which CI installs).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::*;
use crate::media::aac::raw_to_adts;
use crate::media::h264::{is_idr, join_annex_b, nal_type, split_annex_b, NAL_PPS, NAL_SPS};

fn config() -> SyntheticConfig {
    SyntheticConfig {
        width: 1280,
        height: 720,
        fps: (30, 1),
        gop: 60,
        video_bitrate_bps: 2_000_000,
        i_to_p_ratio: 8.0,
        audio: Some(SyntheticAudio {
            sample_rate: 48_000,
            channels: 2,
            bitrate_bps: 128_000,
        }),
        seed: 7,
    }
}

/// Every access unit released up to `end`, polling at each release time.
fn run(config: &SyntheticConfig, start: Duration, end: Duration) -> Vec<AccessUnit> {
    let mut source = SyntheticSource::new(config, start).unwrap();
    let mut out = Vec::new();
    while let Some(at) = source.next_release().filter(|&at| at < end) {
        if let Some(before) = at.checked_sub(Duration::from_nanos(1)) {
            assert!(
                source.poll_next(before).is_none(),
                "released before its time"
            );
        }
        let au = source.poll_next(at).expect("released at its time");
        assert!(au.capture_time <= at);
        out.push(au);
    }
    out
}

fn track(aus: &[AccessUnit], id: u32) -> Vec<&AccessUnit> {
    aus.iter().filter(|au| au.track == id).collect()
}

#[test]
fn pacing_counts_and_keyframes() {
    let start = Duration::from_millis(1500);
    let aus = run(&config(), start, start + Duration::from_secs(10));
    let video = track(&aus, VIDEO_TRACK);
    let audio = track(&aus, AUDIO_TRACK);
    assert_eq!(video.len(), 300);
    assert_eq!(audio.len(), 469); // ceil(10 s × 48000 / 1024)
    for second in 0..10u64 {
        let in_second = |au: &&&AccessUnit| {
            au.capture_time >= start + Duration::from_secs(second)
                && au.capture_time < start + Duration::from_secs(second + 1)
        };
        assert_eq!(
            video.iter().filter(in_second).count(),
            30,
            "second {second}"
        );
    }
    // Release order is capture order across tracks.
    assert!(aus
        .windows(2)
        .all(|w| w[0].capture_time <= w[1].capture_time));
    for (n, au) in video.iter().enumerate() {
        assert_eq!(au.keyframe, n % 60 == 0, "frame {n}");
        assert_eq!(is_idr(&au.data), au.keyframe);
        assert_eq!(
            (au.pts, au.dts, au.duration),
            (n as i64 * 3000, n as i64 * 3000, 3000)
        );
        assert_eq!(
            au.capture_time,
            start + Duration::from_nanos(n as u64 * 1_000_000_000 / 30)
        );
        // Canonical form: 4-byte start codes, no parameter sets.
        assert_eq!(au.data[..4], [0, 0, 0, 1]);
        assert!(split_annex_b(&au.data)
            .iter()
            .all(|nal| !matches!(nal_type(nal), Some(NAL_SPS | NAL_PPS))));
    }
    for (n, au) in audio.iter().enumerate() {
        assert_eq!(
            (au.pts, au.duration, au.keyframe),
            (n as i64 * 1024, 1024, true)
        );
    }
}

#[test]
fn bitrates_and_i_to_p_ratio() {
    let aus = run(&config(), Duration::ZERO, Duration::from_secs(10));
    let bits = |id| {
        track(&aus, id)
            .iter()
            .map(|au| au.data.len() as f64 * 8.0)
            .sum::<f64>()
    };
    let video_bps = bits(VIDEO_TRACK) / 10.0;
    assert!(
        (video_bps / 2_000_000.0 - 1.0).abs() < 0.02,
        "video {video_bps} bit/s"
    );
    let audio_bps = bits(AUDIO_TRACK) / (469.0 * 1024.0 / 48_000.0);
    assert!(
        (audio_bps / 128_000.0 - 1.0).abs() < 0.02,
        "audio {audio_bps} bit/s"
    );
    let video = track(&aus, VIDEO_TRACK);
    let mean = |key: bool| {
        let sizes: Vec<f64> = video
            .iter()
            .filter(|au| au.keyframe == key)
            .map(|au| au.data.len() as f64)
            .collect();
        sizes.iter().sum::<f64>() / sizes.len() as f64
    };
    let ratio = mean(true) / mean(false);
    assert!((ratio / 8.0 - 1.0).abs() < 0.1, "I/P ratio {ratio}");
}

#[test]
fn same_seed_same_bytes() {
    let end = Duration::from_secs(5);
    let a = run(&config(), Duration::ZERO, end);
    assert_eq!(a, run(&config(), Duration::ZERO, end));
    let b = run(
        &SyntheticConfig {
            seed: 8,
            ..config()
        },
        Duration::ZERO,
        end,
    );
    assert_ne!(a, b);
    assert_eq!(a.len(), b.len());
}

#[test]
fn tracks_describe_the_streams() {
    let source = SyntheticSource::new(&config(), Duration::ZERO).unwrap();
    let [video, audio] = source.tracks() else {
        panic!("two tracks")
    };
    assert_eq!(
        (video.id, video.codec, video.timescale, video.frame_rate),
        (1, Codec::H264, 90_000, Some((30, 1)))
    );
    let CodecConfig::H264 {
        sps,
        pps,
        width,
        height,
    } = &video.config
    else {
        panic!("H.264 config")
    };
    assert_eq!((sps.len(), pps.len(), *width, *height), (1, 1, 1280, 720));
    assert_eq!(
        crate::media::h264::sps_dimensions(&sps[0]).unwrap(),
        (1280, 720)
    );
    assert_eq!(
        (audio.id, audio.codec, audio.timescale, audio.frame_rate),
        (2, Codec::Aac, 48_000, None)
    );
    let CodecConfig::Aac {
        asc,
        sample_rate,
        channels,
    } = &audio.config
    else {
        panic!("AAC config")
    };
    assert_eq!(
        (
            AudioSpecificConfig::parse(asc).unwrap(),
            *sample_rate,
            *channels
        ),
        (AudioSpecificConfig::aac_lc(48_000, 2), 48_000, 2)
    );
    let silent = SyntheticSource::new(
        &SyntheticConfig {
            audio: None,
            ..config()
        },
        Duration::ZERO,
    )
    .unwrap();
    assert_eq!(silent.tracks().len(), 1);
}

#[test]
fn slowest_frame_rate_fits_the_duration_field() {
    // 90 000 × 50 000 ticks per frame overflow a u32 duration.
    let too_slow = SyntheticConfig {
        fps: (1, 50_000),
        ..config()
    };
    assert!(matches!(
        SyntheticSource::new(&too_slow, Duration::ZERO),
        Err(SyntheticError::Invalid { field: "fps", .. })
    ));
    // The slowest rate that fits: 90 000 × 47 721 < 2^32 ticks.
    let slowest = SyntheticConfig {
        fps: (1, 47_721),
        video_bitrate_bps: 1_000,
        audio: None,
        ..config()
    };
    let mut source = SyntheticSource::new(&slowest, Duration::ZERO).unwrap();
    let first = source.poll_next(Duration::ZERO).unwrap();
    assert_eq!(first.duration, 90_000 * 47_721);
}

#[test]
fn bad_configs_are_errors() {
    let bad = [
        SyntheticConfig {
            width: 641,
            ..config()
        },
        SyntheticConfig {
            fps: (30, 0),
            ..config()
        },
        SyntheticConfig { gop: 0, ..config() },
        SyntheticConfig {
            i_to_p_ratio: f64::NAN,
            ..config()
        },
        SyntheticConfig {
            audio: Some(SyntheticAudio {
                sample_rate: 44_000,
                channels: 2,
                bitrate_bps: 128_000,
            }),
            ..config()
        },
        SyntheticConfig {
            audio: Some(SyntheticAudio {
                sample_rate: 48_000,
                channels: 7,
                bitrate_bps: 128_000,
            }),
            ..config()
        },
        SyntheticConfig {
            audio: Some(SyntheticAudio {
                sample_rate: 48_000,
                channels: 1,
                bitrate_bps: 1_000_000,
            }),
            ..config()
        },
    ];
    for c in bad {
        assert!(
            matches!(
                SyntheticSource::new(&c, Duration::ZERO),
                Err(SyntheticError::Invalid { .. })
            ),
            "{c:?}"
        );
    }
    let low = SyntheticConfig {
        video_bitrate_bps: 0,
        ..config()
    };
    // A 3609-byte I frame (3600 one-byte macroblocks) gets 8/67 of a
    // 60-frame GOP's bits: 3609 × 8 bit × 67 / 8 / 60 × 30 fps = 120 902 bit/s.
    assert_eq!(
        SyntheticSource::new(&low, Duration::ZERO).err(),
        Some(SyntheticError::BitrateTooLow {
            track: "video",
            bitrate_bps: 0,
            minimum_bps: 120_902
        })
    );
    let enough = SyntheticConfig {
        video_bitrate_bps: 120_902,
        ..config()
    };
    assert!(SyntheticSource::new(&enough, Duration::ZERO).is_ok());
    let low = SyntheticConfig {
        video_bitrate_bps: 100_000,
        ..config()
    };
    assert!(matches!(
        SyntheticSource::new(&low, Duration::ZERO),
        Err(SyntheticError::BitrateTooLow { track: "video", .. })
    ));
}

/// Runs a command line tool; a missing tool fails the test with a clear
/// message. Returns (stdout, stderr).
fn tool(name: &str, args: &[&str]) -> (String, String) {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("this test needs `{name}` on PATH (CI installs ffmpeg): {e}"));
    assert!(
        out.status.success(),
        "{name} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `data` to a file in the temp dir named for this process and `name`.
fn temp_file(name: &str, data: &[u8]) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("streamsim-synthetic-{}-{name}", std::process::id()));
    std::fs::write(&path, data).unwrap();
    path
}

/// The video track as an Annex B elementary stream with SPS and PPS before
/// every IDR, as a decoder wants it.
fn elementary_stream(source_tracks: &[Track], aus: &[AccessUnit]) -> Vec<u8> {
    let Some(CodecConfig::H264 { sps, pps, .. }) = source_tracks.first().map(|t| &t.config) else {
        panic!("no H.264 track")
    };
    let mut out = Vec::new();
    for au in track(aus, VIDEO_TRACK) {
        if au.keyframe {
            out.extend(join_annex_b(sps.iter().chain(pps).map(Vec::as_slice)));
        }
        out.extend_from_slice(&au.data);
    }
    out
}

#[test]
fn ffmpeg_decodes_video_and_ffprobe_sees_the_frame_rate() {
    for (name, width, height, fps, gop) in [
        ("a", 1280, 720, (30, 1), 60),
        ("b", 642, 362, (30000, 1001), 25),
        ("c", 176, 144, (25, 1), 1),
        ("d", 1920, 1080, (60, 1), 120),
        ("e", 2, 2, (5, 2), 3),
    ] {
        let c = SyntheticConfig {
            width,
            height,
            fps,
            gop,
            video_bitrate_bps: 1_000_000,
            audio: None,
            ..config()
        };
        let source = SyntheticSource::new(&c, Duration::ZERO).unwrap();
        let aus = run(&c, Duration::ZERO, Duration::from_secs(4));
        let frames = aus.len();
        let path = temp_file(
            &format!("{name}.h264"),
            &elementary_stream(source.tracks(), &aus),
        );
        let path = path.to_str().unwrap();
        let (_, errors) = tool(
            "ffmpeg",
            &["-nostdin", "-v", "error", "-i", path, "-f", "null", "-"],
        );
        assert_eq!(errors, "", "ffmpeg reported errors for {name}");
        let (probe, _) = tool(
            "ffprobe",
            &[
                "-v",
                "error",
                "-count_frames",
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream=nb_read_frames,r_frame_rate,width,height,profile",
                "-of",
                "default=nw=1",
                path,
            ],
        );
        let expected = format!("profile=Constrained Baseline\nwidth={width}\nheight={height}\nr_frame_rate={}/{}\nnb_read_frames={frames}\n", fps.0, fps.1);
        assert_eq!(probe, expected, "{name}");
        let _ = std::fs::remove_file(path);
    }
}

#[test]
fn ffmpeg_decodes_audio() {
    for (name, sample_rate, channels, bitrate_bps) in [
        ("stereo", 48_000, 2, 128_000),
        ("mono", 44_100, 1, 64_000),
        ("surround", 48_000, 6, 384_000),
    ] {
        let c = SyntheticConfig {
            audio: Some(SyntheticAudio {
                sample_rate,
                channels,
                bitrate_bps,
            }),
            ..config()
        };
        let source = SyntheticSource::new(&c, Duration::ZERO).unwrap();
        let Some(CodecConfig::Aac { asc, .. }) = source.tracks().get(1).map(|t| &t.config) else {
            panic!("no AAC track")
        };
        let asc = AudioSpecificConfig::parse(asc).unwrap();
        let aus = run(&c, Duration::ZERO, Duration::from_secs(3));
        let audio = track(&aus, AUDIO_TRACK);
        let adts: Vec<u8> = audio
            .iter()
            .flat_map(|au| raw_to_adts(&au.data, &asc).unwrap())
            .collect();
        let path = temp_file(&format!("{name}.aac"), &adts);
        let path = path.to_str().unwrap();
        let (_, errors) = tool(
            "ffmpeg",
            &[
                "-nostdin", "-v", "error", "-f", "aac", "-i", path, "-f", "null", "-",
            ],
        );
        assert_eq!(errors, "", "ffmpeg reported errors for {name}");
        let (probe, _) = tool(
            "ffprobe",
            &[
                "-v",
                "error",
                "-count_frames",
                "-show_entries",
                "stream=nb_read_frames,sample_rate,channels",
                "-of",
                "default=nw=1",
                path,
            ],
        );
        assert_eq!(
            probe,
            format!(
                "sample_rate={sample_rate}\nchannels={channels}\nnb_read_frames={}\n",
                audio.len()
            ),
            "{name}"
        );
        let _ = std::fs::remove_file(path);
    }
}
