//! ECS groups (server groups): create, list, show, delete, and their members.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::PageInfo;
use super::wire::groups::{
    BatchServerGroupMembersRequest, BatchServerGroupMembersResponse, CreateServerGroupRequest,
    ListServerGroupsResponse, ServerGroupDoc, ServerGroupMemberRequest, ServerGroupResponse,
};
use crate::api::error::{ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{EcsJson, EcsPath, EcsQuery, Project, ProjectPath};
use crate::api::{blocking, point_read};
use crate::domain::Error;
use crate::domain::groups::MAX_LIST_LIMIT;
use crate::service::Ecs;

/// An ECS group of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ServerGroupPath {
    /// The ECS group id (a UUID).
    pub server_group_id: String,
}

/// `POST /v1/{pid}/cloudservers/os-server-groups`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/os-server-groups",
    operation_id = "CreateServerGroup",
    tag = "ECS groups",
    params(ProjectPath),
    request_body = CreateServerGroupRequest,
    responses(
        (status = 200, description = "The new group, without members.", body = ServerGroupResponse),
        (status = 400, description = "A malformed body, a name of 0 or more than 255 bytes, policies other than \
`[\"anti-affinity\"]` (`Ecs.0005`), the project's group quota reached (`Ecs.0022`).", body = EcsError),
    )
)]
pub async fn create_server_group(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsJson(request): EcsJson<CreateServerGroupRequest>,
) -> ApiResult<Json<ServerGroupResponse>> {
    let new = request.server_group;
    let group = blocking(&ecs, move |ecs| ecs.create_server_group(&project_id, &new.name, &new.policies)).await?;
    Ok(Json(ServerGroupResponse { server_group: ServerGroupDoc::of(&group) }))
}

/// `DELETE /v1/{pid}/cloudservers/os-server-groups/{server_group_id}`.
#[utoipa::path(
    delete,
    path = "/v1/{project_id}/cloudservers/os-server-groups/{server_group_id}",
    operation_id = "DeleteServerGroup",
    tag = "ECS groups",
    params(ProjectPath, ServerGroupPath),
    responses(
        (status = 204, description = "The group is gone; its members stay, in no group."),
        (status = 404, description = "No such group in the project (`Ecs.1000`).", body = EcsError),
    )
)]
pub async fn delete_server_group(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerGroupPath { server_group_id }): EcsPath<ServerGroupPath>,
) -> ApiResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_server_group(&project_id, &server_group_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListServerGroupsQuery {
    /// At most this many groups, 1 to 1000 (default 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
    /// Groups after this group id.
    marker: Option<String>,
}

/// `GET /v1/{pid}/cloudservers/os-server-groups`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/os-server-groups",
    operation_id = "ListServerGroups",
    tag = "ECS groups",
    params(ProjectPath, ListServerGroupsQuery),
    responses(
        (status = 200, description = "The groups, oldest first; `page_info.next_marker` when more follow.",
         body = ListServerGroupsResponse),
        (status = 400, description = "`limit` outside 1 to 1000, or a `marker` that is not a group of the project \
(`Ecs.0005`).", body = EcsError),
    )
)]
pub async fn list_server_groups(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsQuery(query): EcsQuery<ListServerGroupsQuery>,
) -> ApiResult<Json<ListServerGroupsResponse>> {
    let limit = query.limit.unwrap_or(MAX_LIST_LIMIT);
    if !(1..=MAX_LIST_LIMIT).contains(&limit) {
        return Err(Error::invalid(format!("limit must range from 1 to {MAX_LIST_LIMIT}.")).into());
    }
    let (groups, next) =
        blocking(&ecs, move |ecs| ecs.list_server_groups(&project_id, query.marker.as_deref(), limit)).await?;
    Ok(Json(ListServerGroupsResponse {
        server_groups: groups.iter().map(ServerGroupDoc::of).collect(),
        page_info: next.map(|next_marker| PageInfo { next_marker: Some(next_marker) }),
    }))
}

/// `GET /v1/{pid}/cloudservers/os-server-groups/{server_group_id}`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/os-server-groups/{server_group_id}",
    operation_id = "ShowServerGroup",
    tag = "ECS groups",
    params(ProjectPath, ServerGroupPath),
    responses(
        (status = 200, description = "The group with its members.", body = ServerGroupResponse),
        (status = 404, description = "No such group in the project (`Ecs.1000`).", body = EcsError),
    )
)]
pub async fn show_server_group(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerGroupPath { server_group_id }): EcsPath<ServerGroupPath>,
) -> ApiResult<Json<ServerGroupResponse>> {
    let group = point_read(&ecs, |ecs| ecs.show_server_group(&project_id, &server_group_id))?;
    Ok(Json(ServerGroupResponse { server_group: ServerGroupDoc::of(&group) }))
}

