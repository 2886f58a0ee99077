//! Building the segments a connection sends: SYNs, retransmissions, tail
//! loss probes, zero-window probes, new data with Nagle and sender-side
//! silly-window avoidance, FINs, pure ACKs and resets.
//!
//! Priority in [`Connection::poll_transmit`]: a pending reset, the SYN, then
//! retransmissions of segments marked lost (NextSeg rule 1 of RFC 6675), a
//! probe, new data, and finally a pure ACK when one is due. Every segment
//! but a SYN carries the current ACK, window, timestamps and SACK blocks, so
//! a data segment clears a pending delayed ACK.

use std::time::Duration;

use super::{Connection, Recovery, State};
use crate::net::tcp::config::TcpConfig;
use crate::net::tcp::scoreboard::Sent;
use crate::net::tcp::seq::SeqNum;
use crate::net::tcp::wire::{Flags, SackBlocks, TcpHeader, TcpOptions, TcpRepr, Timestamps};

/// A segment to transmit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The header (ports, numbers, flags, window, options).
    pub header: TcpHeader,
    /// The payload.
    pub payload: Vec<u8>,
}

impl Segment {
    /// The segment as a parsed representation (what the peer receives).
    pub fn repr(&self) -> TcpRepr<'_> {
        TcpRepr {
            header: self.header,
            payload: &self.payload,
        }
    }

    /// Sequence space the segment occupies.
    pub fn seq_len(&self) -> u64 {
        self.repr().seq_len()
    }
}

/// Largest window shift that fits `buffer` into the 16-bit field.
fn wanted_shift(buffer: usize) -> u8 {
    let mut shift = 0u8;
    while shift < 14 && (buffer >> shift) > 0xffff {
        shift += 1;
    }
    shift
}

impl Connection {
    /// The next segment to send at `now`, if any.
    pub fn poll_transmit(&mut self, now: Duration) -> Option<Segment> {
        if let Some(header) = self.rst.take() {
            self.stats.segments_sent += 1;
            return Some(Segment {
                header,
                payload: Vec::new(),
            });
        }
        let segment = match self.state {
            State::Closed | State::Listen => None,
            State::SynSent | State::SynReceived if self.syn_pending => Some(self.syn(now)),
            State::SynSent | State::SynReceived => None,
            State::FinWait2 | State::TimeWait => None,
            _ => self.poll_data(now),
        };
        let segment = segment.or_else(|| self.poll_ack(now));
        if segment.is_some() {
            self.stats.segments_sent += 1;
        }
        segment
    }

    fn syn(&mut self, now: Duration) -> Segment {
        self.syn_pending = false;
        self.syn_sent_at = now;
        self.syn_transmissions += 1;
        self.snd_nxt = self.snd_nxt.max(1);
        let passive = self.state == State::SynReceived;
        let config = &self.config;
        let offer = |wanted: bool, peer: bool| wanted && (!passive || peer);
        let mut options = TcpOptions {
            mss: Some(
                config.mss
                    + TcpConfig::timestamp_len(offer(config.timestamps, self.neg.timestamps)),
            ),
            sack_permitted: offer(config.sack, self.neg.sack),
            ..TcpOptions::default()
        };
        if offer(config.window_scaling, self.neg.window_scaling) {
            options.window_scale = Some(wanted_shift(config.recv_buffer));
        }
        if offer(config.timestamps, self.neg.timestamps) {
            let echo = if passive { self.ts_recent } else { 0 };
            options.timestamps = Some(Timestamps {
                value: self.ts_value(now),
                echo,
            });
        }
        let mut flags = Flags::SYN;
        if passive {
            flags = flags | Flags::ACK;
            self.rx.on_ack_sent();
        }
        if self.timers.rtx.is_none() {
            self.timers.arm_rto(now, self.rtt.rto());
        }
        Segment {
            header: TcpHeader {
                src_port: self.local_port,
                dst_port: self.remote_port,
                seq: self.iss,
                ack: self.recv_seq(self.rx.nxt()),
                flags,
                window: self.config.recv_buffer.min(0xffff) as u16,
                options,
            },
            payload: Vec::new(),
        }
    }

