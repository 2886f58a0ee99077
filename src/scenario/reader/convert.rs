//! Typed values out of TOML values: strings, numbers, units, names and
//! choices. Each conversion records one diagnostic on failure ("expected
//! WHAT, found ...", or the unit parser's sentence) and returns `None`.

use toml::de::DeValue;

use super::{suggest, Ctx, Item, Table};
use crate::scenario::diag::Span;
use crate::scenario::units::{self, UnitError};

/// What a value is, for "found ..." in messages.
pub(crate) fn found(value: &DeValue) -> String {
    match value {
        DeValue::String(s) if s.chars().count() > 40 => {
            let head: String = s.chars().take(40).collect();
            format!("string {:?}…", head)
        }
        DeValue::String(s) => format!("string {:?}", s.as_ref()),
        DeValue::Integer(i) => format!("integer {i}"),
        DeValue::Float(f) => format!("float {f}"),
        DeValue::Boolean(b) => format!("boolean {b}"),
        DeValue::Datetime(d) => format!("date-time {d}"),
        DeValue::Array(_) => "an array".to_owned(),
        DeValue::Table(_) => "a table".to_owned(),
    }
}

/// Records "expected WHAT, found ..." and returns `None`.
pub(crate) fn expected<T>(cx: &mut Ctx, item: Item, what: &str) -> Option<T> {
    cx.error(
        item.span,
        format!("expected {what}, found {}", found(item.value)),
    );
    None
}

/// Records a unit error and returns `None`, or passes the value on.
pub(crate) fn unit<T>(cx: &mut Ctx, span: Span, result: Result<T, UnitError>) -> Option<T> {
    result.map_err(|e| cx.error(span, e.to_string())).ok()
}

/// A string.
pub(crate) fn string<'t>(cx: &mut Ctx, item: Item<'t, '_>) -> Option<&'t str> {
    match item.value {
        DeValue::String(s) => Some(s.as_ref()),
        _ => expected(cx, item, "a string"),
    }
}

/// A boolean.
pub(crate) fn boolean(cx: &mut Ctx, item: Item) -> Option<bool> {
    match item.value {
        DeValue::Boolean(b) => Some(*b),
        _ => expected(cx, item, "true or false"),
    }
}

/// An integer within `min..=max`.
pub(crate) fn integer(cx: &mut Ctx, item: Item, min: i128, max: i128) -> Option<i128> {
    let DeValue::Integer(i) = item.value else {
        return expected(cx, item, "an integer");
    };
    match i128::from_str_radix(i.as_str(), i.radix()) {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            cx.error(
                item.span,
                format!("`{}` must be between {min} and {max}, found {i}", item.key),
            );
            None
        }
    }
}

/// Records "expected WHAT, found NUMBER; add a unit ..." for a bare number.
fn bare_number<T>(cx: &mut Ctx, item: Item, what: &str, units: [&str; 2]) -> Option<T> {
    let number = match item.value {
        DeValue::Integer(i) => i.to_string(),
        DeValue::Float(f) if f.as_str().parse::<f64>().is_ok_and(f64::is_finite) => f.to_string(),
        _ => return expected(cx, item, what),
    };
    let [a, b] = units;
    cx.error(
        item.span,
        format!(
            "expected {what}, found {}; add a unit: \"{number}{a}\" or \"{number}{b}\"",
            found(item.value)
        ),
    );
    None
}

/// A duration string (`"40ms"`).
pub(crate) fn duration(cx: &mut Ctx, item: Item) -> Option<std::time::Duration> {
    match item.value {
        DeValue::String(s) => unit(cx, item.span, units::parse_duration(s)),
        _ => bare_number(cx, item, "a duration string like \"40ms\"", ["ms", "s"]),
    }
}

/// A bitrate string (`"5mbit"`), in bit/s, above zero.
pub(crate) fn bitrate(cx: &mut Ctx, item: Item) -> Option<u64> {
    match item.value {
        DeValue::String(s) => unit(cx, item.span, units::parse_bitrate(s)),
        _ => bare_number(
            cx,
            item,
            "a bitrate string like \"5mbit\"",
            ["kbit", "mbit"],
        ),
    }
}

