//! Hosts and links: `[topology]`, `[network]` and `[[link]]`.
//!
//! Without `hosts`, the topology is implicit: one client gives hosts
//! `server` and `client` joined by one unnamed link; `clients = N` (N > 1)
//! gives `server` and `client-1` … `client-N`, each joined to the server by
//! a link named after the client. With `hosts`, every link is a `[[link]]`
//! whose `between` names the server side first.
//!
//! Invariants: host names and link names are unique; no two links join the
//! same pair of hosts (in either order); every `between` names two
//! different declared hosts.

use super::diag::Span;
use super::files::Files;
use super::layer::{self, Layer};
use super::reader::{integer, name, suggest, tables, Ctx, Item, Table};
use toml::de::DeValue;

/// The largest `clients = N` accepted.
pub(crate) const MAX_CLIENTS: i128 = 1000;

/// `[network]`: the MTU and the settings every link starts from.
#[derive(Default)]
pub(crate) struct Network {
    /// `mtu` in bytes, when given.
    pub mtu: Option<usize>,
    /// `[network]` keys: both directions.
    pub both: Layer,
    /// `[network.down]`.
    pub down: Layer,
    /// `[network.up]`.
    pub up: Layer,
}

/// A link as declared, before the layers are merged.
pub(crate) struct LinkDecl {
    /// The link's name (`""` for the one implicit link).
    pub name: String,
    /// Server-side host (`down` leaves it).
    pub server: String,
    /// Client-side host.
    pub client: String,
    /// The link's own keys: both directions.
    pub both: Layer,
    /// `[link.down]`.
    pub down: Layer,
    /// `[link.up]`.
    pub up: Layer,
}

/// Hosts and links.
pub(crate) struct Topology {
    /// Host names in declaration order.
    pub hosts: Vec<String>,
    /// Links in declaration order.
    pub links: Vec<LinkDecl>,
    /// False when the host list itself was invalid, so references to
    /// hosts are not checked (they would only repeat that error).
    pub hosts_known: bool,
    /// False when a `[[link]]` was dropped for an error.
    pub links_complete: bool,
}

impl Topology {
    /// True when `a` and `b` are joined by a link, in either order.
    pub fn linked(&self, a: &str, b: &str) -> bool {
        self.links
            .iter()
            .any(|l| (l.server == a && l.client == b) || (l.server == b && l.client == a))
    }
}

/// Reads `[network]`.
pub(crate) fn network(cx: &mut Ctx, root: &mut Table, files: &mut Files) -> Network {
    let Some(mut t) = root
        .get("network")
        .and_then(|it| Table::of(cx, it, "in [network]"))
    else {
        return Network::default();
    };
    let mtu = t.read(cx, "mtu", |cx, it| integer(cx, it, 576, 9000));
    let both = layer::read(cx, &mut t, files, true);
    let down = direction(cx, &mut t, "down", "[network.down]", files);
    let up = direction(cx, &mut t, "up", "[network.up]", files);
    t.finish(cx);
    Network {
        mtu: mtu.map(|m| m.value as usize),
        both,
        down,
        up,
    }
}

/// Reads the `down` or `up` sub-table of `t`.
fn direction(
    cx: &mut Ctx,
    t: &mut Table,
    key: &'static str,
    header: &str,
    files: &mut Files,
) -> Layer {
    let Some(mut d) = t
        .get(key)
        .and_then(|it| Table::of(cx, it, format!("in {header}")))
    else {
        return Layer::default();
    };
    d.note(
        "mtu",
        "`mtu` is the same on every link; set it once in [network]",
    );
    let layer = layer::read(cx, &mut d, files, true);
    d.finish(cx);
    layer
}

/// Reads `[topology]` and `[[link]]`.
pub(crate) fn topology(cx: &mut Ctx, root: &mut Table, files: &mut Files) -> Topology {
    let mut t = root
        .get("topology")
        .and_then(|it| Table::of(cx, it, "in [topology]"));
    let (clients, hosts) = match t.as_mut() {
        Some(t) => (t.get("clients"), t.get("hosts")),
        None => (None, None),
    };
    if let Some(t) = t {
        t.finish(cx);
    }
    let link_item = root.get("link");
    let Some(hosts_item) = hosts else {
        if let Some(it) = link_item {
            cx.error(
                it.span,
                "[[link]] needs `hosts` in [topology]; without `hosts`, links are implicit (one per client)",
            );
        }
        let n = clients
            .and_then(|it| integer(cx, it, 1, MAX_CLIENTS))
            .unwrap_or(1);
        return implicit(n as usize);
    };
    if let Some(c) = clients {
        cx.error(
            c.key_span,
            "`clients` and `hosts` cannot both be given: with `hosts`, [[link]] entries say which host is a client",
        );
    }
    let Some(hosts) = host_names(cx, hosts_item) else {
        return Topology {
            hosts: Vec::new(),
            links: Vec::new(),
            hosts_known: false,
            links_complete: false,
        };
    };
    let mut links: Vec<(LinkDecl, Span)> = Vec::new();
    let mut declared = 0;
    match link_item {
        None => cx.error(
            hosts_item.key_span,
            "with `hosts`, declare the links with [[link]] entries (between = [\"server-side\", \"client-side\"])",
        ),
        Some(it) => {
            for mut t in tables(cx, it, "link") {
                declared += 1;
                if let Some(decl) = link(cx, &mut t, &hosts, &links, files) {
                    links.push(decl);
                }
                t.finish(cx);
            }
        }
    }
    Topology {
        hosts,
        links_complete: declared == links.len(),
        links: links.into_iter().map(|(l, _)| l).collect(),
        hosts_known: true,
    }
}

