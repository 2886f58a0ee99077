//! A session's recorder: the one handle a protocol records through while it
//! runs.
//!
//! A [`Recorder`] is made for one session with its protocol's metric table
//! (see [`super::catalog`]). Protocol code asks it for typed handles when the
//! session is created — [`Recorder::counter`], [`Recorder::gauge`],
//! [`Recorder::histogram`] — and each name is checked against the table
//! there, so a misspelt metric fails the session before the run, not as a
//! silently missing value after it. Handles are cheap clones shared by the
//! session's server and clients; what they hold becomes the session's
//! metrics ([`Recorder::metrics`]) when the run ends. Events go straight to
//! the run's shared [`EventSink`], stamped with simulated time.
//!
//! Invariants: a counter only grows; a histogram holds microseconds at 3
//! significant digits and reports `<name>_p50`, `_p90`, `_p99` and `_max` in
//! seconds, and nothing while it is empty (a delay never measured has no
//! value, so a bound on it cannot pass by default); a gauge never set is
//! absent. Everything is single-threaded (`Rc`), like the hosts it runs on.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use hdrhistogram::Histogram as Hdr;

use super::catalog::MetricDef;
use super::event::{EventKind, EventLog};
use super::summary::{Metric, Unit};

/// The quantiles a histogram reports, as name suffixes.
pub const QUANTILES: [(&str, f64); 3] = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)];

/// Errors creating a handle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecorderError {
    /// The protocol's table has no metric of that name.
    #[error("session {session:?}: the metric table has no {name:?}")]
    UnknownMetric {
        /// The session.
        session: String,
        /// The name asked for.
        name: String,
    },
    /// The metric exists with a unit the handle cannot record.
    #[error("session {session:?}: metric {name:?} is in {unit}, which a {handle} cannot record")]
    WrongUnit {
        /// The session.
        session: String,
        /// The metric.
        name: String,
        /// Its unit in the table.
        unit: &'static str,
        /// The handle asked for.
        handle: &'static str,
    },
}

/// The run's event log, shared by every session and read at the end.
#[derive(Clone, Debug, Default)]
pub struct EventSink(Rc<RefCell<EventLog>>);

impl EventSink {
    /// A sink over an empty log with the default cap.
    pub fn new() -> EventSink {
        EventSink::default()
    }

    /// A sink over an empty log that keeps at most `cap` events.
    pub fn with_cap(cap: usize) -> EventSink {
        EventSink(Rc::new(RefCell::new(EventLog::with_cap(cap))))
    }

    /// Appends an event at simulated time `at`.
    pub fn push(&self, at: Duration, kind: EventKind) {
        self.0.borrow_mut().push(at, kind);
    }

    /// The log as it stands (a copy; the sink keeps recording).
    pub fn snapshot(&self) -> EventLog {
        self.0.borrow().clone()
    }
}

/// A value a handle holds.
#[derive(Debug)]
enum Slot {
    Counter(Rc<Cell<u64>>),
    Gauge(Rc<Cell<Option<f64>>>),
    Histogram(Rc<RefCell<Hdr<u64>>>),
}

/// A session's recorder (see the module docs).
#[derive(Clone, Debug)]
pub struct Recorder {
    session: Rc<str>,
    table: &'static [MetricDef],
    slots: Rc<RefCell<BTreeMap<&'static str, Slot>>>,
    errors: Rc<RefCell<Vec<String>>>,
    events: EventSink,
}

/// A count that only grows (`Unit::Count` or `Unit::Bytes`).
#[derive(Clone, Debug)]
pub struct Counter(Rc<Cell<u64>>);

impl Counter {
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.set(self.0.get().saturating_add(n));
    }

    /// The count so far.
    pub fn get(&self) -> u64 {
        self.0.get()
    }
}

/// A value set while the session runs (last write wins), in the metric's
/// base unit.
#[derive(Clone, Debug)]
pub struct Gauge(Rc<Cell<Option<f64>>>);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, value: f64) {
        self.0.set(Some(value));
    }

    /// Keeps the larger of the value so far and `value`.
    pub fn max(&self, value: f64) {
        let v = self.0.get().map_or(value, |old| old.max(value));
        self.0.set(Some(v));
    }

    /// The value, when set.
    pub fn get(&self) -> Option<f64> {
        self.0.get()
    }
}

/// A distribution of durations, in microseconds.
#[derive(Clone, Debug)]
pub struct Histogram(Rc<RefCell<Hdr<u64>>>);

