//! The audit trail: what was called, what each job and sub-job did, which fault rule fired.
//! One record type for all of them, and the pure rules that make records of a change.

use crate::domain::faults::FaultEffect;
use crate::domain::job::{Failure, Job, JobStatus, SubJob, aggregate};
use crate::domain::server::Timestamp;

/// What a record tells of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// An API call, recorded when it was answered.
    Call,
    Job,
    SubJob,
    /// A fault rule fired.
    Fault,
}

impl EventKind {
    pub const ALL: [EventKind; 4] = [EventKind::Call, EventKind::Job, EventKind::SubJob, EventKind::Fault];

    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::Call => "call",
            EventKind::Job => "job",
            EventKind::SubJob => "sub_job",
            EventKind::Fault => "fault",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == s)
    }
}

/// The outcome a record tells: a call's HTTP status, a job's or sub-job's status, or the
/// effect of a fault rule that fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventStatus {
    Http(u16),
    Job(JobStatus),
    Effect(String),
}

/// One record of the trail. `id` is given by the store when the record is written: it grows
/// in the order records are committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: u64,
    /// Real time.
    pub time: Timestamp,
    /// ecsd's clock (real time plus what `clock/advance` added).
    pub clock: Timestamp,
    pub project_id: String,
    pub kind: EventKind,
    /// A call's SDK operation (`BatchStopServers`), a job's or sub-job's type (`stopServer`,
    /// `stopSingleServer`), or the operation a fault rule matched (`stop`).
    pub operation: String,
    /// The request that made the record: none for what the engine does on its own.
    pub request_id: Option<String>,
    /// The access key or user of the call.
    pub caller: Option<String>,
    pub server_ids: Vec<String>,
    pub job_id: Option<String>,
    pub sub_job_id: Option<String>,
    pub status: EventStatus,
    /// An error answer's code, a failed job's code, or the code a fault rule injects.
    pub code: Option<String>,
    pub message: Option<String>,
}

/// Who and when, for records made inside one change.
#[derive(Debug, Clone)]
pub struct Origin {
    pub time: Timestamp,
    pub clock: Timestamp,
    pub request_id: Option<String>,
    pub caller: Option<String>,
}

impl Origin {
    fn event(&self, project_id: &str, kind: EventKind, operation: &str, status: EventStatus) -> Event {
        Event {
            id: 0,
            time: self.time,
            clock: self.clock,
            project_id: project_id.to_string(),
            kind,
            operation: operation.to_string(),
            request_id: self.request_id.clone(),
            caller: self.caller.clone(),
            server_ids: Vec::new(),
            job_id: None,
            sub_job_id: None,
            status,
            code: None,
            message: None,
        }
    }

    /// A call answered with `status`.
    pub fn call(&self, project_id: &str, operation: &str, status: u16) -> Event {
        self.event(project_id, EventKind::Call, operation, EventStatus::Http(status))
    }

    /// A new job and each of its sub-jobs, as planned (a refused server's sub-job has failed).
    pub fn job_created(&self, job: &Job) -> Vec<Event> {
        let mut events = Vec::with_capacity(job.sub_jobs.len() + 1);
        let mut record = self.job_event(job.kind.job_types().0, &job.project_id, &job.id, job.status);
        record.server_ids = job.sub_jobs.iter().map(|sub| sub.server_id.clone()).collect();
        with_failure(&mut record, job.failure.as_ref());
        events.push(record);
        events.extend(job.sub_jobs.iter().map(|sub| self.sub_job_changed(sub)));
        events
    }

    /// A sub-job's status now.
    pub fn sub_job_changed(&self, sub: &SubJob) -> Event {
        let mut event = self.event(
            &sub.project_id,
            EventKind::SubJob,
            sub.operation.kind().job_types().1,
            EventStatus::Job(sub.status),
        );
        event.server_ids = server_ids(&sub.server_id);
        event.job_id = Some(sub.job_id.clone());
        event.sub_job_id = Some(sub.id.clone());
        with_failure(&mut event, sub.failure.as_ref());
        if let Some(rule) = &sub.held_by {
            event.message = Some(format!("held by fault rule {rule}"));
        }
        event
    }

