//! Live playout: deadlines at capture + target latency.

use super::*;

#[test]
fn clean_30fps_stream_presents_every_frame_at_the_target() {
    let mut player = live(ms(200));
    let end = cap(89, 30) + ms(200);
    let events = drive(&mut player, stream(90, 30, 30, ms(50), &[]), end);
    assert_eq!(
        events[0],
        PlayerEvent::Started {
            at: ms(200),
            startup: ms(200)
        }
    );
    assert_eq!(events.len(), 91);
    for (k, event) in events[1..].iter().enumerate() {
        let k = k as i64;
        let expected = PlayerEvent::Presented {
            at: cap(k, 30) + ms(200),
            pts: k * 3000,
            latency: ms(200),
            bytes: 100,
        };
        assert_eq!(*event, expected);
    }
    let stats = player.stats();
    assert_eq!(stats.startup, Some(ms(200)));
    assert_eq!(stats.frames_presented, 90);
    assert_eq!(
        (
            stats.frames_late,
            stats.frames_lost,
            stats.frames_undecodable
        ),
        (0, 0, 0)
    );
    assert_eq!((stats.stalls, stats.stall_time), (0, Duration::ZERO));
    assert_eq!(stats.play_time, cap(89, 30));
    assert_eq!(stats.stall_ratio(), Some(0.0));
    assert_eq!(stats.latency_us.len(), 90);
    assert!(stats
        .latency_us
        .equivalent(stats.latency_us.min_nz(), 200_000));
    assert!(stats.latency_us.equivalent(stats.latency_us.max(), 200_000));
    assert_eq!(stats.media_bytes, 9000);
    let presented = player.take_presented();
    assert_eq!(presented.len(), 90);
    assert_eq!(presented[89].pts, 89 * 3000);
    assert!(player.take_presented().is_empty());
}

#[test]
fn lost_p_frame_with_later_frames_buffered_skips_without_stall() {
    let mut player = live(ms(200));
    let events = drive(&mut player, stream(75, 25, 25, ms(50), &[10]), ms(3160));
    let stats = player.stats();
    assert_eq!(stats.frames_lost, 1);
    assert_eq!(stats.frames_undecodable, 14); // 11..=24, until the IDR at 25
    assert_eq!(stats.frames_presented, 60);
    assert_eq!(stats.stalls, 0);
    let lost = PlayerEvent::FramesLost {
        at: ms(600),
        first_pts: 36_000,
        count: 1,
    };
    let broken = PlayerEvent::FramesUndecodable {
        at: ms(640),
        first_pts: 39_600,
        count: 14,
    };
    let i = events.iter().position(|e| *e == lost).expect("lost run");
    assert_eq!(events[i + 1], broken);
    assert!(
        matches!(events[i + 2], PlayerEvent::Presented { at, pts: 90_000, .. } if at == ms(1200))
    );
}

#[test]
fn lost_idr_breaks_the_whole_gop() {
    let mut player = live(ms(200));
    drive(&mut player, stream(75, 25, 25, ms(50), &[25]), ms(3160));
    let stats = player.stats();
    assert_eq!(stats.frames_lost, 1);
    assert_eq!(stats.frames_undecodable, 24); // 26..=49
    assert_eq!(stats.frames_presented, 50);
    assert_eq!(stats.stalls, 0);
}

#[test]
fn outage_empties_the_buffer_stalls_and_late_frames_are_dropped() {
    let mut player = live(ms(200));
    let events = drive(&mut player, outage_arrivals(), ms(3160));
    let stats = player.stats();
    // Frame 24 plays at 1160; frame 25 is due at 1200 and nothing is there.
    assert_eq!(stats.stalls, 1);
    // Frames 25..=47 arrive at 2100 after their deadlines; 48 (due 2120)
    // is in time but undecodable, and ends the stall.
    assert_eq!(stats.stall_time, ms(920));
    assert_eq!(stats.frames_late, 23);
    assert_eq!(stats.frames_undecodable, 2);
    assert_eq!(stats.frames_lost, 0);
    assert_eq!(stats.frames_presented, 50);
    assert_eq!(stats.play_time, ms(3160 - 200 - 920));
    let ratio = stats.stall_ratio().expect("played");
    assert!((ratio - 920.0 / 2960.0).abs() < 1e-12);
    let tail: Vec<_> = events
        .iter()
        .filter(|e| !matches!(e, PlayerEvent::Presented { .. }))
        .cloned()
        .collect();
    assert_eq!(
        tail,
        vec![
            PlayerEvent::Started {
                at: ms(200),
                startup: ms(200)
            },
            PlayerEvent::StallStart { at: ms(1200) },
            PlayerEvent::FramesLate {
                at: ms(2100),
                first_pts: 25 * 3600,
                count: 23
            },
            PlayerEvent::StallEnd {
                at: ms(2120),
                duration: ms(920)
            },
            PlayerEvent::FramesUndecodable {
                at: ms(2120),
                first_pts: 48 * 3600,
                count: 2
            },
        ]
    );
}

