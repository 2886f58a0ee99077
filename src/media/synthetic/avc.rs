//! The smallest decodable H.264 the synthetic source needs: a Constrained
//! Baseline SPS (with VUI timing and no reordering), a PPS, IDR pictures of
//! flat grey I_16x16 macroblocks, P pictures of skipped macroblocks, and
//! filler data NAL units that pad an access unit to a target size.
//!
//! Every picture is one slice, CAVLC, deblocking off. All pictures are
//! references (one reference frame, sliding window), frame_num counts
//! pictures since the last IDR modulo 2^`log2_max_frame_num`, and
//! pic_order_cnt_lsb is twice that count (type 0, so decode order is
//! presentation order).

use super::bits::{nal_unit, BitWriter};

/// NAL unit type of filler data.
pub(crate) const NAL_FILLER: u8 = 12;

/// Bytes a filler NAL unit adds at the least: start code, header, trailing
/// bits byte.
pub(crate) const MIN_FILLER: usize = 6;

/// Level limits (ISO/IEC 14496-10 table A-1): level_idc, max frame size in
/// macroblocks, max macroblocks per second, max Baseline bitrate in kbit/s.
const LEVELS: [(u8, u64, u64, u64); 16] = [
    (10, 99, 1485, 64),
    (11, 396, 3000, 192),
    (12, 396, 6000, 384),
    (13, 396, 11880, 768),
    (20, 396, 11880, 2000),
    (21, 792, 19800, 4000),
    (22, 1620, 20250, 4000),
    (30, 1620, 40500, 10000),
    (31, 3600, 108000, 14000),
    (32, 5120, 216000, 20000),
    (40, 8192, 245760, 20000),
    (41, 8192, 245760, 50000),
    (42, 8704, 522240, 50000),
    (50, 22080, 589824, 135000),
    (51, 36864, 983040, 240000),
    (52, 36864, 2073600, 240000),
];

/// The stream-wide parameters every NAL unit builder here needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AvcParams {
    /// Picture width in pixels (even).
    pub width: u32,
    /// Picture height in pixels (even).
    pub height: u32,
    /// Frame rate numerator (frames per `fps_den` seconds).
    pub fps_num: u32,
    /// Frame rate denominator.
    pub fps_den: u32,
    /// Bitrate in bit/s, for the level choice.
    pub bitrate_bps: u64,
    /// log2 of MaxFrameNum, 4..=16; pic_order_cnt_lsb has one bit more.
    pub log2_max_frame_num: u32,
}

impl AvcParams {
    /// Width in macroblocks.
    pub fn mbs_wide(&self) -> u32 {
        self.width.div_ceil(16)
    }

    /// Height in macroblocks.
    pub fn mbs_high(&self) -> u32 {
        self.height.div_ceil(16)
    }

    /// Macroblocks per picture.
    pub fn mbs(&self) -> u32 {
        self.mbs_wide() * self.mbs_high()
    }

    /// The smallest level whose frame size, macroblock rate and bitrate
    /// limits hold this stream (5.2 if none does).
    fn level_idc(&self) -> u8 {
        let fs = u64::from(self.mbs());
        let mbps = (fs * u64::from(self.fps_num)).div_ceil(u64::from(self.fps_den.max(1)));
        let kbps = self.bitrate_bps.div_ceil(1000);
        LEVELS
            .iter()
            .find(|&&(_, max_fs, max_mbps, max_kbps)| {
                fs <= max_fs && mbps <= max_mbps && kbps <= max_kbps
            })
            .map_or(52, |l| l.0)
    }
}

