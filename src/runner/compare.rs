//! Judging a run: `[expect]` bounds against its metrics, and every metric
//! against a baseline summary.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::metrics::{BaselineDiff, ExpectationOutcome, Metric, Summary, SCHEMA_VERSION};
use crate::scenario::{read_capped, Expectation, MAX_BASELINE_BYTES};

/// Evaluates each expectation; a metric the run did not measure fails.
pub fn evaluate(
    expect: &[Expectation],
    metrics: &BTreeMap<String, Metric>,
) -> Vec<ExpectationOutcome> {
    expect
        .iter()
        .map(|e| {
            let actual = metrics.get(&e.metric).map(|m| m.value);
            ExpectationOutcome {
                metric: e.metric.clone(),
                bound: e.text.clone(),
                actual,
                unit: e.unit,
                pass: actual.is_some_and(|a| e.comparison.holds(a, e.value)),
            }
        })
        .collect()
}

/// Errors reading a baseline.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The baseline summary could not be read.
    #[error("no baseline for scenario {name:?}: cannot read {}: {source}", path.display())]
    Read {
        /// Scenario name.
        name: String,
        /// Where it was looked for.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// The file is not a summary this version understands.
    #[error("baseline {} is not a streamsim summary (schema {SCHEMA_VERSION}): {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// The summary is of another run, or holds values no run produces.
    #[error("baseline {} cannot be compared: {message}", path.display())]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// What does not match.
        message: String,
    },
}

/// Where the baseline of scenario `name` run with `seed` lives under `dir`:
/// the same layout `--out` writes, `<dir>/<name>/seed-<seed>/summary.json`.
pub fn baseline_path(dir: &Path, name: &str, seed: u64) -> PathBuf {
    dir.join(name)
        .join(format!("seed-{seed}"))
        .join("summary.json")
}

