//! The MPEG-TS muxer: canonical access units in, 188-byte packets out
//! (sans-IO, deterministic: the same units always give the same bytes).
//!
//! Invariants:
//! * One program (number 1, PMT on [`PMT_PID`]); track `i` of the slice given
//!   to [`TsMuxer::new`] goes on PID `0x100 + i`; the PCR rides on the first
//!   video track's PID (else the first track's).
//! * PAT and PMT come before the first unit, before every video keyframe and
//!   whenever `psi_interval` of stream time has passed.
//! * PCR = the largest DTS seen so far − `mux_delay` (never below 0, or
//!   below the first DTS if that is negative; never decreasing), so
//!   PCR ≤ DTS for every unit within that reordering slack. Negative
//!   timestamps are written modulo 2^33, as are PCRs.
//! * A track's first DTS lies in [-2^32, 2^32) ticks of 90 kHz
//!   ([`TsMuxError::FirstTimestamp`] otherwise): the demuxer reads a first
//!   timestamp as signed 33 bits, so a negative start round-trips.
//!   A PCR is written when it advanced by `pcr_interval` since the last one
//!   (in the unit's first packet on the PCR PID, else in an adaptation-only
//!   packet), so gaps stay below `pcr_interval` + one unit's DTS step.
//! * One unit is one PES, ending exactly at a packet end (adaptation stuffing).
//!   Video PES are unbounded (length 0) unless [`TsMuxConfig::video_pes_length`]
//!   asks for their length; audio PES carry their length.
//! * H.264/H.265 units get an AUD, and parameter sets from the track config
//!   before keyframes; AAC frames get an ADTS header built from the ASC.

use std::time::Duration;

use super::packet::{
    write_packet, AdaptationField, PacketSpec, MAX_PAYLOAD, PACKET_SIZE, PCR_PER_PTS,
};
use super::pes::{self, PesError, PTS_HZ, STREAM_ID_AUDIO, STREAM_ID_VIDEO};
use super::psi::{Pat, Pmt, PmtStream, PAT_PID};
use super::{stream_type, PMT_PID, PROGRAM_NUMBER};
use crate::media::aac::{raw_to_adts, AdtsHeader, AudioSpecificConfig};
use crate::media::h264::{self, START_CODE};
use crate::media::h265;
use crate::media::{AccessUnit, Codec, CodecConfig, Track};

/// Errors the muxer reports; the unit in question is not written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TsMuxError {
    /// The unit names a track the muxer was not created with.
    #[error("access unit for unknown track {track}")]
    UnknownTrack {
        /// The unit's track id.
        track: u32,
    },
    /// The track's configuration does not match its codec or cannot be carried.
    #[error("track {track}: {reason}")]
    Config {
        /// The track id.
        track: u32,
        /// What is wrong.
        reason: String,
    },
    /// The PMT listing this many tracks would not fit the one packet the
    /// muxer writes it in.
    #[error("{tracks} tracks: the PMT fits at most {max}")]
    TooManyTracks {
        /// Tracks asked for.
        tracks: usize,
        /// Tracks whose PMT fits one packet.
        max: usize,
    },
    /// A track's first DTS outside [-2^32, 2^32) ticks of 90 kHz: the
    /// demuxer reads a stream's first 33-bit timestamp as signed, so it
    /// would come back 2^33 off.
    #[error("track {track}: first dts {dts} (90 kHz) is outside ±2^32 and cannot be read back")]
    FirstTimestamp {
        /// The track id.
        track: u32,
        /// The DTS, 90 kHz.
        dts: i64,
    },
    /// The PES could not be built.
    #[error("track {track}: {source}")]
    Pes {
        /// The track id.
        track: u32,
        /// The PES error.
        #[source]
        source: PesError,
    },
}

/// Muxer settings; all durations are stream time (timestamps), not wall time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TsMuxConfig {
    /// How far the PCR runs behind the DTS (decoder buffering slack).
    pub mux_delay: Duration,
    /// Longest stream time between PAT/PMT repetitions.
    pub psi_interval: Duration,
    /// PCR advance that triggers writing another PCR.
    pub pcr_interval: Duration,
    /// Write the PES_packet_length of video PES that fit 16 bits (off by
    /// default, like ffmpeg's `omit_video_pes_length`). With it, a receiver
    /// has a picture whole at its last packet instead of when the next
    /// picture starts, and a lost packet damages only the picture it held.
    pub video_pes_length: bool,
    /// Carry the PCR on a PID of its own, in adaptation-only packets (by
    /// default it rides on the video PID). Its packets have no payload, so
    /// their continuity counter never moves and can never stand in for a
    /// lost media packet's, which a PCR-only packet on the video PID can
    /// (tools that check counters on adaptation-only packets then miss that
    /// gap).
    pub pcr_pid: Option<u16>,
}

