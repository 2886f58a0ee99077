//! `[[session]]`: the protocols that run between hosts.
//!
//! Defaults: `name` is the protocol's name, then `-2`, `-3` … when taken
//! (names written in the file are taken first); `server` is `server`;
//! `clients` is every host linked to the server, in host order (an integer
//! N takes the first N of them); `port` is 5001 + index for `tcp-bulk` and
//! 5004 + 2 × index for `udp-cbr` (index = the session's place in the file),
//! moved up by the same step while another session uses it.
//!
//! Invariants: names and ports are unique; every client is a host other
//! than the server and directly linked to it (no routing); `start` is
//! before the end of the run and `stop` after `start`; a UDP payload fits
//! one packet at the scenario's MTU (the stack does not fragment).

mod settle;

use std::time::Duration;

use super::diag::Span;
use super::reader::{self, bitrate, duration, integer, size, tables, At, Ctx, Item, Table};
use super::topology::{host, Topology};
use super::units::fmt_duration;
use super::{ProtocolKind, ProtocolOptions, SessionSpec};
use toml::de::DeValue;

/// IPv4 + UDP header bytes in front of a datagram's payload.
const UDP_HEADERS: usize = 28;

/// A session as read, before names and ports are settled.
struct Draft {
    header: Span,
    kind: ProtocolKind,
    name: Option<At<String>>,
    port: Option<At<u16>>,
    /// The settled name and port.
    settled: (String, u16),
    /// The rest, when valid.
    spec: Option<SessionSpec>,
}

/// What sessions need to know about the rest of the scenario.
pub(crate) struct Context<'a> {
    /// Hosts and links.
    pub topology: &'a Topology,
    /// The run's duration, when valid.
    pub run: Option<Duration>,
    /// The MTU in bytes.
    pub mtu: usize,
}

/// Reads every `[[session]]`.
pub(crate) fn read(cx: &mut Ctx, root: &mut Table, env: &Context) -> Vec<SessionSpec> {
    let Some(item) = root.get("session") else {
        return Vec::new();
    };
    let mut drafts = Vec::new();
    for (index, mut t) in tables(cx, item, "session").into_iter().enumerate() {
        if let Some(d) = draft(cx, &mut t, env) {
            drafts.push((index, d));
        }
        t.finish(cx);
    }
    settle::settle_names(cx, &mut drafts);
    settle::settle_ports(cx, &mut drafts);
    drafts
        .into_iter()
        .filter_map(|(_, d)| {
            let (name, port) = d.settled;
            d.spec.map(|spec| SessionSpec { name, port, ..spec })
        })
        .collect()
}

/// Reads one `[[session]]`; `None` when its protocol is unknown or missing.
/// A session with other errors is kept without a spec, so that its name
/// and port are still checked against the others.
fn draft(cx: &mut Ctx, t: &mut Table, env: &Context) -> Option<Draft> {
    let protocol = t.required(cx, "protocol").and_then(|it| protocol(cx, it));
    let name = t.read(cx, "name", |cx, it| {
        reader::name(cx, it, false).map(str::to_owned)
    });
    let server = server(cx, t, env);
    let clients = t.get("clients");
    let start = t.read(cx, "start", duration);
    let stop = t.read(cx, "stop", duration);
    let port = t.read(cx, "port", |cx, it| {
        integer(cx, it, 1, 65535).map(|p| p as u16)
    });
    let bytes = t.get("bytes");
    let rate = t.get("bitrate");
    let payload = t.get("payload");
    let clients = server
        .as_deref()
        .and_then(|server| clients_of(cx, t.span, clients, server, env));
    let times = times(cx, start, stop, env.run);
    // Without a protocol, its own keys cannot be checked.
    let protocol = protocol?;
    let bytes = only(cx, bytes, protocol, ProtocolKind::TcpBulk);
    let rate = only(cx, rate, protocol, ProtocolKind::UdpCbr);
    let payload = only(cx, payload, protocol, ProtocolKind::UdpCbr);
    let options = options(cx, t, protocol, [bytes, rate, payload], env.mtu);
    let spec = (|| {
        let (options, server, clients, (start, stop)) = (options?, server?, clients?, times?);
        Some(SessionSpec {
            name: String::new(),
            server,
            clients,
            start,
            stop,
            port: 0,
            protocol: options,
        })
    })();
    Some(Draft {
        header: t.span,
        kind: protocol,
        name,
        port,
        settled: (String::new(), 0),
        spec,
    })
}