    fn poll_data(&mut self, now: Duration) -> Option<Segment> {
        if let Some(seg) = self.board.next_lost().copied() {
            let room = self.cc.cwnd().saturating_sub(self.flight());
            if room >= seg.span() || self.tlp_pending {
                self.tlp_pending = false;
                return Some(self.retransmit(now, seg));
            }
        }
        if self.tlp_pending {
            self.tlp_pending = false;
            if let Some(segment) = self.new_data(now, false) {
                self.note_probe(false);
                return Some(segment);
            }
            if let Some(last) = self.board.last().copied() {
                let segment = self.retransmit(now, last);
                self.note_probe(true);
                return Some(segment);
            }
        }
        if self.zero_window_probe_pending {
            self.zero_window_probe_pending = false;
            // An old sequence number (SND.UNA − 1) makes the peer answer
            // with an ACK carrying its window, without taking any data.
            let seq = self.send_seq(self.snd_una).wrapping_add(u32::MAX);
            return Some(self.control(now, seq, Flags::ACK));
        }
        let segment = self.new_data(now, true);
        if segment.is_none() && self.timers.rtx.is_none() {
            // Data held back by a closed window needs the persist timer.
            self.arm_rtx_timer(now);
        }
        segment
    }

    fn retransmit(&mut self, now: Duration, seg: Sent) -> Segment {
        let data_end = seg.end - u64::from(seg.fin);
        let payload = self.buffered(seg.start, data_end);
        let mut flags = Flags::ACK;
        if seg.fin {
            flags = flags | Flags::FIN;
        }
        self.board.retransmitted(seg.start, now);
        self.stats.retransmitted_segments += 1;
        self.stats.retransmitted_bytes += payload.len() as u64;
        if matches!(self.recovery, Recovery::Fast { .. }) {
            self.stats.fast_retransmits += 1;
        }
        if let Some(prr) = &mut self.prr {
            prr.on_sent(seg.span());
        }
        self.ensure_rtx_timer(now);
        let mut header = self.header(now, self.send_seq(seg.start), flags);
        if !payload.is_empty() && data_end == self.buf_base + self.send_buf.len() as u64 {
            header.flags = header.flags | Flags::PSH;
        }
        Segment { header, payload }
    }

    /// Bytes of the send buffer at offsets `[start, end)`.
    fn buffered(&self, start: u64, end: u64) -> Vec<u8> {
        let from = start.saturating_sub(self.buf_base) as usize;
        let to = (end.saturating_sub(self.buf_base) as usize).min(self.send_buf.len());
        let from = from.min(to);
        let (head, tail) = self.send_buf.as_slices();
        let mut out = Vec::with_capacity(to - from);
        if from < head.len() {
            out.extend_from_slice(&head[from..to.min(head.len())]);
        }
        if to > head.len() {
            out.extend_from_slice(&tail[from.saturating_sub(head.len())..to - head.len()]);
        }
        out
    }

    /// Bytes queued but never sent.
    fn unsent(&self) -> u64 {
        (self.buf_base + self.send_buf.len() as u64).saturating_sub(self.snd_nxt.max(1))
    }

    /// Whether data or a FIN waits to be sent.
    pub(super) fn has_unsent(&self) -> bool {
        self.unsent() > 0 || (self.fin_queued && self.fin_sent.is_none())
    }

    /// Room in the peer's window beyond what is in flight.
    pub(super) fn snd_wnd_room(&self) -> u64 {
        (self.snd_una + self.snd_wnd).saturating_sub(self.snd_nxt)
    }

