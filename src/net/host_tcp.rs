//! The TCP connections of one simulated host, on our own TCP ([`super::tcp`]).
//!
//! [`TcpTable`] is what a kernel adds around a TCP state machine:
//! * demultiplexing: an arriving segment goes to the connection with its
//!   (local port, remote address, remote port); a SYN for a listening port
//!   creates a passive connection; anything else is answered with RST
//!   ([`reset_for`]);
//! * listeners with a backlog: connections whose handshake completed wait in
//!   the listener's queue until `accept`; a SYN that finds the backlog full
//!   is dropped (as Linux does), and the client's SYN retransmission tries
//!   again;
//! * initial sequence numbers from the host's seeded stream;
//! * IPv4: segments in and out are whole IPv4 packets, checksums verified
//!   and written;
//! * the application side: reads, writes, connects and accepts register a
//!   task waker, and every turn that changes a connection wakes its tasks;
//! * orphans: a connection whose application dropped it closes gracefully
//!   and is removed once closed; one still open 60 s after being dropped (a
//!   peer that never closes) is reset, like Linux's `tcp_fin_timeout`.
//!
//! Nothing here reads a clock: every call takes the simulated `now`.
//! Iteration is over `BTreeMap`s, so the order of segments is deterministic.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use smoltcp::wire::{IpProtocol, Ipv4Packet, Ipv4Repr};

use super::tcp::seq::SeqNum;
use super::tcp::wire::{TcpHeader, TcpRepr};
use super::tcp::{
    reset_for, Connection, Event, Sample, Segment, State, TcpConfig, TcpError, TcpStats,
};
use crate::rng::SplitMix64;

/// How long a dropped connection may stay open before it is reset.
const ORPHAN_TIMEOUT: Duration = Duration::from_secs(60);

/// A connection's handle in the table.
pub(super) type ConnId = u64;

/// Who holds a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    /// An application stream (or a `connect` in progress).
    App,
    /// The listener on this port, until `accept` takes it.
    Listener(u16),
    /// Nobody: dropped at this time, closing.
    Orphan(Duration),
}

/// One connection and what the application side waits on.
#[derive(Debug)]
struct Entry {
    conn: Connection,
    remote: SocketAddrV4,
    owner: Owner,
    /// The error that closed the connection, if one did.
    error: Option<TcpError>,
    /// `connect` gives up at this time.
    connect_deadline: Option<Duration>,
    /// The local port is this connection's own (an active open), released
    /// with it; passive connections share their listener's.
    owns_port: bool,
    recv_waker: Option<Waker>,
    send_waker: Option<Waker>,
}

impl Entry {
    fn wake(&mut self) {
        if let Some(w) = self.recv_waker.take() {
            w.wake();
        }
        if let Some(w) = self.send_waker.take() {
            w.wake();
        }
    }

    /// The error an operation on a closed connection reports.
    fn gone(&self) -> io::Error {
        match self.error {
            Some(TcpError::TimedOut) => {
                io::Error::new(io::ErrorKind::TimedOut, "connection timed out")
            }
            Some(TcpError::Refused) => {
                io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused")
            }
            Some(TcpError::Reset) => {
                io::Error::new(io::ErrorKind::ConnectionReset, "connection reset by peer")
            }
            None => io::Error::new(io::ErrorKind::BrokenPipe, "connection closed"),
        }
    }
}

/// A listening port.
#[derive(Debug)]
struct Listening {
    backlog: usize,
    /// Connections whose handshake completed, oldest first.
    ready: VecDeque<ConnId>,
    waker: Option<Waker>,
}

/// One connection's record: its addresses, counters and congestion series.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnReport {
    /// This end's address and port.
    pub local: SocketAddrV4,
    /// The peer's.
    pub remote: SocketAddrV4,
    /// What the connection counted (its own decisions, not wire inference).
    pub stats: TcpStats,
    /// The sender's cwnd/ssthresh/RTT samples, bounded.
    pub series: Vec<Sample>,
}

