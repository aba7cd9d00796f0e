//! Jobs and sub-jobs.

use std::collections::HashSet;

use tokio_postgres::Row;

use super::{PgTx, doc, from_ms, ms, parse};
use crate::domain::job::{Failure, Job, JobStatus, SubJob};
use crate::domain::server::Timestamp;
use crate::domain::status::{OperationKind, VmState};
use crate::domain::{Error, Result};
use crate::store::{JobReads, JobWrites};

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

pub(super) fn sub_job_from_row(row: &Row) -> Result<SubJob> {
    Ok(SubJob {
        id: row.get(0),
        job_id: row.get(1),
        project_id: row.get(2),
        server_id: row.get(3),
        operation: parse(row.get(4))?,
        from: VmState::parse(row.get(11)).unwrap_or(VmState::Error),
        status: status_from_name(row.get(5))?,
        step: u32::try_from(row.get::<_, i64>(6)).map_err(Error::internal)?,
        begin_time: from_ms(row.get(7)),
        end_time: row.get::<_, Option<i64>>(8).map(from_ms),
        failure: failure(row.get(9), row.get(10)),
        held_by: row.get(12),
    })
}

impl JobReads for PgTx<'_> {
    fn job(&mut self, project_id: &str, job_id: &str) -> Result<Option<Job>> {
        let Some(row) = self.row(
            "SELECT id, kind, status, begin_ms, end_ms, error_code, fail_reason, single_server FROM jobs
             WHERE id = $1 AND project_id = $2",
            &[&job_id, &project_id],
        )?
        else {
            return Ok(None);
        };
        let id: String = row.get(0);
        let sub_jobs = self
            .rows(&format!("SELECT {SUB_JOB_COLUMNS} FROM sub_jobs WHERE job_id = $1 ORDER BY seq"), &[&id])?
            .iter()
            .map(sub_job_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(Job {
            id,
            project_id: project_id.to_string(),
            kind: kind_from_name(row.get(1))?,
            status: status_from_name(row.get(2))?,
            begin_time: from_ms(row.get(3)),
            end_time: row.get::<_, Option<i64>>(4).map(from_ms),
            failure: failure(row.get(5), row.get(6)),
            single_server: row.get(7),
            sub_jobs,
        }))
    }

    fn sub_job(&mut self, project_id: &str, sub_job_id: &str) -> Result<Option<SubJob>> {
        let row = self.row(
            &format!("SELECT {SUB_JOB_COLUMNS} FROM sub_jobs WHERE id = $1 AND project_id = $2"),
            &[&sub_job_id, &project_id],
        )?;
        row.as_ref().map(sub_job_from_row).transpose()
    }

    fn sub_job_statuses(&mut self, job_id: &str) -> Result<Vec<(JobStatus, Option<Failure>)>> {
        let rows = self
            .rows("SELECT status, error_code, fail_reason FROM sub_jobs WHERE job_id = $1 ORDER BY seq", &[&job_id])?;
        rows.iter().map(|row| Ok((status_from_name(row.get(0))?, failure(row.get(1), row.get(2))))).collect()
    }

    fn unfinished_sub_jobs(&mut self) -> Result<Vec<SubJob>> {
        let rows = self.rows(
            &format!(
                "SELECT {SUB_JOB_COLUMNS} FROM sub_jobs WHERE status IN ('INIT', 'RUNNING') ORDER BY begin_ms, job_id, seq"
            ),
            &[],
        )?;
        rows.iter().map(sub_job_from_row).collect()
    }

    fn leased_to(&mut self, owner: &str, ids: &[String]) -> Result<HashSet<String>> {
        let rows = self
            .rows("SELECT sub_job_id FROM sub_job_leases WHERE owner = $1 AND sub_job_id = ANY($2)", &[&owner, &ids])?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }
}

impl JobWrites for PgTx<'_> {
    fn insert_job(&mut self, job: &Job) -> Result<()> {
        self.exec(
            "INSERT INTO jobs (id, project_id, kind, status, begin_ms, end_ms, error_code, fail_reason, single_server)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &job.id,
                &job.project_id,
                &kind_name(job.kind),
                &job.status.as_str(),
                &ms(job.begin_time),
                &job.end_time.map(ms),
                &job.failure.as_ref().map(|f| &f.code),
                &job.failure.as_ref().map(|f| &f.reason),
                &job.single_server,
            ],
        )?;
        if job.sub_jobs.is_empty() {
            return Ok(());
        }
        // One statement for every sub-job, whatever the batch: a column array each.
        let subs = &job.sub_jobs;
        let strings = |f: fn(&SubJob) -> &str| subs.iter().map(|s| f(s).to_string()).collect::<Vec<_>>();
        let operations = subs.iter().map(|s| doc(&s.operation)).collect::<Result<Vec<_>>>()?;
        let seqs: Vec<i64> = (0..subs.len() as i64).collect();
        self.exec(
            "INSERT INTO sub_jobs (id, job_id, seq, project_id, server_id, operation, status, step, begin_ms, end_ms,
             error_code, fail_reason, from_state, held_by)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
             $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::text[])",
            &[
                &strings(|s| &s.id),
                &strings(|s| &s.job_id),
                &seqs,
                &strings(|s| &s.project_id),
                &strings(|s| &s.server_id),
                &operations,
                &strings(|s| s.status.as_str()),
                &subs.iter().map(|s| i64::from(s.step)).collect::<Vec<_>>(),
                &subs.iter().map(|s| ms(s.begin_time)).collect::<Vec<_>>(),
                &subs.iter().map(|s| s.end_time.map(ms)).collect::<Vec<_>>(),
                &subs.iter().map(|s| s.failure.as_ref().map(|f| f.code.clone())).collect::<Vec<_>>(),
                &subs.iter().map(|s| s.failure.as_ref().map(|f| f.reason.clone())).collect::<Vec<_>>(),
                &strings(|s| s.from.as_str()),
                &subs.iter().map(|s| s.held_by.clone()).collect::<Vec<_>>(),
            ],
        )
        .map(drop)
    }

    fn update_sub_job(&mut self, sub: &SubJob) -> Result<()> {
        self.exec(
            "UPDATE sub_jobs SET status = $1, step = $2, end_ms = $3, error_code = $4, fail_reason = $5, held_by = $6
             WHERE id = $7",
            &[
                &sub.status.as_str(),
                &i64::from(sub.step),
                &sub.end_time.map(ms),
                &sub.failure.as_ref().map(|f| &f.code),
                &sub.failure.as_ref().map(|f| &f.reason),
                &sub.held_by,
                &sub.id,
            ],
        )
        .map(drop)
    }

    fn update_job(
        &mut self,
        job_id: &str,
        status: JobStatus,
        end: Option<Timestamp>,
        failure: Option<&Failure>,
    ) -> Result<()> {
        self.exec(
            "UPDATE jobs SET status = $1, end_ms = $2, error_code = $3, fail_reason = $4 WHERE id = $5",
            &[&status.as_str(), &end.map(ms), &failure.map(|f| &f.code), &failure.map(|f| &f.reason), &job_id],
        )
        .map(drop)
    }
}
