//! The link model seen end to end, through real stacks and captures:
//! trace-driven capacity sets the delivery rate second by second, and an
//! outage silences a UDP stream for exactly its window.

use std::sync::Arc;
use std::time::Duration;

use pcap_file::pcap::PcapReader;
use streamsim::net::link::{LinkConfig, Trace};
use streamsim::net::pcap::CaptureFormat;
use streamsim::sim::{SimConfig, DEFAULT_EPOCH};
use streamsim::workload::{run_cbr, CbrSpec};

/// Bytes of IP packets the capture shows arriving in each whole second.
fn inbound_bytes_per_second(capture: &[u8], seconds: usize) -> Vec<u64> {
    let mut per_second = vec![0u64; seconds];
    let mut reader = PcapReader::new(capture).expect("a pcap file");
    while let Some(packet) = reader.next_packet() {
        let packet = packet.expect("a valid record");
        let at = packet.timestamp.saturating_sub(DEFAULT_EPOCH);
        if let Some(slot) = per_second.get_mut(at.as_secs() as usize) {
            *slot += packet.data.len() as u64;
        }
    }
    per_second
}

#[test]
fn delivery_follows_a_mahimahi_trace() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/traces/step-8-2mbit.trace"
    ))
    .unwrap();
    let trace = Arc::new(Trace::parse(&text).unwrap());
    let mut down: LinkConfig = "delay 20ms limit 100".parse().unwrap();
    down.trace = Some(trace.clone());
    let sim = SimConfig {
        seed: 9,
        duration: Duration::from_secs(21),
        capture: Some(CaptureFormat::Pcap),
        ..SimConfig::default()
    };
    // 10 Mbit/s overdrives both phases, so what arrives is the capacity.
    let spec = CbrSpec {
        sim,
        down,
        up: "delay 20ms".parse().unwrap(),
        bitrate_bps: 10_000_000,
        payload: 1472,
    };
    let r = run_cbr(&spec, |_| {}).unwrap();

    let client = r.report.host("client").unwrap();
    let rates: Vec<f64> = inbound_bytes_per_second(client.capture.as_ref().unwrap(), 20)
        .iter()
        .map(|b| *b as f64 * 8.0 / 1e6)
        .collect();
    println!(
        "trace mean {:.3} Mbit/s; received Mbit/s per second: {rates:.2?}",
        trace.mean_bits_per_sec() / 1e6
    );
    // The trace runs 5 s at 8 Mbit/s, then 5 s at 2 Mbit/s (period 9.999 s);
    // skip the seconds in which the capacity switches. The run lasts 21 s
    // so that the stream (which stops a second early) fills all 20.
    for (second, &rate) in rates.iter().enumerate() {
        let phase = second % 10;
        if phase == 0 || phase == 5 {
            continue;
        }
        let expected = if phase < 5 { 8.0 } else { 2.0 };
        assert!(
            (rate / expected - 1.0).abs() <= 0.03,
            "second {second}: {rate:.2} Mbit/s, the trace offers {expected}"
        );
    }
    assert!(
        r.down_link.dropped_queue > 0,
        "the queue overflowed: the link, not the sender, set the rate"
    );
}

#[test]
fn an_outage_drops_exactly_its_window() {
    let down = "delay 30ms rate 20mbit outage 2s 4s".parse().unwrap();
    let sim = SimConfig {
        seed: 2,
        duration: Duration::from_secs(6),
        ..SimConfig::default()
    };
    let r = run_cbr(
        &CbrSpec {
            sim,
            down,
            up: "delay 30ms".parse().unwrap(),
            bitrate_bps: 4_000_000,
            payload: 1000,
        },
        |_| {},
    )
    .unwrap();
    // 500 datagrams a second for 5 s (the stream stops 1 s before the end);
    // those offered in [2 s, 4 s) are the 1000 lost.
    let link = &r.down_link;
    println!(
        "sent {} received {} outage drops {}",
        r.sent, r.received, link.dropped_outage
    );
    assert_eq!(link.dropped_outage, 1000);
    assert_eq!(link.dropped_loss + link.dropped_queue, 0);
    // Everything else arrived.
    assert_eq!(r.sent, r.received + link.dropped_outage);
}
