//! The sender's record of every segment in flight: what was SACKed, what is
//! deemed lost, and the `pipe` estimate of RFC 6675.
//!
//! Segments are kept in send-offset order, contiguous from `snd_una` to
//! `snd_max`, each with its latest transmission time. A SACK block marks the
//! segments it covers entirely (our segments keep their boundaries when
//! retransmitted, and receivers SACK whole segments). Loss marks come from
//! the RFC 6675 IsLost rule ([`Scoreboard::mark_lost_by_sacks`]), from RACK,
//! or from a timeout. A segment marked lost leaves `pipe` until it is
//! retransmitted; this is Linux's `packets_out − sacked − lost + retrans`,
//! the same `pipe` as RFC 6675's per-octet definition.
//!
//! Invariant: `sacked_bytes`, `lost_bytes` and `outstanding` always equal the
//! sums over the segments (the tests check it after every change).

use std::collections::VecDeque;
use std::time::Duration;

/// One transmitted segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// First send offset.
    pub start: u64,
    /// One past the last send offset (a FIN occupies one).
    pub end: u64,
    /// Whether the segment carries FIN.
    pub fin: bool,
    /// Time of the latest transmission.
    pub sent_at: Duration,
    /// Transmissions so far (1 for an original).
    pub transmissions: u32,
    /// Covered by a SACK block.
    pub sacked: bool,
    /// Deemed lost and not retransmitted since.
    pub lost: bool,
}

impl Sent {
    /// Sequence space the segment occupies.
    pub fn span(&self) -> u64 {
        self.end - self.start
    }
}

/// What a cumulative ACK or a SACK block newly delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    /// Bytes delivered for the first time (not SACKed before).
    pub bytes: u64,
    /// The delivered segment sent most recently: (time, end offset,
    /// whether it was a retransmission).
    pub newest: Option<(Duration, u64, bool)>,
    /// The latest send time among delivered segments sent only once
    /// (Karn's rule allows an RTT sample from it).
    pub karn_sample: Option<Duration>,
    /// A delivered segment had been retransmitted.
    pub retransmitted: bool,
    /// The lowest end offset among delivered segments sent only once.
    pub lowest_original_end: Option<u64>,
    /// The highest end offset delivered.
    pub highest_end: Option<u64>,
}

impl Delivered {
    fn add(&mut self, seg: &Sent, bytes: u64) {
        self.bytes += bytes;
        let key = (seg.sent_at, seg.end);
        if self.newest.is_none_or(|(t, e, _)| key > (t, e)) {
            self.newest = Some((seg.sent_at, seg.end, seg.transmissions > 1));
        }
        self.highest_end = Some(self.highest_end.map_or(seg.end, |h| h.max(seg.end)));
        if seg.transmissions == 1 {
            let low = self.lowest_original_end.map_or(seg.end, |l| l.min(seg.end));
            self.lowest_original_end = Some(low);
            self.karn_sample = Some(self.karn_sample.map_or(seg.sent_at, |t| t.max(seg.sent_at)));
        } else {
            self.retransmitted = true;
        }
    }
}

impl Delivered {
    /// Combines what two parts of one ACK delivered.
    pub fn merge(&mut self, other: Delivered) {
        self.bytes += other.bytes;
        self.newest = self.newest.max(other.newest);
        self.karn_sample = self.karn_sample.max(other.karn_sample);
        self.retransmitted |= other.retransmitted;
        self.lowest_original_end = match (self.lowest_original_end, other.lowest_original_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.highest_end = self.highest_end.max(other.highest_end);
    }
}

/// Segments in flight.
#[derive(Clone, Debug, Default)]
pub struct Scoreboard {
    segs: VecDeque<Sent>,
    outstanding: u64,
    sacked_bytes: u64,
    sacked_segments: usize,
    lost_bytes: u64,
    /// Segments below this offset have been through the IsLost rule.
    is_lost_done: u64,
    /// The highest SACKed end offset, if any.
    high_sacked: Option<u64>,
    /// No segment at or above this offset was ever retransmitted, so
    /// from here on send times grow with offsets.
    retransmitted_below: u64,
}

impl Scoreboard {
    /// Records a new transmission of `[start, end)`, which begins at `snd_max`.
    pub fn push(&mut self, start: u64, end: u64, fin: bool, now: Duration) {
        debug_assert_eq!(start, self.segs.back().map_or(start, |s| s.end));
        self.outstanding += end - start;
        self.segs.push_back(Sent {
            start,
            end,
            fin,
            sent_at: now,
            transmissions: 1,
            sacked: false,
            lost: false,
        });
    }

