//! Mux → demux round trips, wire-level checks of what the muxer writes
//! (PSI, PCR, random access), loss detection and garbage resilience.

use std::time::Duration;

use super::packet::{parse_packet, PACKET_SIZE};
use super::pes::{self, parse_header, PTS_MODULUS};
use super::*;
use crate::media::h264::join_annex_b;
use crate::media::{AccessUnit, CodecConfig, Track};

/// An x264 SPS/PPS pair for 320×240 (generated with ffmpeg, not copied code).
const SPS: &str = "6764000dacd94141fb0110000003001000000303c0f1429960";
const PPS: &str = "68ebe3cb22c0";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

pub(super) fn tracks() -> Vec<Track> {
    let video = Track {
        id: 1,
        codec: Codec::H264,
        timescale: 90_000,
        config: CodecConfig::H264 {
            sps: vec![hex(SPS)],
            pps: vec![hex(PPS)],
            width: 320,
            height: 240,
        },
        frame_rate: None,
    };
    let asc = vec![0x11, 0x90];
    let audio = Track {
        id: 2,
        codec: Codec::Aac,
        timescale: 48_000,
        config: CodecConfig::Aac {
            asc,
            sample_rate: 48_000,
            channels: 2,
        },
        frame_rate: None,
    };
    vec![video, audio]
}

/// Deterministic bytes that never end in zero (canonical NAL units cannot).
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    (0..len as u64)
        .map(|i| ((i * 31 + seed * 17) % 251) as u8 | 1)
        .collect()
}

/// `seconds` of 30 fps video (GOP 10, pts one frame after dts) and 48 kHz
/// audio starting at `start` (90 kHz ticks), interleaved by dts.
pub(super) fn units(seconds: i64, start: i64) -> Vec<AccessUnit> {
    let mut v: Vec<(i64, AccessUnit)> = Vec::new();
    for i in 0..seconds * 30 {
        let keyframe = i % 10 == 0;
        let nal = [
            &[if keyframe { 0x65u8 } else { 0x41 }][..],
            &pattern((i as usize * 997) % 6000 + 10, i as u64),
        ]
        .concat();
        let data = join_annex_b([&[0x06u8, 5, 1][..], &nal[..]]);
        let dts = start + i * 3000;
        let au = AccessUnit {
            track: 1,
            pts: dts + 3000,
            dts,
            duration: 3000,
            keyframe,
            data,
            capture_time: Duration::ZERO,
        };
        v.push((dts, au));
    }
    let audio_start = start * 48_000 / 90_000;
    for i in 0..seconds * 48_000 / 1024 {
        let pts = audio_start + i * 1024;
        let data = pattern(100 + (i as usize * 13) % 400, i as u64);
        let au = AccessUnit {
            track: 2,
            pts,
            dts: pts,
            duration: 1024,
            keyframe: true,
            data,
            capture_time: Duration::ZERO,
        };
        v.push((pts * 90_000 / 48_000, au));
    }
    v.sort_by_key(|(t, au)| (*t, au.track));
    v.into_iter().map(|(_, au)| au).collect()
}

pub(super) fn mux_all(tracks: &[Track], units: &[AccessUnit]) -> Vec<[u8; PACKET_SIZE]> {
    let mut mux = TsMuxer::new(tracks, TsMuxConfig::default()).unwrap();
    let mut out: Vec<_> = units.iter().flat_map(|au| mux.mux(au).unwrap()).collect();
    out.extend(mux.flush());
    out
}

