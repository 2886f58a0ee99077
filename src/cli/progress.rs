//! Progress on stderr while a scenario runs (only when stderr is a
//! terminal), and Ctrl-C handling.
//!
//! The first Ctrl-C (or SIGTERM, or SIGHUP: what CI systems and `timeout`
//! send) asks the run to stop: the simulation ends at its next step and the
//! report is written, marked incomplete. A second one exits at once, after
//! removing the temporary files of writes in progress. Signals within
//! [`REPEAT_WINDOW`] of the first count as that first one: `timeout` sends
//! its SIGTERM both to its command and to the command's process group, so
//! one request arrives twice.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::sim::Progress;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static HANDLER: Once = Once::new();
/// When the first signal arrived.
static FIRST: OnceLock<Instant> = OnceLock::new();

/// How long after the first signal another one is the same request.
const REPEAT_WINDOW: Duration = Duration::from_millis(250);

/// Installs the handler of Ctrl-C, SIGTERM and SIGHUP (once per process).
pub(super) fn catch_interrupt() {
    HANDLER.call_once(|| {
        let installed = ctrlc::set_handler(|| {
            let first = *FIRST.get_or_init(Instant::now);
            if INTERRUPTED.swap(true, Ordering::SeqCst) && first.elapsed() >= REPEAT_WINDOW {
                crate::runner::exit_removing_temp_files(130);
            }
        });
        if let Err(e) = installed {
            eprintln!("warning: Ctrl-C will not write a partial report: {e}");
        }
    });
}

/// True once Ctrl-C was pressed (or SIGTERM or SIGHUP received).
pub(super) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// A progress bar showing simulated time and the speed factor, or nothing.
pub(super) struct Bar {
    bar: Option<ProgressBar>,
    started: Instant,
    next: Duration,
}

impl Bar {
    /// A bar for a run of `duration` labelled `label`; hidden when `show`
    /// is false or stderr is not a terminal.
    pub(super) fn new(label: &str, duration: Duration, show: bool) -> Bar {
        let bar = (show && std::io::stderr().is_terminal()).then(|| {
            let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
            let bar = ProgressBar::with_draw_target(Some(millis), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{prefix} [{bar:30}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(label.to_owned());
            bar
        });
        Bar {
            bar,
            started: Instant::now(),
            next: Duration::ZERO,
        }
    }

    /// Shows `p` (at most every 100 ms of simulated time).
    pub(super) fn step(&mut self, p: Progress) {
        let Some(bar) = &self.bar else { return };
        if p.elapsed < self.next && p.elapsed < p.duration {
            return;
        }
        self.next = p.elapsed + Duration::from_millis(100);
        let wall = self.started.elapsed().as_secs_f64().max(1e-6);
        bar.set_position(u64::try_from(p.elapsed.as_millis()).unwrap_or(u64::MAX));
        bar.set_message(format!(
            "{:.1} s / {:.1} s simulated · {:.0}× real time",
            p.elapsed.as_secs_f64(),
            p.duration.as_secs_f64(),
            p.elapsed.as_secs_f64() / wall
        ));
    }

    /// Removes the bar.
    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
