use super::*;
use crate::media::Source;
use crate::proto::rtp::RtpPacket;

const URL: &str = "rtsp://127.0.0.1:8554/live";

fn tracks() -> Vec<Track> {
    crate::proto::live::MediaFeed::open(
        crate::proto::MediaOrigin::Synthetic(crate::proto::live::default_synthetic()),
        false,
        false,
    )
    .unwrap()
    .tracks()
}

fn server() -> ServerSession {
    let config = ServerConfig {
        path: "/live".into(),
        tracks: tracks(),
        max_payload: 1400,
        udp_ports: (6970, 6971),
        nack: true,
        epoch: Duration::from_secs(1_700_000_000),
        address: "127.0.0.1".into(),
    };
    ServerSession::new(config, 42, Duration::ZERO)
}

/// What came out: responses (status, headers by lower-case name, body),
/// interleaved frames and UDP datagrams.
#[derive(Debug, Default)]
struct Out {
    responses: Vec<(u16, BTreeMap<String, String>, Vec<u8>)>,
    data: Vec<(u8, Vec<u8>)>,
    udp: Vec<(u16, bool, Vec<u8>)>,
}

fn drain(s: &mut ServerSession) -> Out {
    let mut out = Out::default();
    let mut framer = Framer::new();
    while let Some(t) = s.poll_transmit() {
        match t {
            Transmit::Tcp(bytes) => framer.handle_bytes(&bytes),
            Transmit::Udp { port, rtcp, data } => out.udp.push((port, rtcp, data)),
        }
    }
    while let Some(frame) = framer.poll().unwrap() {
        match frame {
            Frame::Message(Message::Response(r)) => {
                let headers = r
                    .headers()
                    .map(|(n, v)| (n.as_str().to_ascii_lowercase(), v.as_str().to_owned()))
                    .collect();
                out.responses
                    .push((u16::from(r.status()), headers, r.body().clone()));
            }
            Frame::Message(m) => panic!("a server sent {m:?}"),
            Frame::Data { channel, payload } => out.data.push((channel, payload)),
        }
    }
    out
}

fn request(method: &str, url: &str, cseq: u32, extra: &str) -> Vec<u8> {
    format!("{method} {url} RTSP/1.0\r\nCSeq: {cseq}\r\n{extra}\r\n").into_bytes()
}

/// Sends one request; its one response.
fn ask(s: &mut ServerSession, bytes: &[u8]) -> (u16, BTreeMap<String, String>, Vec<u8>) {
    s.handle_bytes(Duration::ZERO, bytes);
    let mut out = drain(s);
    assert_eq!(out.responses.len(), 1, "{out:?}");
    out.responses.remove(0)
}

fn status(s: &mut ServerSession, bytes: &[u8]) -> u16 {
    ask(s, bytes).0
}

/// DESCRIBE and SETUP both tracks over `transport` (`udp` or `tcp`); the
/// session id.
fn set_up(s: &mut ServerSession, transport: &str) -> String {
    let (st, h, body) = ask(
        s,
        &request("DESCRIBE", URL, 2, "Accept: application/sdp\r\n"),
    );
    assert_eq!(st, 200);
    assert_eq!(h["content-base"], format!("{URL}/"));
    assert!(String::from_utf8_lossy(&body).contains("m=video 0 RTP/AVP 96"));
    let mut session = String::new();
    for i in 0..2 {
        let t = match transport {
            "udp" => format!(
                "Transport: RTP/AVP;unicast;client_port={}-{}\r\n",
                5000 + 2 * i,
                5001 + 2 * i
            ),
            _ => format!(
                "Transport: RTP/AVP/TCP;unicast;interleaved={}-{}\r\n",
                2 * i,
                2 * i + 1
            ),
        };
        let sess = if session.is_empty() {
            String::new()
        } else {
            format!("Session: {session}\r\n")
        };
        let (st, h, _) = ask(
            s,
            &request("SETUP", &format!("{URL}/trackID={i}"), 3 + i, &(t + &sess)),
        );
        assert_eq!(st, 200, "{h:?}");
        assert_eq!(h["cseq"], (3 + i).to_string());
        session = h["session"].split(';').next().unwrap().to_owned();
        assert!(h["session"].ends_with(";timeout=60"));
        if transport == "udp" {
            assert!(
                h["transport"].contains(&format!("client_port={}-{}", 5000 + 2 * i, 5001 + 2 * i)),
                "{h:?}"
            );
            assert!(h["transport"].contains("server_port=6970-6971"));
        } else {
            assert!(
                h["transport"].starts_with("RTP/AVP/TCP;unicast;interleaved="),
                "{h:?}"
            );
        }
    }
    session
}