/// `item` when the session runs `kind`; an error naming `kind` otherwise.
fn only<'t, 'i>(
    cx: &mut Ctx,
    item: Option<Item<'t, 'i>>,
    protocol: ProtocolKind,
    kind: ProtocolKind,
) -> Option<Item<'t, 'i>> {
    let it = item?;
    if protocol == kind {
        return Some(it);
    }
    let (key, kind) = (it.key, kind.as_str());
    cx.error(
        it.key_span,
        format!("`{key}` applies to {kind} sessions only"),
    );
    None
}

/// The protocol's own keys: `bytes` (tcp-bulk), `bitrate` and `payload`
/// (udp-cbr).
fn options(
    cx: &mut Ctx,
    t: &Table,
    protocol: ProtocolKind,
    [bytes, rate, payload]: [Option<Item>; 3],
    mtu: usize,
) -> Option<ProtocolOptions> {
    match protocol {
        ProtocolKind::TcpBulk => Some(ProtocolOptions::TcpBulk {
            limit: match bytes {
                Some(it) => Some(positive(cx, it)?),
                None => None,
            },
        }),
        ProtocolKind::UdpCbr => {
            let Some(rate) = rate else {
                let place = t.place();
                cx.error(
                    t.span,
                    format!("missing required key `bitrate` {place} (udp-cbr sends at it)"),
                );
                return None;
            };
            let bitrate = bitrate(cx, rate);
            let payload = match payload {
                Some(it) => payload_size(cx, it, mtu),
                None => Some(1316),
            };
            let (bitrate, payload) = (bitrate?, payload?);
            let per_second = bitrate as f64 / (payload as f64 * 8.0);
            if per_second > MAX_DATAGRAMS_PER_SECOND {
                cx.error(
                    rate.span,
                    format!(
                        "`bitrate` {} in {payload}-byte datagrams is {per_second:.0} datagrams/s; \
                         at most {MAX_DATAGRAMS_PER_SECOND:.0} are simulated (raise `payload` or lower `bitrate`)",
                        crate::metrics::Unit::BitsPerSecond.format(bitrate as f64)
                    ),
                );
                return None;
            }
            Some(ProtocolOptions::UdpCbr { bitrate, payload })
        }
    }
}

/// The most datagrams per second a `udp-cbr` session may send: 10 Gbit/s of
/// full-sized datagrams, and a bound on the simulation's work per second.
pub const MAX_DATAGRAMS_PER_SECOND: f64 = 1_000_000.0;

/// `protocol`: one this version runs.
fn protocol(cx: &mut Ctx, item: Item) -> Option<ProtocolKind> {
    let text = reader::string(cx, item)?;
    if let Some(kind) = ProtocolKind::ALL.into_iter().find(|k| k.as_str() == text) {
        return Some(kind);
    }
    let names = ProtocolKind::ALL.map(ProtocolKind::as_str);
    let runs = names.join(", ");
    let hint = match reader::suggest(text, &names) {
        Some(s) => format!("; did you mean {s:?}?"),
        None => String::new(),
    };
    cx.error(
        item.span,
        format!("unknown protocol {text:?} (this version runs: {runs}){hint}"),
    );
    None
}

/// `server`: a host (default `server`).
fn server(cx: &mut Ctx, t: &mut Table, env: &Context) -> Option<String> {
    let hosts = &env.topology.hosts;
    match t.get("server") {
        Some(it) if env.topology.hosts_known => host(cx, it, hosts).map(str::to_owned),
        Some(it) => reader::string(cx, it).map(str::to_owned),
        None if !env.topology.hosts_known || hosts.iter().any(|h| h == "server") => {
            Some("server".to_owned())
        }
        None => {
            cx.error(
                t.span,
                format!(
                    "this session has no `server` and there is no host named \"server\"; set `server` to one of: {}",
                    hosts.join(", ")
                ),
            );
            None
        }
    }
}

