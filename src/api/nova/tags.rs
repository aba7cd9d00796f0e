//! A server's tags (`/servers/{server_id}/tags`, microversion 2.26 and later): the ECS tags of
//! the server, each said as `key=value` (or `key`), as the server document shows them.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::TagsBody;
use super::{Microversion, NovaError, NovaJson, NovaPath, NovaProject, NovaResult};
use crate::api::error::ApiError;
use crate::api::extract::{BaseUrl, ProjectPath, ServerPath};
use crate::domain::ErrorCode;
use crate::domain::server::Tag;
use crate::service::Ecs;

/// The first microversion with server tags.
const TAGS_MICROVERSION: u16 = 26;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TagPath {
    pub server_id: String,
    /// The tag: `key=value`, or `key`.
    pub tag: String,
}

/// The ECS tag a Nova tag says: `key=value`, or `key` with no value.
fn tag_of(text: &str) -> Tag {
    match text.split_once('=') {
        Some((key, value)) => Tag { key: key.to_string(), value: value.to_string() },
        None => Tag { key: text.to_string(), value: String::new() },
    }
}

fn text_of(tag: &Tag) -> String {
    if tag.value.is_empty() { tag.key.clone() } else { format!("{}={}", tag.key, tag.value) }
}

fn texts(tags: &[Tag]) -> Vec<String> {
    tags.iter().map(text_of).collect()
}

/// A path's tag as the server shows it: `env=` is the tag `env` (a key with no value).
fn shown(text: &str) -> String {
    text_of(&tag_of(text))
}

fn no_such_tag(tag: &str) -> NovaError {
    NovaError::not_found(format!("Tag {tag} could not be found."))
}

/// Before 2.26 the paths do not exist, as Nova answers.
fn available(version: Microversion) -> NovaResult<()> {
    if version.at_least(TAGS_MICROVERSION) {
        Ok(())
    } else {
        Err(NovaError::not_found("The resource could not be found."))
    }
}

fn refusal(refused: ApiError, server_id: &str) -> NovaError {
    match refused.0.code {
        ErrorCode::ServerNotFound => NovaError::no_such_server(server_id),
        _ => NovaError::from(refused),
    }
}

async fn current(ecs: &Arc<Ecs>, project_id: &str, server_id: &str) -> NovaResult<Vec<String>> {
    let (project, id) = (project_id.to_string(), server_id.to_string());
    let tags = crate::api::blocking(ecs, move |ecs| ecs.show_server_tags(&project, &id))
        .await
        .map_err(|refused| refusal(refused, server_id))?;
    Ok(texts(&tags))
}

/// `GET /v2.1/{project_id}/servers/{server_id}/tags`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/{server_id}/tags",
    operation_id = "NovaListServerTags",
    tag = "Nova",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "The server's tags.", body = TagsBody),
        (status = 404, description = "No such server, or a microversion before 2.26.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_list_server_tags(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(ServerPath { server_id }): NovaPath<ServerPath>,
    version: Microversion,
) -> NovaResult<Json<TagsBody>> {
    available(version)?;
    Ok(Json(TagsBody { tags: current(&ecs, &project_id, &server_id).await? }))
}

