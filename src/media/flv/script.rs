//! The `onMetaData` script tag, minimal AMF0: the muxer writes an ECMA
//! array of numbers and booleans describing the tracks; the demuxer reads
//! back the numbers it understands (frame rate, picture size) and ignores
//! everything else, including metadata it cannot parse (it is optional).

use std::collections::BTreeMap;

const NUMBER: u8 = 0x00;
const BOOLEAN: u8 = 0x01;
const STRING: u8 = 0x02;
const ECMA_ARRAY: u8 = 0x08;
const OBJECT_END: [u8; 3] = [0, 0, 9];

/// A metadata value this module writes or reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Value {
    /// An AMF0 number.
    Number(f64),
    /// An AMF0 boolean.
    Bool(bool),
}

fn push_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// The body of an `onMetaData` tag holding `entries` in order.
pub(super) fn write_metadata(entries: &[(&str, Value)]) -> Vec<u8> {
    let mut out = vec![STRING];
    push_string(&mut out, "onMetaData");
    out.push(ECMA_ARRAY);
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    for (key, value) in entries {
        push_string(&mut out, key);
        match value {
            Value::Number(n) => {
                out.push(NUMBER);
                out.extend_from_slice(&n.to_be_bytes());
            }
            Value::Bool(b) => out.extend_from_slice(&[BOOLEAN, u8::from(*b)]),
        }
    }
    out.extend_from_slice(&OBJECT_END);
    out
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let bytes = self.data.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(bytes)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn string(&mut self) -> Option<&'a [u8]> {
        let len = self.take(2)?;
        self.take(usize::from(u16::from_be_bytes([len[0], len[1]])))
    }
}

/// The number and boolean entries of an `onMetaData` body (an ECMA array
/// or object), up to the first value of another type. `None` when the body
/// is not `onMetaData`.
pub(super) fn read_metadata(body: &[u8]) -> Option<BTreeMap<String, Value>> {
    let mut r = Reader { data: body, pos: 0 };
    if r.u8()? != STRING || r.string()? != b"onMetaData" {
        return None;
    }
    match r.u8()? {
        ECMA_ARRAY => {
            r.take(4)?;
        }
        0x03 => {} // anonymous object
        _ => return None,
    }
    let mut out = BTreeMap::new();
    while let Some(key) = r.string() {
        let value = match r.u8() {
            Some(NUMBER) => {
                let Some(bytes) = r.take(8) else { break };
                let mut b = [0u8; 8];
                b.copy_from_slice(bytes);
                Value::Number(f64::from_be_bytes(b))
            }
            Some(BOOLEAN) => match r.u8() {
                Some(b) => Value::Bool(b != 0),
                None => break,
            },
            Some(STRING) => match r.string() {
                Some(_) => continue,
                None => break,
            },
            _ => break, // object end or a type we do not read
        };
        out.insert(String::from_utf8_lossy(key).into_owned(), value);
    }
    Some(out)
}

/// A frame rate in frames per second as (numerator, denominator): whole
/// rates exactly, NTSC-style rates over 1001, others to 1/1000.
pub(super) fn frame_rate_of(fps: f64) -> Option<(u32, u32)> {
    if !(fps.is_finite() && fps > 0.0 && fps < 1e6) {
        return None;
    }
    let near = |n: f64, d: f64| (n / d - fps).abs() < 1e-3 * fps.max(1.0) / 1000.0;
    let whole = fps.round();
    if near(whole, 1.0) {
        return Some((whole as u32, 1));
    }
    let ntsc = (fps * 1001.0).round();
    if near(ntsc, 1001.0) {
        return Some((ntsc as u32, 1001));
    }
    Some(((fps * 1000.0).round() as u32, 1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trip_and_garbage() {
        let body = write_metadata(&[
            ("width", Value::Number(320.0)),
            ("stereo", Value::Bool(true)),
        ]);
        let read = read_metadata(&body).unwrap();
        assert_eq!(read.get("width"), Some(&Value::Number(320.0)));
        assert_eq!(read.get("stereo"), Some(&Value::Bool(true)));
        for cut in 0..body.len() {
            let _ = read_metadata(&body[..cut]);
        }
        assert_eq!(read_metadata(b"\x02\x00\x03abc"), None);
        assert_eq!(frame_rate_of(30.0), Some((30, 1)));
        assert_eq!(frame_rate_of(30000.0 / 1001.0), Some((30000, 1001)));
        assert_eq!(frame_rate_of(12.5), Some((12500, 1000)));
        assert_eq!(frame_rate_of(f64::NAN), None);
    }
}