impl Default for TsMuxConfig {
    fn default() -> Self {
        Self {
            mux_delay: Duration::from_millis(100),
            psi_interval: Duration::from_millis(100),
            pcr_interval: Duration::from_millis(20),
            video_pes_length: false,
            pcr_pid: None,
        }
    }
}

fn ticks_90k(d: Duration) -> i64 {
    (d.as_nanos() * u128::from(PTS_HZ) / 1_000_000_000) as i64
}

/// The per-track state.
#[derive(Debug, Clone)]
struct Stream {
    track: Track,
    pid: u16,
    stream_type: u8,
    cc: u8,
    /// Whether a unit of this track was written (its first DTS checked).
    started: bool,
    /// The AudioSpecificConfig of an AAC track, checked to fit ADTS.
    aac: Option<AudioSpecificConfig>,
}

/// Packs access units of a fixed set of tracks into transport packets.
#[derive(Debug, Clone)]
pub struct TsMuxer {
    config: TsMuxConfig,
    streams: Vec<Stream>,
    pcr_pid: u16,
    psi_cc: (u8, u8),
    /// Largest DTS seen, 90 kHz (the muxer's notion of "now").
    clock: Option<i64>,
    last_psi: Option<i64>,
    last_pcr: Option<i64>,
    /// The lowest PCR, 90 kHz: 0, or the first DTS if that is negative.
    pcr_floor: i64,
}

impl TsMuxer {
    /// A muxer for `tracks` (H.264, H.265, AAC).
    pub fn new(tracks: &[Track], config: TsMuxConfig) -> Result<Self, TsMuxError> {
        let mut streams = Vec::with_capacity(tracks.len());
        for (i, track) in tracks.iter().enumerate() {
            let bad = |reason: &str| TsMuxError::Config {
                track: track.id,
                reason: reason.to_owned(),
            };
            let aac = match (&track.codec, &track.config) {
                (Codec::Aac, CodecConfig::Aac { asc, .. }) => {
                    let asc = AudioSpecificConfig::parse(asc).map_err(|e| bad(&e.to_string()))?;
                    // An empty frame's header proves ADTS can carry the config.
                    AdtsHeader::for_raw_frame(&asc, 0).map_err(|e| bad(&e.to_string()))?;
                    Some(asc)
                }
                (Codec::H264, CodecConfig::H264 { .. })
                | (Codec::H265, CodecConfig::H265 { .. }) => None,
                _ => return Err(bad("codec and configuration disagree")),
            };
            if track.timescale == 0 {
                return Err(bad("timescale is 0"));
            }
            let pid = u16::try_from(0x100 + i)
                .ok()
                .filter(|&p| p < 0x1fff)
                .ok_or_else(|| bad("too many tracks"))?;
            streams.push(Stream {
                track: track.clone(),
                pid,
                stream_type: stream_type(track.codec),
                cc: 0,
                started: false,
                aac,
            });
        }
        let pcr_pid = match config.pcr_pid {
            Some(pid)
                if (0x20..0x1fff).contains(&pid)
                    && pid != PMT_PID
                    && streams.iter().all(|s| s.pid != pid) =>
            {
                pid
            }
            Some(pid) => {
                return Err(TsMuxError::Config {
                    track: 0,
                    reason: format!(
                    "PCR PID {pid:#x} is not free (use 0x20..=0x1ffe, no stream's, not the PMT's)"
                ),
                })
            }
            None => streams
                .iter()
                .find(|s| s.track.codec.is_video())
                .or(streams.first())
                .map_or(0x100, |s| s.pid),
        };
        // The PMT goes out in one packet (pointer_field, then the section):
        // 5 bytes a stream after 16 of fixed fields and CRC.
        if pmt_of(&streams, pcr_pid).emit().len() + 1 > MAX_PAYLOAD {
            let fixed = pmt_of(&[], pcr_pid).emit().len() + 1;
            return Err(TsMuxError::TooManyTracks {
                tracks: tracks.len(),
                max: (MAX_PAYLOAD - fixed) / 5,
            });
        }
        Ok(Self {
            config,
            streams,
            pcr_pid,
            psi_cc: (0, 0),
            clock: None,
            last_psi: None,
            last_pcr: None,
            pcr_floor: 0,
        })
    }

