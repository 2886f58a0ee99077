//! The containers against the committed fixture and against ffmpeg, a real
//! peer: our MPEG-TS, fragmented MP4 and FLV round-trip the fixture's access
//! units; ffprobe and ffmpeg read what we write (frame-identical video, zero
//! decode errors); our demuxers read what ffmpeg writes; and the synthetic
//! source, muxed to TS, is H.264 + AAC at its configured rate and GOP.
//!
//! The fixture's access units are muxed as the file source gives them: it
//! shifts the file's negative timestamps (AAC priming, B-frame decode
//! times), which TS, FLV and an fMP4 base time cannot carry, to start at 0.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use streamsim::media::file_source::FileSource;
use streamsim::media::synthetic::{SyntheticAudio, SyntheticConfig, SyntheticSource};
use streamsim::media::ts::{TsDemuxer, TsEvent, TsMuxConfig, TsMuxer};
use streamsim::media::{flv, fmp4, AccessUnit, Codec, CodecConfig, Source, Track};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The fixture's tracks and access units (timestamps from 0).
fn clip() -> Demuxed {
    let source = FileSource::open(fixture("clip.mp4"), Duration::ZERO).expect("the fixture opens");
    let aus = source.access_units().to_vec();
    assert_eq!(aus.iter().map(|a| a.dts).min(), Some(0), "starts at 0");
    (source.tracks().to_vec(), aus)
}

/// What a demuxer gives back: tracks and access units.
type Demuxed = (Vec<Track>, Vec<AccessUnit>);

fn track_of(tracks: &[Track], codec: Codec) -> &Track {
    tracks
        .iter()
        .find(|t| t.codec == codec)
        .expect("the track is there")
}

/// (pts, dts, keyframe, data) of one track's units, for comparison.
fn essence(aus: &[AccessUnit], track: u32) -> Vec<(i64, i64, bool, Vec<u8>)> {
    aus.iter()
        .filter(|a| a.track == track)
        .map(|a| (a.pts, a.dts, a.keyframe, a.data.clone()))
        .collect()
}

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("streamsim-media-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn run(program: &str, args: &[&str]) -> (String, String) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs (make test installs ffmpeg): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn mux_ts(tracks: &[Track], aus: &[AccessUnit]) -> Vec<u8> {
    let mut muxer = TsMuxer::new(tracks, TsMuxConfig::default()).unwrap();
    let mut out = Vec::new();
    for au in aus {
        for packet in muxer.mux(au).unwrap() {
            out.extend_from_slice(&packet);
        }
    }
    for packet in muxer.flush() {
        out.extend_from_slice(&packet);
    }
    out
}

fn demux_ts(bytes: &[u8]) -> Demuxed {
    let mut demuxer = TsDemuxer::new();
    demuxer.handle_bytes(bytes);
    demuxer.flush();
    let (mut tracks, mut aus) = (Vec::new(), Vec::new());
    while let Some(event) = demuxer.poll_event() {
        match event {
            TsEvent::Track(t) => tracks.push(t),
            TsEvent::AccessUnit(au) => aus.push(au),
            TsEvent::Error(e) => panic!("demux error: {e}"),
        }
    }
    (tracks, aus)
}

fn mux_fmp4(tracks: &[Track], aus: &[AccessUnit]) -> Vec<u8> {
    let mut muxer = fmp4::Fmp4Muxer::new(tracks).unwrap();
    let mut out = muxer.init_segment().to_vec();
    for range in fmp4::segment_ranges(tracks, aus, Duration::from_secs(2)) {
        out.extend(muxer.fragment(&aus[range]).unwrap());
    }
    out
}

fn mux_flv(tracks: &[Track], aus: &[AccessUnit]) -> Vec<u8> {
    let muxer = flv::FlvMuxer::new(tracks).unwrap();
    let mut out = muxer.header().unwrap();
    for au in aus {
        out.extend(muxer.write(au).unwrap());
    }
    out
}