/// What the table counted that no connection did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableCounters {
    /// Segments whose IPv4 or TCP header did not parse, or whose checksum
    /// failed (dropped).
    pub malformed: u64,
    /// Resets sent for segments no connection took.
    pub resets_sent: u64,
    /// SYNs dropped because the listener's backlog was full.
    pub syns_dropped: u64,
}

/// The TCP connections of one host.
#[derive(Debug)]
pub(super) struct TcpTable {
    addr: Ipv4Addr,
    config: TcpConfig,
    connect_timeout: Duration,
    conns: BTreeMap<ConnId, Entry>,
    by_tuple: BTreeMap<(u16, SocketAddrV4), ConnId>,
    listeners: BTreeMap<u16, Listening>,
    next_id: ConnId,
    isn: SplitMix64,
    ip_ident: u16,
    counters: TableCounters,
    /// Records of connections already removed, oldest first.
    finished: Vec<ConnReport>,
}

impl TcpTable {
    /// The table of a host with address `addr`; `seed` draws the ISNs.
    pub(super) fn new(
        addr: Ipv4Addr,
        config: TcpConfig,
        connect_timeout: Duration,
        seed: u64,
    ) -> TcpTable {
        TcpTable {
            addr,
            config,
            connect_timeout,
            conns: BTreeMap::new(),
            by_tuple: BTreeMap::new(),
            listeners: BTreeMap::new(),
            next_id: 0,
            isn: SplitMix64::new(seed),
            ip_ident: 0,
            counters: TableCounters::default(),
            finished: Vec::new(),
        }
    }

    pub(super) fn counters(&self) -> &TableCounters {
        &self.counters
    }

    /// Every connection this host had: those removed in the order they
    /// were removed, then those still open in the order they were opened.
    pub(super) fn connections(&self) -> Vec<ConnReport> {
        let mut all = self.finished.clone();
        all.extend(self.conns.values().map(|e| self.report(e)));
        all
    }

    fn report(&self, e: &Entry) -> ConnReport {
        ConnReport {
            local: SocketAddrV4::new(self.addr, e.conn.ports().0),
            remote: e.remote,
            stats: *e.conn.stats(),
            series: e.conn.series().to_vec(),
        }
    }

    fn next_isn(&mut self) -> SeqNum {
        // The low 32 bits of a 64-bit draw.
        SeqNum(self.isn.next_u64() as u32)
    }

    fn insert(&mut self, conn: Connection, remote: SocketAddrV4, owner: Owner) -> ConnId {
        let id = self.next_id;
        self.next_id += 1;
        self.by_tuple.insert((conn.ports().0, remote), id);
        self.conns.insert(
            id,
            Entry {
                conn,
                remote,
                owner,
                error: None,
                connect_deadline: None,
                owns_port: false,
                recv_waker: None,
                send_waker: None,
            },
        );
        id
    }

    // ---- the wire -----------------------------------------------------

    /// Whether `packet` is an IPv4 packet carrying TCP.
    pub(super) fn is_tcp(packet: &[u8]) -> bool {
        packet.len() >= 20 && packet[0] >> 4 == 4 && packet[9] == 6
    }

