//! UDP constant-bit-rate stream: the server sends fixed-size datagrams at a
//! steady rate, the client measures loss and one-way delay.
//!
//! Each datagram carries a sequence number and its send time (simulated
//! nanoseconds), so the client's delay figures need no clock agreement beyond
//! the simulation's single clock. The server stops one second before the run
//! ends (in runs longer than two seconds), so that every datagram sent is
//! either received or lost by the end: none is still in flight.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::net::link::{LinkConfig, LinkStats};
use crate::net::nic::duration_to_ns;
use crate::net::{Net, NetUdp};
use crate::sim::{Harness, Progress, RunReport, SimConfig, SimError, Topology};

/// Port the client receives the stream on.
pub const CBR_PORT: u16 = 5004;

/// Bytes of the header each datagram starts with: sequence (u64), send time (u64 ns).
const HEADER: usize = 16;

/// A UDP stream from `server` to `client`.
#[derive(Clone, Debug)]
pub struct CbrSpec {
    /// Simulation settings.
    pub sim: SimConfig,
    /// The stream's direction, server → client.
    pub down: LinkConfig,
    /// The reverse direction.
    pub up: LinkConfig,
    /// Stream bitrate of UDP payload, in bit/s.
    pub bitrate_bps: u64,
    /// UDP payload bytes per datagram (at least 16).
    pub payload: usize,
}

/// What the client saw.
#[derive(Clone, Debug)]
pub struct CbrResult {
    /// Datagrams the server sent.
    pub sent: u64,
    /// Datagrams the client received (duplicates excluded).
    pub received: u64,
    /// Datagrams that arrived after a later-sent one.
    pub reordered: u64,
    /// One-way delay of received datagrams, in microseconds.
    pub delay_us: Histogram<u64>,
    /// The stream direction's link counters.
    pub down_link: LinkStats,
    /// The full run report.
    pub report: RunReport,
}

impl CbrResult {
    /// Fraction of sent datagrams that never arrived.
    pub fn loss_rate(&self) -> f64 {
        if self.sent == 0 {
            return 0.0;
        }
        1.0 - self.received as f64 / self.sent as f64
    }
}

#[derive(Default)]
struct Seen {
    sent: u64,
    received: u64,
    reordered: u64,
    highest: Option<u64>,
    seen: Vec<bool>,
    delay_us: Option<Histogram<u64>>,
}

/// Runs a UDP stream; `on_step` sees the run's progress.
pub fn run_cbr(spec: &CbrSpec, on_step: impl FnMut(Progress)) -> Result<CbrResult, SimError> {
    let topology = Topology::pair("server", "client", spec.down.clone(), spec.up.clone());
    let seen = Rc::new(RefCell::new(Seen {
        // 1 µs to 1 hour at 3 significant digits.
        delay_us: Some(
            Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds"),
        ),
        ..Seen::default()
    }));
    let payload = spec.payload.max(HEADER);
    let drain = Duration::from_secs(1);
    let stop_at = if spec.sim.duration > 2 * drain {
        spec.sim.duration - drain
    } else {
        spec.sim.duration
    };
    let interval = Duration::from_secs_f64(payload as f64 * 8.0 / spec.bitrate_bps.max(1) as f64);
    let mut harness = Harness::new(spec.sim.clone(), topology)?;
    let tx = seen.clone();
    harness.app("server", move |net| {
        let tx = tx.clone();
        async move {
            let Ok(socket) = net.bind_udp(SocketAddr::from(([0, 0, 0, 0], 0))).await else {
                return;
            };
            let Ok(client) = net.resolve("client", CBR_PORT).await else {
                return;
            };
            let mut datagram = vec![0x47_u8; payload];
            let start = tokio::time::Instant::now();
            for seq in 0u64.. {
                if net.now() >= stop_at {
                    return;
                }
                datagram[..8].copy_from_slice(&seq.to_be_bytes());
                datagram[8..16].copy_from_slice(&duration_to_ns(net.now()).to_be_bytes());
                if socket.send_to(&datagram, client).await.is_err() {
                    return;
                }
                tx.borrow_mut().sent += 1;
                tokio::time::sleep_until(
                    start + interval * u32::try_from(seq + 1).unwrap_or(u32::MAX),
                )
                .await;
            }
        }
    })?;
    let rx = seen.clone();
    harness.app("client", move |net| {
        let rx = rx.clone();
        async move {
            let Ok(socket) = net
                .bind_udp(SocketAddr::from(([0, 0, 0, 0], CBR_PORT)))
                .await
            else {
                return;
            };
            let mut buf = vec![0u8; 65_536];
            while let Ok((n, _)) = socket.recv_from(&mut buf).await {
                if n < HEADER {
                    continue;
                }
                let seq = u64::from_be_bytes(buf[..8].try_into().expect("8 bytes"));
                let sent_ns = u64::from_be_bytes(buf[8..16].try_into().expect("8 bytes"));
                let delay = net.now().saturating_sub(Duration::from_nanos(sent_ns));
                rx.borrow_mut().record(seq, delay);
            }
        }
    })?;
    let report = harness.run(on_step)?;
    let mut seen = seen.take();
    Ok(CbrResult {
        sent: seen.sent,
        received: seen.received,
        reordered: seen.reordered,
        delay_us: seen.delay_us.take().expect("set at construction"),
        down_link: report.link("server->client").cloned().unwrap_or_default(),
        report,
    })
}

impl Seen {
    fn record(&mut self, seq: u64, delay: Duration) {
        let Ok(index) = usize::try_from(seq) else {
            return;
        };
        if self.seen.len() <= index {
            self.seen.resize(index + 1, false);
        }
        if std::mem::replace(&mut self.seen[index], true) {
            return; // a duplicate
        }
        self.received += 1;
        match self.highest {
            Some(h) if seq < h => self.reordered += 1,
            _ => self.highest = Some(seq),
        }
        if let Some(hist) = &mut self.delay_us {
            hist.saturating_record(u64::try_from(delay.as_micros()).unwrap_or(u64::MAX));
        }
    }
}
