//! The sender's side of an ACK: SACK blocks and D-SACK, the cumulative
//! ACK, RTT samples, window updates, loss detection, recovery and
//! congestion control.
//!
//! Loss detection, by configuration: RACK (RFC 8985) when `rack` and SACK
//! are on; the IsLost rule of RFC 6675 with SACK alone; three duplicate
//! ACKs without SACK. Recovery starts when anything is marked lost, lasts
//! until SND.NXT at its start is acknowledged (NewReno and SACK; Reno ends
//! it at the first new ACK) and paces transmissions with PRR (RFC 6937) or,
//! without PRR, drops `cwnd` to `ssthresh` at once. Without SACK, each
//! duplicate ACK counts one segment as delivered (as Linux does), which is
//! what makes limited transmit (RFC 3042) and NewReno's inflation work.

use std::time::Duration;

use super::{Connection, Event, Recovery};
use crate::net::tcp::cc::AckSample;
use crate::net::tcp::config::CongestionKind;
use crate::net::tcp::prr::Prr;
use crate::net::tcp::scoreboard::Delivered;
use crate::net::tcp::seq::SeqNum;
use crate::net::tcp::wire::TcpRepr;

impl Connection {
    /// Processes the ACK field of an acceptable segment at receive offset
    /// `seq`. Returns false when the segment must be dropped (it
    /// acknowledges data never sent).
    pub(super) fn on_ack(&mut self, now: Duration, repr: &TcpRepr<'_>, seq: u64) -> bool {
        let h = &repr.header;
        let ack = h.ack.unwrap_near(self.iss, self.snd_una);
        if ack > self.snd_nxt {
            self.rx.request_ack();
            return false;
        }
        if ack < self.snd_una {
            // An old ACK: its data may still be new, its window is stale.
            return true;
        }
        let advanced = ack > self.snd_una;
        let old_wnd = self.snd_wnd;
        self.update_window(h.window.into(), seq, ack, false);
        let dup_bytes_before = self.reno_dup_bytes();
        let mut delivered = Delivered::default();
        let dsack = if self.neg.sack {
            self.process_sack(repr, ack, &mut delivered)
        } else {
            false
        };
        if advanced {
            delivered.merge(self.board.ack(ack));
            self.snd_una = ack;
            self.dupacks = 0;
            let drop = (ack.saturating_sub(self.buf_base) as usize).min(self.send_buf.len());
            if drop > 0 {
                self.send_buf.drain(..drop);
                self.buf_base += drop as u64;
                self.push_event(Event::Writable);
            }
        } else if repr.payload.is_empty()
            && !h.flags.fin()
            && !self.board.is_empty()
            && self.snd_wnd == old_wnd
        {
            self.dupacks += 1;
        }
        let sample = self.take_rtt_sample(now, repr, advanced, &delivered);
        self.check_spurious_rto(repr, advanced);
        if let Some(newest) = delivered.newest {
            self.rack.on_delivered(now, newest, self.rtt.min_rtt());
        }
        if let Some(low) = delivered.lowest_original_end {
            self.rack.on_segment_delivered(low, false);
        }
        if let Some(high) = delivered.highest_end {
            self.rack.on_segment_delivered(high, true);
        }
        self.check_probe(now, dsack);
        // Bytes delivered as PRR and the window see them; without SACK a
        // duplicate ACK stands for one segment that left the network.
        let mut acked = delivered.bytes;
        if !self.neg.sack {
            acked = acked.saturating_sub(dup_bytes_before);
            if advanced {
                // The segment that filled the hole certainly arrived.
                acked = acked.max(self.neg.mss.min(delivered.bytes));
            }
            if self.reno_dup_bytes() > dup_bytes_before {
                acked += self.neg.mss;
            }
        }
        // The window grows only with the cumulative ACK (RFC 3042: limited
        // transmit leaves cwnd alone; Linux does the same for SACKs).
        let cc_acked = if advanced { delivered.bytes } else { 0 };
        self.detect_losses(now);
        self.update_recovery(now, advanced, acked, cc_acked, sample);
        if advanced || !matches!(self.timers.rtx, Some((_, super::timers::RtxKind::Rto))) {
            self.arm_rtx_timer(now);
        }
        if acked > 0 {
            self.record_sample(now);
        }
        true
    }

