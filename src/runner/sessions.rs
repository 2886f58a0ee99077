//! Starts every session of a scenario through its protocol's entry in the
//! registry: one code path, whatever the protocol.

use std::time::Duration;

use crate::metrics::{EventSink, Recorder, SessionInfo};
use crate::proto::{self, InstallError, MediaFeed, SessionEnd, SessionSetup};
use crate::scenario::{Scenario, SessionSpec};
use crate::sim::{Harness, RunReport};

/// One installed session.
pub(super) struct Installed<'s> {
    spec: &'s SessionSpec,
    recorder: Recorder,
    end: Box<dyn SessionEnd>,
}

impl Installed<'_> {
    /// Closes the session at `end` and gives its summary entry.
    pub(super) fn finish(&mut self, end: Duration, report: &RunReport) -> SessionInfo {
        self.end.finish(end, report);
        SessionInfo {
            protocol: self.spec.protocol.to_owned(),
            server: self.spec.server.clone(),
            clients: self.spec.clients.clone(),
            errors: self.recorder.errors(),
        }
    }

    /// Its series for the plots (after `finish`).
    pub(super) fn plots(&self) -> crate::proto::SessionPlots {
        self.end.plots()
    }

    /// The session's name.
    pub(super) fn name(&self) -> &str {
        &self.spec.name
    }

    /// What it recorded.
    pub(super) fn recorder(&self) -> &Recorder {
        &self.recorder
    }
}

/// Adds every session's apps to `harness`, in scenario order; each records
/// into its own recorder and the shared `events`.
pub(super) fn install<'s>(
    harness: &mut Harness,
    scenario: &'s Scenario,
    media: Option<&MediaFeed>,
    events: &EventSink,
) -> Result<Vec<Installed<'s>>, InstallError> {
    let mut installed = Vec::new();
    for spec in &scenario.sessions {
        let protocol = proto::find(spec.protocol).ok_or_else(|| InstallError::Media {
            session: spec.name.clone(),
            message: format!("this version has no protocol {:?}", spec.protocol),
        })?;
        let recorder = Recorder::new(&spec.name, protocol.metrics, events.clone());
        let setup = SessionSetup {
            spec,
            recorder: recorder.clone(),
            media: if protocol.media { media } else { None },
            run: scenario.duration,
            mtu: scenario.mtu,
            seed: crate::sim::seed::derive_seed(scenario.seed, &format!("session:{}", spec.name)),
            epoch: crate::sim::DEFAULT_EPOCH,
        };
        let end = (protocol.install)(harness, setup)?;
        installed.push(Installed {
            spec,
            recorder,
            end,
        });
    }
    Ok(installed)
}
