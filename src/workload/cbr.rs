//! UDP constant-bit-rate stream: the server sends fixed-size datagrams at a
//! steady rate, the client measures loss and one-way delay.
//!
//! Each datagram carries a sequence number and its send time (simulated
//! nanoseconds), so the client's delay figures need no clock agreement beyond
//! the simulation's single clock. The server stops one second before the run
//! ends (in runs longer than two seconds), so that every datagram sent is
//! either received or lost by the end: none is still in flight.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::net::link::{LinkConfig, LinkStats};
use crate::net::nic::duration_to_ns;
use crate::net::{Net, NetUdp, SimNet};
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

/// What one CBR receiver saw.
#[derive(Clone, Debug)]
pub struct CbrReceiverStats {
    /// Datagrams received (duplicates excluded).
    pub received: u64,
    /// Payload bytes received (duplicates excluded).
    pub bytes: u64,
    /// Datagrams that arrived after a later-sent one.
    pub reordered: u64,
    /// Duplicate datagrams (dropped).
    pub duplicates: u64,
    /// One-way delay of received datagrams, in microseconds.
    pub delay_us: Histogram<u64>,
    /// RFC 3550 interarrival jitter estimate, in seconds.
    pub jitter_s: f64,
    highest: Option<u64>,
    last_transit: Option<Duration>,
    seen: Vec<u64>,
}

impl Default for CbrReceiverStats {
    fn default() -> Self {
        CbrReceiverStats {
            received: 0,
            bytes: 0,
            reordered: 0,
            duplicates: 0,
            // 1 µs to 1 hour at 3 significant digits.
            delay_us: Histogram::new_with_bounds(1, 3_600_000_000, 3)
                .expect("valid histogram bounds"),
            jitter_s: 0.0,
            highest: None,
            last_transit: None,
            seen: Vec::new(),
        }
    }
}

impl CbrReceiverStats {
    /// Records datagram `seq` of `len` payload bytes, which took `delay`.
    pub fn record(&mut self, seq: u64, len: usize, delay: Duration) {
        let Ok(index) = usize::try_from(seq) else {
            return;
        };
        let (word, bit) = (index / 64, index % 64);
        if self.seen.len() <= word {
            self.seen.resize(word + 1, 0);
        }
        if self.seen[word] & (1 << bit) != 0 {
            self.duplicates += 1;
            return;
        }
        self.seen[word] |= 1 << bit;
        self.received += 1;
        self.bytes += len as u64;
        match self.highest {
            Some(h) if seq < h => self.reordered += 1,
            _ => self.highest = Some(seq),
        }
        self.delay_us
            .saturating_record(u64::try_from(delay.as_micros()).unwrap_or(u64::MAX));
        // RFC 3550 §6.4.1: J += (|D| − J) / 16, D the change in transit time.
        if let Some(last) = self.last_transit {
            let d = delay.abs_diff(last).as_secs_f64();
            self.jitter_s += (d - self.jitter_s) / 16.0;
        }
        self.last_transit = Some(delay);
    }

    /// True when datagram `seq` arrived.
    pub fn has(&self, seq: u64) -> bool {
        usize::try_from(seq).is_ok_and(|i| {
            self.seen
                .get(i / 64)
                .is_some_and(|w| w & (1 << (i % 64)) != 0)
        })
    }

    /// The longest run of consecutive datagrams among the first `sent` that
    /// never arrived.
    pub fn max_loss_burst(&self, sent: u64) -> u64 {
        let (mut longest, mut run) = (0u64, 0u64);
        for seq in 0..sent {
            run = if self.has(seq) { 0 } else { run + 1 };
            longest = longest.max(run);
        }
        longest
    }
}

/// Time between datagrams of `payload` bytes (at least the 16-byte header)
/// sent at `bitrate_bps`.
pub fn cbr_interval(bitrate_bps: u64, payload: usize) -> Duration {
    Duration::from_secs_f64(payload.max(HEADER) as f64 * 8.0 / bitrate_bps.max(1) as f64)
}

