//! The embedded default store: SQLite in WAL mode under the data dir.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::{AccessKey, RememberedCreate, Store, StoreTx};
use crate::domain::catalogue::Usage;
use crate::domain::faults::FaultRule;
use crate::domain::job::{Failure, Job, JobStatus, SubJob};
use crate::domain::query::{Page, ServerFilter, Start};
use crate::domain::server::{Server, Timestamp};
use crate::domain::status::{OperationKind, TaskState, VmState};
use crate::domain::{Error, ErrorCode, Result};

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_auth.sql"),
    include_str!("migrations/0003_control.sql"),
];

/// Idle read connections kept for reuse; each holds its own page cache.
const MAX_IDLE_READERS: usize = 8;

/// The tables a snapshot holds, parents before children (deletes go in reverse); each has a
/// `snapshot_<name>` copy with a leading `snapshot` column.
const SNAPSHOT_TABLES: [&str; 5] = ["servers", "addresses", "jobs", "sub_jobs", "client_tokens"];

pub struct SqliteStore {
    path: std::path::PathBuf,
    // One writer: SQLite serialises writers anyway, and a single writer makes every
    // transaction's compare-and-set trivially consistent across this process; IMMEDIATE
    // transactions keep it so across processes (`ecsd keys`) too.
    writer: Mutex<Connection>,
    /// Idle read-only connections: in WAL mode readers never wait for the writer.
    readers: Mutex<Vec<Connection>>,
}

impl SqliteStore {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let store = SqliteStore { path: path.to_path_buf(), writer: Mutex::new(conn), readers: Mutex::new(Vec::new()) };
        store.migrate()?;
        Ok(store)
    }

    fn reader(&self) -> Result<Connection> {
        if let Some(conn) = self.readers.lock().map_err(|_| Error::internal("store lock poisoned"))?.pop() {
            return Ok(conn);
        }
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(db)?;
        Ok(conn)
    }

    fn migrate(&self) -> anyhow::Result<()> {
        let mut conn = self.writer.lock().map_err(|_| anyhow::anyhow!("store lock poisoned"))?;
        let applied: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if applied > MIGRATIONS.len() {
            anyhow::bail!(
                "the data dir was written by a newer ecsd (schema {applied}); this one knows {}",
                MIGRATIONS.len()
            );
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", index + 1)?;
            tx.commit()?;
        }
        Ok(())
    }
}

impl Store for SqliteStore {
    fn transaction(&self, work: &mut dyn FnMut(&mut dyn StoreTx) -> Result<()>) -> Result<()> {
        let mut conn = self.writer.lock().map_err(|_| Error::internal("store lock poisoned"))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(Error::internal)?;
        work(&mut SqliteTx { tx: &tx })?;
        tx.commit().map_err(Error::internal)
    }

    fn read(&self, work: &mut dyn FnMut(&mut dyn StoreTx) -> Result<()>) -> Result<()> {
        let conn = self.reader()?;
        // Cached BEGIN/COMMIT statements: reads are the hot path, and rusqlite's transaction
        // type would parse its BEGIN again every time.
        let outcome = conn.prepare_cached("BEGIN").and_then(|mut s| s.execute([])).map_err(db).and_then(|_| {
            let worked = work(&mut SqliteTx { tx: &conn });
            let ended = conn.prepare_cached("COMMIT").and_then(|mut s| s.execute([])).map_err(db);
            worked.and(ended.map(drop))
        });
        // A connection whose transaction failed is dropped rather than reused.
        if outcome.is_ok()
            && let Ok(mut idle) = self.readers.lock()
            && idle.len() < MAX_IDLE_READERS
        {
            idle.push(conn);
        }
        outcome
    }
}

/// A connection inside a transaction (a write one, or a read one begun by hand).
struct SqliteTx<'c> {
    tx: &'c Connection,
}