    /// The PID each track id is carried on, in track order.
    pub fn pids(&self) -> Vec<(u32, u16)> {
        self.streams.iter().map(|s| (s.track.id, s.pid)).collect()
    }

    /// Packs one access unit (canonical form) into packets, preceded by
    /// PAT/PMT and a PCR packet when due.
    pub fn mux(&mut self, au: &AccessUnit) -> Result<Vec<[u8; PACKET_SIZE]>, TsMuxError> {
        let index = self.streams.iter().position(|s| s.track.id == au.track);
        let index = index.ok_or(TsMuxError::UnknownTrack { track: au.track })?;
        let stream = &self.streams[index];
        let scale = stream.track.timescale;
        let (pts, dts) = (pes::to_90k(au.pts, scale), pes::to_90k(au.dts, scale));
        let is_video = stream.track.codec.is_video();
        let payload = self.elementary_payload(index, au)?;
        let stream = &self.streams[index];
        // A video PES gets its length when asked and when it fits 16 bits.
        let header_max = 19;
        let fits = payload.len() + header_max <= usize::from(u16::MAX);
        let (stream_id, bounded) = if is_video {
            (STREAM_ID_VIDEO, self.config.video_pes_length && fits)
        } else {
            (STREAM_ID_AUDIO, true)
        };
        let header =
            pes::emit_header(stream_id, pts, dts, payload.len(), bounded).map_err(|source| {
                TsMuxError::Pes {
                    track: au.track,
                    source,
                }
            })?;
        let (pid, on_pcr_pid) = (stream.pid, stream.pid == self.pcr_pid);
        if !stream.started && pes::signed_33(dts) != dts {
            return Err(TsMuxError::FirstTimestamp {
                track: au.track,
                dts,
            });
        }
        self.streams[index].started = true;

        let mut out = Vec::new();
        if self.clock.is_none() {
            self.pcr_floor = dts.min(0);
        }
        let clock = self.clock.map_or(dts, |c| c.max(dts));
        self.clock = Some(clock);
        let psi_due = self
            .last_psi
            .is_none_or(|t| clock - t >= ticks_90k(self.config.psi_interval));
        if psi_due || (is_video && au.keyframe) {
            self.last_psi = Some(clock);
            self.write_psi(&mut out);
        }
        let pcr = self.pcr_due(clock);
        if let (Some(pcr), false) = (pcr, on_pcr_pid) {
            let af = AdaptationField {
                pcr: Some(pcr),
                ..AdaptationField::default()
            };
            let spec = PacketSpec {
                pid: self.pcr_pid,
                unit_start: false,
                cc: self.cc_of(self.pcr_pid),
            };
            out.push(write_packet(spec, Some(&af), &[]).0);
        }
        let first_af = AdaptationField {
            random_access: au.keyframe,
            pcr: if on_pcr_pid { pcr } else { None },
            discontinuity: false,
        };
        let mut pes_bytes = header;
        pes_bytes.extend_from_slice(&payload);
        self.write_pes(index, pid, first_af, &pes_bytes, &mut out);
        Ok(out)
    }

    /// Emits what is buffered. The muxer writes every unit whole, so this
    /// returns nothing; it exists so callers treat all muxers alike.
    pub fn flush(&mut self) -> Vec<[u8; PACKET_SIZE]> {
        Vec::new()
    }

    /// The PCR to write now, in 27 MHz ticks, if one is due.
    fn pcr_due(&mut self, clock: i64) -> Option<u64> {
        let candidate = (clock - ticks_90k(self.config.mux_delay)).max(self.pcr_floor);
        let candidate = self.last_pcr.map_or(candidate, |l| l.max(candidate));
        let due = self
            .last_pcr
            .is_none_or(|l| candidate - l >= ticks_90k(self.config.pcr_interval));
        if !due {
            return None;
        }
        self.last_pcr = Some(candidate);
        Some(candidate.rem_euclid(pes::PTS_MODULUS) as u64 * PCR_PER_PTS)
    }

