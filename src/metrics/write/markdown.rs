//! `summary.md`: one run's summary for a person.
//!
//! Layout: a title with the scenario's name and description, a run line,
//! one table per session (`session.<name>.*`) and per link direction
//! (`link.<id>.*`), the expectations with a one-line verdict, and the event
//! counts. Groups follow the summary's name order; rows within a group
//! follow the catalog's order, names the catalog does not know last. Text
//! from the scenario is escaped so that it cannot change the document's
//! structure.

use std::collections::BTreeMap;
use std::fmt::{self, Write};

use super::super::catalog::{self, MetricDef, LINK_METRICS};
use super::super::summary::{ExpectationOutcome, Metric, Summary, Unit};

/// How many hex digits of the scenario's SHA-256 the run line shows.
const SHA_SHORT: usize = 12;

/// The metric table of a protocol, by name (empty when unknown).
pub type SessionTables = fn(&str) -> &'static [MetricDef];

/// Renders `summary` as Markdown (CommonMark with GitHub tables);
/// `tables` gives each session's metric table from its protocol's name.
pub fn summary_markdown(summary: &Summary, tables: SessionTables) -> String {
    let mut out = String::new();
    write_summary(&mut out, summary, tables).expect("formatting into a String cannot fail");
    out
}

fn write_summary(out: &mut String, summary: &Summary, tables: SessionTables) -> fmt::Result {
    write_header(out, summary)?;
    let groups = Groups::of(summary);
    for (name, rows) in &groups.sessions {
        let info = summary.sessions.get(*name);
        let table = info.map_or(&[][..], |s| tables(&s.protocol));
        match info {
            Some(s) => writeln!(out, "## Session {} ({})\n", code(name), text(&s.protocol))?,
            None => writeln!(out, "## Session {}\n", code(name))?,
        }
        if let Some(s) = info {
            for error in &s.errors {
                writeln!(out, "**Failed:** {}\n", text_line(error))?;
            }
        }
        write_metric_table(out, rows, table)?;
    }
    for (id, rows) in &groups.links {
        writeln!(out, "## Link {}\n", code(id))?;
        write_metric_table(out, rows, LINK_METRICS)?;
    }
    if !groups.other.is_empty() {
        writeln!(out, "## Other metrics\n")?;
        write_metric_table(out, &groups.other, &[])?;
    }
    write_expectations(out, &summary.expectations)?;
    write_events(out, summary)
}

fn write_header(out: &mut String, summary: &Summary) -> fmt::Result {
    writeln!(out, "# {}\n", text(&summary.scenario.name))?;
    let description = summary.scenario.description.trim();
    if !description.is_empty() {
        for line in description.lines() {
            writeln!(out, "{}", text_line(line))?;
        }
        writeln!(out)?;
    }
    let state = if summary.complete {
        "complete".to_owned()
    } else {
        format!(
            "**INCOMPLETE (interrupted at {})**",
            Unit::Seconds.format(summary.elapsed_s)
        )
    };
    let sha: String = summary.scenario.sha256.chars().take(SHA_SHORT).collect();
    writeln!(
        out,
        "Seed {} · duration {} · elapsed {} · {} · streamsim {} · scenario sha256 {}\n",
        summary.seed,
        Unit::Seconds.format(summary.duration_s),
        Unit::Seconds.format(summary.elapsed_s),
        state,
        text(&summary.streamsim_version),
        if sha.is_empty() {
            "unknown".to_owned()
        } else {
            code(&sha)
        },
    )
}

/// One metric of a group: its full name, last component and value.
struct Row<'a> {
    name: &'a str,
    last: &'a str,
    metric: Metric,
}

/// The summary's metrics grouped by session name and link direction id,
/// groups in name order.
#[derive(Default)]
struct Groups<'a> {
    sessions: BTreeMap<&'a str, Vec<Row<'a>>>,
    links: BTreeMap<&'a str, Vec<Row<'a>>>,
    other: Vec<Row<'a>>,
}

