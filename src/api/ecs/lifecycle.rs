//! Billing and life: charge mode, scheduled deletion, the monitoring list, kernel dumps.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use super::wire::lifecycle::{
    ChangeServerChargeModeRequest, ChangeServerChargeModeResponse, EmptyObject, RegisterServerMonitorRequest,
    UpdateServerAutoTerminateTimeRequest,
};
use crate::api::blocking;
use crate::api::error::{ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{EcsJson, EcsPath, Project, ProjectPath, ServerPath};
use crate::domain::Error;
use crate::iam::Caller;
use crate::service::{ChargeModeAccepted, ChargeModeChange, Ecs};

/// `POST /v1/{pid}/cloudservers/actions/change-charge-mode`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/actions/change-charge-mode",
    operation_id = "ChangeServerChargeMode",
    tag = "ECS billing and life",
    params(ProjectPath),
    request_body = ChangeServerChargeModeRequest,
    responses(
        (status = 200, description = "The order is placed. ecsd bills nothing, so the order is never paid: no job \
runs and the servers stay pay-per-use.", body = ChangeServerChargeModeResponse),
        (status = 202, description = "`dry_run`: every check passed; nothing was ordered. No body."),
        (status = 400, description = "Malformed body, a `charge_mode` other than `prePaid`, a period out of range \
(`Ecs.0005`), more than 100 servers (`Ecs.0118`), or refusals of individual servers (`Ecs.0611` with \
`internalError`: unknown, busy, locked, building).", body = EcsError),
    )
)]
pub async fn change_server_charge_mode(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsJson(request): EcsJson<ChangeServerChargeModeRequest>,
) -> ApiResult<Response> {
    request.prepaid_options.check()?;
    let change = ChargeModeChange { server_ids: request.server_ids, dry_run: request.dry_run };
    Ok(match blocking(&ecs, move |ecs| ecs.change_server_charge_mode(&project_id, change)).await? {
        ChargeModeAccepted::DryRun => StatusCode::ACCEPTED.into_response(),
        ChargeModeAccepted::Order(order_id) => Json(ChangeServerChargeModeResponse { order_id }).into_response(),
    })
}

/// `POST /v1/{pid}/cloudservers/{server_id}/actions/update-auto-terminate-time`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/actions/update-auto-terminate-time",
    operation_id = "UpdateServerAutoTerminateTime",
    tag = "ECS billing and life",
    params(ProjectPath, ServerPath),
    request_body = UpdateServerAutoTerminateTimeRequest,
    responses(
        (status = 204, description = "Set (seconds dropped) or, with an empty string or null, cancelled. At that \
time on ecsd's clock a delete job deletes the server."),
        (status = 400, description = "A missing `auto_terminate_time`, a time not like `2024-06-01T12:00:00Z`, less \
than half an hour or more than three years ahead (`Ecs.0005`), a busy (`Ecs.0603`), locked (`Ecs.0605`) or \
deleting (`Ecs.0100`) server.", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn update_server_auto_terminate_time(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<UpdateServerAutoTerminateTimeRequest>,
) -> ApiResult<StatusCode> {
    let Some(at) = request.auto_terminate_time else {
        return Err(Error::invalid("auto_terminate_time is required (an empty string cancels).").into());
    };
    blocking(&ecs, move |ecs| ecs.update_server_auto_terminate_time(&project_id, &server_id, at.as_deref())).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1.0/servers/{server_id}/action` with `monitorMetrics`: no project in the path.
#[utoipa::path(
    post,
    path = "/v1.0/servers/{server_id}/action",
    operation_id = "RegisterServerMonitor",
    tag = "ECS billing and life",
    params(ServerPath),
    request_body = RegisterServerMonitorRequest,
    responses(
        (status = 200, description = "The server is on the monitoring list. No body."),
        (status = 400, description = "Malformed body or no `monitorMetrics` key (`Ecs.0005`), a busy \
(`Ecs.0603`), locked (`Ecs.0605`) or deleting (`Ecs.0100`) server.", body = EcsError),
        (status = 404, description = "No such server in the caller's project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn register_server_monitor(
    State(ecs): State<Arc<Ecs>>,
    caller: Option<Extension<Caller>>,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<RegisterServerMonitorRequest>,
) -> ApiResult<StatusCode> {
    if request.monitor_metrics.is_none() {
        return Err(Error::invalid("monitorMetrics is required.").into());
    }
    let project_id = caller.map(|Extension(caller)| caller.project_id);
    blocking(&ecs, move |ecs| ecs.register_server_monitor(project_id.as_deref(), &server_id)).await?;
    Ok(StatusCode::OK)
}

/// `POST /v1/{pid}/cloudservers/{server_id}/actions/trigger-crash-dump`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/actions/trigger-crash-dump",
    operation_id = "ExecuteServerDump",
    tag = "ECS billing and life",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "The NMI was sent: the guest panics, writes its dump and reboots (see its \
console output).", body = EmptyObject),
        (status = 400, description = "A server that is not ACTIVE (or ERROR) (`Ecs.0100`), busy (`Ecs.0603`), \
locked (`Ecs.0605`), or of a Kunpeng (Arm) flavor (`Ecs.0005`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn execute_server_dump(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
) -> ApiResult<Json<EmptyObject>> {
    blocking(&ecs, move |ecs| ecs.execute_server_dump(&project_id, &server_id)).await?;
    Ok(Json(EmptyObject {}))
}
