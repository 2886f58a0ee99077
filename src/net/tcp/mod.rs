//! Our own TCP, sans-IO: segments and simulated time in; segments, events
//! and the next deadline out.
//!
//! * [`seq`]: sequence numbers and wraparound arithmetic;
//! * [`wire`]: segment views, options, parse and emit with checksums.
//!
//! Time is a [`std::time::Duration`] since scenario start, always passed in;
//! nothing here reads a clock or draws a random number (the initial sequence
//! number comes from the caller).

pub mod seq;
pub mod wire;
