//! What arrives on an RTSP connection, one frame at a time: requests,
//! responses, and RTP/RTCP interleaved as `$`, channel, 16-bit length,
//! data (RFC 2326 §10.12). Messages are parsed with `rtsp-types`; this
//! reader bounds what it buffers before handing them over.
//!
//! Limits (per connection, so memory stays bounded whatever a peer sends):
//! a message head (request or status line and headers) of at most
//! [`MAX_HEAD`] bytes and [`MAX_HEADERS`] header lines, and a body of at
//! most [`MAX_BODY`] bytes. A peer past a limit gets an error (the
//! connection answers 400 or 413 and closes); bytes that are neither a
//! message nor a `$` frame are an error too. "Need more bytes" is never
//! an error: [`Framer::poll`] returns `Ok(None)`.

use rtsp_types::{Message, ParseError};

/// The longest message head read, bytes.
pub const MAX_HEAD: usize = 16 * 1024;
/// The most header lines in one message.
pub const MAX_HEADERS: usize = 64;
/// The largest body read (an SDP, a GET_PARAMETER list), bytes.
pub const MAX_BODY: usize = 64 * 1024;

/// A request or response of RTSP.
pub type RtspMessage = Message<Vec<u8>>;

/// One frame off the connection.
#[derive(Debug)]
pub enum Frame {
    /// A request or response.
    Message(RtspMessage),
    /// Interleaved data.
    Data {
        /// The channel.
        channel: u8,
        /// The RTP or RTCP packet.
        payload: Vec<u8>,
    },
}

/// Why a connection's input is unusable (it then closes).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    /// The head is longer than [`MAX_HEAD`].
    #[error("a message head longer than {MAX_HEAD} bytes")]
    HeadTooLong,
    /// More than [`MAX_HEADERS`] header lines.
    #[error("more than {MAX_HEADERS} header lines")]
    TooManyHeaders,
    /// A Content-Length above [`MAX_BODY`] (or not a number).
    #[error("Content-Length {0:?} is above {MAX_BODY} bytes or not a number")]
    BodyTooLarge(String),
    /// Not RTSP.
    #[error("malformed RTSP message")]
    Malformed,
}

impl FramingError {
    /// The status a server answers with before closing.
    pub fn status(&self) -> u16 {
        match self {
            FramingError::BodyTooLarge(_) => 413,
            FramingError::HeadTooLong | FramingError::TooManyHeaders => 400,
            FramingError::Malformed => 400,
        }
    }
}

/// Reads frames from a connection's bytes.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    failed: Option<FramingError>,
}

impl Framer {
    /// A reader with nothing buffered.
    pub fn new() -> Framer {
        Framer::default()
    }

    /// Bytes arrived. Once the input failed, more is ignored. Poll every
    /// frame out after each call: frames are checked against the limits
    /// when polled, so a caller that does holds at most one read beyond
    /// them (past twice the limits the input fails at once).
    pub fn handle_bytes(&mut self, bytes: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        if self.buf.len() + bytes.len() > 2 * (MAX_HEAD + MAX_BODY) {
            self.failed = Some(FramingError::HeadTooLong);
            self.buf = Vec::new();
            return;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held, waiting for the rest of a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next whole frame; `Ok(None)` when more bytes are needed.
    pub fn poll(&mut self) -> Result<Option<Frame>, FramingError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        // Empty lines between messages are allowed (RFC 2326 §4).
        let skip = self
            .buf
            .iter()
            .take_while(|b| **b == b'\r' || **b == b'\n')
            .count();
        self.buf.drain(..skip);
        match self.next_frame() {
            Ok(frame) => Ok(frame),
            Err(e) => {
                self.failed = Some(e.clone());
                self.buf = Vec::new();
                Err(e)
            }
        }
    }

    fn next_frame(&mut self) -> Result<Option<Frame>, FramingError> {
        match self.buf.first() {
            None => Ok(None),
            Some(b'$') => Ok(self.data()),
            Some(_) => self.message(),
        }
    }

    fn data(&mut self) -> Option<Frame> {
        let [_, channel, hi, lo, ..] = self.buf[..] else {
            return None;
        };
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        if self.buf.len() < 4 + len {
            return None;
        }
        let payload = self.buf[4..4 + len].to_vec();
        self.buf.drain(..4 + len);
        Some(Frame::Data { channel, payload })
    }

    fn message(&mut self) -> Result<Option<Frame>, FramingError> {
        let Some(head_end) = find(&self.buf, b"\r\n\r\n") else {
            if self.buf.len() > MAX_HEAD {
                return Err(FramingError::HeadTooLong);
            }
            if self.buf.iter().filter(|b| **b == b'\n').count() > MAX_HEADERS + 1 {
                return Err(FramingError::TooManyHeaders);
            }
            return Ok(None);
        };
        let head = &self.buf[..head_end];
        if head.len() > MAX_HEAD {
            return Err(FramingError::HeadTooLong);
        }
        let lines = head.split(|b| *b == b'\n').count();
        if lines > MAX_HEADERS + 1 {
            return Err(FramingError::TooManyHeaders);
        }
        let body = content_length(head)?;
        let total = head_end + 4 + body;
        if self.buf.len() < total {
            return Ok(None);
        }
        match Message::<Vec<u8>>::parse(&self.buf[..total]) {
            Ok((message, used)) if used == total => {
                self.buf.drain(..total);
                Ok(Some(Frame::Message(message)))
            }
            Ok(_) | Err(ParseError::Error) | Err(ParseError::Incomplete(_)) => {
                Err(FramingError::Malformed)
            }
        }
    }
}

/// The Content-Length of a head (0 without one), at most [`MAX_BODY`].
fn content_length(head: &[u8]) -> Result<usize, FramingError> {
    for line in head.split(|b| *b == b'\n') {
        let line = String::from_utf8_lossy(line);
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let value = value.trim();
            return value
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= MAX_BODY)
                .ok_or_else(|| FramingError::BodyTooLarge(value.chars().take(40).collect()));
        }
    }
    Ok(0)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// An interleaved frame: `$`, channel, length, payload (at most 65,535
/// bytes; longer payloads are cut, which RTP over TCP never needs).
pub fn interleave(channel: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len().min(usize::from(u16::MAX));
    let mut out = Vec::with_capacity(4 + len);
    out.push(b'$');
    out.push(channel);
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(&payload[..len]);
    out
}

/// A message's bytes.
pub fn write_message(message: &RtspMessage) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = message.write(&mut out);
    out
}

#[cfg(test)]
#[path = "framing_tests.rs"]
mod tests;
