//! tshark, a real peer, reads our captures: it dissects TCP and UDP, and its
//! retransmission analysis agrees with our NIC's sequence analysis.
//!
//! tshark is installed by `make test`; this test fails rather than skips
//! without it, so CI can never pass without running it.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use streamsim::net::pcap::CaptureFormat;
use streamsim::net::TcpConfig;
use streamsim::sim::SimConfig;
use streamsim::workload::{ns3_tcp, run_bulk, run_cbr, BulkSpec, CbrSpec, BULK_PORT};

fn tshark(file: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .arg("-n")
        .arg("-r")
        .arg(file)
        .args(args)
        .output()
        .expect("tshark runs (make test installs it: apt-get install tshark)");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tshark prints UTF-8")
}

/// Writes `bytes` to a file in this test process's own temporary folder.
fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("streamsim-tshark-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn tshark_counts_the_retransmissions_we_count() {
    // Reno with full segments and random loss, then Cubic without Nagle under
    // bursty loss (go-back-N resends, spurious retransmissions), in both
    // capture formats.
    let cases = [
        (
            "reno-random.pcap",
            CaptureFormat::Pcap,
            ns3_tcp(),
            "delay 25ms loss 0.5% rate 10mbit limit 42",
            60,
        ),
        (
            "cubic-bursty.pcapng",
            CaptureFormat::PcapNg,
            TcpConfig::default(),
            "delay 25ms loss gemodel 0.5% 25% rate 10mbit limit 42",
            30,
        ),
    ];
    for (name, format, tcp, down, seconds) in cases {
        let sim = SimConfig {
            seed: 4,
            duration: Duration::from_secs(seconds),
            tcp,
            capture: Some(format),
            capture_drops: true,
            ..SimConfig::default()
        };
        let spec = BulkSpec {
            sim,
            down: down.parse().unwrap(),
            up: "delay 25ms".parse().unwrap(),
        };
        let r = run_bulk(&spec, |_| {}).unwrap();
        let server = r.report.host("server").unwrap();
        let file = temp_file(name, server.capture.as_ref().unwrap());

        let data = tshark(
            &file,
            &[
                "-Y",
                &format!("tcp.srcport == {BULK_PORT} && tcp.len > 0"),
                "-T",
                "fields",
                "-e",
                "frame.number",
            ],
        );
        let data_segments = data.lines().count() as u64;
        let retrans = tshark(
            &file,
            &[
                "-Y",
                &format!("tcp.analysis.retransmission && tcp.srcport == {BULK_PORT}"),
                "-T",
                "fields",
                "-e",
                "frame.number",
            ],
        );
        let theirs = retrans.lines().count() as f64;
        let ours = r.sender_flow.retransmitted_segments as f64;
        println!("{name}: data segments {data_segments}, retransmissions tshark {theirs}, streamsim {ours}");
        assert_eq!(
            data_segments,
            r.sender_flow.segments - pure_acks(&file),
            "{name}: tshark dissects every data segment"
        );
        assert!(
            ours >= 40.0,
            "{name}: the loss caused retransmissions: {ours}"
        );
        assert!(
            (ours - theirs).abs() <= 0.05 * theirs,
            "{name}: ours {ours} vs tshark {theirs}: more than 5% apart"
        );
        std::fs::remove_file(&file).unwrap();
    }
}

/// Segments of the bulk flow with no payload (the SYN, window updates).
fn pure_acks(file: &Path) -> u64 {
    let out = tshark(
        file,
        &[
            "-Y",
            &format!("tcp.srcport == {BULK_PORT} && tcp.len == 0"),
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
    );
    out.lines().count() as u64
}

#[test]
fn tshark_dissects_udp() {
    let down = "delay 10ms loss 1% rate 10mbit".parse().unwrap();
    let up = "delay 10ms".parse().unwrap();
    let sim = SimConfig {
        seed: 2,
        duration: Duration::from_secs(5),
        capture: Some(CaptureFormat::Pcap),
        ..SimConfig::default()
    };
    let r = run_cbr(
        &CbrSpec {
            sim,
            down,
            up,
            bitrate_bps: 2_000_000,
            payload: 1000,
        },
        |_| {},
    )
    .unwrap();
    let client = r.report.host("client").unwrap();
    let file = temp_file("udp.pcap", client.capture.as_ref().unwrap());
    let lines = tshark(
        &file,
        &[
            "-Y",
            "udp && ip",
            "-T",
            "fields",
            "-e",
            "udp.length",
            "-e",
            "frame.time_epoch",
        ],
    );
    let count = lines.lines().count() as u64;
    assert_eq!(
        count, r.received,
        "tshark sees every datagram the client got"
    );
    for line in lines.lines() {
        let mut fields = line.split('\t');
        assert_eq!(
            fields.next(),
            Some("1008"),
            "UDP length = 1000 payload + 8 header"
        );
        let epoch: f64 = fields.next().unwrap().parse().unwrap();
        // Capture time = the pinned epoch (2026-01-01) + simulated time.
        assert!(
            (1_767_225_600.0..1_767_225_606.0).contains(&epoch),
            "timestamp {epoch}"
        );
    }
    std::fs::remove_file(&file).unwrap();
}
