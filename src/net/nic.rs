//! A simulated host's network interface: link models out, a hold queue in.
//!
//! Egress: every IP packet the host's stack transmits is captured, analysed,
//! then offered to the link model of the direction towards its destination.
//! The model decides at offer time whether the packet is dropped (and why) or
//! when it reaches the far end. Each delivered copy travels to the destination
//! host as one turmoil UDP datagram, a *frame*: the delivery time in
//! nanoseconds since scenario start (u64, big-endian) followed by the packet.
//!
//! Ingress: frames are held until their delivery time and released in
//! `(delivery time, arrival order)` order. turmoil moves datagrams once per
//! tick, so a frame whose delivery time is less than one tick after it was
//! sent arrives late; it is then released at once and counted in
//! [`NicCounters::late_frames`]. Links whose delay is at least one tick are
//! exact to the nanosecond.
//!
//! Events: every copy a link drops and every TCP retransmission this host
//! sends is recorded as a [`NicEvent`] in a capped log ([`NicEventLog`]);
//! events past the cap are counted, never silently lost.
//!
//! Invariant: the NIC never reorders packets with equal delivery times, and
//! nothing it does depends on wall-clock time or unordered iteration.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::net::Ipv4Addr;
use std::time::Duration;

use super::flows::{FlowTracker, Observation, SegmentClass};
use super::link::{LinkModel, Verdict};
use super::pcap::CaptureTap;

mod events;

pub use self::events::{NicEvent, NicEventKind, NicEventLog, NIC_EVENT_CAP};

/// The turmoil UDP port frames travel on between hosts.
pub const NIC_PORT: u16 = 9;

/// Length of a frame's header: the delivery time in nanoseconds.
const FRAME_HEADER: usize = 8;

/// Counters of what the NIC itself did, apart from its links.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NicCounters {
    /// Packets sent to an address no link leads to (dropped).
    pub no_route: u64,
    /// Packets the stack emitted that are not IPv4 (dropped).
    pub not_ipv4: u64,
    /// Frames too short to carry a header (dropped).
    pub malformed_frames: u64,
    /// Frames that arrived after their delivery time (released at once).
    pub late_frames: u64,
    /// The largest lateness seen, in nanoseconds.
    pub max_lateness_ns: u64,
    /// Packets handed to the stack.
    pub delivered: u64,
}

/// The egress side of one link direction.
#[derive(Debug)]
pub struct Egress {
    /// Stable name, `"<from>-><to>"`.
    pub name: String,
    /// The link model of this direction.
    pub model: LinkModel,
}

/// A packet held until its delivery time.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Held {
    at: Duration,
    seq: u64,
    packet: Vec<u8>,
}

/// A simulated host's network interface.
#[derive(Debug)]
pub struct Nic {
    links: BTreeMap<Ipv4Addr, Egress>,
    held: BinaryHeap<Reverse<Held>>,
    arrivals: u64,
    verdicts: Vec<Verdict>,
    outbox: Vec<(Ipv4Addr, Vec<u8>)>,
    capture: Option<CaptureTap>,
    capture_drops: bool,
    flows: FlowTracker,
    counters: NicCounters,
    events: NicEventLog,
}

impl Nic {
    /// Creates a NIC with one egress link per peer address.
    pub fn new(
        links: BTreeMap<Ipv4Addr, Egress>,
        capture: Option<CaptureTap>,
        capture_drops: bool,
    ) -> Nic {
        Nic {
            links,
            held: BinaryHeap::new(),
            arrivals: 0,
            verdicts: Vec::with_capacity(2),
            outbox: Vec::new(),
            capture,
            capture_drops,
            flows: FlowTracker::new(),
            counters: NicCounters::default(),
            events: NicEventLog::default(),
        }
    }

    // ---- inputs -------------------------------------------------------

    /// Handles one IP packet the stack transmits at `now`.
    pub fn handle_egress(&mut self, now: Duration, packet: Vec<u8>) {
        let Some(dst) = ipv4_destination(&packet) else {
            self.counters.not_ipv4 += 1;
            return;
        };
        let observation = self.flows.observe(now, &packet, true);
        self.record_retransmission(now, observation);
        let Some(egress) = self.links.get_mut(&dst) else {
            self.counters.no_route += 1;
            self.capture_outbound(now, &packet, Some("no route"));
            return;
        };
        self.verdicts.clear();
        egress.model.offer(now, packet.len(), &mut self.verdicts);
        let mut drop_cause = None;
        let queued_before = self.outbox.len();
        for verdict in self.verdicts.drain(..) {
            match verdict {
                Verdict::Deliver {
                    at, corrupt_bit, ..
                } => {
                    let mut frame = Vec::with_capacity(FRAME_HEADER + packet.len());
                    frame.extend_from_slice(&duration_to_ns(at).to_be_bytes());
                    frame.extend_from_slice(&packet);
                    if let Some(bit) = corrupt_bit {
                        // The flipped bit makes the receiver's checksum fail,
                        // as a corrupted frame does on a real wire.
                        if let Some(byte) = frame.get_mut(FRAME_HEADER + bit / 8) {
                            *byte ^= 1 << (bit % 8);
                        }
                    }
                    self.outbox.push((dst, frame));
                }
                Verdict::Drop { cause } => {
                    drop_cause = Some(cause.as_str());
                    let link = egress.name.clone();
                    let bytes = packet.len();
                    let kind = NicEventKind::Drop { link, cause, bytes };
                    self.events.push(now, kind);
                }
            }
        }
        let delivered_any = self.outbox.len() > queued_before;
        let cause = if delivered_any { None } else { drop_cause };
        self.capture_outbound(now, &packet, cause);
    }

