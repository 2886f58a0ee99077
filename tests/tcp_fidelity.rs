//! TCP fidelity: bulk-transfer goodput against ns-3 and against the PFTK
//! model of Reno.
//!
//! The workload (the ns-3 reference's): a 60 s bulk transfer over 10 Mbit/s
//! with 25 ms one-way delay each way, a 42-packet drop-tail queue and
//! Bernoulli loss on the data direction only, 4 MiB buffers. The mean over
//! 10 seeds is compared with:
//!
//! * **ns-3 3.37** (TcpNewReno with SACK and PRR, MinRto 1 s, delayed ACK
//!   every 2nd segment or 200 ms, timestamps, IW10): our `ns3` profile,
//!   which is that configuration, must be within ±10% at every loss rate.
//! * **PFTK** (Padhye, Firoiu, Towsley, Kurose 1998), the throughput of a
//!   Reno sender with timeouts: within ±25% for p ≤ 1%, an independent check
//!   that the TCP is the TCP it claims to be. Above that it is printed only:
//!   PFTK charges a timeout for most losses in a small window, which SACK
//!   recovery avoids (ns-3 itself is 1.29× PFTK at 2% and 1.85× at 5%).
//! * our `linux` profile (CUBIC, RACK-TLP, 200 ms minimum RTO, 40 ms delayed
//!   ACKs): printed beside, and at every p > 0 at least the `ns3` profile's
//!   goodput (it recovers faster).
//! * the `ns3` profile with `congestion = "cubic"` against ns-3's TcpCubic:
//!   within ±15% for p ≤ 2% (5% is printed: ns-3's own spread there is
//!   wide).

use std::time::Duration;

use streamsim::net::tcp::CongestionKind;
use streamsim::net::{HostTcp, TcpProfile};
use streamsim::sim::SimConfig;
use streamsim::workload::{ns3_tcp, run_bulk, BulkSpec};

/// (loss probability, ns-3 NewReno mean goodput in Mbit/s)
const NS3: [(f64, f64); 6] = [
    (0.0, 9.595),
    (0.001, 5.678),
    (0.005, 2.321),
    (0.01, 1.476),
    (0.02, 0.953),
    (0.05, 0.485),
];

/// ns-3 TcpCubic's mean goodput in Mbit/s at the same loss rates.
const NS3_CUBIC: [f64; 6] = [9.616, 5.418, 1.850, 1.174, 0.749, 0.645];

const SEEDS: u64 = 10;
/// TCP payload per segment: MTU 1500 − 40 bytes of headers − 12 of
/// timestamps.
const MSS_BYTES: f64 = 1448.0;

/// PFTK's Reno throughput in Mbit/s: loss `p`, round trip `rtt` s, first
/// timeout `t0` s, `b` segments acknowledged per ACK.
fn pftk_mbps(p: f64, rtt: f64, t0: f64, b: f64) -> f64 {
    let fast = rtt * (2.0 * b * p / 3.0).sqrt();
    let timeouts = t0 * (3.0 * (3.0 * b * p / 8.0).sqrt()).min(1.0) * p * (1.0 + 32.0 * p * p);
    MSS_BYTES * 8.0 / (fast + timeouts) / 1e6
}

fn goodput_mbps(tcp: &HostTcp, loss: f64, seed: u64) -> f64 {
    let down = format!("delay 25ms loss {}% rate 10mbit limit 42", loss * 100.0)
        .parse()
        .unwrap();
    let up = "delay 25ms".parse().unwrap();
    let sim = SimConfig {
        seed,
        duration: Duration::from_secs(60),
        tcp: tcp.clone(),
        ..SimConfig::default()
    };
    run_bulk(&BulkSpec { sim, down, up }, |_| {})
        .unwrap()
        .goodput_bps
        / 1e6
}

