//! Time, injected: the engine and the services read the clock they are given. The clock can
//! be moved forward (the control API's time control), never back.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use crate::domain::server::Timestamp;

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
    /// Moves the clock forward by `by`.
    fn advance(&self, by: std::time::Duration);
    /// Takes in that simulated time was advanced by `advanced_ms` in all (by another replica
    /// sharing the store), unless this process is moving it itself just now ([`Moving`]).
    fn catch_up(&self, _advanced_ms: i64) {}
    /// Starts (`true`) or ends a move of this process's own; see [`Moving`].
    fn moving(&self, _on: bool) {}
}

/// While held, the clock is moved by this process only: an advance stores its whole amount
/// first, then moves the clock step by step, which a catch-up must not cut short.
pub struct Moving<'a>(&'a dyn Clock);

impl<'a> Moving<'a> {
    pub fn new(clock: &'a dyn Clock) -> Self {
        clock.moving(true);
        Moving(clock)
    }
}

impl Drop for Moving<'_> {
    fn drop(&mut self) {
        self.0.moving(false);
    }
}

/// The system clock plus whatever it has been advanced by.
#[derive(Default)]
pub struct SystemClock {
    advanced_ms: AtomicI64,
    /// Moves of this process's own in progress.
    moving: AtomicUsize,
}

impl SystemClock {
    /// A clock already advanced by `advanced_ms` (as stored from an earlier run).
    pub fn advanced_by_ms(advanced_ms: i64) -> Self {
        SystemClock { advanced_ms: AtomicI64::new(advanced_ms), moving: AtomicUsize::new(0) }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let now = Timestamp::now_utc();
        // Saturates rather than panics; advances are bounded far below this anyway.
        now.checked_add(time::Duration::milliseconds(self.advanced_ms.load(Ordering::Relaxed))).unwrap_or(now)
    }

    fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.advanced_ms.fetch_add(ms, Ordering::Relaxed);
    }

    fn catch_up(&self, advanced_ms: i64) {
        if self.moving.load(Ordering::SeqCst) == 0 {
            self.advanced_ms.fetch_max(advanced_ms, Ordering::Relaxed);
        }
    }

    fn moving(&self, on: bool) {
        if on {
            self.moving.fetch_add(1, Ordering::SeqCst);
        } else {
            self.moving.fetch_sub(1, Ordering::SeqCst);
        }
    }
}
