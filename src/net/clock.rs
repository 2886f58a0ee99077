//! The one clock: simulated time since scenario start.
//!
//! Inside a turmoil host, tokio's clock is paused and advances only as the
//! simulation steps, jumping straight to the next timer. Tokio's timers have a
//! resolution of one millisecond, so a host's tokio clock only ever stands on
//! a millisecond grid. Network events (a packet due at 12.345678 ms) need finer
//! time than that, so a [`HostClock`] adds a *virtual* part:
//!
//! * the host's NIC driver wakes at the grid point at or before its next
//!   event, and moves the clock forward to the event's exact time with
//!   `HostClock::advance_to` before handling it;
//! * [`HostClock::now`] is the later of tokio's time and that virtual time, so
//!   it never goes backwards and every reader on the host agrees.
//!
//! Handling an event a fraction of a millisecond "early" in tokio's terms is
//! safe because nothing from another host can arrive within that millisecond:
//! links of at least one tick of delay carry every packet. Application timers
//! (`tokio::time::sleep`) keep tokio's 1 ms resolution.
//!
//! Nothing in the simulator reads the wall clock.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use tokio::time::Instant;

/// Tokio's timer resolution.
const TIMER_GRID: Duration = Duration::from_millis(1);

/// A host's simulated clock.
#[derive(Clone, Debug)]
pub struct HostClock {
    origin: Instant,
    sim_origin: Duration,
    ahead: Rc<Cell<Duration>>,
}

impl HostClock {
    /// Pins the current host's tokio clock to simulated time. Call it inside a
    /// turmoil host, at its start; outside one, simulated time starts at zero.
    pub fn start() -> HostClock {
        let sim_origin = turmoil::sim_elapsed().unwrap_or_default();
        HostClock {
            origin: Instant::now(),
            sim_origin,
            ahead: Rc::new(Cell::new(sim_origin)),
        }
    }

    /// Simulated time since scenario start.
    pub fn now(&self) -> Duration {
        self.tokio_now().max(self.ahead.get())
    }

    /// Waits until simulated time `at` (at once when it has passed). Tokio's
    /// timers round up to the millisecond grid, so on return
    /// [`HostClock::now`] is at or after `at`, at most 1 ms later.
    pub async fn sleep_until(&self, at: Duration) {
        if at > self.now() {
            let instant = self.origin + at.saturating_sub(self.sim_origin);
            tokio::time::sleep_until(instant).await;
        }
    }

    /// Moves this host's time forward to `t` (never backwards). Only the NIC
    /// driver calls this, for an event due within the current millisecond.
    pub(crate) fn advance_to(&self, t: Duration) {
        if t > self.ahead.get() {
            self.ahead.set(t);
        }
    }

    /// Whether an event due at `t` falls within the millisecond that `now`
    /// (a reading of [`HostClock::now`]) stands in, so it can be handled
    /// without sleeping. tokio's clock only stands on the millisecond grid
    /// and the virtual part never runs a millisecond ahead of it, so the
    /// grid slot of `now` is tokio's time.
    pub(crate) fn same_millisecond(&self, t: Duration, now: Duration) -> bool {
        self.grid_floor(t) <= self.grid_floor(now)
    }

    /// The tokio instant to sleep until for an event due at `t`: the timer
    /// grid point at or before it (tokio would round a finer deadline up).
    pub(crate) fn wake_instant(&self, t: Duration) -> Instant {
        self.origin + self.grid_floor(t).saturating_sub(self.sim_origin)
    }

    fn tokio_now(&self) -> Duration {
        self.sim_origin + self.origin.elapsed()
    }

    /// `t` rounded down to the timer grid (which starts at the host's start).
    fn grid_floor(&self, t: Duration) -> Duration {
        let rel = t.saturating_sub(self.sim_origin);
        let grid = TIMER_GRID.as_nanos();
        let floored = u64::try_from(rel.as_nanos() / grid * grid).unwrap_or(u64::MAX);
        self.sim_origin + Duration::from_nanos(floored)
    }
}
