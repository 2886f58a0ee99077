//! Seeded mutation of RTSP requests, RTP and RTCP packets: at least
//! 100,000 mutated inputs each into the request reader and server session,
//! the RTP parser and depacketizers, and the RTCP parser. None may panic,
//! and a server session never holds more than its framing limits allow.
//! Same seed, same inputs: a failure reproduces.

use std::time::Duration;

use streamsim::media::Source;
use streamsim::proto::rtp::aac::AacDepacketizer;
use streamsim::proto::rtp::h264::H264Depacketizer;
use streamsim::proto::rtp::rtcp::{parse_compound, write_compound, Block, Rtcp};
use streamsim::proto::rtp::RtpPacket;
use streamsim::proto::rtsp::framing::{interleave, Framer, MAX_BODY, MAX_HEAD};
use streamsim::proto::rtsp::sender::TrackSender;
use streamsim::proto::rtsp::{ServerConfig, ServerSession};
use streamsim::rng::SplitMix64;

const INPUTS: usize = 100_000;

/// One random edit of `input`: flip, set, insert, delete, duplicate,
/// truncate, or splice in a token RTSP parsers trip on.
fn mutate(rng: &mut SplitMix64, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    let edits = 1 + rng.below(4);
    for _ in 0..edits {
        let at = if out.is_empty() {
            0
        } else {
            rng.below(out.len() as u64) as usize
        };
        match rng.below(8) {
            0 if !out.is_empty() => out[at] ^= 1 << rng.below(8),
            1 if !out.is_empty() => out[at] = rng.next_u64() as u8,
            2 => out.insert(at, rng.next_u64() as u8),
            3 if !out.is_empty() => {
                out.remove(at);
            }
            4 => {
                let len = rng.below(16) as usize;
                let end = (at + len).min(out.len());
                let chunk = out[at..end].to_vec();
                out.splice(at..at, chunk);
            }
            5 => out.truncate(at),
            _ => {
                const TOKENS: &[&[u8]] = &[
                    b"\r\n",
                    b"\r\n\r\n",
                    b"$",
                    b":",
                    b";",
                    b"Content-Length: 70000\r\n",
                    b"CSeq: -1\r\n",
                    b"Session: \r\n",
                    b"Transport: RTP/AVP/TCP;interleaved=255-0\r\n",
                    b"\x00",
                    b"\xff\xff",
                    b"RTSP/2.0",
                    b"rtsp://[::1",
                    b"client_port=65535-0",
                ];
                let token = TOKENS[rng.below(TOKENS.len() as u64) as usize];
                let at = at.min(out.len());
                out.splice(at..at, token.iter().copied());
            }
        }
    }
    out
}

fn tracks() -> Vec<streamsim::media::Track> {
    streamsim::proto::MediaFeed::open(
        streamsim::proto::MediaOrigin::Synthetic(streamsim::proto::live::default_synthetic()),
        false,
        false,
    )
    .unwrap()
    .tracks()
}

fn config() -> ServerConfig {
    ServerConfig {
        path: "/live".into(),
        tracks: tracks(),
        max_payload: 1400,
        udp_ports: (6970, 6971),
        nack: true,
        epoch: Duration::ZERO,
        address: "127.0.0.1".into(),
    }
}

const URL: &str = "rtsp://127.0.0.1:8554/live";

fn requests() -> Vec<Vec<u8>> {
    let r = |s: String| s.into_bytes();
    vec![
        r(format!("OPTIONS {URL} RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: x\r\n\r\n")),
        r(format!("DESCRIBE {URL} RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n")),
        r(format!("SETUP {URL}/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n")),
        r(format!("SETUP {URL}/trackID=1 RTSP/1.0\r\nCSeq: 4\r\nTransport: RTP/AVP/TCP;unicast;interleaved=2-3\r\n\r\n")),
        r(format!("PLAY {URL} RTSP/1.0\r\nCSeq: 5\r\nSession: 0123456789ABCDEF\r\nRange: npt=0.000-\r\n\r\n")),
        r(format!("GET_PARAMETER {URL} RTSP/1.0\r\nCSeq: 6\r\nContent-Length: 4\r\n\r\nab\r\n")),
        r(format!("TEARDOWN {URL} RTSP/1.0\r\nCSeq: 7\r\nSession: x\r\n\r\n")),
    ]
}

