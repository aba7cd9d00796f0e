//! Batch requests and the batch response format (contract section 2).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ServerId;
use crate::domain::errors::Refusal;
use crate::domain::server::Server;

pub fn ids(servers: Vec<ServerId>) -> Vec<String> {
    servers.into_iter().map(|s| s.id).collect()
}

/// `{"os-start": {...}}`, `{"os-stop": {...}}` or `{"reboot": {...}}`: exactly one key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchActionRequest {
    #[serde(rename = "os-start")]
    pub start: Option<BatchStart>,
    #[serde(rename = "os-stop")]
    pub stop: Option<BatchStop>,
    pub reboot: Option<BatchReboot>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchStart {
    /// 1 to 1000 distinct servers.
    #[schema(min_items = 1, max_items = 1000)]
    pub servers: Vec<ServerId>,
}

/// The `type` of a stop or reboot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
pub enum PowerType {
    #[default]
    #[serde(rename = "SOFT")]
    Soft,
    #[serde(rename = "HARD")]
    Hard,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchStop {
    /// 1 to 1000 distinct servers.
    #[schema(min_items = 1, max_items = 1000)]
    pub servers: Vec<ServerId>,
    /// `SOFT` (default) or `HARD`.
    #[serde(rename = "type")]
    pub stop_type: Option<PowerType>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchReboot {
    /// 1 to 1000 distinct servers.
    #[schema(min_items = 1, max_items = 1000)]
    pub servers: Vec<ServerId>,
    #[serde(rename = "type")]
    pub reboot_type: PowerType,
}

/// The only resize mode: an ACTIVE server is stopped, resized and started again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum ResizeMode {
    #[serde(rename = "withStopServer")]
    WithStopServer,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DeleteServersRequest {
    /// 1 to 1000 distinct servers.
    #[schema(min_items = 1, max_items = 1000)]
    pub servers: Vec<ServerId>,
    pub delete_publicip: Option<bool>,
    pub delete_volume: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchResetPasswordRequest {
    /// 8 to 26 letters, digits and `!@%-_=+[]:./?`, at least three of upper case, lower case,
    /// digits and specials, not containing `root`, `administrator` (nor reversed) or three
    /// consecutive characters of `administrator` (`Ecs.0011` otherwise).
    #[schema(min_length = 8, max_length = 26, pattern = r"^[A-Za-z0-9!@%_=+\[\]:./?-]+$")]
    pub new_password: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
    /// 1 to 1000 servers.
    #[schema(min_items = 1, max_items = 1000)]
    pub servers: Vec<ServerId>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchRenameRequest {
    /// 1 to 128 letters, digits, `_`, `.`, `-` and CJK ideographs (`Ecs.0914`/`Ecs.0915`).
    #[schema(min_length = 1, max_length = 128, pattern = r"^[A-Za-z0-9_.\u4E00-\u9FFF-]+$")]
    pub name: String,
    #[serde(default)]
    pub dry_run: bool,
    /// 1 to 1000 servers.
    #[schema(min_items = 1, max_items = 1000)]
    pub servers: Vec<ServerId>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchResizeRequest {
    pub resize: BatchResize,
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchResize {
    /// The target flavor.
    #[serde(rename = "flavorRef")]
    #[schema(example = "s6.large.2")]
    pub flavor_ref: String,
    /// 1 to 50 servers.
    #[schema(min_items = 1, max_items = 50)]
    pub servers: Vec<ServerId>,
    /// `withStopServer` lets an ACTIVE server be resized (stopped, resized, started again).
    pub mode: Option<ResizeMode>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResizeRequest {
    pub resize: SingleResize,
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SingleResize {
    /// The target flavor.
    #[serde(rename = "flavorRef")]
    #[schema(example = "s6.large.2")]
    pub flavor_ref: String,
    /// `withStopServer` lets an ACTIVE server be resized (stopped, resized, started again).
    pub mode: Option<ResizeMode>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetPasswordRequest {
    #[serde(rename = "reset-password")]
    pub reset_password: ResetPassword,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetPassword {
    pub new_password: String,
    /// Check the complexity rule (`Ecs.0011`); false by default.
    pub is_check_password: Option<bool>,
}

/// `{"job_id": "..."}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobAccepted {
    pub job_id: String,
}

/// The normal batch response: `{"response": [{"id"}...]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    pub response: Vec<ServerId>,
}

impl BatchResponse {
    pub fn of(ids: Vec<String>) -> Self {
        BatchResponse { response: ids.into_iter().map(|id| ServerId { id }).collect() }
    }
}

/// One entry of `internalError`: note the snake_case keys, unlike `error.code`.
#[derive(Debug, Serialize, ToSchema)]
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

/// `GET .../os-resetpwd-flag`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResetPasswordFlag {
    /// Always `"True"`: the one-click reset plug-in is present in every simulated guest.
    pub resetpwd_flag: &'static str,
    /// An ecsd addition: a reset waits for the server's next start or reboot.
    pub password_reset_pending: bool,
}

impl ResetPasswordFlag {
    pub fn of(server: &Server) -> Self {
        ResetPasswordFlag { resetpwd_flag: "True", password_reset_pending: server.pending_password_hash.is_some() }
    }
}
