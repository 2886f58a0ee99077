//! CUBIC (RFC 9438): window growth as a cubic function of the time since the
//! last congestion event, with fast convergence and, as an option, never
//! slower than Reno would grow (the "Reno-friendly" region).
//!
//! The arithmetic is the one Linux and ns-3 share: windows in whole
//! segments, the target `W_max + C·(t − K)³` with `t` counted from the start
//! of the epoch plus the minimum RTT, and growth by one segment every `cnt`
//! acknowledged segments, where `cnt = cwnd / (target − cwnd)` (at least 2,
//! so at most 1.5× per RTT; `100·cwnd` when the target is not above the
//! window; at most 20 while no `W_max` is known). A timeout forgets `W_max`.

use std::time::Duration;

use super::{AckSample, CongestionControl, Growth, Window};

/// β_cubic: the window after a congestion event is 0.7 of the one before.
const BETA: f64 = 0.7;
/// C: the aggressiveness of the cubic function, in segments per second³.
const C: f64 = 0.4;
/// `cnt` while no `W_max` is known (before the first loss, after a timeout).
const CNT_CLAMP: u64 = 20;

/// One congestion-avoidance epoch.
#[derive(Clone, Copy, Debug)]
struct Epoch {
    start: Duration,
    /// K: seconds until the cubic function is back at its origin.
    k: f64,
    /// The window the cubic function is centred on, in segments.
    origin: u64,
}

/// CUBIC congestion control.
#[derive(Clone, Debug)]
pub struct Cubic {
    w: Window,
    /// Window before the last reduction, in segments; 0 when unknown.
    w_max: u64,
    epoch: Option<Epoch>,
    /// Bytes acknowledged in congestion avoidance and not yet paid out as
    /// growth (the credit).
    acked_bytes: u64,
    /// The Reno-friendly window estimate in segments, when enabled.
    w_est: Option<f64>,
    reno_friendly: bool,
    keep_credit: bool,
    growth: Growth,
}

/// The settings that tell the references' CUBIC apart.
#[derive(Clone, Copy, Debug)]
pub struct CubicOptions {
    /// RFC 9438's Reno-friendly region (Linux; ns-3 3.37 has none).
    pub reno_friendly: bool,
    /// ns-3's growth credit: kept across changes of `cnt` and congestion
    /// events, paid out one segment per ACK. Off, as Linux: credit beyond
    /// `cnt` earns one segment and is dropped, a congestion event clears it.
    pub keep_credit: bool,
}

impl Cubic {
    /// CUBIC with an initial window of `initial` bytes.
    pub fn new(mss: u64, initial: u64, growth: Growth, options: CubicOptions) -> Cubic {
        Cubic {
            w: Window::new(mss, initial),
            w_max: 0,
            epoch: None,
            acked_bytes: 0,
            w_est: None,
            reno_friendly: options.reno_friendly,
            keep_credit: options.keep_credit,
            growth,
        }
    }

    /// Acknowledged segments per one-segment increase of `cwnd`.
    fn cnt(&mut self, ack: &AckSample, acked_segments: f64) -> u64 {
        let cwnd = self.w.cwnd / self.w.mss;
        let w_max = self.w_max;
        let epoch = *self.epoch.get_or_insert_with(|| {
            if w_max <= cwnd {
                Epoch {
                    start: ack.now,
                    k: 0.0,
                    origin: cwnd,
                }
            } else {
                Epoch {
                    start: ack.now,
                    k: ((w_max - cwnd) as f64 / C).cbrt(),
                    origin: w_max,
                }
            }
        });
        let rtt = ack
            .min_rtt
            .or(ack.srtt)
            .unwrap_or(Duration::from_millis(100));
        let t = (ack.now.saturating_sub(epoch.start) + rtt).as_secs_f64();
        // Float to integer truncates, as in both references.
        let delta = (C * (t - epoch.k).abs().powi(3)) as u64;
        let target = if t < epoch.k {
            epoch.origin.saturating_sub(delta)
        } else {
            epoch.origin.saturating_add(delta)
        };
        let mut cnt = if target > cwnd {
            cwnd / (target - cwnd)
        } else {
            100 * cwnd.max(1)
        };
        if self.w_max == 0 {
            cnt = cnt.min(CNT_CLAMP);
        }
        if self.reno_friendly {
            // α_cubic = 3·(1 − β)/(1 + β) segments per window.
            let alpha = 3.0 * (1.0 - BETA) / (1.0 + BETA);
            let cwnd = cwnd.max(1) as f64;
            let w_est = self.w_est.get_or_insert(cwnd);
            *w_est += alpha * acked_segments / cwnd;
            if *w_est > cwnd {
                cnt = cnt.min((cwnd / (*w_est - cwnd)) as u64);
            }
        }
        cnt.max(2)
    }

    fn congestion_avoidance(&mut self, ack: &AckSample, acked: u64) {
        let mss = self.w.mss;
        let per_segment = self.cnt(ack, acked as f64 / mss as f64) * mss;
        // What was counted toward a larger `cnt` earns one segment, not a
        // burst (as Linux's tcp_cong_avoid_ai).
        if self.keep_credit {
            // ns-3: credit is never dropped; at most one segment per ACK.
            self.acked_bytes += acked;
            if self.acked_bytes >= per_segment {
                self.acked_bytes -= per_segment;
                self.w.cwnd += mss;
            }
            return;
        }
        // Linux: what was counted toward a larger `cnt` earns one segment,
        // not a burst; then as many segments as the credit pays for.
        if self.acked_bytes >= per_segment {
            self.acked_bytes = 0;
            self.w.cwnd += mss;
        }
        self.acked_bytes += acked;
        if self.acked_bytes >= per_segment {
            let segments = self.acked_bytes / per_segment;
            self.acked_bytes -= segments * per_segment;
            self.w.cwnd += segments * mss;
        }
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
        let cwnd = self.w.cwnd / self.w.mss;
        // Fast convergence: give up bandwidth to newer flows when the window
        // did not recover to its last maximum.
        self.w_max = if cwnd < self.w_max {
            (cwnd as f64 * (1.0 + BETA) / 2.0) as u64
        } else {
            cwnd
        };
        let reduced = (cwnd as f64 * BETA) as u64;
        self.w.ssthresh = reduced.max(2) * self.w.mss;
        self.epoch = None;
        self.w_est = None;
        if !self.keep_credit {
            self.acked_bytes = 0;
        }
    }

