//! Simulated time.

use super::PgTx;
use crate::domain::Result;
use crate::store::{ClockReads, ClockWrites};

impl ClockReads for PgTx<'_> {
    fn clock_advanced_ms(&mut self) -> Result<i64> {
        let row = self.row("SELECT advanced_ms FROM clock WHERE id = 1", &[])?;
        Ok(row.map_or(0, |row| row.get(0)))
    }
}

impl ClockWrites for PgTx<'_> {
    fn advance_clock(&mut self, by_ms: i64) -> Result<()> {
        self.exec("UPDATE clock SET advanced_ms = advanced_ms + $1 WHERE id = 1", &[&by_ms]).map(drop)
    }
}
