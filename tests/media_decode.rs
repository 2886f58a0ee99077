//! The decode check on the fixture clip: an unimpaired stream decodes clean
//! and identical; a truncated P-frame slice damages that frame and every
//! frame up to the next IDR; lost frames are missing; decode speed.

use std::time::{Duration, Instant};

use streamsim::media::decode::{bench_decode, DecodeCheck, FrameStatus};
use streamsim::media::file_source::FileSource;
use streamsim::media::{h264, AccessUnit, Source, Track};

fn fixture() -> (Track, Vec<AccessUnit>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/clip.mp4");
    let source = FileSource::open(path, Duration::ZERO).expect("fixture opens");
    let track = source.tracks()[0].clone();
    let video = source
        .access_units()
        .iter()
        .filter(|u| u.track == track.id)
        .cloned()
        .collect();
    (track, video)
}

/// Indices in decode order of the fixture's video units.
fn decode_order(units: &[AccessUnit]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by_key(|&i| units[i].dts);
    order
}

#[test]
fn unimpaired_stream_decodes_clean_and_identical() {
    let (track, video) = fixture();
    let check = DecodeCheck::new(&track, &video).expect("reference decodes");
    assert_eq!(check.frames(), 300);
    let report = check.check(&video).expect("check runs");
    assert_eq!((report.clean, report.damaged, report.missing), (300, 0, 0));
    assert!(report
        .frames
        .iter()
        .all(|f| f.psnr_y.is_some_and(|p| p >= 99.0) && !f.decoder_error));
}

#[test]
fn truncated_slice_damages_frames_until_the_next_idr() {
    let (track, video) = fixture();
    let check = DecodeCheck::new(&track, &video).expect("reference decodes");
    let order = decode_order(&video);
    // The first P picture at or after decode position 30 of the first GOP.
    let (pos, victim) = order
        .iter()
        .enumerate()
        .skip(30)
        .find(|(_, &i)| is_p_slice(&video[i]))
        .map(|(p, &i)| (p, i))
        .expect("a P picture");
    let mut received = video.clone();
    let data = &mut received[victim].data;
    data.truncate(data.len() / 2);
    let report = check.check(&received).expect("check runs");
    let by_pts = |pts: i64| {
        report
            .frames
            .iter()
            .find(|f| f.pts == pts)
            .expect("verdict")
    };
    assert!(
        by_pts(video[victim].pts).decoder_error,
        "the decoder notices the truncated slice"
    );
    println!(
        "truncated P picture at decode position {pos}: {} frames damaged",
        report.damaged
    );
    for (p, &i) in order.iter().enumerate() {
        let verdict = by_pts(video[i].pts);
        let expect = if p < pos || p >= 60 {
            FrameStatus::Clean
        } else {
            FrameStatus::Damaged
        };
        assert_eq!(
            verdict.status, expect,
            "decode position {p} (victim at {pos})"
        );
    }
    assert_eq!(
        (report.clean, report.damaged, report.missing),
        (300 - (60 - pos), 60 - pos, 0)
    );
    let victim_psnr = by_pts(video[victim].pts)
        .psnr_y
        .expect("concealed picture comes out");
    assert!(
        victim_psnr.is_finite() && victim_psnr > 10.0,
        "{victim_psnr}"
    );
}

#[test]
fn lost_frames_are_missing_and_break_their_gop() {
    let (track, video) = fixture();
    let check = DecodeCheck::new(&track, &video).expect("reference decodes");
    let order = decode_order(&video);
    // Lose the second IDR (decode position 60): the whole second GOP is gone.
    let lost = video[order[60]].pts;
    let received: Vec<AccessUnit> = video.iter().filter(|u| u.pts != lost).cloned().collect();
    let report = check.check(&received).expect("check runs");
    assert_eq!((report.clean, report.damaged, report.missing), (240, 59, 1));
    let missing = report
        .frames
        .iter()
        .find(|f| f.status == FrameStatus::Missing)
        .expect("one missing");
    assert_eq!((missing.pts, missing.psnr_y), (lost, None));
}

