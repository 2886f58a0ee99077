//! The sockets of one simulated host, and who owns which port.
//!
//! [`Sockets`] wraps smoltcp's `SocketSet` with what smoltcp leaves to its
//! user:
//! * a port registry, so that binding a port in use fails with `AddrInUse`
//!   and ephemeral ports never collide;
//! * listeners: each keeps `backlog` smoltcp sockets listening on its port;
//!   a slot whose connection was reset before `accept` goes back to
//!   listening on the next turn of the stack;
//! * orphans: sockets whose application side is gone, kept until their
//!   connection has closed (TCP) or their queue has drained (UDP), then
//!   removed and their port released.
//!
//! Invariant: every port in the registry belongs to exactly one live
//! listener, UDP socket or connecting TCP socket, or to an orphan of one.

use std::collections::BTreeMap;
use std::io;

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::{tcp, udp};
use smoltcp::wire::IpListenEndpoint;

/// The first ephemeral port (IANA's dynamic range).
const EPHEMERAL_FIRST: u16 = 49152;

/// A transport protocol, for the port registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Proto {
    Tcp,
    Udp,
}

/// A listening port and its slots.
#[derive(Debug)]
struct Listener {
    endpoint: IpListenEndpoint,
    slots: Vec<SocketHandle>,
}

/// A socket whose application side is gone.
#[derive(Debug)]
struct Orphan {
    handle: SocketHandle,
    proto: Proto,
    /// The port to release with it, when it owned one.
    port: Option<u16>,
}

/// The sockets of one host.
pub(super) struct Sockets {
    pub(super) set: SocketSet<'static>,
    ports: BTreeMap<(Proto, u16), ()>,
    listeners: BTreeMap<u16, Listener>,
    orphans: Vec<Orphan>,
    next_port: u16,
}

impl Sockets {
    pub(super) fn new() -> Sockets {
        Sockets {
            set: SocketSet::new(Vec::new()),
            ports: BTreeMap::new(),
            listeners: BTreeMap::new(),
            orphans: Vec::new(),
            next_port: EPHEMERAL_FIRST,
        }
    }

    /// Claims `port` (0: a free ephemeral port) for `proto`.
    pub(super) fn claim(&mut self, proto: Proto, port: u16) -> io::Result<u16> {
        let port = if port == 0 {
            self.free_ephemeral(proto)?
        } else {
            port
        };
        if self.ports.insert((proto, port), ()).is_some() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("{proto:?} port {port} is in use"),
            ));
        }
        Ok(port)
    }

    /// Releases a port claimed with [`Sockets::claim`].
    pub(super) fn release(&mut self, proto: Proto, port: u16) {
        self.ports.remove(&(proto, port));
    }

    fn free_ephemeral(&mut self, proto: Proto) -> io::Result<u16> {
        let range = usize::from(u16::MAX - EPHEMERAL_FIRST) + 1;
        for _ in 0..range {
            let port = self.next_port;
            self.next_port = if port == u16::MAX {
                EPHEMERAL_FIRST
            } else {
                port + 1
            };
            if !self.ports.contains_key(&(proto, port)) {
                return Ok(port);
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "no free ephemeral port",
        ))
    }

    /// Registers a listener on `port` (already claimed) with its slots.
    pub(super) fn add_listener(
        &mut self,
        port: u16,
        endpoint: IpListenEndpoint,
        slots: Vec<SocketHandle>,
    ) {
        self.listeners.insert(port, Listener { endpoint, slots });
    }

    /// Takes a slot of the listener on `port` whose handshake completed,
    /// replacing it with `fresh` (a socket not yet listening).
    pub(super) fn take_ready(
        &mut self,
        port: u16,
        fresh: impl FnOnce() -> tcp::Socket<'static>,
    ) -> io::Result<Option<SocketHandle>> {
        let Some(listener) = self.listeners.get_mut(&port) else {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the listener is closed",
            ));
        };
        let ready = listener.slots.iter().position(|&h| {
            let s = self.set.get::<tcp::Socket>(h);
            !matches!(
                s.state(),
                tcp::State::Listen | tcp::State::SynReceived | tcp::State::Closed
            )
        });
        let Some(index) = ready else { return Ok(None) };
        let mut socket = fresh();
        socket
            .listen(listener.endpoint)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let taken = std::mem::replace(&mut listener.slots[index], self.set.add(socket));
        Ok(Some(taken))
    }

    /// Registers `waker` on every slot of the listener on `port`.
    pub(super) fn register_accept_waker(&mut self, port: u16, waker: &std::task::Waker) {
        if let Some(listener) = self.listeners.get(&port) {
            for &h in &listener.slots {
                self.set
                    .get_mut::<tcp::Socket>(h)
                    .register_recv_waker(waker);
            }
        }
    }

    /// Closes the listener on `port`: pending connections are reset.
    pub(super) fn remove_listener(&mut self, port: u16) {
        if let Some(listener) = self.listeners.remove(&port) {
            for h in listener.slots {
                self.set.get_mut::<tcp::Socket>(h).abort();
                self.orphans.push(Orphan {
                    handle: h,
                    proto: Proto::Tcp,
                    port: None,
                });
            }
            self.release(Proto::Tcp, port);
        }
    }

    /// Hands a socket whose application side is gone to the stack.
    pub(super) fn orphan(&mut self, handle: SocketHandle, proto: Proto, port: Option<u16>) {
        self.orphans.push(Orphan {
            handle,
            proto,
            port,
        });
    }

    /// Re-arms listener slots a reset sent back to `Closed`, and removes the
    /// orphans that are done. Called on every turn of the stack.
    pub(super) fn maintain(&mut self) {
        for listener in self.listeners.values() {
            for &h in &listener.slots {
                let socket = self.set.get_mut::<tcp::Socket>(h);
                if socket.state() == tcp::State::Closed {
                    // Only fails when the socket is open, which it is not.
                    let _ = socket.listen(listener.endpoint);
                }
            }
        }
        let Sockets {
            set,
            ports,
            orphans,
            ..
        } = self;
        orphans.retain(|orphan| {
            let done = match orphan.proto {
                Proto::Tcp => matches!(
                    set.get::<tcp::Socket>(orphan.handle).state(),
                    tcp::State::Closed | tcp::State::TimeWait
                ),
                Proto::Udp => set.get::<udp::Socket>(orphan.handle).send_queue() == 0,
            };
            if done {
                set.remove(orphan.handle);
                if let Some(port) = orphan.port {
                    ports.remove(&(orphan.proto, port));
                }
            }
            !done
        });
    }
}
