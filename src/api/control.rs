//! The test-control API under `/_ecsd/`: fault rules, reset, snapshots, time, fixtures.
//! Authenticated like every other path; off the ECS paths so no SDK call can reach it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult, EcsBody, EcsJson, EcsPath, parse_json};
use super::openapi::doc::{
    ClockNow, EcsError, FaultPath, FaultRule, FaultRules, FixtureIds, Released, SnapshotName, SnapshotPath, Snapshots,
};
use super::{AppState, blocking};
use crate::domain::faults::{FaultOperation, FaultSpec};
use crate::domain::{Error, ErrorCode};
use crate::iam::Caller;
use crate::service::{Fixtures, RequestFault};

/// Applies the request-level fault rules (`http_error`, `delay`) of an operation.
pub async fn gate(ecs: &AppState, project_id: &str, operation: FaultOperation) -> ApiResult<()> {
    let project_id = project_id.to_string();
    match blocking(ecs, move |ecs| ecs.request_fault(&project_id, operation)).await? {
        Some(RequestFault::Delay(pause)) => {
            tokio::time::sleep(pause).await;
            Ok(())
        }
        Some(RequestFault::Fail(error)) => Err(ApiError(error)),
        None => Ok(()),
    }
}

/// `POST /_ecsd/faults`: adds a fault rule.
#[utoipa::path(
    post,
    path = "/_ecsd/faults",
    operation_id = "EcsdAddFault",
    tag = "ecsd control",
    request_body = super::openapi::doc::FaultSpec,
    responses(
        (status = 201, description = "The stored rule.", body = FaultRule),
        (status = 400, description = "Malformed rule, probability outside [0, 1], `http_error` status outside 400 \
to 599, a missing code, or a delay over 600000 ms (`Ecs.0005`).", body = EcsError),
    )
)]
pub async fn add_fault(State(ecs): State<AppState>, EcsJson(spec): EcsJson<FaultSpec>) -> ApiResult<Response> {
    let rule = blocking(&ecs, move |ecs| ecs.add_fault(spec)).await?;
    Ok((StatusCode::CREATED, Json(rule)).into_response())
}

/// `GET /_ecsd/faults`.
#[utoipa::path(
    get,
    path = "/_ecsd/faults",
    operation_id = "EcsdListFaults",
    tag = "ecsd control",
    responses((status = 200, description = "Every fault rule with its counters.", body = FaultRules))
)]
pub async fn list_faults(State(ecs): State<AppState>) -> ApiResult<Json<Value>> {
    let rules = blocking(&ecs, |ecs| ecs.list_faults()).await?;
    Ok(Json(json!({ "faults": rules })))
}

