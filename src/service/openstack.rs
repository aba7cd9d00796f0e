//! What the OpenStack face of the fleet adds to the ECS use cases: locking a server, and a
//! server's history as Nova's instance actions.

use super::Ecs;
use crate::domain::job::{JobStatus, SubJob};
use crate::domain::server::Server;
use crate::domain::status::{TaskState, VmState};
use crate::domain::{Error, ErrorCode, Result};
use crate::engine::apply;
use crate::store::{read, transact};

impl Ecs {
    /// `lock` / `unlock`: a locked server refuses every operation until it is unlocked. Any
    /// server that is not being deleted may be locked or unlocked, busy or not, as in Nova.
    pub fn lock_server(&self, project_id: &str, server_id: &str, locked: bool) -> Result<Server> {
        transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            let mut server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            if server.vm_state == VmState::Deleted || server.task_state == Some(TaskState::Deleting) {
                return Err(Error::new(
                    ErrorCode::WrongStatus,
                    format!("The ECS {server_id} is being deleted; it cannot be locked or unlocked."),
                ));
            }
            server.locked = locked;
            server.updated = now;
            apply::save(tx, &self.catalogue, &server, server.task_state)?;
            Ok(server)
        })
    }

    /// The sub-jobs that ran or run on a server, oldest first: its instance actions. A sub-job
    /// refused when its job was planned (failed before its first step) was never an action.
    pub fn list_instance_actions(&self, project_id: &str, server_id: &str) -> Result<Vec<SubJob>> {
        let subs = read(self.store.as_ref(), |tx| {
            tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            tx.server_sub_jobs(project_id, server_id)
        })?;
        Ok(subs.into_iter().filter(|sub| !(sub.status == JobStatus::Fail && sub.step == 0)).collect())
    }
}
