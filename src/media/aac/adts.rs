//! ADTS framing (ISO/IEC 13818-7 §6.2): the header parsed and emitted
//! exactly, buffers of back-to-back frames split into raw frames, and raw
//! frames wrapped in headers built from an AudioSpecificConfig.
//!
//! Invariants: emitted headers have no CRC unless asked for; a frame's
//! length always covers its header; ADTS frames always hold 1024-sample raw
//! data blocks (ADTS has no frameLengthFlag).

use super::{frequency_index, unrepresentable, AacError, AudioSpecificConfig, Bits};
use super::{ADTS_HEADER_LEN, SAMPLES_PER_BLOCK, SAMPLE_RATES};

/// An ADTS frame header (ISO/IEC 13818-7 §6.2). Private, original/copy,
/// home and copyright bits are written as 0 and not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdtsHeader {
    /// The ID bit: MPEG-2 (true) or MPEG-4 (false) AAC.
    pub mpeg2: bool,
    /// Audio object type, 1..=4 (the 2-bit profile field plus 1).
    pub object_type: u8,
    /// Sampling frequency index into [`SAMPLE_RATES`].
    pub frequency_index: u8,
    /// Channel configuration, 0..=7.
    pub channel_config: u8,
    /// Frame length in bytes, header included.
    pub frame_length: u16,
    /// Buffer fullness (0x7FF = variable bit rate).
    pub buffer_fullness: u16,
    /// Raw data blocks in the frame, 1..=4.
    pub raw_blocks: u8,
    /// The CRC word of a protected header (carried, not verified).
    pub crc: Option<u16>,
}

impl AdtsHeader {
    /// The header length in bytes: 7, or 9 with a CRC.
    pub fn header_len(&self) -> usize {
        ADTS_HEADER_LEN + if self.crc.is_some() { 2 } else { 0 }
    }

    /// The sampling rate in Hz.
    pub fn sample_rate(&self) -> Option<u32> {
        SAMPLE_RATES.get(usize::from(self.frequency_index)).copied()
    }

    /// Samples the frame decodes to: 1024 per raw data block.
    pub fn samples(&self) -> u32 {
        SAMPLES_PER_BLOCK * u32::from(self.raw_blocks)
    }

    /// The AudioSpecificConfig this header describes, or `None` for a
    /// frequency index outside the table (which [`AdtsHeader::parse`] never
    /// returns).
    pub fn audio_specific_config(&self) -> Option<AudioSpecificConfig> {
        Some(AudioSpecificConfig {
            object_type: self.object_type,
            sample_rate: self.sample_rate()?,
            channel_config: self.channel_config,
        })
    }

    /// The header of an unprotected frame holding one raw frame of
    /// `raw_len` bytes described by `asc` (variable bit rate buffer
    /// fullness), or why ADTS cannot carry it.
    pub fn for_raw_frame(asc: &AudioSpecificConfig, raw_len: usize) -> Result<Self, AacError> {
        let frequency_index = frequency_index(asc.sample_rate).ok_or(unrepresentable(
            "sample_rate",
            asc.sample_rate,
            "ADTS needs a rate from the frequency table",
        ))?;
        let length = raw_len + ADTS_HEADER_LEN;
        let frame_length = u16::try_from(length).map_err(|_| {
            unrepresentable(
                "frame_length",
                u32::try_from(length).unwrap_or(u32::MAX),
                "must fit 13 bits",
            )
        })?;
        let header = Self {
            mpeg2: false,
            object_type: asc.object_type,
            frequency_index,
            channel_config: asc.channel_config,
            frame_length,
            buffer_fullness: 0x7ff,
            raw_blocks: 1,
            crc: None,
        };
        header.check()?;
        Ok(header)
    }

    /// Parses the header at the start of `data`.
    pub fn parse(data: &[u8]) -> Result<Self, AacError> {
        Self::parse_at(data, 0)
    }

    fn parse_at(data: &[u8], offset: usize) -> Result<Self, AacError> {
        let rest = data.get(offset..).unwrap_or_default();
        let truncated = |needed| AacError::Truncated {
            what: "ADTS header",
            offset,
            needed,
            available: rest.len(),
        };
        let h = rest
            .get(..ADTS_HEADER_LEN)
            .ok_or(truncated(ADTS_HEADER_LEN))?;
        if h[0] != 0xff || h[1] & 0xf0 != 0xf0 {
            return Err(AacError::Sync { offset });
        }
        let layer = (h[1] >> 1) & 3;
        if layer != 0 {
            return Err(AacError::Layer { offset, layer });
        }
        let protected = h[1] & 1 == 0;
        let frequency_index = (h[2] >> 2) & 0xf;
        if frequency_index >= SAMPLE_RATES.len() as u8 {
            return Err(AacError::FrequencyIndex {
                index: frequency_index,
            });
        }
        let crc = if protected {
            let c = rest
                .get(ADTS_HEADER_LEN..ADTS_HEADER_LEN + 2)
                .ok_or(truncated(ADTS_HEADER_LEN + 2))?;
            Some(u16::from_be_bytes([c[0], c[1]]))
        } else {
            None
        };
        let header = Self {
            mpeg2: h[1] & 0x08 != 0,
            object_type: (h[2] >> 6) + 1,
            frequency_index,
            channel_config: ((h[2] & 1) << 2) | (h[3] >> 6),
            frame_length: (u16::from(h[3] & 3) << 11)
                | (u16::from(h[4]) << 3)
                | u16::from(h[5] >> 5),
            buffer_fullness: (u16::from(h[5] & 0x1f) << 6) | u16::from(h[6] >> 2),
            raw_blocks: (h[6] & 3) + 1,
            crc,
        };
        if usize::from(header.frame_length) < header.header_len() {
            return Err(AacError::FrameLength {
                offset,
                length: header.frame_length.into(),
                header: header.header_len(),
            });
        }
        Ok(header)
    }

