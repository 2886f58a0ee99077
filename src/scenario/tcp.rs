//! `[tcp]`: the TCP every host runs.
//!
//! `profile` picks the preset (`linux`, the default; `ns3`; `smoltcp`) and
//! every other key overrides one of its settings, whatever the order they
//! are written in:
//!
//! | key | meaning | `linux` | `ns3` |
//! |---|---|---|---|
//! | `congestion` | `reno`, `newreno` or `cubic` | cubic | newreno |
//! | `hystart` | HyStart++ in slow start | true | false |
//! | `sack` | SACK and SACK-based recovery | true | true |
//! | `rack` | RACK-TLP loss detection (needs SACK) | true | false |
//! | `prr` | Proportional Rate Reduction | true | true |
//! | `timestamps` | RFC 7323 timestamps | true | true |
//! | `min_rto`, `max_rto` | bounds of the retransmission timeout | 200ms, 120s | 1s, 60s |
//! | `initial_window` | segments | 10 | 10 |
//! | `ack_every` | full segments per delayed ACK | 2 | 2 |
//! | `ack_delay` | delayed-ACK timer, or `"off"` | 40ms | 200ms |
//! | `mss` | payload bytes per segment | MTU − 40 − 12 | MTU − 40 − 12 |
//! | `buffer`, `rx_buffer`, `tx_buffer` | socket buffers | from the path | from the path |
//! | `nagle` | Nagle's algorithm | false | false |
//! | `time_wait` | TIME-WAIT length | 1s | 1s |
//!
//! Buffers default to what the path needs ([`crate::sim::default_tcp_buffer`]),
//! the MSS to the MTU less 40 bytes of headers and 12 of timestamps. The
//! `smoltcp` profile runs smoltcp's TCP instead of ours, for comparison; it
//! has only `congestion` (Reno for `reno` and `newreno`), `ack_delay`,
//! `nagle` and the buffers, and any other key is an error there.
//! `sack = false` turns RACK off too, unless `rack = true` is written,
//! which is an error (RACK needs SACK).

use std::time::Duration;

use super::diag::Span;
use super::reader::{boolean, choice, duration, integer, size, At, Ctx, Item, Table};
use super::MAX_TCP_BUFFER;
use crate::net::tcp::CongestionKind;
use crate::net::{HostTcp, TcpProfile};

/// Keys smoltcp's TCP has no counterpart for.
const OURS_ONLY: [&str; 11] = [
    "hystart",
    "sack",
    "rack",
    "prr",
    "timestamps",
    "min_rto",
    "max_rto",
    "initial_window",
    "ack_every",
    "mss",
    "time_wait",
];

