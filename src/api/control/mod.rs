//! The test-control API under `/_ecsd/`: fault rules, reset, snapshots, time, fixtures.
//! Authenticated like every other path; off the ECS paths so no SDK call can reach it.

mod events;
mod wire;

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::ecs::scheduled_events::utc_time;
use super::ecs::wire::scheduled_events::EventView;
use super::error::{ApiResult, EcsErrorBody as EcsError};
use super::extract::{EcsJson, EcsPath, OptionalEcsJson};
use super::operation::Row;
use super::{About, blocking};
use crate::domain::faults::{FaultRule, FaultSpec};
use crate::domain::scheduled_events::{EventState, EventType};
use crate::domain::{Error, ErrorCode};
use crate::iam::Caller;
use crate::service::{Ecs, FixtureServer, FixtureServerGroup, Fixtures, NewEvent, Reach};
use wire::{
    AutoTerminations, ClockNow, FaultRules, FixtureIds, Health, HealthStatus, Released, SnapshotName, Snapshots,
    StoreHealth, StoreKind,
};

pub fn operations() -> Vec<Row> {
    vec![
        Row::new(routes!(health)),
        Row::new(routes!(add_fault)),
        Row::new(routes!(list_faults)),
        Row::new(routes!(delete_fault)),
        Row::new(routes!(release_fault)),
        Row::new(routes!(reset)),
        Row::new(routes!(save_snapshot)),
        Row::new(routes!(list_snapshots)),
        Row::new(routes!(delete_snapshot)),
        Row::new(routes!(restore_snapshot)),
        Row::new(routes!(advance_clock)),
        Row::new(routes!(settle_clock)),
        Row::new(routes!(load_fixtures)),
        Row::new(routes!(schedule_event)),
        Row::new(routes!(list_auto_terminations)),
        Row::new(routes!(events::list_events)),
        Row::new(routes!(events::stream_events)),
        Row::new(routes!(metrics)),
    ]
}

/// Who calls the control API: what the call may reach (see docs/testing.md), and the caller's
/// own project (none when authentication is off).
pub struct Controller {
    reach: Reach,
    project: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Controller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(match parts.extensions.get::<Caller>() {
            None => Controller { reach: Reach::Everything, project: None },
            Some(caller) => Controller {
                reach: if caller.admin { Reach::Everything } else { Reach::Project(caller.project_id.clone()) },
                project: Some(caller.project_id.clone()),
            },
        })
    }
}

/// A fault rule of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct FaultPath {
    /// The fault rule's id.
    pub id: String,
}

/// A snapshot of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SnapshotPath {
    /// The snapshot's name: 1 to 64 letters, digits, `_`, `.` or `-`.
    pub name: String,
}

/// `GET /_ecsd/health`: for readiness probes and test harnesses; anyone may call it, and it
/// tells nothing of the data.
#[utoipa::path(
    get,
    path = "/_ecsd/health",
    operation_id = "EcsdHealth",
    tag = "ecsd control",
    security(()),
    responses(
        (status = 200, description = "Serving: the store answers.", body = Health),
        (status = 503, description = "The store does not answer (`status` is `unavailable`).", body = Health),
    )
)]
pub async fn health(State(ecs): State<Arc<Ecs>>, State(about): State<Arc<About>>) -> Response {
    let reachable = blocking(&ecs, |ecs| ecs.check_store()).await;
    if let Err(error) = &reachable {
        tracing::warn!(error = %error.0, "health: the store does not answer");
    }
    let (status, code, store) = match reachable {
        Ok(()) => (HealthStatus::Ok, StatusCode::OK, StoreHealth::Reachable),
        Err(_) => (HealthStatus::Unavailable, StatusCode::SERVICE_UNAVAILABLE, StoreHealth::Unreachable),
    };
    let health = Health {
        status,
        store,
        store_kind: if about.shared_store { StoreKind::Postgres } else { StoreKind::Sqlite },
        replica_id: about.replica_id.clone(),
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: about.started.elapsed().as_secs(),
        timings: about.timings,
    };
    (code, Json(health)).into_response()
}

/// `GET /metrics`: Prometheus metrics of this ecsd, in the text exposition format. They count
/// every project's work, so only an admin credential reads them here; `--metrics-listen`
/// serves them to anyone on an address of their own, for a scraper that cannot sign.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "EcsdMetrics",
    tag = "ecsd control",
    responses(
        (status = 200, description = "Every metric (see README).", content_type = "text/plain", body = String),
        (status = 403, description = "`Ecs.0003`: the credential is not an admin one.", body = EcsError),
    )
)]
pub async fn metrics(State(ecs): State<Arc<Ecs>>, caller: Controller) -> ApiResult<Response> {
    let text = blocking(&ecs, move |ecs| ecs.render_metrics(&caller.reach)).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response())
}

