//! Scenario files: the TOML schema, units, and validation that reports every
//! error at once with file, line and column.
//!
//! [`load`] reads a file and [`parse_str`] parses text into a [`Scenario`]:
//! units parsed ([`units`]), defaults filled in, every reference checked,
//! every trace loaded and every media file found. Anything wrong comes back
//! as [`Diagnostics`], each pointing at the key or value at fault:
//!
//! ```text
//! run.toml:9:1: unknown key `dealy` in [network]; did you mean `delay`?
//!    9 | dealy = "25ms"
//!      | ^^^^^
//!
//! 1 error in run.toml
//! ```
//!
//! The schema, with defaults (each part's file says more):
//!
//! * top level: `name` (required; letters, digits, `.`, `-`, `_`),
//!   `description`, `seed` (1), `duration` (required, above 0, at most
//!   24h), `tick` (1ms; whole milliseconds, at most `duration`).
//! * `[topology]`: `clients = N` (at most 1000) or `hosts = [...]` with
//!   `[[link]]` entries (`topology.rs`).
//! * `[tcp]`: `congestion` (`cubic` or `reno`), `buffer` or
//!   `rx_buffer`/`tx_buffer` (0 = derive from the path; the specific key
//!   wins over `buffer`; at most 1GiB), `ack_delay` (40ms, or `"off"`),
//!   `nagle` (false).
//! * `[network]`: `mtu` (1500, 576..=9000) and the link settings every link
//!   starts from; `[network.down]`/`[network.up]` for one direction
//!   (`layer.rs`). Layering and `[[schedule]]` are in `schedule.rs`.
//! * `[[session]]`: `tcp-bulk` and `udp-cbr` (`session.rs`). A scenario
//!   without sessions is valid: its links carry nothing.
//! * `[media]`: `file` (must exist), `loop` (true).
//! * `[expect]`: bounds on metrics (`expect.rs`).
//!
//! Decisions where a file could mean two things:
//! * A TOML syntax error stops validation once every syntax error is
//!   reported: checks on a half-parsed document would report phantom errors.
//! * A key unknown in its table is an error, with the closest known key as
//!   a suggestion, or the list of keys when none is close; a key that
//!   belongs elsewhere (`mtu` in `[network.down]`, `bitrate` in a
//!   `tcp-bulk` session) says where it belongs.
//! * A number without a unit is never guessed: `delay = 40` is an error
//!   that suggests `"40ms"`. Only sizes take a bare integer (bytes).
//! * An error in one part does not hide errors elsewhere, and a value that
//!   depends on an invalid one (a `stop` checked against an invalid
//!   `duration`) is not reported again.
//! * Relative paths resolve against the scenario file's directory.
//!
//! Invariants: no input panics the parser; diagnostics come out sorted by
//! position, repeats removed; `Scenario::referenced_files` lists each file
//! once, in file order.

mod diag;
mod expect;
mod files;
mod layer;
mod model;
mod reader;
mod schedule;
mod session;
mod topology;
pub mod units;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::time::Duration;

use toml::de::DeTable;

pub use diag::{Diagnostic, Diagnostics};
pub use model::*;
pub use units::{parse_bitrate, parse_bound, parse_duration, parse_ratio, parse_size, UnitError};

use crate::net::{Congestion, TcpConfig};
use diag::Span;
use files::Files;
use reader::{boolean, choice, duration, integer, size, string, Ctx, Table};

/// The longest run a scenario may ask for.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// The largest TCP buffer a scenario may set (the largest TCP window).
const MAX_TCP_BUFFER: u64 = 1 << 30;

/// Reads and validates the scenario file at `path`; relative paths in it
/// resolve against the file's directory.
pub fn load(path: &Path) -> Result<Scenario, Diagnostics> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        let message = format!("cannot read the scenario file: {e}");
        Diagnostics(vec![Diagnostic::whole_file(&file, message)])
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    parse_str(&file, &text, base)
}

/// Parses and validates scenario `text`; `file` labels messages and
/// relative paths resolve against `base_dir`.
pub fn parse_str(file: &str, text: &str, base_dir: &Path) -> Result<Scenario, Diagnostics> {
    let (root, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        let diags = errors
            .iter()
            .map(|e| {
                let span = e.span().map_or(Span::default(), Span::from);
                let mut message = e.message().trim_end_matches('\n').to_owned();
                if message == "duplicate key" {
                    if let Some(key) = text.get(span.start..span.end) {
                        message = format!("duplicate key `{key}`");
                    }
                }
                Diagnostic::at(file, text, span, format!("invalid TOML: {message}"))
            })
            .collect();
        return Err(Diagnostics::sorted(diags));
    }
    let mut cx = Ctx::new(file, text, base_dir);
    let scenario = build(&mut cx, root.get_ref());
    let diags = cx.into_diagnostics();
    if diags.is_empty() {
        Ok(scenario)
    } else {
        Err(Diagnostics::sorted(diags))
    }
}

