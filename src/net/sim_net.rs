//! [`Net`] over a simulated host's stack.
//!
//! Each stream, listener or UDP socket is a handle into the host's
//! [`Stack`]: a connection of our TCP's table, or (under the `smoltcp`
//! profile, and for UDP) a smoltcp socket. Reads and writes copy between the
//! caller and the socket buffers, register a waker when they must wait, and
//! kick the stack's driver so it runs the stack (sending data, ACKs, window
//! updates) at once.
//!
//! Listen backlog: with our TCP, up to `backlog` connections (half-open or
//! waiting for `accept`) queue on a listener, and a SYN beyond that is
//! dropped, as Linux does (the client's SYN retransmission tries again).
//! With smoltcp, a listener keeps `backlog` sockets listening, each accepted
//! connection is replaced by a fresh one, and a SYN that finds none is
//! answered with RST (`ConnectionRefused`). A SYN to a port nobody listens
//! on is answered with RST under both.
//!
//! Dropping a stream closes it gracefully (FIN) and leaves the socket to the
//! stack until the connection is closed; dropping a UDP socket leaves it until
//! what it queued has been sent. Ports are registered per host: binding a port
//! in use fails with `AddrInUse`.
//!
//! Limits: there is no loopback (connect to another host), and datagrams
//! larger than the MTU minus 28 bytes are refused (no IP fragmentation).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::poll_fn;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use smoltcp::iface::SocketHandle;
use smoltcp::socket::{tcp, udp};
use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::api::{Net, NetListener, NetStream, NetUdp};
use super::clock::HostClock;
use super::host_tcp::ConnId;
use super::sockets::Proto;
use super::stack::{tcp_socket, Stack};

/// Datagrams a UDP socket buffers each way.
const UDP_PACKETS: usize = 1024;
/// Bytes a UDP socket buffers each way.
const UDP_BYTES: usize = 1 << 20;

/// The network of one simulated host.
#[derive(Clone, Debug)]
pub struct SimNet {
    stack: Rc<RefCell<Stack>>,
    clock: HostClock,
    hosts: Rc<BTreeMap<String, Ipv4Addr>>,
}

impl SimNet {
    /// Wraps a host's stack; `clock` is the host's simulated clock and
    /// `hosts` the names [`Net::resolve`] knows.
    pub fn new(
        stack: Rc<RefCell<Stack>>,
        clock: HostClock,
        hosts: Rc<BTreeMap<String, Ipv4Addr>>,
    ) -> SimNet {
        SimNet {
            stack,
            clock,
            hosts,
        }
    }

    /// This host's address.
    pub fn addr(&self) -> Ipv4Addr {
        self.stack.borrow().addr()
    }

    fn stream(&self, conn: Conn, port: Option<u16>) -> SimTcpStream {
        SimTcpStream {
            stack: self.stack.clone(),
            clock: self.clock.clone(),
            conn,
            port,
            write_closed: false,
            fin_seen: false,
            detached: false,
        }
    }

    /// `connect` on our TCP.
    async fn connect_own(&self, addr: SocketAddr) -> io::Result<SimTcpStream> {
        let SocketAddr::V4(remote) = addr else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the simulated network is IPv4-only",
            ));
        };
        let id = {
            let mut st = self.stack.borrow_mut();
            let port = st.sockets.claim(Proto::Tcp, 0)?;
            let now = self.clock.now();
            let id = st.own_table().connect(now, port, remote);
            st.kick();
            id
        };
        // The stream owns the connection (and its port) from here.
        let stream = self.stream(Conn::Own(id), None);
        poll_fn(|cx| self.stack.borrow_mut().own_table().poll_connect(id, cx)).await?;
        Ok(stream)
    }
}

/// A stream's connection: in our TCP's table or a smoltcp socket.
#[derive(Clone, Copy, Debug)]
enum Conn {
    Own(ConnId),
    Smol(SocketHandle),
}

impl Net for SimNet {
    type Stream = SimTcpStream;
    type Listener = SimListener;
    type Udp = SimUdp;

    fn now(&self) -> Duration {
        self.clock.now()
    }

    async fn sleep_until(&self, at: Duration) {
        self.clock.sleep_until(at).await;
    }

