//! Live mode against real peers on 127.0.0.1: `streamsim serve udp-ts`
//! pushes to ffmpeg, ffprobe and GStreamer, and `streamsim play` plays
//! ffmpeg's own push, with the very driver and player the simulator runs.
//!
//! Every external process runs under `timeout`, is started with
//! `std::process::Command` and is stopped by its id when its [`Peer`] guard
//! drops (also when an assertion fails). Ports are free ones the kernel
//! picked. A sender starts only once its receiver's socket is bound (read
//! from `/proc/net/udp`), so nothing it sends is lost before the receiver
//! listens: the one wait a real network needs.

use std::io::Read;
use std::net::UdpSocket;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_streamsim");
const CLIP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/clip.mp4");
/// The longest any peer may run before `timeout` stops it.
const LIMIT: &str = "60";

/// An external process, stopped by its id when dropped.
struct Peer {
    name: &'static str,
    child: Child,
}

impl Peer {
    /// Starts `program args` under `timeout`, its output captured.
    fn start(name: &'static str, program: &str, args: &[&str]) -> Peer {
        let child = Command::new("timeout")
            .args(["--kill-after=5", LIMIT, program])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name} ({program}): {e}"));
        Peer { name, child }
    }

    /// Sends SIGTERM (what `timeout` forwards to the program).
    fn terminate(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }

    /// Waits up to `limit` for it to exit; its status, stdout and stderr.
    fn finish(mut self, limit: Duration) -> (ExitStatus, String, String) {
        let deadline = Instant::now() + limit;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => panic!("{} did not exit within {limit:?}", self.name),
            }
        };
        let mut out = String::new();
        let mut err = String::new();
        if let Some(mut s) = self.child.stdout.take() {
            s.read_to_string(&mut out).expect("stdout is readable");
        }
        if let Some(mut s) = self.child.stderr.take() {
            s.read_to_string(&mut err).expect("stderr is readable");
        }
        (status, out, err)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SIGTERM first so `timeout` passes it on to its program; then
            // SIGKILL for `timeout` itself (its `--kill-after` ends the
            // program if it ignored the first).
            self.terminate();
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A UDP port free on 127.0.0.1 (the kernel's pick, released at once).
fn free_port() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("binding port 0 on loopback works");
    socket
        .local_addr()
        .expect("a bound socket has an address")
        .port()
}

/// Waits until some process bound UDP `port` (as `/proc/net/udp` shows).
fn wait_bound(port: u16, who: &Peer) {
    // Lines read `sl local_address rem_address …`, the address as
    // `0100007F:138C` (hex IP and port).
    let suffix = format!(":{port:04X}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let bound = ["/proc/net/udp", "/proc/net/udp6"].iter().any(|f| {
            std::fs::read_to_string(f).is_ok_and(|t| {
                t.lines()
                    .skip(1)
                    .filter_map(|l| l.split_whitespace().nth(1))
                    .any(|local| local.ends_with(&suffix))
            })
        });
        if bound {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} did not bind UDP port {port} within 20 s", who.name);
}

/// `streamsim serve udp-ts` of the fixture to `port`, for `seconds`.
fn serve_clip(port: u16, seconds: u32) -> Peer {
    let to = format!("127.0.0.1:{port}");
    let duration = format!("{seconds}s");
    Peer::start(
        "streamsim serve",
        BIN,
        &[
            "serve",
            "udp-ts",
            "--to",
            &to,
            "--media",
            CLIP,
            "--duration",
            &duration,
        ],
    )
}

/// ffmpeg's options for a UDP input that must not drop what it receives.
fn ffmpeg_input(port: u16) -> String {
    format!("udp://127.0.0.1:{port}?fifo_size=1000000&overrun_nonfatal=1&timeout=20000000")
}

/// The frame CRCs of `ffmpeg -f framecrc` output (video stream 0).
fn frame_crcs(framecrc: &str) -> Vec<String> {
    framecrc
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit(',').next())
        .map(|c| c.trim().to_owned())
        .collect()
}