/// Demuxes `bytes` fed in `chunk`-byte pieces: (tracks, units per track id, errors).
pub(super) fn demux_all(
    bytes: &[u8],
    chunk: usize,
) -> (Vec<Track>, Vec<AccessUnit>, Vec<TsDemuxError>) {
    let mut demux = TsDemuxer::new();
    let (mut tracks, mut units, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    let mut drain = |d: &mut TsDemuxer| {
        while let Some(ev) = d.poll_event() {
            match ev {
                TsEvent::Track(t) => tracks.push(t),
                TsEvent::AccessUnit(au) => units.push(au),
                TsEvent::Error(e) => errors.push(e),
            }
        }
    };
    for piece in bytes.chunks(chunk.max(1)) {
        demux.handle_bytes(piece);
        drain(&mut demux);
    }
    demux.flush();
    drain(&mut demux);
    tracks.sort_by_key(|t| t.id);
    units.sort_by_key(|au| (au.track, au.dts));
    (tracks, units, errors)
}

fn sorted(mut units: Vec<AccessUnit>) -> Vec<AccessUnit> {
    units.sort_by_key(|au| (au.track, au.dts));
    units
}

#[test]
fn mux_demux_round_trip_is_exact() {
    let input = units(3, 0);
    let bytes = mux_all(&tracks(), &input).concat();
    for chunk in [1, 7, 188, 1316, 100_000] {
        let (got_tracks, got, errors) = demux_all(&bytes, chunk);
        assert!(errors.is_empty(), "chunk {chunk}: {errors:?}");
        assert_eq!(got_tracks, tracks(), "chunk {chunk}");
        assert_eq!(got.len(), input.len());
        assert_eq!(got, sorted(input.clone()), "chunk {chunk}");
    }
}

/// Units of both tracks stepping from 0 towards 2^33 in steps the unwrapper
/// follows (< 2^32), so that a stream can reach the wrap: a track's first
/// timestamp must lie within ±2^32.
fn ramp_to_the_wrap() -> Vec<AccessUnit> {
    let template = units(1, 0);
    let (video, audio) = (&template[0], &template[1]);
    assert_eq!((video.track, audio.track), (1, 2));
    let mut ramp = Vec::new();
    for k in 0..4i64 {
        let dts = k << 31;
        let duration = if k == 3 { (1 << 31) - 90_000 } else { 1 << 31 };
        ramp.push(AccessUnit {
            pts: dts + 3000,
            dts,
            duration,
            ..video.clone()
        });
        let pts = k * 1024 * 1_000_000;
        ramp.push(AccessUnit {
            pts,
            dts: pts,
            ..audio.clone()
        });
    }
    ramp
}

#[test]
fn timestamps_survive_the_33_bit_wrap() {
    let input = [ramp_to_the_wrap(), units(2, PTS_MODULUS - 90_000)].concat();
    let (_, got, errors) = demux_all(&mux_all(&tracks(), &input).concat(), 1316);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(got.iter().any(|au| au.track == 1 && au.pts > PTS_MODULUS));
    assert_eq!(got, sorted(input));
}

#[test]
fn muxer_writes_psi_pcr_and_random_access_as_promised() {
    let packets = mux_all(&tracks(), &units(3, 0));
    let (mut last_pcr, mut last_psi, mut max_gap) = (None::<u64>, None::<usize>, 0u64);
    for (i, raw) in packets.iter().enumerate() {
        let p = parse_packet(raw).unwrap();
        if p.pid == PMT_PID {
            last_psi = Some(i);
        }
        if let Some(pcr) = p.adaptation.and_then(|a| a.pcr) {
            assert_eq!(p.pid, 0x100, "PCR rides on the video PID");
            if let Some(l) = last_pcr {
                assert!(pcr >= l);
                max_gap = max_gap.max(pcr - l);
            }
            last_pcr = Some(pcr);
        }
        if p.unit_start && (0x100..PMT_PID).contains(&p.pid) {
            let h = parse_header(p.payload).unwrap();
            let dts = h.dts.or(h.pts).unwrap() as u64 * 300;
            assert!(
                last_pcr.is_some_and(|pcr| pcr <= dts),
                "PCR before and not after DTS at packet {i}"
            );
            let keyframe = p.adaptation.is_some_and(|a| a.random_access);
            if p.pid == 0x100 && keyframe {
                assert_eq!(last_psi, Some(i - 1), "PAT/PMT right before a keyframe");
            }
        }
    }
    assert!(max_gap <= 40 * 27_000, "PCR gap {} ms", max_gap / 27_000);
}

#[test]
fn lost_packets_are_reported_and_the_damaged_unit_dropped() {
    let input = units(1, 0);
    let mut packets = mux_all(&tracks(), &input);
    // Lose the third packet of the tenth video PES (a keyframe-free unit).
    let starts: Vec<usize> = (0..packets.len())
        .filter(|&i| parse_packet(&packets[i]).is_ok_and(|p| p.pid == 0x100 && p.unit_start))
        .collect();
    let lost_at = starts[9] + 2;
    assert!(
        lost_at < starts[10],
        "the tenth unit spans at least three packets"
    );
    packets.remove(lost_at);
    let (_, got, errors) = demux_all(&packets.concat(), 1316);
    assert!(
        matches!(errors[0], TsDemuxError::Continuity { pid: 0x100, .. }),
        "{errors:?}"
    );
    assert!(
        matches!(
            errors[1],
            TsDemuxError::DamagedPes {
                pid: 0x100,
                track: 1,
                pts: Some(30_000),
                ..
            }
        ),
        "{errors:?}"
    );
    assert_eq!(errors.len(), 2);
    let mut expected = sorted(input);
    let dropped = expected
        .iter()
        .position(|au| au.track == 1 && au.dts == 27_000)
        .unwrap();
    expected.remove(dropped);
    // The unit before the gap keeps the right duration: the next PES's DTS is intact.
    assert_eq!(got, expected);
}

#[test]
fn a_lost_audio_tail_is_a_short_bounded_pes() {
    let t = tracks();
    let big = AccessUnit {
        track: 2,
        pts: 0,
        dts: 0,
        duration: 1024,
        keyframe: true,
        data: pattern(600, 1),
        capture_time: Duration::ZERO,
    };
    let mut mux = TsMuxer::new(&t, TsMuxConfig::default()).unwrap();
    let mut packets = mux.mux(&big).unwrap();
    packets.pop();
    let (_, got, errors) = demux_all(&packets.concat(), 188);
    assert!(got.is_empty());
    assert!(
        errors.iter().any(|e| matches!(
            e,
            TsDemuxError::DamagedPes {
                track: 2,
                pts: Some(0),
                ..
            }
        )),
        "{errors:?}"
    );
}

/// A small deterministic generator (xorshift), so the tests need no RNG crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn garbage_and_cut_streams_never_panic_and_resync() {
    let bytes = mux_all(&tracks(), &units(1, 0)).concat();
    let mut rng = Rng(0x5eed);
    // Pure noise, including noise full of sync bytes.
    for round in 0..50 {
        let noise: Vec<u8> = (0..5000)
            .map(|_| {
                if round % 2 == 0 {
                    rng.next() as u8
                } else {
                    [0x47, 0, 0x10, 0xff][rng.next() as usize % 4]
                }
            })
            .collect();
        let _ = demux_all(&noise, 1 + round * 37);
    }
    // Cuts, splices and bit flips of a valid stream.
    for _ in 0..100 {
        let mut damaged = bytes.clone();
        let cut = rng.next() as usize % damaged.len();
        let len = rng.next() as usize % 700;
        damaged.drain(cut..(cut + len).min(damaged.len()));
        for _ in 0..5 {
            let at = rng.next() as usize % damaged.len();
            damaged[at] ^= 1 << (rng.next() % 8);
        }
        let _ = demux_all(&damaged, 1 + rng.next() as usize % 3000);
        let _ = demux_all(&damaged[..rng.next() as usize % damaged.len()], 4096);
    }
    // Garbage between packets costs a sync error, and units keep coming after it.
    let mid = (bytes.len() / PACKET_SIZE / 2) * PACKET_SIZE;
    let spliced = [&bytes[..mid], &[0x47u8, 1, 2, 3, 0x47][..], &bytes[mid..]].concat();
    let (_, got, errors) = demux_all(&spliced, 1000);
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, TsDemuxError::Sync { skipped: 5, .. })),
        "{errors:?}"
    );
    let clean = demux_all(&bytes, 1000).1;
    assert_eq!(
        got, clean,
        "5 bytes of garbage between packets lose nothing"
    );
}

