//! `[expect]`: bounds on the metrics a run reports.
//!
//! Each entry is `"<metric>" = "<op> <value>"`, or a list of bounds for a
//! range (`"link.down.delay_p99" = [">= 20ms", "< 60ms"]`). Unquoted dotted
//! keys (`session.bulk.goodput = ...`) and sub-tables (`[expect.session.bulk]`)
//! are flattened back into the dotted name. Metric names are
//! `session.<session>.<metric>` with a metric of that session's protocol, or
//! `link.<id>.<metric>` where `<id>` is a link direction (`down`, `up`, or
//! `<link>.down`, `<link>.up`).
//!
//! Invariants: bounds come out in file order, their values in the metric's
//! base unit (bit/s, s, B, fraction, count).

use toml::de::{DeTable, DeValue};

use super::diag::Span;
use super::reader::{found, suggest, Ctx, Item};
use super::units::parse_bound;
use super::{Expectation, ScenarioLink, SessionSpec};
use crate::metrics::catalog::LINK_METRICS;
use crate::metrics::Unit;
use crate::proto;

/// What bounds are checked against.
pub(crate) struct Known<'a> {
    /// The sessions.
    pub sessions: &'a [SessionSpec],
    /// The links.
    pub links: &'a [ScenarioLink],
    /// False when a session was dropped for an error: session names not
    /// found are then not reported again.
    pub sessions_complete: bool,
    /// False when the hosts were invalid, so links may be missing.
    pub links_complete: bool,
}

/// One flattened entry: the dotted name, where it is written, its value.
struct Entry<'t, 'i> {
    metric: String,
    span: Span,
    item: Item<'t, 'i>,
}

/// Reads `[expect]` from `item`.
pub(crate) fn read(cx: &mut Ctx, item: Item, known: &Known) -> Vec<Expectation> {
    let DeValue::Table(table) = item.value else {
        return super::reader::expected(cx, item, "a table").unwrap_or_default();
    };
    let mut entries = Vec::new();
    flatten(cx.text, table, "", None, &mut entries, 0);
    entries.sort_by_key(|e| e.span);
    let mut out = Vec::new();
    for e in entries {
        let unit = match unit_of(&e.metric, known) {
            Ok(unit) => unit,
            Err(Some(message)) => {
                cx.error(e.span, format!("unknown metric `{}`: {message}", e.metric));
                continue;
            }
            Err(None) => continue,
        };
        let bounds: Vec<Item> = match e.item.value {
            DeValue::Array(list) => list.iter().map(|v| Item::element(e.item.key, v)).collect(),
            _ => vec![e.item],
        };
        for b in bounds {
            let DeValue::String(text) = b.value else {
                let what = found(b.value);
                cx.error(
                    b.span,
                    format!("expected a bound string like \">= 1.2mbit\", found {what}"),
                );
                continue;
            };
            match parse_bound(text, unit) {
                Ok((comparison, value)) => out.push(Expectation {
                    metric: e.metric.clone(),
                    unit,
                    comparison,
                    value,
                    text: text.to_string(),
                    location: cx.location(e.span),
                }),
                Err(err) => cx.error(b.span, format!("`{}`: {err}", e.metric)),
            }
        }
    }
    out
}

/// No metric name has more parts than this; deeper tables are leaves
/// (and unknown metrics), which also bounds the recursion.
const MAX_PARTS: usize = 4;

