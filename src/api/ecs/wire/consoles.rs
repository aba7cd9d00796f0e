//! Console requests and answers.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::Error;
use crate::service::ConsoleProtocol;

/// `{"remote_console": {"protocol": "vnc", "type": "novnc"}}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ShowServerRemoteConsoleRequest {
    pub remote_console: GetServerRemoteConsoleOption,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct GetServerRemoteConsoleOption {
    /// `vnc` (with type `novnc`) or `serial` (with type `serial`).
    pub protocol: RemoteConsoleProtocol,
    #[serde(rename = "type")]
    pub console_type: RemoteConsoleType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RemoteConsoleProtocol {
    Vnc,
    Serial,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RemoteConsoleType {
    Novnc,
    Serial,
}

impl GetServerRemoteConsoleOption {
    pub fn protocol(&self) -> Result<ConsoleProtocol, Error> {
        match (self.protocol, self.console_type) {
            (RemoteConsoleProtocol::Vnc, RemoteConsoleType::Novnc) => Ok(ConsoleProtocol::Vnc),
            (RemoteConsoleProtocol::Serial, RemoteConsoleType::Serial) => Ok(ConsoleProtocol::Serial),
            _ => Err(Error::invalid("protocol vnc goes with type novnc, and protocol serial with type serial.")),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowServerRemoteConsoleResponse {
    pub remote_console: ServerRemoteConsole,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServerRemoteConsole {
    pub protocol: RemoteConsoleProtocol,
    #[serde(rename = "type")]
    pub console_type: RemoteConsoleType,
    /// A login address with a one-time token, valid for 10 minutes.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowSerialConsoleActionsResponse {
    pub serial_console: SerialConsoleAddress,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SerialConsoleAddress {
    pub url: String,
}

/// `{"serial_console_options": {"enabled": true}}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateSerialConsoleOptionsRequest {
    pub serial_console_options: SerialConsoleOptions,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SerialConsoleOptions {
    pub enabled: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsoleOutputQuery {
    /// Lines wanted: the last ones; -1 for all (default 50).
    #[param(minimum = -1)]
    pub length: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowServerConsoleOutputResponse {
    /// The guest's console lines, joined with `\n`.
    pub output: String,
}
