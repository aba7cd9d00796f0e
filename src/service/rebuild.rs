//! Reinstalling a server's OS and changing it to another image: one job on one server, whose
//! last step re-creates the system disk (same volume id) from the image.

use super::Ecs;
use crate::domain::Result;
use crate::domain::lifecycle::{ServerEvent, ServerEventKind};
use crate::domain::rebuild::RebuildRequest;
use crate::domain::status::Operation;

impl Ecs {
    /// `ReinstallServerWithCloudInit` (v2) and `ReinstallServerWithoutCloudInit` (v1): the
    /// server's own image again.
    pub fn reinstall_server(&self, project_id: &str, server_id: &str, request: &RebuildRequest) -> Result<String> {
        let operation = Operation::Reinstall { with_stop: request.with_stop };
        self.rebuild_server(project_id, server_id, &RebuildRequest { image_id: None, ..request.clone() }, &operation)
    }

    /// `ChangeServerOsWithCloudInit` (v2) and `ChangeServerOsWithoutCloudInit` (v1).
    pub fn change_server_os(&self, project_id: &str, server_id: &str, request: &RebuildRequest) -> Result<String> {
        let operation = Operation::ChangeOs { with_stop: request.with_stop };
        self.rebuild_server(project_id, server_id, request, &operation)
    }

    fn rebuild_server(
        &self,
        project_id: &str,
        server_id: &str,
        request: &RebuildRequest,
        operation: &Operation,
    ) -> Result<String> {
        request.check()?;
        let password_hash = match &request.admin_pass {
            Some(pass) => Some(crate::secrets::hash_password(pass)?),
            None => None,
        };
        self.start_server_job(project_id, server_id, operation, |tx, server, now| {
            let image = request.image(&self.catalogue, server)?;
            let mut next = server.clone();
            next.rebuild = Some(request.rebuild(image, password_hash.clone()));
            if password_hash.is_some() {
                // The console shows the new password taken up at the new guest's first boot.
                tx.record_server_event(&ServerEvent {
                    project_id: project_id.to_string(),
                    server_id: server.id.clone(),
                    at: now,
                    kind: ServerEventKind::PasswordReset,
                })?;
            }
            Ok(next)
        })
    }
}
