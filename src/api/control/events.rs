//! The audit trail: `GET /_ecsd/events` lists records, `GET /_ecsd/events/stream` sends them as
//! Server-Sent Events as they are stored.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use utoipa::IntoParams;

use super::Controller;
use super::wire::{AuditEventView, Events};
use crate::api::blocking;
use crate::api::error::{ApiError, ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::EcsQuery;
use crate::domain::Error;
use crate::domain::events::{DEFAULT_EVENTS_LIMIT, EventFilter, EventKind, MAX_EVENTS_LIMIT, Since};
use crate::service::{Ecs, Reach};

/// The filters of a listing and of a stream.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Records naming this server.
    server_id: Option<String>,
    /// Records of this job (its call, the job, its sub-jobs, the faults that fired in them).
    job_id: Option<String>,
    /// Records of this operation (`BatchStopServers`, `stopServer`, `stop`).
    operation: Option<String>,
    /// `call`, `job`, `sub_job` or `fault`.
    kind: Option<String>,
    /// Records after this id, or at or after this (real) time, RFC 3339. Without it, a listing
    /// answers the newest records and a stream starts with the next one.
    since: Option<String>,
    /// Most records answered, 1 to 1000 (default 100). Not for the stream.
    limit: Option<u64>,
    /// With an admin credential: one project's records (all projects' when absent).
    project_id: Option<String>,
}

impl EventsQuery {
    fn filter(self) -> Result<EventFilter, ApiError> {
        let kind = match self.kind.as_deref() {
            None => None,
            Some(kind) => Some(EventKind::parse(kind).ok_or_else(|| {
                ApiError(Error::invalid(format!("kind {kind:?} is not one of call, job, sub_job, fault.")))
            })?),
        };
        let since = self.since.as_deref().map(since).transpose()?;
        let limit = self.limit.unwrap_or(DEFAULT_EVENTS_LIMIT);
        if !(1..=MAX_EVENTS_LIMIT).contains(&limit) {
            return Err(ApiError(Error::invalid(format!("limit must be 1 to {MAX_EVENTS_LIMIT}, not {limit}."))));
        }
        Ok(EventFilter {
            project_id: self.project_id,
            server_id: self.server_id,
            job_id: self.job_id,
            operation: self.operation,
            kind,
            since,
            limit,
        })
    }
}

fn since(text: &str) -> Result<Since, ApiError> {
    if let Ok(id) = text.parse::<u64>() {
        return Ok(Since::Id(id));
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(Since::Time)
        .map_err(|_| ApiError(Error::invalid(format!("since {text:?} is neither an event id nor an RFC 3339 time."))))
}

/// `GET /_ecsd/events`.
#[utoipa::path(
    get,
    path = "/_ecsd/events",
    operation_id = "EcsdListEvents",
    tag = "ecsd control",
    params(EventsQuery),
    responses(
        (status = 200, description = "The records the filters pick among those the caller may see (an admin \
credential: every project's; any other: its own project's), oldest first: the first `limit` after `since`, or \
without it the newest `limit`.", body = Events),
        (status = 400, description = "An unknown filter, kind, or `since`, or a `limit` outside 1 to 1000 \
(`Ecs.0005`).", body = EcsError),
        (status = 403, description = "Another project's `project_id` without an admin credential (`Ecs.0003`).",
         body = EcsError),
    )
)]
pub async fn list_events(
    State(ecs): State<Arc<Ecs>>,
    caller: Controller,
    EcsQuery(query): EcsQuery<EventsQuery>,
) -> ApiResult<Json<Events>> {
    let filter = query.filter()?;
    let events = blocking(&ecs, move |ecs| ecs.list_events(&caller.reach, filter)).await?;
    Ok(Json(Events { events: events.into_iter().map(AuditEventView::from).collect() }))
}

/// Records one read of a stream takes at most.
const STREAM_BATCH: u64 = 500;
/// A stream looks at the store this often even when told of nothing (records another ecsd
/// sharing the store made, or the engine's, which tells only after its transaction).
const STREAM_POLL: Duration = Duration::from_secs(1);

