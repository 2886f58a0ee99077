//! AAC over RTP, RFC 3640 `mpeg4-generic` in AAC-hbr mode
//! (`sizeLength=13; indexLength=3; indexDeltaLength=3`): each payload
//! starts with the AU-headers-length in bits, then one 16-bit AU-header
//! per frame (13-bit size, 3-bit index delta of 0), then the raw frames.
//!
//! The payloader sends one frame per packet (the marker bit set), and
//! fragments a frame larger than a payload over several packets, each
//! with the whole frame's size in its AU-header and the marker on the last
//! (RFC 3640 §3.2.3). The depacketizer takes packets in sequence order,
//! splits aggregates (a frame's timestamp is the packet's plus
//! `samples × i`) and reassembles fragments; a gap inside a fragmented
//! frame damages it.

use std::collections::VecDeque;

use super::{seq_delta, Depacketized, RtpError};

/// The largest AAC frame AAC-hbr can describe (13-bit size).
pub const MAX_FRAME: usize = (1 << 13) - 1;

/// Bytes in front of one frame: AU-headers-length and one AU-header.
const HEADERS: usize = 4;

/// Splits raw AAC frames into RTP payloads.
#[derive(Clone, Copy, Debug)]
pub struct AacPayloader {
    max_payload: usize,
}

impl AacPayloader {
    /// A payloader whose payloads are at most `max_payload` bytes.
    pub fn new(max_payload: usize) -> Result<AacPayloader, RtpError> {
        if max_payload <= HEADERS {
            return Err(RtpError::Mtu { mtu: max_payload });
        }
        Ok(AacPayloader { max_payload })
    }

    /// The payloads of one raw frame, in order (the last carries the
    /// marker bit); a frame over 8191 bytes cannot be described.
    pub fn payload(&self, frame: &[u8]) -> Result<Vec<Vec<u8>>, RtpError> {
        if frame.len() > MAX_FRAME {
            return Err(RtpError::Write {
                what: "an AAC frame",
                message: format!("{} bytes, AAC-hbr sizes stop at {MAX_FRAME}", frame.len()),
            });
        }
        // The AU-header's 13-bit size, index delta 0.
        let header = ((frame.len() as u16) << 3).to_be_bytes();
        let chunks: Vec<&[u8]> = if frame.is_empty() {
            vec![frame]
        } else {
            frame.chunks(self.max_payload - HEADERS).collect()
        };
        Ok(chunks
            .into_iter()
            .map(|chunk| {
                let mut p = Vec::with_capacity(HEADERS + chunk.len());
                p.extend_from_slice(&16u16.to_be_bytes());
                p.extend_from_slice(&header);
                p.extend_from_slice(chunk);
                p
            })
            .collect())
    }
}

/// A frame being reassembled from fragments.
#[derive(Debug)]
struct Fragmented {
    rtp_ts: u32,
    size: usize,
    data: Vec<u8>,
}

/// Reassembles raw AAC frames from packets in sequence order.
#[derive(Debug)]
pub struct AacDepacketizer {
    samples: u32,
    last_seq: Option<u16>,
    fragment: Option<Fragmented>,
    /// The timestamp of a fragmented frame already reported damaged: its
    /// remaining fragments are dropped quietly.
    dropped: Option<u32>,
    out: VecDeque<Depacketized>,
}

impl AacDepacketizer {
    /// A depacketizer for frames of `samples` samples (1024 for AAC-LC).
    pub fn new(samples: u32) -> AacDepacketizer {
        AacDepacketizer {
            samples,
            last_seq: None,
            fragment: None,
            dropped: None,
            out: VecDeque::new(),
        }
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
        if self.fragment.as_ref().is_some_and(|f| f.rtp_ts != rtp_ts) {
            self.damage_fragment();
        }
        match self.dropped {
            // The rest of a frame that lost a fragment.
            Some(ts) if ts == rtp_ts => return,
            _ => self.dropped = None,
        }
        let Some(sizes) = au_sizes(payload) else {
            self.damage_fragment();
            self.out.push_back(Depacketized::Damaged { rtp_ts });
            return;
        };
        let header_bytes = 2 + 2 * sizes.len();
        let data = &payload[header_bytes..];
        if let Some(f) = &mut self.fragment {
            // A continuation: one AU-header with the whole frame's size.
            if sizes != [f.size] || f.data.len() + data.len() > f.size {
                self.damage_fragment();
                return;
            }
            f.data.extend_from_slice(data);
        } else if sizes.len() == 1 && sizes[0] > data.len() {
            self.fragment = Some(Fragmented {
                rtp_ts,
                size: sizes[0],
                data: data.to_vec(),
            });
        } else {
            self.split(rtp_ts, &sizes, data);
            return;
        }
        if marker {
            if let Some(f) = self.fragment.take() {
                if f.data.len() == f.size {
                    self.unit(f.rtp_ts, f.data);
                } else {
                    self.out
                        .push_back(Depacketized::Damaged { rtp_ts: f.rtp_ts });
                }
            }
        }
    }

    /// Packets were lost: a fragmented frame in progress is damaged.
    pub fn handle_gap(&mut self) {
        self.damage_fragment();
    }

    /// The next frame out.
    pub fn poll(&mut self) -> Option<Depacketized> {
        self.out.pop_front()
    }