/// `GET /metrics` of the `--metrics-listen` address: the same exposition, to anyone.
pub async fn open_metrics(State(ecs): State<Arc<Ecs>>) -> ApiResult<Response> {
    let text = blocking(&ecs, |ecs| ecs.render_metrics(&Reach::Everything)).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response())
}

/// `POST /_ecsd/faults`: adds a fault rule.
#[utoipa::path(
    post,
    path = "/_ecsd/faults",
    operation_id = "EcsdAddFault",
    tag = "ecsd control",
    request_body = FaultSpec,
    responses(
        (status = 201, description = "The stored rule.", body = FaultRule),
        (status = 400, description = "Malformed rule, probability outside [0, 1], `http_error` status outside 400 \
to 599, a missing code, or a delay over 600000 ms (`Ecs.0005`).", body = EcsError),
        (status = 403, description = "Another project's `project_id` without an admin credential (`Ecs.0003`).",
         body = EcsError),
    )
)]
pub async fn add_fault(
    State(ecs): State<Arc<Ecs>>,
    caller: Controller,
    EcsJson(spec): EcsJson<FaultSpec>,
) -> ApiResult<Response> {
    let rule = blocking(&ecs, move |ecs| ecs.add_fault(&caller.reach, spec)).await?;
    Ok((StatusCode::CREATED, Json(rule)).into_response())
}

/// `GET /_ecsd/faults`.
#[utoipa::path(
    get,
    path = "/_ecsd/faults",
    operation_id = "EcsdListFaults",
    tag = "ecsd control",
    responses((status = 200, description = "Every fault rule the caller may see (an admin credential: all; any \
other: those of its project), with its counters.", body = FaultRules))
)]
pub async fn list_faults(State(ecs): State<Arc<Ecs>>, caller: Controller) -> ApiResult<Json<FaultRules>> {
    let faults = blocking(&ecs, move |ecs| ecs.list_faults(&caller.reach)).await?;
    Ok(Json(FaultRules { faults }))
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
        (status = 404, description = "No such rule, or another project's (`Ecs.1000`).", body = EcsError),
    )
)]
pub async fn delete_fault(
    State(ecs): State<Arc<Ecs>>,
    caller: Controller,
    EcsPath(FaultPath { id }): EcsPath<FaultPath>,
) -> ApiResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_fault(&caller.reach, &id)).await?;
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
        (status = 404, description = "No such rule, or another project's (`Ecs.1000`).", body = EcsError),
    )
)]
pub async fn release_fault(
    State(ecs): State<Arc<Ecs>>,
    caller: Controller,
    EcsPath(FaultPath { id }): EcsPath<FaultPath>,
) -> ApiResult<Json<Released>> {
    let released = blocking(&ecs, move |ecs| ecs.release_fault(&caller.reach, &id)).await?;
    Ok(Json(Released { released }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// Reset only this project; everything when absent (which needs an admin credential).
    project_id: Option<String>,
}

/// `POST /_ecsd/reset`, with an optional `{"project_id": ...}` (everything when absent, for
/// an admin credential).
#[utoipa::path(
    post,
    path = "/_ecsd/reset",
    operation_id = "EcsdReset",
    tag = "ecsd control",
    request_body(content = ResetRequest, description = "Optional: an empty body resets everything."),
    responses(
        (status = 204, description = "Servers, jobs and client tokens are gone (of the project, or all)."),
        (status = 400, description = "Malformed body (`Ecs.0005`).", body = EcsError),
        (status = 403, description = "Another project, or every project, without an admin credential \
(`Ecs.0003`).", body = EcsError),
    )
)]
pub async fn reset(
    State(ecs): State<Arc<Ecs>>,
    caller: Controller,
    OptionalEcsJson(request): OptionalEcsJson<ResetRequest>,
) -> ApiResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.reset(&caller.reach, request.project_id.as_deref())).await?;
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
        (status = 403, description = "Not an admin credential: snapshots hold every project (`Ecs.0003`).",
         body = EcsError),
    )
)]
pub async fn save_snapshot(
    State(ecs): State<Arc<Ecs>>,
    caller: Controller,
    EcsJson(request): EcsJson<SnapshotRequest>,
) -> ApiResult<Response> {
    let name = request.name.clone();
    blocking(&ecs, move |ecs| ecs.save_snapshot(&caller.reach, &request.name)).await?;
    Ok((StatusCode::CREATED, Json(SnapshotName { name })).into_response())
}