#[test]
fn duplicate_packets_are_dropped_silently() {
    let input = units(1, 0);
    let mut packets = mux_all(&tracks(), &input);
    let dup = packets[40];
    packets.insert(41, dup);
    let (_, got, errors) = demux_all(&packets.concat(), 188);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(got, sorted(input));
}

#[test]
fn joining_mid_stream_waits_for_parameter_sets() {
    let input: Vec<AccessUnit> = units(1, 0).into_iter().filter(|au| au.track == 1).collect();
    let packets = mux_all(&tracks()[..1], &input);
    // Start at the second unit's PES: units 1..9 have no SPS/PPS before them.
    let second = (0..packets.len())
        .filter(|&i| parse_packet(&packets[i]).is_ok_and(|p| p.pid == 0x100 && p.unit_start))
        .nth(1)
        .unwrap();
    let mut demux = TsDemuxer::new();
    demux.handle_bytes(&packets[..2].concat()); // PAT + PMT
    demux.handle_bytes(&packets[second..].concat());
    demux.flush();
    let units: Vec<AccessUnit> = std::iter::from_fn(|| demux.poll_event())
        .filter_map(|e| match e {
            TsEvent::AccessUnit(au) => Some(au),
            _ => None,
        })
        .collect();
    assert_eq!(demux.units_before_config(), 9);
    assert_eq!(units, input[10..]);
}