    fn on_timeout(&mut self, _now: Duration) {
        self.w.cwnd = self.w.mss;
        self.w_max = 0;
        self.epoch = None;
        self.w_est = None;
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
            min_rtt: Some(Duration::from_millis(100)),
            snd_una: 0,
            snd_max: 0,
        }
    }

    fn options(reno_friendly: bool, keep_credit: bool) -> CubicOptions {
        CubicOptions {
            reno_friendly,
            keep_credit,
        }
    }

    fn cubic(reno_friendly: bool) -> Cubic {
        let growth = Growth {
            byte_counting: true,
            ..Growth::default()
        };
        Cubic::new(1000, 100_000, growth, options(reno_friendly, false))
    }

    /// Feeds ACKs of `per_ack` bytes every 10 ms from `from` to `to` ms.
    fn feed(cubic: &mut Cubic, from: u64, to: u64, per_ack: u64) {
        let mut now = from;
        while now < to {
            cubic.on_ack(&ack(now, per_ack));
            now += 10;
        }
    }

    #[test]
    fn reduces_by_beta_and_regrows_to_w_max_after_k() {
        let mut cubic = cubic(false);
        cubic.on_congestion(Duration::ZERO, 100_000);
        cubic.on_recovery_end(Duration::ZERO);
        assert_eq!(cubic.cwnd(), 70_000);
        // K = cbrt((100 − 70) / 0.4) ≈ 4.2 s: the window is back at W_max
        // then. ACKs cover ten segments every 10 ms (a 100 ms RTT).
        feed(&mut cubic, 0, 4_200, 10_000);
        let w = cubic.cwnd() as f64 / 1000.0;
        assert!((95.0..=101.0).contains(&w), "{w}");
        // Concave below W_max, convex above: growth speeds up after K.
        let before = cubic.cwnd();
        feed(&mut cubic, 4_200, 7_200, 10_000);
        assert!(cubic.cwnd() > before + 8000, "{before} {}", cubic.cwnd());
    }

    #[test]
    fn fast_convergence_lowers_w_max() {
        let mut cubic = cubic(false);
        cubic.on_congestion(Duration::ZERO, 100_000);
        cubic.on_recovery_end(Duration::ZERO);
        cubic.on_congestion(Duration::ZERO, 70_000);
        assert_eq!(cubic.w_max, 59, "70 · 1.7 / 2, in whole segments");
        assert_eq!(cubic.ssthresh(), 49_000);
    }

    #[test]
    fn reno_friendly_region_grows_small_windows_faster() {
        // A small window right after a loss: the cubic function is flat for
        // seconds, Reno's estimate grows by about half a segment per RTT.
        let mut grown = [0; 2];
        for (i, friendly) in [false, true].into_iter().enumerate() {
            let mut cubic = Cubic::new(
                1000,
                20_000,
                Growth {
                    byte_counting: true,
                    ..Growth::default()
                },
                options(friendly, false),
            );
            cubic.on_congestion(Duration::ZERO, 20_000);
            cubic.on_recovery_end(Duration::ZERO);
            // Two segments per ACK, a window's worth every 100 ms, 1 s.
            let per_ack = 2 * cubic.cwnd() / 10;
            feed(&mut cubic, 0, 1_000, per_ack);
            grown[i] = cubic.cwnd() - 14_000;
        }
        assert!(grown[1] >= grown[0] + 2000, "{grown:?}");
    }

    #[test]
    fn kept_credit_follows_the_target_closer() {
        // At W_max the target stays flat for about 1.3 s (until
        // 0.4·t³ ≥ 1): ACKs only build credit. Kept credit then pays out a
        // segment as soon as the target moves up; Linux's drops the excess
        // and lags behind.
        let mut grown = [0; 2];
        for (i, keep) in [false, true].into_iter().enumerate() {
            let growth = Growth {
                byte_counting: true,
                ..Growth::default()
            };
            let mut cubic = Cubic::new(1000, 100_000, growth, options(false, keep));
            cubic.on_congestion(Duration::ZERO, 100_000);
            cubic.set_cwnd(100_000);
            feed(&mut cubic, 0, 1_250, 2000);
            assert_eq!(cubic.cwnd(), 100_000, "the target is flat");
            feed(&mut cubic, 1_250, 2_000, 2000);
            grown[i] = cubic.cwnd() - 100_000;
        }
        assert!(grown[1] > grown[0], "{grown:?}");
    }

    #[test]
    fn timeout_forgets_w_max() {
        let mut cubic = cubic(false);
        cubic.on_congestion(Duration::ZERO, 100_000);
        cubic.on_timeout(Duration::ZERO);
        assert_eq!((cubic.cwnd(), cubic.ssthresh()), (1000, 70_000));
        assert_eq!(cubic.w_max, 0);
        // Without W_max, congestion avoidance grows at least one segment
        // per 20 acknowledged.
        cubic.set_cwnd(70_000);
        feed(&mut cubic, 0, 100, 7_000);
        assert!(cubic.cwnd() >= 73_000, "{}", cubic.cwnd());
    }
}
