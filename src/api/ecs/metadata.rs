//! Metadata of a server, and the options of its metadata service.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::metadata::{
    MetadataOptionsBody, ShowMetadataOptionsResponse, UpdateServerMetadataRequest, UpdateServerMetadataResponse,
};
use crate::api::error::{ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{EcsJson, EcsPath, Project, ProjectPath, ServerPath};
use crate::api::{blocking, point_read};
use crate::service::Ecs;

/// A metadata key of a server.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MetadataKeyPath {
    /// The server id (a UUID).
    pub server_id: String,
    /// The key, percent-encoded.
    pub key: String,
}

/// `POST /v1/{pid}/cloudservers/{server_id}/metadata`: add or replace pairs.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/metadata",
    operation_id = "UpdateServerMetadata",
    tag = "Metadata",
    params(ProjectPath, ServerPath),
    request_body = UpdateServerMetadataRequest,
    responses(
        (status = 200, description = "The user metadata after the update.", body = UpdateServerMetadataResponse),
        (status = 400, description = "An invalid or reserved key, a long value, more than `maxServerMeta` pairs \
(`Ecs.0005`); a server not running or stopped (`Ecs.0100`), busy (`Ecs.0603`) or locked (`Ecs.0605`).",
         body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn update_server_metadata(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<UpdateServerMetadataRequest>,
) -> ApiResult<Json<UpdateServerMetadataResponse>> {
    let metadata =
        blocking(&ecs, move |ecs| ecs.update_server_metadata(&project_id, &server_id, &request.metadata)).await?;
    Ok(Json(UpdateServerMetadataResponse { metadata }))
}

/// `DELETE /v1/{pid}/cloudservers/{server_id}/metadata/{key}`.
#[utoipa::path(
    delete,
    path = "/v1/{project_id}/cloudservers/{server_id}/metadata/{key}",
    operation_id = "DeleteServerMetadata",
    tag = "Metadata",
    params(ProjectPath, MetadataKeyPath),
    responses(
        (status = 204, description = "The key is gone (also when the server did not have it)."),
        (status = 400, description = "A reserved key (`Ecs.0005`); a server not running or stopped (`Ecs.0100`), \
busy (`Ecs.0603`) or locked (`Ecs.0605`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn delete_server_metadata(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(MetadataKeyPath { server_id, key }): EcsPath<MetadataKeyPath>,
) -> ApiResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_server_metadata(&project_id, &server_id, &key)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/{pid}/cloudservers/{server_id}/metadata-options`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/metadata-options",
    operation_id = "ShowMetadataOptions",
    tag = "Metadata",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "The options of the server's metadata service.",
         body = ShowMetadataOptionsResponse),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn show_metadata_options(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
) -> ApiResult<Json<ShowMetadataOptionsResponse>> {
    let options = point_read(&ecs, |ecs| ecs.show_metadata_options(&project_id, &server_id))?;
    Ok(Json(ShowMetadataOptionsResponse::of(options)))
}

/// `PUT /v1/{pid}/cloudservers/{server_id}/metadata-options`.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/cloudservers/{server_id}/metadata-options",
    operation_id = "UpdateMetadataOptions",
    tag = "Metadata",
    params(ProjectPath, ServerPath),
    request_body = MetadataOptionsBody,
    responses(
        (status = 204, description = "The options given are set; the others stay."),
        (status = 400, description = "A malformed body or an unknown value (`Ecs.0005`); a server not running or \
stopped (`Ecs.0100`), busy (`Ecs.0603`) or locked (`Ecs.0605`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn update_metadata_options(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<MetadataOptionsBody>,
) -> ApiResult<StatusCode> {
    blocking(&ecs, move |ecs| {
        ecs.update_metadata_options(&project_id, &server_id, request.http_endpoint, request.http_tokens)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
