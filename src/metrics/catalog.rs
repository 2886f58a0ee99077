//! The names, units and meanings of every metric a run reports.
//!
//! Scenario validation checks `[expect]` keys against this catalog before a
//! run starts, the summary builder fills exactly these names, and the README
//! table is written from it. Names are `link.<id>.<metric>` for each link
//! direction and `session.<name>.<metric>` for each session.

use super::summary::Unit;
use crate::scenario::ProtocolKind;

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

const fn def(name: &'static str, unit: Unit, meaning: &'static str) -> MetricDef {
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
        "packet copies that arrived by the end (duplicates included)",
    ),
    def(
        "in_queue_at_end",
        Unit::Count,
        "copies still waiting for or in transmission at the end",
    ),
    def(
        "in_flight_at_end",
        Unit::Count,
        "copies sent but not yet arrived at the end",
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
    def(
        "loss_rate",
        Unit::Ratio,
        "dropped / (dropped + delivered): of the copies settled by the end",
    ),
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

/// Metrics of a `tcp-bulk` session, all clients together.
pub const TCP_BULK_METRICS: &[MetricDef] = &[
    def("goodput", Unit::BitsPerSecond, "application bytes read × 8 / time from the session's start to the last client's end of stream (or the end of the run)"),
    def("bytes", Unit::Bytes, "application bytes the clients read"),
    def("clients_failed", Unit::Count, "clients that could not connect or lost their connection"),
    def(
        "startup",
        Unit::Seconds,
        "connect start → first byte read (largest over clients)",
    ),
    def("segments", Unit::Count, "TCP segments the server sent"),
    def("wire_bytes", Unit::Bytes, "IP bytes the server sent"),
    def(
        "retransmissions",
        Unit::Count,
        "segments retransmitted (tshark's count)",
    ),
    def(
        "retransmission_rate",
        Unit::Ratio,
        "retransmissions / segments",
    ),
    def(
        "fast_retransmits",
        Unit::Count,
        "retransmissions after three duplicate ACKs",
    ),
    def(
        "rto_count",
        Unit::Count,
        "retransmission timeouts (episodes)",
    ),
    def(
        "spurious_retransmissions",
        Unit::Count,
        "retransmissions of data already acknowledged",
    ),
];

/// Metrics of a `udp-cbr` session, all clients together.
pub const UDP_CBR_METRICS: &[MetricDef] = &[
    def(
        "sent",
        Unit::Count,
        "datagrams the server sent, counted once per client",
    ),
    def(
        "received",
        Unit::Count,
        "datagrams the clients received (duplicates excluded)",
    ),
    def(
        "in_flight",
        Unit::Count,
        "datagrams sent within the slowest observed delay of the end, not yet received",
    ),
    def("lost", Unit::Count, "sent − received − in_flight"),
    def("loss_rate", Unit::Ratio, "lost / (sent − in_flight)"),
    def(
        "reordered",
        Unit::Count,
        "datagrams that arrived after a later-sent one",
    ),
    def(
        "goodput",
        Unit::BitsPerSecond,
        "payload bits received by all clients / time the stream ran",
    ),
    def("delay_p50", Unit::Seconds, "one-way delay, median"),
    def("delay_p90", Unit::Seconds, "one-way delay, 90th percentile"),
    def("delay_p99", Unit::Seconds, "one-way delay, 99th percentile"),
    def("delay_max", Unit::Seconds, "one-way delay, largest"),
    def(
        "jitter",
        Unit::Seconds,
        "RFC 3550 interarrival jitter at the end of the run (largest over clients)",
    ),
    def(
        "max_loss_burst",
        Unit::Count,
        "longest run of consecutive lost datagrams",
    ),
];

/// The metrics of a session of `protocol`.
pub fn session_metrics(protocol: ProtocolKind) -> &'static [MetricDef] {
    match protocol {
        ProtocolKind::TcpBulk => TCP_BULK_METRICS,
        ProtocolKind::UdpCbr => UDP_CBR_METRICS,
    }
}

/// The session tables, in the order [`session_table_for`] prefers on ties.
const SESSION_TABLES: [&[MetricDef]; 2] = [TCP_BULK_METRICS, UDP_CBR_METRICS];

/// The definition of a full metric name: `link.<id>.<metric>` is looked up in
/// [`LINK_METRICS`], `session.<name>.<metric>` in the session tables
/// (tcp-bulk first, so a shared name such as `goodput` gets the tcp-bulk
/// meaning; use [`session_table_for`] when the session's other metrics are
/// at hand).
pub fn find(metric_name: &str) -> Option<&'static MetricDef> {
    let (_, last) = metric_name.rsplit_once('.')?;
    if metric_name.starts_with("link.") {
        find_in(LINK_METRICS, last)
    } else if metric_name.starts_with("session.") {
        SESSION_TABLES.iter().find_map(|table| find_in(table, last))
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

/// The session table that defines the most of `last_names` (the last name
/// components of one session's metrics): the way to tell a tcp-bulk session
/// from a udp-cbr one when only the summary is at hand. Ties go to tcp-bulk;
/// `None` when no table defines any of them.
pub fn session_table_for<'a>(
    last_names: impl IntoIterator<Item = &'a str> + Clone,
) -> Option<&'static [MetricDef]> {
    let mut best: Option<(&'static [MetricDef], usize)> = None;
    for table in SESSION_TABLES {
        let hits = last_names
            .clone()
            .into_iter()
            .filter(|last| find_in(table, last).is_some())
            .count();
        if hits > 0 && best.is_none_or(|(_, most)| hits > most) {
            best = Some((table, hits));
        }
    }
    best.map(|(table, _)| table)
}
