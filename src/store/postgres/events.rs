//! The audit trail.

use tokio_postgres::Row;

use super::{Args, PgTx, from_ms, ms};
use crate::domain::events::{Event, EventFilter, EventKind, EventStatus, Since};
use crate::domain::job::JobStatus;
use crate::domain::server::Timestamp;
use crate::domain::{Error, Result};
use crate::store::{EventReads, EventWrites};

const COLUMNS: &str = "id, time_ms, clock_ms, project_id, kind, operation, request_id, caller, server_ids, job_id, \
                       sub_job_id, http_status, status, code, message";

fn from_row(row: &Row) -> Result<Event> {
    let kind: String = row.get(4);
    let kind = EventKind::parse(&kind).ok_or_else(|| Error::internal(format!("unknown event kind {kind} in store")))?;
    let server_ids: String = row.get(8);
    let http_status: Option<i32> = row.get(11);
    let status: Option<String> = row.get(12);
    let status = match (http_status, status) {
        (Some(code), _) => EventStatus::Http(u16::try_from(code).unwrap_or(0)),
        (None, Some(status)) if kind == EventKind::Fault => EventStatus::Effect(status),
        (None, Some(status)) => EventStatus::Job(
            JobStatus::parse(&status)
                .ok_or_else(|| Error::internal(format!("unknown job status {status} in store")))?,
        ),
        (None, None) => return Err(Error::internal("an event without a status in store")),
    };
    Ok(Event {
        id: row.get::<_, i64>(0) as u64,
        time: from_ms(row.get(1)),
        clock: from_ms(row.get(2)),
        project_id: row.get(3),
        kind,
        operation: row.get(5),
        request_id: row.get(6),
        caller: row.get(7),
        server_ids: serde_json::from_str(&server_ids).map_err(Error::internal)?,
        job_id: row.get(9),
        sub_job_id: row.get(10),
        status,
        code: row.get(13),
        message: row.get(14),
    })
}

impl EventReads for PgTx<'_> {
    fn list_events(&mut self, filter: &EventFilter) -> Result<Vec<Event>> {
        let mut args = Args::default();
        let mut conditions = Vec::new();
        if let Some(project) = &filter.project_id {
            conditions.push(format!("project_id = {}", args.push(project.clone())));
        }
        if let Some(server) = &filter.server_id {
            conditions.push(format!("jsonb_exists(server_ids::jsonb, {})", args.push(server.clone())));
        }
        if let Some(job) = &filter.job_id {
            conditions.push(format!("job_id = {}", args.push(job.clone())));
        }
        if let Some(operation) = &filter.operation {
            conditions.push(format!("operation = {}", args.push(operation.clone())));
        }
        if let Some(kind) = filter.kind {
            conditions.push(format!("kind = {}", args.push(kind.as_str().to_string())));
        }
        match filter.since {
            Some(Since::Id(id)) => {
                conditions.push(format!("id > {}", args.push(i64::try_from(id).unwrap_or(i64::MAX))))
            }
            Some(Since::Time(at)) => conditions.push(format!("time_ms >= {}", args.push(ms(at)))),
            None => {}
        }
        let wheres = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        // Without a start, the newest records, turned oldest first.
        let sql = match filter.since {
            Some(_) => format!("SELECT {COLUMNS} FROM audit_events {wheres} ORDER BY id LIMIT {limit}"),
            None => format!(
                "SELECT * FROM (SELECT {COLUMNS} FROM audit_events {wheres} ORDER BY id DESC LIMIT {limit}) newest \
                 ORDER BY id"
            ),
        };
        self.rows(&sql, &args.params())?.iter().map(from_row).collect()
    }
}

impl EventWrites for PgTx<'_> {
    fn append_events(&mut self, events: &[Event]) -> Result<()> {
        for event in events {
            let server_ids = serde_json::to_string(&event.server_ids).map_err(Error::internal)?;
            let (http_status, status): (Option<i32>, Option<&str>) = match &event.status {
                EventStatus::Http(code) => (Some(i32::from(*code)), None),
                EventStatus::Job(status) => (None, Some(status.as_str())),
                EventStatus::Effect(effect) => (None, Some(effect.as_str())),
            };
            self.exec(
                "INSERT INTO audit_events (time_ms, clock_ms, project_id, kind, operation, request_id, caller, \
                 server_ids, job_id, sub_job_id, http_status, status, code, message)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                &[
                    &ms(event.time),
                    &ms(event.clock),
                    &event.project_id,
                    &event.kind.as_str(),
                    &event.operation,
                    &event.request_id,
                    &event.caller,
                    &server_ids,
                    &event.job_id,
                    &event.sub_job_id,
                    &http_status,
                    &status,
                    &event.code,
                    &event.message,
                ],
            )?;
        }
        Ok(())
    }

    fn trim_events(&mut self, keep: u64, before: Timestamp, at_most: u64) -> Result<u64> {
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let at_most = i64::try_from(at_most).unwrap_or(i64::MAX);
        // The oldest kept by count is the `keep`-th newest; with fewer records, none goes by count.
        self.exec(
            "DELETE FROM audit_events WHERE id IN (
                 SELECT id FROM audit_events
                 WHERE time_ms < $1
                    OR id < COALESCE((SELECT id FROM audit_events ORDER BY id DESC LIMIT 1 OFFSET GREATEST($2::bigint - 1, 0)), 0)
                 ORDER BY id LIMIT $3)",
            &[&ms(before), &keep, &at_most],
        )
    }
}
