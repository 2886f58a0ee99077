//! Bulk transfers between two endpoints over a lossy path: the data must
//! arrive intact and in order, and both sides must close cleanly.

use std::time::Duration;

use super::pair::{Pair, Rng, Side};
use crate::net::tcp::config::{CongestionKind, TcpConfig};
use crate::net::tcp::conn::{Event, State};

/// Byte `i` of the test stream.
fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

/// Result of one transfer.
#[derive(Debug)]
pub struct Outcome {
    /// Simulated time until both sides closed.
    pub elapsed: Duration,
    pub client: crate::net::tcp::TcpStats,
}

/// Sends `total` bytes client → server with data segments dropped with
/// probability `loss` (ACKs too when `ack_loss`), then closes both ways.
pub fn transfer(config: TcpConfig, total: usize, loss: f64, ack_loss: bool, seed: u64) -> Outcome {
    let mut pair = Pair::new(
        config.clone(),
        config,
        Duration::from_millis(10),
        (u32::MAX - 5000, 7),
    );
    let mut rng = Rng(seed);
    pair.drop = Box::new(move |side, seg| {
        let lossy = side == Side::Client || ack_loss;
        lossy && !seg.header.flags.syn() && rng.chance(loss)
    });
    let chunk: Vec<u8> = (0..total).map(pattern).collect();
    let mut sent = 0;
    let mut received = 0;
    let mut buf = vec![0u8; 65_536];
    let mut client_closed = false;
    let mut server_closed = false;
    let limit = Duration::from_secs(3600);
    loop {
        if sent < total {
            sent += pair.client.send(&chunk[sent..]);
        } else if !client_closed {
            pair.client.close();
            client_closed = true;
        }
        loop {
            let n = pair.server.recv(&mut buf);
            if n == 0 {
                break;
            }
            for (k, b) in buf[..n].iter().enumerate() {
                assert_eq!(*b, pattern(received + k), "byte {} corrupted", received + k);
            }
            received += n;
        }
        while let Some(event) = pair.server.poll_event() {
            if event == Event::PeerClosed && !server_closed {
                pair.server.close();
                server_closed = true;
            }
            assert!(
                !matches!(event, Event::Error(_)),
                "server {event:?} {:?}",
                pair.server.state()
            );
        }
        while let Some(event) = pair.client.poll_event() {
            assert!(!matches!(event, Event::Error(_)), "client {event:?}");
        }
        let done = pair.client.state() == State::Closed && pair.server.state() == State::Closed;
        if done || pair.now > limit || !pair.step() {
            break;
        }
    }
    assert_eq!(received, total, "all data arrived (now {:?})", pair.now);
    assert!(pair.server.peer_closed());
    assert_eq!(pair.server.state(), State::Closed, "server closed");
    assert_eq!(
        pair.client.state(),
        State::Closed,
        "client closed after TIME-WAIT"
    );
    Outcome {
        elapsed: pair.now,
        client: *pair.client.stats(),
    }
}

const MB: usize = 1 << 20;

#[test]
fn clean_path_transfers_without_retransmission() {
    for config in [TcpConfig::linux(), TcpConfig::ns3()] {
        let out = transfer(config, 4 * MB, 0.0, false, 1);
        assert!(out.elapsed < Duration::from_secs(5), "{out:?}");
        assert_eq!(out.client.retransmitted_segments, 0, "{out:?}");
        assert_eq!(out.client.rtos, 0);
    }
}

#[test]
fn one_percent_loss_is_repaired_mostly_without_timeouts() {
    for config in [TcpConfig::linux(), TcpConfig::ns3()] {
        let out = transfer(config, 3 * MB, 0.01, false, 2);
        assert!(out.client.retransmitted_segments > 0, "{out:?}");
        assert!(out.client.recoveries > 0);
        assert!(
            out.client.rtos * 4 <= out.client.recoveries.max(4),
            "{out:?}"
        );
    }
}

#[test]
fn five_percent_loss_both_ways_still_delivers() {
    for config in [TcpConfig::linux(), TcpConfig::ns3()] {
        let out = transfer(config, 2 * MB, 0.05, true, 3);
        assert!(out.client.retransmitted_segments > 0, "{out:?}");
    }
}

#[test]
fn every_congestion_control_and_loss_detector_delivers() {
    for congestion in [
        CongestionKind::Reno,
        CongestionKind::NewReno,
        CongestionKind::Cubic,
    ] {
        for (sack, rack) in [(false, false), (true, false), (true, true)] {
            for timestamps in [false, true] {
                let config = TcpConfig {
                    congestion,
                    sack,
                    rack,
                    timestamps,
                    hystart: congestion == CongestionKind::Cubic,
                    ..TcpConfig::linux()
                };
                transfer(config, MB, 0.02, false, 4);
            }
        }
    }
}

#[test]
fn small_buffers_nagle_and_no_window_scaling_deliver() {
    let config = TcpConfig {
        send_buffer: 10_000,
        recv_buffer: 7_000,
        nagle: true,
        window_scaling: false,
        ..TcpConfig::ns3()
    };
    transfer(config, MB / 4, 0.01, true, 5);
}
