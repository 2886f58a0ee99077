//! Loss processes with netem's exact state machines (`loss_event`,
//! `loss_gilb_ell`, `loss_4state` in Linux `sch_netem.c`).
//!
//! Invariants: one `LossState` per configured `LossModel`; a fresh state
//! starts in the good state (1 for the 4-state model); draws come only from
//! the generator passed in, in a fixed order per call.

use crate::rng::SplitMix64;

use super::config::LossModel;
use super::random::Correlated;

/// Running state of the configured loss process.
#[derive(Clone, Debug)]
pub(super) enum LossState {
    /// No loss.
    None,
    /// Bernoulli with correlation: probability (fraction) and correlated source.
    Random(f64, Correlated),
    /// Gilbert-Elliott: probabilities as fractions plus the current state.
    GilbertElliott {
        p: f64,
        r: f64,
        h1: f64,
        k1: f64,
        bad: bool,
    },
    /// 4-state Markov: probabilities as fractions plus the current state (1..=4).
    FourState { t: FourStateProbs, state: u8 },
}

/// Transition probabilities of the 4-state model, as fractions.
#[derive(Clone, Copy, Debug)]
pub(super) struct FourStateProbs {
    p13: f64,
    p31: f64,
    p32: f64,
    p23: f64,
    p14: f64,
}

impl LossState {
    /// Creates the initial state of `model`.
    pub(super) fn new(model: &LossModel) -> LossState {
        match *model {
            LossModel::None => LossState::None,
            LossModel::Random {
                percent,
                correlation,
            } => LossState::Random(percent / 100.0, Correlated::new(correlation)),
            LossModel::GilbertElliott {
                p,
                r,
                one_minus_h,
                one_minus_k,
            } => LossState::GilbertElliott {
                p: p / 100.0,
                r: r / 100.0,
                h1: one_minus_h / 100.0,
                k1: one_minus_k / 100.0,
                bad: false,
            },
            LossModel::FourState {
                p13,
                p31,
                p32,
                p23,
                p14,
            } => LossState::FourState {
                t: FourStateProbs {
                    p13: p13 / 100.0,
                    p31: p31 / 100.0,
                    p32: p32 / 100.0,
                    p23: p23 / 100.0,
                    p14: p14 / 100.0,
                },
                state: 1,
            },
        }
    }

    /// Advances the process by one packet and tells whether it is lost.
    pub(super) fn lose(&mut self, rng: &mut SplitMix64) -> bool {
        match self {
            LossState::None => false,
            LossState::Random(p, corr) => corr.fires(*p * 100.0, rng),
            LossState::GilbertElliott { p, r, h1, k1, bad } => {
                gilbert_elliott(*p, *r, *h1, *k1, bad, rng)
            }
            LossState::FourState { t, state } => four_state(t, state, rng.next_f64()),
        }
    }
}

/// One Gilbert-Elliott step: transition first, then lose with the loss
/// probability of the state the packet arrived in (as netem does).
fn gilbert_elliott(p: f64, r: f64, h1: f64, k1: f64, bad: &mut bool, rng: &mut SplitMix64) -> bool {
    if *bad {
        if rng.next_f64() < r {
            *bad = false;
        }
        rng.next_f64() < h1
    } else {
        if rng.next_f64() < p {
            *bad = true;
        }
        rng.next_f64() < k1
    }
}

/// One 4-state step with a single uniform `u`; the packet is lost when the
/// chain enters state 3 or 4 (or stays in 3).
fn four_state(t: &FourStateProbs, state: &mut u8, u: f64) -> bool {
    match *state {
        1 if u < t.p14 => {
            *state = 4;
            true
        }
        1 if u < t.p14 + t.p13 => {
            *state = 3;
            true
        }
        2 if u < t.p23 => {
            *state = 3;
            true
        }
        3 if u < t.p32 => {
            *state = 2;
            false
        }
        3 if u < t.p32 + t.p31 => {
            *state = 1;
            false
        }
        3 => true,
        4 => {
            *state = 1;
            false
        }
        _ => false,
    }
}
