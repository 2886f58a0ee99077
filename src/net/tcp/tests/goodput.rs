//! Bulk transfers through a bottleneck (rate, drop-tail queue, delay), the
//! setting of the ns-3 reference: the sender fills its buffer, the receiver
//! reads everything, goodput is what arrives in order.

use std::time::Duration;

use super::pair::{Pair, Rng, Side};
use crate::net::tcp::config::{CongestionKind, TcpConfig};
use crate::net::tcp::TcpStats;

/// A bottleneck path and a loss rate on the data direction.
#[derive(Clone, Copy, Debug)]
pub struct Path {
    pub rate_bps: u64,
    pub one_way: Duration,
    pub queue: usize,
    pub loss: f64,
}

/// Goodput in bit/s over `seconds`, and the sender's counters.
pub fn bulk(config: &TcpConfig, path: Path, seconds: u64, seed: u64) -> (f64, TcpStats) {
    let mut pair = Pair::new(
        config.clone(),
        config.clone(),
        path.one_way,
        (seed as u32, 7),
    );
    pair.up.rate_bps = Some(path.rate_bps);
    pair.up.queue_limit = path.queue;
    let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
    let loss = path.loss;
    pair.drop = Box::new(move |side, seg| {
        side == Side::Client && !seg.payload.is_empty() && rng.chance(loss)
    });
    let fill = vec![0u8; 1 << 16];
    let mut buf = vec![0u8; 1 << 16];
    let mut received = 0u64;
    let end = Duration::from_secs(seconds);
    while pair.now < end {
        while pair.client.send(&fill) > 0 {}
        loop {
            let n = pair.server.recv(&mut buf);
            if n == 0 {
                break;
            }
            received += n as u64;
        }
        if !pair.step() {
            break;
        }
    }
    (received as f64 * 8.0 / seconds as f64, *pair.client.stats())
}

/// The ns-3 reference path: 10 Mbit/s, 25 ms one way, 42 packets.
fn reference(loss: f64) -> Path {
    Path {
        rate_bps: 10_000_000,
        one_way: Duration::from_millis(25),
        queue: 42,
        loss,
    }
}

#[test]
fn every_profile_fills_the_reference_link_without_loss() {
    for config in [TcpConfig::ns3(), TcpConfig::linux()] {
        let (goodput, stats) = bulk(&config, reference(0.0), 20, 1);
        assert!(
            goodput > 9.0e6,
            "{:?}: {goodput} {stats:?}",
            config.congestion
        );
        assert_eq!(stats.rtos, 0, "{stats:?}");
    }
}

#[test]
fn loss_lowers_goodput_without_timeout_storms() {
    let (goodput, stats) = bulk(&TcpConfig::ns3(), reference(0.01), 30, 3);
    assert!(goodput > 0.8e6 && goodput < 4.0e6, "{goodput} {stats:?}");
    assert!(stats.sack_recoveries > 10, "{stats:?}");
}

/// Prints the ns-3 comparison table (run with `--ignored --nocapture`):
/// mean goodput over ten seeds of 60 s beside the reference.
#[test]
#[ignore]
fn print_ns3_comparison() {
    let rows = [
        (
            CongestionKind::NewReno,
            [9.595, 5.678, 2.321, 1.476, 0.953, 0.485],
        ),
        (
            CongestionKind::Cubic,
            [9.616, 5.418, 1.850, 1.174, 0.749, 0.645],
        ),
    ];
    let ps = [0.0, 0.001, 0.005, 0.01, 0.02, 0.05];
    for (congestion, reference_mbps) in rows {
        for (profile, base) in [("ns3", TcpConfig::ns3()), ("linux", TcpConfig::linux())] {
            let config = TcpConfig { congestion, ..base };
            for (p, want) in ps.iter().zip(reference_mbps) {
                let runs: Vec<(f64, TcpStats)> = (1..=10)
                    .map(|seed| bulk(&config, reference(*p), 60, seed))
                    .collect();
                let mean = runs.iter().map(|r| r.0).sum::<f64>() / runs.len() as f64 / 1e6;
                let per_run = |f: fn(&TcpStats) -> u64| {
                    runs.iter().map(|r| f(&r.1)).sum::<u64>() as f64 / runs.len() as f64
                };
                println!(
                    "{profile:5} {congestion:?} p={p:<5} goodput {mean:.3} Mbit/s ns-3 {want:.3} \
                     ratio {:.2} rtos/run {:.1} tlp/run {:.1} rack/run {:.1}",
                    mean / want,
                    per_run(|s| s.rtos),
                    per_run(|s| s.tlp_probes),
                    per_run(|s| s.rack_losses),
                );
            }
        }
    }
}

/// A large window: 50 Mbit/s, 100 ms RTT, a queue of one BDP (run with
/// `--ignored --nocapture`, timed from outside).
#[test]
#[ignore]
fn print_large_window_run() {
    let path = Path {
        rate_bps: 50_000_000,
        one_way: Duration::from_millis(50),
        queue: 430,
        loss: 0.0,
    };
    for (config, loss) in [
        (TcpConfig::linux(), 0.0),
        (TcpConfig::linux(), 0.0005),
        (TcpConfig::ns3(), 0.0005),
    ] {
        let (goodput, stats) = bulk(&config, Path { loss, ..path }, 60, 1);
        println!("{:?} {goodput:.0} {stats:?}", config.congestion);
    }
}

/// Prints the slow-start matrix of the issue: the share of the link every
/// configuration reaches over 60 s at 0% loss with a queue of one BDP.
#[test]
#[ignore]
fn print_slow_start_matrix() {
    let configs = [
        ("linux", TcpConfig::linux()),
        (
            "linux-newreno",
            TcpConfig {
                congestion: CongestionKind::NewReno,
                ..TcpConfig::linux()
            },
        ),
        ("ns3", TcpConfig::ns3()),
        (
            "ns3-cubic",
            TcpConfig {
                congestion: CongestionKind::Cubic,
                ..TcpConfig::ns3()
            },
        ),
    ];
    for mbps in [2u64, 10, 20, 50] {
        for rtt_ms in [20u64, 100, 200] {
            let rate_bps = mbps * 1_000_000;
            let bdp_packets = (rate_bps * rtt_ms / 1000 / 8 / 1500).max(2) as usize;
            let path = Path {
                rate_bps,
                one_way: Duration::from_millis(rtt_ms / 2),
                queue: bdp_packets,
                loss: 0.0,
            };
            let mut line = format!("{mbps:>2} Mbit/s {rtt_ms:>3} ms q={bdp_packets:<4}");
            for (name, config) in &configs {
                let (goodput, stats) = bulk(config, path, 60, 1);
                line += &format!(
                    " {name} {:.2} (rto {})",
                    goodput / rate_bps as f64,
                    stats.rtos
                );
            }
            println!("{line}");
        }
    }
}
