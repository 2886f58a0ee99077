//! Our own TCP, sans-IO: segments and simulated time in; segments, events
//! and the next deadline out. Nothing here reads a clock or draws a random
//! number: time is a [`std::time::Duration`] since scenario start, always
//! passed in, and the initial sequence number comes from the caller.
//!
//! Pieces, bottom up:
//! * [`seq`]: sequence numbers, serial-number comparison, 64-bit offsets;
//! * [`wire`]: segment views and representations, options (MSS, window
//!   scale, SACK-permitted, SACK, timestamps), checksums;
//! * [`receiver`]: reassembly, SACK and D-SACK blocks, the advertised
//!   window, delayed and immediate ACKs;
//! * [`scoreboard`], [`rack`], [`prr`], [`rtt`], [`cc`]: the sender's
//!   segments in flight and RFC 6675's IsLost and pipe, RACK-TLP,
//!   Proportional Rate Reduction, the RFC 6298 timer, and Reno/NewReno or
//!   CUBIC (with HyStart++) behind [`cc::CongestionControl`];
//! * [`conn`]: the RFC 9293 state machine that ties them together;
//! * [`config`] and [`stats`]: every knob with the `linux` and `ns3`
//!   presets, and per-connection counters with a bounded cwnd/RTT series.
//!
//! ## Driving a connection
//!
//! After every input (`handle_segment`, `handle_timeout`, `send`, `recv`,
//! `close`, `abort`), call `poll_transmit` until `None`, drain
//! `poll_event`, then sleep until `poll_timeout` (or the next input):
//!
//! ```
//! use std::time::Duration;
//! use streamsim::net::tcp::{seq::SeqNum, Connection, Event, State, TcpConfig};
//!
//! let t0 = Duration::ZERO;
//! let mut client = Connection::connect(t0, TcpConfig::linux(), 40_000, 80, SeqNum(1));
//! let mut server = Connection::listen(TcpConfig::linux(), 80, SeqNum(7));
//! client.send(b"hello");
//! // An ideal path: hand every segment over until both sides are quiet.
//! for _ in 0..4 {
//!     while let Some(seg) = client.poll_transmit(t0) {
//!         server.handle_segment(t0, &seg.repr());
//!     }
//!     while let Some(seg) = server.poll_transmit(t0) {
//!         client.handle_segment(t0, &seg.repr());
//!     }
//! }
//! assert_eq!(server.state(), State::Established);
//! assert_eq!(client.poll_event(), Some(Event::Connected));
//! let mut buf = [0u8; 16];
//! assert_eq!(server.recv(&mut buf), 5);
//! assert_eq!(&buf[..5], b"hello");
//! ```
//!
//! ## Under a stack
//!
//! A stack owns the demultiplexing: segments are matched by address and
//! port pair; a SYN for a listening port creates a [`Connection::listen`]
//! (one per SYN, with a seeded ISN) and is then handed to it; a segment no
//! connection takes is answered with [`reset_for`]. A [`Segment`] becomes
//! bytes with [`wire::TcpHeader::emit`], which computes the checksum over
//! the IPv4 pseudo-header; incoming bytes become a [`wire::TcpRepr`] with
//! [`wire::TcpRepr::parse`], which can check it. A connection that reports
//! [`Event::Closed`] (after TIME-WAIT, a reset or a failure) can be dropped.
//!
//! ## Limits
//!
//! No urgent data, no keep-alive, no FIN-WAIT-2 timeout, data on a SYN is
//! dropped (the peer resends it), no pacing. SACK marks whole segments. A
//! timeout keeps the SACK scoreboard (RFC 6675 §5.1 allows either) and
//! retransmits only what is not SACKed. A spurious timeout is detected from
//! timestamps and counted, never undone.

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
