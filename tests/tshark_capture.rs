//! tshark, a real peer, reads our captures: it dissects TCP and UDP, and its
//! retransmission analysis agrees with our NIC's sequence analysis.
//!
//! tshark is installed by `make test`; this test fails rather than skips
//! without it, so CI can never pass without running it.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use streamsim::net::pcap::CaptureFormat;
use streamsim::net::HostTcp;
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
    // The ns3 profile (NewReno, SACK) under random loss, then the linux
    // profile (CUBIC, RACK-TLP) under bursty loss, in both capture formats.
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
            HostTcp::default(),
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
        // What the sender's TCP itself counted, not inferred from the wire.
        let sender: u64 = server
            .connections
            .iter()
            .filter(|c| c.local.port() == BULK_PORT)
            .map(|c| c.stats.retransmitted_segments)
            .sum();
        // Wireshark calls a resent segment "out-of-order" rather than a
        // retransmission when it leaves within one handshake RTT of the
        // newest segment: a SACK sender that keeps sending new data while
        // it repairs holes gets many such. Together the two are exactly
        // what the sender resent.
        let out_of_order = tshark(
            &file,
            &[
                "-Y",
                &format!("tcp.analysis.out_of_order && tcp.srcport == {BULK_PORT}"),
            ],
        )
        .lines()
        .count() as u64;
        println!("{name}: data segments {data_segments}, tshark: {theirs} retransmissions + {out_of_order} out-of-order; streamsim's wire analysis {ours}; the sender's TCP {sender}");
        assert_eq!(
            sender,
            theirs as u64 + out_of_order,
            "{name}: the sender's own count against tshark's retransmissions and out-of-order segments"
        );
        let malformed = tshark(
            &file,
            &["-Y", "_ws.malformed || _ws.expert.severity == \"error\""],
        );
        assert_eq!(
            malformed.lines().count(),
            0,
            "{name}: tshark finds malformed or erroneous packets:\n{malformed}"
        );
        let sack = tshark(
            &file,
            &[
                "-Y",
                &format!("tcp.dstport == {BULK_PORT} && tcp.options.sack_le"),
                "-T",
                "fields",
                "-e",
                "tcp.options.sack_le",
            ],
        );
        assert!(
            sack.lines().count() > 10,
            "{name}: tshark dissects the receiver's SACK blocks: {sack}"
        );
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

/// Continuity gaps by the letter of ISO/IEC 13818-1 §2.4.3.3, from
/// tshark's own dissection (`pid`, `cc`, `afc` per TS packet): the counter
/// advances only on packets that carry payload, so adaptation-only packets
/// (PCR carriers) are skipped; a repeat of the last counter is a legal
/// duplicate. Null packets (PID 0x1fff) have no counter.
fn spec_gaps(fields: &str) -> usize {
    let mut last: std::collections::BTreeMap<u32, u32> = Default::default();
    let mut gaps = 0;
    for line in fields.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let list = |i: usize| -> Vec<u32> {
            cols.get(i)
                .unwrap_or(&"")
                .split(',')
                .filter(|v| !v.is_empty())
                .map(|v| {
                    let v = v.trim_start_matches("0x");
                    u32::from_str_radix(v, if cols[i].contains("0x") { 16 } else { 10 }).unwrap()
                })
                .collect()
        };
        let (pids, ccs, afcs) = (list(0), list(1), list(2));
        for ((pid, cc), afc) in pids.into_iter().zip(ccs).zip(afcs) {
            let has_payload = afc & 0x1 != 0;
            if pid == 0x1fff || !has_payload {
                continue;
            }
            if let Some(prev) = last.insert(pid, cc) {
                if cc != (prev + 1) % 16 && cc != prev {
                    gaps += 1;
                }
            }
        }
    }
    gaps
}

#[test]
fn tshark_sees_the_ts_continuity_errors_we_count() {
    // The udp-ts loss scenario, captured: tshark decodes each viewer's port
    // as MPEG-TS, and its continuity-counter drops (`mp2t.cc.drop`) equal
    // our receivers' cc_errors, which also equal the gaps of tshark's own
    // dissection counted by the standard's rule. (The sender carries its
    // PCR on a PID of its own: a payload-less PCR packet on the video PID,
    // repeating a lost packet's counter, would hide that gap from tshark's
    // looser rule, which checks counters on such packets too.)
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/udp-ts-loss.toml");
    let scenario = streamsim::scenario::load(&path).unwrap_or_else(|d| panic!("{d}"));
    let options = streamsim::runner::RunOptions {
        capture: Some(CaptureFormat::Pcap),
        ..Default::default()
    };
    let out = streamsim::runner::run_scenario(&scenario, "", &options, |_| {}, || false).unwrap();
    let mut total = 0.0;
    for session in &scenario.sessions {
        let client = &session.clients[0];
        let capture = out.report.host(client).unwrap().capture.as_ref().unwrap();
        let file = temp_file(&format!("ts-{client}.pcap"), capture);
        let decode = format!("udp.port=={},mp2t", session.port);
        let drops = tshark(
            &file,
            &[
                "-d",
                &decode,
                "-Y",
                "mp2t.cc.drop",
                "-T",
                "fields",
                "-e",
                "mp2t.cc.drop",
            ],
        )
        .lines()
        .map(|l| l.split(',').filter(|f| !f.is_empty()).count())
        .sum::<usize>() as f64;
        let fields = tshark(
            &file,
            &[
                "-d", &decode, "-Y", "mp2t", "-T", "fields", "-e", "mp2t.pid", "-e", "mp2t.cc",
                "-e", "mp2t.afc",
            ],
        );
        assert!(
            fields.lines().count() > 1000,
            "{}: tshark dissected MPEG-TS",
            session.name
        );
        let by_the_standard = spec_gaps(&fields) as f64;
        let ours = out.summary.metrics[&format!("session.{}.cc_errors", session.name)].value;
        let name = &session.name;
        assert_eq!(
            ours, by_the_standard,
            "{name}: ours {ours}, tshark's packets {by_the_standard}"
        );
        assert_eq!(drops, ours, "{name}: tshark cc.drop {drops}, ours {ours}");
        total += ours;
        std::fs::remove_file(&file).unwrap();
    }
    assert!(total >= 10.0, "the lossy links caused CC errors: {total}");
}
