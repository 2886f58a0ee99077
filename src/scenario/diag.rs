//! Diagnostics: an error at a place in a scenario file, shown the way a
//! compiler shows one.
//!
//! ```text
//! link.toml:7:1: unknown key `dealy` in [network]; did you mean `delay`?
//!    7 | dealy = "25ms"
//!      | ^^^^^
//! ```
//!
//! Invariants: lines and columns are 1-based and count characters, not
//! bytes; a diagnostic without a place (an unreadable file) has line 0 and
//! shows no snippet; the caret line repeats the source line's tabs so the
//! carets stay under the span in any terminal. Output is bounded whatever
//! the input: a word of a message longer than [`MAX_WORD`] characters and
//! a source line longer than [`MAX_SNIPPET`] are cut (marked `…`), so a
//! 10 MB value gives a few lines of error, not megabytes.

use std::fmt;

/// The longest word (a run of non-space characters) a message shows.
pub(crate) const MAX_WORD: usize = 64;

/// The longest message shown, in characters.
const MAX_MESSAGE: usize = 1000;

/// The most characters of a source line a snippet shows.
pub(crate) const MAX_SNIPPET: usize = 120;

/// Byte range of something in the scenario text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl From<std::ops::Range<usize>> for Span {
    fn from(range: std::ops::Range<usize>) -> Span {
        Span {
            start: range.start,
            end: range.end.max(range.start),
        }
    }
}

/// One error in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file label given to the parser.
    pub file: String,
    /// 1-based line of the offending key or value; 0 when there is no place.
    pub line: usize,
    /// 1-based column, in characters; 0 when there is no place.
    pub column: usize,
    /// What is wrong and, where it helps, how to fix it.
    pub message: String,
    /// The text of `line`, without its line break; a long line is cut
    /// to at most 120 characters around the column, `…` marking each cut.
    pub source_line: String,
    /// How many characters the caret underlines (at least 1 with a place).
    pub width: usize,
    /// The 1-based character of `source_line` the caret starts under.
    caret_column: usize,
}

impl Diagnostic {
    /// A diagnostic at `span` of `text`.
    pub(crate) fn at(file: &str, text: &str, span: Span, message: impl Into<String>) -> Diagnostic {
        let start = floor_boundary(text, span.start);
        let end = floor_boundary(text, span.end).max(start);
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let source_line = text[line_start..line_end].trim_end_matches('\r');
        let column = text[line_start..start].chars().count() + 1;
        let underlined = text[start..end.min(line_end)]
            .trim_end_matches('\r')
            .chars()
            .count();
        let (source_line, caret_column, width) = snippet(source_line, column, underlined.max(1));
        Diagnostic {
            file: file.to_owned(),
            line: text[..start].matches('\n').count() + 1,
            column,
            message: shorten_message(&message.into()),
            source_line,
            width,
            caret_column,
        }
    }

