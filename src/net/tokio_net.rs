//! [`Net`] over the operating system's sockets (`tokio::net`).
//!
//! The live world: the same protocol drivers that the simulator measures serve
//! real players through this implementation. It is a thin mapping; the only
//! behaviour it adds is `reset`, done the portable way (linger 0, then close).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use tokio::time::Instant;

use super::api::{Net, NetListener, NetStream, NetUdp};

/// The operating system's network, with a clock that starts when it is
/// created.
#[derive(Clone, Copy, Debug)]
pub struct TokioNet {
    origin: Instant,
}

impl TokioNet {
    /// The network, its clock starting now.
    pub fn new() -> TokioNet {
        TokioNet {
            origin: Instant::now(),
        }
    }
}

impl Default for TokioNet {
    fn default() -> TokioNet {
        TokioNet::new()
    }
}

/// A TCP stream on a real socket.
#[derive(Debug)]
pub struct TokioStream(TcpStream);

/// A listening TCP socket on a real socket.
#[derive(Debug)]
pub struct TokioListener(TcpListener);

/// A UDP socket on a real socket.
#[derive(Debug)]
pub struct TokioUdp(UdpSocket);

impl Net for TokioNet {
    type Stream = TokioStream;
    type Listener = TokioListener;
    type Udp = TokioUdp;

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    async fn sleep_until(&self, at: Duration) {
        tokio::time::sleep_until(self.origin + at).await;
    }

    async fn resolve(&self, host: &str, port: u16) -> io::Result<SocketAddr> {
        tokio::net::lookup_host((host, port))
            .await?
            .next()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no address for host {host:?}"),
                )
            })
    }

    async fn connect(&self, addr: SocketAddr) -> io::Result<TokioStream> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(TokioStream(stream))
    }

    async fn listen(&self, addr: SocketAddr, backlog: usize) -> io::Result<TokioListener> {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        let backlog = u32::try_from(backlog.max(1)).unwrap_or(u32::MAX);
        Ok(TokioListener(socket.listen(backlog)?))
    }

    async fn bind_udp(&self, addr: SocketAddr) -> io::Result<TokioUdp> {
        Ok(TokioUdp(UdpSocket::bind(addr).await?))
    }
}

impl NetStream for TokioStream {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }

    fn reset(self) {
        // SO_LINGER with a zero timeout makes close() send RST. tokio marks the
        // setter deprecated because a non-zero linger blocks on drop; a zero
        // linger never blocks. If setting it fails the stream closes with FIN.
        #[allow(deprecated)]
        let _ = self.0.set_linger(Some(std::time::Duration::ZERO));
        drop(self.0);
    }
}

impl AsyncRead for TokioStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TokioStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl NetListener for TokioListener {
    type Stream = TokioStream;

    async fn accept(&self) -> io::Result<(TokioStream, SocketAddr)> {
        let (stream, peer) = self.0.accept().await?;
        stream.set_nodelay(true)?;
        Ok((TokioStream(stream), peer))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

impl NetUdp for TokioUdp {
    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.0.send_to(buf, target).await
    }

    async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.0.recv_from(buf).await
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}
