//! Player tests: hand-built arrival sequences with exact expectations.
//! Video is 90 kHz; a stream of `fps` frames has a cadence of
//! `90_000 / fps` ticks and frame `k` is captured at `k / fps` seconds.

mod bframes;
mod buffered;
mod hostile;
mod live;

use std::time::Duration;

use super::{Player, PlayerConfig, PlayerEvent, PlayoutMode};
use crate::media::{ticks_to_duration, AccessUnit, Codec, CodecConfig, Track};

pub(super) const SCALE: u32 = 90_000;

pub(super) fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

pub(super) fn video_track() -> Track {
    Track {
        id: 1,
        codec: Codec::H264,
        timescale: SCALE,
        config: CodecConfig::H264 {
            sps: vec![],
            pps: vec![],
            width: 320,
            height: 240,
        },
        frame_rate: None,
    }
}

/// The shared test AAC track (id 2, 48 kHz mono).
pub(super) fn audio_track() -> Track {
    crate::media::testkit::synthetic_tracks()
        .into_iter()
        .find(|t| t.codec == Codec::Aac)
        .expect("the testkit has an AAC track")
}

/// Cadence in ticks at `fps`.
pub(super) fn cadence(fps: u32) -> i64 {
    i64::from(SCALE / fps)
}

/// Capture time of display index `k` at `fps`.
pub(super) fn cap(k: i64, fps: u32) -> Duration {
    ticks_to_duration(k * cadence(fps), SCALE)
}

/// Frame `k` of an I/P stream at `fps`, IDR every `gop`, 100 bytes.
pub(super) fn frame(k: i64, fps: u32, gop: i64) -> AccessUnit {
    AccessUnit {
        track: 1,
        pts: k * cadence(fps),
        dts: k * cadence(fps),
        duration: SCALE / fps,
        keyframe: k % gop == 0,
        data: vec![0; 100],
        capture_time: cap(k, fps),
    }
}

pub(super) fn live(target: Duration) -> Player {
    let mode = PlayoutMode::Live {
        target_latency: target,
    };
    let mut player = Player::new(
        PlayerConfig {
            mode,
            keep_presented: true,
        },
        Duration::ZERO,
    );
    player.handle_track(video_track());
    player.handle_track(audio_track());
    player
}

pub(super) fn buffered(startup: Duration, rebuffer: Duration) -> Player {
    let mode = PlayoutMode::Buffered { startup, rebuffer };
    let mut player = Player::new(
        PlayerConfig {
            mode,
            keep_presented: false,
        },
        Duration::ZERO,
    );
    player.handle_track(video_track());
    player
}

/// Feeds `arrivals` (sorted by time, stable), calling `handle_timeout` at
/// every timeout before each arrival, then runs to `end` and finishes.
/// Returns every event.
pub(super) fn drive(
    player: &mut Player,
    arrivals: Vec<(Duration, AccessUnit)>,
    end: Duration,
) -> Vec<PlayerEvent> {
    let mut arrivals = arrivals;
    arrivals.sort_by_key(|(at, _)| *at);
    let mut events = Vec::new();
    for (at, au) in arrivals {
        run_timeouts(player, at, false, &mut events);
        player.handle_access_unit(at, au);
        events.extend(std::iter::from_fn(|| player.poll_event()));
    }
    run_timeouts(player, end, true, &mut events);
    player.finish(end);
    events.extend(std::iter::from_fn(|| player.poll_event()));
    events
}

fn run_timeouts(player: &mut Player, until: Duration, at_too: bool, out: &mut Vec<PlayerEvent>) {
    while let Some(t) = player.poll_timeout() {
        if t > until || (!at_too && t == until) {
            break;
        }
        player.handle_timeout(t);
        out.extend(std::iter::from_fn(|| player.poll_event()));
    }
}

/// `frames` I/P frames at `fps`, IDR every `gop`, arriving `transit` after
/// capture, except those `skip` drops.
pub(super) fn stream(
    frames: i64,
    fps: u32,
    gop: i64,
    transit: Duration,
    skip: &[i64],
) -> Vec<(Duration, AccessUnit)> {
    (0..frames)
        .filter(|k| !skip.contains(k))
        .map(|k| (cap(k, fps) + transit, frame(k, fps, gop)))
        .collect()
}

pub(super) fn count(events: &[PlayerEvent], pred: impl Fn(&PlayerEvent) -> bool) -> usize {
    events.iter().filter(|e| pred(e)).count()
}

/// A 25 fps stream whose frames with capture in [1000, 2100) ms all arrive
/// at 2100 ms (a link outage that queued them), others 50 ms after capture.
pub(super) fn outage_arrivals() -> Vec<(Duration, AccessUnit)> {
    (0..75)
        .map(|k| {
            let c = cap(k, 25);
            let at = if c >= ms(1000) && c < ms(2100) {
                ms(2100)
            } else {
                c + ms(50)
            };
            (at, frame(k, 25, 25))
        })
        .collect()
}

#[test]
fn series_bins() {
    let mut player = live(ms(200));
    let arrivals: Vec<_> = (0..10)
        .map(|k| {
            let mut au = frame(k, 25, 25);
            au.data = vec![0; 1000];
            (cap(k, 25) + ms(50), au)
        })
        .collect();
    drive(&mut player, arrivals, ms(600));
    let stats = player.stats();
    let bytes: Vec<_> = [2000, 2000, 3000, 2000, 1000, 0]
        .iter()
        .enumerate()
        .map(|(i, &b)| (ms(100 * i as u64), b))
        .collect();
    assert_eq!(stats.bitrate_series, bytes);
    let latency: Vec<_> = (2..6).map(|i| (ms(100 * i), ms(200))).collect();
    assert_eq!(stats.latency_series, latency);
    let buffer: Vec<_> = [80, 160, 180, 160, 100, 0]
        .iter()
        .enumerate()
        .map(|(i, &l)| (ms(100 * i as u64), ms(l)))
        .collect();
    assert_eq!(stats.buffer_series, buffer);
}

#[test]
fn timeouts_are_optional_and_runs_are_deterministic() {
    let mut driven = live(ms(200));
    let events = drive(&mut driven, outage_arrivals(), ms(3200));
    // The same arrivals with no handle_timeout at all: every call catches up.
    let mut lazy = live(ms(200));
    let mut lazy_events = Vec::new();
    for (at, au) in outage_arrivals() {
        lazy.handle_access_unit(at, au);
        lazy_events.extend(std::iter::from_fn(|| lazy.poll_event()));
    }
    lazy.finish(ms(3200));
    lazy_events.extend(std::iter::from_fn(|| lazy.poll_event()));
    assert_eq!(events, lazy_events);
    assert_eq!(driven.stats(), lazy.stats());
}
