//! What `streamsim serve` and `streamsim play` share: the runtime real
//! sockets run on, stopping on Ctrl-C, and reading their arguments.
//!
//! Live mode runs the very drivers the simulator measures over
//! [`TokioNet`](crate::net::TokioNet): a current-thread runtime with a
//! `LocalSet`, as a simulated host has, so the drivers' futures need not
//! be `Send`. Ctrl-C (or SIGTERM, SIGHUP) sets a flag the running command
//! polls; it then stops what it does and still prints what it measured.

use std::future::Future;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::proto::{LiveFlag, OptionKind, OptionValue, Options};
use crate::scenario::{parse_bitrate, parse_duration, parse_size, MAX_DURATION};

/// Runs `task` to completion on a current-thread runtime with a `LocalSet`.
pub(super) fn block_on<F: Future>(task: F) -> Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let local = tokio::task::LocalSet::new();
    Ok(local.block_on(&runtime, task))
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

/// The protocols `serve` can serve, for messages.
pub(super) fn servable() -> String {
    crate::proto::PROTOCOLS
        .iter()
        .filter(|p| p.live_serve.is_some())
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The URLs `play` can play, as examples, for messages.
pub(super) fn playable() -> String {
    crate::proto::PROTOCOLS
        .iter()
        .filter_map(|p| p.live_play)
        .map(|e| e.example)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Adds every live entry's own flags to the `serve` and `play`
/// subcommands (a flag several protocols share is added once).
pub(super) fn with_live_flags(command: clap::Command) -> clap::Command {
    let serve: Vec<LiveFlag> = crate::proto::PROTOCOLS
        .iter()
        .filter_map(|p| p.live_serve)
        .flat_map(|e| e.flags.iter().copied())
        .collect();
    let play: Vec<LiveFlag> = crate::proto::PROTOCOLS
        .iter()
        .filter_map(|p| p.live_play)
        .flat_map(|e| e.flags.iter().copied())
        .collect();
    command
        .mut_subcommand("serve", |c| add_flags(c, &serve))
        .mut_subcommand("play", |c| add_flags(c, &play))
}

fn add_flags(mut command: clap::Command, flags: &[LiveFlag]) -> clap::Command {
    let mut seen = Vec::new();
    for flag in flags {
        if seen.contains(&flag.name) {
            continue;
        }
        seen.push(flag.name);
        let arg = clap::Arg::new(flag.name).long(flag.name).help(flag.help);
        command = command.arg(match flag.kind {
            OptionKind::Bool => arg.action(clap::ArgAction::SetTrue),
            _ => arg.value_name(flag.value_name).num_args(1),
        });
    }
    command
}

/// The live flags given to subcommand `matches`, read with the scenario
/// units of their kind.
pub(super) fn given_flags(matches: &clap::ArgMatches) -> Result<Options> {
    let mut given = Options::new();
    for flag in crate::proto::PROTOCOLS.iter().flat_map(|p| {
        let serve = p.live_serve.map_or(&[][..], |e| e.flags);
        let play = p.live_play.map_or(&[][..], |e| e.flags);
        serve.iter().chain(play)
    }) {
        if given.get(flag.name).is_some() {
            continue;
        }
        if flag.kind == OptionKind::Bool {
            if let Ok(Some(true)) = matches.try_get_one::<bool>(flag.name) {
                given.insert(flag.name, OptionValue::Bool(true));
            }
        } else if let Ok(Some(text)) = matches.try_get_one::<String>(flag.name) {
            given.insert(flag.name, flag_value(flag, text)?);
        }
    }
    Ok(given)
}

/// `text` read as flag `flag`'s kind.
fn flag_value(flag: &LiveFlag, text: &str) -> Result<OptionValue> {
    let bad = |e: String| anyhow::anyhow!("--{} {text:?}: {e}", flag.name);
    Ok(match flag.kind {
        OptionKind::Duration => {
            OptionValue::Duration(parse_duration(text).map_err(|e| bad(e.to_string()))?)
        }
        OptionKind::Bitrate => {
            OptionValue::Bitrate(parse_bitrate(text).map_err(|e| bad(e.to_string()))?)
        }
        OptionKind::Size => OptionValue::Size(parse_size(text).map_err(|e| bad(e.to_string()))?),
        OptionKind::Integer { min, max } => {
            let v: i64 = text
                .parse()
                .map_err(|_| bad("expected an integer".into()))?;
            if v < min || v > max {
                return Err(bad(format!("must be {min} to {max}")));
            }
            OptionValue::Integer(v)
        }
        OptionKind::Bool => OptionValue::Bool(true),
        OptionKind::Choice(words) => OptionValue::Choice(
            words
                .iter()
                .copied()
                .find(|w| *w == text)
                .ok_or_else(|| bad(format!("expected one of {}", words.join(", "))))?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_or_say_why_not() {
        assert_eq!(
            duration_arg("duration", "1.5s").unwrap(),
            Duration::from_millis(1500)
        );
        for bad in ["0s", "5", "-1s", "100000h"] {
            assert!(duration_arg("duration", bad).is_err(), "{bad}");
        }
    }
}