    /// Handles one IPv4 packet carrying TCP that arrived at `now`; replies
    /// (a reset) go to `out`.
    pub(super) fn handle_packet(&mut self, now: Duration, packet: &[u8], out: &mut Vec<Vec<u8>>) {
        let Ok(ip) = Ipv4Packet::new_checked(packet) else {
            self.counters.malformed += 1;
            return;
        };
        if !ip.verify_checksum() || ip.next_header() != IpProtocol::Tcp {
            self.counters.malformed += 1;
            return;
        }
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        if dst != self.addr {
            self.counters.malformed += 1;
            return;
        }
        let Ok(repr) = TcpRepr::parse(ip.payload(), Some((src, dst))) else {
            self.counters.malformed += 1;
            return;
        };
        let header = repr.header;
        let remote = SocketAddrV4::new(src, header.src_port);
        if let Some(&id) = self.by_tuple.get(&(header.dst_port, remote)) {
            if let Some(entry) = self.conns.get_mut(&id) {
                entry.conn.handle_segment(now, &repr);
            }
            self.after_input(id);
            return;
        }
        let flags = header.flags;
        let is_syn = flags.syn() && !flags.ack() && !flags.rst();
        if is_syn {
            if let Some(listening) = self.listeners.get(&header.dst_port) {
                // Half-open and ready connections, until `accept` takes them.
                let queued = self
                    .conns
                    .values()
                    .filter(|e| e.owner == Owner::Listener(header.dst_port))
                    .count();
                if queued >= listening.backlog {
                    self.counters.syns_dropped += 1;
                    return;
                }
                let isn = self.next_isn();
                let mut conn = Connection::listen(self.config.clone(), header.dst_port, isn);
                conn.handle_segment(now, &repr);
                let id = self.insert(conn, remote, Owner::Listener(header.dst_port));
                self.after_input(id);
                return;
            }
        }
        if let Some(rst) = reset_for(&repr) {
            self.counters.resets_sent += 1;
            out.push(self.packet(&rst, &[], src));
        }
    }

    /// An IPv4 packet carrying `header` and `payload` to `dst`.
    fn packet(&mut self, header: &TcpHeader, payload: &[u8], dst: Ipv4Addr) -> Vec<u8> {
        let tcp_len = header.header_len() + payload.len();
        let ip = Ipv4Repr {
            src_addr: self.addr,
            dst_addr: dst,
            next_header: IpProtocol::Tcp,
            payload_len: tcp_len,
            hop_limit: 64,
        };
        let mut buf = vec![0u8; ip.buffer_len() + tcp_len];
        let mut packet = Ipv4Packet::new_unchecked(&mut buf[..]);
        ip.emit(&mut packet, &smoltcp::phy::ChecksumCapabilities::ignored());
        packet.set_ident(self.ip_ident);
        packet.set_dont_frag(true);
        packet.fill_checksum();
        self.ip_ident = self.ip_ident.wrapping_add(1);
        let start = ip.buffer_len();
        header.emit(&mut buf[start..], payload, self.addr, dst);
        buf
    }

    /// Drains a connection's events after an input: wakes its tasks, moves
    /// a completed passive handshake to its listener's queue, notes errors.
    fn after_input(&mut self, id: ConnId) {
        let Some(entry) = self.conns.get_mut(&id) else {
            return;
        };
        let mut changed = false;
        let mut connected = false;
        while let Some(event) = entry.conn.poll_event() {
            changed = true;
            match event {
                Event::Connected => connected = true,
                Event::Error(e) => entry.error = Some(e),
                _ => {}
            }
        }
        if !changed {
            return;
        }
        entry.wake();
        if let (true, Owner::Listener(port)) = (connected, entry.owner) {
            if let Some(listening) = self.listeners.get_mut(&port) {
                listening.ready.push_back(id);
                if let Some(w) = listening.waker.take() {
                    w.wake();
                }
            }
        }
    }

    /// One turn at `now`: runs due timers, collects every segment to send
    /// into `out`, and removes connections that are done (their ports go to
    /// `released`). Returns the next deadline.
    pub(super) fn poll(
        &mut self,
        now: Duration,
        out: &mut Vec<Vec<u8>>,
        released: &mut Vec<u16>,
    ) -> Option<Duration> {
        let ids: Vec<ConnId> = self.conns.keys().copied().collect();
        let mut segments: Vec<(Segment, Ipv4Addr)> = Vec::new();
        for &id in &ids {
            let Some(entry) = self.conns.get_mut(&id) else {
                continue;
            };
            if entry.conn.poll_timeout().is_some_and(|t| t <= now) {
                entry.conn.handle_timeout(now);
            }
            if entry.connect_deadline.is_some_and(|t| t <= now) {
                entry.connect_deadline = None;
                if matches!(entry.conn.state(), State::SynSent | State::SynReceived) {
                    entry.conn.abort();
                    entry.error = Some(TcpError::TimedOut);
                }
            }
            if let Owner::Orphan(since) = entry.owner {
                if now >= since + ORPHAN_TIMEOUT && entry.conn.state() != State::Closed {
                    entry.conn.abort();
                }
            }
            let dst = *entry.remote.ip();
            while let Some(segment) = entry.conn.poll_transmit(now) {
                segments.push((segment, dst));
            }
            self.after_input(id);
        }
        for (segment, dst) in segments {
            let packet = self.packet(&segment.header, &segment.payload, dst);
            out.push(packet);
        }
        self.remove_done(released);
        self.next_deadline()
    }