/// The implicit topology of `n` clients.
fn implicit(n: usize) -> Topology {
    let server = "server".to_owned();
    let clients: Vec<String> = if n <= 1 {
        vec!["client".to_owned()]
    } else {
        (1..=n).map(|i| format!("client-{i}")).collect()
    };
    let links = clients
        .iter()
        .map(|c| LinkDecl {
            name: if n <= 1 { String::new() } else { c.clone() },
            server: server.clone(),
            client: c.clone(),
            both: Layer::default(),
            down: Layer::default(),
            up: Layer::default(),
        })
        .collect();
    let mut hosts = vec![server];
    hosts.extend(clients);
    Topology {
        hosts,
        links,
        hosts_known: true,
        links_complete: true,
    }
}

/// `hosts`: at least two unique names.
fn host_names(cx: &mut Ctx, item: Item) -> Option<Vec<String>> {
    let DeValue::Array(array) = item.value else {
        return super::reader::expected(
            cx,
            item,
            "an array of host names like [\"origin\", \"edge\"]",
        );
    };
    if array.len() < 2 {
        cx.error(
            item.span,
            "`hosts` needs at least two hosts, e.g. [\"origin\", \"edge\"]",
        );
        return None;
    }
    let mut hosts: Vec<(String, Span)> = Vec::new();
    for element in array.iter() {
        let element = Item::element("hosts", element);
        let Some(host) = name(cx, element, false) else {
            continue;
        };
        if let Some((_, first)) = hosts.iter().find(|(h, _)| h == host) {
            let line = cx.line(*first);
            cx.error(
                element.span,
                format!("duplicate host name {host:?} (first on line {line})"),
            );
            continue;
        }
        hosts.push((host.to_owned(), element.span));
    }
    Some(hosts.into_iter().map(|(h, _)| h).collect())
}

/// Checks that `item` names a host; returns it.
pub(crate) fn host<'t>(cx: &mut Ctx, item: Item<'t, '_>, hosts: &[String]) -> Option<&'t str> {
    let text = super::reader::string(cx, item)?;
    if hosts.iter().any(|h| h == text) {
        return Some(text);
    }
    let names: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let hint = match suggest(text, &names) {
        Some(s) => format!("did you mean {s:?}?"),
        None => format!("the hosts are: {}", names.join(", ")),
    };
    cx.error(item.span, format!("unknown host {text:?}; {hint}"));
    None
}

/// Reads one `[[link]]`.
fn link(
    cx: &mut Ctx,
    t: &mut Table,
    hosts: &[String],
    earlier: &[(LinkDecl, Span)],
    files: &mut Files,
) -> Option<(LinkDecl, Span)> {
    let between = t.required(cx, "between");
    let given_name = t.get("name").map(|it| (name(cx, it, false), it.span));
    t.note(
        "mtu",
        "`mtu` is the same on every link; set it once in [network]",
    );
    let both = layer::read(cx, t, files, true);
    let down = direction(cx, t, "down", "[link.down]", files);
    let up = direction(cx, t, "up", "[link.up]", files);
    let between = between?;
    let (server, client) = pair(cx, between, hosts)?;
    let (link_name, name_span) = match given_name {
        Some((Some(n), span)) => (n.to_owned(), span),
        Some((None, _)) => return None,
        None => (format!("{server}-{client}"), between.span),
    };
    if let Some((_, span)) = earlier.iter().find(|(l, _)| l.name == link_name) {
        let line = cx.line(*span);
        cx.error(
            name_span,
            format!("duplicate link name {link_name:?} (first on line {line})"),
        );
        return None;
    }
    let same_pair = |l: &LinkDecl| {
        (l.server == server && l.client == client) || (l.server == client && l.client == server)
    };
    if let Some((_, span)) = earlier.iter().find(|(l, _)| same_pair(l)) {
        let line = cx.line(*span);
        cx.error(
            between.span,
            format!("{server:?} and {client:?} are already linked (line {line}); give each pair of hosts one link"),
        );
        return None;
    }
    let decl = LinkDecl {
        name: link_name,
        server: server.to_owned(),
        client: client.to_owned(),
        both,
        down,
        up,
    };
    Some((decl, between.span))
}

/// `between`: two different hosts.
fn pair<'t>(cx: &mut Ctx, item: Item<'t, '_>, hosts: &[String]) -> Option<(&'t str, &'t str)> {
    let expected = "two host names like [\"origin\", \"edge\"] (server side first)";
    let DeValue::Array(array) = item.value else {
        return super::reader::expected(cx, item, expected);
    };
    let [a, b] = array.as_ref() else {
        cx.error(
            item.span,
            format!(
                "`between` needs exactly {expected}, found {} names",
                array.len()
            ),
        );
        return None;
    };
    let a = host(cx, Item::element("between", a), hosts);
    let b = host(cx, Item::element("between", b), hosts);
    let (a, b) = (a?, b?);
    if a == b {
        cx.error(
            item.span,
            format!("`between` links {a:?} to itself; name two different hosts"),
        );
        return None;
    }
    Some((a, b))
}
