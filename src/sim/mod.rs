//! The deterministic harness: a turmoil simulation with one host per node.
//!
//! [`Harness`] builds a turmoil `Sim` from a [`Topology`], a seed and a
//! duration. Each host runs its own smoltcp stack ([`crate::net::Stack`]) and
//! the applications the caller gives it, written against
//! [`crate::net::Net`]; a host's applications run concurrently, polled in
//! the order they were added. The run steps turmoil tick by tick until the
//! duration is reached or the caller's stop condition holds
//! ([`Harness::run_until`]), reporting [`Progress`] after every step, then
//! collects a [`RunReport`] (whose `complete` tells which ended it).
//!
//! turmoil is configured so that it never shapes traffic itself: its link
//! latency is zero and its UDP queues never fill. All shaping happens in our
//! link models, whose delivery times are carried in each frame.
//!
//! Determinism: the epoch is pinned (never the wall clock); turmoil's RNG, each
//! stack's and each link direction's come from [`seed::derive_seed`].

mod report;
pub mod seed;
mod topology;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, UNIX_EPOCH};

pub use report::{HostReport, LinkReport, RunReport, UdpFlowReport};
pub use topology::{LinkSpec, Topology};

use crate::net::clock::HostClock;
use crate::net::link::LinkModel;
use crate::net::nic::{Egress, Nic};
use crate::net::pcap::{CaptureFormat, CaptureTap};
use crate::net::{stack, HostTcp, SimNet, Stack};
use seed::derive_seed;

/// 2026-01-01T00:00:00Z: the wall-clock time simulated time 0 maps to, in
/// captures and any wall-clock-looking value.
pub const DEFAULT_EPOCH: Duration = Duration::from_secs(1_767_225_600);

/// Errors building or running a simulation.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A host name is empty or has characters other than `[A-Za-z0-9_-]`.
    #[error("invalid host name {name:?}: use letters, digits, '-' and '_'")]
    BadHostName { name: String },
    /// Two hosts have the same name.
    #[error("host {name:?} is declared twice")]
    DuplicateHost { name: String },
    /// A link or application names a host that is not declared.
    #[error("unknown host {name:?}")]
    UnknownHost { name: String },
    /// A link joins a host to itself.
    #[error("link from host {name:?} to itself")]
    SelfLink { name: String },
    /// Two links join the same pair of hosts.
    #[error("hosts {a:?} and {b:?} are linked twice")]
    DuplicateLink { a: String, b: String },
    /// The duration or tick is zero, the tick is not a whole number of
    /// milliseconds or is longer than the duration, or the duration is too
    /// long to represent.
    #[error("invalid timing: duration {duration:?}, tick {tick:?}")]
    BadTiming { duration: Duration, tick: Duration },
    /// The capture could not be set up.
    #[error("capture for host {host:?}: {message}")]
    Capture { host: String, message: String },
    /// Host software failed (an I/O error in a driver or an application).
    #[error("simulation failed: {message}")]
    Run { message: String },
}

/// How to run a simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    /// The scenario seed every random stream derives from.
    pub seed: u64,
    /// Simulated time the run lasts.
    pub duration: Duration,
    /// turmoil's step: a whole number of milliseconds (1 ms by default).
    /// Links with less delay than one tick deliver up to a tick late (counted
    /// per NIC as late frames).
    pub tick: Duration,
    /// Wall-clock time of simulated time 0 (since the UNIX epoch).
    pub epoch: Duration,
    /// MTU of every interface in bytes; TCP's MSS follows it unless set.
    pub mtu: usize,
    /// TCP settings. Buffers of 0 mean "derive from the path" (see
    /// [`default_tcp_buffer`]).
    pub tcp: HostTcp,
    /// Capture every interface in this format.
    pub capture: Option<CaptureFormat>,
    /// In pcapng captures, mark packets the link dropped with their cause.
    pub capture_drops: bool,
    /// Hosts whose capture streams to a file as packets are captured (the
    /// file is created, or a regular file replaced); the others' stay in
    /// memory. Memory then stays bounded whatever the capture's size.
    pub capture_files: BTreeMap<String, PathBuf>,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            seed: 1,
            duration: Duration::from_secs(10),
            tick: Duration::from_millis(1),
            epoch: DEFAULT_EPOCH,
            mtu: 1500,
            tcp: HostTcp::default(),
            capture: None,
            capture_drops: false,
            capture_files: BTreeMap::new(),
        }
    }
}

