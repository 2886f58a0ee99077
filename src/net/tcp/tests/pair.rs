//! A two-endpoint harness: segments cross an in-memory path with a fixed
//! one-way delay, a seeded drop function may lose them, and time jumps to
//! the earliest event (a delivery or a connection timer).

use std::collections::VecDeque;
use std::time::Duration;

use crate::net::tcp::config::TcpConfig;
use crate::net::tcp::conn::{Connection, Segment};
use crate::net::tcp::seq::SeqNum;
use crate::net::tcp::wire::TcpRepr;

/// Which endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// Decides whether a segment travelling from `Side` is dropped.
pub type DropFn = Box<dyn FnMut(Side, &Segment) -> bool>;

/// A small deterministic PRNG (SplitMix64) for drop decisions and fuzzing.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `[0, n)` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// One direction of the path: an optional bottleneck (rate and a drop-tail
/// queue counted in packets), then a fixed delay.
#[derive(Debug, Default)]
pub struct Link {
    /// Bottleneck rate in bits per second (`None`: infinitely fast).
    pub rate_bps: Option<u64>,
    /// Packets the bottleneck queue holds, the one in service included.
    pub queue_limit: usize,
    /// One-way propagation delay.
    pub delay: Duration,
    busy_until: Duration,
    departures: VecDeque<Duration>,
    wire: VecDeque<(Duration, Segment)>,
    /// Packets the queue dropped.
    pub queue_drops: u64,
}

impl Link {
    fn offer(&mut self, now: Duration, seg: Segment) {
        let Some(rate) = self.rate_bps else {
            self.wire.push_back((now + self.delay, seg));
            return;
        };
        while self.departures.front().is_some_and(|&t| t <= now) {
            self.departures.pop_front();
        }
        if self.departures.len() >= self.queue_limit.max(1) {
            self.queue_drops += 1;
            return;
        }
        // IPv4 header plus TCP header and payload.
        let bits = (20 + seg.header.header_len() + seg.payload.len()) as u64 * 8;
        let serialization = Duration::from_nanos(bits * 1_000_000_000 / rate);
        let departs = self.busy_until.max(now) + serialization;
        self.busy_until = departs;
        self.departures.push_back(departs);
        self.wire.push_back((departs + self.delay, seg));
    }
}

/// Two connections joined by a path.
pub struct Pair {
    pub now: Duration,
    pub client: Connection,
    pub server: Connection,
    /// Client to server.
    pub up: Link,
    /// Server to client.
    pub down: Link,
    /// Applied as each segment arrives (after the bottleneck, like ns-3's
    /// receive error model).
    pub drop: DropFn,
    /// Every segment sent, with its time and direction.
    pub log: Vec<(Duration, Side, Segment)>,
    pub keep_log: bool,
}

impl Pair {
    /// A client connecting to a listening server with the given configs.
    pub fn new(client: TcpConfig, server: TcpConfig, delay: Duration, isn: (u32, u32)) -> Pair {
        let now = Duration::ZERO;
        Pair {
            now,
            client: Connection::connect(now, client, 40_000, 80, SeqNum(isn.0)),
            server: Connection::listen(server, 80, SeqNum(isn.1)),
            up: Link {
                delay,
                ..Link::default()
            },
            down: Link {
                delay,
                ..Link::default()
            },
            drop: Box::new(|_, _| false),
            log: Vec::new(),
            keep_log: false,
        }
    }

    fn conn(&mut self, side: Side) -> &mut Connection {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    /// Moves every segment both sides want to send onto the wire.
    pub fn flush(&mut self) {
        for side in [Side::Client, Side::Server] {
            let now = self.now;
            while let Some(seg) = self.conn(side).poll_transmit(now) {
                if self.keep_log {
                    self.log.push((self.now, side, seg.clone()));
                }
                // Emit and parse again: the bytes on the wire are what counts.
                let (a, b) = ([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
                let bytes = seg.header.to_bytes(&seg.payload, a, b);
                let repr = TcpRepr::parse(&bytes, Some((a, b))).expect("our own segments parse");
                let seg = Segment {
                    header: repr.header,
                    payload: repr.payload.to_vec(),
                };
                match side {
                    Side::Client => self.up.offer(now, seg),
                    Side::Server => self.down.offer(now, seg),
                }
            }
        }
    }

    /// The earliest pending event, if any.
    fn next_event(&self) -> Option<Duration> {
        let up = self.up.wire.front().map(|(t, _)| *t);
        let down = self.down.wire.front().map(|(t, _)| *t);
        [
            up,
            down,
            self.client.poll_timeout(),
            self.server.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Advances to the next event and handles it; false when nothing is left.
    pub fn step(&mut self) -> bool {
        self.flush();
        let Some(at) = self.next_event() else {
            return false;
        };
        self.now = self.now.max(at);
        let now = self.now;
        for (from, to) in [(Side::Client, Side::Server), (Side::Server, Side::Client)] {
            loop {
                let link = match from {
                    Side::Client => &mut self.up,
                    Side::Server => &mut self.down,
                };
                if link.wire.front().is_none_or(|(t, _)| *t > now) {
                    break;
                }
                let (_, seg) = link.wire.pop_front().expect("front exists");
                if (self.drop)(from, &seg) {
                    continue;
                }
                self.conn(to).handle_segment(now, &seg.repr());
            }
        }
        if self.client.poll_timeout().is_some_and(|t| t <= now) {
            self.client.handle_timeout(now);
        }
        if self.server.poll_timeout().is_some_and(|t| t <= now) {
            self.server.handle_timeout(now);
        }
        self.flush();
        true
    }
}
