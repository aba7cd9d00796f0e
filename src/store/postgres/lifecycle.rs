//! Server history, scheduled deletions and scheduled events.

use tokio_postgres::Row;

use super::jobs::{SUB_JOB_COLUMNS, sub_job_from_row};
use super::{Params, PgTx, doc, from_ms, ms};
use crate::domain::job::SubJob;
use crate::domain::lifecycle::{AutoTermination, ServerEvent, ServerEventKind};
use crate::domain::scheduled_events::ScheduledEvent;
use crate::domain::server::Timestamp;
use crate::domain::{Error, Result};
use crate::store::{LifecycleReads, LifecycleWrites};

fn termination_from_row(row: &Row) -> AutoTermination {
    AutoTermination { server_id: row.get(0), project_id: row.get(1), at: from_ms(row.get(2)), job_id: row.get(3) }
}

impl PgTx<'_> {
    fn terminations(&self, sql: &str, params: &Params) -> Result<Vec<AutoTermination>> {
        Ok(self.rows(sql, params)?.iter().map(termination_from_row).collect())
    }
}

impl LifecycleReads for PgTx<'_> {
    fn server_project(&mut self, server_id: &str) -> Result<Option<String>> {
        Ok(self.row("SELECT project_id FROM servers WHERE id = $1", &[&server_id])?.map(|row| row.get(0)))
    }

    fn server_events(&mut self, project_id: &str, server_id: &str) -> Result<Vec<ServerEvent>> {
        let rows = self.rows(
            "SELECT at_ms, kind FROM server_events WHERE server_id = $1 AND project_id = $2 ORDER BY seq",
            &[&server_id, &project_id],
        )?;
        rows.iter()
            .map(|row| {
                let kind: &str = row.get(1);
                let kind = ServerEventKind::parse(kind)
                    .ok_or_else(|| Error::internal(format!("unknown server event {kind} in store")))?;
                Ok(ServerEvent {
                    project_id: project_id.to_string(),
                    server_id: server_id.to_string(),
                    at: from_ms(row.get(0)),
                    kind,
                })
            })
            .collect()
    }

    fn server_sub_jobs(&mut self, project_id: &str, server_id: &str) -> Result<Vec<SubJob>> {
        let rows = self.rows(
            &format!(
                "SELECT {SUB_JOB_COLUMNS} FROM sub_jobs WHERE server_id = $1 AND project_id = $2 ORDER BY begin_ms, seq"
            ),
            &[&server_id, &project_id],
        )?;
        rows.iter().map(sub_job_from_row).collect()
    }

    fn auto_terminations(&mut self, project_id: &str) -> Result<Vec<AutoTermination>> {
        self.terminations(
            "SELECT server_id, project_id, at_ms, job_id FROM auto_terminations WHERE project_id = $1
             ORDER BY at_ms, server_id",
            &[&project_id],
        )
    }

    fn due_auto_terminations(&mut self, until: Timestamp) -> Result<Vec<AutoTermination>> {
        self.terminations(
            "SELECT server_id, project_id, at_ms, job_id FROM auto_terminations
             WHERE job_id IS NULL AND at_ms <= $1 ORDER BY at_ms, server_id",
            &[&ms(until)],
        )
    }

    fn scheduled_event(&mut self, project_id: &str, id: &str) -> Result<Option<ScheduledEvent>> {
        self.one_doc("SELECT doc FROM scheduled_events WHERE id = $1 AND project_id = $2", &[&id, &project_id])
    }

    fn scheduled_events(&mut self, project_id: &str) -> Result<Vec<ScheduledEvent>> {
        self.docs("SELECT doc FROM scheduled_events WHERE project_id = $1 ORDER BY publish_ms, id", &[&project_id])
    }

    fn due_scheduled_events(&mut self, until: Timestamp) -> Result<Vec<ScheduledEvent>> {
        self.docs(
            "SELECT doc FROM scheduled_events WHERE due_ms IS NOT NULL AND due_ms <= $1 ORDER BY due_ms, id",
            &[&ms(until)],
        )
    }

    fn next_due(&mut self) -> Result<Option<Timestamp>> {
        let row = self.row(
            "SELECT LEAST(
                (SELECT MIN(at_ms) FROM auto_terminations WHERE job_id IS NULL),
                (SELECT MIN(due_ms) FROM scheduled_events WHERE due_ms IS NOT NULL),
                (SELECT MIN(purge_ms) FROM recycled_servers WHERE job_id IS NULL))",
            &[],
        )?;
        Ok(row.and_then(|row| row.get::<_, Option<i64>>(0)).map(from_ms))
    }
}

impl LifecycleWrites for PgTx<'_> {
    fn record_server_event(&mut self, event: &ServerEvent) -> Result<()> {
        self.exec(
            "INSERT INTO server_events (project_id, server_id, at_ms, kind) VALUES ($1, $2, $3, $4)",
            &[&event.project_id, &event.server_id, &ms(event.at), &event.kind.as_str()],
        )
        .map(drop)
    }

    fn put_auto_termination(&mut self, t: &AutoTermination) -> Result<()> {
        self.exec(
            "INSERT INTO auto_terminations (server_id, project_id, at_ms, job_id) VALUES ($1, $2, $3, $4)
             ON CONFLICT (server_id) DO UPDATE SET project_id = excluded.project_id, at_ms = excluded.at_ms,
             job_id = excluded.job_id",
            &[&t.server_id, &t.project_id, &ms(t.at), &t.job_id],
        )
        .map(drop)
    }

    fn delete_auto_termination(&mut self, server_id: &str) -> Result<()> {
        self.exec("DELETE FROM auto_terminations WHERE server_id = $1", &[&server_id]).map(drop)
    }

    fn put_scheduled_event(&mut self, event: &ScheduledEvent) -> Result<()> {
        self.exec(
            "INSERT INTO scheduled_events (id, project_id, server_id, publish_ms, due_ms, doc)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET project_id = excluded.project_id,
             server_id = excluded.server_id, publish_ms = excluded.publish_ms, due_ms = excluded.due_ms,
             doc = excluded.doc",
            &[
                &event.id,
                &event.project_id,
                &event.server_id,
                &ms(event.publish_time),
                &event.due().map(ms),
                &doc(event)?,
            ],
        )
        .map(drop)
    }
}