/// What the progress callback sees after every step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Simulated time reached.
    pub elapsed: Duration,
    /// Simulated time the run lasts.
    pub duration: Duration,
}

/// The TCP buffer size a host gets when the scenario sets none: twice the
/// largest round-trip bandwidth-delay product of its links, rounded up to a
/// power of two, between 64 KiB and 16 MiB; 4 MiB when a path has no rate
/// limit. Twice the BDP lets a sender fill the pipe and a bottleneck queue of
/// the same size, so the window, not the buffer, is what TCP's dynamics set.
pub fn default_tcp_buffer(bdp_bytes: Option<u64>) -> usize {
    match bdp_bytes {
        None => 4 << 20,
        Some(bdp) => bdp
            .saturating_mul(2)
            .clamp(64 << 10, 16 << 20)
            .next_power_of_two() as usize,
    }
}

type AppFuture = Pin<Box<dyn Future<Output = ()>>>;
type App = Box<dyn Fn(SimNet) -> AppFuture>;

/// A simulation being set up, then run once.
pub struct Harness {
    config: SimConfig,
    topology: Topology,
    /// Each host's applications, in the order they were added.
    apps: BTreeMap<String, Vec<App>>,
}

impl Harness {
    /// Prepares a simulation of `topology` with `config`.
    pub fn new(config: SimConfig, topology: Topology) -> Result<Harness, SimError> {
        // Tokio's timers, and so each host's clock, stand on a 1 ms grid; a
        // tick that is not a whole number of milliseconds would let a host's
        // clock run ahead of turmoil's (see sim::clock).
        let whole_ms = config.tick.as_nanos().is_multiple_of(1_000_000);
        let fits = config.duration.checked_add(config.tick * 2).is_some();
        if config.duration.is_zero()
            || config.tick.is_zero()
            || !whole_ms
            || config.tick > config.duration
            || !fits
        {
            return Err(SimError::BadTiming {
                duration: config.duration,
                tick: config.tick,
            });
        }
        Ok(Harness {
            config,
            topology,
            apps: BTreeMap::new(),
        })
    }

