//! Batch operations: job-based start/stop/reboot/delete/resize, and the batch-format
//! password reset and rename.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::wire::batch::{
    BatchActionRequest, BatchRenameRequest, BatchResetPasswordRequest, BatchResizeRequest, BatchResponse,
    DeleteServersRequest, JobAccepted, PowerType, ResetPasswordFlag, ResetPasswordRequest, ResizeMode, ResizeRequest,
    ids,
};
use crate::api::blocking;
use crate::api::error::{ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{EcsJson, EcsPath, Project, ProjectPath, ServerPath};
use crate::domain::Error;
use crate::service::{self, BatchAction, Ecs};

/// `POST /v1/{pid}/cloudservers/action`: `os-start`, `os-stop` or `reboot`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/action",
    operation_id = "BatchStartStopRebootServers",
    tag = "ECS batch",
    params(ProjectPath),
    request_body(content = BatchActionRequest, description = "Exactly one of `os-start`, `os-stop`, `reboot`."),
    responses(
        (status = 200, description = "Accepted: one job with a sub-job per server. A server whose status forbids \
the action, or that is busy or locked, gets a failed sub-job; the others proceed.", body = JobAccepted),
        (status = 400, description = "Malformed body, empty list, duplicate id, zero or several action keys, a \
`type` other than SOFT/HARD (`Ecs.0005`), more than 1000 servers (`Ecs.0118`).", body = EcsError),
        (status = 404, description = "An id that is not a server of the project (`Ecs.0114`); no job.",
         body = EcsError),
    )
)]
pub async fn batch_action(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsJson(request): EcsJson<BatchActionRequest>,
) -> ApiResult<Json<JobAccepted>> {
    let (servers, action) = match (request.start, request.stop, request.reboot) {
        (Some(start), None, None) => (start.servers, BatchAction::Start),
        (None, Some(stop), None) => {
            (stop.servers, BatchAction::Stop { hard: stop.stop_type.unwrap_or_default() == PowerType::Hard })
        }
        (None, None, Some(reboot)) => {
            (reboot.servers, BatchAction::Reboot { hard: reboot.reboot_type == PowerType::Hard })
        }
        _ => {
            return Err(Error::invalid("The body must have exactly one of os-start, os-stop and reboot.").into());
        }
    };
    let job_id = blocking(&ecs, move |ecs| ecs.batch_operate(&project_id, ids(servers), action)).await?;
    Ok(Json(JobAccepted { job_id }))
}

/// `POST /v1/{pid}/cloudservers/delete`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/delete",
    operation_id = "DeleteServers",
    tag = "ECS batch",
    params(ProjectPath),
    request_body = DeleteServersRequest,
    responses(
        (status = 200, description = "Accepted: one job with a sub-job per server.", body = JobAccepted),
        (status = 400, description = "Malformed body, empty list or duplicate id (`Ecs.0005`), more than 1000 \
servers (`Ecs.0118`).", body = EcsError),
        (status = 404, description = "An id that is not a server of the project (`Ecs.0114`); no job.",
         body = EcsError),
    )
)]
pub async fn delete_servers(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsJson(request): EcsJson<DeleteServersRequest>,
) -> ApiResult<Json<JobAccepted>> {
    let action = BatchAction::Delete { delete_volume: request.delete_volume.unwrap_or(false) };
    let job_id = blocking(&ecs, move |ecs| ecs.batch_operate(&project_id, ids(request.servers), action)).await?;
    Ok(Json(JobAccepted { job_id }))
}

fn job_or_dry_run(job_id: Option<String>) -> Response {
    match job_id {
        Some(job_id) => Json(JobAccepted { job_id }).into_response(),
        None => StatusCode::ACCEPTED.into_response(),
    }
}

/// `POST /v1/{pid}/cloudservers/batch-resize`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/batch-resize",
    operation_id = "BatchResizeServers",
    tag = "ECS batch",
    params(ProjectPath),
    request_body = BatchResizeRequest,
    responses(
        (status = 200, description = "Accepted: one job with a sub-job per server.", body = JobAccepted),
        (status = 202, description = "`dry_run`: every check passed; nothing changed. No body."),
        (status = 400, description = "Malformed body or `mode` (`Ecs.0005`), unknown flavor (`Ecs.0029`), more \
than 50 servers (`Ecs.0118`), or refusals of individual servers (`Ecs.0611` with `internalError`); nothing \
applied.", body = EcsError),
    )
)]
pub async fn batch_resize_servers(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsJson(request): EcsJson<BatchResizeRequest>,
) -> ApiResult<Response> {
    let resize = service::ResizeRequest {
        flavor_id: request.resize.flavor_ref,
        with_stop: request.resize.mode == Some(ResizeMode::WithStopServer),
        dry_run: request.dry_run,
        verify: false,
    };
    let servers = ids(request.resize.servers);
    let job_id = blocking(&ecs, move |ecs| ecs.resize_servers(&project_id, servers, &resize, false)).await?;
    Ok(job_or_dry_run(job_id))
}