/// `POST /v1/{pid}/cloudservers/os-server-groups/{server_group_id}/action`: `add_member` or
/// `remove_member`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/os-server-groups/{server_group_id}/action",
    operation_id = "AddDeleteServerGroupMember",
    tag = "ECS groups",
    params(ProjectPath, ServerGroupPath),
    request_body(content = ServerGroupMemberRequest, description = "Exactly one of `add_member` (SDK \
AddServerGroupMember) and `remove_member` (DeleteServerGroupMember)."),
    responses(
        (status = 200, description = "Done; no body. A server that joins moves to a host no other member is on, \
if it must."),
        (status = 400, description = "A malformed body, a server in another group, a server not in the group \
(`Ecs.0005`), a server not running or stopped (`Ecs.0100`), busy (`Ecs.0603`) or locked (`Ecs.0605`), the group's \
member quota reached (`Ecs.0022`), no host free of other members (`Ecs.0319`).", body = EcsError),
        (status = 404, description = "No such group (`Ecs.1000`) or server (`Ecs.0114`) in the project.",
         body = EcsError),
    )
)]
pub async fn server_group_member_action(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerGroupPath { server_group_id }): EcsPath<ServerGroupPath>,
    EcsJson(request): EcsJson<ServerGroupMemberRequest>,
) -> ApiResult<StatusCode> {
    match (request.add_member, request.remove_member) {
        (Some(member), None) => {
            blocking(&ecs, move |ecs| ecs.add_server_group_member(&project_id, &server_group_id, &member.instance_uuid))
                .await?
        }
        (None, Some(member)) => {
            blocking(&ecs, move |ecs| {
                ecs.delete_server_group_member(&project_id, &server_group_id, &member.instance_uuid)
            })
            .await?
        }
        _ => return Err(Error::invalid("The body must have exactly one of add_member and remove_member.").into()),
    }
    Ok(StatusCode::OK)
}

/// `POST /v1/{pid}/cloudservers/os-server-groups/{server_group_id}/add_members`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/os-server-groups/{server_group_id}/add_members",
    operation_id = "BatchAddServerGroupMember",
    tag = "ECS groups",
    params(ProjectPath, ServerGroupPath),
    request_body = BatchServerGroupMembersRequest,
    responses(
        (status = 200, description = "Each server's outcome, in request order: each joins or fails on its own \
(`fail_reason` starts with the code a single add would answer).", body = BatchServerGroupMembersResponse),
        (status = 400, description = "A malformed body, no server or one twice (`Ecs.0005`), more than 1000 \
(`Ecs.0118`).", body = EcsError),
        (status = 404, description = "No such group in the project (`Ecs.1000`).", body = EcsError),
    )
)]
pub async fn batch_add_server_group_member(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerGroupPath { server_group_id }): EcsPath<ServerGroupPath>,
    EcsJson(request): EcsJson<BatchServerGroupMembersRequest>,
) -> ApiResult<Json<BatchServerGroupMembersResponse>> {
    let results =
        blocking(&ecs, move |ecs| ecs.batch_add_server_group_member(&project_id, &server_group_id, request.server_ids))
            .await?;
    Ok(Json(BatchServerGroupMembersResponse::of(results)))
}

/// `POST /v1/{pid}/cloudservers/os-server-groups/{server_group_id}/remove_members`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/os-server-groups/{server_group_id}/remove_members",
    operation_id = "BatchDeleteServerGroupMember",
    tag = "ECS groups",
    params(ProjectPath, ServerGroupPath),
    request_body = BatchServerGroupMembersRequest,
    responses(
        (status = 200, description = "Each server's outcome, in request order.", body = BatchServerGroupMembersResponse),
        (status = 400, description = "A malformed body, no server or one twice (`Ecs.0005`), more than 1000 \
(`Ecs.0118`).", body = EcsError),
        (status = 404, description = "No such group in the project (`Ecs.1000`).", body = EcsError),
    )
)]
pub async fn batch_delete_server_group_member(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerGroupPath { server_group_id }): EcsPath<ServerGroupPath>,
    EcsJson(request): EcsJson<BatchServerGroupMembersRequest>,
) -> ApiResult<Json<BatchServerGroupMembersResponse>> {
    let results = blocking(&ecs, move |ecs| {
        ecs.batch_delete_server_group_member(&project_id, &server_group_id, request.server_ids)
    })
    .await?;
    Ok(Json(BatchServerGroupMembersResponse::of(results)))
}
