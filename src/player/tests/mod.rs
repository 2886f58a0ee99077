//! Player tests: hand-built arrival sequences with exact expectations.
