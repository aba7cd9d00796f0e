//! ECS groups: creating and deleting them, and servers joining and leaving them. A server
//! that joins an anti-affinity group moves, if it must, to a host no other member is on.

use super::Ecs;
use super::control::save_rules;
use super::placement::{self, Moves};
use super::servers::refusal;
use crate::domain::faults::{FaultOperation, LoadedRules, Stage};
use crate::domain::groups::{self, ServerGroup};
use crate::domain::server::Timestamp;
use crate::domain::status::InstantOperation;
use crate::domain::{Error, ErrorCode, Result, batch};
use crate::engine::apply;
use crate::store::{WriteTx, read, transact};

/// Most servers one batch add or remove may name.
pub const MAX_BATCH_MEMBERS: usize = batch::MAX_BATCH_SERVERS;

/// What joining or leaving servers of one request share: the group, the moves planned, the
/// fault rules and the time.
struct Membership<'a> {
    group: ServerGroup,
    moves: Moves,
    rules: &'a mut LoadedRules,
    now: Timestamp,
}

impl Ecs {
    pub fn create_server_group(&self, project_id: &str, name: &str, policies: &[String]) -> Result<ServerGroup> {
        groups::check_new(name, policies)?;
        let group = transact(self.store.as_ref(), |tx| {
            let limit = self.catalogue.quota.max_server_groups;
            if limit >= 0 && tx.server_group_count(project_id)? as i64 >= limit {
                return Err(groups::quota_exceeded(limit));
            }
            let group = ServerGroup {
                id: uuid::Uuid::new_v4().to_string(),
                project_id: project_id.to_string(),
                name: name.to_string(),
                policies: policies.to_vec(),
                created: self.clock.now(),
                members: vec![],
            };
            tx.insert_server_group(&group)?;
            Ok(group)
        })?;
        tracing::info!(%project_id, group_id = %group.id, "ECS group created");
        Ok(group)
    }

