//! Congestion control behind a small trait: Reno/NewReno and CUBIC, with
//! HyStart++ as an option of slow start.
//!
//! A controller owns a [`Window`]: `cwnd` and `ssthresh` in bytes. The
//! connection tells it about ACKs outside recovery
//! ([`CongestionControl::on_ack`]), about a congestion event when recovery
//! starts or a timeout opens a new loss episode
//! ([`CongestionControl::on_congestion`], which sets `ssthresh` and leaves
//! `cwnd` to the recovery algorithm), about the end of recovery and about
//! every retransmission timeout. During recovery the connection sets `cwnd`
//! itself (PRR, RFC 6937) through [`CongestionControl::set_cwnd`]. What
//! every controller does alike (the end of recovery, a timeout, PRR's
//! window) is a default method over the shared [`Window`]. NewReno differs from Reno only in how
//! recovery ends, which the connection decides; both use [`Reno`] here.

use std::fmt::Debug;
use std::time::Duration;

mod cubic;
mod hystart;
mod reno;

pub use self::cubic::{Cubic, CubicOptions};
pub use self::hystart::HyStart;
pub use self::reno::Reno;

use super::config::{CongestionKind, TcpConfig};

/// What one ACK told the sender.
#[derive(Clone, Copy, Debug)]
pub struct AckSample {
    /// When the ACK arrived.
    pub now: Duration,
    /// Bytes newly delivered (cumulatively acknowledged or SACKed).
    pub acked: u64,
    /// The RTT sample this ACK gave, if any.
    pub rtt: Option<Duration>,
    /// The smoothed RTT, if known.
    pub srtt: Option<Duration>,
    /// The smallest RTT seen, if known.
    pub min_rtt: Option<Duration>,
    /// The cumulative ACK after this one, as a send offset.
    pub snd_una: u64,
    /// The highest send offset transmitted so far.
    pub snd_max: u64,
}

/// The state every controller keeps: the window and the threshold.
#[derive(Clone, Debug)]
pub struct Window {
    /// Bytes of a full-sized segment.
    pub mss: u64,
    /// The congestion window, in bytes.
    pub cwnd: u64,
    /// The slow-start threshold, in bytes (`u64::MAX` before any loss).
    pub ssthresh: u64,
}

impl Window {
    /// An initial window of `initial` bytes (at least one segment) and no
    /// threshold yet.
    pub fn new(mss: u64, initial: u64) -> Window {
        Window {
            mss,
            cwnd: initial.max(mss),
            ssthresh: u64::MAX,
        }
    }

    /// Whether the window is below the threshold.
    pub fn in_slow_start(&self) -> bool {
        self.cwnd < self.ssthresh
    }
}

/// A congestion controller.
pub trait CongestionControl: Debug {
    /// The shared window state.
    fn window(&self) -> &Window;
    /// The shared window state, to change it.
    fn window_mut(&mut self) -> &mut Window;
    /// An ACK outside loss recovery.
    fn on_ack(&mut self, ack: &AckSample);
    /// A congestion event with `flight` bytes outstanding (a loss that
    /// starts recovery, or a timeout outside a loss episode): sets
    /// `ssthresh`.
    fn on_congestion(&mut self, now: Duration, flight: u64);
    /// The controller's name.
    fn name(&self) -> &'static str;

    /// The congestion window, in bytes.
    fn cwnd(&self) -> u64 {
        self.window().cwnd
    }
    /// The slow-start threshold, in bytes (`u64::MAX` before any loss).
    fn ssthresh(&self) -> u64 {
        self.window().ssthresh
    }
    /// Recovery ended: `cwnd` becomes `ssthresh`.
    fn on_recovery_end(&mut self, _now: Duration) {
        let w = self.window_mut();
        w.cwnd = w.ssthresh.max(w.mss);
    }
    /// The retransmission timer expired: `cwnd` is one segment. The
    /// connection calls [`CongestionControl::on_congestion`] first when the
    /// timeout starts a loss episode (not on a backed-off repeat).
    fn on_timeout(&mut self, _now: Duration) {
        let w = self.window_mut();
        w.cwnd = w.mss;
    }
    /// Sets `cwnd` (PRR during recovery), at least one segment.
    fn set_cwnd(&mut self, cwnd: u64) {
        let w = self.window_mut();
        w.cwnd = cwnd.max(w.mss);
    }
}

/// A controller as `config` selects, for segments of `mss` bytes.
pub fn new_controller(config: &TcpConfig, mss: u64) -> Box<dyn CongestionControl> {
    let initial = u64::from(config.initial_window.max(1)) * mss;
    let growth = Growth {
        hystart: config.hystart.then(HyStart::default),
        byte_counting: config.byte_counting,
    };
    match config.congestion {
        CongestionKind::Reno | CongestionKind::NewReno => Box::new(Reno::new(mss, initial, growth)),
        // Both references' CUBIC count acknowledged segments, in slow start
        // and in congestion avoidance (ns-3's TcpCubic adds `segmentsAcked`
        // where its TcpNewReno adds one per ACK): `byte_counting` is Reno's.
        CongestionKind::Cubic => Box::new(Cubic::new(
            mss,
            initial,
            Growth {
                byte_counting: true,
                ..growth
            },
            CubicOptions {
                reno_friendly: config.cubic_reno_friendly,
                keep_credit: config.cubic_keep_credit,
            },
        )),
    }
}

/// How a window grows in slow start, shared by every controller.
#[derive(Clone, Debug, Default)]
pub struct Growth {
    /// HyStart++ state, when enabled.
    pub hystart: Option<HyStart>,
    /// Count acknowledged bytes; otherwise count ACKs (one segment each).
    pub byte_counting: bool,
}

impl Growth {
    /// What an ACK counts for: the bytes it acknowledged, or one segment.
    pub fn counted(&self, acked: u64, mss: u64) -> u64 {
        if self.byte_counting {
            acked
        } else {
            acked.min(mss)
        }
    }

    /// Slow start: grow by what was counted, a quarter of that in
    /// HyStart++'s conservative phase, and leave slow start when HyStart++
    /// says so. Returns bytes not used for growth (for congestion
    /// avoidance).
    pub fn slow_start(&mut self, w: &mut Window, ack: &AckSample) -> u64 {
        let counted = self.counted(ack.acked, w.mss);
        let mut divisor = 1;
        if let Some(h) = &mut self.hystart {
            match h.on_ack(ack) {
                hystart::Phase::SlowStart => {}
                hystart::Phase::Conservative => divisor = hystart::CSS_GROWTH_DIVISOR,
                hystart::Phase::Exit => {
                    w.ssthresh = w.cwnd;
                    return counted;
                }
            }
        }
        let room = w.ssthresh.saturating_sub(w.cwnd);
        let grow = (counted / divisor).min(room);
        w.cwnd += grow;
        counted.saturating_sub(grow * divisor)
    }
}
