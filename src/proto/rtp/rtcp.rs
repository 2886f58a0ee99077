//! RTCP (RFC 3550 §6): what a receiver measures of a stream
//! ([`ReceptionStats`]: highest sequence, cumulative and fractional loss,
//! interarrival jitter, after RFC 3550 A.1, A.3 and A.8), and the compound
//! packets both ends exchange ([`Rtcp`]: SR, RR, SDES CNAME, BYE, RFC 4585
//! generic NACK), written and parsed with `rtcp-types`.
//!
//! Times on the wire: the NTP timestamps of SRs are the caller's (a fixed
//! epoch plus simulated time, see [`ntp_time`]); LSR and DLSR are the
//! middle 32 bits of NTP time and 1/65536 s units.

use std::time::Duration;

use rtcp_types::{
    Bye, Compound, Nack, Packet, ReceiverReport, ReportBlock, RtcpPacketWriter,
    RtcpPacketWriterExt, Sdes, SdesChunk, SdesItem, SenderReport, TransportFeedback,
};

use super::{seq_delta, RtpError};

/// Seconds from the NTP epoch (1900) to the UNIX epoch (1970).
const NTP_UNIX: u64 = 2_208_988_800;

/// The 64-bit NTP timestamp of `unix` (time since the UNIX epoch).
pub fn ntp_time(unix: Duration) -> u64 {
    let secs = unix.as_secs().wrapping_add(NTP_UNIX);
    let frac = (u64::from(unix.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// One report block (RFC 3550 §6.4.1), as sent and as read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Block {
    /// The source reported on.
    pub ssrc: u32,
    /// Packets lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Packets lost in all (24 bits, signed: duplicates can make it negative).
    pub cumulative_lost: i32,
    /// Highest sequence number received, extended with its cycles.
    pub highest_seq: u32,
    /// Interarrival jitter, in RTP timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the last SR's NTP time (0: none yet).
    pub lsr: u32,
    /// Delay since that SR, in 1/65536 s.
    pub dlsr: u32,
}

/// One packet of a compound RTCP packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rtcp {
    /// A sender report.
    Sr {
        /// The sender.
        ssrc: u32,
        /// NTP time of the report.
        ntp: u64,
        /// The same instant in the stream's RTP clock.
        rtp_ts: u32,
        /// Packets sent.
        packets: u32,
        /// Payload bytes sent.
        octets: u32,
        /// Reports on the sources it receives.
        blocks: Vec<Block>,
    },
    /// A receiver report.
    Rr {
        /// The receiver.
        ssrc: u32,
        /// Its report blocks.
        blocks: Vec<Block>,
    },
    /// Source description: the canonical name.
    Cname {
        /// The source.
        ssrc: u32,
        /// Its CNAME.
        cname: String,
    },
    /// The sources leave.
    Bye {
        /// Who.
        ssrcs: Vec<u32>,
        /// Why, if said.
        reason: Option<String>,
    },
    /// Generic NACK (RFC 4585 §6.2.1): packets the receiver misses.
    Nack {
        /// The receiver asking.
        sender_ssrc: u32,
        /// The media source asked.
        media_ssrc: u32,
        /// Sequence numbers missing, ascending.
        seqs: Vec<u16>,
    },
    /// A packet type this module does not read (APP, XR, …).
    Other {
        /// Its packet type.
        packet_type: u8,
    },
}

fn block_builder(b: &Block) -> rtcp_types::ReportBlockBuilder {
    ReportBlock::builder(b.ssrc)
        .fraction_lost(b.fraction_lost)
        .cumulative_lost((b.cumulative_lost as u32) & 0x00ff_ffff)
        .extended_sequence_number(b.highest_seq)
        .interarrival_jitter(b.jitter)
        .last_sender_report_timestamp(b.lsr)
        .delay_since_last_sender_report_timestamp(b.dlsr)
}

fn block_of(r: &ReportBlock<'_>) -> Block {
    let lost = r.cumulative_lost() & 0x00ff_ffff;
    // Sign-extend the 24-bit value.
    let cumulative_lost = ((lost << 8) as i32) >> 8;
    Block {
        ssrc: r.ssrc(),
        fraction_lost: r.fraction_lost(),
        cumulative_lost,
        highest_seq: r.extended_sequence_number(),
        jitter: r.interarrival_jitter(),
        lsr: r.last_sender_report_timestamp(),
        dlsr: r.delay_since_last_sender_report_timestamp(),
    }
}

fn write_error(e: rtcp_types::RtcpWriteError) -> RtpError {
    RtpError::Write {
        what: "an RTCP packet",
        message: e.to_string(),
    }
}

/// Writes `packets` as one compound RTCP packet, in order (RFC 3550 wants
/// an SR or RR first and a CNAME in every compound packet: the caller's
/// to arrange).
pub fn write_compound(packets: &[Rtcp]) -> Result<Vec<u8>, RtpError> {
    let mut compound = Compound::builder();
    for p in packets {
        compound = match p {
            Rtcp::Sr {
                ssrc,
                ntp,
                rtp_ts,
                packets,
                octets,
                blocks,
            } => {
                let mut b = SenderReport::builder(*ssrc)
                    .ntp_timestamp(*ntp)
                    .rtp_timestamp(*rtp_ts)
                    .packet_count(*packets)
                    .octet_count(*octets);
                for block in blocks {
                    b = b.add_report_block(block_builder(block));
                }
                compound.add_packet(b)
            }
            Rtcp::Rr { ssrc, blocks } => {
                let mut b = ReceiverReport::builder(*ssrc);
                for block in blocks {
                    b = b.add_report_block(block_builder(block));
                }
                compound.add_packet(b)
            }
            Rtcp::Cname { ssrc, cname } => compound.add_packet(Sdes::builder().add_chunk(
                SdesChunk::builder(*ssrc).add_item_owned(SdesItem::builder(SdesItem::CNAME, cname)),
            )),
            Rtcp::Bye { ssrcs, reason } => {
                let mut b = Bye::builder();
                for s in ssrcs {
                    b = b.add_source(*s);
                }
                match reason {
                    Some(r) => compound.add_packet(b.reason_owned(r.clone())),
                    None => compound.add_packet(b),
                }
            }
            Rtcp::Nack {
                sender_ssrc,
                media_ssrc,
                seqs,
            } => {
                let mut nack = Nack::builder();
                for s in seqs {
                    nack = nack.add_rtp_sequence(*s);
                }
                compound.add_packet(
                    TransportFeedback::builder_owned(nack)
                        .sender_ssrc(*sender_ssrc)
                        .media_ssrc(*media_ssrc),
                )
            }
            Rtcp::Other { packet_type } => {
                return Err(RtpError::Write {
                    what: "an RTCP packet",
                    message: format!("packet type {packet_type} is read, never written"),
                })
            }
        };
    }
    let size = compound.calculate_size().map_err(write_error)?;
    let mut buf = vec![0; size];
    let n = compound.write_into(&mut buf).map_err(write_error)?;
    buf.truncate(n);
    Ok(buf)
}

/// Reads a compound RTCP packet.
pub fn parse_compound(data: &[u8]) -> Result<Vec<Rtcp>, RtpError> {
    let bad = |e: rtcp_types::RtcpParseError| RtpError::Rtcp(e.to_string());
    let mut out = Vec::new();
    for packet in Compound::parse(data).map_err(bad)? {
        out.push(match packet.map_err(bad)? {
            Packet::Sr(sr) => Rtcp::Sr {
                ssrc: sr.ssrc(),
                ntp: sr.ntp_timestamp(),
                rtp_ts: sr.rtp_timestamp(),
                packets: sr.packet_count(),
                octets: sr.octet_count(),
                blocks: sr.report_blocks().map(|b| block_of(&b)).collect(),
            },
            Packet::Rr(rr) => Rtcp::Rr {
                ssrc: rr.ssrc(),
                blocks: rr.report_blocks().map(|b| block_of(&b)).collect(),
            },
            Packet::Sdes(sdes) => {
                let cname = sdes.chunks().find_map(|c| {
                    let item = c.items().find(|i| i.type_() == SdesItem::CNAME)?;
                    Some((c.ssrc(), String::from_utf8_lossy(item.value()).into_owned()))
                });
                match cname {
                    Some((ssrc, cname)) => Rtcp::Cname { ssrc, cname },
                    None => Rtcp::Other { packet_type: 202 },
                }
            }
            Packet::Bye(bye) => Rtcp::Bye {
                ssrcs: bye.ssrcs().collect(),
                reason: bye
                    .reason()
                    .filter(|r| !r.is_empty())
                    .map(|r| String::from_utf8_lossy(r).into_owned()),
            },
            Packet::TransportFeedback(fb) => match fb.parse_fci::<Nack<'_>>() {
                Ok(nack) => {
                    let mut seqs: Vec<u16> = nack.entries().collect();
                    seqs.sort_unstable();
                    seqs.dedup();
                    Rtcp::Nack {
                        sender_ssrc: fb.sender_ssrc(),
                        media_ssrc: fb.media_ssrc(),
                        seqs,
                    }
                }
                Err(_) => Rtcp::Other { packet_type: 205 },
            },
            Packet::PayloadFeedback(_) => Rtcp::Other { packet_type: 206 },
            Packet::App(_) => Rtcp::Other { packet_type: 204 },
            Packet::Xr(_) => Rtcp::Other { packet_type: 207 },
            Packet::Unknown(u) => Rtcp::Other {
                packet_type: u.data().get(1).copied().unwrap_or(0),
            },
        });
    }
    Ok(out)
}

