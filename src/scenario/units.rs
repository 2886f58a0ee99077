//! Numbers with units as people write them in scenario files: durations
//! (`"40ms"`), bitrates (`"5mbit"`), sizes (`"64KiB"`), ratios (`"1%"`) and
//! `[expect]` bounds (`">= 1.2mbit"`).
//!
//! * Durations: `ns`, `us` (or `µs`), `ms`, `s`, `min`, `h`; decimals
//!   (`"1.5s"`) and a space before the unit (`"40 ms"`) are fine. A bare
//!   number is an error: the unit is never guessed.
//! * Bitrates: `bit`, `bps`, `b/s` (also `bits`, `bit/s`) are bits per
//!   second, with the prefixes `k`, `M`, `G` in any case (`"5mbit"`,
//!   `"5Mbps"`, `"5 Mbit/s"`). A capital `B` not followed by `it` means bytes:
//!   `"2MBps"` and `"2MB/s"` are 16 Mbit/s. Unlike tc-netem strings, where
//!   `mbps` means megabytes per second, `"5Mbps"` here means 5 megabits per
//!   second, which is what people mean by it.
//! * Sizes are bytes: `B`, `KB` = 1000, `KiB` = 1024, `MB`, `MiB`, `GB`, `GiB`
//!   (case does not matter: a size is never in bits); a bare integer is bytes.
//! * Ratios: `"1%"`, `"0.5 %"`, or a plain fraction (`0.01`); within
//!   0–100 %.
//!
//! Invariants: parsers never panic; decimals are exact (`"0.1ms"` is
//! 100 000 ns, rounded to the nearest base unit); negative, non-finite and
//! overflowing inputs are errors; every error's text is a whole sentence
//! that names the value and shows what is accepted.

mod bound;
mod number;

use std::time::Duration;

pub(crate) use bound::fmt_duration;
pub use bound::parse_bound;
use number::{number_or, split_unit, Decimal, NumberError};

/// Why a value with a unit was rejected.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum UnitError {
    /// Not a duration.
    #[error(
        "\"{text}\" is not a duration; write a number and a unit: \"40ms\", \"1.5s\", \"2min\""
    )]
    NotDuration {
        /// The value as written.
        text: String,
    },
    /// Not a bitrate.
    #[error("\"{text}\" is not a bitrate; write a number and a unit: \"5mbit\", \"500kbit\", \"1.5Gbit\", \"2MB/s\"")]
    NotBitrate {
        /// The value as written.
        text: String,
    },
    /// Not a size.
    #[error("\"{text}\" is not a size; write a number of bytes or a number and a unit: \"1316\", \"64KiB\", \"1MB\"")]
    NotSize {
        /// The value as written.
        text: String,
    },
    /// Not a percentage or fraction.
    #[error("\"{text}\" is not a percentage; write \"1%\", \"0.5%\" or a fraction such as 0.01")]
    NotRatio {
        /// The value as written.
        text: String,
    },
    /// Not a plain number.
    #[error("\"{text}\" is not a count; write a plain number such as 3")]
    NotCount {
        /// The value as written.
        text: String,
    },
    /// Not a level in decibels.
    #[error("\"{text}\" is not a level in dB; write a number such as 40dB")]
    NotDecibels {
        /// The value as written.
        text: String,
    },
    /// A number where a unit is needed.
    #[error("\"{text}\" has no unit; add one, e.g. \"{text}{first}\" or \"{text}{second}\"")]
    NoUnit {
        /// The value as written.
        text: String,
        /// A likely unit.
        first: &'static str,
        /// Another likely unit.
        second: &'static str,
    },
    /// A negative value.
    #[error("\"{text}\" is negative; write {what} such as \"{example}\"")]
    Negative {
        /// The value as written.
        text: String,
        /// What was expected (`a duration`).
        what: &'static str,
        /// An accepted value.
        example: &'static str,
    },
    /// A value too large to represent.
    #[error("\"{text}\" is too large for {what}")]
    TooLarge {
        /// The value as written.
        text: String,
        /// What was expected (`a duration`).
        what: &'static str,
    },
    /// A zero rate.
    #[error("\"{text}\" is zero; a bitrate must be above 0, e.g. \"500kbit\"")]
    ZeroBitrate {
        /// The value as written.
        text: String,
    },
    /// A size with a fraction of a byte.
    #[error("\"{text}\" is not a whole number of bytes")]
    FractionalSize {
        /// The value as written.
        text: String,
    },
    /// A percentage outside 0–100 %.
    #[error("\"{text}\" is out of range; a percentage is between 0% and 100%")]
    RatioOutOfRange {
        /// The value as written.
        text: String,
    },
    /// A plain number above 1 where a fraction is expected.
    #[error("\"{text}\" is more than 1; a plain number is a fraction (0.05 is 5%), so write \"{text}%\" for a percentage")]
    FractionAboveOne {
        /// The value as written.
        text: String,
    },
    /// A bound without its comparison.
    #[error(
        "\"{text}\" has no comparison; start with one of >=, >, <=, <, ==, e.g. \">= {text}\""
    )]
    NoComparison {
        /// The bound as written.
        text: String,
    },
    /// A bound whose comparison is not one of the five.
    #[error(
        "\"{text}\" starts with \"{op}\", which is not a comparison; use one of >=, >, <=, <, =="
    )]
    BadComparison {
        /// The bound as written.
        text: String,
        /// The operator found.
        op: String,
    },
    /// A bound with a comparison and nothing after it.
    #[error("\"{text}\" has no value after \"{op}\"; write e.g. \"{op} {example}\"")]
    NoBoundValue {
        /// The bound as written.
        text: String,
        /// The operator found.
        op: String,
        /// A value of the metric's unit.
        example: &'static str,
    },
    /// A bound whose value has another unit than the metric.
    #[error("\"{text}\" is {found}, but the metric is {expected}; write {expected} such as \"{example}\"")]
    UnitMismatch {
        /// The value as written.
        text: String,
        /// What the value is (`a duration`).
        found: &'static str,
        /// What the metric is (`a bitrate`).
        expected: &'static str,
        /// A value of the metric's unit.
        example: &'static str,
    },
}

