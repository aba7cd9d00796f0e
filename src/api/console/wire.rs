//! The console's own JSON: what its views show, shaped for them (one row per server of a page,
//! a job with its sub-jobs counted), not any cloud API's documents.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::catalogue::Catalogue;
use crate::domain::faults::FaultRule;
use crate::domain::job::{Job, JobStatus, SubJob};
use crate::domain::server::{Server, Timestamp};
use crate::domain::status::Status;

/// `GET /console/api/me`: who the session is.
#[derive(Debug, Serialize)]
pub struct Me {
    pub project_id: String,
    pub access_key: String,
    pub admin: bool,
    pub region: String,
    /// Seconds until the session expires.
    pub expires_in: u64,
}

/// `GET /console/api/servers`: one page of the fleet, with the size of the whole filtered fleet.
#[derive(Debug, Serialize)]
pub struct ServerPage {
    pub total: u64,
    pub page: u64,
    pub limit: u64,
    pub servers: Vec<ServerRow>,
}

/// A server as a row of the fleet view.
#[derive(Debug, Serialize)]
pub struct ServerRow {
    pub id: String,
    pub name: String,
    pub status: Status,
    /// The operation in progress, as `OS-EXT-STS:task_state` says it.
    pub task_state: Option<&'static str>,
    pub flavor: String,
    pub ips: Vec<String>,
    /// `key=value` (or `key` when the value is empty).
    pub tags: Vec<String>,
    pub host: Option<String>,
    pub zone: String,
    pub locked: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created: Timestamp,
}

impl From<&Server> for ServerRow {
    fn from(server: &Server) -> Self {
        ServerRow {
            id: server.id.clone(),
            name: server.name.clone(),
            status: server.status(),
            task_state: server.task_state.map(|t| t.as_str()),
            flavor: server.flavor_id.clone(),
            ips: server.nics.iter().map(|nic| nic.ip.to_string()).collect(),
            tags: server
                .tags
                .iter()
                .map(|t| if t.value.is_empty() { t.key.clone() } else { format!("{}={}", t.key, t.value) })
                .collect(),
            host: server.host.clone(),
            zone: server.availability_zone.clone(),
            locked: server.locked,
            created: server.created,
        }
    }
}

/// `GET /console/api/servers/{id}`.
#[derive(Debug, Serialize)]
pub struct ServerDetail {
    #[serde(flatten)]
    pub row: ServerRow,
    pub description: String,
    pub vm_state: &'static str,
    pub image_id: String,
    pub image_name: Option<String>,
    pub vcpus: Option<u32>,
    pub ram_mib: Option<u64>,
    pub vpc_id: String,
    pub nics: Vec<NicView>,
    pub disks: Vec<DiskView>,
    pub security_group_ids: Vec<String>,
    pub metadata: BTreeMap<String, String>,
    pub key_name: Option<String>,
    pub server_group_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated: Timestamp,
    #[serde(with = "time::serde::rfc3339::option")]
    pub launched_at: Option<Timestamp>,
}

#[derive(Debug, Serialize)]
pub struct NicView {
    pub port_id: String,
    pub subnet_id: String,
    pub ip: String,
    pub mac: String,
}

#[derive(Debug, Serialize)]
pub struct DiskView {
    pub id: String,
    pub device: String,
    pub size_gib: u32,
    pub volume_type: String,
    /// 0 for the system disk.
    pub boot_index: Option<u32>,
    pub delete_on_termination: bool,
}

impl ServerDetail {
    pub fn new(server: &Server, catalogue: &Catalogue) -> Self {
        let flavor = catalogue.flavor(&server.flavor_id);
        ServerDetail {
            row: ServerRow::from(server),
            description: server.description.clone(),
            vm_state: server.vm_state.as_str(),
            image_id: server.image_id.clone(),
            image_name: catalogue.image(&server.image_id).map(|image| image.name.clone()),
            vcpus: flavor.map(|f| f.vcpus),
            ram_mib: flavor.map(|f| f.ram_mib),
            vpc_id: server.vpc_id.clone(),
            nics: server
                .nics
                .iter()
                .map(|nic| NicView {
                    port_id: nic.port_id.clone(),
                    subnet_id: nic.subnet_id.clone(),
                    ip: nic.ip.to_string(),
                    mac: nic.mac.clone(),
                })
                .collect(),
            disks: server
                .volumes
                .iter()
                .map(|disk| DiskView {
                    id: disk.id.clone(),
                    device: disk.device.clone(),
                    size_gib: disk.size_gib,
                    volume_type: disk.volume_type.clone(),
                    boot_index: disk.boot_index,
                    delete_on_termination: disk.delete_on_termination,
                })
                .collect(),
            security_group_ids: server.security_group_ids.clone(),
            metadata: server.metadata.clone(),
            key_name: server.key_name.clone(),
            server_group_id: server.server_group_id.clone(),
            updated: server.updated,
            launched_at: server.launched_at,
        }
    }
}

