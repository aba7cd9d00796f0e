//! Metadata of servers and the options of their metadata service.

use std::collections::BTreeMap;

use super::Ecs;
use super::servers::refusal;
use crate::domain::metadata::{self, HttpEndpoint, HttpTokens, MetadataOptions};
use crate::domain::server::Server;
use crate::domain::status::InstantOperation;
use crate::domain::{Error, Result};
use crate::engine::apply;
use crate::store::transact;

impl Ecs {
    /// Adds or replaces metadata pairs of a server and keeps the others (T2.5); returns the
    /// user metadata after the update.
    pub fn update_server_metadata(
        &self,
        project_id: &str,
        server_id: &str,
        update: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>> {
        let max_items = self.catalogue.quota.max_server_meta;
        self.change_metadata(project_id, server_id, |server| {
            server.metadata = metadata::merge(&server.metadata, update, max_items)?;
            Ok(())
        })
        .map(|server| server.metadata)
    }

    /// Replaces all the user metadata of a server (Nova's `PUT .../metadata`); returns it.
    pub fn replace_server_metadata(
        &self,
        project_id: &str,
        server_id: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>> {
        let max_items = self.catalogue.quota.max_server_meta;
        self.change_metadata(project_id, server_id, |server| {
            server.metadata = metadata::merge(&BTreeMap::new(), metadata, max_items)?;
            Ok(())
        })
        .map(|server| server.metadata)
    }

    /// Deletes one metadata key of a server; a key it does not have is no error (T2.6).
    pub fn delete_server_metadata(&self, project_id: &str, server_id: &str, key: &str) -> Result<()> {
        self.change_metadata(project_id, server_id, |server| {
            server.metadata = metadata::remove(&server.metadata, key)?;
            Ok(())
        })
        .map(drop)
    }

    pub fn show_metadata_options(&self, project_id: &str, server_id: &str) -> Result<MetadataOptions> {
        Ok(self.show_server(project_id, server_id)?.metadata_options)
    }

    pub fn update_metadata_options(
        &self,
        project_id: &str,
        server_id: &str,
        http_endpoint: Option<HttpEndpoint>,
        http_tokens: Option<HttpTokens>,
    ) -> Result<()> {
        self.change_metadata(project_id, server_id, |server| {
            server.metadata_options = server.metadata_options.updated(http_endpoint, http_tokens);
            Ok(())
        })
        .map(drop)
    }

    /// Changes a server that is running or stopped and idle (the metadata API's constraint).
    fn change_metadata(
        &self,
        project_id: &str,
        server_id: &str,
        change: impl Fn(&mut Server) -> Result<()>,
    ) -> Result<Server> {
        transact(self.store.as_ref(), |tx| {
            // Read under the write lock, so times follow the order in which operations commit.
            let now = self.clock.now();
            let mut server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            InstantOperation::UpdateMetadata.check(server.state()).map_err(|code| refusal(code, &server))?;
            let before = server.clone();
            change(&mut server)?;
            if server != before {
                server.updated = now;
                apply::save(tx, &self.catalogue, &server, server.task_state)?;
            }
            Ok(server)
        })
    }
}
