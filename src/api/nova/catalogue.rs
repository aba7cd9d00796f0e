//! Nova's views of the catalogue and the project: flavors, limits, availability zones, and the
//! ECS groups as server groups.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::wire::{
    AbsoluteLimits, CreateServerGroupRequest, ExtraSpecsResponse, FlavorResponse, FlavorSummary, FlavorsDetailResponse,
    FlavorsResponse, Limits, LimitsResponse, NovaAvailabilityZone, NovaAvailabilityZones, NovaFlavor, NovaServerGroup,
    NovaZoneState, ServerGroupResponse, ServerGroupsResponse, ZoneService, flavor_links,
};
use super::{Microversion, NovaError, NovaJson, NovaPath, NovaProject, NovaQuery, NovaResult, blocking};
use crate::api::extract::{BaseUrl, ProjectPath};
use crate::domain::catalogue::{Catalogue, Flavor};
use crate::service::Ecs;

/// The filters of the flavor lists. `is_public` may be `None` (openstacksdk sends that): every
/// flavor is public, so anything but `false` lists them all.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
#[schema(as = NovaFlavorQuery)]
pub struct FlavorQuery {
    pub is_public: Option<String>,
    /// Flavors with at least this much RAM (MiB).
    #[serde(rename = "minRam")]
    pub min_ram: Option<String>,
    #[serde(rename = "minDisk")]
    pub min_disk: Option<String>,
}

fn flavors<'c>(catalogue: &'c Catalogue, query: &FlavorQuery) -> NovaResult<Vec<&'c Flavor>> {
    if query.is_public.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("false") || p == "0") {
        return Ok(vec![]);
    }
    let min_ram = match query.min_ram.as_deref() {
        None => 0,
        Some(text) => {
            text.parse::<u64>().map_err(|_| NovaError::bad_request(format!("Invalid minRam filter [{text}]")))?
        }
    };
    if let Some(text) = query.min_disk.as_deref() {
        text.parse::<u64>().map_err(|_| NovaError::bad_request(format!("Invalid minDisk filter [{text}]")))?;
    }
    Ok(catalogue.flavors.iter().filter(|f| f.ram_mib >= min_ram).collect())
}

