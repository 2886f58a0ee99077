//! TCP bulk transfer: the server sends as fast as TCP lets it, the client
//! reads and counts.
//!
//! Goodput is application bytes the client read divided by the run's
//! duration, slow start included (as ns-3's BulkSend/PacketSink figures are).

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::net::flows::TcpFlowStats;
use crate::net::link::{LinkConfig, LinkStats};
use crate::net::{Net, NetListener, NetStream, SimNet, TcpConfig};
use crate::sim::{Harness, Progress, RunReport, SimConfig, SimError, Topology};

/// Port the bulk server listens on.
pub const BULK_PORT: u16 = 5001;

/// A TCP bulk transfer from `server` to `client`.
#[derive(Clone, Debug)]
pub struct BulkSpec {
    /// Simulation settings (seed, duration, capture, TCP).
    pub sim: SimConfig,
    /// The data direction, server → client.
    pub down: LinkConfig,
    /// The ACK direction, client → server.
    pub up: LinkConfig,
}

/// What a bulk transfer achieved.
#[derive(Clone, Debug)]
pub struct BulkResult {
    /// Application bytes the client read.
    pub bytes: u64,
    /// `bytes` × 8 / duration, in bit/s.
    pub goodput_bps: f64,
    /// The sender's view of the data flow (retransmissions, RTOs), at its NIC.
    pub sender_flow: TcpFlowStats,
    /// The data direction's link counters.
    pub down_link: LinkStats,
    /// The full run report (captures included when asked for).
    pub report: RunReport,
}

/// What one bulk client saw, in simulated time since scenario start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BulkClientStats {
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
    /// When the last payload byte was read.
    pub last_byte: Option<Duration>,
    /// Why the client stopped early, and when (connect or read error).
    pub error: Option<(Duration, String)>,
}

/// Serves bulk data on `port`, with room for `backlog` connections waiting
/// to be accepted: every accepted connection gets its own task that writes
/// until `limit` bytes are sent (then closes its side) or until simulated
/// time reaches `stop`. Returns when the listener fails.
pub async fn bulk_server(
    net: SimNet,
    port: u16,
    backlog: usize,
    limit: Option<u64>,
    stop: Option<Duration>,
) {
    let addr = SocketAddr::from(([0, 0, 0, 0], port));
    let Ok(listener) = net.listen(addr, backlog.max(1)).await else {
        return;
    };
    while let Ok((stream, _)) = listener.accept().await {
        let net = net.clone();
        tokio::task::spawn_local(send_bulk(net, stream, limit, stop));
    }
}

async fn send_bulk(
    net: SimNet,
    mut stream: impl NetStream,
    limit: Option<u64>,
    stop: Option<Duration>,
) {
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

/// Connects to `server:port` and reads until end of stream, recording what
/// it sees in `stats`.
pub async fn bulk_client(
    net: SimNet,
    server: String,
    port: u16,
    stats: Rc<RefCell<BulkClientStats>>,
) {
    stats.borrow_mut().started = Some(net.now());
    let connected = match net.resolve(&server, port).await {
        Ok(addr) => net.connect(addr).await,
        Err(e) => Err(e),
    };
    let mut stream = match connected {
        Ok(stream) => stream,
        Err(e) => {
            let message = format!("connect to {server}:{port}: {e}");
            stats.borrow_mut().error = Some((net.now(), message));
            return;
        }
    };
    stats.borrow_mut().connected = Some(net.now());
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => {
                stats.borrow_mut().finished = Some(net.now());
                break;
            }
            Ok(n) => {
                let mut s = stats.borrow_mut();
                s.first_byte.get_or_insert(net.now());
                s.last_byte = Some(net.now());
                s.bytes += n as u64;
            }
            Err(e) => {
                let message = format!("read from {server}:{port}: {e}");
                stats.borrow_mut().error = Some((net.now(), message));
                break;
            }
        }
    }
    let _ = stream.shutdown().await;
}

/// Runs a bulk transfer; `on_step` sees the run's progress.
pub fn run_bulk(spec: &BulkSpec, on_step: impl FnMut(Progress)) -> Result<BulkResult, SimError> {
    let topology = Topology::pair("server", "client", spec.down.clone(), spec.up.clone());
    let stats = Rc::new(RefCell::new(BulkClientStats::default()));
    let mut harness = Harness::new(spec.sim.clone(), topology)?;
    harness.app("server", |net| bulk_server(net, BULK_PORT, 4, None, None))?;
    let client_stats = stats.clone();
    harness.app("client", move |net| {
        bulk_client(net, "server".to_owned(), BULK_PORT, client_stats.clone())
    })?;
    let report = harness.run(on_step)?;
    let bytes = stats.borrow().bytes;
    let server = report
        .host("server")
        .expect("the topology declares a server");
    let sender_flow = server
        .tcp_sent()
        .find(|(k, _)| k.src.port() == BULK_PORT)
        .map(|(_, s)| s.clone())
        .unwrap_or_default();
    let down_link = report.link("server->client").cloned().unwrap_or_default();
    Ok(BulkResult {
        bytes,
        goodput_bps: bytes as f64 * 8.0 / report.elapsed.as_secs_f64(),
        sender_flow,
        down_link,
        report,
    })
}

/// The TCP settings of the ns-3 comparison: NewReno-like (smoltcp Reno),
/// 4 MiB buffers, delayed ACK for every second segment (200 ms timeout).
pub fn ns3_tcp() -> TcpConfig {
    TcpConfig {
        congestion: crate::net::Congestion::Reno,
        rx_buffer: 4 << 20,
        tx_buffer: 4 << 20,
        ack_delay: Some(Duration::from_millis(200)),
        nagle: true,
        ..TcpConfig::default()
    }
}