fn units(seconds: u64) -> Vec<AccessUnit> {
    let mut source = crate::media::synthetic::SyntheticSource::new(
        &crate::proto::live::default_synthetic(),
        Duration::ZERO,
    )
    .unwrap();
    std::iter::from_fn(|| source.poll_next(Duration::from_secs(seconds))).collect()
}

#[test]
fn a_udp_session_describes_sets_up_plays_reports_and_tears_down() {
    let mut s = server();
    let (st, h, _) = ask(&mut s, &request("OPTIONS", URL, 1, ""));
    assert_eq!((st, h["cseq"].as_str()), (200, "1"));
    assert_eq!(h["public"], PUBLIC);
    let session = set_up(&mut s, "udp");
    let (st, h, _) = ask(
        &mut s,
        &request(
            "PLAY",
            URL,
            5,
            &format!("Session: {session}\r\nRange: npt=0.000-\r\n"),
        ),
    );
    assert_eq!(st, 200);
    assert_eq!(h["range"], "npt=now-");
    let info = &h["rtp-info"];
    assert!(
        info.contains(&format!("url={URL}/trackID=0;seq=")) && info.contains("rtptime="),
        "{info}"
    );
    assert!(s.is_playing());
    let units = units(3);
    let mut now = Duration::ZERO;
    for u in &units {
        now = u.capture_time;
        s.handle_timeout(now);
        s.handle_access_unit(now, u).unwrap();
    }
    let out = drain(&mut s);
    let rtp: Vec<_> = out.udp.iter().filter(|(_, rtcp, _)| !rtcp).collect();
    let rtcp: Vec<_> = out.udp.iter().filter(|(_, rtcp, _)| *rtcp).collect();
    assert!(rtp
        .iter()
        .all(|(port, _, _)| *port == 5000 || *port == 5002));
    // Video starts at a keyframe, with the SPS and PPS in a STAP-A.
    let first_video = rtp.iter().find(|(p, _, _)| *p == 5000).unwrap();
    assert_eq!(
        RtpPacket::parse(&first_video.2).unwrap().payload[0] & 0x1f,
        24
    );
    // The RTP-Info seq is the first packet's.
    let seq0: u16 = info
        .split("seq=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(RtpPacket::parse(&first_video.2).unwrap().seq, seq0);
    // An SR ahead of each track's first packet, then none until 5 s.
    assert_eq!(rtcp.len(), 2);
    assert!(
        out.udp.iter().position(|(p, r, _)| *r && *p == 5001)
            < out.udp.iter().position(|(p, r, _)| !*r && *p == 5000)
    );
    s.handle_timeout(Duration::from_secs(5));
    let out = drain(&mut s);
    assert_eq!(
        out.udp
            .iter()
            .filter(|(port, rtcp, _)| *rtcp && (*port == 5001 || *port == 5003))
            .count(),
        2
    );
    // TEARDOWN: BYE on both tracks, then 200.
    let (st, _, _) = {
        s.handle_bytes(
            now,
            &request("TEARDOWN", URL, 6, &format!("Session: {session}\r\n")),
        );
        let mut out = drain(&mut s);
        let byes = out.udp.iter().filter(|(_, rtcp, d)| {
            *rtcp
                && parse_compound(d)
                    .unwrap()
                    .iter()
                    .any(|p| matches!(p, Rtcp::Bye { .. }))
        });
        assert_eq!(byes.count(), 2);
        out.responses.remove(0)
    };
    assert_eq!(st, 200);
    assert!(!s.is_playing());
}

#[test]
fn a_tcp_session_interleaves_rtp_and_rtcp_and_reads_the_clients_reports() {
    let mut s = server();
    let session = set_up(&mut s, "tcp");
    assert_eq!(
        status(
            &mut s,
            &request("PLAY", URL, 5, &format!("Session: {session}\r\n"))
        ),
        200
    );
    for u in units(1) {
        s.handle_access_unit(u.capture_time, &u).unwrap();
    }
    let out = drain(&mut s);
    assert!(out.udp.is_empty());
    assert!(out.data.len() > 30);
    assert!(out.data.iter().all(|(ch, _)| *ch < 4));
    // One SR on each RTCP channel, ahead of the track's first packet.
    assert_eq!(out.data.iter().filter(|(ch, _)| ch % 2 == 1).count(), 2);
    // A receiver report and a NACK on the RTCP channel: the NACKed packet
    // comes back as an RFC 4588 retransmission on the RTP channel.
    let video = RtpPacket::parse(&out.data.iter().find(|(c, _)| *c == 0).unwrap().1).unwrap();
    let rr = write_compound(&[
        Rtcp::Rr {
            ssrc: 9,
            blocks: vec![],
        },
        Rtcp::Nack {
            sender_ssrc: 9,
            media_ssrc: video.ssrc,
            seqs: vec![video.seq],
        },
    ])
    .unwrap();
    s.handle_bytes(Duration::from_secs(1), &interleave(1, &rr));
    let out = drain(&mut s);
    assert_eq!(out.data.len(), 1);
    let rtx = RtpPacket::parse(&out.data[0].1).unwrap();
    assert_eq!(rtx.payload_type, sdp::rtx_payload_type(2, 0));
    assert_eq!(
        super::super::sender::unwrap_rtx(&rtx, 96, video.ssrc).unwrap(),
        video
    );
    assert_eq!(s.counters().retransmissions, 1);
    let kinds: Vec<_> = std::iter::from_fn(|| s.poll_event())
        .filter_map(|e| match e {
            RtspEvent::Rtcp { sent: false, kind } => Some(kind),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, vec!["RR", "NACK"]);
}

// One test per kind of malformed input the issue lists.

#[test]
fn malformed_garbage_gets_400_and_a_clean_close() {
    let mut s = server();
    s.handle_bytes(Duration::ZERO, b"\x00\x01\x02garbage\xff\r\n\r\n");
    let out = drain(&mut s);
    assert_eq!(out.responses[0].0, 400);
    assert!(s.is_closed());
    // Nothing more is read.
    s.handle_bytes(Duration::ZERO, &request("OPTIONS", URL, 1, ""));
    assert!(drain(&mut s).responses.is_empty());
}

#[test]
fn malformed_truncated_headers_wait_without_answering() {
    let mut s = server();
    let r = request("OPTIONS", URL, 1, "User-Agent: x\r\n");
    s.handle_bytes(Duration::ZERO, &r[..r.len() - 3]);
    assert!(drain(&mut s).responses.is_empty());
    assert!(!s.is_closed());
    s.handle_bytes(Duration::ZERO, &r[r.len() - 3..]);
    assert_eq!(drain(&mut s).responses[0].0, 200);
}

#[test]
fn malformed_ten_megabyte_header_line_gets_400_with_bounded_memory() {
    let mut s = server();
    s.handle_bytes(
        Duration::ZERO,
        b"OPTIONS rtsp://h/live RTSP/1.0\r\nCSeq: 1\r\nX: ",
    );
    let chunk = vec![b'x'; 1 << 16];
    for _ in 0..160 {
        s.handle_bytes(Duration::ZERO, &chunk);
        assert!(
            s.framer.buffered()
                <= 2 * (super::super::framing::MAX_HEAD + super::super::framing::MAX_BODY)
        );
        if s.is_closed() {
            break;
        }
    }
    assert!(s.is_closed());
    assert_eq!(drain(&mut s).responses[0].0, 400);
}

#[test]
fn malformed_huge_content_length_gets_413_and_a_close() {
    let mut s = server();
    assert_eq!(
        status(
            &mut s,
            &request("DESCRIBE", URL, 1, "Content-Length: 1000000000\r\n")
        ),
        413
    );
    assert!(s.is_closed());
}

#[test]
fn malformed_wrong_cseq_gets_400_and_the_connection_goes_on() {
    let mut s = server();
    assert_eq!(
        status(&mut s, b"OPTIONS rtsp://h/live RTSP/1.0\r\n\r\n"),
        400
    );
    let (st, h, _) = ask(
        &mut s,
        b"OPTIONS rtsp://h/live RTSP/1.0\r\nCSeq: one\r\n\r\n",
    );
    assert_eq!(st, 400);
    assert!(!h.contains_key("cseq"));
    // Every answer echoes the request's own CSeq.
    let (_, h, _) = ask(&mut s, &request("OPTIONS", URL, 4_000_000_000, ""));
    assert_eq!(h["cseq"], "4000000000");
    assert!(!s.is_closed());
}

#[test]
fn malformed_setup_without_describe_gets_455() {
    let mut s = server();
    let t = "Transport: RTP/AVP;unicast;client_port=5000-5001\r\n";
    assert_eq!(
        status(&mut s, &request("SETUP", &format!("{URL}/trackID=0"), 1, t)),
        455
    );
}

#[test]
fn malformed_play_without_setup_gets_455_and_a_wrong_session_454() {
    let mut s = server();
    assert_eq!(status(&mut s, &request("PLAY", URL, 1, "")), 455);
    assert_eq!(
        status(&mut s, &request("PLAY", URL, 2, "Session: 1234\r\n")),
        454
    );
    let session = set_up(&mut s, "udp");
    assert_eq!(
        status(&mut s, &request("PLAY", URL, 6, "Session: nope\r\n")),
        454
    );
    assert_eq!(status(&mut s, &request("PLAY", URL, 7, "")), 454);
    assert_eq!(
        status(
            &mut s,
            &request("PLAY", URL, 8, &format!("Session: {session}\r\n"))
        ),
        200
    );
}

#[test]
fn malformed_interleaved_frame_on_a_bad_channel_closes_cleanly() {
    let mut s = server();
    set_up(&mut s, "tcp");
    s.handle_bytes(Duration::ZERO, &interleave(9, &[0x80, 200, 0, 0]));
    assert!(s.is_closed());
    let events: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(
        matches!(events.last(), Some(RtspEvent::Closed { .. })),
        "{events:?}"
    );
}

#[test]
fn statuses_for_unknown_paths_methods_aggregates_and_transports() {
    let mut s = server();
    assert_eq!(
        status(
            &mut s,
            &request("DESCRIBE", "rtsp://127.0.0.1:8554/other", 1, "")
        ),
        404
    );
    assert_eq!(status(&mut s, &request("RECORD", URL, 2, "")), 405);
    assert_eq!(status(&mut s, &request("FOO", URL, 3, "")), 501);
    assert_eq!(status(&mut s, &request("DESCRIBE", URL, 4, "")), 200);
    let setup = |t: &str| {
        request(
            "SETUP",
            &format!("{URL}/trackID=0"),
            5,
            &format!("Transport: {t}\r\n"),
        )
    };
    assert_eq!(status(&mut s, &setup("RTP/AVP;multicast")), 461);
    assert_eq!(
        status(&mut s, &setup("RTP/SAVP;unicast;client_port=1-2")),
        461
    );
    assert_eq!(status(&mut s, &setup("RTP/AVP;unicast")), 461);
    assert_eq!(
        status(
            &mut s,
            &request("SETUP", &format!("{URL}/trackID=7"), 6, "")
        ),
        404
    );
    // Two tracks set up: PLAY of one of them is not allowed (aggregate only).
    let session = set_up(&mut s, "udp");
    let one = request(
        "PLAY",
        &format!("{URL}/trackID=1"),
        9,
        &format!("Session: {session}\r\n"),
    );
    assert_eq!(status(&mut s, &one), 459);
    assert_eq!(
        status(
            &mut s,
            &request("GET_PARAMETER", URL, 10, &format!("Session: {session}\r\n"))
        ),
        200
    );
    assert_eq!(
        status(
            &mut s,
            &request("PAUSE", URL, 11, &format!("Session: {session}\r\n"))
        ),
        200
    );
    assert_eq!(status(&mut s, &request("OPTIONS", URL, 12, "")), 200);
    assert_eq!(
        status(&mut s, b"OPTIONS * RTSP/2.0\r\nCSeq: 13\r\n\r\n"),
        505
    );
}

#[test]
fn an_idle_session_times_out_and_requests_keep_it_alive() {
    let mut s = server();
    let session = set_up(&mut s, "udp");
    assert_eq!(s.poll_timeout(), Some(SESSION_TIMEOUT));
    s.handle_bytes(
        Duration::from_secs(50),
        &request("GET_PARAMETER", URL, 9, &format!("Session: {session}\r\n")),
    );
    assert_eq!(s.poll_timeout(), Some(Duration::from_secs(110)));
    s.handle_timeout(Duration::from_secs(109));
    assert!(!s.is_closed());
    s.handle_timeout(Duration::from_secs(110));
    assert!(s.is_closed());
    assert!(std::iter::from_fn(|| s.poll_event()).any(|e| e == RtspEvent::SessionTimeout));
}
