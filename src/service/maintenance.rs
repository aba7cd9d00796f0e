//! Moving servers between the simulated hosts: cold migration and redeploy.

use super::{Ecs, placement};
use crate::domain::Result;
use crate::domain::server::Server;
use crate::domain::status::Operation;

impl Ecs {
    /// `MigrateServer`: a stopped server moves to `dedicated_host_id` (a host of its zone) or,
    /// without one, to the roomiest other host of its zone; never onto a host of another
    /// member of its anti-affinity group.
    pub fn migrate_server(&self, project_id: &str, server_id: &str, dedicated_host_id: Option<&str>) -> Result<String> {
        self.move_server(project_id, server_id, &Operation::Migrate { live: false }, dedicated_host_id)
    }

    /// `ExecuteServerRedeploy`: the server moves off its host; a running one is stopped and
    /// started again.
    pub fn execute_server_redeploy(&self, project_id: &str, server_id: &str) -> Result<String> {
        self.move_server(project_id, server_id, &Operation::Redeploy, None)
    }

    fn move_server(
        &self,
        project_id: &str,
        server_id: &str,
        operation: &Operation,
        target: Option<&str>,
    ) -> Result<String> {
        self.start_server_job(project_id, server_id, operation, |tx, server, _| {
            let host = placement::destination(tx, &self.catalogue, server, target)?;
            Ok(Server { host: Some(host), previous_host: server.host.clone(), ..server.clone() })
        })
    }
}
