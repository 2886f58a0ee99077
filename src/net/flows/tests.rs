//! Unit tests for the flow tracker: synthetic TCP/UDP exchanges checked
//! against hand-derived Wireshark classifications.

use super::*;

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{IpAddress, Ipv4Address, Ipv4Repr, TcpControl, TcpRepr, TcpSeqNumber, UdpRepr};

const CLIENT: Ipv4Address = Ipv4Address::new(10, 0, 0, 1);
const SERVER: Ipv4Address = Ipv4Address::new(10, 0, 0, 2);
const CLIENT_PORT: u16 = 40000;
const SERVER_PORT: u16 = 443;
const MSS: u32 = 1000;

fn ms(value: u64) -> Duration {
    Duration::from_millis(value)
}

/// Builds an IPv4/TCP packet with valid checksums.
fn tcp(from_client: bool, control: TcpControl, seq: u32, ack: Option<u32>, len: u32) -> Vec<u8> {
    let payload = vec![0xabu8; len as usize];
    let (src, dst, sport, dport) = if from_client {
        (CLIENT, SERVER, CLIENT_PORT, SERVER_PORT)
    } else {
        (SERVER, CLIENT, SERVER_PORT, CLIENT_PORT)
    };
    let repr = TcpRepr {
        src_port: sport,
        dst_port: dport,
        control,
        seq_number: TcpSeqNumber(seq as i32),
        ack_number: ack.map(|a| TcpSeqNumber(a as i32)),
        window_len: 65535,
        window_scale: None,
        max_seg_size: None,
        sack_permitted: false,
        sack_ranges: [None; 3],
        timestamp: None,
        payload: &payload,
    };
    let ip = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: IpProtocol::Tcp,
        payload_len: repr.buffer_len(),
        hop_limit: 64,
    };
    let mut buf = vec![0u8; ip.buffer_len() + repr.buffer_len()];
    let caps = ChecksumCapabilities::default();
    let mut ip_packet = Ipv4Packet::new_unchecked(&mut buf[..]);
    ip.emit(&mut ip_packet, &caps);
    let mut tcp_packet = TcpPacket::new_unchecked(ip_packet.payload_mut());
    repr.emit(
        &mut tcp_packet,
        &IpAddress::Ipv4(src),
        &IpAddress::Ipv4(dst),
        &caps,
    );
    buf
}

/// Client → server data flow key.
fn data_key() -> FlowKey {
    FlowKey {
        src: SocketAddrV4::new(CLIENT, CLIENT_PORT),
        dst: SocketAddrV4::new(SERVER, SERVER_PORT),
    }
}

/// Drives a client sending data to a server, observed at the client's NIC.
struct Exchange {
    tracker: FlowTracker,
    isn: u32,
    server_isn: u32,
}

impl Exchange {
    /// Performs the handshake with a 20 ms RTT, ending at t = 20 ms.
    fn new(isn: u32) -> Self {
        let server_isn = 7_000_000;
        let mut tracker = FlowTracker::new();
        tracker.observe(ms(0), &tcp(true, TcpControl::Syn, isn, None, 0), true);
        tracker.observe(
            ms(20),
            &tcp(
                false,
                TcpControl::Syn,
                server_isn,
                Some(isn.wrapping_add(1)),
                0,
            ),
            false,
        );
        tracker.observe(
            ms(20),
            &tcp(
                true,
                TcpControl::None,
                isn.wrapping_add(1),
                Some(server_isn + 1),
                0,
            ),
            true,
        );
        Self {
            tracker,
            isn,
            server_isn,
        }
    }

    /// Sequence number of data segment `index` (0-based).
    fn seq(&self, index: u32) -> u32 {
        self.isn.wrapping_add(1).wrapping_add(index * MSS)
    }

    /// The client sends data segment `index` at `t` ms.
    fn send(&mut self, t: u64, index: u32) -> SegmentClass {
        let packet = tcp(
            true,
            TcpControl::Psh,
            self.seq(index),
            Some(self.server_isn + 1),
            MSS,
        );
        match self.tracker.observe(ms(t), &packet, true) {
            Observation::Tcp { class, .. } => class,
            other => panic!("unexpected {other:?}"),
        }
    }