#[test]
fn h265_round_trip_moves_parameter_sets_in_and_out() {
    let (vps, sps, pps) = (
        vec![0x40, 1, 0x0c],
        vec![0x42, 1, 0x01],
        vec![0x44, 1, 0xc1],
    );
    let track = Track {
        id: 1,
        codec: Codec::H265,
        timescale: 90_000,
        config: CodecConfig::H265 {
            vps: vec![vps],
            sps: vec![sps],
            pps: vec![pps],
            width: 0,
            height: 0,
        },
        frame_rate: None,
    };
    let input: Vec<AccessUnit> = (0..20i64)
        .map(|i| {
            let header = if i % 10 == 0 { [0x26u8, 1] } else { [0x02, 1] }; // IDR_W_RADL or TRAIL_R
            let data = join_annex_b([
                &[&header[..], &pattern(300 + i as usize * 50, i as u64)].concat()[..]
            ]);
            AccessUnit {
                track: 1,
                pts: i * 3000,
                dts: i * 3000,
                duration: 3000,
                keyframe: i % 10 == 0,
                data,
                capture_time: Duration::ZERO,
            }
        })
        .collect();
    let (tracks, got, errors) =
        demux_all(&mux_all(std::slice::from_ref(&track), &input).concat(), 500);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        tracks,
        vec![track],
        "H.265 picture size is not parsed (0x0)"
    );
    assert_eq!(got, input);
}

/// An H.265 track with placeholder parameter sets (the picture size is not parsed).
fn h265_track() -> Track {
    Track {
        id: 1,
        codec: Codec::H265,
        timescale: 90_000,
        config: CodecConfig::H265 {
            vps: vec![vec![0x40, 1, 0x0c]],
            sps: vec![vec![0x42, 1, 0x01]],
            pps: vec![vec![0x44, 1, 0xc1]],
            width: 0,
            height: 0,
        },
        frame_rate: None,
    }
}

