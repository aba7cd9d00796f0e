//! The recycle bin's settings and its servers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::servers::ServerDetail;
use crate::domain::recycle_bin::RecycleBin;

/// Whether the recycle bin is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Switch {
    On,
    Off,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecycleBinPolicy {
    /// How many days old a server must be for a delete to keep it in the bin (1 to 1000).
    #[schema(minimum = 1, maximum = 1000)]
    pub recycle_threshold_day: u32,
    /// How many hours a server stays in the bin before it is deleted for good (1 to 720).
    #[schema(minimum = 1, maximum = 720)]
    pub retention_hour: u32,
}

/// `GET /v1/{pid}/recycle-bin`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShowRecycleBinResponse {
    pub project_id: String,
    pub switch: Switch,
    pub policy: RecycleBinPolicy,
}

impl ShowRecycleBinResponse {
    pub fn of(bin: &RecycleBin) -> Self {
        ShowRecycleBinResponse {
            project_id: bin.project_id.clone(),
            switch: if bin.enabled { Switch::On } else { Switch::Off },
            policy: RecycleBinPolicy { recycle_threshold_day: bin.threshold_days, retention_hour: bin.retention_hours },
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateRecycleBinOption {
    pub switch: Switch,
}

/// `{"recycle_bin": {"switch": "on"}}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateRecycleBinRequest {
    pub recycle_bin: UpdateRecycleBinOption,
}

/// `{"policy": {"retention_hour": 24, "recycle_threshold_day": 7}}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateRecycleBinPolicyRequest {
    pub policy: RecycleBinPolicy,
}

/// `{}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecycleBinUpdated {}

/// `GET /v1/{pid}/recycle-bin/cloudservers`: the servers as `ListServersDetails` shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListRecycleBinServersResponse {
    pub servers: Vec<ServerDetail>,
}
