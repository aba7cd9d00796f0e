//! The recycle bin: each project's settings, the servers a delete kept there, bringing them
//! back and deleting them for good. A delete puts servers in the bin (`batch_operate`); the
//! timers purge them (`fire_due`).

use super::Ecs;
use crate::domain::query::{Page, ServerFilter};
use crate::domain::recycle_bin::RecycleBin;
use crate::domain::server::Server;
use crate::domain::status::{Operation, Status, VmState};
use crate::domain::{Error, ErrorCode, Result};
use crate::store::{read, transact};

impl Ecs {
    /// `ShowRecycleBin`: off, 168 hours and 7 days until changed.
    pub fn show_recycle_bin(&self, project_id: &str) -> Result<RecycleBin> {
        read(self.store.as_ref(), |tx| tx.recycle_bin(project_id))
            .map(|bin| bin.unwrap_or_else(|| RecycleBin::default_for(project_id)))
    }

    /// `UpdateRecycleBin`: on or off. Off needs an empty bin, as the console asks.
    pub fn update_recycle_bin(&self, project_id: &str, enabled: bool) -> Result<()> {
        transact(self.store.as_ref(), |tx| {
            let mut bin = tx.recycle_bin(project_id)?.unwrap_or_else(|| RecycleBin::default_for(project_id));
            if !enabled && tx.recycled_count(project_id)? > 0 {
                return Err(Error::invalid(
                    "The recycle bin still holds servers: revert or delete them before turning it off.",
                ));
            }
            bin.enabled = enabled;
            tx.put_recycle_bin(&bin)
        })?;
        tracing::info!(%project_id, enabled, "recycle bin switched");
        Ok(())
    }

    /// `UpdateRecycleBinPolicy`: applies to the servers that enter the bin from now on.
    pub fn update_recycle_bin_policy(&self, project_id: &str, retention_hours: u32, threshold_days: u32) -> Result<()> {
        transact(self.store.as_ref(), |tx| {
            let mut bin = tx.recycle_bin(project_id)?.unwrap_or_else(|| RecycleBin::default_for(project_id));
            bin.set_policy(retention_hours, threshold_days)?;
            tx.put_recycle_bin(&bin)
        })
    }

    /// `ListRecycleBinServers`: the servers in the bin, with the list's filters and paging.
    pub fn list_recycle_bin_servers(&self, project_id: &str, filter: ServerFilter, page: Page) -> Result<Vec<Server>> {
        let filter = ServerFilter { status: Some(Status::SoftDeleted), ..filter };
        read(self.store.as_ref(), |tx| tx.list_servers(project_id, &filter, &page)).map(|(_, servers)| servers)
    }

    /// `RevertRecycleBinServer`: a job that brings the server back, stopped, with its disks,
    /// NICs, tags and group.
    pub fn revert_recycle_bin_server(&self, project_id: &str, server_id: &str) -> Result<String> {
        self.start_server_job(project_id, server_id, &Operation::Restore, |_, server, _| Ok(server.clone()))
    }

    /// `DeleteRecycleBinServer`: a delete job for a server in the bin.
    pub fn delete_recycle_bin_server(&self, project_id: &str, server_id: &str) -> Result<String> {
        self.start_server_job(project_id, server_id, &Operation::Delete, |_, server, _| {
            if server.vm_state != VmState::SoftDeleted {
                return Err(Error::new(
                    ErrorCode::WrongStatus,
                    format!("The ECS {} is not in the recycle bin.", server.id),
                ));
            }
            Ok(server.clone())
        })
    }
}
