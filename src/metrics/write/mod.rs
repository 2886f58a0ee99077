//! Report writers: turn what a run measured into files a person or a CI
//! system reads.
//!
//! * [`markdown`]: `summary.md`, the summary of one run for a person.
//! * [`junit`]: JUnit XML for `streamsim check`, one test suite per scenario.
//! * [`plots`](mod@plots): SVG plots of throughput, one-way delay and queue occupancy.
//!
//! Invariant: every writer is a pure function of its input. Equal input gives
//! byte-identical output on every machine: no clock, no host name, no
//! locale, no system fonts, and no floating-point function whose last bit
//! may differ between platforms (`log10`, `powf`) on the way to the bytes.

mod axis;
pub mod junit;
pub mod markdown;
pub mod plots;
#[cfg(test)]
mod testdata;

pub use junit::junit_xml;
pub use markdown::{summary_markdown, SessionTables};
pub use plots::{plots, PlotError};
