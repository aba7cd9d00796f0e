//! Tags of servers: add and delete on one server, read back, find servers by tag.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::wire::tags::{
    ListServerTagsResponse, ListServersByTagRequest, ListServersByTagResponse, ProjectTag, QueryAction, ServerResource,
    ServerTagsActionRequest, ShowServerTagsResponse, TagAction,
};
use crate::api::error::{ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{EcsJson, EcsPath, Project, ProjectPath, ServerPath};
use crate::api::{blocking, point_read};
use crate::service::Ecs;

/// `POST /v1/{pid}/cloudservers/{server_id}/tags/action`: `create` or `delete` tags.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/tags/action",
    operation_id = "BatchCreateDeleteServerTags",
    tag = "Tags",
    params(ProjectPath, ServerPath),
    request_body(content = ServerTagsActionRequest, description = "`action` `create` (SDK BatchCreateServerTags) \
or `delete` (BatchDeleteServerTags)."),
    responses(
        (status = 204, description = "Done. Creating a tag the server has changes its value; deleting one it does \
not have is no error."),
        (status = 400, description = "Malformed body or `action` (`Ecs.0005`), more than 10 tags on the server \
(`Ecs.0905`), an invalid key or value (`Ecs.0906`), a key twice (`Ecs.0908`); nothing changed.", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn batch_server_tags_action(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<ServerTagsActionRequest>,
) -> ApiResult<StatusCode> {
    match request.action {
        TagAction::Create => {
            let tags: Vec<_> = request.tags.iter().map(|t| t.to_tag()).collect();
            blocking(&ecs, move |ecs| ecs.batch_create_server_tags(&project_id, &server_id, &tags)).await?;
        }
        TagAction::Delete => {
            let tags: Vec<_> = request.tags.iter().map(|t| t.to_delete()).collect();
            blocking(&ecs, move |ecs| ecs.batch_delete_server_tags(&project_id, &server_id, &tags)).await?;
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/{pid}/cloudservers/{server_id}/tags`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/tags",
    operation_id = "ShowServerTags",
    tag = "Tags",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "The server's tags, in the order they were added.", body = ShowServerTagsResponse),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn show_server_tags(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
) -> ApiResult<Json<ShowServerTagsResponse>> {
    let tags = point_read(&ecs, |ecs| ecs.show_server_tags(&project_id, &server_id))?;
    Ok(Json(ShowServerTagsResponse::of(&tags)))
}

/// `GET /v1/{pid}/cloudservers/tags`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/tags",
    operation_id = "ListServerTags",
    tag = "Tags",
    params(ProjectPath),
    responses((status = 200, description = "Every tag key of the project's servers with its values, sorted.",
               body = ListServerTagsResponse))
)]
pub async fn list_server_tags(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
) -> ApiResult<Json<ListServerTagsResponse>> {
    let tags = blocking(&ecs, move |ecs| ecs.list_server_tags(&project_id)).await?;
    Ok(Json(ListServerTagsResponse {
        tags: tags.into_iter().map(|(key, values)| ProjectTag { key, values }).collect(),
    }))
}

/// `POST /v1/{pid}/cloudservers/resource_instances/action`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/resource_instances/action",
    operation_id = "ListServersByTag",
    tag = "Tags",
    params(ProjectPath),
    request_body = ListServersByTagRequest,
    responses(
        (status = 200, description = "`filter`: the page of matching servers (newest first) and how many match; \
`count`: only how many.", body = ListServersByTagResponse),
        (status = 400, description = "Malformed body or `action`, `limit` outside 0 to 1000, a `limit` or \
`offset` that is not a number, more than 10 keys or values, a key twice (`Ecs.0005`).", body = EcsError),
    )
)]
pub async fn list_servers_by_tag(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsJson(request): EcsJson<ListServersByTagRequest>,
) -> ApiResult<Json<ListServersByTagResponse>> {
    by_tag(ecs, project_id, request).await
}

/// `POST /v1/{pid}/servers/resource_instances/action`: the same query at the path the OTC
/// reference gives.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/servers/resource_instances/action",
    operation_id = "ListServersByTagOtcPath",
    tag = "Tags",
    params(ProjectPath),
    request_body = ListServersByTagRequest,
    responses(
        (status = 200, description = "As `.../cloudservers/resource_instances/action`.",
         body = ListServersByTagResponse),
        (status = 400, description = "As `.../cloudservers/resource_instances/action`.", body = EcsError),
    )
)]
pub async fn list_servers_by_tag_otc_path(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsJson(request): EcsJson<ListServersByTagRequest>,
) -> ApiResult<Json<ListServersByTagResponse>> {
    by_tag(ecs, project_id, request).await
}

async fn by_tag(
    ecs: Arc<Ecs>,
    project_id: String,
    request: ListServersByTagRequest,
) -> ApiResult<Json<ListServersByTagResponse>> {
    let query = request.query()?;
    // A count ignores `limit` and `offset`, as documented.
    let (offset, limit) = match request.action {
        QueryAction::Filter => request.page()?,
        QueryAction::Count => (0, 0),
    };
    let (total, servers) =
        blocking(&ecs, move |ecs| ecs.list_servers_by_tag(&project_id, &query, offset, limit)).await?;
    let resources = match request.action {
        QueryAction::Filter => Some(servers.iter().map(ServerResource::of).collect()),
        QueryAction::Count => None,
    };
    Ok(Json(ListServersByTagResponse { resources, total_count: total }))
}
