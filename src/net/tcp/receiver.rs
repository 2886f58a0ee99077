//! The receive side: reassembly, what the application reads, the SACK
//! blocks and D-SACK to report, the advertised window and when to ACK.
//!
//! Offsets count from the peer's initial sequence number (the SYN is offset
//! 0, the first data byte offset 1), so they never wrap. Data is accepted
//! only inside the advertised window, and out-of-order data is kept in at
//! most [`MAX_OOO_RANGES`] disjoint ranges: memory stays below the receive
//! buffer plus a fixed overhead whatever arrives.
//!
//! ACK policy: in-order data is acknowledged after `ack_every` segments or
//! `ack_delay`, whichever comes first, and at once during the quick-ACK
//! phase at start; out-of-order data, data that fills a hole, duplicates
//! (which produce a D-SACK, RFC 2883) and a FIN are acknowledged at once.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use super::wire::MAX_SACK_BLOCKS;

/// Most disjoint out-of-order ranges kept; a segment that would add one
/// more is dropped (the sender retransmits it).
pub const MAX_OOO_RANGES: usize = 64;

/// What one segment's data did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DataOutcome {
    /// Bytes that became readable.
    pub readable: usize,
    /// The FIN was reached in order by this segment.
    pub fin: bool,
}

/// The receive side of a connection.
#[derive(Clone, Debug)]
pub struct Receiver {
    capacity: usize,
    buf: VecDeque<u8>,
    ooo: BTreeMap<u64, Vec<u8>>,
    /// Next offset expected (RCV.NXT).
    nxt: u64,
    /// Offset of the peer's FIN, once seen.
    fin_at: Option<u64>,
    fin_done: bool,
    /// Offsets inside the out-of-order ranges most recently changed, newest
    /// first: the SACK blocks to report, in RFC 2018's order.
    recent: VecDeque<u64>,
    /// A duplicate to report as a D-SACK in the next ACK.
    dsack: Option<(u64, u64)>,
    /// Right edge of the window last advertised (never moves left).
    adv_right: u64,
    ack_every: u32,
    ack_delay: Option<Duration>,
    quick: u32,
    unacked_segments: u32,
    ack_now: bool,
    delack_at: Option<Duration>,
}

impl Receiver {
    /// A receiver whose next expected offset is 1 (just after the SYN).
    pub fn new(
        capacity: usize,
        ack_every: u32,
        ack_delay: Option<Duration>,
        quick: u32,
    ) -> Receiver {
        Receiver {
            capacity: capacity.max(1),
            buf: VecDeque::new(),
            ooo: BTreeMap::new(),
            nxt: 1,
            fin_at: None,
            fin_done: false,
            recent: VecDeque::new(),
            dsack: None,
            adv_right: 1 + capacity as u64,
            ack_every: ack_every.max(1),
            ack_delay,
            quick,
            unacked_segments: 0,
            ack_now: false,
            delack_at: None,
        }
    }

    /// RCV.NXT as an offset.
    pub fn nxt(&self) -> u64 {
        self.nxt
    }

    /// The right edge data may reach: what was advertised, or more if the
    /// buffer has room for it.
    fn right_edge(&self) -> u64 {
        self.adv_right.max(self.nxt + self.free() as u64)
    }

    /// The window data may fill now, from RCV.NXT.
    pub fn window_now(&self) -> u64 {
        self.right_edge() - self.nxt
    }

    fn free(&self) -> usize {
        self.capacity.saturating_sub(self.buf.len())
    }

    /// Whether the peer's FIN has been received in order.
    pub fn fin_received(&self) -> bool {
        self.fin_done
    }

    /// Takes the data (and FIN) of a segment starting at offset `start`.
    pub fn on_data(&mut self, now: Duration, start: u64, payload: &[u8], fin: bool) -> DataOutcome {
        let mut outcome = DataOutcome::default();
        let end = start + payload.len() as u64;
        if fin && end <= self.right_edge() && self.fin_at.is_none() && !self.fin_done {
            self.fin_at = Some(end);
        }
        if !payload.is_empty() {
            if end <= self.nxt {
                self.dsack = Some((start, end));
                self.ack_now = true;
            } else if start <= self.nxt {
                if start < self.nxt {
                    self.dsack = Some((start, self.nxt));
                }
                outcome.readable = self.take_in_order(start, payload);
            } else {
                self.insert_out_of_order(start, payload);
                self.ack_now = true;
            }
        }
        if self.fin_at == Some(self.nxt) && !self.fin_done {
            self.fin_done = true;
            self.nxt += 1;
            self.ack_now = true;
            outcome.fin = true;
        }
        if !payload.is_empty() || fin {
            self.schedule_ack(now);
        }
        outcome
    }

    fn take_in_order(&mut self, start: u64, payload: &[u8]) -> usize {
        let skip = (self.nxt - start) as usize;
        let room = (self.right_edge() - self.nxt) as usize;
        let fresh = &payload[skip..payload.len().min(skip + room)];
        self.buf.extend(fresh);
        self.nxt += fresh.len() as u64;
        let mut readable = fresh.len();
        let had_holes = !self.ooo.is_empty();
        while let Some(entry) = self.ooo.first_entry() {
            let key = *entry.key();
            if key > self.nxt {
                break;
            }
            let data = entry.remove();
            let data_end = key + data.len() as u64;
            if data_end > self.nxt {
                let tail = &data[(self.nxt - key) as usize..];
                self.buf.extend(tail);
                readable += tail.len();
                self.nxt = data_end;
            }
        }
        if had_holes {
            self.ack_now = true;
        }
        readable
    }

