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
//! * top level: `name` (required; letters, digits, `.`, `-`, `_`; at most
//!   100 characters, as it names the report directory), `description`,
//!   `seed` (1), `duration` (required, at most 24h, at least two ticks:
//!   hosts start one tick in), `tick` (1ms; whole milliseconds, at most 1s).
//! * `[topology]`: `clients = N` (at most 1000) or `hosts = [...]` with
//!   `[[link]]` entries (`topology.rs`).
//! * `[tcp]`: `profile` (`linux`, `ns3` or `smoltcp`) and every knob of it
//!   (`tcp.rs`); buffers at most 64MiB each and 2GiB for every
//!   connection's buffers together.
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
//!   that suggests `"40ms"`. Only sizes take a bare integer (bytes). A
//!   bare `1` for a ratio is an error too: `"100%"` or `"1%"`?
//! * Values that make no physical sense are errors with the reason:
//!   a `rate_overhead` outside 0..=1000 bytes, a queue above 100,000
//!   packets or 256MiB, TCP buffers beyond what a host holds.
//! * Every file read (the scenario, traces) is a regular file read with a
//!   size cap; invalid UTF-8 is an error at its line and column.
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
mod tcp;
mod topology;
pub mod units;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::time::Duration;

use toml::de::DeTable;

pub use diag::{Diagnostic, Diagnostics};
pub use files::{read_capped, MAX_BASELINE_BYTES};
pub use layer::DEFAULT_RATE;
pub use model::*;
pub use units::{parse_bitrate, parse_bound, parse_duration, parse_ratio, parse_size, UnitError};

use crate::net::HostTcp;
use diag::Span;
use files::Files;
use reader::{boolean, duration, integer, string, At, Ctx, Table};

/// The longest run a scenario may ask for.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// The step of the simulation when `tick` is not given.
pub const DEFAULT_TICK: Duration = Duration::from_millis(1);

/// The longest `tick`.
const MAX_TICK: Duration = Duration::from_secs(1);

/// The largest TCP buffer a scenario may set: 64 MiB, more than the
/// bandwidth-delay product of a 10 Gbit/s path with a 50 ms round trip.
const MAX_TCP_BUFFER: u64 = 64 << 20;

/// The most memory the TCP buffers of a run may take together (2 GiB):
/// every buffer is allocated in full, at both ends of every connection.
const MAX_TCP_MEMORY: u64 = 2 << 30;

/// Reads and validates the scenario file at `path`; relative paths in it
/// resolve against the file's directory.
pub fn load(path: &Path) -> Result<Scenario, Diagnostics> {
    let file = path.display().to_string();
    let bytes = files::read_capped(path, "the scenario file", files::MAX_SCENARIO_BYTES)
        .map_err(|message| Diagnostics(vec![Diagnostic::whole_file(&file, message)]))?;
    let text = utf8(&file, bytes)?;
    let base = path.parent().unwrap_or(Path::new(""));
    parse_str(&file, &text, base)
}

/// `bytes` as text, or an error at the first byte that is not UTF-8.
fn utf8(file: &str, bytes: Vec<u8>) -> Result<String, Diagnostics> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        let byte = bytes[valid];
        // The valid prefix locates the bad byte (its bytes are kept as they
        // are); the rest of its line is shown with replacement characters.
        let line_end = bytes[valid..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| valid + i);
        let shown = String::from_utf8_lossy(&bytes[..line_end]);
        let span = Span::from(valid..valid + '\u{fffd}'.len_utf8());
        let message = format!("invalid UTF-8 (byte 0x{byte:02x}); a scenario file is UTF-8 text");
        Diagnostics(vec![Diagnostic::at(file, &shown, span, message)])
    })
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
    let (mut tcp, mss) = tcp::read(cx, &mut root);
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
    tcp::check_mss(cx, &mut tcp, mss, mtu);
    let env = session::Context {
        topology: &topo,
        run,
        mtu,
        has_media: root.has("media"),
    };
    let session_count = root.get("session").map(|it| session_tables(&it));
    let sessions = session::read(cx, &mut root, &env);
    if let Some(span) = root.get("session").map(|it| it.key_span) {
        tcp_memory(cx, span, &tcp, &topo.hosts, &links, &sessions);
    }
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
        tick: tick.unwrap_or(DEFAULT_TICK),
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

