//! One conformance suite for both `Net` implementations.
//!
//! The server half sets up every listener and socket first, then serves each
//! case concurrently; the client half runs the cases in order and reports
//! one result per case. The same two functions run over the simulated stack
//! (two hosts in the harness) and over `tokio::net` on 127.0.0.1.

use std::cell::RefCell;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use streamsim::net::{Net, NetListener, NetStream, NetUdp, SimNet, TokioNet};
use streamsim::sim::{Harness, SimConfig, Topology};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where the client finds each case's server.
#[derive(Clone, Copy, Debug)]
struct Ports {
    echo: u16,
    reset: u16,
    backlog: u16,
    udp: u16,
    refused: u16,
}

const BIG: usize = 1 << 20;

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// Sets up every case's server and spawns its handler.
async fn serve<N: Net>(net: N, ip: IpAddr) -> io::Result<Ports> {
    let any = SocketAddr::new(ip, 0);
    let echo = net.listen(any, 8).await?;
    let reset = net.listen(any, 8).await?;
    let backlog = net.listen(any, 4).await?;
    let udp = net.bind_udp(any).await?;
    let refused = net.listen(any, 1).await?;
    let ports = Ports {
        echo: echo.local_addr()?.port(),
        reset: reset.local_addr()?.port(),
        backlog: backlog.local_addr()?.port(),
        udp: udp.local_addr()?.port(),
        refused: refused.local_addr()?.port(),
    };
    // Nothing listens on this port any more: connecting must be refused.
    drop(refused);
    // Two conns to the same listener must be ruled out before it is used.
    assert_eq!(
        net.listen(SocketAddr::new(ip, ports.echo), 1)
            .await
            .err()
            .map(|e| e.kind()),
        Some(io::ErrorKind::AddrInUse)
    );
    tokio::task::spawn_local(async move {
        // Echo until the client half-closes, then half-close back.
        while let Ok((mut s, _)) = echo.accept().await {
            tokio::task::spawn_local(async move {
                let mut buf = vec![0u8; 8192];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if s.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
                let _ = s.shutdown().await;
            });
        }
    });
    tokio::task::spawn_local(async move {
        while let Ok((mut s, _)) = reset.accept().await {
            let mut one = [0u8; 1];
            let _ = s.read_exact(&mut one).await;
            s.reset();
        }
    });
    tokio::task::spawn_local(async move {
        // Let connections queue in the backlog before accepting any.
        tokio::time::sleep(Duration::from_millis(300)).await;
        while let Ok((mut s, _)) = backlog.accept().await {
            let _ = s.write_all(b"accepted").await;
            let _ = s.shutdown().await;
        }
    });
    tokio::task::spawn_local(async move {
        let mut buf = vec![0u8; 2048];
        while let Ok((n, from)) = udp.recv_from(&mut buf).await {
            let _ = udp.send_to(&buf[..n], from).await;
        }
    });
    Ok(ports)
}

type Outcome = (&'static str, Result<(), String>);

/// Runs every case against the server at `ip`.
async fn exercise<N: Net>(net: N, ip: IpAddr, ports: Ports) -> Vec<Outcome> {
    vec![
        (
            "echo_with_half_close",
            echo(&net, SocketAddr::new(ip, ports.echo)).await,
        ),
        (
            "refused",
            refused(&net, SocketAddr::new(ip, ports.refused)).await,
        ),
        (
            "peer_reset",
            peer_reset(&net, SocketAddr::new(ip, ports.reset)).await,
        ),
        (
            "backlog",
            backlog(&net, SocketAddr::new(ip, ports.backlog)).await,
        ),
        (
            "udp_echo",
            udp_echo(&net, SocketAddr::new(ip, ports.udp)).await,
        ),
        ("foreign_address", foreign_address(&net).await),
    ]
}

fn fail<E: std::fmt::Debug>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e:?}")
}

async fn echo<N: Net>(net: &N, addr: SocketAddr) -> Result<(), String> {
    let s = net.connect(addr).await.map_err(fail("connect"))?;
    if s.peer_addr().map_err(fail("peer_addr"))? != addr {
        return Err("peer_addr differs from the address connected to".into());
    }
    let (mut rd, mut wr) = tokio::io::split(s);
    let data = pattern(BIG);
    let sent = data.clone();
    let writer = tokio::task::spawn_local(async move {
        wr.write_all(&sent).await?;
        wr.shutdown().await?; // half-close: the echo server sees EOF
        io::Result::Ok(wr)
    });
    let mut back = Vec::with_capacity(BIG);
    rd.read_to_end(&mut back)
        .await
        .map_err(fail("read_to_end"))?;
    writer.await.map_err(fail("join"))?.map_err(fail("write"))?;
    if back != data {
        return Err(format!(
            "echoed {} bytes differ from the {} sent",
            back.len(),
            data.len()
        ));
    }
    Ok(())
}

async fn refused<N: Net>(net: &N, addr: SocketAddr) -> Result<(), String> {
    match net.connect(addr).await {
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(()),
        Err(e) => Err(format!("expected ConnectionRefused, got {e:?}")),
        Ok(_) => Err("connected to a port nothing listens on".into()),
    }
}

