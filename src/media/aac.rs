//! AAC helpers: the AudioSpecificConfig (build and parse) and ADTS framing
//! (header parse and emit, ADTS ↔ raw frames).
//!
//! The canonical AAC access unit is a raw frame without ADTS header; the
//! AudioSpecificConfig travels in the track's configuration. Parsers here
//! never panic on input: malformed data is an [`AacError`] naming what was
//! wrong and where, and data that merely ends too early is
//! [`AacError::Truncated`], kept apart from malformed data.

/// Sampling frequencies by `sampling_frequency_index` (ISO/IEC 14496-3
/// table 1.18), in Hz. Indexes 13 and 14 are reserved, 15 means "explicit".
pub const SAMPLE_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// Audio object type of AAC-LC.
pub const AOT_AAC_LC: u8 = 2;

/// Bytes of an ADTS header without CRC.
pub const ADTS_HEADER_LEN: usize = 7;

/// Errors in AAC configuration or framing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AacError {
    /// The data ends before the item is complete (more bytes may fix it).
    #[error("{what} at byte {offset} needs {needed} bytes, only {available} remain")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    /// An AudioSpecificConfig ends inside a field.
    #[error("AudioSpecificConfig ends inside {field} at bit {bit}")]
    AscTruncated { field: &'static str, bit: usize },
    /// No ADTS syncword (0xFFF) where a frame should start.
    #[error("no ADTS syncword at byte {offset}")]
    Sync { offset: usize },
    /// An ADTS header with a nonzero layer.
    #[error("ADTS header at byte {offset} has layer {layer} (must be 0)")]
    Layer { offset: usize, layer: u8 },
    /// An ADTS frame length shorter than its own header.
    #[error(
        "ADTS frame at byte {offset} claims {length} bytes, shorter than its {header}-byte header"
    )]
    FrameLength {
        offset: usize,
        length: usize,
        header: usize,
    },
    /// A reserved sampling frequency index (13 or 14, or 15 in ADTS).
    #[error("reserved sampling frequency index {index}")]
    FrequencyIndex { index: u8 },
    /// Audio object type 0 ("null") in an AudioSpecificConfig.
    #[error("audio object type 0 in AudioSpecificConfig")]
    NullObjectType,
    /// An ADTS frame with several raw data blocks, which can only be split by
    /// decoding them.
    #[error("ADTS frame at byte {offset} carries {blocks} raw data blocks (only 1 is supported)")]
    MultipleRawBlocks { offset: usize, blocks: u8 },
    /// A value that the target syntax cannot represent.
    #[error("{field} = {value} cannot be written: {reason}")]
    Unrepresentable {
        field: &'static str,
        value: u32,
        reason: &'static str,
    },
}

/// The leading fields of an AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AudioSpecificConfig {
    /// Audio object type (2 = AAC-LC), 1..=30 or 32..=95.
    pub object_type: u8,
    /// Sampling rate in Hz.
    pub sample_rate: u32,
    /// Channel configuration (1 = mono, 2 = stereo, …; 0 = defined in a
    /// program config element, which this module does not parse).
    pub channel_config: u8,
}

/// The `sampling_frequency_index` of a rate in Hz, if the table has it.
pub fn frequency_index(sample_rate: u32) -> Option<u8> {
    SAMPLE_RATES
        .iter()
        .position(|&r| r == sample_rate)
        .map(|i| i as u8)
}

impl AudioSpecificConfig {
    /// AAC-LC at `sample_rate` Hz with `channel_config`.
    pub fn aac_lc(sample_rate: u32, channel_config: u8) -> Self {
        Self {
            object_type: AOT_AAC_LC,
            sample_rate,
            channel_config,
        }
    }

