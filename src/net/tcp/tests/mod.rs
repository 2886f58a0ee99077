//! Core tests with no runtime: hand-built segment sequences, one behaviour
//! per test, and a two-endpoint harness stepping simulated time.

mod fuzz;
mod goodput;
mod pair;
mod receive;
mod recovery;
mod scoreboard;
mod script;
mod states;
mod transfer;
