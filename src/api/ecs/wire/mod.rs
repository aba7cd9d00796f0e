//! The JSON of the ECS API: serde structs with the API's own names, and their conversions to
//! and from domain types. Nothing outside api/ knows these shapes.

pub mod batch;
pub mod catalogue;
pub mod consoles;
pub mod jobs;
pub mod lifecycle;
pub mod scheduled_events;
pub mod servers;
pub mod templates;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{"id": "..."}`, the `ServerId` object of batch requests.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServerId {
    pub id: String,
}