/// The sequence parameter set NAL unit (no start code).
pub(crate) fn sps(p: &AvcParams) -> Vec<u8> {
    let mut w = BitWriter::default();
    w.u(8, 66); // profile_idc: Baseline
    w.u(8, 0b1100_0000); // constraint_set0 and set1: Constrained Baseline
    w.u(8, p.level_idc().into());
    w.ue(0); // seq_parameter_set_id
    w.ue(p.log2_max_frame_num - 4);
    w.ue(0); // pic_order_cnt_type
    w.ue(p.log2_max_frame_num + 1 - 4); // log2_max_pic_order_cnt_lsb_minus4
    w.ue(1); // max_num_ref_frames
    w.bit(false); // gaps_in_frame_num_value_allowed_flag
    w.ue(p.mbs_wide() - 1);
    w.ue(p.mbs_high() - 1);
    w.bit(true); // frame_mbs_only_flag
    w.bit(true); // direct_8x8_inference_flag
    let (crop_x, crop_y) = (p.mbs_wide() * 16 - p.width, p.mbs_high() * 16 - p.height);
    w.bit(crop_x + crop_y > 0); // frame_cropping_flag, in 2-pixel units for 4:2:0
    if crop_x + crop_y > 0 {
        w.ue(0);
        w.ue(crop_x / 2);
        w.ue(0);
        w.ue(crop_y / 2);
    }
    w.bit(true); // vui_parameters_present_flag
    vui(&mut w, p);
    w.trailing_bits();
    nal_unit(0x67, &w.into_bytes())
}

/// VUI: timing (a tick is half a frame, so time_scale / (2 ×
/// num_units_in_tick) is the frame rate) and bitstream restrictions that
/// declare no reordering and a one-frame decoded picture buffer.
fn vui(w: &mut BitWriter, p: &AvcParams) {
    w.bit(false); // aspect_ratio_info_present_flag
    w.bit(false); // overscan_info_present_flag
    w.bit(false); // video_signal_type_present_flag
    w.bit(false); // chroma_loc_info_present_flag
    w.bit(true); // timing_info_present_flag
    w.u(32, p.fps_den.into()); // num_units_in_tick
    w.u(32, 2 * u64::from(p.fps_num)); // time_scale
    w.bit(true); // fixed_frame_rate_flag
    w.bit(false); // nal_hrd_parameters_present_flag
    w.bit(false); // vcl_hrd_parameters_present_flag
    w.bit(false); // pic_struct_present_flag
    w.bit(true); // bitstream_restriction_flag
    w.bit(true); // motion_vectors_over_pic_boundaries_flag
    w.ue(0); // max_bytes_per_pic_denom
    w.ue(0); // max_bits_per_mb_denom
    w.ue(16); // log2_max_mv_length_horizontal
    w.ue(16); // log2_max_mv_length_vertical
    w.ue(0); // max_num_reorder_frames
    w.ue(1); // max_dec_frame_buffering
}

/// The picture parameter set NAL unit (no start code).
pub(crate) fn pps() -> Vec<u8> {
    let mut w = BitWriter::default();
    w.ue(0); // pic_parameter_set_id
    w.ue(0); // seq_parameter_set_id
    w.bit(false); // entropy_coding_mode_flag: CAVLC
    w.bit(false); // bottom_field_pic_order_in_frame_present_flag
    w.ue(0); // num_slice_groups_minus1
    w.ue(0); // num_ref_idx_l0_default_active_minus1
    w.ue(0); // num_ref_idx_l1_default_active_minus1
    w.bit(false); // weighted_pred_flag
    w.u(2, 0); // weighted_bipred_idc
    w.se(0); // pic_init_qp_minus26
    w.se(0); // pic_init_qs_minus26
    w.se(0); // chroma_qp_index_offset
    w.bit(true); // deblocking_filter_control_present_flag
    w.bit(false); // constrained_intra_pred_flag
    w.bit(false); // redundant_pic_cnt_present_flag
    w.trailing_bits();
    nal_unit(0x68, &w.into_bytes())
}

/// A picture's place in the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Picture {
    /// An IDR picture; consecutive IDRs need different ids (0..=65535).
    Idr { idr_pic_id: u32 },
    /// A P picture, `index` pictures after the last IDR (≥ 1).
    P { index: u64 },
}

