//! The run's event log: what sessions recorded while they ran, link drops
//! and TCP retransmissions from every NIC, and the scenario's scheduled
//! link changes and outages, in scenario vocabulary and time order.

use std::collections::BTreeMap;
use std::time::Duration;

use super::directions;
use crate::metrics::{Event, EventCounts, EventKind, EventLog};
use crate::net::link::{LinkChange, LinkConfig};
use crate::net::nic::NicEventKind;
use crate::scenario::Scenario;
use crate::sim::RunReport;

/// The events, sorted by time, and their counts: `log` holds what the
/// sessions recorded; the network's and the schedule's are added to it.
pub(super) fn collect(
    scenario: &Scenario,
    report: &RunReport,
    mut log: EventLog,
) -> (Vec<Event>, EventCounts) {
    let elapsed = report.elapsed;
    // Egress names (`server->client`) to link direction ids (`down`).
    let mut ids = BTreeMap::new();
    for dir in directions(scenario) {
        schedule_events(&mut log, &dir.id, dir.config, elapsed);
        ids.insert(dir.egress, dir.id);
    }
    let mut dropped_at_nics = 0;
    for host in &report.hosts {
        dropped_at_nics += host.events_dropped;
        for event in &host.events {
            let kind = match &event.kind {
                NicEventKind::Drop { link, cause, bytes } => EventKind::PacketDrop {
                    link: ids.get(link).cloned().unwrap_or_else(|| link.clone()),
                    cause: cause.as_str().to_owned(),
                    bytes: *bytes as u64,
                },
                NicEventKind::Retransmission {
                    key,
                    fast,
                    timeout,
                    spurious,
                } => EventKind::Retransmission {
                    host: host.name.clone(),
                    flow: format!("{} -> {}", key.src, key.dst),
                    kind: if *timeout {
                        "timeout"
                    } else if *fast {
                        "fast"
                    } else {
                        "other"
                    }
                    .to_owned(),
                    spurious: *spurious,
                },
            };
            log.push(event.at, kind);
        }
    }
    let counts_dropped = log.dropped() + dropped_at_nics;
    let (events, _) = log.into_sorted();
    let counts = EventCounts {
        logged: events.len() as u64,
        dropped: counts_dropped,
    };
    (events, counts)
}

/// Link changes (with the state the link is in afterwards, in netem words)
/// and outage windows that fall within the run.
fn schedule_events(log: &mut EventLog, id: &str, config: &LinkConfig, elapsed: Duration) {
    let mut state = LinkConfig {
        outages: Vec::new(),
        schedule: Vec::new(),
        ..config.clone()
    };
    let mut changes = config.schedule.clone();
    changes.sort_by_key(|c| c.at);
    for change in changes.iter().filter(|c| c.at <= elapsed) {
        change.change.apply_to(&mut state);
        log.push(
            change.at,
            EventKind::LinkChange {
                link: id.to_owned(),
                change: describe(&change.change, &state),
            },
        );
    }
    for outage in &config.outages {
        if outage.start <= elapsed {
            let link = id.to_owned();
            log.push(outage.start, EventKind::OutageStart { link });
        }
        if outage.end <= elapsed {
            let link = id.to_owned();
            log.push(outage.end, EventKind::OutageEnd { link });
        }
    }
}

fn describe(change: &LinkChange, state: &LinkConfig) -> String {
    let mut text = format!("now: {state}");
    if change.trace.is_some() {
        text.push_str(if state.trace.is_some() {
            " trace"
        } else {
            " (trace removed)"
        });
    }
    text
}
