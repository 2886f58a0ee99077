//! HyStart++ (RFC 9406): leave slow start when the RTT starts to grow,
//! through a conservative phase that undoes the exit if the RTT falls back.
//!
//! Rounds are delimited by send offsets: a round ends when the cumulative
//! ACK passes the highest offset sent when it started. A round is judged on
//! its first `N_RTT_SAMPLE` RTT samples only, as Linux's HyStart samples:
//! without pacing, slow start sends in flights, and a round's later ACKs
//! belong to the next flight, which starts on an empty queue. Taking their
//! minimum (RFC 9406 read literally) undid every conservative phase in the
//! round that entered it, so slow start ran on until the queue overflowed
//! (on 20 Mbit/s, 100 ms, a queue of one BDP: a window of 559 segments
//! where path and queue hold 332, 231 drops).

use std::time::Duration;

use super::AckSample;

/// RTT samples a round needs before it is compared (N_RTT_SAMPLE).
const N_RTT_SAMPLE: u32 = 8;
/// Bounds of the RTT increase that ends slow start.
const MIN_RTT_THRESH: Duration = Duration::from_millis(4);
const MAX_RTT_THRESH: Duration = Duration::from_millis(16);
/// Rounds of conservative slow start before congestion avoidance.
const CSS_ROUNDS: u32 = 5;
/// Growth in conservative slow start is divided by this.
pub const CSS_GROWTH_DIVISOR: u64 = 4;

/// What slow start should do after an ACK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Grow as usual.
    SlowStart,
    /// Grow at a quarter of the usual rate.
    Conservative,
    /// Leave slow start: `ssthresh` becomes `cwnd`.
    Exit,
}

/// HyStart++ state of one sender.
#[derive(Clone, Debug, Default)]
pub struct HyStart {
    round_end: u64,
    last_round_min: Option<Duration>,
    round_min: Option<Duration>,
    samples: u32,
    css_baseline: Option<Duration>,
    css_rounds: u32,
}

impl HyStart {
    /// Takes one ACK in slow start and says what to do.
    pub fn on_ack(&mut self, ack: &AckSample) -> Phase {
        if ack.snd_una >= self.round_end {
            self.last_round_min = self.round_min.take();
            self.samples = 0;
            self.round_end = ack.snd_max;
            if self.css_baseline.is_some() {
                self.css_rounds += 1;
                if self.css_rounds >= CSS_ROUNDS {
                    *self = HyStart::default();
                    return Phase::Exit;
                }
            }
        }
        // Only a round's first samples count, and the round is judged once.
        let Some(rtt) = ack.rtt.filter(|_| self.samples < N_RTT_SAMPLE) else {
            return self.phase();
        };
        self.round_min = Some(self.round_min.map_or(rtt, |m| m.min(rtt)));
        self.samples += 1;
        if self.samples < N_RTT_SAMPLE {
            return self.phase();
        }
        let (Some(last), Some(current)) = (self.last_round_min, self.round_min) else {
            return self.phase();
        };
        match self.css_baseline {
            None => {
                let thresh = (last / 8).clamp(MIN_RTT_THRESH, MAX_RTT_THRESH);
                if current >= last + thresh {
                    self.css_baseline = Some(current);
                    self.css_rounds = 0;
                }
            }
            Some(baseline) if current < baseline => {
                self.css_baseline = None;
                self.css_rounds = 0;
            }
            Some(_) => {}
        }
        self.phase()
    }

    fn phase(&self) -> Phase {
        if self.css_baseline.is_some() {
            Phase::Conservative
        } else {
            Phase::SlowStart
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(snd_una: u64, snd_max: u64, rtt_ms: u64) -> AckSample {
        AckSample {
            now: Duration::ZERO,
            acked: 1000,
            rtt: Some(Duration::from_millis(rtt_ms)),
            srtt: None,
            min_rtt: None,
            snd_una,
            snd_max,
        }
    }

    /// Feeds one round of 8 ACKs with `rtt_ms`, starting at `start`.
    fn round(h: &mut HyStart, start: u64, rtt_ms: u64) -> Phase {
        let mut phase = Phase::SlowStart;
        for i in 0..8 {
            phase = h.on_ack(&ack(start + i, start + 8, rtt_ms));
            if phase == Phase::Exit {
                break;
            }
        }
        phase
    }

    #[test]
    fn rtt_growth_enters_css_then_exits_after_five_rounds() {
        let mut h = HyStart::default();
        assert_eq!(round(&mut h, 0, 100), Phase::SlowStart);
        assert_eq!(
            round(&mut h, 8, 104),
            Phase::SlowStart,
            "below the 12.5 ms threshold"
        );
        assert_eq!(round(&mut h, 16, 120), Phase::Conservative);
        let mut phase = Phase::Conservative;
        let mut start = 24;
        let mut rounds = 0;
        while phase == Phase::Conservative {
            phase = round(&mut h, start, 125);
            start += 8;
            rounds += 1;
        }
        assert_eq!(phase, Phase::Exit);
        assert_eq!(rounds, 5);
    }

    #[test]
    fn later_samples_of_a_round_do_not_undo_its_verdict() {
        let mut h = HyStart::default();
        round(&mut h, 0, 100);
        assert_eq!(round(&mut h, 8, 120), Phase::Conservative);
        // The rest of the round: ACKs of the next flight, on an empty queue.
        for _ in 0..8 {
            assert_eq!(h.on_ack(&ack(15, 16, 100)), Phase::Conservative);
        }
    }

    #[test]
    fn falling_rtt_resumes_slow_start() {
        let mut h = HyStart::default();
        round(&mut h, 0, 100);
        assert_eq!(round(&mut h, 8, 120), Phase::Conservative);
        assert_eq!(round(&mut h, 16, 110), Phase::SlowStart);
    }
}
