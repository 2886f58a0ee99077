//! The summary printed at the end of a run: the main figures of every
//! session and link direction, and each expectation.

use crate::metrics::{Summary, Unit};

/// The value of `metric`, formatted, or `–` when it was not measured.
fn value(summary: &Summary, metric: &str) -> String {
    summary
        .metrics
        .get(metric)
        .map_or_else(|| "–".to_owned(), |m| m.unit.format(m.value))
}

/// Prints the summary of a run.
pub(super) fn print_summary(summary: &Summary) {
    let s = summary;
    let state = if s.complete {
        String::new()
    } else {
        format!(" — INCOMPLETE, interrupted at {:.1} s", s.elapsed_s)
    };
    println!(
        "{}: seed {}, {:.1} s simulated{state}",
        s.scenario.name, s.seed, s.elapsed_s
    );
    let mut prefixes: Vec<String> = Vec::new();
    for name in s.metrics.keys() {
        if let Some((prefix, _)) = name.rsplit_once('.') {
            if prefixes.last().is_none_or(|p| p != prefix) {
                prefixes.push(prefix.to_owned());
            }
        }
    }
    // Sessions first: they are what the scenario is about.
    prefixes.sort_by_key(|p| !p.starts_with("session."));
    for prefix in &prefixes {
        let m = |name: &str| value(s, &format!("{prefix}.{name}"));
        let line = if prefix.starts_with("link.") {
            format!(
                "throughput {} · loss {} (loss {}, queue {}, outage {}) · delay p50 {} p99 {}",
                m("throughput"),
                m("loss_rate"),
                m("dropped_loss"),
                m("dropped_queue"),
                m("dropped_outage"),
                m("delay_p50"),
                m("delay_p99")
            )
        } else {
            session_line(s, prefix)
        };
        println!("  {prefix:<24} {line}");
    }
    if s.expectations.is_empty() {
        return;
    }
    let failed = s.expectations.iter().filter(|e| !e.pass).count();
    let total = s.expectations.len();
    if failed == 0 {
        println!("expectations: all {total} hold");
    } else {
        println!("expectations: {failed} of {total} FAILED");
    }
    for e in &s.expectations {
        println!(
            "  {} {} {} (actual {})",
            if e.pass { "PASS" } else { "FAIL" },
            e.metric,
            e.bound,
            actual(e.actual, e.unit)
        );
    }
}

/// A session's headline metrics, as its protocol lists them, and what
/// failed.
fn session_line(s: &Summary, prefix: &str) -> String {
    let name = prefix.strip_prefix("session.").unwrap_or(prefix);
    let Some(info) = s.sessions.get(name) else {
        return String::new();
    };
    let headline = crate::proto::find(&info.protocol).map_or(&[][..], |p| p.headline);
    let mut parts: Vec<String> = headline
        .iter()
        .map(|(label, metric)| format!("{label} {}", value(s, &format!("{prefix}.{metric}"))))
        .collect();
    parts.extend(info.errors.iter().map(|e| format!("FAILED: {e}")));
    format!("{}: {}", info.protocol, parts.join(" · "))
}

/// A measured value for messages: formatted, or "not measured".
pub(super) fn actual(value: Option<f64>, unit: Unit) -> String {
    value.map_or_else(|| "not measured".to_owned(), |v| unit.format(v))
}
