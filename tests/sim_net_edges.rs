//! Edge cases of the simulated `Net` that the conformance suite does not
//! reach: listener slots after a reset, timing of an immediate reply, UDP
//! sockets dropped with datagrams queued, oversized datagrams, ports in use,
//! a reset after our own half-close, and timing settings the harness refuses.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use streamsim::net::{Net, NetListener, NetStream, NetUdp, SimNet};
use streamsim::sim::{Harness, SimConfig, SimError, Topology};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Log = Rc<RefCell<Vec<String>>>;

/// Runs `server` and `client` for `seconds` over 5 ms links and returns what
/// the client logged.
fn run<S, SF, C, CF>(seconds: u64, server: S, client: C) -> Vec<String>
where
    S: Fn(SimNet, Log) -> SF + 'static,
    SF: std::future::Future<Output = ()> + 'static,
    C: Fn(SimNet, Log) -> CF + 'static,
    CF: std::future::Future<Output = ()> + 'static,
{
    run_over("delay 5ms", "delay 5ms", seconds, server, client)
}

/// Like [`run`], with the server → client and client → server links given.
fn run_over<S, SF, C, CF>(down: &str, up: &str, seconds: u64, server: S, client: C) -> Vec<String>
where
    S: Fn(SimNet, Log) -> SF + 'static,
    SF: std::future::Future<Output = ()> + 'static,
    C: Fn(SimNet, Log) -> CF + 'static,
    CF: std::future::Future<Output = ()> + 'static,
{
    let topology = Topology::pair(
        "server",
        "client",
        down.parse().unwrap(),
        up.parse().unwrap(),
    );
    let config = SimConfig {
        duration: Duration::from_secs(seconds),
        ..SimConfig::default()
    };
    let log: Log = Rc::default();
    let mut harness = Harness::new(config, topology).unwrap();
    let l = log.clone();
    harness
        .app("server", move |net| server(net, l.clone()))
        .unwrap();
    let l = log.clone();
    harness
        .app("client", move |net| client(net, l.clone()))
        .unwrap();
    harness.run(|_| {}).unwrap();
    log.take()
}

fn any(port: u16) -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], port))
}

#[test]
fn a_reset_before_accept_does_not_cost_a_backlog_slot() {
    let log = run(
        3,
        |net, _| async move {
            let listener = net.listen(any(7000), 1).await.unwrap();
            // Accept nothing for a second, then serve whoever is there.
            tokio::time::sleep(Duration::from_secs(1)).await;
            while let Ok((mut s, _)) = listener.accept().await {
                let _ = s.write_all(b"hello").await;
                let _ = s.shutdown().await;
            }
        },
        |net, log| async move {
            let server = net.resolve("server", 7000).await.unwrap();
            let first = net.connect(server).await.unwrap();
            first.reset();
            tokio::time::sleep(Duration::from_millis(50)).await;
            let mut second = net.connect(server).await.unwrap();
            let mut got = Vec::new();
            let result =
                tokio::time::timeout(Duration::from_secs(1), second.read_to_end(&mut got)).await;
            log.borrow_mut()
                .push(format!("{result:?} {}", String::from_utf8_lossy(&got)));
        },
    );
    assert_eq!(log, vec!["Ok(Ok(5)) hello".to_owned()]);
}

#[test]
fn an_immediate_reply_leaves_at_the_instant_it_is_written() {
    // Two pings leave back to back; at 8 Mbit/s their 128-byte packets reach
    // the server 0.128 ms apart, within one millisecond. Each echo must leave
    // when its ping arrives, not when the stack next has something to do.
    let log = run_over(
        "delay 5ms",
        "delay 5ms rate 8mbit",
        2,
        |net, _| async move {
            let socket = net.bind_udp(any(7001)).await.unwrap();
            let mut buf = [0u8; 128];
            while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                let _ = socket.send_to(&buf[..n], from).await;
            }
        },
        |net, log| async move {
            let socket = net.bind_udp(any(0)).await.unwrap();
            let server = net.resolve("server", 7001).await.unwrap();
            let sent = net.now();
            for _ in 0..2 {
                socket.send_to(&[7; 100], server).await.unwrap();
            }
            for _ in 0..2 {
                let mut buf = [0u8; 128];
                socket.recv_from(&mut buf).await.unwrap();
                log.borrow_mut().push(format!("{:?}", net.now() - sent));
            }
        },
    );
    // 5 ms each way plus 0.128 ms per packet of serialization on the way up.
    assert_eq!(log, vec!["10.128ms", "10.256ms"]);
}

