//! `streamsim demo` (the transport demo) and `streamsim bench` (simulation
//! and decode speed).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::media::file_source::FileSource;
use crate::media::Source;
use crate::net::link::LinkConfig;
use crate::net::pcap::CaptureFormat;
use crate::net::{HostTcp, TcpProfile};
use crate::sim::{Progress, SimConfig};
use crate::workload::{run_bulk, run_cbr, BulkSpec, CbrSpec};

/// The demo's data direction: 10 Mbit/s, 25 ms, 1% loss, a 42-packet queue.
fn demo_links() -> Result<(LinkConfig, LinkConfig)> {
    let down = "delay 25ms loss 1% rate 10mbit limit 42".parse()?;
    let up = "delay 25ms".parse()?;
    Ok((down, up))
}

fn progress_printer(label: &'static str) -> impl FnMut(Progress) {
    let tty = std::io::stderr().is_terminal();
    let mut last = Duration::ZERO;
    move |p: Progress| {
        if tty && (p.elapsed >= last + Duration::from_millis(500) || p.elapsed == p.duration) {
            last = p.elapsed;
            eprint!(
                "\r{label}: {:>5.1} s / {:.0} s simulated",
                p.elapsed.as_secs_f64(),
                p.duration.as_secs_f64()
            );
            if p.elapsed == p.duration {
                eprintln!();
            }
        }
    }
}

/// `--seconds` as a duration: like a scenario's `duration`, above 0 and
/// at most 24 h; otherwise the message printed.
fn seconds_arg(seconds: u64) -> Result<Duration, String> {
    let max = crate::scenario::MAX_DURATION.as_secs();
    if (1..=max).contains(&seconds) {
        Ok(Duration::from_secs(seconds))
    } else {
        Err(format!(
            "error: --seconds {seconds}: must be between 1 and {max} (24 h, the longest run)"
        ))
    }
}

pub(super) fn demo(seed: u64, seconds: u64, pcap: Option<PathBuf>) -> Result<i32> {
    if let Err(message) = seconds_arg(seconds) {
        eprintln!("{message}");
        return Ok(2);
    }
    let (down, up) = demo_links()?;
    let sim = SimConfig {
        seed,
        duration: Duration::from_secs(seconds),
        capture: pcap.as_ref().map(|_| CaptureFormat::PcapNg),
        capture_drops: true,
        ..SimConfig::default()
    };
    println!("streamsim transport demo, seed {seed}, {seconds} s simulated");
    println!("link server->client: {down}");
    println!("link client->server: {up}\n");

    let bulk = run_bulk(
        &BulkSpec {
            sim: sim.clone(),
            down: down.clone(),
            up: up.clone(),
        },
        progress_printer("tcp bulk"),
    )?;
    let f = &bulk.sender_flow;
    println!("TCP bulk transfer (Cubic)");
    println!(
        "  goodput            {:>10.3} Mbit/s",
        bulk.goodput_bps / 1e6
    );
    println!("  segments sent      {:>10}", f.segments);
    println!(
        "  retransmitted      {:>10}  segments; fast retransmits {}, retransmission timeouts {}",
        f.retransmitted_segments, f.fast_retransmits, f.retransmission_timeouts
    );
    print_link(&bulk.down_link);

    let cbr = run_cbr(
        &CbrSpec {
            sim: sim.clone(),
            down,
            up,
            bitrate_bps: 5_000_000,
            payload: 1316,
        },
        progress_printer("udp stream"),
    )?;
    let d = &cbr.delay_us;
    println!("\nUDP stream, 5 Mbit/s of 1316-byte datagrams");
    println!("  sent / received    {:>10} / {}", cbr.sent, cbr.received);
    println!("  loss               {:>10.2} %", cbr.loss_rate() * 100.0);
    println!(
        "  one-way delay      {:>10.2} ms mean, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        d.mean() / 1e3,
        d.value_at_quantile(0.5) as f64 / 1e3,
        d.value_at_quantile(0.99) as f64 / 1e3,
        d.max() as f64 / 1e3
    );
    print_link(&cbr.down_link);

    if let Some(dir) = pcap {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for (label, report) in [("tcp", &bulk.report), ("udp", &cbr.report)] {
            for host in &report.hosts {
                if let Some(bytes) = &host.capture {
                    let path = dir.join(format!("{label}-{}.pcapng", host.name));
                    std::fs::write(&path, bytes)
                        .with_context(|| format!("writing {}", path.display()))?;
                    println!("capture: {}", path.display());
                }
            }
        }
    }
    Ok(0)
}

