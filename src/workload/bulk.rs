//! TCP bulk transfer: the server sends as fast as TCP lets it, the client
//! reads and counts.
//!
//! Goodput is application bytes the client read divided by the run's
//! duration, slow start included (as ns-3's BulkSend/PacketSink figures are).

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::net::flows::TcpFlowStats;
use crate::net::link::{LinkConfig, LinkStats};
use crate::net::{Net, NetListener, TcpConfig};
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

/// Runs a bulk transfer; `on_step` sees the run's progress.
pub fn run_bulk(spec: &BulkSpec, on_step: impl FnMut(Progress)) -> Result<BulkResult, SimError> {
    let topology = Topology::pair("server", "client", spec.down.clone(), spec.up.clone());
    let received = Rc::new(Cell::new(0u64));
    let mut harness = Harness::new(spec.sim.clone(), topology)?;
    harness.app("server", |net| async move {
        let Ok(listener) = net
            .listen(SocketAddr::from(([0, 0, 0, 0], BULK_PORT)), 4)
            .await
        else {
            return;
        };
        let chunk = vec![0x5a_u8; 64 * 1024];
        while let Ok((mut stream, _)) = listener.accept().await {
            while stream.write_all(&chunk).await.is_ok() {}
        }
    })?;
    let counter = received.clone();
    harness.app("client", move |net| {
        let counter = counter.clone();
        async move {
            let Ok(server) = net.resolve("server", BULK_PORT).await else {
                return;
            };
            let Ok(mut stream) = net.connect(server).await else {
                return;
            };
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n @ 1..) = stream.read(&mut buf).await {
                counter.set(counter.get() + n as u64);
            }
            let _ = stream.shutdown().await;
        }
    })?;
    let report = harness.run(on_step)?;
    let bytes = received.get();
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
