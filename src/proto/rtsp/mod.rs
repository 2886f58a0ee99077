//! `rtsp`: RTSP 1.0 (RFC 2326) with RTP/RTCP, the protocol of IP cameras
//! and contribution links. A sans-IO server session per connection
//! ([`server::ServerSession`]) answers OPTIONS, DESCRIBE, SETUP (RTP/AVP
//! over UDP unicast, or interleaved on the connection), PLAY, PAUSE,
//! GET_PARAMETER and TEARDOWN, and sends the live source as RTP ([`rtp`]
//! payload formats) with RTCP SRs and BYE, retransmitting NACKed packets
//! (RFC 4585/4588) when asked to.
//!
//! Messages and headers are read and written with `rtsp-types`, the
//! session description with `sdp-types`; the session logic is ours.
//! Memory per connection is bounded ([`framing`]).
//!
//! [`rtp`]: crate::proto::rtp

pub mod client;
pub mod driver;
pub mod framing;
pub mod receiver;
pub mod sdp;
pub mod sender;
pub mod server;
pub mod session;

pub use server::{ServerConfig, ServerSession, TrackTransport, Transmit};
pub use session::{METRICS, PROTOCOL};

/// What went wrong in an RTSP session.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RtspError {
    /// The media cannot be described or sent.
    #[error("media: {0}")]
    Media(String),
    /// A session description is unreadable.
    #[error("SDP: {0}")]
    Sdp(String),
}

/// What a session reports for the event log: the RTSP exchange, RTCP
/// reports, state changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtspEvent {
    /// A request (received by a server, sent by a client).
    Request {
        /// Its method.
        method: String,
        /// Its URL (`*` for none).
        uri: String,
        /// Its CSeq, if it had a valid one.
        cseq: Option<u32>,
    },
    /// A response (sent by a server, received by a client).
    Response {
        /// Its status.
        status: u16,
        /// The CSeq it echoes.
        cseq: Option<u32>,
    },
    /// A track was set up.
    Setup {
        /// The track's index.
        track: usize,
        /// Where it goes.
        transport: TrackTransport,
    },
    /// Playing started.
    Play,
    /// Playing paused.
    Pause,
    /// The session was torn down.
    Teardown,
    /// The session timed out.
    SessionTimeout,
    /// An RTCP packet (SR, RR, NACK, BYE) was sent or received.
    Rtcp {
        /// Sent (else received).
        sent: bool,
        /// Its kind.
        kind: String,
    },
    /// The connection closes.
    Closed {
        /// Why.
        reason: String,
    },
}
