//! UDP over an impaired link: loss and one-way delay match what the link
//! model was told.
//!
//! 5 Mbit/s of 1316-byte datagrams for 60 s (a 61 s run: the stream stops a
//! second before the end), 1% Bernoulli loss, 25 ms ± 10 ms
//! uniform jitter on a 10 Mbit/s link: loss must land in 0.9–1.1% and the
//! mean one-way delay within 0.5 ms of 25 ms plus the serialization time of
//! one datagram (1316 + 8 UDP + 20 IP bytes at 10 Mbit/s).

use std::time::Duration;

use streamsim::sim::SimConfig;
use streamsim::workload::{run_cbr, CbrSpec};

#[test]
fn fidelity_udp_loss_and_delay() {
    let down = "delay 25ms 10ms distribution uniform loss 1% rate 10mbit"
        .parse()
        .unwrap();
    let up = "delay 25ms".parse().unwrap();
    let sim = SimConfig {
        seed: 3,
        duration: Duration::from_secs(61),
        ..SimConfig::default()
    };
    let r = run_cbr(
        &CbrSpec {
            sim,
            down,
            up,
            bitrate_bps: 5_000_000,
            payload: 1316,
        },
        |_| {},
    )
    .unwrap();

    let loss = r.loss_rate();
    let serialization_ms = (1316.0 + 8.0 + 20.0) * 8.0 / 10e6 * 1e3;
    let expected_ms = 25.0 + serialization_ms;
    let mean_ms = r.delay_us.mean() / 1e3;
    println!(
        "sent {} received {} loss {:.3}% mean delay {:.3} ms (expected {:.3} ms), reordered {}",
        r.sent,
        r.received,
        loss * 100.0,
        mean_ms,
        expected_ms,
        r.reordered
    );
    assert!(
        r.sent > 28_000,
        "the stream ran for the whole minute: {} datagrams",
        r.sent
    );
    assert!(
        (0.009..=0.011).contains(&loss),
        "loss {:.4}% outside 0.9–1.1%",
        loss * 100.0
    );
    assert!(
        (mean_ms - expected_ms).abs() <= 0.5,
        "mean delay {mean_ms:.3} ms, expected {expected_ms:.3} ± 0.5 ms"
    );
    // Uniform jitter of ±10 ms: the spread shows up, bounded by the jitter.
    let min_ms = r.delay_us.min() as f64 / 1e3;
    let max_ms = r.delay_us.max() as f64 / 1e3;
    assert!(
        min_ms >= 15.0 - 0.1 && max_ms <= 35.0 + serialization_ms + 1.0,
        "delay range {min_ms}–{max_ms} ms"
    );
    assert!(
        max_ms - min_ms > 15.0,
        "jitter must spread delays: {min_ms}–{max_ms} ms"
    );
    // The end-to-end join agrees with the client's own count.
    let flows = r.report.udp_flows();
    let stream = flows
        .iter()
        .find(|f| f.key.dst.port() == streamsim::workload::CBR_PORT)
        .expect("stream flow");
    assert_eq!(stream.sent, r.sent);
    assert_eq!(stream.received, r.received);
    // Every link is longer than a tick, so every packet was on time.
    for host in &r.report.hosts {
        assert_eq!(
            host.nic.late_frames, 0,
            "{}: frames delivered late",
            host.name
        );
    }
}