    /// The server acknowledges everything before segment `index` at `t` ms.
    fn ack(&mut self, t: u64, index: u32) {
        let packet = tcp(
            false,
            TcpControl::None,
            self.server_isn + 1,
            Some(self.seq(index)),
            0,
        );
        self.tracker.observe(ms(t), &packet, false);
    }

    fn stats(&self) -> TcpFlowStats {
        self.tracker
            .tcp_flow(&data_key())
            .cloned()
            .unwrap_or_default()
    }
}

#[test]
fn in_order_transfer_has_no_retransmissions() {
    let mut ex = Exchange::new(1_000);
    for i in 0..10 {
        assert_eq!(ex.send(30 + u64::from(i), i), SegmentClass::Normal);
        ex.ack(50 + u64::from(i), i + 1);
    }
    let stats = ex.stats();
    assert_eq!(stats.segments, 12); // SYN + handshake ACK + 10 data
    assert_eq!(stats.payload_bytes, 10 * u64::from(MSS));
    assert_eq!(stats.wire_bytes, 12 * 40 + 10 * u64::from(MSS));
    assert_eq!(stats.retransmitted_segments, 0);
    assert_eq!(stats.duplicate_acks, 0);
    assert!(stats.syn && stats.outbound && !stats.fin && !stats.rst);
    let reverse = ex.tracker.tcp_flows().map(|(k, _)| *k).collect::<Vec<_>>();
    assert_eq!(reverse.len(), 2);
}

#[test]
fn retransmission_after_three_dup_acks_is_fast() {
    let mut ex = Exchange::new(1_000);
    for i in 0..5 {
        ex.send(30, i);
    }
    // Segment 1 is lost: the server acks 1 once, then duplicates it.
    ex.ack(50, 1);
    ex.ack(51, 1);
    ex.ack(52, 1);
    ex.ack(53, 1);
    let class = ex.send(53, 1);
    assert_eq!(
        class,
        SegmentClass::Retransmission {
            fast: true,
            timeout: false,
            spurious: false
        }
    );
    let stats = ex.stats();
    assert_eq!(stats.retransmitted_segments, 1);
    assert_eq!(stats.fast_retransmits, 1);
    assert_eq!(stats.retransmission_timeouts, 0);
    assert_eq!(stats.retransmitted_bytes, u64::from(MSS));
    let acks = ex
        .tracker
        .tcp_flows()
        .find(|(k, _)| k.src.port() == SERVER_PORT)
        .map(|(_, s)| s.duplicate_acks);
    assert_eq!(acks, Some(3));
}

#[test]
fn retransmission_without_dup_acks_is_rto() {
    let mut ex = Exchange::new(1_000);
    ex.send(30, 0);
    ex.send(31, 1);
    ex.ack(50, 1);
    let class = ex.send(300, 1);
    assert_eq!(
        class,
        SegmentClass::Retransmission {
            fast: false,
            timeout: true,
            spurious: false
        }
    );
    let stats = ex.stats();
    assert_eq!(
        (
            stats.retransmitted_segments,
            stats.fast_retransmits,
            stats.retransmission_timeouts
        ),
        (1, 0, 1)
    );
}

#[test]
fn go_back_n_resends_after_a_timeout_are_one_timeout() {
    let mut ex = Exchange::new(1_000);
    for i in 0..4u32 {
        ex.send(30 + u64::from(i), i);
    }
    ex.ack(80, 1);
    // Silence, then the timer fires: the first unacked segment and the
    // rest of the window go out again, back to back.
    for i in 1..4 {
        let class = ex.send(1_080 + u64::from(i), i);
        assert!(
            matches!(class, SegmentClass::Retransmission { fast: false, timeout, .. } if timeout == (i == 1)),
            "{class:?}"
        );
    }
    let stats = ex.stats();
    assert_eq!(
        (stats.retransmitted_segments, stats.retransmission_timeouts),
        (3, 1)
    );
}

