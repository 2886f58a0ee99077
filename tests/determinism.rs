//! Same scenario and seed ⇒ byte-identical captures, counters, link series
//! (delay histogram, bins) and NIC event logs; another seed ⇒ different ones.

use std::time::Duration;

use streamsim::net::pcap::CaptureFormat;
use streamsim::sim::{RunReport, SimConfig};
use streamsim::workload::{run_bulk, run_cbr, BulkSpec, CbrSpec};

fn bulk(seed: u64) -> RunReport {
    let down = "delay 20ms 5ms distribution normal loss gemodel 1% 30% rate 8mbit limit 40"
        .parse()
        .unwrap();
    let up = "delay 20ms loss 0.5%".parse().unwrap();
    let sim = SimConfig {
        seed,
        duration: Duration::from_secs(8),
        capture: Some(CaptureFormat::PcapNg),
        capture_drops: true,
        ..SimConfig::default()
    };
    run_bulk(&BulkSpec { sim, down, up }, |_| {})
        .unwrap()
        .report
}

fn cbr(seed: u64) -> RunReport {
    let down = "delay 30ms 10ms 25% loss 2% duplicate 1% reorder 5% gap 3 corrupt 0.5% rate 6mbit"
        .parse()
        .unwrap();
    let up = "delay 30ms".parse().unwrap();
    let sim = SimConfig {
        seed,
        duration: Duration::from_secs(8),
        capture: Some(CaptureFormat::Pcap),
        ..SimConfig::default()
    };
    run_cbr(
        &CbrSpec {
            sim,
            down,
            up,
            bitrate_bps: 4_000_000,
            payload: 1200,
        },
        |_| {},
    )
    .unwrap()
    .report
}

/// Every counter of a run, rendered (link stats include their histograms
/// and bins): captures compared separately.
fn counters(report: &RunReport) -> String {
    report
        .hosts
        .iter()
        .map(|h| {
            format!(
                "{}: {:?} {:?} {:?} {:?} {:?} {}\n",
                h.name, h.links, h.tcp, h.udp, h.nic, h.events, h.events_dropped
            )
        })
        .collect()
}

/// The plot series and events of a run, which must be populated for the
/// comparisons above to mean something.
fn assert_series_populated(report: &RunReport, link: &str) {
    let stats = report.link(link).expect("the link exists");
    let bins = &stats.delivered_bytes_bins;
    // Bins end at the last delivery: at least 3 s of the 8 s run (a
    // Gilbert-Elliott burst can swallow several backed-off retransmissions
    // in a row and end the transfer early).
    assert!(bins.len() >= 30, "{link}: bins cover the run: {bins:?}");
    assert_eq!(bins.iter().sum::<u64>(), stats.delivered_bytes);
    assert!(
        stats.queue_bytes_bins.iter().any(|&b| b > 0),
        "{link}: a queue formed"
    );
    assert_eq!(stats.delay_us.len(), stats.delivered);
    let server = report.host("server").expect("the server exists");
    assert!(!server.events.is_empty(), "the lossy link logged drops");
}

fn captures(report: &RunReport) -> Vec<Vec<u8>> {
    report
        .hosts
        .iter()
        .map(|h| h.capture.clone().expect("capture asked for"))
        .collect()
}

#[test]
fn determinism_tcp_same_seed_same_bytes() {
    let (a, b) = (bulk(11), bulk(11));
    assert!(
        captures(&a).iter().all(|c| c.len() > 100_000),
        "captures hold the transfer"
    );
    assert_eq!(
        captures(&a),
        captures(&b),
        "pcapng bytes differ between two runs with seed 11"
    );
    assert_eq!(counters(&a), counters(&b));
    assert_series_populated(&a, "server->client");
    assert_eq!(a.hosts[0].events, b.hosts[0].events);
}

#[test]
fn determinism_tcp_other_seed_differs() {
    let (a, b) = (bulk(11), bulk(12));
    assert_ne!(captures(&a), captures(&b));
    assert_ne!(counters(&a), counters(&b));
}

#[test]
fn determinism_udp_same_seed_same_bytes() {
    let (a, b) = (cbr(5), cbr(5));
    assert_eq!(
        captures(&a),
        captures(&b),
        "pcap bytes differ between two runs with seed 5"
    );
    assert_eq!(counters(&a), counters(&b));
    assert_series_populated(&a, "server->client");
    let (c, _) = (cbr(6), ());
    assert_ne!(captures(&a), captures(&c));
    assert_ne!(counters(&a), counters(&c));
}
