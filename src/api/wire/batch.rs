//! Batch requests and the batch response format (contract section 2).

use serde::{Deserialize, Serialize};

use super::ServerId;
use crate::domain::batch::Refusal;

pub fn ids(servers: Vec<ServerId>) -> Vec<String> {
    servers.into_iter().map(|s| s.id).collect()
}

/// `{"os-start": {...}}`, `{"os-stop": {...}}` or `{"reboot": {...}}`: exactly one key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchActionRequest {
    #[serde(rename = "os-start")]
    pub start: Option<BatchStart>,
    #[serde(rename = "os-stop")]
    pub stop: Option<BatchStop>,
    pub reboot: Option<BatchReboot>,
}

#[derive(Debug, Deserialize)]
pub struct BatchStart {
    pub servers: Vec<ServerId>,
}

#[derive(Debug, Deserialize)]
pub struct BatchStop {
    pub servers: Vec<ServerId>,
    #[serde(rename = "type")]
    pub stop_type: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct BatchReboot {
    pub servers: Vec<ServerId>,
    #[serde(rename = "type")]
    pub reboot_type: String,
}

#[derive(Debug, Deserialize)]
pub struct DeleteServersRequest {
    pub servers: Vec<ServerId>,
    pub delete_publicip: Option<bool>,
    pub delete_volume: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct BatchResetPasswordRequest {
    pub new_password: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
    pub servers: Vec<ServerId>,
}

#[derive(Debug, Deserialize)]
pub struct BatchRenameRequest {
    pub name: String,
    #[serde(default)]
    pub dry_run: bool,
    pub servers: Vec<ServerId>,
}

#[derive(Debug, Deserialize)]
pub struct BatchResizeRequest {
    pub resize: BatchResize,
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Deserialize)]
pub struct BatchResize {
    #[serde(rename = "flavorRef")]
    pub flavor_ref: String,
    pub servers: Vec<ServerId>,
    pub mode: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ResizeRequest {
    pub resize: SingleResize,
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Deserialize)]
pub struct SingleResize {
    #[serde(rename = "flavorRef")]
    pub flavor_ref: String,
    pub mode: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ResetPasswordRequest {
    #[serde(rename = "reset-password")]
    pub reset_password: ResetPassword,
}

#[derive(Debug, Deserialize)]
pub struct ResetPassword {
    pub new_password: String,
    pub is_check_password: Option<bool>,
}

/// `{"job_id": "..."}`.
#[derive(Debug, Serialize)]
pub struct JobAccepted {
    pub job_id: String,
}

/// The normal batch response: `{"response": [{"id"}...]}`.
#[derive(Debug, Serialize)]
pub struct BatchResponse {
    pub response: Vec<ServerId>,
}

impl BatchResponse {
    pub fn of(ids: Vec<String>) -> Self {
        BatchResponse { response: ids.into_iter().map(|id| ServerId { id }).collect() }
    }
}

/// One entry of `internalError`: note the snake_case keys, unlike `error.code`.
#[derive(Debug, Serialize)]
pub struct InternalError {
    pub id: String,
    pub error_code: String,
    pub error_message: String,
}

impl From<&Refusal> for InternalError {
    fn from(refusal: &Refusal) -> Self {
        InternalError {
            id: refusal.server_id.clone(),
            error_code: refusal.error.wire_code().to_string(),
            error_message: refusal.error.message.clone(),
        }
    }
}