    /// Writes the config: object type (escaped above 30), frequency index (or
    /// an explicit 24-bit frequency if the rate is not in the table), channel
    /// configuration, and for AAC main/LC/SSR/LTP an empty GASpecificConfig
    /// (1024-sample frames, no core coder, no extension).
    pub fn to_bytes(&self) -> Result<Vec<u8>, AacError> {
        let unrep = |field, value: u32, reason| AacError::Unrepresentable {
            field,
            value,
            reason,
        };
        if !(1..=95).contains(&self.object_type) || self.object_type == 31 {
            return Err(unrep(
                "object_type",
                self.object_type.into(),
                "must be 1..=30 or 32..=95 (31 is the escape)",
            ));
        }
        if self.channel_config > 15 {
            return Err(unrep(
                "channel_config",
                self.channel_config.into(),
                "must be 0..=15",
            ));
        }
        if self.sample_rate == 0 || self.sample_rate >= 1 << 24 {
            return Err(unrep("sample_rate", self.sample_rate, "must be 1..2^24 Hz"));
        }
        let mut w = Bits::default();
        if self.object_type >= 31 {
            w.put(31, 5);
            w.put(u32::from(self.object_type) - 32, 6);
        } else {
            w.put(self.object_type.into(), 5);
        }
        match frequency_index(self.sample_rate) {
            Some(index) => w.put(index.into(), 4),
            None => {
                w.put(15, 4);
                w.put(self.sample_rate, 24);
            }
        }
        w.put(self.channel_config.into(), 4);
        if matches!(self.object_type, 1..=4) {
            w.put(0, 3);
        }
        Ok(w.finish())
    }

