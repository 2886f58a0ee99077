//! Capture tap: records the raw IPv4 packets crossing one simulated host
//! interface into a pcap or pcapng file, kept in memory
//! ([`CaptureTap::new`]) or streamed to disk as packets are captured, with
//! a fixed-size buffer ([`CaptureTap::streaming`]).
//!
//! Invariants:
//! - The output is a pure function of the constructor arguments and the
//!   sequence of `record*` calls: no clock is read, and no hostname, OS,
//!   application version or wall-clock time is written. Multi-byte fields are
//!   always little-endian, whatever the host.
//! - Packets carry no link layer: the link type is `LINKTYPE_RAW` (101), which
//!   Wireshark/tshark dissects as IPv4/IPv6 without configuration.
//! - Capture timestamp = `epoch` (since the UNIX epoch) + simulation time,
//!   stored with nanosecond resolution in both formats (pcapng `if_tsresol`
//!   = 9; pcap uses the nanosecond magic `0xA1B23C4D`).
//! - Packets longer than `snaplen` are truncated to `snaplen` bytes; the
//!   original length is kept in the record.
//! - Nothing here panics on any input; failures are [`CaptureError`]s.

use std::borrow::Cow;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use pcap_file::pcap::PcapHeader;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};

/// Application name written in the pcapng section header (`shb_userappl`).
const USER_APPLICATION: &str = "streamsim";

/// pcapng `if_tsresol` value meaning 10^-9 s per timestamp unit.
const TSRESOL_NANOSECONDS: u8 = 9;

/// pcapng `epb_flags` direction bits (bits 0-1): inbound.
const EPB_FLAGS_INBOUND: u32 = 0b01;

/// pcapng `epb_flags` direction bits (bits 0-1): outbound.
const EPB_FLAGS_OUTBOUND: u32 = 0b10;

/// Longest option value pcapng can encode, in bytes (16-bit length field).
const MAX_OPTION_LEN: usize = u16::MAX as usize;

/// Prefix of the `opt_comment` attached to dropped packets in pcapng.
const DROP_COMMENT_PREFIX: &str = "dropped: ";

/// File format of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CaptureFormat {
    /// Classic libpcap format (nanosecond variant, magic `0xA1B23C4D`).
    /// Direction and drop causes are not representable: a dropped packet is
    /// written like any other.
    Pcap,
    /// pcapng with one section and one interface; direction goes into
    /// `epb_flags`, drops are written with an `opt_comment`.
    PcapNg,
}

/// Errors raised while building a capture.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The snapshot length is zero, so no byte of any packet could be kept.
    #[error("snaplen must be at least 1 byte, got {snaplen}")]
    InvalidSnaplen {
        /// Requested snapshot length, in bytes.
        snaplen: u32,
    },
    /// The interface name does not fit a pcapng option.
    #[error("interface name is {len} bytes long; pcapng options hold at most {MAX_OPTION_LEN}")]
    InterfaceNameTooLong {
        /// Length of the interface name, in bytes.
        len: usize,
    },
    /// `epoch + now` overflows or does not fit the format's timestamp field.
    #[error(
        "capture timestamp epoch {epoch:?} + sim time {now:?} does not fit a {format:?} timestamp"
    )]
    TimestampOutOfRange {
        /// Capture epoch since the UNIX epoch.
        epoch: Duration,
        /// Simulation time since scenario start.
        now: Duration,
        /// Format whose timestamp field is too small.
        format: CaptureFormat,
    },
    /// The packet is longer than a 32-bit length field can describe.
    #[error("packet of {len} bytes exceeds the 32-bit length field of a capture record")]
    PacketTooLong {
        /// Packet length, in bytes.
        len: usize,
    },
    /// The capture file could not be written.
    #[error("cannot write the capture file: {source}")]
    Io {
        /// Why.
        #[source]
        source: io::Error,
    },
    /// pcap-file refused to encode a block or header.
    #[error("cannot encode the {what} of a {format:?} capture: {source}")]
    Encode {
        /// Which part of the file was being written.
        what: &'static str,
        /// Format being written.
        format: CaptureFormat,
        /// Underlying encoder error.
        #[source]
        source: PcapError,
    },
}

/// Bytes buffered before a streaming capture writes them to its file.
const STREAM_BUFFER: usize = 256 * 1024;

