//! A reader over the parsed TOML tree: tables hand out values with their
//! spans, conversions turn them into typed values, and every problem is
//! recorded in a [`Ctx`] instead of stopping the walk.
//!
//! Invariants: a [`Table`] remembers every key it was asked for, so
//! [`Table::finish`] can report each key nobody read as unknown, with the
//! closest known key as a suggestion; a conversion that fails records one
//! diagnostic and returns `None`, so callers only skip what depends on it.

use std::path::Path;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::diag::{Diagnostic, Span};
use super::units::{self, UnitError};
use crate::net::link::edit_distance;

/// Where diagnostics go while a scenario is read.
pub(crate) struct Ctx<'s> {
    /// The file label used in messages.
    pub file: &'s str,
    /// The scenario text.
    pub text: &'s str,
    /// The directory relative paths resolve against.
    pub base_dir: &'s Path,
    diags: Vec<Diagnostic>,
}

impl<'s> Ctx<'s> {
    /// A context with no diagnostics yet.
    pub fn new(file: &'s str, text: &'s str, base_dir: &'s Path) -> Ctx<'s> {
        Ctx {
            file,
            text,
            base_dir,
            diags: Vec::new(),
        }
    }

    /// Records an error at `span`.
    pub fn error(&mut self, span: Span, message: impl Into<String>) {
        let d = Diagnostic::at(self.file, self.text, span, message);
        self.diags.push(d);
    }

    /// The 1-based line of `span`.
    pub fn line(&self, span: Span) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// `file:line:column` of `span`.
    pub fn location(&self, span: Span) -> String {
        Diagnostic::at(self.file, self.text, span, "").location()
    }

    /// The diagnostics recorded so far.
    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diags
    }
}

/// A value as found in a table, with where its key and value are written.
#[derive(Clone, Copy)]
pub(crate) struct Item<'t, 'i> {
    /// The key (the last component for dotted keys).
    pub key: &'t str,
    /// Where the key is written.
    pub key_span: Span,
    /// The value.
    pub value: &'t DeValue<'i>,
    /// Where the value is written.
    pub span: Span,
}

impl<'t, 'i> Item<'t, 'i> {
    /// An array element or other keyless value.
    pub fn element(key: &'t str, value: &'t Spanned<DeValue<'i>>) -> Item<'t, 'i> {
        let span = Span::from(value.span());
        Item {
            key,
            key_span: span,
            value: value.get_ref(),
            span,
        }
    }
}

/// A typed value with the span it was read from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct At<T> {
    /// The value.
    pub value: T,
    /// Where it is written.
    pub span: Span,
}

