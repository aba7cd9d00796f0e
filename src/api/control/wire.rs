//! The JSON of the control API's answers; its requests are the service's own types.

use serde::Serialize;
use utoipa::ToSchema;

use crate::api::format::{job_time, server_time};
use crate::config::TimingsMode;
use crate::domain::events::{Event, EventKind, EventStatus};
use crate::domain::faults::FaultRule;
use crate::domain::lifecycle::AutoTermination;
use crate::domain::server::Timestamp;

#[derive(Debug, Serialize, ToSchema)]
pub struct FaultRules {
    pub faults: Vec<FaultRule>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Released {
    /// How many held sub-jobs were let go.
    pub released: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SnapshotName {
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Snapshots {
    pub snapshots: Vec<Snapshot>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Snapshot {
    pub name: String,
    /// `2019-05-22T03:19:19Z`.
    pub created: String,
}

impl Snapshots {
    pub fn of(snapshots: Vec<(String, Timestamp)>) -> Self {
        let snapshots =
            snapshots.into_iter().map(|(name, created)| Snapshot { name, created: server_time(created) }).collect();
        Snapshots { snapshots }
    }
}

/// The simulated time after the call.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockNow {
    /// `2016-04-25T20:04:34.604Z`.
    pub now: String,
}

impl ClockNow {
    pub fn at(now: Timestamp) -> Self {
        ClockNow { now: job_time(now) }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FixtureIds {
    /// The new servers' ids, in order.
    pub servers: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AutoTerminations {
    pub auto_terminations: Vec<AutoTerminationView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AutoTerminationView {
    pub server_id: String,
    /// `2019-05-22T03:19:19Z`.
    pub auto_terminate_time: String,
    /// The delete job, once the time has come.
    pub job_id: Option<String>,
}

impl AutoTerminations {
    pub fn of(terminations: &[AutoTermination]) -> Self {
        let auto_terminations = terminations
            .iter()
            .map(|t| AutoTerminationView {
                server_id: t.server_id.clone(),
                auto_terminate_time: server_time(t.at),
                job_id: t.job_id.clone(),
            })
            .collect();
        AutoTerminations { auto_terminations }
    }
}

/// `GET /_ecsd/health`: whether this ecsd can serve, and how; nothing of its data.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` (with 503) when the store does not answer.
    pub status: HealthStatus,
    /// Whether the store answered a read.
    pub store: StoreHealth,
    /// Which store: `sqlite` (the data dir's) or `postgres` (shared by replicas).
    pub store_kind: StoreKind,
    /// This process's id, made at start: tells replicas sharing one store apart.
    #[schema(example = "4f1c2a9e0b7d4e3a")]
    pub replica_id: String,
    /// ecsd's version.
    #[schema(example = "0.1.0")]
    pub version: &'static str,
    /// Seconds since the process started.
    pub uptime_seconds: u64,
    /// Whether transitions take time (`realistic`) or complete at once (`instant`).
    pub timings: TimingsMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Ok,
    Unavailable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StoreHealth {
    Reachable,
    Unreachable,
}

/// `GET /_ecsd/events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Events {
    /// Oldest first.
    pub events: Vec<AuditEventView>,
}

/// One record of the audit trail (docs/testing.md, "The audit trail").
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    /// Grows in the order records are stored; the stream's event id.
    pub id: u64,
    /// Real time, RFC 3339 (`2026-12-01T15:04:05.123Z`).
    pub time: String,
    /// ecsd's clock (real time plus what `clock/advance` added), RFC 3339.
    pub clock: String,
    pub project_id: String,
    pub kind: EventKindView,
    /// A call's SDK operation (`BatchStopServers`), a job's or sub-job's type (`stopServer`,
    /// `stopSingleServer`), or the operation a fault rule matched (`stop`).
    pub operation: String,
    /// The request that made the record (`X-Request-Id`); null for what the engine did on its
    /// own.
    pub request_id: Option<String>,
    /// The access key, or the user of a token.
    pub caller: Option<String>,
    pub server_ids: Vec<String>,
    pub job_id: Option<String>,
    pub sub_job_id: Option<String>,
    pub status: EventStatusView,
    /// An error answer's code, a failed job's or sub-job's code, or the code a rule injects.
    pub code: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKindView {
    Call,
    Job,
    SubJob,
    Fault,
}

/// A call's HTTP status; a job's or sub-job's status (`INIT`, `RUNNING`, `SUCCESS`, `FAIL`);
/// the effect of a fault rule (`sub_job_fail`, `precheck_fail`, `http_error`, `delay`, `hang`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum EventStatusView {
    Http(u16),
    Text(String),
}

impl From<Event> for AuditEventView {
    fn from(event: Event) -> Self {
        AuditEventView {
            id: event.id,
            time: rfc3339(event.time),
            clock: rfc3339(event.clock),
            project_id: event.project_id,
            kind: match event.kind {
                EventKind::Call => EventKindView::Call,
                EventKind::Job => EventKindView::Job,
                EventKind::SubJob => EventKindView::SubJob,
                EventKind::Fault => EventKindView::Fault,
            },
            operation: event.operation,
            request_id: event.request_id,
            caller: event.caller,
            server_ids: event.server_ids,
            job_id: event.job_id,
            sub_job_id: event.sub_job_id,
            status: match event.status {
                EventStatus::Http(code) => EventStatusView::Http(code),
                EventStatus::Job(status) => EventStatusView::Text(status.as_str().to_string()),
                EventStatus::Effect(effect) => EventStatusView::Text(effect),
            },
            code: event.code,
            message: event.message,
        }
    }
}

fn rfc3339(at: Timestamp) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