/// `GET /v2.1/{project_id}/flavors`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/flavors",
    operation_id = "NovaListFlavors",
    tag = "Nova",
    params(ProjectPath, FlavorQuery),
    responses(
        (status = 200, description = "The flavors: ids, names, links.", body = FlavorsResponse),
        (status = 400, description = "Invalid filter.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_list_flavors(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    BaseUrl(base): BaseUrl,
    NovaQuery(query): NovaQuery<FlavorQuery>,
) -> NovaResult<Json<FlavorsResponse>> {
    let flavors = flavors(ecs.catalogue(), &query)?
        .into_iter()
        .map(|f| FlavorSummary { id: f.id.clone(), name: f.id.clone(), links: flavor_links(&base, &project_id, &f.id) })
        .collect();
    Ok(Json(FlavorsResponse { flavors }))
}

/// `GET /v2.1/{project_id}/flavors/detail`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/flavors/detail",
    operation_id = "NovaListFlavorsDetail",
    tag = "Nova",
    params(ProjectPath, FlavorQuery),
    responses(
        (status = 200, description = "The flavors in full.", body = FlavorsDetailResponse),
        (status = 400, description = "Invalid filter.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_list_flavors_detail(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    BaseUrl(base): BaseUrl,
    version: Microversion,
    NovaQuery(query): NovaQuery<FlavorQuery>,
) -> NovaResult<Json<FlavorsDetailResponse>> {
    let flavors =
        flavors(ecs.catalogue(), &query)?.into_iter().map(|f| NovaFlavor::of(f, &base, &project_id, version)).collect();
    Ok(Json(FlavorsDetailResponse { flavors }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct FlavorPath {
    pub flavor_id: String,
}

fn flavor<'c>(catalogue: &'c Catalogue, id: &str) -> NovaResult<&'c Flavor> {
    catalogue.flavor(id).ok_or_else(|| NovaError::not_found(format!("Flavor {id} could not be found.")))
}

/// `GET /v2.1/{project_id}/flavors/{flavor_id}`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/flavors/{flavor_id}",
    operation_id = "NovaShowFlavor",
    tag = "Nova",
    params(ProjectPath, FlavorPath),
    responses(
        (status = 200, description = "The flavor.", body = FlavorResponse),
        (status = 404, description = "No such flavor.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_show_flavor(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    BaseUrl(base): BaseUrl,
    version: Microversion,
    NovaPath(FlavorPath { flavor_id }): NovaPath<FlavorPath>,
) -> NovaResult<Json<FlavorResponse>> {
    let flavor = flavor(ecs.catalogue(), &flavor_id)?;
    Ok(Json(FlavorResponse { flavor: NovaFlavor::of(flavor, &base, &project_id, version) }))
}

/// `GET /v2.1/{project_id}/flavors/{flavor_id}/os-extra_specs`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/flavors/{flavor_id}/os-extra_specs",
    operation_id = "NovaListFlavorExtraSpecs",
    tag = "Nova",
    params(ProjectPath, FlavorPath),
    responses(
        (status = 200, description = "The flavor's extra specs, as ECS lists them.", body = ExtraSpecsResponse),
        (status = 404, description = "No such flavor.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_list_flavor_extra_specs(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(_): NovaProject,
    NovaPath(FlavorPath { flavor_id }): NovaPath<FlavorPath>,
) -> NovaResult<Json<ExtraSpecsResponse>> {
    let catalogue = ecs.catalogue();
    let extra_specs = flavor(catalogue, &flavor_id)?.extra_specs(&catalogue.availability_zones);
    Ok(Json(ExtraSpecsResponse { extra_specs }))
}

/// `GET /v2.1/{project_id}/limits`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/limits",
    operation_id = "NovaShowLimits",
    tag = "Nova",
    params(ProjectPath),
    responses((status = 200, description = "The project's quota and what it uses.", body = LimitsResponse))
)]
pub async fn nova_show_limits(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
) -> NovaResult<Json<LimitsResponse>> {
    let (usage, groups) =
        blocking(&ecs, move |ecs| Ok((ecs.show_server_limits(&project_id)?, ecs.server_groups_used(&project_id)?)))
            .await?;
    let quota = &ecs.catalogue().quota;
    let absolute = AbsoluteLimits {
        max_total_instances: quota.max_instances,
        max_total_cores: quota.max_cores,
        max_total_ram_size: quota.max_ram_mib,
        max_server_meta: quota.max_server_meta,
        max_personality: quota.max_personality,
        max_personality_size: quota.max_personality_size,
        max_total_keypairs: quota.max_keypairs,
        max_server_groups: quota.max_server_groups,
        max_server_group_members: quota.max_server_group_members,
        max_security_groups: quota.max_security_groups,
        max_security_group_rules: quota.max_security_group_rules,
        max_total_floating_ips: quota.max_floating_ips,
        max_image_meta: quota.max_image_meta,
        total_instances_used: usage.instances,
        total_cores_used: usage.cores,
        total_ram_used: usage.ram_mib,
        total_server_groups_used: groups as i64,
        total_security_groups_used: 1,
        total_floating_ips_used: 0,
    };
    Ok(Json(LimitsResponse { limits: Limits { rate: vec![], absolute } }))
}

fn zones(catalogue: &Catalogue, detail: bool) -> NovaAvailabilityZones {
    let availability_zone_info = catalogue
        .availability_zones
        .iter()
        .map(|zone| NovaAvailabilityZone {
            zone_name: zone.clone(),
            zone_state: NovaZoneState { available: true },
            hosts: detail.then(|| {
                catalogue
                    .placement
                    .hosts(zone)
                    .into_iter()
                    .map(|host| {
                        let service = ZoneService { available: true, active: true, updated_at: None };
                        (host.name, BTreeMap::from([("nova-compute", service)]))
                    })
                    .collect()
            }),
        })
        .collect();
    NovaAvailabilityZones { availability_zone_info }
}

/// `GET /v2.1/{project_id}/os-availability-zone`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/os-availability-zone",
    operation_id = "NovaListAvailabilityZones",
    tag = "Catalogue",
    params(ProjectPath),
    responses((status = 200, description = "The availability zones, as Nova lists them.",
               body = NovaAvailabilityZones))
)]
pub async fn nova_list_availability_zones(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(_): NovaProject,
) -> Json<NovaAvailabilityZones> {
    Json(zones(ecs.catalogue(), false))
}

/// `GET /v2.1/{project_id}/os-availability-zone/detail`: with each zone's simulated hosts.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/os-availability-zone/detail",
    operation_id = "NovaListAvailabilityZonesDetail",
    tag = "Catalogue",
    params(ProjectPath),
    responses((status = 200, description = "The availability zones with their hosts.",
               body = NovaAvailabilityZones))
)]
pub async fn nova_list_availability_zones_detail(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(_): NovaProject,
) -> Json<NovaAvailabilityZones> {
    Json(zones(ecs.catalogue(), true))
}

