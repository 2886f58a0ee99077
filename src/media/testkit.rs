//! Test helpers shared by the container tests (TS, fMP4, FLV): a synthetic H.264 + AAC
//! stream with B-frames, and the ffmpeg CLI interop checks (encode a
//! reference, probe and decode a remux, compare decoded frames).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::media::h264::{join_annex_b, START_CODE};
use crate::media::ticks_to_duration;
use crate::media::{AccessUnit, Codec, CodecConfig, Track};

/// A real SPS and PPS (libx264, 320×240, High profile).
pub(crate) const SPS: &[u8] = &[
    0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10,
    0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x42, 0x99, 0x60,
];
pub(crate) const PPS: &[u8] = &[0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0];

/// Video (id 1, 90 kHz, 30 fps) and AAC (id 2, 48 kHz mono).
pub(crate) fn synthetic_tracks() -> Vec<Track> {
    vec![
        Track {
            id: 1,
            codec: Codec::H264,
            timescale: 90_000,
            config: CodecConfig::H264 {
                sps: vec![SPS.to_vec()],
                pps: vec![PPS.to_vec()],
                width: 320,
                height: 240,
            },
            frame_rate: Some((30, 1)),
        },
        Track {
            id: 2,
            codec: Codec::Aac,
            timescale: 48_000,
            config: CodecConfig::Aac {
                asc: vec![0x11, 0x88],
                sample_rate: 48_000,
                channels: 1,
            },
            frame_rate: None,
        },
    ]
}

/// `frames` video units (I P B B …, IDR every 30 in decode order, pts two
/// frames ahead) and the AAC frames of the same span, interleaved by dts.
pub(crate) fn synthetic_aus(frames: usize) -> Vec<AccessUnit> {
    let mut aus = Vec::new();
    for i in 0..frames {
        let display = match i {
            0 => 0,
            i => 3 * ((i - 1) / 3) + [3, 1, 2][(i - 1) % 3],
        };
        let keyframe = i % 30 == 0;
        let slice = [
            if keyframe { 0x65 } else { 0x41 },
            0x88,
            i as u8,
            0x00,
            0x03,
            0x01,
        ];
        let sei = [0x06, 0x05, (i * 7) as u8];
        let data = if i % 4 == 1 {
            join_annex_b([&sei[..], &slice[..]])
        } else {
            join_annex_b([&slice[..]])
        };
        let pts = display as i64 * 3000 + 6000;
        aus.push(AccessUnit {
            track: 1,
            pts,
            dts: i as i64 * 3000,
            duration: 3000,
            keyframe,
            data,
            capture_time: ticks_to_duration(pts, 90_000),
        });
    }
    for k in 0..(frames * 1600).div_ceil(1024) {
        let ts = k as i64 * 1024;
        let data: Vec<u8> = (0..(20 + k % 13)).map(|b| (b * 31 + k) as u8).collect();
        aus.push(AccessUnit {
            track: 2,
            pts: ts,
            dts: ts,
            duration: 1024,
            keyframe: true,
            data,
            capture_time: ticks_to_duration(ts, 48_000),
        });
    }
    // Release order: by dts in seconds; video first on ties.
    aus.sort_by_key(|au| {
        (
            au.dts as i128 * 1_000_000 / if au.track == 1 { 90_000 } else { 48_000 },
            au.track,
        )
    });
    aus
}

/// The units of one track, in the order given.
pub(crate) fn of_track(aus: &[AccessUnit], track: u32) -> Vec<AccessUnit> {
    aus.iter().filter(|au| au.track == track).cloned().collect()
}