#[test]
fn ts_round_trips_the_fixture() {
    let (tracks, aus) = clip();
    let (back_tracks, back) = demux_ts(&mux_ts(&tracks, &aus));
    for codec in [Codec::H264, Codec::Aac] {
        let (ours, theirs) = (track_of(&tracks, codec), track_of(&back_tracks, codec));
        match (&ours.config, &theirs.config) {
            // ADTS carries the AudioSpecificConfig's first two bytes (object
            // type, rate, channels); the fixture's has 3 more, an explicit
            // "no SBR" extension, which only an out-of-band config can hold.
            (
                CodecConfig::Aac {
                    asc: a,
                    sample_rate: ra,
                    channels: ca,
                },
                CodecConfig::Aac {
                    asc: b,
                    sample_rate: rb,
                    channels: cb,
                },
            ) => {
                assert_eq!((&a[..2], ra, ca), (&b[..], rb, cb), "AAC configuration");
            }
            (a, b) => assert_eq!(a, b, "{codec:?} configuration"),
        }
        assert_eq!(
            essence(&aus, ours.id),
            essence(&back, theirs.id),
            "{codec:?} units"
        );
    }
}

#[test]
fn fmp4_round_trips_the_fixture() {
    let (tracks, aus) = clip();
    let (back_tracks, back) = fmp4::demux(&mux_fmp4(&tracks, &aus)).unwrap();
    for codec in [Codec::H264, Codec::Aac] {
        let (ours, theirs) = (track_of(&tracks, codec), track_of(&back_tracks, codec));
        assert_eq!(ours.config, theirs.config, "{codec:?} configuration");
        let durations = |v: &[AccessUnit], id| {
            v.iter()
                .filter(|a| a.track == id)
                .map(|a| a.duration)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            essence(&aus, ours.id),
            essence(&back, theirs.id),
            "{codec:?} units"
        );
        assert_eq!(
            durations(&aus, ours.id),
            durations(&back, theirs.id),
            "{codec:?} durations"
        );
    }
}

#[test]
fn flv_round_trips_the_fixture_to_the_millisecond() {
    let (tracks, aus) = clip();
    let (back_tracks, back) = flv::demux(&mux_flv(&tracks, &aus)).unwrap();
    for codec in [Codec::H264, Codec::Aac] {
        let (ours, theirs) = (track_of(&tracks, codec), track_of(&back_tracks, codec));
        assert_eq!(ours.config, theirs.config, "{codec:?} configuration");
        // FLV keeps milliseconds: compare timestamps rounded to the ms.
        let ms =
            |t: i64, scale: u32| (t * 1000 + i64::from(scale) / 2).div_euclid(i64::from(scale));
        let view = |v: &[AccessUnit], t: &Track| {
            v.iter()
                .filter(|a| a.track == t.id)
                .map(|a| {
                    (
                        ms(a.pts, t.timescale),
                        ms(a.dts, t.timescale),
                        a.keyframe,
                        a.data.clone(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(view(&aus, ours), view(&back, theirs), "{codec:?} units");
    }
}

/// `ffprobe` facts about the first video and audio streams of a file.
fn probe(file: &Path) -> String {
    let f = file.to_str().unwrap();
    let (video, _) = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height,r_frame_rate,nb_read_frames",
            "-of",
            "csv=p=0",
            f,
        ],
    );
    let (audio, _) = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=codec_name,sample_rate,channels,nb_read_frames",
            "-of",
            "csv=p=0",
            f,
        ],
    );
    // A TS lists each stream again under its program: keep the first line.
    let first = |s: &str| {
        s.lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    format!("{} | {}", first(&video), first(&audio))
}

/// The MD5 of every decoded video frame, in order.
fn frame_hashes(file: &Path) -> Vec<String> {
    let (out, err) = run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-i",
            file.to_str().unwrap(),
            "-map",
            "0:v:0",
            "-f",
            "framemd5",
            "-",
        ],
    );
    assert_eq!(
        err,
        "",
        "ffmpeg reported decode errors for {}",
        file.display()
    );
    out.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.rsplit(',').next().unwrap().trim().to_owned())
        .collect()
}

