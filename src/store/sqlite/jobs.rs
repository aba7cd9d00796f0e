//! Jobs and sub-jobs.

use std::collections::HashSet;

use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteTx, db, from_ms, ms};
use crate::domain::job::{Failure, Job, JobStatus, SubJob};
use crate::domain::server::Timestamp;
use crate::domain::status::{OperationKind, VmState};
use crate::domain::{Error, Result};
use crate::store::{Claim, JobReads, JobWrites, Take};

fn kind_name(kind: OperationKind) -> &'static str {
    kind.job_types().0
}

fn kind_from_name(name: &str) -> Result<OperationKind> {
    OperationKind::ALL
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

pub(super) const SUB_JOB_COLUMNS: &str = "id, job_id, project_id, server_id, operation, status, step, begin_ms, end_ms, error_code, fail_reason, from_state, held_by";

pub(super) fn sub_job_from_row(row: &Row) -> rusqlite::Result<(SubJob, String, String)> {
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
pub(super) fn decode_sub_job((mut sub, operation, status): (SubJob, String, String)) -> Result<SubJob> {
    sub.operation = serde_json::from_str(&operation).map_err(Error::internal)?;
    sub.status = status_from_name(&status)?;
    Ok(sub)
}

impl JobReads for SqliteTx<'_> {
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

    fn unfinished_sub_jobs(&mut self) -> Result<Vec<SubJob>> {
        let mut stmt = self
            .tx
            .prepare_cached(&format!(
                "SELECT {SUB_JOB_COLUMNS} FROM sub_jobs WHERE status IN ('INIT', 'RUNNING') ORDER BY begin_ms, job_id, seq"
            ))
            .map_err(db)?;
        stmt.query_map([], sub_job_from_row).map_err(db)?.map(|row| row.map_err(db).and_then(decode_sub_job)).collect()
    }

    fn leased_to(&mut self, owner: &str, ids: &[String]) -> Result<HashSet<String>> {
        let ids = serde_json::to_string(ids).map_err(Error::internal)?;
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT sub_job_id FROM sub_job_leases WHERE owner = ?1 AND sub_job_id IN (SELECT value FROM json_each(?2))",
            )
            .map_err(db)?;
        stmt.query_map(params![owner, ids], |r| r.get(0)).map_err(db)?.map(|row| row.map_err(db)).collect()
    }
}

impl SqliteTx<'_> {
    /// [`crate::store::Store::claim_sub_jobs`], inside the single writer's transaction.
    pub(super) fn claim(&self, claim: &Claim) -> Result<Vec<SubJob>> {
        let mut conditions = vec!["status IN ('INIT', 'RUNNING')", "held_by IS NULL"];
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        match claim.take {
            Take::Free => conditions.push("(owner IS NULL OR expires_ms < ?)"),
            Take::FreeOrMine => conditions.push("(owner IS NULL OR expires_ms < ? OR owner = ?)"),
            Take::Any => {}
        }
        if claim.take != Take::Any {
            args.push(claim.now_ms.into());
        }
        if claim.take == Take::FreeOrMine {
            args.push(claim.owner.to_string().into());
        }
        if let Some(ids) = claim.ids {
            conditions.push("id IN (SELECT value FROM json_each(?))");
            args.push(serde_json::to_string(ids).map_err(Error::internal)?.into());
        }
        if let Some(project) = claim.project_id {
            conditions.push("project_id = ?");
            args.push(project.to_string().into());
        }
        args.push(i64::try_from(claim.limit).unwrap_or(i64::MAX).into());
        let sql = format!(
            "SELECT {SUB_JOB_COLUMNS} FROM sub_jobs LEFT JOIN sub_job_leases ON sub_job_id = id WHERE {}
             ORDER BY begin_ms, job_id, seq LIMIT ?",
            conditions.join(" AND ")
        );
        let mut stmt = self.tx.prepare_cached(&sql).map_err(db)?;
        let claimed = stmt
            .query_map(rusqlite::params_from_iter(args), sub_job_from_row)
            .map_err(db)?
            .map(|row| row.map_err(db).and_then(decode_sub_job))
            .collect::<Result<Vec<_>>>()?;
        let mut lease = self
            .tx
            .prepare_cached("INSERT OR REPLACE INTO sub_job_leases (sub_job_id, owner, expires_ms) VALUES (?1, ?2, ?3)")
            .map_err(db)?;
        for sub in &claimed {
            lease.execute(params![sub.id, claim.owner, claim.until_ms]).map_err(db)?;
        }
        Ok(claimed)
    }

    pub(super) fn renew_leases(&self, owner: &str, working: &[String], until_ms: i64) -> Result<u64> {
        let working = serde_json::to_string(working).map_err(Error::internal)?;
        self.tx
            .execute(
                "DELETE FROM sub_job_leases WHERE owner = ?1 AND sub_job_id NOT IN (SELECT value FROM json_each(?2))",
                params![owner, working],
            )
            .map_err(db)?;
        let renewed = self
            .tx
            .execute("UPDATE sub_job_leases SET expires_ms = ?2 WHERE owner = ?1", params![owner, until_ms])
            .map_err(db)?;
        Ok(renewed as u64)
    }
}

impl JobWrites for SqliteTx<'_> {
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
}