/// `PUT /v2.1/{project_id}/servers/{server_id}/tags`: the tags become exactly these.
#[utoipa::path(
    put,
    path = "/v2.1/{project_id}/servers/{server_id}/tags",
    operation_id = "NovaReplaceServerTags",
    tag = "Nova",
    params(ProjectPath, ServerPath),
    request_body = TagsBody,
    responses(
        (status = 200, description = "The server's tags now.", body = TagsBody),
        (status = 400, description = "An invalid tag (ECS's rules), a key twice, or more than ECS's 10.",
         body = super::wire::NovaFault),
        (status = 404, description = "No such server, or a microversion before 2.26.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_replace_server_tags(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(ServerPath { server_id }): NovaPath<ServerPath>,
    version: Microversion,
    NovaJson(body): NovaJson<TagsBody>,
) -> NovaResult<Json<TagsBody>> {
    available(version)?;
    let tags: Vec<Tag> = body.tags.iter().map(|t| tag_of(t)).collect();
    let id = server_id.clone();
    let tags = crate::api::blocking(&ecs, move |ecs| ecs.replace_server_tags(&project_id, &id, &tags))
        .await
        .map_err(|refused| refusal(refused, &server_id))?;
    Ok(Json(TagsBody { tags: texts(&tags) }))
}

/// `DELETE /v2.1/{project_id}/servers/{server_id}/tags`: every tag goes.
#[utoipa::path(
    delete,
    path = "/v2.1/{project_id}/servers/{server_id}/tags",
    operation_id = "NovaDeleteAllServerTags",
    tag = "Nova",
    params(ProjectPath, ServerPath),
    responses(
        (status = 204, description = "The server has no tag."),
        (status = 404, description = "No such server, or a microversion before 2.26.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_delete_all_server_tags(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(ServerPath { server_id }): NovaPath<ServerPath>,
    version: Microversion,
) -> NovaResult<StatusCode> {
    available(version)?;
    let id = server_id.clone();
    crate::api::blocking(&ecs, move |ecs| ecs.replace_server_tags(&project_id, &id, &[]))
        .await
        .map_err(|refused| refusal(refused, &server_id))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v2.1/{project_id}/servers/{server_id}/tags/{tag}`: 204 when the server has it.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/{server_id}/tags/{tag}",
    operation_id = "NovaCheckServerTag",
    tag = "Nova",
    params(ProjectPath, TagPath),
    responses(
        (status = 204, description = "The server has the tag."),
        (status = 404, description = "No such server or tag, or a microversion before 2.26.",
         body = super::wire::NovaFault),
    )
)]
pub async fn nova_check_server_tag(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(TagPath { server_id, tag }): NovaPath<TagPath>,
    version: Microversion,
) -> NovaResult<StatusCode> {
    available(version)?;
    if current(&ecs, &project_id, &server_id).await?.contains(&shown(&tag)) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(no_such_tag(&tag))
    }
}

/// `PUT /v2.1/{project_id}/servers/{server_id}/tags/{tag}`: 201 with its `Location` when it is
/// new, 204 when the server had it. A tag of a key the server has replaces its value.
#[utoipa::path(
    put,
    path = "/v2.1/{project_id}/servers/{server_id}/tags/{tag}",
    operation_id = "NovaAddServerTag",
    tag = "Nova",
    params(ProjectPath, TagPath),
    responses(
        (status = 201, description = "The tag is added."),
        (status = 204, description = "The server had the tag."),
        (status = 400, description = "An invalid tag (ECS's rules), or more than ECS's 10.", body = super::wire::NovaFault),
        (status = 404, description = "No such server, or a microversion before 2.26.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_add_server_tag(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(TagPath { server_id, tag }): NovaPath<TagPath>,
    BaseUrl(base): BaseUrl,
    version: Microversion,
) -> NovaResult<Response> {
    available(version)?;
    let (project, id, adding) = (project_id.clone(), server_id.clone(), tag_of(&tag));
    let added = crate::api::blocking(&ecs, move |ecs| ecs.add_server_tag(&project, &id, &adding))
        .await
        .map_err(|refused| refusal(refused, &server_id))?;
    if !added {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let location = format!("{base}/v2.1/{project_id}/servers/{server_id}/tags/{tag}");
    let mut response = StatusCode::CREATED.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// `DELETE /v2.1/{project_id}/servers/{server_id}/tags/{tag}`.
#[utoipa::path(
    delete,
    path = "/v2.1/{project_id}/servers/{server_id}/tags/{tag}",
    operation_id = "NovaDeleteServerTag",
    tag = "Nova",
    params(ProjectPath, TagPath),
    responses(
        (status = 204, description = "The tag is gone."),
        (status = 404, description = "No such server or tag, or a microversion before 2.26.",
         body = super::wire::NovaFault),
    )
)]
pub async fn nova_delete_server_tag(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(TagPath { server_id, tag }): NovaPath<TagPath>,
    version: Microversion,
) -> NovaResult<StatusCode> {
    available(version)?;
    let (id, deleting) = (server_id.clone(), tag_of(&tag));
    let deleted = crate::api::blocking(&ecs, move |ecs| ecs.delete_server_tag(&project_id, &id, &deleting))
        .await
        .map_err(|refused| refusal(refused, &server_id))?;
    if deleted { Ok(StatusCode::NO_CONTENT) } else { Err(no_such_tag(&tag)) }
}
