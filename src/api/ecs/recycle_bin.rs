//! The recycle bin: its settings and policy, the servers in it, reverting and deleting them.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::batch::JobAccepted;
use super::wire::recycle_bin::{
    ListRecycleBinServersResponse, RecycleBinUpdated, ShowRecycleBinResponse, Switch, UpdateRecycleBinPolicyRequest,
    UpdateRecycleBinRequest,
};
use super::wire::servers::ServerDetail;
use crate::api::blocking;
use crate::api::error::{ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{EcsJson, EcsPath, EcsQuery, Project, ProjectPath, ServerPath};
use crate::domain::Error;
use crate::domain::query::{Page, ServerFilter, Start, check_length};
use crate::service::Ecs;

/// `GET /v1/{pid}/recycle-bin`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/recycle-bin",
    operation_id = "ShowRecycleBin",
    tag = "ECS recycle bin",
    params(ProjectPath),
    responses(
        (status = 200, description = "The project's recycle bin: `off`, 168 hours and 7 days until changed.",
         body = ShowRecycleBinResponse),
    )
)]
pub async fn show_recycle_bin(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
) -> ApiResult<Json<ShowRecycleBinResponse>> {
    let bin = blocking(&ecs, move |ecs| ecs.show_recycle_bin(&project_id)).await?;
    Ok(Json(ShowRecycleBinResponse::of(&bin)))
}

/// `PUT /v1/{pid}/recycle-bin`.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/recycle-bin",
    operation_id = "UpdateRecycleBin",
    tag = "ECS recycle bin",
    params(ProjectPath),
    request_body = UpdateRecycleBinRequest,
    responses(
        (status = 200, description = "Switched. From now on a delete keeps the servers the policy takes.",
         body = RecycleBinUpdated),
        (status = 400, description = "Malformed body, a `switch` other than `on`/`off`, or `off` while the bin \
holds servers (`Ecs.0005`).", body = EcsError),
    )
)]
pub async fn update_recycle_bin(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsJson(request): EcsJson<UpdateRecycleBinRequest>,
) -> ApiResult<Json<RecycleBinUpdated>> {
    let enabled = request.recycle_bin.switch == Switch::On;
    blocking(&ecs, move |ecs| ecs.update_recycle_bin(&project_id, enabled)).await?;
    Ok(Json(RecycleBinUpdated {}))
}

/// `PUT /v1/{pid}/recycle-bin/policy`.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/recycle-bin/policy",
    operation_id = "UpdateRecycleBinPolicy",
    tag = "ECS recycle bin",
    params(ProjectPath),
    request_body = UpdateRecycleBinPolicyRequest,
    responses(
        (status = 200, description = "Stored; servers already in the bin keep the time they had.", body = RecycleBinUpdated),
        (status = 400, description = "Malformed body, `retention_hour` outside 1 to 720 or `recycle_threshold_day` \
outside 1 to 1000 (`Ecs.0005`).", body = EcsError),
    )
)]
pub async fn update_recycle_bin_policy(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsJson(request): EcsJson<UpdateRecycleBinPolicyRequest>,
) -> ApiResult<Json<RecycleBinUpdated>> {
    let policy = request.policy;
    blocking(&ecs, move |ecs| {
        ecs.update_recycle_bin_policy(&project_id, policy.retention_hour, policy.recycle_threshold_day)
    })
    .await?;
    Ok(Json(RecycleBinUpdated {}))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecycleBinQuery {
    /// Substring of the name; `.` matches any character.
    name: Option<String>,
    /// Substring of a private IP address.
    ip_address: Option<String>,
    /// A tag key, or `key=value`.
    tags: Option<String>,
    /// Servers per page, 1 to 1000 (default 25).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
    /// The 1-based page number (a string in the SDK).
    offset: Option<String>,
    /// Servers after this server id (instead of `offset`).
    marker: Option<String>,
}

/// `GET /v1/{pid}/recycle-bin/cloudservers`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/recycle-bin/cloudservers",
    operation_id = "ListRecycleBinServers",
    tag = "ECS recycle bin",
    params(ProjectPath, RecycleBinQuery),
    responses(
        (status = 200, description = "The servers in the bin (`SOFT_DELETED`), newest first.",
         body = ListRecycleBinServersResponse),
        (status = 400, description = "`limit` outside 1 to 1000, an `offset` that is not a number, a text \
parameter over 255 characters (`Ecs.0005`).", body = EcsError),
    )
)]
pub async fn list_recycle_bin_servers(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsQuery(query): EcsQuery<RecycleBinQuery>,
) -> ApiResult<Json<ListRecycleBinServersResponse>> {
    let limit = query.limit.unwrap_or(Page::DEFAULT_LIMIT);
    if !(1..=Page::MAX_LIMIT).contains(&limit) {
        return Err(Error::invalid(format!("limit must range from 1 to {}.", Page::MAX_LIMIT)).into());
    }
    let start = match (query.marker, query.offset) {
        (Some(marker), _) => {
            check_length("marker", &marker)?;
            Start::After(marker)
        }
        (None, Some(offset)) => {
            let page = offset.trim().parse::<u64>().map_err(|_| Error::invalid("offset must be a page number."))?;
            Start::Page(page.max(1))
        }
        (None, None) => Start::Page(1),
    };
    let filter = ServerFilter { name: query.name, ip: query.ip_address, tags: query.tags, ..ServerFilter::default() };
    filter.validate()?;
    let page = Page { start, limit };
    let (servers, names) = blocking(&ecs, move |ecs| {
        Ok((ecs.list_recycle_bin_servers(&project_id, filter, page)?, ecs.security_group_names(&project_id)?))
    })
    .await?;
    let catalogue = ecs.catalogue();
    Ok(Json(ListRecycleBinServersResponse {
        servers: servers.iter().map(|s| ServerDetail::of(s, catalogue, &names)).collect(),
    }))
}

/// `POST /v1/{pid}/recycle-bin/cloudservers/{server_id}/actions/revert`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/recycle-bin/cloudservers/{server_id}/actions/revert",
    operation_id = "RevertRecycleBinServer",
    tag = "ECS recycle bin",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "Accepted: a `restoreServer` job; the server comes back `SHUTOFF` with its \
disks, NICs, tags and group.", body = JobAccepted),
        (status = 400, description = "A server that is not in the bin (`Ecs.0100`), busy (`Ecs.0603`) or locked \
(`Ecs.0605`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn revert_recycle_bin_server(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
) -> ApiResult<Json<JobAccepted>> {
    let job_id = blocking(&ecs, move |ecs| ecs.revert_recycle_bin_server(&project_id, &server_id)).await?;
    Ok(Json(JobAccepted { job_id }))
}

/// `DELETE /v1/{pid}/recycle-bin/cloudservers/{server_id}`.
#[utoipa::path(
    delete,
    path = "/v1/{project_id}/recycle-bin/cloudservers/{server_id}",
    operation_id = "DeleteRecycleBinServer",
    tag = "ECS recycle bin",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "Accepted: a `deleteServer` job that deletes the server for good.",
         body = JobAccepted),
        (status = 400, description = "A server that is not in the bin (`Ecs.0100`), busy (`Ecs.0603`) or locked \
(`Ecs.0605`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn delete_recycle_bin_server(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
) -> ApiResult<Json<JobAccepted>> {
    let job_id = blocking(&ecs, move |ecs| ecs.delete_recycle_bin_server(&project_id, &server_id)).await?;
    Ok(Json(JobAccepted { job_id }))
}
