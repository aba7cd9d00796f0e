//! The other reads: the v1.1 server list, the password a Windows server left, the flavor sell
//! policies and a flavor's capacity.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::reads::{
    CloudServer, ExpectField, FlavorCapacity, InterruptionPolicy, ListCloudServersResponse,
    ListFlavorSellPoliciesResponse, PageLink, SellMode, SellPolicy, SellStatus, ShowFlavorCapacityResponse,
    ShowServerPasswordResponse, SpotOptions,
};
use crate::api::error::{ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{BaseUrl, EcsPath, EcsQuery, Project, ProjectPath, ServerPath};
use crate::api::{RequestId, blocking, point_read};
use crate::domain::Error;
use crate::domain::placement::region_of;
use crate::domain::query::{CloudServerFilter, ServerFilter};
use crate::domain::status::Status;
use crate::service::Ecs;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCloudServersQuery {
    /// Exactly this server.
    id: Option<String>,
    /// Substring of the name; `.` matches any character.
    name: Option<String>,
    status: Option<Status>,
    /// `true`: servers in the recycle bin (ecsd has none).
    in_recycle_bin: Option<bool>,
    /// A spod batch (ecsd has none).
    spod_id: Option<String>,
    flavor_name: Option<String>,
    image_id: Option<String>,
    /// `key=value` in the user metadata.
    metadata: Option<String>,
    /// A key of the user metadata.
    #[serde(rename = "metadata-key")]
    metadata_key: Option<String>,
    /// A tag key, or `key=value`.
    tags: Option<String>,
    /// Servers without this tag.
    #[serde(rename = "not-tags")]
    not_tags: Option<String>,
    /// Substring of the zone.
    availability_zone: Option<String>,
    /// Exactly this zone.
    availability_zone_eq: Option<String>,
    /// `0` or `postPaid`: every ecsd server is pay-per-use.
    charging_mode: Option<String>,
    key_name: Option<String>,
    /// Servers launched at or after this time (`2013-06-09T06:42:18Z`).
    launched_since: Option<String>,
    /// `0` or `all_granted_eps`: every ecsd server is in the default enterprise project.
    enterprise_project_id: Option<String>,
    /// Comma-separated fields to show besides the default ones.
    #[serde(rename = "expect-fields")]
    expect_fields: Option<String>,
    /// Servers per page, 1 to 100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
    /// Servers after this server id.
    marker: Option<String>,
}

/// The v1.1 list's query. The SDK sends `expect-fields` once per field: the values are joined
/// into the one comma-separated form the query type reads.
fn cloud_servers_query(raw: &str) -> ApiResult<ListCloudServersQuery> {
    let invalid = |e: &dyn std::fmt::Display| Error::invalid(format!("Invalid query parameter: {e}."));
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).map_err(|e| invalid(&e))?;
    let (expect, mut rest): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(key, _)| key == "expect-fields");
    if !expect.is_empty() {
        let fields: Vec<String> = expect.into_iter().map(|(_, value)| value).collect();
        rest.push(("expect-fields".into(), fields.join(",")));
    }
    let text = serde_urlencoded::to_string(&rest).map_err(|e| invalid(&e))?;
    Ok(serde_urlencoded::from_str(&text).map_err(|e| invalid(&e))?)
}

/// Default and most servers of a v1.1 list page.
const CLOUD_SERVERS_LIMIT: (u64, u64) = (10, 100);

