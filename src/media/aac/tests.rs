//! Round trips and error cases for the AudioSpecificConfig and ADTS.

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

#[test]
fn explicit_zero_sample_rate_is_an_error() {
    // AAC-LC, frequency index 15 with an explicit 24-bit rate of 0, stereo.
    let zero = [0x17, 0x80, 0x00, 0x00, 0x10];
    let error = AacError::ZeroSampleRate {
        field: "samplingFrequency",
    };
    assert_eq!(AudioSpecificConfig::parse(&zero), Err(error.clone()));
    assert_eq!(AacOutput::parse(&zero), Err(error));
    // HE-AAC whose explicit extension rate is 0.
    let zero_extension = [0x29, 0x97, 0x80, 0x00, 0x00, 0x08, 0x00];
    assert_eq!(
        AacOutput::parse(&zero_extension),
        Err(AacError::ZeroSampleRate {
            field: "extensionSamplingFrequency"
        })
    );
    // A nonzero explicit rate still parses.
    let explicit = [0x17, 0x80, 0x0e, 0x5b, 0x10];
    assert_eq!(AacOutput::parse(&explicit).unwrap().sample_rate, 7350);
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
        let _ = parse_adts_frame(&data);
        let _ = AacOutput::parse(&data);
    }
}

#[test]
fn output_of_lc_he_and_short_configs() {
    let lc = AacOutput {
        sample_rate: 48000,
        channel_config: 1,
        frame_length: 1024,
    };
    assert_eq!(AacOutput::parse(&[0x11, 0x88]), Ok(lc));
    assert_eq!(
        AacOutput::parse(&[0x12, 0x10]).map(|s| (s.sample_rate, s.channel_config)),
        Ok((44100, 2))
    );
    // HE-AAC: SBR, 24 kHz core, 48 kHz output, stereo, then AAC LC.
    let he = AacOutput::parse(&[0x2b, 0x11, 0x88, 0x00]).unwrap();
    assert_eq!(
        he,
        AacOutput {
            sample_rate: 48000,
            channel_config: 2,
            frame_length: 2048
        }
    );
    assert_eq!(
        AacOutput::parse(&[0x11, 0x8c]).map(|s| s.frame_length),
        Ok(960)
    );
    assert_eq!(
        AacOutput::parse(&[0x11]),
        Err(AacError::AscTruncated {
            field: "samplingFrequencyIndex",
            bit: 5
        })
    );
    assert_eq!(
        AacOutput::parse(&[0x17, 0x00]),
        Err(AacError::FrequencyIndex { index: 14 }),
        "index 14 is reserved"
    );
}

#[test]
fn adts_header_and_asc_agree() {
    // AAC-LC, 48 kHz, stereo: the AudioSpecificConfig 0x11 0x90.
    let asc = AudioSpecificConfig::parse(&[0x11, 0x90]).unwrap();
    assert_eq!(asc, AudioSpecificConfig::aac_lc(48_000, 2));
    let header = AdtsHeader::for_raw_frame(&asc, 5).unwrap();
    assert_eq!(header.audio_specific_config(), Some(asc));
    assert_eq!(asc.to_bytes().unwrap(), vec![0x11, 0x90]);
    assert_eq!(header.sample_rate(), Some(48_000));
    assert_eq!(header.samples(), 1024);
    // HE-AAC (type 5) is not ADTS-expressible.
    let he = AudioSpecificConfig::parse(&[0x2b, 0x92, 0x08, 0x00]).unwrap();
    assert!(matches!(
        AdtsHeader::for_raw_frame(&he, 5),
        Err(AacError::Unrepresentable {
            field: "object_type",
            ..
        })
    ));
}

#[test]
fn adts_frame_parse_keeps_every_raw_block() {
    let asc = AudioSpecificConfig::aac_lc(48_000, 2);
    let frame = raw_to_adts(&[1, 2, 3, 4, 5], &asc).unwrap();
    assert!(is_adts(&frame));
    assert!(!is_adts(&frame[..1]) && !is_adts(&[0x21, 0x10]) && !is_adts(&[0xff, 0xf3]));
    let (header, payload) = parse_adts_frame(&frame).unwrap();
    assert_eq!(
        (header.raw_blocks, payload, usize::from(header.frame_length)),
        (1, &[1u8, 2, 3, 4, 5][..], 12)
    );
    // Trailing bytes after the frame are not part of it.
    let mut longer = frame.clone();
    longer.extend([0xff; 4]);
    assert_eq!(parse_adts_frame(&longer).unwrap().1, &[1u8, 2, 3, 4, 5][..]);
    let mut multi = frame.clone();
    multi[6] |= 1;
    let (header, payload) = parse_adts_frame(&multi).unwrap();
    assert_eq!(
        (header.raw_blocks, header.samples(), payload.len()),
        (2, 2048, 5)
    );
    assert_eq!(
        parse_adts_frame(&frame[..11]),
        Err(AacError::Truncated {
            what: "ADTS frame",
            offset: 0,
            needed: 12,
            available: 11
        })
    );
    assert_eq!(
        parse_adts_frame(&[0u8; 9]),
        Err(AacError::Sync { offset: 0 })
    );
}