    /// Adds `app` to host `name`; it gets the host's [`SimNet`]. Apps start
    /// one tick after simulated time 0, when every host's NIC is attached.
    /// A host's apps run concurrently on it, polled in the order they were
    /// added. A host without an app still runs its stack (it answers with
    /// RST, for one).
    pub fn app<F, Fut>(&mut self, name: &str, app: F) -> Result<(), SimError>
    where
        F: Fn(SimNet) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        if !self.topology.hosts().iter().any(|h| h == name) {
            return Err(SimError::UnknownHost {
                name: name.to_owned(),
            });
        }
        self.apps
            .entry(name.to_owned())
            .or_default()
            .push(Box::new(move |net| Box::pin(app(net))));
        Ok(())
    }

    /// Runs the simulation to its duration, calling `on_step` after each step.
    pub fn run(self, on_step: impl FnMut(Progress)) -> Result<RunReport, SimError> {
        self.run_until(on_step, || false)
    }

    /// Runs the simulation to its duration or until `stop` returns true,
    /// whichever comes first. After each step it calls `on_step`, then
    /// `stop`; the report covers the simulated time reached, and its
    /// `complete` is false when `stop` ended the run before the duration.
    pub fn run_until(
        self,
        mut on_step: impl FnMut(Progress),
        stop: impl Fn() -> bool,
    ) -> Result<RunReport, SimError> {
        let Harness {
            config,
            topology,
            mut apps,
        } = self;
        let mut sim = turmoil::Builder::new()
            .epoch(UNIX_EPOCH + config.epoch)
            .tick_duration(config.tick)
            // Two ticks past the duration: turmoil ends the run itself only
            // when this limit is exceeded, which must never happen first.
            .simulation_duration(config.duration + config.tick * 2)
            .min_message_latency(Duration::ZERO)
            .max_message_latency(Duration::ZERO)
            .udp_capacity(1 << 20)
            .rng_seed(derive_seed(config.seed, "turmoil"))
            .build();
        let addrs: BTreeMap<String, Ipv4Addr> = topology
            .hosts()
            .iter()
            .map(|h| match sim.lookup(h.as_str()) {
                IpAddr::V4(v4) => Ok((h.clone(), v4)),
                IpAddr::V6(_) => Err(SimError::Run {
                    message: "turmoil assigned IPv6".into(),
                }),
            })
            .collect::<Result<_, _>>()?;
        let names = Rc::new(addrs.clone());
        let mut stacks = Vec::new();
        for name in topology.hosts() {
            let stack = Rc::new(RefCell::new(build_stack(&config, &topology, &addrs, name)?));
            stacks.push((name.clone(), stack.clone()));
            let app = Rc::new(apps.remove(name).unwrap_or_default());
            let names = names.clone();
            let tick = config.tick;
            sim.host(name.as_str(), move || {
                let stack = stack.clone();
                let app = app.clone();
                let names = names.clone();
                async move {
                    let clock = HostClock::start();
                    let driver =
                        tokio::task::spawn_local(stack::drive(stack.clone(), clock.clone()));
                    // Apps start one tick in, once every host's NIC is
                    // attached: turmoil drops frames to a host whose NIC
                    // socket is not bound yet.
                    tokio::time::sleep(tick).await;
                    let net = SimNet::new(stack, clock, names);
                    join_in_order(app.iter().map(|app| app(net.clone())).collect()).await;
                    // The stack outlives the app: it still has FINs and
                    // retransmissions to send.
                    driver.await??;
                    Ok(())
                }
            });
        }
        while sim.elapsed() < config.duration {
            sim.step().map_err(|e| SimError::Run {
                message: e.to_string(),
            })?;
            on_step(Progress {
                elapsed: sim.elapsed().min(config.duration),
                duration: config.duration,
            });
            if stop() {
                break;
            }
        }
        let end = sim.elapsed().min(config.duration);
        let hosts = stacks
            .iter()
            .map(|(name, stack)| HostReport::collect(name, &mut stack.borrow_mut(), end))
            .collect::<Result<_, _>>()?;
        Ok(RunReport::new(
            config.seed,
            end,
            sim.elapsed() >= config.duration,
            hosts,
        ))
    }
}

/// Runs `apps` concurrently on the current task until all have finished.
/// Every wake-up polls each unfinished app in order, so the interleaving is
/// fixed by the order apps were added; one app runs exactly as if awaited
/// alone.
async fn join_in_order(mut apps: Vec<AppFuture>) {
    let mut finished = vec![false; apps.len()];
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (app, done) in apps.iter_mut().zip(finished.iter_mut()) {
            if !*done {
                *done = app.as_mut().poll(cx).is_ready();
                pending |= !*done;
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await
}

fn build_stack(
    config: &SimConfig,
    topology: &Topology,
    addrs: &BTreeMap<String, Ipv4Addr>,
    name: &str,
) -> Result<Stack, SimError> {
    let mut links = BTreeMap::new();
    for (peer, link_name, link) in topology.egress_of(name) {
        let seed = derive_seed(config.seed, &format!("link:{link_name}"));
        let peer_addr = addrs[peer];
        links.insert(
            peer_addr,
            Egress {
                model: LinkModel::new(link.clone(), seed),
                name: link_name,
            },
        );
    }
    let capture = match config.capture {
        Some(format) => {
            let tap = match config.capture_files.get(name) {
                Some(path) => CaptureTap::streaming(format, config.epoch, name, 65_535, path),
                None => CaptureTap::new(format, config.epoch, name, 65_535),
            };
            Some(tap.map_err(|e| SimError::Capture {
                host: name.to_owned(),
                message: e.to_string(),
            })?)
        }
        None => None,
    };
    let nic = Nic::new(links, capture, config.capture_drops);
    let buffer = default_tcp_buffer(topology.max_bdp_bytes(name));
    let tcp = config.tcp.resolved(config.mtu, buffer);
    let seed = derive_seed(config.seed, &format!("stack:{name}"));
    Ok(Stack::new(addrs[name], config.mtu, seed, tcp, nic))
}

#[cfg(test)]
mod tests;
