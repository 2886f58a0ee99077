use super::*;
use crate::media::h264::join_annex_b;
use crate::rng::SplitMix64;

const SPS: &[u8] = &[0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x47];
const PPS: &[u8] = &[0x68, 0xce, 0x3c, 0x80];

/// A slice NAL of `len` bytes: IDR or not, `first_mb_in_slice` 0.
fn slice(idr: bool, len: usize, seed: u64) -> Vec<u8> {
    let mut rng = SplitMix64::new(seed);
    let mut nal = vec![if idr { 0x65 } else { 0x41 }, 0x88];
    nal.extend((2..len).map(|_| rng.next_u64() as u8));
    nal
}

fn payloader(max: usize) -> H264Payloader {
    H264Payloader::new(max, vec![SPS.to_vec()], vec![PPS.to_vec()]).unwrap()
}

/// Payloads of `units` as (seq, ts, marker, payload), seq from `first`.
fn packets(
    p: &H264Payloader,
    units: &[(bool, Vec<u8>)],
    first: u16,
) -> Vec<(u16, u32, bool, Vec<u8>)> {
    let mut out = Vec::new();
    let mut seq = first;
    for (i, (key, data)) in units.iter().enumerate() {
        let payloads = p.payload(data, *key);
        let n = payloads.len();
        for (j, payload) in payloads.into_iter().enumerate() {
            out.push((seq, 3000 * i as u32, j + 1 == n, payload));
            seq = seq.wrapping_add(1);
        }
    }
    out
}

fn depacketize(packets: &[(u16, u32, bool, Vec<u8>)]) -> (Vec<Depacketized>, H264Depacketizer) {
    let mut d = H264Depacketizer::new();
    for (seq, ts, marker, payload) in packets {
        d.handle_packet(*seq, *ts, *marker, payload);
    }
    d.finish();
    let mut out = Vec::new();
    while let Some(u) = d.poll() {
        out.push(u);
    }
    (out, d)
}

fn units() -> Vec<(bool, Vec<u8>)> {
    vec![
        (true, join_annex_b([slice(true, 5000, 1).as_slice()])),
        (false, join_annex_b([slice(false, 300, 2).as_slice()])),
        // Two small slices of one picture: one STAP-A.
        (
            false,
            join_annex_b([slice(false, 40, 3).as_slice(), &[0x41, 0x40, 1, 2][..]]),
        ),
        (false, join_annex_b([slice(false, 2900, 4).as_slice()])),
    ]
}

#[test]
fn every_packet_fits_the_payload_size_and_the_units_round_trip() {
    for max in [3, 16, 100, 1200, 1460, 9000] {
        let p = payloader(max);
        let units = units();
        let pk = packets(&p, &units, 65_530);
        assert!(pk.iter().all(|(_, _, _, pl)| pl.len() <= max), "max {max}");
        let (out, d) = depacketize(&pk);
        let want: Vec<Depacketized> = units
            .iter()
            .enumerate()
            .map(|(i, (key, data))| Depacketized::Unit {
                rtp_ts: 3000 * i as u32,
                keyframe: *key,
                data: data.clone(),
            })
            .collect();
        assert_eq!(out, want, "max {max}");
        // The in-band parameter sets were taken out, and kept.
        assert_eq!(d.sps.as_deref(), Some(SPS));
        assert_eq!(d.pps.as_deref(), Some(PPS));
    }
}

