//! One track's RTP sender inside a server session: payloads access units
//! (H.264 per RFC 6184, AAC per RFC 3640), numbers and stamps the packets
//! from random starting points (drawn from the session's seeded stream,
//! as RFC 3550 wants), counts what it sent for SRs, and keeps a bounded
//! history for RFC 4588 retransmission when NACK is on.

use std::collections::VecDeque;
use std::time::Duration;

use super::RtspError;
use crate::media::{rescale, AccessUnit, CodecConfig, Track};
use crate::proto::rtp::aac::AacPayloader;
use crate::proto::rtp::h264::H264Payloader;
use crate::proto::rtp::rtcp::{ntp_time, Rtcp};
use crate::proto::rtp::RtpPacket;
use crate::rng::SplitMix64;

/// Packets a sender keeps for retransmission (about 1.5 s of an
/// 800 kbit/s stream).
pub const HISTORY: usize = 512;

/// How a track's payloads are made.
#[derive(Clone, Debug)]
enum Payloader {
    H264(H264Payloader),
    Aac(AacPayloader),
}

/// RFC 4588 retransmission stream of a track (its own SSRC and numbers).
#[derive(Clone, Copy, Debug)]
pub struct Rtx {
    /// Its payload type (`apt` = the track's).
    pub payload_type: u8,
    /// Its SSRC.
    pub ssrc: u32,
    seq: u16,
}

/// A track's sender.
#[derive(Clone, Debug)]
pub struct TrackSender {
    payloader: Payloader,
    /// The track's id in the source.
    pub track_id: u32,
    /// Its timescale, from which pts are rescaled.
    timescale: u32,
    /// Its RTP clock rate.
    pub clock_rate: u32,
    /// Its payload type.
    pub payload_type: u8,
    /// Its SSRC.
    pub ssrc: u32,
    /// The next sequence number.
    pub seq: u16,
    ts_base: u32,
    /// RTP timestamp and capture time of the last unit sent.
    last: Option<(u32, Duration)>,
    /// Packets and payload bytes sent (SR counts).
    pub packets: u32,
    /// Payload bytes sent.
    pub octets: u32,
    /// A video track waits for a keyframe after PLAY.
    pub wait_keyframe: bool,
    history: VecDeque<RtpPacket>,
    /// Retransmission, when NACK is on.
    pub rtx: Option<Rtx>,
}

impl TrackSender {
    /// A sender of `track` with payload type `payload_type`, payloads of at
    /// most `max_payload` bytes, random starting points from `rng`, and an
    /// RTX stream of type `rtx_pt` when given.
    pub fn new(
        track: &Track,
        payload_type: u8,
        max_payload: usize,
        rng: &mut SplitMix64,
        rtx_pt: Option<u8>,
    ) -> Result<TrackSender, RtspError> {
        let mtu = |e: crate::proto::rtp::RtpError| RtspError::Media(e.to_string());
        let (payloader, clock_rate) = match &track.config {
            CodecConfig::H264 { sps, pps, .. } => (
                Payloader::H264(
                    H264Payloader::new(max_payload, sps.clone(), pps.clone()).map_err(mtu)?,
                ),
                90_000,
            ),
            CodecConfig::Aac { sample_rate, .. } => (
                Payloader::Aac(AacPayloader::new(max_payload).map_err(mtu)?),
                *sample_rate,
            ),
            CodecConfig::H265 { .. } => {
                return Err(RtspError::Media(
                    "H.265 is not carried over RTSP here".into(),
                ))
            }
        };
        Ok(TrackSender {
            payloader,
            track_id: track.id,
            timescale: track.timescale,
            clock_rate,
            payload_type,
            ssrc: rng.next_u64() as u32,
            seq: rng.next_u64() as u16,
            ts_base: rng.next_u64() as u32,
            last: None,
            packets: 0,
            octets: 0,
            wait_keyframe: track.codec.is_video(),
            history: VecDeque::new(),
            rtx: rtx_pt.map(|payload_type| Rtx {
                payload_type,
                ssrc: rng.next_u64() as u32,
                seq: rng.next_u64() as u16,
            }),
        })
    }

    /// The RTP timestamp of `pts` (in the track's timescale).
    pub fn rtp_ts(&self, pts: i64) -> u32 {
        self.ts_base
            .wrapping_add(rescale(pts, self.timescale, self.clock_rate) as u32)
    }

    /// The RTP timestamp of the instant `now`, for RTP-Info and SRs: the
    /// last unit's plus the time since its capture.
    pub fn rtp_ts_at(&self, now: Duration) -> u32 {
        match self.last {
            None => self.ts_base,
            Some((ts, at)) => {
                let elapsed = now.saturating_sub(at);
                let ticks = elapsed.as_nanos() * u128::from(self.clock_rate) / 1_000_000_000;
                ts.wrapping_add(ticks as u32)
            }
        }
    }

    /// The packets of one access unit sent at `now` (none while a video
    /// track waits for its first keyframe).
    pub fn packets(&mut self, now: Duration, au: &AccessUnit) -> Result<Vec<RtpPacket>, RtspError> {
        if self.wait_keyframe && !au.keyframe {
            return Ok(Vec::new());
        }
        self.wait_keyframe = false;
        let payloads = match &self.payloader {
            Payloader::H264(p) => p.payload(&au.data, au.keyframe),
            Payloader::Aac(p) => p
                .payload(&au.data)
                .map_err(|e| RtspError::Media(e.to_string()))?,
        };
        let ts = self.rtp_ts(au.pts);
        // The RTP clock is the sampling clock: SRs extrapolate from the
        // unit's capture, not from when it was sent.
        let _ = now;
        self.last = Some((ts, au.capture_time));
        let n = payloads.len();
        let mut out = Vec::with_capacity(n);
        for (i, payload) in payloads.into_iter().enumerate() {
            let packet = RtpPacket::new(
                self.payload_type,
                self.seq,
                ts,
                self.ssrc,
                i + 1 == n,
                payload,
            );
            self.seq = self.seq.wrapping_add(1);
            self.packets = self.packets.wrapping_add(1);
            self.octets = self.octets.wrapping_add(packet.payload.len() as u32);
            if self.rtx.is_some() {
                if self.history.len() == HISTORY {
                    self.history.pop_front();
                }
                self.history.push_back(packet.clone());
            }
            out.push(packet);
        }
        Ok(out)
    }

