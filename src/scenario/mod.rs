//! Scenario files: the TOML schema, units, and validation that reports every
//! error at once with file, line and column.

mod model;

pub use model::*;