/// Runs a CLI tool, failing the test with a clear message when it is absent.
pub(crate) fn run_tool(tool: &str, args: &[&str]) -> (String, String) {
    let output = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("the interop tests need the `{tool}` CLI on PATH (apt-get install ffmpeg): {e}")
    });
    assert!(
        output.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A fresh scratch directory for one test.
pub(crate) fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("streamsim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Encodes 3 s of test video (320×240, 30 fps, GOP 30, 2 B-frames) and a
/// 48 kHz sine with ffmpeg, into `dir/name` with the given extra arguments.
pub(crate) fn ffmpeg_encode(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec![
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=30",
    ];
    args.extend([
        "-f",
        "lavfi",
        "-i",
        "sine=sample_rate=48000",
        "-t",
        "3",
        "-c:v",
        "libx264",
        "-g",
        "30",
    ]);
    args.extend(["-bf", "2", "-c:a", "aac"]);
    args.extend(extra);
    args.push(out.to_str().unwrap());
    run_tool("ffmpeg", &args);
    out
}

/// The `key=value` lines of `ffprobe -count_frames -show_streams`, one
/// string per stream.
pub(crate) fn probe_streams(path: &Path) -> Vec<String> {
    let (out, err) = run_tool(
        "ffprobe",
        &[
            "-v",
            "error",
            "-count_frames",
            "-show_streams",
            path.to_str().unwrap(),
        ],
    );
    assert!(err.is_empty(), "ffprobe complained: {err}");
    out.split("[/STREAM]")
        .filter(|s| s.contains("codec_name"))
        .map(str::to_owned)
        .collect()
}

/// The decoded frames' MD5 lines (`-f framemd5`) of stream `map` (`"0:v"`,
/// `"0:a"`), checking that ffmpeg printed no error.
pub(crate) fn framemd5(path: &Path, map: &str) -> Vec<String> {
    let file = path.to_str().unwrap();
    let args = [
        "-v", "error", "-i", file, "-f", "framemd5", "-map", map, "-",
    ];
    let (out, err) = run_tool("ffmpeg", &args);
    assert!(err.is_empty(), "ffmpeg complained decoding {file}: {err}");
    out.lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// The MD5 of every decoded frame of stream `map`, in order (the last
/// column of [`framemd5`]): equal lists mean bit-identical frames, whatever
/// the containers' timestamps.
pub(crate) fn frame_hashes(path: &Path, map: &str) -> Vec<String> {
    framemd5(path, map)
        .iter()
        .filter_map(|l| l.rsplit(',').next())
        .map(|h| h.trim().to_owned())
        .collect()
}

/// Feeds `feed` `rounds` copies of `file`, each with 1 to 8 bytes flipped at
/// positions drawn from a fixed LCG seeded with `seed`: a demuxer must survive
/// every one without panicking.
pub(crate) fn flip_bytes(file: &[u8], mut seed: u32, rounds: usize, mut feed: impl FnMut(&[u8])) {
    for round in 0..rounds {
        let mut bad = file.to_vec();
        for _ in 0..1 + round % 8 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let at = (seed >> 8) as usize % bad.len();
            bad[at] ^= (seed >> 3) as u8 | 1;
        }
        feed(&bad);
    }
}

/// Our remux `ours` of ffmpeg's `theirs` probes as H.264 320×240 at 30/1
/// with 90 frames plus AAC, and decodes to the same frames (video and
/// audio, data and timestamps) with no complaint from ffmpeg.
pub(crate) fn check_remux(theirs: &Path, ours: &Path) {
    let streams = probe_streams(ours);
    assert_eq!(streams.len(), 2, "{streams:?}");
    for line in [
        "codec_name=h264",
        "width=320",
        "height=240",
        "r_frame_rate=30/1",
        "nb_read_frames=90",
    ] {
        assert!(
            streams[0].lines().any(|l| l == line),
            "no {line} in {}",
            streams[0]
        );
    }
    assert!(
        streams[1].lines().any(|l| l == "codec_name=aac"),
        "{}",
        streams[1]
    );
    let video = framemd5(ours, "0:v");
    assert_eq!(video.len(), 90);
    assert_eq!(
        video,
        framemd5(theirs, "0:v"),
        "decoded video matches ffmpeg's own file"
    );
    assert_eq!(
        framemd5(ours, "0:a"),
        framemd5(theirs, "0:a"),
        "decoded audio matches"
    );
}

/// The access units ffmpeg wrote look like what we asked for: 90 video
/// units with an IDR every 30 in decode order, ~141 AAC frames.
pub(crate) fn check_ffmpeg_units(tracks: &[Track], aus: &[AccessUnit]) {
    let video = tracks
        .iter()
        .find(|t| t.codec == Codec::H264)
        .expect("a video track");
    let audio = tracks
        .iter()
        .find(|t| t.codec == Codec::Aac)
        .expect("an audio track");
    assert!(matches!(
        video.config,
        CodecConfig::H264 {
            width: 320,
            height: 240,
            ..
        }
    ));
    assert!(matches!(
        audio.config,
        CodecConfig::Aac {
            sample_rate: 48_000,
            ..
        }
    ));
    let v = of_track(aus, video.id);
    assert_eq!(v.len(), 90);
    let keys: Vec<usize> = v
        .iter()
        .enumerate()
        .filter(|(_, au)| au.keyframe)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(keys, [0, 30, 60]);
    assert!(v
        .iter()
        .all(|au| au.data.starts_with(&START_CODE) && au.pts >= au.dts));
    let a = of_track(aus, audio.id);
    assert!((138..=143).contains(&a.len()), "{} audio frames", a.len());
}

/// Sorts units by dts in seconds (stable), as a live source releases them.
pub(crate) fn release_order(tracks: &[Track], aus: &mut [AccessUnit]) {
    let scale = |id: u32| {
        tracks
            .iter()
            .find(|t| t.id == id)
            .map_or(1, |t| t.timescale)
    };
    aus.sort_by_key(|au| au.dts as i128 * 1_000_000 / i128::from(scale(au.track)));
}
