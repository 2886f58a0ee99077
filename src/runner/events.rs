//! The run's event log: session milestones, link drops and TCP
//! retransmissions from every NIC, and the scenario's scheduled link
//! changes and outages, in scenario vocabulary and time order.

use std::collections::BTreeMap;
use std::time::Duration;

use super::directions;
use super::sessions::Probe;
use crate::metrics::{Event, EventCounts, EventKind, EventLog};
use crate::net::link::{LinkChange, LinkConfig};
use crate::net::nic::NicEventKind;
use crate::scenario::{Scenario, SessionSpec};
use crate::sim::RunReport;

/// The events, sorted by time, and their counts.
pub(super) fn collect(
    scenario: &Scenario,
    report: &RunReport,
    probes: &[Probe],
) -> (Vec<Event>, EventCounts) {
    let mut log = EventLog::default();
    let elapsed = report.elapsed;
    // Egress names (`server->client`) to link direction ids (`down`).
    let mut ids = BTreeMap::new();
    for dir in directions(scenario) {
        schedule_events(&mut log, &dir.id, dir.config, elapsed);
        ids.insert(dir.egress, dir.id);
    }
    for (session, probe) in scenario.sessions.iter().zip(probes) {
        session_events(&mut log, session, probe, elapsed);
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

fn session_events(log: &mut EventLog, spec: &SessionSpec, probe: &Probe, elapsed: Duration) {
    let (session, server) = (spec.name.as_str(), spec.server.as_str());
    let mut push = |at: Option<Duration>, kind: EventKind| {
        if let Some(at) = at.filter(|t| *t <= elapsed) {
            log.push(at, kind);
        }
    };
    let message = |host: &str, message: &str| EventKind::ProtocolMessage {
        session: session.to_owned(),
        host: host.to_owned(),
        message: message.to_owned(),
    };
    match probe {
        Probe::Bulk { clients } => {
            for (client, stats) in clients {
                let s = stats.borrow();
                let start = EventKind::SessionStart {
                    session: session.to_owned(),
                    client: client.clone(),
                };
                push(s.started, start);
                push(
                    s.connected,
                    message(client, &format!("connected to {server}")),
                );
                push(s.first_byte, message(client, "first byte"));
                push(s.finished, message(client, "end of stream"));
                if let Some((at, error)) = &s.error {
                    push(Some(*at), message(client, &format!("error: {error}")));
                }
            }
        }
        Probe::Cbr {
            clients, started, ..
        } => {
            for (client, _) in clients {
                let start = EventKind::SessionStart {
                    session: session.to_owned(),
                    client: client.clone(),
                };
                push(started.get(), start);
            }
        }
    }
}
