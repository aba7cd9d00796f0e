//! Snapshots of the whole state, and reset.

use crate::store::rows::SNAPSHOT_TABLES;
use rusqlite::params;

use super::{SqliteTx, db, from_ms, ms};
use crate::domain::Result;
use crate::domain::server::Timestamp;
use crate::store::{SnapshotReads, SnapshotWrites};

impl SqliteTx<'_> {
    /// The column names of a table, in order.
    fn columns(&self, table: &str) -> Result<Vec<String>> {
        let mut stmt = self.tx.prepare(&format!("PRAGMA table_info({table})")).map_err(db)?;
        stmt.query_map([], |r| r.get::<_, String>(1)).map_err(db)?.map(|r| r.map_err(db)).collect()
    }
}

impl SnapshotReads for SqliteTx<'_> {
    fn snapshots(&mut self) -> Result<Vec<(String, Timestamp)>> {
        let mut stmt = self.tx.prepare_cached("SELECT name, created_ms FROM snapshots ORDER BY name").map_err(db)?;
        stmt.query_map([], |r| Ok((r.get(0)?, from_ms(r.get(1)?)))).map_err(db)?.map(|r| r.map_err(db)).collect()
    }
}

impl SnapshotWrites for SqliteTx<'_> {
    fn reset(&mut self, project_id: Option<&str>) -> Result<()> {
        match project_id {
            Some(project) => {
                self.tx.execute("DELETE FROM address_hints WHERE project_id = ?1", [project]).map_err(db)?;
                for table in SNAPSHOT_TABLES.iter().rev() {
                    self.tx.execute(&format!("DELETE FROM {table} WHERE project_id = ?1"), [project]).map_err(db)?;
                }
            }
            None => {
                for table in SNAPSHOT_TABLES.iter().rev().chain(&["fault_rules", "address_hints"]) {
                    self.tx.execute(&format!("DELETE FROM {table}"), []).map_err(db)?;
                }
            }
        }
        Ok(())
    }

    fn save_snapshot(&mut self, name: &str, at: Timestamp) -> Result<()> {
        self.delete_snapshot(name)?;
        for table in SNAPSHOT_TABLES {
            self.tx.execute(&format!("INSERT INTO snapshot_{table} SELECT ?1, * FROM {table}"), [name]).map_err(db)?;
        }
        self.tx
            .execute("INSERT INTO snapshots (name, created_ms) VALUES (?1, ?2)", params![name, ms(at)])
            .map(drop)
            .map_err(db)
    }

    fn restore_snapshot(&mut self, name: &str) -> Result<bool> {
        let exists = self
            .tx
            .prepare_cached("SELECT 1 FROM snapshots WHERE name = ?1")
            .and_then(|mut s| s.exists([name]))
            .map_err(db)?;
        if !exists {
            return Ok(false);
        }
        for table in SNAPSHOT_TABLES.iter().rev().chain(&["address_hints"]) {
            self.tx.execute(&format!("DELETE FROM {table}"), []).map_err(db)?;
        }
        for table in SNAPSHOT_TABLES {
            let columns = self.columns(table)?.join(", ");
            self.tx
                .execute(
                    &format!(
                        "INSERT INTO {table} ({columns}) SELECT {columns} FROM snapshot_{table} WHERE snapshot = ?1"
                    ),
                    [name],
                )
                .map_err(db)?;
        }
        Ok(true)
    }

    fn delete_snapshot(&mut self, name: &str) -> Result<bool> {
        for table in SNAPSHOT_TABLES {
            self.tx.execute(&format!("DELETE FROM snapshot_{table} WHERE snapshot = ?1"), [name]).map_err(db)?;
        }
        self.tx.execute("DELETE FROM snapshots WHERE name = ?1", [name]).map(|n| n == 1).map_err(db)
    }
}
