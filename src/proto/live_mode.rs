//! Live mode's half of the seam: what a protocol offers `streamsim serve`
//! and `streamsim play`, which run its drivers on real sockets
//! ([`TokioNet`](crate::net::TokioNet)) against real players.
//!
//! A protocol that can be served sets [`Protocol::live_serve`](super::Protocol)
//! and one that can be played sets [`Protocol::live_play`](super::Protocol);
//! the command line knows no protocol by name. It reads the arguments every
//! live command shares (where to push or listen, the media, how long), adds
//! the flags each entry declares ([`LiveFlag`]) to its subcommand, and hands
//! the entry a request with the values given. The entry returns a future
//! that the command line runs on a current-thread runtime with a `LocalSet`
//! (the drivers' futures are not `Send`), and what it measured, which the
//! command line prints.
//!
//! Stopping: a request carries `interrupted`, true once Ctrl-C (or SIGTERM)
//! arrived; [`interrupt`] turns it into a future a driver's `select!` can
//! wait on, so every entry stops the same way and still reports.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use super::{MediaFeed, OptionKind, Options};
use crate::metrics::Metric;
use crate::net::Net;

/// How often a live command looks whether Ctrl-C was pressed.
const INTERRUPT_POLL: Duration = Duration::from_millis(50);

/// A future a live entry returns: runs on the caller's `LocalSet`.
pub type LiveFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, LiveError>> + 'a>>;

/// A flag of one protocol's live command (`--datagram BYTES`). The
/// command line reads its value with the scenario units of its kind
/// (`200ms`, `64KiB`; a `Bool` flag is a switch) and hands it over in the
/// request's [`Options`], keyed by `name`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveFlag {
    /// Its long name without dashes (`datagram`).
    pub name: &'static str,
    /// What it holds.
    pub kind: OptionKind,
    /// What its value is called in the help (`BYTES`).
    pub value_name: &'static str,
    /// One sentence of help, with its default.
    pub help: &'static str,
}

/// `streamsim serve <protocol>`.
pub struct LiveServe {
    /// The arguments after the protocol's name, for the help
    /// (`--to HOST:PORT [--to …] [--datagram 1316]`).
    pub usage: &'static str,
    /// Its own flags, beside the shared `--to`, `--listen`, `--media`,
    /// `--loop` and `--duration`.
    pub flags: &'static [LiveFlag],
    /// Serves until the source ends, the request's `stop`, or Ctrl-C.
    pub run: for<'a> fn(&'a ServeRequest<'a>) -> LiveFuture<'a, ServeOutcome>,
}

/// `streamsim play <URL>`.
pub struct LivePlay {
    /// The URL schemes it plays (`udp`): `play` picks the entry by the
    /// URL's scheme.
    pub schemes: &'static [&'static str],
    /// An example URL, for error messages (`udp://127.0.0.1:5004`).
    pub example: &'static str,
    /// Its own flags, beside the shared `--duration` and `--json`.
    pub flags: &'static [LiveFlag],
    /// Plays until the request's `stop` or Ctrl-C.
    pub run: for<'a> fn(&'a PlayRequest<'a>) -> LiveFuture<'a, PlayOutcome>,
}

/// What `serve` gives its entry.
pub struct ServeRequest<'a> {
    /// `--to HOST:PORT`, each repeat, in order (hosts unresolved).
    pub to: &'a [(String, u16)],
    /// `--listen HOST:PORT`.
    pub listen: Option<(String, u16)>,
    /// The media (`--media FILE`, `--loop`; the synthetic source without).
    pub feed: &'a MediaFeed,
    /// `--duration`: when to stop, on the network's clock.
    pub stop: Option<Duration>,
    /// The entry's own flags that were given, by name.
    pub flags: &'a Options,
    /// True once Ctrl-C (or SIGTERM) arrived.
    pub interrupted: fn() -> bool,
}

