//! The UDP-TS server and client, generic over [`Net`]: they move datagrams
//! between sockets and the sans-IO [`TsSender`] / [`TsReceiver`], and hand
//! what arrives to the [`Player`]. They own no protocol logic.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use super::core::{ReceiverEvent, TsReceiver, TsSender};
use crate::net::{Net, NetUdp};
use crate::player::{Player, PlayerEvent};
use crate::proto::{CaptureClock, LiveSource};

/// Pushes `source` as TS in datagrams of `packets` × 188 bytes to every
/// address in `targets` until `stop` (or the source ends). `sent` sees the
/// size of each datagram sent, once per target.
pub async fn serve<N: Net>(
    net: &N,
    targets: &[SocketAddr],
    source: &mut LiveSource,
    packets: usize,
    stop: Option<Duration>,
    sent: &dyn Fn(usize),
) -> io::Result<()> {
    let mut sender = TsSender::new(source.tracks(), packets)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    let socket = net.bind_udp(SocketAddr::from(([0, 0, 0, 0], 0))).await?;
    while let Some(unit) = source.next(net).await {
        if stop.is_some_and(|s| net.now() >= s) {
            break;
        }
        sender
            .handle_access_unit(&unit)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        while let Some(datagram) = sender.poll_transmit() {
            for target in targets {
                socket.send_to(&datagram, *target).await?;
                sent(datagram.len());
            }
        }
    }
    Ok(())
}

/// How a client learns when a unit was captured.
#[derive(Clone, Copy, Debug)]
pub enum Timeline {
    /// The source's own clock (the simulator knows it): latency is exact.
    Source(CaptureClock),
    /// Unknown (a real sender): the first unit's arrival is taken as its
    /// capture, so latency is measured from there.
    FirstArrival,
}

/// Receives TS on `socket`, demuxes it and plays it through `player`;
/// every player event goes to `on_event`. Runs until the socket fails (in
/// the simulator, until the run ends).
pub async fn play<N: Net>(
    net: &N,
    socket: &N::Udp,
    receiver: &RefCell<TsReceiver>,
    player: &RefCell<Player>,
    timeline: Timeline,
    on_event: &dyn Fn(&PlayerEvent),
) -> io::Result<()> {
    let mut buf = vec![0u8; 65_536];
    let mut anchor: Option<(Duration, f64)> = None;
    // Track id → timescale, from the demuxer's announcements.
    let mut scales: BTreeMap<u32, u32> = BTreeMap::new();
    loop {
        let deadline = player.borrow().poll_timeout();
        tokio::select! {
            biased;
            received = socket.recv_from(&mut buf) => {
                let (n, _) = received?;
                let now = net.now();
                let mut rx = receiver.borrow_mut();
                rx.handle_datagram(now, &buf[..n]);
                let mut p = player.borrow_mut();
                while let Some(event) = rx.poll_event() {
                    match event {
                        ReceiverEvent::Track(track) => {
                            scales.insert(track.id, track.timescale);
                            p.handle_track(track);
                        }
                        ReceiverEvent::Unit { at, mut unit } => {
                            let scale = scales.get(&unit.track).copied().unwrap_or(90_000);
                            unit.capture_time = capture(&timeline, &mut anchor, at, unit.pts, scale);
                            p.handle_access_unit(at, unit);
                        }
                        ReceiverEvent::Damaged { at, track, pts } => p.handle_damaged(at, track, pts),
                    }
                }
            }
            _ = sleep_until(net, deadline) => {
                player.borrow_mut().handle_timeout(net.now());
            }
        }
        let mut p = player.borrow_mut();
        while let Some(event) = p.poll_event() {
            on_event(&event);
        }
    }
}

fn capture(
    timeline: &Timeline,
    anchor: &mut Option<(Duration, f64)>,
    at: Duration,
    pts: i64,
    timescale: u32,
) -> Duration {
    match timeline {
        Timeline::Source(clock) => clock.capture_time(pts, timescale),
        Timeline::FirstArrival => {
            let seconds = pts as f64 / f64::from(timescale.max(1));
            let (t0, s0) = *anchor.get_or_insert((at, seconds));
            let offset = seconds - s0;
            if offset >= 0.0 {
                t0 + Duration::from_secs_f64(offset.min(1e9))
            } else {
                t0.saturating_sub(Duration::from_secs_f64((-offset).min(1e9)))
            }
        }
    }
}

async fn sleep_until<N: Net>(net: &N, at: Option<Duration>) {
    match at {
        Some(at) => net.sleep_until(at).await,
        None => std::future::pending().await,
    }
}
