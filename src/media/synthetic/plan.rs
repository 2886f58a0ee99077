//! Frame sizes for the synthetic source: the project's seeded generator
//! ([`crate::rng::SplitMix64`]) and a per-GOP planner whose sizes sum exactly to the bitrate budget.
//!
//! Each GOP gets `gop × bytes_per_frame` bytes. Its I frame weighs
//! `i_to_p_ratio` and each P frame 1, every weight jittered by up to
//! ±[`SIZE_JITTER`], and the weights are scaled so the GOP spends its budget
//! exactly. The planner tracks the running total, so a frame that cannot
//! shrink to its share (its coded picture is bigger) is paid back by the
//! following frames.

/// Relative size jitter of a frame around its nominal size (uniform in
/// ±10 %).
pub(crate) const SIZE_JITTER: f64 = 0.1;

pub(crate) use crate::rng::SplitMix64;

/// Plans video frame sizes in bytes (whole access units).
#[derive(Clone, Debug)]
pub(crate) struct VideoPlan {
    gop: u64,
    ratio: f64,
    bytes_per_frame: f64,
    rng: SplitMix64,
    /// Bytes per unit of weight in the current GOP.
    scale: f64,
    /// Frames planned so far.
    frames: u64,
    /// Sum of the exact (fractional) shares planned so far, in bytes.
    planned: f64,
    /// Bytes actually emitted so far.
    emitted: u64,
}

impl VideoPlan {
    /// A plan for `gop`-frame GOPs (≥ 1) of `bytes_per_frame` bytes on
    /// average, I frames `ratio` times larger than P frames.
    pub(crate) fn new(gop: u32, ratio: f64, bytes_per_frame: f64, seed: u64) -> Self {
        Self {
            gop: gop.max(1).into(),
            ratio,
            bytes_per_frame,
            rng: SplitMix64::new(seed),
            scale: 0.0,
            frames: 0,
            planned: 0.0,
            emitted: 0,
        }
    }

    /// The nominal (unjittered) I and P frame sizes in bytes.
    pub(crate) fn nominal(&self) -> (f64, f64) {
        let p = self.bytes_per_frame * self.gop as f64 / (self.ratio + self.gop as f64 - 1.0);
        (p * self.ratio, p)
    }

    fn weight(&self, rng: &mut SplitMix64, index_in_gop: u64) -> f64 {
        let base = if index_in_gop == 0 { self.ratio } else { 1.0 };
        base * (1.0 + SIZE_JITTER * rng.next_signed_unit())
    }

    /// The size the next frame should have, in bytes, with its running
    /// deficit or surplus folded in. Call [`VideoPlan::commit`] with the size
    /// actually emitted.
    pub(crate) fn next_target(&mut self) -> u64 {
        let index = self.frames % self.gop;
        if index == 0 {
            // A first pass over a copy of the generator sums this GOP's
            // weights, so the second pass can spend the budget exactly.
            let mut probe = self.rng.clone();
            let total: f64 = (0..self.gop).map(|i| self.weight(&mut probe, i)).sum();
            self.scale = self.bytes_per_frame * self.gop as f64 / total;
        }
        let mut rng = self.rng.clone();
        let share = self.weight(&mut rng, index) * self.scale;
        self.rng = rng;
        self.frames += 1;
        self.planned += share;
        (self.planned.round() as u64).saturating_sub(self.emitted)
    }

    /// Records the bytes the frame really took.
    pub(crate) fn commit(&mut self, bytes: u64) {
        self.emitted += bytes;
    }
}

/// Plans audio frame sizes: a constant bitrate, with the fractional bytes
/// carried so the long-run mean is exact.
#[derive(Clone, Debug)]
pub(crate) struct AudioPlan {
    bytes_per_frame: f64,
    frames: u64,
    emitted: u64,
}

impl AudioPlan {
    pub(crate) fn new(bytes_per_frame: f64) -> Self {
        Self {
            bytes_per_frame,
            frames: 0,
            emitted: 0,
        }
    }

    /// The size the next frame should have, in bytes.
    pub(crate) fn next_target(&mut self) -> u64 {
        self.frames += 1;
        ((self.frames as f64 * self.bytes_per_frame).round() as u64).saturating_sub(self.emitted)
    }

    /// Records the bytes the frame really took.
    pub(crate) fn commit(&mut self, bytes: u64) {
        self.emitted += bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // First outputs for seed 1234567 from the reference implementation.
        let mut rng = SplitMix64::new(1234567);
        assert_eq!(rng.next_u64(), 6457827717110365317);
        assert_eq!(rng.next_u64(), 3203168211198807973);
        let mut rng = SplitMix64::new(7);
        for _ in 0..1000 {
            let x = rng.next_signed_unit();
            assert!((-1.0..1.0).contains(&x));
        }
    }

    #[test]
    fn gop_budget_is_spent_exactly() {
        let mut plan = VideoPlan::new(30, 6.0, 1000.5, 42);
        let sizes: Vec<u64> = (0..300)
            .map(|_| {
                let size = plan.next_target();
                plan.commit(size);
                size
            })
            .collect();
        for gop in sizes.chunks(30) {
            let total: u64 = gop.iter().sum();
            assert!(total.abs_diff(30_015) <= 1, "{total}");
            let p_mean = gop[1..].iter().sum::<u64>() as f64 / 29.0;
            assert!(
                (gop[0] as f64 / p_mean - 6.0).abs() < 6.0 * 2.5 * SIZE_JITTER,
                "{gop:?}"
            );
        }
    }
}
