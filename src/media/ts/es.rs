//! One elementary stream inside the demuxer: continuity checking, PES
//! assembly, and the codec step from PES payload to canonical access units
//! (parameter sets and AUDs out of H.264/H.265, ADTS headers off AAC).
//!
//! Invariants: timestamps are unwrapped from 33 bits before conversion to
//! the track timescale, the first one of a stream read as signed (a stream
//! may start slightly below 0); a track is announced before its first unit and again
//! whenever its in-band configuration changes; units arriving before the
//! configuration is known are dropped (a receiver joining mid-stream waits
//! for the next keyframe) and counted in [`EsState::units_before_config`].

use std::collections::VecDeque;
use std::time::Duration;

use super::demux::{peek_dts, TsDemuxError, TsEvent};
use super::packet::TsPacket;
use super::pes::{self, parse_header, signed_33, Unwrapper, PTS_HZ};
use crate::media::aac;
use crate::media::h264;
use crate::media::h265;
use crate::media::{AccessUnit, Codec, CodecConfig, Track};

/// A PES being collected.
#[derive(Debug)]
struct PesBuf {
    data: Vec<u8>,
    /// Why it is damaged, if packets went missing.
    damaged: Option<&'static str>,
}

/// The demuxer's state for one PID carrying a supported codec.
#[derive(Debug)]
pub(super) struct EsState {
    track_id: u32,
    codec: Codec,
    track: Option<Track>,
    pes: Option<PesBuf>,
    next_cc: Option<u8>,
    /// The payload of the last packet taken, to recognise its duplicate.
    last_payload: Vec<u8>,
    /// Whether the last packet taken was already repeated once.
    duplicate_seen: bool,
    unwrap: Unwrapper,
    /// The previous video unit's duration, for units whose successor is unknown.
    last_duration: u32,
    /// Units dropped because no configuration was known yet.
    pub(super) units_before_config: u64,
}

impl EsState {
    /// The state of a stream that becomes track `track_id`.
    pub(super) fn new(track_id: u32, codec: Codec) -> Self {
        Self {
            track_id,
            codec,
            track: None,
            pes: None,
            next_cc: None,
            last_payload: Vec::new(),
            duplicate_seen: false,
            unwrap: Unwrapper::signed(),
            last_duration: 0,
            units_before_config: 0,
        }
    }

    /// The track id this stream becomes.
    pub(super) fn track_id(&self) -> u32 {
        self.track_id
    }

    /// The codec the PMT gave this stream.
    pub(super) fn codec(&self) -> Codec {
        self.codec
    }

    /// PES bytes buffered now.
    pub(super) fn buffered(&self) -> usize {
        self.pes.as_ref().map_or(0, |p| p.data.len())
    }

