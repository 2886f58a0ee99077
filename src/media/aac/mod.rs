//! AAC helpers: the AudioSpecificConfig (build and parse, and what a decoder
//! outputs for it) and ADTS framing (header parse and emit, ADTS ↔ raw
//! frames).
//!
//! * [`asc`]: [`AudioSpecificConfig`] and [`AacOutput`].
//! * [`adts`]: [`AdtsHeader`], [`split_adts`], [`adts_to_raw`],
//!   [`raw_to_adts`].
//!
//! The canonical AAC access unit is a raw frame without ADTS header; the
//! AudioSpecificConfig travels in the track's configuration. Parsers here
//! never panic on input: malformed data is an [`AacError`] naming what was
//! wrong and where, and data that merely ends too early is
//! [`AacError::Truncated`], kept apart from malformed data.

pub mod adts;
pub mod asc;
#[cfg(test)]
mod tests;

pub use adts::{adts_to_raw, is_adts, parse_adts_frame, raw_to_adts, split_adts, AdtsHeader};
pub use asc::{AacOutput, AudioSpecificConfig};

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
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
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
    /// An explicit (24-bit) sampling frequency of 0 Hz in an
    /// AudioSpecificConfig: no clock can run at it.
    #[error("AudioSpecificConfig has an explicit {field} of 0 Hz")]
    ZeroSampleRate { field: &'static str },
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

/// Samples in one AAC raw data block, unless the GASpecificConfig's
/// frameLengthFlag asks for 960 (ADTS cannot).
pub const SAMPLES_PER_BLOCK: u32 = 1024;

/// The `sampling_frequency_index` of a rate in Hz, if the table has it.
pub fn frequency_index(sample_rate: u32) -> Option<u8> {
    SAMPLE_RATES
        .iter()
        .position(|&r| r == sample_rate)
        .map(|i| i as u8)
}

/// The error for a value the target syntax cannot represent.
fn unrepresentable(field: &'static str, value: u32, reason: &'static str) -> AacError {
    AacError::Unrepresentable {
        field,
        value,
        reason,
    }
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
