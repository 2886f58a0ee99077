//! The RTSP server and client over [`Net`]: they move bytes between
//! sockets and the sans-IO [`ServerSession`] / [`ClientSession`] and hand
//! units to the [`Player`]. They own no protocol logic.
//!
//! Server: one task accepts connections, one per connection reads its
//! requests and writes its transmits, one reads the RTCP the clients send
//! over UDP, and the source loop feeds every playing session each unit at
//! its capture time. Sessions are shared through `Rc<RefCell<_>>` (one
//! thread), and a `Notify` wakes a connection's task when something else
//! queued bytes for it. Client: one loop over the connection, plus one
//! task per UDP socket that feeds the session.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

use super::client::{ClientOutput, ClientSession, ClientTransmit};
use super::server::{ServerConfig, ServerSession, TrackTransport, Transmit};
use super::RtspEvent;
use crate::net::{Net, NetListener, NetUdp};
use crate::player::{Player, PlayerEvent};
use crate::proto::LiveSource;
use crate::rng::mix64;

/// One connection as the other tasks see it.
struct Conn {
    peer: IpAddr,
    session: Rc<RefCell<ServerSession>>,
    wake: Rc<Notify>,
}

type Conns = Rc<RefCell<Vec<Conn>>>;

/// What the server tells the caller as it goes.
pub trait ServerObserver {
    /// An event of the connection from `peer`.
    fn event(&self, at: Duration, peer: SocketAddr, event: &RtspEvent);
    /// `n` more retransmissions were sent.
    fn retransmitted(&self, _n: u64) {}
}

/// The sockets a server serves on.
pub struct ServerSockets<N: Net> {
    /// Where players connect.
    pub listener: N::Listener,
    /// The UDP socket RTP leaves from.
    pub rtp: N::Udp,
    /// The UDP socket of RTCP (both ways).
    pub rtcp: N::Udp,
}

/// A track's RTP and RTCP sockets.
type SocketPair<U> = (Rc<U>, Rc<U>);

/// Serves `source` on `sockets` until `stop` (or the source ends): every
/// connection gets its own [`ServerSession`] from `config`, seeded from
/// `seed` and its order of arrival (`config.udp_ports` are the UDP
/// sockets' ports).
pub async fn serve<N: Net>(
    net: &N,
    sockets: ServerSockets<N>,
    config: ServerConfig,
    mut source: LiveSource,
    stop: Option<Duration>,
    seed: u64,
    observer: Rc<dyn ServerObserver>,
) -> io::Result<()> {
    let conns: Conns = Rc::new(RefCell::new(Vec::new()));
    let ServerSockets {
        listener,
        rtp,
        rtcp,
    } = sockets;
    let (rtp, rtcp) = (Rc::new(rtp), Rc::new(rtcp));
    tokio::task::spawn_local(read_rtcp(net.clone(), rtcp.clone(), conns.clone()));
    let accept = {
        let (net, conns, observer) = (net.clone(), conns.clone(), observer.clone());
        let (rtp, rtcp) = (rtp.clone(), rtcp.clone());
        async move {
            let mut count = 0u64;
            while let Ok((stream, peer)) = listener.accept().await {
                count += 1;
                let session = ServerSession::new(config.clone(), mix64(seed ^ count), net.now());
                let conn = Conn {
                    peer: peer.ip(),
                    session: Rc::new(RefCell::new(session)),
                    wake: Rc::new(Notify::new()),
                };
                let task = connection(
                    net.clone(),
                    stream,
                    peer,
                    conn.session.clone(),
                    conn.wake.clone(),
                    rtp.clone(),
                    rtcp.clone(),
                    observer.clone(),
                );
                conns.borrow_mut().push(conn);
                tokio::task::spawn_local(task);
            }
        }
    };
    tokio::task::spawn_local(accept);
    while let Some(unit) = source.next(net).await {
        if stop.is_some_and(|s| net.now() >= s) {
            break;
        }
        let now = net.now();
        conns
            .borrow_mut()
            .retain(|c| !c.session.borrow().is_closed());
        for c in conns.borrow().iter() {
            let mut s = c.session.borrow_mut();
            if s.is_playing() {
                s.handle_access_unit(now, &unit)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                c.wake.notify_one();
            }
        }
    }
    for c in conns.borrow().iter() {
        c.session.borrow_mut().shutdown();
        c.wake.notify_one();
    }
    // Give the connections a moment to send their BYEs.
    net.sleep_until(net.now() + Duration::from_millis(100))
        .await;
    Ok(())
}

