//! Tests of the fMP4 muxer and demuxer: synthetic round trips, hostile
//! input, and interop with the ffmpeg CLI.

use std::time::Duration;

use mp4_atom::{Decode, Encode, Mfhd, Moof, Tfhd, Traf, Trun, TrunEntry, TrunSamples};

use super::*;
use crate::media::testkit::*;
use crate::media::ticks_to_duration;
use crate::media::{AccessUnit, Codec, CodecConfig, Track};

/// Init segment and fragments (cut by [`segment_ranges`]) in one buffer.
fn mux_file(tracks: &[Track], aus: &[AccessUnit], target: Duration) -> Vec<u8> {
    let mut muxer = Fmp4Muxer::new(tracks).unwrap();
    let mut file = muxer.init_segment().to_vec();
    for range in segment_ranges(tracks, aus, target) {
        file.extend(muxer.fragment(&aus[range]).unwrap());
    }
    file
}

fn without_frame_rate(tracks: &[Track]) -> Vec<Track> {
    tracks
        .iter()
        .cloned()
        .map(|t| Track {
            frame_rate: None,
            ..t
        })
        .collect()
}

#[test]
fn round_trip_is_exact() {
    let (tracks, aus) = (synthetic_tracks(), synthetic_aus(90));
    let file = mux_file(&tracks, &aus, Duration::from_secs(1));
    let (got_tracks, got) = demux(&file).unwrap();
    assert_eq!(got_tracks, without_frame_rate(&tracks));
    for id in [1, 2] {
        assert_eq!(of_track(&got, id), of_track(&aus, id), "track {id}");
    }
    assert_eq!(
        file,
        mux_file(&tracks, &aus, Duration::from_secs(1)),
        "muxing is deterministic"
    );
}

#[test]
fn fragments_demux_one_by_one_with_increasing_sequence_numbers() {
    let (tracks, aus) = (synthetic_tracks(), synthetic_aus(90));
    let mut muxer = Fmp4Muxer::new(&tracks).unwrap();
    let mut demuxer = Fmp4Demuxer::new(muxer.init_segment()).unwrap();
    let ranges = segment_ranges(&tracks, &aus, Duration::from_secs(1));
    assert_eq!(ranges.len(), 3);
    let mut got = Vec::new();
    for (k, range) in ranges.into_iter().enumerate() {
        let first_video = aus[range.clone()].iter().find(|au| au.track == 1).unwrap();
        assert!(first_video.keyframe, "segment {k} starts at a keyframe");
        let fragment = muxer.fragment(&aus[range]).unwrap();
        let moof = Moof::decode(&mut fragment.as_slice()).unwrap();
        assert_eq!(moof.mfhd.sequence_number, k as u32 + 1);
        assert_eq!(
            moof.traf[0].tfdt.as_ref().unwrap().base_media_decode_time,
            first_video.dts as u64
        );
        got.extend(demuxer.handle_segment(&fragment).unwrap());
    }
    assert_eq!(of_track(&got, 1), of_track(&aus, 1));
    assert_eq!(of_track(&got, 2), of_track(&aus, 2));
    assert!(muxer.fragment(&[]).unwrap().is_empty());
}

#[test]
fn negative_composition_offsets_and_gaps_survive() {
    let tracks = synthetic_tracks();
    let mut aus = of_track(&synthetic_aus(6), 1);
    aus[5].dts += 1500; // a gap: the previous sample's duration absorbs it
    aus[5].pts += 1500;
    aus[4].duration = 4500;
    for au in &mut aus {
        au.pts -= 9000; // some pts now precede their dts: trun version 1
        au.capture_time = ticks_to_duration(au.pts, 90_000);
    }
    let mut muxer = Fmp4Muxer::new(&tracks).unwrap();
    let mut file = muxer.init_segment().to_vec();
    file.extend(muxer.fragment(&aus).unwrap());
    assert_eq!(demux(&file).unwrap().1, aus);
}

