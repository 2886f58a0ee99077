//! The RTT estimator and retransmission timeout (RFC 6298).
//!
//! Samples come from segments sent once (Karn's rule) or from timestamp
//! echoes (RFC 7323), which name the transmission they answer. Each timeout
//! doubles the RTO up to the maximum; the backoff stays until an RTT sample
//! from new data clears it. The minimum RTT over the connection is kept for
//! RACK's reordering window.

use std::time::Duration;

use super::config::RtoFormula;

/// Clock granularity `G` of RFC 6298 (the simulated clock is exact; 1 ms
/// keeps the variance term from vanishing on a constant-delay path).
const GRANULARITY: Duration = Duration::from_millis(1);

/// Smoothed RTT, its variance, and the timeout they give.
#[derive(Clone, Debug)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    latest: Duration,
    min: Option<Duration>,
    initial_rto: Duration,
    min_rto: Duration,
    max_rto: Duration,
    formula: RtoFormula,
    backoff: u32,
}

impl RttEstimator {
    /// An estimator with no samples yet.
    pub fn new(
        initial_rto: Duration,
        min_rto: Duration,
        max_rto: Duration,
        formula: RtoFormula,
    ) -> RttEstimator {
        RttEstimator {
            srtt: None,
            rttvar: Duration::ZERO,
            latest: Duration::ZERO,
            min: None,
            initial_rto,
            min_rto,
            max_rto: max_rto.max(min_rto),
            formula,
            backoff: 0,
        }
    }

    /// Takes one RTT sample; clears the backoff (RFC 6298 §5.7).
    pub fn on_sample(&mut self, rtt: Duration) {
        self.latest = rtt;
        self.min = Some(self.min.map_or(rtt, |m| m.min(rtt)));
        self.backoff = 0;
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = rtt / 2;
            }
            Some(srtt) => {
                // rttvar ← 3/4·rttvar + 1/4·|srtt − R|; srtt ← 7/8·srtt + 1/8·R.
                let delta = srtt.abs_diff(rtt);
                self.rttvar = (self.rttvar * 3 + delta) / 4;
                self.srtt = Some((srtt * 7 + rtt) / 8);
            }
        }
    }

    /// Doubles the timeout after it expired.
    pub fn on_timeout(&mut self) {
        self.backoff = self.backoff.saturating_add(1);
    }

    /// How many timeouts in a row the current RTO reflects.
    pub fn backoff(&self) -> u32 {
        self.backoff
    }

    /// The timeout before backoff.
    fn base_rto(&self) -> Duration {
        let Some(srtt) = self.srtt else {
            return self.initial_rto;
        };
        let var = (self.rttvar * 4).max(GRANULARITY);
        match self.formula {
            RtoFormula::Rfc6298 => (srtt + var).max(self.min_rto),
            RtoFormula::Linux => srtt + var.max(self.min_rto),
        }
    }

    /// The retransmission timeout, backoff included, within the bounds.
    pub fn rto(&self) -> Duration {
        let base = self.base_rto().min(self.max_rto);
        let factor = 1u32.checked_shl(self.backoff.min(31)).unwrap_or(u32::MAX);
        base.saturating_mul(factor).min(self.max_rto)
    }

    /// The smoothed RTT, if any sample was taken.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// The latest sample.
    pub fn latest(&self) -> Duration {
        self.latest
    }

    /// The smallest sample seen.
    pub fn min_rtt(&self) -> Option<Duration> {
        self.min
    }

    /// The RTT variance.
    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn estimator(formula: RtoFormula) -> RttEstimator {
        RttEstimator::new(1000 * MS, 200 * MS, 60_000 * MS, formula)
    }

    #[test]
    fn follows_rfc_6298() {
        let mut rtt = estimator(RtoFormula::Rfc6298);
        assert_eq!(rtt.rto(), 1000 * MS);
        rtt.on_sample(100 * MS);
        // srtt 100, rttvar 50: 100 + 200.
        assert_eq!(rtt.rto(), 300 * MS);
        rtt.on_sample(100 * MS);
        // rttvar 37.5: 100 + 150 = 250.
        assert_eq!(rtt.rto(), 250 * MS);
        for _ in 0..50 {
            rtt.on_sample(100 * MS);
        }
        assert_eq!(rtt.rto(), 200 * MS, "the minimum holds");
    }

    #[test]
    fn linux_adds_the_minimum_to_srtt() {
        let mut rtt = estimator(RtoFormula::Linux);
        for _ in 0..50 {
            rtt.on_sample(100 * MS);
        }
        assert_eq!(rtt.rto(), 300 * MS);
    }

    #[test]
    fn backoff_doubles_to_the_cap_and_a_sample_clears_it() {
        let mut rtt = estimator(RtoFormula::Rfc6298);
        for expected in [2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000] {
            rtt.on_timeout();
            assert_eq!(rtt.rto(), expected * MS);
        }
        for _ in 0..40 {
            rtt.on_timeout();
        }
        assert_eq!(rtt.rto(), 60_000 * MS, "no overflow");
        rtt.on_sample(100 * MS);
        assert_eq!(rtt.backoff(), 0);
        assert_eq!(rtt.rto(), 300 * MS);
    }
}