    /// Handles one frame that arrived from the wire at `now`.
    pub fn handle_frame(&mut self, now: Duration, frame: &[u8]) {
        let Some((header, packet)) = frame.split_first_chunk::<FRAME_HEADER>() else {
            self.counters.malformed_frames += 1;
            return;
        };
        let at = Duration::from_nanos(u64::from_be_bytes(*header));
        if at < now {
            self.counters.late_frames += 1;
            let late = duration_to_ns(now - at);
            self.counters.max_lateness_ns = self.counters.max_lateness_ns.max(late);
        }
        self.arrivals += 1;
        self.held.push(Reverse(Held {
            at: at.max(now),
            seq: self.arrivals,
            packet: packet.to_vec(),
        }));
    }

    // ---- outputs ------------------------------------------------------

    /// Takes the frames to put on the wire, with their destination host.
    pub fn poll_outbox(&mut self) -> std::vec::Drain<'_, (Ipv4Addr, Vec<u8>)> {
        self.outbox.drain(..)
    }

    /// Returns the next held packet due at or before `now`, capturing it.
    pub fn poll_ingress(&mut self, now: Duration) -> Option<Vec<u8>> {
        if self.held.peek()?.0.at > now {
            return None;
        }
        let Reverse(held) = self.held.pop()?;
        self.flows.observe(held.at, &held.packet, false);
        if let Some(tap) = &mut self.capture {
            // A capture error is a bug in the writer, not an input problem;
            // losing one capture entry must not stop the simulation.
            let _ = tap.record(held.at, &held.packet, false);
        }
        self.counters.delivered += 1;
        Some(held.packet)
    }

    /// The delivery time of the next held packet, if any.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.held.peek().map(|h| h.0.at)
    }

    // ---- getters ------------------------------------------------------

    /// The egress links, by peer address.
    pub fn links(&self) -> &BTreeMap<Ipv4Addr, Egress> {
        &self.links
    }

    /// The transport flows seen at this NIC.
    pub fn flows(&self) -> &FlowTracker {
        &self.flows
    }

    /// The NIC's own counters.
    pub fn counters(&self) -> &NicCounters {
        &self.counters
    }

    /// The capture, when one was asked for.
    pub fn capture(&self) -> Option<&CaptureTap> {
        self.capture.as_ref()
    }

    /// The capture, to finish it.
    pub fn capture_mut(&mut self) -> Option<&mut CaptureTap> {
        self.capture.as_mut()
    }

    /// Drops and retransmissions seen so far, oldest first (at most
    /// [`NIC_EVENT_CAP`]).
    pub fn events(&self) -> &[NicEvent] {
        self.events.events()
    }

    /// Events not kept because the log was full.
    pub fn events_dropped(&self) -> u64 {
        self.events.dropped()
    }

    /// Logs an outbound segment classified as a retransmission.
    fn record_retransmission(&mut self, now: Duration, observation: Observation) {
        if let Observation::Tcp {
            key,
            class:
                SegmentClass::Retransmission {
                    fast,
                    timeout,
                    spurious,
                },
        } = observation
        {
            let kind = NicEventKind::Retransmission {
                key,
                fast,
                timeout,
                spurious,
            };
            self.events.push(now, kind);
        }
    }

    fn capture_outbound(&mut self, now: Duration, packet: &[u8], dropped: Option<&str>) {
        let Some(tap) = &mut self.capture else { return };
        let _ = match dropped {
            Some(cause) if self.capture_drops => tap.record_drop(now, packet, true, cause),
            _ => tap.record(now, packet, true),
        };
    }
}

/// The destination of an IPv4 packet, or `None` when it is not one.
fn ipv4_destination(packet: &[u8]) -> Option<Ipv4Addr> {
    let version = packet.first()? >> 4;
    let dst: [u8; 4] = packet.get(16..20)?.try_into().ok()?;
    (version == 4).then_some(Ipv4Addr::from(dst))
}

/// A duration in nanoseconds, saturating (585 years of simulated time).
pub fn duration_to_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
