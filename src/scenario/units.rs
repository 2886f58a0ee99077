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

use std::time::Duration;

use super::Comparison;
use crate::metrics::Unit;

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

/// A non-negative decimal number, exact: `int + frac / 10^frac_len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Decimal {
    int: u128,
    frac: u128,
    frac_len: u32,
}

/// Fraction digits beyond this are dropped (far below any base unit).
const MAX_FRAC_DIGITS: u32 = 20;

enum NumberError {
    Malformed,
    Negative,
    TooLarge,
}

impl Decimal {
    /// Parses `12`, `1.5`, `.5`; at least one digit, no sign, no exponent.
    fn parse(text: &str) -> Result<Decimal, NumberError> {
        if text.starts_with('-') && text.len() > 1 && Decimal::parse(&text[1..]).is_ok() {
            return Err(NumberError::Negative);
        }
        let (int_text, frac_text) = text.split_once('.').unwrap_or((text, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_text.len() + frac_text.len() == 0 || !all_digits(int_text) || !all_digits(frac_text)
        {
            return Err(NumberError::Malformed);
        }
        let mut int: u128 = 0;
        for b in int_text.bytes() {
            int = int
                .checked_mul(10)
                .and_then(|v| v.checked_add(u128::from(b - b'0')))
                .ok_or(NumberError::TooLarge)?;
        }
        let (mut frac, mut frac_len) = (0u128, 0u32);
        for b in frac_text.bytes().take(MAX_FRAC_DIGITS as usize) {
            frac = frac * 10 + u128::from(b - b'0');
            frac_len += 1;
        }
        Ok(Decimal {
            int,
            frac,
            frac_len,
        })
    }

    /// `self × scale`, rounded half up to an integer; `None` on overflow.
    fn scaled(self, scale: u128) -> Option<u128> {
        let whole = self.int.checked_mul(scale)?;
        let denominator = 10u128.pow(self.frac_len);
        let part = (self.frac * scale + denominator / 2) / denominator;
        whole.checked_add(part)
    }
}

/// Splits `"40 ms"` into `("40", "ms")`.
fn split_unit(text: &str) -> (&str, &str) {
    let text = text.trim();
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(end);
    (number, unit.trim_start())
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

/// Parses a number, mapping sign and overflow errors to their messages
/// and anything malformed to `malformed()`.
fn number_or(
    number: &str,
    text: &str,
    what: &'static str,
    example: &'static str,
    malformed: impl FnOnce() -> UnitError,
) -> Result<Decimal, UnitError> {
    Decimal::parse(number).map_err(|e| match e {
        NumberError::Malformed => malformed(),
        NumberError::Negative => UnitError::Negative {
            text: text.to_owned(),
            what,
            example,
        },
        NumberError::TooLarge => UnitError::TooLarge {
            text: text.to_owned(),
            what,
        },
    })
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

/// Parses a plain non-negative number (a count bound may be fractional).
fn parse_count(text: &str) -> Result<f64, UnitError> {
    let number = text.trim();
    Decimal::parse(number).map_err(|e| match e {
        NumberError::Negative => UnitError::Negative {
            text: text.to_owned(),
            what: "a count",
            example: "3",
        },
        _ => UnitError::NotCount {
            text: text.to_owned(),
        },
    })?;
    number.parse().map_err(|_| UnitError::NotCount {
        text: text.to_owned(),
    })
}

/// What a unit is called in messages, and a value written in it.
pub(crate) fn unit_words(unit: Unit) -> (&'static str, &'static str) {
    match unit {
        Unit::BitsPerSecond => ("a bitrate", "5mbit"),
        Unit::Seconds => ("a duration", "40ms"),
        Unit::Bytes => ("a size", "64KiB"),
        Unit::Ratio => ("a percentage", "1%"),
        Unit::Count => ("a count", "3"),
    }
}

/// Parses `value` as a quantity of `unit`, in its base unit.
fn value_in(value: &str, unit: Unit) -> Result<f64, UnitError> {
    Ok(match unit {
        Unit::BitsPerSecond => bitrate_or_zero(value)? as f64,
        Unit::Seconds => parse_duration(value)?.as_secs_f64(),
        Unit::Bytes => parse_size(value)? as f64,
        Unit::Ratio => parse_ratio(value)?,
        Unit::Count => parse_count(value)?,
    })
}

/// The unit `value` is written in, when it parses as one.
fn unit_of(value: &str) -> Option<Unit> {
    let has_unit = !split_unit(value).1.is_empty();
    if parse_duration(value).is_ok() {
        Some(Unit::Seconds)
    } else if bitrate_or_zero(value).is_ok() {
        Some(Unit::BitsPerSecond)
    } else if value.trim_end().ends_with('%') && parse_ratio(value).is_ok() {
        Some(Unit::Ratio)
    } else if has_unit && parse_size(value).is_ok() {
        Some(Unit::Bytes)
    } else {
        None
    }
}

/// Parses an `[expect]` bound such as `">= 1.2mbit"` for a metric in
/// `unit`: the comparison, then the value in the unit's base (bit/s, s, B,
/// fraction, count).
pub fn parse_bound(text: &str, unit: Unit) -> Result<(Comparison, f64), UnitError> {
    let trimmed = text.trim();
    let op_len = trimmed
        .find(|c: char| !matches!(c, '<' | '>' | '=' | '!'))
        .unwrap_or(trimmed.len());
    let (op, value) = trimmed.split_at(op_len);
    let comparison = match op {
        ">=" => Comparison::AtLeast,
        ">" => Comparison::Above,
        "<=" => Comparison::AtMost,
        "<" => Comparison::Below,
        "==" => Comparison::Equal,
        "" => {
            return Err(UnitError::NoComparison {
                text: trimmed.to_owned(),
            })
        }
        _ => {
            return Err(UnitError::BadComparison {
                text: trimmed.to_owned(),
                op: op.to_owned(),
            })
        }
    };
    let value = value.trim();
    let (expected, example) = unit_words(unit);
    if value.is_empty() {
        return Err(UnitError::NoBoundValue {
            text: trimmed.to_owned(),
            op: op.to_owned(),
            example,
        });
    }
    match value_in(value, unit) {
        Ok(v) => Ok((comparison, v)),
        Err(e) => match unit_of(value) {
            Some(found) if found != unit => Err(UnitError::UnitMismatch {
                text: value.to_owned(),
                found: unit_words(found).0,
                expected,
                example,
            }),
            _ => Err(e),
        },
    }
}

/// Prints a duration exactly with the largest unit that fits it whole
/// (`30s`, `2min`, `1500ms`), for messages.
pub(crate) fn fmt_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    const UNITS: [(u128, &str); 6] = [
        (3_600_000_000_000, "h"),
        (60_000_000_000, "min"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    if ns == 0 {
        return "0s".to_owned();
    }
    for (scale, name) in UNITS {
        if ns.is_multiple_of(scale) {
            return format!("{}{name}", ns / scale);
        }
    }
    format!("{ns}ns")
}