    /// Records a retransmission of the segment starting at `start`.
    pub fn retransmitted(&mut self, start: u64, now: Duration) {
        if let Some(i) = self.index_of(start) {
            let seg = &mut self.segs[i];
            seg.sent_at = now;
            seg.transmissions += 1;
            self.retransmitted_below = self.retransmitted_below.max(seg.end);
            if seg.lost {
                seg.lost = false;
                self.lost_bytes -= seg.end - seg.start;
            }
        }
    }

    /// Removes everything below `una`; returns what that newly delivered.
    pub fn ack(&mut self, una: u64) -> Delivered {
        let mut delivered = Delivered::default();
        while let Some(seg) = self.segs.front_mut() {
            if seg.start >= una {
                break;
            }
            if seg.end > una {
                // Partly acknowledged (the peer acked inside a segment): trim.
                let cut = una - seg.start;
                if !seg.sacked {
                    let copy = *seg;
                    delivered.add(&copy, cut);
                }
                self.outstanding -= cut;
                if seg.sacked {
                    self.sacked_bytes -= cut;
                }
                if seg.lost {
                    self.lost_bytes -= cut;
                }
                seg.start = una;
                break;
            }
            let seg = self.segs.pop_front().expect("front_mut just returned it");
            self.outstanding -= seg.span();
            if seg.sacked {
                self.sacked_bytes -= seg.span();
                self.sacked_segments -= 1;
            } else {
                delivered.add(&seg, seg.span());
            }
            if seg.lost {
                self.lost_bytes -= seg.span();
            }
        }
        if self.high_sacked.is_some_and(|h| h <= una) {
            self.high_sacked = None;
        }
        delivered
    }

    /// Marks the segments `[left, right)` covers entirely as SACKed.
    pub fn sack(&mut self, left: u64, right: u64) -> Delivered {
        let mut delivered = Delivered::default();
        let first = self.segs.partition_point(|s| s.start < left);
        for seg in self.segs.range_mut(first..) {
            if seg.end > right {
                break;
            }
            if seg.sacked {
                continue;
            }
            seg.sacked = true;
            self.sacked_bytes += seg.span();
            self.sacked_segments += 1;
            if seg.lost {
                seg.lost = false;
                self.lost_bytes -= seg.span();
            }
            let copy = *seg;
            delivered.add(&copy, copy.span());
            self.high_sacked = Some(self.high_sacked.map_or(copy.end, |h| h.max(copy.end)));
        }
        delivered
    }

    /// RFC 6675 IsLost: marks every segment below which at least
    /// `dup_thresh` SACKed segments, or more than `(dup_thresh − 1)·mss`
    /// SACKed bytes, lie. Segments retransmitted already are left to RACK and
    /// the timer. Returns bytes newly marked.
    pub fn mark_lost_by_sacks(&mut self, dup_thresh: u32, mss: u64) -> u64 {
        let Some(high) = self.high_sacked else {
            return 0;
        };
        let (mut count, mut bytes) = (0u32, 0u64);
        let mut boundary = None;
        for (i, seg) in self.segs.iter().enumerate().rev() {
            if seg.start >= high {
                continue;
            }
            if count >= dup_thresh || bytes > u64::from(dup_thresh - 1) * mss {
                boundary = Some(i);
                break;
            }
            if seg.sacked {
                count += 1;
                bytes += seg.span();
            }
        }
        let Some(boundary) = boundary else {
            return 0;
        };
        let mut marked = 0;
        let from = self.segs.partition_point(|s| s.start < self.is_lost_done);
        for seg in self.segs.range_mut(from.min(boundary + 1)..=boundary) {
            if !seg.sacked && !seg.lost && seg.transmissions == 1 {
                seg.lost = true;
                marked += seg.span();
            }
        }
        self.lost_bytes += marked;
        self.is_lost_done = self.is_lost_done.max(self.segs[boundary].end);
        marked
    }