#[test]
fn ffmpeg_decodes_our_push_without_errors_and_bit_exact() {
    let port = free_port();
    let input = ffmpeg_input(port);
    let ffmpeg = Peer::start(
        "ffmpeg",
        "ffmpeg",
        &[
            "-nostdin", "-v", "error", "-i", &input, "-map", "0:v:0", "-t", "4", "-f", "framecrc",
            "-",
        ],
    );
    wait_bound(port, &ffmpeg);
    let serve = serve_clip(port, 20);
    let (status, out, err) = ffmpeg.finish(Duration::from_secs(40));
    assert!(status.success(), "ffmpeg failed: {status}\n{err}");
    // ffmpeg joined before the first datagram, so its first keyframe is
    // the stream's first: every error line would be after it.
    let errors: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        errors.is_empty(),
        "ffmpeg reported decode errors: {errors:#?}"
    );
    let got = frame_crcs(&out);
    assert!(
        got.len() >= 110,
        "ffmpeg decoded {} frames in 4 s of stream",
        got.len()
    );
    // Nothing is transcoded: the frames decoded from our TS are the
    // file's own, bit for bit.
    let reference = Command::new("timeout")
        .args([
            LIMIT, "ffmpeg", "-nostdin", "-v", "error", "-i", CLIP, "-map", "0:v:0",
        ])
        .args(["-frames:v", &got.len().to_string(), "-f", "framecrc", "-"])
        .output()
        .expect("ffmpeg decodes the fixture");
    let want = frame_crcs(&String::from_utf8_lossy(&reference.stdout));
    assert_eq!(got, want, "decoded frames differ from the file's");
    eprintln!(
        "ffmpeg: {} frames decoded bit-exact, 0 error lines",
        got.len()
    );
    // SIGTERM stops the server cleanly, and it still says what it sent.
    serve.terminate();
    let (status, out, err) = serve.finish(Duration::from_secs(10));
    assert!(status.success(), "serve: {status}\n{out}\n{err}");
    assert!(
        out.contains("(stopped by Ctrl-C)") && out.contains(" datagrams"),
        "{out}"
    );
}

#[test]
fn ffprobe_sees_h264_640x360_30fps_and_aac_in_our_push() {
    let port = free_port();
    let input = format!("udp://127.0.0.1:{port}?timeout=20000000");
    let ffprobe = Peer::start(
        "ffprobe",
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,codec_name,width,height,r_frame_rate,sample_rate,channels",
            "-of",
            "compact",
            &input,
        ],
    );
    wait_bound(port, &ffprobe);
    let _serve = serve_clip(port, 20);
    let (status, out, err) = ffprobe.finish(Duration::from_secs(40));
    assert!(status.success(), "ffprobe failed: {status}\n{err}");
    let video = out
        .lines()
        .find(|l| l.contains("codec_type=video"))
        .unwrap_or_else(|| panic!("no video stream: {out}"));
    for field in [
        "codec_name=h264",
        "width=640",
        "height=360",
        "r_frame_rate=30/1",
    ] {
        assert!(video.contains(field), "{field} missing in {video}");
    }
    let audio = out
        .lines()
        .find(|l| l.contains("codec_type=audio"))
        .unwrap_or_else(|| panic!("no audio stream: {out}"));
    for field in ["codec_name=aac", "sample_rate=48000", "channels=2"] {
        assert!(audio.contains(field), "{field} missing in {audio}");
    }
}

