//! Batch operations: job-based start/stop/reboot/delete/resize, and the batch-format
//! password reset and rename.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::control::gate;
use super::error::{ApiResult, EcsJson, Project};
use super::wire::batch::{
    BatchActionRequest, BatchRenameRequest, BatchResetPasswordRequest, BatchResizeRequest, BatchResponse,
    DeleteServersRequest, JobAccepted, ResetPasswordRequest, ResizeRequest, ids,
};
use super::{AppState, blocking};
use crate::domain::Error;
use crate::domain::faults::FaultOperation;
use crate::service::{self, BatchAction};

/// `SOFT` (the default where the type is optional) or `HARD`.
fn is_hard(kind: Option<&str>) -> Result<bool, Error> {
    match kind {
        None | Some("SOFT") => Ok(false),
        Some("HARD") => Ok(true),
        Some(other) => Err(Error::invalid(format!("type must be SOFT or HARD, not {other:?}."))),
    }
}

/// `POST /v1/{pid}/cloudservers/action`: `os-start`, `os-stop` or `reboot`.
pub async fn batch_action(
    State(ecs): State<AppState>,
    Project(project_id): Project,
    EcsJson(request): EcsJson<BatchActionRequest>,
) -> ApiResult<Json<JobAccepted>> {
    let (servers, action) = match (request.start, request.stop, request.reboot) {
        (Some(start), None, None) => (start.servers, BatchAction::Start),
        (None, Some(stop), None) => {
            let hard = is_hard(stop.stop_type.as_deref())?;
            (stop.servers, BatchAction::Stop { hard })
        }
        (None, None, Some(reboot)) => {
            let hard = is_hard(Some(&reboot.reboot_type))?;
            (reboot.servers, BatchAction::Reboot { hard })
        }
        _ => {
            return Err(Error::invalid("The body must have exactly one of os-start, os-stop and reboot.").into());
        }
    };
    gate(&ecs, &project_id, action.kind().into()).await?;
    let job_id = blocking(&ecs, move |ecs| ecs.batch_operate(&project_id, ids(servers), action)).await?;
    Ok(Json(JobAccepted { job_id }))
}

/// `POST /v1/{pid}/cloudservers/delete`.
pub async fn delete_servers(
    State(ecs): State<AppState>,
    Project(project_id): Project,
    EcsJson(request): EcsJson<DeleteServersRequest>,
) -> ApiResult<Json<JobAccepted>> {
    gate(&ecs, &project_id, FaultOperation::Delete).await?;
    let job_id =
        blocking(&ecs, move |ecs| ecs.batch_operate(&project_id, ids(request.servers), BatchAction::Delete)).await?;
    Ok(Json(JobAccepted { job_id }))
}

/// `withStopServer` lets a running server be resized; no other mode exists.
fn with_stop(mode: Option<&str>) -> Result<bool, Error> {
    match mode {
        None => Ok(false),
        Some("withStopServer") => Ok(true),
        Some(other) => Err(Error::invalid(format!("mode must be withStopServer, not {other:?}."))),
    }
}

fn job_or_dry_run(job_id: Option<String>) -> Response {
    match job_id {
        Some(job_id) => Json(JobAccepted { job_id }).into_response(),
        None => StatusCode::ACCEPTED.into_response(),
    }
}

/// `POST /v1/{pid}/cloudservers/batch-resize`.
pub async fn batch_resize_servers(
    State(ecs): State<AppState>,
    Project(project_id): Project,
    EcsJson(request): EcsJson<BatchResizeRequest>,
) -> ApiResult<Response> {
    gate(&ecs, &project_id, FaultOperation::Resize).await?;
    let resize = service::ResizeRequest {
        flavor_id: request.resize.flavor_ref,
        with_stop: with_stop(request.resize.mode.as_deref())?,
        dry_run: request.dry_run,
    };
    let servers = ids(request.resize.servers);
    let job_id = blocking(&ecs, move |ecs| ecs.resize_servers(&project_id, servers, &resize, false)).await?;
    Ok(job_or_dry_run(job_id))
}

/// `POST /v1/{pid}/cloudservers/{server_id}/resize` and `/v1.1/...`.
pub async fn resize_server(
    State(ecs): State<AppState>,
    Project(project_id): Project,
    Path((_, server_id)): Path<(String, String)>,
    EcsJson(request): EcsJson<ResizeRequest>,
) -> ApiResult<Response> {
    gate(&ecs, &project_id, FaultOperation::Resize).await?;
    let resize = service::ResizeRequest {
        flavor_id: request.resize.flavor_ref,
        with_stop: with_stop(request.resize.mode.as_deref())?,
        dry_run: request.dry_run,
    };
    let job_id = blocking(&ecs, move |ecs| ecs.resize_server(&project_id, &server_id, &resize)).await?;
    Ok(job_or_dry_run(job_id))
}

/// `PUT /v1/{pid}/cloudservers/os-reset-passwords`.
pub async fn batch_reset_servers_password(
    State(ecs): State<AppState>,
    Project(project_id): Project,
    EcsJson(request): EcsJson<BatchResetPasswordRequest>,
) -> ApiResult<Json<BatchResponse>> {
    gate(&ecs, &project_id, FaultOperation::ResetPassword).await?;
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
pub async fn batch_update_servers_name(
    State(ecs): State<AppState>,
    Project(project_id): Project,
    EcsJson(request): EcsJson<BatchRenameRequest>,
) -> ApiResult<Json<BatchResponse>> {
    gate(&ecs, &project_id, FaultOperation::Rename).await?;
    let accepted = blocking(&ecs, move |ecs| {
        ecs.batch_update_servers_name(&project_id, ids(request.servers), &request.name, request.dry_run)
    })
    .await?;
    Ok(Json(BatchResponse::of(accepted)))
}

/// `PUT /v1/{pid}/cloudservers/{server_id}/os-reset-password`: 204.
pub async fn reset_server_password(
    State(ecs): State<AppState>,
    Project(project_id): Project,
    Path((_, server_id)): Path<(String, String)>,
    EcsJson(request): EcsJson<ResetPasswordRequest>,
) -> ApiResult<StatusCode> {
    gate(&ecs, &project_id, FaultOperation::ResetPassword).await?;
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
pub async fn show_reset_password_flag(
    State(ecs): State<AppState>,
    Project(project_id): Project,
    Path((_, server_id)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let server = blocking(&ecs, move |ecs| ecs.show_server(&project_id, &server_id)).await?;
    Ok(Json(json!({
        "resetpwd_flag": "True",
        "password_reset_pending": server.pending_password_hash.is_some(),
    })))
}
