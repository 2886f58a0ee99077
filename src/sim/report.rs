//! What a run leaves behind: per-host link, transport and NIC counters, the
//! link series plots are drawn from, and each NIC's event log.
//!
//! Everything here is in deterministic order (hosts as declared, links and
//! flows sorted), so two runs with the same seed compare equal.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use super::SimError;
use crate::net::flows::{FlowKey, TcpFlowStats, UdpFlowStats};
use crate::net::link::LinkStats;
use crate::net::nic::{NicCounters, NicEvent};
use crate::net::{ConnReport, Stack, TableCounters};

/// One direction of a link, seen from the host that sends on it.
#[derive(Clone, Debug)]
pub struct LinkReport {
    /// Stable name, `"<from>-><to>"`.
    pub name: String,
    /// The link model's counters.
    pub stats: LinkStats,
}

/// Everything one host's NIC saw.
#[derive(Clone, Debug)]
pub struct HostReport {
    /// The host's name.
    pub name: String,
    /// The host's address.
    pub addr: Ipv4Addr,
    /// The links this host sends on.
    pub links: Vec<LinkReport>,
    /// TCP flows (each direction of data is one flow) seen at this NIC.
    pub tcp: Vec<(FlowKey, TcpFlowStats)>,
    /// UDP flows seen at this NIC.
    pub udp: Vec<(FlowKey, UdpFlowStats)>,
    /// The NIC's own counters.
    pub nic: NicCounters,
    /// Every connection of this host's TCP, as the TCP itself counted it
    /// (empty under the `smoltcp` profile).
    pub connections: Vec<ConnReport>,
    /// What this host's TCP counted outside its connections (`None` under
    /// the `smoltcp` profile).
    pub tcp_table: Option<TableCounters>,
    /// Drops on this host's links and TCP retransmissions it sent, oldest
    /// first.
    pub events: Vec<NicEvent>,
    /// Events the NIC did not keep because its log was full.
    pub events_dropped: u64,
    /// The capture file's bytes, when a capture in memory was asked for.
    pub capture: Option<Vec<u8>>,
    /// The complete capture file, when a streaming capture was asked for
    /// ([`super::SimConfig::capture_files`]).
    pub capture_file: Option<PathBuf>,
}

impl HostReport {
    /// Collects the report of host `name` from its stack at `end`: link
    /// counters count only copies that arrived by then.
    pub(super) fn collect(
        name: &str,
        stack: &mut Stack,
        end: Duration,
    ) -> Result<HostReport, SimError> {
        let capture_file = match stack.nic_mut().capture_mut() {
            Some(tap) => tap.finish().map_err(|e| SimError::Capture {
                host: name.to_owned(),
                message: e.to_string(),
            })?,
            None => None,
        };
        let nic = stack.nic();
        Ok(HostReport {
            name: name.to_owned(),
            addr: stack.addr(),
            links: nic
                .links()
                .values()
                .map(|e| LinkReport {
                    name: e.name.clone(),
                    stats: e.model.stats_at(end),
                })
                .collect(),
            tcp: nic
                .flows()
                .tcp_flows()
                .map(|(k, s)| (*k, s.clone()))
                .collect(),
            udp: nic
                .flows()
                .udp_flows()
                .map(|(k, s)| (*k, s.clone()))
                .collect(),
            nic: nic.counters().clone(),
            connections: stack.tcp_connections(),
            tcp_table: stack.tcp_table_counters().cloned(),
            events: nic.events().to_vec(),
            events_dropped: nic.events_dropped(),
            capture: nic
                .capture()
                .filter(|_| capture_file.is_none())
                .map(|c| c.bytes().to_vec()),
            capture_file,
        })
    }

    /// The TCP flows this host sent data on (it is the flow's source).
    pub fn tcp_sent(&self) -> impl Iterator<Item = &(FlowKey, TcpFlowStats)> {
        self.tcp
            .iter()
            .filter(move |(k, _)| *k.src.ip() == self.addr)
    }
}

/// One UDP flow end to end: datagrams sent at the source, received at the
/// destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpFlowReport {
    /// Source and destination.
    pub key: FlowKey,
    /// Datagrams the source's NIC sent.
    pub sent: u64,
    /// Datagrams the destination's NIC delivered to its stack (a corrupted
    /// one counts here, then fails the stack's checksum).
    pub received: u64,
    /// `sent - received` (duplicates can make received exceed sent; then 0).
    pub lost: u64,
    /// Payload bytes sent.
    pub payload_bytes_sent: u64,
}

/// The result of one run.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The scenario seed.
    pub seed: u64,
    /// Simulated time the run covered.
    pub elapsed: Duration,
    /// True when the run reached its duration; false when a stop condition
    /// ended it early ([`super::Harness::run_until`]).
    pub complete: bool,
    /// Hosts, in declaration order.
    pub hosts: Vec<HostReport>,
}

impl RunReport {
    pub(super) fn new(
        seed: u64,
        elapsed: Duration,
        complete: bool,
        hosts: Vec<HostReport>,
    ) -> RunReport {
        RunReport {
            seed,
            elapsed,
            complete,
            hosts,
        }
    }

    /// The report of host `name`.
    pub fn host(&self, name: &str) -> Option<&HostReport> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// The link direction called `name` (`"<from>-><to>"`).
    pub fn link(&self, name: &str) -> Option<&LinkStats> {
        self.hosts
            .iter()
            .flat_map(|h| h.links.iter())
            .find(|l| l.name == name)
            .map(|l| &l.stats)
    }

    /// Every UDP flow, joined across its source and destination hosts.
    pub fn udp_flows(&self) -> Vec<UdpFlowReport> {
        let mut flows = Vec::new();
        for host in &self.hosts {
            for (key, sent) in host.udp.iter().filter(|(k, _)| *k.src.ip() == host.addr) {
                let received = self
                    .hosts
                    .iter()
                    .filter(|h| h.addr == *key.dst.ip())
                    .flat_map(|h| h.udp.iter())
                    .find(|(k, _)| k == key)
                    .map_or(0, |(_, s)| s.datagrams);
                flows.push(UdpFlowReport {
                    key: *key,
                    sent: sent.datagrams,
                    received,
                    lost: sent.datagrams.saturating_sub(received),
                    payload_bytes_sent: sent.payload_bytes,
                });
            }
        }
        flows
    }
}