#[test]
fn two_dup_acks_are_not_enough_for_fast() {
    let mut ex = Exchange::new(1_000);
    for i in 0..4 {
        ex.send(30, i);
    }
    ex.ack(50, 1);
    ex.ack(51, 1);
    ex.ack(52, 1);
    // tshark calls this a fast retransmission (2 dup acks, < 20 ms), but
    // the RFC threshold used for `fast_retransmits` is 3.
    let class = ex.send(52, 1);
    assert_eq!(
        class,
        SegmentClass::Retransmission {
            fast: false,
            timeout: false,
            spurious: false
        }
    );
}

#[test]
fn resend_of_acknowledged_data_is_spurious() {
    let mut ex = Exchange::new(1_000);
    ex.send(30, 0);
    ex.send(31, 1);
    ex.ack(50, 2);
    let class = ex.send(400, 0);
    assert_eq!(
        class,
        SegmentClass::Retransmission {
            fast: false,
            timeout: false,
            spurious: true
        }
    );
    let stats = ex.stats();
    assert_eq!(stats.spurious_retransmits, 1);
    assert_eq!(stats.retransmitted_segments, 1);
}

#[test]
fn quick_resend_below_highest_sequence_is_out_of_order() {
    let mut ex = Exchange::new(1_000);
    ex.send(30, 0);
    ex.send(31, 2);
    // Within the 20 ms handshake RTT of the highest segment: out of order.
    assert_eq!(ex.send(40, 1), SegmentClass::OutOfOrder);
    // Later than that: retransmission.
    assert!(matches!(
        ex.send(200, 1),
        SegmentClass::Retransmission { .. }
    ));
    let stats = ex.stats();
    assert_eq!(stats.out_of_order_segments, 1);
    assert_eq!(stats.retransmitted_segments, 1);
}

#[test]
fn syn_retransmission_is_counted() {
    let mut tracker = FlowTracker::new();
    tracker.observe(ms(0), &tcp(true, TcpControl::Syn, 5, None, 0), true);
    let again = tracker.observe(ms(1000), &tcp(true, TcpControl::Syn, 5, None, 0), true);
    assert!(matches!(
        again,
        Observation::Tcp {
            class: SegmentClass::Retransmission { .. },
            ..
        }
    ));
    // A SYN with a new ISN is a new connection on reused ports.
    let fresh = tracker.observe(ms(2000), &tcp(true, TcpControl::Syn, 99, None, 0), true);
    assert!(matches!(
        fresh,
        Observation::Tcp {
            class: SegmentClass::Normal,
            ..
        }
    ));
    let stats = tracker.tcp_flow(&data_key()).cloned().unwrap_or_default();
    assert_eq!((stats.segments, stats.retransmitted_segments), (3, 1));
}

#[test]
fn sequence_numbers_wrap_around() {
    // The ISN sits 2.5 segments below 2^32, so segment 3 crosses zero.
    let mut ex = Exchange::new(u32::MAX - 2_500);
    for i in 0..6 {
        assert_eq!(
            ex.send(30 + u64::from(i), i),
            SegmentClass::Normal,
            "segment {i}"
        );
    }
    assert!(ex.seq(5) < ex.seq(0));
    ex.ack(50, 3);
    ex.ack(51, 3);
    ex.ack(52, 3);
    ex.ack(53, 3);
    assert_eq!(
        ex.send(53, 3),
        SegmentClass::Retransmission {
            fast: true,
            timeout: false,
            spurious: false
        }
    );
    assert_eq!(
        ex.send(500, 1),
        SegmentClass::Retransmission {
            fast: false,
            timeout: false,
            spurious: true
        }
    );
    assert_eq!(ex.send(501, 6), SegmentClass::Normal);
    let stats = ex.stats();
    assert_eq!(stats.retransmitted_segments, 2);
}

#[test]
fn keep_alive_is_not_a_retransmission() {
    let mut ex = Exchange::new(1_000);
    ex.send(30, 0);
    ex.ack(50, 1);
    let probe = tcp(
        true,
        TcpControl::None,
        ex.seq(1) - 1,
        Some(ex.server_isn + 1),
        1,
    );
    let class = ex.tracker.observe(ms(5000), &probe, true);
    assert!(matches!(
        class,
        Observation::Tcp {
            class: SegmentClass::Normal,
            ..
        }
    ));
    assert_eq!(ex.stats().retransmitted_segments, 0);
}

