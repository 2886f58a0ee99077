//! The receiver's jitter buffer: puts RTP packets back in sequence order
//! and gives a missing packet until the packet after it is due.
//!
//! Timing follows GStreamer's `rtpjitterbuffer` (default latency 200 ms):
//! the first packet's arrival and RTP timestamp anchor the stream's clock,
//! and a packet with timestamp `ts` is due at `anchor + (ts − ts0) /
//! clock_rate + latency`. A packet that continues the sequence leaves at
//! once (nothing is gained by holding it: the player keeps its own
//! schedule). When the next packet in sequence is missing, the buffer
//! holds what came after it until the first held packet is due; then the
//! missing ones are declared lost ([`Released::Lost`]) and release goes
//! on. So a retransmission (NACK/RTX) that arrives before that deadline
//! fills the hole, and one that arrives after is too late.
//!
//! For comparison: ffmpeg's RTSP client reorders for 100 ms at most
//! (`reorder_queue_size`/`max_delay`), GStreamer's `rtspsrc` sets its
//! jitter buffer to 2 s, and ours defaults to GStreamer's
//! `rtpjitterbuffer` 200 ms.
//!
//! Bounds: at most `capacity` packets are held; when full, the oldest
//! hole is given up at once. Packets older than what was released, and
//! duplicates, are dropped and counted.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use super::{seq_delta, RtpPacket};

/// GStreamer's `rtpjitterbuffer` default latency.
pub const DEFAULT_LATENCY: Duration = Duration::from_millis(200);

/// Packets a buffer holds at most by default.
pub const DEFAULT_CAPACITY: usize = 4096;

/// What leaves the buffer, in sequence order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Released {
    /// A packet, with its arrival time.
    Packet {
        /// When it arrived.
        at: Duration,
        /// The packet.
        packet: RtpPacket,
    },
    /// `count` packets starting at `first` were given up.
    Lost {
        /// The first sequence number lost.
        first: u16,
        /// How many.
        count: u16,
    },
}

/// Counters of a jitter buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitterCounters {
    /// Packets that came in sequence or filled a hole in time.
    pub released: u64,
    /// Packets declared lost.
    pub lost: u64,
    /// Packets that arrived after their place was released (too late).
    pub late: u64,
    /// Packets that arrived twice.
    pub duplicates: u64,
}

/// A jitter buffer for one RTP stream.
#[derive(Debug)]
pub struct JitterBuffer {
    latency: Duration,
    clock_rate: u32,
    capacity: usize,
    /// First arrival and its RTP timestamp.
    anchor: Option<(Duration, u32)>,
    /// The next sequence number to release.
    next: Option<u16>,
    /// Held packets by offset from `next`'s base (extended sequence).
    held: BTreeMap<u64, (Duration, RtpPacket)>,
    /// Extended sequence of `next`.
    next_ext: u64,
    out: VecDeque<Released>,
    counters: JitterCounters,
}

impl JitterBuffer {
    /// A buffer that waits `latency` for missing packets, for a stream
    /// whose RTP clock runs at `clock_rate` Hz.
    pub fn new(latency: Duration, clock_rate: u32) -> JitterBuffer {
        JitterBuffer {
            latency,
            clock_rate: clock_rate.max(1),
            capacity: DEFAULT_CAPACITY,
            anchor: None,
            next: None,
            held: BTreeMap::new(),
            next_ext: 1 << 32,
            out: VecDeque::new(),
            counters: JitterCounters::default(),
        }
    }

    /// The same, holding at most `capacity` packets (at least 1).
    pub fn with_capacity(mut self, capacity: usize) -> JitterBuffer {
        self.capacity = capacity.max(1);
        self
    }

    /// Its latency.
    pub fn latency(&self) -> Duration {
        self.latency
    }

    /// A packet arrived at `now`.
    pub fn handle_packet(&mut self, now: Duration, packet: RtpPacket) {
        self.anchor.get_or_insert((now, packet.timestamp));
        let next = *self.next.get_or_insert(packet.seq);
        let delta = seq_delta(next, packet.seq);
        if delta < 0 {
            self.counters.late += 1;
            return;
        }
        let ext = self.next_ext + delta as u64;
        if self.held.contains_key(&ext) {
            self.counters.duplicates += 1;
            return;
        }
        self.held.insert(ext, (now, packet));
        while self.held.len() > self.capacity {
            self.give_up_first_hole();
        }
        self.release_in_order();
        self.handle_timeout(now);
    }

    /// When the first held packet behind a hole is due (`None`: no hole).
    pub fn poll_timeout(&self) -> Option<Duration> {
        let (_, (_, packet)) = self.held.first_key_value()?;
        Some(self.due(packet.timestamp))
    }

    /// Time passed to `now`: holes whose next packet is due are given up.
    pub fn handle_timeout(&mut self, now: Duration) {
        while self.poll_timeout().is_some_and(|at| at <= now) {
            self.give_up_first_hole();
        }
    }

    /// The next packet or loss, in sequence order.
    pub fn poll(&mut self) -> Option<Released> {
        self.out.pop_front()
    }

    /// Its counters.
    pub fn counters(&self) -> JitterCounters {
        self.counters
    }

    /// The sequence numbers missing ahead of held packets, in order.
    pub fn missing(&self) -> Vec<u16> {
        let (Some(next), Some((&last, _))) = (self.next, self.held.last_key_value()) else {
            return Vec::new();
        };
        (self.next_ext..last)
            .filter(|e| !self.held.contains_key(e))
            .map(|e| next.wrapping_add((e - self.next_ext) as u16))
            .collect()
    }

    /// When a packet with RTP timestamp `ts` is due out.
    pub fn due(&self, ts: u32) -> Duration {
        let Some((t0, ts0)) = self.anchor else {
            return self.latency;
        };
        let offset = i64::from(ts.wrapping_sub(ts0) as i32);
        let nanos = i128::from(offset) * 1_000_000_000 / i128::from(self.clock_rate);
        let base = if nanos >= 0 {
            t0.saturating_add(Duration::from_nanos(nanos as u64))
        } else {
            t0.saturating_sub(Duration::from_nanos(nanos.unsigned_abs() as u64))
        };
        base + self.latency
    }

    fn release_in_order(&mut self) {
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() != self.next_ext {
                break;
            }
            let (at, packet) = entry.remove();
            self.advance(1);
            self.counters.released += 1;
            self.out.push_back(Released::Packet { at, packet });
        }
    }

    /// Declares the packets before the first held one lost, then releases
    /// what follows in order.
    fn give_up_first_hole(&mut self) {
        let Some((&first, _)) = self.held.first_key_value() else {
            return;
        };
        let count = first - self.next_ext;
        if count > 0 {
            let start = self.next.unwrap_or(0);
            self.out.push_back(Released::Lost {
                first: start,
                count: count.min(u64::from(u16::MAX)) as u16,
            });
            self.counters.lost += count;
            self.advance(count);
        }
        self.release_in_order();
    }

    fn advance(&mut self, count: u64) {
        self.next_ext += count;
        self.next = self.next.map(|n| n.wrapping_add(count as u16));
    }
}

#[cfg(test)]
#[path = "jitter_tests.rs"]
mod tests;
