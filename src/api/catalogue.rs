//! Read-only catalogue: versions, flavors, resize targets, quotas, AZs, images, VPCs, subnets.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::error::{ApiResult, BaseUrl, EcsQuery, Project};
use super::openapi::doc::{
    AvailabilityZones, EcsError, Images, NovaAvailabilityZones, ProjectPath, Subnets, Versions, Vpcs,
};
use super::wire::catalogue::{
    FlavorDoc, FlavorsResponse, LimitsResponse, availability_zones_nova, availability_zones_v1, image_doc, subnet_doc,
    versions, vpc_doc,
};
use super::{AppState, blocking};
use crate::domain::{Error, ErrorCode};

/// `GET /`: the API versions (public).
#[utoipa::path(
    get,
    path = "/",
    operation_id = "ListVersions",
    tag = "Meta",
    security(()),
    responses((status = 200, description = "The API versions.", body = Versions))
)]
pub async fn list_versions(BaseUrl(base): BaseUrl) -> Json<Value> {
    Json(versions(&base))
}

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
    State(ecs): State<AppState>,
    Project(project_id): Project,
    BaseUrl(base): BaseUrl,
    EcsQuery(query): EcsQuery<FlavorsQuery>,
) -> ApiResult<Json<FlavorsResponse>> {
    let catalogue = &ecs.catalogue;
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
    #[param(value_type = Option<super::openapi::doc::FlavorSortKey>)]
    sort_key: Option<String>,
    /// `asc` (default) or `desc`.
    #[param(value_type = Option<super::openapi::doc::SortDir>)]
    sort_dir: Option<String>,
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
    State(ecs): State<AppState>,
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
    let catalogue = &ecs.catalogue;
    let source = catalogue
        .flavor(&source_id)
        .ok_or_else(|| Error::new(ErrorCode::FlavorNotFound, format!("The flavor {source_id} does not exist.")))?;
    let mut targets: Vec<_> = catalogue.resize_targets(source).collect();
    match query.sort_key.as_deref().unwrap_or("flavorid") {
        "flavorid" | "name" => targets.sort_by(|a, b| a.id.cmp(&b.id)),
        "memory_mb" => targets.sort_by_key(|f| (f.ram_mib, f.id.clone())),
        "vcpus" => targets.sort_by_key(|f| (f.vcpus, f.id.clone())),
        "root_gb" => {}
        other => return Err(Error::invalid(format!("Unknown sort_key {other}.")).into()),
    }
    match query.sort_dir.as_deref().unwrap_or("asc") {
        "asc" => {}
        "desc" => targets.reverse(),
        other => {
            return Err(Error::invalid(format!("sort_dir must be asc or desc, not {other}.")).into());
        }
    }
    if let Some(marker) = &query.marker {
        let after = targets.iter().position(|f| &f.id == marker).map_or(0, |i| i + 1);
        targets.drain(..after);
    }
    targets.truncate(query.limit.unwrap_or(1000));
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
    State(ecs): State<AppState>,
    Project(project_id): Project,
) -> ApiResult<Json<LimitsResponse>> {
    let usage = blocking(&ecs, move |ecs| ecs.show_server_limits(&project_id)).await?;
    Ok(Json(LimitsResponse::of(&ecs.catalogue.quota, usage)))
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
pub async fn list_server_az_info(State(ecs): State<AppState>, Project(_): Project) -> Json<Value> {
    Json(availability_zones_v1(&ecs.catalogue))
}

/// `GET /v2.1/{pid}/os-availability-zone` (Nova).
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/os-availability-zone",
    operation_id = "NovaListAvailabilityZones",
    tag = "Catalogue",
    params(ProjectPath),
    responses((status = 200, description = "The availability zones, as Nova lists them.",
               body = NovaAvailabilityZones))
)]
pub async fn nova_list_availability_zones(State(ecs): State<AppState>, Project(_): Project) -> Json<Value> {
    Json(availability_zones_nova(&ecs.catalogue))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImagesQuery {
    /// Exact image name.
    name: Option<String>,
    /// Exact status, such as `active`.
    status: Option<String>,
    /// `gold` (every image here is public).
    #[serde(rename = "__imagetype")]
    image_type: Option<String>,
    /// `Linux` or `Windows`.
    #[serde(rename = "__os_type")]
    os_type: Option<String>,
    /// Such as `Ubuntu`.
    #[serde(rename = "__platform")]
    platform: Option<String>,
    /// Exact image id.
    id: Option<String>,
}

/// `GET /v2/cloudimages` (IMS): the public images, filterable like IMS.
#[utoipa::path(
    get,
    path = "/v2/cloudimages",
    operation_id = "ListImages",
    tag = "Catalogue",
    params(ImagesQuery),
    responses(
        (status = 200, description = "The public images that match.", body = Images),
        (status = 400, description = "A malformed query (`Ecs.0005`).", body = EcsError),
    )
)]
pub async fn list_images(State(ecs): State<AppState>, EcsQuery(query): EcsQuery<ImagesQuery>) -> Json<Value> {
    let matches = |wanted: &Option<String>, actual: &str| wanted.as_deref().is_none_or(|w| w == actual);
    let images: Vec<Value> = ecs
        .catalogue
        .images
        .iter()
        .filter(|i| {
            matches(&query.name, &i.name)
                && matches(&query.status, &i.status)
                && matches(&query.image_type, "gold")
                && matches(&query.os_type, &i.os_type)
                && matches(&query.platform, &i.platform)
                && matches(&query.id, &i.id)
        })
        .map(image_doc)
        .collect();
    Json(json!({ "images": images }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VpcQuery {
    /// Only the VPC with this id (`GET .../vpcs`).
    id: Option<String>,
    /// Only the subnets of this VPC (`GET .../subnets`).
    vpc_id: Option<String>,
}

/// `GET /v1/{pid}/vpcs` (VPC).
#[utoipa::path(
    get,
    path = "/v1/{project_id}/vpcs",
    operation_id = "ListVpcs",
    tag = "Catalogue",
    params(ProjectPath, VpcQuery),
    responses((status = 200, description = "The VPCs.", body = Vpcs))
)]
pub async fn list_vpcs(
    State(ecs): State<AppState>,
    Project(project_id): Project,
    EcsQuery(query): EcsQuery<VpcQuery>,
) -> Json<Value> {
    let vpcs: Vec<Value> = ecs
        .catalogue
        .vpcs
        .iter()
        .filter(|v| query.id.as_deref().is_none_or(|id| v.id == id))
        .map(|v| vpc_doc(v, &project_id))
        .collect();
    Json(json!({ "vpcs": vpcs }))
}

/// `GET /v1/{pid}/subnets` (VPC), optionally of one VPC.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/subnets",
    operation_id = "ListSubnets",
    tag = "Catalogue",
    params(ProjectPath, VpcQuery),
    responses((status = 200, description = "The subnets, with their free address counts.", body = Subnets))
)]
pub async fn list_subnets(
    State(ecs): State<AppState>,
    Project(project_id): Project,
    EcsQuery(query): EcsQuery<VpcQuery>,
) -> Json<Value> {
    let zone = ecs.catalogue.availability_zones.first().cloned().unwrap_or_default();
    let subnets: Vec<Value> = ecs
        .catalogue
        .subnets
        .iter()
        .filter(|s| query.vpc_id.as_deref().is_none_or(|id| s.vpc_id == id))
        .map(|s| subnet_doc(s, &project_id, &zone, s.capacity()))
        .collect();
    Json(json!({ "subnets": subnets }))
}