    /// Applies the peer's window (RFC 9293 §3.10.7.4: only from segments not
    /// older than the last update). SYN windows are never scaled.
    pub(super) fn update_window(&mut self, raw: u64, seq: u64, ack: u64, syn: bool) {
        let wnd = if syn { raw } else { raw << self.neg.snd_shift };
        if syn || self.snd_wl1 < seq || (self.snd_wl1 == seq && self.snd_wl2 <= ack) {
            self.snd_wnd = wnd;
            self.snd_wl1 = seq;
            self.snd_wl2 = ack;
            self.max_snd_wnd = self.max_snd_wnd.max(wnd);
        }
    }

    /// Marks SACKed segments; returns whether the first block was a D-SACK.
    fn process_sack(&mut self, repr: &TcpRepr<'_>, ack: u64, delivered: &mut Delivered) -> bool {
        let blocks = repr.header.options.sack;
        let unwrap = |s: SeqNum| s.unwrap_near(self.iss, self.snd_una);
        let mut dsack = false;
        if let Some(&(l, r)) = blocks.as_slice().first() {
            let (l, r) = (unwrap(l), unwrap(r));
            let inside_second = blocks.as_slice().get(1).is_some_and(|&(l2, r2)| {
                let (l2, r2) = (unwrap(l2), unwrap(r2));
                l >= l2 && r <= r2
            });
            dsack = l < r && (r <= ack || inside_second);
        }
        if dsack {
            self.stats.dsacks_received += 1;
            self.rack.on_dsack(self.snd_una, self.snd_nxt);
        }
        for (i, &(l, r)) in blocks.as_slice().iter().enumerate() {
            if i == 0 && dsack {
                continue;
            }
            let (l, r) = (unwrap(l).max(ack), unwrap(r).min(self.snd_nxt));
            if l < r {
                delivered.merge(self.board.sack(l, r));
            }
        }
        dsack
    }

    /// One RTT sample: from the newest segment sent once (exact), else from
    /// the timestamp echo of an ACK for new data (RFC 7323 RTTM).
    fn take_rtt_sample(
        &mut self,
        now: Duration,
        repr: &TcpRepr<'_>,
        advanced: bool,
        delivered: &Delivered,
    ) -> Option<Duration> {
        let mut sample = delivered.karn_sample.map(|sent| now.saturating_sub(sent));
        if sample.is_none() && advanced && self.neg.timestamps {
            if let Some(ts) = repr.header.options.timestamps.filter(|t| t.echo != 0) {
                let ms = self.ts_value(now).wrapping_sub(ts.echo);
                if ms < 1 << 31 {
                    sample = Some(Duration::from_millis(u64::from(ms)));
                }
            }
        }
        if let Some(rtt) = sample {
            self.rtt.on_sample(rtt);
            self.stats.rtt_samples += 1;
        }
        sample
    }

    /// After a timeout, the first ACK for new data whose timestamp echo
    /// predates the retransmission shows the timeout was spurious.
    fn check_spurious_rto(&mut self, repr: &TcpRepr<'_>, advanced: bool) {
        if !advanced {
            return;
        }
        if let Some(rto_ts) = self.rto_tsval.take() {
            let echo = repr.header.options.timestamps.map(|t| t.echo);
            if self.neg.timestamps && echo.is_some_and(|e| e != 0 && SeqNum(e) < SeqNum(rto_ts)) {
                self.stats.spurious_rtos += 1;
            }
        }
    }

    /// RFC 8985 §7.4: an ACK covering the tail loss probe. A retransmitted
    /// probe acknowledged without a D-SACK repaired a loss, which calls for
    /// the congestion response of a fast recovery.
    fn check_probe(&mut self, now: Duration, dsack: bool) {
        let Some(probe) = self.probe else {
            return;
        };
        if self.snd_una < probe.end {
            return;
        }
        self.probe = None;
        if probe.retransmission && !dsack {
            self.cc
                .on_congestion(now, self.board.outstanding() + self.neg.mss);
            self.cc.on_recovery_end(now);
        }
    }

    /// Segments the peer counted by duplicate ACKs (no SACK), as bytes.
    pub(super) fn reno_dup_bytes(&self) -> u64 {
        if self.neg.sack {
            return 0;
        }
        let cap = self.board.outstanding().saturating_sub(self.neg.mss);
        (u64::from(self.dupacks) * self.neg.mss).min(cap)
    }

