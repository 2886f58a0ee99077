//! Hand-built segment sequences against one connection: a scripted peer
//! whose segments are written out field by field.

use std::time::Duration;

use crate::net::tcp::config::TcpConfig;
use crate::net::tcp::conn::{Connection, Segment, State};
use crate::net::tcp::seq::SeqNum;
use crate::net::tcp::wire::{Flags, SackBlocks, TcpHeader, TcpOptions, TcpRepr, Timestamps};

/// Our initial sequence number: close to 2^32 so every test crosses it.
pub const OUR_ISS: u32 = u32::MAX - 2500;
/// The scripted peer's initial sequence number.
pub const PEER_ISS: u32 = u32::MAX - 100;
/// Payload of a full segment in scripted tests.
pub const MSS: u64 = 1000;

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A simple config: 1000-byte segments, no timestamps, no window scaling,
/// windows that grow by the bytes acknowledged.
pub fn simple(sack: bool, rack: bool) -> TcpConfig {
    TcpConfig {
        mss: 1000,
        timestamps: false,
        window_scaling: false,
        sack,
        rack,
        hystart: false,
        byte_counting: true,
        ssthresh_from_pipe: false,
        recv_buffer: 60_000,
        ..TcpConfig::ns3()
    }
}

/// One connection and a scripted peer.
pub struct Script {
    pub conn: Connection,
    pub now: Duration,
    /// Offset of the peer's next data byte (1 after its SYN).
    pub peer_nxt: u64,
    /// The window the peer advertises.
    pub peer_window: u16,
}

impl Script {
    /// A connection that actively opened and completed the handshake at
    /// `rtt` (the SYN-ACK came back after one RTT).
    pub fn established(config: TcpConfig, rtt: Duration) -> Script {
        let mut s = Script {
            conn: Connection::connect(Duration::ZERO, config, 1000, 80, SeqNum(OUR_ISS)),
            now: Duration::ZERO,
            peer_nxt: 1,
            peer_window: 60_000,
        };
        let syn = s.drain();
        assert_eq!(syn.len(), 1);
        assert!(syn[0].header.flags.syn());
        s.now = rtt;
        let mut options = TcpOptions {
            mss: Some(1460),
            sack_permitted: syn[0].header.options.sack_permitted,
            ..TcpOptions::default()
        };
        options.window_scale = syn[0].header.options.window_scale.map(|_| 0);
        options.timestamps = syn[0].header.options.timestamps.map(|ts| Timestamps {
            value: 1,
            echo: ts.value,
        });
        let header = TcpHeader {
            src_port: 80,
            dst_port: 1000,
            seq: SeqNum(PEER_ISS),
            ack: SeqNum(OUR_ISS.wrapping_add(1)),
            flags: Flags::SYN | Flags::ACK,
            window: s.peer_window,
            options,
        };
        s.feed(header, &[]);
        assert_eq!(s.conn.state(), State::Established);
        let ack = s.drain();
        assert_eq!(ack.len(), 1, "the handshake's ACK");
        s
    }

    /// A header from the peer with its current sequence number and an ACK of
    /// our send offset `ack`.
    pub fn header(&self, ack: u64) -> TcpHeader {
        TcpHeader {
            src_port: 80,
            dst_port: 1000,
            seq: SeqNum::from_offset(SeqNum(PEER_ISS), self.peer_nxt),
            ack: SeqNum::from_offset(SeqNum(OUR_ISS), ack),
            flags: Flags::ACK,
            window: self.peer_window,
            options: TcpOptions::default(),
        }
    }

    /// Feeds a segment to the connection at the current time.
    pub fn feed(&mut self, header: TcpHeader, payload: &[u8]) {
        let repr = TcpRepr { header, payload };
        self.conn.handle_segment(self.now, &repr);
    }