#[test]
fn hostile_input_is_an_error_never_a_panic() {
    let (tracks, aus) = (synthetic_tracks(), synthetic_aus(40));
    let file = mux_file(&tracks, &aus, Duration::from_secs(1));
    let init_len = Fmp4Muxer::new(&tracks).unwrap().init_segment().len();
    for cut in 0..file.len() {
        let result = demux(&file[..cut]);
        assert!(result.is_err() || cut >= init_len, "cut at {cut} parsed");
    }
    assert!(matches!(demux(&file[..init_len + 20]), Err(e) if e.is_incomplete()));
    // Flipped bytes and noise.
    flip_bytes(&file, 0x2545_f491_u32, 3000, |bad| {
        let _ = demux(bad);
    });
    for len in 0..200 {
        let noise: Vec<u8> = (0..len).map(|i| (i * 73 % 256) as u8).collect();
        assert!(demux(&noise).is_err());
    }
}

#[test]
fn missing_boxes_and_unknown_tracks_are_errors() {
    let tracks = synthetic_tracks();
    let init = Fmp4Muxer::new(&tracks).unwrap().init_segment().to_vec();
    let ftyp_len = u32::from_be_bytes([init[0], init[1], init[2], init[3]]) as usize;
    assert!(matches!(
        demux(&init[..ftyp_len]),
        Err(Fmp4Error::MissingBox { kind: "moov", .. })
    ));
    let no_trak = build_init_segment(&[]).unwrap();
    assert!(matches!(
        parse_init_segment(&no_trak),
        Err(Fmp4Error::MissingBox { kind: "trak", .. })
    ));
    let mut video_only = Fmp4Muxer::new(&tracks[..1]).unwrap();
    assert!(matches!(
        video_only.fragment(&synthetic_aus(3)),
        Err(Fmp4Error::UnknownTrack { track: 2 })
    ));
    let fragment = Fmp4Muxer::new(&tracks)
        .unwrap()
        .fragment(&synthetic_aus(3))
        .unwrap();
    let mut demuxer = Fmp4Demuxer::new(&build_init_segment(&tracks[..1]).unwrap()).unwrap();
    assert!(matches!(
        demuxer.handle_segment(&fragment),
        Err(Fmp4Error::UnknownTrack { track: 2 })
    ));
    let h265 = Track {
        codec: Codec::H265,
        config: CodecConfig::H265 {
            vps: vec![],
            sps: vec![],
            pps: vec![],
            width: 1,
            height: 1,
        },
        ..tracks[0].clone()
    };
    assert!(matches!(
        Fmp4Muxer::new(&[h265]),
        Err(Fmp4Error::UnsupportedCodec { .. })
    ));
}

/// A segment of one `moof` with `trafs` and an `mdat` holding `body`.
/// Every `trun` data offset of `Some(n)` becomes the distance from the
/// `moof` start to byte `n` of the `mdat` body.
fn segment(mut trafs: Vec<Traf>, body: &[u8]) -> Vec<u8> {
    let encode = |trafs: &[Traf]| {
        let moof = Moof {
            mfhd: Mfhd { sequence_number: 1 },
            traf: trafs.to_vec(),
        };
        let mut out = Vec::new();
        moof.encode(&mut out).unwrap();
        out
    };
    let moof_len = encode(&trafs).len() as i32;
    for trun in trafs.iter_mut().flat_map(|t| t.trun.iter_mut()) {
        trun.data_offset = trun.data_offset.map(|n| moof_len + 8 + n);
    }
    let mut out = encode(&trafs);
    assert_eq!(out.len() as i32, moof_len);
    out.extend_from_slice(&(8 + body.len() as u32).to_be_bytes());
    out.extend_from_slice(b"mdat");
    out.extend_from_slice(body);
    out
}

fn traf(track_id: u32, default_base_is_moof: bool, trun: Vec<Trun>) -> Traf {
    Traf {
        tfhd: Tfhd {
            track_id,
            default_sample_duration: Some(1024),
            default_base_is_moof,
            ..Default::default()
        },
        trun,
        ..Default::default()
    }
}

fn run_of(data_offset: Option<i32>, sizes: &[u32]) -> Trun {
    let entries = sizes.iter().map(|&size| TrunEntry {
        size: Some(size),
        ..Default::default()
    });
    Trun {
        data_offset,
        samples: TrunSamples::Explicit(entries.collect()),
    }
}

