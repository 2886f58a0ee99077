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
        } else if s.metrics.contains_key(&format!("{prefix}.sent")) {
            format!(
                "received {} of {} · loss {} (longest burst {}) · delay p50 {} p99 {} · jitter {}",
                m("received"),
                m("sent"),
                m("loss_rate"),
                m("max_loss_burst"),
                m("delay_p50"),
                m("delay_p99"),
                m("jitter")
            )
        } else {
            format!(
                "goodput {} · startup {} · retransmissions {} ({}) · RTOs {}",
                m("goodput"),
                m("startup"),
                m("retransmissions"),
                m("retransmission_rate"),
                m("rto_count")
            )
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

/// A measured value for messages: formatted, or "not measured".
pub(super) fn actual(value: Option<f64>, unit: Unit) -> String {
    value.map_or_else(|| "not measured".to_owned(), |v| unit.format(v))
}