impl Histogram {
    /// Records one duration (saturating at the histogram's top, one hour).
    pub fn record(&self, value: Duration) {
        let us = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
        self.0.borrow_mut().saturating_record(us.max(1));
    }

    /// Adds every value of `other` (a µs histogram).
    pub fn add(&self, other: &Hdr<u64>) {
        // Both auto-resize or share bounds; values beyond them saturate.
        for v in other.iter_recorded() {
            let value = v.value_iterated_to().min(HIST_MAX_US);
            let _ = self
                .0
                .borrow_mut()
                .record_n(value.max(1), v.count_at_value());
        }
    }

    /// How many values were recorded.
    pub fn len(&self) -> u64 {
        self.0.borrow().len()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The largest value a histogram holds: one hour, in µs.
const HIST_MAX_US: u64 = 3_600_000_000;

impl Recorder {
    /// A recorder for session `session` whose metrics are `table`; events
    /// go to `events`.
    pub fn new(session: &str, table: &'static [MetricDef], events: EventSink) -> Recorder {
        Recorder {
            session: Rc::from(session),
            table,
            slots: Rc::default(),
            errors: Rc::default(),
            events,
        }
    }

    /// The session's name.
    pub fn session(&self) -> &str {
        &self.session
    }

    /// Records an event at simulated time `at`.
    pub fn event(&self, at: Duration, kind: EventKind) {
        self.events.push(at, kind);
    }

    /// Fails the session: `host` could not do its part (a port it cannot
    /// bind, a name it cannot resolve). The error is logged as an event and
    /// kept for the summary, so no failure passes as a run of zeros.
    pub fn fail(&self, at: Duration, host: &str, message: String) {
        self.event(
            at,
            EventKind::SessionError {
                session: self.session.to_string(),
                host: host.to_owned(),
                message: message.clone(),
            },
        );
        self.errors.borrow_mut().push(format!("{host}: {message}"));
    }

    /// The session's errors, in the order they happened.
    pub fn errors(&self) -> Vec<String> {
        self.errors.borrow().clone()
    }

    /// A counter for `name`, which the table lists in `count` or bytes.
    /// Asking twice gives the same counter.
    pub fn counter(&self, name: &'static str) -> Result<Counter, RecorderError> {
        let def = self.def(name)?;
        if !matches!(def.unit, Unit::Count | Unit::Bytes) {
            return Err(self.wrong_unit(def, "counter"));
        }
        let mut slots = self.slots.borrow_mut();
        let slot = slots
            .entry(name)
            .or_insert_with(|| Slot::Counter(Rc::default()));
        match slot {
            Slot::Counter(c) => Ok(Counter(c.clone())),
            _ => Err(self.wrong_unit(def, "counter")),
        }
    }

    /// A gauge for `name`. Asking twice gives the same gauge.
    pub fn gauge(&self, name: &'static str) -> Result<Gauge, RecorderError> {
        let def = self.def(name)?;
        let mut slots = self.slots.borrow_mut();
        let slot = slots
            .entry(name)
            .or_insert_with(|| Slot::Gauge(Rc::default()));
        match slot {
            Slot::Gauge(g) => Ok(Gauge(g.clone())),
            _ => Err(self.wrong_unit(def, "gauge")),
        }
    }

    /// A histogram of durations reported as `<name>_p50`, `_p90`, `_p99`
    /// and `_max`: the table must list all four, in seconds.
    pub fn histogram(&self, name: &'static str) -> Result<Histogram, RecorderError> {
        for (suffix, _) in QUANTILES.iter().chain(&[("max", 1.0)]) {
            let full = format!("{name}_{suffix}");
            let def = self.table.iter().find(|d| d.name == full).ok_or_else(|| {
                RecorderError::UnknownMetric {
                    session: self.session.to_string(),
                    name: full.clone(),
                }
            })?;
            if def.unit != Unit::Seconds {
                return Err(self.wrong_unit(def, "histogram"));
            }
        }
        let mut slots = self.slots.borrow_mut();
        let slot = slots.entry(name).or_insert_with(|| {
            let hdr =
                Hdr::new_with_bounds(1, HIST_MAX_US, 3).expect("1 µs..1 h at 3 digits is valid");
            Slot::Histogram(Rc::new(RefCell::new(hdr)))
        });
        match slot {
            Slot::Histogram(h) => Ok(Histogram(h.clone())),
            _ => Err(RecorderError::UnknownMetric {
                session: self.session.to_string(),
                name: name.to_owned(),
            }),
        }
    }

    /// A copy of the histogram called `name` (µs), when one was made.
    pub fn histogram_values(&self, name: &str) -> Option<Hdr<u64>> {
        match self.slots.borrow().get(name)? {
            Slot::Histogram(h) => Some(h.borrow().clone()),
            _ => None,
        }
    }

    /// Every value recorded, as `session.<name>.<metric>` metrics.
    pub fn metrics(&self) -> BTreeMap<String, Metric> {
        let mut out = BTreeMap::new();
        let prefix = format!("session.{}", self.session);
        let unit_of = |name: &str| {
            self.table
                .iter()
                .find(|d| d.name == name)
                .map_or(Unit::Count, |d| d.unit)
        };
        for (name, slot) in self.slots.borrow().iter() {
            let mut put = |metric: &str, unit: Unit, value: f64| {
                out.insert(format!("{prefix}.{metric}"), Metric { value, unit });
            };
            match slot {
                Slot::Counter(c) => put(name, unit_of(name), c.get() as f64),
                Slot::Gauge(g) => {
                    if let Some(v) = g.get() {
                        put(name, unit_of(name), v);
                    }
                }
                Slot::Histogram(h) => {
                    let h = h.borrow();
                    if h.is_empty() {
                        continue;
                    }
                    for (suffix, q) in QUANTILES {
                        let v = h.value_at_quantile(q) as f64 / 1e6;
                        put(&format!("{name}_{suffix}"), Unit::Seconds, v);
                    }
                    put(&format!("{name}_max"), Unit::Seconds, h.max() as f64 / 1e6);
                }
            }
        }
        out
    }

    fn def(&self, name: &str) -> Result<&'static MetricDef, RecorderError> {
        self.table
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| RecorderError::UnknownMetric {
                session: self.session.to_string(),
                name: name.to_owned(),
            })
    }