impl<'a> Groups<'a> {
    fn of(summary: &'a Summary) -> Groups<'a> {
        let mut groups = Groups::default();
        for (name, metric) in &summary.metrics {
            let metric = *metric;
            // The id may contain dots (`wan.down`); the metric never does.
            let Some((head, last)) = name.rsplit_once('.') else {
                groups.other.push(Row {
                    name,
                    last: name,
                    metric,
                });
                continue;
            };
            let row = Row { name, last, metric };
            if let Some(session) = head.strip_prefix("session.") {
                groups.sessions.entry(session).or_default().push(row);
            } else if let Some(link) = head.strip_prefix("link.") {
                groups.links.entry(link).or_default().push(row);
            } else {
                groups.other.push(Row { last: name, ..row });
            }
        }
        groups
    }
}

fn write_metric_table(
    out: &mut String,
    rows: &[Row<'_>],
    table: &'static [MetricDef],
) -> fmt::Result {
    let position = |row: &Row<'_>| table.iter().position(|def| def.name == row.last);
    let mut sorted: Vec<&Row<'_>> = rows.iter().collect();
    // Catalog order first; names the catalog does not know keep name order.
    sorted.sort_by_key(|row| (position(row).unwrap_or(usize::MAX), row.name));
    writeln!(out, "| metric | value | meaning |")?;
    writeln!(out, "|---|---:|---|")?;
    for row in sorted {
        let meaning = catalog::find_in(table, row.last)
            .map(|def| def.meaning)
            .or_else(|| catalog::meaning(row.name))
            .unwrap_or("");
        writeln!(
            out,
            "| {} | {} | {} |",
            cell(&code(row.last)),
            cell(&row.metric.unit.format(row.metric.value)),
            text(meaning),
        )?;
    }
    writeln!(out)
}

fn write_expectations(out: &mut String, expectations: &[ExpectationOutcome]) -> fmt::Result {
    writeln!(out, "## Expectations\n")?;
    writeln!(out, "{}\n", verdict(expectations))?;
    if expectations.is_empty() {
        return Ok(());
    }
    writeln!(out, "| metric | bound | actual | result |")?;
    writeln!(out, "|---|---|---:|---|")?;
    for e in expectations {
        let actual = e
            .actual
            .map_or_else(|| "not measured".to_owned(), |v| e.unit.format(v));
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&code(&e.metric)),
            cell(&code(&e.bound)),
            cell(&actual),
            if e.pass { "PASS" } else { "**FAIL**" },
        )?;
    }
    writeln!(out)
}

/// "3 of 3 expectations hold." or "1 of 3 FAILED."
fn verdict(expectations: &[ExpectationOutcome]) -> String {
    let total = expectations.len();
    let failed = expectations.iter().filter(|e| !e.pass).count();
    match (total, failed) {
        (0, _) => "The scenario sets no expectations.".to_owned(),
        (1, 0) => "1 of 1 expectation holds.".to_owned(),
        (_, 0) => format!("{total} of {total} expectations hold."),
        _ => format!("**{failed} of {total} FAILED.**"),
    }
}

fn write_events(out: &mut String, summary: &Summary) -> fmt::Result {
    let counts = summary.events;
    writeln!(out, "## Events\n")?;
    let noun = if counts.logged == 1 {
        "event"
    } else {
        "events"
    };
    writeln!(out, "{} {noun} logged.", counts.logged)?;
    if counts.dropped > 0 {
        writeln!(
            out,
            "\n> **Warning:** {} more events were dropped at the log cap; the event log is incomplete.",
            counts.dropped
        )?;
    }
    Ok(())
}

/// `s` on one line, control characters replaced by spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `s` as literal Markdown text on one line: every ASCII punctuation mark
/// that can start markup is backslash-escaped (CommonMark allows escaping
/// any ASCII punctuation).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in one_line(s).chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '!' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One line of free text as a literal paragraph line: [`text`], plus
/// escapes for what only counts at the start of a line (list markers,
/// setext underlines, indented code).
fn text_line(line: &str) -> String {
    let line = text(line.trim());
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    match line.chars().nth(digits) {
        Some('-' | '+' | '=') if digits == 0 => format!("\\{line}"),
        Some('.' | ')') if digits > 0 => format!("{}\\{}", &line[..digits], &line[digits..]),
        _ => line,
    }
}

/// `s` as a code span: fenced by one backtick more than the longest run of
/// backticks inside, padded with spaces when it starts or ends with one.
fn code(s: &str) -> String {
    let s = one_line(s);
    if s.is_empty() {
        return "` `".to_owned();
    }
    let (mut longest, mut run) = (0, 0);
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// `s` as the content of a table cell: a pipe would end the cell, even in a
/// code span, so it is escaped.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

#[cfg(test)]
#[path = "markdown/tests.rs"]
mod tests;
