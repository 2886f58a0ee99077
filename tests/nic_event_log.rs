//! The NIC's event log checked against the counters it must agree with,
//! over a lossy, rate-limited TCP transfer.

use std::time::Duration;

use streamsim::net::link::DropCause;
use streamsim::net::nic::NicEventKind;
use streamsim::sim::{HostReport, SimConfig};
use streamsim::workload::{run_bulk, BulkSpec};

/// Drops logged by `host` on link `name`, by cause.
fn drops_on(host: &HostReport, name: &str, cause: DropCause) -> u64 {
    host.events
        .iter()
        .filter(|e| {
            matches!(&e.kind, NicEventKind::Drop { link, cause: c, bytes }
                if link == name && *c == cause && *bytes > 0)
        })
        .count() as u64
}

#[test]
fn a_lossy_transfer_logs_every_drop_and_retransmission() {
    // Seed 6 makes both kinds of drop (12 lost, 20 to the queue) with the
    // link's SplitMix64 streams.
    let sim = SimConfig {
        seed: 6,
        duration: Duration::from_secs(4),
        ..SimConfig::default()
    };
    let spec = BulkSpec {
        sim,
        down: "delay 10ms loss 2% rate 5mbit limit 30".parse().unwrap(),
        up: "delay 10ms loss 1%".parse().unwrap(),
    };
    let result = run_bulk(&spec, |_| {}).unwrap();
    let down = &result.down_link;
    assert!(down.dropped_loss > 0 && down.dropped_queue > 0, "{down:?}");
    for host in &result.report.hosts {
        assert_eq!(host.events_dropped, 0);
        assert!(host.events.windows(2).all(|w| w[0].at <= w[1].at));
        let logged: u64 = host
            .events
            .iter()
            .filter(|e| matches!(e.kind, NicEventKind::Drop { .. }))
            .count() as u64;
        let mut dropped = 0;
        for link in &host.links {
            let s = &link.stats;
            assert_eq!(drops_on(host, &link.name, DropCause::Loss), s.dropped_loss);
            assert_eq!(
                drops_on(host, &link.name, DropCause::Queue),
                s.dropped_queue
            );
            assert_eq!(
                drops_on(host, &link.name, DropCause::Outage),
                s.dropped_outage
            );
            dropped += s.dropped();
        }
        assert_eq!(logged, dropped, "{}", host.name);

        // Retransmissions: one event per segment the host's flows count.
        let mut expected = [0u64; 4];
        for (_, flow) in host.tcp_sent() {
            expected[0] += flow.retransmitted_segments;
            expected[1] += flow.fast_retransmits;
            expected[2] += flow.retransmission_timeouts;
            expected[3] += flow.spurious_retransmits;
        }
        let mut seen = [0u64; 4];
        for event in &host.events {
            if let NicEventKind::Retransmission {
                key,
                fast,
                timeout,
                spurious,
            } = event.kind
            {
                assert_eq!(*key.src.ip(), host.addr, "only sent segments are logged");
                seen[0] += 1;
                seen[1] += u64::from(fast);
                seen[2] += u64::from(timeout);
                seen[3] += u64::from(spurious);
            }
        }
        assert_eq!(seen, expected, "{}", host.name);
    }
    let sender = &result.sender_flow;
    assert!(sender.retransmitted_segments > 0, "{sender:?}");
    let server = result.report.host("server").unwrap();
    let retransmissions = server
        .events
        .iter()
        .filter(|e| matches!(e.kind, NicEventKind::Retransmission { .. }))
        .count() as u64;
    assert_eq!(retransmissions, sender.retransmitted_segments);
}