const DURATION_UNITS: [(&str, u128); 9] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("min", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("hour", 3_600_000_000_000),
];

/// Parses a duration such as `"40ms"`, `"1.5s"`, `"2min"`, `"40 ms"`.
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let owned = || text.to_owned();
    let (number, unit) = split_unit(text);
    let decimal = number_or(number, text, "a duration", "40ms", || {
        UnitError::NotDuration { text: owned() }
    })?;
    if unit.is_empty() {
        return Err(UnitError::NoUnit {
            text: text.trim().to_owned(),
            first: "ms",
            second: "s",
        });
    }
    let scale = DURATION_UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|&(_, scale)| scale)
        .ok_or_else(|| UnitError::NotDuration { text: owned() })?;
    let nanos = decimal
        .scaled(scale)
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| UnitError::TooLarge {
            text: owned(),
            what: "a duration",
        })?;
    Ok(Duration::from_nanos(nanos))
}

/// The scale of a bitrate unit in bit/s: an optional `k`/`M`/`G` prefix,
/// then `bit`, `bits`, `bit/s`, `bits/s`, `bps`, `b/s` (bits) or `Bps`,
/// `B/s` (bytes).
fn bitrate_scale(unit: &str) -> Option<u128> {
    let (prefix, rest) = match unit.chars().next()? {
        'k' | 'K' => (1_000, &unit[1..]),
        'm' | 'M' => (1_000_000, &unit[1..]),
        'g' | 'G' => (1_000_000_000, &unit[1..]),
        _ => (1, unit),
    };
    let lower = rest.to_ascii_lowercase();
    let per = if matches!(lower.as_str(), "bit" | "bits" | "bit/s" | "bits/s") {
        1
    } else if matches!(lower.get(1..), Some("ps" | "/s")) {
        match rest.as_bytes().first() {
            Some(b'b') => 1,
            Some(b'B') => 8,
            _ => return None,
        }
    } else {
        return None;
    };
    Some(prefix * per)
}

/// Parses a bitrate in bit/s, zero allowed (bounds may say `>= 0bit`).
fn bitrate_or_zero(text: &str) -> Result<u64, UnitError> {
    let owned = || text.to_owned();
    let (number, unit) = split_unit(text);
    let decimal = number_or(number, text, "a bitrate", "5mbit", || {
        UnitError::NotBitrate { text: owned() }
    })?;
    if unit.is_empty() {
        return Err(UnitError::NoUnit {
            text: text.trim().to_owned(),
            first: "mbit",
            second: "kbit",
        });
    }
    let scale = bitrate_scale(unit).ok_or_else(|| UnitError::NotBitrate { text: owned() })?;
    decimal
        .scaled(scale)
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| UnitError::TooLarge {
            text: owned(),
            what: "a bitrate",
        })
}