    /// Bytes in flight: RFC 6675's pipe, less what duplicate ACKs showed
    /// left the network when SACK is off.
    pub(super) fn flight(&self) -> u64 {
        self.board.pipe().saturating_sub(self.reno_dup_bytes())
    }

    /// Runs loss detection (also when RACK's reordering timer fires).
    pub(super) fn detect_losses(&mut self, now: Duration) {
        let thresh = self.config.dup_thresh.max(1);
        if self.neg.sack && self.config.rack {
            let in_recovery = self.recovery != Recovery::Open;
            let reo_wnd = self.rack.reo_wnd(
                in_recovery,
                self.board.sacked_segments(),
                thresh,
                self.rtt.min_rtt(),
                self.rtt.srtt(),
            );
            let (marked, timeout) = self.rack.detect_loss(now, reo_wnd, &mut self.board);
            self.stats.rack_losses += marked;
            self.timers.reorder = timeout.map(|t| now + t);
        } else if self.neg.sack {
            self.board.mark_lost_by_sacks(thresh, self.neg.mss);
        } else if self.dupacks == thresh && self.recovery == Recovery::Open {
            if let Some(first) = self.board.first().map(|s| s.start) {
                self.board.mark_lost(first);
            }
        }
        if self.recovery == Recovery::Open && self.board.lost_bytes() > 0 {
            self.enter_recovery(now);
        }
    }

    fn enter_recovery(&mut self, now: Duration) {
        self.stats.recoveries += 1;
        if self.neg.sack {
            self.stats.sack_recoveries += 1;
        }
        self.recovery = Recovery::Fast {
            point: self.snd_nxt,
        };
        self.probe = None;
        self.tlp_pending = false;
        let flight = self.board.outstanding();
        let basis = if self.config.ssthresh_from_pipe {
            self.flight()
        } else {
            flight
        };
        self.cc.on_congestion(now, basis);
        if self.config.prr {
            self.prr = Some(Prr::new(flight));
        } else {
            self.cc.set_cwnd(self.cc.ssthresh());
        }
        self.record_sample(now);
    }

    fn exit_recovery(&mut self, now: Duration) {
        self.recovery = Recovery::Open;
        self.prr = None;
        self.cc.on_recovery_end(now);
        self.rack.on_recovery_end();
    }

    /// Recovery bookkeeping and window growth for one ACK that delivered
    /// `acked` bytes, `cc_acked` of them cumulatively.
    fn update_recovery(
        &mut self,
        now: Duration,
        advanced: bool,
        acked: u64,
        cc_acked: u64,
        rtt: Option<Duration>,
    ) {
        if let Recovery::Fast { point } = self.recovery {
            let reno = self.config.congestion == CongestionKind::Reno && !self.neg.sack;
            if self.snd_una >= point || (reno && advanced) {
                self.exit_recovery(now);
                return;
            }
            let partial = advanced && !self.neg.sack;
            if partial {
                // NewReno partial ACK (RFC 6582): the next hole is lost too.
                if let Some(first) = self.board.first().map(|s| s.start) {
                    self.board.mark_lost(first);
                }
            }
            let pipe = self.flight();
            let mss = self.neg.mss;
            let ssthresh = self.cc.ssthresh();
            if let Some(prr) = &mut self.prr {
                let mut sndcnt = prr.on_ack(acked, pipe, ssthresh, mss);
                if prr.nothing_sent() || partial {
                    // The first retransmission, and NewReno's retransmission
                    // on a partial ACK, go out whatever PRR says.
                    sndcnt = sndcnt.max(mss);
                }
                self.cc.set_cwnd(pipe + sndcnt);
            }
            return;
        }
        if let Recovery::Loss { point } = self.recovery {
            if self.snd_una >= point {
                self.recovery = Recovery::Open;
            }
        }
        if cc_acked > 0 {
            let sample = AckSample {
                now,
                acked: cc_acked,
                rtt,
                srtt: self.rtt.srtt(),
                min_rtt: self.rtt.min_rtt(),
                snd_una: self.snd_una,
                snd_max: self.snd_nxt,
            };
            self.cc.on_ack(&sample);
        }
    }
}