/// `GET /console/api/jobs/{id}`: a job, its sub-jobs counted by status, and each sub-job.
#[derive(Debug, Serialize)]
pub struct JobView {
    pub id: String,
    /// The job's `job_type` (`batchStopServer`, ...).
    pub job_type: &'static str,
    pub status: JobStatus,
    /// The failure code (`Ecs.xxxx`) and its reason, of a failed job.
    pub code: Option<String>,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub begin_time: Timestamp,
    #[serde(with = "time::serde::rfc3339::option")]
    pub end_time: Option<Timestamp>,
    pub counts: JobCounts,
    pub sub_jobs: Vec<SubJobView>,
}

#[derive(Debug, Default, Serialize)]
pub struct JobCounts {
    pub total: usize,
    pub success: usize,
    pub fail: usize,
    pub running: usize,
    pub init: usize,
}

#[derive(Debug, Serialize)]
pub struct SubJobView {
    pub id: String,
    pub job_type: &'static str,
    pub server_id: String,
    pub status: JobStatus,
    /// What `ShowJob` says of a failed sub-job: `fail_reason` and the code of `internalError`.
    pub code: Option<String>,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub begin_time: Timestamp,
    #[serde(with = "time::serde::rfc3339::option")]
    pub end_time: Option<Timestamp>,
}

impl From<&SubJob> for SubJobView {
    fn from(sub: &SubJob) -> Self {
        SubJobView {
            id: sub.id.clone(),
            job_type: sub.operation.kind().job_types().1,
            server_id: sub.server_id.clone(),
            status: sub.status,
            code: sub.failure.as_ref().map(|f| f.code.clone()),
            reason: sub.failure.as_ref().map(|f| f.reason.clone()),
            begin_time: sub.begin_time,
            end_time: sub.end_time,
        }
    }
}

impl From<&Job> for JobView {
    fn from(job: &Job) -> Self {
        let mut counts = JobCounts { total: job.sub_jobs.len(), ..JobCounts::default() };
        for sub in &job.sub_jobs {
            match sub.status {
                JobStatus::Success => counts.success += 1,
                JobStatus::Fail => counts.fail += 1,
                JobStatus::Running => counts.running += 1,
                JobStatus::Init => counts.init += 1,
            }
        }
        JobView {
            id: job.id.clone(),
            job_type: job.kind.job_types().0,
            status: job.status,
            code: job.failure.as_ref().map(|f| f.code.clone()),
            reason: job.failure.as_ref().map(|f| f.reason.clone()),
            begin_time: job.begin_time,
            end_time: job.end_time,
            counts,
            sub_jobs: job.sub_jobs.iter().map(SubJobView::from).collect(),
        }
    }
}

/// `GET /console/api/faults`: the rules of the session's project, with their counters.
#[derive(Debug, Serialize)]
pub struct Faults {
    pub faults: Vec<FaultRule>,
}

/// `GET /console/api/snapshots`.
#[derive(Debug, Serialize)]
pub struct Snapshots {
    pub snapshots: Vec<SnapshotView>,
}

#[derive(Debug, Serialize)]
pub struct SnapshotView {
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub saved: Timestamp,
}

/// `POST /console/api/snapshots`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRequest {
    pub name: String,
}

/// `GET /console/api/clock` and the answer of its changes: ecsd's simulated time.
#[derive(Debug, Serialize)]
pub struct ClockView {
    #[serde(with = "time::serde::rfc3339")]
    pub now: Timestamp,
}

/// `POST /console/api/clock/advance`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceRequest {
    pub seconds: f64,
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct SignIn {
    pub access_key: String,
    pub secret_key: String,
}
