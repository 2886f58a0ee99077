//! `streamsim serve PROTOCOL`: serves a live source to real players in
//! real time, through the protocol's live entry
//! ([`crate::proto::LiveServe`]): the simulator's source and driver over
//! the operating system's sockets. This file reads the arguments every
//! protocol shares; the protocol reads its own flags.

use std::path::PathBuf;

use anyhow::{anyhow, Result};
use clap::Args;

use super::{live, progress};
use crate::proto::live::default_synthetic;
use crate::proto::live_mode::{host_port, ServeRequest};
use crate::proto::{MediaFeed, MediaOrigin, Options};

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// The protocol to serve (those with a live server).
    protocol: String,
    /// Where to push the stream: HOST:PORT (repeat for several
    /// receivers), for protocols that push (udp-ts).
    #[arg(long = "to", value_name = "HOST:PORT")]
    to: Vec<String>,
    /// Where to accept players: HOST:PORT, for protocols that listen.
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<String>,
    /// A media file to stream (anything FFmpeg demuxes with H.264 or H.265
    /// video and AAC audio); without it, a synthetic 640x360 30 fps H.264
    /// + AAC source that never ends.
    #[arg(long, value_name = "FILE")]
    media: Option<PathBuf>,
    /// Start the file again when it ends (the synthetic source always
    /// runs on).
    #[arg(long = "loop")]
    looped: bool,
    /// Stop after this long (e.g. 30s, 2min); without it, at the end of
    /// the file or on Ctrl-C.
    #[arg(long, value_name = "D")]
    duration: Option<String>,
}

pub(super) fn serve(args: &ServeArgs, flags: &Options) -> Result<i32> {
    let (protocol, entry) = crate::proto::PROTOCOLS
        .iter()
        .find_map(|p| Some((p.name, p.live_serve?)).filter(|(n, _)| *n == args.protocol))
        .ok_or_else(|| {
            anyhow!(
                "{:?}: no protocol of that name can be served live ({})",
                args.protocol,
                live::servable()
            )
        })?;
    if let Some(name) = flags
        .keys()
        .find(|name| !entry.flags.iter().any(|f| f.name == *name))
    {
        return Err(anyhow!("--{name} is not an option of `serve {protocol}`"));
    }
    progress::catch_interrupt();
    let stop = args
        .duration
        .as_deref()
        .map(|d| live::duration_arg("duration", d))
        .transpose()?;
    let to: Vec<(String, u16)> = args
        .to
        .iter()
        .map(|t| host_port("--to", t))
        .collect::<Result<_, _>>()?;
    let listen = args
        .listen
        .as_deref()
        .map(|l| host_port("--listen", l))
        .transpose()?;
    let origin = match &args.media {
        Some(path) => MediaOrigin::File(path.clone()),
        None => MediaOrigin::Synthetic(default_synthetic()),
    };
    let feed = MediaFeed::open(origin, args.looped, false).map_err(anyhow::Error::msg)?;
    let request = ServeRequest {
        to: &to,
        listen,
        feed: &feed,
        stop,
        flags,
        interrupted: progress::interrupted,
    };
    let outcome = live::block_on((entry.run)(&request))??;
    for line in outcome.lines {
        println!("{line}");
    }
    Ok(0)
}