#[test]
fn h265_keyframes_are_bla_and_idr_only_like_the_file_source() {
    // IDR_W_RADL (19), then CRA (21), RSV_IRAP_22 (22) and BLA_W_LP (16).
    let types = [19u8, 21, 22, 16, 1];
    let input: Vec<AccessUnit> = types
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let nal = [&[t << 1, 1][..], &pattern(400, i as u64)].concat();
            AccessUnit {
                track: 1,
                pts: i as i64 * 3000,
                dts: i as i64 * 3000,
                duration: 3000,
                keyframe: crate::media::h265::is_keyframe_type(t),
                data: join_annex_b([&nal[..]]),
                capture_time: Duration::ZERO,
            }
        })
        .collect();
    let (_, got, errors) = demux_all(&mux_all(&[h265_track()], &input).concat(), 188);
    assert!(errors.is_empty(), "{errors:?}");
    let keys: Vec<bool> = got.iter().map(|au| au.keyframe).collect();
    assert_eq!(
        keys,
        [true, false, false, true, false],
        "CRA is no keyframe"
    );
    assert_eq!(got, input);
}

/// Indices of the packets of `pid` in `packets`.
fn packets_of(packets: &[[u8; PACKET_SIZE]], pid: u16) -> Vec<usize> {
    (0..packets.len())
        .filter(|&i| parse_packet(&packets[i]).is_ok_and(|p| p.pid == pid))
        .collect()
}

#[test]
fn fifteen_lost_packets_are_a_gap_not_a_duplicate() {
    let input: Vec<AccessUnit> = units(1, 0).into_iter().filter(|au| au.track == 1).collect();
    let packets = mux_all(&tracks()[..1], &input);
    let video = packets_of(&packets, 0x100);
    let starts: Vec<usize> = (0..video.len())
        .filter(|&k| parse_packet(&packets[video[k]]).unwrap().unit_start)
        .collect();
    // The first unit spanning 20 packets or more.
    let (unit, first) = starts
        .windows(2)
        .enumerate()
        .find(|(_, w)| w[1] - w[0] >= 20)
        .map(|(n, w)| (n, w[0]))
        .unwrap();
    // Lose 15 packets inside it: the next counter then repeats the last
    // one before the gap, with other bytes.
    let lost: Vec<usize> = video[first + 3..first + 18].to_vec();
    let kept: Vec<u8> = (0..packets.len())
        .filter(|i| !lost.contains(i))
        .flat_map(|i| packets[i])
        .collect();
    let (_, got, errors) = demux_all(&kept, 188);
    assert!(
        matches!(errors[0], TsDemuxError::Continuity { pid: 0x100, .. }),
        "{errors:?}"
    );
    let pts = input[unit].pts;
    assert!(
        matches!(
            errors[1],
            TsDemuxError::DamagedPes {
                pid: 0x100,
                pts: Some(p),
                ..
            } if p == pts
        ),
        "{errors:?}"
    );
    assert_eq!(errors.len(), 2, "{errors:?}");
    let mut expected = input.clone();
    expected.remove(unit);
    assert_eq!(got, expected, "the truncated unit is not emitted");
}

#[test]
fn a_duplicate_is_dropped_once_and_a_second_repeat_is_a_gap() {
    let input: Vec<AccessUnit> = units(1, 0).into_iter().filter(|au| au.track == 1).collect();
    let packets = mux_all(&tracks()[..1], &input);
    let at = packets_of(&packets, 0x100)[3];
    // One duplicate: silently dropped.
    let mut once = packets.clone();
    once.insert(at + 1, packets[at]);
    let (_, got, errors) = demux_all(&once.concat(), 188);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(got, input);
    // The same packet three times: the third copy is a counter error.
    let mut twice = once.clone();
    twice.insert(at + 1, packets[at]);
    let (_, _, errors) = demux_all(&twice.concat(), 188);
    assert!(
        matches!(errors[0], TsDemuxError::Continuity { pid: 0x100, .. }),
        "{errors:?}"
    );
    // A repeated counter with a different payload is not a duplicate.
    let mut other = packets.clone();
    let mut forged = packets[at];
    forged[PACKET_SIZE - 1] ^= 0xff;
    other.insert(at + 1, forged);
    let (_, _, errors) = demux_all(&other.concat(), 188);
    assert!(
        matches!(errors[0], TsDemuxError::Continuity { pid: 0x100, .. }),
        "{errors:?}"
    );
}

