//! JUnit XML for `streamsim check`: what CI systems show as test results.
//!
//! One `<testsuite>` per scenario file, named after the scenario, with one
//! `<testcase>` per `[expect]` bound, one `run complete` case (failing when
//! the run was interrupted, so an interruption never passes silently), and
//! one baseline case when a baseline was compared. A scenario that is
//! invalid or could not run becomes a single `scenario` case with an
//! `<error>`. Cases appear in file order; nothing depends on the clock or
//! the host, so equal results give equal bytes.

use std::fmt::{self, Write};

use super::super::check::{BaselineDiff, CheckOutcome, CheckedScenario};
use super::super::summary::{Summary, Unit};

/// Renders `results` as one `<testsuites>` document. `tolerance_pct` is the
/// baseline tolerance in percent, as given to `check` (it names the
/// baseline case).
pub fn junit_xml(results: &[CheckedScenario], tolerance_pct: f64) -> String {
    let suites: Vec<Suite> = results
        .iter()
        .map(|r| Suite::of(r, tolerance_pct))
        .collect();
    let mut out = String::new();
    write_document(&mut out, &suites).expect("formatting into a String cannot fail");
    out
}

/// What went wrong in one test case.
enum Problem {
    /// A check did not hold (`<failure>`).
    Failure {
        kind: &'static str,
        message: String,
        details: Option<String>,
    },
    /// The check could not be made (`<error>`).
    Error { kind: &'static str, message: String },
}

struct Case {
    name: String,
    problem: Option<Problem>,
}

struct Suite<'a> {
    name: &'a str,
    file: &'a str,
    time_s: f64,
    cases: Vec<Case>,
}

impl<'a> Suite<'a> {
    fn of(result: &'a CheckedScenario, tolerance_pct: f64) -> Suite<'a> {
        let (time_s, cases) = match &result.outcome {
            CheckOutcome::Ran {
                summary,
                baseline,
                wall_s,
            } => {
                let mut cases = expectation_cases(summary);
                cases.push(completeness_case(summary));
                if let Some(diffs) = baseline {
                    cases.push(baseline_case(diffs, tolerance_pct));
                }
                (*wall_s, cases)
            }
            CheckOutcome::Invalid { message } => (0.0, vec![error_case("invalid", message)]),
            CheckOutcome::Error { message } => (0.0, vec![error_case("error", message)]),
        };
        Suite {
            name: &result.name,
            file: &result.file,
            time_s: if time_s.is_finite() && time_s > 0.0 {
                time_s
            } else {
                0.0
            },
            cases,
        }
    }

    fn count(&self, error: bool) -> usize {
        let is = |p: &Problem| matches!(p, Problem::Error { .. }) == error;
        self.cases
            .iter()
            .filter(|c| c.problem.as_ref().is_some_and(is))
            .count()
    }
}

fn expectation_cases(summary: &Summary) -> Vec<Case> {
    let cases = summary.expectations.iter().map(|e| Case {
        name: format!("{} {}", e.metric, e.bound),
        problem: (!e.pass).then(|| {
            let actual = e
                .actual
                .map_or_else(|| "nothing (not measured)".to_owned(), |v| e.unit.format(v));
            Problem::Failure {
                kind: "bound",
                message: format!("expected {} {}, got {actual}", e.metric, e.bound),
                details: None,
            }
        }),
    });
    cases.collect()
}

fn completeness_case(summary: &Summary) -> Case {
    Case {
        name: "run complete".to_owned(),
        problem: (!summary.complete).then(|| Problem::Failure {
            kind: "incomplete",
            message: format!(
                "run interrupted at {} of {}",
                Unit::Seconds.format(summary.elapsed_s),
                Unit::Seconds.format(summary.duration_s)
            ),
            details: None,
        }),
    }
}

fn baseline_case(diffs: &[BaselineDiff], tolerance_pct: f64) -> Case {
    let moved: Vec<String> = diffs
        .iter()
        .filter(|d| !d.pass)
        .map(describe_diff)
        .collect();
    let problem = (!moved.is_empty()).then(|| Problem::Failure {
        kind: "baseline",
        message: format!(
            "{} of {} metrics moved beyond ±{tolerance_pct}%: {}",
            moved.len(),
            diffs.len(),
            moved.join("; ")
        ),
        details: Some(moved.join("\n")),
    });
    Case {
        name: format!("baseline ±{tolerance_pct}%"),
        problem,
    }
}

/// `metric: old → new (change)`.
fn describe_diff(d: &BaselineDiff) -> String {
    let side = |v: Option<f64>| v.map_or_else(|| "absent".to_owned(), |v| d.unit.format(v));
    let change = match (d.change, d.old, d.new) {
        (Some(c), _, _) if c.is_infinite() => "from 0".to_owned(),
        (Some(c), _, _) => format!("{:+.1}%", c * 100.0),
        (None, None, _) => "new metric".to_owned(),
        (None, _, None) => "metric disappeared".to_owned(),
        (None, Some(_), Some(_)) => "change unknown".to_owned(),
    };
    format!("{}: {} → {} ({change})", d.metric, side(d.old), side(d.new))
}

fn error_case(kind: &'static str, message: &str) -> Case {
    Case {
        name: "scenario".to_owned(),
        problem: Some(Problem::Error {
            kind,
            message: message.to_owned(),
        }),
    }
}

fn write_document(out: &mut String, suites: &[Suite]) -> fmt::Result {
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites.iter().map(|s| s.count(false)).sum();
    let errors: usize = suites.iter().map(|s| s.count(true)).sum();
    let time_s: f64 = suites.iter().map(|s| s.time_s).sum();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="streamsim check" tests="{tests}" failures="{failures}" errors="{errors}" time="{time_s:.3}">"#
    )?;
    for suite in suites {
        write_suite(out, suite)?;
    }
    writeln!(out, "</testsuites>")
}

