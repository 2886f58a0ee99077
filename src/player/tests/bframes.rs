//! Streams with B-frames: decode order differs from presentation order.

use super::*;

/// Display index of decode index `i`: GOPs of 25 in decode order, an IDR
/// then (P B B) × 8, each P shown after the two B-frames that follow it.
fn display(i: i64) -> i64 {
    let local = i % 25;
    let shown = match local {
        0 => 0,
        l => 3 * ((l - 1) / 3) + [3, 1, 2][((l - 1) % 3) as usize],
    };
    25 * (i / 25) + shown
}

/// Decode index `i` at 25 fps: dts two frames behind, pts by display.
fn bframe(i: i64) -> AccessUnit {
    AccessUnit {
        track: 1,
        pts: display(i) * 3600,
        dts: (i - 2) * 3600,
        duration: 3600,
        keyframe: i % 25 == 0,
        data: vec![0; 100],
        capture_time: cap(display(i), 25),
    }
}

/// Units in decode order, each released once every picture up to it in
/// decode order is captured, arriving 50 ms later.
fn arrivals(frames: i64, skip: &[i64]) -> Vec<(Duration, AccessUnit)> {
    let mut release = Duration::ZERO;
    let mut out = Vec::new();
    for i in 0..frames {
        release = release.max(cap(display(i), 25));
        if !skip.contains(&i) {
            out.push((release + ms(50), bframe(i)));
        }
    }
    out
}

#[test]
fn clean_b_frame_stream_presents_in_display_order_at_the_target() {
    let mut player = live(ms(200));
    let events = drive(&mut player, arrivals(50, &[]), ms(2160));
    let shown: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            PlayerEvent::Presented {
                at, pts, latency, ..
            } => Some((*at, *pts, *latency)),
            _ => None,
        })
        .collect();
    let expected: Vec<_> = (0..50)
        .map(|k| (cap(k, 25) + ms(200), k * 3600, ms(200)))
        .collect();
    assert_eq!(shown, expected);
    let stats = player.stats();
    assert_eq!(
        stats.frames_lost + stats.frames_late + stats.frames_undecodable,
        0
    );
    assert_eq!(stats.stalls, 0);
}

#[test]
fn lost_b_frame_breaks_decode_order_until_the_next_idr() {
    let mut player = live(ms(200));
    // Decode index 5 is the B-frame shown fifth (display 4).
    let events = drive(&mut player, arrivals(50, &[5]), ms(2160));
    let stats = player.stats();
    assert_eq!(stats.frames_lost, 1);
    // Every later frame in decode order up to the IDR: decode 6..=24. The
    // P-frame decoded before the gap (decode 4, display 6) still shows.
    assert_eq!(stats.frames_undecodable, 19);
    assert_eq!(stats.frames_presented, 30);
    assert_eq!(stats.stalls, 0);
    // The lost frame's pts is estimated from its dts and the IDR's delay.
    let lost = PlayerEvent::FramesLost {
        at: ms(400),
        first_pts: 5 * 3600,
        count: 1,
    };
    assert!(events.contains(&lost));
}

#[test]
fn reference_arriving_after_the_decoder_needed_it_is_late() {
    // Decode index 1 (P, display 3, due 320 ms) arrives at 250 ms: after
    // the B-frame shown at 240 ms that references it was due.
    let mut moved = arrivals(50, &[1]);
    moved.push((ms(250), bframe(1)));
    let mut player = live(ms(200));
    drive(&mut player, moved, ms(2160));
    let stats = player.stats();
    assert_eq!((stats.frames_late, stats.frames_lost), (1, 0));
    assert_eq!(stats.frames_undecodable, 23); // decode 2..=24
    assert_eq!(stats.frames_presented, 26); // the first IDR and the next GOP
}

#[test]
fn buffered_startup_counts_contiguous_media_in_presentation_order() {
    let mut player = buffered(ms(1000), ms(500));
    let events = drive(&mut player, arrivals(50, &[]), ms(2970));
    // Display 0..=24 is complete once decode index 24 (display 23)
    // arrives at 1010 ms; before it, display 23 is a hole.
    assert_eq!(player.stats().startup, Some(ms(1010)));
    assert_eq!(player.stats().frames_presented, 50);
    let latencies: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            PlayerEvent::Presented { latency, .. } => Some(*latency),
            _ => None,
        })
        .collect();
    assert_eq!(latencies, vec![ms(1010); 50]);
    assert_eq!(player.stats().stalls, 0);
}

#[test]
fn a_gop_delivered_backwards_before_its_deadlines_is_all_presented() {
    // The first GOP lands at 1040 ms in reverse decode order (the IDR
    // last); the second arrives normally. The target is 2 s.
    let mut all = arrivals(50, &[]);
    for (i, (at, _)) in all.iter_mut().enumerate().take(25) {
        *at = ms(1040) + Duration::from_nanos(25 - i as u64);
    }
    let mut player = live(ms(2000));
    let events = drive(&mut player, all, cap(49, 25) + ms(2000));
    let stats = player.stats();
    assert_eq!(stats.frames_before_start, 0);
    assert_eq!(stats.frames_presented, 50);
    assert_eq!(
        stats.frames_late + stats.frames_lost + stats.frames_undecodable,
        0
    );
    assert_eq!(
        events[0],
        PlayerEvent::Started {
            at: ms(2000),
            startup: ms(2000)
        }
    );
}