/// `DELETE /_ecsd/faults/{id}`: removes a rule; the sub-jobs it held go on.
#[utoipa::path(
    delete,
    path = "/_ecsd/faults/{id}",
    operation_id = "EcsdDeleteFault",
    tag = "ecsd control",
    params(FaultPath),
    responses(
        (status = 204, description = "Removed."),
        (status = 404, description = "No such rule (`Ecs.1000`).", body = EcsError),
    )
)]
pub async fn delete_fault(State(ecs): State<AppState>, EcsPath(id): EcsPath<String>) -> ApiResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_fault(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /_ecsd/faults/{id}/release`: lets the sub-jobs a `hang` rule holds go on.
#[utoipa::path(
    post,
    path = "/_ecsd/faults/{id}/release",
    operation_id = "EcsdReleaseFault",
    tag = "ecsd control",
    params(FaultPath),
    responses(
        (status = 200, description = "How many sub-jobs were released; the rule stays.", body = Released),
        (status = 404, description = "No such rule (`Ecs.1000`).", body = EcsError),
    )
)]
pub async fn release_fault(State(ecs): State<AppState>, EcsPath(id): EcsPath<String>) -> ApiResult<Json<Value>> {
    let released = blocking(&ecs, move |ecs| ecs.release_fault(&id)).await?;
    Ok(Json(json!({ "released": released })))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// Reset only this project; everything when absent.
    project_id: Option<String>,
}

/// `POST /_ecsd/reset`, with an optional `{"project_id": ...}` (everything when absent).
#[utoipa::path(
    post,
    path = "/_ecsd/reset",
    operation_id = "EcsdReset",
    tag = "ecsd control",
    request_body(content = ResetRequest, description = "Optional: an empty body resets everything."),
    responses(
        (status = 204, description = "Servers, jobs and client tokens are gone (of the project, or all)."),
        (status = 400, description = "Malformed body (`Ecs.0005`).", body = EcsError),
    )
)]
pub async fn reset(State(ecs): State<AppState>, EcsBody(body): EcsBody) -> ApiResult<StatusCode> {
    let request: ResetRequest =
        if body.iter().all(u8::is_ascii_whitespace) { ResetRequest::default() } else { parse_json(&body)? };
    blocking(&ecs, move |ecs| ecs.reset(request.project_id.as_deref())).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRequest {
    /// 1 to 64 letters, digits, `_`, `.` or `-`; an existing snapshot of that name is replaced.
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9_.-]+$")]
    name: String,
}

/// `POST /_ecsd/snapshots`: saves the whole state under a name.
#[utoipa::path(
    post,
    path = "/_ecsd/snapshots",
    operation_id = "EcsdSaveSnapshot",
    tag = "ecsd control",
    request_body = SnapshotRequest,
    responses(
        (status = 201, description = "Saved.", body = SnapshotName),
        (status = 400, description = "Malformed body or name (`Ecs.0005`).", body = EcsError),
    )
)]
pub async fn save_snapshot(
    State(ecs): State<AppState>,
    EcsJson(request): EcsJson<SnapshotRequest>,
) -> ApiResult<Response> {
    let name = request.name.clone();
    blocking(&ecs, move |ecs| ecs.save_snapshot(&request.name)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "name": name }))).into_response())
}

/// `GET /_ecsd/snapshots`.
#[utoipa::path(
    get,
    path = "/_ecsd/snapshots",
    operation_id = "EcsdListSnapshots",
    tag = "ecsd control",
    responses((status = 200, description = "The saved snapshots.", body = Snapshots))
)]
pub async fn list_snapshots(State(ecs): State<AppState>) -> ApiResult<Json<Value>> {
    let snapshots = blocking(&ecs, |ecs| ecs.snapshots()).await?;
    let snapshots: Vec<Value> = snapshots
        .into_iter()
        .map(|(name, created)| json!({ "name": name, "created": super::wire::server_time(created) }))
        .collect();
    Ok(Json(json!({ "snapshots": snapshots })))
}

/// `POST /_ecsd/snapshots/{name}/restore`: puts the saved state back.
#[utoipa::path(
    post,
    path = "/_ecsd/snapshots/{name}/restore",
    operation_id = "EcsdRestoreSnapshot",
    tag = "ecsd control",
    params(SnapshotPath),
    responses(
        (status = 204, description = "Restored."),
        (status = 404, description = "No such snapshot (`Ecs.1000`).", body = EcsError),
    )
)]
pub async fn restore_snapshot(State(ecs): State<AppState>, EcsPath(name): EcsPath<String>) -> ApiResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.restore_snapshot(&name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /_ecsd/snapshots/{name}`.
#[utoipa::path(
    delete,
    path = "/_ecsd/snapshots/{name}",
    operation_id = "EcsdDeleteSnapshot",
    tag = "ecsd control",
    params(SnapshotPath),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "No such snapshot (`Ecs.1000`).", body = EcsError),
    )
)]
pub async fn delete_snapshot(State(ecs): State<AppState>, EcsPath(name): EcsPath<String>) -> ApiResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_snapshot(&name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceRequest {
    /// From 0 to 31536000 (a year).
    #[schema(minimum = 0, maximum = 31536000)]
    seconds: f64,
}

/// `POST /_ecsd/clock/advance`: moves simulated time forward; transitions that become due
/// are applied before the answer.
#[utoipa::path(
    post,
    path = "/_ecsd/clock/advance",
    operation_id = "EcsdAdvanceClock",
    tag = "ecsd control",
    request_body = AdvanceRequest,
    responses(
        (status = 200, description = "The simulated time after the advance.", body = ClockNow),
        (status = 400, description = "Malformed body or `seconds` outside 0 to 31536000 (`Ecs.0005`).",
         body = EcsError),
    )
)]
pub async fn advance_clock(
    State(ecs): State<AppState>,
    EcsJson(request): EcsJson<AdvanceRequest>,
) -> ApiResult<Json<Value>> {
    if !(0.0..=31_536_000.0).contains(&request.seconds) {
        return Err(Error::invalid("seconds must be between 0 and 31536000.").into());
    }
    ecs.advance_clock(std::time::Duration::from_secs_f64(request.seconds)).await?;
    Ok(Json(json!({ "now": super::wire::job_time(ecs.clock.now()) })))
}

/// `POST /_ecsd/clock/settle`: every pending transition completes before the answer.
#[utoipa::path(
    post,
    path = "/_ecsd/clock/settle",
    operation_id = "EcsdSettleClock",
    tag = "ecsd control",
    responses((status = 200, description = "The simulated time once nothing is pending.", body = ClockNow))
)]
pub async fn settle_clock(State(ecs): State<AppState>) -> Json<Value> {
    ecs.engine.settle().await;
    Json(json!({ "now": super::wire::job_time(ecs.clock.now()) }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixturesRequest {
    /// The project to load into: the caller's (the only one allowed) when authentication is
    /// on, required when it is off.
    project_id: Option<String>,
    #[schema(value_type = Vec<super::openapi::doc::FixtureServer>)]
    servers: Vec<crate::service::FixtureServer>,
}

/// `POST /_ecsd/fixtures`: servers created directly in their stable statuses, in the caller's
/// project (or the `project_id` given, when authentication is off).
#[utoipa::path(
    post,
    path = "/_ecsd/fixtures",
    operation_id = "EcsdLoadFixtures",
    tag = "ecsd control",
    request_body = FixturesRequest,
    responses(
        (status = 201, description = "The servers exist, in their stable statuses.", body = FixtureIds),
        (status = 400, description = "Malformed body, an invalid fixture (status, flavor, image, name, count), or \
no `project_id` with authentication off.", body = EcsError),
        (status = 403, description = "Another project than the caller's, or an unknown one (`Ecs.0003`).",
         body = EcsError),
    )
)]
pub async fn load_fixtures(
    State(ecs): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    EcsJson(request): EcsJson<FixturesRequest>,
) -> ApiResult<Response> {
    let project_id = match (caller, request.project_id) {
        (Some(axum::Extension(caller)), Some(asked)) if asked != caller.project_id => {
            return Err(
                Error::new(ErrorCode::Forbidden, "Fixtures can be loaded only into the caller's project.").into()
            );
        }
        (Some(axum::Extension(caller)), _) => caller.project_id,
        (None, Some(asked)) => asked,
        (None, None) => return Err(Error::invalid("project_id is required when authentication is off.").into()),
    };
    let ids = blocking(&ecs, move |ecs| {
        if !ecs.project_exists(&project_id)? {
            return Err(Error::new(ErrorCode::Forbidden, format!("The project {project_id} does not exist.")));
        }
        ecs.load_fixtures(&project_id, &Fixtures { servers: request.servers })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!({ "servers": ids }))).into_response())
}
