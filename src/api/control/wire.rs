//! The JSON of the control API's answers; its requests are the service's own types.

use serde::Serialize;
use utoipa::ToSchema;

use crate::api::format::{job_time, server_time};
use crate::config::TimingsMode;
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
