//! Program-specific information: the PAT and PMT sections with their
//! MPEG-2 CRC32, emitted and parsed.
//!
//! Invariants: emitted sections always carry a correct CRC32 and fit in one
//! packet (one program, a handful of streams). The parser checks the CRC and
//! keeps "need more bytes" ([`PsiError::Incomplete`], the section continues
//! in the next packet) apart from malformed data.

/// PID of the program association table.
pub const PAT_PID: u16 = 0;
/// table_id of a PAT section.
pub const TABLE_PAT: u8 = 0x00;
/// table_id of a PMT section.
pub const TABLE_PMT: u8 = 0x02;

/// Errors in a PSI section.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PsiError {
    /// The section continues beyond the bytes given.
    #[error("section needs {needed} bytes, {available} available")]
    Incomplete {
        /// Bytes the whole section needs.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// The CRC32 at the end of the section does not match.
    #[error("table {table_id:#04x}: CRC32 {found:#010x}, computed {computed:#010x}")]
    Crc {
        /// The section's table_id.
        table_id: u8,
        /// The CRC in the section.
        found: u32,
        /// The CRC of the bytes.
        computed: u32,
    },
    /// The section's structure is wrong.
    #[error("malformed table {table_id:#04x}: {reason}")]
    Malformed {
        /// The section's table_id.
        table_id: u8,
        /// What is wrong.
        reason: &'static str,
    },
}

const CRC_TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u32) << 24;
        let mut k = 0;
        while k < 8 {
            c = if c & 0x8000_0000 != 0 {
                c << 1 ^ 0x04c1_1db7
            } else {
                c << 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

/// CRC-32/MPEG-2 (polynomial 0x04C11DB7, initial 0xFFFFFFFF, no reflection,
/// no final xor). A whole section including its CRC checks to 0.
pub fn crc32_mpeg2(data: &[u8]) -> u32 {
    data.iter().fold(0xffff_ffff, |crc, &b| {
        crc << 8 ^ CRC_TABLE[((crc >> 24) as u8 ^ b) as usize]
    })
}

/// A program association table: one program and its PMT PID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pat {
    /// transport_stream_id.
    pub transport_stream_id: u16,
    /// (program_number, PMT PID) pairs, program 0 (network PID) excluded.
    pub programs: Vec<(u16, u16)>,
}

/// One elementary stream in a PMT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PmtStream {
    /// stream_type (0x1b H.264, 0x24 H.265, 0x0f AAC ADTS).
    pub stream_type: u8,
    /// The PID carrying it.
    pub pid: u16,
}

/// A program map table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pmt {
    /// program_number.
    pub program_number: u16,
    /// version_number (5 bits).
    pub version: u8,
    /// The PID whose adaptation fields carry the PCR.
    pub pcr_pid: u16,
    /// The streams, in table order.
    pub streams: Vec<PmtStream>,
}

/// Wraps a section body in its long-form header and CRC32.
fn section(table_id: u8, id: u16, version: u8, body: &[u8]) -> Vec<u8> {
    let length = 5 + body.len() + 4;
    let mut out = vec![table_id, 0xb0 | (length >> 8) as u8, length as u8];
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0xc1 | (version & 0x1f) << 1, 0, 0]);
    out.extend_from_slice(body);
    out.extend_from_slice(&crc32_mpeg2(&out).to_be_bytes());
    out
}

impl Pat {
    /// The encoded section (no pointer field).
    pub fn emit(&self) -> Vec<u8> {
        let mut body = Vec::new();
        for &(program, pid) in &self.programs {
            body.extend_from_slice(&program.to_be_bytes());
            body.extend_from_slice(&(0xe000 | pid).to_be_bytes());
        }
        section(TABLE_PAT, self.transport_stream_id, 0, &body)
    }
}

impl Pmt {
    /// The encoded section (no pointer field).
    pub fn emit(&self) -> Vec<u8> {
        let mut body = (0xe000 | self.pcr_pid).to_be_bytes().to_vec();
        body.extend_from_slice(&[0xf0, 0]);
        for s in &self.streams {
            body.push(s.stream_type);
            body.extend_from_slice(&(0xe000 | s.pid).to_be_bytes());
            body.extend_from_slice(&[0xf0, 0]);
        }
        section(TABLE_PMT, self.program_number, self.version, &body)
    }
}

/// A parsed PSI section of a kind streamsim reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Section {
    /// A PAT.
    Pat(Pat),
    /// A PMT.
    Pmt(Pmt),
    /// Another table, skipped.
    Other {
        /// Its table_id.
        table_id: u8,
    },
}

