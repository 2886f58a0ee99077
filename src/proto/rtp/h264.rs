//! H.264 over RTP, RFC 6184 packetization mode 1 (non-interleaved): single
//! NAL unit packets, STAP-A aggregates of small NAL units, FU-A fragments
//! of large ones. The payloader keeps every packet within `max_payload`
//! bytes and sends the SPS and PPS in a STAP-A before each IDR, as
//! GStreamer's `rtph264pay config-interval=-1` does, so a player that
//! joins late or lost the SDP still decodes. The marker bit ends an access
//! unit.
//!
//! The depacketizer takes packets in sequence order (the jitter buffer's
//! output) and hands out an access unit at its marker bit or when the
//! timestamp changes. A sequence gap damages the unit in progress; the
//! unit after a gap is whole only when its first packet starts a picture
//! (a parameter set, SEI, or a slice with `first_mb_in_slice` = 0, the
//! first bit of the slice header), so losing a whole unit costs that unit
//! alone. Parameter sets and delimiters are taken out of the units
//! (canonical form) and kept as the latest ones seen.

use std::collections::VecDeque;

use super::{seq_delta, Depacketized, RtpError};
use crate::media::h264::{join_annex_b, nal_type, split_annex_b};

/// NAL unit type of a STAP-A.
const STAP_A: u8 = 24;
/// NAL unit type of an FU-A.
const FU_A: u8 = 28;
/// The largest access unit reassembled (bytes); larger ones are damaged.
pub const MAX_UNIT: usize = 8 << 20;

/// Splits access units into RTP payloads.
#[derive(Clone, Debug)]
pub struct H264Payloader {
    max_payload: usize,
    sps: Vec<Vec<u8>>,
    pps: Vec<Vec<u8>>,
}

impl H264Payloader {
    /// A payloader whose payloads are at most `max_payload` bytes (the MTU
    /// less IP, UDP and RTP headers), sending `sps` and `pps` before each
    /// keyframe.
    pub fn new(
        max_payload: usize,
        sps: Vec<Vec<u8>>,
        pps: Vec<Vec<u8>>,
    ) -> Result<H264Payloader, RtpError> {
        // An FU-A needs its two header bytes and one byte of data.
        if max_payload < 3 {
            return Err(RtpError::Mtu { mtu: max_payload });
        }
        Ok(H264Payloader {
            max_payload,
            sps,
            pps,
        })
    }

    /// The payloads of one access unit (Annex B), in order; the last one
    /// carries the marker bit.
    pub fn payload(&self, annex_b: &[u8], keyframe: bool) -> Vec<Vec<u8>> {
        let mut nals: Vec<&[u8]> = Vec::new();
        if keyframe {
            nals.extend(self.sps.iter().map(Vec::as_slice));
            nals.extend(self.pps.iter().map(Vec::as_slice));
        }
        nals.extend(split_annex_b(annex_b).into_iter().filter(|n| !n.is_empty()));
        let mut out = Vec::new();
        let mut group: Vec<&[u8]> = Vec::new();
        let mut group_len = 1; // the STAP-A header
        for nal in nals {
            if nal.len() > self.max_payload {
                self.flush(&mut group, &mut out);
                group_len = 1;
                self.fragment(nal, &mut out);
                continue;
            }
            if group_len + 2 + nal.len() > self.max_payload {
                self.flush(&mut group, &mut out);
                group_len = 1;
            }
            group.push(nal);
            group_len += 2 + nal.len();
        }
        self.flush(&mut group, &mut out);
        out
    }

    /// A single NAL unit packet, or a STAP-A of several.
    fn flush(&self, group: &mut Vec<&[u8]>, out: &mut Vec<Vec<u8>>) {
        match group.len() {
            0 => {}
            1 => out.push(group[0].to_vec()),
            _ => {
                let f = group.iter().fold(0, |f, n| f | (n[0] & 0x80));
                let nri = group.iter().map(|n| n[0] & 0x60).max().unwrap_or(0);
                let mut p = vec![f | nri | STAP_A];
                for nal in group.iter() {
                    // Each NAL fits a payload, so its length fits 16 bits.
                    p.extend_from_slice(&(nal.len() as u16).to_be_bytes());
                    p.extend_from_slice(nal);
                }
                out.push(p);
            }
        }
        group.clear();
    }

    /// FU-A fragments of one NAL unit larger than a payload.
    fn fragment(&self, nal: &[u8], out: &mut Vec<Vec<u8>>) {
        let indicator = (nal[0] & 0xe0) | FU_A;
        let kind = nal[0] & 0x1f;
        let chunks: Vec<&[u8]> = nal[1..].chunks(self.max_payload - 2).collect();
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.iter().enumerate() {
            let mut header = kind;
            if i == 0 {
                header |= 0x80;
            }
            if i == last {
                header |= 0x40;
            }
            let mut p = Vec::with_capacity(2 + chunk.len());
            p.push(indicator);
            p.push(header);
            p.extend_from_slice(chunk);
            out.push(p);
        }
    }
}

/// The access unit being reassembled.
#[derive(Debug)]
struct Unit {
    rtp_ts: u32,
    nals: Vec<Vec<u8>>,
    bytes: usize,
    damaged: bool,
}

/// Reassembles access units from packets in sequence order.
#[derive(Debug, Default)]
pub struct H264Depacketizer {
    last_seq: Option<u16>,
    unit: Option<Unit>,
    /// The NAL unit of an FU-A in progress.
    fu: Option<Vec<u8>>,
    /// Packets were lost since the last unit ended.
    gap: bool,
    out: VecDeque<Depacketized>,
    /// The latest SPS seen in band.
    pub sps: Option<Vec<u8>>,
    /// The latest PPS seen in band.
    pub pps: Option<Vec<u8>>,
}