    /// A diagnostic about the whole file (no line, no snippet).
    pub(crate) fn whole_file(file: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_owned(),
            line: 0,
            column: 0,
            message: shorten_message(&message.into()),
            source_line: String::new(),
            width: 0,
            caret_column: 0,
        }
    }

    /// `file:line:column`, or just `file` without a place.
    pub fn location(&self) -> String {
        if self.line == 0 {
            self.file.clone()
        } else {
            format!("{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

/// `line` cut to at most [`MAX_SNIPPET`] characters around `column`, the
/// caret's column in what is kept, and the caret's width (cut at the end
/// of what is kept).
fn snippet(line: &str, column: usize, width: usize) -> (String, usize, usize) {
    let count = line.chars().count();
    if count <= MAX_SNIPPET {
        return (line.to_owned(), column, width);
    }
    // Keep a little context before the caret, the rest after it.
    let first = column
        .saturating_sub(1)
        .saturating_sub(20)
        .min(count - MAX_SNIPPET);
    let kept: String = line.chars().skip(first).take(MAX_SNIPPET).collect();
    let head = if first > 0 { "…" } else { "" };
    let tail = if first + MAX_SNIPPET < count {
        "…"
    } else {
        ""
    };
    let caret = column - first + head.chars().count();
    let width = width.min(MAX_SNIPPET + 1 - (column - first)).max(1);
    (format!("{head}{kept}{tail}"), caret, width)
}

/// `message` with every word longer than [`MAX_WORD`] characters cut
/// (keeping a closing quote), and at most [`MAX_MESSAGE`] characters.
pub(crate) fn shorten_message(message: &str) -> String {
    if message.chars().count() <= MAX_WORD && !message.contains('\n') {
        return message.to_owned();
    }
    let mut out = String::with_capacity(message.len().min(4 * MAX_MESSAGE));
    for (i, word) in message.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.chars().count() <= MAX_WORD {
            out.push_str(word);
        } else {
            out.extend(word.chars().take(MAX_WORD - 4));
            out.push('…');
            // Keep the quote or bracket that closes a quoted value.
            let closing: String = word
                .chars()
                .rev()
                .take_while(|c| matches!(c, '"' | '`' | ')' | ';' | ',' | ':'))
                .collect();
            out.extend(closing.chars().rev());
        }
        if out.chars().count() > MAX_MESSAGE {
            let cut: String = out.chars().take(MAX_MESSAGE).collect();
            return format!("{cut}…");
        }
    }
    out
}

/// The largest char boundary of `text` at or below `index`.
fn floor_boundary(text: &str, index: usize) -> usize {
    let mut i = index.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)?;
        if self.line == 0 {
            return Ok(());
        }
        let number = self.line.to_string();
        let gutter = number.len().max(4);
        write!(f, "\n{number:>gutter$} |")?;
        if !self.source_line.is_empty() {
            write!(f, " {}", self.source_line)?;
        }
        // Repeat tabs so the carets line up under tab-indented text.
        let pad: String = self
            .source_line
            .chars()
            .take(self.caret_column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let missing = self.caret_column.saturating_sub(1 + pad.chars().count());
        write!(
            f,
            "\n{:gutter$} | {pad}{}{}",
            "",
            " ".repeat(missing),
            "^".repeat(self.width.max(1))
        )
    }
}

impl std::error::Error for Diagnostic {}

/// Every error found in a scenario file, in position order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Sorts by position (ties keep the order found) and drops repeats of
    /// the same message at the same place.
    pub(crate) fn sorted(mut list: Vec<Diagnostic>) -> Diagnostics {
        list.sort_by_key(|d| (d.line, d.column));
        let mut out: Vec<Diagnostic> = Vec::with_capacity(list.len());
        for d in list {
            let repeat = out
                .iter()
                .any(|o| o.line == d.line && o.column == d.column && o.message == d.message);
            if !repeat {
                out.push(d);
            }
        }
        Diagnostics(out)
    }

    /// The number of errors.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Diagnostics {
    /// Each diagnostic followed by a blank line, then `N error(s) in FILE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            write!(f, "{d}\n\n")?;
        }
        let count = self.0.len();
        let noun = if count == 1 { "error" } else { "errors" };
        match self.0.first() {
            Some(first) => write!(f, "{count} {noun} in {}", first.file),
            None => write!(f, "no errors"),
        }
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_caret_under_the_span() {
        let text = "name = \"x\"\n\tdealy = \"25ms\"\n";
        let d = Diagnostic::at("a.toml", text, Span::from(12..17), "unknown key");
        assert_eq!((d.line, d.column, d.width), (2, 2, 5));
        assert_eq!(
            d.to_string(),
            "a.toml:2:2: unknown key\n   2 | \tdealy = \"25ms\"\n     | \t^^^^^"
        );
    }

    #[test]
    fn spans_past_the_end_and_inside_chars_are_clamped() {
        let text = "a = \"µ\"";
        let d = Diagnostic::at("f", text, Span::from(6..99), "m");
        assert_eq!((d.line, d.column, d.width), (1, 6, 2));
        let d = Diagnostic::at("f", "", Span::from(3..3), "m");
        assert_eq!(d.to_string(), "f:1:1: m\n   1 |\n     | ^");
    }

    #[test]
    fn long_lines_and_values_are_cut() {
        let value = "x".repeat(10_000);
        let text = format!("name = \"a\"\nloss = \"{value}\"\n");
        let message = format!("\"{value}\" is not a percentage; write \"1%\"");
        let d = Diagnostic::at("f", &text, Span::from(18..text.len() - 1), message);
        assert_eq!((d.line, d.column), (2, 8));
        let shown = d.to_string();
        let cut = "x".repeat(MAX_WORD - 5);
        let kept = "x".repeat(MAX_SNIPPET - 8);
        assert_eq!(
            shown,
            format!(
                "f:2:8: \"{cut}…\" is not a percentage; write \"1%\"\n   2 | loss = \"{kept}…\n     |        {}",
                "^".repeat(MAX_SNIPPET - 7)
            )
        );
        // Far into a line, the snippet starts shortly before the caret.
        let text = format!("a = [{}1x{}]", "1, ".repeat(100), ", 2".repeat(100));
        let d = Diagnostic::at("f", &text, Span::from(305..306), "m");
        assert_eq!(d.column, 306);
        assert_eq!(d.source_line.chars().count(), MAX_SNIPPET + 2);
        assert!(d.source_line.starts_with("…, 1, 1,") && d.source_line.ends_with('…'));
        assert!(d.to_string().ends_with(&format!("| {}^", " ".repeat(21))));
    }

    #[test]
    fn lists_end_with_a_count() {
        let one = Diagnostic::whole_file("x.toml", "cannot be read");
        assert_eq!(
            Diagnostics(vec![one]).to_string(),
            "x.toml: cannot be read\n\n1 error in x.toml"
        );
    }
}