#[test]
fn jitter_below_the_target_never_stalls_and_reorders_are_fine() {
    let mut player = live(ms(200));
    // Transit alternates 150 ms and 50 ms: odd frames overtake even ones.
    let arrivals = (0..75)
        .map(|k| {
            let transit = if k % 2 == 0 { ms(150) } else { ms(50) };
            (cap(k, 25) + transit, frame(k, 25, 25))
        })
        .collect();
    drive(&mut player, arrivals, ms(3160));
    let stats = player.stats();
    assert_eq!(stats.frames_presented, 75);
    assert_eq!(stats.stalls, 0);
    assert_eq!(
        stats.frames_lost + stats.frames_late + stats.frames_undecodable,
        0
    );
}

#[test]
fn jitter_above_the_target_stalls_and_booked_lost_frames_become_late() {
    let mut player = live(ms(200));
    // Frames 10..=19 take 300 ms; the others 50 ms.
    let arrivals = (0..75)
        .map(|k| {
            let transit = if (10..20).contains(&k) {
                ms(300)
            } else {
                ms(50)
            };
            (cap(k, 25) + transit, frame(k, 25, 25))
        })
        .collect();
    let events = drive(&mut player, arrivals, ms(3160));
    let stats = player.stats();
    assert_eq!(stats.stalls, 1);
    assert_eq!(stats.stall_time, ms(400)); // frame 10 due at 600, frame 20 plays at 1000
    assert_eq!(stats.frames_late, 10);
    assert_eq!(stats.frames_lost, 0); // 14..=19 were booked lost, then arrived
    assert_eq!(stats.frames_undecodable, 5); // 20..=24
    assert_eq!(stats.frames_presented, 60);
    // Lost runs: 14..=16 at 850, then 17, 18 and 19 at their deadlines,
    // each closed by a late arrival.
    assert_eq!(
        count(&events, |e| matches!(e, PlayerEvent::FramesLost { .. })),
        4
    );
}

#[test]
fn reordered_frame_before_its_deadline_is_presented_after_it_is_late_only() {
    // Frame 10 arrives after frame 11 but before its deadline (600 ms).
    let mut arrivals = stream(75, 25, 25, ms(50), &[10]);
    arrivals.push((ms(590), frame(10, 25, 25)));
    let mut player = live(ms(200));
    drive(&mut player, arrivals, ms(3160));
    assert_eq!(player.stats().frames_presented, 75);
    // Frame 10 arrives 50 ms after its deadline: late, not also lost.
    let mut arrivals = stream(75, 25, 25, ms(50), &[10]);
    arrivals.push((ms(650), frame(10, 25, 25)));
    let mut player = live(ms(200));
    drive(&mut player, arrivals, ms(3160));
    let stats = player.stats();
    assert_eq!((stats.frames_late, stats.frames_lost), (1, 0));
    assert_eq!(stats.frames_undecodable, 14);
    assert_eq!(stats.frames_presented, 60);
    assert_eq!(stats.stalls, 0);
}

#[test]
fn arrival_exactly_at_the_deadline_is_in_time() {
    let mut player = live(ms(200));
    let mut arrivals = stream(50, 25, 25, ms(50), &[10]);
    arrivals.push((ms(600), frame(10, 25, 25)));
    drive(&mut player, arrivals, ms(2160));
    assert_eq!(player.stats().frames_presented, 50);
}

#[test]
fn duplicates_are_ignored() {
    let mut player = live(ms(200));
    let mut arrivals = stream(75, 25, 25, ms(50), &[]);
    let copies: Vec<_> = arrivals
        .iter()
        .map(|(at, au)| (*at + ms(1), au.clone()))
        .collect();
    arrivals.extend(copies);
    arrivals.push((ms(2500), frame(5, 25, 25))); // long after it was shown
    drive(&mut player, arrivals, ms(3160));
    let stats = player.stats();
    assert_eq!(stats.frames_presented, 75);
    assert_eq!(stats.units_ignored, 76);
    assert_eq!(stats.frames_late + stats.frames_lost, 0);
    assert_eq!(stats.media_bytes, 151 * 100);
}