    /// The next segment of new data (and FIN), if windows, Nagle and
    /// silly-window avoidance allow one. `check_cwnd` is false for a probe.
    fn new_data(&mut self, now: Duration, check_cwnd: bool) -> Option<Segment> {
        if self.state == State::SynSent || self.state == State::SynReceived {
            return None;
        }
        let unsent = self.unsent();
        let fin_ready = self.fin_queued && self.fin_sent.is_none();
        if unsent == 0 && !fin_ready {
            return None;
        }
        let mss = self.neg.mss;
        let wnd_room = self.snd_wnd_room();
        let wanted = unsent.min(mss);
        if check_cwnd && self.cc.cwnd().saturating_sub(self.flight()) < wanted.max(1) {
            return None;
        }
        let len = wanted.min(wnd_room);
        if len < wanted {
            // Window-limited: avoid silly segments unless half the largest
            // window fits, or nothing is in flight to elicit an update.
            let half = len * 2 >= self.max_snd_wnd;
            if len == 0 || !(half || self.board.is_empty()) {
                return None;
            }
        }
        if len < mss && len == unsent && self.config.nagle && !self.board.is_empty() && !fin_ready {
            return None;
        }
        let fin = fin_ready && len == unsent && wnd_room > len;
        if len == 0 && !fin {
            return None;
        }
        let start = self.snd_nxt.max(1);
        let payload = self.buffered(start, start + len);
        let end = start + len + u64::from(fin);
        self.board.push(start, end, fin, now);
        self.snd_nxt = end;
        self.stats.bytes_sent += len;
        if let Some(prr) = &mut self.prr {
            prr.on_sent(end - start);
        }
        let mut flags = Flags::ACK;
        if fin {
            self.fin_sent = Some(start + len);
            flags = flags | Flags::FIN;
        }
        if len == unsent && len > 0 {
            flags = flags | Flags::PSH;
        }
        self.ensure_rtx_timer(now);
        let header = self.header(now, self.send_seq(start), flags);
        Some(Segment { header, payload })
    }

    fn poll_ack(&mut self, now: Duration) -> Option<Segment> {
        if !self.rx.ack_now()
            || matches!(self.state, State::Closed | State::Listen | State::SynSent)
        {
            return None;
        }
        let seq = self.send_seq(self.snd_nxt);
        Some(self.control(now, seq, Flags::ACK))
    }

    fn control(&mut self, now: Duration, seq: SeqNum, flags: Flags) -> Segment {
        Segment {
            header: self.header(now, seq, flags),
            payload: Vec::new(),
        }
    }

    /// A header with our ACK, window, timestamps and SACK blocks; marks the
    /// pending ACK sent.
    fn header(&mut self, now: Duration, seq: SeqNum, flags: Flags) -> TcpHeader {
        let window =
            self.rx.advertise(self.neg.rcv_shift, self.neg.mss as usize) >> self.neg.rcv_shift;
        let mut options = TcpOptions::default();
        if self.neg.timestamps {
            options.timestamps = Some(Timestamps {
                value: self.ts_value(now),
                echo: self.ts_recent,
            });
        }
        if self.neg.sack {
            let mut blocks = std::mem::take(&mut self.scratch);
            self.rx.sack_blocks(&mut blocks);
            let mut sack = SackBlocks::default();
            for &(left, right) in &blocks {
                sack.push(self.recv_seq(left), self.recv_seq(right));
            }
            options.sack = sack;
            self.scratch = blocks;
        }
        self.rx.on_ack_sent();
        self.last_ack_sent = self.rx.nxt();
        TcpHeader {
            src_port: self.local_port,
            dst_port: self.remote_port,
            seq,
            ack: self.recv_seq(self.rx.nxt()),
            flags,
            // advertise() caps the window at 0xffff << shift.
            window: window.min(0xffff) as u16,
            options,
        }
    }

    /// Our reset, for an abort or a fatal timeout.
    pub(super) fn own_rst(&self) -> TcpHeader {
        TcpHeader {
            src_port: self.local_port,
            dst_port: self.remote_port,
            seq: self.send_seq(self.snd_nxt),
            ack: self.recv_seq(self.rx.nxt()),
            flags: Flags::RST | Flags::ACK,
            window: 0,
            options: TcpOptions::default(),
        }
    }

    /// The window shift this side asks for.
    pub(super) fn own_shift(&self) -> u8 {
        wanted_shift(self.config.recv_buffer)
    }
}

/// The reset that answers `repr` (RFC 9293 §3.10.7.1), or `None` if
/// `repr` is itself a reset.
pub(super) fn reset_reply(repr: &TcpRepr<'_>) -> Option<TcpHeader> {
    let h = &repr.header;
    if h.flags.rst() {
        return None;
    }
    let (seq, ack, flags) = if h.flags.ack() {
        (h.ack, SeqNum(0), Flags::RST)
    } else {
        // seq_len of one segment fits u32 (payload ≤ 64 KiB).
        (
            SeqNum(0),
            h.seq.wrapping_add(repr.seq_len() as u32),
            Flags::RST | Flags::ACK,
        )
    };
    Some(TcpHeader {
        src_port: h.dst_port,
        dst_port: h.src_port,
        seq,
        ack,
        flags,
        window: 0,
        options: TcpOptions::default(),
    })
}