/// Reads `[tcp]`; returns the settings and where `mss` is written (checked
/// against the MTU by [`check_mss`] once the MTU is known).
pub(crate) fn read(cx: &mut Ctx, root: &mut Table) -> (HostTcp, Option<Span>) {
    let Some(mut t) = root.get("tcp").and_then(|it| Table::of(cx, it, "in [tcp]")) else {
        return (HostTcp::default(), None);
    };
    let names: Vec<&'static str> = TcpProfile::ALL.iter().map(|p| p.name()).collect();
    let profile = t
        .read(cx, "profile", |cx, it| {
            choice(cx, it, "TCP profile", &names)
        })
        .and_then(|p| TcpProfile::ALL.into_iter().find(|q| q.name() == p.value))
        .unwrap_or_default();
    let mut tcp = HostTcp::profile(profile);
    if profile == TcpProfile::Smoltcp {
        for key in OURS_ONLY {
            t.note(
                key,
                format!("`{key}` is a setting of streamsim's TCP, which the `smoltcp` profile does not run; smoltcp has only congestion, ack_delay, nagle and the buffers"),
            );
        }
    }
    let c = &mut tcp.conn;
    if let Some(k) = t.read(cx, "congestion", |cx, it| {
        choice(cx, it, "congestion control", &["cubic", "newreno", "reno"])
    }) {
        c.congestion = match k.value {
            "reno" => CongestionKind::Reno,
            "newreno" => CongestionKind::NewReno,
            _ => CongestionKind::Cubic,
        };
    }
    if let Some(b) = t.read(cx, "buffer", buffer("buffer")) {
        (c.recv_buffer, c.send_buffer) = (b.value, b.value);
    }
    if let Some(b) = t.read(cx, "rx_buffer", buffer("rx_buffer")) {
        c.recv_buffer = b.value;
    }
    if let Some(b) = t.read(cx, "tx_buffer", buffer("tx_buffer")) {
        c.send_buffer = b.value;
    }
    if let Some(a) = t.read(cx, "ack_delay", |cx, it| match it.value {
        toml::de::DeValue::String(s) if s.as_ref() == "off" => Some(None),
        _ => bounded(cx, it, Duration::from_millis(1), Duration::from_secs(1)).map(Some),
    }) {
        c.ack_delay = a.value;
    }
    if let Some(n) = t.read(cx, "nagle", boolean) {
        c.nagle = n.value;
    }
    if profile == TcpProfile::Smoltcp {
        t.finish(cx);
        return (tcp, None);
    }
    for (key, slot) in [
        ("hystart", &mut c.hystart),
        ("prr", &mut c.prr),
        ("timestamps", &mut c.timestamps),
    ] {
        if let Some(v) = t.read(cx, key, boolean) {
            *slot = v.value;
        }
    }
    if let Some(v) = t.read(cx, "sack", boolean) {
        c.sack = v.value;
        if !v.value {
            c.rack = false;
        }
    }
    if let Some(v) = t.read(cx, "rack", boolean) {
        if v.value && !c.sack {
            cx.error(
                v.span,
                "`rack = true` needs SACK: RACK-TLP detects losses from SACKed segments; remove `sack = false` or set `rack = false`",
            );
        }
        c.rack = v.value;
    }
    let min_rto = t.read(cx, "min_rto", |cx, it| {
        bounded(cx, it, Duration::from_millis(1), Duration::from_secs(60))
    });
    let max_rto = t.read(cx, "max_rto", |cx, it| {
        bounded(cx, it, Duration::from_millis(1), Duration::from_secs(600))
    });
    if let Some(m) = min_rto {
        c.min_rto = m.value;
    }
    if let Some(m) = max_rto {
        c.max_rto = m.value;
    }
    if c.min_rto > c.max_rto {
        let span = max_rto.or(min_rto).map_or(t.span, |m| m.span);
        cx.error(
            span,
            format!(
                "`min_rto` ({:?}) is above `max_rto` ({:?})",
                c.min_rto, c.max_rto
            ),
        );
    }
    if let Some(n) = t.read(cx, "initial_window", |cx, it| integer(cx, it, 1, 1000)) {
        c.initial_window = n.value as u32;
    }
    if let Some(n) = t.read(cx, "ack_every", |cx, it| integer(cx, it, 1, 64)) {
        c.ack_every = n.value as u32;
    }
    if let Some(d) = t.read(cx, "time_wait", |cx, it| {
        bounded(cx, it, Duration::ZERO, Duration::from_secs(240))
    }) {
        c.time_wait = d.value;
    }
    let mss = t.read(cx, "mss", |cx, it| integer(cx, it, 88, 9000));
    if let Some(m) = mss {
        c.mss = m.value as u16;
    }
    t.finish(cx);
    (tcp, mss.map(|m: At<i128>| m.span))
}

/// Checks a written `mss` against the MTU: a segment with its headers and
/// options must fit in one packet.
pub(crate) fn check_mss(cx: &mut Ctx, tcp: &mut HostTcp, span: Option<Span>, mtu: usize) {
    let Some(span) = span else { return };
    let options = if tcp.conn.timestamps { 12 } else { 0 };
    let largest = mtu.saturating_sub(40 + options);
    if usize::from(tcp.conn.mss) > largest {
        cx.error(
            span,
            format!(
                "`mss` {} does not fit the MTU of {mtu} bytes: at most {largest} (MTU − 40 bytes of IPv4 and TCP headers{})",
                tcp.conn.mss,
                if options > 0 { " − 12 of timestamps" } else { "" }
            ),
        );
    }
}

/// A buffer size of at most [`MAX_TCP_BUFFER`].
fn buffer(key: &'static str) -> impl Fn(&mut Ctx, Item) -> Option<usize> {
    move |cx, it| {
        let bytes = size(cx, it)?;
        if bytes > MAX_TCP_BUFFER {
            cx.error(
                it.span,
                format!(
                    "`{key}` is larger than the 64MiB accepted (the bandwidth-delay product of 10 Gbit/s over a 50 ms round trip); every buffer is allocated in full"
                ),
            );
            return None;
        }
        usize::try_from(bytes).ok()
    }
}

/// A duration within `min..=max`.
fn bounded(cx: &mut Ctx, it: Item, min: Duration, max: Duration) -> Option<Duration> {
    let d = duration(cx, it)?;
    if d < min || d > max {
        cx.error(
            it.span,
            format!("`{}` must be between {min:?} and {max:?}", it.key),
        );
        return None;
    }
    Some(d)
}
