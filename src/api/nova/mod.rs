//! The OpenStack Compute (Nova) face of the same fleet: the versions document and the
//! availability zones.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::extract::{BaseUrl, Project, ProjectPath};
use super::operation::Row;
use crate::domain::catalogue::Catalogue;
use crate::service::Ecs;

pub fn operations() -> Vec<Row> {
    vec![Row::new(routes!(list_versions)), Row::new(routes!(nova_list_availability_zones))]
}

/// `GET /`: the API versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct Versions {
    pub versions: Vec<Version>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Version {
    /// `v2.0` or `v2.1`.
    pub id: &'static str,
    /// `SUPPORTED` or `CURRENT`.
    pub status: &'static str,
    pub version: &'static str,
    pub min_version: &'static str,
    pub updated: &'static str,
    pub links: Vec<VersionLink>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionLink {
    pub rel: &'static str,
    pub href: String,
}

impl Versions {
    /// The versions document (T3.1), with links on the address the client used.
    pub fn of(base_url: &str) -> Self {
        let link = |path: &str| vec![VersionLink { rel: "self", href: format!("{base_url}{path}") }];
        Versions {
            versions: vec![
                Version {
                    id: "v2.0",
                    status: "SUPPORTED",
                    version: "",
                    min_version: "",
                    updated: "2011-01-21T11:33:21Z",
                    links: link("/v2/"),
                },
                Version {
                    id: "v2.1",
                    status: "CURRENT",
                    version: "2.60",
                    min_version: "2.1",
                    updated: "2013-07-23T11:33:21Z",
                    links: link("/v2.1/"),
                },
            ],
        }
    }
}

/// `GET /`: the API versions (public).
#[utoipa::path(
    get,
    path = "/",
    operation_id = "NovaListVersions",
    tag = "Meta",
    security(()),
    responses((status = 200, description = "The API versions.", body = Versions))
)]
pub async fn list_versions(BaseUrl(base): BaseUrl) -> Json<Versions> {
    Json(Versions::of(&base))
}

/// `GET /v2.1/{project_id}/os-availability-zone`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NovaAvailabilityZones {
    pub availability_zone_info: Vec<NovaAvailabilityZone>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NovaAvailabilityZone {
    pub zone_name: String,
    pub zone_state: NovaZoneState,
    /// Always null.
    #[schema(value_type = Option<Object>)]
    pub hosts: Option<()>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NovaZoneState {
    pub available: bool,
}

impl NovaAvailabilityZones {
    pub fn of(catalogue: &Catalogue) -> Self {
        let availability_zone_info = catalogue
            .availability_zones
            .iter()
            .map(|az| NovaAvailabilityZone {
                zone_name: az.clone(),
                zone_state: NovaZoneState { available: true },
                hosts: None,
            })
            .collect();
        NovaAvailabilityZones { availability_zone_info }
    }
}

/// `GET /v2.1/{pid}/os-availability-zone`.
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
    Project(_): Project,
) -> Json<NovaAvailabilityZones> {
    Json(NovaAvailabilityZones::of(ecs.catalogue()))
}
