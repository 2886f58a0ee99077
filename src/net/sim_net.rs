//! [`Net`] over a simulated host's smoltcp stack.
//!
//! Each stream, listener or UDP socket is a handle into the host's
//! [`Stack`]. Reads and writes copy between the caller and smoltcp's socket
//! buffers, register smoltcp's wakers when they must wait, and kick the stack's
//! driver so it polls smoltcp (sending data, ACKs, window updates) at once.
//!
//! Listen backlog: a listener keeps `backlog` smoltcp sockets listening; each
//! accepted connection is replaced by a fresh listening socket. A SYN that
//! finds no listening socket is answered with RST (`ConnectionRefused`).
//!
//! Dropping a stream closes it gracefully (FIN) and leaves the socket to the
//! stack until the connection is closed.

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
use super::stack::Stack;
use crate::sim::clock::HostClock;

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

    /// Simulated time since scenario start.
    pub fn now(&self) -> Duration {
        self.clock.now()
    }

    /// This host's address.
    pub fn addr(&self) -> Ipv4Addr {
        self.stack.borrow().addr()
    }
}

impl Net for SimNet {
    type Stream = SimTcpStream;
    type Listener = SimListener;
    type Udp = SimUdp;

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
        let started = self.clock.now();
        let handle = {
            let mut st = self.stack.borrow_mut();
            let mut socket = st.new_tcp_socket();
            let port = st.ephemeral_port();
            let timeout = st.tcp.connect_timeout;
            socket.set_timeout(Some(smoltcp::time::Duration::from_micros(
                u64::try_from(timeout.as_micros()).unwrap_or(u64::MAX),
            )));
            let cx = st.iface.context();
            socket
                .connect(cx, remote, port)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
            let handle = st.sockets.add(socket);
            st.kick();
            handle
        };
        let stream = SimTcpStream::new(self.stack.clone(), handle);
        poll_fn(|cx| {
            let mut st = self.stack.borrow_mut();
            let socket = st.sockets.get_mut::<tcp::Socket>(handle);
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
        let port = match addr.port() {
            0 => st.ephemeral_port(),
            p => p,
        };
        let in_use = st.sockets.iter().any(|(_, s)| match s {
            smoltcp::socket::Socket::Tcp(t) => t.listen_endpoint().port == port && t.is_listening(),
            _ => false,
        });
        if in_use {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("port {port} is already listening"),
            ));
        }
        let endpoint = listen_endpoint(addr.ip(), port);
        let mut listening = Vec::with_capacity(backlog.max(1));
        for _ in 0..backlog.max(1) {
            listening.push(listen_socket(&mut st, endpoint)?);
        }
        st.kick();
        let local = SocketAddr::new(IpAddr::V4(st.addr()), port);
        Ok(SimListener {
            stack: self.stack.clone(),
            endpoint,
            local,
            listening: RefCell::new(listening),
        })
    }

    async fn bind_udp(&self, addr: SocketAddr) -> io::Result<SimUdp> {
        let mut st = self.stack.borrow_mut();
        check_local(&st, addr.ip())?;
        let port = match addr.port() {
            0 => st.ephemeral_port(),
            p => p,
        };
        let rx = udp::PacketBuffer::new(
            vec![udp::PacketMetadata::EMPTY; UDP_PACKETS],
            vec![0; UDP_BYTES],
        );
        let tx = udp::PacketBuffer::new(
            vec![udp::PacketMetadata::EMPTY; UDP_PACKETS],
            vec![0; UDP_BYTES],
        );
        let mut socket = udp::Socket::new(rx, tx);
        socket
            .bind(listen_endpoint(addr.ip(), port))
            .map_err(|e| io::Error::new(io::ErrorKind::AddrInUse, e.to_string()))?;
        let handle = st.sockets.add(socket);
        let local = SocketAddr::new(IpAddr::V4(st.addr()), port);
        Ok(SimUdp {
            stack: self.stack.clone(),
            handle,
            local,
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
    Ok(st.sockets.add(socket))
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
    stack: Rc<RefCell<Stack>>,
    endpoint: IpListenEndpoint,
    local: SocketAddr,
    listening: RefCell<Vec<SocketHandle>>,
}

impl NetListener for SimListener {
    type Stream = SimTcpStream;

    async fn accept(&self) -> io::Result<(SimTcpStream, SocketAddr)> {
        poll_fn(|cx| {
            let mut st = self.stack.borrow_mut();
            let mut listening = self.listening.borrow_mut();
            let ready = listening.iter().position(|&h| {
                let s = st.sockets.get::<tcp::Socket>(h);
                !matches!(
                    s.state(),
                    tcp::State::Listen | tcp::State::SynReceived | tcp::State::Closed
                )
            });
            let Some(index) = ready else {
                for &h in listening.iter() {
                    st.sockets
                        .get_mut::<tcp::Socket>(h)
                        .register_recv_waker(cx.waker());
                }
                return Poll::Pending;
            };
            // A listening socket that went back to Closed (its handshake was
            // reset) is re-armed in place below; the ready one is replaced.
            let handle = listening[index];
            listening[index] = listen_socket(&mut st, self.endpoint)?;
            let peer = st
                .sockets
                .get::<tcp::Socket>(handle)
                .remote_endpoint()
                .map(from_endpoint)
                .ok_or_else(|| io::Error::new(io::ErrorKind::ConnectionAborted, "peer vanished"))?;
            st.kick();
            Poll::Ready(Ok((SimTcpStream::new(self.stack.clone(), handle), peer)))
        })
        .await
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}

impl Drop for SimListener {
    fn drop(&mut self) {
        let Ok(mut st) = self.stack.try_borrow_mut() else {
            return;
        };
        for handle in self.listening.get_mut().drain(..) {
            st.sockets.get_mut::<tcp::Socket>(handle).abort();
            st.orphan(handle);
        }
    }
}

/// A TCP stream on a simulated host.
#[derive(Debug)]
pub struct SimTcpStream {
    stack: Rc<RefCell<Stack>>,
    handle: SocketHandle,
    write_closed: bool,
    detached: bool,
}

impl SimTcpStream {
    fn new(stack: Rc<RefCell<Stack>>, handle: SocketHandle) -> SimTcpStream {
        SimTcpStream {
            stack,
            handle,
            write_closed: false,
            detached: false,
        }
    }

    /// The error for an operation on a connection that is gone: a reset
    /// unless this side closed it.
    fn gone(&self) -> io::Error {
        if self.write_closed {
            io::Error::new(io::ErrorKind::BrokenPipe, "connection closed")
        } else {
            io::Error::new(io::ErrorKind::ConnectionReset, "connection reset by peer")
        }
    }
}

impl NetStream for SimTcpStream {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        let st = self.stack.borrow();
        let s = st.sockets.get::<tcp::Socket>(self.handle);
        s.local_endpoint()
            .map(from_endpoint)
            .ok_or_else(|| self.gone())
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        let st = self.stack.borrow();
        let s = st.sockets.get::<tcp::Socket>(self.handle);
        s.remote_endpoint()
            .map(from_endpoint)
            .ok_or_else(|| self.gone())
    }

    fn reset(mut self) {
        let mut st = self.stack.borrow_mut();
        st.sockets.get_mut::<tcp::Socket>(self.handle).abort();
        st.orphan(self.handle);
        self.detached = true;
    }
}

impl AsyncRead for SimTcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut st = self.stack.borrow_mut();
        let socket = st.sockets.get_mut::<tcp::Socket>(self.handle);
        if socket.can_recv() {
            let n = socket
                .recv_slice(buf.initialize_unfilled())
                .map_err(|_| self.gone())?;
            buf.advance(n);
            st.kick();
            return Poll::Ready(Ok(()));
        }
        if socket.may_recv()
            || matches!(
                socket.state(),
                tcp::State::SynSent | tcp::State::SynReceived
            )
        {
            socket.register_recv_waker(cx.waker());
            return Poll::Pending;
        }
        // Closed without this side closing: the peer reset the connection.
        if socket.state() == tcp::State::Closed && !self.write_closed {
            return Poll::Ready(Err(self.gone()));
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
        if self.write_closed {
            return Poll::Ready(Err(self.gone()));
        }
        let mut st = self.stack.borrow_mut();
        let socket = st.sockets.get_mut::<tcp::Socket>(self.handle);
        if !socket.may_send() {
            return Poll::Ready(Err(self.gone()));
        }
        if !socket.can_send() {
            socket.register_send_waker(cx.waker());
            return Poll::Pending;
        }
        let n = socket.send_slice(buf).map_err(|_| self.gone())?;
        st.kick();
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Written bytes are in the stack's send buffer, as they would be in
        // the kernel's: nothing is buffered on this side.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.write_closed {
            let mut st = self.stack.borrow_mut();
            st.sockets.get_mut::<tcp::Socket>(self.handle).close();
            st.kick();
            drop(st);
            self.write_closed = true;
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for SimTcpStream {
    fn drop(&mut self) {
        if self.detached {
            return;
        }
        let Ok(mut st) = self.stack.try_borrow_mut() else {
            return;
        };
        let socket = st.sockets.get_mut::<tcp::Socket>(self.handle);
        socket.close();
        // A peer that never closes must not pin the socket forever.
        socket.set_timeout(Some(smoltcp::time::Duration::from_secs(60)));
        st.orphan(self.handle);
    }
}

/// A UDP socket on a simulated host.
#[derive(Debug)]
pub struct SimUdp {
    stack: Rc<RefCell<Stack>>,
    handle: SocketHandle,
    local: SocketAddr,
}

impl NetUdp for SimUdp {
    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        let remote = to_endpoint(target)?;
        poll_fn(|cx| {
            let mut st = self.stack.borrow_mut();
            let socket = st.sockets.get_mut::<udp::Socket>(self.handle);
            if !socket.can_send() {
                socket.register_send_waker(cx.waker());
                return Poll::Pending;
            }
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
            let socket = st.sockets.get_mut::<udp::Socket>(self.handle);
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
        if let Ok(mut st) = self.stack.try_borrow_mut() {
            st.sockets.remove(self.handle);
        }
    }
}
