//! Interoperability with the ffmpeg CLI: demux what ffmpeg muxes, remux it,
//! and have ffprobe/ffmpeg decode ours to the same pictures with no errors.
//! These tests fail (never skip) when ffmpeg is missing: CI installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::tests::demux_all;
use super::*;
use crate::media::{AccessUnit, CodecConfig};

/// Runs a tool, failing the test with a clear message if it is missing or fails.
fn run(tool: &str, args: &[&str]) -> (String, String) {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("`{tool}` could not be run ({e}): these tests need the ffmpeg CLI (ffmpeg, ffprobe) on PATH; install ffmpeg")
    });
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(
        out.status.success(),
        "`{tool} {}` failed: {stderr}",
        args.join(" ")
    );
    (stdout, stderr)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("streamsim-ts-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// The MD5 column of `ffmpeg -f framemd5` for the video stream of `file`,
/// checking that decoding printed nothing (no errors, no warnings).
fn video_hashes(file: &Path) -> Vec<String> {
    let (stdout, stderr) = run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-i",
            path(file),
            "-map",
            "0:v",
            "-f",
            "framemd5",
            "-",
        ],
    );
    assert!(
        stderr.is_empty(),
        "decoding {} printed: {stderr}",
        file.display()
    );
    stdout
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit(',').next())
        .map(|h| h.trim().to_owned())
        .collect()
}

#[test]
fn demuxes_ffmpeg_output_and_remuxes_it_so_ffmpeg_decodes_identical_frames() {
    let dir = temp_dir("interop");
    let theirs = dir.join("out.ts");
    run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=30",
            "-f",
            "lavfi",
            "-i",
            "sine=sample_rate=48000",
        ]
        .into_iter()
        .chain([
            "-t",
            "3",
            "-c:v",
            "libx264",
            "-g",
            "30",
            "-c:a",
            "aac",
            "-f",
            "mpegts",
            path(&theirs),
        ])
        .collect::<Vec<_>>(),
    );
    let bytes = std::fs::read(&theirs).expect("ffmpeg wrote its TS");

    // (a) Our demuxer on ffmpeg's stream.
    let (tracks, units, errors) = demux_all(&bytes, 1316);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(tracks.len(), 2, "{tracks:?}");
    assert!(
        matches!(
            tracks[0].config,
            CodecConfig::H264 {
                width: 320,
                height: 240,
                ..
            }
        ),
        "{:?}",
        tracks[0]
    );
    assert!(
        matches!(
            tracks[1].config,
            CodecConfig::Aac {
                sample_rate: 48_000,
                channels: 1,
                ..
            }
        ),
        "{:?}",
        tracks[1]
    );
    let video: Vec<&AccessUnit> = units.iter().filter(|au| au.track == 1).collect();
    let audio = units.iter().filter(|au| au.track == 2).count();
    assert_eq!(video.len(), 90);
    let keyframes: Vec<usize> = (0..video.len()).filter(|&i| video[i].keyframe).collect();
    assert_eq!(keyframes, [0, 30, 60]);
    assert!(video
        .windows(2)
        .all(|w| w[1].dts - w[0].dts == 3000 && w[0].duration == 3000));
    println!(
        "ffmpeg TS: {} video units, keyframes at {keyframes:?}, {audio} audio frames",
        video.len()
    );
    assert!(
        (138..=145).contains(&audio),
        "{audio} audio frames, expected ≈ 3 × 48000 / 1024 = 140.6"
    );

    // (b) Remux in arrival order and let ffprobe and ffmpeg judge.
    let mut mux = TsMuxer::new(&tracks, TsMuxConfig::default()).unwrap();
    let mut by_arrival: Vec<&AccessUnit> = units.iter().collect();
    by_arrival.sort_by_key(|au| {
        (
            au.dts * 90_000 / i64::from(tracks[au.track as usize - 1].timescale),
            au.track,
        )
    });
    let packets: Vec<[u8; 188]> = by_arrival
        .into_iter()
        .flat_map(|au| mux.mux(au).unwrap())
        .collect();
    let ours = dir.join("ours.ts");
    std::fs::write(&ours, packets.concat()).expect("temp dir is writable");
    let (probe, stderr) = run(
        "ffprobe",
        &["-v", "error", "-count_frames", "-show_streams", path(&ours)],
    );
    assert!(stderr.is_empty(), "ffprobe printed: {stderr}");
    for expected in [
        "codec_name=h264",
        "codec_name=aac",
        "width=320",
        "height=240",
        "r_frame_rate=30/1",
        "nb_read_frames=90",
    ] {
        assert!(
            probe.lines().any(|l| l == expected),
            "ffprobe lacks {expected}:\n{probe}"
        );
    }
    let (ours_hashes, theirs_hashes) = (video_hashes(&ours), video_hashes(&theirs));
    assert_eq!(ours_hashes.len(), 90);
    assert_eq!(ours_hashes, theirs_hashes, "decoded pictures differ");
    println!(
        "remuxed: {} packets, {} identical frame hashes, ffprobe and ffmpeg silent",
        packets.len(),
        ours_hashes.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
