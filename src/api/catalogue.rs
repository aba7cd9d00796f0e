//! Read-only catalogue: versions, flavors, resize targets, quotas, AZs, images, VPCs, subnets.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiResult, BaseUrl, EcsQuery, Project};
use super::wire::catalogue::{
    FlavorDoc, FlavorsResponse, LimitsResponse, availability_zones_nova, availability_zones_v1, image_doc, subnet_doc,
    versions, vpc_doc,
};
use super::{AppState, blocking};
use crate::domain::{Error, ErrorCode};

pub async fn list_versions(BaseUrl(base): BaseUrl) -> Json<Value> {
    Json(versions(&base))
}

#[derive(Debug, Deserialize)]
pub struct FlavorsQuery {
    availability_zone: Option<String>,
    flavor_id: Option<String>,
}

/// `GET /v1/{pid}/cloudservers/flavors`.
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

#[derive(Debug, Deserialize)]
pub struct ResizeFlavorsQuery {
    instance_uuid: Option<String>,
    source_flavor_id: Option<String>,
    source_flavor_name: Option<String>,
    sort_key: Option<String>,
    sort_dir: Option<String>,
    limit: Option<usize>,
    marker: Option<String>,
}

/// `GET /v1/{pid}/cloudservers/resize_flavors`: the flavors a server (or a flavor) may be
/// resized to, by `instance_uuid`, `source_flavor_id` or `source_flavor_name`, in that order.
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
pub async fn show_server_limits(
    State(ecs): State<AppState>,
    Project(project_id): Project,
) -> ApiResult<Json<LimitsResponse>> {
    let usage = blocking(&ecs, move |ecs| ecs.show_server_limits(&project_id)).await?;
    Ok(Json(LimitsResponse::of(&ecs.catalogue.quota, usage)))
}

pub async fn list_server_az_info(State(ecs): State<AppState>, Project(_): Project) -> Json<Value> {
    Json(availability_zones_v1(&ecs.catalogue))
}

pub async fn nova_list_availability_zones(State(ecs): State<AppState>, Project(_): Project) -> Json<Value> {
    Json(availability_zones_nova(&ecs.catalogue))
}

#[derive(Debug, Deserialize)]
pub struct ImagesQuery {
    name: Option<String>,
    status: Option<String>,
    #[serde(rename = "__imagetype")]
    image_type: Option<String>,
    #[serde(rename = "__os_type")]
    os_type: Option<String>,
    #[serde(rename = "__platform")]
    platform: Option<String>,
    id: Option<String>,
}

/// `GET /v2/cloudimages` (IMS): the public images, filterable like IMS.
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

#[derive(Debug, Deserialize)]
pub struct VpcQuery {
    id: Option<String>,
    vpc_id: Option<String>,
}

/// `GET /v1/{pid}/vpcs` (VPC).
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