#[test]
fn adts_frames_of_several_raw_blocks_are_reported_not_emitted() {
    let t = tracks();
    let audio: Vec<AccessUnit> = units(1, 0).into_iter().filter(|au| au.track == 2).collect();
    let mut packets = mux_all(&t, &audio[..3]);
    // Rewrite the second frame's header to claim two raw data blocks.
    let second = packets_of(&packets, 0x101)
        .into_iter()
        .filter(|&i| parse_packet(&packets[i]).unwrap().unit_start)
        .nth(1)
        .unwrap();
    let raw = &mut packets[second];
    let p = parse_packet(raw).unwrap();
    let at = PACKET_SIZE - p.payload.len() + parse_header(p.payload).unwrap().header_len;
    assert_eq!(raw[at], 0xff, "an ADTS header starts the PES payload");
    raw[at + 6] = (raw[at + 6] & !3) | 1;
    let (_, got, errors) = demux_all(&packets.concat(), 188);
    assert_eq!(
        errors,
        [TsDemuxError::Adts {
            pid: 0x101,
            source: crate::media::aac::AacError::MultipleRawBlocks {
                offset: 0,
                blocks: 2
            }
        }]
    );
    assert_eq!(got, [audio[0].clone(), audio[2].clone()]);
}

#[test]
fn the_muxer_rejects_more_tracks_than_its_one_packet_pmt_holds() {
    let many = |n: u32| -> Vec<Track> {
        (1..=n)
            .map(|id| Track {
                id,
                ..tracks()[1].clone()
            })
            .collect()
    };
    let fits = many(33);
    let mut mux = TsMuxer::new(&fits, TsMuxConfig::default()).unwrap();
    let au = units(1, 0).into_iter().find(|au| au.track == 2).unwrap();
    let packets = mux.mux(&AccessUnit { track: 33, ..au }).unwrap();
    let (_, _, errors) = demux_all(&packets.concat(), 188);
    assert!(errors.is_empty(), "a full PMT parses: {errors:?}");
    assert_eq!(
        TsMuxer::new(&many(34), TsMuxConfig::default()).err(),
        Some(TsMuxError::TooManyTracks {
            tracks: 34,
            max: 33
        })
    );
    assert!(TsMuxer::new(&many(5000), TsMuxConfig::default()).is_err());
}

#[test]
fn negative_timestamps_round_trip_and_the_pcr_starts_at_the_first_dts() {
    // Video pts 0 / dts -6000 first, audio from -3200 samples (-6000 at 90 kHz).
    let input = units(1, -6000);
    assert_eq!((input[0].pts, input[0].dts), (-3000, -6000));
    let packets = mux_all(&tracks(), &input);
    let (_, got, errors) = demux_all(&packets.concat(), 1316);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(got, sorted(input));
    // On the wire, in 33-bit arithmetic, the first PCR is at or before the first DTS.
    let first = |want_pcr: bool| {
        packets.iter().find_map(|raw| {
            let p = parse_packet(raw).unwrap();
            if want_pcr {
                p.adaptation.and_then(|a| a.pcr).map(|pcr| pcr as i64 / 300)
            } else {
                let h = parse_header(p.payload).ok().filter(|_| p.unit_start)?;
                h.dts.or(h.pts)
            }
        })
    };
    let (pcr, dts) = (first(true).unwrap(), first(false).unwrap());
    assert_eq!(dts, PTS_MODULUS - 6000);
    assert!(
        (0..1 << 32).contains(&(dts - pcr).rem_euclid(PTS_MODULUS)),
        "PCR {pcr} after DTS {dts}"
    );
}