fn print_link(s: &crate::net::link::LinkStats) {
    println!(
        "  link server->client offered {}, delivered {}, dropped: loss {}, queue {}, outage {}; queue delay p99 {:.2} ms",
        s.offered, s.delivered, s.dropped_loss, s.dropped_queue, s.dropped_outage,
        s.queue_delay_us.value_at_quantile(0.99) as f64 / 1e3
    );
}

/// Times each reference workload `RUNS` times and reports the median run.
pub(super) fn bench(seconds: u64) -> Result<i32> {
    // First, while the process is small: the peak it reports cannot fall
    // below what earlier rows left resident.
    let memory = bench_capture_memory()?;
    const RUNS: usize = 3;
    let duration = match seconds_arg(seconds) {
        Ok(d) => d,
        Err(message) => {
            eprintln!("{message}");
            return Ok(2);
        }
    };
    println!(
        "{:<40} {:>10} {:>10} {:>12}   (median of {RUNS} runs)",
        "workload", "sim s", "wall s", "sim s/wall s"
    );
    for profile in TcpProfile::ALL {
        for loss in ["0%", "1%"] {
            let label = format!("tcp bulk 10 Mbit/s, {loss} loss, {}", profile.name());
            let down: LinkConfig =
                format!("delay 25ms loss {loss} rate 10mbit limit 42").parse()?;
            let up: LinkConfig = "delay 25ms".parse()?;
            let mut tcp = HostTcp::profile(profile);
            (tcp.conn.send_buffer, tcp.conn.recv_buffer) = (4 << 20, 4 << 20);
            let spec = BulkSpec {
                sim: SimConfig {
                    duration,
                    tcp,
                    ..SimConfig::default()
                },
                down,
                up,
            };
            let (wall, goodput) = median_run(RUNS, || Ok(run_bulk(&spec, |_| {})?.goodput_bps))?;
            report_speed(
                &label,
                duration,
                wall,
                &format!("goodput {:.3} Mbit/s", goodput / 1e6),
            );
        }
    }
    let down = "delay 25ms 10ms distribution uniform loss 1% rate 10mbit".parse()?;
    let up = "delay 25ms".parse()?;
    let spec = CbrSpec {
        sim: SimConfig {
            duration,
            ..SimConfig::default()
        },
        down,
        up,
        bitrate_bps: 5_000_000,
        payload: 1316,
    };
    let (wall, loss) = median_run(RUNS, || Ok(run_cbr(&spec, |_| {})?.loss_rate()))?;
    report_speed(
        "udp stream 5 Mbit/s, 1% loss",
        duration,
        wall,
        &format!("loss {:.2} %", loss * 100.0),
    );
    bench_udp_ts(duration, RUNS)?;
    bench_decode()?;
    print!("{memory}");
    Ok(0)
}

/// The first media protocol at a small scale: the fixture clip (about 0.9
/// Mbit/s of H.264 + AAC) as MPEG-TS over UDP to ten clients, each behind
/// its own 20 ms, 1% loss link.
fn bench_udp_ts(duration: Duration, runs: usize) -> Result<()> {
    let text = format!(
        r#"
name = "bench-udp-ts"
duration = "{}s"
[topology]
clients = 10
[network]
delay = "20ms"
[network.down]
loss = "1%"
rate = "10mbit"
[media]
file = "fixtures/clip.mp4"
[[session]]
name = "tv"
protocol = "udp-ts"
"#,
        duration.as_secs()
    );
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = crate::scenario::parse_str("bench-udp-ts", &text, base)
        .map_err(|d| anyhow::anyhow!("{d}"))?;
    let options = crate::runner::RunOptions::default();
    let (wall, presented) = median_run(runs, || {
        let out = crate::runner::run_scenario(&scenario, "", &options, |_| {}, || false)?;
        let metric = |name: &str| out.summary.metrics.get(name).map_or(0.0, |m| m.value);
        Ok(metric("session.tv.frames_presented"))
    })?;
    report_speed(
        "udp-ts 0.9 Mbit/s, 10 clients, 1%",
        duration,
        wall,
        &format!("{presented:.0} frames presented"),
    );
    Ok(())
}

