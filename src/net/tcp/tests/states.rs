//! The RFC 9293 state machine: opens and closes of every kind, and FIN and
//! RST in every state.

use super::script::{ms, simple, Script, MSS, OUR_ISS};
use crate::net::tcp::config::TcpConfig;
use crate::net::tcp::conn::{Connection, Event, State, TcpError};
use crate::net::tcp::seq::SeqNum;

pub(super) const ALL: [State; 11] = [
    State::Closed,
    State::Listen,
    State::SynSent,
    State::SynReceived,
    State::Established,
    State::FinWait1,
    State::FinWait2,
    State::CloseWait,
    State::Closing,
    State::LastAck,
    State::TimeWait,
];

/// A connection driven into `state` by the scripted peer.
pub(super) fn reach(state: State) -> Script {
    let established = || {
        let mut s = Script::established(simple(true, false), ms(100));
        s.now = ms(200);
        s
    };
    let fin_wait_1 = || {
        let mut s = established();
        s.conn.close();
        assert!(s.drain()[0].header.flags.fin());
        s
    };
    let mut s = match state {
        State::Listen => Script::listening(simple(true, false)),
        State::SynSent => {
            let mut s = Script::listening(simple(true, false));
            s.conn = Connection::connect(ms(0), simple(true, false), 1000, 80, SeqNum(OUR_ISS));
            s.drain();
            s
        }
        State::SynReceived => {
            let mut s = Script::listening(simple(true, false));
            s.syn();
            assert!(s.drain()[0].header.flags.syn());
            s
        }
        State::Established => established(),
        State::FinWait1 => fin_wait_1(),
        State::FinWait2 => {
            let mut s = fin_wait_1();
            s.ack(2, &[]);
            s
        }
        State::CloseWait => {
            let mut s = established();
            s.fin(1);
            s.drain();
            s
        }
        State::Closing => {
            let mut s = fin_wait_1();
            s.fin(1);
            s.drain();
            s
        }
        State::LastAck => {
            let mut s = reach(State::CloseWait);
            s.conn.close();
            s.drain();
            s
        }
        State::TimeWait => {
            let mut s = reach(State::FinWait2);
            s.fin(2);
            s.drain();
            s
        }
        State::Closed => {
            let mut s = reach(State::LastAck);
            s.ack(2, &[]);
            s
        }
    };
    assert_eq!(s.conn.state(), state);
    while s.conn.poll_event().is_some() {}
    s
}

fn events(s: &mut Script) -> Vec<Event> {
    std::iter::from_fn(|| s.conn.poll_event()).collect()
}

#[test]
fn rst_at_rcv_nxt_in_every_state() {
    for state in ALL {
        let mut s = reach(state);
        let ack = (state == State::SynSent).then_some(1);
        let at = s.peer_nxt;
        s.rst(at, ack);
        let after = s.conn.state();
        let events = events(&mut s);
        let expected_error = match state {
            State::SynSent | State::SynReceived => Some(TcpError::Refused),
            State::Closed | State::Listen => None,
            _ => Some(TcpError::Reset),
        };
        match expected_error {
            Some(error) => {
                assert_eq!(after, State::Closed, "{state:?}");
                assert_eq!(
                    events,
                    vec![Event::Error(error), Event::Closed],
                    "{state:?}"
                );
            }
            None => {
                assert_eq!(after, state, "{state:?}");
                assert!(events.is_empty(), "{state:?}");
            }
        }
        assert!(s.drain().is_empty(), "{state:?}: a reset is never answered");
    }
}

#[test]
fn rst_inside_the_window_but_off_rcv_nxt_gets_a_challenge_ack() {
    for state in ALL.into_iter().filter(|s| *s >= State::Established) {
        let mut s = reach(state);
        let at = s.peer_nxt + 100;
        s.rst(at, None);
        assert_eq!(s.conn.state(), state, "{state:?}");
        let out = s.drain();
        assert_eq!(out.len(), 1, "{state:?}");
        assert!(out[0].header.flags.ack() && !out[0].header.flags.rst());
        // Far outside the window: silently dropped.
        s.rst(at + 1_000_000, None);
        assert!(s.drain().is_empty(), "{state:?}");
        assert_eq!(s.conn.state(), state);
    }
}

#[test]
fn fin_in_every_state() {
    for state in ALL {
        let mut s = reach(state);
        let ours = match state {
            State::FinWait1 | State::Closing | State::LastAck => 1,
            State::FinWait2 | State::TimeWait | State::Closed => 2,
            _ => 1,
        };
        // A peer that already sent its FIN repeats it.
        let repeat = matches!(
            state,
            State::CloseWait | State::Closing | State::LastAck | State::TimeWait | State::Closed
        );
        if repeat {
            s.peer_nxt -= 1;
        }
        s.fin(ours);
        let out = s.drain();
        let expected = match state {
            State::Listen | State::SynSent => state,
            State::SynReceived | State::Established => State::CloseWait,
            State::FinWait1 => State::Closing,
            State::FinWait2 => State::TimeWait,
            other => other,
        };
        assert_eq!(s.conn.state(), expected, "{state:?}");
        match state {
            State::SynSent => assert!(out.is_empty(), "{state:?}: no SYN, dropped"),
            State::Listen | State::Closed => {
                assert!(
                    out[0].header.flags.rst(),
                    "{state:?}: answered with a reset"
                )
            }
            _ => {
                assert_eq!(out.len(), 1, "{state:?}: {out:?}");
                assert!(out[0].header.flags.ack() && !out[0].header.flags.rst());
                let acked = out[0].header.ack.0.wrapping_sub(super::script::PEER_ISS);
                assert_eq!(u64::from(acked), s.peer_nxt, "{state:?}: FIN acknowledged");
            }
        }
    }
}

