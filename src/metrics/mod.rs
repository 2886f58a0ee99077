//! The metrics core: what a run measured, in one vocabulary for every
//! protocol.
//!
//! * [`event`]: the simulated-time event log (`events.jsonl`).
//! * [`catalog`]: every metric's name, unit and meaning.
//! * [`recorder`]: the handle a session records through while it runs.
//! * [`summary`]: the flat, versioned summary (`summary.json`).
//! * [`series`]: time series and distributions behind the SVG plots.
//! * [`write`](mod@write): the Markdown summary, JUnit XML and SVG plot writers.

pub mod catalog;
pub mod check;
pub mod event;
pub mod recorder;
pub mod series;
pub mod summary;
pub mod write;

pub use catalog::{MetricDef, LINK_METRICS};
pub use check::{BaselineDiff, CheckOutcome, CheckedScenario};
pub use event::{Event, EventKind, EventLog};
pub use recorder::{Counter, EventSink, Gauge, Histogram, Recorder, RecorderError};
pub use series::{Cdf, PlotData, Series};
pub use summary::{
    EventCounts, ExpectationOutcome, Metric, ScenarioInfo, SessionInfo, Summary, Unit,
    SCHEMA_VERSION,
};
