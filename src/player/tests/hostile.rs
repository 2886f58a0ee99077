//! Hostile input: extreme timestamps, zero durations, unknown tracks,
//! time going backwards, a full buffer, timestamp jumps.

use super::*;
use crate::player::{FRAME_CAP, SERIES_CAP};

fn unit(track: u32, pts: i64, dts: i64, duration: u32, key: bool, capture: Duration) -> AccessUnit {
    AccessUnit {
        track,
        pts,
        dts,
        duration,
        keyframe: key,
        data: vec![1; 10],
        capture_time: capture,
    }
}

/// A mix of every extreme we can think of.
fn wild_units() -> Vec<(Duration, AccessUnit)> {
    let extremes = [
        i64::MIN,
        i64::MIN + 1,
        -1,
        0,
        1,
        3600,
        i64::MAX - 1,
        i64::MAX,
    ];
    let captures = [
        Duration::ZERO,
        ms(40),
        Duration::from_secs(u64::MAX / 4),
        Duration::MAX,
    ];
    let durations = [0, 1, 3600, u32::MAX];
    let mut units = Vec::new();
    let mut n = 0u64;
    for &pts in &extremes {
        for &dts in &extremes {
            for (i, &capture) in captures.iter().enumerate() {
                let duration = durations[(n as usize + i) % durations.len()];
                let key = n.is_multiple_of(3);
                let track = if n.is_multiple_of(11) { 9 } else { 1 };
                // Arrival times wander, sometimes backwards, sometimes huge.
                let at = match n % 7 {
                    0 => Duration::MAX,
                    3 => ms(5),
                    _ => ms(n * 13),
                };
                units.push((at, unit(track, pts, dts, duration, key, capture)));
                n += 1;
            }
        }
    }
    units
}

fn feed_unsorted(player: &mut Player, units: Vec<(Duration, AccessUnit)>) {
    for (i, (at, au)) in units.into_iter().enumerate() {
        if i % 5 == 0 {
            player.handle_damaged(at, au.track, Some(au.pts));
        }
        if i % 9 == 0 {
            player.handle_damaged(at, 1, None);
        }
        player.handle_access_unit(at, au);
        while player.poll_event().is_some() {}
        if let Some(t) = player.poll_timeout() {
            player.handle_timeout(t);
        }
        player.handle_timeout(at.saturating_sub(ms(100)));
        assert!(player.buffer.len() <= FRAME_CAP);
    }
}

#[test]
fn extreme_timestamps_do_not_panic_in_any_mode() {
    for mode in [
        PlayoutMode::Live {
            target_latency: ms(200),
        },
        PlayoutMode::Live {
            target_latency: Duration::ZERO,
        },
        PlayoutMode::Live {
            target_latency: Duration::MAX,
        },
        PlayoutMode::Buffered {
            startup: ms(500),
            rebuffer: ms(250),
        },
        PlayoutMode::Buffered {
            startup: Duration::ZERO,
            rebuffer: Duration::ZERO,
        },
    ] {
        let config = PlayerConfig {
            mode,
            keep_presented: true,
        };
        let mut player = Player::new(config, ms(7));
        player.handle_track(video_track());
        player.handle_track(audio_track());
        feed_unsorted(&mut player, wild_units());
        player.finish(Duration::MAX);
        player.finish(Duration::ZERO);
        let stats = player.stats();
        assert!(stats.buffer_series.len() <= SERIES_CAP);
        assert!(stats.bitrate_series.len() <= SERIES_CAP);
        let _ = stats.stall_ratio();
        let _ = player.take_presented();
    }
}

#[test]
fn zero_durations_without_frame_rate_learn_the_cadence_from_dts_steps() {
    let mut player = live(ms(200));
    let arrivals = stream(75, 25, 25, ms(50), &[10])
        .into_iter()
        .map(|(at, mut au)| {
            au.duration = 0;
            (at, au)
        })
        .collect();
    drive(&mut player, arrivals, ms(3160));
    let stats = player.stats();
    assert_eq!(stats.frames_lost, 1);
    assert_eq!(stats.frames_undecodable, 14);
    assert_eq!(stats.frames_presented, 60);
}

#[test]
fn units_of_unknown_tracks_and_before_any_track_only_count_bytes() {
    let config = PlayerConfig {
        mode: PlayoutMode::Live {
            target_latency: ms(200),
        },
        keep_presented: false,
    };
    let mut player = Player::new(config, Duration::ZERO);
    player.handle_access_unit(ms(10), frame(0, 25, 25));
    player.handle_damaged(ms(10), 1, None);
    assert_eq!(player.poll_timeout(), None);
    player.finish(ms(1000));
    let stats = player.stats();
    assert_eq!(stats.units_ignored, 2);
    assert_eq!(stats.media_bytes, 100);
    assert_eq!(stats.startup, None);
    assert_eq!(stats.stall_ratio(), None);
    assert_eq!(stats.bitrate_series.len(), 10);
}

#[test]
fn a_full_buffer_drops_new_frames_as_late() {
    // A 10 000 s target keeps every frame buffered.
    let mut player = live(Duration::from_secs(10_000));
    let total = FRAME_CAP as i64 + 50;
    for k in 0..total {
        player.handle_access_unit(cap(k, 30) + ms(1), frame(k, 30, 30));
    }
    assert_eq!(player.buffer.len(), FRAME_CAP);
    player.finish(cap(total, 30));
    let stats = player.stats();
    assert_eq!(stats.frames_late, 50);
    assert_eq!(stats.frames_presented, 0);
}

#[test]
fn a_timestamp_jump_is_a_discontinuity_not_a_flood_of_losses() {
    let mut player = live(ms(200));
    let jump = 20_000 * 3600;
    let arrivals = stream(50, 25, 25, ms(50), &[])
        .into_iter()
        .map(|(at, mut au)| {
            if au.dts >= 10 * 3600 {
                au.dts += jump;
                au.pts += jump;
            }
            (at, au)
        })
        .collect();
    drive(&mut player, arrivals, ms(2160));
    let stats = player.stats();
    assert_eq!(stats.discontinuities, 1);
    assert_eq!(stats.frames_lost, 0);
    assert_eq!(stats.frames_undecodable, 15); // 10..=24
    assert_eq!(stats.frames_presented, 35);
    assert_eq!(stats.stalls, 0);
}

#[test]
fn time_going_backwards_counts_as_the_latest_time() {
    let mut player = live(ms(200));
    for (at, au) in stream(25, 25, 25, ms(50), &[]) {
        player.handle_access_unit(at, au);
    }
    // A call from the past changes nothing.
    player.handle_timeout(ms(1));
    player.handle_access_unit(ms(2), frame(25, 25, 25));
    player.finish(ms(1200));
    let stats = player.stats();
    assert_eq!(stats.frames_presented, 26);
    assert_eq!(stats.frames_late, 0);
}