    async fn resolve(&self, host: &str, port: u16) -> io::Result<SocketAddr> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, port));
        }
        match self.hosts.get(host) {
            Some(&v4) => Ok(SocketAddr::new(IpAddr::V4(v4), port)),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no simulated host called {host:?}"),
            )),
        }
    }

    async fn connect(&self, addr: SocketAddr) -> io::Result<SimTcpStream> {
        let remote = to_endpoint(addr)?;
        {
            let st = self.stack.borrow();
            if addr.ip().is_loopback() || addr.ip() == IpAddr::V4(st.addr()) {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "the simulated network has no loopback: connect to another host",
                ));
            }
        }
        if self.stack.borrow().own.is_some() {
            return self.connect_own(addr).await;
        }
        let started = self.clock.now();
        let (handle, port) = {
            let mut st = self.stack.borrow_mut();
            let mut socket = st.new_tcp_socket();
            let timeout = st.tcp.connect_timeout;
            socket.set_timeout(Some(smoltcp::time::Duration::from_micros(
                u64::try_from(timeout.as_micros()).unwrap_or(u64::MAX),
            )));
            let port = st.sockets.claim(Proto::Tcp, 0)?;
            let cx = st.iface.context();
            if let Err(e) = socket.connect(cx, remote, port) {
                st.sockets.release(Proto::Tcp, port);
                return Err(io::Error::new(io::ErrorKind::InvalidInput, e.to_string()));
            }
            let handle = st.sockets.set.add(socket);
            st.kick();
            (handle, port)
        };
        // From here the stream owns the socket and its port: an error or a
        // cancelled connect drops it, which hands both back to the stack.
        let stream = self.stream(Conn::Smol(handle), Some(port));
        poll_fn(|cx| {
            let mut st = self.stack.borrow_mut();
            let socket = st.sockets.set.get_mut::<tcp::Socket>(handle);
            match socket.state() {
                tcp::State::SynSent | tcp::State::SynReceived => {
                    socket.register_send_waker(cx.waker());
                    Poll::Pending
                }
                tcp::State::Closed => {
                    let waited = self.clock.now().saturating_sub(started);
                    let timeout = st.tcp.connect_timeout;
                    Poll::Ready(Err(if waited >= timeout {
                        io::Error::new(io::ErrorKind::TimedOut, "connect timed out")
                    } else {
                        io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused")
                    }))
                }
                _ => {
                    socket.set_timeout(None);
                    Poll::Ready(Ok(()))
                }
            }
        })
        .await?;
        Ok(stream)
    }

    async fn listen(&self, addr: SocketAddr, backlog: usize) -> io::Result<SimListener> {
        let mut st = self.stack.borrow_mut();
        check_local(&st, addr.ip())?;
        let port = st.sockets.claim(Proto::Tcp, addr.port())?;
        let local = SocketAddr::new(IpAddr::V4(st.addr()), port);
        if let Some(own) = &mut st.own {
            own.listen(port, backlog);
            st.kick();
            return Ok(SimListener {
                net: self.clone(),
                port,
                local,
            });
        }
        let endpoint = listen_endpoint(addr.ip(), port);
        let mut slots = Vec::with_capacity(backlog.max(1));
        for _ in 0..backlog.max(1) {
            match listen_socket(&mut st, endpoint) {
                Ok(h) => slots.push(h),
                Err(e) => {
                    for h in slots {
                        st.sockets.set.remove(h);
                    }
                    st.sockets.release(Proto::Tcp, port);
                    return Err(e);
                }
            }
        }
        st.sockets.add_listener(port, endpoint, slots);
        st.kick();
        Ok(SimListener {
            net: self.clone(),
            port,
            local,
        })
    }

    async fn bind_udp(&self, addr: SocketAddr) -> io::Result<SimUdp> {
        let mut st = self.stack.borrow_mut();
        check_local(&st, addr.ip())?;
        let port = st.sockets.claim(Proto::Udp, addr.port())?;
        let rx = udp::PacketBuffer::new(
            vec![udp::PacketMetadata::EMPTY; UDP_PACKETS],
            vec![0; UDP_BYTES],
        );
        let tx = udp::PacketBuffer::new(
            vec![udp::PacketMetadata::EMPTY; UDP_PACKETS],
            vec![0; UDP_BYTES],
        );
        let mut socket = udp::Socket::new(rx, tx);
        if let Err(e) = socket.bind(listen_endpoint(addr.ip(), port)) {
            st.sockets.release(Proto::Udp, port);
            return Err(io::Error::new(io::ErrorKind::AddrInUse, e.to_string()));
        }
        let handle = st.sockets.set.add(socket);
        let local = SocketAddr::new(IpAddr::V4(st.addr()), port);
        // IPv4 and UDP headers take 28 bytes of each packet.
        let max_datagram = st.mtu.saturating_sub(28);
        Ok(SimUdp {
            stack: self.stack.clone(),
            handle,
            local,
            max_datagram,
        })
    }
}