/// Goodput of every seed for each loss rate, runs spread over the cores.
fn measure(tcp: &HostTcp) -> Vec<Vec<f64>> {
    let jobs: Vec<(usize, u64)> = (0..NS3.len())
        .flat_map(|i| (1..=SEEDS).map(move |s| (i, s)))
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    let mut results = vec![Vec::new(); NS3.len()];
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let mine: Vec<(usize, u64)> =
                    jobs.iter().copied().skip(t).step_by(threads).collect();
                scope.spawn(move || {
                    mine.into_iter()
                        .map(|(i, s)| (i, goodput_mbps(tcp, NS3[i].0, s)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (i, g) in h.join().unwrap() {
                results[i].push(g);
            }
        }
    });
    results
}

fn mean(g: &[f64]) -> f64 {
    g.iter().sum::<f64>() / g.len() as f64
}

fn sd(g: &[f64]) -> f64 {
    let m = mean(g);
    (g.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (g.len() as f64 - 1.0)).sqrt()
}

#[test]
fn fidelity_tcp_ns3_profile_vs_ns3_and_pftk_and_linux_profile() {
    let ns3 = measure(&ns3_tcp());
    let mut linux_tcp = HostTcp::profile(TcpProfile::Linux);
    (linux_tcp.conn.send_buffer, linux_tcp.conn.recv_buffer) = (4 << 20, 4 << 20);
    let linux = measure(&linux_tcp);
    let mut cubic_tcp = ns3_tcp();
    cubic_tcp.conn.congestion = CongestionKind::Cubic;
    let cubic = measure(&cubic_tcp);
    // RTT without queueing: 2 × 25 ms plus one 1500-byte packet at 10 Mbit/s.
    let rtt = 0.050 + 1500.0 * 8.0 / 10e6;
    println!(
        "loss p   ns3 profile (sd)   ns-3    ratio   PFTK   ratio   linux profile (sd)  / ns3 profile   ns3+cubic  ns-3 Cubic  ratio"
    );
    let mut failures = Vec::new();
    for (i, &(p, reference)) in NS3.iter().enumerate() {
        let (m, l, c) = (mean(&ns3[i]), mean(&linux[i]), mean(&cubic[i]));
        let cubic_ratio = c / NS3_CUBIC[i];
        let ratio = m / reference;
        let pftk = (p > 0.0).then(|| pftk_mbps(p, rtt, 1.0, 2.0));
        println!(
            "{p:<8} {m:>7.3} ({:.3})    {reference:>6.3}  {ratio:>5.2}  {}   {l:>7.3} ({:.3})      {:>5.2}          {c:>7.3}    {:>7.3}  {cubic_ratio:>5.2}",
            sd(&ns3[i]),
            match pftk {
                Some(pf) => format!("{pf:>6.3}  {:>5.2}", m / pf),
                None => "     –      –".to_owned(),
            },
            sd(&linux[i]),
            l / m,
            NS3_CUBIC[i],
        );
        // ns-3's Cubic at 5% has a wide spread (sd 0.29: three of ten runs
        // blow their window up after a timeout): printed only.
        if p <= 0.02 && !(0.85..=1.15).contains(&cubic_ratio) {
            failures.push(format!(
                "p = {p}: the ns3 profile with CUBIC gives {c:.3} Mbit/s, {cubic_ratio:.2}× ns-3's Cubic (±15%)"
            ));
        }
        if !(0.9..=1.1).contains(&ratio) {
            failures.push(format!(
                "p = {p}: the ns3 profile's mean {m:.3} Mbit/s is {ratio:.2}× ns-3's {reference} (±10%)"
            ));
        }
        if let Some(pf) = pftk.filter(|_| p <= 0.01) {
            let r = m / pf;
            if !(0.75..=1.25).contains(&r) {
                failures.push(format!(
                    "p = {p}: the ns3 profile's mean {m:.3} Mbit/s is {r:.2}× PFTK's Reno (±25%)"
                ));
            }
        }
        if p > 0.0 && l < m {
            failures.push(format!(
                "p = {p}: the linux profile's {l:.3} Mbit/s is below the ns3 profile's {m:.3}"
            ));
        }
    }
    assert!(failures.is_empty(), "TCP fidelity: {failures:#?}");
}
/// Cells where the reference itself stays below 90% of the link, with what
/// it reaches there: (congestion, Mbit/s, RTT ms, share of the link).
///
/// At 2 Mbit/s and 20 ms the bandwidth-delay product is 3.3 packets and the
/// queue 4: an AIMD window halves from 7.3 packets to 3.7, so every loss
/// leaves the link close to idle for a round trip while fast recovery
/// repairs it. ns-3 3.37's NewReno on the same path (`--bw=2Mbps
/// --delay=10ms --queue=3p`: ns-3 does not count the packet on the wire
/// as queued, streamsim does, as netem does) reaches 1.639 Mbit/s, 0.820 of
/// the link; the `ns3` profile reaches 1.633 (0.996× ns-3). Reno and NewReno
/// there must reach 95% of ns-3's figure instead of 90% of the link.
const REFERENCE_BELOW_90: [(CongestionKind, u64, u64, f64); 2] = [
    (CongestionKind::Reno, 2, 20, 0.820),
    (CongestionKind::NewReno, 2, 20, 0.820),
];

/// At 0% loss with a drop-tail queue of one bandwidth-delay product, every
/// profile with every congestion controller fills at least 90% of the link
/// over 60 s: slow start must not end in a timeout that costs seconds
/// (see [`REFERENCE_BELOW_90`] for the one cell where the reference cannot).
#[test]
fn fidelity_tcp_slow_start_fills_the_link() {
    let rates_mbit = [2u64, 10, 20, 50];
    let rtts_ms = [20u64, 100, 200];
    let mut jobs = Vec::new();
    for profile in [TcpProfile::Linux, TcpProfile::Ns3] {
        for cc in [
            CongestionKind::Reno,
            CongestionKind::NewReno,
            CongestionKind::Cubic,
        ] {
            for &rate in &rates_mbit {
                for &rtt in &rtts_ms {
                    jobs.push((profile, cc, rate, rtt));
                }
            }
        }
    }
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    let results: Vec<(TcpProfile, CongestionKind, u64, u64, f64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let mine: Vec<_> = jobs.iter().copied().skip(t).step_by(threads).collect();
                scope.spawn(move || {
                    mine.into_iter()
                        .map(|(profile, cc, rate, rtt)| {
                            (profile, cc, rate, rtt, fill(profile, cc, rate, rtt))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut failures = Vec::new();
    println!("profile  congestion  Mbit/s  RTT ms  goodput / link");
    for (profile, cc, rate, rtt, share) in results {
        println!(
            "{:<8} {:<11} {rate:>6}  {rtt:>6}  {share:>6.3}",
            profile.name(),
            format!("{cc:?}")
        );
        let floor = REFERENCE_BELOW_90
            .iter()
            .find(|r| (r.0, r.1, r.2) == (cc, rate, rtt))
            .map_or(0.9, |r| 0.95 * r.3);
        if share < floor {
            failures.push(format!(
                "{} {cc:?} at {rate} Mbit/s, {rtt} ms RTT: {share:.3} of the link (floor {floor:.3})",
                profile.name()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "slow start wrecks itself: {failures:#?}"
    );
}

/// Goodput over 60 s as a share of the link rate, at 0% loss with a queue
/// of one bandwidth-delay product (at least 2 packets).
fn fill(profile: TcpProfile, cc: CongestionKind, rate_mbit: u64, rtt_ms: u64) -> f64 {
    let bdp_packets = (rate_mbit * 1_000_000 * rtt_ms / 1000 / 8)
        .div_ceil(1500)
        .max(2);
    let one_way = rtt_ms as f64 / 2.0;
    let down = format!("delay {one_way}ms rate {rate_mbit}mbit limit {bdp_packets}")
        .parse()
        .unwrap();
    let up = format!("delay {one_way}ms").parse().unwrap();
    let mut tcp = HostTcp::profile(profile);
    tcp.conn.congestion = cc;
    let sim = SimConfig {
        seed: 1,
        duration: Duration::from_secs(60),
        tcp,
        ..SimConfig::default()
    };
    let r = run_bulk(&BulkSpec { sim, down, up }, |_| {}).unwrap();
    r.goodput_bps / (rate_mbit as f64 * 1e6)
}