    /// A job whose status changed.
    pub fn job_changed(&self, sample: &SubJob, status: JobStatus, failure: Option<&Failure>) -> Event {
        let mut event =
            self.job_event(sample.operation.kind().job_types().0, &sample.project_id, &sample.job_id, status);
        with_failure(&mut event, failure);
        event
    }

    /// A job's record names its type as a batch's (`stopServer`), one server's or many.
    fn job_event(&self, operation: &str, project_id: &str, job_id: &str, status: JobStatus) -> Event {
        let mut event = self.event(project_id, EventKind::Job, operation, EventStatus::Job(status));
        event.job_id = Some(job_id.to_string());
        event
    }

    /// A fault rule that fired.
    pub fn fault_fired(&self, fired: &Fired) -> Event {
        let mut event = self.event(
            &fired.project_id,
            EventKind::Fault,
            &fired.operation,
            EventStatus::Effect(fired.effect.kind().into()),
        );
        event.server_ids = fired.server_id.iter().cloned().collect();
        event.code = fired.effect.failure().map(|(code, _)| code.to_string());
        event.message = Some(format!("fault rule {} fired", fired.rule_id));
        event
    }
}

/// A fault rule's firing, as the rules note it for the trail.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub rule_id: String,
    pub effect: FaultEffect,
    /// The operation's wire name, as rules name it.
    pub operation: String,
    pub project_id: String,
    pub server_id: Option<String>,
}

fn server_ids(id: &str) -> Vec<String> {
    if id.is_empty() { Vec::new() } else { vec![id.to_string()] }
}

fn with_failure(event: &mut Event, failure: Option<&Failure>) {
    if let Some(failure) = failure {
        event.code = Some(failure.code.clone());
        event.message = Some(failure.reason.clone());
    }
}

/// The status a job had before some of its sub-jobs changed: its sub-jobs' statuses now
/// (`now`), with each changed one's new status put back to its old one. A job's status
/// depends only on how many sub-jobs are in each status, so the order does not matter.
pub fn status_before(now: &[JobStatus], changes: &[(JobStatus, JobStatus)]) -> JobStatus {
    let mut before = now.to_vec();
    for (old, new) in changes {
        if let Some(slot) = before.iter().position(|status| status == new) {
            before[slot] = *old;
        }
    }
    aggregate(before.into_iter().map(|status| (status, None))).0
}

/// Which records a listing or a stream wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// One project's records; every project's when `None` (an admin caller).
    pub project_id: Option<String>,
    pub server_id: Option<String>,
    pub job_id: Option<String>,
    pub operation: Option<String>,
    pub kind: Option<EventKind>,
    pub since: Option<Since>,
    /// Most records answered.
    pub limit: u64,
}

/// Where a listing starts: after a record, or at a (real) time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// Records after this id.
    Id(u64),
    /// Records at or after this time.
    Time(Timestamp),
}

/// Most records one listing answers, and how many when the caller does not say.
pub const MAX_EVENTS_LIMIT: u64 = 1000;
pub const DEFAULT_EVENTS_LIMIT: u64 = 100;

/// How much of the trail is kept: the newest `max_events` records, none older than `max_age`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub max_events: u64,
    pub max_age: std::time::Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { max_events: 100_000, max_age: std::time::Duration::from_secs(24 * 3600) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_before_puts_changed_sub_jobs_back() {
        use JobStatus::*;
        assert_eq!(status_before(&[Running, Init], &[(Init, Running)]), Init);
        assert_eq!(status_before(&[Success, Success], &[(Running, Success)]), Running);
        assert_eq!(status_before(&[Success, Running], &[]), Running);
        assert_eq!(status_before(&[Fail, Success], &[(Running, Fail), (Running, Success)]), Running);
    }

    #[test]
    fn kinds_have_one_name_each() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("calls"), None);
    }
}
