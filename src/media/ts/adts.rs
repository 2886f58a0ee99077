//! TEMPORARY, private to `ts`: the minimal ADTS framing MPEG-TS needs for
//! AAC (header emit/parse, AudioSpecificConfig ↔ header fields). Switch to
//! `media::aac` once it lands; nothing outside `ts` depends on this file.
//!
//! Invariants: only AAC object types 1–4 (Main, LC, SSR, LTP) map to ADTS;
//! emitted headers have no CRC and one raw data block; the parser accepts
//! headers with CRC and several blocks and keeps "need more bytes" apart
//! from malformed data.

/// The sample rates an ADTS sampling_frequency_index selects, in Hz.
const SAMPLE_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];
/// Samples per AAC frame (per raw data block).
pub const SAMPLES_PER_FRAME: u32 = 1024;

/// Errors in ADTS framing or an AudioSpecificConfig.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdtsError {
    /// The frame continues beyond the bytes given.
    #[error("ADTS frame needs {needed} bytes, {available} available")]
    Incomplete {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// No 0xFFF syncword, or a header field with an impossible value.
    #[error("malformed ADTS header: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// An AudioSpecificConfig ADTS cannot express.
    #[error("AudioSpecificConfig not expressible in ADTS: {reason}")]
    Unsupported {
        /// Why.
        reason: &'static str,
    },
}

/// The header fields that matter, shared by ADTS and the AudioSpecificConfig.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AacParams {
    /// Audio object type (2 = AAC-LC).
    pub object_type: u8,
    /// sampling_frequency_index into the standard table.
    pub freq_index: u8,
    /// channel_configuration.
    pub channels: u8,
}

impl AacParams {
    /// Reads the first two bytes of an AudioSpecificConfig.
    pub fn from_asc(asc: &[u8]) -> Result<Self, AdtsError> {
        let [a, b, ..] = *asc else {
            return Err(AdtsError::Unsupported {
                reason: "shorter than 2 bytes",
            });
        };
        let object_type = a >> 3;
        let freq_index = (a & 7) << 1 | b >> 7;
        let channels = (b >> 3) & 0x0f;
        if !(1..=4).contains(&object_type) {
            return Err(AdtsError::Unsupported {
                reason: "object type outside 1..=4",
            });
        }
        if usize::from(freq_index) >= SAMPLE_RATES.len() {
            return Err(AdtsError::Unsupported {
                reason: "explicit or reserved sampling frequency",
            });
        }
        if channels > 7 {
            return Err(AdtsError::Unsupported {
                reason: "channel configuration above 7",
            });
        }
        Ok(Self {
            object_type,
            freq_index,
            channels,
        })
    }

    /// The two-byte AudioSpecificConfig.
    pub fn to_asc(self) -> Vec<u8> {
        vec![
            self.object_type << 3 | self.freq_index >> 1,
            (self.freq_index & 1) << 7 | self.channels << 3,
        ]
    }

    /// Samples per second.
    pub fn sample_rate(self) -> u32 {
        SAMPLE_RATES
            .get(usize::from(self.freq_index))
            .copied()
            .unwrap_or(0)
    }
}

/// Emits a 7-byte ADTS header (no CRC, one raw data block) for a raw frame
/// of `frame_len` bytes.
pub fn emit_header(params: AacParams, frame_len: usize) -> Result<[u8; 7], AdtsError> {
    let total = frame_len + 7;
    if total >= 1 << 13 {
        return Err(AdtsError::Unsupported {
            reason: "frame longer than 8184 bytes",
        });
    }
    let profile = params.object_type - 1;
    Ok([
        0xff,
        0xf1, // MPEG-4, layer 0, protection absent
        profile << 6 | params.freq_index << 2 | params.channels >> 2,
        (params.channels & 3) << 6 | (total >> 11) as u8,
        (total >> 3) as u8,
        ((total & 7) as u8) << 5 | 0x1f, // buffer fullness 0x7ff: variable rate
        0xfc,
    ])
}

/// One ADTS frame found in a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdtsFrame<'a> {
    /// The header's parameters.
    pub params: AacParams,
    /// Raw data blocks in the frame (each 1024 samples).
    pub blocks: u8,
    /// The raw AAC data after the header (and CRC, if any).
    pub payload: &'a [u8],
    /// Bytes the whole frame occupies.
    pub frame_len: usize,
}

/// Parses the ADTS frame at the start of `data`.
pub fn parse_frame(data: &[u8]) -> Result<AdtsFrame<'_>, AdtsError> {
    let incomplete = |needed| AdtsError::Incomplete {
        needed,
        available: data.len(),
    };
    let h = data.get(..7).ok_or(incomplete(7))?;
    let bad = |reason| AdtsError::Malformed { reason };
    if h[0] != 0xff || h[1] & 0xf6 != 0xf0 {
        return Err(bad("no syncword"));
    }
    let header_len = if h[1] & 1 == 0 { 9 } else { 7 };
    let params = AacParams {
        object_type: (h[2] >> 6) + 1,
        freq_index: (h[2] >> 2) & 0x0f,
        channels: (h[2] & 1) << 2 | h[3] >> 6,
    };
    if params.sample_rate() == 0 {
        return Err(bad("reserved sampling frequency index"));
    }
    let frame_len = usize::from(h[3] & 3) << 11 | usize::from(h[4]) << 3 | usize::from(h[5] >> 5);
    if frame_len < header_len {
        return Err(bad("frame length shorter than the header"));
    }
    let frame = data.get(..frame_len).ok_or(incomplete(frame_len))?;
    Ok(AdtsFrame {
        params,
        blocks: (h[6] & 3) + 1,
        payload: &frame[header_len..],
        frame_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asc_and_header_round_trip() {
        // AAC-LC, 48 kHz, stereo: the AudioSpecificConfig 0x11 0x90.
        let params = AacParams::from_asc(&[0x11, 0x90]).unwrap();
        assert_eq!(
            params,
            AacParams {
                object_type: 2,
                freq_index: 3,
                channels: 2
            }
        );
        assert_eq!(params.to_asc(), vec![0x11, 0x90]);
        assert_eq!(params.sample_rate(), 48_000);
        let mut frame = emit_header(params, 5).unwrap().to_vec();
        frame.extend_from_slice(&[1, 2, 3, 4, 5]);
        let parsed = parse_frame(&frame).unwrap();
        assert_eq!(
            (
                parsed.params,
                parsed.blocks,
                parsed.payload,
                parsed.frame_len
            ),
            (params, 1, &[1u8, 2, 3, 4, 5][..], 12)
        );
        assert_eq!(
            parse_frame(&frame[..11]),
            Err(AdtsError::Incomplete {
                needed: 12,
                available: 11
            })
        );
        assert!(matches!(
            parse_frame(&[0u8; 9]),
            Err(AdtsError::Malformed { .. })
        ));
        assert!(
            AacParams::from_asc(&[0x2b, 0x92, 0x08, 0x00]).is_err(),
            "HE-AAC (type 5) is not ADTS-expressible"
        );
    }
}
