//! Moving a server between hosts: cold migration and redeploy.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use super::wire::batch::JobAccepted;
use super::wire::os::MigrateServerRequest;
use crate::api::blocking;
use crate::api::error::{ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{EcsJson, EcsPath, Project, ProjectPath, ServerPath};
use crate::service::Ecs;

/// `POST /v1/{pid}/cloudservers/{server_id}/migrate`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/migrate",
    operation_id = "MigrateServer",
    tag = "ECS maintenance",
    params(ProjectPath, ServerPath),
    request_body = MigrateServerRequest,
    responses(
        (status = 200, description = "Accepted: a `migrateServer` job with one sub-job; the server shows `RESIZE` \
while it moves and ends `SHUTOFF` on its new host.", body = JobAccepted),
        (status = 400, description = "Malformed body, a host not of the server's zone \
(`Ecs.0005`), the host it is on (`Ecs.0221`), no host with room or only hosts of its anti-affinity group (`Ecs.0319`), \
a server that is not stopped (`Ecs.0100`), busy (`Ecs.0603`) or locked (`Ecs.0605`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn migrate_server(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<MigrateServerRequest>,
) -> ApiResult<Json<JobAccepted>> {
    let target = request.migrate.and_then(|m| m.dedicated_host_id).filter(|id| !id.is_empty());
    let job_id = blocking(&ecs, move |ecs| ecs.migrate_server(&project_id, &server_id, target.as_deref())).await?;
    Ok(Json(JobAccepted { job_id }))
}

/// `POST /v1/{pid}/cloudservers/{server_id}/actions/redeploy`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/actions/redeploy",
    operation_id = "ExecuteServerRedeploy",
    tag = "ECS maintenance",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "Accepted: a `redeployServer` job with one sub-job. The server moves to \
another host of its zone; a running one is stopped and started again.", body = JobAccepted),
        (status = 400, description = "No host with room outside its anti-affinity group (`Ecs.0319`), a server \
that is neither running nor stopped (`Ecs.0100`), busy (`Ecs.0603`) or locked (`Ecs.0605`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn execute_server_redeploy(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
) -> ApiResult<Json<JobAccepted>> {
    let job_id = blocking(&ecs, move |ecs| ecs.execute_server_redeploy(&project_id, &server_id)).await?;
    Ok(Json(JobAccepted { job_id }))
}
