//! Seeded mutation tests: random bytes against the parser, random segments
//! against a connection in every state. Nothing may panic, and what a
//! connection holds stays within its buffers.

use std::time::Duration;

use super::pair::Rng;
use super::script::{Script, OUR_ISS, PEER_ISS};
use super::states::{reach, ALL};
use crate::net::tcp::conn::{Event, State};
use crate::net::tcp::seq::SeqNum;
use crate::net::tcp::wire::{Flags, SackBlocks, TcpHeader, TcpOptions, TcpRepr, Timestamps};

const SRC: [u8; 4] = [10, 0, 0, 1];
const DST: [u8; 4] = [10, 0, 0, 2];

/// A random header; `near` numbers stay close to the connection's so that
/// many segments get past the acceptability test.
fn random_header(rng: &mut Rng, s: &Script, near: bool, high: u64) -> TcpHeader {
    let jitter = |rng: &mut Rng, base: u32, span: u64| {
        base.wrapping_add(rng.below(span) as u32)
            .wrapping_sub((span / 2) as u32)
    };
    let (seq, ack) = if near {
        let seq = SeqNum::from_offset(SeqNum(PEER_ISS), s.peer_nxt).0;
        let seq = if rng.chance(0.5) {
            seq.wrapping_add(1000 * rng.below(4) as u32)
        } else {
            jitter(rng, seq, 8000)
        };
        let ack = if rng.chance(0.8) {
            SeqNum::from_offset(SeqNum(OUR_ISS), rng.below(high + 2)).0
        } else {
            jitter(rng, OUR_ISS, 200_000)
        };
        (seq, ack)
    } else {
        (rng.next_u64() as u32, rng.next_u64() as u32)
    };
    let mut options = TcpOptions::default();
    if rng.chance(0.2) {
        options.mss = Some(rng.below(70_000) as u16);
    }
    if rng.chance(0.1) {
        options.window_scale = Some(rng.below(20) as u8);
    }
    options.sack_permitted = rng.chance(0.1);
    if rng.chance(0.4) {
        let mut blocks = SackBlocks::default();
        for _ in 0..rng.below(5) {
            let l = if near {
                ack.wrapping_add(rng.below(high + 1) as u32)
            } else {
                jitter(rng, ack, 100_000)
            };
            let r = if rng.chance(0.8) {
                l.wrapping_add(rng.below(5000) as u32)
            } else {
                rng.next_u64() as u32
            };
            blocks.push(SeqNum(l), SeqNum(r));
        }
        options.sack = blocks;
    }
    if rng.chance(0.5) {
        options.timestamps = Some(Timestamps {
            value: rng.next_u64() as u32,
            echo: rng.next_u64() as u32,
        });
    }
    let mut flags = Flags((rng.next_u64() & 0x3f) as u8);
    if near && rng.chance(0.97) {
        // Mostly well-formed traffic: ACK, sometimes PSH, rarely FIN.
        flags = Flags(flags.0 & Flags::PSH.0) | Flags::ACK;
        if rng.chance(0.01) {
            flags = flags | Flags::FIN;
        }
    }
    TcpHeader {
        src_port: 80,
        dst_port: 1000,
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags,
        window: rng.next_u64() as u16,
        options,
    }
}

#[test]
fn parser_survives_mutated_segments() {
    let mut rng = Rng(0x5eed);
    let s = Script::listening(super::script::simple(true, true));
    let mut parsed = 0;
    for i in 0..100_000 {
        let header = random_header(&mut rng, &s, i % 2 == 0, 10_000);
        let payload = vec![0xa5; rng.below(100) as usize];
        let mut bytes = header.to_bytes(&payload, SRC.into(), DST.into());
        for _ in 0..rng.below(6) {
            let at = rng.below(bytes.len() as u64) as usize;
            bytes[at] = rng.next_u64() as u8;
        }
        if rng.chance(0.2) {
            bytes.truncate(rng.below(bytes.len() as u64 + 1) as usize);
        }
        let check = rng.chance(0.5).then_some((SRC.into(), DST.into()));
        if let Ok(repr) = TcpRepr::parse(&bytes, check) {
            parsed += 1;
            // What parses emits to bytes that parse again.
            let again = repr.header.to_bytes(repr.payload, SRC.into(), DST.into());
            let reparsed = TcpRepr::parse(&again, Some((SRC.into(), DST.into())));
            assert!(reparsed.is_ok(), "{:?}", repr.header);
        }
    }
    assert!(
        parsed > 10_000,
        "the mutations leave many segments valid: {parsed}"
    );
}

#[test]
fn connections_in_every_state_survive_random_segments() {
    let mut rng = Rng(0xf00d);
    let mut total = 0;
    let mut transitions = std::collections::BTreeSet::new();
    let mut readable = 0u64;
    for state in ALL {
        for round in 0..4 {
            let mut s = reach(state);
            let config_recv = 60_000;
            let mut high = 1;
            for i in 0..3_000 {
                if s.conn.state() == State::Closed && state != State::Closed {
                    // Start again so the segments test the state, not CLOSED.
                    s = reach(state);
                    high = 1;
                }
                let before = s.conn.state();
                let near = rng.chance(0.8);
                let header = random_header(&mut rng, &s, near, high);
                let len = if rng.chance(0.3) {
                    0
                } else {
                    rng.below(1500) as usize
                };
                let payload = vec![i as u8; len];
                s.feed(header, &payload);
                total += 1;
                if rng.chance(0.3) {
                    s.now += Duration::from_millis(rng.below(400));
                    let now = s.now;
                    if s.conn.poll_timeout().is_some_and(|t| t <= now) {
                        s.conn.handle_timeout(now);
                    }
                }
                match rng.below(20) {
                    0 | 4 | 5 => {
                        s.conn.send(&vec![1; rng.below(5000) as usize]);
                    }
                    1 => {
                        let mut buf = vec![0; rng.below(5000) as usize];
                        s.conn.recv(&mut buf);
                    }
                    2 if round > 1 => s.conn.close(),
                    3 if round == 3 && rng.chance(0.05) => s.conn.abort(),
                    _ => {}
                }
                let sent = s.drain();
                for seg in &sent {
                    high = high.max(Script::offset(seg) + seg.seq_len());
                    if seg.header.flags.ack() {
                        s.peer_nxt = s.peer_nxt.max(Script::acked(seg));
                    }
                }
                assert!(sent.len() < 2_000, "{state:?}: burst of {}", sent.len());
                while let Some(event) = s.conn.poll_event() {
                    readable += u64::from(event == Event::Readable);
                }
                if before != s.conn.state() {
                    transitions.insert((before, s.conn.state()));
                }
                assert!(s.conn.readable() + s.conn.out_of_order_bytes() <= config_recv);
                assert!(s.conn.send_queue() <= 4 << 20);
            }
        }
    }
    assert!(total >= 100_000, "{total}");
    // The random segments drove real traffic and state changes.
    assert!(readable > 1_000, "{readable}");
    assert!(transitions.len() >= 20, "{transitions:?}");
}