#[test]
fn truns_cannot_amplify_a_segment() {
    let init = Fmp4Muxer::new(&synthetic_tracks())
        .unwrap()
        .init_segment()
        .to_vec();
    // 200 count-only runs of 4000 empty samples, all at the same offset:
    // each run alone is within the segment's size, together 800 000 units.
    let runs = (0..200).map(|_| Trun {
        data_offset: Some(0),
        samples: TrunSamples::Inherited {
            count: 4000,
            first_flags: None,
        },
    });
    let mut empty = traf(2, true, runs.collect());
    empty.tfhd.default_sample_size = Some(0);
    let seg = segment(vec![empty], &[]);
    let mut demuxer = Fmp4Demuxer::new(&init).unwrap();
    assert!(matches!(
        demuxer.handle_segment(&seg),
        Err(Fmp4Error::OutOfRange { track: 2, .. })
    ));
    // Runs that read the same bytes again.
    let body = [1, 2, 3, 4, 5, 6, 7, 8];
    let twice = traf(
        2,
        true,
        vec![run_of(Some(0), &[4, 4]), run_of(Some(2), &[2])],
    );
    assert!(matches!(
        demuxer.handle_segment(&segment(vec![twice], &body)),
        Err(Fmp4Error::SampleOverlap {
            track: 2,
            offset: _,
            size: 2,
            ..
        })
    ));
    // More samples than mdat bytes, even without overlap.
    let many = traf(2, true, vec![run_of(Some(0), &[0; 9])]);
    assert!(demuxer.handle_segment(&segment(vec![many], &body)).is_err());
    // Within the budget, distinct ranges still demux.
    let fine = traf(2, true, vec![run_of(Some(4), &[4]), run_of(Some(0), &[4])]);
    let units = demuxer.handle_segment(&segment(vec![fine], &body)).unwrap();
    let data: Vec<_> = units.iter().map(|u| u.data.clone()).collect();
    assert_eq!(data, [vec![5, 6, 7, 8], vec![1, 2, 3, 4]]);
}

#[test]
fn later_traf_without_default_base_is_moof_continues_after_the_previous() {
    let init = Fmp4Muxer::new(&synthetic_tracks())
        .unwrap()
        .init_segment()
        .to_vec();
    // Video (one 2-byte NAL unit, AVCC) then audio (3 bytes).
    let body = [0, 0, 0, 2, 0x65, 0x88, 1, 2, 3];
    let video = traf(1, false, vec![run_of(Some(0), &[6])]);
    let mut audio = traf(2, false, vec![run_of(None, &[3])]);
    // An explicit offset of 0 from the implicit base: the end of the
    // video data, not the moof start.
    let mut demuxer = Fmp4Demuxer::new(&init).unwrap();
    let units = demuxer
        .handle_segment(&segment(vec![video.clone(), audio.clone()], &body))
        .unwrap();
    assert_eq!(units[1].data, [1, 2, 3]);
    audio.trun[0].data_offset = Some(0);
    let mut seg = segment(vec![video.clone(), audio.clone()], &body);
    // `segment` moved the audio offset to the mdat body; put it back to 0
    // relative to its base.
    let moof = Moof::decode(&mut seg.as_slice()).unwrap();
    let mut moof = moof;
    moof.traf[1].trun[0].data_offset = Some(0);
    let mut fixed = Vec::new();
    moof.encode(&mut fixed).unwrap();
    seg.splice(..fixed.len(), fixed);
    let units = demuxer.handle_segment(&seg).unwrap();
    assert_eq!(units[0].data, [0, 0, 0, 1, 0x65, 0x88]);
    assert_eq!(units[1].data, [1, 2, 3]);
    // With default-base-is-moof, offsets count from the moof again (here
    // `segment` makes them count from the mdat body).
    audio.tfhd.default_base_is_moof = true;
    audio.trun[0].data_offset = Some(6);
    let units = demuxer
        .handle_segment(&segment(vec![video, audio], &body))
        .unwrap();
    assert_eq!(units[1].data, [1, 2, 3]);
}

#[test]
fn ffmpeg_fmp4_demuxes_and_remuxes_to_identical_frames() {
    let dir = scratch_dir("fmp4-interop");
    let theirs = ffmpeg_encode(
        &dir,
        "theirs.mp4",
        &["-movflags", "+frag_keyframe+empty_moov+default_base_moof"],
    );
    let (tracks, mut aus) = demux(&std::fs::read(&theirs).unwrap()).unwrap();
    check_ffmpeg_units(&tracks, &aus);
    release_order(&tracks, &mut aus);
    let ours = dir.join("ours.mp4");
    std::fs::write(&ours, mux_file(&tracks, &aus, Duration::from_secs(1))).unwrap();

    check_remux(&theirs, &ours);
    let _ = std::fs::remove_dir_all(dir);
}