#[test]
fn our_player_plays_ffmpegs_own_push() {
    let port = free_port();
    let url = format!("udp://127.0.0.1:{port}");
    let play = Peer::start(
        "streamsim play",
        BIN,
        &["play", &url, "--duration", "6s", "--json"],
    );
    wait_bound(port, &play);
    // ffmpeg's clip lasts 10 s, longer than the player listens: every
    // frame due while it plays is sent.
    let target = format!("udp://127.0.0.1:{port}?pkt_size=1316");
    let _ffmpeg = Peer::start(
        "ffmpeg push",
        "ffmpeg",
        &[
            "-nostdin", "-v", "error", "-re", "-i", CLIP, "-c", "copy", "-f", "mpegts", &target,
        ],
    );
    let (status, out, err) = play.finish(Duration::from_secs(30));
    assert!(status.success(), "play: {status}\n{out}\n{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("--json prints JSON");
    assert_eq!(report["latency_from"], "first_arrival");
    let m = |name: &str| report["metrics"][name]["value"].as_f64().unwrap_or(0.0);
    let presented = m("frames_presented");
    let due = presented + m("frames_late") + m("frames_lost") + m("frames_undecodable");
    assert!(
        presented >= 0.95 * due && presented >= 120.0,
        "{presented} of {due} frames presented: {out}"
    );
    assert_eq!(m("cc_errors"), 0.0, "{out}");
    eprintln!(
        "play of ffmpeg's push: {presented} of {due} frames presented ({:.1}%), latency p50 {:.1} ms",
        presented * 100.0 / due,
        m("latency_p50") * 1e3
    );
    assert!(m("startup") > 0.0 && m("latency_p50") >= 0.2, "{out}");
}

#[test]
fn gstreamer_decodes_our_push() {
    let port = free_port();
    let src = format!("port={port}");
    // udpsrc ends the pipeline (EOS) after 450 datagrams, about 3 s of the
    // clip; fakesink prints one "chain" line per decoded frame.
    let gst = Peer::start(
        "gst-launch-1.0",
        "gst-launch-1.0",
        &[
            "-v",
            "udpsrc",
            "address=127.0.0.1",
            &src,
            "num-buffers=450",
            "!",
            "tsdemux",
            "!",
            "h264parse",
            "!",
            "avdec_h264",
            "!",
            "video/x-raw,width=640,height=360",
            "!",
            "fakesink",
            "silent=false",
            "sync=false",
        ],
    );
    wait_bound(port, &gst);
    let _serve = serve_clip(port, 20);
    let (status, out, err) = gst.finish(Duration::from_secs(40));
    assert!(status.success(), "gst-launch failed: {status}\n{err}");
    let frames = out
        .lines()
        .filter(|l| l.contains("GstFakeSink:fakesink0: last-message = chain"))
        .filter(|l| l.contains("(345600 bytes,"))
        .count();
    // 345,600 bytes: a decoded 640x360 I420 picture.
    assert!(frames >= 60, "GStreamer decoded {frames} frames:\n{err}");
    eprintln!("GStreamer: {frames} frames decoded");
    assert!(!err.contains("ERROR"), "{err}");
}

#[test]
fn stopping_play_and_serve_prints_their_summaries() {
    let port = free_port();
    let url = format!("udp://127.0.0.1:{port}");
    let play = Peer::start("streamsim play", BIN, &["play", &url]);
    wait_bound(port, &play);
    std::thread::sleep(Duration::from_millis(500));
    play.terminate();
    let (status, out, err) = play.finish(Duration::from_secs(10));
    // Nothing was sent: no frame presented is exit status 1, and the
    // summary is printed all the same.
    assert_eq!(status.code(), Some(1), "{out}\n{err}");
    assert!(out.contains("(stopped by Ctrl-C)"), "{out}");
    assert!(
        out.contains("frames_presented") && out.contains("first frame's arrival"),
        "{out}"
    );
    // The synthetic source, to a port nobody listens on.
    let to = format!("127.0.0.1:{}", free_port());
    let serve = Peer::start("streamsim serve", BIN, &["serve", "udp-ts", "--to", &to]);
    std::thread::sleep(Duration::from_millis(1500));
    serve.terminate();
    let (status, out, err) = serve.finish(Duration::from_secs(10));
    assert!(status.success(), "{out}\n{err}");
    assert!(
        out.contains("(stopped by Ctrl-C)") && out.contains(" datagrams"),
        "{out}"
    );
}

#[test]
fn bad_live_arguments_are_refused_with_exit_2() {
    let cases: &[&[&str]] = &[
        &["serve", "udp-ts"],
        &["serve", "rtsp", "--to", "127.0.0.1:5004"],
        &["serve", "udp-ts", "--to", "127.0.0.1"],
        &["serve", "udp-ts", "--to", "127.0.0.1:0"],
        &[
            "serve",
            "udp-ts",
            "--to",
            "127.0.0.1:5004",
            "--datagram",
            "1000",
        ],
        &[
            "serve",
            "udp-ts",
            "--to",
            "127.0.0.1:5004",
            "--duration",
            "5",
        ],
        &[
            "serve",
            "udp-ts",
            "--to",
            "127.0.0.1:5004",
            "--media",
            "/nonexistent.mp4",
        ],
        &["play", "http://127.0.0.1:5004"],
        &["play", "udp://127.0.0.1:5004?pkt_size=1316"],
        &["play", "udp://127.0.0.1:5004", "--duration", "0s"],
        &["play", "udp://127.0.0.1:5004", "--target-latency", "2min"],
    ];
    for args in cases {
        let out = Command::new("timeout")
            .args(["10", BIN])
            .args(*args)
            .output()
            .expect("streamsim runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("error"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
