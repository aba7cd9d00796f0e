//! Time, injected: the engine and the services read the clock they are given. The clock can
//! be moved forward (the control API's time control), never back.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::domain::server::Timestamp;

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
    /// Moves the clock forward by `by`.
    fn advance(&self, by: std::time::Duration);
}

/// The system clock plus whatever it has been advanced by.
#[derive(Default)]
pub struct SystemClock {
    advanced_ms: AtomicI64,
}

impl SystemClock {
    /// A clock already advanced by `advanced_ms` (as stored from an earlier run).
    pub fn advanced_by_ms(advanced_ms: i64) -> Self {
        SystemClock { advanced_ms: AtomicI64::new(advanced_ms) }
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
}