/// Fails as the OS does (`AddrNotAvailable`) when `ip` is neither this
/// host's address nor the unspecified address.
fn check_local(st: &Stack, ip: IpAddr) -> io::Result<()> {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() || v4 == st.addr() => Ok(()),
        _ => Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("{ip} is not an address of this host ({})", st.addr()),
        )),
    }
}

fn listen_socket(st: &mut Stack, endpoint: IpListenEndpoint) -> io::Result<SocketHandle> {
    let mut socket = st.new_tcp_socket();
    socket
        .listen(endpoint)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    Ok(st.sockets.set.add(socket))
}

fn listen_endpoint(ip: IpAddr, port: u16) -> IpListenEndpoint {
    let addr = match ip {
        IpAddr::V4(v4) if !v4.is_unspecified() => Some(IpAddress::Ipv4(v4)),
        _ => None,
    };
    IpListenEndpoint { addr, port }
}

fn to_endpoint(addr: SocketAddr) -> io::Result<IpEndpoint> {
    match addr {
        SocketAddr::V4(v4) => Ok(IpEndpoint::new(IpAddress::Ipv4(*v4.ip()), v4.port())),
        SocketAddr::V6(_) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the simulated network is IPv4-only",
        )),
    }
}

fn from_endpoint(endpoint: IpEndpoint) -> SocketAddr {
    match endpoint.addr {
        IpAddress::Ipv4(v4) => SocketAddr::new(IpAddr::V4(v4), endpoint.port),
    }
}

/// A listening TCP socket on a simulated host.
#[derive(Debug)]
pub struct SimListener {
    net: SimNet,
    port: u16,
    local: SocketAddr,
}

impl NetListener for SimListener {
    type Stream = SimTcpStream;

    async fn accept(&self) -> io::Result<(SimTcpStream, SocketAddr)> {
        if self.net.stack.borrow().own.is_some() {
            let (id, peer) = poll_fn(|cx| {
                let mut st = self.net.stack.borrow_mut();
                let ready = st.own_table().poll_accept(self.port, cx);
                if ready.is_ready() {
                    st.kick();
                }
                ready
            })
            .await?;
            return Ok((self.net.stream(Conn::Own(id), None), peer));
        }
        poll_fn(|cx| {
            let mut st = self.net.stack.borrow_mut();
            let st = &mut *st;
            let fresh = || tcp_socket(&st.tcp);
            let Some(handle) = st.sockets.take_ready(self.port, fresh)? else {
                st.sockets.register_accept_waker(self.port, cx.waker());
                return Poll::Pending;
            };
            st.kick();
            let peer = st
                .sockets
                .set
                .get::<tcp::Socket>(handle)
                .remote_endpoint()
                .map(from_endpoint);
            // The stream owns the socket even if the peer vanished already.
            let stream = self.net.stream(Conn::Smol(handle), None);
            Poll::Ready(match peer {
                Some(peer) => Ok((stream, peer)),
                None => Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "the peer reset the connection before accept",
                )),
            })
        })
        .await
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}

impl Drop for SimListener {
    fn drop(&mut self) {
        let borrowed = self.net.stack.try_borrow_mut();
        debug_assert!(
            borrowed.is_ok(),
            "a listener is dropped while its stack is borrowed"
        );
        if let Ok(mut st) = borrowed {
            if let Some(own) = &mut st.own {
                own.unlisten(self.port);
                st.sockets.release(Proto::Tcp, self.port);
            } else {
                st.sockets.remove_listener(self.port);
            }
            st.kick();
        }
    }
}