/// Where the encoded capture goes.
enum Output {
    /// The whole file, in memory.
    Memory(Vec<u8>),
    /// A file being written, through a fixed-size buffer.
    File {
        /// The buffered file.
        writer: io::BufWriter<File>,
        /// Its path.
        path: PathBuf,
        /// The first write error: the file then misses packets.
        failed: Option<io::ErrorKind>,
    },
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Memory(v) => v.write(buf),
            Output::File { writer, failed, .. } => {
                let result = writer.write(buf);
                if let Err(e) = &result {
                    failed.get_or_insert(e.kind());
                }
                result
            }
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Output::Memory(v) => v.write_all(buf),
            Output::File { writer, failed, .. } => {
                let result = writer.write_all(buf);
                if let Err(e) = &result {
                    failed.get_or_insert(e.kind());
                }
                result
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Memory(_) => Ok(()),
            Output::File { writer, .. } => writer.flush(),
        }
    }
}

/// Format-specific writer state.
enum Sink {
    /// Classic pcap: the header and records are appended to the output.
    Pcap(Output),
    /// pcapng: pcap-file's writer owns the output.
    PcapNg(PcapNgWriter<Output>),
}

/// In-memory capture of the packets crossing one interface.
pub struct CaptureTap {
    /// Output format.
    format: CaptureFormat,
    /// Time since the UNIX epoch that sim time zero maps to.
    epoch: Duration,
    /// Maximum number of bytes stored per packet.
    snaplen: u32,
    /// Encoded file so far.
    sink: Sink,
    /// Number of packet records written to the file.
    packets: u64,
    /// Number of drops passed to [`CaptureTap::record_drop`].
    drops: u64,
}

impl std::fmt::Debug for CaptureTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureTap")
            .field("format", &self.format)
            .field("epoch", &self.epoch)
            .field("snaplen", &self.snaplen)
            .field("bytes", &self.bytes().len())
            .field("packets", &self.packets)
            .field("drops", &self.drops)
            .finish()
    }
}

impl CaptureTap {
    /// Starts an empty capture for the interface `interface_name`, kept in
    /// memory.
    ///
    /// `epoch` is the time since the UNIX epoch that sim time zero maps to;
    /// `snaplen` is the maximum number of bytes kept per packet (≥ 1).
    pub fn new(
        format: CaptureFormat,
        epoch: Duration,
        interface_name: &str,
        snaplen: u32,
    ) -> Result<Self, CaptureError> {
        let output = Output::Memory(Vec::with_capacity(4096));
        Self::with_output(format, epoch, interface_name, snaplen, output)
    }