    /// Parses the leading fields of an AudioSpecificConfig; what follows them
    /// (GASpecificConfig, extensions) is ignored.
    pub fn parse(data: &[u8]) -> Result<Self, AacError> {
        let mut r = BitReader { data, bit: 0 };
        let mut object_type = r.read(5, "audioObjectType")? as u8;
        if object_type == 31 {
            object_type = 32 + r.read(6, "audioObjectTypeExt")? as u8;
        }
        if object_type == 0 {
            return Err(AacError::NullObjectType);
        }
        let index = r.read(4, "samplingFrequencyIndex")? as u8;
        let sample_rate = match index {
            15 => r.read(24, "samplingFrequency")?,
            i => *SAMPLE_RATES
                .get(usize::from(i))
                .ok_or(AacError::FrequencyIndex { index: i })?,
        };
        let channel_config = r.read(4, "channelConfiguration")? as u8;
        Ok(Self {
            object_type,
            sample_rate,
            channel_config,
        })
    }
}

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

    /// Writes the header (7 bytes, or 9 with a CRC).
    pub fn emit(&self) -> Result<Vec<u8>, AacError> {
        let unrep = |field, value: u32, reason| AacError::Unrepresentable {
            field,
            value,
            reason,
        };
        if !(1..=4).contains(&self.object_type) {
            return Err(unrep(
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
            return Err(unrep(
                "channel_config",
                self.channel_config.into(),
                "ADTS carries 0..=7",
            ));
        }
        if self.frame_length >= 1 << 13 || usize::from(self.frame_length) < self.header_len() {
            return Err(unrep(
                "frame_length",
                self.frame_length.into(),
                "must fit 13 bits and hold the header",
            ));
        }
        if self.buffer_fullness > 0x7ff {
            return Err(unrep(
                "buffer_fullness",
                self.buffer_fullness.into(),
                "must fit 11 bits",
            ));
        }
        if !(1..=4).contains(&self.raw_blocks) {
            return Err(unrep("raw_blocks", self.raw_blocks.into(), "must be 1..=4"));
        }
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
        frames.push((header, &data[offset + header.header_len()..offset + length]));
        offset += length;
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
    let frequency_index = frequency_index(asc.sample_rate).ok_or(AacError::Unrepresentable {
        field: "sample_rate",
        value: asc.sample_rate,
        reason: "ADTS needs a rate from the frequency table",
    })?;
    let length = frame.len() + ADTS_HEADER_LEN;
    let frame_length = u16::try_from(length).map_err(|_| AacError::Unrepresentable {
        field: "frame_length",
        value: u32::try_from(length).unwrap_or(u32::MAX),
        reason: "must fit 13 bits",
    })?;
    let header = AdtsHeader {
        mpeg2: false,
        object_type: asc.object_type,
        frequency_index,
        channel_config: asc.channel_config,
        frame_length,
        buffer_fullness: 0x7ff,
        raw_blocks: 1,
        crc: None,
    };
    let mut out = header.emit()?;
    out.extend_from_slice(frame);
    Ok(out)
}

/// A most-significant-bit-first bit accumulator for the small headers here.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    bits: usize,
}

impl Bits {
    /// Appends the low `n` bits of `value` (n ≤ 32).
    fn put(&mut self, value: u32, n: usize) {
        for i in (0..n).rev() {
            if self.bits.is_multiple_of(8) {
                self.bytes.push(0);
            }
            let bit = ((value >> i) & 1) as u8;
            if let Some(last) = self.bytes.last_mut() {
                *last |= bit << (7 - self.bits % 8);
            }
            self.bits += 1;
        }
    }

    /// The bytes, zero-padded to a byte boundary.
    fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

/// A most-significant-bit-first reader that reports where it ran out.
struct BitReader<'a> {
    data: &'a [u8],
    bit: usize,
}

impl BitReader<'_> {
    fn read(&mut self, n: usize, field: &'static str) -> Result<u32, AacError> {
        if self.bit + n > self.data.len() * 8 {
            return Err(AacError::AscTruncated {
                field,
                bit: self.bit,
            });
        }
        let mut value = 0u32;
        for _ in 0..n {
            let byte = self.data[self.bit / 8];
            value = (value << 1) | u32::from((byte >> (7 - self.bit % 8)) & 1);
            self.bit += 1;
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asc_known_bytes_and_round_trip() {
        // AAC-LC, 44.1 kHz, stereo: the classic 0x12 0x10.
        let asc = AudioSpecificConfig::aac_lc(44100, 2);
        assert_eq!(asc.to_bytes().unwrap(), [0x12, 0x10]);
        assert_eq!(AudioSpecificConfig::parse(&[0x12, 0x10]).unwrap(), asc);
        // AAC-LC, 48 kHz, mono.
        assert_eq!(
            AudioSpecificConfig::aac_lc(48000, 1).to_bytes().unwrap(),
            [0x11, 0x88]
        );
        for asc in [
            AudioSpecificConfig {
                object_type: 42,
                sample_rate: 48000,
                channel_config: 2,
            },
            AudioSpecificConfig {
                object_type: 32,
                sample_rate: 44100,
                channel_config: 1,
            },
            AudioSpecificConfig {
                object_type: 2,
                sample_rate: 12345,
                channel_config: 6,
            },
            AudioSpecificConfig {
                object_type: 95,
                sample_rate: (1 << 24) - 1,
                channel_config: 15,
            },
        ] {
            let bytes = asc.to_bytes().unwrap();
            assert_eq!(
                AudioSpecificConfig::parse(&bytes).unwrap(),
                asc,
                "{bytes:02x?}"
            );
        }
    }

    #[test]
    fn asc_errors_say_what_and_where() {
        assert_eq!(
            AudioSpecificConfig::parse(&[]),
            Err(AacError::AscTruncated {
                field: "audioObjectType",
                bit: 0
            })
        );
        assert_eq!(
            AudioSpecificConfig::parse(&[0x17, 0x80]),
            Err(AacError::AscTruncated {
                field: "samplingFrequency",
                bit: 9
            })
        );
        assert_eq!(
            AudioSpecificConfig::parse(&[0x16, 0x80]),
            Err(AacError::FrequencyIndex { index: 13 })
        );
        assert_eq!(
            AudioSpecificConfig::parse(&[0x00, 0x00]),
            Err(AacError::NullObjectType)
        );
        for object_type in [0, 31, 96] {
            let bad = AudioSpecificConfig {
                object_type,
                sample_rate: 48000,
                channel_config: 2,
            };
            assert!(matches!(
                bad.to_bytes(),
                Err(AacError::Unrepresentable {
                    field: "object_type",
                    ..
                })
            ));
        }
    }

    fn header(crc: Option<u16>, payload: usize) -> AdtsHeader {
        let frame_length = (ADTS_HEADER_LEN + payload + if crc.is_some() { 2 } else { 0 }) as u16;
        AdtsHeader {
            mpeg2: false,
            object_type: 2,
            frequency_index: 3,
            channel_config: 2,
            frame_length,
            buffer_fullness: 0x7ff,
            raw_blocks: 1,
            crc,
        }
    }

    #[test]
    fn adts_header_round_trip() {
        for h in [
            header(None, 10),
            header(Some(0xbeef), 300),
            AdtsHeader {
                mpeg2: true,
                object_type: 4,
                channel_config: 7,
                buffer_fullness: 0x123,
                raw_blocks: 1,
                ..header(None, 8000)
            },
        ] {
            let bytes = h.emit().unwrap();
            assert_eq!(bytes.len(), h.header_len());
            assert_eq!(AdtsHeader::parse(&bytes).unwrap(), h);
        }
        assert_eq!(
            header(None, 0).emit().unwrap(),
            [0xff, 0xf1, 0x4c, 0x80, 0x00, 0xff, 0xfc]
        );
    }

    #[test]
    fn adts_frames_split_with_and_without_crc() {
        let asc = AudioSpecificConfig::aac_lc(48000, 2);
        let mut stream = raw_to_adts(&[1, 2, 3], &asc).unwrap();
        let protected = header(Some(0x1234), 2);
        stream.extend(protected.emit().unwrap());
        stream.extend([4, 5]);
        stream.extend(raw_to_adts(&[], &asc).unwrap());
        assert_eq!(
            adts_to_raw(&stream).unwrap(),
            vec![&[1u8, 2, 3][..], &[4u8, 5][..], &[][..]]
        );
        let frames = split_adts(&stream).unwrap();
        assert_eq!(frames[1].0, protected);
        assert_eq!(frames[0].0.sample_rate(), Some(48000));
    }

    #[test]
    fn adts_errors_keep_incomplete_apart_from_malformed() {
        let asc = AudioSpecificConfig::aac_lc(44100, 1);
        let frame = raw_to_adts(&[9; 20], &asc).unwrap();
        assert_eq!(
            adts_to_raw(&frame[..25]),
            Err(AacError::Truncated {
                what: "ADTS frame",
                offset: 0,
                needed: 27,
                available: 25
            })
        );
        assert_eq!(
            adts_to_raw(&frame[..5]),
            Err(AacError::Truncated {
                what: "ADTS header",
                offset: 0,
                needed: 7,
                available: 5
            })
        );
        let mut two = frame.clone();
        two.extend([0u8; 7]);
        assert_eq!(adts_to_raw(&two), Err(AacError::Sync { offset: 27 }));
        let mut layered = frame.clone();
        layered[1] |= 0x02;
        assert_eq!(
            adts_to_raw(&layered),
            Err(AacError::Layer {
                offset: 0,
                layer: 1
            })
        );
        let mut multi = frame;
        multi[6] |= 1;
        assert_eq!(
            adts_to_raw(&multi),
            Err(AacError::MultipleRawBlocks {
                offset: 0,
                blocks: 2
            })
        );
        let odd = AudioSpecificConfig::aac_lc(12345, 1);
        assert!(matches!(
            raw_to_adts(&[], &odd),
            Err(AacError::Unrepresentable {
                field: "sample_rate",
                ..
            })
        ));
        assert!(matches!(
            raw_to_adts(&[0; 8185], &asc),
            Err(AacError::Unrepresentable {
                field: "frame_length",
                ..
            })
        ));
    }

    #[test]
    fn garbage_never_panics() {
        let mut x: u32 = 0x1234_5678;
        for len in 0..200usize {
            let data: Vec<u8> = (0..len)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    // Every few buffers starts with a syncword to reach deeper.
                    if i < 2 && len % 3 == 0 {
                        0xff
                    } else {
                        x as u8
                    }
                })
                .collect();
            let _ = AudioSpecificConfig::parse(&data);
            let _ = AdtsHeader::parse(&data);
            let _ = adts_to_raw(&data);
        }
    }
}
