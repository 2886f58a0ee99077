//! Number-with-unit parsing and printing for netem strings (times, rates,
//! percentages, byte counts).
//!
//! Invariants: parsers never panic and return `None` on any malformed,
//! negative, non-finite or overflowing input; printers emit text that the
//! matching parser maps back to the identical value.

use std::time::Duration;

const TIME_UNITS: [(&str, u64); 12] = [
    ("ns", 1),
    ("nsec", 1),
    ("nsecs", 1),
    ("us", 1_000),
    ("usec", 1_000),
    ("usecs", 1_000),
    ("ms", 1_000_000),
    ("msec", 1_000_000),
    ("msecs", 1_000_000),
    ("s", 1_000_000_000),
    ("sec", 1_000_000_000),
    ("secs", 1_000_000_000),
];

const RATE_UNITS: [(&str, u64); 18] = [
    ("bit", 1),
    ("kbit", 1_000),
    ("mbit", 1_000_000),
    ("gbit", 1_000_000_000),
    ("tbit", 1_000_000_000_000),
    ("kibit", 1 << 10),
    ("mibit", 1 << 20),
    ("gibit", 1 << 30),
    ("tibit", 1 << 40),
    ("bps", 8),
    ("kbps", 8_000),
    ("mbps", 8_000_000),
    ("gbps", 8_000_000_000),
    ("tbps", 8_000_000_000_000),
    ("kibps", 8 << 10),
    ("mibps", 8 << 20),
    ("gibps", 8 << 30),
    ("tibps", 8 << 40),
];

const BYTE_UNITS: [(&str, u64); 7] = [
    ("b", 1),
    ("kb", 1_000),
    ("k", 1_000),
    ("mb", 1_000_000),
    ("m", 1_000_000),
    ("kib", 1 << 10),
    ("mib", 1 << 20),
];

/// Tells whether a word starts like a number (netem's `NEXT_IS_NUMBER`).
pub(super) fn looks_numeric(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_digit() || c == '.')
}

/// Splits `"40ms"` into `("40", "ms")`.
fn split_number(word: &str) -> (&str, &str) {
    let end = word
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(word.len());
    word.split_at(end)
}

/// Multiplies a decimal number text by an integer scale, exactly for integers.
fn scaled(number: &str, scale: u64) -> Option<u64> {
    if number.is_empty() {
        return None;
    }
    if let Ok(n) = number.parse::<u64>() {
        return n.checked_mul(scale);
    }
    let x = number.parse::<f64>().ok()? * scale as f64;
    (x.is_finite() && x >= 0.0 && x < u64::MAX as f64).then(|| x.round() as u64)
}

fn with_unit(word: &str, units: &[(&str, u64)], bare: u64) -> Option<u64> {
    let (number, unit) = split_number(word);
    let scale = if unit.is_empty() {
        bare
    } else {
        let unit = unit.to_ascii_lowercase();
        units.iter().find(|(name, _)| *name == unit)?.1
    };
    scaled(number, scale)
}

/// Parses a time such as `40ms`, `1.5s`, `250us`; a bare number is in µs (as in tc).
pub(super) fn parse_time(word: &str) -> Option<Duration> {
    with_unit(word, &TIME_UNITS, 1_000).map(Duration::from_nanos)
}

/// Parses a rate in bits/s such as `8mbit`, `100kbit`, `1mbps` (bytes/s, as in tc).
pub(super) fn parse_rate(word: &str) -> Option<u64> {
    with_unit(word, &RATE_UNITS, 1).filter(|&r| r > 0)
}

/// Parses a byte count such as `96000`, `64kib`, `1mb`.
pub(super) fn parse_bytes(word: &str) -> Option<usize> {
    with_unit(word, &BYTE_UNITS, 1).and_then(|b| usize::try_from(b).ok())
}

/// Parses a percentage `25%` or `25` (tc reads both as 25 %), within 0..=100.
pub(super) fn parse_percent(word: &str) -> Option<f64> {
    let number = word.strip_suffix('%').unwrap_or(word);
    if !looks_numeric(number) {
        return None;
    }
    let x = number.parse::<f64>().ok()?;
    (0.0..=100.0).contains(&x).then_some(x)
}

/// Parses a signed byte overhead such as `20` or `-14`.
pub(super) fn parse_overhead(word: &str) -> Option<i32> {
    word.parse::<i32>().ok()
}

/// Prints a time with the largest unit that keeps it exact.
pub(super) fn fmt_time(d: Duration) -> String {
    let ns = d.as_nanos();
    match ns {
        0 => "0ms".to_string(),
        _ if ns.is_multiple_of(1_000_000_000) => format!("{}s", ns / 1_000_000_000),
        _ if ns.is_multiple_of(1_000_000) => format!("{}ms", ns / 1_000_000),
        _ if ns.is_multiple_of(1_000) => format!("{}us", ns / 1_000),
        _ => format!("{ns}ns"),
    }
}

/// Prints a rate in bits/s with the largest decimal unit that keeps it exact.
pub(super) fn fmt_rate(bits: u64) -> String {
    match bits {
        _ if bits.is_multiple_of(1_000_000_000) => format!("{}gbit", bits / 1_000_000_000),
        _ if bits.is_multiple_of(1_000_000) => format!("{}mbit", bits / 1_000_000),
        _ if bits.is_multiple_of(1_000) => format!("{}kbit", bits / 1_000),
        _ => format!("{bits}bit"),
    }
}

/// Prints a percentage so that `parse_percent` returns the same `f64`.
pub(super) fn fmt_percent(p: f64) -> String {
    format!("{p}%")
}

/// Optimal-string-alignment distance, for "did you mean" hints.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d: Vec<usize> = vec![0; (a.len() + 1) * width];
    for (i, row) in d.chunks_mut(width).enumerate() {
        row[0] = i;
    }
    for (j, cell) in d.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}