    /// The current continuity counter of a media PID (not advanced: used for
    /// adaptation-only packets, which repeat the last counter).
    fn cc_of(&self, pid: u16) -> u8 {
        self.streams
            .iter()
            .find(|s| s.pid == pid)
            .map_or(0, |s| s.cc.wrapping_sub(1) & 0x0f)
    }

    fn write_pes(
        &mut self,
        index: usize,
        pid: u16,
        first: AdaptationField,
        pes: &[u8],
        out: &mut Vec<[u8; PACKET_SIZE]>,
    ) {
        let mut offset = 0;
        while offset < pes.len() {
            let stream = &mut self.streams[index];
            let spec = PacketSpec {
                pid,
                unit_start: offset == 0,
                cc: stream.cc,
            };
            stream.cc = (stream.cc + 1) & 0x0f;
            let af =
                (offset == 0 && (first.random_access || first.pcr.is_some())).then_some(&first);
            let (pkt, used) = write_packet(spec, af, &pes[offset..]);
            out.push(pkt);
            offset += used;
        }
    }

    fn write_psi(&mut self, out: &mut Vec<[u8; PACKET_SIZE]>) {
        let pat = Pat {
            transport_stream_id: 1,
            programs: vec![(PROGRAM_NUMBER, PMT_PID)],
        };
        let pmt = pmt_of(&self.streams, self.pcr_pid);
        for (pid, section) in [(PAT_PID, pat.emit()), (PMT_PID, pmt.emit())] {
            let cc = if pid == PAT_PID {
                &mut self.psi_cc.0
            } else {
                &mut self.psi_cc.1
            };
            // pointer_field 0, the section, then 0xff padding inside the payload.
            let mut payload = vec![0u8];
            payload.extend_from_slice(&section);
            payload.resize(MAX_PAYLOAD, 0xff);
            out.push(
                write_packet(
                    PacketSpec {
                        pid,
                        unit_start: true,
                        cc: *cc,
                    },
                    None,
                    &payload,
                )
                .0,
            );
            *cc = (*cc + 1) & 0x0f;
        }
    }

    /// The elementary stream bytes of one unit: Annex B with AUD (and
    /// parameter sets before keyframes), or an ADTS frame.
    fn elementary_payload(&self, index: usize, au: &AccessUnit) -> Result<Vec<u8>, TsMuxError> {
        let stream = &self.streams[index];
        let track = au.track;
        let mut out = Vec::with_capacity(au.data.len() + 64);
        let mut push_nal = |nal: &[u8]| {
            out.extend_from_slice(&START_CODE);
            out.extend_from_slice(nal);
        };
        match &stream.track.config {
            CodecConfig::H264 { sps, pps, .. } => {
                push_nal(&[h264::NAL_AUD, 0xf0]);
                if au.keyframe {
                    sps.iter().chain(pps).for_each(|n| push_nal(n));
                }
            }
            CodecConfig::H265 { vps, sps, pps, .. } => {
                push_nal(&[h265::NAL_AUD << 1, 1, 0x50]);
                if au.keyframe {
                    vps.iter().chain(sps).chain(pps).for_each(|n| push_nal(n));
                }
            }
            CodecConfig::Aac { .. } => {
                let asc = stream.aac.ok_or(TsMuxError::Config {
                    track,
                    reason: "no AudioSpecificConfig".into(),
                })?;
                let frame = raw_to_adts(&au.data, &asc).map_err(|e| TsMuxError::Config {
                    track,
                    reason: e.to_string(),
                })?;
                out.extend_from_slice(&frame);
                return Ok(out);
            }
        }
        out.extend_from_slice(&au.data);
        Ok(out)
    }
}

/// The PMT listing `streams` (version 0: the track set never changes).
fn pmt_of(streams: &[Stream], pcr_pid: u16) -> Pmt {
    Pmt {
        program_number: PROGRAM_NUMBER,
        version: 0,
        pcr_pid,
        streams: streams
            .iter()
            .map(|s| PmtStream {
                stream_type: s.stream_type,
                pid: s.pid,
            })
            .collect(),
    }
}