    /// Starts a capture like [`CaptureTap::new`] that streams to a new file
    /// at `path` (replacing a regular file there): memory stays bounded by
    /// a fixed buffer whatever the capture's size. [`CaptureTap::finish`]
    /// completes the file; [`CaptureTap::bytes`] is then empty.
    pub fn streaming(
        format: CaptureFormat,
        epoch: Duration,
        interface_name: &str,
        snaplen: u32,
        path: &Path,
    ) -> Result<Self, CaptureError> {
        let io = |source| CaptureError::Io { source };
        if fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
            fs::remove_file(path).map_err(io)?;
        }
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(io)?;
        let output = Output::File {
            writer: io::BufWriter::with_capacity(STREAM_BUFFER, file),
            path: path.to_path_buf(),
            failed: None,
        };
        Self::with_output(format, epoch, interface_name, snaplen, output)
    }

    /// Writes what is buffered of a streaming capture and syncs its file;
    /// returns its path (`None` for a capture in memory).
    pub fn finish(&mut self) -> Result<Option<PathBuf>, CaptureError> {
        let output = match &mut self.sink {
            Sink::Pcap(out) => out,
            Sink::PcapNg(writer) => writer.get_mut(),
        };
        match output {
            Output::Memory(_) => Ok(None),
            Output::File {
                writer,
                path,
                failed,
            } => {
                let io = |source| CaptureError::Io { source };
                if let Some(kind) = failed {
                    return Err(io(io::Error::from(*kind)));
                }
                writer.flush().map_err(io)?;
                writer.get_ref().sync_all().map_err(io)?;
                Ok(Some(path.clone()))
            }
        }
    }

    fn with_output(
        format: CaptureFormat,
        epoch: Duration,
        interface_name: &str,
        snaplen: u32,
        output: Output,
    ) -> Result<Self, CaptureError> {
        if snaplen == 0 {
            return Err(CaptureError::InvalidSnaplen { snaplen });
        }
        let sink = match format {
            CaptureFormat::Pcap => {
                let header = PcapHeader {
                    version_major: 2,
                    version_minor: 4,
                    ts_correction: 0,
                    ts_accuracy: 0,
                    snaplen,
                    datalink: DataLink::RAW,
                    ts_resolution: TsResolution::NanoSecond,
                    endianness: Endianness::Little,
                };
                let mut out = output;
                header
                    .write_to(&mut out)
                    .map_err(|source| CaptureError::Encode {
                        what: "file header",
                        format,
                        source,
                    })?;
                Sink::Pcap(out)
            }
            CaptureFormat::PcapNg => {
                if interface_name.len() > MAX_OPTION_LEN {
                    return Err(CaptureError::InterfaceNameTooLong {
                        len: interface_name.len(),
                    });
                }
                let section = SectionHeaderBlock {
                    endianness: Endianness::Little,
                    major_version: 1,
                    minor_version: 0,
                    section_length: -1,
                    options: vec![SectionHeaderOption::UserApplication(Cow::Borrowed(
                        USER_APPLICATION,
                    ))],
                };
                let encode = |what| {
                    move |source| CaptureError::Encode {
                        what,
                        format,
                        source,
                    }
                };
                let mut writer = PcapNgWriter::with_section_header(output, section)
                    .map_err(encode("section header block"))?;
                let interface = InterfaceDescriptionBlock {
                    linktype: DataLink::RAW,
                    snaplen,
                    options: vec![
                        InterfaceDescriptionOption::IfName(Cow::Owned(interface_name.to_owned())),
                        InterfaceDescriptionOption::IfTsResol(TSRESOL_NANOSECONDS),
                    ],
                };
                writer
                    .write_pcapng_block(interface)
                    .map_err(encode("interface description block"))?;
                Sink::PcapNg(writer)
            }
        };
        Ok(Self {
            format,
            epoch,
            snaplen,
            sink,
            packets: 0,
            drops: 0,
        })
    }

    /// Records a packet that crossed the interface at sim time `now`;
    /// `outbound` is true when this host sent it.
    pub fn record(
        &mut self,
        now: Duration,
        packet: &[u8],
        outbound: bool,
    ) -> Result<(), CaptureError> {
        self.write_packet(now, packet, outbound, None)
    }

    /// Records a packet that the link model dropped at sim time `now`.
    ///
    /// The packet was sent, so it is always written, as a capture at the
    /// sending interface would show it. In pcapng it also carries the
    /// `opt_comment` `"dropped: <cause>"` (cut at a character boundary to fit
    /// 65535 bytes); plain pcap has no place for the cause. Either way the
    /// drop is counted in [`CaptureTap::drop_count`].
    pub fn record_drop(
        &mut self,
        now: Duration,
        packet: &[u8],
        outbound: bool,
        cause: &str,
    ) -> Result<(), CaptureError> {
        let comment = (self.format == CaptureFormat::PcapNg).then(|| {
            let mut comment = String::with_capacity(DROP_COMMENT_PREFIX.len() + cause.len());
            comment.push_str(DROP_COMMENT_PREFIX);
            comment.push_str(cause);
            truncate_at_char_boundary(&mut comment, MAX_OPTION_LEN);
            comment
        });
        self.write_packet(now, packet, outbound, comment)?;
        self.drops = self.drops.saturating_add(1);
        Ok(())
    }

    /// Returns the encoded capture file so far (empty for a streaming
    /// capture: its bytes are in its file).
    pub fn bytes(&self) -> &[u8] {
        let output = match &self.sink {
            Sink::Pcap(out) => out,
            Sink::PcapNg(writer) => writer.get_ref(),
        };
        match output {
            Output::Memory(v) => v,
            Output::File { .. } => &[],
        }
    }

    /// Returns the number of packet records in the file (in pcapng this
    /// includes the records of dropped packets).
    pub fn packet_count(&self) -> u64 {
        self.packets
    }

    /// Returns the number of drops passed to [`CaptureTap::record_drop`],
    /// whether or not the format could write them.
    pub fn drop_count(&self) -> u64 {
        self.drops
    }

    /// Returns the output format.
    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// Writes the capture to `path` atomically: the bytes go to a temporary
    /// file in the same directory, which is synced and then renamed over
    /// `path`. On error the temporary file is removed.
    pub fn write_to(&self, path: &Path) -> io::Result<()> {
        let temp = temp_path(path)?;
        let result = write_synced(&temp, self.bytes()).and_then(|()| fs::rename(&temp, path));
        if result.is_err() {
            // Best effort: the original error is the one worth reporting.
            let _ = fs::remove_file(&temp);
        }
        result
    }

    /// Appends one packet record, optionally with a pcapng comment.
    fn write_packet(
        &mut self,
        now: Duration,
        packet: &[u8],
        outbound: bool,
        comment: Option<String>,
    ) -> Result<(), CaptureError> {
        let timestamp = self.timestamp(now)?;
        let original_len = record_len(packet)?;
        let kept = packet
            .get(..usize::try_from(self.snaplen).unwrap_or(usize::MAX))
            .unwrap_or(packet);
        let format = self.format;
        match &mut self.sink {
            Sink::Pcap(out) => {
                // 16-byte record header; timestamp() has checked that the
                // seconds fit in 32 bits, and kept.len() <= snaplen (u32).
                let secs = u32::try_from(timestamp.as_secs()).unwrap_or(u32::MAX);
                let captured_len = u32::try_from(kept.len()).unwrap_or(u32::MAX);
                let mut header = [0u8; 16];
                header[0..4].copy_from_slice(&secs.to_le_bytes());
                header[4..8].copy_from_slice(&timestamp.subsec_nanos().to_le_bytes());
                header[8..12].copy_from_slice(&captured_len.to_le_bytes());
                header[12..16].copy_from_slice(&original_len.to_le_bytes());
                out.write_all(&header)
                    .and_then(|()| out.write_all(kept))
                    .map_err(|source| CaptureError::Io { source })?;
            }
            Sink::PcapNg(writer) => {
                let direction = if outbound {
                    EPB_FLAGS_OUTBOUND
                } else {
                    EPB_FLAGS_INBOUND
                };
                let mut options = Vec::with_capacity(2);
                if let Some(comment) = comment {
                    options.push(EnhancedPacketOption::Comment(Cow::Owned(comment)));
                }
                options.push(EnhancedPacketOption::Flags(direction));
                let block = EnhancedPacketBlock {
                    interface_id: 0,
                    timestamp,
                    original_len,
                    data: Cow::Borrowed(kept),
                    options,
                };
                writer
                    .write_pcapng_block(block)
                    .map_err(|source| CaptureError::Encode {
                        what: "enhanced packet block",
                        format,
                        source,
                    })?;
            }
        }
        self.packets = self.packets.saturating_add(1);
        Ok(())
    }

    /// Returns `epoch + now`, checked against the format's timestamp range.
    fn timestamp(&self, now: Duration) -> Result<Duration, CaptureError> {
        let out_of_range = || CaptureError::TimestampOutOfRange {
            epoch: self.epoch,
            now,
            format: self.format,
        };
        let timestamp = self.epoch.checked_add(now).ok_or_else(out_of_range)?;
        let fits = match self.format {
            CaptureFormat::Pcap => u32::try_from(timestamp.as_secs()).is_ok(),
            CaptureFormat::PcapNg => u64::try_from(timestamp.as_nanos()).is_ok(),
        };
        if fits {
            Ok(timestamp)
        } else {
            Err(out_of_range())
        }
    }
}

