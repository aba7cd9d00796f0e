//! Create, list, show and modify servers.

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::servers::{
    CreateServersRequest, CreateServersResponse, ListServersDetailsResponse, ListedServer, ServerDetail,
    ShowServerResponse, UpdateServerRequest, UpdateServerResponse, UpdatedServer,
};
use crate::api::error::{ApiError, ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{EcsBody, EcsJson, EcsPath, EcsQuery, Project, ProjectPath, ServerPath, parse_json};
use crate::api::{blocking, point_read};
use crate::domain::query::{MAX_FILTER_IDS, Page, ServerFilter, Start, check_length};
use crate::domain::status::Status;
use crate::domain::{Error, ErrorCode};
use crate::service::{ClientToken, CreateAccepted, Ecs, ServerUpdate};

/// The `X-Client-Token` header of a create.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct ClientTokenHeader {
    /// Idempotency token: a lower-case UUID (`Ecs.0123` otherwise). The same token with the
    /// same body (as JSON, `adminPass` aside) within 8 hours answers the first job again and
    /// creates nothing; a different body is `Ecs.0122`, an older token `Ecs.0124`.
    #[param(rename = "X-Client-Token")]
    pub x_client_token: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientTokenHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let token = match parts.headers.get("x-client-token") {
            Some(value) => Some(value.to_str().map_err(|_| Error::of(ErrorCode::ClientTokenInvalid))?.to_string()),
            None => None,
        };
        Ok(ClientTokenHeader { x_client_token: token })
    }
}

/// `POST /v1/{pid}/cloudservers`: create servers as one job.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers",
    operation_id = "CreatePostPaidServers",
    tag = "ECS",
    params(ProjectPath, ClientTokenHeader),
    request_body = CreateServersRequest,
    responses(
        (status = 200, description = "Accepted: one job creates the servers, which exist (status BUILD) at once.",
         body = CreateServersResponse),
        (status = 202, description = "`dry_run`: every check passed; nothing was created. No body."),
        (status = 400, description = "Invalid request, quota, network, image, flavor or client-token error.",
         body = EcsError),
    )
)]
pub async fn create_post_paid_servers(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    client_token: ClientTokenHeader,
    EcsBody(body): EcsBody,
) -> ApiResult<Response> {
    create(ecs, project_id, client_token, body).await
}

/// `POST /v1.1/{pid}/cloudservers`: the same create, with `extendparam`.
#[utoipa::path(
    post,
    path = "/v1.1/{project_id}/cloudservers",
    operation_id = "CreateServers",
    tag = "ECS",
    params(ProjectPath, ClientTokenHeader),
    request_body = CreateServersRequest,
    responses(
        (status = 200, description = "Accepted: one job creates the servers, which exist (status BUILD) at once.",
         body = CreateServersResponse),
        (status = 202, description = "`dry_run`: every check passed; nothing was created. No body."),
        (status = 400, description = "Invalid request, quota, network, image, flavor or client-token error.",
         body = EcsError),
    )
)]
pub async fn create_servers(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    client_token: ClientTokenHeader,
    EcsBody(body): EcsBody,
) -> ApiResult<Response> {
    create(ecs, project_id, client_token, body).await
}

async fn create(
    ecs: Arc<Ecs>,
    project_id: String,
    client_token: ClientTokenHeader,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let request: CreateServersRequest = parse_json(&body)?;
    let client_token =
        client_token.x_client_token.map(|token| ClientToken { token, fingerprinted: without_password(&body) });
    let dry_run = request.dry_run;
    let create = request.server.into_domain()?;
    let accepted =
        blocking(&ecs, move |ecs| ecs.create_servers(&project_id, &create, dry_run, client_token.as_ref())).await?;
    Ok(match accepted {
        CreateAccepted::DryRun => StatusCode::ACCEPTED.into_response(),
        CreateAccepted::Job { job_id, server_ids } => {
            Json(CreateServersResponse { job_id, server_ids }).into_response()
        }
    })
}

/// What an `X-Client-Token` remembers of a create body: its JSON without `server.adminPass`.
fn without_password(body: &[u8]) -> Vec<u8> {
    let mut value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    if let Some(server) = value.get_mut("server").and_then(serde_json::Value::as_object_mut) {
        server.remove("adminPass");
    }
    serde_json::to_vec(&value).unwrap_or_default()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The 1-based page number (0 behaves like 1).
    offset: Option<u64>,
    /// Servers per page, 1 to 1000 (default 25).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
    /// Flavor id.
    flavor: Option<String>,
    /// Substring of the name; `.` matches any character.
    name: Option<String>,
    status: Option<Status>,
    /// A tag key, or `key=value`.
    tags: Option<String>,
    /// Servers without this tag.
    #[serde(rename = "not-tags")]
    not_tags: Option<String>,
    /// The reservation id of a multi-server create.
    reservation_id: Option<String>,
    /// Substring of a private IP address.
    ip: Option<String>,
    /// Exact private IP address.
    ip_eq: Option<String>,
    /// Comma-separated server ids; every other filter is then ignored, and an unknown id gets
    /// an entry with only `id` and `fault`.
    server_id: Option<String>,
    /// Servers after this server id (instead of `offset`).
    marker: Option<String>,
}

