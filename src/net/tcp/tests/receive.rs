//! The receive side and flow control: delayed and immediate ACKs, SACK
//! blocks and D-SACK, quick-ACK, window updates, zero-window probes,
//! silly-window avoidance, Nagle, window scaling and wraparound.

use super::script::{ms, offsets, simple, Script, MSS, OUR_ISS, PEER_ISS};
use crate::net::tcp::config::TcpConfig;
use crate::net::tcp::conn::Segment;
use crate::net::tcp::seq::SeqNum;

fn sacks(seg: &Segment) -> Vec<(u64, u64)> {
    let peer = |s: SeqNum| u64::from(s.0.wrapping_sub(PEER_ISS));
    seg.header
        .options
        .sack
        .as_slice()
        .iter()
        .map(|&(l, r)| (peer(l), peer(r)))
        .collect()
}

#[test]
fn delayed_ack_after_two_segments_or_the_timeout() {
    let mut s = Script::established(simple(true, false), ms(100));
    s.data_at(1, 1000, 1);
    assert!(s.drain().is_empty(), "first segment: ACK delayed");
    assert_eq!(
        s.conn.poll_timeout(),
        Some(ms(300)),
        "200 ms delayed-ACK timer"
    );
    s.data_at(1001, 1000, 1);
    let out = s.drain();
    assert_eq!(out.len(), 1, "second segment: ACK at once");
    assert_eq!(Script::acked(&out[0]), 2001);
    s.data_at(2001, 1000, 1);
    assert!(s.drain().is_empty());
    let out = s.advance_to(ms(400));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, ms(300));
    assert_eq!(Script::acked(&out[0].1), 3001);
}

#[test]
fn out_of_order_data_is_acked_at_once_with_sack_blocks_newest_first() {
    let mut s = Script::established(simple(true, false), ms(100));
    s.data_at(1001, 1000, 1);
    let out = s.drain();
    assert_eq!(Script::acked(&out[0]), 1);
    assert_eq!(sacks(&out[0]), vec![(1001, 2001)]);
    s.data_at(3001, 1000, 1);
    let out = s.drain();
    assert_eq!(sacks(&out[0]), vec![(3001, 4001), (1001, 2001)]);
    // Filling the first hole is acknowledged at once too.
    s.data_at(1, 1000, 1);
    let out = s.drain();
    assert_eq!(Script::acked(&out[0]), 2001);
    assert_eq!(sacks(&out[0]), vec![(3001, 4001)]);
    let mut buf = [0u8; 4000];
    assert_eq!(s.conn.recv(&mut buf), 2000);
}

#[test]
fn duplicate_data_is_reported_as_a_dsack() {
    let mut s = Script::established(simple(true, false), ms(100));
    s.data_at(1, 1000, 1);
    s.data_at(1001, 1000, 1);
    s.drain();
    s.data_at(1, 1000, 1);
    let out = s.drain();
    assert_eq!(out.len(), 1, "a duplicate is acknowledged at once");
    assert_eq!(Script::acked(&out[0]), 2001);
    assert_eq!(
        sacks(&out[0]),
        vec![(1, 1001)],
        "D-SACK below the cumulative ACK"
    );
    // A duplicate of held out-of-order data: D-SACK, then the held range.
    s.data_at(3001, 1000, 1);
    s.drain();
    s.data_at(3001, 1000, 1);
    assert_eq!(sacks(&s.drain()[0]), vec![(3001, 4001), (3001, 4001)]);
}

#[test]
fn quick_ack_at_start_then_delayed_acks() {
    let config = TcpConfig {
        timestamps: false,
        mss: 1000,
        ..TcpConfig::linux()
    };
    let mut s = Script::established(config, ms(100));
    for i in 0..16 {
        s.data_at(1 + i * MSS, 1000, 1);
        assert_eq!(s.drain().len(), 1, "segment {i} acknowledged at once");
    }
    s.data_at(1 + 16 * MSS, 1000, 1);
    assert!(s.drain().is_empty(), "then every second segment");
    assert_eq!(s.conn.poll_timeout(), Some(ms(140)), "40 ms delayed ACK");
}

#[test]
fn full_receive_buffer_closes_the_window_and_reading_reopens_it() {
    let config = TcpConfig {
        recv_buffer: 4000,
        ..simple(true, false)
    };
    let mut s = Script::established(config, ms(100));
    for i in 0..4 {
        s.data_at(1 + i * MSS, 1000, 1);
    }
    let out = s.drain();
    assert_eq!(out.last().map(|seg| seg.header.window), Some(0));
    // Data beyond the window is not taken.
    s.data_at(4001, 1000, 1);
    assert_eq!(Script::acked(&s.drain()[0]), 4001);
    let mut buf = [0u8; 500];
    assert_eq!(s.conn.recv(&mut buf), 500);
    assert!(
        s.drain().is_empty(),
        "half a segment: no update (silly window)"
    );
    let mut buf = [0u8; 3500];
    assert_eq!(s.conn.recv(&mut buf), 3500);
    let out = s.drain();
    assert_eq!(out.len(), 1, "window update");
    assert_eq!(out[0].header.window, 4000);
}