/// One TOML table being read.
pub(crate) struct Table<'t, 'i> {
    entries: Vec<(Span, &'t str, &'t Spanned<DeValue<'i>>)>,
    used: Vec<bool>,
    /// The table's header, or its inline text; missing keys point here.
    pub span: Span,
    place: String,
    known: Vec<&'static str>,
    notes: Vec<(&'static str, String)>,
}

impl<'t, 'i> Table<'t, 'i> {
    /// A reader for `table`, written at `span`; `place` ends messages
    /// (`in [network]`, `at the top level`).
    pub fn new(table: &'t DeTable<'i>, span: Span, place: impl Into<String>) -> Table<'t, 'i> {
        let mut entries: Vec<_> = table
            .iter()
            .map(|(k, v)| (Span::from(k.span()), k.get_ref().as_ref(), v))
            .collect();
        entries.sort_by_key(|e| e.0);
        Table {
            used: vec![false; entries.len()],
            entries,
            span,
            place: place.into(),
            known: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Reads `item` as a table, or records a type error.
    pub fn of(cx: &mut Ctx, item: Item<'t, 'i>, place: impl Into<String>) -> Option<Self> {
        match item.value {
            DeValue::Table(t) => Some(Table::new(t, item.span, place)),
            _ => expected(cx, item, "a table"),
        }
    }

    /// The phrase naming this table in messages.
    pub fn place(&self) -> &str {
        &self.place
    }

    /// True when `key` is written in the table (does not count as a read).
    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|e| e.1 == key)
    }

    /// Every entry not read yet, in file order (counts as read).
    pub fn rest(&mut self) -> Vec<Item<'t, 'i>> {
        let mut out = Vec::new();
        for (i, &(key_span, key, value)) in self.entries.iter().enumerate() {
            if !self.used[i] {
                self.used[i] = true;
                out.push(item(key_span, key, value));
            }
        }
        out
    }

    /// The value of `key`, if written; `key` becomes a known key.
    pub fn get(&mut self, key: &'static str) -> Option<Item<'t, 'i>> {
        if !self.known.contains(&key) {
            self.known.push(key);
        }
        let i = self.entries.iter().position(|e| e.1 == key)?;
        self.used[i] = true;
        let (key_span, key, value) = self.entries[i];
        Some(item(key_span, key, value))
    }

    /// The value of `key`, or an error pointing at the table's header.
    pub fn required(&mut self, cx: &mut Ctx, key: &'static str) -> Option<Item<'t, 'i>> {
        let found = self.get(key);
        if found.is_none() {
            cx.error(
                self.span,
                format!("missing required key `{key}` {}", self.place),
            );
        }
        found
    }

    /// Reads `key` with `convert`, keeping the value's span.
    pub fn read<T>(
        &mut self,
        cx: &mut Ctx,
        key: &'static str,
        convert: impl FnOnce(&mut Ctx, Item<'t, 'i>) -> Option<T>,
    ) -> Option<At<T>> {
        let item = self.get(key)?;
        convert(cx, item).map(|value| At {
            value,
            span: item.span,
        })
    }

    /// Gives `message` instead of "unknown key" when `key` is written here.
    pub fn note(&mut self, key: &'static str, message: impl Into<String>) {
        self.notes.push((key, message.into()));
    }

    /// Reports every key nobody read.
    pub fn finish(self, cx: &mut Ctx) {
        for (i, &(span, key, _)) in self.entries.iter().enumerate() {
            if self.used[i] {
                continue;
            }
            if let Some((_, note)) = self.notes.iter().find(|n| n.0 == key) {
                cx.error(span, note.clone());
                continue;
            }
            let hint = match suggest(key, &self.known) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("expected one of: {}", self.known.join(", ")),
            };
            cx.error(span, format!("unknown key `{key}` {}; {hint}", self.place));
        }
    }
}

fn item<'t, 'i>(key_span: Span, key: &'t str, value: &'t Spanned<DeValue<'i>>) -> Item<'t, 'i> {
    Item {
        key,
        key_span,
        value: value.get_ref(),
        span: Span::from(value.span()),
    }
}

/// The candidate closest to `word`, when it is a plausible typo.
pub(crate) fn suggest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .iter()
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), *c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// What a value is, for "found ..." in messages.
pub(crate) fn found(value: &DeValue) -> String {
    match value {
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
        DeValue::Float(f) => f.to_string(),
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

/// A ratio (`"1%"`, `0.01`), as a percentage in `0.0..=100.0`.
pub(crate) fn percent(cx: &mut Ctx, item: Item) -> Option<f64> {
    match item.value {
        DeValue::String(s) => unit(cx, item.span, units::parse_percent(s)),
        DeValue::Integer(i) => unit(cx, item.span, units::percent_of_float(&i.to_string())),
        DeValue::Float(f) => unit(cx, item.span, units::percent_of_float(f.as_str())),
        _ => expected(cx, item, "a percentage like \"1%\""),
    }
}

/// A name of letters, digits, `-`, `_` (and `.` when `dot` is true).
pub(crate) fn name<'t>(cx: &mut Ctx, item: Item<'t, '_>, dot: bool) -> Option<&'t str> {
    let text = string(cx, item)?;
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || (dot && c == '.');
    if !text.is_empty() && text.chars().all(ok) {
        return Some(text);
    }
    let allowed = if dot {
        "letters, digits, `-`, `_` and `.`"
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