impl H264Depacketizer {
    /// A depacketizer that has seen nothing.
    pub fn new() -> H264Depacketizer {
        H264Depacketizer::default()
    }

    /// One packet, in sequence order (older or repeated ones are ignored).
    pub fn handle_packet(&mut self, seq: u16, rtp_ts: u32, marker: bool, payload: &[u8]) {
        if let Some(last) = self.last_seq {
            let delta = seq_delta(last, seq);
            if delta <= 0 {
                return;
            }
            if delta > 1 {
                self.handle_gap();
            }
        }
        self.last_seq = Some(seq);
        if self.unit.as_ref().is_some_and(|u| u.rtp_ts != rtp_ts) {
            self.finish_unit();
        }
        let unit = self.unit.get_or_insert_with(|| Unit {
            rtp_ts,
            nals: Vec::new(),
            bytes: 0,
            // After a gap, the new unit is whole only if this packet
            // starts a picture.
            damaged: std::mem::take(&mut self.gap) && !starts_picture(payload),
        });
        read_payload(unit, &mut self.fu, payload);
        if marker {
            self.finish_unit();
        }
    }

    /// Packets were lost before the next one: the unit in progress (if
    /// any) is damaged, and so may be the next one.
    pub fn handle_gap(&mut self) {
        if let Some(unit) = &mut self.unit {
            unit.damaged = true;
        }
        self.fu = None;
        self.gap = true;
    }

    /// The end of input: a unit in progress comes out (damaged: its
    /// marker never came).
    pub fn finish(&mut self) {
        if let Some(unit) = &mut self.unit {
            unit.damaged = true;
        }
        self.finish_unit();
    }

    /// The next unit out.
    pub fn poll(&mut self) -> Option<Depacketized> {
        self.out.pop_front()
    }

    fn finish_unit(&mut self) {
        self.fu = None;
        let Some(unit) = self.unit.take() else {
            return;
        };
        if unit.damaged {
            self.out.push_back(Depacketized::Damaged {
                rtp_ts: unit.rtp_ts,
            });
            return;
        }
        let mut keyframe = false;
        let mut kept: Vec<&[u8]> = Vec::new();
        for nal in &unit.nals {
            match nal_type(nal) {
                Some(7) => self.sps = Some(nal.clone()),
                Some(8) => self.pps = Some(nal.clone()),
                Some(9) | None => {}
                Some(t) => {
                    keyframe |= t == 5;
                    kept.push(nal);
                }
            }
        }
        if !kept.is_empty() {
            self.out.push_back(Depacketized::Unit {
                rtp_ts: unit.rtp_ts,
                keyframe,
                data: join_annex_b(kept),
            });
        }
    }
}

/// Adds one payload's NAL units to `unit`; anything malformed or out of
/// order damages it.
fn read_payload(unit: &mut Unit, fu: &mut Option<Vec<u8>>, payload: &[u8]) {
    let Some(&first) = payload.first() else {
        unit.damaged = true;
        return;
    };
    match first & 0x1f {
        1..=23 => push(unit, payload.to_vec()),
        STAP_A => {
            let mut rest = &payload[1..];
            if rest.is_empty() {
                unit.damaged = true;
            }
            while !rest.is_empty() {
                let size = match rest {
                    [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b])),
                    _ => 0,
                };
                if size == 0 || rest.len() < 2 + size {
                    unit.damaged = true;
                    return;
                }
                push(unit, rest[2..2 + size].to_vec());
                rest = &rest[2 + size..];
            }
        }
        FU_A => {
            let Some(&header) = payload.get(1) else {
                unit.damaged = true;
                return;
            };
            let (start, end) = (header & 0x80 != 0, header & 0x40 != 0);
            if start {
                if fu.is_some() {
                    unit.damaged = true;
                }
                *fu = Some(vec![(first & 0xe0) | (header & 0x1f)]);
            }
            let Some(nal) = fu.as_mut() else {
                unit.damaged = true;
                return;
            };
            nal.extend_from_slice(&payload[2..]);
            if nal.len() > MAX_UNIT {
                unit.damaged = true;
                *fu = None;
                return;
            }
            if end {
                if let Some(nal) = fu.take() {
                    push(unit, nal);
                }
            }
        }
        // STAP-B, MTAP, FU-B (interleaved mode only) and reserved types.
        _ => unit.damaged = true,
    }
}

fn push(unit: &mut Unit, nal: Vec<u8>) {
    unit.bytes += nal.len();
    if unit.bytes > MAX_UNIT {
        unit.damaged = true;
        unit.nals.clear();
        return;
    }
    if !unit.damaged {
        unit.nals.push(nal);
    }
}

/// True when `payload` begins a picture: a non-slice NAL unit first, or a
/// slice (or the first fragment of one) whose `first_mb_in_slice` is 0
/// (ue(v) 0 is the single bit 1).
fn starts_picture(payload: &[u8]) -> bool {
    let starts = |nal_header: u8, slice_byte: Option<&u8>| match nal_header & 0x1f {
        1..=5 => slice_byte.is_some_and(|b| b & 0x80 != 0),
        6..=23 => true,
        _ => false,
    };
    match payload.first().map(|b| b & 0x1f) {
        Some(STAP_A) => payload.get(3).is_some_and(|h| starts(*h, payload.get(4))),
        Some(FU_A) => payload
            .get(1)
            .is_some_and(|h| h & 0x80 != 0 && starts(*h, payload.get(2))),
        Some(_) => starts(payload[0], payload.get(1)),
        None => false,
    }
}

#[cfg(test)]
#[path = "h264_tests.rs"]
mod tests;
