//! The test-control API under `/_ecsd/`: fault rules, reset, snapshots, time, fixtures.
//! Authenticated like every other path; off the ECS paths so no SDK call can reach it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult, EcsJson, parse_json};
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

pub async fn add_fault(State(ecs): State<AppState>, EcsJson(spec): EcsJson<FaultSpec>) -> ApiResult<Response> {
    let rule = blocking(&ecs, move |ecs| ecs.add_fault(spec)).await?;
    Ok((StatusCode::CREATED, Json(rule)).into_response())
}

pub async fn list_faults(State(ecs): State<AppState>) -> ApiResult<Json<Value>> {
    let rules = blocking(&ecs, |ecs| ecs.list_faults()).await?;
    Ok(Json(json!({ "faults": rules })))
}

pub async fn delete_fault(State(ecs): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_fault(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn release_fault(State(ecs): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let released = blocking(&ecs, move |ecs| ecs.release_fault(&id)).await?;
    Ok(Json(json!({ "released": released })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    project_id: Option<String>,
}

/// `POST /_ecsd/reset`, with an optional `{"project_id": ...}` (everything when absent).
pub async fn reset(State(ecs): State<AppState>, body: axum::body::Bytes) -> ApiResult<StatusCode> {
    let request: ResetRequest =
        if body.iter().all(u8::is_ascii_whitespace) { ResetRequest::default() } else { parse_json(&body)? };
    blocking(&ecs, move |ecs| ecs.reset(request.project_id.as_deref())).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRequest {
    name: String,
}

pub async fn save_snapshot(
    State(ecs): State<AppState>,
    EcsJson(request): EcsJson<SnapshotRequest>,
) -> ApiResult<Response> {
    let name = request.name.clone();
    blocking(&ecs, move |ecs| ecs.save_snapshot(&request.name)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "name": name }))).into_response())
}

pub async fn list_snapshots(State(ecs): State<AppState>) -> ApiResult<Json<Value>> {
    let snapshots = blocking(&ecs, |ecs| ecs.snapshots()).await?;
    let snapshots: Vec<Value> = snapshots
        .into_iter()
        .map(|(name, created)| json!({ "name": name, "created": super::wire::server_time(created) }))
        .collect();
    Ok(Json(json!({ "snapshots": snapshots })))
}

pub async fn restore_snapshot(State(ecs): State<AppState>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.restore_snapshot(&name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_snapshot(State(ecs): State<AppState>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_snapshot(&name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceRequest {
    seconds: f64,
}

/// `POST /_ecsd/clock/advance`: moves simulated time forward; transitions that become due
/// are applied before the answer.
pub async fn advance_clock(
    State(ecs): State<AppState>,
    EcsJson(request): EcsJson<AdvanceRequest>,
) -> ApiResult<Json<Value>> {
    if !(0.0..=31_536_000.0).contains(&request.seconds) {
        return Err(Error::invalid("seconds must be between 0 and 31536000.").into());
    }
    ecs.engine.advance(std::time::Duration::from_secs_f64(request.seconds)).await;
    Ok(Json(json!({ "now": super::wire::job_time(ecs.clock.now()) })))
}

/// `POST /_ecsd/clock/settle`: every pending transition completes before the answer.
pub async fn settle_clock(State(ecs): State<AppState>) -> Json<Value> {
    ecs.engine.settle().await;
    Json(json!({ "now": super::wire::job_time(ecs.clock.now()) }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixturesRequest {
    project_id: Option<String>,
    servers: Vec<crate::service::FixtureServer>,
}

/// `POST /_ecsd/fixtures`: servers created directly in their stable statuses, in the caller's
/// project (or the `project_id` given, when authentication is off).
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
