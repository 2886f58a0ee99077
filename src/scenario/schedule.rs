//! `[[schedule]]`: timed changes and outages, and the merge of every layer
//! into the final `LinkConfig` of each link direction.
//!
//! Layers, from the general to the specific: `[network]`,
//! `[network.<dir>]`, the `[[link]]` keys, `[link.<dir>]`. A link's own
//! setting beats a default for one direction of every link.
//!
//! A schedule entry changes the links it names (`link`, default every
//! link) in the directions it names (`direction`, default both) at `at`.
//! Its settings patch what holds at that moment: `jitter = "10ms"` keeps
//! the delay, `rate = "5mbit"` keeps the per-packet overhead, and a rate
//! replaces a trace (and the other way round). `outage = "2s"` drops every
//! packet in `[at, at + 2s)`.
//!
//! Invariants: changes are stored in `at` order (ties in file order), and
//! an entry that changes nothing is an error.

use std::time::Duration;

use super::diag::Span;
use super::files::Files;
use super::layer::{self, Layer};
use super::reader::{choice, duration, string, suggest, tables, At, Ctx, Table};
use super::topology::{LinkDecl, Network};
use super::units::fmt_duration;
use super::ScenarioLink;
use crate::net::link::{LinkChange, LinkConfig, Outage, ScheduledChange};

/// Which directions an entry changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Directions {
    Down,
    Up,
    Both,
}

/// One `[[schedule]]` entry.
pub(crate) struct Entry {
    at: Duration,
    link: Option<String>,
    directions: Directions,
    change: Layer,
    outage: Option<Duration>,
}

/// Reads every `[[schedule]]` entry; `duration` is the run's, when valid.
pub(crate) fn read(
    cx: &mut Ctx,
    root: &mut Table,
    files: &mut Files,
    links: &[LinkDecl],
    links_complete: bool,
    duration: Option<Duration>,
) -> Vec<Entry> {
    let Some(item) = root.get("schedule") else {
        return Vec::new();
    };
    let mut entries = Vec::new();
    for mut t in tables(cx, item, "schedule") {
        let known = Known {
            links,
            complete: links_complete,
        };
        if let Some(entry) = entry(cx, &mut t, files, &known, duration) {
            entries.push(entry);
        }
        t.finish(cx);
    }
    entries
}

fn entry(
    cx: &mut Ctx,
    t: &mut Table,
    files: &mut Files,
    links: &Known,
    run: Option<Duration>,
) -> Option<Entry> {
    let at = t.required(cx, "at").and_then(|it| {
        duration(cx, it).map(|value| At {
            value,
            span: it.span,
        })
    });
    let link = t.read(cx, "link", |cx, it| {
        let name = string(cx, it)?;
        known_link(cx, name, it.span, links).then(|| name.to_owned())
    });
    let dirs = t.read(cx, "direction", |cx, it| {
        choice(cx, it, "direction", &["down", "up", "both"])
    });
    let outage = t.read(cx, "outage", duration);
    t.note(
        "netem",
        "`netem` cannot be used in [[schedule]]; write each change as its own key (loss = \"5%\")",
    );
    t.note(
        "mtu",
        "`mtu` cannot change during a run; set it in [network]",
    );
    let change = layer::read(cx, t, files, false);
    let at = at?;
    if let Some(run) = run.filter(|run| at.value >= *run) {
        cx.error(
            at.span,
            format!(
                "`at` is {}, not before the end of the run ({}); a change must come before it",
                fmt_duration(at.value),
                fmt_duration(run)
            ),
        );
    }
    if let Some(o) = outage.filter(|o| o.value.is_zero()) {
        cx.error(o.span, "`outage` must be longer than 0s, e.g. \"2s\"");
    }
    if outage.is_none() && !layer::CHANGEABLE.iter().any(|k| t.has(k)) {
        cx.error(
            t.span,
            "this [[schedule]] entry changes nothing; add a setting such as loss = \"5%\" or outage = \"2s\"",
        );
    }
    Some(Entry {
        at: at.value,
        link: link.map(|l| l.value),
        directions: match dirs.map(|d| d.value) {
            Some("down") => Directions::Down,
            Some("up") => Directions::Up,
            _ => Directions::Both,
        },
        change,
        outage: outage.map(|o| o.value),
    })
}

/// The links a schedule entry may name.
struct Known<'a> {
    links: &'a [LinkDecl],
    /// False when a `[[link]]` was dropped for an error: a name not found
    /// is then not reported again.
    complete: bool,
}

/// Checks that `name` is a link's name.
fn known_link(cx: &mut Ctx, name: &str, span: Span, known: &Known) -> bool {
    let links = known.links;
    if links.iter().any(|l| l.name == name) {
        return true;
    }
    if !known.complete {
        return false;
    }
    let names: Vec<&str> = links.iter().map(|l| l.name.as_str()).collect();
    let hint = if names == [""] {
        "this scenario has one unnamed link, so leave out `link`".to_owned()
    } else if let Some(s) = suggest(name, &names) {
        format!("did you mean {s:?}?")
    } else {
        format!("the links are: {}", names.join(", "))
    };
    cx.error(span, format!("no link named {name:?}; {hint}"));
    false
}

/// The final links: layers merged, schedule and outages applied.
pub(crate) fn build(network: &Network, decls: &[LinkDecl], entries: &[Entry]) -> Vec<ScenarioLink> {
    let mut order: Vec<&Entry> = entries.iter().collect();
    order.sort_by_key(|e| e.at);
    decls
        .iter()
        .map(|decl| {
            let mut down = network.both.clone();
            for top in [&network.down, &decl.both, &decl.down] {
                down.merge(top);
            }
            let mut up = network.both.clone();
            for top in [&network.up, &decl.both, &decl.up] {
                up.merge(top);
            }
            let applies = |e: &Entry, dir: Directions| {
                e.link.as_ref().is_none_or(|l| *l == decl.name)
                    && (e.directions == dir || e.directions == Directions::Both)
            };
            let down_entries = order
                .iter()
                .copied()
                .filter(|e| applies(e, Directions::Down));
            let up_entries = order.iter().copied().filter(|e| applies(e, Directions::Up));
            ScenarioLink {
                name: decl.name.clone(),
                server: decl.server.clone(),
                client: decl.client.clone(),
                down: timeline(down, down_entries),
                up: timeline(up, up_entries),
            }
        })
        .collect()
}

/// The config of one direction: `base`, then `entries` in time order.
fn timeline<'e>(base: Layer, entries: impl Iterator<Item = &'e Entry>) -> LinkConfig {
    let mut config = base.to_config();
    let mut current = base;
    for e in entries {
        let change = e.change.change_from(&current);
        if change != LinkChange::default() {
            config.schedule.push(ScheduledChange { at: e.at, change });
        }
        current.merge(&e.change);
        if let Some(length) = e.outage {
            config.outages.push(Outage {
                start: e.at,
                end: e.at.saturating_add(length),
            });
        }
    }
    config.outages.sort_by_key(|o| o.start);
    config
}
