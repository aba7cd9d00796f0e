//! ECS groups (server groups, T2.10).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::PageInfo;
use crate::domain::groups::ServerGroup;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateServerGroupRequest {
    pub server_group: NewServerGroup,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewServerGroup {
    /// 1 to 255 bytes.
    #[schema(example = "web-spread")]
    pub name: String,
    /// Exactly `["anti-affinity"]`, the one policy offered.
    pub policies: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServerGroupDoc {
    pub id: String,
    pub name: String,
    pub policies: Vec<String>,
    /// Member server ids, oldest server first.
    pub members: Vec<String>,
    /// Always empty.
    pub metadata: BTreeMap<String, String>,
}

impl ServerGroupDoc {
    pub fn of(group: &ServerGroup) -> Self {
        ServerGroupDoc {
            id: group.id.clone(),
            name: group.name.clone(),
            policies: group.policies.clone(),
            members: group.members.clone(),
            metadata: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServerGroupResponse {
    pub server_group: ServerGroupDoc,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListServerGroupsResponse {
    pub server_groups: Vec<ServerGroupDoc>,
    /// Present when more groups follow the page: the id to pass as the next `marker`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_info: Option<PageInfo>,
}

/// `{"add_member": {...}}` or `{"remove_member": {...}}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ServerGroupMemberRequest {
    pub add_member: Option<Member>,
    pub remove_member: Option<Member>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Member {
    pub instance_uuid: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchServerGroupMembersRequest {
    /// The servers, each once.
    pub server_ids: Vec<String>,
}

/// How one server, or the whole batch, fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BatchMemberStatus {
    Success,
    Fail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchServerGroupMembersResponse {
    /// `success` when every server succeeded, else `fail`.
    pub status: BatchMemberStatus,
    pub servers: Vec<BatchMemberResult>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchMemberResult {
    pub status: BatchMemberStatus,
    pub server_id: String,
    /// Why the server failed, with its error code first; empty on success.
    pub fail_reason: String,
}

impl BatchServerGroupMembersResponse {
    pub fn of(results: Vec<(String, Result<(), crate::domain::Error>)>) -> Self {
        let servers: Vec<BatchMemberResult> = results
            .into_iter()
            .map(|(server_id, outcome)| match outcome {
                Ok(()) => {
                    BatchMemberResult { status: BatchMemberStatus::Success, server_id, fail_reason: String::new() }
                }
                Err(error) => {
                    BatchMemberResult { status: BatchMemberStatus::Fail, server_id, fail_reason: error.to_string() }
                }
            })
            .collect();
        let status = if servers.iter().all(|s| s.status == BatchMemberStatus::Success) {
            BatchMemberStatus::Success
        } else {
            BatchMemberStatus::Fail
        };
        BatchServerGroupMembersResponse { status, servers }
    }
}
