//! Mahimahi-style capacity traces: a list of millisecond timestamps, each a
//! delivery opportunity for `TRACE_OPPORTUNITY_BYTES` bytes.
//!
//! Invariants: timestamps are non-decreasing, non-empty, and the last one
//! (the period) is positive. The trace repeats forever: opportunity `g`
//! happens at `(g / n) * period + times[g % n]` ms after the trace origin,
//! so global indices are strictly ordered by (non-decreasing) time.

use std::fmt;
use std::time::Duration;

use super::error::LinkError;

/// Bytes one delivery opportunity can carry (Mahimahi's MTU-sized slot).
pub const TRACE_OPPORTUNITY_BYTES: usize = 1500;

/// A delivery-opportunity trace (one millisecond timestamp per opportunity).
#[derive(Clone, PartialEq, Eq)]
pub struct Trace {
    times_ms: Vec<u64>,
}

impl fmt::Debug for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trace")
            .field("opportunities", &self.times_ms.len())
            .field("period_ms", &self.period_ms())
            .finish()
    }
}

impl Trace {
    /// Parses Mahimahi trace text: one integer millisecond timestamp per
    /// line; blank lines and lines starting with `#` are skipped.
    pub fn parse(text: &str) -> Result<Trace, LinkError> {
        let mut times = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let value = line.parse::<u64>().map_err(|_| LinkError::TraceLine {
                line: index + 1,
                text: line.to_string(),
            })?;
            if let Some(&previous) = times.last() {
                if value < previous {
                    return Err(LinkError::TraceOrder {
                        line: index + 1,
                        value,
                        previous,
                    });
                }
            }
            times.push(value);
        }
        Trace::from_millis(times)
    }

    /// Builds a trace from timestamps in ms (non-decreasing, last one positive).
    pub fn from_millis(times_ms: Vec<u64>) -> Result<Trace, LinkError> {
        for (i, pair) in times_ms.windows(2).enumerate() {
            if pair[1] < pair[0] {
                return Err(LinkError::TraceOrder {
                    line: i + 2,
                    value: pair[1],
                    previous: pair[0],
                });
            }
        }
        match times_ms.last() {
            None => Err(LinkError::TraceEmpty),
            Some(0) => Err(LinkError::TraceZeroPeriod),
            Some(_) => Ok(Trace { times_ms }),
        }
    }

    /// Returns the timestamps in ms.
    pub fn times_ms(&self) -> &[u64] {
        &self.times_ms
    }

    /// Returns the number of opportunities per period.
    pub fn opportunities(&self) -> usize {
        self.times_ms.len()
    }

    /// Returns the period (the last timestamp) in ms.
    pub fn period_ms(&self) -> u64 {
        self.times_ms.last().copied().unwrap_or(0)
    }

    /// Returns the period as a `Duration`.
    pub fn period(&self) -> Duration {
        Duration::from_millis(self.period_ms())
    }

    /// Returns the average capacity in bits per second.
    pub fn mean_bits_per_sec(&self) -> f64 {
        let bits = (self.opportunities() * TRACE_OPPORTUNITY_BYTES * 8) as f64;
        bits * 1000.0 / self.period_ms() as f64
    }

    /// Returns the time of global opportunity `g`, relative to the trace origin.
    pub(super) fn time_of(&self, g: u64) -> Duration {
        let n = self.times_ms.len() as u64;
        let ms = (g / n)
            .saturating_mul(self.period_ms())
            .saturating_add(self.times_ms[(g % n) as usize]);
        Duration::from_millis(ms)
    }

    /// Returns the first global opportunity strictly after `rel` (relative
    /// to the trace origin).
    pub(super) fn first_after(&self, rel: Duration) -> u64 {
        let n = self.times_ms.len() as u64;
        let period_ns = u128::from(self.period_ms()) * 1_000_000;
        let cycle = rel.as_nanos() / period_ns;
        let offset = rel.as_nanos() - cycle * period_ns;
        let i = self
            .times_ms
            .partition_point(|&t| u128::from(t) * 1_000_000 <= offset) as u64;
        let cycle = u64::try_from(cycle).unwrap_or(u64::MAX / n - 1);
        cycle.saturating_mul(n).saturating_add(i)
    }
}
