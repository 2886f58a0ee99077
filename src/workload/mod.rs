//! Transport-level workloads: a TCP bulk transfer and a UDP constant-bit-rate
//! stream between a server and a client.
//!
//! They are what the simulated network is measured with (the fidelity tests
//! compare them with ns-3 and with analytic expectations), what `streamsim
//! bench` times, and what `make demo` shows until the media protocols land.

pub mod bulk;
pub mod cbr;

pub use bulk::{
    bulk_client, bulk_server, ns3_tcp, run_bulk, BulkClientStats, BulkResult, BulkSpec, BULK_PORT,
};
pub use cbr::{
    cbr_interval, cbr_receiver, cbr_sender, default_stop, run_cbr, CbrReceiverStats, CbrResult,
    CbrSpec, CBR_PORT,
};