/// The capture benchmark: a 600 s TCP download over 10 Mbit/s, every
/// packet captured at both hosts (about 1.5 GB of pcap).
const CAPTURE_SCENARIO: &str = "name = \"bench-capture\"
duration = \"600s\"
[network]
delay = \"10ms\"
rate = \"10mbit\"
[[session]]
protocol = \"tcp-bulk\"
";

/// Peak memory of a run with `--pcap` (captures stream to disk, so it
/// stays far below the captures' size). Linux only: the peak is reset
/// through `/proc/self/clear_refs` and read from `VmHWM`.
fn bench_capture_memory() -> Result<String> {
    let peak_kib = || -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    if std::fs::write("/proc/self/clear_refs", "5").is_err() || peak_kib().is_none() {
        return Ok("\npeak memory with --pcap: not measured (needs Linux /proc)\n".to_owned());
    }
    let scenario = crate::scenario::parse_str("bench", CAPTURE_SCENARIO, Path::new("."))
        .map_err(|d| anyhow::anyhow!("{d}"))?;
    let dir = std::env::temp_dir().join(format!("streamsim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let options = crate::runner::RunOptions {
        capture: Some(CaptureFormat::Pcap),
        capture_dir: Some(dir.clone()),
        ..crate::runner::RunOptions::default()
    };
    let started = Instant::now();
    let result = crate::runner::run_scenario(&scenario, "", &options, |_| {}, || false)
        .map_err(anyhow::Error::from)
        .and_then(|output| Ok(crate::runner::write_report(&dir, &output)?));
    let wall = started.elapsed();
    let bytes: u64 = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".pcap"))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    let peak = peak_kib().unwrap_or(0) as f64 / 1024.0;
    let mut out = format!(
        "\n{:<40} {:>10} {:>10} {:>12}\n",
        "memory with --pcap", "sim s", "wall s", "peak MiB"
    );
    out += &format!(
        "{:<40} {:>10.1} {:>10.3} {:>12.1}   (captures {:.0} MB, streamed to disk)\n",
        "tcp bulk 10 Mbit/s, 2 hosts",
        600.0,
        wall.as_secs_f64(),
        peak,
        bytes as f64 / 1e6
    );
    Ok(out)
}

/// Decode speed of the decode check: the fixture's 300 frames of 640x360
/// H.264 through one single-threaded decoder, median of three runs.
fn bench_decode() -> Result<()> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/clip.mp4");
    let source = FileSource::open(&path, Duration::ZERO)
        .with_context(|| format!("opening {}", path.display()))?;
    let track = source
        .tracks()
        .iter()
        .find(|t| t.codec.is_video())
        .context("the fixture has a video track")?
        .clone();
    let units: Vec<_> = source
        .access_units()
        .iter()
        .filter(|a| a.track == track.id)
        .cloned()
        .collect();
    let (wall, frames) = median_run(3, || {
        Ok(crate::media::decode::bench_decode(&track, &units)? as f64)
    })?;
    let fps = frames / wall.as_secs_f64().max(1e-9);
    println!(
        "\n{:<40} {:>10} {:>10} {:>12}",
        "decode check, 640x360 H.264", "frames", "wall s", "frames/s"
    );
    println!(
        "{:<40} {:>10.0} {:>10.3} {:>12.0}   (one core)",
        "fixtures/clip.mp4",
        frames,
        wall.as_secs_f64(),
        fps
    );
    Ok(())
}

/// Runs `f` `runs` times; returns the median wall time and the last result
/// (every run computes the same result: the simulation is deterministic).
fn median_run(runs: usize, mut f: impl FnMut() -> Result<f64>) -> Result<(Duration, f64)> {
    let mut walls = Vec::with_capacity(runs);
    let mut value = 0.0;
    for _ in 0..runs {
        let started = Instant::now();
        value = f()?;
        walls.push(started.elapsed());
    }
    walls.sort();
    Ok((walls[walls.len() / 2], value))
}

fn report_speed(label: &str, simulated: Duration, wall: Duration, note: &str) {
    let factor = simulated.as_secs_f64() / wall.as_secs_f64().max(1e-9);
    println!(
        "{label:<40} {:>10.1} {:>10.3} {:>11.0}×   ({note})",
        simulated.as_secs_f64(),
        wall.as_secs_f64(),
        factor
    );
}
