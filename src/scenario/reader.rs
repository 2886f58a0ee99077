//! A reader over the parsed TOML tree: tables hand out values with their
//! spans, conversions turn them into typed values, and every problem is
//! recorded in a [`Ctx`] instead of stopping the walk.
//!
//! Invariants: a [`Table`] remembers every key it was asked for, so
//! [`Table::finish`] can report each key nobody read as unknown, with the
//! closest known key as a suggestion; a conversion that fails records one
//! diagnostic and returns `None`, so callers only skip what depends on it.

mod convert;

use std::path::Path;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::diag::{Diagnostic, Span};
use crate::net::link::edit_distance;

pub(crate) use convert::*;

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
