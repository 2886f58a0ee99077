//! The MPEG-TS demuxer: arbitrary byte chunks in, tracks, canonical access
//! units and reported errors out (sans-IO: `handle_bytes`, then
//! `poll_event` until `None`; `flush` at end of input).
//!
//! Invariants:
//! * No input panics or stalls it: garbage costs a [`TsDemuxError::Sync`]
//!   (bytes skipped until two packets 188 bytes apart start with 0x47),
//!   malformed packets, sections and PES headers are reported and skipped.
//! * Continuity: a counter gap on any PID (media or PSI) is reported as
//!   [`TsDemuxError::Continuity`] and damages the PES or section being
//!   assembled; a legal duplicate (the previous
//!   packet again, same counter and payload, once) is dropped silently. A
//!   repeated counter with another payload, or a second repeat, is a gap.
//! * Damaged PES policy: a PES that lost packets (counter gap while it was
//!   assembled, or fewer bytes than its PES_packet_length) is **dropped** and
//!   reported as [`TsDemuxError::DamagedPes`] with its PTS when known, so the
//!   player counts it lost. A PES joined in the middle is dropped silently.
//! * Units come out per track in stream order; a video unit comes out when
//!   the next PES of its PID starts (unbounded PES), or at [`TsDemuxer::flush`].
//! * Every unit's track was announced by a [`TsEvent::Track`] first.
//! * Memory is bounded: at most [`MAX_STREAMS`] streams, each PES at most
//!   16 MiB and all buffered PES together at most 32 MiB (over that, the
//!   PES is dropped as damaged). A new PMT version replaces the stream set:
//!   streams it no longer lists complete their pending PES and are removed
//!   ([`TsDemuxError::StreamRemoved`]).

use std::collections::{BTreeMap, VecDeque};

use super::es::EsState;
use super::packet::{parse_packet, PacketError, TsPacket, PACKET_SIZE, SYNC_BYTE};
use super::pes::{parse_header, PesError};
use super::psi::{parse_section, section_len, PsiError, Section, PAT_PID};
use crate::media::aac::AacError;
use crate::media::{AccessUnit, Track};

/// PES bytes one stream may buffer before its PES is declared damaged.
const MAX_PES_BYTES: usize = 16 << 20;
/// PES bytes all streams together may buffer: the stream whose packet would
/// go over it has its PES declared damaged.
const MAX_TOTAL_PES_BYTES: usize = 32 << 20;
/// Elementary streams the demuxer follows at once; PMT entries beyond are
/// reported and ignored.
pub const MAX_STREAMS: usize = 64;
/// PSI bytes one PID may buffer before the section is abandoned.
const MAX_SECTION_BYTES: usize = 4096;

/// What the demuxer reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TsEvent {
    /// A track's configuration became known (first in-band parameter sets or
    /// ADTS header), or changed; ids are 1, 2, … in PMT order.
    Track(Track),
    /// One access unit in canonical form (`capture_time` is zero: the
    /// receiver stamps arrival time itself).
    AccessUnit(AccessUnit),
    /// A problem in the input; demuxing goes on.
    Error(TsDemuxError),
}

