//! The JSON of the ECS API: serde structs with the API's own names, and their conversions to
//! and from domain types. Nothing outside api/ knows these shapes.

pub mod batch;
pub mod catalogue;
pub mod consoles;
pub mod groups;
pub mod jobs;
pub mod lifecycle;
pub mod metadata;
pub mod nics;
pub mod os;
pub mod reads;
pub mod recycle_bin;
pub mod scheduled_events;
pub mod servers;
pub mod tags;
pub mod templates;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{"id": "..."}`, the `ServerId` object of batch requests.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServerId {
    pub id: String,
}

/// The `page_info` of a list paged by marker (ECS groups, launch templates, scheduled events).
#[derive(Debug, Serialize, ToSchema)]
pub struct PageInfo {
    /// The marker of the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}