/// `POST /v1/{pid}/cloudservers/{server_id}/resize`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/resize",
    operation_id = "ResizePostPaidServer",
    tag = "ECS batch",
    params(ProjectPath, ServerPath),
    request_body = ResizeRequest,
    responses(
        (status = 200, description = "Accepted: the resize job.", body = JobAccepted),
        (status = 202, description = "`dry_run`: every check passed; nothing changed. No body."),
        (status = 400, description = "Invalid request, unknown flavor (`Ecs.0029`) or a refusal of the server \
(`Ecs.0611` with `internalError`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn resize_post_paid_server(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<ResizeRequest>,
) -> ApiResult<Response> {
    resize(ecs, project_id, server_id, request).await
}

/// `POST /v1.1/{pid}/cloudservers/{server_id}/resize`: the same resize.
#[utoipa::path(
    post,
    path = "/v1.1/{project_id}/cloudservers/{server_id}/resize",
    operation_id = "ResizeServer",
    tag = "ECS batch",
    params(ProjectPath, ServerPath),
    request_body = ResizeRequest,
    responses(
        (status = 200, description = "Accepted: the resize job.", body = JobAccepted),
        (status = 202, description = "`dry_run`: every check passed; nothing changed. No body."),
        (status = 400, description = "Invalid request, unknown flavor (`Ecs.0029`) or a refusal of the server \
(`Ecs.0611` with `internalError`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn resize_server(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<ResizeRequest>,
) -> ApiResult<Response> {
    resize(ecs, project_id, server_id, request).await
}

async fn resize(ecs: Arc<Ecs>, project_id: String, server_id: String, request: ResizeRequest) -> ApiResult<Response> {
    let resize = service::ResizeRequest {
        flavor_id: request.resize.flavor_ref,
        with_stop: request.resize.mode == Some(ResizeMode::WithStopServer),
        dry_run: request.dry_run,
        verify: false,
    };
    let job_id = blocking(&ecs, move |ecs| ecs.resize_server(&project_id, &server_id, &resize)).await?;
    Ok(job_or_dry_run(job_id))
}

/// `PUT /v1/{pid}/cloudservers/os-reset-passwords`.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/cloudservers/os-reset-passwords",
    operation_id = "BatchResetServersPassword",
    tag = "ECS batch",
    params(ProjectPath),
    request_body = BatchResetPasswordRequest,
    responses(
        (status = 200, description = "Every server accepted (all-or-nothing); the new password takes effect at \
each server's next start or reboot.", body = BatchResponse),
        (status = 400, description = "Malformed body or empty list (`Ecs.0005`), weak password (`Ecs.0011`), too \
many servers (`Ecs.0118`), or refusals of individual servers (`Ecs.0611` with `internalError`); nothing \
applied.", body = EcsError),
    )
)]
pub async fn batch_reset_servers_password(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsJson(request): EcsJson<BatchResetPasswordRequest>,
) -> ApiResult<Json<BatchResponse>> {
    let accepted = blocking(&ecs, move |ecs| {
        ecs.batch_reset_servers_password(
            &project_id,
            ids(request.servers),
            request.new_password.as_deref(),
            request.dry_run,
        )
    })
    .await?;
    Ok(Json(BatchResponse::of(accepted)))
}

/// `PUT /v1/{pid}/cloudservers/server-name`.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/cloudservers/server-name",
    operation_id = "BatchUpdateServersName",
    tag = "ECS batch",
    params(ProjectPath),
    request_body = BatchRenameRequest,
    responses(
        (status = 200, description = "Every server accepted and renamed (all-or-nothing).", body = BatchResponse),
        (status = 400, description = "Malformed body or empty list (`Ecs.0005`), bad name (`Ecs.0914`/\
`Ecs.0915`), too many servers (`Ecs.0118`), or refusals of individual servers (`Ecs.0611` with \
`internalError`); nothing applied.", body = EcsError),
    )
)]
pub async fn batch_update_servers_name(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsJson(request): EcsJson<BatchRenameRequest>,
) -> ApiResult<Json<BatchResponse>> {
    let accepted = blocking(&ecs, move |ecs| {
        ecs.batch_update_servers_name(&project_id, ids(request.servers), &request.name, request.dry_run)
    })
    .await?;
    Ok(Json(BatchResponse::of(accepted)))
}

/// `PUT /v1/{pid}/cloudservers/{server_id}/os-reset-password`: 204.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-reset-password",
    operation_id = "ResetServerPassword",
    tag = "ECS batch",
    params(ProjectPath, ServerPath),
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Accepted; the password takes effect at the server's next start or reboot."),
        (status = 400, description = "Malformed body (`Ecs.0005`), weak password with `is_check_password` \
(`Ecs.0011`), a status that forbids it (`Ecs.0100`), a busy (`Ecs.0603`) or locked (`Ecs.0605`) server.",
         body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn reset_server_password(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<ResetPasswordRequest>,
) -> ApiResult<StatusCode> {
    let reset = request.reset_password;
    blocking(&ecs, move |ecs| {
        ecs.reset_server_password(
            &project_id,
            &server_id,
            &reset.new_password,
            reset.is_check_password.unwrap_or(false),
        )
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/{pid}/cloudservers/{server_id}/os-resetpwd-flag`: the one-click reset plug-in is
/// always present in simulated guests; `password_reset_pending` (an ecsd addition) tells
/// whether a reset waits for the next start or reboot.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-resetpwd-flag",
    operation_id = "ShowResetPasswordFlag",
    tag = "ECS",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "Whether the one-click password reset is available.",
         body = ResetPasswordFlag),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn show_reset_password_flag(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
) -> ApiResult<Json<ResetPasswordFlag>> {
    let server = blocking(&ecs, move |ecs| ecs.show_server(&project_id, &server_id)).await?;
    Ok(Json(ResetPasswordFlag::of(&server)))
}