#[test]
fn the_packet_kinds_are_the_ones_rfc_6184_prescribes() {
    let p = payloader(1200);
    let units = units();
    // The keyframe: SPS + PPS in a STAP-A, then FU-A fragments of the IDR.
    let key = p.payload(&units[0].1, true);
    assert_eq!(key[0][0] & 0x1f, STAP_A);
    assert_eq!(key[0][1..3], (SPS.len() as u16).to_be_bytes());
    assert!(key[1..]
        .iter()
        .all(|f| f[0] & 0x1f == FU_A && f[1] & 0x1f == 5));
    assert_eq!(key[1][1] & 0xc0, 0x80, "S on the first fragment");
    assert_eq!(key.last().unwrap()[1] & 0xc0, 0x40, "E on the last");
    assert!(key[2..key.len() - 1].iter().all(|f| f[1] & 0xc0 == 0));
    // The NRI of the indicator is the fragmented NAL's.
    assert_eq!(key[1][0] & 0x60, 0x60);
    // A small picture is a single NAL unit packet: the NAL itself.
    let small = p.payload(&units[1].1, false);
    assert_eq!(small, vec![slice(false, 300, 2)]);
    // Two small NALs share a STAP-A.
    assert_eq!(p.payload(&units[2].1, false).len(), 1);
    assert_eq!(p.payload(&units[2].1, false)[0][0] & 0x1f, STAP_A);
}

#[test]
fn a_lost_fragment_damages_its_unit_alone() {
    let p = payloader(1000);
    let pk = packets(&p, &units(), 10);
    // The keyframe is a STAP-A and 5 fragments; drop the third fragment.
    let mut lossy = pk.clone();
    lossy.remove(3);
    let (out, _) = depacketize(&lossy);
    assert_eq!(out[0], Depacketized::Damaged { rtp_ts: 0 });
    assert!(matches!(out[1], Depacketized::Unit { rtp_ts: 3000, .. }));
    assert_eq!(out.len(), 4);
}

#[test]
fn a_lost_last_packet_damages_its_unit_and_the_next_one_is_whole() {
    let p = payloader(1000);
    let pk = packets(&p, &units(), 10);
    let end_of_key = pk.iter().position(|x| x.2).unwrap();
    let mut lossy = pk.clone();
    lossy.remove(end_of_key);
    let (out, _) = depacketize(&lossy);
    assert_eq!(out[0], Depacketized::Damaged { rtp_ts: 0 });
    assert!(matches!(out[1], Depacketized::Unit { rtp_ts: 3000, .. }));
}

#[test]
fn a_whole_lost_unit_costs_nothing_else_but_a_lost_start_damages() {
    let p = payloader(1000);
    let pk = packets(&p, &units(), 10);
    // Unit 1 is one packet: without it, units 0, 2 and 3 are whole.
    let one = pk.iter().position(|x| x.1 == 3000).unwrap();
    let mut lossy = pk.clone();
    lossy.remove(one);
    let (out, _) = depacketize(&lossy);
    let ts: Vec<u32> = out
        .iter()
        .filter_map(|u| match u {
            Depacketized::Unit { rtp_ts, .. } => Some(*rtp_ts),
            Depacketized::Damaged { .. } => None,
        })
        .collect();
    assert_eq!(ts, vec![0, 6000, 9000]);
    // Unit 3 is fragmented: losing its first fragment damages it.
    let first3 = pk.iter().position(|x| x.1 == 9000).unwrap();
    let mut lossy = pk.clone();
    lossy.remove(first3);
    let (out, _) = depacketize(&lossy);
    assert_eq!(out.last(), Some(&Depacketized::Damaged { rtp_ts: 9000 }));
}

#[test]
fn malformed_payloads_damage_and_never_panic() {
    let mut d = H264Depacketizer::new();
    let bad: &[&[u8]] = &[
        &[],
        &[STAP_A],
        &[STAP_A, 0, 9, 1],
        &[STAP_A, 0, 0],
        &[FU_A],
        &[FU_A, 0x05, 1, 2],
        &[FU_A, 0x45, 1],
        &[25, 1, 2],
        &[0x1f],
    ];
    for (i, payload) in bad.iter().enumerate() {
        d.handle_packet(i as u16, i as u32, true, payload);
    }
    d.finish();
    let mut n = 0;
    while let Some(u) = d.poll() {
        assert!(matches!(u, Depacketized::Damaged { .. }), "{u:?}");
        n += 1;
    }
    assert_eq!(n, bad.len());
}

#[test]
fn a_tiny_payload_size_is_refused() {
    assert!(H264Payloader::new(2, vec![], vec![]).is_err());
}