/// Problems in the input, each reported once where it is found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TsDemuxError {
    /// Bytes that did not belong to any packet were skipped.
    #[error("lost sync at byte {offset}, skipped {skipped} bytes")]
    Sync {
        /// Input offset where sync was lost.
        offset: u64,
        /// Bytes skipped.
        skipped: u64,
    },
    /// A packet that could not be parsed.
    #[error("packet at byte {offset}: {source}")]
    Packet {
        /// Input offset of the packet.
        offset: u64,
        /// What was wrong.
        #[source]
        source: PacketError,
    },
    /// A packet with the transport_error_indicator set, dropped.
    #[error("PID {pid:#x}: transport error indicator set")]
    TransportError {
        /// The packet's PID.
        pid: u16,
    },
    /// A continuity counter gap: packets were lost.
    #[error("PID {pid:#x}: continuity counter {got}, expected {expected}")]
    Continuity {
        /// The PID.
        pid: u16,
        /// The counter that should have come.
        expected: u8,
        /// The counter that came.
        got: u8,
    },
    /// A PES that lost packets, dropped.
    #[error("PID {pid:#x}: damaged PES (pts {pts:?}) dropped: {reason}")]
    DamagedPes {
        /// The PID.
        pid: u16,
        /// Its track id.
        track: u32,
        /// Its PTS in the track's timescale, if the header survived.
        pts: Option<i64>,
        /// Why it is damaged.
        reason: &'static str,
    },
    /// A malformed PSI section.
    #[error("PID {pid:#x}: {source}")]
    Psi {
        /// The PID.
        pid: u16,
        /// What was wrong.
        #[source]
        source: PsiError,
    },
    /// A malformed PES header.
    #[error("PID {pid:#x}: {source}")]
    Pes {
        /// The PID.
        pid: u16,
        /// What was wrong.
        #[source]
        source: PesError,
    },
    /// Malformed ADTS framing inside an AAC PES; the rest of the PES is
    /// skipped. A frame of several raw data blocks
    /// ([`AacError::MultipleRawBlocks`]) is skipped alone.
    #[error("PID {pid:#x}: {source}")]
    Adts {
        /// The PID.
        pid: u16,
        /// What was wrong.
        #[source]
        source: AacError,
    },
    /// An in-band SPS that could not be parsed; the track config is unchanged.
    #[error("PID {pid:#x}: {reason}")]
    Sps {
        /// The PID.
        pid: u16,
        /// The [`crate::media::h264::H264Error`] text.
        reason: String,
    },
    /// A PMT stream beyond the demuxer's stream limit, ignored.
    #[error("PID {pid:#x}: more than {limit} elementary streams, ignored")]
    StreamLimit {
        /// The PID.
        pid: u16,
        /// The limit ([`MAX_STREAMS`]).
        limit: usize,
    },
    /// A stream that a new PMT version no longer lists (or lists with another
    /// stream_type): its pending PES was completed and the stream dropped.
    #[error("PID {pid:#x}: track {track} removed by PMT version {version}")]
    StreamRemoved {
        /// The PID.
        pid: u16,
        /// Its track id.
        track: u32,
        /// The PMT version_number that dropped it.
        version: u8,
    },
    /// A PMT stream of a type streamsim does not carry, ignored.
    #[error("PID {pid:#x}: unsupported stream type {stream_type:#04x}")]
    UnsupportedStream {
        /// The PID.
        pid: u16,
        /// Its stream_type.
        stream_type: u8,
    },
}

/// A section being collected on one PSI PID.
#[derive(Debug, Default)]
struct SectionBuf {
    data: Vec<u8>,
    next_cc: Option<u8>,
}

/// Turns a transport stream back into tracks and access units.
#[derive(Debug, Default)]
pub struct TsDemuxer {
    buf: Vec<u8>,
    /// Input offset of `buf[0]`.
    offset: u64,
    in_sync: bool,
    /// (offset, bytes) of the sync loss being skipped over.
    lost: Option<(u64, u64)>,
    pmt_pid: Option<u16>,
    sections: BTreeMap<u16, SectionBuf>,
    /// The version_number of the PMT the stream set follows.
    pmt_version: Option<u8>,
    streams: BTreeMap<u16, EsState>,
    ignored: BTreeMap<u16, u8>,
    /// [`TsDemuxer::units_before_config`] of removed streams.
    removed_units_before_config: u64,
    next_track: u32,
    events: VecDeque<TsEvent>,
}

impl TsDemuxer {
    /// A demuxer waiting for its first PAT.
    pub fn new() -> Self {
        Self {
            in_sync: true,
            next_track: 1,
            ..Self::default()
        }
    }

    /// Feeds the next bytes of the stream, cut anywhere.
    pub fn handle_bytes(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        self.drain_packets(false);
    }

    /// Ends the input: parses what is left and completes pending PES.
    pub fn flush(&mut self) {
        self.drain_packets(true);
        // A partial packet at the end is reported like skipped garbage.
        let rest = self.buf.len() as u64;
        let lost = self.lost.take().or((rest > 0).then_some((self.offset, 0)));
        if let Some((offset, skipped)) = lost {
            self.report(TsDemuxError::Sync {
                offset,
                skipped: skipped + rest,
            });
        }
        self.offset += self.buf.len() as u64;
        self.buf.clear();
        for (&pid, es) in &mut self.streams {
            es.complete(pid, None, &mut self.events);
        }
    }

