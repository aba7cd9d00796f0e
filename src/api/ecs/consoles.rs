//! Consoles: remote login addresses, the serial-console switch, the console log.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::wire::consoles::{
    ConsoleOutputQuery, SerialConsoleAddress, ServerRemoteConsole, ShowSerialConsoleActionsResponse,
    ShowServerConsoleOutputResponse, ShowServerRemoteConsoleRequest, ShowServerRemoteConsoleResponse,
    UpdateSerialConsoleOptionsRequest,
};
use crate::api::blocking;
use crate::api::error::{ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{EcsJson, EcsPath, EcsQuery, Project, ProjectPath, ServerPath};
use crate::domain::console::DEFAULT_LENGTH;
use crate::service::Ecs;

/// `POST /v1/{pid}/cloudservers/{server_id}/remote_console`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/remote_console",
    operation_id = "ShowServerRemoteConsole",
    tag = "ECS consoles",
    params(ProjectPath, ServerPath),
    request_body = ShowServerRemoteConsoleRequest,
    responses(
        (status = 200, description = "A login address with a fresh token.", body = ShowServerRemoteConsoleResponse),
        (status = 400, description = "Malformed body or a protocol/type pair other than vnc/novnc or serial/serial \
(`Ecs.0005`); a server that is not running, or serial login not enabled (`Ecs.0100`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn show_server_remote_console(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<ShowServerRemoteConsoleRequest>,
) -> ApiResult<Json<ShowServerRemoteConsoleResponse>> {
    let option = request.remote_console;
    let protocol = option.protocol()?;
    let url = blocking(&ecs, move |ecs| ecs.show_server_remote_console(&project_id, &server_id, protocol)).await?;
    Ok(Json(ShowServerRemoteConsoleResponse {
        remote_console: ServerRemoteConsole { protocol: option.protocol, console_type: option.console_type, url },
    }))
}

/// `POST /v1/{pid}/cloudservers/{server_id}/actions/serial-console`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/actions/serial-console",
    operation_id = "ShowSerialConsoleActions",
    tag = "ECS consoles",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "The serial login address.", body = ShowSerialConsoleActionsResponse),
        (status = 400, description = "A server that is not running, or serial login not enabled \
(`UpdateSerialConsoleOptions`) (`Ecs.0100`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn show_serial_console_actions(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
) -> ApiResult<Json<ShowSerialConsoleActionsResponse>> {
    let url = blocking(&ecs, move |ecs| ecs.show_serial_console_actions(&project_id, &server_id)).await?;
    Ok(Json(ShowSerialConsoleActionsResponse { serial_console: SerialConsoleAddress { url } }))
}

/// `PUT /v1/{pid}/cloudservers/{server_id}/serial-console-options`.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/cloudservers/{server_id}/serial-console-options",
    operation_id = "UpdateSerialConsoleOptions",
    tag = "ECS consoles",
    params(ProjectPath, ServerPath),
    request_body = UpdateSerialConsoleOptionsRequest,
    responses(
        (status = 204, description = "Serial login switched on or off."),
        (status = 400, description = "Malformed body (`Ecs.0005`), a busy (`Ecs.0603`), locked (`Ecs.0605`) or \
deleting (`Ecs.0100`) server.", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn update_serial_console_options(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<UpdateSerialConsoleOptionsRequest>,
) -> ApiResult<StatusCode> {
    let enabled = request.serial_console_options.enabled;
    blocking(&ecs, move |ecs| ecs.update_serial_console_options(&project_id, &server_id, enabled)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/{pid}/cloudservers/{server_id}/console-output?length=N`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/console-output",
    operation_id = "ShowServerConsoleOutput",
    tag = "ECS consoles",
    params(ProjectPath, ServerPath, ConsoleOutputQuery),
    responses(
        (status = 200, description = "The last `length` lines of the guest's console: its boots, shutdowns, \
password resets taken up at boot and kernel dumps.", body = ShowServerConsoleOutputResponse),
        (status = 400, description = "`length` below -1 or not a number (`Ecs.0005`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn show_server_console_output(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsQuery(query): EcsQuery<ConsoleOutputQuery>,
) -> ApiResult<Json<ShowServerConsoleOutputResponse>> {
    let length = query.length.unwrap_or(DEFAULT_LENGTH);
    let output = blocking(&ecs, move |ecs| ecs.show_server_console_output(&project_id, &server_id, length)).await?;
    Ok(Json(ShowServerConsoleOutputResponse { output }))
}
