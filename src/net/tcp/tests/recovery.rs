//! Sender loss recovery, one behaviour per test: limited transmit, fast
//! retransmit, NewReno partial ACKs, PRR pacing, RACK's reordering window,
//! the tail loss probe, RTO backoff with Karn's rule.

use super::script::{ms, offsets, simple, Script, MSS};

/// The sender with ten segments (its initial window) in flight at 100 ms.
fn ten_in_flight(sack: bool, rack: bool) -> Script {
    let mut s = Script::established(simple(sack, rack), ms(100));
    let sent = s.send(30 * MSS as usize);
    assert_eq!(
        sent,
        (0..10).map(|i| 1 + i * MSS).collect::<Vec<_>>(),
        "IW10"
    );
    s
}

#[test]
fn limited_transmit_sends_new_data_on_the_first_two_dupacks() {
    for sack in [false, true] {
        let mut s = ten_in_flight(sack, false);
        s.now = ms(200);
        // Segment 1 is lost; 2, 3 and 4 arrive.
        let mut new = Vec::new();
        for i in 1..=3u64 {
            let blocks = if sack {
                vec![(1 + MSS, 1 + (i + 1) * MSS)]
            } else {
                vec![]
            };
            s.ack(1, &blocks);
            new.push(offsets(&s.drain()));
        }
        assert_eq!(new[0], vec![10 * MSS + 1], "sack {sack}: one new segment");
        assert_eq!(
            new[1],
            vec![11 * MSS + 1],
            "sack {sack}: another new segment"
        );
        assert_eq!(new[2], vec![1], "sack {sack}: third dupack retransmits");
        assert!(s.conn.in_recovery());
        assert_eq!(s.conn.stats().fast_retransmits, 1);
        assert_eq!(s.conn.stats().recoveries, 1);
        assert_eq!(s.conn.stats().sack_recoveries, u64::from(sack));
        assert_eq!(
            s.conn.ssthresh(),
            6 * MSS,
            "half of the 12 segments in flight"
        );
    }
}

#[test]
fn ssthresh_halves_the_pipe_when_configured() {
    let config = crate::net::tcp::TcpConfig {
        ssthresh_from_pipe: true,
        ..simple(true, false)
    };
    let mut s = Script::established(config, ms(100));
    s.send(30 * MSS as usize);
    s.now = ms(200);
    for i in 1..=3u64 {
        s.ack(1, &[(1 + MSS, 1 + (i + 1) * MSS)]);
        s.drain();
    }
    // 12 outstanding, 3 SACKed, 1 lost: 8 in the pipe.
    assert_eq!(s.conn.ssthresh(), 4 * MSS);
}

#[test]
fn newreno_partial_ack_retransmits_the_next_hole() {
    let mut s = ten_in_flight(false, false);
    s.now = ms(200);
    // Segments 1 and 4 are lost.
    for _ in 0..3 {
        s.ack(1, &[]);
        s.drain();
    }
    assert!(s.conn.in_recovery());
    // The retransmission of 1 fills the first hole: ACK up to segment 4.
    s.now = ms(300);
    s.ack(1 + 3 * MSS, &[]);
    let sent = offsets(&s.drain());
    assert_eq!(sent.first(), Some(&(1 + 3 * MSS)), "{sent:?}");
    assert!(
        s.conn.in_recovery(),
        "partial ACK keeps NewReno in recovery"
    );
    // Everything up to the recovery point: recovery ends at ssthresh.
    s.ack(1 + 12 * MSS, &[]);
    assert!(!s.conn.in_recovery());
    assert_eq!(s.conn.cwnd(), s.conn.ssthresh());
}