    /// Marks the segment starting at `start` lost (RACK, NewReno, timeout).
    pub fn mark_lost(&mut self, start: u64) -> u64 {
        let Some(i) = self.index_of(start) else {
            return 0;
        };
        let seg = &mut self.segs[i];
        if seg.sacked || seg.lost {
            return 0;
        }
        seg.lost = true;
        self.lost_bytes += seg.span();
        seg.span()
    }

    /// Marks lost every segment neither SACKed nor already lost that was
    /// sent before `before` (send time, then end offset) and for which `f`
    /// holds; returns the bytes and segments marked. Above every retransmission,
    /// segments are in send order, so the walk stops at the first one sent
    /// later: an ACK that carries no news costs O(1).
    pub fn mark_lost_sent_before(
        &mut self,
        before: (Duration, u64),
        mut f: impl FnMut(&Sent) -> bool,
    ) -> (u64, u64) {
        let (mut bytes, mut count) = (0, 0);
        for seg in self.segs.iter_mut() {
            let later = (seg.sent_at, seg.end) > before;
            if later && seg.start >= self.retransmitted_below {
                break;
            }
            if later || seg.sacked || seg.lost {
                continue;
            }
            if f(seg) {
                seg.lost = true;
                bytes += seg.span();
                count += 1;
            }
        }
        self.lost_bytes += bytes;
        (bytes, count)
    }

    /// Marks every segment not SACKed as lost (after a timeout), forgets
    /// which were retransmitted, and returns the bytes marked.
    pub fn mark_all_lost(&mut self) -> u64 {
        let mut marked = 0;
        for seg in self.segs.iter_mut().filter(|s| !s.sacked && !s.lost) {
            seg.lost = true;
            marked += seg.span();
        }
        self.lost_bytes += marked;
        marked
    }

    /// Resets the IsLost progress (a new recovery episode starts).
    pub fn restart_is_lost(&mut self) {
        self.is_lost_done = 0;
    }

    /// The first segment to retransmit (NextSeg rule 1): lost, not SACKed.
    pub fn next_lost(&self) -> Option<&Sent> {
        if self.lost_bytes == 0 {
            return None;
        }
        self.segs.iter().find(|s| s.lost)
    }

    /// Bytes in flight by RFC 6675's estimate.
    pub fn pipe(&self) -> u64 {
        self.outstanding - self.sacked_bytes - self.lost_bytes
    }

    /// Bytes from `snd_una` to `snd_max`.
    pub fn outstanding(&self) -> u64 {
        self.outstanding
    }

    /// Bytes SACKed.
    pub fn sacked_bytes(&self) -> u64 {
        self.sacked_bytes
    }

    /// Bytes marked lost and not yet retransmitted.
    pub fn lost_bytes(&self) -> u64 {
        self.lost_bytes
    }

    /// Segments SACKed.
    pub fn sacked_segments(&self) -> usize {
        self.sacked_segments
    }

    /// All segments in flight, in offset order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Sent> {
        self.segs.iter()
    }

    /// The segment starting at `start`.
    pub fn get(&self, start: u64) -> Option<&Sent> {
        self.index_of(start).map(|i| &self.segs[i])
    }

    /// The last segment sent (highest offsets).
    pub fn last(&self) -> Option<&Sent> {
        self.segs.back()
    }

    /// The first segment in flight.
    pub fn first(&self) -> Option<&Sent> {
        self.segs.front()
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }

    fn index_of(&self, start: u64) -> Option<usize> {
        let i = self.segs.partition_point(|s| s.start < start);
        (self.segs.get(i)?.start == start).then_some(i)
    }

    /// Recomputes the byte counters from the segments and compares them.
    #[cfg(test)]
    pub fn check(&self) {
        let sum = |f: fn(&Sent) -> bool| {
            self.segs
                .iter()
                .filter(|s| f(s))
                .map(Sent::span)
                .sum::<u64>()
        };
        assert_eq!(self.outstanding, sum(|_| true));
        assert_eq!(self.sacked_bytes, sum(|s| s.sacked));
        assert_eq!(self.lost_bytes, sum(|s| s.lost));
        assert_eq!(
            self.sacked_segments,
            self.segs.iter().filter(|s| s.sacked).count()
        );
        assert!(self.segs.iter().all(|s| !(s.sacked && s.lost)));
    }
}
