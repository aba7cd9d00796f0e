//! Tags of servers: adding and deleting them on one server, reading them back, and finding
//! servers by tag.

use super::Ecs;
use crate::domain::Error;
use crate::domain::Result;
use crate::domain::server::{Server, Tag};
use crate::domain::tags::{self, TagQuery, TagToDelete};
use crate::engine::apply;
use crate::store::{read, transact};

impl Ecs {
    /// Adds tags to a server, or changes their values (T2.1). Tags are the cloud's records of
    /// a server, not its guest's: any server may be tagged, busy or not.
    pub fn batch_create_server_tags(&self, project_id: &str, server_id: &str, adding: &[Tag]) -> Result<()> {
        tags::check_new(adding)?;
        self.change_tags(project_id, server_id, |current| tags::add(current, adding)).map(drop)
    }

    /// Deletes tags of a server; a tag it does not have is no error (T2.1).
    pub fn batch_delete_server_tags(&self, project_id: &str, server_id: &str, deleting: &[TagToDelete]) -> Result<()> {
        self.change_tags(project_id, server_id, |current| tags::delete(current, deleting)).map(drop)
    }

    /// Nova's `PUT .../tags/{tag}`: adds the tag, or changes its key's value. Whether the
    /// server lacked it is answered by the transaction that adds it, so of concurrent adds of
    /// one tag exactly one is told it was new.
    pub fn add_server_tag(&self, project_id: &str, server_id: &str, adding: &Tag) -> Result<bool> {
        let adding = std::slice::from_ref(adding);
        tags::check_new(adding)?;
        self.change_tags(project_id, server_id, |current| tags::add(current, adding))
    }

    /// Nova's `DELETE .../tags/{tag}`: false when the server does not have this very tag (key
    /// and value), told by the transaction that deletes it. A tag it does not have needs no
    /// rule of what a deletion may name: it is simply not there.
    pub fn delete_server_tag(&self, project_id: &str, server_id: &str, deleting: &Tag) -> Result<bool> {
        self.change_tags(project_id, server_id, |current| {
            Ok(current.iter().filter(|t| *t != deleting).cloned().collect())
        })
    }

    /// Nova's `PUT .../tags`: the server's tags become exactly these.
    pub fn replace_server_tags(&self, project_id: &str, server_id: &str, replacing: &[Tag]) -> Result<Vec<Tag>> {
        tags::check_new(replacing)?;
        tags::add(&[], replacing)?;
        self.change_tags(project_id, server_id, |_| Ok(replacing.to_vec()))?;
        Ok(replacing.to_vec())
    }

    /// Reads the server's tags, changes them and saves them in one transaction; true when
    /// they changed.
    fn change_tags(
        &self,
        project_id: &str,
        server_id: &str,
        change: impl Fn(&[Tag]) -> Result<Vec<Tag>>,
    ) -> Result<bool> {
        transact(self.store.as_ref(), |tx| {
            // Read under the write lock, so times follow the order in which operations commit.
            let now = self.clock.now();
            let mut server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            let tags = change(&server.tags)?;
            if tags == server.tags {
                return Ok(false);
            }
            server.tags = tags;
            server.updated = now;
            apply::save(tx, &self.catalogue, &server, server.task_state)?;
            Ok(true)
        })
    }

    pub fn show_server_tags(&self, project_id: &str, server_id: &str) -> Result<Vec<Tag>> {
        Ok(self.show_server(project_id, server_id)?.tags)
    }

    /// Every tag key of the project's servers with its values (T2.3).
    pub fn list_server_tags(&self, project_id: &str) -> Result<Vec<(String, Vec<String>)>> {
        read(self.store.as_ref(), |tx| tx.project_tags(project_id))
    }

    /// How many servers match a query by tag, and one page of them (T2.4).
    pub fn list_servers_by_tag(
        &self,
        project_id: &str,
        query: &TagQuery,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, Vec<Server>)> {
        query.validate()?;
        read(self.store.as_ref(), |tx| tx.servers_by_tag(project_id, query, offset, limit))
    }
}
