//! Each project's recycle bin and the servers in it.

use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteTx, db, from_ms, ms};
use crate::domain::Result;
use crate::domain::recycle_bin::{RecycleBin, Recycled};
use crate::domain::server::Timestamp;
use crate::store::{RecycleBinReads, RecycleBinWrites};

fn recycled_from_row(row: &Row) -> rusqlite::Result<Recycled> {
    Ok(Recycled {
        server_id: row.get(0)?,
        project_id: row.get(1)?,
        at: from_ms(row.get(2)?),
        purge_at: from_ms(row.get(3)?),
        job_id: row.get(4)?,
    })
}

impl RecycleBinReads for SqliteTx<'_> {
    fn recycle_bin(&mut self, project_id: &str) -> Result<Option<RecycleBin>> {
        self.tx
            .prepare_cached("SELECT enabled, retention_hours, threshold_days FROM recycle_bins WHERE project_id = ?1")
            .and_then(|mut s| {
                s.query_row([project_id], |r| {
                    Ok(RecycleBin {
                        project_id: project_id.to_string(),
                        enabled: r.get(0)?,
                        retention_hours: r.get(1)?,
                        threshold_days: r.get(2)?,
                    })
                })
                .optional()
            })
            .map_err(db)
    }

    fn recycled(&mut self, project_id: &str, server_id: &str) -> Result<Option<Recycled>> {
        self.tx
            .prepare_cached(
                "SELECT server_id, project_id, recycled_ms, purge_ms, job_id FROM recycled_servers
                 WHERE server_id = ?1 AND project_id = ?2",
            )
            .and_then(|mut s| s.query_row([server_id, project_id], recycled_from_row).optional())
            .map_err(db)
    }

    fn recycled_count(&mut self, project_id: &str) -> Result<u64> {
        let count: i64 = self
            .tx
            .prepare_cached("SELECT COUNT(*) FROM recycled_servers WHERE project_id = ?1")
            .and_then(|mut s| s.query_row([project_id], |r| r.get(0)))
            .map_err(db)?;
        Ok(count.max(0) as u64)
    }

    fn due_recycled(&mut self, until: Timestamp) -> Result<Vec<Recycled>> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT server_id, project_id, recycled_ms, purge_ms, job_id FROM recycled_servers
                 WHERE job_id IS NULL AND purge_ms <= ?1 ORDER BY purge_ms, server_id",
            )
            .map_err(db)?;
        stmt.query_map([ms(until)], recycled_from_row).map_err(db)?.map(|r| r.map_err(db)).collect()
    }
}

impl RecycleBinWrites for SqliteTx<'_> {
    fn put_recycle_bin(&mut self, bin: &RecycleBin) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO recycle_bins (project_id, enabled, retention_hours, threshold_days)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| s.execute(params![bin.project_id, bin.enabled, bin.retention_hours, bin.threshold_days]))
            .map(drop)
            .map_err(db)
    }

    fn put_recycled(&mut self, r: &Recycled) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO recycled_servers (server_id, project_id, recycled_ms, purge_ms, job_id)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| s.execute(params![r.server_id, r.project_id, ms(r.at), ms(r.purge_at), r.job_id]))
            .map(drop)
            .map_err(db)
    }

    fn delete_recycled(&mut self, server_id: &str) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM recycled_servers WHERE server_id = ?1")
            .and_then(|mut s| s.execute([server_id]))
            .map(drop)
            .map_err(db)
    }
}