#[test]
fn prr_sends_one_segment_per_two_delivered_above_ssthresh() {
    let mut s = ten_in_flight(true, false);
    // Slow start: the ten segments are acknowledged, twenty go out.
    assert_eq!(s.conn.send(&[7; 40 * MSS as usize]), 40 * MSS as usize);
    s.now = ms(200);
    s.ack(1 + 10 * MSS, &[]);
    let base = 1 + 10 * MSS;
    assert_eq!(offsets(&s.drain()).len(), 20);
    // The first of them is lost; the others are SACKed one by one.
    s.now = ms(300);
    let mut high = base + 20 * MSS;
    let mut per_ack = Vec::new();
    for i in 1..=30u64 {
        let right = (base + (i + 1) * MSS).min(high);
        let pipe = s.conn.pipe();
        s.ack(base, &[(base + MSS, right)]);
        let sent = offsets(&s.drain());
        for &o in &sent {
            high = high.max(o + MSS);
        }
        if i == 3 {
            assert_eq!(sent, vec![base], "fast retransmit on entry");
        }
        per_ack.push((pipe, sent.len()));
    }
    let sends: Vec<usize> = per_ack.iter().map(|p| p.1).collect();
    assert_eq!(&sends[..2], &[1, 1], "limited transmit");
    // RecoverFS is 22 segments and ssthresh 11: while the pipe stays above
    // ssthresh, half a segment per delivered segment, so sends alternate
    // with silences; then slow start holds the pipe at ssthresh, one
    // segment per segment delivered.
    let ssthresh = s.conn.ssthresh();
    assert_eq!(ssthresh, 11 * MSS);
    let proportional: Vec<usize> = per_ack[3..]
        .iter()
        .filter(|p| p.0 > ssthresh + MSS)
        .map(|p| p.1)
        .collect();
    assert!(proportional.len() >= 10, "{per_ack:?}");
    // The forced first retransmission is paid back first, then sends
    // alternate: never two in a row, half of the ACKs in all.
    assert!(
        proportional.windows(2).all(|w| w[0] + w[1] <= 1),
        "paced: {per_ack:?}"
    );
    let total: usize = proportional.iter().sum();
    assert!(total + 1 >= proportional.len() / 2 - 1, "{per_ack:?}");
    assert!(
        sends[sends.len() - 5..].iter().all(|&n| n == 1),
        "{per_ack:?}"
    );
    assert!(
        per_ack.iter().skip(3).all(|p| p.0 <= 19 * MSS),
        "{per_ack:?}"
    );
}

#[test]
fn rack_waits_a_reordering_window_before_marking_a_loss() {
    let mut s = ten_in_flight(true, true);
    // Segment 2 is SACKed first (segment 1 is late, maybe reordered).
    s.now = ms(200);
    s.ack(1, &[(1 + MSS, 1 + 2 * MSS)]);
    assert!(
        offsets(&s.drain()).iter().all(|&o| o > 10 * MSS),
        "no retransmission yet"
    );
    // min RTT 100 ms: the window is 25 ms after RTT + send time.
    assert_eq!(s.conn.poll_timeout(), Some(ms(225)));
    let out = s.advance_to(ms(230));
    let retransmitted: Vec<_> = out
        .iter()
        .filter(|(_, seg)| Script::offset(seg) == 1)
        .collect();
    assert_eq!(
        retransmitted.len(),
        1,
        "RACK marks segment 1 lost at 225 ms"
    );
    assert_eq!(retransmitted[0].0, ms(225));
    assert_eq!(s.conn.stats().rack_losses, 1);
}

#[test]
fn rack_learns_reordering_when_the_late_segment_arrives() {
    let mut s = ten_in_flight(true, true);
    s.now = ms(200);
    s.ack(1, &[(1 + MSS, 1 + 2 * MSS)]);
    s.drain();
    // The original segment 1 arrives before the window ends: no loss.
    s.now = ms(210);
    s.ack(1 + 2 * MSS, &[]);
    assert!(offsets(&s.drain()).iter().all(|&o| o > 10 * MSS));
    s.advance_to(ms(300));
    assert_eq!(s.conn.stats().rack_losses, 0);
    assert_eq!(s.conn.stats().retransmitted_segments, 0);
}

#[test]
fn tail_loss_probe_fires_after_two_rtts_and_rack_repairs_the_tail() {
    let mut s = Script::established(simple(true, true), ms(100));
    assert_eq!(s.send(10 * MSS as usize).len(), 10);
    // The last two segments are lost; ACKs cover the rest at 200 ms.
    s.now = ms(200);
    s.ack(1 + 8 * MSS, &[]);
    assert!(s.drain().is_empty(), "nothing new to send");
    // Nothing more arrives. The probe goes out 2·SRTT = 200 ms after the
    // last ACK and, with no new data, retransmits the last segment.
    assert_eq!(s.conn.poll_timeout(), Some(ms(400)));
    let out = s.advance_to(ms(400));
    assert_eq!(out.len(), 1, "one probe");
    assert_eq!(out[0].0, ms(400));
    assert_eq!(Script::offset(&out[0].1), 1 + 9 * MSS);
    assert_eq!(s.conn.stats().tlp_probes, 1);
    // The probe's ACK SACKs it: RACK marks segment 9 lost and repairs it.
    s.now = ms(500);
    s.ack(1 + 8 * MSS, &[(1 + 9 * MSS, 1 + 10 * MSS)]);
    assert_eq!(offsets(&s.drain()), vec![1 + 8 * MSS]);
    assert_eq!(s.conn.stats().rack_losses, 1);
    assert_eq!(s.conn.stats().rtos, 0);
}