/// Bytes the section starting at `data` occupies, once 3 bytes are known.
/// A 0xff table_id means stuffing: the rest of the packet is padding.
pub fn section_len(data: &[u8]) -> Option<usize> {
    let head = data.get(..3)?;
    Some(3 + (usize::from(head[1] & 0x0f) << 8 | usize::from(head[2])))
}

/// Parses one section (the bytes after the pointer field), checking its CRC.
pub fn parse_section(data: &[u8]) -> Result<Section, PsiError> {
    let incomplete = |needed| PsiError::Incomplete {
        needed,
        available: data.len(),
    };
    let total = section_len(data).ok_or(incomplete(3))?;
    let table_id = data[0];
    let bad = |reason| PsiError::Malformed { table_id, reason };
    if total < 12 {
        return Err(bad("section shorter than its header and CRC"));
    }
    let sec = data.get(..total).ok_or(incomplete(total))?;
    if table_id != TABLE_PAT && table_id != TABLE_PMT {
        return Ok(Section::Other { table_id });
    }
    let (content, crc) = sec.split_at(total - 4);
    let found = u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]);
    let computed = crc32_mpeg2(content);
    if found != computed {
        return Err(PsiError::Crc {
            table_id,
            found,
            computed,
        });
    }
    let id = u16::from_be_bytes([sec[3], sec[4]]);
    let version = (sec[5] >> 1) & 0x1f;
    let body = &content[8..];
    let pid_at = |b: &[u8], i: usize| u16::from_be_bytes([b[i] & 0x1f, b[i + 1]]);
    if table_id == TABLE_PAT {
        if body.len() % 4 != 0 {
            return Err(bad("PAT entries are not 4-byte aligned"));
        }
        let programs = body
            .chunks_exact(4)
            .map(|e| (u16::from_be_bytes([e[0], e[1]]), pid_at(e, 2)))
            .filter(|&(program, _)| program != 0)
            .collect();
        return Ok(Section::Pat(Pat {
            transport_stream_id: id,
            programs,
        }));
    }
    if body.len() < 4 {
        return Err(bad("PMT body shorter than 4 bytes"));
    }
    let pcr_pid = pid_at(body, 0);
    let info_len = usize::from(body[2] & 0x0f) << 8 | usize::from(body[3]);
    let mut pos = 4 + info_len;
    let mut streams = Vec::new();
    while pos < body.len() {
        let entry = body
            .get(pos..pos + 5)
            .ok_or(bad("PMT stream entry truncated"))?;
        let es_info = usize::from(entry[3] & 0x0f) << 8 | usize::from(entry[4]);
        streams.push(PmtStream {
            stream_type: entry[0],
            pid: pid_at(entry, 1),
        });
        pos += 5 + es_info;
    }
    if pos != body.len() {
        return Err(bad("PMT descriptors run past the section"));
    }
    Ok(Section::Pmt(Pmt {
        program_number: id,
        version,
        pcr_pid,
        streams,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_standard_check_value() {
        // The CRC-32/MPEG-2 catalogue check value for "123456789".
        assert_eq!(crc32_mpeg2(b"123456789"), 0x0376_e6e7);
    }

    #[test]
    fn pat_and_pmt_round_trip() {
        let pat = Pat {
            transport_stream_id: 1,
            programs: vec![(1, 0x1000)],
        };
        assert_eq!(parse_section(&pat.emit()), Ok(Section::Pat(pat.clone())));
        let streams = vec![
            PmtStream {
                stream_type: 0x1b,
                pid: 0x100,
            },
            PmtStream {
                stream_type: 0x0f,
                pid: 0x101,
            },
        ];
        let pmt = Pmt {
            program_number: 1,
            version: 3,
            pcr_pid: 0x100,
            streams,
        };
        let bytes = pmt.emit();
        assert_eq!(
            crc32_mpeg2(&bytes),
            0,
            "a section with its CRC checks to zero"
        );
        assert_eq!(parse_section(&bytes), Ok(Section::Pmt(pmt)));
    }

    #[test]
    fn incomplete_and_corrupt_sections() {
        let bytes = Pat {
            transport_stream_id: 1,
            programs: vec![(1, 0x1000)],
        }
        .emit();
        assert_eq!(
            parse_section(&bytes[..2]),
            Err(PsiError::Incomplete {
                needed: 3,
                available: 2
            })
        );
        let n = bytes.len();
        assert_eq!(
            parse_section(&bytes[..n - 1]),
            Err(PsiError::Incomplete {
                needed: n,
                available: n - 1
            })
        );
        let mut bad = bytes.clone();
        bad[9] ^= 1;
        assert!(matches!(
            parse_section(&bad),
            Err(PsiError::Crc { table_id: 0, .. })
        ));
        for cut in 0..n {
            let _ = parse_section(&bytes[cut..]);
        }
    }
}
