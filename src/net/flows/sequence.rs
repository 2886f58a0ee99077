//! TCP sequence analysis for one connection: a re-implementation of the
//! rules of Wireshark 4.0's `tcp_analyze_sequence_number` that decide
//! retransmission, fast/spurious retransmission, out-of-order and
//! duplicate-ACK flags.
//!
//! Invariants: all sequence comparisons are modulo 2^32; a `nextseq` or
//! `lastack` of 0 means "unknown", as in Wireshark; nothing panics.

use std::time::Duration;

use super::SegmentClass;

/// A retransmission within this time of the previous segment in the reverse
/// direction may be a Wireshark "fast retransmission" (20 ms).
const FAST_RETRANSMISSION_WINDOW: Duration = Duration::from_millis(20);

/// Out-of-order window used until the handshake RTT is known (3 ms).
const DEFAULT_OUT_OF_ORDER_WINDOW: Duration = Duration::from_millis(3);

/// Duplicate ACKs after which a retransmission counts as fast (RFC 5681).
const FAST_RETRANSMIT_DUP_ACKS: u32 = 3;

/// Duplicate ACKs Wireshark needs before it considers a fast retransmission.
const WIRESHARK_FAST_RETRANSMISSION_DUP_ACKS: u32 = 2;

/// The shortest retransmission timeout a TCP sender uses (Linux's
/// `TCP_RTO_MIN`; smoltcp and RFC 6298 use 1 s): a non-fast retransmission
/// of the first unacknowledged segment after at least this long with nothing
/// sent is a retransmission timeout.
const MIN_RTO: Duration = Duration::from_millis(200);

/// The fields of a TCP segment that sequence analysis uses.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    /// Sequence number.
    pub(super) seq: u32,
    /// Acknowledgment number field (whether or not ACK is set).
    pub(super) ack: u32,
    /// Payload length, in bytes.
    pub(super) len: u32,
    /// Raw (unscaled) window field.
    pub(super) window: u16,
    /// SYN flag.
    pub(super) syn: bool,
    /// ACK flag.
    pub(super) ack_flag: bool,
    /// FIN flag.
    pub(super) fin: bool,
    /// RST flag.
    pub(super) rst: bool,
}

impl Segment {
    /// True when SYN, FIN or RST is set.
    fn has_syn_fin_rst(&self) -> bool {
        self.syn || self.fin || self.rst
    }
}

/// Result of analysing one segment.
#[derive(Debug, Clone, Copy)]
pub(super) struct Verdict {
    /// Retransmission / out-of-order classification.
    pub(super) class: SegmentClass,
    /// The segment is a duplicate ACK.
    pub(super) duplicate_ack: bool,
}

/// Sequence-analysis state of one TCP connection (both directions).
#[derive(Debug, Default)]
pub(super) struct Connection {
    /// Per-direction state; index 0 is lower endpoint → higher endpoint.
    pub(super) halves: [Half; 2],
    /// Sim time of the most recent pure SYN.
    last_syn: Option<Duration>,
    /// Time from the last pure SYN to the first later ACK-bearing segment;
    /// the out-of-order window once known.
    handshake_rtt: Option<Duration>,
}

/// Sequence-analysis state of one direction (Wireshark's `tcp_flow_t`).
#[derive(Debug, Default)]
pub(super) struct Half {
    /// Initial sequence number (SYN) or first sequence - 1.
    pub(super) base_seq: Option<u32>,
    /// Highest sequence number sent + 1; 0 means "not known yet", exactly as
    /// in Wireshark (which a `nextseq` of exactly 0 also triggers).
    nextseq: u32,
    /// When `nextseq` last advanced.
    nextseq_time: Option<Duration>,
    /// Acknowledgment field of the last segment (0 = none, as in Wireshark).
    lastack: u32,
    /// When the last segment of this direction was seen.
    lastack_time: Option<Duration>,
    /// Raw window field of the last segment.
    window: Option<u16>,
    /// Duplicate ACKs since the acknowledgment number last changed.
    dup_acks: u32,
    /// The last segment was a keep-alive.
    last_was_keep_alive: bool,
    /// The last segment was a zero-window probe.
    last_was_zero_window_probe: bool,
}

/// `a < b` in sequence space.
fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// `a <= b` in sequence space.
fn seq_le(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) <= 0
}

/// `a > b` in sequence space.
fn seq_gt(a: u32, b: u32) -> bool {
    seq_lt(b, a)
}

/// True when `since` is known and `now - since < limit`.
fn within(now: Duration, since: Option<Duration>, limit: Duration) -> bool {
    since
        .and_then(|since| now.checked_sub(since))
        .is_some_and(|elapsed| elapsed < limit)
}

