//! Jobs: one parent per accepted request, one sub-job per server (contract section 3).

use serde::{Deserialize, Serialize};

use super::errors::ErrorCode;
use super::server::Timestamp;
use super::status::{Operation, OperationKind, VmState};

/// A job's or sub-job's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    Init,
    Running,
    Success,
    Fail,
}

impl JobStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            JobStatus::Init => "INIT",
            JobStatus::Running => "RUNNING",
            JobStatus::Success => "SUCCESS",
            JobStatus::Fail => "FAIL",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Init, Self::Running, Self::Success, Self::Fail].into_iter().find(|j| j.as_str() == s)
    }

    pub const fn is_finished(self) -> bool {
        matches!(self, JobStatus::Success | JobStatus::Fail)
    }
}

/// Why a sub-job failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub code: String,
    pub reason: String,
}

impl Failure {
    pub fn of(code: ErrorCode, reason: impl Into<String>) -> Self {
        Failure { code: code.code().to_string(), reason: reason.into() }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    pub project_id: String,
    pub kind: OperationKind,
    pub status: JobStatus,
    pub begin_time: Timestamp,
    pub end_time: Option<Timestamp>,
    pub failure: Option<Failure>,
    /// A job on one server shows that server in flat `entities`, without sub-jobs.
    pub single_server: bool,
    pub sub_jobs: Vec<SubJob>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubJob {
    pub id: String,
    pub job_id: String,
    pub project_id: String,
    pub server_id: String,
    pub operation: Operation,
    /// The server's stable state when the operation was accepted: its plan starts there.
    pub from: VmState,
    pub status: JobStatus,
    /// Index of the last step of the operation's plan that has been applied.
    pub step: u32,
    pub begin_time: Timestamp,
    pub end_time: Option<Timestamp>,
    pub failure: Option<Failure>,
    /// The `hang` fault rule holding this sub-job RUNNING, if any.
    pub held_by: Option<String>,
}

/// The parent status from its sub-jobs (contract 3.2, ecsd's choice): INIT until one starts,
/// RUNNING while any is unfinished, then SUCCESS only if all succeeded. A failed parent carries
/// the first failed sub-job's code and reason.
pub fn aggregate(sub_jobs: impl IntoIterator<Item = (JobStatus, Option<Failure>)>) -> (JobStatus, Option<Failure>) {
    let mut any_started = false;
    let mut any_unfinished = false;
    let mut first_failure = None;
    for (status, failure) in sub_jobs {
        match status {
            JobStatus::Init => any_unfinished = true,
            JobStatus::Running => {
                any_started = true;
                any_unfinished = true;
            }
            JobStatus::Success => any_started = true,
            JobStatus::Fail => {
                any_started = true;
                if first_failure.is_none() {
                    first_failure = failure;
                }
            }
        }
    }
    match (any_unfinished, any_started, first_failure) {
        (true, false, _) => (JobStatus::Init, None),
        (true, true, _) => (JobStatus::Running, None),
        (false, _, None) => (JobStatus::Success, None),
        (false, _, Some(failure)) => (JobStatus::Fail, Some(failure)),
    }
}

/// Job ids: 32 lower-case hex characters, like the real service issues.
pub fn new_job_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(status: JobStatus, code: Option<&str>) -> (JobStatus, Option<Failure>) {
        (status, code.map(|c| Failure { code: c.into(), reason: "r".into() }))
    }

    #[test]
    fn parent_status_follows_its_sub_jobs() {
        use JobStatus::*;
        assert_eq!(aggregate([sub(Init, None), sub(Init, None)]).0, Init);
        assert_eq!(aggregate([sub(Success, None), sub(Init, None)]).0, Running);
        assert_eq!(aggregate([sub(Success, None), sub(Success, None)]), (Success, None));
        let (status, failure) =
            aggregate([sub(Success, None), sub(Fail, Some("Ecs.0100")), sub(Fail, Some("Ecs.0226"))]);
        assert_eq!(status, Fail);
        assert_eq!(failure.map(|f| f.code), Some("Ecs.0100".to_string()));
        assert_eq!(aggregate([sub(Fail, Some("Ecs.0100")), sub(Running, None)]).0, Running);
    }
}
