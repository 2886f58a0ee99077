//! The one random generator of every simulation stream: SplitMix64.
//!
//! Every random stream of a run (each link direction, the synthetic media
//! planner) draws from a [`SplitMix64`] seeded with
//! [`crate::sim::seed::derive_seed`], whose own hash ends with the same
//! SplitMix64 output function ([`mix64`]).
//!
//! Why our own: a generator from a dependency may change its algorithm in
//! any release (`rand`'s `StdRng` says so), which would silently change
//! every user's results for the same seed. SplitMix64 (Steele, Lea and
//! Flood, 2014; Java's `SplittableRandom`) is ten lines, passes BigCrush,
//! and is written out here, so the streams depend on nothing but this file.
//! Conversions to floats and ranges are ours too, for the same reason.
//!
//! Invariants: the outputs for a seed never change (a test pins them);
//! [`SplitMix64::next_f64`] lies in `[0, 1)` with 53 random bits;
//! [`SplitMix64::below`] is exactly uniform (no modulo bias).

/// The golden-ratio increment of SplitMix64's state.
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64's output function: a bijection that spreads close inputs far
/// apart.
pub fn mix64(x: u64) -> u64 {
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A SplitMix64 stream: 64 bits of state, period 2^64.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A stream starting from `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix64(self.state)
    }

    /// Uniform in `[0, 1)`: the top 53 bits over 2^53.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[-1, 1)`: the top 53 bits over 2^52, less 1.
    pub fn next_signed_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    /// Uniform in `0..n` (0 when `n` is 0), without bias: Lemire's
    /// multiply-and-reject (2019).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Products whose low half falls below 2^64 mod n would make some
        // results more likely than others; they are drawn again.
        let threshold = n.wrapping_neg() % n;
        loop {
            let product = u128::from(self.next_u64()) * u128::from(n);
            if (product as u64) >= threshold {
                return (product >> 64) as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pinned outputs: changing any of them changes every user's results
    /// for the same seed.
    #[test]
    fn outputs_are_pinned() {
        let mut rng = SplitMix64::new(0);
        let first: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        // The reference values of SplitMix64 from seed 0.
        assert_eq!(
            first,
            [
                0xe220_a839_7b1d_cdaf,
                0x6e78_9e6a_a1b9_65f4,
                0x06c4_5d18_8009_454f
            ]
        );
        let mut rng = SplitMix64::new(42);
        assert_eq!(rng.next_f64(), 0.741_564_878_771_823_3);
        assert_eq!(rng.below(1000), 159);
        assert_eq!(rng.next_signed_unit(), -0.442_797_739_489_722_7);
    }

    #[test]
    fn ranges_hold() {
        let mut rng = SplitMix64::new(7);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            let f = rng.next_f64();
            assert!((0.0..1.0).contains(&f));
            let s = rng.next_signed_unit();
            assert!((-1.0..1.0).contains(&s));
            counts[rng.below(3) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.below(1), 0);
    }
}
