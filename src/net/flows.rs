//! Transport flow analysis: per-direction TCP and UDP counters computed from
//! the raw IPv4 packets seen at one NIC, with TCP retransmission analysis
//! that reproduces Wireshark's `tcp.analysis.*` sequence analysis.
//!
//! Invariants:
//! - One [`FlowKey`] per direction of traffic (`src` → `dst`); both
//!   directions of a TCP connection share one sequence-analysis state, so
//!   the ACKs seen in one direction classify the data of the other.
//! - A TCP segment counts in `retransmitted_segments` exactly when tshark
//!   (4.0, default preferences) would put `tcp.analysis.retransmission` on
//!   it: a plain, fast or spurious retransmission, never an out-of-order
//!   segment or a keep-alive. See [`TcpFlowStats`] for the rules.
//! - `fast_retransmits`, `retransmission_timeouts` and
//!   `spurious_retransmits` are each at most `retransmitted_segments`.
//! - Sequence numbers compare modulo 2^32 (serial-number arithmetic).
//! - Malformed or truncated packets are counted and skipped; nothing here
//!   panics on any input. No clock is read: time is the `now` passed in.
//! - Iteration order is deterministic (`BTreeMap`).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use smoltcp::wire::{IpProtocol, Ipv4Packet, TcpPacket, UdpPacket};

use self::sequence::{Connection, Segment};

#[path = "flows/sequence.rs"]
mod sequence;

/// UDP header length, in bytes.
const UDP_HEADER_LEN: u16 = 8;

/// One direction of transport traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowKey {
    /// Sender address and port.
    pub src: SocketAddrV4,
    /// Receiver address and port.
    pub dst: SocketAddrV4,
}

/// Counters for one direction of a TCP connection (or of several
/// connections that reused the same ports).
///
/// Classification of a data segment (payload > 0, or SYN/FIN) follows
/// Wireshark 4.0's `tcp_analyze_sequence_number`, first match wins:
/// 1. a keep-alive (0 or 1 byte at `nextseq - 1`) is never a retransmission;
/// 2. *spurious retransmission*: the payload lies wholly at or below the last
///    ACK number seen from the reverse direction;
/// 3. *fast retransmission* (Wireshark's notion): the segment does not
///    advance the sequence, the reverse direction has sent ≥ 2 duplicate ACKs
///    for exactly this sequence number, and its last segment was < 20 ms ago;
/// 4. *out-of-order*: the segment does not advance the sequence, does not
///    end at the highest sequence sent, and comes within the handshake RTT
///    (3 ms if unknown) of the segment that set the highest sequence;
/// 5. *retransmission*: the segment does not advance the sequence.
///
/// Cases 2, 3 and 5 count in `retransmitted_segments` (tshark flags all three
/// `tcp.analysis.retransmission`); case 4 counts in `out_of_order_segments`.
/// Independently of Wireshark's fast/plain distinction, each retransmission
/// is counted as `fast_retransmits` when ≥ 3 duplicate ACKs for its sequence
/// number preceded it (RFC 5681). A retransmission that is not fast, resends
/// the first unacknowledged segment and follows at least 200 ms (the shortest
/// RTO in use, Linux's) in which this direction sent nothing is a
/// retransmission timeout: one per timeout, however many segments a
/// go-back-N sender then resends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TcpFlowStats {
    /// TCP segments seen, including pure ACKs.
    pub segments: u64,
    /// Bytes on the wire: sum of the IPv4 total lengths, in bytes.
    pub wire_bytes: u64,
    /// TCP payload bytes, retransmissions included.
    pub payload_bytes: u64,
    /// Segments tshark flags `tcp.analysis.retransmission`.
    pub retransmitted_segments: u64,
    /// Payload bytes carried by `retransmitted_segments`.
    pub retransmitted_bytes: u64,
    /// Retransmissions sent after ≥ 3 duplicate ACKs for their sequence
    /// number arrived from the receiver since its ACK number last changed.
    pub fast_retransmits: u64,
    /// Retransmission timeouts: episodes, not segments.
    pub retransmission_timeouts: u64,
    /// Retransmissions whose payload was already acknowledged.
    pub spurious_retransmits: u64,
    /// Segments tshark flags `tcp.analysis.out_of_order` (not retransmissions).
    pub out_of_order_segments: u64,
    /// Duplicate ACKs sent in this direction (tshark `tcp.analysis.duplicate_ack`).
    pub duplicate_acks: u64,
    /// A SYN was seen in this direction.
    pub syn: bool,
    /// A FIN was seen in this direction.
    pub fin: bool,
    /// An RST was seen in this direction.
    pub rst: bool,
    /// The last segment of this direction was sent by this host.
    pub outbound: bool,
    /// Sim time of the first segment seen.
    pub first_seen: Duration,
    /// Sim time of the last segment seen.
    pub last_seen: Duration,
}

