//! The JSON of the ECS API: serde structs with the API's own names, and their conversions to
//! and from domain types. Nothing outside api/ knows these shapes.

pub mod batch;
pub mod catalogue;
pub mod groups;
pub mod jobs;
pub mod metadata;
pub mod reads;
pub mod servers;
pub mod tags;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{"id": "..."}`, the `ServerId` object of batch requests.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServerId {
    pub id: String,
}
