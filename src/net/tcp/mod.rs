//! Our own TCP, sans-IO: segments and simulated time in; segments, events
//! and the next deadline out.
//!
//! * [`seq`]: sequence numbers and wraparound arithmetic;
//! * [`wire`]: segment views, options, parse and emit with checksums.
//!
//! Time is a [`std::time::Duration`] since scenario start, always passed in;
//! nothing here reads a clock or draws a random number (the initial sequence
//! number comes from the caller).

pub mod cc;
pub mod config;
pub mod conn;
pub mod prr;
pub mod rack;
pub mod receiver;
pub mod rtt;
pub mod scoreboard;
pub mod seq;
pub mod stats;
pub mod wire;

#[cfg(test)]
mod tests;

pub use self::config::{CongestionKind, RtoFormula, TcpConfig, TcpProfile};
pub use self::conn::{reset_for, Connection, Event, Segment, State, TcpError};
pub use self::stats::{Sample, TcpStats};
