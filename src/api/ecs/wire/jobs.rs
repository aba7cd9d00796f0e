//! The job document (contract section 3).

use serde::Serialize;
use utoipa::ToSchema;

use crate::api::format::job_time;
use crate::domain::job::{Failure, Job, JobStatus, SubJob};
use crate::domain::server::Timestamp;
use crate::domain::status::OperationKind;

/// What a job and a sub-job show alike.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobFields {
    pub job_id: String,
    pub job_type: &'static str,
    pub status: JobStatus,
    pub begin_time: String,
    pub end_time: String,
    pub error_code: Option<String>,
    pub fail_reason: Option<String>,
}

impl JobFields {
    fn of(
        id: &str,
        job_type: &'static str,
        status: JobStatus,
        times: (Timestamp, Option<Timestamp>),
        failure: Option<&Failure>,
    ) -> Self {
        JobFields {
            job_id: id.to_string(),
            job_type,
            status,
            begin_time: job_time(times.0),
            end_time: times.1.map(job_time).unwrap_or_default(),
            error_code: failure.map(|f| f.code.clone()),
            fail_reason: failure.map(|f| f.reason.clone()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowJobResponse {
    #[serde(flatten)]
    pub job: JobFields,
    pub entities: JobEntities,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobEntities {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_jobs_total: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_jobs: Option<Vec<SubJobDoc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubJobDoc {
    #[serde(flatten)]
    pub job: JobFields,
    pub entities: SubJobEntities,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubJobEntities {
    pub server_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errorcode_message: Option<String>,
}

impl SubJobDoc {
    fn of(sub: &SubJob) -> Self {
        SubJobDoc {
            job: JobFields::of(
                &sub.id,
                sub.operation.kind().job_types().1,
                sub.status,
                (sub.begin_time, sub.end_time),
                sub.failure.as_ref(),
            ),
            entities: SubJobEntities {
                server_id: sub.server_id.clone(),
                errorcode_message: sub.failure.as_ref().map(|f| f.reason.clone()),
            },
        }
    }
}

impl ShowJobResponse {
    pub fn of(job: &Job) -> Self {
        let (job_type, entities) = if job.single_server {
            // A job on one server, or a sub-job asked for by its own id: flat entities.
            let kind_type = match job.sub_jobs.first() {
                Some(sub) if sub.id == job.id => job.kind.job_types().1,
                _ => job.kind.job_types().0,
            };
            let server_id = job.sub_jobs.first().map(|s| s.server_id.clone());
            (kind_type, JobEntities { server_id, sub_jobs_total: None, sub_jobs: None })
        } else {
            let subs: Vec<SubJobDoc> = job.sub_jobs.iter().map(SubJobDoc::of).collect();
            (
                job.kind.job_types().0,
                JobEntities { server_id: None, sub_jobs_total: Some(subs.len()), sub_jobs: Some(subs) },
            )
        };
        ShowJobResponse {
            job: JobFields::of(&job.id, job_type, job.status, (job.begin_time, job.end_time), job.failure.as_ref()),
            entities,
        }
    }
}

/// A job as `ShowJob` answers it: ECS's document, or EVS's for a job of the EVS API (a disk
/// made, extended or deleted), which EVS serves on the same path.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ShownJob {
    Ecs(ShowJobResponse),
    Evs(crate::api::evs::wire::EvsJob),
}

impl ShownJob {
    pub fn of(job: &Job) -> Self {
        match job.kind {
            OperationKind::CreateVolume | OperationKind::ExtendVolume | OperationKind::DeleteVolume => {
                ShownJob::Evs(crate::api::evs::wire::EvsJob::of(job))
            }
            _ => ShownJob::Ecs(ShowJobResponse::of(job)),
        }
    }
}

/// `anyOf` the two documents, not the `oneOf` an untagged enum would get: they share their
/// fields, so an answer fits both.
impl utoipa::PartialSchema for ShownJob {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::AnyOfBuilder;
        use utoipa::openapi::{Ref, RefOr};
        AnyOfBuilder::new()
            .item(RefOr::Ref(Ref::from_schema_name("ShowJobResponse")))
            .item(RefOr::Ref(Ref::from_schema_name("EvsJob")))
            .description(Some("ECS's job document, or EVS's for a disk made, extended or deleted."))
            .into()
    }
}

impl ToSchema for ShownJob {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        use crate::api::evs::wire::EvsJob;
        schemas.push((ShowJobResponse::name().into(), <ShowJobResponse as utoipa::PartialSchema>::schema()));
        <ShowJobResponse as ToSchema>::schemas(schemas);
        schemas.push((EvsJob::name().into(), <EvsJob as utoipa::PartialSchema>::schema()));
        <EvsJob as ToSchema>::schemas(schemas);
    }
}