/// A TCP stream on a simulated host.
#[derive(Debug)]
pub struct SimTcpStream {
    stack: Rc<RefCell<Stack>>,
    clock: HostClock,
    conn: Conn,
    /// The ephemeral port this stream claimed (smoltcp's connected streams;
    /// our TCP's table releases its own).
    port: Option<u16>,
    write_closed: bool,
    /// The peer's FIN was seen: a later `Closed` is a close, not a reset.
    fin_seen: bool,
    detached: bool,
}

impl SimTcpStream {
    /// The error for an operation on a connection that is gone.
    fn gone(&self) -> io::Error {
        if self.fin_seen && self.write_closed {
            io::Error::new(io::ErrorKind::BrokenPipe, "connection closed")
        } else {
            io::Error::new(io::ErrorKind::ConnectionReset, "connection reset by peer")
        }
    }

    /// Hands a smoltcp socket (and its port) back to the stack.
    fn detach(&mut self, st: &mut Stack, handle: SocketHandle) {
        st.sockets.orphan(handle, Proto::Tcp, self.port);
        st.kick();
        self.detached = true;
    }

    fn addrs(&self) -> io::Result<(SocketAddr, SocketAddr)> {
        let mut st = self.stack.borrow_mut();
        match self.conn {
            Conn::Own(id) => st.own_table().addrs(id),
            Conn::Smol(handle) => {
                let s = st.sockets.set.get::<tcp::Socket>(handle);
                match (s.local_endpoint(), s.remote_endpoint()) {
                    (Some(l), Some(r)) => Ok((from_endpoint(l), from_endpoint(r))),
                    _ => Err(self.gone()),
                }
            }
        }
    }
}

/// States in which the peer's FIN has arrived.
fn after_peer_fin(state: tcp::State) -> bool {
    matches!(
        state,
        tcp::State::CloseWait | tcp::State::LastAck | tcp::State::Closing | tcp::State::TimeWait
    )
}

impl NetStream for SimTcpStream {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.addrs().map(|(local, _)| local)
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.addrs().map(|(_, peer)| peer)
    }

    fn reset(mut self) {
        let stack = self.stack.clone();
        let mut st = stack.borrow_mut();
        match self.conn {
            Conn::Own(id) => {
                let now = self.clock.now();
                st.own_table().abort(now, id);
                st.kick();
                self.detached = true;
            }
            Conn::Smol(handle) => {
                st.sockets.set.get_mut::<tcp::Socket>(handle).abort();
                self.detach(&mut st, handle);
            }
        }
    }
}

impl AsyncRead for SimTcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let mut st = this.stack.borrow_mut();
        let handle = match this.conn {
            Conn::Smol(handle) => handle,
            Conn::Own(id) => {
                return match st.own_table().poll_read(id, cx, buf.initialize_unfilled()) {
                    Poll::Ready(Ok(n)) => {
                        if n > 0 {
                            // The read may open the window: let the stack
                            // send an update.
                            st.kick();
                        }
                        buf.advance(n);
                        Poll::Ready(Ok(()))
                    }
                    other => other.map_ok(|_| ()),
                };
            }
        };
        let socket = st.sockets.set.get_mut::<tcp::Socket>(handle);
        let state = socket.state();
        this.fin_seen |= after_peer_fin(state);
        if socket.can_recv() {
            let n = socket
                .recv_slice(buf.initialize_unfilled())
                .map_err(|_| this.gone())?;
            buf.advance(n);
            st.kick();
            return Poll::Ready(Ok(()));
        }
        if socket.may_recv() || matches!(state, tcp::State::SynSent | tcp::State::SynReceived) {
            socket.register_recv_waker(cx.waker());
            return Poll::Pending;
        }
        if state == tcp::State::Closed && !this.fin_seen {
            // Closed without the peer's FIN: the peer reset the connection.
            return Poll::Ready(Err(this.gone()));
        }
        Poll::Ready(Ok(())) // end of stream: the peer sent FIN
    }
}

