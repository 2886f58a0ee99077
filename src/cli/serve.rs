//! `streamsim serve udp-ts`: pushes a live source as MPEG-TS over UDP to
//! real receivers (ffplay, ffmpeg, VLC, GStreamer, `streamsim play`), in
//! real time, with the same source and driver the simulator runs.

use std::cell::Cell;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Args;

use super::{live, progress};
use crate::media::ts::packet::PACKET_SIZE;
use crate::metrics::Unit;
use crate::net::{Net, TokioNet};
use crate::proto::live::default_synthetic;
use crate::proto::udp_ts::driver;
use crate::proto::{MediaFeed, MediaOrigin};

/// The largest UDP payload that holds whole TS packets (65,507 bytes fit
/// an IPv4 datagram: 348 packets).
const MAX_DATAGRAM: usize = 65_507 / PACKET_SIZE * PACKET_SIZE;

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// The protocol to serve.
    #[arg(value_parser = ["udp-ts"])]
    protocol: String,
    /// Where to push the stream: HOST:PORT (repeat for several receivers).
    #[arg(long = "to", value_name = "HOST:PORT", required = true)]
    to: Vec<String>,
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
    /// UDP payload per datagram in bytes, a multiple of 188 (7 TS packets
    /// by default, what ffmpeg, VLC and IPTV equipment send).
    #[arg(long, value_name = "BYTES", default_value_t = 1316)]
    datagram: usize,
}

/// What was pushed.
#[derive(Debug, Default)]
struct Sent {
    datagrams: Cell<u64>,
    bytes: Cell<u64>,
}

pub(super) fn serve(args: &ServeArgs) -> Result<i32> {
    progress::catch_interrupt();
    let stop = args
        .duration
        .as_deref()
        .map(|d| live::duration_arg("duration", d))
        .transpose()?;
    if args.datagram == 0
        || !args.datagram.is_multiple_of(PACKET_SIZE)
        || args.datagram > MAX_DATAGRAM
    {
        bail!(
            "--datagram {}: must be a multiple of 188 bytes (whole TS packets), at most {MAX_DATAGRAM}",
            args.datagram
        );
    }
    let targets: Vec<(String, u16)> = args
        .to
        .iter()
        .map(|t| live::host_port("--to", t))
        .collect::<Result<_>>()?;
    let origin = match &args.media {
        Some(path) => MediaOrigin::File(path.clone()),
        None => MediaOrigin::Synthetic(default_synthetic()),
    };
    let feed = MediaFeed::open(origin, args.looped, false).map_err(anyhow::Error::msg)?;
    live::block_on(push(args, &feed, &targets, stop))?
}

async fn push(
    args: &ServeArgs,
    feed: &MediaFeed,
    targets: &[(String, u16)],
    stop: Option<Duration>,
) -> Result<i32> {
    let net = TokioNet::new();
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for (host, port) in targets {
        addrs.push(live::resolve(&net, "--to", host, *port).await?);
    }
    let list = addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    eprintln!("serving udp-ts to {list} (Ctrl-C stops)");
    // The source's first unit is captured now: it is released at once and
    // every later one at its capture time, as an encoder's output.
    let mut source = feed.source(net.now());
    let sent = Sent::default();
    let count = |len: usize| {
        sent.datagrams.set(sent.datagrams.get() + 1);
        sent.bytes.set(sent.bytes.get() + len as u64);
    };
    let packets = args.datagram / PACKET_SIZE;
    let result = tokio::select! {
        biased;
        () = live::interrupt(&net) => Ok(()),
        r = driver::serve(&net, &addrs, &mut source, packets, stop, &count) => r,
    };
    let elapsed = net.now();
    print_sent(&list, &sent, source.released(), elapsed);
    if let Err(e) = result {
        bail!("sending to {list}: {e}");
    }
    Ok(0)
}

fn print_sent(list: &str, sent: &Sent, units: u64, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    let bytes = sent.bytes.get();
    let rate = if secs > 0.0 {
        Unit::BitsPerSecond.format(bytes as f64 * 8.0 / secs)
    } else {
        "–".to_owned()
    };
    let state = if progress::interrupted() {
        " (stopped by Ctrl-C)"
    } else {
        ""
    };
    println!("udp-ts to {list}: {}{state}", Unit::Seconds.format(secs));
    println!(
        "  sent {} datagrams, {} of TS ({} packets of 188 bytes), {rate} · {units} access units",
        sent.datagrams.get(),
        Unit::Bytes.format(bytes as f64),
        bytes / PACKET_SIZE as u64,
    );
}