/// Reads the baseline summary of scenario `name` run with `seed`: a
/// regular file of at most [`MAX_BASELINE_BYTES`], of this schema, of the
/// same scenario name and seed, with every value finite, not negative, and
/// a ratio at most 1.
pub fn load_baseline(dir: &Path, name: &str, seed: u64) -> Result<Summary, BaselineError> {
    let path = baseline_path(dir, name, seed);
    if let Err(e) = std::fs::metadata(&path) {
        return Err(BaselineError::Read {
            name: name.to_owned(),
            path,
            source: e,
        });
    }
    let bytes = read_capped(&path, "the file", MAX_BASELINE_BYTES).map_err(|message| {
        BaselineError::Parse {
            path: path.clone(),
            message,
        }
    })?;
    let summary: Summary = serde_json::from_slice(&bytes).map_err(|e| BaselineError::Parse {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let mismatch = |message: String| BaselineError::Mismatch {
        path: path.clone(),
        message,
    };
    if summary.schema_version != SCHEMA_VERSION {
        return Err(BaselineError::Parse {
            path,
            message: format!("schema version {}", summary.schema_version),
        });
    }
    if summary.scenario.name != name {
        return Err(mismatch(format!(
            "it is of scenario {:?}, not {name:?}",
            summary.scenario.name
        )));
    }
    if summary.seed != seed {
        return Err(mismatch(format!(
            "it was run with seed {}, not {seed}",
            summary.seed
        )));
    }
    for (metric, m) in &summary.metrics {
        let absurd = !m.value.is_finite()
            || m.value < 0.0
            || (m.unit == crate::metrics::Unit::Ratio && m.value > 1.0);
        if absurd {
            return Err(mismatch(format!(
                "{metric} is {} {}, a value no run produces",
                m.value,
                m.unit.as_str()
            )));
        }
    }
    Ok(summary)
}

/// Checks that every metric on both sides has the same unit; otherwise
/// says which does not.
pub fn baseline_units_match(old: &Summary, new: &Summary) -> Result<(), String> {
    for (name, n) in &new.metrics {
        if let Some(o) = old.metrics.get(name).filter(|o| o.unit != n.unit) {
            return Err(format!(
                "baseline metric {name} is in {}, the run's in {}: not comparable",
                o.unit.as_str(),
                n.unit.as_str()
            ));
        }
    }
    Ok(())
}

/// Compares every metric of `new` with `old`. A metric fails when it moved
/// by more than `tolerance_pct` percent of its old value (from 0, any move
/// fails), or when it exists on one side only. Sorted by metric name.
pub fn compare_baseline(old: &Summary, new: &Summary, tolerance_pct: f64) -> Vec<BaselineDiff> {
    let names: BTreeSet<&String> = old.metrics.keys().chain(new.metrics.keys()).collect();
    names
        .into_iter()
        .map(|name| {
            let (o, n) = (old.metrics.get(name), new.metrics.get(name));
            let unit = n
                .or(o)
                .map(|m| m.unit)
                .expect("the name came from one of the maps");
            let (old_v, new_v) = (o.map(|m| m.value), n.map(|m| m.value));
            let change = match (old_v, new_v) {
                (Some(a), Some(b)) if a == b => Some(0.0),
                (Some(0.0), Some(b)) => Some(f64::INFINITY.copysign(b)),
                (Some(a), Some(b)) => Some((b - a) / a.abs()),
                _ => None,
            };
            let pass = change.is_some_and(|c| c.abs() * 100.0 <= tolerance_pct);
            BaselineDiff {
                metric: name.clone(),
                unit,
                old: old_v,
                new: new_v,
                change,
                pass,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{EventCounts, ScenarioInfo, Unit};
    use crate::scenario::Comparison;

    fn summary(metrics: &[(&str, f64)]) -> Summary {
        Summary {
            schema_version: SCHEMA_VERSION,
            streamsim_version: "0".into(),
            scenario: ScenarioInfo {
                name: "s".into(),
                description: String::new(),
                sha256: String::new(),
            },
            seed: 1,
            sessions: Default::default(),
            duration_s: 1.0,
            elapsed_s: 1.0,
            complete: true,
            metrics: metrics
                .iter()
                .map(|(n, v)| {
                    (
                        n.to_string(),
                        Metric {
                            value: *v,
                            unit: Unit::Count,
                        },
                    )
                })
                .collect(),
            expectations: Vec::new(),
            events: EventCounts::default(),
        }
    }

    #[test]
    fn baseline_within_and_beyond_tolerance() {
        let old = summary(&[
            ("a", 100.0),
            ("b", 100.0),
            ("c", 0.0),
            ("d", 0.0),
            ("gone", 1.0),
        ]);
        let new = summary(&[
            ("a", 104.9),
            ("b", 94.0),
            ("c", 0.0),
            ("d", 1.0),
            ("new", 1.0),
        ]);
        let diffs = compare_baseline(&old, &new, 5.0);
        let by_name = |n: &str| diffs.iter().find(|d| d.metric == n).unwrap();
        assert!(by_name("a").pass);
        assert!((by_name("a").change.unwrap() - 0.049).abs() < 1e-9);
        assert!(!by_name("b").pass, "−6% is beyond ±5%");
        assert!(by_name("c").pass, "0 → 0 did not move");
        assert!(!by_name("d").pass, "any move away from 0 fails");
        assert_eq!(by_name("d").change, Some(f64::INFINITY));
        assert!(!by_name("gone").pass && by_name("gone").new.is_none());
        assert!(!by_name("new").pass && by_name("new").old.is_none());
        let names: Vec<&str> = diffs.iter().map(|d| d.metric.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "d", "gone", "new"]);
    }

    #[test]
    fn expectations_hold_fail_or_are_unmeasured() {
        let metrics = summary(&[("x", 5.0)]).metrics;
        let bound = |metric: &str, comparison, value| Expectation {
            metric: metric.into(),
            unit: Unit::Count,
            comparison,
            value,
            text: String::new(),
            location: String::new(),
        };
        let outcomes = evaluate(
            &[
                bound("x", Comparison::AtLeast, 5.0),
                bound("x", Comparison::Above, 5.0),
                bound("missing", Comparison::AtMost, 1.0),
            ],
            &metrics,
        );
        let pass: Vec<bool> = outcomes.iter().map(|o| o.pass).collect();
        assert_eq!(pass, [true, false, false]);
        assert_eq!(outcomes[2].actual, None);
    }
}