fn write_suite(out: &mut String, suite: &Suite) -> fmt::Result {
    writeln!(
        out,
        r#"  <testsuite name="{}" file="{}" tests="{}" failures="{}" errors="{}" skipped="0" time="{:.3}">"#,
        attr(suite.name),
        attr(suite.file),
        suite.cases.len(),
        suite.count(false),
        suite.count(true),
        suite.time_s,
    )?;
    for case in &suite.cases {
        let open = format!(
            r#"    <testcase classname="{}" name="{}""#,
            attr(suite.name),
            attr(&case.name)
        );
        match &case.problem {
            None => writeln!(out, "{open}/>")?,
            Some(Problem::Failure {
                kind,
                message,
                details,
            }) => {
                writeln!(out, "{open}>")?;
                write_problem(out, "failure", kind, message, details.as_deref())?;
                writeln!(out, "    </testcase>")?;
            }
            Some(Problem::Error { kind, message }) => {
                writeln!(out, "{open}>")?;
                write_problem(out, "error", kind, message, Some(message))?;
                writeln!(out, "    </testcase>")?;
            }
        }
    }
    writeln!(out, "  </testsuite>")
}

fn write_problem(
    out: &mut String,
    tag: &str,
    kind: &str,
    message: &str,
    details: Option<&str>,
) -> fmt::Result {
    let head = format!(r#"      <{tag} message="{}" type="{kind}""#, attr(message));
    match details {
        None => writeln!(out, "{head}/>"),
        Some(details) => writeln!(out, "{head}>{}</{tag}>", text(details)),
    }
}

/// `s` escaped for a double-quoted attribute value. Line breaks and tabs
/// become character references, since a parser would otherwise normalise
/// them to spaces.
fn attr(s: &str) -> String {
    escape(s, true)
}

/// `s` escaped for element content.
fn text(s: &str) -> String {
    escape(s, false)
}

fn escape(s: &str, in_attr: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' if !in_attr => out.push(c),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            // XML 1.0 forbids the other C0 controls and U+FFFE/U+FFFF even
            // as character references; DEL and C1 are allowed but
            // discouraged, and some consumers reject them.
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[path = "junit/tests.rs"]
mod tests;
