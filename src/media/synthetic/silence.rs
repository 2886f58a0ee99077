//! Raw AAC-LC frames of silence padded to an exact size: one syntactic
//! element per channel-configuration element (SCE, CPE, LFE) whose channel
//! streams have no scale factor bands (max_sfb = 0, so every spectral
//! coefficient is zero), then fill elements (ID_FIL) for the padding, then
//! ID_END.

use super::bits::BitWriter;

const ID_SCE: u64 = 0;
const ID_CPE: u64 = 1;
const ID_LFE: u64 = 3;
const ID_FIL: u64 = 6;
const ID_END: u64 = 7;

/// Payload bytes one fill element carries at most: count 15 plus an escape
/// of 255, minus one (ISO/IEC 14496-3 §4.4.2.7).
const MAX_FILL_PAYLOAD: usize = 15 + 255 - 1;

/// The elements of a channel configuration 1..=7 (ISO/IEC 14496-3 table
/// 1.19), or `None` for configurations this builder does not know.
fn elements(channel_config: u8) -> Option<&'static [u64]> {
    Some(match channel_config {
        1 => &[ID_SCE],
        2 => &[ID_CPE],
        3 => &[ID_SCE, ID_CPE],
        4 => &[ID_SCE, ID_CPE, ID_SCE],
        5 => &[ID_SCE, ID_CPE, ID_CPE],
        6 => &[ID_SCE, ID_CPE, ID_CPE, ID_LFE],
        7 => &[ID_SCE, ID_CPE, ID_CPE, ID_CPE, ID_LFE],
        _ => return None,
    })
}

/// An individual_channel_stream of silence: global gain, a long window with
/// max_sfb = 0, and no pulse, TNS or gain control data.
fn silent_ics(w: &mut BitWriter) {
    w.u(8, 100); // global_gain
    w.bit(false); // ics_reserved_bit
    w.u(2, 0); // window_sequence: ONLY_LONG_SEQUENCE
    w.bit(false); // window_shape
    w.u(6, 0); // max_sfb
    w.bit(false); // predictor_data_present
    w.bit(false); // pulse_data_present
    w.bit(false); // tns_data_present
    w.bit(false); // gain_control_data_present
}

/// The channel elements of a silent frame, each kind with its own instance
/// tags counting from 0.
fn silent_elements(ids: &[u64]) -> BitWriter {
    let mut w = BitWriter::default();
    let mut tags = [0u64; 8];
    for &id in ids {
        let tag = &mut tags[id as usize];
        w.u(3, id);
        w.u(4, *tag); // element_instance_tag
        *tag += 1;
        if id == ID_CPE {
            w.bit(false); // common_window
            silent_ics(&mut w);
        }
        silent_ics(&mut w);
    }
    w
}

/// The size in bytes of the smallest silent frame for `channel_config`, or
/// `None` if the configuration is not 1..=7.
pub(crate) fn min_size(channel_config: u8) -> Option<usize> {
    silent_frame(channel_config, 0).map(|f| f.len())
}

/// A raw silent AAC-LC frame for `channel_config` (1..=7) of exactly
/// `target` bytes, or of the minimum size if `target` is smaller. `None` if
/// the configuration is not 1..=7.
pub(crate) fn silent_frame(channel_config: u8, target: usize) -> Option<Vec<u8>> {
    let mut w = silent_elements(elements(channel_config)?);
    // Spare bits between the elements plus ID_END and the target; fill
    // elements spend them until less than a byte is left, which the final
    // byte alignment absorbs.
    let mut spare = (target * 8).saturating_sub(w.bit_len() + 3);
    while spare >= 8 {
        // A fill element costs 7 bits (15 with the count escape) plus 8 per
        // payload byte.
        let payload = if spare >= 15 + 8 * 15 {
            ((spare - 15) / 8).min(MAX_FILL_PAYLOAD)
        } else {
            ((spare - 7) / 8).min(14)
        };
        w.u(3, ID_FIL);
        if payload >= 15 {
            w.u(4, 15);
            w.u(8, (payload - 14) as u64); // esc_count: count = 15 + esc_count - 1
            spare -= 15;
        } else {
            w.u(4, payload as u64);
            spare -= 7;
        }
        // extension_payload: EXT_FILL (0000) and fill_nibble (0000), then
        // fill bytes 0b1010_0101.
        for i in 0..payload {
            w.u(8, if i == 0 { 0 } else { 0xa5 });
        }
        spare -= 8 * payload;
    }
    w.u(3, ID_END);
    while !w.byte_aligned() {
        w.bit(false);
    }
    Some(w.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_hit_every_size_from_the_minimum() {
        for config in 1..=7 {
            let min = min_size(config).unwrap();
            assert!(min <= 4 * 7, "config {config}: {min}");
            for target in (min..2000).chain([0, 1]) {
                let frame = silent_frame(config, target).unwrap();
                assert_eq!(frame.len(), target.max(min), "config {config}");
            }
        }
        assert_eq!(silent_frame(0, 100), None);
        assert_eq!(silent_frame(8, 100), None);
    }
}