/// The slice NAL unit (no start code) of one picture.
pub(crate) fn slice(p: &AvcParams, picture: Picture) -> Vec<u8> {
    let (header, slice_type, index) = match picture {
        Picture::Idr { .. } => (0x65, 7, 0), // nal_ref_idc 3, type 5; slice_type I
        Picture::P { index } => (0x41, 5, index), // nal_ref_idc 2, type 1; slice_type P
    };
    let max_frame_num = 1u64 << p.log2_max_frame_num;
    let mut w = BitWriter::default();
    w.ue(0); // first_mb_in_slice
    w.ue(slice_type);
    w.ue(0); // pic_parameter_set_id
    w.u(p.log2_max_frame_num, index % max_frame_num); // frame_num
    if let Picture::Idr { idr_pic_id } = picture {
        w.ue(idr_pic_id);
    }
    w.u(p.log2_max_frame_num + 1, (2 * index) % (2 * max_frame_num)); // pic_order_cnt_lsb
    match picture {
        Picture::Idr { .. } => {
            w.bit(false); // no_output_of_prior_pics_flag
            w.bit(false); // long_term_reference_flag
        }
        Picture::P { .. } => {
            w.bit(false); // num_ref_idx_active_override_flag
            w.bit(false); // ref_pic_list_modification_flag_l0
            w.bit(false); // adaptive_ref_pic_marking_mode_flag
        }
    }
    w.se(0); // slice_qp_delta
    w.ue(1); // disable_deblocking_filter_idc: off
    match picture {
        Picture::Idr { .. } => {
            for _ in 0..p.mbs() {
                w.ue(3); // mb_type I_16x16_2_0_0: DC prediction, no coded block pattern
                w.ue(0); // intra_chroma_pred_mode: DC
                w.se(0); // mb_qp_delta
                w.bit(true); // coeff_token of the Intra16x16 DC block: no coefficients (nC < 2)
            }
        }
        Picture::P { .. } => w.ue(p.mbs()), // mb_skip_run covering the picture
    }
    w.trailing_bits();
    nal_unit(header, &w.into_bytes())
}

/// A filler data NAL unit (no start code) of exactly `len` bytes (≥ 2).
pub(crate) fn filler(len: usize) -> Vec<u8> {
    let mut nal = vec![0xff; len.max(2)];
    nal[0] = NAL_FILLER;
    if let Some(last) = nal.last_mut() {
        *last = 0x80;
    }
    nal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::h264::sps_dimensions;
    use h264_reader::nal::{sps::SeqParameterSet, Nal, RefNal};

    fn params(width: u32, height: u32) -> AvcParams {
        AvcParams {
            width,
            height,
            fps_num: 30000,
            fps_den: 1001,
            bitrate_bps: 2_000_000,
            log2_max_frame_num: 6,
        }
    }

    #[test]
    fn sps_declares_size_and_timing() {
        for (w, h) in [(1280, 720), (1920, 1080), (16, 16), (642, 362)] {
            let p = params(w, h);
            assert_eq!(sps_dimensions(&sps(&p)).unwrap(), (w, h));
        }
        let nal = sps(&params(1280, 720));
        let parsed = SeqParameterSet::from_bits(RefNal::new(&nal, &[], true).rbsp_bits()).unwrap();
        let timing = parsed.vui_parameters.unwrap().timing_info.unwrap();
        assert_eq!((timing.num_units_in_tick, timing.time_scale), (1001, 60000));
        assert_eq!(parsed.level_idc, 31);
    }

    #[test]
    fn picture_sizes() {
        let p = params(1280, 720);
        // One byte per intra macroblock plus a few header bytes.
        let idr = slice(&p, Picture::Idr { idr_pic_id: 0 });
        assert!(idr.len() > 3600 && idr.len() < 3610, "{}", idr.len());
        assert!(slice(&p, Picture::P { index: 1 }).len() < 12);
        assert_eq!(filler(7), [12, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80]);
    }
}
