//! `GET /v1/{pid}/jobs/{job_id}`.

use axum::Json;
use axum::extract::State;

use super::error::{ApiResult, EcsPath, Project};
use super::openapi::doc::{EcsError, JobPath};
use super::wire::jobs::ShowJobResponse;
use super::{AppState, point_read};
use crate::domain::{Error, ErrorCode};

#[utoipa::path(
    get,
    path = "/v1/{project_id}/jobs/{job_id}",
    operation_id = "ShowJob",
    tag = "Jobs",
    params(JobPath),
    responses(
        (status = 200, description = "The job; a job on several servers lists its sub-jobs, a job on one server \
(or a sub-job asked for by its own id) has flat `entities.server_id`.", body = ShowJobResponse),
        (status = 400, description = "No such job in the project (`Common.0011`).", body = EcsError),
    )
)]
pub async fn show_job(
    State(ecs): State<AppState>,
    Project(project_id): Project,
    EcsPath((_, job_id)): EcsPath<(String, String)>,
) -> ApiResult<Json<ShowJobResponse>> {
    let lookup = job_id.clone();
    let job = point_read(&ecs, |ecs| ecs.show_job(&project_id, &lookup))?;
    let job = job.ok_or_else(|| Error::new(ErrorCode::JobNotFound, format!("query job fail: no job {job_id}.")))?;
    Ok(Json(ShowJobResponse::of(&job)))
}
