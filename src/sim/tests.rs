//! Harness tests: stopping a run early, and several apps on one host.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use super::{Harness, SimConfig, Topology};
use crate::net::{Net, NetUdp, SimNet};

fn any(port: u16) -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], port))
}

fn harness(seconds: u64) -> Harness {
    let link = || "delay 5ms".parse().unwrap();
    let topology = Topology::pair("server", "client", link(), link());
    let config = SimConfig {
        duration: Duration::from_secs(seconds),
        ..SimConfig::default()
    };
    Harness::new(config, topology).unwrap()
}

/// Sends a 100-byte datagram to the client's `port` every 10 ms, forever.
async fn send_every_10ms(net: SimNet, port: u16) {
    let socket = net.bind_udp(any(0)).await.unwrap();
    let client = net.resolve("client", port).await.unwrap();
    loop {
        socket.send_to(&[1; 100], client).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Receives on `port` forever.
async fn receive(net: SimNet, port: u16) {
    let socket = net.bind_udp(any(port)).await.unwrap();
    let mut buf = [0u8; 2048];
    while socket.recv_from(&mut buf).await.is_ok() {}
}

#[test]
fn stopping_early_reports_the_time_reached() {
    let mut h = harness(10);
    h.app("server", |net| send_every_10ms(net, 6000)).unwrap();
    h.app("client", |net| receive(net, 6000)).unwrap();
    let reached = Rc::new(Cell::new(Duration::ZERO));
    let seen = reached.clone();
    let report = h
        .run_until(
            move |p| seen.set(p.elapsed),
            || reached.get() >= Duration::from_secs(2),
        )
        .unwrap();
    assert!(!report.complete);
    assert_eq!(report.elapsed, Duration::from_secs(2));
    // The sender starts one tick in and sends every 10 ms: 200 datagrams
    // by 2 s, of which those sent in the last 5 ms are still in flight.
    let flows = report.udp_flows();
    assert_eq!(flows.len(), 1);
    assert!((199..=200).contains(&flows[0].sent), "{flows:?}");
    assert!(flows[0].sent - flows[0].received <= 1, "{flows:?}");
    let link = report.link("server->client").unwrap();
    assert_eq!(link.offered, flows[0].sent);
    assert!(link.delivered_bytes_bins.len() <= 21);
}

#[test]
fn a_run_to_its_duration_is_complete() {
    let mut h = harness(1);
    h.app("server", |net| send_every_10ms(net, 6000)).unwrap();
    let report = h.run(|_| {}).unwrap();
    assert!(report.complete);
    assert_eq!(report.elapsed, Duration::from_secs(1));
}

#[test]
fn apps_added_to_one_host_all_run_in_order() {
    let started = Rc::new(RefCell::new(Vec::new()));
    let mut h = harness(2);
    for (name, port) in [("first", 6001), ("second", 6002)] {
        let log = started.clone();
        // Logged at each app's first poll, so the log shows polling order.
        h.app("server", move |net| {
            let log = log.clone();
            async move {
                log.borrow_mut().push(name);
                send_every_10ms(net, port).await;
            }
        })
        .unwrap();
        h.app("client", move |net| receive(net, port)).unwrap();
    }
    let report = h.run(|_| {}).unwrap();
    assert_eq!(*started.borrow(), ["first", "second"]);
    let flows = report.udp_flows();
    let ports: Vec<u16> = flows.iter().map(|f| f.key.dst.port()).collect();
    assert_eq!(ports.len(), 2, "{flows:?}");
    assert!(ports.contains(&6001) && ports.contains(&6002), "{flows:?}");
    for flow in &flows {
        assert!(flow.received >= 190, "{flow:?}");
    }
}