/// `duration` (required, above 0, at most [`MAX_DURATION`], at least two
/// ticks) and `tick` (whole milliseconds, at most half of `duration`).
/// Hosts start one tick into the run, so a run of one tick runs nothing.
fn times(cx: &mut Ctx, root: &mut Table) -> (Option<Duration>, Option<Duration>) {
    let run = root.required(cx, "duration").and_then(|it| {
        let d = duration(cx, it)?;
        let problem = if d.is_zero() {
            "`duration` must be above 0s"
        } else if d > MAX_DURATION {
            "`duration` is longer than the longest run (24h)"
        } else {
            return Some(At {
                value: d,
                span: it.span,
            });
        };
        cx.error(it.span, problem);
        None
    });
    let tick = root.read(cx, "tick", duration).and_then(|t| {
        let problem = if t.value.is_zero() || t.value.subsec_nanos() % 1_000_000 != 0 {
            let found = units::fmt_duration(t.value);
            format!("`tick` must be a whole number of milliseconds, found {found}")
        } else if t.value > MAX_TICK {
            let found = units::fmt_duration(t.value);
            format!("`tick` is {found}; at most 1s (timers and packets move in ticks)")
        } else {
            return Some(t);
        };
        cx.error(t.span, problem);
        None
    });
    let step = tick.map_or(DEFAULT_TICK, |t| t.value);
    if let Some(d) = run.filter(|d| d.value < step * 2) {
        let (d_text, tick_text) = (units::fmt_duration(d.value), units::fmt_duration(step));
        let span = tick.map_or(d.span, |t| t.span);
        cx.error(
            span,
            format!(
                "`duration` ({d_text}) must be at least two ticks (tick {tick_text}): \
                 hosts start one tick in, so a shorter run runs nothing"
            ),
        );
        return (None, tick.map(|t| t.value));
    }
    (run.map(|d| d.value), tick.map(|t| t.value))
}

impl Scenario {
    /// Runs the scenario for `duration` instead (`run --duration`): checked
    /// like the file's own `duration` (above 0, at most 24h, at least two
    /// ticks). What a shorter run cannot hold is left out rather than
    /// refused, so a file `validate` accepts always runs: a session that
    /// would start at or after the end does not run (its bounds then fail),
    /// and a `stop` after the end moves to the end. Returns a sentence for
    /// each thing left out.
    pub fn set_duration(&mut self, duration: Duration) -> Result<Vec<String>, String> {
        let fmt = units::fmt_duration;
        if duration.is_zero() || duration > MAX_DURATION {
            return Err("must be above 0 and at most 24h".to_owned());
        }
        if duration < self.tick * 2 {
            return Err(format!(
                "must be at least two ticks (tick {}): hosts start one tick in",
                fmt(self.tick)
            ));
        }
        let mut left_out = Vec::new();
        self.sessions.retain(|s| {
            let runs = s.start < duration;
            if !runs {
                left_out.push(format!(
                    "session {:?} starts at {}, after the end: it does not run",
                    s.name,
                    fmt(s.start)
                ));
            }
            runs
        });
        for s in &mut self.sessions {
            s.stop = s.stop.map(|stop| stop.min(duration));
        }
        self.duration = duration;
        Ok(left_out)
    }
}

/// How many `[[session]]` tables are written.
fn session_tables(item: &reader::Item) -> usize {
    match item.value {
        toml::de::DeValue::Array(a) => a.len(),
        _ => 1,
    }
}

/// Checks that the TCP buffers of every connection fit in
/// [`MAX_TCP_MEMORY`]: each client of a TCP protocol is one connection with a
/// receive and a send buffer at both ends, each as set in `[tcp]` or as
/// the harness derives it from the links.
fn tcp_memory(
    cx: &mut Ctx,
    span: diag::Span,
    tcp: &HostTcp,
    hosts: &[String],
    links: &[ScenarioLink],
    sessions: &[SessionSpec],
) {
    let connections: u64 = sessions
        .iter()
        .filter(|s| {
            crate::proto::find(s.protocol)
                .is_some_and(|p| p.transport == crate::proto::Transport::Tcp)
        })
        .map(|s| s.clients.len() as u64)
        .sum();
    if connections == 0 {
        return;
    }
    let mut topology = crate::sim::Topology::new();
    for host in hosts {
        let _ = topology.add_host(host);
    }
    for link in links {
        let _ = topology.add_link(crate::sim::LinkSpec {
            a: link.server.clone(),
            b: link.client.clone(),
            a_to_b: link.down.clone(),
            b_to_a: link.up.clone(),
        });
    }
    let largest_default = hosts
        .iter()
        .map(|h| crate::sim::default_tcp_buffer(topology.max_bdp_bytes(h)) as u64)
        .max()
        .unwrap_or(0);
    let buffer = |b: usize| if b == 0 { largest_default } else { b as u64 };
    let per_end = buffer(tcp.conn.recv_buffer) + buffer(tcp.conn.send_buffer);
    let total = connections.saturating_mul(2 * per_end);
    if total > MAX_TCP_MEMORY {
        let mib = |b: u64| b >> 20;
        cx.error(
            span,
            format!(
                "the TCP buffers of this run take {} MiB ({connections} connections × 2 ends × {} MiB), more than the 2048 MiB accepted; set a smaller `buffer` in [tcp]",
                mib(total),
                mib(per_end)
            ),
        );
    }
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