/// Collects the leaves of `table` under `prefix`; `start` is where the
/// dotted name begins, when it began in an enclosing table; `depth` is the
/// number of parts in `prefix`.
fn flatten<'t, 'i>(
    text: &str,
    table: &'t DeTable<'i>,
    prefix: &str,
    start: Option<usize>,
    out: &mut Vec<Entry<'t, 'i>>,
    depth: usize,
) {
    for (key, value) in table.iter() {
        let key_span = Span::from(key.span());
        let name = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        let begin = start.unwrap_or(key_span.start);
        match value.get_ref() {
            DeValue::Table(inner) if depth < MAX_PARTS => {
                flatten(text, inner, &name, Some(begin), out, depth + 1);
                continue;
            }
            _ => {}
        }
        // A name split over a header and a key is shown at the key.
        let one_line = text
            .get(begin..key_span.end)
            .is_some_and(|between| !between.contains('\n'));
        let span = if one_line {
            Span {
                start: begin,
                end: key_span.end,
            }
        } else {
            key_span
        };
        let item = Item {
            key: key.get_ref().as_ref(),
            key_span,
            value: value.get_ref(),
            span: Span::from(value.span()),
        };
        out.push(Entry {
            metric: name,
            span,
            item,
        });
    }
}

/// The unit of `metric`, or why it is unknown (`None`: already reported).
fn unit_of(metric: &str, known: &Known) -> Result<Unit, Option<String>> {
    let parts: Vec<&str> = metric.split('.').collect();
    match parts.as_slice() {
        ["session", session, name] => session_metric(session, name, known),
        ["link", id @ .., name] if (1..=2).contains(&id.len()) => {
            link_metric(&id.join("."), name, known)
        }
        _ => {
            let all = all_metrics(known);
            let candidates: Vec<&str> = all.iter().map(String::as_str).collect();
            let hint = match suggest(metric, &candidates) {
                Some(s) => format!("; did you mean `{s}`?"),
                None => String::new(),
            };
            Err(Some(format!(
                "metric names are `session.<session>.<metric>` or `link.<id>.<metric>`{hint}"
            )))
        }
    }
}

fn session_metric(session: &str, name: &str, known: &Known) -> Result<Unit, Option<String>> {
    let Some(spec) = known.sessions.iter().find(|s| s.name == session) else {
        if !known.sessions_complete {
            return Err(None);
        }
        let names: Vec<&str> = known.sessions.iter().map(|s| s.name.as_str()).collect();
        return Err(Some(format!(
            "no session is named {session:?}; {}",
            hint(session, &names, "the sessions are")
        )));
    };
    let kind = spec.protocol;
    let defs = proto::metric_table(kind);
    match defs.iter().find(|d| d.name == name) {
        Some(def) => Ok(def.unit),
        None => {
            let names: Vec<&str> = defs.iter().map(|d| d.name).collect();
            Err(Some(format!(
                "{kind} sessions have no metric {name:?}; {}",
                hint(name, &names, "they have")
            )))
        }
    }
}

fn link_metric(id: &str, name: &str, known: &Known) -> Result<Unit, Option<String>> {
    let ids: Vec<String> = known
        .links
        .iter()
        .flat_map(|l| [l.down_id(), l.up_id()])
        .collect();
    if !ids.iter().any(|i| i == id) {
        if !known.links_complete {
            return Err(None);
        }
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        return Err(Some(format!(
            "no link direction is called {id:?}; {}",
            hint(id, &ids, "the link directions are")
        )));
    }
    match LINK_METRICS.iter().find(|d| d.name == name) {
        Some(def) => Ok(def.unit),
        None => {
            let names: Vec<&str> = LINK_METRICS.iter().map(|d| d.name).collect();
            Err(Some(format!(
                "links have no metric {name:?}; {}",
                hint(name, &names, "they have")
            )))
        }
    }
}

/// "did you mean X?" or "<list>: a, b, c".
fn hint(word: &str, candidates: &[&str], list: &str) -> String {
    match suggest(word, candidates) {
        Some(s) => format!("did you mean {s:?}?"),
        None => format!("{list}: {}", candidates.join(", ")),
    }
}

/// Every metric name the scenario has.
fn all_metrics(known: &Known) -> Vec<String> {
    let mut out = Vec::new();
    for s in known.sessions {
        for d in proto::metric_table(s.protocol) {
            out.push(format!("session.{}.{}", s.name, d.name));
        }
    }
    for l in known.links {
        for id in [l.down_id(), l.up_id()] {
            for d in LINK_METRICS {
                out.push(format!("link.{id}.{}", d.name));
            }
        }
    }
    out
}
