//! Nova's key pairs (`os-keypairs`): create (generated or imported), list, show, delete, per
//! project. A server create names one by `key_name`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::wire::{
    CreateKeypairRequest, CreatedKeypair, CreatedKeypairResponse, KeypairDetail, KeypairItem, KeypairResponse,
    KeypairSummary, KeypairsResponse, Link,
};
use super::{Microversion, NovaError, NovaJson, NovaPath, NovaProject, NovaQuery, NovaResult, blocking};
use crate::api::extract::{BaseUrl, ProjectPath};
use crate::domain::keypairs::{CreateKeypair, KeypairType};
use crate::service::Ecs;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct KeypairPath {
    pub keypair_name: String,
}

/// The paging of the key pair list (microversion 2.35 and later).
#[derive(Debug, Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
#[schema(as = NovaKeypairQuery)]
pub struct KeypairQuery {
    pub limit: Option<String>,
    /// The name of the last key pair of the previous page.
    pub marker: Option<String>,
}

fn no_such_keypair(name: &str, project_id: &str) -> NovaError {
    NovaError::not_found(format!("Keypair {name} not found for user {project_id}"))
}

/// `POST /v2.1/{project_id}/os-keypairs`.
#[utoipa::path(
    post,
    path = "/v2.1/{project_id}/os-keypairs",
    operation_id = "NovaCreateKeypair",
    tag = "Nova",
    params(ProjectPath),
    request_body = CreateKeypairRequest,
    responses(
        (status = 200, description = "Created (before microversion 2.2); a generated pair's private key is in \
         the answer, the only time it is given.", body = CreatedKeypairResponse),
        (status = 201, description = "Created (microversion 2.2 and later).", body = CreatedKeypairResponse),
        (status = 400, description = "Invalid name, type or public key.", body = super::wire::NovaFault),
        (status = 409, description = "The project has a key pair of that name.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_create_keypair(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    version: Microversion,
    NovaJson(request): NovaJson<CreateKeypairRequest>,
) -> NovaResult<Response> {
    let body = request.keypair;
    let key_type = match body.key_type.as_deref() {
        Some(text) if version.at_least(2) => KeypairType::parse(text)?,
        Some(_) => return Err(NovaError::bad_request("type needs microversion 2.2 or later.")),
        None => KeypairType::Ssh,
    };
    let create = CreateKeypair { name: body.name, key_type, public_key: body.public_key };
    let project = project_id.clone();
    let created = blocking(&ecs, move |ecs| ecs.create_keypair(&project, &create)).await?;
    let keypair = CreatedKeypair {
        name: created.keypair.name.clone(),
        public_key: created.keypair.public_key.clone(),
        fingerprint: created.keypair.fingerprint.clone(),
        user_id: project_id,
        key_type: version.at_least(2).then(|| created.keypair.key_type.as_str()),
        private_key: created.private_key.as_ref().map(|key| key.to_string()),
    };
    let status = if version.at_least(2) { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(CreatedKeypairResponse { keypair })).into_response())
}

/// `GET /v2.1/{project_id}/os-keypairs`: the project's key pairs, oldest first.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/os-keypairs",
    operation_id = "NovaListKeypairs",
    tag = "Nova",
    params(ProjectPath, KeypairQuery),
    responses(
        (status = 200, description = "The key pairs, each in its own `keypair` object.", body = KeypairsResponse),
        (status = 400, description = "Invalid limit, or a marker that names no key pair.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_list_keypairs(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    BaseUrl(base): BaseUrl,
    version: Microversion,
    NovaQuery(query): NovaQuery<KeypairQuery>,
) -> NovaResult<Json<KeypairsResponse>> {
    let project = project_id.clone();
    let mut keypairs = blocking(&ecs, move |ecs| ecs.list_keypairs(&project)).await?;
    let mut keypairs_links = vec![];
    if version.at_least(35) {
        if let Some(marker) = &query.marker {
            let at = keypairs
                .iter()
                .position(|k| k.name == *marker)
                .ok_or_else(|| NovaError::bad_request(format!("Marker {marker} could not be found.")))?;
            keypairs.drain(..=at);
        }
        if let Some(text) = &query.limit {
            let limit: usize = text
                .parse()
                .map_err(|_| NovaError::bad_request(format!("limit must be a non-negative integer, not {text}.")))?;
            if keypairs.len() > limit
                && let Some(last) = limit.checked_sub(1).and_then(|i| keypairs.get(i))
            {
                let href = format!("{base}/v2.1/{project_id}/os-keypairs?limit={limit}&marker={}", last.name);
                keypairs_links.push(Link { rel: "next", href });
            }
            keypairs.truncate(limit);
        }
    }
    let keypairs = keypairs.iter().map(|k| KeypairItem { keypair: KeypairSummary::of(k, version) }).collect::<Vec<_>>();
    Ok(Json(KeypairsResponse { keypairs, keypairs_links }))
}

/// `GET /v2.1/{project_id}/os-keypairs/{keypair_name}`: never the private key.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/os-keypairs/{keypair_name}",
    operation_id = "NovaShowKeypair",
    tag = "Nova",
    params(ProjectPath, KeypairPath),
    responses(
        (status = 200, description = "The key pair.", body = KeypairResponse),
        (status = 404, description = "No key pair of that name in the project.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_show_keypair(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(KeypairPath { keypair_name }): NovaPath<KeypairPath>,
    version: Microversion,
) -> NovaResult<Json<KeypairResponse>> {
    let (project, name) = (project_id.clone(), keypair_name.clone());
    let keypair = blocking(&ecs, move |ecs| ecs.show_keypair(&project, &name))
        .await?
        .ok_or_else(|| no_such_keypair(&keypair_name, &project_id))?;
    Ok(Json(KeypairResponse { keypair: KeypairDetail::of(&keypair, version) }))
}

/// `DELETE /v2.1/{project_id}/os-keypairs/{keypair_name}`.
#[utoipa::path(
    delete,
    path = "/v2.1/{project_id}/os-keypairs/{keypair_name}",
    operation_id = "NovaDeleteKeypair",
    tag = "Nova",
    params(ProjectPath, KeypairPath),
    responses(
        (status = 202, description = "Deleted (before microversion 2.2)."),
        (status = 204, description = "Deleted (microversion 2.2 and later)."),
        (status = 404, description = "No key pair of that name in the project.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_delete_keypair(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(KeypairPath { keypair_name }): NovaPath<KeypairPath>,
    version: Microversion,
) -> NovaResult<StatusCode> {
    let (project, name) = (project_id.clone(), keypair_name.clone());
    if !blocking(&ecs, move |ecs| ecs.delete_keypair(&project, &name)).await? {
        return Err(no_such_keypair(&keypair_name, &project_id));
    }
    Ok(if version.at_least(2) { StatusCode::NO_CONTENT } else { StatusCode::ACCEPTED })
}