/// Counters for one direction of UDP traffic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UdpFlowStats {
    /// Datagrams seen.
    pub datagrams: u64,
    /// Bytes on the wire: sum of the IPv4 total lengths, in bytes.
    pub wire_bytes: u64,
    /// UDP payload bytes (UDP length minus the 8-byte header).
    pub payload_bytes: u64,
    /// The last datagram of this direction was sent by this host.
    pub outbound: bool,
    /// Sim time of the first datagram seen.
    pub first_seen: Duration,
    /// Sim time of the last datagram seen.
    pub last_seen: Duration,
}

/// Why a packet could not be analysed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    /// The IPv4 header is truncated, or its lengths are inconsistent with
    /// the buffer.
    #[error("malformed IPv4 header in a {len}-byte packet")]
    Ipv4Header {
        /// Buffer length, in bytes.
        len: usize,
    },
    /// The version nibble is not 4.
    #[error("IP version {version} in a {len}-byte packet, expected 4")]
    NotIpv4 {
        /// Version nibble found.
        version: u8,
        /// Buffer length, in bytes.
        len: usize,
    },
    /// The TCP header is truncated or its data offset is invalid.
    #[error("malformed TCP header from {src} to {dst} ({len} bytes of IP payload)")]
    TcpHeader {
        /// IPv4 source address.
        src: Ipv4Addr,
        /// IPv4 destination address.
        dst: Ipv4Addr,
        /// IP payload length, in bytes.
        len: usize,
    },
    /// The UDP header is truncated or its length field is invalid.
    #[error("malformed UDP header from {src} to {dst} ({len} bytes of IP payload)")]
    UdpHeader {
        /// IPv4 source address.
        src: Ipv4Addr,
        /// IPv4 destination address.
        dst: Ipv4Addr,
        /// IP payload length, in bytes.
        len: usize,
    },
}

/// How a TCP segment was classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentClass {
    /// New data, a pure ACK, a keep-alive or anything else unremarkable.
    Normal,
    /// tshark `tcp.analysis.out_of_order`.
    OutOfOrder,
    /// tshark `tcp.analysis.retransmission`.
    Retransmission {
        /// ≥ 3 duplicate ACKs for this sequence preceded it.
        fast: bool,
        /// It starts a retransmission timeout (see [`TcpFlowStats`]).
        timeout: bool,
        /// Its payload had already been acknowledged.
        spurious: bool,
    },
}

/// What [`FlowTracker::observe`] did with a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// A TCP segment, counted under `key`.
    Tcp {
        /// Direction the segment belongs to.
        key: FlowKey,
        /// Its sequence-analysis classification.
        class: SegmentClass,
    },
    /// A UDP datagram, counted under `key`.
    Udp {
        /// Direction the datagram belongs to.
        key: FlowKey,
    },
    /// A well-formed packet that is neither TCP nor UDP, or an IPv4
    /// fragment (fragments are not reassembled); only counted.
    Ignored {
        /// IPv4 protocol number.
        protocol: u8,
    },
    /// A packet that could not be parsed; only counted.
    Malformed {
        /// What was wrong with it.
        error: FlowError,
    },
}