    /// Checks that every field fits its ADTS syntax.
    fn check(&self) -> Result<(), AacError> {
        if !(1..=4).contains(&self.object_type) {
            return Err(unrepresentable(
                "object_type",
                self.object_type.into(),
                "ADTS carries object types 1..=4",
            ));
        }
        if self.frequency_index >= SAMPLE_RATES.len() as u8 {
            return Err(AacError::FrequencyIndex {
                index: self.frequency_index,
            });
        }
        if self.channel_config > 7 {
            return Err(unrepresentable(
                "channel_config",
                self.channel_config.into(),
                "ADTS carries 0..=7",
            ));
        }
        if self.frame_length >= 1 << 13 || usize::from(self.frame_length) < self.header_len() {
            return Err(unrepresentable(
                "frame_length",
                self.frame_length.into(),
                "must fit 13 bits and hold the header",
            ));
        }
        if self.buffer_fullness > 0x7ff {
            return Err(unrepresentable(
                "buffer_fullness",
                self.buffer_fullness.into(),
                "must fit 11 bits",
            ));
        }
        if !(1..=4).contains(&self.raw_blocks) {
            return Err(unrepresentable(
                "raw_blocks",
                self.raw_blocks.into(),
                "must be 1..=4",
            ));
        }
        Ok(())
    }

    /// Writes the header (7 bytes, or 9 with a CRC).
    pub fn emit(&self) -> Result<Vec<u8>, AacError> {
        self.check()?;
        let mut w = Bits::default();
        w.put(0xfff, 12);
        w.put(self.mpeg2.into(), 1);
        w.put(0, 2);
        w.put(self.crc.is_none().into(), 1);
        w.put(u32::from(self.object_type) - 1, 2);
        w.put(self.frequency_index.into(), 4);
        w.put(0, 1);
        w.put(self.channel_config.into(), 3);
        w.put(0, 4);
        w.put(self.frame_length.into(), 13);
        w.put(self.buffer_fullness.into(), 11);
        w.put(u32::from(self.raw_blocks) - 1, 2);
        if let Some(crc) = self.crc {
            w.put(crc.into(), 16);
        }
        Ok(w.finish())
    }
}

/// Whether `data` starts like an ADTS frame: the 12-bit syncword and layer 0.
/// Raw AAC frames never do (their first element would be ID_END).
pub fn is_adts(data: &[u8]) -> bool {
    matches!(data, [0xff, second, ..] if second & 0xf6 == 0xf0)
}

/// Parses the ADTS frame at the start of `data`: its header and its payload
/// (every raw data block, after the header and CRC). Unlike [`split_adts`],
/// frames of several raw data blocks are accepted.
pub fn parse_adts_frame(data: &[u8]) -> Result<(AdtsHeader, &[u8]), AacError> {
    let header = AdtsHeader::parse(data)?;
    Ok((header, frame_at(data, 0, &header)?))
}

/// The payload of the frame at `offset` whose header is `header`.
fn frame_at<'a>(data: &'a [u8], offset: usize, header: &AdtsHeader) -> Result<&'a [u8], AacError> {
    let length = usize::from(header.frame_length);
    let available = data.len() - offset;
    if length > available {
        return Err(AacError::Truncated {
            what: "ADTS frame",
            offset,
            needed: length,
            available,
        });
    }
    Ok(&data[offset + header.header_len()..offset + length])
}

/// Splits a buffer of back-to-back ADTS frames into headers and raw frames.
/// CRC-protected headers are 9 bytes; their CRC is skipped, not checked.
pub fn split_adts(data: &[u8]) -> Result<Vec<(AdtsHeader, &[u8])>, AacError> {
    let mut frames = Vec::new();
    let mut offset = 0;
    while offset < data.len() {
        let header = AdtsHeader::parse_at(data, offset)?;
        if header.raw_blocks > 1 {
            return Err(AacError::MultipleRawBlocks {
                offset,
                blocks: header.raw_blocks,
            });
        }
        frames.push((header, frame_at(data, offset, &header)?));
        offset += usize::from(header.frame_length);
    }
    Ok(frames)
}

/// The raw frames (ADTS headers stripped) of back-to-back ADTS frames.
pub fn adts_to_raw(data: &[u8]) -> Result<Vec<&[u8]>, AacError> {
    Ok(split_adts(data)?.into_iter().map(|(_, raw)| raw).collect())
}

/// One raw frame with an unprotected ADTS header built from `asc`
/// (variable bit rate buffer fullness).
pub fn raw_to_adts(frame: &[u8], asc: &AudioSpecificConfig) -> Result<Vec<u8>, AacError> {
    let mut out = AdtsHeader::for_raw_frame(asc, frame.len())?.emit()?;
    out.extend_from_slice(frame);
    Ok(out)
}