#[test]
fn the_muxer_rejects_a_first_timestamp_it_could_not_read_back() {
    let input: Vec<AccessUnit> = units(1, PTS_MODULUS - 90_000)
        .into_iter()
        .filter(|au| au.track == 1)
        .collect();
    let mut mux = TsMuxer::new(&tracks(), TsMuxConfig::default()).unwrap();
    assert_eq!(
        mux.mux(&input[0]),
        Err(TsMuxError::FirstTimestamp {
            track: 1,
            dts: PTS_MODULUS - 90_000
        })
    );
    let late = AccessUnit {
        dts: -(1 << 32) - 1,
        pts: 0,
        ..input[0].clone()
    };
    assert!(mux.mux(&late).is_err());
    let ok = AccessUnit {
        dts: -(1 << 32),
        pts: 0,
        ..input[0].clone()
    };
    assert!(mux.mux(&ok).is_ok());
}

/// A PSI section as packets on `pid` (pointer_field 0, 0xff padding).
fn section_packets(pid: u16, section: &[u8], cc: u8) -> Vec<[u8; PACKET_SIZE]> {
    use super::packet::{write_packet, PacketSpec, MAX_PAYLOAD};
    let mut payload = [&[0u8][..], section].concat();
    payload.resize(payload.len().div_ceil(MAX_PAYLOAD) * MAX_PAYLOAD, 0xff);
    payload
        .chunks(MAX_PAYLOAD)
        .enumerate()
        .map(|(i, chunk)| {
            let spec = PacketSpec {
                pid,
                unit_start: i == 0,
                cc: cc.wrapping_add(i as u8) & 0x0f,
            };
            write_packet(spec, None, chunk).0
        })
        .collect()
}

/// PAT and a PMT (of `version`) listing `streams` as (pid, stream_type).
fn psi_packets(streams: &[(u16, u8)], version: u8, cc: u8) -> Vec<[u8; PACKET_SIZE]> {
    use super::psi::{Pat, Pmt, PmtStream, PAT_PID};
    let pat = Pat {
        transport_stream_id: 1,
        programs: vec![(PROGRAM_NUMBER, PMT_PID)],
    };
    let pmt = Pmt {
        program_number: PROGRAM_NUMBER,
        version,
        pcr_pid: streams[0].0,
        streams: streams
            .iter()
            .map(|&(pid, stream_type)| PmtStream { stream_type, pid })
            .collect(),
    };
    [
        section_packets(PAT_PID, &pat.emit(), cc),
        section_packets(PMT_PID, &pmt.emit(), cc),
    ]
    .concat()
}