    /// The next event, in the order found.
    pub fn poll_event(&mut self) -> Option<TsEvent> {
        self.events.pop_front()
    }

    /// Video units dropped because their track's parameter sets had not
    /// been seen yet (a receiver that joined mid-stream waits for a keyframe).
    pub fn units_before_config(&self) -> u64 {
        self.removed_units_before_config
            + self
                .streams
                .values()
                .map(|es| es.units_before_config)
                .sum::<u64>()
    }

    fn drain_packets(&mut self, at_end: bool) {
        let mut pos = 0;
        while self.buf.len() - pos >= PACKET_SIZE {
            let next = self.buf.get(pos + PACKET_SIZE).copied();
            let aligned = self.buf[pos] == SYNC_BYTE
                && match next {
                    Some(b) => b == SYNC_BYTE,
                    None => self.in_sync || at_end,
                };
            if next.is_none() && !aligned && self.buf[pos] == SYNC_BYTE && !at_end {
                break; // a candidate we cannot confirm yet
            }
            if !aligned {
                let lost = self.lost.get_or_insert((self.offset + pos as u64, 0));
                lost.1 += 1;
                self.in_sync = false;
                pos += 1;
                continue;
            }
            if let Some((offset, skipped)) = self.lost.take() {
                self.events
                    .push_back(TsEvent::Error(TsDemuxError::Sync { offset, skipped }));
            }
            self.in_sync = true;
            let mut pkt = [0u8; PACKET_SIZE];
            pkt.copy_from_slice(&self.buf[pos..pos + PACKET_SIZE]);
            self.handle_packet(self.offset + pos as u64, &pkt);
            pos += PACKET_SIZE;
        }
        self.buf.drain(..pos);
        self.offset += pos as u64;
    }

    fn handle_packet(&mut self, offset: u64, raw: &[u8; PACKET_SIZE]) {
        let pkt = match parse_packet(raw) {
            Ok(p) => p,
            Err(source) => return self.report(TsDemuxError::Packet { offset, source }),
        };
        if pkt.transport_error {
            return self.report(TsDemuxError::TransportError { pid: pkt.pid });
        }
        let buffered: usize = self.streams.values().map(EsState::buffered).sum();
        if let Some(es) = self.streams.get_mut(&pkt.pid) {
            // This stream may grow to its own limit or to what the others
            // leave of the shared budget, whichever is lower.
            let budget = MAX_TOTAL_PES_BYTES - (buffered - es.buffered()).min(MAX_TOTAL_PES_BYTES);
            let limit = if budget < MAX_PES_BYTES {
                (
                    budget,
                    "buffered PES of all streams over the demuxer's limit",
                )
            } else {
                (MAX_PES_BYTES, "PES larger than the demuxer's limit")
            };
            es.handle_packet(pkt.pid, &pkt, limit, &mut self.events);
        } else if pkt.pid == PAT_PID || Some(pkt.pid) == self.pmt_pid {
            self.handle_psi(&pkt);
        }
    }

    fn report(&mut self, error: TsDemuxError) {
        self.events.push_back(TsEvent::Error(error));
    }