/// What a served stream reports at its end.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServeOutcome {
    /// Lines for stdout, in order.
    pub lines: Vec<String>,
}

/// What `play` gives its entry.
pub struct PlayRequest<'a> {
    /// The URL, as given.
    pub url: &'a str,
    /// `--duration`: when to stop, on the network's clock.
    pub stop: Option<Duration>,
    /// The entry's own flags that were given, by name.
    pub flags: &'a Options,
    /// True once Ctrl-C (or SIGTERM) arrived.
    pub interrupted: fn() -> bool,
}

/// What a played stream measured.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayOutcome {
    /// Metrics by catalog name (`frames_presented`), of the protocol's table.
    pub metrics: BTreeMap<String, Metric>,
    /// From the start of playing to its end.
    pub elapsed: Duration,
    /// What latency is measured from (`first_arrival`).
    pub latency_from: &'static str,
    /// Lines printed under the table's title (what the numbers mean here).
    pub notes: Vec<String>,
}

/// Why a live command could not run.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// An argument is invalid.
    #[error("{flag} {value:?}: {message}")]
    Argument {
        /// The flag (`--to`, `URL`).
        flag: String,
        /// Its value.
        value: String,
        /// Why.
        message: String,
    },
    /// An argument the protocol needs is missing.
    #[error("{protocol} needs {what}")]
    Missing {
        /// The protocol.
        protocol: &'static str,
        /// The missing argument (`--to HOST:PORT`).
        what: &'static str,
    },
    /// The network failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
    /// The stream cannot be served or played.
    #[error("{0}")]
    Stream(String),
}

impl LiveError {
    /// An invalid argument.
    pub fn argument(flag: &str, value: &str, message: impl Into<String>) -> LiveError {
        LiveError::Argument {
            flag: flag.to_owned(),
            value: value.to_owned(),
            message: message.into(),
        }
    }

    /// A network error while doing `context`.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> LiveError {
        LiveError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Returns once `interrupted` says so (checked on `net`'s clock every 50 ms).
pub async fn interrupt<N: Net>(net: &N, interrupted: fn() -> bool) {
    while !interrupted() {
        net.sleep_until(net.now() + INTERRUPT_POLL).await;
    }
}

/// Waits until `net`'s clock reaches `at`, or forever when `at` is `None`.
pub async fn deadline<N: Net>(net: &N, at: Option<Duration>) {
    match at {
        Some(at) => net.sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Splits `HOST:PORT` (`[v6]:PORT` for IPv6 literals) into its parts; an
/// empty host (`:5004`) is every local address.
pub fn host_port(flag: &str, text: &str) -> Result<(String, u16), LiveError> {
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(LiveError::argument(
            flag,
            text,
            "expected HOST:PORT, e.g. 127.0.0.1:5004",
        ));
    };
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| LiveError::argument(flag, text, "the port must be 1 to 65535"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    Ok((host.to_owned(), port))
}

/// Resolves `host` and `port` on `net`, naming `flag` in the error.
pub async fn resolve<N: Net>(
    net: &N,
    flag: &str,
    host: &str,
    port: u16,
) -> Result<SocketAddr, LiveError> {
    net.resolve(host, port)
        .await
        .map_err(|e| LiveError::io(format!("{flag}: cannot resolve {host:?}"), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_or_say_why_not() {
        assert_eq!(
            host_port("--to", "127.0.0.1:5004").unwrap(),
            ("127.0.0.1".to_owned(), 5004)
        );
        assert_eq!(
            host_port("--to", "[::1]:5004").unwrap(),
            ("::1".to_owned(), 5004)
        );
        assert_eq!(
            host_port("url", ":1234").unwrap(),
            ("0.0.0.0".to_owned(), 1234)
        );
        for bad in ["127.0.0.1", "127.0.0.1:0", "h:99999", "h:x"] {
            let e = host_port("--to", bad).unwrap_err().to_string();
            assert!(e.contains("--to"), "{e}");
        }
    }
}