/// `GET /v1/{pid}/cloudservers/detail`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/detail",
    operation_id = "ListServersDetails",
    tag = "ECS",
    params(ProjectPath, ListQuery),
    responses(
        (status = 200, description = "The servers that match, newest first, and how many match in all.",
         body = ListServersDetailsResponse),
        (status = 400, description = "`limit` outside 1 to 1000, an unknown `status`, a text parameter over 255 \
characters, more than 1000 ids in `server_id`, or a malformed query (`Ecs.0005`).", body = EcsError),
    )
)]
pub async fn list_servers_details(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsQuery(query): EcsQuery<ListQuery>,
) -> ApiResult<Json<ListServersDetailsResponse>> {
    let limit = query.limit.unwrap_or(Page::DEFAULT_LIMIT);
    if !(1..=Page::MAX_LIMIT).contains(&limit) {
        return Err(Error::invalid(format!("limit must range from 1 to {}.", Page::MAX_LIMIT)).into());
    }
    let start = match query.marker {
        Some(marker) => {
            check_length("marker", &marker)?;
            Start::After(marker)
        }
        None => Start::Page(query.offset.unwrap_or(1).max(1)),
    };
    let page = Page { start, limit };
    let filter = ServerFilter {
        name: query.name,
        status: query.status,
        flavor: query.flavor,
        ip: query.ip,
        ip_eq: query.ip_eq,
        tags: query.tags,
        not_tags: query.not_tags,
        reservation_id: query.reservation_id,
    };
    filter.validate()?;
    let server_ids: Option<Vec<String>> =
        query.server_id.map(|ids| ids.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect());
    if let Some(ids) = &server_ids {
        if ids.len() > MAX_FILTER_IDS {
            return Err(Error::invalid(format!("server_id may list at most {MAX_FILTER_IDS} ids.")).into());
        }
        for id in ids {
            check_length("server_id", id)?;
        }
    }
    let catalogue = ecs.catalogue();
    let (count, servers) = match server_ids {
        // With `server_id`, every other filter is ignored, and an unknown id gets an entry of
        // its own with only `id` and `fault` (contract T1.10).
        Some(ids) => {
            let (found, names) = blocking(&ecs, move |ecs| {
                Ok((ecs.servers_by_ids(&project_id, &ids)?, ecs.security_group_names(&project_id)?))
            })
            .await?;
            let listed: Vec<ListedServer> = found
                .into_iter()
                .map(|(id, server)| match server {
                    Some(server) => ListedServer::Found(Box::new(ServerDetail::of(&server, catalogue, &names))),
                    None => ListedServer::missing(id),
                })
                .collect();
            (listed.len() as u64, listed)
        }
        None => {
            let (count, servers, names) = blocking(&ecs, move |ecs| {
                let (count, servers) = ecs.list_servers_details(&project_id, &filter, page)?;
                Ok((count, servers, ecs.security_group_names(&project_id)?))
            })
            .await?;
            let listed = servers.iter().map(|s| ListedServer::Found(Box::new(ServerDetail::of(s, catalogue, &names))));
            (count, listed.collect())
        }
    };
    Ok(Json(ListServersDetailsResponse { count, servers }))
}

/// `GET /v1/{pid}/cloudservers/{server_id}`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}",
    operation_id = "ShowServer",
    tag = "ECS",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "The server.", body = ShowServerResponse),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn show_server(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
) -> ApiResult<Json<ShowServerResponse>> {
    let (server, names) = point_read(&ecs, |ecs| {
        Ok((ecs.show_server(&project_id, &server_id)?, ecs.security_group_names(&project_id)?))
    })?;
    Ok(Json(ShowServerResponse { server: ServerDetail::of(&server, ecs.catalogue(), &names) }))
}

/// `PUT /v1/{pid}/cloudservers/{server_id}`: name and description.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/cloudservers/{server_id}",
    operation_id = "UpdateServer",
    tag = "ECS",
    params(ProjectPath, ServerPath),
    request_body = UpdateServerRequest,
    responses(
        (status = 200, description = "The modified server, in the short shape of this call.",
         body = UpdateServerResponse),
        (status = 400, description = "Invalid name (`Ecs.0914`/`Ecs.0915`) or description (`Ecs.0041`), a \
`hostname` (not supported), a busy (`Ecs.0603`) or locked (`Ecs.0605`) server.", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn update_server(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<UpdateServerRequest>,
) -> ApiResult<Json<UpdateServerResponse>> {
    let update = ServerUpdate { name: request.server.name, description: request.server.description };
    if request.server.hostname.is_some() {
        return Err(
            Error::invalid("Changing hostname is deprecated and not supported; rename the server instead.").into()
        );
    }
    let server = blocking(&ecs, move |ecs| ecs.update_server(&project_id, &server_id, &update)).await?;
    Ok(Json(UpdateServerResponse { server: UpdatedServer::of(&server) }))
}