#[test]
fn units_before_the_first_keyframe_in_time_are_not_counted() {
    let mut player = live(ms(200));
    // The first IDR arrives after its deadline: the viewer joins on the next.
    let mut arrivals = stream(75, 25, 25, ms(50), &[0]);
    arrivals.push((ms(250), frame(0, 25, 25)));
    arrivals.push((ms(1500), frame(3, 25, 25))); // older than the join
    drive(&mut player, arrivals, ms(3160));
    let stats = player.stats();
    assert_eq!(stats.frames_before_start, 26);
    assert_eq!(stats.startup, Some(ms(1200)));
    assert_eq!(stats.frames_presented, 50);
    assert_eq!(
        stats.frames_late + stats.frames_lost + stats.frames_undecodable,
        0
    );
}

#[test]
fn finish_counts_frames_due_and_never_arrived_and_closes_the_stall() {
    let mut player = live(ms(200));
    let events = drive(&mut player, stream(50, 25, 25, ms(50), &[]), ms(3000));
    let stats = player.stats().clone();
    // Frames 50..=70 were due by 3000 ms (captured by 2800 ms).
    assert_eq!(stats.frames_lost, 21);
    assert_eq!((stats.stalls, stats.stall_time), (1, ms(800)));
    assert_eq!(stats.play_time, ms(2000));
    let end = &events[events.len() - 2..];
    assert_eq!(
        end[0],
        PlayerEvent::StallEnd {
            at: ms(3000),
            duration: ms(800)
        }
    );
    assert_eq!(
        end[1],
        PlayerEvent::FramesLost {
            at: ms(3000),
            first_pts: 50 * 3600,
            count: 21
        }
    );
    // Idempotent, and later input is ignored.
    player.finish(ms(4000));
    player.handle_access_unit(ms(4000), frame(50, 25, 25));
    player.handle_timeout(ms(5000));
    assert_eq!(player.poll_event(), None);
    assert_eq!(player.poll_timeout(), None);
    assert_eq!(*player.stats(), stats);
}

#[test]
fn damaged_units_count_as_missing_once() {
    let mut player = live(ms(200));
    let arrivals = stream(50, 25, 25, ms(50), &[10]);
    let mut events = Vec::new();
    for (at, au) in arrivals {
        if au.dts == 11 * 3600 {
            player.handle_damaged(ms(450), 1, Some(10 * 3600));
            player.handle_damaged(ms(450), 2, None);
        }
        player.handle_access_unit(at, au);
        events.extend(std::iter::from_fn(|| player.poll_event()));
    }
    player.finish(ms(2160));
    let stats = player.stats();
    assert_eq!(stats.frames_lost, 1);
    assert_eq!(stats.frames_undecodable, 14);
    assert_eq!(stats.frames_presented, 35);
    assert_eq!(stats.audio_units_lost, 1);
    assert_eq!(stats.stalls, 0);
}

#[test]
fn latency_histogram_holds_the_real_latency() {
    let mut player = live(ms(200));
    drive(&mut player, stream(25, 25, 25, ms(50), &[]), ms(1160));
    let hist = &player.stats().latency_us;
    assert_eq!(hist.len(), 25);
    assert!(hist.equivalent(hist.value_at_quantile(0.5), 200_000));
    assert!(hist.equivalent(hist.max(), 200_000));
    assert!((hist.mean() - 200_000.0).abs() < 200.0);
    // A latency beyond the 1 h bound is recorded as 1 h, not dropped.
    let mut far = live(Duration::from_secs(7200));
    drive(
        &mut far,
        stream(1, 25, 25, ms(50), &[]),
        Duration::from_secs(7200),
    );
    let hist = &far.stats().latency_us;
    assert_eq!(hist.len(), 1);
    assert!(hist.equivalent(hist.max(), 3_600_000_000));
}

#[test]
fn anchored_at_arrival_latency_is_the_first_delay_plus_the_target() {
    let mut player = Player::new(
        PlayerConfig {
            mode: PlayoutMode::LiveFromArrival {
                target_latency: ms(200),
            },
            keep_presented: false,
        },
        Duration::ZERO,
    );
    player.handle_track(video_track());
    // Every frame takes 50 ms to arrive: the receiver's clock starts when
    // the first one does, so each is shown 50 + 200 ms after its capture.
    let end = cap(59, 30) + ms(250);
    let events = drive(&mut player, stream(60, 30, 30, ms(50), &[]), end);
    assert_eq!(
        events[0],
        PlayerEvent::Started {
            at: ms(250),
            startup: ms(250)
        }
    );
    let stats = player.stats();
    assert_eq!(stats.frames_presented, 60);
    assert_eq!(stats.stalls, 0);
    let latencies: Vec<Duration> = events
        .iter()
        .filter_map(|e| match e {
            PlayerEvent::Presented { latency, .. } => Some(*latency),
            _ => None,
        })
        .collect();
    assert_eq!(latencies, vec![ms(250); 60]);
}
