//! The audit trail.

use rusqlite::params;
use rusqlite::types::Value;

use super::{SqliteTx, db, from_ms, ms};
use crate::domain::events::{Event, EventFilter, EventKind, EventStatus, Since};
use crate::domain::job::JobStatus;
use crate::domain::server::Timestamp;
use crate::domain::{Error, Result};
use crate::store::{EventReads, EventWrites};

const COLUMNS: &str = "id, time_ms, clock_ms, project_id, kind, operation, request_id, caller, server_ids, job_id, \
                       sub_job_id, http_status, status, code, message";

/// A row: the record with its columns that need decoding (kind, server ids, the two statuses).
type Row = (Event, String, String, Option<u16>, Option<String>);

fn from_row(row: &rusqlite::Row) -> rusqlite::Result<Row> {
    let event = Event {
        id: row.get::<_, i64>(0)? as u64,
        time: from_ms(row.get(1)?),
        clock: from_ms(row.get(2)?),
        project_id: row.get(3)?,
        kind: EventKind::Call,
        operation: row.get(5)?,
        request_id: row.get(6)?,
        caller: row.get(7)?,
        server_ids: Vec::new(),
        job_id: row.get(9)?,
        sub_job_id: row.get(10)?,
        status: EventStatus::Http(0),
        code: row.get(13)?,
        message: row.get(14)?,
    };
    Ok((event, row.get(4)?, row.get(8)?, row.get(11)?, row.get(12)?))
}

fn decode((mut event, kind, server_ids, http_status, status): Row) -> Result<Event> {
    event.kind =
        EventKind::parse(&kind).ok_or_else(|| Error::internal(format!("unknown event kind {kind} in store")))?;
    event.server_ids = serde_json::from_str(&server_ids).map_err(Error::internal)?;
    event.status = match (http_status, status) {
        (Some(code), _) => EventStatus::Http(code),
        (None, Some(status)) if event.kind == EventKind::Fault => EventStatus::Effect(status),
        (None, Some(status)) => EventStatus::Job(
            JobStatus::parse(&status)
                .ok_or_else(|| Error::internal(format!("unknown job status {status} in store")))?,
        ),
        (None, None) => return Err(Error::internal("an event without a status in store")),
    };
    Ok(event)
}

impl EventReads for SqliteTx<'_> {
    fn list_events(&mut self, filter: &EventFilter) -> Result<Vec<Event>> {
        let mut conditions = Vec::new();
        let mut args: Vec<Value> = Vec::new();
        let mut condition = |sql: &str, value: Value| {
            args.push(value);
            conditions.push(sql.replace('?', &format!("?{}", args.len())));
        };
        if let Some(project) = &filter.project_id {
            condition("project_id = ?", Value::Text(project.clone()));
        }
        if let Some(server) = &filter.server_id {
            condition("EXISTS (SELECT 1 FROM json_each(server_ids) WHERE value = ?)", Value::Text(server.clone()));
        }
        if let Some(job) = &filter.job_id {
            condition("job_id = ?", Value::Text(job.clone()));
        }
        if let Some(operation) = &filter.operation {
            condition("operation = ?", Value::Text(operation.clone()));
        }
        if let Some(kind) = filter.kind {
            condition("kind = ?", Value::Text(kind.as_str().into()));
        }
        match filter.since {
            Some(Since::Id(id)) => condition("id > ?", Value::Integer(i64::try_from(id).unwrap_or(i64::MAX))),
            Some(Since::Time(at)) => condition("time_ms >= ?", Value::Integer(ms(at))),
            None => {}
        }
        let wheres = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        // Without a start, the newest records, turned oldest first.
        let sql = match filter.since {
            Some(_) => format!("SELECT {COLUMNS} FROM audit_events {wheres} ORDER BY id LIMIT {limit}"),
            None => format!(
                "SELECT * FROM (SELECT {COLUMNS} FROM audit_events {wheres} ORDER BY id DESC LIMIT {limit}) ORDER BY id"
            ),
        };
        let mut stmt = self.tx.prepare_cached(&sql).map_err(db)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), from_row).map_err(db)?;
        rows.map(|row| row.map_err(db).and_then(decode)).collect()
    }
}

impl EventWrites for SqliteTx<'_> {
    fn append_events(&mut self, events: &[Event]) -> Result<()> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "INSERT INTO audit_events (time_ms, clock_ms, project_id, kind, operation, request_id, caller, \
                 server_ids, job_id, sub_job_id, http_status, status, code, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )
            .map_err(db)?;
        for event in events {
            let server_ids = serde_json::to_string(&event.server_ids).map_err(Error::internal)?;
            let (http_status, status) = match &event.status {
                EventStatus::Http(code) => (Some(*code), None),
                EventStatus::Job(status) => (None, Some(status.as_str())),
                EventStatus::Effect(effect) => (None, Some(effect.as_str())),
            };
            stmt.execute(params![
                ms(event.time),
                ms(event.clock),
                event.project_id,
                event.kind.as_str(),
                event.operation,
                event.request_id,
                event.caller,
                server_ids,
                event.job_id,
                event.sub_job_id,
                http_status,
                status,
                event.code,
                event.message,
            ])
            .map_err(db)?;
        }
        Ok(())
    }

    fn trim_events(&mut self, keep: u64, before: Timestamp, at_most: u64) -> Result<u64> {
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let at_most = i64::try_from(at_most).unwrap_or(i64::MAX);
        // The oldest kept by count is the `keep`-th newest; with fewer records, none goes by count.
        self.tx
            .prepare_cached(
                "DELETE FROM audit_events WHERE id IN (
                     SELECT id FROM audit_events
                     WHERE time_ms < ?1
                        OR id < COALESCE((SELECT id FROM audit_events ORDER BY id DESC LIMIT 1 OFFSET ?2 - 1), 0)
                     ORDER BY id LIMIT ?3)",
            )
            .and_then(|mut s| s.execute(params![ms(before), keep, at_most]))
            .map(|n| n as u64)
            .map_err(db)
    }
}