    fn insert_out_of_order(&mut self, start: u64, payload: &[u8]) {
        let right = self.right_edge();
        if start >= right {
            return;
        }
        let end = (start + payload.len() as u64).min(right);
        let payload = &payload[..(end - start) as usize];
        // Every held range that overlaps or touches [start, end).
        let touching: Vec<u64> = self
            .ooo
            .range(..=end)
            .rev()
            .take_while(|(&k, v)| k + v.len() as u64 >= start)
            .map(|(&k, _)| k)
            .collect();
        if let [only] = touching[..] {
            let held = &self.ooo[&only];
            if only <= start && only + held.len() as u64 >= end {
                self.dsack = Some((start, end));
                self.note_recent(start);
                return;
            }
        }
        if touching.is_empty() && self.ooo.len() >= MAX_OOO_RANGES {
            return;
        }
        let mut lo = start;
        let mut hi = end;
        for k in &touching {
            lo = lo.min(*k);
            hi = hi.max(k + self.ooo[k].len() as u64);
        }
        let mut merged = vec![0u8; (hi - lo) as usize];
        let at = (start - lo) as usize;
        merged[at..at + payload.len()].copy_from_slice(payload);
        for k in touching {
            let held = self
                .ooo
                .remove(&k)
                .expect("key was just listed from the map");
            let at = (k - lo) as usize;
            merged[at..at + held.len()].copy_from_slice(&held);
        }
        self.ooo.insert(lo, merged);
        self.note_recent(start);
    }

    fn note_recent(&mut self, offset: u64) {
        let mut recent = std::mem::take(&mut self.recent);
        let range = self.range_of(offset);
        recent.retain(|&o| self.range_of(o).is_some_and(|r| Some(r) != range));
        recent.push_front(offset);
        self.recent = recent;
        self.recent.truncate(MAX_SACK_BLOCKS);
    }

    fn range_of(&self, offset: u64) -> Option<(u64, u64)> {
        let (&k, v) = self.ooo.range(..=offset).next_back()?;
        let end = k + v.len() as u64;
        (offset < end).then_some((k, end))
    }

    /// The blocks for the next ACK, as offsets: a D-SACK first if one is
    /// pending, then the held ranges most recently changed.
    pub fn sack_blocks(&self, out: &mut Vec<(u64, u64)>) {
        out.clear();
        if let Some(block) = self.dsack {
            out.push(block);
        }
        let first = out.len();
        for &o in &self.recent {
            if let Some(range) = self.range_of(o) {
                // A D-SACK inside held data repeats the range that holds it
                // as the second block (RFC 2883 §4.2).
                if !out[first..].contains(&range) {
                    out.push(range);
                }
            }
        }
    }

    fn schedule_ack(&mut self, now: Duration) {
        self.unacked_segments += 1;
        if self.quick > 0 {
            self.quick -= 1;
            self.ack_now = true;
        }
        match self.ack_delay {
            None => self.ack_now = true,
            Some(_) if self.unacked_segments >= self.ack_every => self.ack_now = true,
            Some(delay) => {
                self.delack_at.get_or_insert(now + delay);
            }
        }
    }

    /// Records a duplicate `[start, end)` below RCV.NXT for a D-SACK.
    pub fn note_duplicate(&mut self, start: u64, end: u64) {
        self.dsack = Some((start, end));
        self.ack_now = true;
    }

    /// Asks for an ACK at once (window update, probe reply, challenge).
    pub fn request_ack(&mut self) {
        self.ack_now = true;
    }

    /// Whether an ACK must go out now.
    pub fn ack_now(&self) -> bool {
        self.ack_now
    }

    /// When the delayed ACK is due, if one is pending.
    pub fn delack_at(&self) -> Option<Duration> {
        self.delack_at
    }

    /// The delayed-ACK timer fired.
    pub fn on_delack_timeout(&mut self, now: Duration) {
        if self.delack_at.is_some_and(|t| t <= now) {
            self.delack_at = None;
            self.ack_now = true;
        }
    }

    /// An ACK went out: nothing is pending any more.
    pub fn on_ack_sent(&mut self) {
        self.unacked_segments = 0;
        self.ack_now = false;
        self.delack_at = None;
        self.dsack = None;
    }

    /// The window to advertise, in bytes, rounded down to `1 << shift` and
    /// with receiver-side silly-window avoidance: the right edge moves only
    /// by at least `min(buffer / 2, mss)`, and never left.
    pub fn advertise(&mut self, shift: u8, mss: usize) -> u64 {
        let unit = 1u64 << shift;
        let max = 0xffff_u64 << shift;
        let possible = (self.free() as u64).min(max) / unit * unit;
        let right = self.nxt + possible;
        let step = (self.capacity / 2).min(mss) as u64;
        if right >= self.adv_right + step || self.adv_right < self.nxt {
            self.adv_right = right.max(self.adv_right);
        }
        self.adv_right.saturating_sub(self.nxt).min(max)
    }

    /// Whether reading opened the window enough to tell the peer: the
    /// window now possible is at least twice the one advertised and at
    /// least one segment more.
    pub fn window_update_due(&self, mss: usize) -> bool {
        let advertised = self.adv_right.saturating_sub(self.nxt);
        let possible = self.free() as u64;
        possible >= advertised.saturating_mul(2) && possible >= advertised + mss as u64
    }

    /// Copies readable data into `out`; returns the bytes copied.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.buf.len());
        for (dst, src) in out.iter_mut().zip(self.buf.drain(..n)) {
            *dst = src;
        }
        n
    }

    /// Bytes the application can read.
    pub fn readable(&self) -> usize {
        self.buf.len()
    }

    /// Bytes held out of order.
    pub fn out_of_order_bytes(&self) -> usize {
        self.ooo.values().map(Vec::len).sum()
    }
}
