//! Buffered playout: startup and rebuffer thresholds, re-anchoring.

use super::*;

/// Latency of every `Presented` event, by pts in frames of 25 fps.
fn latencies(events: &[PlayerEvent]) -> Vec<(i64, Duration)> {
    events
        .iter()
        .filter_map(|e| match e {
            PlayerEvent::Presented { pts, latency, .. } => Some((pts / 3600, *latency)),
            _ => None,
        })
        .collect()
}

#[test]
fn startup_threshold_stall_and_rebuffer_grow_latency_by_the_stall() {
    let mut player = buffered(ms(1000), ms(500));
    // 100 ms transit; frame 30 is resent at 2500 ms (after its time);
    // frames from 2000 ms on are held until 3500 ms.
    let mut arrivals: Vec<_> = (0..125)
        .filter(|&k| k != 30)
        .map(|k| {
            let at = cap(k, 25) + ms(100);
            let at = if k >= 50 { at.max(ms(3500)) } else { at };
            (at, frame(k, 25, 25))
        })
        .collect();
    arrivals.push((ms(2500), frame(30, 25, 25)));
    let events = drive(&mut player, arrivals, ms(6460));
    let stats = player.stats();
    // 1000 ms are buffered when frame 24 arrives at 1060 ms.
    assert_eq!(stats.startup, Some(ms(1060)));
    assert_eq!(
        events[0],
        PlayerEvent::Started {
            at: ms(1060),
            startup: ms(1060)
        }
    );
    // Frame 49 plays at 3020 ms; frame 50 is due at 3060 ms. The burst at
    // 3500 ms holds 500 ms of media once frame 62 is in: resume at 3500.
    assert_eq!((stats.stalls, stats.stall_time), (1, ms(440)));
    assert!(events.contains(&PlayerEvent::StallStart { at: ms(3060) }));
    assert!(events.contains(&PlayerEvent::StallEnd {
        at: ms(3500),
        duration: ms(440)
    }));
    // Frame 30 was skipped at 2260 ms (lost), then arrived: late.
    assert_eq!((stats.frames_late, stats.frames_lost), (1, 0));
    assert_eq!(stats.frames_undecodable, 19); // 31..=49
    assert_eq!(stats.frames_presented, 105);
    assert_eq!(stats.play_time, ms(6460 - 1060 - 440));
    let latency = latencies(&events);
    assert!(latency
        .iter()
        .filter(|(k, _)| *k < 50)
        .all(|(_, l)| *l == ms(1060)));
    assert!(latency
        .iter()
        .filter(|(k, _)| *k >= 50)
        .all(|(_, l)| *l == ms(1500)));
    assert_eq!(latency.len(), 105);
}

#[test]
fn resume_after_a_hole_jumps_to_the_buffered_frames() {
    let mut player = buffered(ms(1000), ms(500));
    // Frames 50..=74 never arrive; from 75 on, nothing before 3500 ms.
    let arrivals: Vec<_> = (0..125)
        .filter(|k| !(50..75).contains(k))
        .map(|k| {
            let at = cap(k, 25) + ms(100);
            let at = if k >= 75 { at.max(ms(3500)) } else { at };
            (at, frame(k, 25, 25))
        })
        .collect();
    let events = drive(&mut player, arrivals, ms(5540));
    let stats = player.stats();
    // Stall from 3060 ms; 500 ms after the hole are there when frame 87
    // arrives at 3580 ms: media 3000 ms plays at 3580 ms.
    assert_eq!((stats.stalls, stats.stall_time), (1, ms(520)));
    assert_eq!(stats.frames_lost, 25);
    assert_eq!(stats.frames_presented, 100);
    assert!(events.contains(&PlayerEvent::FramesLost {
        at: ms(3580),
        first_pts: 50 * 3600,
        count: 25
    }));
    let latency = latencies(&events);
    assert_eq!(latency[50], (75, ms(580)));
    assert_eq!(stats.play_time, ms(5540 - 1060 - 520));
}

#[test]
fn whole_segments_fill_and_drain_the_buffer_without_stalls() {
    let mut player = buffered(ms(2000), ms(1000));
    // 1 s segments, each arriving 200 ms after its last capture ends.
    let arrivals: Vec<_> = (0..100)
        .map(|k| (ms(1000 * (k as u64 / 25 + 1) + 200), frame(k, 25, 25)))
        .collect();
    let events = drive(&mut player, arrivals, ms(6160));
    let stats = player.stats();
    assert_eq!(stats.startup, Some(ms(2200)));
    assert_eq!(stats.frames_presented, 100);
    assert_eq!(stats.stalls, 0);
    assert!(latencies(&events).iter().all(|(_, l)| *l == ms(2200)));
    let level = |bin: usize| stats.buffer_series[bin];
    assert_eq!(level(0), (ms(0), ms(0))); // nothing yet
    assert_eq!(level(12), (ms(1200), ms(1000))); // segment 0, waiting
    assert_eq!(level(22), (ms(2200), ms(1900))); // playing since 2200
    assert_eq!(level(31), (ms(3100), ms(1000))); // segment 2 lands at 3200
    assert_eq!(level(32), (ms(3200), ms(1900)));
    assert_eq!(stats.buffer_series.len(), 62);
    assert_eq!(stats.bitrate_series[12], (ms(1200), 2500));
    assert_eq!(stats.bitrate_series[13], (ms(1300), 0));
}

#[test]
fn buffered_mode_has_no_deadline_before_start() {
    let mut player = buffered(ms(1000), ms(500));
    // A slow start: frames trickle in 1 s after capture; nothing is late.
    let arrivals = stream(50, 25, 25, ms(1000), &[]);
    drive(&mut player, arrivals, ms(3940));
    let stats = player.stats();
    assert_eq!(stats.startup, Some(ms(1960)));
    assert_eq!(stats.frames_presented, 50);
    assert_eq!(stats.stalls, 0);
}

#[test]
fn the_frame_a_stall_waits_for_is_not_late_when_it_comes() {
    let mut player = buffered(ms(1000), ms(500));
    // Frame 49 only comes at 3300 ms, during the stall it caused; frames
    // from 50 on are held until 3500 ms.
    let mut arrivals: Vec<_> = (0..125)
        .filter(|&k| k != 49)
        .map(|k| {
            let at = cap(k, 25) + ms(100);
            let at = if k >= 50 { at.max(ms(3500)) } else { at };
            (at, frame(k, 25, 25))
        })
        .collect();
    arrivals.push((ms(3300), frame(49, 25, 25)));
    let events = drive(&mut player, arrivals, ms(6500));
    let stats = player.stats();
    // Frame 48 plays at 2980 ms, frame 49 is due at 3020 ms: stall with
    // the playhead at 1960 ms. Frame 61 brings 520 ms at 3500 ms.
    assert_eq!((stats.stalls, stats.stall_time), (1, ms(480)));
    assert_eq!(stats.frames_presented, 125);
    assert_eq!(stats.frames_late + stats.frames_lost, 0);
    let frame_49 = PlayerEvent::Presented {
        at: ms(3500),
        pts: 49 * 3600,
        latency: ms(1540),
        bytes: 100,
    };
    assert!(events.contains(&frame_49));
    assert_eq!(stats.play_time, ms(6500 - 1060 - 480));
}
