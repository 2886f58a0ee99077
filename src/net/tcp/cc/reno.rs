//! Reno's window (RFC 5681): slow start, then one segment per window of
//! acknowledged bytes; half the flight on a congestion event.

use std::time::Duration;

use super::{AckSample, CongestionControl, Growth, Window};

/// Reno / NewReno congestion control.
#[derive(Clone, Debug)]
pub struct Reno {
    w: Window,
    /// Bytes acknowledged in congestion avoidance since `cwnd` last grew.
    acked_in_ca: u64,
    growth: Growth,
}

impl Reno {
    /// Reno with an initial window of `initial` bytes.
    pub fn new(mss: u64, initial: u64, growth: Growth) -> Reno {
        Reno {
            w: Window::new(mss, initial),
            acked_in_ca: 0,
            growth,
        }
    }
}

impl CongestionControl for Reno {
    fn window(&self) -> &Window {
        &self.w
    }

    fn window_mut(&mut self) -> &mut Window {
        &mut self.w
    }

    fn on_ack(&mut self, ack: &AckSample) {
        let w = &mut self.w;
        let mut acked = ack.acked;
        if w.in_slow_start() {
            acked = self.growth.slow_start(w, ack);
        } else {
            acked = self.growth.counted(acked, w.mss);
        }
        if !w.in_slow_start() && acked > 0 {
            self.acked_in_ca += acked;
            if self.acked_in_ca >= w.cwnd {
                self.acked_in_ca -= w.cwnd;
                w.cwnd += w.mss;
            }
        }
    }

    fn on_congestion(&mut self, _now: Duration, flight: u64) {
        self.w.ssthresh = (flight / 2).max(2 * self.w.mss);
        self.acked_in_ca = 0;
    }

    fn name(&self) -> &'static str {
        "reno"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(acked: u64) -> AckSample {
        AckSample {
            now: Duration::ZERO,
            acked,
            rtt: None,
            srtt: None,
            min_rtt: None,
            snd_una: 0,
            snd_max: 0,
        }
    }

    #[test]
    fn slow_start_then_linear_growth() {
        let mut reno = Reno::new(
            1000,
            10_000,
            Growth {
                byte_counting: true,
                ..Growth::default()
            },
        );
        reno.on_ack(&ack(2000));
        assert_eq!(reno.cwnd(), 12_000);
        reno.on_congestion(Duration::ZERO, 12_000);
        reno.on_recovery_end(Duration::ZERO);
        assert_eq!((reno.cwnd(), reno.ssthresh()), (6000, 6000));
        for _ in 0..6 {
            reno.on_ack(&ack(1000));
        }
        assert_eq!(reno.cwnd(), 7000, "one segment per window acknowledged");
        reno.on_congestion(Duration::ZERO, 7000);
        reno.on_timeout(Duration::ZERO);
        assert_eq!((reno.cwnd(), reno.ssthresh()), (1000, 3500));
        reno.on_congestion(Duration::ZERO, 1000);
        assert_eq!(reno.ssthresh(), 2000, "never below two segments");
    }
}
