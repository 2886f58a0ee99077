use super::*;

const OPTIONS: &[u8] =
    b"OPTIONS rtsp://127.0.0.1:8554/live RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: test\r\n\r\n";
const ANNOUNCE: &[u8] =
    b"SET_PARAMETER rtsp://h/live RTSP/1.0\r\nCSeq: 7\r\nContent-Length: 5\r\nContent-Type: text/parameters\r\n\r\na: b\n";

fn stream() -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(OPTIONS);
    bytes.extend(interleave(
        0,
        &[0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa],
    ));
    bytes.extend_from_slice(ANNOUNCE);
    bytes.extend(interleave(1, &[]));
    bytes.extend(interleave(3, &[0x81, 201, 0, 1, 0, 0, 0, 2]));
    bytes
}

fn describe(frames: &[Frame]) -> Vec<String> {
    frames
        .iter()
        .map(|f| match f {
            Frame::Message(Message::Request(r)) => format!("{:?} {}", r.method(), r.body().len()),
            Frame::Message(m) => format!("{m:?}"),
            Frame::Data { channel, payload } => format!("${channel} {}", payload.len()),
        })
        .collect()
}

fn read_all(framer: &mut Framer, out: &mut Vec<Frame>) {
    while let Some(f) = framer.poll().unwrap() {
        out.push(f);
    }
}

/// Messages and `$` frames read the same whichever byte boundary the
/// stream is split at (one split, and one byte at a time).
#[test]
fn frames_read_the_same_split_at_every_byte_boundary() {
    let bytes = stream();
    let mut whole = Framer::new();
    let mut want = Vec::new();
    whole.handle_bytes(&bytes);
    read_all(&mut whole, &mut want);
    let want = describe(&want);
    assert_eq!(
        want,
        vec!["Options 0", "$0 13", "SetParameter 5", "$1 0", "$3 8"]
    );
    for split in 0..=bytes.len() {
        let mut f = Framer::new();
        let mut got = Vec::new();
        f.handle_bytes(&bytes[..split]);
        read_all(&mut f, &mut got);
        f.handle_bytes(&bytes[split..]);
        read_all(&mut f, &mut got);
        assert_eq!(describe(&got), want, "split at {split}");
        assert_eq!(f.buffered(), 0);
    }
    let mut f = Framer::new();
    let mut got = Vec::new();
    for b in &bytes {
        f.handle_bytes(std::slice::from_ref(b));
        read_all(&mut f, &mut got);
    }
    assert_eq!(describe(&got), want);
}

#[test]
fn an_interleaved_frame_round_trips() {
    let payload: Vec<u8> = (0..=255).collect();
    let bytes = interleave(200, &payload);
    assert_eq!(&bytes[..4], &[b'$', 200, 1, 0]);
    let mut f = Framer::new();
    f.handle_bytes(&bytes);
    match f.poll().unwrap() {
        Some(Frame::Data {
            channel,
            payload: p,
        }) => assert_eq!((channel, p), (200, payload)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn garbage_is_malformed() {
    let mut f = Framer::new();
    f.handle_bytes(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n");
    assert_eq!(f.poll().unwrap_err(), FramingError::Malformed);
    // And stays failed.
    f.handle_bytes(OPTIONS);
    assert!(f.poll().is_err());
}

#[test]
fn a_truncated_head_waits_and_holds_only_what_came() {
    let mut f = Framer::new();
    f.handle_bytes(&OPTIONS[..OPTIONS.len() - 2]);
    assert!(f.poll().unwrap().is_none());
    assert_eq!(f.buffered(), OPTIONS.len() - 2);
}

#[test]
fn a_ten_megabyte_header_line_fails_with_bounded_memory() {
    let mut f = Framer::new();
    f.handle_bytes(b"OPTIONS * RTSP/1.0\r\nX-Long: ");
    let chunk = vec![b'a'; 64 * 1024];
    let mut failed = false;
    for _ in 0..160 {
        f.handle_bytes(&chunk);
        assert!(f.buffered() <= MAX_HEAD + chunk.len() + 64);
        if let Err(e) = f.poll() {
            assert_eq!(e, FramingError::HeadTooLong);
            assert_eq!(e.status(), 400);
            failed = true;
            break;
        }
    }
    assert!(failed);
    assert_eq!(f.buffered(), 0);
}

#[test]
fn too_many_headers_fail() {
    let mut head = b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n".to_vec();
    for i in 0..MAX_HEADERS + 1 {
        head.extend(format!("X-{i}: y\r\n").bytes());
    }
    head.extend(b"\r\n");
    let mut f = Framer::new();
    f.handle_bytes(&head);
    assert_eq!(f.poll().unwrap_err(), FramingError::TooManyHeaders);
}

#[test]
fn a_huge_content_length_fails_before_any_body_is_held() {
    for value in ["99999999999", "65537", "-1", "ten"] {
        let mut f = Framer::new();
        f.handle_bytes(
            format!(
                "DESCRIBE rtsp://h/live RTSP/1.0\r\nCSeq: 2\r\nContent-Length: {value}\r\n\r\n"
            )
            .as_bytes(),
        );
        let e = f.poll().unwrap_err();
        assert!(matches!(e, FramingError::BodyTooLarge(_)), "{value}: {e:?}");
        assert_eq!(e.status(), 413);
    }
}
