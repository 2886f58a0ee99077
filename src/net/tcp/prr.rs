//! Proportional Rate Reduction (RFC 6937): during recovery, send in
//! proportion to what is delivered so the window comes down to `ssthresh`
//! smoothly, and up to it by slow start (the SSRB bound) when losses took
//! the flight below it.

/// PRR state of one recovery episode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prr {
    /// Bytes delivered to the receiver since recovery began.
    delivered: u64,
    /// Bytes sent since recovery began.
    out: u64,
    /// Flight size when recovery began (RecoverFS).
    recover_fs: u64,
}

impl Prr {
    /// Starts an episode with `flight` bytes outstanding.
    pub fn new(flight: u64) -> Prr {
        Prr {
            delivered: 0,
            out: 0,
            recover_fs: flight.max(1),
        }
    }

    /// Takes an ACK that delivered `delivered` bytes while `pipe` bytes are
    /// in flight; returns the bytes that may be sent now (`sndcnt`).
    pub fn on_ack(&mut self, delivered: u64, pipe: u64, ssthresh: u64, mss: u64) -> u64 {
        self.delivered += delivered;
        if pipe > ssthresh {
            // Proportional part: ceil(prr_delivered · ssthresh / RecoverFS) − prr_out.
            let target = (u128::from(self.delivered) * u128::from(ssthresh))
                .div_ceil(u128::from(self.recover_fs));
            u64::try_from(target)
                .unwrap_or(u64::MAX)
                .saturating_sub(self.out)
        } else {
            // Slow-start reduction bound.
            let limit = self.delivered.saturating_sub(self.out).max(delivered) + mss;
            ssthresh.saturating_sub(pipe).min(limit)
        }
    }

    /// Whether nothing was sent yet in this episode.
    pub fn nothing_sent(&self) -> bool {
        self.out == 0
    }

    /// Counts `bytes` sent during recovery.
    pub fn on_sent(&mut self, bytes: u64) {
        self.out += bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_in_proportion_then_slow_starts_to_ssthresh() {
        // 20 segments of 1000 bytes in flight, one lost, ssthresh 10 segments:
        // each delivered segment allows half a segment.
        let mut prr = Prr::new(20_000);
        let mut sent = 0;
        let mut pipe = 19_000;
        for _ in 0..10 {
            let sndcnt = prr.on_ack(1000, pipe, 10_000, 1000);
            pipe -= 1000;
            let now = sndcnt / 1000 * 1000;
            prr.on_sent(now);
            pipe += now;
            sent += now;
        }
        assert_eq!(sent, 5000, "one segment per two delivered");
        // Below ssthresh, PRR-SSRB grows by at most delivered + one segment.
        let mut prr = Prr::new(20_000);
        assert_eq!(prr.on_ack(1000, 4000, 10_000, 1000), 2000);
        prr.on_sent(2000);
        assert_eq!(prr.on_ack(1000, 5000, 10_000, 1000), 2000);
    }
}
