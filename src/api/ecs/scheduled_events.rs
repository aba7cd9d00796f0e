//! Scheduled events (v3).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::PageInfo;
use super::wire::scheduled_events::{
    AcceptScheduledEventRequest, EventView, ListScheduledEventsQuery, ListScheduledEventsResponse,
    UpdateScheduledEventRequest,
};
use super::wire::templates::csv;
use crate::api::blocking;
use crate::api::error::{ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{EcsJson, EcsPath, EcsQuery, OptionalEcsJson, Project, ProjectPath};
use crate::domain::Error;
use crate::domain::lifecycle::parse_utc_time;
use crate::domain::scheduled_events::{EventState, EventType};
use crate::domain::server::Timestamp;
use crate::service::{Ecs, EventFilter};

const MAX_LIMIT: u64 = 100;

/// The event of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct EventPath {
    /// The event id.
    pub id: String,
}

/// A time of the API (`yyyy-MM-ddTHH:mm:ssZ`), naming the field when it is not one.
pub fn utc_time(field: &str, text: &str) -> Result<Timestamp, Error> {
    parse_utc_time(text)
        .ok_or_else(|| Error::invalid(format!("{field} {text:?} is not a time like 2024-06-01T12:00:00Z (UTC).")))
}

fn parsed<T>(
    field: &str,
    values: Option<Vec<String>>,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<Vec<T>>, Error> {
    values
        .map(|values| {
            values
                .iter()
                .map(|v| {
                    parse(v).ok_or_else(|| Error::invalid(format!("{field} {v:?} is not one of the API's values.")))
                })
                .collect()
        })
        .transpose()
}

/// `GET /v3/{pid}/instance-scheduled-events`.
#[utoipa::path(
    get,
    path = "/v3/{project_id}/instance-scheduled-events",
    operation_id = "ListScheduledEvents",
    tag = "ECS scheduled events",
    params(ProjectPath, ListScheduledEventsQuery),
    responses(
        (status = 200, description = "The project's events, oldest published first; an event's state follows the \
job that carries it out.", body = ListScheduledEventsResponse),
        (status = 400, description = "`limit` outside 1 to 100, an unknown type or state, a malformed time, or an \
unknown `marker` (`Ecs.0005`).", body = EcsError),
    )
)]
pub async fn list_scheduled_events(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsQuery(query): EcsQuery<ListScheduledEventsQuery>,
) -> ApiResult<Json<ListScheduledEventsResponse>> {
    let limit = query.limit.unwrap_or(MAX_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::invalid(format!("limit must range from 1 to {MAX_LIMIT}.")).into());
    }
    let filter = EventFilter {
        id: query.id,
        instance_ids: csv(query.instance_id),
        types: parsed("type", csv(query.event_type), EventType::parse)?,
        states: parsed("state", csv(query.state), EventState::parse)?,
        publish_since: query.publish_since.as_deref().map(|t| utc_time("publish_since", t)).transpose()?,
        publish_until: query.publish_until.as_deref().map(|t| utc_time("publish_until", t)).transpose()?,
        marker: query.marker,
        limit: limit as usize,
    };
    let (events, next_marker) = blocking(&ecs, move |ecs| ecs.list_scheduled_events(&project_id, &filter)).await?;
    Ok(Json(ListScheduledEventsResponse {
        events: events.iter().map(EventView::of).collect(),
        page_info: PageInfo { next_marker },
    }))
}

/// `POST /v3/{pid}/instance-scheduled-events/{id}/actions/accept`.
#[utoipa::path(
    post,
    path = "/v3/{project_id}/instance-scheduled-events/{id}/actions/accept",
    operation_id = "AcceptScheduledEvent",
    tag = "ECS scheduled events",
    params(ProjectPath, EventPath),
    request_body(content = AcceptScheduledEventRequest, description = "Optional: without `not_before` the event \
runs at once."),
    responses(
        (status = 204, description = "Authorised: the event is scheduled, and its action runs as a job at \
`not_before` on ecsd's clock."),
        (status = 400, description = "An event that is not inquiring, a malformed time or one past the event's \
`not_before_deadline` (`Ecs.0005`).", body = EcsError),
        (status = 404, description = "No such event in the project (`Ecs.1000`).", body = EcsError),
    )
)]
pub async fn accept_scheduled_event(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(EventPath { id }): EcsPath<EventPath>,
    OptionalEcsJson(request): OptionalEcsJson<AcceptScheduledEventRequest>,
) -> ApiResult<StatusCode> {
    let not_before =
        request.not_before.as_deref().filter(|t| !t.is_empty()).map(|t| utc_time("not_before", t)).transpose()?;
    blocking(&ecs, move |ecs| ecs.accept_scheduled_event(&project_id, &id, not_before)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /v3/{pid}/instance-scheduled-events/{id}`.
#[utoipa::path(
    put,
    path = "/v3/{project_id}/instance-scheduled-events/{id}",
    operation_id = "UpdateScheduledEvent",
    tag = "ECS scheduled events",
    params(ProjectPath, EventPath),
    request_body = UpdateScheduledEventRequest,
    responses(
        (status = 204, description = "The event runs at the new `not_before`."),
        (status = 400, description = "An event that is not scheduled and waiting, a malformed time, one in the past \
or past the `not_before_deadline` (`Ecs.0005`).", body = EcsError),
        (status = 404, description = "No such event in the project (`Ecs.1000`).", body = EcsError),
    )
)]
pub async fn update_scheduled_event(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(EventPath { id }): EcsPath<EventPath>,
    EcsJson(request): EcsJson<UpdateScheduledEventRequest>,
) -> ApiResult<StatusCode> {
    let not_before = utc_time("not_before", &request.not_before)?;
    blocking(&ecs, move |ecs| ecs.update_scheduled_event(&project_id, &id, not_before)).await?;
    Ok(StatusCode::NO_CONTENT)
}
