//! The sans-IO core of MPEG-TS over UDP: access units in, datagrams out
//! (sender); datagrams in, tracks, access units and damage reports out
//! (receiver). No socket, no clock: time is an argument.
//!
//! Sender: each unit is muxed with the TS muxer (PAT/PMT repeated, PCR on
//! a PID of its own, and the PES_packet_length of video PES that fit 16
//! bits, so a receiver
//! has each picture whole at its last packet rather than when the next one
//! starts) and its packets are packed into datagrams of `packets` × 188 bytes
//! (7 by default: 1316 bytes, what ffmpeg, VLC and IPTV gear send). A
//! partly filled datagram is sent at the end of every unit rather than held
//! for the next one: holding it would add up to a frame of latency at low
//! bit rates.
//!
//! Receiver: datagrams feed the TS demuxer in arrival order. Its reports
//! become counters: continuity-counter errors (packets lost or reordered
//! on a PID), damaged PES (a unit that lost packets, dropped whole and
//! reported with its pts so the player counts it lost), sync and packet
//! errors. A datagram whose length is not a multiple of 188 is counted and
//! still fed (the demuxer resynchronises), never a panic.

use std::collections::VecDeque;
use std::time::Duration;

use crate::media::ts::packet::PACKET_SIZE;
use crate::media::ts::{TsDemuxError, TsDemuxer, TsEvent, TsMuxConfig, TsMuxError, TsMuxer};
use crate::media::{AccessUnit, Track};

/// The PID the sender's PCR rides on: a PID of its own, so that no
/// payload-less PCR packet shares a counter with media (see
/// [`TsMuxConfig::pcr_pid`]).
pub const PCR_PID: u16 = 0x1ff;

/// TS packets per datagram by default (1316 bytes).
pub const DEFAULT_PACKETS: usize = 7;

/// Packs a live source's units into datagrams.
#[derive(Debug)]
pub struct TsSender {
    muxer: TsMuxer,
    packets: usize,
    pending: Vec<u8>,
    out: VecDeque<Vec<u8>>,
    /// TS packets written so far.
    pub ts_packets: u64,
}

impl TsSender {
    /// A sender for `tracks`, `packets` TS packets (1..=7 at a 1500-byte
    /// MTU) to a datagram.
    pub fn new(tracks: &[Track], packets: usize) -> Result<TsSender, TsMuxError> {
        Ok(TsSender {
            muxer: TsMuxer::new(
                tracks,
                TsMuxConfig {
                    video_pes_length: true,
                    pcr_pid: Some(PCR_PID),
                    ..TsMuxConfig::default()
                },
            )?,
            packets: packets.max(1),
            pending: Vec::new(),
            out: VecDeque::new(),
            ts_packets: 0,
        })
    }

    /// Muxes one unit; its datagrams are then ready in [`Self::poll_transmit`].
    pub fn handle_access_unit(&mut self, au: &AccessUnit) -> Result<(), TsMuxError> {
        let packets = self.muxer.mux(au)?;
        self.push(&packets);
        self.flush_pending();
        Ok(())
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.pop_front()
    }

    fn push(&mut self, packets: &[[u8; PACKET_SIZE]]) {
        for p in packets {
            self.ts_packets += 1;
            self.pending.extend_from_slice(p);
            if self.pending.len() == self.packets * PACKET_SIZE {
                self.out.push_back(std::mem::take(&mut self.pending));
            }
        }
    }

    fn flush_pending(&mut self) {
        if !self.pending.is_empty() {
            self.out.push_back(std::mem::take(&mut self.pending));
        }
    }
}

/// What the receiver found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiverEvent {
    /// A track became known or changed.
    Track(Track),
    /// A unit came out of the demuxer at `at`: when the datagram holding
    /// its last packet arrived (a PES with a length), or the one starting
    /// the next PES (a video PES without one). `capture_time` is zero: the
    /// caller knows the source's clock, or does not.
    Unit {
        /// Arrival time of the datagram that completed it.
        at: Duration,
        /// The unit.
        unit: AccessUnit,
    },
    /// A unit of `track` lost packets and was dropped.
    Damaged {
        /// When the damage was found.
        at: Duration,
        /// Its track.
        track: u32,
        /// Its pts, if its header survived.
        pts: Option<i64>,
    },
}

/// Counters of a receiver.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReceiverCounters {
    /// Datagrams received.
    pub datagrams: u64,
    /// Bytes received (UDP payload).
    pub bytes: u64,
    /// Datagrams whose length is not a multiple of 188.
    pub odd_datagrams: u64,
    /// Continuity-counter errors.
    pub cc_errors: u64,
    /// PES dropped as damaged.
    pub damaged_pes: u64,
    /// Other errors in the stream (sync, packet, PSI, PES header).
    pub stream_errors: u64,
}

/// Demuxes datagrams into units.
#[derive(Debug, Default)]
pub struct TsReceiver {
    demux: TsDemuxer,
    counters: ReceiverCounters,
    events: VecDeque<ReceiverEvent>,
}

impl TsReceiver {
    /// A receiver that has seen nothing.
    pub fn new() -> TsReceiver {
        TsReceiver::default()
    }

    /// One datagram arrived at `now`.
    pub fn handle_datagram(&mut self, now: Duration, datagram: &[u8]) {
        self.counters.datagrams += 1;
        self.counters.bytes += datagram.len() as u64;
        if !datagram.len().is_multiple_of(PACKET_SIZE) {
            self.counters.odd_datagrams += 1;
        }
        self.demux.handle_bytes(datagram);
        self.drain(now);
    }

