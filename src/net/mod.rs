//! The simulated network: link models, NICs, the smoltcp stack, captures,
//! flow analysis, and the [`Net`] abstraction protocol drivers use.
//!
//! Layers, bottom up:
//! * [`link`]: sans-IO model of one direction of a link (netem + Mahimahi);
//! * [`nic`]: a host's interface, egress through link models, ingress held
//!   until each packet's delivery time, with a log of drops and
//!   retransmissions;
//! * [`tcp`]: our own sans-IO TCP (SACK, RACK-TLP, PRR, Reno/NewReno/CUBIC,
//!   Linux-like and ns-3 profiles);
//! * [`stack`]: a host's stack driven by simulated time (our TCP through its
//!   connection table, smoltcp's UDP and IPv4, and smoltcp's TCP under the
//!   `smoltcp` profile), and the driver task that moves frames over turmoil;
//! * [`pcap`] and [`flows`]: what a NIC captures and counts;
//! * [`clock`]: a simulated host's clock (simulated time with sub-millisecond
//!   precision over tokio's paused 1 ms timers);
//! * [`api`], [`SimNet`], [`TokioNet`]: one API, a simulated and a live world,
//!   each with its clock ([`Net::now`], [`Net::sleep_until`]).

pub mod api;
pub mod clock;
pub mod flows;
mod host_tcp;
pub mod link;
pub mod nic;
pub mod pcap;
mod sim_net;
mod sockets;
pub mod stack;
pub mod tcp;
mod tokio_net;

pub use api::{Net, NetListener, NetStream, NetUdp};
pub use host_tcp::{ConnReport, TableCounters};
pub use sim_net::{SimListener, SimNet, SimTcpStream, SimUdp};
pub use stack::{HostTcp, Stack};
pub use tcp::TcpProfile;
pub use tokio_net::{TokioListener, TokioNet, TokioStream, TokioUdp};