#[test]
fn buffered_pes_of_all_streams_share_one_memory_budget() {
    use super::packet::{write_packet, PacketSpec};
    let pids = [0x100u16, 0x101, 0x102];
    let streams: Vec<(u16, u8)> = pids.iter().map(|&p| (p, STREAM_TYPE_H264)).collect();
    let mut demux = TsDemuxer::new();
    demux.handle_bytes(&psi_packets(&streams, 0, 0).concat());
    // Three unbounded PES growing together to 12 MiB each: each stays below
    // the per-PES limit, together they pass the shared 32 MiB.
    let header = pes::emit_header(pes::STREAM_ID_VIDEO, 0, 0, 0, false).unwrap();
    let filler = [1u8; 184];
    let mut errors = Vec::new();
    for n in 0..(12 << 20) / 184 {
        for (k, &pid) in pids.iter().enumerate() {
            let spec = PacketSpec {
                pid,
                unit_start: n == 0,
                cc: (n & 0x0f) as u8,
            };
            let payload = if n == 0 { &header[..] } else { &filler[..] };
            demux.handle_bytes(&write_packet(spec, None, payload).0);
            while let Some(ev) = demux.poll_event() {
                match ev {
                    TsEvent::Error(e) => errors.push((n, k, e)),
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
    }
    let (n, _, first) = &errors[0];
    assert!(
        matches!(
            first,
            TsDemuxError::DamagedPes {
                reason: "buffered PES of all streams over the demuxer's limit",
                ..
            }
        ),
        "{errors:?}"
    );
    assert!(*n * 184 * 3 <= 33 << 20, "dropped at {n} packets a stream");
}

#[test]
fn the_demuxer_follows_at_most_max_streams() {
    use super::demux::MAX_STREAMS;
    let streams: Vec<(u16, u8)> = (0..70).map(|i| (0x100 + i, STREAM_TYPE_H264)).collect();
    let (_, _, errors) = demux_all(&psi_packets(&streams, 0, 0).concat(), 188);
    let expected: Vec<TsDemuxError> = (MAX_STREAMS as u16..70)
        .map(|i| TsDemuxError::StreamLimit {
            pid: 0x100 + i,
            limit: MAX_STREAMS,
        })
        .collect();
    assert_eq!(errors, expected);
}

#[test]
fn a_new_pmt_version_replaces_the_stream_set() {
    let input = units(1, 0);
    let packets = mux_all(&tracks(), &input);
    let cut = packets.len() / 2;
    // PMT version 1 lists the audio PID and a new video PID, not 0x100.
    let v1 = psi_packets(
        &[(0x101, STREAM_TYPE_AAC_ADTS), (0x102, STREAM_TYPE_H264)],
        1,
        8,
    );
    let rest = packets[cut..]
        .iter()
        .filter(|p| parse_packet(p).is_ok_and(|p| p.pid != PMT_PID));
    let stream: Vec<u8> = packets[..cut]
        .iter()
        .chain(&v1)
        .chain(rest)
        .flat_map(|p| *p)
        .collect();
    let (_, got, errors) = demux_all(&stream, 188);
    // The spliced PSI packets jump the PAT and PMT counters (and the old
    // PAT resumes after them): those gaps are reported, and beside the
    // point here.
    let psi = |pid: u16| pid == 0 || pid == PMT_PID;
    let errors: Vec<TsDemuxError> = errors
        .into_iter()
        .filter(|e| !matches!(e, TsDemuxError::Continuity { pid, .. } if psi(*pid)))
        .collect();
    assert_eq!(
        errors,
        [TsDemuxError::StreamRemoved {
            pid: 0x100,
            track: 1,
            version: 1
        }]
    );
    let audio: Vec<&AccessUnit> = input.iter().filter(|au| au.track == 2).collect();
    assert_eq!(got.iter().filter(|au| au.track == 2).count(), audio.len());
    let video = got.iter().filter(|au| au.track == 1).count();
    assert!(
        video > 0 && video < 30,
        "video stops at the new PMT: {video}"
    );
}

#[test]
fn a_pcr_pid_of_its_own_carries_every_pcr_in_payloadless_packets() {
    let config = TsMuxConfig {
        pcr_pid: Some(0x1ff),
        video_pes_length: true,
        ..TsMuxConfig::default()
    };
    let input = units(2, 0);
    let mut mux = TsMuxer::new(&tracks(), config).unwrap();
    let packets: Vec<_> = input.iter().flat_map(|au| mux.mux(au).unwrap()).collect();
    let parsed: Vec<_> = packets.iter().map(|p| parse_packet(p).unwrap()).collect();
    let pcr = |p: &&super::packet::TsPacket| p.adaptation.as_ref().is_some_and(|a| a.pcr.is_some());
    let on_own: Vec<_> = parsed.iter().filter(|p| p.pid == 0x1ff).collect();
    assert!(
        on_own.len() >= 20,
        "a PCR at least every 100 ms: {}",
        on_own.len()
    );
    assert!(on_own
        .iter()
        .all(|p| !p.has_payload && pcr(p) && p.cc == on_own[0].cc));
    assert!(parsed.iter().filter(|p| p.pid != 0x1ff).all(|p| !pcr(&p)));
    // The stream still demuxes whole, and the PCR PID is in the PMT.
    let bytes: Vec<u8> = packets.iter().flat_map(|p| *p).collect();
    let (_, got, errors) = demux_all(&bytes, 1316);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(got.len(), input.len());
    // A PID a stream or the PMT uses cannot carry the PCR.
    for pid in [0x100, PMT_PID, 0x10, 0x1fff] {
        let config = TsMuxConfig {
            pcr_pid: Some(pid),
            ..TsMuxConfig::default()
        };
        assert!(TsMuxer::new(&tracks(), config).is_err(), "{pid:#x}");
    }
}