/// Sends a constant-bit-rate stream of `payload`-byte datagrams at
/// `bitrate_bps` to `port` on every host in `clients`, from now until
/// simulated time `stop`; counts datagrams sent (per destination) in `sent`.
/// Each datagram starts with its sequence number and send time.
pub async fn cbr_sender(
    net: SimNet,
    clients: Vec<String>,
    port: u16,
    bitrate_bps: u64,
    payload: usize,
    stop: Duration,
    sent: Rc<Cell<u64>>,
) {
    let payload = payload.max(HEADER);
    let interval = cbr_interval(bitrate_bps, payload);
    let Ok(socket) = net.bind_udp(SocketAddr::from(([0, 0, 0, 0], 0))).await else {
        return;
    };
    let mut targets = Vec::new();
    for client in &clients {
        match net.resolve(client, port).await {
            Ok(addr) => targets.push(addr),
            Err(_) => return,
        }
    }
    let mut datagram = vec![0x47_u8; payload];
    let start = tokio::time::Instant::now();
    for seq in 0u64.. {
        if net.now() >= stop {
            return;
        }
        datagram[..8].copy_from_slice(&seq.to_be_bytes());
        datagram[8..16].copy_from_slice(&duration_to_ns(net.now()).to_be_bytes());
        for target in &targets {
            if socket.send_to(&datagram, *target).await.is_err() {
                return;
            }
        }
        sent.set(sent.get() + 1);
        let next = interval.as_nanos().saturating_mul(u128::from(seq) + 1);
        let next = Duration::from_nanos(u64::try_from(next).unwrap_or(u64::MAX));
        tokio::time::sleep_until(start + next).await;
    }
}

/// Receives a CBR stream on `port`, recording every datagram in `stats`.
pub async fn cbr_receiver(net: SimNet, port: u16, stats: Rc<RefCell<CbrReceiverStats>>) {
    let Ok(socket) = net.bind_udp(SocketAddr::from(([0, 0, 0, 0], port))).await else {
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
        stats.borrow_mut().record(seq, n, delay);
    }
}

/// When a stream lasting the whole of `duration` should stop sending: one
/// second before the end in runs longer than two seconds, so that nothing
/// is in flight when the run ends.
pub fn default_stop(duration: Duration) -> Duration {
    let drain = Duration::from_secs(1);
    if duration > 2 * drain {
        duration - drain
    } else {
        duration
    }
}

/// Runs a UDP stream; `on_step` sees the run's progress.
pub fn run_cbr(spec: &CbrSpec, on_step: impl FnMut(Progress)) -> Result<CbrResult, SimError> {
    let topology = Topology::pair("server", "client", spec.down.clone(), spec.up.clone());
    let sent = Rc::new(Cell::new(0u64));
    let stats = Rc::new(RefCell::new(CbrReceiverStats::default()));
    let stop_at = default_stop(spec.sim.duration);
    let (bitrate, payload) = (spec.bitrate_bps, spec.payload);
    let mut harness = Harness::new(spec.sim.clone(), topology)?;
    let counter = sent.clone();
    harness.app("server", move |net| {
        let clients = vec!["client".to_owned()];
        cbr_sender(
            net,
            clients,
            CBR_PORT,
            bitrate,
            payload,
            stop_at,
            counter.clone(),
        )
    })?;
    let rx = stats.clone();
    harness.app("client", move |net| cbr_receiver(net, CBR_PORT, rx.clone()))?;
    let report = harness.run(on_step)?;
    let seen = stats.take();
    Ok(CbrResult {
        sent: sent.get(),
        received: seen.received,
        reordered: seen.reordered,
        delay_us: seen.delay_us,
        down_link: report.link("server->client").cloned().unwrap_or_default(),
        report,
    })
}
