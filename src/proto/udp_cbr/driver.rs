//! The constant-bit-rate sender and receiver, generic over [`Net`].
//!
//! Each datagram starts with its sequence number (u64) and its send time
//! (u64, ns of the network's clock), so the receiver's delay figures need
//! no clock agreement beyond the simulation's single clock.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::net::{Net, NetUdp};

/// Bytes of the header each datagram starts with: sequence, send time.
pub const HEADER: usize = 16;

/// What one CBR receiver saw.
#[derive(Clone, Debug)]
pub struct ReceiverStats {
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

impl Default for ReceiverStats {
    fn default() -> Self {
        ReceiverStats {
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

impl ReceiverStats {
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

/// Time between datagrams of `payload` bytes (at least the header) sent at
/// `bitrate_bps`.
pub fn interval(bitrate_bps: u64, payload: usize) -> Duration {
    Duration::from_secs_f64(payload.max(HEADER) as f64 * 8.0 / bitrate_bps.max(1) as f64)
}

/// Sends `payload`-byte datagrams at `bitrate_bps` to every address in
/// `targets`, from now until `stop`; `sent` counts datagrams per target.
/// Fails when the socket cannot be bound or a send fails.
pub async fn send<N: Net>(
    net: &N,
    targets: &[SocketAddr],
    bitrate_bps: u64,
    payload: usize,
    stop: Duration,
    sent: &dyn Fn(),
) -> std::io::Result<()> {
    let payload = payload.max(HEADER);
    let every = interval(bitrate_bps, payload);
    let socket = net.bind_udp(SocketAddr::from(([0, 0, 0, 0], 0))).await?;
    let mut datagram = vec![0x47_u8; payload];
    let start = net.now();
    for seq in 0u64.. {
        if net.now() >= stop {
            break;
        }
        datagram[..8].copy_from_slice(&seq.to_be_bytes());
        let now_ns = u64::try_from(net.now().as_nanos()).unwrap_or(u64::MAX);
        datagram[8..16].copy_from_slice(&now_ns.to_be_bytes());
        for target in targets {
            socket.send_to(&datagram, *target).await?;
        }
        sent();
        let next = every.as_nanos().saturating_mul(u128::from(seq) + 1);
        let next = Duration::from_nanos(u64::try_from(next).unwrap_or(u64::MAX));
        net.sleep_until(start + next).await;
    }
    Ok(())
}

/// Receives a stream on `port`, recording every datagram in `stats`. Fails
/// when the port cannot be bound.
pub async fn receive<N: Net>(
    net: &N,
    port: u16,
    stats: Rc<RefCell<ReceiverStats>>,
) -> std::io::Result<()> {
    let socket = net.bind_udp(SocketAddr::from(([0, 0, 0, 0], port))).await?;
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
    Ok(())
}