/// `GET /v1.1/{pid}/cloudservers/detail`.
#[utoipa::path(
    get,
    path = "/v1.1/{project_id}/cloudservers/detail",
    operation_id = "ListCloudServers",
    tag = "ECS",
    params(ProjectPath, ListCloudServersQuery),
    responses(
        (status = 200, description = "A page of the matching servers, newest first, with the default fields and \
the `expect-fields` asked for; `servers_links` has the next page when more follow.", body = ListCloudServersResponse),
        (status = 400, description = "`limit` outside 1 to 100, an unknown `status` or `expect-fields` name, a \
malformed `launched_since` or `metadata` (`Ecs.0005`).", body = EcsError),
    )
)]
pub async fn list_cloud_servers(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    BaseUrl(base): BaseUrl,
    request_id: Option<Extension<RequestId>>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<ListCloudServersResponse>> {
    let query = cloud_servers_query(raw.as_deref().unwrap_or_default())?;
    let limit = query.limit.unwrap_or(CLOUD_SERVERS_LIMIT.0);
    if !(1..=CLOUD_SERVERS_LIMIT.1).contains(&limit) {
        return Err(Error::invalid(format!("limit must range from 1 to {}.", CLOUD_SERVERS_LIMIT.1)).into());
    }
    let expect: Vec<ExpectField> = match &query.expect_fields {
        Some(fields) => fields
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(|f| {
                serde_json::from_value(serde_json::Value::String(f.to_string()))
                    .map_err(|_| Error::invalid(format!("expect-fields has the unknown field {f:?}.")))
            })
            .collect::<Result<_, _>>()?,
        None => vec![],
    };
    let metadata = match &query.metadata {
        Some(pair) => Some(
            pair.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| Error::invalid("metadata must be key=value."))?,
        ),
        None => None,
    };
    let launched_since = match &query.launched_since {
        Some(text) => Some(
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|_| Error::invalid(format!("launched_since {text:?} is not an ISO 8601 time.")))?,
        ),
        None => None,
    };
    let matches_nothing = query.in_recycle_bin == Some(true)
        || query.spod_id.is_some()
        || query.charging_mode.as_deref().is_some_and(|mode| mode != "0" && mode != "postPaid")
        || query.enterprise_project_id.as_deref().is_some_and(|id| id != "0" && id != "all_granted_eps");
    let sql = ServerFilter {
        name: query.name,
        status: query.status,
        flavor: query.flavor_name,
        tags: query.tags,
        not_tags: query.not_tags,
        ..ServerFilter::default()
    };
    let filter = CloudServerFilter {
        id: query.id,
        image_id: query.image_id,
        metadata,
        metadata_key: query.metadata_key,
        availability_zone: query.availability_zone,
        availability_zone_eq: query.availability_zone_eq,
        key_name: query.key_name,
        launched_since,
        matches_nothing,
    };
    let project = project_id.clone();
    let marker = query.marker;
    let (servers, more, names) = blocking(&ecs, move |ecs| {
        let (servers, more) = ecs.list_cloud_servers(&project, &sql, &filter, marker.as_deref(), limit)?;
        Ok((servers, more, ecs.security_group_names(&project)?))
    })
    .await?;
    let servers_links = match (more, servers.last()) {
        (true, Some(last)) => vec![PageLink {
            href: format!("{base}/v1.1/{project_id}/cloudservers/detail?limit={limit}&marker={}", last.id),
            rel: "next",
        }],
        _ => vec![],
    };
    let catalogue = ecs.catalogue();
    Ok(Json(ListCloudServersResponse {
        servers: servers.iter().map(|s| CloudServer::of(s, catalogue, &expect, &names)).collect(),
        servers_links,
        request_id: request_id.map(|Extension(RequestId(id))| id).unwrap_or_default(),
    }))
}

/// `GET /v1/{pid}/cloudservers/{server_id}/os-server-password`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-server-password",
    operation_id = "ShowServerPassword",
    tag = "ECS",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "The password a Windows server created with a key pair set, encrypted with \
the key pair; empty when there is none.", body = ShowServerPasswordResponse),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn show_server_password(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
) -> ApiResult<Json<ShowServerPasswordResponse>> {
    let password = point_read(&ecs, |ecs| ecs.show_server_password(&project_id, &server_id))?;
    Ok(Json(ShowServerPasswordResponse { password }))
}