    /// Takes one packet of this PID. `limit` is the PES size (bytes) beyond
    /// which the PES is dropped as damaged, with the reason to report.
    pub(super) fn handle_packet(
        &mut self,
        pid: u16,
        pkt: &TsPacket<'_>,
        (limit, why): (usize, &'static str),
        events: &mut VecDeque<TsEvent>,
    ) {
        if !pkt.has_payload {
            return; // adaptation-only: the counter does not advance
        }
        let reset = pkt.adaptation.is_some_and(|a| a.discontinuity);
        if let (Some(expected), false) = (self.next_cc, reset) {
            // ISO/IEC 13818-1 §2.4.3.3: a duplicate is the previous packet sent
            // again, same counter and same payload, at most once. A repeated
            // counter with other bytes is 15 lost packets, not a duplicate.
            let repeat = pkt.cc == (expected + 15) & 0x0f;
            if repeat && !self.duplicate_seen && self.last_payload == pkt.payload {
                self.duplicate_seen = true;
                return;
            }
            if pkt.cc != expected {
                events.push_back(TsEvent::Error(TsDemuxError::Continuity {
                    pid,
                    expected,
                    got: pkt.cc,
                }));
                // The lost packets may have been this PES's tail.
                if let Some(p) = &mut self.pes {
                    p.damaged = Some("packets lost (continuity counter gap)");
                }
            }
        }
        self.duplicate_seen = false;
        self.last_payload.clear();
        self.last_payload.extend_from_slice(pkt.payload);
        self.next_cc = Some((pkt.cc + 1) & 0x0f);
        if pkt.unit_start {
            self.complete(pid, peek_dts(pkt.payload), events);
            self.pes = Some(PesBuf {
                data: pkt.payload.to_vec(),
                damaged: None,
            });
        } else if let Some(p) = &mut self.pes {
            p.data.extend_from_slice(pkt.payload);
            if p.data.len() > limit {
                p.damaged = Some(why);
                self.complete(pid, None, events);
            }
        }
        let bounded_end = self.pes.as_ref().and_then(|p| {
            let len = usize::from(parse_header(&p.data).ok()?.packet_length);
            (len != 0 && p.data.len() >= 6 + len).then_some(())
        });
        if bounded_end.is_some() {
            self.complete(pid, None, events);
        }
    }

    /// Completes the PES being collected, if any. `next_dts` (90 kHz, 33-bit)
    /// is the DTS of the PES that follows, when known, for video durations.
    pub(super) fn complete(
        &mut self,
        pid: u16,
        next_dts: Option<i64>,
        events: &mut VecDeque<TsEvent>,
    ) {
        let Some(pes) = self.pes.take() else { return };
        let header = match parse_header(&pes.data) {
            Ok(h) => h,
            Err(source) => {
                return events.push_back(TsEvent::Error(TsDemuxError::Pes { pid, source }))
            }
        };
        let Some(pts_raw) = header.pts else {
            let source = pes::PesError::Malformed {
                reason: "PES without PTS",
            };
            return events.push_back(TsEvent::Error(TsDemuxError::Pes { pid, source }));
        };
        let dts_raw = header.dts.unwrap_or(pts_raw);
        let dts = self.unwrap.unwrap(dts_raw);
        let pts = dts + signed_33(pts_raw - dts_raw);
        let end = if header.packet_length == 0 {
            pes.data.len()
        } else {
            6 + usize::from(header.packet_length)
        };
        let damaged = pes
            .damaged
            .or((pes.data.len() < end).then_some("shorter than its PES_packet_length"));
        if let Some(reason) = damaged {
            let pts = Some(pes::from_90k(pts, self.timescale()));
            let error = TsDemuxError::DamagedPes {
                pid,
                track: self.track_id,
                pts,
                reason,
            };
            return events.push_back(TsEvent::Error(error));
        }
        let payload = &pes.data[header.header_len.min(end)..end];
        if self.codec == Codec::Aac {
            return self.audio(pid, payload, pts, events);
        }
        let step = next_dts.map(|n| signed_33(n - dts_raw)).filter(|&d| d > 0);
        self.video(pid, payload, (pts, dts), step, events);
    }

    fn timescale(&self) -> u32 {
        self.track.as_ref().map_or(PTS_HZ, |t| t.timescale)
    }

    fn announce(&mut self, config: CodecConfig, timescale: u32, events: &mut VecDeque<TsEvent>) {
        let track = Track {
            id: self.track_id,
            codec: self.codec,
            timescale,
            config,
            frame_rate: None,
        };
        events.push_back(TsEvent::Track(track.clone()));
        self.track = Some(track);
    }

    fn video(
        &mut self,
        pid: u16,
        payload: &[u8],
        (pts, dts): (i64, i64),
        step: Option<i64>,
        events: &mut VecDeque<TsEvent>,
    ) {
        let (data, sets, keyframe) = canonical_video(self.codec, payload);
        if sets.iter().any(|s| !s.is_empty()) {
            self.update_video_config(pid, sets, events);
        }
        if self.track.is_none() {
            self.units_before_config += 1;
            return;
        }
        if data.is_empty() {
            return;
        }
        let duration = step.map_or(self.last_duration, |s| u32::try_from(s).unwrap_or(u32::MAX));
        self.last_duration = duration;
        let au = AccessUnit {
            track: self.track_id,
            pts,
            dts,
            duration,
            keyframe,
            data,
            capture_time: Duration::ZERO,
        };
        events.push_back(TsEvent::AccessUnit(au));
    }

    /// Adopts in-band parameter sets ([vps,] sps, pps) that differ from the config.
    fn update_video_config(
        &mut self,
        pid: u16,
        sets: [Vec<Vec<u8>>; 3],
        events: &mut VecDeque<TsEvent>,
    ) {
        let old = match self.track.as_ref().map(|t| &t.config) {
            Some(CodecConfig::H264 { sps, pps, .. }) => [Vec::new(), sps.clone(), pps.clone()],
            Some(CodecConfig::H265 { vps, sps, pps, .. }) => {
                [vps.clone(), sps.clone(), pps.clone()]
            }
            _ => Default::default(),
        };
        let pick =
            |new: Vec<Vec<u8>>, old: &Vec<Vec<u8>>| if new.is_empty() { old.clone() } else { new };
        let [new_vps, new_sps, new_pps] = sets;
        let (vps, sps, pps) = (
            pick(new_vps, &old[0]),
            pick(new_sps, &old[1]),
            pick(new_pps, &old[2]),
        );
        if [&vps, &sps, &pps] == [&old[0], &old[1], &old[2]] || sps.is_empty() || pps.is_empty() {
            return;
        }
        let config = if self.codec == Codec::H264 {
            match h264::sps_dimensions(&sps[0]) {
                Ok((width, height)) => CodecConfig::H264 {
                    sps,
                    pps,
                    width,
                    height,
                },
                Err(e) => {
                    return events.push_back(TsEvent::Error(TsDemuxError::Sps {
                        pid,
                        reason: e.to_string(),
                    }))
                }
            }
        } else {
            // No H.265 SPS parser yet: the picture size is unknown (0×0).
            CodecConfig::H265 {
                vps,
                sps,
                pps,
                width: 0,
                height: 0,
            }
        };
        self.announce(config, PTS_HZ, events);
    }

    /// Splits a PES of ADTS frames into raw AAC units, the first at the PES
    /// PTS and each next one 1024 samples per raw data block later. Frames
    /// of several raw data blocks are reported as [`TsDemuxError::Adts`] and
    /// skipped: every unit out is one raw data block.
    fn audio(&mut self, pid: u16, payload: &[u8], pts_90k: i64, events: &mut VecDeque<TsEvent>) {
        let mut offset = 0;
        let mut samples = 0i64;
        while offset < payload.len() {
            let (header, raw, sample_rate, config) = match adts_frame(&payload[offset..]) {
                Ok(frame) => frame,
                Err(source) => {
                    return events.push_back(TsEvent::Error(TsDemuxError::Adts { pid, source }))
                }
            };
            if header.raw_blocks > 1 {
                // Without a CRC the block boundaries are not in the header,
                // and with one the positions come with per-block CRCs: a
                // canonical unit is one raw data block, so the frame is
                // reported and skipped, its samples kept out of the timeline.
                let source = aac::AacError::MultipleRawBlocks {
                    offset,
                    blocks: header.raw_blocks,
                };
                events.push_back(TsEvent::Error(TsDemuxError::Adts { pid, source }));
                samples += i64::from(header.samples());
                offset += usize::from(header.frame_length);
                continue;
            }
            if self.track.as_ref().is_none_or(|t| t.config != config) {
                self.announce(config, sample_rate, events);
            }
            let duration = header.samples();
            let pts = pes::from_90k(pts_90k, sample_rate) + samples;
            let data = raw.to_vec();
            let au = AccessUnit {
                track: self.track_id,
                pts,
                dts: pts,
                duration,
                keyframe: true,
                data,
                capture_time: Duration::ZERO,
            };
            events.push_back(TsEvent::AccessUnit(au));
            samples += i64::from(duration);
            offset += usize::from(header.frame_length);
        }
    }
}

/// The ADTS frame at the start of `data`: its header, its payload (every
/// raw data block), and the sample rate and track configuration its header
/// describes.
fn adts_frame(data: &[u8]) -> Result<(aac::AdtsHeader, &[u8], u32, CodecConfig), aac::AacError> {
    let (header, payload) = aac::parse_adts_frame(data)?;
    let asc = header
        .audio_specific_config()
        .ok_or(aac::AacError::FrequencyIndex {
            index: header.frequency_index,
        })?;
    let config = CodecConfig::Aac {
        asc: asc.to_bytes()?,
        sample_rate: asc.sample_rate,
        channels: asc.channel_config,
    };
    Ok((header, payload, asc.sample_rate, config))
}

/// Canonical Annex B of a video PES payload, the parameter sets it carried
/// as [VPS, SPS, PPS], and whether it is a random access point.
fn canonical_video(codec: Codec, payload: &[u8]) -> (Vec<u8>, [Vec<Vec<u8>>; 3], bool) {
    if codec == Codec::H264 {
        let (data, sps, pps) = h264::canonicalize(payload);
        let keyframe = h264::is_idr(&data);
        return (data, [Vec::new(), sps, pps], keyframe);
    }
    // H.265: the keyframe rule is the one the file source uses (BLA, IDR).
    let mut sets: [Vec<Vec<u8>>; 3] = Default::default();
    let mut keep = Vec::new();
    let mut keyframe = false;
    for nal in h264::split_annex_b(payload) {
        match h265::nal_type(nal) {
            Some(t @ h265::NAL_VPS..=h265::NAL_PPS) => {
                sets[usize::from(t - h265::NAL_VPS)].push(nal.to_vec())
            }
            Some(h265::NAL_AUD) | None => {}
            Some(t) => {
                keyframe |= h265::is_keyframe_type(t);
                keep.push(nal);
            }
        }
    }
    (h264::join_annex_b(keep), sets, keyframe)
}