impl Connection {
    /// Classifies a segment travelling in direction `fwd` and updates the
    /// state; mirrors the rules documented on [`super::TcpFlowStats`].
    pub(super) fn analyse(&mut self, now: Duration, fwd: usize, seg: &Segment) -> Verdict {
        let out_of_order_window = self.handshake_rtt.unwrap_or(DEFAULT_OUT_OF_ORDER_WINDOW);
        let [first, second] = &mut self.halves;
        let (f, r) = if fwd == 0 {
            (first, second)
        } else {
            (second, first)
        };

        if f.base_seq.is_none() {
            f.base_seq = Some(if seg.syn {
                seg.seq
            } else {
                seg.seq.wrapping_sub(1)
            });
        }
        if r.base_seq.is_none() && seg.ack_flag {
            r.base_seq = Some(seg.ack.wrapping_sub(1));
        }

        let mut duplicate_ack = false;
        let mut keep_alive = false;
        let zero_window_probe = seg.len == 1 && seg.seq == f.nextseq && r.window == Some(0);
        if !zero_window_probe {
            keep_alive =
                seg.len <= 1 && seg.seq == f.nextseq.wrapping_sub(1) && !seg.has_syn_fin_rst();
            let repeats_last = seg.len == 0
                && f.window == Some(seg.window)
                && seg.seq == f.nextseq
                && seg.ack == f.lastack
                && !seg.has_syn_fin_rst();
            let keep_alive_ack = repeats_last && seg.window != 0 && r.last_was_keep_alive;
            let zero_window_probe_ack =
                repeats_last && seg.window == 0 && r.last_was_zero_window_probe;
            if !keep_alive_ack && !zero_window_probe_ack && repeats_last && seg.window != 0 {
                f.dup_acks = f.dup_acks.saturating_add(1);
                duplicate_ack = true;
            }
        }
        if seg.ack != f.lastack {
            f.dup_acks = 0;
        }

        let mut class = SegmentClass::Normal;
        if (seg.len > 0 || seg.syn || seg.fin) && !keep_alive {
            let mut seq_not_advanced = f.nextseq != 0 && seq_lt(seg.seq, f.nextseq);
            // Possibly the data after a zero-window probe: new data.
            if seg.len > 1 && f.nextseq.wrapping_sub(1) == seg.seq {
                seq_not_advanced = false;
            }
            let end = seg.seq.wrapping_add(seg.len);
            let already_acked = seg.len > 0 && r.lastack != 0 && seq_le(end, r.lastack);
            let wireshark_fast = seq_not_advanced
                && r.dup_acks >= WIRESHARK_FAST_RETRANSMISSION_DUP_ACKS
                && r.lastack == seg.seq
                && within(now, r.lastack_time, FAST_RETRANSMISSION_WINDOW);
            let out_of_order = seq_not_advanced
                && within(now, f.nextseq_time, out_of_order_window)
                && f.nextseq != end.wrapping_add(u32::from(seg.syn || seg.fin));
            if already_acked || wireshark_fast || (!out_of_order && seq_not_advanced) {
                let fast = r.dup_acks >= FAST_RETRANSMIT_DUP_ACKS && r.lastack == seg.seq;
                let timeout =
                    !fast && r.lastack == seg.seq && !within(now, f.lastack_time, MIN_RTO);
                class = SegmentClass::Retransmission {
                    fast,
                    timeout,
                    spurious: already_acked,
                };
            } else if out_of_order {
                class = SegmentClass::OutOfOrder;
            }
        }

        let mut nextseq = seg.seq.wrapping_add(seg.len);
        if seg.syn || seg.fin {
            nextseq = nextseq.wrapping_add(1);
        }
        if (seq_gt(nextseq, f.nextseq) || f.nextseq == 0) && !zero_window_probe {
            f.nextseq = nextseq;
            f.nextseq_time = Some(now);
        }
        f.window = Some(seg.window);
        f.lastack = seg.ack;
        f.lastack_time = Some(now);
        f.last_was_keep_alive = keep_alive;
        f.last_was_zero_window_probe = zero_window_probe;

        if seg.syn && !seg.ack_flag {
            self.last_syn = Some(now);
        }
        if seg.ack_flag && !seg.syn && self.handshake_rtt.is_none() {
            if let Some(rtt) = self.last_syn.and_then(|syn| now.checked_sub(syn)) {
                // Wireshark treats a zero RTT as "not measured yet".
                if !rtt.is_zero() {
                    self.handshake_rtt = Some(rtt);
                }
            }
        }
        Verdict {
            class,
            duplicate_ack,
        }
    }
}
