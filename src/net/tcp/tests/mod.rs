//! Core tests with no runtime: hand-built segment sequences, one behaviour
//! per test, and a two-endpoint harness stepping simulated time.

mod pair;
mod receive;
mod recovery;
mod script;
mod states;
mod transfer;
