//! Scheduled events (v3).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::PageInfo;
use crate::api::format::server_time;
use crate::domain::scheduled_events::{EventState, EventType};
use crate::service::ShownEvent;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListScheduledEventsQuery {
    /// The id of the last event of the previous page.
    pub marker: Option<String>,
    pub id: Option<String>,
    /// Comma-separated server ids.
    pub instance_id: Option<String>,
    /// Comma-separated event types.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// Comma-separated event states.
    pub state: Option<String>,
    /// Events published at or after this time (`yyyy-MM-ddTHH:mm:ssZ`).
    pub publish_since: Option<String>,
    /// Events published at or before this time.
    pub publish_until: Option<String>,
    /// 1 to 100 (default 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListScheduledEventsResponse {
    pub events: Vec<EventView>,
    pub page_info: PageInfo,
}

/// An event; times are `yyyy-MM-ddTHH:mm:ssZ`, absent when not (yet) known.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub state: EventState,
    pub publish_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    pub not_before_deadline: String,
    pub description: String,
    pub instance_id: String,
}

impl EventView {
    pub fn of(shown: &ShownEvent) -> Self {
        let e = &shown.event;
        EventView {
            id: e.id.clone(),
            event_type: e.event_type,
            state: shown.state,
            publish_time: server_time(e.publish_time),
            start_time: shown.start_time.map(server_time),
            finish_time: shown.finish_time.map(server_time),
            not_before: e.not_before.map(server_time),
            not_after: e.not_after().map(server_time),
            not_before_deadline: server_time(e.not_before_deadline),
            description: e.description.clone(),
            instance_id: e.server_id.clone(),
        }
    }
}

/// `{"not_before": "..."}`: when to run; at once when absent.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AcceptScheduledEventRequest {
    pub not_before: Option<String>,
}

/// `{"not_before": "..."}`: the new start, before the event's `not_before_deadline`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateScheduledEventRequest {
    pub not_before: String,
}
