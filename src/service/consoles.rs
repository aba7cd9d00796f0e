//! Consoles: the remote (noVNC or serial) login address, the serial-console switch and its
//! address, and the console log.

use super::Ecs;
use super::batch::single_refusal;
use super::servers::refusal;
use crate::domain::console;
use crate::domain::lifecycle::{ServerEvent, ServerEventKind, serial_console_enabled};
use crate::domain::server::Server;
use crate::domain::status::{InstantOperation, TaskState, VmState};
use crate::domain::{Error, ErrorCode, Result};
use crate::store::read;

/// The protocol of a remote console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleProtocol {
    /// noVNC in a browser.
    Vnc,
    /// The serial port over a websocket.
    Serial,
}

/// A login address is reachable only while the guest runs: a server being built, stopped or
/// deleted has no console to connect to.
fn check_console(server: &Server) -> Result<()> {
    if server.vm_state != VmState::Active || server.task_state == Some(TaskState::Deleting) {
        return Err(refusal(ErrorCode::WrongStatus, server));
    }
    Ok(())
}

/// A login address of the documented shape, with a fresh one-time token; ecsd serves nothing
/// behind it.
fn console_url(server: &Server, protocol: ConsoleProtocol) -> String {
    let token = uuid::Uuid::new_v4();
    let zone = &server.availability_zone;
    match protocol {
        ConsoleProtocol::Vnc => {
            format!("https://nova-novncproxy.{zone}.ecsd.local:8002/vnc_auto.html?token={token}&lang=EN")
        }
        ConsoleProtocol::Serial => {
            format!("wss://nova-serialproxy.{zone}.ecsd.local:6083/?token={token}&instance_id={}", server.id)
        }
    }
}

impl Ecs {
    /// `ShowServerRemoteConsole`; a serial console also needs serial login switched on.
    pub fn show_server_remote_console(
        &self,
        project_id: &str,
        server_id: &str,
        protocol: ConsoleProtocol,
    ) -> Result<String> {
        let (server, events) = read(self.store.as_ref(), |tx| {
            let server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            Ok((server, tx.server_events(project_id, server_id)?))
        })?;
        check_console(&server)?;
        if protocol == ConsoleProtocol::Serial && !serial_console_enabled(&events) {
            return Err(Error::new(
                ErrorCode::WrongStatus,
                format!("Serial console login is not enabled for the ECS {server_id}; enable it first."),
            ));
        }
        Ok(console_url(&server, protocol))
    }

    /// `ShowSerialConsoleActions`: the serial login address.
    pub fn show_serial_console_actions(&self, project_id: &str, server_id: &str) -> Result<String> {
        self.show_server_remote_console(project_id, server_id, ConsoleProtocol::Serial)
    }

    /// `UpdateSerialConsoleOptions`: switches serial-console login on or off.
    pub fn update_serial_console_options(&self, project_id: &str, server_id: &str, enabled: bool) -> Result<()> {
        let kind = if enabled { ServerEventKind::SerialConsoleEnabled } else { ServerEventKind::SerialConsoleDisabled };
        let ids = [server_id.to_string()];
        self.apply_instant_with(project_id, &ids, InstantOperation::SerialConsole, false, |tx, server, now| {
            tx.record_server_event(&ServerEvent {
                project_id: project_id.to_string(),
                server_id: server.id.clone(),
                at: now,
                kind,
            })
        })
        .map_err(single_refusal)
        .map(drop)
    }

    /// `ShowServerConsoleOutput`: the last `length` lines of the guest's console (`-1`: all).
    pub fn show_server_console_output(&self, project_id: &str, server_id: &str, length: i64) -> Result<String> {
        if length < -1 {
            return Err(Error::invalid("length must be -1 (no limit) or more."));
        }
        let (server, sub_jobs, events) = read(self.store.as_ref(), |tx| {
            let server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            Ok((server, tx.server_sub_jobs(project_id, server_id)?, tx.server_events(project_id, server_id)?))
        })?;
        let os_name = self.catalogue.image(&server.image_id).map_or("Linux", |image| image.name.as_str());
        Ok(console::tail(&console::log(&server, os_name, &sub_jobs, &events), length))
    }
}
