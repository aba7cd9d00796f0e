//! Simulated time.

use super::{SqliteTx, db};
use crate::domain::Result;
use crate::store::{ClockReads, ClockWrites};

impl ClockReads for SqliteTx<'_> {
    fn clock_advanced_ms(&mut self) -> Result<i64> {
        self.tx.query_row("SELECT advanced_ms FROM clock WHERE id = 1", [], |r| r.get(0)).map_err(db)
    }
}

impl ClockWrites for SqliteTx<'_> {
    fn advance_clock(&mut self, by_ms: i64) -> Result<()> {
        self.tx.execute("UPDATE clock SET advanced_ms = advanced_ms + ?1 WHERE id = 1", [by_ms]).map(drop).map_err(db)
    }
}