/// `GET /_ecsd/snapshots`.
#[utoipa::path(
    get,
    path = "/_ecsd/snapshots",
    operation_id = "EcsdListSnapshots",
    tag = "ecsd control",
    responses(
        (status = 200, description = "The saved snapshots.", body = Snapshots),
        (status = 403, description = "Not an admin credential: snapshots hold every project (`Ecs.0003`).",
         body = EcsError),
    )
)]
pub async fn list_snapshots(State(ecs): State<Arc<Ecs>>, caller: Controller) -> ApiResult<Json<Snapshots>> {
    let snapshots = blocking(&ecs, move |ecs| ecs.snapshots(&caller.reach)).await?;
    Ok(Json(Snapshots::of(snapshots)))
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
        (status = 403, description = "Not an admin credential: snapshots hold every project (`Ecs.0003`).",
         body = EcsError),
        (status = 404, description = "No such snapshot (`Ecs.1000`).", body = EcsError),
    )
)]
pub async fn restore_snapshot(
    State(ecs): State<Arc<Ecs>>,
    caller: Controller,
    EcsPath(SnapshotPath { name }): EcsPath<SnapshotPath>,
) -> ApiResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.restore_snapshot(&caller.reach, &name)).await?;
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
        (status = 403, description = "Not an admin credential: snapshots hold every project (`Ecs.0003`).",
         body = EcsError),
        (status = 404, description = "No such snapshot (`Ecs.1000`).", body = EcsError),
    )
)]
pub async fn delete_snapshot(
    State(ecs): State<Arc<Ecs>>,
    caller: Controller,
    EcsPath(SnapshotPath { name }): EcsPath<SnapshotPath>,
) -> ApiResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_snapshot(&caller.reach, &name)).await?;
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
        (status = 403, description = "Not an admin credential: simulated time is every project's (`Ecs.0003`).",
         body = EcsError),
        (status = 503, description = "Time moved, but the store had no space for the steps that became due \
(`Common.0503`); the engine applies them once it has.", body = EcsError),
    )
)]
pub async fn advance_clock(
    State(ecs): State<Arc<Ecs>>,
    caller: Controller,
    EcsJson(request): EcsJson<AdvanceRequest>,
) -> ApiResult<Json<ClockNow>> {
    ecs.advance_clock(&caller.reach, request.seconds).await?;
    Ok(Json(ClockNow::at(ecs.now())))
}

/// `POST /_ecsd/clock/settle`: every pending transition completes before the answer.
#[utoipa::path(
    post,
    path = "/_ecsd/clock/settle",
    operation_id = "EcsdSettleClock",
    tag = "ecsd control",
    responses(
        (status = 200, description = "The simulated time once nothing is pending (in the caller's project; in \
every project for an admin credential).", body = ClockNow),
        (status = 503, description = "The store has no space to apply a step (`Common.0503`); what was applied \
stays, and the engine goes on once it has space.", body = EcsError),
    )
)]
pub async fn settle_clock(State(ecs): State<Arc<Ecs>>, caller: Controller) -> ApiResult<Json<ClockNow>> {
    ecs.settle(&caller.reach).await?;
    Ok(Json(ClockNow::at(ecs.now())))
}

/// The project a control request acts on: the caller's (the only one allowed) when
/// authentication is on, the one given when it is off.
/// The project a control call acts on: the one asked for, which without an admin credential
/// must be the caller's own; the caller's by default; required when authentication is off.
fn control_project(caller: Controller, asked: Option<String>) -> Result<String, Error> {
    match (&caller.reach, caller.project, asked) {
        (Reach::Project(own), _, Some(asked)) if asked != *own => Err(Error::new(
            ErrorCode::Forbidden,
            "The control API acts only on the caller's project without an admin credential.",
        )),
        (_, _, Some(asked)) => Ok(asked),
        (_, Some(own), None) => Ok(own),
        (_, None, None) => Err(Error::invalid("project_id is required when authentication is off.")),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixturesRequest {
    /// The project to load into: the caller's by default; another project needs an admin
    /// credential. Required when authentication is off.
    project_id: Option<String>,
    servers: Vec<FixtureServer>,
    /// ECS groups (anti-affinity) to create, which servers join by naming them.
    #[serde(default)]
    server_groups: Vec<FixtureServerGroup>,
}

/// `POST /_ecsd/fixtures`: servers created directly in their stable statuses, in the caller's
/// project (or the `project_id` given, for an admin credential or when authentication is off).
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
        (status = 403, description = "Another project than the caller's without an admin credential, or an \
unknown one (`Ecs.0003`).", body = EcsError),
    )
)]
pub async fn load_fixtures(
    State(ecs): State<Arc<Ecs>>,
    caller: Controller,
    EcsJson(request): EcsJson<FixturesRequest>,
) -> ApiResult<Response> {
    let project_id = control_project(caller, request.project_id)?;
    let ids = blocking(&ecs, move |ecs| {
        if !ecs.project_exists(&project_id)? {
            return Err(Error::new(ErrorCode::Forbidden, format!("The project {project_id} does not exist.")));
        }
        ecs.load_fixtures(&project_id, &Fixtures { servers: request.servers, server_groups: request.server_groups })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(FixtureIds { servers: ids })).into_response())
}