async fn read_rtcp<N: Net>(net: N, socket: Rc<N::Udp>, conns: Conns) {
    let mut buf = vec![0u8; 65_536];
    while let Ok((n, from)) = socket.recv_from(&mut buf).await {
        let now = net.now();
        for c in conns.borrow().iter() {
            if c.peer != from.ip() {
                continue;
            }
            let mut s = c.session.borrow_mut();
            let ours = s.transports().iter().any(
                |(_, t)| matches!(t, TrackTransport::Udp { rtcp, .. } if *rtcp == from.port()),
            );
            if ours {
                s.handle_rtcp(now, &buf[..n]);
                c.wake.notify_one();
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn connection<N: Net>(
    net: N,
    mut stream: N::Stream,
    peer: SocketAddr,
    session: Rc<RefCell<ServerSession>>,
    wake: Rc<Notify>,
    rtp: Rc<N::Udp>,
    rtcp: Rc<N::Udp>,
    observer: Rc<dyn ServerObserver>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut retransmitted = 0;
    loop {
        let (transmits, events, closed, deadline) = {
            let mut s = session.borrow_mut();
            let rtx = s.counters().retransmissions;
            if rtx > retransmitted {
                observer.retransmitted(rtx - retransmitted);
                retransmitted = rtx;
            }
            let t: Vec<Transmit> = std::iter::from_fn(|| s.poll_transmit()).collect();
            let e: Vec<RtspEvent> = std::iter::from_fn(|| s.poll_event()).collect();
            (t, e, s.is_closed(), s.poll_timeout())
        };
        for e in &events {
            observer.event(net.now(), peer, e);
        }
        for t in transmits {
            let sent = match t {
                Transmit::Tcp(bytes) => stream.write_all(&bytes).await,
                Transmit::Udp {
                    port,
                    rtcp: is_rtcp,
                    data,
                } => {
                    let to = SocketAddr::new(peer.ip(), port);
                    let socket = if is_rtcp { &rtcp } else { &rtp };
                    socket.send_to(&data, to).await.map(|_| ())
                }
            };
            if sent.is_err() {
                session.borrow_mut().shutdown();
                return;
            }
        }
        if closed {
            let _ = stream.shutdown().await;
            return;
        }
        tokio::select! {
            biased;
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => {
                    let mut s = session.borrow_mut();
                    s.shutdown();
                    drop(s);
                    continue;
                }
                Ok(n) => session.borrow_mut().handle_bytes(net.now(), &buf[..n]),
            },
            () = wake.notified() => {}
            () = sleep_until(&net, deadline) => session.borrow_mut().handle_timeout(net.now()),
        }
    }
}

/// How a client learns when a unit was captured.
#[derive(Clone, Copy, Debug)]
pub enum Timeline {
    /// From the server's SRs, whose NTP time is `epoch` + the network's
    /// clock (our own server in the simulator): latency is exact.
    SenderReports {
        /// The server's epoch.
        epoch: Duration,
    },
    /// Unknown (a real server): the first unit's arrival is taken as its
    /// capture.
    FirstArrival,
}

/// What a client tells the caller as it goes.
pub trait ClientObserver {
    /// A session event.
    fn event(&self, at: Duration, event: &RtspEvent);
    /// A player event.
    fn player(&self, event: &PlayerEvent);
}

/// Connects to `server` and runs `client` (fresh from
/// [`ClientSession::new`]) through `player` until `stop` (then tears
/// down) or the server closes; the caller keeps `client` for its counters.
pub async fn play<N: Net>(
    net: &N,
    server: SocketAddr,
    client: Rc<RefCell<ClientSession>>,
    player: &RefCell<Player>,
    timeline: Timeline,
    stop: Option<Duration>,
    observer: &dyn ClientObserver,
) -> io::Result<()> {
    let mut stream = net.connect(server).await?;
    let wake = Rc::new(Notify::new());
    let mut sockets: Vec<SocketPair<N::Udp>> = Vec::new();
    let mut anchors: BTreeMap<u32, (Duration, f64)> = BTreeMap::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut stopping = false;
    loop {
        let needed = client.borrow().udp_ports_needed();
        if let Some(n) = needed {
            let mut ports = Vec::new();
            for track in 0..n {
                let a = Rc::new(net.bind_udp(SocketAddr::from(([0, 0, 0, 0], 0))).await?);
                let b = Rc::new(net.bind_udp(SocketAddr::from(([0, 0, 0, 0], 0))).await?);
                ports.push((a.local_addr()?.port(), b.local_addr()?.port()));
                for (socket, rtcp) in [(a.clone(), false), (b.clone(), true)] {
                    let task = receive_udp(
                        net.clone(),
                        socket,
                        track,
                        rtcp,
                        client.clone(),
                        wake.clone(),
                    );
                    tokio::task::spawn_local(task);
                }
                sockets.push((a, b));
            }
            client.borrow_mut().handle_udp_ports(ports);
        }
        let (transmits, events, outputs, done, deadline) = {
            let mut c = client.borrow_mut();
            let t: Vec<_> = std::iter::from_fn(|| c.poll_transmit()).collect();
            let e: Vec<_> = std::iter::from_fn(|| c.poll_event()).collect();
            let o: Vec<_> = std::iter::from_fn(|| c.poll_output()).collect();
            (t, e, o, c.is_done(), c.poll_timeout())
        };
        for e in &events {
            observer.event(net.now(), e);
        }
        {
            let mut p = player.borrow_mut();
            for o in outputs {
                match o {
                    ClientOutput::Track(track) => p.handle_track(track),
                    ClientOutput::Unit { at, mut unit, wall } => {
                        let scale = client
                            .borrow()
                            .receivers()
                            .get(unit.track as usize)
                            .map_or(90_000, |r| r.media.clock_rate);
                        let anchor = anchors
                            .entry(unit.track)
                            .or_insert((at, unit.pts as f64 / f64::from(scale.max(1))));
                        unit.capture_time = capture(&timeline, *anchor, unit.pts, scale, wall);
                        p.handle_access_unit(at, unit);
                    }
                    ClientOutput::Damaged { at, track, pts } => {
                        p.handle_damaged(at, track, Some(pts))
                    }
                }
            }
            // What fell due is judged only now, after every unit that
            // arrived (or the jitter buffer released) before it was fed.
            p.handle_timeout(net.now());
            while let Some(e) = p.poll_event() {
                observer.player(&e);
            }
        }
        for t in transmits {
            match t {
                ClientTransmit::Tcp(bytes) => stream.write_all(&bytes).await?,
                ClientTransmit::Rtcp { track, data } => {
                    let port = client.borrow().server_ports(track).map(|p| p.1);
                    if let (Some(port), Some((_, socket))) = (port, sockets.get(track)) {
                        socket
                            .send_to(&data, SocketAddr::new(server.ip(), port))
                            .await?;
                    }
                }
            }
        }
        if done {
            if let Some(e) = client.borrow().error() {
                return Err(io::Error::other(e.to_owned()));
            }
            return Ok(());
        }
        let player_deadline = player.borrow().poll_timeout();
        let next = [deadline, player_deadline].into_iter().flatten().min();
        let stop_at = if stopping {
            Some(net.now() + Duration::from_secs(2))
        } else {
            stop
        };
        tokio::select! {
            biased;
            () = sleep_until(net, stop_at) => {
                if stopping {
                    return Ok(());
                }
                stopping = true;
                client.borrow_mut().stop();
            }
            read = stream.read(&mut buf) => match read? {
                0 => return Ok(()),
                n => client.borrow_mut().handle_bytes(net.now(), &buf[..n]),
            },
            () = wake.notified() => {}
            () = sleep_until(net, next) => client.borrow_mut().handle_timeout(net.now()),
        }
    }
}

async fn receive_udp<N: Net>(
    net: N,
    socket: Rc<N::Udp>,
    track: usize,
    rtcp: bool,
    client: Rc<RefCell<ClientSession>>,
    wake: Rc<Notify>,
) {
    let mut buf = vec![0u8; 65_536];
    while let Ok((n, _)) = socket.recv_from(&mut buf).await {
        client
            .borrow_mut()
            .handle_udp(net.now(), track, rtcp, &buf[..n]);
        wake.notify_one();
    }
}

/// A unit's capture time: from the SRs when the timeline has them, else
/// its track's first unit's arrival (`anchor`: arrival, pts in seconds)
/// plus the pts difference.
fn capture(
    timeline: &Timeline,
    anchor: (Duration, f64),
    pts: i64,
    scale: u32,
    wall: Option<Duration>,
) -> Duration {
    if let (Timeline::SenderReports { epoch }, Some(wall)) = (timeline, wall) {
        return wall.saturating_sub(*epoch);
    }
    let seconds = pts as f64 / f64::from(scale.max(1));
    let (t0, s0) = anchor;
    let offset = seconds - s0;
    if offset >= 0.0 {
        t0 + Duration::from_secs_f64(offset.min(1e9))
    } else {
        t0.saturating_sub(Duration::from_secs_f64((-offset).min(1e9)))
    }
}

async fn sleep_until<N: Net>(net: &N, at: Option<Duration>) {
    match at {
        Some(at) => net.sleep_until(at).await,
        None => std::future::pending().await,
    }
}