#[test]
fn truncated_and_garbage_packets_are_counted_not_fatal() {
    let mut tracker = FlowTracker::new();
    let good = tcp(true, TcpControl::Psh, 1, Some(1), 100);
    for cut in [0, 1, 10, 19, 20, 30, 39, 100] {
        let observation = tracker.observe(ms(1), &good[..cut], true);
        assert!(
            matches!(observation, Observation::Malformed { .. }),
            "cut {cut}: {observation:?}"
        );
    }
    // A valid IPv4 header whose TCP data offset points past the payload.
    let mut bad_offset = tcp(true, TcpControl::Psh, 1, Some(1), 0);
    bad_offset[32] = 0xf0;
    assert!(matches!(
        tracker.observe(ms(1), &bad_offset, true),
        Observation::Malformed {
            error: FlowError::TcpHeader { .. }
        }
    ));
    let mut ipv6ish = good.clone();
    ipv6ish[0] = 0x65;
    assert!(matches!(
        tracker.observe(ms(1), &ipv6ish, true),
        Observation::Malformed {
            error: FlowError::NotIpv4 { version: 6, .. }
        }
    ));
    assert_eq!(tracker.malformed(), 10);
    // Pseudo-random garbage, including headers that pass the length checks.
    let mut state = 0x1234_5678_u32;
    for _ in 0..2000 {
        let mut bytes = good.clone();
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let index = state as usize % bytes.len();
            bytes[index] = (state >> 8) as u8;
        }
        let len = state as usize % (bytes.len() + 1);
        tracker.observe(ms(2), &bytes[..len], state & 1 == 0);
    }
    assert!(tracker.malformed() > 10);
}

#[test]
fn udp_datagrams_are_counted_per_direction() {
    let mut tracker = FlowTracker::new();
    let repr = UdpRepr {
        src_port: 5000,
        dst_port: 6000,
    };
    for (i, size) in [10usize, 200, 0].into_iter().enumerate() {
        let ip = Ipv4Repr {
            src_addr: CLIENT,
            dst_addr: SERVER,
            next_header: IpProtocol::Udp,
            payload_len: 8 + size,
            hop_limit: 64,
        };
        let mut buf = vec![0u8; ip.buffer_len() + 8 + size];
        let caps = ChecksumCapabilities::default();
        let mut ip_packet = Ipv4Packet::new_unchecked(&mut buf[..]);
        ip.emit(&mut ip_packet, &caps);
        let mut udp = UdpPacket::new_unchecked(ip_packet.payload_mut());
        repr.emit(
            &mut udp,
            &IpAddress::Ipv4(CLIENT),
            &IpAddress::Ipv4(SERVER),
            size,
            |payload| payload.fill(1),
            &caps,
        );
        tracker.observe(ms(i as u64), &buf, true);
    }
    let flows: Vec<_> = tracker.udp_flows().collect();
    assert_eq!(flows.len(), 1);
    let (key, stats) = flows[0];
    assert_eq!(key.src, SocketAddrV4::new(CLIENT, 5000));
    assert_eq!(stats.datagrams, 3);
    assert_eq!(stats.payload_bytes, 210);
    assert_eq!(stats.wire_bytes, 3 * 28 + 210);
    assert_eq!((stats.first_seen, stats.last_seen), (ms(0), ms(2)));
}

#[test]
fn other_protocols_and_fragments_are_ignored() {
    let mut tracker = FlowTracker::new();
    let mut icmp = tcp(true, TcpControl::None, 1, Some(1), 0);
    icmp[9] = 1; // protocol = ICMP
    assert_eq!(
        tracker.observe(ms(0), &icmp, true),
        Observation::Ignored { protocol: 1 }
    );
    let mut fragment = tcp(true, TcpControl::None, 1, Some(1), 8);
    fragment[6] = 0x20; // more fragments
    assert_eq!(
        tracker.observe(ms(0), &fragment, true),
        Observation::Ignored { protocol: 6 }
    );
    assert_eq!((tracker.ignored(), tracker.malformed()), (2, 0));
    assert_eq!(tracker.tcp_flows().count(), 0);
}