    /// The end of input at `now`: what the demuxer still holds comes out.
    pub fn finish(&mut self, now: Duration) {
        self.demux.flush();
        self.drain(now);
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ReceiverEvent> {
        self.events.pop_front()
    }

    /// The counters so far.
    pub fn counters(&self) -> ReceiverCounters {
        self.counters
    }

    fn drain(&mut self, now: Duration) {
        while let Some(event) = self.demux.poll_event() {
            match event {
                TsEvent::Track(track) => self.events.push_back(ReceiverEvent::Track(track)),
                TsEvent::AccessUnit(unit) => {
                    self.events.push_back(ReceiverEvent::Unit { at: now, unit })
                }
                TsEvent::Error(TsDemuxError::Continuity { .. }) => self.counters.cc_errors += 1,
                TsEvent::Error(TsDemuxError::DamagedPes { track, pts, .. }) => {
                    self.counters.damaged_pes += 1;
                    self.events.push_back(ReceiverEvent::Damaged {
                        at: now,
                        track,
                        pts,
                    });
                }
                TsEvent::Error(_) => self.counters.stream_errors += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::synthetic::SyntheticSource;
    use crate::media::Source;

    fn units(seconds: u64) -> (Vec<Track>, Vec<AccessUnit>) {
        let mut source =
            SyntheticSource::new(&crate::proto::live::default_synthetic(), Duration::ZERO).unwrap();
        let tracks = source.tracks().to_vec();
        let mut out = Vec::new();
        while let Some(unit) = source.poll_next(Duration::from_secs(seconds)) {
            out.push(unit);
        }
        (tracks, out)
    }

    fn send_all(tracks: &[Track], units: &[AccessUnit], packets: usize) -> Vec<Vec<u8>> {
        let mut sender = TsSender::new(tracks, packets).unwrap();
        let mut datagrams = Vec::new();
        for u in units {
            sender.handle_access_unit(u).unwrap();
            while let Some(d) = sender.poll_transmit() {
                datagrams.push(d);
            }
        }
        datagrams
    }

    #[test]
    fn datagrams_are_whole_packets_at_most_seven() {
        let (tracks, units) = units(2);
        let datagrams = send_all(&tracks, &units, DEFAULT_PACKETS);
        assert!(datagrams
            .iter()
            .all(|d| !d.is_empty() && d.len() % PACKET_SIZE == 0 && d.len() <= 7 * PACKET_SIZE));
        // At most one partly filled datagram per unit: the one that ends it.
        let partial = datagrams.iter().filter(|d| d.len() < 1316).count();
        assert!(
            partial <= units.len(),
            "{partial} partial for {} units",
            units.len()
        );
        // Frames larger than a datagram fill theirs: most bytes go in full ones.
        let full: usize = datagrams
            .iter()
            .filter(|d| d.len() == 1316)
            .map(Vec::len)
            .sum();
        let all: usize = datagrams.iter().map(Vec::len).sum();
        assert!(full * 2 > all, "{full} of {all} bytes in full datagrams");
    }

    #[test]
    fn a_clean_stream_round_trips_every_unit() {
        let (tracks, units) = units(3);
        let datagrams = send_all(&tracks, &units, DEFAULT_PACKETS);
        let mut rx = TsReceiver::new();
        let mut got = Vec::new();
        for d in &datagrams {
            rx.handle_datagram(Duration::ZERO, d);
        }
        rx.finish(Duration::ZERO);
        while let Some(e) = rx.poll_event() {
            if let ReceiverEvent::Unit { unit, .. } = e {
                got.push(unit);
            }
        }
        assert_eq!(rx.counters().cc_errors, 0);
        assert_eq!(rx.counters().damaged_pes, 0);
        // Every unit comes back, data and timestamps intact (the demuxer
        // numbers tracks itself, in PMT order).
        assert_eq!(got.len(), units.len());
        let key = |u: &AccessUnit| (u.pts, u.dts, u.data.clone());
        let mut a: Vec<_> = got.iter().map(key).collect();
        let mut b: Vec<_> = units.iter().map(key).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn a_lost_datagram_is_a_cc_error_and_a_damaged_unit() {
        let (tracks, units) = units(2);
        let datagrams = send_all(&tracks, &units, DEFAULT_PACKETS);
        let mut rx = TsReceiver::new();
        // Drop one datagram in the middle of the stream.
        for (i, d) in datagrams.iter().enumerate() {
            if i != datagrams.len() / 2 {
                rx.handle_datagram(Duration::ZERO, d);
            }
        }
        rx.finish(Duration::ZERO);
        let c = rx.counters();
        assert!(c.cc_errors >= 1, "{c:?}");
        assert!(c.damaged_pes >= 1, "{c:?}");
    }

    #[test]
    fn garbage_and_truncated_datagrams_never_panic() {
        let mut rx = TsReceiver::new();
        rx.handle_datagram(Duration::ZERO, &[]);
        rx.handle_datagram(Duration::ZERO, &[0x47; 100]);
        rx.handle_datagram(Duration::ZERO, &vec![0xff; 5000]);
        rx.finish(Duration::ZERO);
        assert_eq!(rx.counters().odd_datagrams, 2);
    }
}
