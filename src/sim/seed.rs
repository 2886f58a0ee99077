//! Named random streams derived from the scenario seed.
//!
//! Every random stream in a run (a link direction, a host's TCP/IP stack,
//! turmoil's own scheduler) is seeded with `derive_seed(seed, name)`. The
//! derivation depends only on the seed and the stream's stable name, so adding
//! a link or a host never reshuffles the streams that were already there.
//!
//! The hash is FNV-1a over the name followed by a SplitMix64 step (the
//! project's one generator, [`crate::rng`]); both are fixed in this crate
//! so the derived values never change with a toolchain or a dependency
//! upgrade.

use crate::rng::SplitMix64;

/// Returns the seed of the random stream called `name` in a run seeded with `seed`:
/// the first output of a SplitMix64 stream started at `seed ⊕ fnv1a(name)`.
pub fn derive_seed(seed: u64, name: &str) -> u64 {
    SplitMix64::new(seed ^ fnv1a(name.as_bytes())).next_u64()
}

/// FNV-1a, 64-bit: a stable hash of a stream name.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_is_stable_and_name_sensitive() {
        // Pinned value: changing it breaks every user's reproducible runs.
        assert_eq!(derive_seed(1, "link:server->client"), 0x06d0_c169_f31c_332a);
        assert_ne!(
            derive_seed(1, "link:server->client"),
            derive_seed(1, "link:client->server")
        );
        assert_ne!(derive_seed(1, "a"), derive_seed(2, "a"));
    }
}
