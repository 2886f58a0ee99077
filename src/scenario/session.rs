//! `[[session]]`: the protocols that run between hosts.
//!
//! The keys every session has are read here; a protocol's own keys are
//! read from its [`OptionDef`]s (see [`crate::proto`]) and judged by its
//! check, so this file names no protocol.
//!
//! Defaults: `name` is the protocol's name, then `-2`, `-3` … when taken
//! (names written in the file are taken first); `server` is `server`;
//! `clients` is every host linked to the server, in host order (an integer
//! N takes the first N of them); `port` is the protocol's base + step ×
//! index (index = the session's place in the file; `tcp-bulk` 5001 + i,
//! UDP streams 5004 + 2i), moved up by the step while another session uses
//! it.
//!
//! Invariants: names and ports are unique; every client is a host other
//! than the server and directly linked to it (no routing); `start` is
//! before the end of the run and `stop` after `start`; the protocol's check
//! accepted its options (a UDP payload fits one packet at the scenario's
//! MTU, for one).

mod settle;

use std::time::Duration;

use super::diag::Span;
use super::reader::{
    self, bitrate, boolean, duration, integer, size, tables, At, Ctx, Item, Table,
};
use super::topology::{host, Topology};
use super::units::fmt_duration;
use super::SessionSpec;
use crate::proto::{self, CheckContext, OptionDef, OptionKind, OptionValue, Options, Protocol};
use toml::de::DeValue;

/// A session as read, before names and ports are settled.
struct Draft {
    header: Span,
    protocol: &'static Protocol,
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
    /// Whether the scenario has `[media]`.
    pub has_media: bool,
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
    let clients = server
        .as_deref()
        .and_then(|server| clients_of(cx, t.span, clients, server, env));
    let times = times(cx, start, stop, env.run);
    // Without a protocol, its own keys cannot be checked.
    let protocol = protocol?;
    let options = options(cx, t, protocol, env);
    let spec = (|| {
        let (options, server, clients, (start, stop)) = (options?, server?, clients?, times?);
        Some(SessionSpec {
            name: String::new(),
            protocol: protocol.name,
            server,
            clients,
            start,
            stop,
            port: 0,
            options,
        })
    })();
    Some(Draft {
        header: t.span,
        protocol,
        name,
        port,
        settled: (String::new(), 0),
        spec,
    })
}

/// The protocol's own keys, read by kind, then judged by its check. A key
/// another protocol has gets a message saying which.
fn options(cx: &mut Ctx, t: &mut Table, protocol: &Protocol, env: &Context) -> Option<Options> {
    for other in proto::PROTOCOLS {
        for def in other.options {
            if protocol.options.iter().any(|d| d.key == def.key) {
                continue;
            }
            let owners: Vec<&str> = proto::PROTOCOLS
                .iter()
                .filter(|p| p.options.iter().any(|d| d.key == def.key))
                .map(|p| p.name)
                .collect();
            t.note(
                def.key,
                format!(
                    "`{}` applies to {} sessions only",
                    def.key,
                    owners.join(" and ")
                ),
            );
        }
    }
    let mut values = Options::new();
    let mut spans = Vec::new();
    let mut ok = true;
    for def in protocol.options {
        let item = if def.required {
            match t.get(def.key) {
                Some(it) => Some(it),
                None => {
                    // The help's first clause says why the key is needed.
                    let (key, place) = (def.key, t.place());
                    let why = def.help.split(':').next().unwrap_or(def.help);
                    cx.error(
                        t.span,
                        format!("missing required key `{key}` {place} ({why})"),
                    );
                    ok = false;
                    None
                }
            }
        } else {
            t.get(def.key)
        };
        let Some(item) = item else { continue };
        spans.push((def.key, item.span));
        match option_value(cx, item, def) {
            Some(v) => values.insert(def.key, v),
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }
    let check = CheckContext {
        mtu: env.mtu,
        run: env.run,
        has_media: env.has_media,
    };
    if let Err(errors) = (protocol.check)(&values, &check) {
        for e in errors {
            let span = e
                .key
                .and_then(|k| spans.iter().find(|(key, _)| *key == k))
                .map_or(t.span, |(_, span)| *span);
            cx.error(span, e.message);
        }
        return None;
    }
    Some(values)
}

/// One option's value, read as its kind says.
fn option_value(cx: &mut Ctx, item: Item, def: &OptionDef) -> Option<OptionValue> {
    Some(match def.kind {
        OptionKind::Duration => OptionValue::Duration(duration(cx, item)?),
        OptionKind::Bitrate => {
            let v = bitrate(cx, item)?;
            if v == 0 {
                cx.error(item.span, format!("`{}` must be above 0 bit/s", def.key));
                return None;
            }
            OptionValue::Bitrate(v)
        }
        OptionKind::Size => OptionValue::Size(size(cx, item)?),
        OptionKind::Integer { min, max } => {
            OptionValue::Integer(integer(cx, item, i128::from(min), i128::from(max))? as i64)
        }
        OptionKind::Bool => OptionValue::Bool(boolean(cx, item)?),
        OptionKind::Choice(choices) => OptionValue::Choice(reader::choice(
            cx,
            item,
            &format!("`{}`", def.key),
            choices,
        )?),
    })
}

/// `protocol`: one this version runs.
fn protocol(cx: &mut Ctx, item: Item) -> Option<&'static Protocol> {
    let text = reader::string(cx, item)?;
    if let Some(p) = proto::find(text) {
        return Some(p);
    }
    let names: Vec<&str> = proto::PROTOCOLS.iter().map(|p| p.name).collect();
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