/// Transport counters for the packets crossing one NIC.
#[derive(Debug, Default)]
pub struct FlowTracker {
    /// TCP counters per direction.
    tcp: BTreeMap<FlowKey, TcpFlowStats>,
    /// UDP counters per direction.
    udp: BTreeMap<FlowKey, UdpFlowStats>,
    /// Sequence-analysis state per connection, keyed by (lower, higher)
    /// endpoint.
    connections: BTreeMap<(SocketAddrV4, SocketAddrV4), Connection>,
    /// Packets that could not be parsed.
    malformed: u64,
    /// Packets that are neither TCP nor UDP, or are fragments.
    ignored: u64,
}

impl FlowTracker {
    /// Creates a tracker that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Observes one IPv4 packet crossing this NIC at sim time `now`;
    /// `outbound` is true when this host sent it. `now` must not decrease
    /// between calls for the time-based rules to be meaningful.
    pub fn observe(&mut self, now: Duration, packet: &[u8], outbound: bool) -> Observation {
        let observation = match self.analyse(now, packet, outbound) {
            Ok(observation) => observation,
            Err(error) => Observation::Malformed { error },
        };
        match observation {
            Observation::Malformed { .. } => self.malformed = self.malformed.saturating_add(1),
            Observation::Ignored { .. } => self.ignored = self.ignored.saturating_add(1),
            Observation::Tcp { .. } | Observation::Udp { .. } => {}
        }
        observation
    }

    /// Returns the TCP counters per direction, in key order.
    pub fn tcp_flows(&self) -> impl Iterator<Item = (&FlowKey, &TcpFlowStats)> {
        self.tcp.iter()
    }

    /// Returns the UDP counters per direction, in key order.
    pub fn udp_flows(&self) -> impl Iterator<Item = (&FlowKey, &UdpFlowStats)> {
        self.udp.iter()
    }

    /// Returns the counters of one TCP direction, if any segment was seen.
    pub fn tcp_flow(&self, key: &FlowKey) -> Option<&TcpFlowStats> {
        self.tcp.get(key)
    }

    /// Returns the counters of one UDP direction, if any datagram was seen.
    pub fn udp_flow(&self, key: &FlowKey) -> Option<&UdpFlowStats> {
        self.udp.get(key)
    }

    /// Returns the number of packets skipped because they could not be parsed.
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// Returns the number of well-formed packets that are neither TCP nor
    /// UDP, or are IPv4 fragments.
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// Parses `packet` and updates the counters it belongs to.
    fn analyse(
        &mut self,
        now: Duration,
        packet: &[u8],
        outbound: bool,
    ) -> Result<Observation, FlowError> {
        let ip = Ipv4Packet::new_checked(packet)
            .map_err(|_| FlowError::Ipv4Header { len: packet.len() })?;
        if ip.version() != 4 {
            return Err(FlowError::NotIpv4 {
                version: ip.version(),
                len: packet.len(),
            });
        }
        let protocol = ip.next_header();
        if ip.more_frags() || ip.frag_offset() != 0 {
            return Ok(Observation::Ignored {
                protocol: protocol.into(),
            });
        }
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        let wire_len = u64::from(ip.total_len());
        let payload = ip.payload();
        match protocol {
            IpProtocol::Tcp => {
                let tcp = TcpPacket::new_checked(payload).map_err(|_| FlowError::TcpHeader {
                    src,
                    dst,
                    len: payload.len(),
                })?;
                let key = FlowKey {
                    src: SocketAddrV4::new(src, tcp.src_port()),
                    dst: SocketAddrV4::new(dst, tcp.dst_port()),
                };
                let segment = Segment {
                    seq: tcp.seq_number().0 as u32,
                    ack: tcp.ack_number().0 as u32,
                    // new_checked guarantees header_len <= payload.len().
                    len: u32::try_from(payload.len().saturating_sub(usize::from(tcp.header_len())))
                        .unwrap_or(u32::MAX),
                    window: tcp.window_len(),
                    syn: tcp.syn(),
                    ack_flag: tcp.ack(),
                    fin: tcp.fin(),
                    rst: tcp.rst(),
                };
                let class = self.observe_tcp(now, key, &segment, wire_len, outbound);
                Ok(Observation::Tcp { key, class })
            }
            IpProtocol::Udp => {
                let udp = UdpPacket::new_checked(payload).map_err(|_| FlowError::UdpHeader {
                    src,
                    dst,
                    len: payload.len(),
                })?;
                let key = FlowKey {
                    src: SocketAddrV4::new(src, udp.src_port()),
                    dst: SocketAddrV4::new(dst, udp.dst_port()),
                };
                let stats = self.udp.entry(key).or_insert_with(|| UdpFlowStats {
                    first_seen: now,
                    ..UdpFlowStats::default()
                });
                stats.datagrams = stats.datagrams.saturating_add(1);
                stats.wire_bytes = stats.wire_bytes.saturating_add(wire_len);
                stats.payload_bytes = stats
                    .payload_bytes
                    .saturating_add(u64::from(udp.len().saturating_sub(UDP_HEADER_LEN)));
                stats.outbound = outbound;
                stats.last_seen = now;
                Ok(Observation::Udp { key })
            }
            other => Ok(Observation::Ignored {
                protocol: other.into(),
            }),
        }
    }