/// What a receiver measured of one source (RFC 3550 A.1, A.3, A.8; no
/// probation: the first packet starts the count).
#[derive(Clone, Debug, Default)]
pub struct ReceptionStats {
    clock_rate: u32,
    started: bool,
    base_seq: u32,
    max_seq: u16,
    cycles: u32,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// Previous transit time, in RTP units.
    transit: Option<i64>,
    /// Jitter × 16 (A.8's fixed point).
    jitter16: u64,
    /// The last SR: its middle NTP bits and when it arrived.
    last_sr: Option<(u32, Duration)>,
}

impl ReceptionStats {
    /// Statistics of a stream whose RTP clock runs at `clock_rate` Hz.
    pub fn new(clock_rate: u32) -> ReceptionStats {
        ReceptionStats {
            clock_rate: clock_rate.max(1),
            ..ReceptionStats::default()
        }
    }

    /// A packet with `seq` and `rtp_ts` arrived at `now`.
    pub fn handle_packet(&mut self, now: Duration, seq: u16, rtp_ts: u32) {
        if !self.started {
            self.started = true;
            self.base_seq = u32::from(seq);
            self.max_seq = seq;
        } else if seq_delta(self.max_seq, seq) > 0 {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(1 << 16);
            }
            self.max_seq = seq;
        }
        self.received += 1;
        // A.8: transit in RTP units; arrival on the receiver's clock.
        let arrival = (now.as_nanos() * u128::from(self.clock_rate) / 1_000_000_000) as i64;
        let transit = arrival.wrapping_sub(i64::from(rtp_ts));
        if let Some(prev) = self.transit {
            let d = transit.wrapping_sub(prev).unsigned_abs();
            // J += (|D| − J) / 16, kept ×16: J16 += |D| − (J16 + 8) / 16.
            self.jitter16 = (self.jitter16 + d).saturating_sub((self.jitter16 + 8) >> 4);
        }
        self.transit = Some(transit);
    }

    /// An SR from the source arrived at `now` with NTP time `ntp`.
    pub fn handle_sender_report(&mut self, now: Duration, ntp: u64) {
        self.last_sr = Some(((ntp >> 16) as u32, now));
    }

    /// The extended highest sequence number received.
    pub fn highest_seq(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    /// Packets expected so far (A.3).
    pub fn expected(&self) -> u64 {
        if !self.started {
            return 0;
        }
        u64::from(self.highest_seq().wrapping_sub(self.base_seq)) + 1
    }

    /// Packets received (duplicates included, as A.3 counts them).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Packets lost so far: expected − received (negative with duplicates).
    pub fn cumulative_lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }

    /// Interarrival jitter in RTP units.
    pub fn jitter(&self) -> u32 {
        u32::try_from(self.jitter16 >> 4).unwrap_or(u32::MAX)
    }

    /// The report block on source `ssrc` at `now`; starts the next
    /// interval of the fraction lost.
    pub fn report(&mut self, now: Duration, ssrc: u32) -> Block {
        let expected = self.expected();
        let expected_interval = expected - self.expected_prior.min(expected);
        let received_interval = self.received - self.received_prior.min(self.received);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval.saturating_sub(received_interval);
        let fraction_lost = (lost_interval << 8)
            .checked_div(expected_interval)
            .map_or(0, |f| f.min(255) as u8);
        let (lsr, dlsr) = self.last_sr.map_or((0, 0), |(lsr, at)| {
            let delay = now.saturating_sub(at);
            (
                lsr,
                (delay.as_nanos() * 65_536 / 1_000_000_000).min(u128::from(u32::MAX)) as u32,
            )
        });
        Block {
            ssrc,
            fraction_lost,
            cumulative_lost: self.cumulative_lost().clamp(-(1 << 23), (1 << 23) - 1) as i32,
            highest_seq: self.highest_seq(),
            jitter: self.jitter(),
            lsr,
            dlsr,
        }
    }
}

#[cfg(test)]
#[path = "rtcp_tests.rs"]
mod tests;