    /// The RFC 4588 retransmission of packet `seq`, if it is still held:
    /// the RTX stream's header, the original sequence number, then the
    /// original payload.
    pub fn retransmission(&mut self, seq: u16) -> Option<RtpPacket> {
        let rtx = self.rtx.as_mut()?;
        let original = self.history.iter().find(|p| p.seq == seq)?;
        let mut payload = Vec::with_capacity(2 + original.payload.len());
        payload.extend_from_slice(&seq.to_be_bytes());
        payload.extend_from_slice(&original.payload);
        let packet = RtpPacket::new(
            rtx.payload_type,
            rtx.seq,
            original.timestamp,
            rtx.ssrc,
            original.marker,
            payload,
        );
        rtx.seq = rtx.seq.wrapping_add(1);
        Some(packet)
    }

    /// Its sender report at `now`, with the wall clock at `epoch + now`.
    pub fn sender_report(&self, now: Duration, epoch: Duration) -> Rtcp {
        Rtcp::Sr {
            ssrc: self.ssrc,
            ntp: ntp_time(epoch + now),
            rtp_ts: self.rtp_ts_at(now),
            packets: self.packets,
            octets: self.octets,
            blocks: Vec::new(),
        }
    }
}

/// The original packet inside an RFC 4588 retransmission: the original
/// sequence number from the payload's first two bytes, the original
/// payload type and SSRC given.
pub fn unwrap_rtx(rtx: &RtpPacket, payload_type: u8, ssrc: u32) -> Option<RtpPacket> {
    let [hi, lo, rest @ ..] = rtx.payload.as_slice() else {
        return None;
    };
    Some(RtpPacket::new(
        payload_type,
        u16::from_be_bytes([*hi, *lo]),
        rtx.timestamp,
        ssrc,
        rtx.marker,
        rest.to_vec(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::Codec;

    fn h264_track() -> Track {
        Track {
            id: 3,
            codec: Codec::H264,
            timescale: 90_000,
            config: CodecConfig::H264 {
                sps: vec![vec![0x67, 0x42, 0xc0, 0x1e]],
                pps: vec![vec![0x68, 0xce]],
                width: 640,
                height: 360,
            },
            frame_rate: Some((30, 1)),
        }
    }

    fn unit(pts: i64, keyframe: bool, len: usize) -> AccessUnit {
        let mut nal = vec![if keyframe { 0x65 } else { 0x41 }, 0x88];
        nal.resize(len, 7);
        AccessUnit {
            track: 3,
            pts,
            dts: pts,
            duration: 3000,
            keyframe,
            data: crate::media::h264::join_annex_b([nal.as_slice()]),
            capture_time: Duration::ZERO,
        }
    }

    #[test]
    fn video_waits_for_a_keyframe_then_numbers_and_stamps_packets() {
        let mut rng = SplitMix64::new(5);
        let mut s = TrackSender::new(&h264_track(), 96, 1400, &mut rng, Some(99)).unwrap();
        assert!(s
            .packets(Duration::ZERO, &unit(0, false, 100))
            .unwrap()
            .is_empty());
        let first = s.seq;
        let key = s.packets(Duration::ZERO, &unit(3000, true, 5000)).unwrap();
        assert!(key.len() >= 4);
        assert!(key.iter().all(|p| p.timestamp == s.rtp_ts(3000)));
        assert_eq!(key.iter().filter(|p| p.marker).count(), 1);
        assert!(key.last().unwrap().marker);
        for (i, p) in key.iter().enumerate() {
            assert_eq!(p.seq, first.wrapping_add(i as u16));
        }
        assert_eq!(s.rtp_ts(6000).wrapping_sub(s.rtp_ts(3000)), 3000);
        assert_eq!(s.packets as usize, key.len());
        // A retransmission unwraps to the original packet.
        let rtx = s.retransmission(key[1].seq).unwrap();
        assert_eq!((rtx.payload_type, rtx.ssrc == s.ssrc), (99, false));
        assert_eq!(unwrap_rtx(&rtx, 96, s.ssrc).unwrap(), key[1]);
        assert!(s.retransmission(first.wrapping_sub(1)).is_none());
        // The SR extrapolates the RTP clock from the last packet.
        match s.sender_report(Duration::from_secs(1), Duration::ZERO) {
            Rtcp::Sr {
                rtp_ts, packets, ..
            } => {
                assert_eq!(rtp_ts, s.rtp_ts(3000).wrapping_add(90_000));
                assert_eq!(packets as usize, key.len());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_history_is_bounded() {
        let mut rng = SplitMix64::new(5);
        let mut s = TrackSender::new(&h264_track(), 96, 1400, &mut rng, Some(99)).unwrap();
        let first = s.seq;
        for i in 0..(HISTORY as i64 + 10) {
            s.packets(Duration::ZERO, &unit(i * 3000, true, 100))
                .unwrap();
        }
        assert!(s.retransmission(first).is_none());
        assert!(s.retransmission(s.seq.wrapping_sub(1)).is_some());
        assert_eq!(s.history.len(), HISTORY);
    }
}