    /// The peer acknowledges our offset `ack` with SACK blocks (offsets).
    pub fn ack(&mut self, ack: u64, sacks: &[(u64, u64)]) {
        let mut header = self.header(ack);
        let mut blocks = SackBlocks::default();
        for &(l, r) in sacks {
            blocks.push(
                SeqNum::from_offset(SeqNum(OUR_ISS), l),
                SeqNum::from_offset(SeqNum(OUR_ISS), r),
            );
        }
        header.options.sack = blocks;
        self.feed(header, &[]);
    }

    /// The peer sends `len` bytes at its offset `at` (it may be a hole).
    pub fn data_at(&mut self, at: u64, len: usize, ack: u64) {
        let mut header = self.header(ack);
        header.seq = SeqNum::from_offset(SeqNum(PEER_ISS), at);
        let payload = vec![0x5a; len];
        self.feed(header, &payload);
    }

    /// The peer sends a FIN (with an ACK of our offset `ack`).
    pub fn fin(&mut self, ack: u64) {
        let mut header = self.header(ack);
        header.flags = Flags::FIN | Flags::ACK;
        self.feed(header, &[]);
        self.peer_nxt += 1;
    }

    /// The peer sends a reset at its offset `at` (with an ACK if given).
    pub fn rst(&mut self, at: u64, ack: Option<u64>) {
        let mut header = self.header(ack.unwrap_or(0));
        header.seq = SeqNum::from_offset(SeqNum(PEER_ISS), at);
        header.flags = if ack.is_some() {
            Flags::RST | Flags::ACK
        } else {
            Flags::RST
        };
        self.feed(header, &[]);
    }

    /// A connection listening for the scripted peer.
    pub fn listening(config: TcpConfig) -> Script {
        Script {
            conn: Connection::listen(config, 1000, SeqNum(OUR_ISS)),
            now: Duration::ZERO,
            peer_nxt: 0,
            peer_window: 60_000,
        }
    }

    /// The peer's SYN (without options).
    pub fn syn(&mut self) {
        let mut header = self.header(0);
        header.flags = Flags::SYN;
        header.ack = SeqNum(0);
        header.options.mss = Some(1460);
        self.feed(header, &[]);
        self.peer_nxt = 1;
    }

    /// Every segment the connection wants to send now.
    pub fn drain(&mut self) -> Vec<Segment> {
        let mut out = Vec::new();
        while let Some(seg) = self.conn.poll_transmit(self.now) {
            out.push(seg);
            assert!(out.len() < 10_000, "runaway transmission");
        }
        out
    }

    /// Advances time to `at`, running every timer due on the way, and
    /// returns what was sent in between with its time.
    pub fn advance_to(&mut self, at: Duration) -> Vec<(Duration, Segment)> {
        let mut out = Vec::new();
        while let Some(t) = self.conn.poll_timeout().filter(|&t| t <= at) {
            self.now = self.now.max(t);
            self.conn.handle_timeout(self.now);
            for seg in self.drain() {
                out.push((self.now, seg));
            }
        }
        self.now = at;
        out
    }

    /// Our send offset of a segment's first byte.
    pub fn offset(seg: &Segment) -> u64 {
        u64::from(seg.header.seq.0.wrapping_sub(OUR_ISS))
    }

    /// The receive offset a segment acknowledges.
    pub fn acked(seg: &Segment) -> u64 {
        u64::from(seg.header.ack.0.wrapping_sub(PEER_ISS))
    }

    /// Queues `n` bytes and returns the data segments sent now, as offsets.
    pub fn send(&mut self, n: usize) -> Vec<u64> {
        let queued = self.conn.send(&vec![7u8; n]);
        assert_eq!(queued, n);
        self.drain()
            .iter()
            .filter(|s| !s.payload.is_empty())
            .map(Script::offset)
            .collect()
    }
}

/// Start offsets of the data segments in `segs`.
pub fn offsets(segs: &[Segment]) -> Vec<u64> {
    segs.iter()
        .filter(|s| !s.payload.is_empty())
        .map(Script::offset)
        .collect()
}
