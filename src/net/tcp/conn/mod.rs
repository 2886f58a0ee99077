//! One TCP connection as a sans-IO state machine (RFC 9293).
//!
//! Inputs: [`Connection::handle_segment`] for every segment of this
//! connection, [`Connection::handle_timeout`] when the deadline of
//! [`Connection::poll_timeout`] is reached, and the application's
//! [`Connection::send`], [`Connection::recv`], [`Connection::close`] and
//! [`Connection::abort`]. Outputs: [`Connection::poll_transmit`] (segments
//! to put on the wire), [`Connection::poll_event`] and
//! [`Connection::poll_timeout`].
//!
//! Polling order: after every input, call `poll_transmit` until it returns
//! `None`, drain `poll_event`, then ask `poll_timeout` for the next deadline.
//! Time is a [`Duration`] since scenario start and never goes backwards.
//!
//! Internally every sequence number is a 64-bit offset from the initial
//! sequence number of its direction (the SYN is offset 0), so nothing wraps
//! inside; [`SeqNum`] appears only where segments are read and written.
//!
//! Files: `app.rs` holds the application's side, `input.rs` dispatches received segments per state, `ack.rs` is
//! the sender's ACK processing and loss recovery, `output.rs` builds
//! segments, `timers.rs` owns every timer.

use std::collections::VecDeque;
use std::time::Duration;

use super::cc::{new_controller, CongestionControl};
use super::config::TcpConfig;
use super::prr::Prr;
use super::rack::Rack;
use super::receiver::Receiver;
use super::rtt::RttEstimator;
use super::scoreboard::Scoreboard;
use super::seq::SeqNum;
use super::stats::{Sample, Series, TcpStats};
use super::wire::{TcpHeader, TcpRepr};

mod ack;
mod app;
mod input;
mod output;
mod timers;

pub use self::output::Segment;
use self::timers::Timers;

/// Connection states of RFC 9293 §3.3.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// No connection (initial, or finished).
    Closed,
    /// Waiting for a SYN.
    Listen,
    /// SYN sent, waiting for the peer's SYN.
    SynSent,
    /// SYN received and answered, waiting for its ACK.
    SynReceived,
    /// Data flows both ways.
    Established,
    /// We closed; our FIN is not yet acknowledged.
    FinWait1,
    /// We closed and our FIN is acknowledged; the peer may still send.
    FinWait2,
    /// The peer closed; we may still send.
    CloseWait,
    /// Both closed at once; our FIN is not yet acknowledged.
    Closing,
    /// The peer closed, then we did; waiting for the ACK of our FIN.
    LastAck,
    /// Both closed; waiting for stray segments to die out.
    TimeWait,
}

/// Why a connection failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TcpError {
    /// The peer answered our SYN with a reset.
    #[error("connection refused")]
    Refused,
    /// The peer reset the connection.
    #[error("connection reset by peer")]
    Reset,
    /// A segment was retransmitted `max_retransmits` times in vain.
    #[error("connection timed out")]
    TimedOut,
}

/// What a connection reports to its application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The handshake completed.
    Connected,
    /// Data can be read.
    Readable,
    /// Send-buffer space was freed.
    Writable,
    /// The peer will send no more data (FIN received in order).
    PeerClosed,
    /// The connection failed; it is now closed.
    Error(TcpError),
    /// The connection reached CLOSED; it can be dropped.
    Closed,
}

/// Loss-recovery state of the sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Recovery {
    /// No loss being repaired.
    Open,
    /// Fast recovery until `point` (SND.NXT at entry) is acknowledged.
    Fast { point: u64 },
    /// After a timeout, until `point` is acknowledged.
    Loss { point: u64 },
}

/// A tail loss probe in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Probe {
    /// SND.NXT when the probe was sent.
    end: u64,
    /// The probe was a retransmission.
    retransmission: bool,
}

/// What was negotiated in the handshake.
#[derive(Clone, Copy, Debug)]
struct Negotiated {
    /// Payload bytes of a full segment we send.
    mss: u64,
    /// Shift applied to the peer's window field.
    snd_shift: u8,
    /// Shift applied to the window we advertise.
    rcv_shift: u8,
    /// Both sides sent the window-scale option.
    window_scaling: bool,
    sack: bool,
    timestamps: bool,
}

/// One TCP connection.
#[derive(Debug)]
pub struct Connection {
    config: TcpConfig,
    state: State,
    local_port: u16,
    remote_port: u16,
    iss: SeqNum,
    irs: SeqNum,
    neg: Negotiated,
    /// Most recent TSval to echo (TS.Recent).
    ts_recent: u32,
    /// Added to milliseconds of simulated time to make TSval.
    ts_offset: u32,
    /// Receive offset acknowledged last.
    last_ack_sent: u64,
    // ---- send side (offsets from ISS; the SYN is 0) ----
    send_buf: VecDeque<u8>,
    /// Offset of `send_buf[0]`.
    buf_base: u64,
    snd_una: u64,
    /// The next new offset to send (SND.MAX: retransmissions never move it).
    snd_nxt: u64,
    snd_wnd: u64,
    snd_wl1: u64,
    snd_wl2: u64,
    max_snd_wnd: u64,
    /// The application closed: a FIN follows the data.
    fin_queued: bool,
    /// Offset of our FIN once sent.
    fin_sent: Option<u64>,
    syn_pending: bool,
    syn_sent_at: Duration,
    syn_transmissions: u32,
    board: Scoreboard,
    cc: Box<dyn CongestionControl>,
    rtt: RttEstimator,
    rack: Rack,
    prr: Option<Prr>,
    recovery: Recovery,
    dupacks: u32,
    probe: Option<Probe>,
    /// What the next timer-driven transmission is.
    tlp_pending: bool,
    zero_window_probe_pending: bool,
    /// TSval of the first retransmission after a timeout (spurious check).
    rto_tsval: Option<u32>,
    // ---- receive side ----
    rx: Receiver,
    /// A reset to send (already built: our state may be gone).
    rst: Option<TcpHeader>,
    timers: Timers,
    events: VecDeque<Event>,
    stats: TcpStats,
    series: Series,
    scratch: Vec<(u64, u64)>,
}

