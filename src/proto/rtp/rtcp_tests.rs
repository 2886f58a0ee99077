use super::*;

fn block(ssrc: u32) -> Block {
    Block {
        ssrc,
        fraction_lost: 25,
        cumulative_lost: -3,
        highest_seq: 0x0001_0010,
        jitter: 412,
        lsr: 0xabcd_ef01,
        dlsr: 65_536,
    }
}

#[test]
fn sr_rr_cname_nack_and_bye_round_trip_as_one_compound_packet() {
    let packets = vec![
        Rtcp::Sr {
            ssrc: 1,
            ntp: ntp_time(Duration::from_millis(1_700_000_000_250)),
            rtp_ts: 90_000,
            packets: 300,
            octets: 250_000,
            blocks: vec![block(9)],
        },
        Rtcp::Cname {
            ssrc: 1,
            cname: "server@streamsim".into(),
        },
        Rtcp::Rr {
            ssrc: 2,
            blocks: vec![block(1), block(3)],
        },
        Rtcp::Nack {
            sender_ssrc: 2,
            media_ssrc: 1,
            // Within 16 of each other (one FCI entry), and far apart.
            seqs: vec![65_530, 65_531, 65_535, 2, 400],
        },
        Rtcp::Bye {
            ssrcs: vec![1, 5],
            reason: Some("teardown".into()),
        },
        Rtcp::Bye {
            ssrcs: vec![2],
            reason: None,
        },
    ];
    let bytes = write_compound(&packets).unwrap();
    assert_eq!(bytes.len() % 4, 0);
    let mut back = parse_compound(&bytes).unwrap();
    // NACKs read back in ascending numeric order.
    if let Rtcp::Nack { seqs, .. } = &mut back[3] {
        assert_eq!(seqs, &vec![2, 400, 65_530, 65_531, 65_535]);
        *seqs = vec![65_530, 65_531, 65_535, 2, 400];
    }
    assert_eq!(back, packets);
}

#[test]
fn ntp_time_splits_seconds_and_fraction() {
    let t = ntp_time(Duration::from_millis(1500));
    assert_eq!(t >> 32, NTP_UNIX + 1);
    assert_eq!(t & 0xffff_ffff, 1 << 31);
}

#[test]
fn loss_and_fraction_follow_rfc_3550_a3_across_wraparound() {
    let mut s = ReceptionStats::new(90_000);
    let mut now = Duration::ZERO;
    // 65,530 .. 65,535, 0 .. 13 with 4 lost: 20 expected, 16 received.
    let lost = [65_533u16, 1, 2, 10];
    for i in 0..20u32 {
        let seq = 65_530u16.wrapping_add(i as u16);
        now += Duration::from_millis(10);
        if !lost.contains(&seq) {
            s.handle_packet(now, seq, i * 900);
        }
    }
    assert_eq!(s.expected(), 20);
    assert_eq!(s.cumulative_lost(), 4);
    assert_eq!(s.highest_seq(), (1 << 16) + 13);
    let b = s.report(now, 7);
    assert_eq!(b.fraction_lost, (4 * 256 / 20) as u8);
    assert_eq!(b.cumulative_lost, 4);
    // Packets that arrive evenly spaced, as sent, have no jitter.
    assert_eq!(b.jitter, 0);
    // The next interval: nothing lost.
    for i in 20..30u32 {
        now += Duration::from_millis(10);
        s.handle_packet(now, 65_530u16.wrapping_add(i as u16), i * 900);
    }
    let b = s.report(now, 7);
    assert_eq!((b.fraction_lost, b.cumulative_lost), (0, 4));
}

#[test]
fn jitter_converges_on_the_mean_transit_deviation() {
    // Transit alternates 0 and 20 ms: |D| = 20 ms = 1800 units at 90 kHz,
    // so J converges to 1800 (J += (|D| − J) / 16).
    let mut s = ReceptionStats::new(90_000);
    for i in 0..2000u32 {
        let sent = Duration::from_millis(u64::from(i) * 40);
        let extra = if i % 2 == 0 { 0 } else { 20 };
        s.handle_packet(sent + Duration::from_millis(extra), i as u16, i * 3600);
    }
    let j = s.jitter();
    assert!((1790..=1800).contains(&j), "{j}");
}

#[test]
fn lsr_and_dlsr_come_from_the_last_sender_report() {
    let mut s = ReceptionStats::new(48_000);
    s.handle_packet(Duration::ZERO, 1, 0);
    let ntp = ntp_time(Duration::from_secs(100));
    s.handle_sender_report(Duration::from_secs(2), ntp);
    let b = s.report(Duration::from_millis(2500), 1);
    assert_eq!(b.lsr, (ntp >> 16) as u32);
    assert_eq!(b.dlsr, 32_768);
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for bad in [
        &[][..],
        &[0x80],
        &[0x80, 200, 0, 9],
        &[0x40, 201, 0, 0],
        &[0x81, 205, 0, 1, 0, 0, 0, 0],
    ] {
        let _ = parse_compound(bad);
    }
    assert!(parse_compound(&[]).is_err());
    assert!(write_compound(&[Rtcp::Other { packet_type: 204 }]).is_err());
}