    fn wrong_unit(&self, def: &MetricDef, handle: &'static str) -> RecorderError {
        RecorderError::WrongUnit {
            session: self.session.to_string(),
            name: def.name.to_owned(),
            unit: def.unit.as_str(),
            handle,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[MetricDef] = &[
        MetricDef {
            name: "frames",
            unit: Unit::Count,
            meaning: "frames",
        },
        MetricDef {
            name: "startup",
            unit: Unit::Seconds,
            meaning: "startup",
        },
        MetricDef {
            name: "latency_p50",
            unit: Unit::Seconds,
            meaning: "",
        },
        MetricDef {
            name: "latency_p90",
            unit: Unit::Seconds,
            meaning: "",
        },
        MetricDef {
            name: "latency_p99",
            unit: Unit::Seconds,
            meaning: "",
        },
        MetricDef {
            name: "latency_max",
            unit: Unit::Seconds,
            meaning: "",
        },
    ];

    #[test]
    fn handles_are_checked_when_made_and_report_at_the_end() {
        let rec = Recorder::new("tv", TABLE, EventSink::new());
        assert!(matches!(
            rec.counter("frame"),
            Err(RecorderError::UnknownMetric { .. })
        ));
        assert!(matches!(
            rec.counter("startup"),
            Err(RecorderError::WrongUnit { .. })
        ));
        assert!(rec.histogram("frames").is_err());
        let frames = rec.counter("frames").unwrap();
        frames.add(2);
        rec.counter("frames").unwrap().add(3);
        let startup = rec.gauge("startup").unwrap();
        let latency = rec.histogram("latency").unwrap();
        let m = rec.metrics();
        assert_eq!(m["session.tv.frames"].value, 5.0);
        // Never set, never measured: absent.
        assert!(!m.contains_key("session.tv.startup"));
        assert!(!m.contains_key("session.tv.latency_p50"));
        startup.set(0.25);
        latency.record(Duration::from_millis(200));
        let mut other = Hdr::<u64>::new(3).unwrap();
        other.record(400_000).unwrap();
        latency.add(&other);
        let m = rec.metrics();
        assert_eq!(m["session.tv.startup"].value, 0.25);
        assert_eq!(m["session.tv.startup"].unit, Unit::Seconds);
        let p99 = m["session.tv.latency_p99"].value;
        assert!((p99 - 0.4).abs() < 0.001, "{p99}");
        assert!((m["session.tv.latency_p50"].value - 0.2).abs() < 0.001);
    }
}
