//! What a `udp-ts` client measured, into a session's [`Recorder`]: the one
//! definition of its metrics, used by simulated sessions (one or many
//! clients, at the end of the run) and by `streamsim play` on real sockets
//! (one client, when it stops).
//!
//! Counters and the latency histogram add up over clients; `startup` is
//! the largest; `stall_time` and `stall_ratio` are over all clients'
//! play and stall time; `media_bitrate` is the mean over clients of media
//! bytes × 8 / (end − client start).

use std::time::Duration;

use super::core::TsReceiver;
use crate::metrics::{Recorder, RecorderError};
use crate::player::Player;

/// Accumulates clients into a recorder; [`QoeTally::finish`] writes the
/// values that combine clients.
#[derive(Debug)]
pub struct QoeTally<'a> {
    rec: &'a Recorder,
    stall: Duration,
    play: Duration,
    bitrate_sum: f64,
    clients: usize,
}

impl<'a> QoeTally<'a> {
    /// A tally into `rec`, which must hold the `udp-ts` metric table.
    pub fn new(rec: &'a Recorder) -> QoeTally<'a> {
        QoeTally {
            rec,
            stall: Duration::ZERO,
            play: Duration::ZERO,
            bitrate_sum: 0.0,
            clients: 0,
        }
    }

    /// Makes every handle the tally records into, so that a name missing
    /// from `rec`'s table fails when the session is created, not after the
    /// run. (Counters made here report 0 until something is added.)
    pub fn check(rec: &Recorder) -> Result<(), RecorderError> {
        Self::check_player(rec)?;
        for name in [
            "datagrams_received",
            "wire_bytes",
            "cc_errors",
            "damaged_pes",
            "stream_errors",
        ] {
            rec.counter(name)?;
        }
        Ok(())
    }

    /// Makes the handles of the shared QoE metrics alone
    /// ([`crate::metrics::catalog::QOE_METRICS`]), for protocols that add
    /// players with [`QoeTally::add_player`].
    pub fn check_player(rec: &Recorder) -> Result<(), RecorderError> {
        for name in [
            "stalls",
            "frames_presented",
            "frames_late",
            "frames_lost",
            "frames_undecodable",
            "frames_before_start",
        ] {
            rec.counter(name)?;
        }
        for name in ["startup", "stall_time", "stall_ratio", "media_bitrate"] {
            rec.gauge(name)?;
        }
        rec.histogram("latency")?;
        Ok(())
    }

    /// Ends one client at `end` (its receiver and player are finished:
    /// what the demuxer held comes out, the open stall closes) and records
    /// what it measured. `start` is when the client started.
    pub fn add_client(
        &mut self,
        start: Duration,
        end: Duration,
        receiver: &mut TsReceiver,
        player: &mut Player,
    ) -> Result<(), RecorderError> {
        receiver.finish(end);
        self.add_player(start, end, player)?;
        let rec = self.rec;
        let counters = receiver.counters();
        rec.counter("datagrams_received")?.add(counters.datagrams);
        rec.counter("wire_bytes")?.add(counters.bytes);
        rec.counter("cc_errors")?.add(counters.cc_errors);
        rec.counter("damaged_pes")?.add(counters.damaged_pes);
        rec.counter("stream_errors")?
            .add(counters.stream_errors + counters.odd_datagrams);
        Ok(())
    }

    /// Ends one client's player at `end` (the open stall closes) and
    /// records the shared QoE metrics it measured; `start` is when the
    /// client started. Any protocol's client goes through here.
    pub fn add_player(
        &mut self,
        start: Duration,
        end: Duration,
        player: &mut Player,
    ) -> Result<(), RecorderError> {
        let rec = self.rec;
        player.finish(end);
        while player.poll_event().is_some() {}
        let s = player.stats();
        if let Some(startup) = s.startup {
            rec.gauge("startup")?.max(startup.as_secs_f64());
        }
        rec.histogram("latency")?.add(&s.latency_us);
        rec.counter("stalls")?.add(s.stalls);
        self.stall += s.stall_time;
        self.play += s.play_time;
        rec.counter("frames_presented")?.add(s.frames_presented);
        rec.counter("frames_late")?.add(s.frames_late);
        rec.counter("frames_lost")?.add(s.frames_lost);
        rec.counter("frames_undecodable")?.add(s.frames_undecodable);
        rec.counter("frames_before_start")?
            .add(s.frames_before_start);
        let secs = end.saturating_sub(start).as_secs_f64();
        if secs > 0.0 {
            self.bitrate_sum += s.media_bytes as f64 * 8.0 / secs;
        }
        self.clients += 1;
        Ok(())
    }

    /// Records the values that combine every client added.
    pub fn finish(self) -> Result<(), RecorderError> {
        let rec = self.rec;
        rec.gauge("stall_time")?.set(self.stall.as_secs_f64());
        let total = (self.stall + self.play).as_secs_f64();
        if total > 0.0 {
            rec.gauge("stall_ratio")?
                .set(self.stall.as_secs_f64() / total);
        }
        if self.clients > 0 {
            rec.gauge("media_bitrate")?
                .set(self.bitrate_sum / self.clients as f64);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::catalog::QOE_METRICS;
    use crate::metrics::EventSink;

    #[test]
    fn every_name_it_records_is_in_the_udp_ts_table_and_a_missing_one_fails_early() {
        let rec = Recorder::new("tv", &super::super::METRICS, EventSink::new());
        QoeTally::check(&rec).unwrap();
        // The shared QoE table alone lacks the transport's own counters.
        let partial = Recorder::new("tv", QOE_METRICS, EventSink::new());
        assert!(matches!(
            QoeTally::check(&partial),
            Err(RecorderError::UnknownMetric { .. })
        ));
    }
}
