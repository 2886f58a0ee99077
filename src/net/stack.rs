//! A simulated host's TCP/IP stack driven by simulated time: our TCP
//! ([`super::tcp`], through [`super::host_tcp`]) and smoltcp's UDP and IPv4
//! (and smoltcp's TCP under the `smoltcp` profile).
//!
//! One [`Stack`] per host holds the smoltcp interface, its sockets, our
//! TCP's connection table, an in-memory device and the host's [`Nic`]. Application code touches it only
//! through [`crate::net::SimNet`]; the [`drive`] task runs the stack:
//!
//! 1. take frames that arrived from the wire and hold them in the NIC;
//! 2. hand the packets that are due to our TCP (TCP segments) or smoltcp
//!    (the rest), and poll both;
//! 3. pass what they transmit through the NIC's link models to the wire;
//! 4. sleep until the earliest of their next timers, the next held packet,
//!    a frame arriving, or an application touching a socket.
//!
//! Invariant: all stack state is behind one `RefCell` that no one holds across
//! an `.await`, so the driver and the application tasks interleave safely on
//! the host's single thread.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use smoltcp::iface::{Config, Interface};
use smoltcp::phy::{self, ChecksumCapabilities, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration as SmolDuration, Instant as SmolInstant};
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};
use tokio::sync::Notify;

use super::clock::HostClock;
use super::host_tcp::TcpTable;
use super::nic::{Nic, NIC_PORT};
use super::sockets::{Proto, Sockets};
use super::tcp::{CongestionKind, TcpConfig as ConnConfig, TcpProfile};

/// Settings of every TCP connection a host opens.
#[derive(Clone, Debug, PartialEq)]
pub struct HostTcp {
    /// The preset the settings started from; [`TcpProfile::Smoltcp`]
    /// selects smoltcp's TCP instead of ours.
    pub profile: TcpProfile,
    /// Every knob of a connection. A `send_buffer` or `recv_buffer` of 0
    /// means "derive from the path", an `mss` of 0 "derive from the MTU"
    /// (MTU − 40, less 12 with timestamps): the simulation fills them in.
    pub conn: ConnConfig,
    /// How long `connect` waits for the handshake.
    pub connect_timeout: Duration,
}

impl Default for HostTcp {
    fn default() -> HostTcp {
        HostTcp::profile(TcpProfile::default())
    }
}

impl HostTcp {
    /// The settings of a preset, with buffers and MSS left to derive.
    pub fn profile(profile: TcpProfile) -> HostTcp {
        HostTcp {
            profile,
            conn: ConnConfig {
                mss: 0,
                send_buffer: 0,
                recv_buffer: 0,
                ..profile.config()
            },
            connect_timeout: Duration::from_secs(30),
        }
    }

    /// Fills in what is derived: buffers of `buffer` bytes where they are
    /// 0, and the MSS from `mtu` where it is 0.
    pub fn resolved(&self, mtu: usize, buffer: usize) -> HostTcp {
        let mut tcp = self.clone();
        if tcp.conn.send_buffer == 0 {
            tcp.conn.send_buffer = buffer;
        }
        if tcp.conn.recv_buffer == 0 {
            tcp.conn.recv_buffer = buffer;
        }
        if tcp.conn.mss == 0 {
            let options = if tcp.conn.timestamps { 12 } else { 0 };
            tcp.conn.mss = u16::try_from(mtu.saturating_sub(40 + options)).unwrap_or(u16::MAX);
        }
        tcp
    }
}

/// The in-memory device between smoltcp and the NIC.
#[derive(Debug)]
struct QueueDevice {
    rx: VecDeque<Vec<u8>>,
    tx: VecDeque<Vec<u8>>,
    mtu: usize,
}

