//! The few AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) fields FLV needs
//! to describe an AAC track: output sample rate, channels, samples per
//! frame. Deliberately minimal and private: the full parser is
//! `media::aac`'s job.

/// `samplingFrequencyIndex` → Hz.
const RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// What an ASC says about the decoded output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct AscSummary {
    /// Output samples per second (the SBR rate for HE-AAC).
    pub sample_rate: u32,
    /// `channelConfiguration` (0: defined in the bitstream).
    pub channels: u8,
    /// Output samples per access unit.
    pub frame_samples: u32,
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn read(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let byte = self.data.get(self.pos / 8)?;
            v = (v << 1) | u32::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos += 1;
        }
        Some(v)
    }

    fn object_type(&mut self) -> Option<u32> {
        match self.read(5)? {
            31 => Some(32 + self.read(6)?),
            aot => Some(aot),
        }
    }

    fn rate(&mut self) -> Option<u32> {
        match self.read(4)? {
            15 => self.read(24),
            index => RATES.get(index as usize).copied(),
        }
    }
}

/// Parses the ASC prefix, or `None` when it is too short or names an
/// unknown sampling frequency index.
pub(super) fn summarize(asc: &[u8]) -> Option<AscSummary> {
    let mut bits = Bits { data: asc, pos: 0 };
    let mut aot = bits.object_type()?;
    let mut sample_rate = bits.rate()?;
    let channels = bits.read(4)? as u8;
    let mut sbr = false;
    // Explicit HE-AAC (SBR = 5, PS = 29): the extension rate is the output.
    if aot == 5 || aot == 29 {
        sbr = true;
        sample_rate = bits.rate()?;
        aot = bits.object_type()?;
    }
    // GASpecificConfig's frameLengthFlag: 960-sample frames.
    let short = matches!(aot, 1..=4 | 6 | 7 | 17 | 19..=23) && bits.read(1)? == 1;
    let core = if short { 960 } else { 1024 };
    Some(AscSummary {
        sample_rate,
        channels,
        frame_samples: if sbr { 2 * core } else { core },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lc_he_and_short_configs() {
        let lc = AscSummary {
            sample_rate: 48000,
            channels: 1,
            frame_samples: 1024,
        };
        assert_eq!(summarize(&[0x11, 0x88]), Some(lc));
        assert_eq!(
            summarize(&[0x12, 0x10]).map(|s| (s.sample_rate, s.channels)),
            Some((44100, 2))
        );
        // HE-AAC: SBR, 24 kHz core, 48 kHz output, stereo, then AAC LC.
        let he = summarize(&[0x2b, 0x11, 0x88, 0x00]).unwrap();
        assert_eq!(
            he,
            AscSummary {
                sample_rate: 48000,
                channels: 2,
                frame_samples: 2048
            }
        );
        assert_eq!(summarize(&[0x11, 0x8c]).map(|s| s.frame_samples), Some(960));
        assert_eq!(summarize(&[0x11]), None);
        assert_eq!(summarize(&[0x17, 0x00]), None, "index 14 is reserved");
    }
}
