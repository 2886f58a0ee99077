//! The names, units and meanings of every metric a run reports.
//!
//! Scenario validation checks `[expect]` keys against these tables before a
//! run starts, sessions record exactly these names (their recorder checks
//! them when the session is created), and the README tables are written
//! from them. Names are `link.<id>.<metric>` for each link direction and
//! `session.<name>.<metric>` for each session. Link metrics are defined
//! here; each protocol defines its sessions' table in its own folder, and
//! the media protocols share [`QOE_METRICS`].

use super::summary::Unit;

/// One metric: its last name component, unit and meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricDef {
    /// Last component of the metric name (`goodput`).
    pub name: &'static str,
    /// Unit of the value.
    pub unit: Unit,
    /// What it measures, in one line.
    pub meaning: &'static str,
}

/// A table entry (for `const` tables).
pub const fn def(name: &'static str, unit: Unit, meaning: &'static str) -> MetricDef {
    MetricDef {
        name,
        unit,
        meaning,
    }
}

/// Metrics of every link direction (`link.<id>.<metric>`).
pub const LINK_METRICS: &[MetricDef] = &[
    def("offered", Unit::Count, "packets offered to the link"),
    def(
        "delivered",
        Unit::Count,
        "packet copies delivered or in flight at the end (duplicates included)",
    ),
    def(
        "delivered_bytes",
        Unit::Bytes,
        "bytes of copies that arrived by the end (IP packets)",
    ),
    def(
        "throughput",
        Unit::BitsPerSecond,
        "delivered bytes × 8 / elapsed time",
    ),
    def("dropped", Unit::Count, "copies dropped, any cause"),
    def(
        "dropped_loss",
        Unit::Count,
        "copies dropped by the loss process",
    ),
    def(
        "dropped_queue",
        Unit::Count,
        "copies dropped by a full queue",
    ),
    def(
        "dropped_outage",
        Unit::Count,
        "packets dropped during an outage",
    ),
    def("loss_rate", Unit::Ratio, "dropped / (offered + duplicated)"),
    def("duplicated", Unit::Count, "duplicate copies made"),
    def(
        "corrupted",
        Unit::Count,
        "delivered copies with a flipped bit",
    ),
    def(
        "reordered",
        Unit::Count,
        "copies delivered before one offered earlier",
    ),
    def(
        "delay_p50",
        Unit::Seconds,
        "one-way delay of delivered copies, median",
    ),
    def("delay_p90", Unit::Seconds, "one-way delay, 90th percentile"),
    def("delay_p99", Unit::Seconds, "one-way delay, 99th percentile"),
    def("delay_max", Unit::Seconds, "one-way delay, largest"),
    def(
        "queue_delay_p50",
        Unit::Seconds,
        "wait + serialisation in the queue, median",
    ),
    def(
        "queue_delay_p99",
        Unit::Seconds,
        "queue delay, 99th percentile",
    ),
    def("queue_delay_max", Unit::Seconds, "queue delay, largest"),
];

/// The definition of a link metric's full name (`link.<id>.<metric>`).
/// Session metrics are defined by their protocol's table (see
/// `crate::proto::metric_table`), which the summary names per session.
pub fn find(metric_name: &str) -> Option<&'static MetricDef> {
    let (_, last) = metric_name.rsplit_once('.')?;
    if metric_name.starts_with("link.") {
        find_in(LINK_METRICS, last)
    } else {
        None
    }
}

/// The one-line meaning of a full metric name (see [`find`]).
pub fn meaning(metric_name: &str) -> Option<&'static str> {
    find(metric_name).map(|def| def.meaning)
}

/// The definition named `last` (a last name component) in `table`.
pub fn find_in(table: &'static [MetricDef], last: &str) -> Option<&'static MetricDef> {
    table.iter().find(|def| def.name == last)
}

/// What a viewer experienced: the metrics every media protocol's player
/// reports, with one definition for all (see `crate::player`). Media
/// protocols start their tables with these.
pub const QOE_METRICS: &[MetricDef] = &[
    def("startup", Unit::Seconds, "client start → first frame presented (largest over clients)"),
    def("latency_p50", Unit::Seconds, "glass-to-glass latency of presented frames (presentation − capture), median"),
    def("latency_p90", Unit::Seconds, "glass-to-glass latency, 90th percentile"),
    def("latency_p99", Unit::Seconds, "glass-to-glass latency, 99th percentile"),
    def("latency_max", Unit::Seconds, "glass-to-glass latency, largest"),
    def("stalls", Unit::Count, "times playback was running, the next frame was due and not presentable"),
    def("stall_time", Unit::Seconds, "time spent stalled (all clients)"),
    def("stall_ratio", Unit::Ratio, "stall time / (play time + stall time), all clients"),
    def("frames_presented", Unit::Count, "video frames presented"),
    def("frames_late", Unit::Count, "video frames that arrived after their deadline (dropped)"),
    def("frames_lost", Unit::Count, "video frames that never arrived whole"),
    def("frames_undecodable", Unit::Count, "video frames that arrived but reference a lost or broken frame (until the next keyframe)"),
    def("frames_before_start", Unit::Count, "units received before the first keyframe a client joined on (not counted above)"),
    def("media_bitrate", Unit::BitsPerSecond, "media bytes received × 8 / time from the client's start to the end of the run, mean over clients"),
    def("decode_errors", Unit::Count, "presented frames the real decoder could not decode (decode_check)"),
    def("psnr_mean", Unit::Decibels, "Y-PSNR of decoded presented frames against the source, mean (decode_check)"),
    def("psnr_p5", Unit::Decibels, "Y-PSNR, 5th percentile (decode_check)"),
];

/// `a` followed by `b`, as one table: a protocol's table is the shared
/// [`QOE_METRICS`] followed by its own, built at compile time
/// (`const T: [MetricDef; N] = join(QOE_METRICS, OWN)`, `N` the sum of the
/// lengths; a wrong `N` fails the build).
pub const fn join<const N: usize>(a: &[MetricDef], b: &[MetricDef]) -> [MetricDef; N] {
    assert!(a.len() + b.len() == N, "N must be the sum of the lengths");
    let mut out = [def("", Unit::Count, ""); N];
    let mut i = 0;
    while i < a.len() {
        out[i] = a[i];
        i += 1;
    }
    let mut j = 0;
    while j < b.len() {
        out[a.len() + j] = b[j];
        j += 1;
    }
    out
}