#[test]
fn zero_window_is_probed_with_backoff_until_it_opens() {
    let mut s = Script::established(simple(true, false), ms(100));
    assert_eq!(s.send(5 * MSS as usize).len(), 5);
    s.now = ms(200);
    s.peer_window = 0;
    s.ack(1 + 5 * MSS, &[]);
    assert!(s.send(3 * MSS as usize).is_empty(), "window closed");
    let probes = s.advance_to(ms(3_300));
    let times: Vec<_> = probes.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, vec![ms(1_200), ms(3_200)], "RTO, then doubled");
    for (_, probe) in &probes {
        assert!(probe.payload.is_empty());
        assert_eq!(
            Script::offset(probe),
            5 * MSS,
            "SND.UNA − 1: old, so answered"
        );
    }
    assert_eq!(s.conn.stats().zero_window_probes, 2);
    assert_eq!(s.conn.stats().rtos, 0, "probes are not timeouts");
    s.peer_window = 3000;
    s.ack(1 + 5 * MSS, &[]);
    assert_eq!(offsets(&s.drain()).len(), 3);
}

#[test]
fn sender_avoids_silly_segments_and_nagle_holds_small_ones() {
    let mut s = Script::established(simple(true, false), ms(100));
    s.peer_window = 1500;
    s.ack(1, &[]);
    assert_eq!(s.send(5000), vec![1], "a full segment, not the 500 left");
    let config = TcpConfig {
        nagle: true,
        ..simple(true, false)
    };
    let mut s = Script::established(config, ms(100));
    assert_eq!(s.send(100), vec![1]);
    assert!(
        s.send(100).is_empty(),
        "Nagle: small data waits for the ACK"
    );
    s.ack(101, &[]);
    assert_eq!(offsets(&s.drain()), vec![101]);
    let mut s = Script::established(simple(true, false), ms(100));
    assert_eq!(s.send(100), vec![1]);
    assert_eq!(s.send(100), vec![101], "without Nagle it goes at once");
}

#[test]
fn window_scaling_applies_both_ways_but_not_on_syns() {
    let config = TcpConfig {
        window_scaling: true,
        recv_buffer: 1 << 20,
        ..simple(true, false)
    };
    let mut s = Script::listening(config.clone());
    s.conn = crate::net::tcp::Connection::connect(ms(0), config, 1000, 80, SeqNum(OUR_ISS));
    let syn = s.drain();
    assert_eq!(
        syn[0].header.options.window_scale,
        Some(5),
        "1 MiB needs a shift of 5"
    );
    assert_eq!(syn[0].header.window, 0xffff, "unscaled on the SYN");
    let mut synack = s.header(1);
    synack.seq = SeqNum(PEER_ISS);
    synack.flags = synack.flags | crate::net::tcp::wire::Flags::SYN;
    synack.window = 1000;
    synack.options.window_scale = Some(2);
    synack.options.mss = Some(1000);
    synack.options.sack_permitted = true;
    s.now = ms(100);
    s.feed(synack, &[]);
    s.peer_nxt = 1;
    let ack = s.drain();
    assert_eq!(ack[0].header.window, ((1 << 20) >> 5) as u16);
    // The SYN-ACK's 1000 is not scaled: four segments need an update.
    s.peer_window = 1000;
    s.ack(1, &[]);
    assert_eq!(s.send(10 * MSS as usize).len(), 4, "1000 << 2 = 4000 bytes");
}

#[test]
fn sequence_numbers_wrap_at_two_to_the_32() {
    let mut s = Script::established(simple(true, false), ms(100));
    let segs = {
        s.conn.send(&[1; 5000]);
        s.drain()
    };
    let seqs: Vec<u32> = segs.iter().map(|seg| seg.header.seq.0).collect();
    assert_eq!(seqs[0], OUR_ISS.wrapping_add(1));
    assert!(
        seqs[2] > seqs[1] && seqs[3] < seqs[2],
        "the wrap falls inside segment 3: {seqs:?}"
    );
    assert!(SeqNum(seqs[3]) > SeqNum(seqs[2]), "yet it is later");
    s.ack(5001, &[]);
    assert_eq!(
        s.conn.send_queue(),
        0,
        "the ACK past the wrap frees everything"
    );
    // Receive side: the peer's ISN is 100 below the wrap.
    s.data_at(1, 1000, 5001);
    s.data_at(1001, 1000, 5001);
    let out = s.drain();
    assert_eq!(out[0].header.ack, SeqNum(PEER_ISS.wrapping_add(2001)));
    assert!(out[0].header.ack.0 < PEER_ISS);
}