    /// Deletes a group; its members stay, outside any group.
    pub fn delete_server_group(&self, project_id: &str, group_id: &str) -> Result<()> {
        transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            let group = tx.server_group(project_id, group_id)?.ok_or_else(|| groups::not_found(group_id))?;
            for member in tx.servers(project_id, &group.members)?.into_values() {
                self.leave(tx, member, now)?;
            }
            tx.delete_server_group(group_id)
        })
    }

    pub fn show_server_group(&self, project_id: &str, group_id: &str) -> Result<ServerGroup> {
        read(self.store.as_ref(), |tx| tx.server_group(project_id, group_id))?
            .ok_or_else(|| groups::not_found(group_id))
    }

    /// One page of the project's groups, oldest first, and the marker of the next page when
    /// more follow.
    pub fn list_server_groups(
        &self,
        project_id: &str,
        marker: Option<&str>,
        limit: u64,
    ) -> Result<(Vec<ServerGroup>, Option<String>)> {
        // One more than asked tells whether another page follows.
        let mut page = read(self.store.as_ref(), |tx| tx.server_groups(project_id, marker, limit.saturating_add(1)))?
            .ok_or_else(|| {
            Error::invalid(format!("The marker {} is not an ECS group of the project.", marker.unwrap_or("")))
        })?;
        let more = page.len() as u64 > limit;
        page.truncate(limit as usize);
        let next = if more { page.last().map(|g| g.id.clone()) } else { None };
        Ok((page, next))
    }

    pub fn add_server_group_member(&self, project_id: &str, group_id: &str, server_id: &str) -> Result<()> {
        let mut results = self.change_members(project_id, group_id, &[server_id.to_string()], true)?;
        results.pop().map_or(Ok(()), |(_, outcome)| outcome)
    }

    pub fn delete_server_group_member(&self, project_id: &str, group_id: &str, server_id: &str) -> Result<()> {
        let mut results = self.change_members(project_id, group_id, &[server_id.to_string()], false)?;
        results.pop().map_or(Ok(()), |(_, outcome)| outcome)
    }

    /// Adds servers to a group one by one, in order: each succeeds or fails on its own.
    pub fn batch_add_server_group_member(
        &self,
        project_id: &str,
        group_id: &str,
        server_ids: Vec<String>,
    ) -> Result<Vec<(String, Result<()>)>> {
        let ids = batch::server_ids(server_ids, MAX_BATCH_MEMBERS, batch::Duplicates::Refuse)?;
        self.change_members(project_id, group_id, &ids, true)
    }

    /// Removes servers from a group one by one, in order: each succeeds or fails on its own.
    pub fn batch_delete_server_group_member(
        &self,
        project_id: &str,
        group_id: &str,
        server_ids: Vec<String>,
    ) -> Result<Vec<(String, Result<()>)>> {
        let ids = batch::server_ids(server_ids, MAX_BATCH_MEMBERS, batch::Duplicates::Refuse)?;
        self.change_members(project_id, group_id, &ids, false)
    }

    /// One transaction over the servers of a membership request. A server's refusal is its
    /// own result; a store failure rolls everything back.
    fn change_members(
        &self,
        project_id: &str,
        group_id: &str,
        ids: &[String],
        join: bool,
    ) -> Result<Vec<(String, Result<()>)>> {
        let results = transact(self.store.as_ref(), |tx| {
            let group = tx.server_group(project_id, group_id)?.ok_or_else(|| groups::not_found(group_id))?;
            let mut rules = LoadedRules::new(tx.fault_rules()?);
            let mut membership =
                Membership { group, moves: Moves::default(), rules: &mut rules, now: self.clock.now() };
            let mut results = Vec::with_capacity(ids.len());
            for id in ids {
                let outcome =
                    if join { self.join(tx, &mut membership, id) } else { self.leave_group(tx, &membership, id) };
                match outcome {
                    Err(error) if error.code == ErrorCode::Internal => return Err(error),
                    outcome => results.push((id.clone(), outcome)),
                }
            }
            save_rules(tx, &rules)?;
            Ok(results)
        })?;
        let changed = results.iter().filter(|(_, outcome)| outcome.is_ok()).count();
        tracing::info!(%project_id, %group_id, join, servers = ids.len(), changed, "ECS group members changed");
        Ok(results)
    }

    /// A server joins the group: it must be idle, running or stopped, and it moves to a host
    /// no other member is on when its own host has one (`Ecs.0319` when no host is free).
    fn join(&self, tx: &mut dyn WriteTx, membership: &mut Membership, server_id: &str) -> Result<()> {
        let project_id = membership.group.project_id.clone();
        let mut server = tx.server(&project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
        match &server.server_group_id {
            Some(id) if *id == membership.group.id => return Ok(()),
            Some(other) => {
                return Err(Error::invalid(format!(
                    "The ECS {server_id} is a member of the ECS group {other} already; a server is in one group at most."
                )));
            }
            None => {}
        }
        InstantOperation::JoinGroup.check(server.state()).map_err(|code| refusal(code, &server))?;
        if let Some((_, effect)) =
            membership.rules.fire(Stage::Precheck, FaultOperation::ServerGroup, &project_id, Some(&server))
            && let Some((code, message)) = effect.failure()
        {
            return Err(Error::injected(400, code, message));
        }
        let limit = self.catalogue.quota.max_server_group_members;
        if limit >= 0 && membership.group.members.len() as i64 >= limit {
            return Err(groups::members_exceeded(&membership.group.id, limit));
        }
        let avoid = placement::member_hosts(tx, &project_id, &membership.group.members, Some(server_id))?;
        let stays = placement::demand(&self.catalogue, &server.flavor_id, server.resize_target.as_deref());
        if let Some(host) = membership.moves.fit(tx, &self.catalogue, &server, stays, &avoid)? {
            server.host = Some(host);
        }
        server.server_group_id = Some(membership.group.id.clone());
        server.updated = membership.now;
        apply::save(tx, &self.catalogue, &server, server.task_state)?;
        membership.group.members.push(server.id);
        Ok(())
    }

    /// A member leaves the group (in any status: membership is the cloud's record).
    fn leave_group(&self, tx: &mut dyn WriteTx, membership: &Membership, server_id: &str) -> Result<()> {
        let server =
            tx.server(&membership.group.project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
        if server.server_group_id.as_deref() != Some(membership.group.id.as_str()) {
            return Err(Error::invalid(format!(
                "The ECS {server_id} is not a member of the ECS group {}.",
                membership.group.id
            )));
        }
        self.leave(tx, server, membership.now)
    }

    fn leave(&self, tx: &mut dyn WriteTx, mut server: crate::domain::server::Server, now: Timestamp) -> Result<()> {
        server.server_group_id = None;
        server.updated = now;
        apply::save(tx, &self.catalogue, &server, server.task_state)
    }

    /// How many ECS groups the project has (`totalServerGroupsUsed`).
    pub fn server_groups_used(&self, project_id: &str) -> Result<u64> {
        read(self.store.as_ref(), |tx| tx.server_group_count(project_id))
    }
}