/// A size: a string with a unit (`"64KiB"`) or an integer of bytes.
pub(crate) fn size(cx: &mut Ctx, item: Item) -> Option<u64> {
    match item.value {
        DeValue::String(s) => unit(cx, item.span, units::parse_size(s)),
        DeValue::Integer(_) => integer(cx, item, 0, i128::from(i64::MAX)).map(|n| n as u64),
        _ => expected(cx, item, "a size like \"64KiB\" or a number of bytes"),
    }
}

/// A ratio (`"1%"`, `0.01`), as a percentage in `0.0..=100.0`. A bare
/// `1` is refused: people write it meaning 1 %, and as a fraction it
/// means always.
pub(crate) fn percent(cx: &mut Ctx, item: Item) -> Option<f64> {
    let bare_one = match item.value {
        DeValue::Integer(i) => i.as_str() == "1",
        DeValue::Float(f) => f.as_str().parse::<f64>() == Ok(1.0),
        DeValue::String(s) => s.trim().parse::<f64>() == Ok(1.0),
        _ => false,
    };
    if bare_one {
        cx.error(
            item.span,
            format!(
                "`{}` = 1 is ambiguous: write \"100%\" for every packet or \"1%\" for one in a hundred",
                item.key
            ),
        );
        return None;
    }
    match item.value {
        DeValue::String(s) => unit(cx, item.span, units::parse_percent(s)),
        DeValue::Integer(i) => unit(cx, item.span, units::percent_of_float(&i.to_string())),
        DeValue::Float(f) => unit(cx, item.span, units::percent_of_float(f.as_str())),
        _ => expected(cx, item, "a percentage like \"1%\""),
    }
}

/// The longest name (scenario, host, link, session), in characters: names
/// become directory and file names (`reports/<name>/`, `capture-<host>.pcap`),
/// and most file systems allow 255 bytes per name.
pub const MAX_NAME: usize = 100;

/// A name of letters, digits, `-`, `_` (and `.` when `dot` is true), at
/// most [`MAX_NAME`] characters.
pub(crate) fn name<'t>(cx: &mut Ctx, item: Item<'t, '_>, dot: bool) -> Option<&'t str> {
    let text = string(cx, item)?;
    let length = text.chars().count();
    if length > MAX_NAME {
        cx.error(
            item.span,
            format!(
                "`{}` is {length} characters long; a name has at most {MAX_NAME} (names become file names)",
                item.key
            ),
        );
        return None;
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || (dot && c == '.');
    if !text.is_empty() && !text.starts_with('.') && text.chars().all(ok) {
        return Some(text);
    }
    let allowed = if dot {
        "letters, digits, `-`, `_` and `.` (not first)"
    } else {
        "letters, digits, `-` and `_`"
    };
    cx.error(
        item.span,
        format!(
            "{:?} is not a valid `{}`: use only {allowed}",
            text, item.key
        ),
    );
    None
}

/// One of `choices` (a string); `what` names the setting in messages.
pub(crate) fn choice(
    cx: &mut Ctx,
    item: Item,
    what: &str,
    choices: &[&'static str],
) -> Option<&'static str> {
    let text = string(cx, item)?;
    if let Some(c) = choices.iter().find(|c| **c == text) {
        return Some(c);
    }
    let hint = match suggest(text, choices) {
        Some(s) => format!("did you mean \"{s}\"?"),
        None => format!("expected one of: {}", choices.join(", ")),
    };
    cx.error(item.span, format!("unknown {what} {text:?}; {hint}"));
    None
}

/// The tables of an array of tables (`[[session]]`); `header` names it.
pub(crate) fn tables<'t, 'i>(cx: &mut Ctx, item: Item<'t, 'i>, header: &str) -> Vec<Table<'t, 'i>> {
    let DeValue::Array(array) = item.value else {
        let what = format!("[[{header}]] (an array of tables)");
        let _: Option<()> = expected(cx, item, &what);
        return Vec::new();
    };
    let mut out = Vec::new();
    for element in array.iter() {
        let element = Item::element(item.key, element);
        if let Some(t) = Table::of(cx, element, format!("in [[{header}]]")) {
            out.push(t);
        }
    }
    out
}