    fn split(&mut self, rtp_ts: u32, sizes: &[usize], mut data: &[u8]) {
        for (i, size) in sizes.iter().enumerate() {
            let ts = rtp_ts.wrapping_add(self.samples.wrapping_mul(i as u32));
            if data.len() < *size {
                self.out.push_back(Depacketized::Damaged { rtp_ts: ts });
                return;
            }
            self.unit(ts, data[..*size].to_vec());
            data = &data[*size..];
        }
    }

    fn unit(&mut self, rtp_ts: u32, data: Vec<u8>) {
        self.out.push_back(Depacketized::Unit {
            rtp_ts,
            keyframe: true,
            data,
        });
    }

    fn damage_fragment(&mut self) {
        if let Some(f) = self.fragment.take() {
            self.dropped = Some(f.rtp_ts);
            self.out
                .push_back(Depacketized::Damaged { rtp_ts: f.rtp_ts });
        }
    }
}

/// The frame sizes of a payload's AU-headers; `None` when the header
/// section is malformed (not whole 16-bit headers, or past the end).
fn au_sizes(payload: &[u8]) -> Option<Vec<usize>> {
    let bits = usize::from(u16::from_be_bytes([*payload.first()?, *payload.get(1)?]));
    if bits == 0 || bits % 16 != 0 {
        return None;
    }
    let count = bits / 16;
    let headers = payload.get(2..2 + 2 * count)?;
    Some(
        headers
            .chunks_exact(2)
            .map(|h| usize::from(u16::from_be_bytes([h[0], h[1]]) >> 3))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31) ^ seed)
            .collect()
    }

    fn run(packets: &[(u16, u32, bool, Vec<u8>)]) -> Vec<Depacketized> {
        let mut d = AacDepacketizer::new(1024);
        for (seq, ts, m, p) in packets {
            d.handle_packet(*seq, *ts, *m, p);
        }
        std::iter::from_fn(|| d.poll()).collect()
    }

    #[test]
    fn frames_round_trip_whole_and_fragmented() {
        let p = AacPayloader::new(100).unwrap();
        let frames = [frame(60, 1), frame(96, 2), frame(250, 3), frame(0, 4)];
        let mut packets = Vec::new();
        let mut seq = 65_534u16;
        for (i, f) in frames.iter().enumerate() {
            let payloads = p.payload(f).unwrap();
            assert!(payloads.iter().all(|x| x.len() <= 100));
            let n = payloads.len();
            for (j, pl) in payloads.into_iter().enumerate() {
                // The AU-header names the whole frame in every fragment.
                assert_eq!(u16::from_be_bytes([pl[2], pl[3]]) >> 3, f.len() as u16);
                packets.push((seq, 1024 * i as u32, j + 1 == n, pl));
                seq = seq.wrapping_add(1);
            }
        }
        let out = run(&packets);
        let want: Vec<_> = frames
            .iter()
            .enumerate()
            .map(|(i, f)| Depacketized::Unit {
                rtp_ts: 1024 * i as u32,
                keyframe: true,
                data: f.clone(),
            })
            .collect();
        assert_eq!(out, want);
    }

    #[test]
    fn an_aggregate_of_frames_splits_with_their_timestamps() {
        let (a, b) = (frame(10, 1), frame(20, 2));
        let mut pl = 32u16.to_be_bytes().to_vec();
        pl.extend_from_slice(&((10u16) << 3).to_be_bytes());
        pl.extend_from_slice(&((20u16) << 3).to_be_bytes());
        pl.extend_from_slice(&a);
        pl.extend_from_slice(&b);
        let out = run(&[(1, 5000, true, pl)]);
        assert_eq!(
            out,
            vec![
                Depacketized::Unit {
                    rtp_ts: 5000,
                    keyframe: true,
                    data: a
                },
                Depacketized::Unit {
                    rtp_ts: 6024,
                    keyframe: true,
                    data: b
                },
            ]
        );
    }

    #[test]
    fn a_lost_fragment_damages_its_frame_and_not_the_next() {
        let p = AacPayloader::new(100).unwrap();
        let big = p.payload(&frame(250, 1)).unwrap();
        let small = p.payload(&frame(50, 2)).unwrap();
        let packets = vec![
            (1, 0, false, big[0].clone()),
            (3, 0, true, big[2].clone()),
            (4, 1024, true, small[0].clone()),
        ];
        let out = run(&packets);
        assert_eq!(out[0], Depacketized::Damaged { rtp_ts: 0 });
        assert!(matches!(out[1], Depacketized::Unit { rtp_ts: 1024, .. }));
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn malformed_headers_damage_and_never_panic() {
        let bad: &[&[u8]] = &[
            &[],
            &[0],
            &[0, 0],
            &[0, 15, 0, 0],
            &[0, 16, 0],
            &[0, 16, 0xff, 0xf8, 1],
        ];
        let packets: Vec<_> = bad
            .iter()
            .enumerate()
            .map(|(i, p)| (i as u16, i as u32, true, p.to_vec()))
            .collect();
        let out = run(&packets);
        assert!(
            out.iter()
                .all(|u| matches!(u, Depacketized::Damaged { .. })),
            "{out:?}"
        );
        assert_eq!(out.len(), bad.len());
        assert!(AacPayloader::new(4).is_err());
        assert!(AacPayloader::new(100).unwrap().payload(&[0; 9000]).is_err());
    }
}
