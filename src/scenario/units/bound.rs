//! `[expect]` bounds (`">= 1.2mbit"`) and the words messages use for units.
//!
//! Invariants: a bound's value is returned in its metric's base unit; a
//! value written in another unit is reported as a mismatch naming both.

use std::time::Duration;

use super::number::{split_unit, Decimal, NumberError};
use super::{bitrate_or_zero, parse_duration, parse_ratio, parse_size, UnitError};
use crate::metrics::Unit;
use crate::scenario::Comparison;

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

/// A level in decibels: a finite number, `dB` optional.
fn parse_decibels(text: &str) -> Result<f64, UnitError> {
    let t = text.trim();
    let number = t.strip_suffix("dB").unwrap_or(t).trim();
    number
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| UnitError::NotDecibels {
            text: text.to_owned(),
        })
}

/// What a unit is called in messages, and a value written in it.
fn unit_words(unit: Unit) -> (&'static str, &'static str) {
    match unit {
        Unit::BitsPerSecond => ("a bitrate", "5mbit"),
        Unit::Seconds => ("a duration", "40ms"),
        Unit::Bytes => ("a size", "64KiB"),
        Unit::Ratio => ("a percentage", "1%"),
        Unit::Count => ("a count", "3"),
        Unit::Decibels => ("a level in dB", "40dB"),
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
        Unit::Decibels => parse_decibels(value)?,
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
