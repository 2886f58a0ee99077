//! What the application sees of a connection: getters, and the `send`,
//! `recv`, `close`, `abort` and `poll_event` calls of the socket API.

use std::time::Duration;

use super::{Connection, Event, Recovery, State};
use crate::net::tcp::stats::{Sample, TcpStats};

impl Connection {
    // ---- getters ------------------------------------------------------

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Local and remote port.
    pub fn ports(&self) -> (u16, u16) {
        (self.local_port, self.remote_port)
    }

    /// Counters.
    pub fn stats(&self) -> &TcpStats {
        &self.stats
    }

    /// The cwnd/ssthresh/RTT time series.
    pub fn series(&self) -> &[Sample] {
        self.series.samples()
    }

    /// Congestion window in bytes.
    pub fn cwnd(&self) -> u64 {
        self.cc.cwnd()
    }

    /// Slow-start threshold in bytes.
    pub fn ssthresh(&self) -> u64 {
        self.cc.ssthresh()
    }

    /// Smoothed RTT, once sampled.
    pub fn srtt(&self) -> Option<Duration> {
        self.rtt.srtt()
    }

    /// The current retransmission timeout, backoff included.
    pub fn rto(&self) -> Duration {
        self.rtt.rto()
    }

    /// Payload bytes of a full segment this side sends.
    pub fn mss(&self) -> u64 {
        self.neg.mss
    }

    /// Bytes in flight by RFC 6675's estimate.
    pub fn pipe(&self) -> u64 {
        self.flight()
    }

    /// Whether the sender is in fast recovery.
    pub fn in_recovery(&self) -> bool {
        matches!(self.recovery, Recovery::Fast { .. })
    }

    /// Bytes the application can read now.
    pub fn readable(&self) -> usize {
        self.rx.readable()
    }

    /// Bytes `send` would accept now.
    pub fn send_capacity(&self) -> usize {
        if self.fin_queued || !self.can_queue_data() {
            return 0;
        }
        self.config.send_buffer.saturating_sub(self.send_buf.len())
    }

    /// Bytes received out of order and held for reassembly.
    pub fn out_of_order_bytes(&self) -> usize {
        self.rx.out_of_order_bytes()
    }

    /// Bytes queued and not yet acknowledged.
    pub fn send_queue(&self) -> usize {
        self.send_buf.len()
    }

    /// Whether the peer has closed its direction.
    pub fn peer_closed(&self) -> bool {
        self.rx.fin_received()
    }

    fn can_queue_data(&self) -> bool {
        matches!(
            self.state,
            State::SynSent | State::SynReceived | State::Established | State::CloseWait
        )
    }

    // ---- application side ---------------------------------------------

    /// Queues as much of `data` as the send buffer takes; returns how much.
    pub fn send(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.send_capacity());
        self.send_buf.extend(&data[..n]);
        n
    }

    /// Reads received data into `out`; returns the bytes read (0 when none
    /// is available; see [`Self::peer_closed`] for end of stream).
    pub fn recv(&mut self, out: &mut [u8]) -> usize {
        let n = self.rx.read(out);
        if n > 0 && self.synchronized() && self.rx.window_update_due(self.neg.mss as usize) {
            self.rx.request_ack();
        }
        n
    }

    /// Closes our direction: a FIN follows the queued data. Before the
    /// handshake completes, data already queued is still sent after it.
    pub fn close(&mut self) {
        match self.state {
            State::Listen => self.enter_closed(),
            State::SynSent if self.send_buf.is_empty() => self.enter_closed(),
            State::SynSent | State::SynReceived => self.fin_queued = true,
            State::Established => {
                self.fin_queued = true;
                self.state = State::FinWait1;
            }
            State::CloseWait => {
                self.fin_queued = true;
                self.state = State::LastAck;
            }
            _ => {}
        }
    }

    /// Resets the connection: a RST goes out if the peer knows us, and the
    /// connection is closed at once.
    pub fn abort(&mut self) {
        if self.synchronized() || self.state == State::SynReceived {
            self.rst = Some(self.own_rst());
        }
        self.enter_closed();
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}
