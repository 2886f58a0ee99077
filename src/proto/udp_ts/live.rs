//! `udp-ts` in live mode: `streamsim serve udp-ts --to HOST:PORT` pushes
//! the live source to real receivers (ffplay, ffmpeg, VLC, GStreamer,
//! `streamsim play`), and `streamsim play udp://HOST:PORT` receives from a
//! real sender, with the very driver and player the simulator runs.
//!
//! A real sender's capture clock is unknown, so `play` times units from
//! the first one's arrival (`Timeline::FirstArrival`) and the player
//! schedules from the join keyframe's arrival
//! (`PlayoutMode::LiveFromArrival`): latency reads as the target latency
//! plus how late each frame arrived against the first one, not
//! glass-to-glass.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::time::Duration;

use super::core::TsReceiver;
use super::driver::{self, Timeline};
use super::qoe::QoeTally;
use super::METRICS;
use crate::media::ts::packet::PACKET_SIZE;
use crate::metrics::{EventSink, Recorder, Unit};
use crate::net::{Net, NetUdp, TokioNet};
use crate::player::{Player, PlayerConfig, PlayerEvent, PlayoutMode};
use crate::proto::live_mode::{
    self, LiveError, LiveFlag, LivePlay, LiveServe, PlayOutcome, PlayRequest, ServeOutcome,
    ServeRequest,
};
use crate::proto::OptionKind;

/// The largest UDP payload that holds whole TS packets (65,507 bytes fit
/// an IPv4 datagram: 348 packets).
const MAX_DATAGRAM: usize = 65_507 / PACKET_SIZE * PACKET_SIZE;

/// The session name a live client records under (not printed).
const SESSION: &str = "play";

/// `streamsim serve udp-ts`.
pub static SERVE: LiveServe = LiveServe {
    usage: "--to HOST:PORT [--to …] [--media FILE] [--loop] [--duration D] [--datagram 1316]",
    flags: &[LiveFlag {
        name: "datagram",
        kind: OptionKind::Size,
        value_name: "BYTES",
        help: "UDP payload per datagram in bytes, a multiple of 188 (default 1316: 7 TS packets, what ffmpeg, VLC and IPTV equipment send)",
    }],
    run: |request| Box::pin(serve(request)),
};

/// `streamsim play udp://…`.
pub static PLAY: LivePlay = LivePlay {
    schemes: &["udp"],
    example: "udp://127.0.0.1:5004",
    flags: &[LiveFlag {
        name: "target-latency",
        kind: OptionKind::Duration,
        value_name: "D",
        help: "udp: delay the player adds after the first keyframe's arrival, what absorbs the network's jitter (default 200ms)",
    }],
    run: |request| Box::pin(play(request)),
};

async fn serve(request: &ServeRequest<'_>) -> Result<ServeOutcome, LiveError> {
    let datagram = match request.flags.size("datagram") {
        None => super::core::DEFAULT_PACKETS * PACKET_SIZE,
        Some(size) => usize::try_from(size)
            .ok()
            .filter(|d| *d > 0 && d.is_multiple_of(PACKET_SIZE) && *d <= MAX_DATAGRAM)
            .ok_or_else(|| {
                LiveError::argument(
                    "--datagram",
                    &size.to_string(),
                    format!("must be a multiple of 188 bytes (whole TS packets), at most {MAX_DATAGRAM}"),
                )
            })?,
    };
    if request.to.is_empty() {
        return Err(LiveError::Missing {
            protocol: "udp-ts",
            what: "--to HOST:PORT: it pushes to receivers",
        });
    }
    if let Some((host, port)) = &request.listen {
        return Err(LiveError::argument(
            "--listen",
            &format!("{host}:{port}"),
            "udp-ts pushes to receivers (--to); it does not listen",
        ));
    }
    let net = TokioNet::new();
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for (host, port) in request.to {
        addrs.push(live_mode::resolve(&net, "--to", host, *port).await?);
    }
    let list = addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    eprintln!("serving udp-ts to {list} (Ctrl-C stops)");
    // The source's first unit is captured now: it is released at once and
    // every later one at its capture time, as an encoder's output.
    let mut source = request.feed.source(net.now());
    let (datagrams, bytes) = (Cell::new(0u64), Cell::new(0u64));
    let count = |len: usize| {
        datagrams.set(datagrams.get() + 1);
        bytes.set(bytes.get() + len as u64);
    };
    let packets = datagram / PACKET_SIZE;
    let result = tokio::select! {
        biased;
        () = live_mode::interrupt(&net, request.interrupted) => Ok(()),
        r = driver::serve(&net, &addrs, &mut source, packets, request.stop, &count) => r,
    };
    result.map_err(|e| LiveError::io(format!("sending to {list}"), e))?;
    let secs = net.now().as_secs_f64();
    let rate = if secs > 0.0 {
        Unit::BitsPerSecond.format(bytes.get() as f64 * 8.0 / secs)
    } else {
        "–".to_owned()
    };
    let state = if (request.interrupted)() {
        " (stopped by Ctrl-C)"
    } else {
        ""
    };
    Ok(ServeOutcome {
        lines: vec![
            format!("udp-ts to {list}: {}{state}", Unit::Seconds.format(secs)),
            format!(
                "  sent {} datagrams, {} of TS ({} packets of 188 bytes), {rate} · {} access units",
                datagrams.get(),
                Unit::Bytes.format(bytes.get() as f64),
                bytes.get() / PACKET_SIZE as u64,
                source.released(),
            ),
        ],
    })
}