/// `POST /v2.1/{project_id}/os-server-groups`: an ECS group.
#[utoipa::path(
    post,
    path = "/v2.1/{project_id}/os-server-groups",
    operation_id = "NovaCreateServerGroup",
    tag = "Nova",
    params(ProjectPath),
    request_body = CreateServerGroupRequest,
    responses(
        (status = 200, description = "The group.", body = ServerGroupResponse),
        (status = 400, description = "Invalid name, or a policy other than anti-affinity.", body = super::wire::NovaFault),
        (status = 403, description = "The project's group quota is used up.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_create_server_group(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    version: Microversion,
    NovaJson(request): NovaJson<CreateServerGroupRequest>,
) -> NovaResult<Json<ServerGroupResponse>> {
    let new = request.server_group;
    let policies = match new.policy {
        Some(policy) if new.policies.is_empty() => vec![policy],
        _ => new.policies,
    };
    let project = project_id.clone();
    let group = blocking(&ecs, move |ecs| ecs.create_server_group(&project, &new.name, &policies)).await?;
    Ok(Json(ServerGroupResponse { server_group: NovaServerGroup::of(&group, &project_id, version) }))
}

/// `GET /v2.1/{project_id}/os-server-groups`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/os-server-groups",
    operation_id = "NovaListServerGroups",
    tag = "Nova",
    params(ProjectPath),
    responses((status = 200, description = "The project's groups, oldest first.", body = ServerGroupsResponse))
)]
pub async fn nova_list_server_groups(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    version: Microversion,
) -> NovaResult<Json<ServerGroupsResponse>> {
    let project = project_id.clone();
    let groups = blocking(&ecs, move |ecs| {
        let mut all = Vec::new();
        let mut marker = None;
        loop {
            let (page, next) = ecs.list_server_groups(&project, marker.as_deref(), 1000)?;
            all.extend(page);
            match next {
                Some(next) => marker = Some(next),
                None => return Ok(all),
            }
        }
    })
    .await?;
    let server_groups = groups.iter().map(|g| NovaServerGroup::of(g, &project_id, version)).collect();
    Ok(Json(ServerGroupsResponse { server_groups }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ServerGroupPath {
    pub server_group_id: String,
}

/// `GET /v2.1/{project_id}/os-server-groups/{server_group_id}`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/os-server-groups/{server_group_id}",
    operation_id = "NovaShowServerGroup",
    tag = "Nova",
    params(ProjectPath, ServerGroupPath),
    responses(
        (status = 200, description = "The group.", body = ServerGroupResponse),
        (status = 404, description = "No such group.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_show_server_group(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    version: Microversion,
    NovaPath(ServerGroupPath { server_group_id }): NovaPath<ServerGroupPath>,
) -> NovaResult<Json<ServerGroupResponse>> {
    let project = project_id.clone();
    let group = blocking(&ecs, move |ecs| ecs.show_server_group(&project, &server_group_id)).await?;
    Ok(Json(ServerGroupResponse { server_group: NovaServerGroup::of(&group, &project_id, version) }))
}

/// `DELETE /v2.1/{project_id}/os-server-groups/{server_group_id}`.
#[utoipa::path(
    delete,
    path = "/v2.1/{project_id}/os-server-groups/{server_group_id}",
    operation_id = "NovaDeleteServerGroup",
    tag = "Nova",
    params(ProjectPath, ServerGroupPath),
    responses(
        (status = 204, description = "The group is gone; its members stay."),
        (status = 404, description = "No such group.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_delete_server_group(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(ServerGroupPath { server_group_id }): NovaPath<ServerGroupPath>,
) -> NovaResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_server_group(&project_id, &server_group_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
