//! RACK-TLP (RFC 8985): time-based loss detection and the tail loss probe.
//!
//! RACK remembers the most recently *sent* segment that was delivered; any
//! segment sent earlier that is still outstanding after one RTT plus a
//! reordering window is lost. The window is a quarter of the minimum RTT
//! (scaled up after D-SACKs show the reordering was real), or zero while no
//! reordering has been seen and either recovery is on or `dup_thresh`
//! segments are SACKed, which makes RACK at least as fast as the
//! duplicate-ACK rule. The tail loss probe sends one segment after two RTTs
//! of silence so a lost tail is detected by RACK rather than by the timer.

use std::time::Duration;

use super::scoreboard::Scoreboard;

/// Worst-case delayed-ACK time added to the probe timeout when only one
/// segment is in flight (WCDelAckT).
const WORST_CASE_DELACK: Duration = Duration::from_millis(200);
/// D-SACK rounds a widened reordering window persists for.
const REO_WND_PERSIST: u32 = 16;

/// RACK state of one sender.
#[derive(Clone, Debug)]
pub struct Rack {
    /// Send time and end offset of the most recently sent delivered segment.
    xmit: Option<(Duration, u64)>,
    /// RTT of that segment.
    rtt: Duration,
    /// Highest end offset delivered (cumulatively or by SACK).
    fack: u64,
    /// Reordering was observed.
    reordering: bool,
    reo_wnd_mult: u32,
    reo_wnd_persist: u32,
    /// D-SACK round: a new widening needs `snd_una` past this.
    dsack_round: Option<u64>,
}

impl Default for Rack {
    fn default() -> Rack {
        Rack {
            xmit: None,
            rtt: Duration::ZERO,
            fack: 0,
            reordering: false,
            reo_wnd_mult: 1,
            reo_wnd_persist: 0,
            dsack_round: None,
        }
    }
}

impl Rack {
    /// Takes the newest delivered segment of an ACK (RFC 8985 §6.2 step 2).
    /// A retransmission whose RTT is below the minimum RTT was probably
    /// delivered by its original transmission and does not count.
    pub fn on_delivered(
        &mut self,
        now: Duration,
        (sent_at, end, retransmitted): (Duration, u64, bool),
        min_rtt: Option<Duration>,
    ) {
        let rtt = now.saturating_sub(sent_at);
        if retransmitted && min_rtt.is_some_and(|m| rtt < m) {
            return;
        }
        self.rtt = rtt;
        if self.xmit.is_none_or(|x| (sent_at, end) > x) {
            self.xmit = Some((sent_at, end));
        }
    }

    /// Notes that `[start, end)` was delivered, never retransmitted: below
    /// the highest delivered offset it reveals reordering (step 3).
    pub fn on_segment_delivered(&mut self, end: u64, retransmitted: bool) {
        if end < self.fack && !retransmitted {
            self.reordering = true;
        }
        self.fack = self.fack.max(end);
    }

    /// A D-SACK arrived (step 4): widen the window, once per round trip.
    pub fn on_dsack(&mut self, snd_una: u64, snd_max: u64) {
        if self.dsack_round.is_none_or(|r| snd_una >= r) {
            self.dsack_round = Some(snd_max);
            self.reo_wnd_mult = self.reo_wnd_mult.saturating_add(1);
            self.reo_wnd_persist = REO_WND_PERSIST;
        }
    }

    /// Recovery ended: a widened window decays after 16 recoveries.
    pub fn on_recovery_end(&mut self) {
        if self.reo_wnd_persist > 0 {
            self.reo_wnd_persist -= 1;
            if self.reo_wnd_persist == 0 {
                self.reo_wnd_mult = 1;
            }
        }
    }

    /// Whether reordering has been seen.
    pub fn reordering_seen(&self) -> bool {
        self.reordering
    }

    /// The reordering window (step 4).
    pub fn reo_wnd(
        &self,
        in_recovery: bool,
        sacked_segments: usize,
        dup_thresh: u32,
        min_rtt: Option<Duration>,
        srtt: Option<Duration>,
    ) -> Duration {
        let many_sacked = sacked_segments >= dup_thresh as usize;
        if !self.reordering && (in_recovery || many_sacked) {
            return Duration::ZERO;
        }
        let Some(min_rtt) = min_rtt else {
            return Duration::ZERO;
        };
        let wnd = (min_rtt / 4).saturating_mul(self.reo_wnd_mult);
        srtt.map_or(wnd, |s| wnd.min(s))
    }

    /// Marks every segment sent before the newest delivered one, and
    /// outstanding for longer than `rtt + reo_wnd`, as lost (step 5).
    /// Returns the segments marked and, if some segments may still be lost
    /// later, how long until the last of them is due.
    pub fn detect_loss(
        &self,
        now: Duration,
        reo_wnd: Duration,
        board: &mut Scoreboard,
    ) -> (u64, Option<Duration>) {
        let Some((xmit_ts, end_seq)) = self.xmit else {
            return (0, None);
        };
        let mut timeout: Option<Duration> = None;
        let deadline = self.rtt + reo_wnd;
        let (_, marked) = board.mark_lost_sent_before((xmit_ts, end_seq), |seg| {
            let due = seg.sent_at + deadline;
            if due <= now {
                true
            } else {
                let remaining = due - now;
                timeout = Some(timeout.map_or(remaining, |t| t.max(remaining)));
                false
            }
        });
        (marked, timeout)
    }
}

/// The probe timeout (RFC 8985 §7.2): two smoothed RTTs, plus the worst
/// delayed-ACK time when one segment is in flight, never past the RTO.
pub fn probe_timeout(
    srtt: Option<Duration>,
    one_segment_in_flight: bool,
    rto: Duration,
) -> Duration {
    let Some(srtt) = srtt else {
        return rto;
    };
    let mut pto = srtt * 2;
    if one_segment_in_flight {
        pto += WORST_CASE_DELACK;
    }
    pto.max(Duration::from_millis(10)).min(rto)
}