/// `GET /_ecsd/events/stream`: the records as they are stored, as Server-Sent Events.
#[utoipa::path(
    get,
    path = "/_ecsd/events/stream",
    operation_id = "EcsdStreamEvents",
    tag = "ecsd control",
    params(
        EventsQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this record (what a browser's \
EventSource sends when it reconnects); it wins over `since`."),
    ),
    responses(
        (status = 200, description = "`text/event-stream`: each record as `id: <id>`, `event: <kind>`, \
`data: <the record's JSON, as GET /_ecsd/events shows it>`; a comment now and then keeps the connection open. \
The stream ends when ecsd stops.", content_type = "text/event-stream", body = String),
        (status = 400, description = "An unknown filter, kind, or `since`, or a `Last-Event-ID` that is no id \
(`Ecs.0005`).", body = EcsError),
        (status = 403, description = "Another project's `project_id` without an admin credential (`Ecs.0003`).",
         body = EcsError),
    )
)]
pub async fn stream_events(
    State(ecs): State<Arc<Ecs>>,
    caller: Controller,
    headers: HeaderMap,
    EcsQuery(query): EcsQuery<EventsQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let resume = match headers.get("last-event-id") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|text| text.trim().parse::<u64>().ok())
                .ok_or_else(|| ApiError(Error::invalid("Last-Event-ID is not an event id.")))?,
        ),
    };
    let mut filter = query.filter()?;
    filter.limit = STREAM_BATCH;
    filter.since = match (resume, filter.since) {
        (Some(id), _) => Some(Since::Id(id)),
        (None, Some(since)) => Some(since),
        // From the next record on: after the newest the filter picks now.
        (None, None) => {
            let mut newest = filter.clone();
            newest.limit = 1;
            let reach = caller.reach.clone();
            let last = blocking(&ecs, move |ecs| ecs.list_events(&reach, newest)).await?;
            Some(Since::Id(last.last().map_or(0, |event| event.id)))
        }
    };
    // Refuses a filter the caller may not use before the stream starts.
    let reach = caller.reach;
    let first = {
        let (reach, filter) = (reach.clone(), filter.clone());
        blocking(&ecs, move |ecs| ecs.list_events(&reach, filter)).await?
    };
    if let Some(newest) = first.last() {
        filter.since = Some(Since::Id(newest.id));
    }
    let committed = ecs.trail().subscribe();
    let closing = ecs.trail().closing();
    let state = Streaming { ecs, reach, filter, pending: first.into(), committed, closing };
    let stream = stream::unfold(state, |mut state| async move {
        let event = state.next().await?;
        Some((Ok(event), state))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

struct Streaming {
    ecs: Arc<Ecs>,
    reach: Reach,
    /// Its `since` is after the last record read.
    filter: EventFilter,
    pending: VecDeque<crate::domain::events::Event>,
    committed: tokio::sync::watch::Receiver<u64>,
    closing: tokio::sync::watch::Receiver<bool>,
}

impl Streaming {
    /// The next record as an SSE event, waiting for it; `None` once ecsd stops.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(sse_event(event));
            }
            let (reach, filter) = (self.reach.clone(), self.filter.clone());
            match blocking(&self.ecs, move |ecs| ecs.list_events(&reach, filter)).await {
                Ok(events) if !events.is_empty() => {
                    if let Some(newest) = events.last() {
                        self.filter.since = Some(Since::Id(newest.id));
                    }
                    self.pending.extend(events);
                    continue;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(error = %error.0, "event stream: could not read the trail"),
            }
            tokio::select! {
                _ = self.committed.changed() => {}
                _ = tokio::time::sleep(STREAM_POLL) => {}
                _ = self.closing.wait_for(|closing| *closing) => return None,
            }
        }
    }
}

fn sse_event(event: crate::domain::events::Event) -> SseEvent {
    let kind = event.kind.as_str();
    let id = event.id.to_string();
    let view = AuditEventView::from(event);
    SseEvent::default()
        .id(id)
        .event(kind)
        .json_data(&view)
        .unwrap_or_else(|_| SseEvent::default().comment("a record could not be written"))
}