/// `udp://HOST:PORT`, `udp://@HOST:PORT` or `udp://:PORT`.
fn parse_url(url: &str) -> Result<(String, u16), LiveError> {
    let Some(rest) = url.strip_prefix("udp://") else {
        return Err(LiveError::argument(
            "URL",
            url,
            "expected udp://HOST:PORT, e.g. udp://127.0.0.1:5004",
        ));
    };
    if rest.contains(['?', '/']) {
        return Err(LiveError::argument(
            "URL",
            url,
            "expected udp://HOST:PORT with no path or options",
        ));
    }
    live_mode::host_port("URL", rest.trim_start_matches('@'))
}

/// Binds, plays until `stop` or Ctrl-C, and returns the metrics by catalog
/// name with the time played.
async fn play(request: &PlayRequest<'_>) -> Result<PlayOutcome, LiveError> {
    let url = request.url;
    let (host, port) = parse_url(url)?;
    let target = request
        .flags
        .duration("target-latency")
        .unwrap_or(super::DEFAULT_TARGET_LATENCY);
    if target > Duration::from_secs(60) {
        return Err(LiveError::argument(
            "--target-latency",
            &format!("{target:?}"),
            "must be at most 60s",
        ));
    }
    let net = TokioNet::new();
    let addr = live_mode::resolve(&net, "URL", &host, port).await?;
    let socket = net
        .bind_udp(addr)
        .await
        .map_err(|e| LiveError::io(format!("cannot bind {addr} to receive {url}"), e))?;
    let _ = socket.local_addr();
    eprintln!("playing {url} (Ctrl-C stops)");
    let start = net.now();
    let config = PlayerConfig {
        mode: PlayoutMode::LiveFromArrival {
            target_latency: target,
        },
        keep_presented: false,
    };
    let receiver = RefCell::new(TsReceiver::new());
    let player = RefCell::new(Player::new(config, start));
    let on_event = |e: &PlayerEvent| {
        if let PlayerEvent::Started { startup, .. } = e {
            eprintln!("first frame presented after {startup:.3?}");
        }
    };
    let timeline = Timeline::FirstArrival;
    let result = tokio::select! {
        biased;
        () = live_mode::interrupt(&net, request.interrupted) => Ok(()),
        () = live_mode::deadline(&net, request.stop) => Ok(()),
        r = driver::play(&net, &socket, &receiver, &player, timeline, &on_event) => r,
    };
    let end = net.now();
    result.map_err(|e| LiveError::io(format!("receiving {url}"), e))?;
    let rec = Recorder::new(SESSION, &METRICS, EventSink::new());
    let stream = |e: crate::metrics::RecorderError| LiveError::Stream(e.to_string());
    let mut tally = QoeTally::new(&rec);
    tally
        .add_client(
            start,
            end,
            &mut receiver.borrow_mut(),
            &mut player.borrow_mut(),
        )
        .map_err(stream)?;
    tally.finish().map_err(stream)?;
    let prefix = format!("session.{SESSION}.");
    let metrics = rec
        .metrics()
        .into_iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_owned(), v)))
        .collect();
    Ok(PlayOutcome {
        metrics,
        elapsed: end.saturating_sub(start),
        latency_from: "first_arrival",
        notes: vec![
            "latency is measured from the first frame's arrival, since the sender's capture clock is unknown".to_owned(),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_urls_parse_or_say_why_not() {
        assert_eq!(
            parse_url("udp://127.0.0.1:5004").unwrap(),
            ("127.0.0.1".to_owned(), 5004)
        );
        assert_eq!(
            parse_url("udp://@:5004").unwrap(),
            ("0.0.0.0".to_owned(), 5004)
        );
        for bad in [
            "http://h:1",
            "udp://h:1?pkt_size=1316",
            "udp://h:1/x",
            "udp://h",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