#[test]
fn datagrams_queued_before_a_socket_is_dropped_still_leave() {
    let log = run(
        2,
        |net, _| async move {
            let socket = net.bind_udp(any(0)).await.unwrap();
            let client = net.resolve("client", 7002).await.unwrap();
            for i in 0..10u8 {
                socket.send_to(&[i; 100], client).await.unwrap();
            }
            drop(socket);
            // The port is free again once the queue has drained.
            tokio::time::sleep(Duration::from_millis(10)).await;
        },
        |net, log| async move {
            let socket = net.bind_udp(any(7002)).await.unwrap();
            let mut buf = [0u8; 200];
            let mut count = 0;
            while let Ok(Ok(_)) =
                tokio::time::timeout(Duration::from_millis(500), socket.recv_from(&mut buf)).await
            {
                count += 1;
            }
            log.borrow_mut().push(count.to_string());
        },
    );
    assert_eq!(log, vec!["10"]);
}

#[test]
fn oversized_datagrams_and_ports_in_use_are_refused() {
    let log = run(
        1,
        |_, _| async move {},
        |net, log| async move {
            let mut l = Vec::new();
            let a = net.bind_udp(any(7003)).await.unwrap();
            l.push(format!(
                "{:?}",
                net.bind_udp(any(7003)).await.err().map(|e| e.kind())
            ));
            let server = net.resolve("server", 9).await.unwrap();
            l.push(format!(
                "{:?}",
                a.send_to(&[0; 1473], server).await.err().map(|e| e.kind())
            ));
            l.push(format!(
                "{:?}",
                a.send_to(&[0; 1472], server).await.map_err(|e| e.kind())
            ));
            let _listener = net.listen(any(7004), 2).await.unwrap();
            l.push(format!(
                "{:?}",
                net.listen(any(7004), 2).await.err().map(|e| e.kind())
            ));
            let me = SocketAddr::new(net.addr().into(), 7004);
            l.push(format!(
                "{:?}",
                net.connect(me).await.err().map(|e| e.kind())
            ));
            *log.borrow_mut() = l;
        },
    );
    let expected = [
        format!("{:?}", Some(io::ErrorKind::AddrInUse)),
        format!("{:?}", Some(io::ErrorKind::InvalidInput)),
        "Ok(1472)".to_owned(),
        format!("{:?}", Some(io::ErrorKind::AddrInUse)),
        format!("{:?}", Some(io::ErrorKind::Unsupported)),
    ];
    assert_eq!(log, expected);
}

#[test]
fn a_reset_after_our_half_close_reads_as_a_reset() {
    let log = run(
        2,
        |net, _| async move {
            let listener = net.listen(any(7005), 1).await.unwrap();
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf).await; // the client's FIN
            s.reset();
            std::future::pending::<()>().await;
        },
        |net, log| async move {
            let server = net.resolve("server", 7005).await.unwrap();
            let mut s = net.connect(server).await.unwrap();
            s.write_all(b"bye").await.unwrap();
            s.shutdown().await.unwrap();
            let mut buf = [0u8; 8];
            let result = s.read(&mut buf).await;
            log.borrow_mut()
                .push(format!("{:?}", result.map_err(|e| e.kind())));
        },
    );
    assert_eq!(
        log,
        vec![format!(
            "{:?}",
            Err::<usize, _>(io::ErrorKind::ConnectionReset)
        )]
    );
}

#[test]
fn timing_the_clock_cannot_honour_is_refused() {
    let topology = || Topology::pair("a", "b", Default::default(), Default::default());
    for tick in [
        Duration::from_micros(500),
        Duration::from_micros(1_500),
        Duration::ZERO,
    ] {
        let config = SimConfig {
            tick,
            ..SimConfig::default()
        };
        assert!(
            matches!(
                Harness::new(config, topology()),
                Err(SimError::BadTiming { .. })
            ),
            "tick {tick:?}"
        );
    }
    let config = SimConfig {
        duration: Duration::MAX,
        ..SimConfig::default()
    };
    assert!(matches!(
        Harness::new(config, topology()),
        Err(SimError::BadTiming { .. })
    ));
}
