//! `GET /v1/{pid}/jobs/{job_id}`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::jobs::ShownJob;
use crate::api::error::{ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{EcsPath, Project, ProjectPath};
use crate::api::point_read;
use crate::domain::{Error, ErrorCode};
use crate::service::Ecs;

/// The job of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct JobPath {
    /// A job or sub-job id: 32 lower-case hex characters.
    #[param(pattern = "^[0-9a-f]{32}$")]
    pub job_id: String,
}

#[utoipa::path(
    get,
    path = "/v1/{project_id}/jobs/{job_id}",
    operation_id = "ShowJob",
    tag = "Jobs",
    params(ProjectPath, JobPath),
    responses(
        (status = 200, description = "The job; a job on several servers lists its sub-jobs, a job on one server \
(or a sub-job asked for by its own id) has flat `entities.server_id`; a job of the EVS API (a disk made, \
extended or deleted) is EVS's document, whose `entities` name the disk.", body = ShownJob),
        (status = 400, description = "No such job in the project (`Common.0011`).", body = EcsError),
    )
)]
pub async fn show_job(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(JobPath { job_id }): EcsPath<JobPath>,
) -> ApiResult<Json<ShownJob>> {
    let job = point_read(&ecs, |ecs| ecs.show_job(&project_id, &job_id))?;
    let job = job.ok_or_else(|| Error::new(ErrorCode::JobNotFound, format!("query job fail: no job {job_id}.")))?;
    Ok(Json(ShownJob::of(&job)))
}