/// `clients`: a list of hosts, a count, or every host linked to `server`.
fn clients_of(
    cx: &mut Ctx,
    header: Span,
    item: Option<Item>,
    server: &str,
    env: &Context,
) -> Option<Vec<String>> {
    let topology = env.topology;
    let linked: Vec<&String> = topology
        .hosts
        .iter()
        .filter(|h| topology.linked(server, h))
        .collect();
    let Some(item) = item else {
        if linked.is_empty() && topology.links_complete {
            cx.error(
                header,
                format!("no host is linked to server {server:?}; add a [[link]] or set `server`"),
            );
            return None;
        }
        return Some(linked.into_iter().cloned().collect());
    };
    let list = match item.value {
        DeValue::Integer(_) => {
            let n = integer(cx, item, 1, i128::from(u16::MAX))? as usize;
            if n > linked.len() && topology.links_complete {
                cx.error(
                    item.span,
                    format!(
                        "`clients` = {n}, but only {} hosts are linked to server {server:?}",
                        linked.len()
                    ),
                );
                return None;
            }
            return Some(linked.into_iter().take(n).cloned().collect());
        }
        DeValue::Array(list) if !list.is_empty() => list,
        _ => return reader::expected(cx, item, "a list of client hosts or a number of clients"),
    };
    let mut clients: Vec<String> = Vec::new();
    let mut ok = true;
    for element in list.iter() {
        let element = Item::element("clients", element);
        let client = if topology.hosts_known {
            host(cx, element, &topology.hosts)
        } else {
            reader::string(cx, element)
        };
        let Some(client) = client else {
            ok = false;
            continue;
        };
        let problem = if client == server {
            Some(format!(
                "client {client:?} is the session's server; a client must be another host"
            ))
        } else if clients.iter().any(|c| c == client) {
            Some(format!("client {client:?} is listed twice"))
        } else if topology.links_complete && !topology.linked(server, client) {
            Some(format!(
                "client {client:?} is not linked to server {server:?}; add a [[link]] with between = [{server:?}, {client:?}]"
            ))
        } else {
            None
        };
        match problem {
            Some(message) => {
                cx.error(element.span, message);
                ok = false;
            }
            None => clients.push(client.to_owned()),
        }
    }
    ok.then_some(clients)
}

/// `start` (default 0s) before the end of the run; `stop` after `start`
/// and at most the end.
fn times(
    cx: &mut Ctx,
    start: Option<At<Duration>>,
    stop: Option<At<Duration>>,
    run: Option<Duration>,
) -> Option<(Duration, Option<Duration>)> {
    let begin = start.map_or(Duration::ZERO, |s| s.value);
    let mut ok = true;
    if let (Some(s), Some(run)) = (start, run) {
        if s.value >= run {
            let (s_text, run_text) = (fmt_duration(s.value), fmt_duration(run));
            cx.error(
                s.span,
                format!("`start` is {s_text}, not before the end of the run ({run_text})"),
            );
            ok = false;
        }
    }
    if let Some(end) = stop {
        let end_text = fmt_duration(end.value);
        if end.value <= begin {
            let begin_text = fmt_duration(begin);
            cx.error(
                end.span,
                format!("`stop` is {end_text}, not after `start` ({begin_text})"),
            );
            ok = false;
        } else if let Some(run) = run.filter(|run| end.value > *run) {
            let run_text = fmt_duration(run);
            cx.error(
                end.span,
                format!("`stop` is {end_text}, after the end of the run ({run_text})"),
            );
            ok = false;
        }
    }
    ok.then_some((begin, stop.map(|s| s.value)))
}

/// A size above zero.
fn positive(cx: &mut Ctx, item: Item) -> Option<u64> {
    match size(cx, item)? {
        0 => {
            cx.error(item.span, format!("`{}` must be above 0 bytes", item.key));
            None
        }
        n => Some(n),
    }
}

/// `payload`: 16..=65507 bytes, and one packet at `mtu`.
fn payload_size(cx: &mut Ctx, item: Item, mtu: usize) -> Option<usize> {
    let bytes = size(cx, item)?;
    let fits = mtu.saturating_sub(UDP_HEADERS);
    let message = if !(16..=65507).contains(&bytes) {
        format!("`payload` must be between 16 and 65507 bytes, found {bytes}")
    } else if bytes as usize > fits {
        format!("`payload` of {bytes} bytes does not fit one packet at mtu {mtu} (at most {fits} bytes; packets are not fragmented)")
    } else {
        return Some(bytes as usize);
    };
    cx.error(item.span, message);
    None
}
