//! Tests of scenario parsing: units, and inputs that must not panic.

mod robust;
mod units;