#[test]
fn time_wait_lasts_the_configured_time() {
    let mut s = reach(State::TimeWait);
    let entered = s.now;
    assert_eq!(
        s.conn.poll_timeout(),
        Some(entered + TcpConfig::ns3().time_wait)
    );
    s.advance_to(entered + TcpConfig::ns3().time_wait);
    assert_eq!(s.conn.state(), State::Closed);
    assert_eq!(events(&mut s), vec![Event::Closed]);
}

#[test]
fn syn_in_a_synchronized_state_gets_a_challenge_ack() {
    let mut s = reach(State::Established);
    let mut header = s.header(1);
    header.flags = crate::net::tcp::wire::Flags::SYN;
    s.feed(header, &[]);
    assert_eq!(s.conn.state(), State::Established);
    let out = s.drain();
    assert_eq!(out.len(), 1);
    assert!(!out[0].header.flags.rst() && !out[0].header.flags.syn());
}

#[test]
fn syn_is_retransmitted_with_backoff_then_times_out() {
    let config = TcpConfig {
        max_retransmits: 3,
        ..simple(true, false)
    };
    let mut s = Script::listening(config.clone());
    s.conn = Connection::connect(ms(0), config, 1000, 80, SeqNum(OUR_ISS));
    assert_eq!(s.drain().len(), 1);
    let times: Vec<_> = s
        .advance_to(ms(60_000))
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(times, vec![ms(1_000), ms(3_000), ms(7_000)]);
    assert_eq!(s.conn.state(), State::Closed);
    assert_eq!(
        events(&mut s),
        vec![Event::Error(TcpError::TimedOut), Event::Closed]
    );
}

/// Two connections, segments handed over by hand.
fn exchange(a: &mut Connection, b: &mut Connection, now: std::time::Duration) -> usize {
    let mut moved = 0;
    loop {
        let from_a: Vec<_> = std::iter::from_fn(|| a.poll_transmit(now)).collect();
        let from_b: Vec<_> = std::iter::from_fn(|| b.poll_transmit(now)).collect();
        if from_a.is_empty() && from_b.is_empty() {
            return moved;
        }
        moved += from_a.len() + from_b.len();
        for seg in &from_a {
            b.handle_segment(now, &seg.repr());
        }
        for seg in &from_b {
            a.handle_segment(now, &seg.repr());
        }
    }
}

#[test]
fn simultaneous_open_and_simultaneous_close() {
    let config = TcpConfig::linux();
    let mut a = Connection::connect(ms(0), config.clone(), 5000, 6000, SeqNum(1));
    let mut b = Connection::connect(ms(0), config, 6000, 5000, SeqNum(u32::MAX));
    // The SYNs cross: each side answers with SYN-ACK.
    let syn_a = a.poll_transmit(ms(0)).expect("SYN");
    let syn_b = b.poll_transmit(ms(0)).expect("SYN");
    a.handle_segment(ms(10), &syn_b.repr());
    b.handle_segment(ms(10), &syn_a.repr());
    assert_eq!(
        (a.state(), b.state()),
        (State::SynReceived, State::SynReceived)
    );
    exchange(&mut a, &mut b, ms(20));
    assert_eq!(
        (a.state(), b.state()),
        (State::Established, State::Established)
    );
    // Both close at once: the FINs cross.
    a.close();
    b.close();
    let fin_a = a.poll_transmit(ms(30)).expect("FIN");
    let fin_b = b.poll_transmit(ms(30)).expect("FIN");
    a.handle_segment(ms(40), &fin_b.repr());
    b.handle_segment(ms(40), &fin_a.repr());
    assert_eq!((a.state(), b.state()), (State::Closing, State::Closing));
    exchange(&mut a, &mut b, ms(50));
    assert_eq!((a.state(), b.state()), (State::TimeWait, State::TimeWait));
}

#[test]
fn half_close_keeps_the_other_direction_open() {
    let mut s = reach(State::FinWait2);
    // We closed; the peer still sends, and we acknowledge and deliver it.
    s.data_at(1, 500, 2);
    s.now += ms(300);
    s.conn.handle_timeout(s.now);
    let out = s.drain();
    assert_eq!(Script::acked(&out[0]), 501);
    let mut buf = [0u8; 600];
    assert_eq!(s.conn.recv(&mut buf), 500);
    // The other half: the peer's FIN ends it.
    s.peer_nxt = 501;
    s.fin(2);
    assert_eq!(s.conn.state(), State::TimeWait);
    assert!(s.conn.peer_closed());
    // And in CLOSE-WAIT we can still send.
    let mut s = reach(State::CloseWait);
    assert_eq!(s.send(2 * MSS as usize).len(), 2);
}

#[test]
fn data_queued_before_the_handshake_is_sent_after_it_even_if_closed() {
    let mut s = Script::listening(simple(true, false));
    s.conn = Connection::connect(ms(0), simple(true, false), 1000, 80, SeqNum(OUR_ISS));
    assert_eq!(s.conn.send(b"early"), 5);
    s.conn.close();
    assert_eq!(s.conn.state(), State::SynSent);
    assert_eq!(s.drain().len(), 1, "only the SYN");
}