    /// Runs sequence analysis on one segment and updates its direction's
    /// counters.
    fn observe_tcp(
        &mut self,
        now: Duration,
        key: FlowKey,
        segment: &Segment,
        wire_len: u64,
        outbound: bool,
    ) -> SegmentClass {
        let (conn_key, fwd) = if key.src <= key.dst {
            ((key.src, key.dst), 0)
        } else {
            ((key.dst, key.src), 1)
        };
        let connection = self.connections.entry(conn_key).or_default();
        // A new SYN with another initial sequence number starts a new
        // connection on the same ports (tshark: "TCP Port numbers reused").
        if segment.syn && !segment.ack_flag {
            if let Some(base) = connection.halves[fwd].base_seq {
                if base != segment.seq {
                    *connection = Connection::default();
                }
            }
        }
        let verdict = connection.analyse(now, fwd, segment);

        let stats = self.tcp.entry(key).or_insert_with(|| TcpFlowStats {
            first_seen: now,
            ..TcpFlowStats::default()
        });
        stats.segments = stats.segments.saturating_add(1);
        stats.wire_bytes = stats.wire_bytes.saturating_add(wire_len);
        stats.payload_bytes = stats.payload_bytes.saturating_add(u64::from(segment.len));
        stats.syn |= segment.syn;
        stats.fin |= segment.fin;
        stats.rst |= segment.rst;
        stats.outbound = outbound;
        stats.last_seen = now;
        if verdict.duplicate_ack {
            stats.duplicate_acks = stats.duplicate_acks.saturating_add(1);
        }
        match verdict.class {
            SegmentClass::Normal => {}
            SegmentClass::OutOfOrder => {
                stats.out_of_order_segments = stats.out_of_order_segments.saturating_add(1);
            }
            SegmentClass::Retransmission {
                fast,
                timeout,
                spurious,
            } => {
                stats.retransmitted_segments = stats.retransmitted_segments.saturating_add(1);
                stats.retransmitted_bytes = stats
                    .retransmitted_bytes
                    .saturating_add(u64::from(segment.len));
                if fast {
                    stats.fast_retransmits = stats.fast_retransmits.saturating_add(1);
                }
                if timeout {
                    stats.retransmission_timeouts = stats.retransmission_timeouts.saturating_add(1);
                }
                if spurious {
                    stats.spurious_retransmits = stats.spurious_retransmits.saturating_add(1);
                }
            }
        }
        verdict.class
    }
}

#[cfg(test)]
#[path = "flows/tests.rs"]
mod tests;
