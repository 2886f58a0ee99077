//! Settings of one TCP connection, and the `linux` and `ns3` presets.
//!
//! Every knob a scenario file can override is a public field of
//! [`TcpConfig`]; [`TcpProfile`] names the presets. The presets follow the
//! issue that introduced this TCP: `linux` is CUBIC with HyStart++, SACK,
//! RACK-TLP, PRR, a 200 ms minimum RTO, 40 ms delayed ACKs with quick-ACK at
//! start; `ns3` is the configuration of the ns-3 reference program
//! (NewReno, SACK recovery with PRR, 1 s minimum RTO, 200 ms delayed ACKs).
//! With `congestion = Cubic`, the `ns3` preset's CUBIC is ns-3 3.37's
//! TcpCubic: no Reno-friendly region and ns-3's growth credit. ns-3 runs
//! its own HyStart (the 2008 ACK-train and delay version) there; the preset
//! leaves `hystart` off: at 0% loss its goodput is within 5% of ns-3's on
//! seven links from 2 to 50 Mbit/s and 20 to 200 ms RTT.

use std::time::Duration;

/// Which congestion controller a sender runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum CongestionKind {
    /// Reno (RFC 5681): fast recovery ends at the first new ACK.
    Reno,
    /// NewReno (RFC 6582): fast recovery lasts until the recovery point is
    /// acknowledged; partial ACKs retransmit the next hole.
    NewReno,
    /// CUBIC (RFC 9438).
    #[default]
    Cubic,
}

/// How the retransmission timeout follows the RTT estimate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RtoFormula {
    /// RFC 6298: `max(min_rto, srtt + 4·rttvar)`, as ns-3 computes it.
    #[default]
    Rfc6298,
    /// Linux: `srtt + max(4·rttvar, min_rto)`: the minimum bounds the
    /// variance term, so the timeout is always at least one RTT above it.
    Linux,
}

/// A named preset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum TcpProfile {
    /// Like a Linux server (the default).
    #[default]
    Linux,
    /// Like the ns-3 reference program.
    Ns3,
    /// Not this TCP but smoltcp's, kept for comparison. It honours only
    /// `congestion` (Reno for Reno and NewReno), `ack_delay`, `nagle` and
    /// the buffers; its MSS is the MTU − 40 and its minimum RTO 1 s.
    Smoltcp,
}

impl TcpProfile {
    /// Every profile, in the order the documentation lists them.
    pub const ALL: [TcpProfile; 3] = [TcpProfile::Linux, TcpProfile::Ns3, TcpProfile::Smoltcp];

    /// The settings of this preset.
    pub fn config(self) -> TcpConfig {
        match self {
            TcpProfile::Linux => TcpConfig::linux(),
            TcpProfile::Ns3 => TcpConfig::ns3(),
            TcpProfile::Smoltcp => TcpConfig::smoltcp(),
        }
    }

    /// The name scenario files use.
    pub fn name(self) -> &'static str {
        match self {
            TcpProfile::Linux => "linux",
            TcpProfile::Ns3 => "ns3",
            TcpProfile::Smoltcp => "smoltcp",
        }
    }
}

/// Settings of one connection.
#[derive(Clone, Debug, PartialEq)]
pub struct TcpConfig {
    /// Payload bytes of a full-sized segment with every option this
    /// connection wants (1448 = 1500 − 40 − 12 of timestamps). The MSS
    /// option advertises this plus the timestamp option's 12 bytes.
    pub mss: u16,
    /// Initial congestion window in segments (RFC 6928: 10).
    pub initial_window: u32,
    /// RTO before any RTT sample (RFC 6298: 1 s).
    pub initial_rto: Duration,
    /// Lower bound of the RTO.
    pub min_rto: Duration,
    /// Upper bound of the RTO, backoff included.
    pub max_rto: Duration,
    /// How the RTO is computed from the RTT estimate.
    pub rto_formula: RtoFormula,
    /// Offer and use SACK (RFC 2018) and SACK-based recovery (RFC 6675).
    pub sack: bool,
    /// RACK-TLP loss detection (RFC 8985); needs SACK.
    pub rack: bool,
    /// Proportional Rate Reduction in recovery (RFC 6937); otherwise cwnd
    /// drops to ssthresh at once.
    pub prr: bool,
    /// Offer and use timestamps (RFC 7323).
    pub timestamps: bool,
    /// Offer window scaling (RFC 7323).
    pub window_scaling: bool,
    /// The congestion controller.
    pub congestion: CongestionKind,
    /// HyStart++ (RFC 9406) in slow start.
    pub hystart: bool,
    /// CUBIC's Reno-friendly region (RFC 9438 §4.3, Linux's
    /// `tcp_friendliness`): the window never grows slower than Reno's
    /// would. ns-3's TcpCubic (3.37) has no such region: off, a small
    /// window after a loss grows only as the cubic function does.
    pub cubic_reno_friendly: bool,
    /// CUBIC's growth credit as ns-3's TcpCubic keeps it (`m_cWndCnt`):
    /// acknowledged segments counted toward the next segment of growth
    /// are never dropped, not when `cnt` shrinks and not at a congestion
    /// event, and pay out at most one segment per ACK, so the window
    /// follows the cubic target closely. Off, as Linux
    /// (`tcp_cong_avoid_ai`): credit above `cnt` earns one segment and is
    /// dropped, and a congestion event clears it.
    pub cubic_keep_credit: bool,
    /// Reno's window growth counts acknowledged bytes (RFC 3465, Linux).
    /// Off, it counts ACKs as ns-3's TcpNewReno does: one segment per ACK
    /// in slow start and `mss²/cwnd` per ACK in congestion avoidance, so
    /// delayed ACKs slow both down. CUBIC counts acknowledged segments
    /// either way, as ns-3's TcpCubic and Linux do.
    pub byte_counting: bool,
    /// A congestion event halves RFC 6675's `pipe` (what is still in the
    /// network, as ns-3's `BytesInFlight`) rather than all data
    /// outstanding (RFC 5681's FlightSize). Reno and NewReno only: CUBIC
    /// scales `cwnd`.
    pub ssthresh_from_pipe: bool,
    /// Most full-sized segments received before an ACK must go out.
    pub ack_every: u32,
    /// Delayed-ACK timeout; `None` acknowledges every segment at once.
    pub ack_delay: Option<Duration>,
    /// Segments acknowledged at once at connection start (Linux quick-ACK).
    pub quick_acks: u32,
    /// Send buffer in bytes.
    pub send_buffer: usize,
    /// Receive buffer in bytes; it bounds the advertised window.
    pub recv_buffer: usize,
    /// Nagle's algorithm.
    pub nagle: bool,
    /// How long TIME-WAIT lasts (2·MSL in RFC 9293; short in simulations).
    pub time_wait: Duration,
    /// Retransmissions of one segment before the connection gives up.
    pub max_retransmits: u32,
    /// Duplicate ACKs (or SACKed segments) that signal a loss.
    pub dup_thresh: u32,
    /// Samples kept in the cwnd/ssthresh/RTT time series.
    pub series_capacity: usize,
}