#[test]
fn probe_timeout_waits_for_a_delayed_ack_with_one_segment_in_flight() {
    let mut s = Script::established(simple(true, true), ms(100));
    assert_eq!(s.send(500), vec![1]);
    // PTO = 2·SRTT + 200 ms of worst-case delayed ACK.
    assert_eq!(s.conn.poll_timeout(), Some(ms(100 + 200 + 200)));
}

#[test]
fn rto_backs_off_and_karn_ignores_retransmitted_samples() {
    let mut s = Script::established(simple(false, false), ms(100));
    assert_eq!(s.conn.rto(), ms(1000), "ns3 minimum RTO");
    assert_eq!(s.send(500), vec![1]);
    let mut times = Vec::new();
    for (t, seg) in s.advance_to(ms(7_200)) {
        assert_eq!(Script::offset(&seg), 1);
        times.push(t);
    }
    assert_eq!(
        times,
        vec![ms(1_100), ms(3_100), ms(7_100)],
        "1 s, 2 s, 4 s"
    );
    assert_eq!(s.conn.stats().rtos, 3);
    let samples = s.conn.stats().rtt_samples;
    // The ACK of a retransmitted segment gives no sample; the backoff stays.
    s.now = ms(7_150);
    s.ack(501, &[]);
    assert_eq!(s.conn.stats().rtt_samples, samples);
    assert_eq!(s.conn.rto(), ms(8_000));
    assert_eq!(s.conn.srtt(), Some(ms(100)));
    // A segment sent once gives a sample, which clears the backoff.
    assert_eq!(s.send(500), vec![501]);
    s.now = ms(7_250);
    s.ack(1001, &[]);
    assert_eq!(s.conn.stats().rtt_samples, samples + 1);
    assert_eq!(s.conn.rto(), ms(1_000));
}

#[test]
fn timeout_retransmits_in_slow_start_from_one_segment() {
    let mut s = ten_in_flight(true, false);
    let out = s.advance_to(ms(1_100));
    assert_eq!(
        offsets(&out.into_iter().map(|(_, seg)| seg).collect::<Vec<_>>()),
        vec![1]
    );
    assert_eq!(s.conn.cwnd(), MSS);
    assert_eq!(s.conn.ssthresh(), 5 * MSS);
    // The ACK of the retransmission lets two more lost segments go.
    s.now = ms(1_200);
    s.ack(1 + MSS, &[]);
    assert_eq!(offsets(&s.drain()), vec![1 + MSS, 1 + 2 * MSS]);
}

#[test]
fn timestamps_reveal_a_spurious_timeout() {
    let config = crate::net::tcp::TcpConfig {
        timestamps: true,
        ..simple(true, false)
    };
    let mut s = Script::established(config, ms(100));
    s.conn.send(&[1; 500]);
    let original = s.drain();
    let tsval = original[0]
        .header
        .options
        .timestamps
        .expect("negotiated")
        .value;
    let out = s.advance_to(ms(1_150));
    assert_eq!(out.len(), 1, "the timer fires at 1.1 s");
    assert_eq!(s.conn.stats().rtos, 1);
    // The ACK echoes the original's TSval: it answers the first
    // transmission, so the timeout was spurious.
    let mut ack = s.header(501);
    ack.options.timestamps = Some(crate::net::tcp::wire::Timestamps {
        value: 2,
        echo: tsval,
    });
    s.feed(ack, &[]);
    assert_eq!(s.conn.stats().spurious_rtos, 1);
    assert_eq!(s.conn.send_queue(), 0);
}

#[test]
fn the_congestion_series_records_each_change() {
    let mut s = ten_in_flight(true, false);
    s.now = ms(200);
    s.ack(1 + 10 * MSS, &[]);
    let series = s.conn.series();
    let last = series.last().expect("a sample per ACK");
    assert_eq!(last.at, ms(200));
    assert_eq!(last.cwnd, 20 * MSS);
    assert_eq!(last.srtt, Some(ms(100)));
}
