//! The SACK scoreboard: marking, `pipe`, and RFC 6675's IsLost rule.

use std::time::Duration;

use crate::net::tcp::scoreboard::Scoreboard;

const MSS: u64 = 1000;

/// Ten 1000-byte segments from offset 1, sent at 1 ms intervals.
fn ten() -> Scoreboard {
    let mut board = Scoreboard::default();
    for i in 0..10 {
        board.push(
            1 + i * MSS,
            1 + (i + 1) * MSS,
            false,
            Duration::from_millis(i),
        );
    }
    board
}

/// Segment `n` (1-based) as `[start, end)`.
fn seg(n: u64) -> (u64, u64) {
    (1 + (n - 1) * MSS, 1 + n * MSS)
}

fn lost(board: &Scoreboard) -> Vec<u64> {
    board
        .iter()
        .filter(|s| s.lost)
        .map(|s| (s.start - 1) / MSS + 1)
        .collect()
}

#[test]
fn sack_blocks_mark_whole_segments_and_update_pipe() {
    let mut board = ten();
    assert_eq!(board.pipe(), 10 * MSS);
    let (l, r) = (seg(3).0, seg(4).1);
    let d = board.sack(l, r);
    assert_eq!(d.bytes, 2 * MSS);
    assert_eq!(d.newest.map(|n| n.1), Some(seg(4).1));
    assert_eq!(board.pipe(), 8 * MSS);
    // The same block again delivers nothing new.
    assert_eq!(board.sack(l, r).bytes, 0);
    // A block covering half a segment marks nothing.
    assert_eq!(board.sack(seg(6).0, seg(6).0 + 500).bytes, 0);
    board.check();
    // The cumulative ACK passes the SACKed segments without counting them
    // twice, and trims a partly acknowledged segment.
    let d = board.ack(seg(5).0 + 300);
    assert_eq!(d.bytes, 2 * MSS + 300);
    assert_eq!(board.outstanding(), 5 * MSS + 700);
    assert_eq!(board.sacked_bytes(), 0);
    board.check();
}

#[test]
fn is_lost_needs_three_sacked_segments_above() {
    let mut board = ten();
    board.sack(seg(4).0, seg(4).1);
    board.sack(seg(6).0, seg(6).1);
    assert_eq!(
        board.mark_lost_by_sacks(3, MSS),
        0,
        "two SACKed segments: no loss"
    );
    board.sack(seg(8).0, seg(8).1);
    board.mark_lost_by_sacks(3, MSS);
    // 1–3 lie below three SACKed segments; 5 and 7 below only two or one;
    // 9 and 10 above every SACK.
    assert_eq!(lost(&board), vec![1, 2, 3]);
    assert_eq!(board.pipe(), 10 * MSS - 3 * MSS - 3 * MSS);
    board.check();
    // More SACKs above: 5 now has 6, 8, 9 above it.
    board.sack(seg(9).0, seg(9).1);
    board.mark_lost_by_sacks(3, MSS);
    assert_eq!(lost(&board), vec![1, 2, 3, 5]);
    // A retransmission puts a segment back in the pipe and out of "lost".
    board.retransmitted(seg(1).0, Duration::from_millis(50));
    assert_eq!(lost(&board), vec![2, 3, 5]);
    assert_eq!(board.next_lost().map(|s| s.start), Some(seg(2).0));
    board.check();
}

#[test]
fn is_lost_counts_bytes_beyond_dup_thresh_minus_one_segments() {
    // Two large SACKed segments (1500 bytes each) exceed 2·SMSS.
    let mut board = Scoreboard::default();
    let mut at = 1;
    for len in [1000, 1500, 1500] {
        board.push(at, at + len, false, Duration::ZERO);
        at += len;
    }
    board.sack(1001, at);
    assert_eq!(board.mark_lost_by_sacks(3, MSS), 1000);
    assert_eq!(board.lost_bytes(), 1000);
    board.check();
}

#[test]
fn retransmitted_segments_are_left_to_rack_and_the_timer() {
    let mut board = ten();
    board.retransmitted(seg(1).0, Duration::from_millis(20));
    for n in 2..=4 {
        board.sack(seg(n).0, seg(n).1);
    }
    assert_eq!(board.mark_lost_by_sacks(3, MSS), 0);
    // After a timeout every segment not SACKed is lost.
    assert_eq!(board.mark_all_lost(), 7 * MSS);
    assert_eq!(board.pipe(), 0);
    board.check();
}

#[test]
fn delivered_reports_karn_samples_only_for_single_transmissions() {
    let mut board = ten();
    board.retransmitted(seg(2).0, Duration::from_millis(30));
    let d = board.ack(seg(2).1);
    assert_eq!(d.karn_sample, Some(Duration::from_millis(0)));
    assert!(d.retransmitted);
    assert_eq!(d.newest, Some((Duration::from_millis(30), seg(2).1, true)));
    assert_eq!(d.lowest_original_end, Some(seg(1).1));
}

#[test]
fn marking_by_send_time_sees_retransmissions_beyond_originals() {
    let mut board = ten();
    // Segment 7 was retransmitted at 5 ms, after segments 1–6 went out.
    board.retransmitted(seg(7).0, Duration::from_millis(5));
    let mut seen = Vec::new();
    board.mark_lost_sent_before((Duration::from_millis(5), seg(7).1), |s| {
        seen.push((s.start - 1) / MSS + 1);
        false
    });
    // 1–6 (sent at 0–5 ms) and 7's retransmission qualify; 8–10 (7–9 ms)
    // do not, and the walk stops at them.
    assert_eq!(seen, vec![1, 2, 3, 4, 5, 6, 7]);
    let (bytes, count) =
        board.mark_lost_sent_before((Duration::from_millis(2), seg(3).1), |_| true);
    assert_eq!((bytes, count), (3 * MSS, 3));
    assert_eq!(lost(&board), vec![1, 2, 3]);
    board.check();
}
