//! Received segments, per state (RFC 9293 §3.10.7).
//!
//! LISTEN takes a SYN; SYN-SENT takes the SYN-ACK (or a SYN: simultaneous
//! open); every synchronized state checks acceptability, then RST, SYN,
//! ACK, timestamps, data and FIN in that order. Resets and SYNs inside the
//! window but not at RCV.NXT get a challenge ACK (RFC 5961). Nothing here
//! trusts the segment: every number is checked before it moves state.

use std::time::Duration;

use super::{Connection, Event, State, TcpError};
use crate::net::tcp::cc::new_controller;
use crate::net::tcp::config::TcpConfig;
use crate::net::tcp::seq::SeqNum;
use crate::net::tcp::wire::{TcpOptions, TcpRepr};

/// MSS assumed when the peer's SYN carries no MSS option (RFC 9293).
const DEFAULT_MSS: u16 = 536;

impl Connection {
    /// Handles one segment addressed to this connection, received at `now`.
    pub fn handle_segment(&mut self, now: Duration, repr: &TcpRepr<'_>) {
        self.stats.segments_received += 1;
        match self.state {
            State::Closed => self.rst = super::output::reset_reply(repr),
            State::Listen => self.on_listen(repr),
            State::SynSent => self.on_syn_sent(now, repr),
            _ => self.on_synchronized(now, repr),
        }
    }

    /// Records what the peer's SYN offers and what that makes of ours.
    fn negotiate(&mut self, options: &TcpOptions) {
        let config = &self.config;
        self.neg.timestamps = config.timestamps && options.timestamps.is_some();
        self.neg.sack = config.sack && options.sack_permitted;
        self.neg.window_scaling = config.window_scaling && options.window_scale.is_some();
        if self.neg.window_scaling {
            self.neg.snd_shift = options.window_scale.unwrap_or(0);
            self.neg.rcv_shift = self.own_shift();
        }
        let own = config.mss + TcpConfig::timestamp_len(config.timestamps);
        let peer = options.mss.unwrap_or(DEFAULT_MSS);
        let raw = own.min(peer);
        let mss = raw
            .saturating_sub(TcpConfig::timestamp_len(self.neg.timestamps))
            .max(64);
        self.neg.mss = u64::from(mss);
        self.cc = new_controller(&self.config, self.neg.mss);
        if let Some(ts) = options.timestamps {
            self.ts_recent = ts.value;
        }
    }

    fn on_listen(&mut self, repr: &TcpRepr<'_>) {
        let h = &repr.header;
        if h.flags.rst() {
            return;
        }
        if h.flags.ack() {
            self.rst = super::output::reset_reply(repr);
            return;
        }
        if !h.flags.syn() {
            return;
        }
        self.remote_port = h.src_port;
        self.irs = h.seq;
        self.negotiate(&h.options);
        // Data on a SYN is not kept (no TCP Fast Open): the peer resends it.
        self.snd_wnd = u64::from(h.window);
        self.state = State::SynReceived;
        self.syn_pending = true;
    }

    fn on_syn_sent(&mut self, now: Duration, repr: &TcpRepr<'_>) {
        let h = &repr.header;
        let acks_syn = h.flags.ack() && h.ack == self.iss.wrapping_add(1);
        if h.flags.ack() && !acks_syn {
            if !h.flags.rst() {
                self.rst = super::output::reset_reply(repr);
            }
            return;
        }
        if h.flags.rst() {
            if acks_syn {
                self.fail(TcpError::Refused);
            }
            return;
        }
        if !h.flags.syn() {
            return;
        }
        self.irs = h.seq;
        self.negotiate(&h.options);
        self.rx.request_ack();
        if acks_syn {
            self.snd_una = 1;
            self.update_window(h.window.into(), 0, 1, true);
            if self.syn_transmissions == 1 {
                self.rtt.on_sample(now.saturating_sub(self.syn_sent_at));
                self.stats.rtt_samples += 1;
            }
            self.enter_established();
        } else {
            // Simultaneous open: answer with SYN-ACK, wait for its ACK.
            self.state = State::SynReceived;
            self.syn_pending = true;
        }
    }

    /// RFC 9293's acceptability test for a segment at receive offset `seq`.
    fn acceptable(&self, seq: u64, len: u64) -> bool {
        let nxt = self.rx.nxt();
        let wnd = self.rx_window();
        match (len, wnd) {
            (0, 0) => seq == nxt,
            (0, _) => seq >= nxt && seq < nxt + wnd,
            (_, 0) => false,
            _ => (seq >= nxt && seq < nxt + wnd) || (seq + len > nxt && seq + len <= nxt + wnd),
        }
    }