impl Default for TcpConfig {
    fn default() -> TcpConfig {
        TcpConfig::linux()
    }
}

impl TcpConfig {
    /// The `linux` preset.
    pub fn linux() -> TcpConfig {
        TcpConfig {
            mss: 1448,
            initial_window: 10,
            initial_rto: Duration::from_secs(1),
            min_rto: Duration::from_millis(200),
            max_rto: Duration::from_secs(120),
            rto_formula: RtoFormula::Linux,
            sack: true,
            rack: true,
            prr: true,
            timestamps: true,
            window_scaling: true,
            congestion: CongestionKind::Cubic,
            hystart: true,
            cubic_reno_friendly: true,
            cubic_keep_credit: false,
            byte_counting: true,
            ssthresh_from_pipe: false,
            ack_every: 2,
            ack_delay: Some(Duration::from_millis(40)),
            quick_acks: 16,
            send_buffer: 4 << 20,
            recv_buffer: 4 << 20,
            nagle: false,
            time_wait: Duration::from_secs(1),
            max_retransmits: 15,
            dup_thresh: 3,
            series_capacity: 4096,
        }
    }

    /// The `ns3` preset: the settings of the ns-3 reference program.
    pub fn ns3() -> TcpConfig {
        TcpConfig {
            min_rto: Duration::from_secs(1),
            max_rto: Duration::from_secs(60),
            rto_formula: RtoFormula::Rfc6298,
            rack: false,
            congestion: CongestionKind::NewReno,
            hystart: false,
            cubic_reno_friendly: false,
            cubic_keep_credit: true,
            byte_counting: false,
            ssthresh_from_pipe: true,
            ack_delay: Some(Duration::from_millis(200)),
            quick_acks: 0,
            ..TcpConfig::linux()
        }
    }

    /// The settings smoltcp's stack honours, as it ran before this TCP:
    /// CUBIC, 40 ms delayed ACKs, Nagle off (the rest is not used).
    pub fn smoltcp() -> TcpConfig {
        TcpConfig {
            mss: 1460,
            min_rto: Duration::from_secs(1),
            sack: false,
            rack: false,
            prr: false,
            timestamps: false,
            hystart: false,
            ..TcpConfig::linux()
        }
    }

    /// Bytes the timestamp option adds to every segment when enabled.
    pub(crate) fn timestamp_len(timestamps: bool) -> u16 {
        if timestamps {
            12
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_differ_where_the_references_do() {
        let linux = TcpProfile::Linux.config();
        let ns3 = TcpProfile::Ns3.config();
        assert_eq!(linux.min_rto, Duration::from_millis(200));
        assert_eq!(ns3.min_rto, Duration::from_secs(1));
        assert_eq!(linux.congestion, CongestionKind::Cubic);
        assert_eq!(ns3.congestion, CongestionKind::NewReno);
        assert!(linux.rack && !ns3.rack);
        assert!(ns3.sack && ns3.prr && ns3.timestamps);
        assert_eq!((linux.mss, ns3.mss), (1448, 1448));
        assert_eq!((linux.initial_window, ns3.initial_window), (10, 10));
        assert_eq!(ns3.ack_delay, Some(Duration::from_millis(200)));
        assert!(linux.byte_counting && !ns3.byte_counting);
        assert!(linux.cubic_reno_friendly && !ns3.cubic_reno_friendly);
        assert!(!linux.cubic_keep_credit && ns3.cubic_keep_credit);
        assert_eq!(TcpConfig::default(), linux);
    }
}