async fn peer_reset<N: Net>(net: &N, addr: SocketAddr) -> Result<(), String> {
    let mut s = net.connect(addr).await.map_err(fail("connect"))?;
    s.write_all(b"x").await.map_err(fail("write"))?;
    let mut buf = [0u8; 16];
    let outcome = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
    match outcome {
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionReset => Ok(()),
        other => Err(format!("expected ConnectionReset, got {other:?}")),
    }
}

async fn backlog<N: Net>(net: &N, addr: SocketAddr) -> Result<(), String> {
    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(net.connect(addr).await.map_err(fail("connect"))?);
    }
    for mut s in streams {
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.map_err(fail("read"))?;
        if got != b"accepted" {
            return Err(format!("got {got:?}"));
        }
    }
    Ok(())
}

async fn udp_echo<N: Net>(net: &N, addr: SocketAddr) -> Result<(), String> {
    let unspecified = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
    let local = if addr.ip().is_loopback() {
        SocketAddr::new(addr.ip(), 0)
    } else {
        unspecified
    };
    let sock = net.bind_udp(local).await.map_err(fail("bind"))?;
    if sock.local_addr().map_err(fail("local_addr"))?.port() == 0 {
        return Err("port 0 was not replaced by a real port".into());
    }
    let mut buf = [0u8; 2048];
    for i in 0..20u8 {
        let msg = vec![i; 100 + usize::from(i)];
        sock.send_to(&msg, addr).await.map_err(fail("send_to"))?;
        let got = tokio::time::timeout(Duration::from_secs(2), sock.recv_from(&mut buf)).await;
        let (n, from) = got.map_err(fail("recv timeout"))?.map_err(fail("recv"))?;
        if from != addr || buf[..n] != msg[..] {
            return Err(format!("datagram {i}: {n} bytes from {from}"));
        }
    }
    Ok(())
}

/// Binding an address the host does not have fails, as the OS does. No
/// packet is sent: 192.0.2.1 is a documentation address (RFC 5737).
async fn foreign_address<N: Net>(net: &N) -> Result<(), String> {
    let foreign = SocketAddr::from(([192, 0, 2, 1], 0));
    match net.bind_udp(foreign).await {
        Err(e) if e.kind() == io::ErrorKind::AddrNotAvailable => {}
        other => {
            return Err(format!(
                "bind_udp: expected AddrNotAvailable, got {:?}",
                other.map(|_| ())
            ))
        }
    }
    match net.listen(foreign, 1).await {
        Err(e) if e.kind() == io::ErrorKind::AddrNotAvailable => Ok(()),
        other => Err(format!(
            "listen: expected AddrNotAvailable, got {:?}",
            other.map(|_| ())
        )),
    }
}

fn assert_all_pass(world: &str, outcomes: &[Outcome]) {
    assert_eq!(outcomes.len(), 6, "{world}: every case ran");
    let failed: Vec<_> = outcomes.iter().filter(|(_, r)| r.is_err()).collect();
    assert!(failed.is_empty(), "{world}: failed cases: {failed:#?}");
}

#[test]
fn conformance_sim_net() {
    let link = "delay 5ms rate 50mbit".parse().unwrap();
    let topology = Topology::pair(
        "server",
        "client",
        link,
        "delay 5ms rate 50mbit".parse().unwrap(),
    );
    let config = SimConfig {
        duration: Duration::from_secs(20),
        ..SimConfig::default()
    };
    let ports: Rc<RefCell<Option<Ports>>> = Rc::default();
    let outcomes: Rc<RefCell<Vec<Outcome>>> = Rc::default();
    let mut harness = Harness::new(config, topology).unwrap();
    let p = ports.clone();
    harness
        .app("server", move |net: SimNet| {
            let p = p.clone();
            async move {
                let ip = IpAddr::V4(net.addr());
                *p.borrow_mut() = Some(serve(net, ip).await.expect("server setup"));
                std::future::pending::<()>().await;
            }
        })
        .unwrap();
    let (p, o) = (ports.clone(), outcomes.clone());
    harness
        .app("client", move |net: SimNet| {
            let (p, o) = (p.clone(), o.clone());
            async move {
                let ports = loop {
                    if let Some(ports) = *p.borrow() {
                        break ports;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                };
                let server = net
                    .resolve("server", 0)
                    .await
                    .expect("server resolves")
                    .ip();
                *o.borrow_mut() = exercise(net, server, ports).await;
            }
        })
        .unwrap();
    harness.run(|_| {}).unwrap();
    assert_all_pass("sim", &outcomes.borrow());
}

#[test]
fn conformance_tokio_net() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let outcomes = local.block_on(&rt, async {
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let ports = serve(TokioNet::new(), ip).await.expect("server setup");
        tokio::time::timeout(
            Duration::from_secs(60),
            exercise(TokioNet::new(), ip, ports),
        )
        .await
        .expect("cases finish")
    });
    assert_all_pass("tokio", &outcomes);
}