#[test]
fn looped_pts_mapped_back_check_clean() {
    let (track, video) = fixture();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/clip.mp4");
    let mut source = FileSource::open(path, Duration::ZERO).expect("fixture opens");
    let period = 901_920; // the clip's loop period in 90 kHz ticks
    let first = video.iter().map(|u| u.pts).min().expect("video");
    let mut second_loop = Vec::new();
    while let Some(unit) = source.poll_next(Duration::from_secs(21)) {
        let pts = unit.pts - first;
        if unit.track == track.id && pts >= period && pts < 2 * period {
            second_loop.push(AccessUnit {
                pts: unit.pts - period,
                dts: unit.dts - period,
                ..unit
            });
        }
    }
    let report = DecodeCheck::new(&track, &video)
        .expect("reference decodes")
        .check(&second_loop)
        .expect("check runs");
    assert_eq!(report.clean, 300);
}

/// CPU time this thread has run, from Linux's schedstat (ns), if available:
/// the benchmark's measure, unaffected by other load on a shared machine.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        stat.split_whitespace().next()?.parse().ok()?,
    ))
}

#[test]
fn decode_speed() {
    let (track, video) = fixture();
    bench_decode(&track, &video).expect("warm-up");
    let (wall, cpu) = (Instant::now(), thread_cpu_time());
    let frames = bench_decode(&track, &video).expect("decodes");
    let wall = wall.elapsed().as_secs_f64();
    let cpu = cpu
        .zip(thread_cpu_time())
        .map(|(a, b)| (b - a).as_secs_f64());
    assert_eq!(frames, 300);
    let per_s = |s: f64| frames as f64 / s;
    println!(
        "decode 640x360, one thread: {:.0} frames/s wall, {:.0} frames/s of CPU time",
        per_s(wall),
        cpu.map_or(0.0, per_s)
    );
    let check = DecodeCheck::new(&track, &video).expect("reference decodes");
    let cpu = thread_cpu_time();
    check.check(&video).expect("check runs");
    let cpu = cpu
        .zip(thread_cpu_time())
        .map(|(a, b)| (b - a).as_secs_f64());
    println!(
        "check (decode + PSNR): {:.0} frames/s of CPU time",
        cpu.map_or(0.0, per_s)
    );
}

/// Whether the unit holds a P slice starting at macroblock 0: after the NAL
/// header, first_mb_in_slice = ue(v) 0 ("1") and slice_type = ue(v) 0 ("1")
/// or 5 ("00110").
fn is_p_slice(unit: &AccessUnit) -> bool {
    h264::split_annex_b(&unit.data).iter().any(|nal| {
        h264::nal_type(nal) == Some(h264::NAL_SLICE)
            && nal
                .get(1)
                .is_some_and(|b| b >> 6 == 0b11 || b >> 2 == 0b10_0110)
    })
}

/// Timestamps as FLV and RTMP keep them: rounded to the millisecond, then
/// back to 90 kHz.
fn via_milliseconds(units: &[AccessUnit]) -> Vec<AccessUnit> {
    let ms = |t: i64| (t * 1000 + 45_000).div_euclid(90_000) * 90;
    units
        .iter()
        .map(|u| AccessUnit {
            pts: ms(u.pts),
            dts: ms(u.dts),
            ..u.clone()
        })
        .collect()
}

#[test]
fn millisecond_timestamps_match_the_nearest_frame() {
    let (track, video) = fixture();
    let check = DecodeCheck::new(&track, &video).expect("reference decodes");
    assert_eq!(check.frame_duration(), 3000, "30 fps at 90 kHz");
    let received = via_milliseconds(&video);
    assert!(received.iter().zip(&video).any(|(r, v)| r.pts != v.pts));
    let report = check.check(&received).expect("check runs");
    assert_eq!((report.clean, report.damaged, report.missing), (300, 0, 0));
    // Half a frame or more away matches nothing: those frames are missing.
    let off: Vec<AccessUnit> = video
        .iter()
        .map(|u| AccessUnit {
            pts: u.pts + if u.keyframe { 0 } else { 1500 },
            ..u.clone()
        })
        .collect();
    let report = check.check(&off).expect("check runs");
    assert_eq!((report.clean, report.missing), (5, 295));
}

#[test]
fn ffmpeg_stays_quiet_on_damaged_streams() {
    let (track, video) = fixture();
    let check = DecodeCheck::new(&track, &video).expect("reference decodes");
    let mut received = video.clone();
    let half = received[10].data.len() / 2;
    received[10].data.truncate(half);
    check.check(&received).expect("check runs");
    // The decoder's concealment messages never reach the terminal.
    assert!(matches!(
        ffmpeg_next::util::log::get_level(),
        Ok(ffmpeg_next::util::log::Level::Quiet)
    ));
}
