//! What `streamsim check` found for each scenario: the input to the console
//! report and the JUnit writer.

use super::summary::{Summary, Unit};

/// One metric that moved against the baseline (or appeared/disappeared).
#[derive(Clone, Debug, PartialEq)]
pub struct BaselineDiff {
    /// Metric name.
    pub metric: String,
    /// Unit of `old` and `new`.
    pub unit: Unit,
    /// Value in the baseline (`None`: the metric is new).
    pub old: Option<f64>,
    /// Value now (`None`: the metric disappeared).
    pub new: Option<f64>,
    /// `(new − old) / |old|`; infinite when `old` is 0 and `new` is not;
    /// `None` when one side is missing.
    pub change: Option<f64>,
    /// False when the change exceeds the tolerance or one side is missing.
    pub pass: bool,
}

/// The result of checking one scenario file.
#[derive(Clone, Debug, PartialEq)]
pub enum CheckOutcome {
    /// The scenario ran (completely or not); its expectations are in the
    /// summary. `baseline` lists every metric compared, when a baseline was
    /// given (`None` when none was asked for).
    Ran {
        /// The run's summary.
        summary: Box<Summary>,
        /// Metrics compared with the baseline.
        baseline: Option<Vec<BaselineDiff>>,
        /// Wall-clock seconds the run took (JUnit's `time`).
        wall_s: f64,
    },
    /// The file is not a valid scenario; the message lists every error.
    Invalid {
        /// Every error, one per line, `file:line:col: message`.
        message: String,
    },
    /// The scenario was valid but the run failed (a baseline unreadable, a
    /// report not writable, a simulation error).
    Error {
        /// What went wrong.
        message: String,
    },
}

/// One scenario file and what checking it found.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedScenario {
    /// The path as given on the command line (or found in a directory).
    pub file: String,
    /// The scenario name (the file stem when the file could not be read).
    pub name: String,
    /// What happened.
    pub outcome: CheckOutcome,
}

impl CheckedScenario {
    /// True when the scenario ran to its end and every expectation and
    /// baseline comparison held.
    pub fn passed(&self) -> bool {
        match &self.outcome {
            CheckOutcome::Ran {
                summary, baseline, ..
            } => {
                summary.complete
                    && summary.passed()
                    && baseline
                        .as_ref()
                        .is_none_or(|diffs| diffs.iter().all(|d| d.pass))
            }
            CheckOutcome::Invalid { .. } | CheckOutcome::Error { .. } => false,
        }
    }
}
