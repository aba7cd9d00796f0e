//! The read-only catalogue of the ECS API: flavors, resize targets, quotas, zones.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::catalogue::{AvailabilityZones, FlavorDoc, FlavorsResponse, LimitsResponse};
use crate::api::blocking;
use crate::api::error::{ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{BaseUrl, EcsQuery, Project, ProjectPath};
use crate::domain::catalogue::{FlavorSortKey, SortDir};
use crate::domain::{Error, ErrorCode};
use crate::service::Ecs;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlavorsQuery {
    /// Only flavors of this availability zone (none for an unknown zone).
    availability_zone: Option<String>,
    /// Only this flavor (an ecsd addition).
    flavor_id: Option<String>,
}

/// `GET /v1/{pid}/cloudservers/flavors`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/flavors",
    operation_id = "ListFlavors",
    tag = "Catalogue",
    params(ProjectPath, FlavorsQuery),
    responses((status = 200, description = "The flavors (with `os_extra_specs` and `attachableQuantity`).",
               body = FlavorsResponse))
)]
pub async fn list_flavors(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    BaseUrl(base): BaseUrl,
    EcsQuery(query): EcsQuery<FlavorsQuery>,
) -> ApiResult<Json<FlavorsResponse>> {
    let catalogue = ecs.catalogue();
    if let Some(az) = &query.availability_zone
        && !catalogue.availability_zones.contains(az)
    {
        return Ok(Json(FlavorsResponse { flavors: vec![] }));
    }
    let flavors = catalogue
        .flavors
        .iter()
        .filter(|f| query.flavor_id.as_deref().is_none_or(|id| f.id == id))
        .map(|f| FlavorDoc::listed(f, catalogue, &base, &project_id))
        .collect();
    Ok(Json(FlavorsResponse { flavors }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResizeFlavorsQuery {
    /// The server to resize (takes precedence over the flavor parameters).
    instance_uuid: Option<String>,
    /// The flavor to resize from.
    #[param(example = "s6.small.1")]
    source_flavor_id: Option<String>,
    /// The flavor to resize from, by name (names equal ids here).
    source_flavor_name: Option<String>,
    /// `flavorid` (default), `name`, `memory_mb`, `vcpus` or `root_gb`.
    #[param(inline)]
    sort_key: Option<FlavorSortKey>,
    /// `asc` (default) or `desc`.
    #[param(inline)]
    sort_dir: Option<SortDir>,
    /// At most this many flavors (default 1000).
    limit: Option<usize>,
    /// Only flavors after this flavor id.
    marker: Option<String>,
}

/// `GET /v1/{pid}/cloudservers/resize_flavors`: the flavors a server (or a flavor) may be
/// resized to, by `instance_uuid`, `source_flavor_id` or `source_flavor_name`, in that order.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/resize_flavors",
    operation_id = "ListResizeFlavors",
    tag = "Catalogue",
    params(ProjectPath, ResizeFlavorsQuery),
    responses(
        (status = 200, description = "The flavors the server or flavor may be resized to (with `extra_specs` and \
`instance_quota`).", body = FlavorsResponse),
        (status = 400, description = "None of `instance_uuid`, `source_flavor_id`, `source_flavor_name`; an \
unknown `sort_key` or `sort_dir` (`Ecs.0005`); an unknown source flavor (`Ecs.0029`).", body = EcsError),
        (status = 404, description = "`instance_uuid` is not a server of the project (`Ecs.0114`).",
         body = EcsError),
    )
)]
pub async fn list_resize_flavors(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    BaseUrl(base): BaseUrl,
    EcsQuery(query): EcsQuery<ResizeFlavorsQuery>,
) -> ApiResult<Json<FlavorsResponse>> {
    let source_id = match (query.instance_uuid, query.source_flavor_id.or(query.source_flavor_name)) {
        (Some(server_id), _) => {
            let project = project_id.clone();
            blocking(&ecs, move |ecs| ecs.show_server(&project, &server_id)).await?.flavor_id
        }
        (None, Some(flavor_id)) => flavor_id,
        (None, None) => {
            return Err(
                Error::invalid("One of instance_uuid, source_flavor_id and source_flavor_name is required.").into()
            );
        }
    };
    let catalogue = ecs.catalogue();
    let source = catalogue
        .flavor(&source_id)
        .ok_or_else(|| Error::new(ErrorCode::FlavorNotFound, format!("The flavor {source_id} does not exist.")))?;
    let targets = catalogue.resize_flavors(
        source,
        query.sort_key.unwrap_or_default(),
        query.sort_dir.unwrap_or_default(),
        query.marker.as_deref(),
        query.limit.unwrap_or(1000),
    );
    let flavors = targets.into_iter().map(|f| FlavorDoc::resize_target(f, catalogue, &base, &project_id)).collect();
    Ok(Json(FlavorsResponse { flavors }))
}

/// `GET /v1/{pid}/cloudservers/limits`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/limits",
    operation_id = "ShowServerLimits",
    tag = "Catalogue",
    params(ProjectPath),
    responses((status = 200, description = "The project's quotas and usage.", body = LimitsResponse))
)]
pub async fn show_server_limits(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
) -> ApiResult<Json<LimitsResponse>> {
    let (usage, groups) =
        blocking(&ecs, move |ecs| Ok((ecs.show_server_limits(&project_id)?, ecs.server_groups_used(&project_id)?)))
            .await?;
    Ok(Json(LimitsResponse::of(&ecs.catalogue().quota, usage, groups)))
}

/// `GET /v1/{pid}/availability-zones`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/availability-zones",
    operation_id = "ListServerAzInfo",
    tag = "Catalogue",
    params(ProjectPath),
    responses((status = 200, description = "The availability zones.", body = AvailabilityZones))
)]
pub async fn list_server_az_info(State(ecs): State<Arc<Ecs>>, Project(_): Project) -> Json<AvailabilityZones> {
    Json(AvailabilityZones::of(ecs.catalogue()))
}
