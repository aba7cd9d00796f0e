//! Reinstalling a server's OS and changing it to another image, each in its v1 (image without
//! cloud-init) and v2 (with cloud-init) form.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use super::wire::batch::JobAccepted;
use super::wire::os::{
    ChangeServerOsWithCloudInitRequest, ChangeServerOsWithoutCloudInitRequest, ReinstallServerWithCloudInitRequest,
    ReinstallServerWithoutCloudInitRequest,
};
use crate::api::blocking;
use crate::api::error::{ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{EcsJson, EcsPath, Project, ProjectPath, ServerPath};
use crate::domain::rebuild::RebuildRequest;
use crate::service::Ecs;

async fn reinstall(
    ecs: Arc<Ecs>,
    project_id: String,
    server_id: String,
    request: RebuildRequest,
) -> ApiResult<Json<JobAccepted>> {
    let job_id = blocking(&ecs, move |ecs| ecs.reinstall_server(&project_id, &server_id, &request)).await?;
    Ok(Json(JobAccepted { job_id }))
}

async fn change_os(
    ecs: Arc<Ecs>,
    project_id: String,
    server_id: String,
    request: RebuildRequest,
) -> ApiResult<Json<JobAccepted>> {
    let job_id = blocking(&ecs, move |ecs| ecs.change_server_os(&project_id, &server_id, &request)).await?;
    Ok(Json(JobAccepted { job_id }))
}

/// `POST /v2/{pid}/cloudservers/{server_id}/reinstallos`.
#[utoipa::path(
    post,
    path = "/v2/{project_id}/cloudservers/{server_id}/reinstallos",
    operation_id = "ReinstallServerWithCloudInit",
    tag = "ECS OS",
    params(ProjectPath, ServerPath),
    request_body = ReinstallServerWithCloudInitRequest,
    responses(
        (status = 200, description = "Accepted: a `reinstallServer` job with one sub-job. The system disk (same \
volume id) is re-created from the server's image; the new password takes effect at the next boot.", body = JobAccepted),
        (status = 400, description = "Malformed body, both or neither of `adminpass`/`keyname` without \
`metadata.user_data`, `keyname` without `userid`, bad `user_data` or encryption metadata, an image that does not fit \
the flavor or the system disk (`Ecs.0005`), a weak password (`Ecs.0011`), the image gone (`Ecs.0031`) or inactive \
(`Ecs.0032`), a server that is not stopped (without `withStopServer`) or failed (`Ecs.0100`), busy (`Ecs.0603`) or \
locked (`Ecs.0605`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn reinstall_server_with_cloud_init(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<ReinstallServerWithCloudInitRequest>,
) -> ApiResult<Json<JobAccepted>> {
    reinstall(ecs, project_id, server_id, request.into()).await
}

/// `POST /v1/{pid}/cloudservers/{server_id}/reinstallos`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/reinstallos",
    operation_id = "ReinstallServerWithoutCloudInit",
    tag = "ECS OS",
    params(ProjectPath, ServerPath),
    request_body = ReinstallServerWithoutCloudInitRequest,
    responses(
        (status = 200, description = "Accepted: a `reinstallServer` job with one sub-job.", body = JobAccepted),
        (status = 400, description = "As the v2 form, except that no login is required (the image keeps its \
own).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn reinstall_server_without_cloud_init(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<ReinstallServerWithoutCloudInitRequest>,
) -> ApiResult<Json<JobAccepted>> {
    reinstall(ecs, project_id, server_id, request.into()).await
}

/// `POST /v2/{pid}/cloudservers/{server_id}/changeos`.
#[utoipa::path(
    post,
    path = "/v2/{project_id}/cloudservers/{server_id}/changeos",
    operation_id = "ChangeServerOsWithCloudInit",
    tag = "ECS OS",
    params(ProjectPath, ServerPath),
    request_body = ChangeServerOsWithCloudInitRequest,
    responses(
        (status = 200, description = "Accepted: a `changeServerOs` job with one sub-job. The system disk (same \
volume id) is re-created from `imageid`; `image`, `metadata.image_name` and `metadata.os_type` follow.", body = JobAccepted),
        (status = 400, description = "As for `ReinstallServerWithCloudInit`; the new image must be built for the \
flavor's architecture and fit its RAM and the system disk.", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn change_server_os_with_cloud_init(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<ChangeServerOsWithCloudInitRequest>,
) -> ApiResult<Json<JobAccepted>> {
    change_os(ecs, project_id, server_id, request.into()).await
}

/// `POST /v1/{pid}/cloudservers/{server_id}/changeos`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/changeos",
    operation_id = "ChangeServerOsWithoutCloudInit",
    tag = "ECS OS",
    params(ProjectPath, ServerPath),
    request_body = ChangeServerOsWithoutCloudInitRequest,
    responses(
        (status = 200, description = "Accepted: a `changeServerOs` job with one sub-job.", body = JobAccepted),
        (status = 400, description = "As the v2 form, except that no login is required.", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn change_server_os_without_cloud_init(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<ChangeServerOsWithoutCloudInitRequest>,
) -> ApiResult<Json<JobAccepted>> {
    change_os(ecs, project_id, server_id, request.into()).await
}
