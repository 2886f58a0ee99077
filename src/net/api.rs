//! The `Net` abstraction: the only networking protocol drivers ever see.
//!
//! A protocol driver is written once against [`Net`] and runs in two worlds:
//! over the simulated TCP/IP stack ([`crate::net::SimNet`], inside the
//! deterministic harness) and over the operating system's sockets
//! ([`crate::net::TokioNet`], to serve real players). Both implementations
//! pass the same conformance suite (`tests/net_conformance.rs`).
//!
//! Streams are tokio [`AsyncRead`] + [`AsyncWrite`]:
//! * a read of 0 bytes means the peer half-closed (FIN) and all data was read;
//! * `shutdown()` half-closes the write side (sends FIN) and keeps reading;
//! * [`NetStream::reset`] aborts the connection (sends RST); the peer's next
//!   read or write fails with `ConnectionReset`.
//!
//! Time: a network carries the one clock its drivers may read. [`Net::now`]
//! is simulated time since scenario start in the simulator, and time since
//! the network was created on real sockets; [`Net::sleep_until`] waits for
//! such a time. Protocol, player and workload code takes time only from
//! here (never `tokio::time` or the system clock), so the harness under it
//! can change without touching it.
//!
//! Every method runs on a single-threaded runtime (turmoil hosts are), so the
//! futures are not `Send`.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

/// A network a host can open connections and sockets on.
#[allow(async_fn_in_trait)]
pub trait Net: Clone + 'static {
    /// A connected TCP stream.
    type Stream: NetStream;
    /// A listening TCP socket.
    type Listener: NetListener<Stream = Self::Stream>;
    /// A bound UDP socket.
    type Udp: NetUdp;

    /// The network's clock: simulated time since scenario start (live: time
    /// since this network was created).
    fn now(&self) -> Duration;

    /// Waits until [`Net::now`] reaches `at` (returns at once when it has).
    /// On return `now()` is at or after `at`; timers have a resolution of
    /// 1 ms, so it may be up to 1 ms after.
    async fn sleep_until(&self, at: Duration);

    /// Resolves `host` (a host name, or an address literal) with `port`.
    async fn resolve(&self, host: &str, port: u16) -> io::Result<SocketAddr>;

    /// Opens a TCP connection to `addr`; fails with `ConnectionRefused` when
    /// the peer answers with RST and `TimedOut` when it never answers.
    async fn connect(&self, addr: SocketAddr) -> io::Result<Self::Stream>;

    /// Listens on `addr`; up to `backlog` connections complete their handshake
    /// before [`NetListener::accept`] takes them. Port 0 picks a free port.
    async fn listen(&self, addr: SocketAddr, backlog: usize) -> io::Result<Self::Listener>;

    /// Binds a UDP socket to `addr`. Port 0 picks a free port.
    async fn bind_udp(&self, addr: SocketAddr) -> io::Result<Self::Udp>;
}

/// A connected TCP stream.
pub trait NetStream: AsyncRead + AsyncWrite + Unpin + 'static {
    /// This end's address.
    fn local_addr(&self) -> io::Result<SocketAddr>;
    /// The peer's address.
    fn peer_addr(&self) -> io::Result<SocketAddr>;
    /// Aborts the connection with RST, discarding unsent data.
    fn reset(self);
}

/// A listening TCP socket.
#[allow(async_fn_in_trait)]
pub trait NetListener: 'static {
    /// The stream type accepted connections have.
    type Stream: NetStream;
    /// Waits for the next connection that completed its handshake.
    async fn accept(&self) -> io::Result<(Self::Stream, SocketAddr)>;
    /// The address this listener is bound to.
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// A bound UDP socket.
#[allow(async_fn_in_trait)]
pub trait NetUdp: 'static {
    /// Sends one datagram to `target`; returns the bytes sent.
    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize>;
    /// Receives one datagram into `buf` (truncating it if `buf` is too small).
    async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)>;
    /// The address this socket is bound to.
    fn local_addr(&self) -> io::Result<SocketAddr>;
}