/// Reads the whole document. Errors go to `cx`; the scenario returned is
/// only meaningful when there are none.
fn build(cx: &mut Ctx, table: &DeTable) -> Scenario {
    let mut root = Table::new(table, Span::default(), "at the top level");
    let name = root
        .required(cx, "name")
        .and_then(|it| reader::name(cx, it, true));
    let description = root.read(cx, "description", string);
    let seed = root.read(cx, "seed", |cx, it| integer(cx, it, 0, i64::MAX.into()));
    let (run, tick) = times(cx, &mut root);
    let tcp = tcp(cx, &mut root);
    let mut files = Files::default();
    let network = topology::network(cx, &mut root, &mut files);
    let topo = topology::topology(cx, &mut root, &mut files);
    let entries = schedule::read(
        cx,
        &mut root,
        &mut files,
        &topo.links,
        topo.links_complete,
        run,
    );
    let links = schedule::build(&network, &topo.links, &entries);
    let mtu = network.mtu.unwrap_or(1500);
    let env = session::Context {
        topology: &topo,
        run,
        mtu,
        has_media: root.has("media"),
    };
    let session_count = root.get("session").map(|it| session_tables(&it));
    let sessions = session::read(cx, &mut root, &env);
    let media = root.get("media").and_then(|it| media(cx, it, &mut files));
    let known = expect::Known {
        sessions: &sessions,
        links: &links,
        sessions_complete: session_count.is_none_or(|n| n == sessions.len()),
        links_complete: topo.links_complete,
    };
    let expect = root
        .get("expect")
        .map(|it| expect::read(cx, it, &known))
        .unwrap_or_default();
    root.finish(cx);
    Scenario {
        name: name.unwrap_or_default().to_owned(),
        description: description.map(|d| d.value.to_owned()).unwrap_or_default(),
        seed: seed.map_or(1, |s| s.value as u64),
        duration: run.unwrap_or_default(),
        tick: tick.unwrap_or(Duration::from_millis(1)),
        mtu,
        tcp,
        hosts: topo.hosts.clone(),
        links,
        sessions,
        media,
        expect,
        referenced_files: files.into_paths(),
    }
}

/// `duration` (required, above 0, at most [`MAX_DURATION`]) and `tick`
/// (whole milliseconds, at most `duration`).
fn times(cx: &mut Ctx, root: &mut Table) -> (Option<Duration>, Option<Duration>) {
    let run = root.required(cx, "duration").and_then(|it| {
        let d = duration(cx, it)?;
        let problem = if d.is_zero() {
            "`duration` must be above 0s"
        } else if d > MAX_DURATION {
            "`duration` is longer than the longest run (24h)"
        } else {
            return Some(d);
        };
        cx.error(it.span, problem);
        None
    });
    let tick = root.read(cx, "tick", duration).and_then(|t| {
        let problem = if t.value.is_zero() || t.value.subsec_nanos() % 1_000_000 != 0 {
            let found = units::fmt_duration(t.value);
            format!("`tick` must be a whole number of milliseconds, found {found}")
        } else if run.is_some_and(|run| t.value > run) {
            "`tick` is longer than `duration`".to_owned()
        } else {
            return Some(t.value);
        };
        cx.error(t.span, problem);
        None
    });
    (run, tick)
}

/// How many `[[session]]` tables are written.
fn session_tables(item: &reader::Item) -> usize {
    match item.value {
        toml::de::DeValue::Array(a) => a.len(),
        _ => 1,
    }
}

/// `[tcp]`.
fn tcp(cx: &mut Ctx, root: &mut Table) -> TcpConfig {
    let mut config = TcpConfig {
        rx_buffer: 0,
        tx_buffer: 0,
        ..TcpConfig::default()
    };
    let Some(mut t) = root.get("tcp").and_then(|it| Table::of(cx, it, "in [tcp]")) else {
        return config;
    };
    let congestion = t.read(cx, "congestion", |cx, it| {
        choice(cx, it, "congestion control", &["cubic", "reno"])
    });
    if let Some(c) = congestion {
        config.congestion = if c.value == "reno" {
            Congestion::Reno
        } else {
            Congestion::Cubic
        };
    }
    let buffer = |key| {
        move |cx: &mut Ctx, it: reader::Item| -> Option<usize> {
            let bytes = size(cx, it)?;
            if bytes > MAX_TCP_BUFFER {
                cx.error(
                    it.span,
                    format!("`{key}` is larger than the largest TCP window (1GiB)"),
                );
                return None;
            }
            usize::try_from(bytes).ok()
        }
    };
    if let Some(b) = t.read(cx, "buffer", buffer("buffer")) {
        (config.rx_buffer, config.tx_buffer) = (b.value, b.value);
    }
    if let Some(b) = t.read(cx, "rx_buffer", buffer("rx_buffer")) {
        config.rx_buffer = b.value;
    }
    if let Some(b) = t.read(cx, "tx_buffer", buffer("tx_buffer")) {
        config.tx_buffer = b.value;
    }
    let ack_delay = t.read(cx, "ack_delay", |cx, it| match it.value {
        toml::de::DeValue::String(s) if s.as_ref() == "off" => Some(None),
        _ => duration(cx, it).map(Some),
    });
    if let Some(a) = ack_delay {
        config.ack_delay = a.value;
    }
    if let Some(n) = t.read(cx, "nagle", boolean) {
        config.nagle = n.value;
    }
    t.finish(cx);
    config
}

/// `[media]`.
fn media(cx: &mut Ctx, item: reader::Item, files: &mut Files) -> Option<MediaSpec> {
    let mut t = Table::of(cx, item, "in [media]")?;
    let file = t.get("file").and_then(|it| files.media(cx, it));
    let looped = t.read(cx, "loop", boolean).is_none_or(|l| l.value);
    let decode_check = t.read(cx, "decode_check", boolean).is_some_and(|d| d.value);
    t.finish(cx);
    Some(MediaSpec {
        file,
        looped,
        decode_check,
    })
}