#[test]
fn ffmpeg_reads_what_we_write() {
    let (tracks, aus) = clip();
    let reference = frame_hashes(&fixture("clip.mp4"));
    assert_eq!(reference.len(), 300);
    let outputs = [
        ("ours.ts", mux_ts(&tracks, &aus)),
        ("ours.mp4", mux_fmp4(&tracks, &aus)),
        ("ours.flv", mux_flv(&tracks, &aus)),
    ];
    for (name, bytes) in outputs {
        let file = temp(name, &bytes);
        let facts = probe(&file);
        println!("{name}: {facts}");
        assert!(
            facts.starts_with("h264,640,360,30/1,300 | aac,48000,2,"),
            "{name}: {facts}"
        );
        assert_eq!(
            frame_hashes(&file),
            reference,
            "{name}: decoded frames differ from the fixture's"
        );
        std::fs::remove_file(file).unwrap();
    }
}

#[test]
fn our_demuxers_read_what_ffmpeg_writes() {
    let (tracks, aus) = clip();
    let video = track_of(&tracks, Codec::H264).id;
    let expected: Vec<(bool, Vec<u8>)> = aus
        .iter()
        .filter(|a| a.track == video)
        .map(|a| (a.keyframe, a.data.clone()))
        .collect();
    let dir = std::env::temp_dir().join(format!("streamsim-ffmpeg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = fixture("clip.mp4");
    let remux = |name: &str, args: &[&str]| -> Vec<u8> {
        let out = dir.join(name);
        let mut all = vec![
            "-v",
            "error",
            "-y",
            "-i",
            input.to_str().unwrap(),
            "-c",
            "copy",
        ];
        all.extend_from_slice(args);
        all.push(out.to_str().unwrap());
        run("ffmpeg", &all);
        std::fs::read(&out).unwrap()
    };
    let demuxed: [(&str, Demuxed); 3] = [
        ("ts", demux_ts(&remux("theirs.ts", &["-f", "mpegts"]))),
        (
            "fmp4",
            fmp4::demux(&remux(
                "theirs.mp4",
                &["-movflags", "+frag_keyframe+empty_moov+default_base_moof"],
            ))
            .unwrap(),
        ),
        (
            "flv",
            flv::demux(&remux("theirs.flv", &["-f", "flv"])).unwrap(),
        ),
    ];
    for (name, (tracks, aus)) in demuxed {
        let video = track_of(&tracks, Codec::H264);
        let got: Vec<(bool, Vec<u8>)> = aus
            .iter()
            .filter(|a| a.track == video.id)
            .map(|a| (a.keyframe, a.data.clone()))
            .collect();
        assert_eq!(got.len(), 300, "{name}: video units");
        assert!(
            got == expected,
            "{name}: video units differ from the fixture's"
        );
        let audio = aus
            .iter()
            .filter(|a| a.track == track_of(&tracks, Codec::Aac).id)
            .count();
        assert!((468..=471).contains(&audio), "{name}: {audio} audio frames");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_synthetic_source_muxed_to_ts_is_what_it_was_told_to_be() {
    let config = SyntheticConfig {
        width: 640,
        height: 360,
        fps: (30, 1),
        gop: 60,
        video_bitrate_bps: 800_000,
        i_to_p_ratio: 8.0,
        audio: Some(SyntheticAudio {
            sample_rate: 48_000,
            channels: 2,
            bitrate_bps: 64_000,
        }),
        seed: 5,
    };
    let mut source = SyntheticSource::new(&config, Duration::ZERO).unwrap();
    let tracks = source.tracks().to_vec();
    let mut aus = Vec::new();
    while let Some(au) = source.poll_next(Duration::from_millis(9_990)) {
        aus.push(au);
    }
    let file = temp("synthetic.ts", &mux_ts(&tracks, &aus));
    let facts = probe(&file);
    println!("synthetic: {facts}");
    assert!(
        facts.starts_with("h264,640,360,30/1,300 | aac,48000,2,"),
        "{facts}"
    );
    let (keys, _) = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "frame=key_frame",
            "-of",
            "csv=p=0",
            file.to_str().unwrap(),
        ],
    );
    let keyframes: Vec<usize> = keys
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "1")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        keyframes,
        vec![0, 60, 120, 180, 240],
        "a keyframe every 60 frames"
    );
    assert_eq!(frame_hashes(&file).len(), 300, "every frame decodes");
    std::fs::remove_file(file).unwrap();
}
