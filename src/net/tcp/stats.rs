//! Per-connection counters and a bounded time series of the sender's
//! congestion state, so a recovery can be shown as it happened.
//!
//! Every counter comes from the connection's own decisions (the RTO count
//! is how often its timer fired), never from inference on the wire. The
//! series keeps at most `capacity` samples over the whole connection: when
//! full it drops every other sample and from then on keeps one sample in
//! twice as many, so memory is fixed and the whole run stays covered.

use std::time::Duration;

/// What one connection did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpStats {
    /// Segments sent (all kinds).
    pub segments_sent: u64,
    /// Segments received.
    pub segments_received: u64,
    /// Payload bytes sent for the first time.
    pub bytes_sent: u64,
    /// Segments retransmitted for any reason.
    pub retransmitted_segments: u64,
    /// Payload bytes retransmitted.
    pub retransmitted_bytes: u64,
    /// Retransmissions during fast recovery (loss detected by ACKs).
    pub fast_retransmits: u64,
    /// Fast-recovery episodes (duplicate ACKs, SACK or RACK triggered).
    pub recoveries: u64,
    /// Of those, episodes run with the SACK scoreboard (RFC 6675).
    pub sack_recoveries: u64,
    /// Segments RACK marked lost.
    pub rack_losses: u64,
    /// Tail loss probes sent.
    pub tlp_probes: u64,
    /// Retransmission timeouts: how often the sender's own timer expired
    /// with data outstanding.
    pub rtos: u64,
    /// Timeouts found spurious by the timestamp echo (RFC 3522 detection;
    /// nothing is undone).
    pub spurious_rtos: u64,
    /// D-SACK blocks received.
    pub dsacks_received: u64,
    /// Zero-window probes sent.
    pub zero_window_probes: u64,
    /// RTT samples taken.
    pub rtt_samples: u64,
}

/// One point of the congestion-state time series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// When the sample was taken.
    pub at: Duration,
    /// Congestion window in bytes.
    pub cwnd: u64,
    /// Slow-start threshold in bytes (`u64::MAX` before the first loss).
    pub ssthresh: u64,
    /// Smoothed RTT, if known.
    pub srtt: Option<Duration>,
    /// Bytes in flight (RFC 6675 pipe).
    pub pipe: u64,
}

/// A time series of bounded size.
#[derive(Clone, Debug)]
pub struct Series {
    samples: Vec<Sample>,
    capacity: usize,
    stride: u64,
    offered: u64,
}

impl Series {
    /// An empty series holding at most `capacity` samples (at least 2).
    pub fn new(capacity: usize) -> Series {
        Series {
            samples: Vec::new(),
            capacity: capacity.max(2),
            stride: 1,
            offered: 0,
        }
    }

    /// Offers a sample; keeps one in `stride`, and every sample whose
    /// window is below the last one kept (a congestion event: a timeout or
    /// a recovery), so the series never hides a collapse.
    pub fn record(&mut self, sample: Sample) {
        self.offered += 1;
        let decrease = self.samples.last().is_some_and(|l| sample.cwnd < l.cwnd);
        if !decrease && !(self.offered - 1).is_multiple_of(self.stride) {
            return;
        }
        if self.samples.len() == self.capacity {
            // Halve: keep every other sample and the decreases.
            let mut index = 0usize;
            let mut previous = u64::MAX;
            self.samples.retain(|s| {
                let keep = index.is_multiple_of(2) || s.cwnd < previous;
                previous = s.cwnd;
                index += 1;
                keep
            });
            if self.samples.len() > self.capacity * 3 / 4 {
                // Mostly decreases: halve plainly.
                let mut keep = false;
                self.samples.retain(|_| {
                    keep = !keep;
                    keep
                });
            }
            self.stride *= 2;
            if !decrease && !(self.offered - 1).is_multiple_of(self.stride) {
                return;
            }
        }
        self.samples.push(sample);
    }

    /// The samples, oldest first.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_stays_bounded_and_covers_the_run() {
        let mut series = Series::new(16);
        for i in 0..10_000u64 {
            series.record(Sample {
                at: Duration::from_millis(i),
                cwnd: i,
                ssthresh: 0,
                srtt: None,
                pipe: 0,
            });
        }
        let samples = series.samples();
        assert!(
            samples.len() <= 16 && samples.len() >= 8,
            "{}",
            samples.len()
        );
        assert_eq!(samples[0].cwnd, 0);
        assert!(samples.last().expect("non-empty").cwnd > 5000);
        assert!(samples.windows(2).all(|w| w[0].at < w[1].at));
    }

    #[test]
    fn series_keeps_every_window_decrease_while_it_thins_the_rest() {
        // While decreases are at most a quarter of the capacity, a halving
        // keeps half the capacity plus the decreases: none is ever lost.
        let mut series = Series::new(400);
        // A sawtooth: the window grows for 99 samples, then halves.
        for i in 0..10_000u64 {
            let cwnd = if i % 100 == 99 { 50 } else { 100 + i % 100 };
            series.record(Sample {
                at: Duration::from_millis(i),
                cwnd,
                ssthresh: 0,
                srtt: None,
                pipe: 0,
            });
        }
        let samples = series.samples();
        assert!(samples.len() <= 400, "{}", samples.len());
        let halvings = samples.iter().filter(|s| s.cwnd == 50).count();
        assert_eq!(halvings, 100, "every halving is kept");
    }
}
