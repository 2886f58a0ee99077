//! What `streamsim serve` and `streamsim play` share: the runtime real
//! sockets run on, stopping on Ctrl-C, and reading their arguments.
//!
//! Live mode runs the very drivers the simulator measures over
//! [`TokioNet`](crate::net::TokioNet): a current-thread runtime with a
//! `LocalSet`, as a simulated host has, so the drivers' futures need not
//! be `Send`. Ctrl-C (or SIGTERM, SIGHUP) sets a flag the running command
//! polls; it then stops what it does and still prints what it measured.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::progress;
use crate::net::Net;
use crate::scenario::{parse_duration, MAX_DURATION};

/// How often a live command looks whether Ctrl-C was pressed.
const INTERRUPT_POLL: Duration = Duration::from_millis(50);

/// Runs `task` to completion on a current-thread runtime with a `LocalSet`.
pub(super) fn block_on<F: Future>(task: F) -> Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let local = tokio::task::LocalSet::new();
    Ok(local.block_on(&runtime, task))
}

/// Returns once Ctrl-C, SIGTERM or SIGHUP arrived (checked on `net`'s
/// clock every 50 ms).
pub(super) async fn interrupt<N: Net>(net: &N) {
    while !progress::interrupted() {
        net.sleep_until(net.now() + INTERRUPT_POLL).await;
    }
}

/// Waits until `net`'s clock reaches `at`, or forever when `at` is `None`.
pub(super) async fn deadline<N: Net>(net: &N, at: Option<Duration>) {
    match at {
        Some(at) => net.sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Parses `--<flag> D` with the scenario units: above 0 and at most the
/// longest scenario.
pub(super) fn duration_arg(flag: &str, text: &str) -> Result<Duration> {
    let d = parse_duration(text).map_err(|e| anyhow::anyhow!("--{flag} {text}: {e}"))?;
    if d.is_zero() || d > MAX_DURATION {
        bail!(
            "--{flag} {text}: must be above 0 and at most {} s",
            MAX_DURATION.as_secs()
        );
    }
    Ok(d)
}

/// Splits `HOST:PORT` (`[v6]:PORT` for IPv6 literals) into its parts; an
/// empty host (`:5004`) is every local address.
pub(super) fn host_port(flag: &str, text: &str) -> Result<(String, u16)> {
    let Some((host, port)) = text.rsplit_once(':') else {
        bail!("{flag} {text:?}: expected HOST:PORT, e.g. 127.0.0.1:5004");
    };
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .with_context(|| format!("{flag} {text:?}: the port must be 1 to 65535"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    Ok((host.to_owned(), port))
}

/// Resolves `host` and `port` on `net`, naming `flag` in the error.
pub(super) async fn resolve<N: Net>(
    net: &N,
    flag: &str,
    host: &str,
    port: u16,
) -> Result<SocketAddr> {
    net.resolve(host, port)
        .await
        .with_context(|| format!("{flag}: cannot resolve {host:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_durations_parse_or_say_why_not() {
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
        assert_eq!(
            duration_arg("duration", "1.5s").unwrap(),
            Duration::from_millis(1500)
        );
        for bad in ["0s", "5", "-1s", "100000h"] {
            assert!(duration_arg("duration", bad).is_err(), "{bad}");
        }
    }
}