/// A simulated host's TCP/IP stack.
pub struct Stack {
    pub(super) iface: Interface,
    pub(super) sockets: Sockets,
    device: QueueDevice,
    pub(super) nic: Nic,
    pub(super) tcp: HostTcp,
    /// Our TCP's connections; `None` when the host runs smoltcp's.
    pub(super) own: Option<TcpTable>,
    /// Scratch: packets our TCP emits, ports it releases.
    packets: Vec<Vec<u8>>,
    released: Vec<u16>,
    pub(super) addr: Ipv4Addr,
    pub(super) mtu: usize,
    pub(super) notify: Rc<Notify>,
    /// How many times applications touched a socket: the driver compares it
    /// across a yield to tell whether a task it woke did something.
    kicks: Cell<u64>,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Stack {
    /// Creates the stack of a host with address `addr` (in a /16), an MTU in
    /// bytes, TCP settings with nothing left to derive (see
    /// [`HostTcp::resolved`]) and the seed of its random choices (initial
    /// sequence numbers, smoltcp's ports).
    pub fn new(addr: Ipv4Addr, mtu: usize, seed: u64, tcp: HostTcp, nic: Nic) -> Stack {
        let mut device = QueueDevice {
            rx: VecDeque::new(),
            tx: VecDeque::new(),
            mtu,
        };
        let mut config = Config::new(HardwareAddress::Ip);
        config.random_seed = seed;
        let mut iface = Interface::new(config, &mut device, SmolInstant::ZERO);
        iface.update_ip_addrs(|addrs| {
            // Capacity is smoltcp's IFACE_MAX_ADDR_COUNT (≥ 2); one fits.
            let _ = addrs.push(IpCidr::new(IpAddress::Ipv4(addr), 16));
        });
        let own = (tcp.profile != TcpProfile::Smoltcp)
            .then(|| TcpTable::new(addr, tcp.conn.clone(), tcp.connect_timeout, seed));
        Stack {
            iface,
            sockets: Sockets::new(),
            device,
            nic,
            tcp,
            own,
            packets: Vec::new(),
            released: Vec::new(),
            addr,
            mtu,
            notify: Rc::new(Notify::new()),
            kicks: Cell::new(0),
        }
    }

    /// The host's NIC, to finish its capture.
    pub fn nic_mut(&mut self) -> &mut Nic {
        &mut self.nic
    }

    /// The host's NIC (links, flows, capture, counters).
    pub fn nic(&self) -> &Nic {
        &self.nic
    }

    /// The host's address.
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// Our TCP's table. Only streams of our TCP call this, and they exist
    /// only on a stack that has one.
    pub(super) fn own_table(&mut self) -> &mut TcpTable {
        self.own
            .as_mut()
            .expect("a stream of our TCP lives on a stack with our TCP")
    }

    /// Wakes the driver: an application changed a socket.
    pub(super) fn kick(&self) {
        self.kicks.set(self.kicks.get().wrapping_add(1));
        self.notify.notify_one();
    }

    /// A new smoltcp TCP socket with this host's settings.
    pub(super) fn new_tcp_socket(&self) -> tcp::Socket<'static> {
        tcp_socket(&self.tcp)
    }

    /// Every connection our TCP had on this host, with its counters and
    /// series (see [`TcpTable::connections`]). Empty with smoltcp.
    pub fn tcp_connections(&self) -> Vec<super::host_tcp::ConnReport> {
        self.own
            .as_ref()
            .map(TcpTable::connections)
            .unwrap_or_default()
    }

    /// What our TCP counted outside any connection (malformed segments,
    /// resets sent, SYNs dropped on a full backlog).
    pub fn tcp_table_counters(&self) -> Option<&super::host_tcp::TableCounters> {
        self.own.as_ref().map(TcpTable::counters)
    }

    /// One turn of the stack at `now`: deliver due packets, poll smoltcp,
    /// send what it emits through the NIC. Returns the frames to put on the
    /// wire and the time of the next turn, if any timer is pending.
    fn turn(&mut self, now: Duration, wire: &mut Vec<(Ipv4Addr, Vec<u8>)>) -> Option<Duration> {
        while let Some(packet) = self.nic.poll_ingress(now) {
            match &mut self.own {
                Some(own) if TcpTable::is_tcp(&packet) => {
                    own.handle_packet(now, &packet, &mut self.packets);
                }
                _ => self.device.rx.push_back(packet),
            }
        }
        let smol_now = to_smol_instant(now);
        self.iface
            .poll(smol_now, &mut self.device, &mut self.sockets.set);
        while let Some(packet) = self.device.tx.pop_front() {
            self.nic.handle_egress(now, packet);
        }
        let own_at = match &mut self.own {
            Some(own) => own.poll(now, &mut self.packets, &mut self.released),
            None => None,
        };
        for packet in self.packets.drain(..) {
            self.nic.handle_egress(now, packet);
        }
        for port in self.released.drain(..) {
            self.sockets.release(Proto::Tcp, port);
        }
        wire.extend(self.nic.poll_outbox());
        self.sockets.maintain();
        let stack_at = self
            .iface
            .poll_at(smol_now, &self.sockets.set)
            .map(|t| Duration::from_micros(t.total_micros().max(0).unsigned_abs()));
        let next = [stack_at, own_at, self.nic.next_deadline()]
            .into_iter()
            .flatten()
            .min();
        // smoltcp counts in microseconds: a timer due "now" is polled again a
        // microsecond later so that simulated time always moves forward.
        next.map(|t| t.max(now + Duration::from_micros(1)))
    }
}

