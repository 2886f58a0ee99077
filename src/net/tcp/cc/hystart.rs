//! HyStart++ (RFC 9406): leave slow start when the RTT starts to grow,
//! through a conservative phase that undoes the exit if the RTT falls back.
//!
//! Rounds are delimited by send offsets: a round ends when the cumulative
//! ACK passes the highest offset sent when it started.

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
        if let Some(rtt) = ack.rtt {
            self.round_min = Some(self.round_min.map_or(rtt, |m| m.min(rtt)));
            self.samples += 1;
        }
        let (Some(last), Some(current)) = (self.last_round_min, self.round_min) else {
            return self.phase();
        };
        if self.samples < N_RTT_SAMPLE {
            return self.phase();
        }
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
    fn falling_rtt_resumes_slow_start() {
        let mut h = HyStart::default();
        round(&mut h, 0, 100);
        assert_eq!(round(&mut h, 8, 120), Phase::Conservative);
        assert_eq!(round(&mut h, 16, 110), Phase::SlowStart);
    }
}
