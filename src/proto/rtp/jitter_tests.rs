use super::*;
use crate::proto::rtp::h264::{H264Depacketizer, H264Payloader};
use crate::proto::rtp::Depacketized;
use crate::rng::SplitMix64;

fn pkt(seq: u16, ts: u32) -> RtpPacket {
    RtpPacket::new(96, seq, ts, 1, false, vec![seq as u8])
}

fn drain(j: &mut JitterBuffer) -> Vec<Released> {
    std::iter::from_fn(|| j.poll()).collect()
}

fn seqs(out: &[Released]) -> Vec<i64> {
    out.iter()
        .map(|r| match r {
            Released::Packet { packet, .. } => i64::from(packet.seq),
            Released::Lost { first, count } => -(i64::from(*first) * 100 + i64::from(*count)),
        })
        .collect()
}

const MS: Duration = Duration::from_millis(1);

#[test]
fn in_order_packets_leave_at_once() {
    let mut j = JitterBuffer::new(DEFAULT_LATENCY, 90_000);
    for i in 0..5u16 {
        j.handle_packet(
            MS * u32::from(i) * 10,
            pkt(65_534u16.wrapping_add(i), u32::from(i) * 900),
        );
        assert_eq!(drain(&mut j).len(), 1);
    }
    assert_eq!(j.poll_timeout(), None);
}

#[test]
fn reordered_packets_come_out_in_order_and_a_hole_waits_until_the_next_is_due() {
    let mut j = JitterBuffer::new(DEFAULT_LATENCY, 90_000);
    j.handle_packet(Duration::ZERO, pkt(10, 0));
    j.handle_packet(MS * 10, pkt(12, 1800));
    j.handle_packet(MS * 11, pkt(13, 2700));
    assert_eq!(seqs(&drain(&mut j)), vec![10]);
    // 12 is due at 0 + 20 ms + 200 ms.
    assert_eq!(j.poll_timeout(), Some(MS * 220));
    assert_eq!(j.missing(), vec![11]);
    // 11 arrives in time: 11, 12, 13 leave.
    j.handle_packet(MS * 150, pkt(11, 900));
    assert_eq!(seqs(&drain(&mut j)), vec![11, 12, 13]);
    // 14 is lost: at 15's deadline it is given up.
    j.handle_packet(MS * 160, pkt(15, 4500));
    j.handle_timeout(MS * 249);
    assert!(drain(&mut j).is_empty());
    j.handle_timeout(MS * 250);
    assert_eq!(seqs(&drain(&mut j)), vec![-1401, 15]);
    // 14 arriving now is too late.
    j.handle_packet(MS * 260, pkt(14, 3600));
    assert!(drain(&mut j).is_empty());
    let c = j.counters();
    assert_eq!((c.released, c.lost, c.late), (5, 1, 1));
}

#[test]
fn duplicates_are_dropped_and_capacity_bounds_what_is_held() {
    let mut j = JitterBuffer::new(Duration::from_secs(10), 90_000).with_capacity(2);
    j.handle_packet(Duration::ZERO, pkt(0, 0));
    j.handle_packet(Duration::ZERO, pkt(2, 0));
    j.handle_packet(Duration::ZERO, pkt(2, 0));
    j.handle_packet(Duration::ZERO, pkt(4, 0));
    j.handle_packet(Duration::ZERO, pkt(5, 0));
    // Over 2 held: hole 1 is given up, 2 leaves; 3 still awaited.
    assert_eq!(seqs(&drain(&mut j)), vec![0, -101, 2]);
    assert_eq!(j.counters().duplicates, 1);
    assert_eq!(j.missing(), vec![3]);
}

/// H.264 through a reordering, lossy network, the jitter buffer and the
/// depacketizer: STAP-A and FU-A units come back whole, except those that
/// lost a packet, which come back damaged; none is handed out broken.
#[test]
fn stap_a_and_fu_a_reassemble_across_reordering_and_loss() {
    let sps = vec![0x67, 0x42, 0xc0, 0x1e];
    let pps = vec![0x68, 0xce, 0x3c, 0x80];
    let p = H264Payloader::new(500, vec![sps], vec![pps]).unwrap();
    let mut rng = SplitMix64::new(7);
    let mut sent: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut wire: Vec<(Duration, RtpPacket)> = Vec::new();
    let mut seq = 60_000u16;
    for f in 0..120u32 {
        let key = f % 30 == 0;
        let len = if key {
            4000
        } else {
            50 + (rng.next_u64() % 1500) as usize
        };
        let mut nal = vec![if key { 0x65 } else { 0x41 }, 0x88];
        nal.extend((2..len).map(|_| rng.next_u64() as u8));
        let data = crate::media::h264::join_annex_b([nal.as_slice()]);
        let ts = f * 3000;
        let payloads = p.payload(&data, key);
        let n = payloads.len();
        for (i, pl) in payloads.into_iter().enumerate() {
            // Sent at the frame's time, arriving 20 ms later ± 15 ms.
            let at = MS * (f * 33 + 20) + Duration::from_micros(rng.next_u64() % 30_000);
            wire.push((
                at.saturating_sub(MS * 15),
                RtpPacket::new(96, seq, ts, 1, i + 1 == n, pl),
            ));
            seq = seq.wrapping_add(1);
        }
        sent.push((ts, data));
    }
    // 3% loss.
    let mut lost_seqs = Vec::new();
    wire.retain(|(_, pk)| {
        let keep = rng.next_u64() % 100 >= 3;
        if !keep {
            lost_seqs.push(pk.seq);
        }
        keep
    });
    assert!(!lost_seqs.is_empty());
    let reordered = wire.windows(2).filter(|w| w[0].0 > w[1].0).count();
    assert!(reordered > 10, "the test must reorder: {reordered}");
    wire.sort_by_key(|(at, _)| *at);
    let mut j = JitterBuffer::new(DEFAULT_LATENCY, 90_000);
    let mut d = H264Depacketizer::new();
    let feed = |j: &mut JitterBuffer, d: &mut H264Depacketizer| {
        while let Some(r) = j.poll() {
            match r {
                Released::Packet { packet, .. } => {
                    d.handle_packet(packet.seq, packet.timestamp, packet.marker, &packet.payload)
                }
                Released::Lost { .. } => d.handle_gap(),
            }
        }
    };
    for (at, pk) in wire {
        j.handle_timeout(at);
        feed(&mut j, &mut d);
        j.handle_packet(at, pk);
        feed(&mut j, &mut d);
    }
    j.handle_timeout(Duration::from_secs(100));
    feed(&mut j, &mut d);
    d.finish();
    let out: Vec<Depacketized> = std::iter::from_fn(|| d.poll()).collect();
    let (mut whole, mut damaged) = (0, 0);
    for u in &out {
        match u {
            Depacketized::Unit { rtp_ts, data, .. } => {
                let want = &sent.iter().find(|(ts, _)| ts == rtp_ts).unwrap().1;
                assert_eq!(data, want, "unit {rtp_ts} came back changed");
                whole += 1;
            }
            Depacketized::Damaged { .. } => damaged += 1,
        }
    }
    assert!(
        damaged > 0 && whole > 80,
        "{whole} whole, {damaged} damaged"
    );
    assert!(whole + damaged <= 120);
    assert_eq!(j.counters().lost as usize, lost_seqs.len());
}
