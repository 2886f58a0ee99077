//! Summaries and check results shared by the writers' tests.

use std::collections::BTreeMap;

use crate::metrics::check::{BaselineDiff, CheckOutcome, CheckedScenario};
use crate::metrics::summary::{
    EventCounts, ExpectationOutcome, Metric, ScenarioInfo, SessionInfo, Summary, Unit,
    SCHEMA_VERSION,
};

/// A complete run of a tcp-bulk session `bulk` over links `down` and `up`,
/// with two expectations that hold.
pub fn summary() -> Summary {
    let metrics: BTreeMap<String, Metric> = [
        ("session.bulk.goodput", 4_512_000.0, Unit::BitsPerSecond),
        ("session.bulk.bytes", 5_640_000.0, Unit::Bytes),
        ("session.bulk.retransmissions", 12.0, Unit::Count),
        ("session.bulk.retransmission_rate", 0.0031, Unit::Ratio),
        ("link.down.offered", 4000.0, Unit::Count),
        ("link.down.throughput", 4_700_000.0, Unit::BitsPerSecond),
        ("link.down.delay_p50", 0.02615, Unit::Seconds),
        ("link.up.offered", 2000.0, Unit::Count),
    ]
    .into_iter()
    .map(|(name, value, unit)| (name.to_owned(), Metric { value, unit }))
    .collect();
    Summary {
        schema_version: SCHEMA_VERSION,
        streamsim_version: "0.1.0".to_owned(),
        scenario: ScenarioInfo {
            name: "bulk-5mbit".to_owned(),
            description: "TCP bulk over a 5 Mbit/s link".to_owned(),
            sha256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".to_owned(),
        },
        seed: 7,
        duration_s: 10.0,
        elapsed_s: 10.0,
        complete: true,
        sessions: [(
            "bulk".to_owned(),
            SessionInfo {
                protocol: "tcp-bulk".to_owned(),
                server: "server".to_owned(),
                clients: vec!["client".to_owned()],
                errors: Vec::new(),
            },
        )]
        .into_iter()
        .collect(),
        metrics,
        expectations: vec![
            expectation(
                "session.bulk.goodput",
                ">= 4mbit",
                Some(4_512_000.0),
                Unit::BitsPerSecond,
                true,
            ),
            expectation(
                "link.down.delay_p50",
                "< 50ms",
                Some(0.02615),
                Unit::Seconds,
                true,
            ),
        ],
        events: EventCounts {
            logged: 1234,
            dropped: 0,
        },
    }
}

/// An expectation outcome.
pub fn expectation(
    metric: &str,
    bound: &str,
    actual: Option<f64>,
    unit: Unit,
    pass: bool,
) -> ExpectationOutcome {
    ExpectationOutcome {
        metric: metric.to_owned(),
        bound: bound.to_owned(),
        actual,
        unit,
        pass,
    }
}

/// [`summary`] with its goodput expectation failing.
pub fn failing_summary() -> Summary {
    let mut s = summary();
    s.expectations[0] = expectation(
        "session.bulk.goodput",
        ">= 5mbit",
        Some(4_512_000.0),
        Unit::BitsPerSecond,
        false,
    );
    s
}

/// A scenario that ran, with no baseline compared.
pub fn ran(name: &str, summary: Summary) -> CheckedScenario {
    CheckedScenario {
        file: format!("scenarios/{name}.toml"),
        name: name.to_owned(),
        outcome: CheckOutcome::Ran {
            summary: Box::new(summary),
            baseline: None,
            wall_s: 1.25,
        },
    }
}

/// A baseline comparison of one metric.
pub fn diff(metric: &str, old: Option<f64>, new: Option<f64>, pass: bool) -> BaselineDiff {
    let change = match (old, new) {
        (Some(old), Some(new)) => Some((new - old) / old.abs()),
        _ => None,
    };
    BaselineDiff {
        metric: metric.to_owned(),
        unit: Unit::BitsPerSecond,
        old,
        new,
        change,
        pass,
    }
}
