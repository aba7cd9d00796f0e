//! Each project's recycle bin and the servers in it.

use tokio_postgres::Row;

use super::{PgTx, from_ms, ms};
use crate::domain::recycle_bin::{RecycleBin, Recycled};
use crate::domain::server::Timestamp;
use crate::domain::{Error, Result};
use crate::store::{RecycleBinReads, RecycleBinWrites};

fn recycled_from_row(row: &Row) -> Recycled {
    Recycled {
        server_id: row.get(0),
        project_id: row.get(1),
        at: from_ms(row.get(2)),
        purge_at: from_ms(row.get(3)),
        job_id: row.get(4),
    }
}

fn hours(value: i64) -> Result<u32> {
    u32::try_from(value).map_err(Error::internal)
}

impl RecycleBinReads for PgTx<'_> {
    fn recycle_bin(&mut self, project_id: &str) -> Result<Option<RecycleBin>> {
        let row = self.row(
            "SELECT enabled, retention_hours, threshold_days FROM recycle_bins WHERE project_id = $1",
            &[&project_id],
        )?;
        row.map(|r| {
            Ok(RecycleBin {
                project_id: project_id.to_string(),
                enabled: r.get(0),
                retention_hours: hours(r.get(1))?,
                threshold_days: hours(r.get(2))?,
            })
        })
        .transpose()
    }

    fn recycled(&mut self, project_id: &str, server_id: &str) -> Result<Option<Recycled>> {
        let row = self.row(
            "SELECT server_id, project_id, recycled_ms, purge_ms, job_id FROM recycled_servers
             WHERE server_id = $1 AND project_id = $2",
            &[&server_id, &project_id],
        )?;
        Ok(row.as_ref().map(recycled_from_row))
    }

    fn recycled_count(&mut self, project_id: &str) -> Result<u64> {
        let row = self.row("SELECT COUNT(*) FROM recycled_servers WHERE project_id = $1", &[&project_id])?;
        Ok(row.map_or(0, |row| row.get::<_, i64>(0).max(0) as u64))
    }

    fn due_recycled(&mut self, until: Timestamp) -> Result<Vec<Recycled>> {
        let rows = self.rows(
            "SELECT server_id, project_id, recycled_ms, purge_ms, job_id FROM recycled_servers
             WHERE job_id IS NULL AND purge_ms <= $1 ORDER BY purge_ms, server_id",
            &[&ms(until)],
        )?;
        Ok(rows.iter().map(recycled_from_row).collect())
    }
}

impl RecycleBinWrites for PgTx<'_> {
    fn put_recycle_bin(&mut self, bin: &RecycleBin) -> Result<()> {
        self.exec(
            "INSERT INTO recycle_bins (project_id, enabled, retention_hours, threshold_days) VALUES ($1, $2, $3, $4)
             ON CONFLICT (project_id) DO UPDATE SET enabled = excluded.enabled,
             retention_hours = excluded.retention_hours, threshold_days = excluded.threshold_days",
            &[&bin.project_id, &bin.enabled, &i64::from(bin.retention_hours), &i64::from(bin.threshold_days)],
        )
        .map(drop)
    }

    fn put_recycled(&mut self, r: &Recycled) -> Result<()> {
        self.exec(
            "INSERT INTO recycled_servers (server_id, project_id, recycled_ms, purge_ms, job_id) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (server_id) DO UPDATE SET project_id = excluded.project_id,
             recycled_ms = excluded.recycled_ms, purge_ms = excluded.purge_ms, job_id = excluded.job_id",
            &[&r.server_id, &r.project_id, &ms(r.at), &ms(r.purge_at), &r.job_id],
        )
        .map(drop)
    }

    fn delete_recycled(&mut self, server_id: &str) -> Result<()> {
        self.exec("DELETE FROM recycled_servers WHERE server_id = $1", &[&server_id]).map(drop)
    }
}