/// What the platform announces for a server.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleEventRequest {
    /// The caller's project (the only one allowed) when authentication is on; required when off.
    project_id: Option<String>,
    server_id: String,
    #[serde(rename = "type")]
    event_type: EventType,
    /// `inquiring` (default: waits for `AcceptScheduledEvent`) or `scheduled` (runs at `not_before`).
    state: Option<EventState>,
    /// `yyyy-MM-ddTHH:mm:ssZ`; for a scheduled event, 24 hours after now when absent.
    not_before: Option<String>,
    /// `yyyy-MM-ddTHH:mm:ssZ`; 7 days after now when absent.
    not_before_deadline: Option<String>,
    description: Option<String>,
}

/// `POST /_ecsd/scheduled-events`: raises a scheduled event for a server, as the platform does
/// for host maintenance.
#[utoipa::path(
    post,
    path = "/_ecsd/scheduled-events",
    operation_id = "EcsdScheduleEvent",
    tag = "ecsd control",
    request_body = ScheduleEventRequest,
    responses(
        (status = 201, description = "The event, as `ListScheduledEvents` shows it.", body = EventView),
        (status = 400, description = "Malformed body or time, a state other than inquiring or scheduled, a `localdisk-recovery` event (not simulated), a `not_before` past the deadline (`Ecs.0005`).", body = EcsError),
        (status = 403, description = "Another project than the caller's (`Ecs.0003`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn schedule_event(
    State(ecs): State<Arc<Ecs>>,
    caller: Controller,
    EcsJson(request): EcsJson<ScheduleEventRequest>,
) -> ApiResult<Response> {
    let project_id = control_project(caller, request.project_id)?;
    let new = NewEvent {
        server_id: request.server_id,
        event_type: request.event_type,
        state: request.state.unwrap_or(EventState::Inquiring),
        not_before: request.not_before.as_deref().map(|t| utc_time("not_before", t)).transpose()?,
        not_before_deadline: request
            .not_before_deadline
            .as_deref()
            .map(|t| utc_time("not_before_deadline", t))
            .transpose()?,
        description: request.description,
    };
    let event = blocking(&ecs, move |ecs| ecs.schedule_event(&project_id, new)).await?;
    Ok((StatusCode::CREATED, Json(EventView::of(&event))).into_response())
}

/// The project of a control read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectQuery {
    /// Required when authentication is off; the caller's otherwise.
    project_id: Option<String>,
}

/// `GET /_ecsd/auto-terminations`: the project's scheduled deletions, and the delete job of each
/// one that has fired.
#[utoipa::path(
    get,
    path = "/_ecsd/auto-terminations",
    operation_id = "EcsdListAutoTerminations",
    tag = "ecsd control",
    params(ProjectQuery),
    responses(
        (status = 200, description = "Pending deletions, and fired ones with their `job_id`.",
         body = AutoTerminations),
        (status = 400, description = "No `project_id` with authentication off (`Ecs.0005`).", body = EcsError),
        (status = 403, description = "Another project than the caller's (`Ecs.0003`).", body = EcsError),
    )
)]
pub async fn list_auto_terminations(
    State(ecs): State<Arc<Ecs>>,
    caller: Controller,
    super::extract::EcsQuery(query): super::extract::EcsQuery<ProjectQuery>,
) -> ApiResult<Json<AutoTerminations>> {
    let project_id = control_project(caller, query.project_id)?;
    let terminations = blocking(&ecs, move |ecs| ecs.auto_terminations(&project_id)).await?;
    Ok(Json(AutoTerminations::of(&terminations)))
}