#[test]
fn mutated_requests_never_panic_and_memory_stays_bounded() {
    let mut rng = SplitMix64::new(0x5254_5350);
    let corpus = requests();
    // A conversation up to PLAY, so mutations also reach the later states.
    let prefix: Vec<u8> = corpus[..4].concat();
    let limit = 2 * (MAX_HEAD + MAX_BODY);
    let (mut answered, mut closed) = (0, 0);
    for i in 0..INPUTS {
        let base = &corpus[rng.below(corpus.len() as u64) as usize];
        let mut input = mutate(&mut rng, base);
        if i % 3 == 0 {
            input = [
                prefix.as_slice(),
                &input,
                &interleave(1, &mutate(&mut rng, &[0x80, 201, 0, 1, 0, 0, 0, 9])),
            ]
            .concat();
        }
        let mut s = ServerSession::new(config(), i as u64, Duration::ZERO);
        // Split at a random point, as TCP may.
        let split = rng.below(input.len() as u64 + 1) as usize;
        s.handle_bytes(Duration::ZERO, &input[..split]);
        s.handle_bytes(Duration::from_millis(1), &input[split..]);
        s.handle_timeout(Duration::from_secs(61));
        let mut bytes = 0;
        while let Some(t) = s.poll_transmit() {
            bytes += match t {
                streamsim::proto::rtsp::Transmit::Tcp(b) => b.len(),
                streamsim::proto::rtsp::Transmit::Udp { data, .. } => data.len(),
            };
        }
        assert!(bytes < limit, "input {i}: {bytes} bytes out");
        answered += usize::from(bytes > 0);
        closed += usize::from(s.is_closed());
    }
    // The mutations reach both outcomes often.
    assert!(
        answered > INPUTS / 2 && closed > INPUTS / 10,
        "{answered} answered, {closed} closed"
    );
}

#[test]
fn mutated_framer_input_never_panics() {
    let mut rng = SplitMix64::new(11);
    let corpus = requests();
    for _ in 0..INPUTS {
        let base = &corpus[rng.below(corpus.len() as u64) as usize];
        let input = mutate(&mut rng, &[base.as_slice(), &interleave(3, base)].concat());
        let mut f = Framer::new();
        f.handle_bytes(&input);
        while let Ok(Some(_)) = f.poll() {}
        assert!(f.buffered() <= input.len());
    }
}

fn rtp_corpus() -> Vec<RtpPacket> {
    let tracks = tracks();
    let mut rng = SplitMix64::new(3);
    let mut video = TrackSender::new(&tracks[0], 96, 1200, &mut rng, Some(98)).unwrap();
    let mut audio = TrackSender::new(&tracks[1], 97, 1200, &mut rng, None).unwrap();
    let mut source = streamsim::media::synthetic::SyntheticSource::new(
        &streamsim::proto::live::default_synthetic(),
        Duration::ZERO,
    )
    .unwrap();
    let mut out = Vec::new();
    while let Some(u) = source.poll_next(Duration::from_millis(300)) {
        let sender = if u.track == tracks[0].id {
            &mut video
        } else {
            &mut audio
        };
        out.extend(sender.packets(Duration::ZERO, &u).unwrap());
    }
    out
}

#[test]
fn mutated_rtp_never_panics_in_the_parser_or_the_depacketizers() {
    let corpus = rtp_corpus();
    assert!(corpus.len() > 20);
    let mut rng = SplitMix64::new(7);
    let mut h264 = H264Depacketizer::new();
    let mut aac = AacDepacketizer::new(1024);
    let mut parsed = 0;
    for i in 0..INPUTS {
        let base = corpus[i % corpus.len()].write().unwrap();
        let input = mutate(&mut rng, &base);
        if let Ok(p) = RtpPacket::parse(&input) {
            parsed += 1;
            // Through both depacketizers, whatever the payload type says.
            h264.handle_packet(p.seq, p.timestamp, p.marker, &p.payload);
            aac.handle_packet(p.seq, p.timestamp, p.marker, &p.payload);
            while h264.poll().is_some() {}
            while aac.poll().is_some() {}
            // What parses writes back to what parses the same.
            if let Ok(bytes) = p.write() {
                assert_eq!(RtpPacket::parse(&bytes).as_ref(), Ok(&p));
            }
        }
    }
    assert!(parsed > INPUTS / 4, "{parsed} parsed");
}

#[test]
fn mutated_rtcp_never_panics() {
    let block = Block {
        ssrc: 1,
        fraction_lost: 3,
        cumulative_lost: 20,
        highest_seq: 70_000,
        jitter: 30,
        lsr: 5,
        dlsr: 6,
    };
    let corpus = [
        write_compound(&[
            Rtcp::Sr {
                ssrc: 1,
                ntp: 1 << 40,
                rtp_ts: 9,
                packets: 10,
                octets: 1000,
                blocks: vec![block],
            },
            Rtcp::Cname {
                ssrc: 1,
                cname: "a".into(),
            },
        ])
        .unwrap(),
        write_compound(&[
            Rtcp::Rr {
                ssrc: 2,
                blocks: vec![block, block],
            },
            Rtcp::Nack {
                sender_ssrc: 2,
                media_ssrc: 1,
                seqs: vec![1, 2, 17, 300],
            },
        ])
        .unwrap(),
        write_compound(&[Rtcp::Bye {
            ssrcs: vec![1, 2],
            reason: Some("bye".into()),
        }])
        .unwrap(),
    ];
    let mut rng = SplitMix64::new(9);
    let mut parsed = 0;
    for i in 0..INPUTS {
        let input = mutate(&mut rng, &corpus[i % corpus.len()]);
        if parse_compound(&input).is_ok() {
            parsed += 1;
        }
    }
    assert!(parsed > INPUTS / 20, "{parsed} parsed");
}
