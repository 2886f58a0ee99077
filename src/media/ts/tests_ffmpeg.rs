//! Interoperability with the ffmpeg CLI: demux what ffmpeg muxes, remux it,
//! and have ffprobe/ffmpeg decode ours to the same pictures with no errors.
//! These tests fail (never skip) when ffmpeg is missing: CI installs it.

use super::tests::demux_all;
use super::*;
use crate::media::testkit::{ffmpeg_encode, frame_hashes, run_tool, scratch_dir};
use crate::media::{AccessUnit, CodecConfig};

#[test]
fn demuxes_ffmpeg_output_and_remuxes_it_so_ffmpeg_decodes_identical_frames() {
    let dir = scratch_dir("ts-interop");
    let theirs = ffmpeg_encode(&dir, "out.ts", &["-f", "mpegts"]);
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
    let (probe, stderr) = run_tool(
        "ffprobe",
        &[
            "-v",
            "error",
            "-count_frames",
            "-show_streams",
            ours.to_str().unwrap(),
        ],
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
    let (ours_hashes, theirs_hashes) = (frame_hashes(&ours, "0:v"), frame_hashes(&theirs, "0:v"));
    assert_eq!(ours_hashes.len(), 90);
    assert_eq!(ours_hashes, theirs_hashes, "decoded pictures differ");
    println!(
        "remuxed: {} packets, {} identical frame hashes, ffprobe and ffmpeg silent",
        packets.len(),
        ours_hashes.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