/// `DELETE /v1/{pid}/cloudservers/{server_id}/os-server-password`.
#[utoipa::path(
    delete,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-server-password",
    operation_id = "DeleteServerPassword",
    tag = "ECS",
    params(ProjectPath, ServerPath),
    responses(
        (status = 204, description = "The encrypted password is forgotten (the guest keeps it)."),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn delete_server_password(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
) -> ApiResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_server_password(&project_id, &server_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SellPoliciesQuery {
    /// A flavor id, or its beginning.
    flavor_id: Option<String>,
    #[param(inline)]
    sell_status: Option<SellStatus>,
    #[param(inline)]
    sell_mode: Option<SellMode>,
    availability_zone_id: Option<String>,
    longest_spot_duration_hours_gt: Option<u32>,
    largest_spot_duration_count_gt: Option<u32>,
    longest_spot_duration_hours: Option<u32>,
    largest_spot_duration_count: Option<u32>,
    #[param(inline)]
    interruption_policy: Option<InterruptionPolicy>,
    /// At most this many policies, 1 to 1000 (default 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
    /// Policies after the one with this `id`.
    marker: Option<String>,
}

/// The spot terms ecsd shows for every flavor.
const SPOT: SpotOptions = SpotOptions {
    longest_spot_duration_hours: 6,
    largest_spot_duration_count: 1,
    interruption_policy: InterruptionPolicy::Immediate,
};

/// `GET /v1/{pid}/cloudservers/flavor-sell-policies`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/flavor-sell-policies",
    operation_id = "ListFlavorSellPolicies",
    tag = "Catalogue",
    params(ProjectPath, SellPoliciesQuery),
    responses(
        (status = 200, description = "The spot sell policy of each flavor in each zone: `sellout` when no host of \
the zone has room for it. Other modes have no policies.", body = ListFlavorSellPoliciesResponse),
        (status = 400, description = "An unknown `sell_status`, `sell_mode` or `interruption_policy`, a `limit` \
outside 1 to 1000, a `marker` that is not a policy id (`Ecs.0005`).", body = EcsError),
    )
)]
pub async fn list_flavor_sell_policies(
    State(ecs): State<Arc<Ecs>>,
    Project(_): Project,
    EcsQuery(query): EcsQuery<SellPoliciesQuery>,
) -> ApiResult<Json<ListFlavorSellPoliciesResponse>> {
    let limit = query.limit.unwrap_or(1000);
    if !(1..=1000).contains(&limit) {
        return Err(Error::invalid("limit must range from 1 to 1000.").into());
    }
    let after = match &query.marker {
        Some(marker) => {
            marker.parse::<u64>().map_err(|_| Error::invalid(format!("marker {marker:?} is not a policy id.")))?
        }
        None => 0,
    };
    let sales = blocking(&ecs, |ecs| ecs.flavor_sales()).await?;
    let spot =
        |want: Option<u32>, have: u32, greater: bool| want.is_none_or(|w| if greater { have > w } else { have == w });
    let matching: Vec<SellPolicy> = sales
        .into_iter()
        .enumerate()
        .map(|(index, (zone, flavor_id, room))| SellPolicy {
            id: index as u64 + 1,
            flavor_id,
            sell_status: if room { SellStatus::Available } else { SellStatus::Sellout },
            availability_zone_id: zone,
            sell_mode: SellMode::Spot,
            spot_options: SPOT,
        })
        .filter(|p| query.flavor_id.as_deref().is_none_or(|f| p.flavor_id.starts_with(f)))
        .filter(|p| query.sell_status.is_none_or(|s| s == p.sell_status))
        .filter(|p| query.sell_mode.is_none_or(|m| m == p.sell_mode))
        .filter(|p| query.availability_zone_id.as_deref().is_none_or(|z| z == p.availability_zone_id))
        .filter(|p| query.interruption_policy.is_none_or(|i| i == p.spot_options.interruption_policy))
        .filter(|p| spot(query.longest_spot_duration_hours_gt, p.spot_options.longest_spot_duration_hours, true))
        .filter(|p| spot(query.largest_spot_duration_count_gt, p.spot_options.largest_spot_duration_count, true))
        .filter(|p| spot(query.longest_spot_duration_hours, p.spot_options.longest_spot_duration_hours, false))
        .filter(|p| spot(query.largest_spot_duration_count, p.spot_options.largest_spot_duration_count, false))
        .collect();
    let count = matching.len() as u64;
    let sell_policies = matching.into_iter().filter(|p| p.id > after).take(limit as usize).collect();
    Ok(Json(ListFlavorSellPoliciesResponse { count, sell_policies }))
}

/// A flavor of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct FlavorPath {
    #[param(example = "s6.large.2")]
    pub flavor_id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlavorCapacityQuery {
    /// How many servers the zones should have room for (default 1).
    count: Option<String>,
    /// Comma-separated regions: only their zones.
    region_ids: Option<String>,
}

/// `GET /v1/{pid}/cloudservers/flavors/{flavor_id}/resources`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/flavors/{flavor_id}/resources",
    operation_id = "ShowFlavorCapacity",
    tag = "Catalogue",
    params(ProjectPath, FlavorPath, FlavorCapacityQuery),
    responses(
        (status = 200, description = "For each zone, whether its hosts have room for `count` servers of the \
flavor.", body = ShowFlavorCapacityResponse),
        (status = 400, description = "A `count` that is not a positive number (`Ecs.0005`), an unknown flavor \
(`Ecs.0029`).", body = EcsError),
    )
)]
pub async fn show_flavor_capacity(
    State(ecs): State<Arc<Ecs>>,
    Project(_): Project,
    EcsPath(FlavorPath { flavor_id }): EcsPath<FlavorPath>,
    EcsQuery(query): EcsQuery<FlavorCapacityQuery>,
) -> ApiResult<Json<ShowFlavorCapacityResponse>> {
    let count = match &query.count {
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=crate::domain::create::MAX_COUNT as usize * 1000).contains(n))
            .ok_or_else(|| Error::invalid(format!("count {text:?} is not a positive number.")))?,
        None => 1,
    };
    let regions: Option<Vec<String>> =
        query.region_ids.map(|ids| ids.split(',').map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect());
    let zones = blocking(&ecs, move |ecs| ecs.show_flavor_capacity(&flavor_id, count)).await?;
    let resources = zones
        .into_iter()
        .filter(|(zone, _)| regions.as_ref().is_none_or(|r| r.iter().any(|r| r == region_of(zone))))
        .map(|(zone, prefer)| FlavorCapacity {
            region_id: region_of(&zone).to_string(),
            availability_zone: zone,
            prefer,
        })
        .collect();
    Ok(Json(ShowFlavorCapacityResponse { resources }))
}
