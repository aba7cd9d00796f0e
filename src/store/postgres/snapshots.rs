//! Snapshots of the whole state, and reset.

use super::{PgTx, from_ms, ms};
use crate::domain::Result;
use crate::domain::server::Timestamp;
use crate::store::rows::SNAPSHOT_TABLES;
use crate::store::{SnapshotReads, SnapshotWrites};

impl PgTx<'_> {
    /// The column names of a table a row can be written with (generated ones are left out).
    fn columns(&self, table: &str) -> Result<Vec<String>> {
        let rows = self.rows(
            "SELECT column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER'
             ORDER BY ordinal_position",
            &[&table],
        )?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }
}

impl SnapshotReads for PgTx<'_> {
    fn snapshots(&mut self) -> Result<Vec<(String, Timestamp)>> {
        let rows = self.rows("SELECT name, created_ms FROM snapshots ORDER BY name", &[])?;
        Ok(rows.iter().map(|row| (row.get(0), from_ms(row.get(1)))).collect())
    }
}

impl SnapshotWrites for PgTx<'_> {
    fn reset(&mut self, project_id: Option<&str>) -> Result<()> {
        match project_id {
            Some(project) => {
                self.exec("DELETE FROM address_hints WHERE project_id = $1", &[&project])?;
                for table in SNAPSHOT_TABLES.iter().rev() {
                    self.exec(&format!("DELETE FROM {table} WHERE project_id = $1"), &[&project])?;
                }
            }
            None => {
                for table in SNAPSHOT_TABLES.iter().rev().chain(&["fault_rules", "address_hints"]) {
                    self.exec(&format!("DELETE FROM {table}"), &[])?;
                }
            }
        }
        Ok(())
    }

    fn save_snapshot(&mut self, name: &str, at: Timestamp) -> Result<()> {
        self.delete_snapshot(name)?;
        for table in SNAPSHOT_TABLES {
            self.exec(&format!("INSERT INTO snapshot_{table} SELECT $1, * FROM {table}"), &[&name])?;
        }
        self.exec("INSERT INTO snapshots (name, created_ms) VALUES ($1, $2)", &[&name, &ms(at)]).map(drop)
    }

    fn restore_snapshot(&mut self, name: &str) -> Result<bool> {
        if !self.exists("SELECT 1 FROM snapshots WHERE name = $1", &[&name])? {
            return Ok(false);
        }
        for table in SNAPSHOT_TABLES.iter().rev().chain(&["address_hints"]) {
            self.exec(&format!("DELETE FROM {table}"), &[])?;
        }
        for table in SNAPSHOT_TABLES {
            let columns = self.columns(table)?.join(", ");
            self.exec(
                &format!("INSERT INTO {table} ({columns}) SELECT {columns} FROM snapshot_{table} WHERE snapshot = $1"),
                &[&name],
            )?;
        }
        Ok(true)
    }

    fn delete_snapshot(&mut self, name: &str) -> Result<bool> {
        for table in SNAPSHOT_TABLES {
            self.exec(&format!("DELETE FROM snapshot_{table} WHERE snapshot = $1"), &[&name])?;
        }
        self.exec("DELETE FROM snapshots WHERE name = $1", &[&name]).map(|n| n == 1)
    }
}
