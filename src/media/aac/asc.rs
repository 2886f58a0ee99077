//! The AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1): its leading fields,
//! built and parsed exactly, and what a decoder outputs for it (HE-AAC's
//! doubled rate, 960-sample frames).

use super::{frequency_index, unrepresentable, AacError, BitReader, Bits, SAMPLE_RATES};
use super::{AOT_AAC_LC, SAMPLES_PER_BLOCK};

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
        if !(1..=95).contains(&self.object_type) || self.object_type == 31 {
            return Err(unrepresentable(
                "object_type",
                self.object_type.into(),
                "must be 1..=30 or 32..=95 (31 is the escape)",
            ));
        }
        if self.channel_config > 15 {
            return Err(unrepresentable(
                "channel_config",
                self.channel_config.into(),
                "must be 0..=15",
            ));
        }
        if self.sample_rate == 0 || self.sample_rate >= 1 << 24 {
            return Err(unrepresentable(
                "sample_rate",
                self.sample_rate,
                "must be 1..2^24 Hz",
            ));
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
        let object_type = read_object_type(&mut r)?;
        if object_type == 0 {
            return Err(AacError::NullObjectType);
        }
        let sample_rate = read_sample_rate(&mut r, "samplingFrequency")?;
        let channel_config = r.read(4, "channelConfiguration")? as u8;
        Ok(Self {
            object_type,
            sample_rate,
            channel_config,
        })
    }
}

/// What a decoder outputs for an AudioSpecificConfig.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AacOutput {
    /// Output samples per second: the extension (SBR) rate for explicitly
    /// signalled HE-AAC (object type 5 or 29), the core rate otherwise.
    pub sample_rate: u32,
    /// `channelConfiguration` (0: defined in the bitstream).
    pub channel_config: u8,
    /// Output samples per access unit: 1024, or 960 with the
    /// GASpecificConfig's frameLengthFlag, doubled by SBR.
    pub frame_length: u32,
}

impl AacOutput {
    /// Reads the config as far as the output format needs: the leading
    /// fields, the HE-AAC extension rate and object type, and the
    /// frameLengthFlag of a GASpecificConfig. Implicit SBR (signalled only in
    /// the bitstream) is invisible here: such streams report the core rate.
    pub fn parse(data: &[u8]) -> Result<Self, AacError> {
        let mut r = BitReader { data, bit: 0 };
        let mut object_type = read_object_type(&mut r)?;
        let mut sample_rate = read_sample_rate(&mut r, "samplingFrequency")?;
        let channel_config = r.read(4, "channelConfiguration")? as u8;
        let sbr = matches!(object_type, 5 | 29);
        if sbr {
            sample_rate = read_sample_rate(&mut r, "extensionSamplingFrequency")?;
            object_type = read_object_type(&mut r)?;
        }
        // Object types whose config is a GASpecificConfig, which opens with
        // the frameLengthFlag.
        let short = matches!(object_type, 1..=4 | 6 | 7 | 17 | 19..=23)
            && r.read(1, "frameLengthFlag")? == 1;
        let core = if short { 960 } else { SAMPLES_PER_BLOCK };
        Ok(Self {
            sample_rate,
            channel_config,
            frame_length: if sbr { 2 * core } else { core },
        })
    }
}

/// Reads an audio object type, 5 bits or the escape 31 and 6 more.
fn read_object_type(r: &mut BitReader<'_>) -> Result<u8, AacError> {
    match r.read(5, "audioObjectType")? as u8 {
        31 => Ok(32 + r.read(6, "audioObjectTypeExt")? as u8),
        object_type => Ok(object_type),
    }
}

/// Reads a sampling frequency index and, for index 15, the explicit 24-bit
/// rate (reported as `explicit_field` when it is cut short or 0 Hz: the
/// rate becomes a track timescale, which must not be 0).
fn read_sample_rate(r: &mut BitReader<'_>, explicit_field: &'static str) -> Result<u32, AacError> {
    match r.read(4, "samplingFrequencyIndex")? as u8 {
        15 => match r.read(24, explicit_field)? {
            0 => Err(AacError::ZeroSampleRate {
                field: explicit_field,
            }),
            rate => Ok(rate),
        },
        index => SAMPLE_RATES
            .get(usize::from(index))
            .copied()
            .ok_or(AacError::FrequencyIndex { index }),
    }
}