impl SqliteTx<'_> {
    /// The column names of a table, in order.
    fn columns(&self, table: &str) -> Result<Vec<String>> {
        let mut stmt = self.tx.prepare(&format!("PRAGMA table_info({table})")).map_err(db)?;
        stmt.query_map([], |r| r.get::<_, String>(1)).map_err(db)?.map(|r| r.map_err(db)).collect()
    }
}

fn db(e: rusqlite::Error) -> Error {
    Error::internal(e)
}

fn ns(t: Timestamp) -> i64 {
    i64::try_from(t.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

fn ms(t: Timestamp) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn from_ms(ms: i64) -> Timestamp {
    Timestamp::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn to_doc(server: &Server) -> Result<String> {
    serde_json::to_string(server).map_err(Error::internal)
}

fn text(value: &str) -> SqlValue {
    SqlValue::Text(value.to_string())
}

/// The `tag_index` column: each tag as `/key/` and `/key=value/`.
fn tag_index(server: &Server) -> String {
    let mut index = String::from("/");
    for tag in &server.tags {
        index.push_str(&tag.key);
        index.push('/');
        index.push_str(&format!("{}={}/", tag.key, tag.value));
    }
    index
}

/// What `instr(tag_index, ...)` looks for: a whole tag key or `key=value`. A `/` can occur in
/// no tag, so a filter with one matches nothing (the needle can never be found).
fn tag_needle(tag: &str) -> String {
    if tag.contains('/') { "//".into() } else { format!("/{tag}/") }
}

/// The list's `name` filter as a GLOB: a substring where `.` matches any one character, and
/// GLOB's own wildcards taken literally.
fn name_glob(pattern: &str) -> String {
    let mut glob = String::from("*");
    for c in pattern.chars() {
        match c {
            '.' => glob.push('?'),
            '*' => glob.push_str("[*]"),
            '?' => glob.push_str("[?]"),
            '[' => glob.push_str("[[]"),
            other => glob.push(other),
        }
    }
    glob.push('*');
    glob
}

fn server_from_doc(doc: String) -> Result<Server> {
    serde_json::from_str(&doc).map_err(Error::internal)
}

fn kind_name(kind: OperationKind) -> &'static str {
    kind.job_types().0
}

fn kind_from_name(name: &str) -> Result<OperationKind> {
    use OperationKind::*;
    [Create, Start, Stop, Reboot, Resize, Delete]
        .into_iter()
        .find(|k| kind_name(*k) == name)
        .ok_or_else(|| Error::internal(format!("unknown job kind {name} in store")))
}

fn status_from_name(name: &str) -> Result<JobStatus> {
    JobStatus::parse(name).ok_or_else(|| Error::internal(format!("unknown job status {name} in store")))
}

fn failure(code: Option<String>, reason: Option<String>) -> Option<Failure> {
    code.map(|code| Failure { code, reason: reason.unwrap_or_default() })
}

fn access_key_from_row(row: &Row) -> rusqlite::Result<AccessKey> {
    Ok(AccessKey {
        access_key: row.get(0)?,
        secret_key: row.get(1)?,
        project_id: row.get(2)?,
        description: row.get(3)?,
        created: from_ms(row.get(4)?),
        revoked: row.get::<_, Option<i64>>(5)?.map(from_ms),
    })
}

const SUB_JOB_COLUMNS: &str = "id, job_id, project_id, server_id, operation, status, step, begin_ms, end_ms, error_code, fail_reason, from_state, held_by";

fn sub_job_from_row(row: &Row) -> rusqlite::Result<(SubJob, String, String)> {
    let operation: String = row.get(4)?;
    let status: String = row.get(5)?;
    Ok((
        SubJob {
            id: row.get(0)?,
            job_id: row.get(1)?,
            project_id: row.get(2)?,
            server_id: row.get(3)?,
            operation: crate::domain::status::Operation::Start,
            from: VmState::parse(&row.get::<_, String>(11)?).unwrap_or(VmState::Error),
            status: JobStatus::Init,
            step: row.get(6)?,
            begin_time: from_ms(row.get(7)?),
            end_time: row.get::<_, Option<i64>>(8)?.map(from_ms),
            failure: failure(row.get(9)?, row.get(10)?),
            held_by: row.get(12)?,
        },
        operation,
        status,
    ))
}

/// Finishes decoding a sub-job row: the JSON and enum columns are parsed outside rusqlite's
/// row closure so their errors keep our error type.
fn decode_sub_job((mut sub, operation, status): (SubJob, String, String)) -> Result<SubJob> {
    sub.operation = serde_json::from_str(&operation).map_err(Error::internal)?;
    sub.status = status_from_name(&status)?;
    Ok(sub)
}

impl StoreTx for SqliteTx<'_> {
    fn project_exists(&mut self, project_id: &str) -> Result<bool> {
        self.tx
            .prepare_cached("SELECT 1 FROM projects WHERE id = ?1")
            .and_then(|mut s| s.exists([project_id]))
            .map_err(db)
    }

    fn ensure_project(&mut self, project_id: &str, name: &str) -> Result<()> {
        self.tx
            .execute("INSERT OR IGNORE INTO projects (id, name) VALUES (?1, ?2)", [project_id, name])
            .map(drop)
            .map_err(db)
    }

    fn server(&mut self, project_id: &str, server_id: &str) -> Result<Option<Server>> {
        let doc: Option<String> = self
            .tx
            .prepare_cached("SELECT doc FROM servers WHERE id = ?1 AND project_id = ?2")
            .and_then(|mut s| s.query_row([server_id, project_id], |r| r.get(0)).optional())
            .map_err(db)?;
        doc.map(server_from_doc).transpose()
    }

    fn servers(&mut self, project_id: &str, ids: &[String]) -> Result<HashMap<String, Server>> {
        // One statement for the whole batch: the ids go in as a JSON array.
        let ids = serde_json::to_string(ids).map_err(Error::internal)?;
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT id, doc FROM servers WHERE project_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
            )
            .map_err(db)?;
        let rows = stmt.query_map([project_id, ids.as_str()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)));
        rows.map_err(db)?.map(|row| row.map_err(db).and_then(|(id, doc)| Ok((id, server_from_doc(doc)?)))).collect()
    }

    fn list_servers(&mut self, project_id: &str, filter: &ServerFilter, page: &Page) -> Result<(u64, Vec<Server>)> {
        // Positional `?` parameters, bound from `args` in order.
        let mut conditions = vec!["project_id = ?"];
        let mut args: Vec<SqlValue> = vec![text(project_id)];
        if let Some(status) = filter.status {
            conditions.push("status = ?");
            args.push(text(status.as_str()));
        }
        if let Some(flavor) = &filter.flavor {
            conditions.push("flavor_id = ?");
            args.push(text(flavor.as_str()));
        }
        if let Some(reservation) = &filter.reservation_id {
            conditions.push("reservation_id = ?");
            args.push(text(reservation.as_str()));
        }
        if let Some(name) = &filter.name {
            conditions.push("name GLOB ?");
            args.push(text(&name_glob(name)));
        }
        if let Some(tag) = &filter.tags {
            conditions.push("instr(tag_index, ?) > 0");
            args.push(text(&tag_needle(tag)));
        }
        if let Some(tag) = &filter.not_tags {
            conditions.push("instr(tag_index, ?) = 0");
            args.push(text(&tag_needle(tag)));
        }
        if let Some(ip) = &filter.ip {
            conditions.push("id IN (SELECT server_id FROM addresses WHERE project_id = ? AND instr(ip, ?) > 0)");
            args.extend([text(project_id), text(ip.as_str())]);
        }
        if let Some(ip) = &filter.ip_eq {
            conditions.push("id IN (SELECT server_id FROM addresses WHERE project_id = ? AND ip = ?)");
            args.extend([text(project_id), text(ip.as_str())]);
        }
        let total = if conditions.len() == 1 {
            self.usage(project_id)?.instances.max(0) as u64
        } else {
            let sql = format!("SELECT COUNT(*) FROM servers WHERE {}", conditions.join(" AND "));
            let count: i64 = self
                .tx
                .prepare_cached(&sql)
                .and_then(|mut s| s.query_row(rusqlite::params_from_iter(&args), |r| r.get(0)))
                .map_err(db)?;
            count.max(0) as u64
        };
        if let Start::After(marker) = &page.start {
            let created: Option<i64> = self
                .tx
                .prepare_cached("SELECT created_ns FROM servers WHERE id = ?1 AND project_id = ?2")
                .and_then(|mut s| s.query_row([marker.as_str(), project_id], |r| r.get(0)).optional())
                .map_err(db)?;
            let Some(created) = created else { return Ok((total, Vec::new())) };
            conditions.push("(created_ns < ? OR (created_ns = ? AND id > ?))");
            args.extend([SqlValue::Integer(created), SqlValue::Integer(created), text(marker.as_str())]);
        }
        // The page is chosen over the (project, created, id) index, which holds the rowids; only
        // the documents of the page itself are read, however deep the page.
        let sql = format!(
            "SELECT doc FROM servers WHERE rowid IN (SELECT rowid FROM servers WHERE {} ORDER BY created_ns DESC, id
             LIMIT ? OFFSET ?) ORDER BY created_ns DESC, id",
            conditions.join(" AND ")
        );
        args.extend([SqlValue::Integer(page.limit as i64), SqlValue::Integer(page.skip().min(i64::MAX as u64) as i64)]);
        let mut stmt = self.tx.prepare_cached(&sql).map_err(db)?;
        let docs = stmt.query_map(rusqlite::params_from_iter(&args), |r| r.get::<_, String>(0)).map_err(db)?;
        let servers = docs.map(|doc| doc.map_err(db).and_then(server_from_doc)).collect::<Result<Vec<_>>>()?;
        Ok((total, servers))
    }

    fn insert_servers(&mut self, servers: &[Server], reserved: &[Usage]) -> Result<()> {
        let mut insert_server = self
            .tx
            .prepare_cached(
                "INSERT INTO servers (id, project_id, created_ns, name, status, flavor_id, reservation_id, tag_index,
                 task_state, vcpus, ram_mib, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .map_err(db)?;
        let mut insert_address = self
            .tx
            .prepare_cached(
                "INSERT INTO addresses (project_id, subnet_id, ip, server_id) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
            )
            .map_err(db)?;
        for (server, usage) in servers.iter().zip(reserved) {
            insert_server
                .execute(params![
                    server.id,
                    server.project_id,
                    ns(server.created),
                    server.name,
                    server.status().as_str(),
                    server.flavor_id,
                    server.reservation_id,
                    tag_index(server),
                    server.task_state.map(TaskState::as_str),
                    usage.cores,
                    usage.ram_mib,
                    to_doc(server)?,
                ])
                .map_err(db)?;
            for nic in &server.nics {
                let inserted = insert_address
                    .execute(params![server.project_id, nic.subnet_id, nic.ip.to_string(), server.id])
                    .map_err(db)?;
                if inserted == 0 {
                    return Err(Error::new(
                        ErrorCode::IpInUse,
                        format!("The private IP address {} is already in use.", nic.ip),
                    ));
                }
            }
        }
        Ok(())
    }

    fn update_server(&mut self, server: &Server, expected_task: Option<TaskState>, reserved: Usage) -> Result<()> {
        let doc = to_doc(server)?;
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE servers SET name = ?1, status = ?2, flavor_id = ?3, tag_index = ?4, task_state = ?5, vcpus = ?6,
                 ram_mib = ?7, doc = ?8 WHERE id = ?9 AND task_state IS ?10",
            )
            .and_then(|mut s| {
                s.execute(params![
                    server.name,
                    server.status().as_str(),
                    server.flavor_id,
                    tag_index(server),
                    server.task_state.map(TaskState::as_str),
                    reserved.cores,
                    reserved.ram_mib,
                    doc,
                    server.id,
                    expected_task.map(TaskState::as_str),
                ])
            })
            .map_err(db)?;
        if changed == 1 {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::ServerBusy,
                format!("Another operation is running on the ECS {}. Try again later.", server.id),
            ))
        }
    }

    fn delete_server(&mut self, server_id: &str) -> Result<()> {
        // A freed address below a hint moves the hint down, so it is handed out again first.
        let freed: Vec<(String, String, String)> = self
            .tx
            .prepare_cached("SELECT project_id, subnet_id, ip FROM addresses WHERE server_id = ?1")
            .and_then(|mut s| {
                s.query_map([server_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db)?;
        for (project_id, subnet_id, ip) in freed {
            let ip: Ipv4Addr = ip.parse().map_err(|_| Error::internal(format!("bad address {ip} in store")))?;
            self.tx
                .execute(
                    "UPDATE address_hints SET lowest_free = MIN(lowest_free, ?3) WHERE project_id = ?1 AND subnet_id = ?2",
                    params![project_id, subnet_id, u32::from(ip)],
                )
                .map_err(db)?;
        }
        self.tx.execute("DELETE FROM addresses WHERE server_id = ?1", [server_id]).map_err(db)?;
        self.tx.execute("DELETE FROM servers WHERE id = ?1", [server_id]).map_err(db)?;
        Ok(())
    }

    fn usage(&mut self, project_id: &str) -> Result<Usage> {
        self.tx
            .prepare_cached("SELECT instances, cores, ram_mib FROM project_usage WHERE project_id = ?1")
            .and_then(|mut s| {
                s.query_row([project_id], |r| Ok(Usage { instances: r.get(0)?, cores: r.get(1)?, ram_mib: r.get(2)? }))
                    .optional()
            })
            .map(Option::unwrap_or_default)
            .map_err(db)
    }

    fn address_in_use(&mut self, project_id: &str, subnet_id: &str, ip: Ipv4Addr) -> Result<bool> {
        self.tx
            .prepare_cached("SELECT 1 FROM addresses WHERE project_id = ?1 AND subnet_id = ?2 AND ip = ?3")
            .and_then(|mut s| s.exists(params![project_id, subnet_id, ip.to_string()]))
            .map_err(db)
    }

    fn lowest_free_hint(&mut self, project_id: &str, subnet_id: &str) -> Result<u32> {
        self.tx
            .prepare_cached("SELECT lowest_free FROM address_hints WHERE project_id = ?1 AND subnet_id = ?2")
            .and_then(|mut s| s.query_row([project_id, subnet_id], |r| r.get::<_, u32>(0)).optional())
            .map(Option::unwrap_or_default)
            .map_err(db)
    }

    fn set_lowest_free_hint(&mut self, project_id: &str, subnet_id: &str, ip: u32) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO address_hints (project_id, subnet_id, lowest_free) VALUES (?1, ?2, ?3)
                 ON CONFLICT (project_id, subnet_id) DO UPDATE SET lowest_free = excluded.lowest_free",
            )
            .and_then(|mut s| s.execute(params![project_id, subnet_id, ip]))
            .map(drop)
            .map_err(db)
    }

    fn insert_job(&mut self, job: &Job) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO jobs (id, project_id, kind, status, begin_ms, end_ms, error_code, fail_reason, single_server)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    job.id,
                    job.project_id,
                    kind_name(job.kind),
                    job.status.as_str(),
                    ms(job.begin_time),
                    job.end_time.map(ms),
                    job.failure.as_ref().map(|f| &f.code),
                    job.failure.as_ref().map(|f| &f.reason),
                    job.single_server,
                ])
            })
            .map_err(db)?;
        let mut insert = self
            .tx
            .prepare_cached(
                "INSERT INTO sub_jobs (id, job_id, seq, project_id, server_id, operation, status, step, begin_ms, end_ms,
                 error_code, fail_reason, from_state, held_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )
            .map_err(db)?;
        for (seq, sub) in job.sub_jobs.iter().enumerate() {
            insert
                .execute(params![
                    sub.id,
                    sub.job_id,
                    seq as i64,
                    sub.project_id,
                    sub.server_id,
                    serde_json::to_string(&sub.operation).map_err(Error::internal)?,
                    sub.status.as_str(),
                    sub.step,
                    ms(sub.begin_time),
                    sub.end_time.map(ms),
                    sub.failure.as_ref().map(|f| &f.code),
                    sub.failure.as_ref().map(|f| &f.reason),
                    sub.from.as_str(),
                    sub.held_by,
                ])
                .map_err(db)?;
        }
        Ok(())
    }

    fn job(&mut self, project_id: &str, job_id: &str) -> Result<Option<Job>> {
        type JobRow = (String, String, String, i64, Option<i64>, Option<String>, Option<String>, bool);
        let row: Option<JobRow> = self
            .tx
            .prepare_cached(
                "SELECT id, kind, status, begin_ms, end_ms, error_code, fail_reason, single_server FROM jobs
                 WHERE id = ?1 AND project_id = ?2",
            )
            .and_then(|mut s| {
                s.query_row([job_id, project_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
                })
                .optional()
            })
            .map_err(db)?;
        let Some((id, kind, status, begin, end, code, reason, single_server)) = row else {
            return Ok(None);
        };
        let mut stmt = self
            .tx
            .prepare_cached(&format!("SELECT {SUB_JOB_COLUMNS} FROM sub_jobs WHERE job_id = ?1 ORDER BY seq"))
            .map_err(db)?;
        let sub_jobs = stmt
            .query_map([&id], sub_job_from_row)
            .map_err(db)?
            .map(|row| row.map_err(db).and_then(decode_sub_job))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(Job {
            id,
            project_id: project_id.to_string(),
            kind: kind_from_name(&kind)?,
            status: status_from_name(&status)?,
            begin_time: from_ms(begin),
            end_time: end.map(from_ms),
            failure: failure(code, reason),
            single_server,
            sub_jobs,
        }))
    }

    fn sub_job(&mut self, project_id: &str, sub_job_id: &str) -> Result<Option<SubJob>> {
        let row = self
            .tx
            .prepare_cached(&format!("SELECT {SUB_JOB_COLUMNS} FROM sub_jobs WHERE id = ?1 AND project_id = ?2"))
            .and_then(|mut s| s.query_row([sub_job_id, project_id], sub_job_from_row).optional())
            .map_err(db)?;
        row.map(decode_sub_job).transpose()
    }

    fn update_sub_job(&mut self, sub: &SubJob) -> Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE sub_jobs SET status = ?1, step = ?2, end_ms = ?3, error_code = ?4, fail_reason = ?5, held_by = ?6
                 WHERE id = ?7",
            )
            .and_then(|mut s| {
                s.execute(params![
                    sub.status.as_str(),
                    sub.step,
                    sub.end_time.map(ms),
                    sub.failure.as_ref().map(|f| &f.code),
                    sub.failure.as_ref().map(|f| &f.reason),
                    sub.held_by,
                    sub.id,
                ])
            })
            .map(drop)
            .map_err(db)
    }

    fn sub_job_statuses(&mut self, job_id: &str) -> Result<Vec<(JobStatus, Option<Failure>)>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT status, error_code, fail_reason FROM sub_jobs WHERE job_id = ?1 ORDER BY seq")
            .map_err(db)?;
        let rows = stmt.query_map([job_id], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))).map_err(db)?;
        rows.map(|row| {
            let (status, code, reason) = row.map_err(db)?;
            Ok((status_from_name(&status)?, failure(code, reason)))
        })
        .collect()
    }

    fn update_job(
        &mut self,
        job_id: &str,
        status: JobStatus,
        end: Option<Timestamp>,
        failure: Option<&Failure>,
    ) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE jobs SET status = ?1, end_ms = ?2, error_code = ?3, fail_reason = ?4 WHERE id = ?5")
            .and_then(|mut s| {
                s.execute(params![
                    status.as_str(),
                    end.map(ms),
                    failure.map(|f| &f.code),
                    failure.map(|f| &f.reason),
                    job_id
                ])
            })
            .map(drop)
            .map_err(db)
    }

    fn unfinished_sub_jobs(&mut self) -> Result<Vec<SubJob>> {
        let mut stmt = self
            .tx
            .prepare_cached(&format!(
                "SELECT {SUB_JOB_COLUMNS} FROM sub_jobs WHERE status IN ('INIT', 'RUNNING') ORDER BY begin_ms, job_id, seq"
            ))
            .map_err(db)?;
        stmt.query_map([], sub_job_from_row).map_err(db)?.map(|row| row.map_err(db).and_then(decode_sub_job)).collect()
    }

    fn put_access_key(&mut self, key: &AccessKey) -> Result<()> {
        self.tx
            .execute(
                "INSERT OR REPLACE INTO access_keys (access_key, secret_key, project_id, description, created_ms, revoked_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![key.access_key, key.secret_key, key.project_id, key.description, ms(key.created), key.revoked.map(ms)],
            )
            .map(drop)
            .map_err(db)
    }

    fn access_key(&mut self, access_key: &str) -> Result<Option<AccessKey>> {
        self.tx
            .prepare_cached(
                "SELECT access_key, secret_key, project_id, description, created_ms, revoked_ms FROM access_keys
                 WHERE access_key = ?1",
            )
            .and_then(|mut s| s.query_row([access_key], access_key_from_row).optional())
            .map_err(db)
    }

    fn access_keys(&mut self) -> Result<Vec<AccessKey>> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT access_key, secret_key, project_id, description, created_ms, revoked_ms FROM access_keys
                 ORDER BY created_ms, access_key",
            )
            .map_err(db)?;
        stmt.query_map([], access_key_from_row).map_err(db)?.map(|r| r.map_err(db)).collect()
    }

    fn revoke_access_key(&mut self, access_key: &str, at: Timestamp) -> Result<bool> {
        self.tx
            .execute(
                "UPDATE access_keys SET revoked_ms = COALESCE(revoked_ms, ?1) WHERE access_key = ?2",
                params![ms(at), access_key],
            )
            .map(|changed| changed == 1)
            .map_err(db)
    }

    fn put_token(&mut self, token_sha256: &str, project_id: &str, user: &str, expires: Timestamp) -> Result<()> {
        self.tx
            .execute(
                "INSERT INTO tokens (token_sha256, project_id, user_name, expires_ms) VALUES (?1, ?2, ?3, ?4)",
                params![token_sha256, project_id, user, ms(expires)],
            )
            .map(drop)
            .map_err(db)
    }

    fn token(&mut self, token_sha256: &str) -> Result<Option<(String, Timestamp)>> {
        self.tx
            .prepare_cached("SELECT project_id, expires_ms FROM tokens WHERE token_sha256 = ?1")
            .and_then(|mut s| s.query_row([token_sha256], |r| Ok((r.get(0)?, from_ms(r.get(1)?)))).optional())
            .map_err(db)
    }

    fn fault_rules(&mut self) -> Result<Vec<FaultRule>> {
        let mut stmt = self.tx.prepare_cached("SELECT doc FROM fault_rules ORDER BY seq").map_err(db)?;
        let docs = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(db)?;
        docs.map(|doc| serde_json::from_str(&doc.map_err(db)?).map_err(Error::internal)).collect()
    }

    fn put_fault_rule(&mut self, rule: &FaultRule) -> Result<()> {
        let doc = serde_json::to_string(rule).map_err(Error::internal)?;
        self.tx
            .execute(
                "INSERT INTO fault_rules (id, seq, doc) VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM fault_rules), ?2)
                 ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
                params![rule.id, doc],
            )
            .map(drop)
            .map_err(db)
    }

    fn delete_fault_rule(&mut self, id: &str) -> Result<bool> {
        self.tx.execute("DELETE FROM fault_rules WHERE id = ?1", [id]).map(|n| n == 1).map_err(db)
    }

    fn release_held(&mut self, rule_id: &str) -> Result<Vec<SubJob>> {
        let mut stmt = self
            .tx
            .prepare_cached(&format!("SELECT {SUB_JOB_COLUMNS} FROM sub_jobs WHERE held_by = ?1 ORDER BY job_id, seq"))
            .map_err(db)?;
        let mut held = stmt
            .query_map([rule_id], sub_job_from_row)
            .map_err(db)?
            .map(|row| row.map_err(db).and_then(decode_sub_job))
            .collect::<Result<Vec<_>>>()?;
        self.tx.execute("UPDATE sub_jobs SET held_by = NULL WHERE held_by = ?1", [rule_id]).map_err(db)?;
        for sub in &mut held {
            sub.held_by = None;
        }
        Ok(held)
    }

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

    fn snapshots(&mut self) -> Result<Vec<(String, Timestamp)>> {
        let mut stmt = self.tx.prepare_cached("SELECT name, created_ms FROM snapshots ORDER BY name").map_err(db)?;
        stmt.query_map([], |r| Ok((r.get(0)?, from_ms(r.get(1)?)))).map_err(db)?.map(|r| r.map_err(db)).collect()
    }

    fn delete_snapshot(&mut self, name: &str) -> Result<bool> {
        for table in SNAPSHOT_TABLES {
            self.tx.execute(&format!("DELETE FROM snapshot_{table} WHERE snapshot = ?1"), [name]).map_err(db)?;
        }
        self.tx.execute("DELETE FROM snapshots WHERE name = ?1", [name]).map(|n| n == 1).map_err(db)
    }

    fn clock_advanced_ms(&mut self) -> Result<i64> {
        self.tx.query_row("SELECT advanced_ms FROM clock WHERE id = 1", [], |r| r.get(0)).map_err(db)
    }

    fn advance_clock(&mut self, by_ms: i64) -> Result<()> {
        self.tx.execute("UPDATE clock SET advanced_ms = advanced_ms + ?1 WHERE id = 1", [by_ms]).map(drop).map_err(db)
    }

    fn remembered_create(&mut self, project_id: &str, token: &str) -> Result<Option<RememberedCreate>> {
        let row: Option<(String, String, String, i64)> = self
            .tx
            .prepare_cached(
                "SELECT fingerprint, job_id, server_ids, created_ms FROM client_tokens WHERE project_id = ?1 AND token = ?2",
            )
            .and_then(|mut s| s.query_row([project_id, token], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).optional())
            .map_err(db)?;
        row.map(|(fingerprint, job_id, server_ids, created)| {
            Ok(RememberedCreate {
                fingerprint,
                job_id,
                server_ids: serde_json::from_str(&server_ids).map_err(Error::internal)?,
                created: from_ms(created),
            })
        })
        .transpose()
    }

    fn remember_create(&mut self, project_id: &str, token: &str, create: &RememberedCreate) -> Result<()> {
        self.tx
            .execute(
                "INSERT OR REPLACE INTO client_tokens (project_id, token, fingerprint, job_id, server_ids, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    project_id,
                    token,
                    create.fingerprint,
                    create.job_id,
                    serde_json::to_string(&create.server_ids).map_err(Error::internal)?,
                    ms(create.created),
                ],
            )
            .map(drop)
            .map_err(db)
    }
}