/// Returns the packet length as a 32-bit record field.
fn record_len(packet: &[u8]) -> Result<u32, CaptureError> {
    u32::try_from(packet.len()).map_err(|_| CaptureError::PacketTooLong { len: packet.len() })
}

/// Shortens `text` to at most `max` bytes without splitting a character.
fn truncate_at_char_boundary(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

/// Returns the temporary sibling `.<name>.tmp-<pid>` used by atomic writes.
fn temp_path(path: &Path) -> io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("capture path {} has no file name", path.display()),
        )
    })?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".tmp-{}", std::process::id()));
    Ok(path.with_file_name(temp_name))
}

/// Creates `path`, writes `bytes` and syncs them to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    use pcap_file::pcap::PcapReader;
    use pcap_file::pcapng::{Block, PcapNgReader};
    use smoltcp::phy::ChecksumCapabilities;
    use smoltcp::wire::{
        IpAddress, IpProtocol, Ipv4Address, Ipv4Packet, Ipv4Repr, TcpControl, TcpPacket, TcpRepr,
        TcpSeqNumber, UdpPacket, UdpRepr,
    };
    use std::process::Command;

    const EPOCH: Duration = Duration::from_secs(1_700_000_000);
    const A: Ipv4Address = Ipv4Address::new(10, 0, 0, 1);
    const B: Ipv4Address = Ipv4Address::new(10, 0, 0, 2);

    /// Builds an IPv4/TCP packet with valid checksums.
    fn tcp_packet(control: TcpControl, seq: u32, payload: &[u8]) -> Vec<u8> {
        let tcp = TcpRepr {
            src_port: 40000,
            dst_port: 80,
            control,
            seq_number: TcpSeqNumber(seq as i32),
            ack_number: None,
            window_len: 64000,
            window_scale: None,
            max_seg_size: None,
            sack_permitted: false,
            sack_ranges: [None; 3],
            timestamp: None,
            payload,
        };
        let ip = Ipv4Repr {
            src_addr: A,
            dst_addr: B,
            next_header: IpProtocol::Tcp,
            payload_len: tcp.buffer_len(),
            hop_limit: 64,
        };
        let mut buf = vec![0u8; ip.buffer_len() + tcp.buffer_len()];
        let caps = ChecksumCapabilities::default();
        let mut ip_packet = Ipv4Packet::new_unchecked(&mut buf[..]);
        ip.emit(&mut ip_packet, &caps);
        let mut tcp_packet = TcpPacket::new_unchecked(ip_packet.payload_mut());
        tcp.emit(
            &mut tcp_packet,
            &IpAddress::Ipv4(A),
            &IpAddress::Ipv4(B),
            &caps,
        );
        buf
    }

    /// Builds an IPv4/UDP packet with valid checksums.
    fn udp_packet(payload: &[u8]) -> Vec<u8> {
        let udp = UdpRepr {
            src_port: 5000,
            dst_port: 6000,
        };
        let udp_len = udp.header_len() + payload.len();
        let ip = Ipv4Repr {
            src_addr: B,
            dst_addr: A,
            next_header: IpProtocol::Udp,
            payload_len: udp_len,
            hop_limit: 64,
        };
        let mut buf = vec![0u8; ip.buffer_len() + udp_len];
        let caps = ChecksumCapabilities::default();
        let mut ip_packet = Ipv4Packet::new_unchecked(&mut buf[..]);
        ip.emit(&mut ip_packet, &caps);
        let mut udp_packet = UdpPacket::new_unchecked(ip_packet.payload_mut());
        udp.emit(
            &mut udp_packet,
            &IpAddress::Ipv4(B),
            &IpAddress::Ipv4(A),
            payload.len(),
            |buf| buf.copy_from_slice(payload),
            &caps,
        );
        buf
    }

    /// The packets used by the tests: (sim time, bytes, outbound, drop cause).
    fn sample() -> Vec<(Duration, Vec<u8>, bool, Option<&'static str>)> {
        vec![
            (
                Duration::from_nanos(1),
                tcp_packet(TcpControl::Syn, 1000, &[]),
                true,
                None,
            ),
            (
                Duration::from_micros(1500),
                udp_packet(b"hello"),
                false,
                None,
            ),
            (
                Duration::new(2, 123_456_789),
                tcp_packet(TcpControl::Psh, 1001, &[7u8; 100]),
                true,
                Some("queue overflow"),
            ),
            (
                Duration::new(3, 999_999_999),
                tcp_packet(TcpControl::None, 1101, &[9u8; 10]),
                true,
                None,
            ),
        ]
    }

    fn build(format: CaptureFormat, snaplen: u32) -> CaptureTap {
        let mut tap = CaptureTap::new(format, EPOCH, "h1-eth0", snaplen).expect("new tap");
        for (now, bytes, outbound, drop) in sample() {
            match drop {
                Some(cause) => tap.record_drop(now, &bytes, outbound, cause),
                None => tap.record(now, &bytes, outbound),
            }
            .expect("record");
        }
        tap
    }

    #[test]
    fn pcap_round_trip_keeps_timestamps_and_data_including_drops() {
        let tap = build(CaptureFormat::Pcap, 65535);
        assert_eq!(tap.packet_count(), 4);
        assert_eq!(tap.drop_count(), 1);
        let mut reader = PcapReader::new(tap.bytes()).expect("pcap header");
        let header = reader.header();
        assert_eq!(header.datalink, DataLink::RAW);
        assert_eq!(header.ts_resolution, TsResolution::NanoSecond);
        assert_eq!(header.snaplen, 65535);
        // A dropped packet was still sent: plain pcap keeps it, without a cause.
        let expected = sample();
        let mut seen = 0;
        while let Some(packet) = reader.next_packet() {
            let packet = packet.expect("packet");
            let (now, bytes, _, _) = &expected[seen];
            assert_eq!(packet.timestamp, EPOCH + *now);
            assert_eq!(packet.data.as_ref(), bytes.as_slice());
            assert_eq!(packet.orig_len as usize, bytes.len());
            seen += 1;
        }
        assert_eq!(seen, expected.len());
    }

    #[test]
    fn pcapng_round_trip_keeps_timestamps_data_flags_and_comments() {
        let tap = build(CaptureFormat::PcapNg, 65535);
        assert_eq!(tap.packet_count(), 4);
        assert_eq!(tap.drop_count(), 1);
        let mut reader = PcapNgReader::new(tap.bytes()).expect("section header");
        assert_eq!(reader.section().endianness, Endianness::Little);
        assert_eq!(
            reader.section().options,
            vec![SectionHeaderOption::UserApplication(Cow::Borrowed(
                "streamsim"
            ))]
        );
        let expected = sample();
        let mut seen = 0;
        while let Some(block) = reader.next_block() {
            match block.expect("block") {
                Block::InterfaceDescription(idb) => {
                    assert_eq!(idb.linktype, DataLink::RAW);
                    assert!(idb
                        .options
                        .contains(&InterfaceDescriptionOption::IfTsResol(9)));
                    assert!(idb.options.contains(&InterfaceDescriptionOption::IfName(
                        Cow::Borrowed("h1-eth0")
                    )));
                }
                Block::EnhancedPacket(epb) => {
                    let (now, bytes, outbound, drop) = &expected[seen];
                    // pcap-file 2.0.0 reads EPB timestamps as nanoseconds.
                    assert_eq!(epb.timestamp, EPOCH + *now);
                    assert_eq!(epb.data.as_ref(), bytes.as_slice());
                    let flags = if *outbound { 2 } else { 1 };
                    assert!(epb.options.contains(&EnhancedPacketOption::Flags(flags)));
                    let comment = drop.map(|cause| format!("dropped: {cause}"));
                    let found = epb.options.iter().find_map(|o| match o {
                        EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                        _ => None,
                    });
                    assert_eq!(found, comment);
                    seen += 1;
                }
                other => panic!("unexpected block {other:?}"),
            }
        }
        assert_eq!(seen, expected.len());
    }

    #[test]
    fn same_input_gives_same_bytes() {
        for format in [CaptureFormat::Pcap, CaptureFormat::PcapNg] {
            assert_eq!(build(format, 65535).bytes(), build(format, 65535).bytes());
        }
    }

    #[test]
    fn snaplen_truncates_and_keeps_original_length() {
        let tap = build(CaptureFormat::Pcap, 40);
        let mut reader = PcapReader::new(tap.bytes()).expect("pcap header");
        // pcap-file 2.0.0's checked reader rejects orig_len > snaplen, which
        // the format allows, so read the raw records.
        // A dropped packet was still sent: plain pcap keeps it, without a cause.
        let expected = sample();
        let mut seen = 0;
        while let Some(packet) = reader.next_raw_packet() {
            let packet = packet.expect("packet");
            let bytes = &expected[seen].1;
            let kept = bytes.len().min(40);
            assert_eq!(packet.incl_len as usize, kept);
            assert_eq!(packet.orig_len as usize, bytes.len());
            assert_eq!(packet.data.as_ref(), &bytes[..kept]);
            seen += 1;
        }
        assert_eq!(seen, expected.len());
        let tap = build(CaptureFormat::PcapNg, 40);
        let mut reader = PcapNgReader::new(tap.bytes()).expect("section header");
        while let Some(block) = reader.next_block() {
            if let Block::EnhancedPacket(epb) = block.expect("block") {
                assert!(epb.data.len() <= 40);
                assert!(epb.original_len as usize >= epb.data.len());
            }
        }
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        assert!(matches!(
            CaptureTap::new(CaptureFormat::Pcap, EPOCH, "x", 0),
            Err(CaptureError::InvalidSnaplen { snaplen: 0 })
        ));
        let long_name = "n".repeat(70_000);
        assert!(matches!(
            CaptureTap::new(CaptureFormat::PcapNg, EPOCH, &long_name, 100),
            Err(CaptureError::InterfaceNameTooLong { len: 70_000 })
        ));
        let mut tap = CaptureTap::new(CaptureFormat::Pcap, EPOCH, "x", 100).expect("tap");
        let late = Duration::from_secs(u64::from(u32::MAX));
        assert!(matches!(
            tap.record(late, &[0x45], true),
            Err(CaptureError::TimestampOutOfRange { .. })
        ));
        assert!(matches!(
            tap.record(Duration::MAX, &[0x45], true),
            Err(CaptureError::TimestampOutOfRange { .. })
        ));
        let mut tap = CaptureTap::new(CaptureFormat::PcapNg, EPOCH, "x", 100).expect("tap");
        let long_cause = "é".repeat(40_000);
        tap.record_drop(Duration::ZERO, &[], false, &long_cause)
            .expect("long cause is truncated");
        assert_eq!(tap.packet_count(), 1);
    }

    #[test]
    fn write_to_replaces_file_atomically() {
        let dir = std::env::temp_dir().join(format!("streamsim-pcap-test-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join("cap.pcapng");
        fs::write(&path, b"old").expect("seed");
        let tap = build(CaptureFormat::PcapNg, 65535);
        tap.write_to(&path).expect("write");
        assert_eq!(fs::read(&path).expect("read"), tap.bytes());
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .expect("ls")
            .filter_map(Result::ok)
            .filter(|e| e.file_name() != "cap.pcapng")
            .collect();
        assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
        assert!(tap.write_to(Path::new("/")).is_err());
        fs::remove_dir_all(&dir).expect("cleanup");
    }

    /// Runs `tshark` on `path` with `args`; `None` when tshark is missing.
    fn tshark(path: &Path, args: &[&str]) -> Option<String> {
        let output = Command::new("tshark")
            .arg("-n")
            .arg("-r")
            .arg(path)
            .args(args)
            .output();
        match output {
            Ok(out) => {
                assert!(
                    out.status.success(),
                    "tshark failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                Some(String::from_utf8_lossy(&out.stdout).into_owned())
            }
            Err(_) => None,
        }
    }

    #[test]
    fn tshark_dissects_ip_tcp_udp() {
        let dir = std::env::temp_dir().join(format!("streamsim-tshark-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("mkdir");
        for (format, name, rows) in [
            (CaptureFormat::Pcap, "cap.pcap", 4),
            (CaptureFormat::PcapNg, "cap.pcapng", 4),
        ] {
            let path = dir.join(name);
            build(format, 65535).write_to(&path).expect("write");
            let fields = [
                "-T",
                "fields",
                "-E",
                "separator=,",
                "-e",
                "frame.time_epoch",
                "-e",
                "frame.protocols",
                "-e",
                "ip.src",
                "-e",
                "tcp.seq_raw",
                "-e",
                "udp.length",
                "-e",
                "tcp.checksum.status",
                "-e",
                "frame.comment",
                "-e",
                "frame.p2p_dir",
                "-o",
                "tcp.check_checksum:TRUE",
            ];
            let Some(out) = tshark(&path, &fields) else {
                println!("note: tshark not on PATH; skipping tshark check");
                return;
            };
            let lines: Vec<&str> = out.lines().collect();
            assert_eq!(lines.len(), rows, "{out}");
            let first = lines[0];
            assert!(
                first.starts_with("1700000000.000000001,raw:ip:tcp"),
                "{first}"
            );
            assert!(first.contains(",1000,"), "{first}");
            // Checksum status 1 means "Good" in tshark.
            assert!(first.contains(",1,"), "{first}");
            assert!(
                lines[1].starts_with("1700000000.001500000,raw:ip:udp"),
                "{}",
                lines[1]
            );
            assert!(lines[1].contains(",13,"), "{}", lines[1]);
            if format == CaptureFormat::PcapNg {
                assert!(lines[2].contains("dropped: queue overflow"), "{}", lines[2]);
                assert!(lines[2].starts_with("1700000002.123456789"), "{}", lines[2]);
            }
        }
        fs::remove_dir_all(&dir).expect("cleanup");
    }
}
