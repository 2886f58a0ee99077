//! The bulk server and client, generic over [`Net`]: the server writes as
//! fast as TCP takes it, the client reads and counts. A byte stream has no
//! wire format to parse, so this protocol has no sans-IO core.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::net::{Net, NetListener};

/// What one client saw, in the network's time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientLog {
    /// When the client began to connect.
    pub started: Option<Duration>,
    /// When the handshake completed.
    pub connected: Option<Duration>,
    /// When the first payload byte was read.
    pub first_byte: Option<Duration>,
    /// When the server's end of stream was read.
    pub finished: Option<Duration>,
    /// Application bytes read.
    pub bytes: u64,
    /// Why the client stopped early, and when (connect or read error).
    pub error: Option<(Duration, String)>,
}

/// What a client reports as it goes (the session's recorder, or nothing).
pub trait ClientObserver {
    /// A milestone (`"connected to server"`, `"first byte"`, …).
    fn milestone(&self, at: Duration, what: &str);
    /// `n` bytes were read.
    fn bytes(&self, n: u64);
}

impl ClientObserver for () {
    fn milestone(&self, _: Duration, _: &str) {}
    fn bytes(&self, _: u64) {}
}

/// Serves bulk data on `port` with room for `backlog` connections waiting
/// to be accepted: each connection gets its own task that writes until
/// `limit` bytes are sent (then closes its side) or until `stop`. Fails
/// when the port cannot be listened on; returns when the listener fails.
pub async fn serve<N: Net>(
    net: N,
    port: u16,
    backlog: usize,
    limit: Option<u64>,
    stop: Option<Duration>,
) -> std::io::Result<()> {
    let addr = SocketAddr::from(([0, 0, 0, 0], port));
    let listener = net.listen(addr, backlog.max(1)).await?;
    while let Ok((stream, _)) = listener.accept().await {
        tokio::task::spawn_local(send(net.clone(), stream, limit, stop));
    }
    Ok(())
}

async fn send<N: Net>(net: N, mut stream: N::Stream, limit: Option<u64>, stop: Option<Duration>) {
    const CHUNK: usize = 64 * 1024;
    let chunk = vec![0x5a_u8; CHUNK];
    let mut left = limit.unwrap_or(u64::MAX);
    while left > 0 && stop.is_none_or(|s| net.now() < s) {
        let n = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
        if stream.write_all(&chunk[..n]).await.is_err() {
            return;
        }
        left -= n as u64;
    }
    let _ = stream.shutdown().await;
}

/// Connects to `server:port` and reads until end of stream, keeping `log`
/// and telling `observer` as it goes.
pub async fn play<N: Net>(
    net: N,
    server: &str,
    port: u16,
    log: Rc<RefCell<ClientLog>>,
    observer: &impl ClientObserver,
) {
    log.borrow_mut().started = Some(net.now());
    let connected = match net.resolve(server, port).await {
        Ok(addr) => net.connect(addr).await,
        Err(e) => Err(e),
    };
    let mut stream = match connected {
        Ok(stream) => stream,
        Err(e) => {
            let message = format!("connect to {server}:{port}: {e}");
            observer.milestone(net.now(), &format!("error: {message}"));
            log.borrow_mut().error = Some((net.now(), message));
            return;
        }
    };
    log.borrow_mut().connected = Some(net.now());
    observer.milestone(net.now(), &format!("connected to {server}"));
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => {
                log.borrow_mut().finished = Some(net.now());
                observer.milestone(net.now(), "end of stream");
                break;
            }
            Ok(n) => {
                let first = {
                    let mut l = log.borrow_mut();
                    l.bytes += n as u64;
                    l.first_byte.is_none()
                };
                if first {
                    log.borrow_mut().first_byte = Some(net.now());
                    observer.milestone(net.now(), "first byte");
                }
                observer.bytes(n as u64);
            }
            Err(e) => {
                let message = format!("read from {server}:{port}: {e}");
                observer.milestone(net.now(), &format!("error: {message}"));
                log.borrow_mut().error = Some((net.now(), message));
                break;
            }
        }
    }
    let _ = stream.shutdown().await;
}