impl Connection {
    fn new(
        config: TcpConfig,
        local_port: u16,
        remote_port: u16,
        iss: SeqNum,
        state: State,
    ) -> Connection {
        let mss = u64::from(config.mss.max(64));
        let rx = Receiver::new(
            config.recv_buffer,
            config.ack_every,
            config.ack_delay,
            config.quick_acks,
        );
        Connection {
            cc: new_controller(&config, mss),
            rtt: RttEstimator::new(
                config.initial_rto,
                config.min_rto,
                config.max_rto,
                config.rto_formula,
            ),
            series: Series::new(config.series_capacity),
            neg: Negotiated {
                mss,
                snd_shift: 0,
                rcv_shift: 0,
                window_scaling: false,
                sack: false,
                timestamps: false,
            },
            state,
            local_port,
            remote_port,
            iss,
            irs: SeqNum(0),
            ts_recent: 0,
            ts_offset: iss.0.rotate_left(16),
            last_ack_sent: 0,
            send_buf: VecDeque::new(),
            buf_base: 1,
            snd_una: 0,
            snd_nxt: 0,
            snd_wnd: 0,
            snd_wl1: 0,
            snd_wl2: 0,
            max_snd_wnd: 0,
            fin_queued: false,
            fin_sent: None,
            syn_pending: false,
            syn_sent_at: Duration::ZERO,
            syn_transmissions: 0,
            board: Scoreboard::default(),
            rack: Rack::default(),
            prr: None,
            recovery: Recovery::Open,
            dupacks: 0,
            probe: None,
            tlp_pending: false,
            zero_window_probe_pending: false,
            rto_tsval: None,
            rx,
            rst: None,
            timers: Timers::default(),
            events: VecDeque::new(),
            stats: TcpStats::default(),
            scratch: Vec::new(),
            config,
        }
    }

    /// Opens a connection actively: the first `poll_transmit` sends a SYN
    /// with sequence number `iss` from `local_port` to `remote_port`.
    pub fn connect(
        now: Duration,
        config: TcpConfig,
        local_port: u16,
        remote_port: u16,
        iss: SeqNum,
    ) -> Connection {
        let mut conn = Connection::new(config, local_port, remote_port, iss, State::SynSent);
        conn.syn_pending = true;
        conn.timers.arm_rto(now, conn.rtt.rto());
        conn
    }

    /// A passive connection waiting on `local_port` for a SYN; its own SYN
    /// will carry `iss`. (A stack typically makes one per arriving SYN.)
    pub fn listen(config: TcpConfig, local_port: u16, iss: SeqNum) -> Connection {
        Connection::new(config, local_port, 0, iss, State::Listen)
    }

    // ---- shared helpers -----------------------------------------------

    /// Whether both sequence spaces are synchronized (past the handshake).
    fn synchronized(&self) -> bool {
        !matches!(
            self.state,
            State::Closed | State::Listen | State::SynSent | State::SynReceived
        )
    }

    /// The handshake completed.
    fn enter_established(&mut self) {
        self.timers.rtx = None;
        self.state = if self.fin_queued {
            State::FinWait1
        } else {
            State::Established
        };
        self.push_event(Event::Connected);
    }

    fn push_event(&mut self, event: Event) {
        if self.events.back() != Some(&event) {
            self.events.push_back(event);
        }
    }

    fn enter_closed(&mut self) {
        if self.state != State::Closed {
            self.state = State::Closed;
            self.timers = Timers::default();
            self.push_event(Event::Closed);
        }
    }

    fn fail(&mut self, error: TcpError) {
        self.push_event(Event::Error(error));
        self.enter_closed();
    }

    /// TSval for a segment sent at `now`: milliseconds plus an offset.
    fn ts_value(&self, now: Duration) -> u32 {
        // Truncation to 32 bits is the timestamp clock's wraparound.
        (now.as_millis() as u32).wrapping_add(self.ts_offset)
    }

    fn send_seq(&self, offset: u64) -> SeqNum {
        SeqNum::from_offset(self.iss, offset)
    }

    fn recv_seq(&self, offset: u64) -> SeqNum {
        SeqNum::from_offset(self.irs, offset)
    }

    fn record_sample(&mut self, now: Duration) {
        self.series.record(Sample {
            at: now,
            cwnd: self.cc.cwnd(),
            ssthresh: self.cc.ssthresh(),
            srtt: self.rtt.srtt(),
            pipe: self.flight(),
        });
    }
}

/// The reset answering `repr` when no connection takes it (RFC 9293
/// §3.10.7.1): `None` for a segment that is itself a reset.
pub fn reset_for(repr: &TcpRepr<'_>) -> Option<TcpHeader> {
    output::reset_reply(repr)
}