impl AsyncWrite for SimTcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.write_closed {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write after shutdown",
            )));
        }
        let mut st = this.stack.borrow_mut();
        let handle = match this.conn {
            Conn::Smol(handle) => handle,
            Conn::Own(id) => {
                let written = st.own_table().poll_write(id, cx, buf);
                if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
                    st.kick();
                }
                return written;
            }
        };
        let socket = st.sockets.set.get_mut::<tcp::Socket>(handle);
        this.fin_seen |= after_peer_fin(socket.state());
        if !socket.may_send() {
            return Poll::Ready(Err(this.gone()));
        }
        // Writable as Linux reports it (`sk_stream_min_wspace`): once the free
        // space is at least half of what is queued. A writer then wakes in
        // large steps, not on every ACK that frees a few bytes.
        let queued = socket.send_queue();
        let free = socket.send_capacity() - queued;
        if !socket.can_send() || (queued > 0 && free < queued / 2) {
            socket.register_send_waker(cx.waker());
            return Poll::Pending;
        }
        let n = socket.send_slice(buf).map_err(|_| this.gone())?;
        st.kick();
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Written bytes are in the stack's send buffer, as they would be in
        // the kernel's: nothing is buffered on this side.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.write_closed {
            let mut st = this.stack.borrow_mut();
            match this.conn {
                Conn::Own(id) => st.own_table().shutdown(id),
                Conn::Smol(handle) => st.sockets.set.get_mut::<tcp::Socket>(handle).close(),
            }
            st.kick();
            this.write_closed = true;
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for SimTcpStream {
    fn drop(&mut self) {
        if self.detached {
            return;
        }
        let stack = self.stack.clone();
        let borrowed = stack.try_borrow_mut();
        debug_assert!(
            borrowed.is_ok(),
            "a stream is dropped while its stack is borrowed"
        );
        let Ok(mut st) = borrowed else { return };
        match self.conn {
            Conn::Own(id) => {
                let now = self.clock.now();
                st.own_table().release(now, id);
                st.kick();
                self.detached = true;
            }
            Conn::Smol(handle) => {
                let socket = st.sockets.set.get_mut::<tcp::Socket>(handle);
                socket.close();
                // A peer that never closes must not pin the socket forever.
                socket.set_timeout(Some(smoltcp::time::Duration::from_secs(60)));
                self.detach(&mut st, handle);
            }
        }
    }
}

/// A UDP socket on a simulated host.
#[derive(Debug)]
pub struct SimUdp {
    stack: Rc<RefCell<Stack>>,
    handle: SocketHandle,
    local: SocketAddr,
    /// The largest payload one IP packet carries (MTU − 28 bytes).
    max_datagram: usize,
}

impl NetUdp for SimUdp {
    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        let remote = to_endpoint(target)?;
        if buf.len() > self.max_datagram {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("datagram of {} bytes exceeds the {} bytes one packet carries (no IP fragmentation)", buf.len(), self.max_datagram),
            ));
        }
        poll_fn(|cx| {
            let mut st = self.stack.borrow_mut();
            let socket = st.sockets.set.get_mut::<udp::Socket>(self.handle);
            match socket.send_slice(buf, remote) {
                Ok(()) => {
                    st.kick();
                    Poll::Ready(Ok(buf.len()))
                }
                Err(udp::SendError::BufferFull) => {
                    socket.register_send_waker(cx.waker());
                    Poll::Pending
                }
                Err(e) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    e.to_string(),
                ))),
            }
        })
        .await
    }

    async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| {
            let mut st = self.stack.borrow_mut();
            let socket = st.sockets.set.get_mut::<udp::Socket>(self.handle);
            match socket.recv() {
                Ok((data, meta)) => {
                    let n = data.len().min(buf.len());
                    buf[..n].copy_from_slice(&data[..n]);
                    Poll::Ready(Ok((n, from_endpoint(meta.endpoint))))
                }
                Err(_) => {
                    socket.register_recv_waker(cx.waker());
                    Poll::Pending
                }
            }
        })
        .await
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}

impl Drop for SimUdp {
    fn drop(&mut self) {
        let borrowed = self.stack.try_borrow_mut();
        debug_assert!(
            borrowed.is_ok(),
            "a UDP socket is dropped while its stack is borrowed"
        );
        if let Ok(mut st) = borrowed {
            // Datagrams already queued still go out; then the port is free.
            st.sockets
                .orphan(self.handle, Proto::Udp, Some(self.local.port()));
            st.kick();
        }
    }
}