    fn next_deadline(&self) -> Option<Duration> {
        self.conns
            .values()
            .flat_map(|e| {
                let orphan = match e.owner {
                    Owner::Orphan(since) => Some(since + ORPHAN_TIMEOUT),
                    _ => None,
                };
                [e.conn.poll_timeout(), e.connect_deadline, orphan]
            })
            .flatten()
            .min()
    }

    /// Removes closed connections nobody holds (orphans, and passive ones
    /// reset before `accept`).
    fn remove_done(&mut self, released: &mut Vec<u16>) {
        let done: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, e)| e.conn.state() == State::Closed && e.owner != Owner::App)
            .map(|(&id, _)| id)
            .collect();
        for id in done {
            self.remove(id, released);
        }
    }

    fn remove(&mut self, id: ConnId, released: &mut Vec<u16>) {
        let Some(entry) = self.conns.remove(&id) else {
            return;
        };
        let port = entry.conn.ports().0;
        if self.by_tuple.get(&(port, entry.remote)) == Some(&id) {
            self.by_tuple.remove(&(port, entry.remote));
        }
        if let Owner::Listener(lport) = entry.owner {
            if let Some(listening) = self.listeners.get_mut(&lport) {
                listening.ready.retain(|&r| r != id);
            }
        }
        if entry.owns_port {
            released.push(port);
        }
        let report = self.report(&entry);
        self.finished.push(report);
    }

    // ---- the application side ------------------------------------------

    /// Opens a connection from `local_port` (claimed by the caller) to
    /// `remote`.
    pub(super) fn connect(
        &mut self,
        now: Duration,
        local_port: u16,
        remote: SocketAddrV4,
    ) -> ConnId {
        let isn = self.next_isn();
        let conn = Connection::connect(now, self.config.clone(), local_port, remote.port(), isn);
        let id = self.insert(conn, remote, Owner::App);
        if let Some(e) = self.conns.get_mut(&id) {
            e.connect_deadline = Some(now + self.connect_timeout);
            e.owns_port = true;
        }
        id
    }

    /// Whether the handshake of `id` completed.
    pub(super) fn poll_connect(
        &mut self,
        id: ConnId,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let Some(entry) = self.conns.get_mut(&id) else {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the connection is gone",
            )));
        };
        match entry.conn.state() {
            State::SynSent | State::SynReceived => {
                entry.send_waker = Some(cx.waker().clone());
                Poll::Pending
            }
            State::Closed => Poll::Ready(Err(match entry.error {
                Some(TcpError::Reset) | None => {
                    io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused")
                }
                Some(_) => entry.gone(),
            })),
            _ => {
                entry.connect_deadline = None;
                Poll::Ready(Ok(()))
            }
        }
    }

    /// Starts listening on `port` (claimed by the caller).
    pub(super) fn listen(&mut self, port: u16, backlog: usize) {
        self.listeners.insert(
            port,
            Listening {
                backlog: backlog.max(1),
                ready: VecDeque::new(),
                waker: None,
            },
        );
    }

    /// Stops listening on `port`: connections not yet accepted are reset.
    pub(super) fn unlisten(&mut self, port: u16) {
        self.listeners.remove(&port);
        for entry in self.conns.values_mut() {
            if entry.owner == Owner::Listener(port) {
                entry.conn.abort();
            }
        }
    }

    /// Takes the oldest connection on `port` whose handshake completed.
    pub(super) fn poll_accept(
        &mut self,
        port: u16,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(ConnId, SocketAddr)>> {
        let Some(listening) = self.listeners.get_mut(&port) else {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the listener is closed",
            )));
        };
        let Some(id) = listening.ready.pop_front() else {
            listening.waker = Some(cx.waker().clone());
            return Poll::Pending;
        };
        let Some(entry) = self.conns.get_mut(&id) else {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the peer reset the connection before accept",
            )));
        };
        entry.owner = Owner::App;
        Poll::Ready(Ok((id, SocketAddr::V4(entry.remote))))
    }

    fn entry(&mut self, id: ConnId) -> io::Result<&mut Entry> {
        self.conns
            .get_mut(&id)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "the connection is gone"))
    }

    /// Reads into `buf`: `Ok(0)` at end of stream. Returns whether the
    /// stack must turn (a window update may be due).
    pub(super) fn poll_read(
        &mut self,
        id: ConnId,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let entry = match self.entry(id) {
            Ok(e) => e,
            Err(e) => return Poll::Ready(Err(e)),
        };
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if entry.conn.readable() > 0 {
            return Poll::Ready(Ok(entry.conn.recv(buf)));
        }
        if entry.conn.peer_closed() {
            return Poll::Ready(Ok(0));
        }
        if entry.conn.state() == State::Closed {
            return Poll::Ready(match entry.error {
                // Closed without the peer's FIN nor an error: we aborted.
                None => Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "the connection was reset",
                )),
                Some(_) => Err(entry.gone()),
            });
        }
        entry.recv_waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Writes from `buf`, waiting while the send buffer is full as Linux
    /// reports writability (`sk_stream_min_wspace`): a writer wakes once the
    /// free space is at least half of what is queued.
    pub(super) fn poll_write(
        &mut self,
        id: ConnId,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let entry = match self.entry(id) {
            Ok(e) => e,
            Err(e) => return Poll::Ready(Err(e)),
        };
        let state = entry.conn.state();
        if state == State::Closed || entry.error.is_some() {
            return Poll::Ready(Err(match entry.error {
                None => io::Error::new(io::ErrorKind::BrokenPipe, "connection closed"),
                Some(_) => entry.gone(),
            }));
        }
        if !matches!(
            state,
            State::SynSent | State::SynReceived | State::Established | State::CloseWait
        ) {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write after shutdown",
            )));
        }
        let queued = entry.conn.send_queue();
        let free = entry.conn.send_capacity();
        if free == 0 || (queued > 0 && free < queued / 2) {
            entry.send_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        Poll::Ready(Ok(entry.conn.send(buf)))
    }

    /// Half-closes `id`: a FIN follows the queued data.
    pub(super) fn shutdown(&mut self, id: ConnId) {
        if let Some(e) = self.conns.get_mut(&id) {
            e.conn.close();
        }
    }

    /// Resets `id` and hands it to the table.
    pub(super) fn abort(&mut self, now: Duration, id: ConnId) {
        if let Some(e) = self.conns.get_mut(&id) {
            e.conn.abort();
            e.owner = Owner::Orphan(now);
        }
    }

    /// The application dropped `id`: it closes gracefully, then goes.
    pub(super) fn release(&mut self, now: Duration, id: ConnId) {
        if let Some(e) = self.conns.get_mut(&id) {
            e.conn.close();
            e.owner = Owner::Orphan(now);
        }
    }

    /// Local and remote address of `id`.
    pub(super) fn addrs(&self, id: ConnId) -> io::Result<(SocketAddr, SocketAddr)> {
        let e = self
            .conns
            .get(&id)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "the connection is gone"))?;
        let local = SocketAddr::V4(SocketAddrV4::new(self.addr, e.conn.ports().0));
        Ok((local, SocketAddr::V4(e.remote)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::tcp::seq::SeqNum;
    use crate::net::tcp::wire::{Flags, TcpOptions};

    const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    fn syn(port: u16) -> Vec<u8> {
        let header = TcpHeader {
            src_port: port,
            dst_port: 80,
            seq: SeqNum(1000),
            ack: SeqNum(0),
            flags: Flags::SYN,
            window: 65_535,
            options: TcpOptions::default(),
        };
        let mut client = TcpTable::new(CLIENT, TcpConfig::linux(), Duration::from_secs(30), 1);
        client.packet(&header, &[], SERVER)
    }

    #[test]
    fn a_full_backlog_drops_syns_and_no_listener_means_reset() {
        let mut server = TcpTable::new(SERVER, TcpConfig::linux(), Duration::from_secs(30), 7);
        server.listen(80, 2);
        let mut out = Vec::new();
        for port in 40_000..40_005 {
            server.handle_packet(Duration::ZERO, &syn(port), &mut out);
        }
        assert_eq!(server.conns.len(), 2, "the backlog holds two");
        assert_eq!(server.counters().syns_dropped, 3);
        server.unlisten(80);
        let mut released = Vec::new();
        server.poll(Duration::ZERO, &mut out, &mut released);
        server.handle_packet(Duration::ZERO, &syn(40_009), &mut out);
        assert_eq!(server.counters().resets_sent, 1);
    }

    #[test]
    fn mutated_packets_never_panic_nor_grow_the_table() {
        // 100,000 packets into a listening table: well-formed segments with
        // random flags, ports, numbers and payloads (through the
        // demultiplexer and the connections' state machines), the same with
        // bits flipped or cut after the checksum, and random garbage.
        let mut rng = SplitMix64::new(0x5eed);
        let mut server = TcpTable::new(SERVER, TcpConfig::linux(), Duration::from_secs(30), 3);
        server.listen(80, 8);
        let mut client = TcpTable::new(CLIENT, TcpConfig::linux(), Duration::from_secs(30), 1);
        let mut out = Vec::new();
        let mut released = Vec::new();
        let mut parsed = 0u64;
        for i in 0..100_000u64 {
            let now = Duration::from_micros(i * 100);
            let header = TcpHeader {
                src_port: 40_000 + rng.below(16) as u16,
                dst_port: if rng.below(8) == 0 { 81 } else { 80 },
                seq: SeqNum(rng.next_u64() as u32),
                ack: SeqNum(rng.next_u64() as u32),
                flags: Flags(rng.below(64) as u8),
                window: rng.next_u64() as u16,
                options: TcpOptions::default(),
            };
            let payload: Vec<u8> = (0..rng.below(64)).map(|_| rng.next_u64() as u8).collect();
            let mut packet = client.packet(&header, &payload, SERVER);
            match rng.below(4) {
                0 | 1 => parsed += 1,
                2 => {
                    let at = rng.below(packet.len() as u64) as usize;
                    packet[at] ^= 1 << rng.below(8);
                    packet.truncate(rng.below(packet.len() as u64 + 1) as usize);
                }
                _ => packet = (0..rng.below(80)).map(|_| rng.next_u64() as u8).collect(),
            }
            server.handle_packet(now, &packet, &mut out);
            if i % 64 == 0 {
                server.poll(now, &mut out, &mut released);
                out.clear();
            }
            assert!(server.conns.len() <= 8, "the backlog bounds the table");
        }
        let c = server.counters();
        assert!(c.malformed >= 40_000 && c.resets_sent > 1000, "{c:?}");
        // Half-open connections hold the backlog until their SYN-ACKs give
        // up (minutes): the rest of the SYNs were dropped, as in a flood.
        assert_eq!(
            server.next_id, 8,
            "the listener took SYNs up to its backlog"
        );
        assert!(c.syns_dropped > 100, "{c:?}");
        assert!(parsed >= 45_000);
    }
}