/// A new smoltcp TCP socket with the settings in `config` that smoltcp
/// has (see [`TcpProfile::Smoltcp`]).
pub(super) fn tcp_socket(config: &HostTcp) -> tcp::Socket<'static> {
    let conn = &config.conn;
    let rx = tcp::SocketBuffer::new(vec![0; conn.recv_buffer]);
    let tx = tcp::SocketBuffer::new(vec![0; conn.send_buffer]);
    let mut socket = tcp::Socket::new(rx, tx);
    socket.set_congestion_control(match conn.congestion {
        CongestionKind::Reno | CongestionKind::NewReno => tcp::CongestionControl::Reno,
        CongestionKind::Cubic => tcp::CongestionControl::Cubic,
    });
    socket.set_ack_delay(conn.ack_delay.map(to_smol_duration));
    socket.set_nagle_enabled(conn.nagle);
    socket
}

/// Runs a host's stack forever: the NIC driver task of one turmoil host.
///
/// Between events the driver sleeps until the timer grid point at or before
/// the next one (see [`HostClock`]); an event due within the current
/// millisecond is handled at its exact time after letting the tasks it woke
/// run first. turmoil hands frames over only between ticks, so the wire is
/// drained only when it signals readable.
pub async fn drive(stack: Rc<RefCell<Stack>>, clock: HostClock) -> io::Result<()> {
    let wire = turmoil::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, NIC_PORT)).await?;
    let notify = stack.borrow().notify.clone();
    let mut buf = vec![0u8; 65_536];
    let mut frames = Vec::new();
    // One timer, re-armed for each wait: cheaper than a new one per wait.
    let sleep = tokio::time::sleep_until(clock.wake_instant(Duration::ZERO));
    tokio::pin!(sleep);
    let mut readable = true;
    loop {
        let now = clock.now();
        let next = {
            let mut st = stack.borrow_mut();
            while readable {
                match wire.try_recv_from(&mut buf) {
                    Ok((n, _)) => st.nic.handle_frame(now, &buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => readable = false,
                    Err(e) => return Err(e),
                }
            }
            st.turn(now, &mut frames)
        };
        for (dst, frame) in frames.drain(..) {
            wire.send_to(&frame, SocketAddr::from((dst, NIC_PORT)))
                .await?;
        }
        if let Some(at) = next.filter(|&at| clock.same_millisecond(at, now)) {
            // Let the tasks this turn woke run at this instant. If one of
            // them touched a socket, turn again at this instant so what it
            // sent leaves now; else move to the next event in this millisecond.
            let kicks = stack.borrow().kicks.get();
            tokio::task::yield_now().await;
            if stack.borrow().kicks.get() == kicks {
                clock.advance_to(at);
            }
            continue;
        }
        if let Some(at) = next {
            sleep.as_mut().reset(clock.wake_instant(at));
        }
        tokio::select! {
            biased;
            ready = wire.readable() => {
                ready?;
                readable = true;
            }
            () = notify.notified() => {}
            () = &mut sleep, if next.is_some() => {}
        }
    }
}

impl phy::Device for QueueDevice {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = self.mtu;
        caps.checksum = ChecksumCapabilities::default();
        caps
    }

    fn receive(&mut self, _: SmolInstant) -> Option<(RxToken, TxToken<'_>)> {
        let packet = self.rx.pop_front()?;
        Some((RxToken(packet), TxToken(&mut self.tx)))
    }

    fn transmit(&mut self, _: SmolInstant) -> Option<TxToken<'_>> {
        Some(TxToken(&mut self.tx))
    }
}

/// A received packet, handed to smoltcp.
struct RxToken(Vec<u8>);

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

/// Room for one packet smoltcp transmits.
struct TxToken<'a>(&'a mut VecDeque<Vec<u8>>);

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut packet = vec![0; len];
        let result = f(&mut packet);
        self.0.push_back(packet);
        result
    }
}

/// Simulated time as a smoltcp instant (microseconds).
pub(super) fn to_smol_instant(t: Duration) -> SmolInstant {
    SmolInstant::from_micros(i64::try_from(t.as_micros()).unwrap_or(i64::MAX))
}

fn to_smol_duration(d: Duration) -> SmolDuration {
    SmolDuration::from_micros(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}