/// Parses a bitrate such as `"5mbit"`, `"5 Mbit/s"`, `"2MB/s"`, in bit/s;
/// zero is an error.
pub fn parse_bitrate(text: &str) -> Result<u64, UnitError> {
    match bitrate_or_zero(text)? {
        0 => Err(UnitError::ZeroBitrate {
            text: text.to_owned(),
        }),
        bits => Ok(bits),
    }
}

const SIZE_UNITS: [(&str, u128); 10] = [
    ("", 1),
    ("b", 1),
    ("byte", 1),
    ("bytes", 1),
    ("kb", 1_000),
    ("kib", 1 << 10),
    ("mb", 1_000_000),
    ("mib", 1 << 20),
    ("gb", 1_000_000_000),
    ("gib", 1 << 30),
];

/// Parses a size such as `"64KiB"`, `"1MB"`, `"1316B"` or `"1316"`, in bytes.
pub fn parse_size(text: &str) -> Result<u64, UnitError> {
    let owned = || text.to_owned();
    let (number, unit) = split_unit(text);
    let decimal = number_or(number, text, "a size", "64KiB", || UnitError::NotSize {
        text: owned(),
    })?;
    let unit = unit.to_ascii_lowercase();
    let scale = SIZE_UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|&(_, scale)| scale)
        .ok_or_else(|| UnitError::NotSize { text: owned() })?;
    let denominator = 10u128.pow(decimal.frac_len);
    if !(decimal.frac * scale).is_multiple_of(denominator) {
        return Err(UnitError::FractionalSize { text: owned() });
    }
    decimal
        .scaled(scale)
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| UnitError::TooLarge {
            text: owned(),
            what: "a size",
        })
}

/// Splits a ratio into its number text and whether it is a percentage,
/// checking the range: 0–100 with `%`, 0–1 without.
fn ratio_parts(text: &str) -> Result<(&str, bool), UnitError> {
    let owned = || text.to_owned();
    let trimmed = text.trim();
    let (number, percent) = match trimmed.strip_suffix('%') {
        Some(number) => (number.trim_end(), true),
        None => (trimmed, false),
    };
    match Decimal::parse(number) {
        Ok(_) => {}
        Err(NumberError::Malformed) => return Err(UnitError::NotRatio { text: owned() }),
        Err(_) => return Err(UnitError::RatioOutOfRange { text: owned() }),
    }
    let value: f64 = number
        .parse()
        .map_err(|_| UnitError::NotRatio { text: owned() })?;
    if value > 100.0 {
        return Err(UnitError::RatioOutOfRange { text: owned() });
    }
    if !percent && value > 1.0 {
        return Err(UnitError::FractionAboveOne {
            text: trimmed.to_owned(),
        });
    }
    Ok((number, percent))
}

/// Parses `"1%"`, `"0.5 %"` or a fraction `"0.01"` into a fraction in `0..=1`.
pub fn parse_ratio(text: &str) -> Result<f64, UnitError> {
    let (number, percent) = ratio_parts(text)?;
    let exact = if percent {
        format!("{number}e-2")
    } else {
        number.to_owned()
    };
    exact.parse().map_err(|_| UnitError::NotRatio {
        text: text.to_owned(),
    })
}

/// Parses a ratio like [`parse_ratio`] but returns percent (`"1%"` is 1.0),
/// rounded once from the decimal as written.
pub(crate) fn parse_percent(text: &str) -> Result<f64, UnitError> {
    let (number, percent) = ratio_parts(text)?;
    let exact = if percent {
        number.to_owned()
    } else {
        format!("{number}e2")
    };
    exact.parse().map_err(|_| UnitError::NotRatio {
        text: text.to_owned(),
    })
}

/// Parses a TOML float as a fraction (`0.01`, `1e-2`) into percent.
pub(crate) fn percent_of_float(text: &str) -> Result<f64, UnitError> {
    if Decimal::parse(text).is_ok() {
        return parse_percent(text);
    }
    let owned = || text.to_owned();
    match text.parse::<f64>() {
        Ok(v) if !v.is_finite() => Err(UnitError::NotRatio { text: owned() }),
        Ok(v) if !(0.0..=100.0).contains(&v) => Err(UnitError::RatioOutOfRange { text: owned() }),
        Ok(v) if v > 1.0 => Err(UnitError::FractionAboveOne { text: owned() }),
        Ok(v) => Ok(v * 100.0),
        Err(_) => Err(UnitError::NotRatio { text: owned() }),
    }
}
