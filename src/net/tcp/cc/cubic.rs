//! CUBIC (RFC 9438): window growth as a cubic function of the time since the
//! last congestion event, never slower than Reno would grow (the
//! "Reno-friendly" estimate), with fast convergence.

use std::time::Duration;

use super::{AckSample, CongestionControl, Growth, Window};

/// β_cubic: the window after a congestion event is 0.7 of the one before.
const BETA: f64 = 0.7;
/// C: the aggressiveness of the cubic function, in segments per second³.
const C: f64 = 0.4;

/// CUBIC congestion control.
#[derive(Clone, Debug)]
pub struct Cubic {
    w: Window,
    /// Window before the last reduction, in segments.
    w_max: f64,
    /// Start of the current congestion-avoidance epoch and its K in seconds.
    epoch: Option<(Duration, f64)>,
    /// The Reno-friendly window estimate, in segments.
    w_est: f64,
    growth: Growth,
}

impl Cubic {
    /// CUBIC with an initial window of `initial` bytes.
    pub fn new(mss: u64, initial: u64, growth: Growth) -> Cubic {
        Cubic {
            w: Window::new(mss, initial),
            w_max: 0.0,
            epoch: None,
            w_est: 0.0,
            growth,
        }
    }

    fn segments(&self, bytes: u64) -> f64 {
        bytes as f64 / self.w.mss as f64
    }

    fn congestion_avoidance(&mut self, ack: &AckSample, acked: u64) {
        let cwnd = self.segments(self.w.cwnd);
        let (start, k) = *self.epoch.get_or_insert_with(|| {
            self.w_est = cwnd;
            if cwnd < self.w_max {
                (ack.now, ((self.w_max - cwnd) / C).cbrt())
            } else {
                self.w_max = cwnd;
                (ack.now, 0.0)
            }
        });
        let rtt = ack.srtt.unwrap_or(Duration::from_millis(100)).as_secs_f64();
        let t = ack.now.saturating_sub(start).as_secs_f64() + rtt;
        let target = (C * (t - k).powi(3) + self.w_max).clamp(cwnd, 1.5 * cwnd);
        let acked_segments = self.segments(acked);
        // α_cubic = 3·(1 − β)/(1 + β) segments per window.
        let alpha = 3.0 * (1.0 - BETA) / (1.0 + BETA);
        self.w_est += alpha * acked_segments / cwnd;
        let next = if self.w_est > target {
            self.w_est
        } else {
            cwnd + (target - cwnd) * acked_segments / cwnd
        };
        // Float to integer saturates; the window stays at least one segment.
        let bytes = (next * self.w.mss as f64) as u64;
        self.w.cwnd = bytes.max(self.w.cwnd);
    }
}

impl CongestionControl for Cubic {
    fn window(&self) -> &Window {
        &self.w
    }

    fn window_mut(&mut self) -> &mut Window {
        &mut self.w
    }

    fn on_ack(&mut self, ack: &AckSample) {
        let mut acked = ack.acked;
        if self.w.in_slow_start() {
            acked = self.growth.slow_start(&mut self.w, ack);
        } else {
            acked = self.growth.counted(acked, self.w.mss);
        }
        if !self.w.in_slow_start() && acked > 0 {
            self.congestion_avoidance(ack, acked);
        }
    }

    fn on_congestion(&mut self, _now: Duration, _flight: u64) {
        let cwnd = self.segments(self.w.cwnd);
        // Fast convergence: give up bandwidth to newer flows when the window
        // did not recover to its last maximum.
        self.w_max = if cwnd < self.w_max {
            cwnd * (1.0 + BETA) / 2.0
        } else {
            cwnd
        };
        let reduced = (self.w.cwnd as f64 * BETA) as u64;
        self.w.ssthresh = reduced.max(2 * self.w.mss);
        self.epoch = None;
    }

    fn name(&self) -> &'static str {
        "cubic"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(now_ms: u64, acked: u64) -> AckSample {
        AckSample {
            now: Duration::from_millis(now_ms),
            acked,
            rtt: None,
            srtt: Some(Duration::from_millis(100)),
            min_rtt: None,
            snd_una: 0,
            snd_max: 0,
        }
    }

    #[test]
    fn reduces_by_beta_and_regrows_to_w_max_after_k() {
        let mut cubic = Cubic::new(
            1000,
            100_000,
            Growth {
                byte_counting: true,
                ..Growth::default()
            },
        );
        cubic.on_congestion(Duration::ZERO, 100_000);
        cubic.on_recovery_end(Duration::ZERO);
        assert_eq!(cubic.cwnd(), 70_000);
        // K = cbrt((100 − 70) / 0.4) ≈ 4.2 s: the window is back at W_max
        // then. ACKs cover ten segments every 10 ms (a 100 ms RTT).
        let mut now = 0;
        while now < 4_300 {
            cubic.on_ack(&ack(now, 10_000));
            now += 10;
        }
        let w = cubic.cwnd() as f64 / 1000.0;
        assert!((95.0..=106.0).contains(&w), "{w}");
        // Concave below W_max, convex above: growth speeds up after K.
        let before = cubic.cwnd();
        while now < 6_300 {
            cubic.on_ack(&ack(now, 10_000));
            now += 10;
        }
        assert!(cubic.cwnd() > before + 3000, "{before} {}", cubic.cwnd());
    }

    #[test]
    fn fast_convergence_lowers_w_max() {
        let mut cubic = Cubic::new(
            1000,
            100_000,
            Growth {
                byte_counting: true,
                ..Growth::default()
            },
        );
        cubic.on_congestion(Duration::ZERO, 100_000);
        cubic.on_recovery_end(Duration::ZERO);
        cubic.on_congestion(Duration::ZERO, 70_000);
        assert!((cubic.w_max - 70.0 * 1.7 / 2.0).abs() < 1e-9);
        assert_eq!(cubic.ssthresh(), 49_000);
    }
}