    /// Collects section bytes on a PSI PID and parses complete sections.
    fn handle_psi(&mut self, pkt: &TsPacket<'_>) {
        let pid = pkt.pid;
        let sb = self.sections.entry(pid).or_default();
        if !pkt.has_payload {
            return;
        }
        // A repeat of the last counter is a legal duplicate; anything else
        // but the next one is a gap, reported like a media PID's.
        let gap = sb
            .next_cc
            .filter(|&expected| pkt.cc != expected && pkt.cc != (expected.wrapping_sub(1) & 0x0f));
        if gap.is_some() {
            sb.data.clear(); // a section missing a piece can only fail its CRC
        }
        sb.next_cc = Some((pkt.cc + 1) & 0x0f);
        if let Some(expected) = gap {
            let error = TsDemuxError::Continuity {
                pid,
                expected,
                got: pkt.cc,
            };
            self.events.push_back(TsEvent::Error(error));
        }
        let sb = self.sections.entry(pid).or_default();
        let mut payload = pkt.payload;
        if pkt.unit_start {
            let pointer = usize::from(payload.first().copied().unwrap_or(0xff));
            let Some(tail) = payload.get(1..1 + pointer) else {
                let source = PsiError::Malformed {
                    table_id: 0xff,
                    reason: "pointer_field past the packet",
                };
                sb.data.clear();
                return self.report(TsDemuxError::Psi { pid, source });
            };
            // The tail of the previous section, then the new one.
            if !sb.data.is_empty() {
                sb.data.extend_from_slice(tail);
                self.parse_sections(pid);
            }
            let sb = self.sections.entry(pid).or_default();
            sb.data.clear();
            payload = &payload[1 + pointer..];
            sb.data.extend_from_slice(payload);
        } else if !sb.data.is_empty() {
            sb.data.extend_from_slice(payload);
        }
        self.parse_sections(pid);
    }

    fn parse_sections(&mut self, pid: u16) {
        loop {
            let Some(sb) = self.sections.get_mut(&pid) else {
                return;
            };
            if sb.data.first().is_none_or(|&b| b == 0xff) || sb.data.len() > MAX_SECTION_BYTES {
                sb.data.clear();
                return;
            }
            let result = parse_section(&sb.data);
            if let Err(PsiError::Incomplete { .. }) = result {
                return;
            }
            let used = section_len(&sb.data)
                .unwrap_or(sb.data.len())
                .min(sb.data.len());
            sb.data.drain(..used);
            match result {
                Ok(Section::Pat(pat)) => self.pmt_pid = pat.programs.first().map(|p| p.1),
                Ok(Section::Pmt(pmt)) => self.handle_pmt(&pmt),
                Ok(Section::Other { .. }) => {}
                Err(source) => self.report(TsDemuxError::Psi { pid, source }),
            }
        }
    }

    /// Follows a PMT: a new version replaces the stream set, the same
    /// version again changes nothing.
    fn handle_pmt(&mut self, pmt: &super::psi::Pmt) {
        if self.pmt_version == Some(pmt.version) {
            return;
        }
        self.pmt_version = Some(pmt.version);
        let listed = |pid: u16, stream_type: u8| {
            pmt.streams
                .iter()
                .any(|s| s.pid == pid && s.stream_type == stream_type)
        };
        let gone: Vec<u16> = self
            .streams
            .iter()
            .filter(|(&pid, es)| !listed(pid, super::stream_type(es.codec())))
            .map(|(&pid, _)| pid)
            .collect();
        for pid in gone {
            let Some(mut es) = self.streams.remove(&pid) else {
                continue;
            };
            es.complete(pid, None, &mut self.events);
            self.removed_units_before_config += es.units_before_config;
            self.report(TsDemuxError::StreamRemoved {
                pid,
                track: es.track_id(),
                version: pmt.version,
            });
        }
        self.ignored.retain(|&pid, &mut t| listed(pid, t));
        for s in &pmt.streams {
            if self.streams.contains_key(&s.pid) || self.ignored.contains_key(&s.pid) {
                continue;
            }
            match super::codec_of(s.stream_type) {
                Some(_) if self.streams.len() >= MAX_STREAMS => {
                    self.report(TsDemuxError::StreamLimit {
                        pid: s.pid,
                        limit: MAX_STREAMS,
                    });
                }
                Some(codec) => {
                    self.streams
                        .insert(s.pid, EsState::new(self.next_track, codec));
                    self.next_track += 1;
                }
                None => {
                    self.ignored.insert(s.pid, s.stream_type);
                    self.report(TsDemuxError::UnsupportedStream {
                        pid: s.pid,
                        stream_type: s.stream_type,
                    });
                }
            }
        }
    }
}

/// Parses the PES header at the start of a payload for its DTS (or PTS),
/// 90 kHz, if the header is there whole.
pub(super) fn peek_dts(payload: &[u8]) -> Option<i64> {
    parse_header(payload).ok().and_then(|h| h.dts.or(h.pts))
}
