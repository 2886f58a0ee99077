//! Every timer of a connection, and what happens when one fires.
//!
//! The retransmission timer runs in one of three roles: the RTO (RFC 6298),
//! the tail loss probe (RFC 8985, which replaces the RTO while armed) and
//! the persist timer (zero-window probes). Beside it run RACK's reordering
//! timer, the delayed-ACK timer and TIME-WAIT. `None` means "not armed".

use std::time::Duration;

use super::{Connection, Probe, Recovery, State, TcpError};
use crate::net::tcp::rack::probe_timeout;

/// What the retransmission timer does when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RtxKind {
    Rto,
    TailLossProbe,
    Persist,
}

/// The armed timers.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Timers {
    pub(super) rtx: Option<(Duration, RtxKind)>,
    pub(super) reorder: Option<Duration>,
    pub(super) time_wait: Option<Duration>,
    /// Consecutive persist probes (their interval backs off).
    pub(super) persist_backoff: u32,
}

impl Timers {
    pub(super) fn arm_rto(&mut self, now: Duration, rto: Duration) {
        self.rtx = Some((now + rto, RtxKind::Rto));
    }
}

impl Connection {
    /// The earliest deadline at which [`Self::handle_timeout`] must be
    /// called, if any timer is armed.
    pub fn poll_timeout(&self) -> Option<Duration> {
        [
            self.timers.rtx.map(|(t, _)| t),
            self.timers.reorder,
            self.timers.time_wait,
            self.rx.delack_at(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.timers.time_wait.is_some_and(|t| t <= now) {
            self.timers.time_wait = None;
            self.enter_closed();
            return;
        }
        self.rx.on_delack_timeout(now);
        if self.timers.reorder.is_some_and(|t| t <= now) {
            self.timers.reorder = None;
            self.detect_losses(now);
        }
        if let Some((at, kind)) = self.timers.rtx {
            if at <= now {
                self.timers.rtx = None;
                match kind {
                    RtxKind::Rto => self.on_rto(now),
                    RtxKind::TailLossProbe => self.on_probe_timeout(now),
                    RtxKind::Persist => self.on_persist_timeout(now),
                }
            }
        }
    }

    fn on_rto(&mut self, now: Duration) {
        match self.state {
            State::SynSent | State::SynReceived => {
                if self.syn_transmissions > self.config.max_retransmits {
                    return self.fail(TcpError::TimedOut);
                }
                self.rtt.on_timeout();
                self.syn_pending = true;
                self.timers.arm_rto(now, self.rtt.rto());
            }
            _ if self.board.is_empty() => {}
            _ => {
                let first = self.board.first().map_or(0, |s| s.transmissions);
                if first > self.config.max_retransmits {
                    self.rst = Some(self.own_rst());
                    return self.fail(TcpError::TimedOut);
                }
                self.stats.rtos += 1;
                self.rtt.on_timeout();
                // A timeout that finds the last one's retransmission still
                // unacknowledged leaves ssthresh alone (as Linux and ns-3
                // do): cwnd is one segment by now.
                let repeat = matches!(self.recovery, Recovery::Loss { .. }) && first > 1;
                if !repeat {
                    self.cc.on_congestion(now, self.board.outstanding());
                }
                self.cc.on_timeout(now);
                self.board.mark_all_lost();
                self.recovery = Recovery::Loss {
                    point: self.snd_nxt,
                };
                self.prr = None;
                self.probe = None;
                self.tlp_pending = false;
                self.dupacks = 0;
                self.timers.reorder = None;
                self.rto_tsval = Some(self.ts_value(now));
                self.timers.arm_rto(now, self.rtt.rto());
                self.record_sample(now);
            }
        }
    }

    fn on_probe_timeout(&mut self, now: Duration) {
        if self.board.is_empty() || self.probe.is_some() {
            return self.arm_rtx_timer(now);
        }
        self.tlp_pending = true;
        self.stats.tlp_probes += 1;
        // The RTO takes over until the probe's ACK (RFC 8985 §7.3).
        self.timers.arm_rto(now, self.rtt.rto());
    }

    fn on_persist_timeout(&mut self, now: Duration) {
        if self.snd_wnd_room() > 0 || !self.has_unsent() {
            self.timers.persist_backoff = 0;
            return;
        }
        self.zero_window_probe_pending = true;
        self.stats.zero_window_probes += 1;
        self.timers.persist_backoff = self.timers.persist_backoff.saturating_add(1);
        self.arm_persist(now);
    }

    fn arm_persist(&mut self, now: Duration) {
        let base = self.rtt.rto();
        let factor = 1u32 << self.timers.persist_backoff.min(10);
        let interval = base.saturating_mul(factor).min(self.config.max_rto);
        self.timers.rtx = Some((now + interval, RtxKind::Persist));
    }

    /// Re-arms the retransmission timer after an ACK or a transmission:
    /// a tail loss probe when RACK-TLP may send one, else the RTO while
    /// data is outstanding, else the persist timer if the peer's window
    /// holds back queued data, else nothing.
    pub(super) fn arm_rtx_timer(&mut self, now: Duration) {
        if !self.board.is_empty() {
            let rto = self.rtt.rto();
            let tlp_allowed = self.config.rack
                && self.neg.sack
                && self.recovery == Recovery::Open
                && self.probe.is_none()
                && self.rtt.srtt().is_some();
            if tlp_allowed {
                let one = self.board.outstanding() <= self.neg.mss;
                let pto = probe_timeout(self.rtt.srtt(), one, rto);
                self.timers.rtx = Some((now + pto, RtxKind::TailLossProbe));
            } else {
                self.timers.arm_rto(now, rto);
            }
        } else if self.has_unsent() && self.snd_wnd_room() == 0 && self.synchronized_or_closing() {
            if !matches!(self.timers.rtx, Some((_, RtxKind::Persist))) {
                self.arm_persist(now);
            }
        } else {
            self.timers.rtx = None;
            self.timers.persist_backoff = 0;
        }
    }

    /// Arms the RTO if a transmission needs it and none is running.
    pub(super) fn ensure_rtx_timer(&mut self, now: Duration) {
        match self.timers.rtx {
            Some((_, RtxKind::Rto | RtxKind::TailLossProbe)) => {}
            _ => self.arm_rtx_timer(now),
        }
    }

    pub(super) fn enter_time_wait(&mut self, now: Duration) {
        self.state = State::TimeWait;
        self.timers.rtx = None;
        self.timers.reorder = None;
        self.timers.time_wait = Some(now + self.config.time_wait);
    }

    pub(super) fn synchronized_or_closing(&self) -> bool {
        matches!(
            self.state,
            State::Established
                | State::CloseWait
                | State::FinWait1
                | State::Closing
                | State::LastAck
        )
    }

    /// Marks the probe sent (RFC 8985 §7.3): which offsets it ends at and
    /// whether it was a retransmission.
    pub(super) fn note_probe(&mut self, retransmission: bool) {
        self.probe = Some(Probe {
            end: self.snd_nxt,
            retransmission,
        });
    }
}
