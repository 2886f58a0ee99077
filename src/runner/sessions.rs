//! Starts each scenario session's server and clients on their hosts, and
//! keeps the shared state the session code records into.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use crate::net::SimNet;
use crate::scenario::{ProtocolOptions, Scenario, SessionSpec};
use crate::sim::{Harness, SimError};
use crate::workload::{
    bulk_client, bulk_server, cbr_receiver, cbr_sender, default_stop, BulkClientStats,
    CbrReceiverStats,
};

/// What one session recorded during the run.
#[derive(Debug)]
pub(super) enum Probe {
    /// A `tcp-bulk` session: each client's view.
    Bulk {
        clients: Vec<(String, Rc<RefCell<BulkClientStats>>)>,
    },
    /// A `udp-cbr` session: datagrams sent (per client) and each client's view.
    Cbr {
        sent: Rc<Cell<u64>>,
        started: Rc<Cell<Option<Duration>>>,
        stop: Duration,
        clients: Vec<(String, Rc<RefCell<CbrReceiverStats>>)>,
    },
}

/// Waits until simulated time `at`.
async fn sleep_until(net: &SimNet, at: Duration) {
    let now = net.now();
    if at > now {
        tokio::time::sleep(at - now).await;
    }
}

/// Adds every session's apps to `harness`; returns one probe per session,
/// in scenario order.
pub(super) fn install(harness: &mut Harness, scenario: &Scenario) -> Result<Vec<Probe>, SimError> {
    let mut probes = Vec::new();
    for session in &scenario.sessions {
        let probe = match &session.protocol {
            ProtocolOptions::TcpBulk { limit } => install_bulk(harness, session, *limit)?,
            ProtocolOptions::UdpCbr { bitrate, payload } => {
                install_cbr(harness, scenario, session, *bitrate, *payload)?
            }
        };
        probes.push(probe);
    }
    Ok(probes)
}

fn install_bulk(
    harness: &mut Harness,
    session: &SessionSpec,
    limit: Option<u64>,
) -> Result<Probe, SimError> {
    let (port, stop) = (session.port, session.stop);
    // Every client may connect at once: the backlog holds them all.
    let backlog = session.clients.len().max(16);
    harness.app(&session.server, move |net| {
        bulk_server(net, port, backlog, limit, stop)
    })?;
    let mut clients = Vec::new();
    for client in &session.clients {
        let stats = Rc::new(RefCell::new(BulkClientStats::default()));
        let (server, start, record) = (session.server.clone(), session.start, stats.clone());
        harness.app(client, move |net| {
            let (server, record) = (server.clone(), record.clone());
            async move {
                sleep_until(&net, start).await;
                bulk_client(net, server, port, record).await;
            }
        })?;
        clients.push((client.clone(), stats));
    }
    Ok(Probe::Bulk { clients })
}

fn install_cbr(
    harness: &mut Harness,
    scenario: &Scenario,
    session: &SessionSpec,
    bitrate: u64,
    payload: usize,
) -> Result<Probe, SimError> {
    let port = session.port;
    let stop = session
        .stop
        .unwrap_or_else(|| default_stop(scenario.duration));
    let sent = Rc::new(Cell::new(0u64));
    let started = Rc::new(Cell::new(None));
    let (targets, start, counter) = (session.clients.clone(), session.start, sent.clone());
    let began = started.clone();
    harness.app(&session.server, move |net| {
        let (targets, counter, began) = (targets.clone(), counter.clone(), began.clone());
        async move {
            sleep_until(&net, start).await;
            began.set(Some(net.now()));
            cbr_sender(net, targets, port, bitrate, payload, stop, counter).await;
        }
    })?;
    let mut clients = Vec::new();
    for client in &session.clients {
        let stats = Rc::new(RefCell::new(CbrReceiverStats::default()));
        let record = stats.clone();
        harness.app(client, move |net| cbr_receiver(net, port, record.clone()))?;
        clients.push((client.clone(), stats));
    }
    Ok(Probe::Cbr {
        sent,
        started,
        stop,
        clients,
    })
}
