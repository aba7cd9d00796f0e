//! Server history, scheduled deletions and scheduled events.

use rusqlite::{OptionalExtension, params};

use super::jobs::{SUB_JOB_COLUMNS, decode_sub_job, sub_job_from_row};
use super::{SqliteTx, db, from_ms, ms};
use crate::domain::job::SubJob;
use crate::domain::lifecycle::{AutoTermination, ServerEvent, ServerEventKind};
use crate::domain::scheduled_events::ScheduledEvent;
use crate::domain::server::Timestamp;
use crate::domain::{Error, Result};
use crate::store::{LifecycleReads, LifecycleWrites};

fn termination_from_row(row: &rusqlite::Row) -> rusqlite::Result<AutoTermination> {
    Ok(AutoTermination {
        server_id: row.get(0)?,
        project_id: row.get(1)?,
        at: from_ms(row.get(2)?),
        job_id: row.get(3)?,
    })
}

fn event_from_doc(doc: String) -> Result<ScheduledEvent> {
    serde_json::from_str(&doc).map_err(Error::internal)
}

impl SqliteTx<'_> {
    fn terminations(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<AutoTermination>> {
        let mut stmt = self.tx.prepare_cached(sql).map_err(db)?;
        stmt.query_map(args, termination_from_row).map_err(db)?.map(|r| r.map_err(db)).collect()
    }

    fn events(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<ScheduledEvent>> {
        let mut stmt = self.tx.prepare_cached(sql).map_err(db)?;
        let docs = stmt.query_map(args, |r| r.get::<_, String>(0)).map_err(db)?;
        docs.map(|doc| doc.map_err(db).and_then(event_from_doc)).collect()
    }
}

impl LifecycleReads for SqliteTx<'_> {
    fn server_project(&mut self, server_id: &str) -> Result<Option<String>> {
        self.tx
            .prepare_cached("SELECT project_id FROM servers WHERE id = ?1")
            .and_then(|mut s| s.query_row([server_id], |r| r.get(0)).optional())
            .map_err(db)
    }

    fn server_events(&mut self, project_id: &str, server_id: &str) -> Result<Vec<ServerEvent>> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT at_ms, kind FROM server_events WHERE server_id = ?1 AND project_id = ?2 ORDER BY seq",
            )
            .map_err(db)?;
        let rows = stmt.query_map([server_id, project_id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)));
        rows.map_err(db)?
            .map(|row| {
                let (at, kind) = row.map_err(db)?;
                let kind = ServerEventKind::parse(&kind)
                    .ok_or_else(|| Error::internal(format!("unknown server event {kind} in store")))?;
                Ok(ServerEvent {
                    project_id: project_id.to_string(),
                    server_id: server_id.to_string(),
                    at: from_ms(at),
                    kind,
                })
            })
            .collect()
    }

    fn server_sub_jobs(&mut self, project_id: &str, server_id: &str) -> Result<Vec<SubJob>> {
        let mut stmt = self
            .tx
            .prepare_cached(&format!(
                "SELECT {SUB_JOB_COLUMNS} FROM sub_jobs WHERE server_id = ?1 AND project_id = ?2 ORDER BY begin_ms, seq"
            ))
            .map_err(db)?;
        stmt.query_map([server_id, project_id], sub_job_from_row)
            .map_err(db)?
            .map(|row| row.map_err(db).and_then(decode_sub_job))
            .collect()
    }

    fn auto_terminations(&mut self, project_id: &str) -> Result<Vec<AutoTermination>> {
        self.terminations(
            "SELECT server_id, project_id, at_ms, job_id FROM auto_terminations WHERE project_id = ?1
             ORDER BY at_ms, server_id",
            [project_id],
        )
    }

    fn due_auto_terminations(&mut self, until: Timestamp) -> Result<Vec<AutoTermination>> {
        self.terminations(
            "SELECT server_id, project_id, at_ms, job_id FROM auto_terminations
             WHERE job_id IS NULL AND at_ms <= ?1 ORDER BY at_ms, server_id",
            [ms(until)],
        )
    }

    fn scheduled_event(&mut self, project_id: &str, id: &str) -> Result<Option<ScheduledEvent>> {
        let doc: Option<String> = self
            .tx
            .prepare_cached("SELECT doc FROM scheduled_events WHERE id = ?1 AND project_id = ?2")
            .and_then(|mut s| s.query_row([id, project_id], |r| r.get(0)).optional())
            .map_err(db)?;
        doc.map(event_from_doc).transpose()
    }

    fn scheduled_events(&mut self, project_id: &str) -> Result<Vec<ScheduledEvent>> {
        self.events("SELECT doc FROM scheduled_events WHERE project_id = ?1 ORDER BY publish_ms, id", [project_id])
    }

    fn due_scheduled_events(&mut self, until: Timestamp) -> Result<Vec<ScheduledEvent>> {
        self.events(
            "SELECT doc FROM scheduled_events WHERE due_ms IS NOT NULL AND due_ms <= ?1 ORDER BY due_ms, id",
            [ms(until)],
        )
    }

    fn next_due(&mut self) -> Result<Option<Timestamp>> {
        let earliest: Option<i64> = self
            .tx
            .prepare_cached(
                "SELECT MIN(at) FROM (
                    SELECT MIN(at_ms) AS at FROM auto_terminations WHERE job_id IS NULL
                    UNION ALL SELECT MIN(due_ms) FROM scheduled_events WHERE due_ms IS NOT NULL
                    UNION ALL SELECT MIN(purge_ms) FROM recycled_servers WHERE job_id IS NULL)",
            )
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(db)?;
        Ok(earliest.map(from_ms))
    }
}

impl LifecycleWrites for SqliteTx<'_> {
    fn record_server_event(&mut self, event: &ServerEvent) -> Result<()> {
        self.tx
            .prepare_cached("INSERT INTO server_events (project_id, server_id, at_ms, kind) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| s.execute(params![event.project_id, event.server_id, ms(event.at), event.kind.as_str()]))
            .map(drop)
            .map_err(db)
    }

    fn put_auto_termination(&mut self, t: &AutoTermination) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO auto_terminations (server_id, project_id, at_ms, job_id) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| s.execute(params![t.server_id, t.project_id, ms(t.at), t.job_id]))
            .map(drop)
            .map_err(db)
    }

    fn delete_auto_termination(&mut self, server_id: &str) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM auto_terminations WHERE server_id = ?1")
            .and_then(|mut s| s.execute([server_id]))
            .map(drop)
            .map_err(db)
    }

    fn put_scheduled_event(&mut self, event: &ScheduledEvent) -> Result<()> {
        let doc = serde_json::to_string(event).map_err(Error::internal)?;
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO scheduled_events (id, project_id, server_id, publish_ms, due_ms, doc)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    event.id,
                    event.project_id,
                    event.server_id,
                    ms(event.publish_time),
                    event.due().map(ms),
                    doc
                ])
            })
            .map(drop)
            .map_err(db)
    }
}