    fn rx_window(&self) -> u64 {
        // What we advertised, but at least what the buffer holds now.
        self.rx.window_now()
    }

    fn on_synchronized(&mut self, now: Duration, repr: &TcpRepr<'_>) {
        let h = repr.header;
        let seq = h.seq.unwrap_near(self.irs, self.rx.nxt());
        let len = repr.seq_len();
        if self.state == State::SynReceived && h.flags.syn() && !h.flags.ack() && h.seq == self.irs
        {
            // Our SYN-ACK was lost: the peer repeats its SYN.
            self.syn_pending = true;
            return;
        }
        if !self.acceptable(seq, len) {
            if !h.flags.rst() {
                let end = seq + repr.payload.len() as u64;
                if !repr.payload.is_empty() && end <= self.rx.nxt() && self.neg.sack {
                    // Data received before: report it as a D-SACK (RFC 2883).
                    self.rx.note_duplicate(seq, end);
                }
                self.rx.request_ack();
            }
            return;
        }
        if self.neg.timestamps && !h.flags.rst() {
            if let Some(ts) = h.options.timestamps {
                // PAWS (RFC 7323 §5): an older TSval is a stale duplicate.
                if SeqNum(ts.value) < SeqNum(self.ts_recent) {
                    self.rx.request_ack();
                    return;
                }
            }
        }
        if h.flags.rst() {
            if seq == self.rx.nxt() {
                let passive_open = self.state == State::SynReceived;
                self.fail(if passive_open {
                    TcpError::Refused
                } else {
                    TcpError::Reset
                });
            } else {
                self.rx.request_ack();
            }
            return;
        }
        if h.flags.syn() {
            // RFC 5961 §4: challenge ACK, never a reset of our state.
            self.rx.request_ack();
            return;
        }
        if !h.flags.ack() {
            return;
        }
        if self.state == State::SynReceived {
            if h.ack != self.iss.wrapping_add(1) {
                self.rst = super::output::reset_reply(repr);
                return;
            }
            self.snd_una = 1;
            self.update_window(h.window.into(), seq, 1, false);
            if self.syn_transmissions == 1 {
                self.rtt.on_sample(now.saturating_sub(self.syn_sent_at));
                self.stats.rtt_samples += 1;
            }
            self.enter_established();
        }
        if !self.on_ack(now, repr, seq) {
            return;
        }
        self.after_ack_state(now);
        if self.state == State::Closed {
            return;
        }
        if let Some(ts) = h.options.timestamps.filter(|_| self.neg.timestamps) {
            if seq <= self.last_ack_sent {
                self.ts_recent = ts.value;
            }
        }
        self.on_data(now, repr, seq);
    }

    /// Moves the closing states on when our FIN is acknowledged.
    fn after_ack_state(&mut self, now: Duration) {
        let fin_acked = self.fin_sent.is_some_and(|f| self.snd_una > f);
        match self.state {
            State::FinWait1 if fin_acked => self.state = State::FinWait2,
            State::Closing if fin_acked => self.enter_time_wait(now),
            State::LastAck if fin_acked => self.enter_closed(),
            _ => {}
        }
    }

    fn on_data(&mut self, now: Duration, repr: &TcpRepr<'_>, seq: u64) {
        let h = &repr.header;
        match self.state {
            State::Established | State::FinWait1 | State::FinWait2 => {}
            State::TimeWait if h.flags.fin() => {
                // A retransmitted FIN: our ACK was lost. ACK and restart.
                self.rx.request_ack();
                self.timers.time_wait = Some(now + self.config.time_wait);
                return;
            }
            _ => {
                if repr.seq_len() > 0 {
                    self.rx.request_ack();
                }
                return;
            }
        }
        if repr.payload.is_empty() && !h.flags.fin() {
            return;
        }
        let outcome = self.rx.on_data(now, seq, repr.payload, h.flags.fin());
        if outcome.readable > 0 {
            self.push_event(Event::Readable);
        }
        if outcome.fin {
            self.push_event(Event::PeerClosed);
            match self.state {
                State::Established => self.state = State::CloseWait,
                State::FinWait1 => self.state = State::Closing,
                State::FinWait2 => self.enter_time_wait(now),
                _ => {}
            }
        }
    }
}
