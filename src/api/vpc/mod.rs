//! The Virtual Private Cloud calls automation makes to find network ids: the VPCs and subnets
//! of the catalogue.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::extract::{EcsQuery, Project, ProjectPath};
use super::operation::Row;
use crate::domain::catalogue::{Subnet as CatalogueSubnet, Vpc as CatalogueVpc};
use crate::service::Ecs;

pub fn operations() -> Vec<Row> {
    vec![Row::new(routes!(list_vpcs)), Row::new(routes!(list_subnets))]
}

/// `GET /v1/{project_id}/vpcs`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Vpcs {
    pub vpcs: Vec<Vpc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Vpc {
    pub id: String,
    pub name: String,
    pub cidr: String,
    /// `OK`.
    pub status: &'static str,
    pub description: &'static str,
    /// Always empty.
    #[schema(value_type = Vec<Object>)]
    pub routes: Vec<()>,
    pub tenant_id: String,
    pub enterprise_project_id: &'static str,
    pub created_at: &'static str,
    pub updated_at: &'static str,
}

impl Vpc {
    pub fn of(vpc: &CatalogueVpc, project_id: &str) -> Self {
        Vpc {
            id: vpc.id.clone(),
            name: vpc.name.clone(),
            cidr: vpc.cidr.clone(),
            status: "OK",
            description: "",
            routes: vec![],
            tenant_id: project_id.to_string(),
            enterprise_project_id: "0",
            created_at: "2024-01-01T00:00:00",
            updated_at: "2024-01-01T00:00:00",
        }
    }
}

/// `GET /v1/{project_id}/subnets`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Subnets {
    pub subnets: Vec<Subnet>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Subnet {
    pub id: String,
    pub name: String,
    pub description: &'static str,
    pub cidr: String,
    pub gateway_ip: String,
    pub vpc_id: String,
    /// `ACTIVE`.
    pub status: &'static str,
    pub availability_zone: String,
    pub dhcp_enable: bool,
    pub primary_dns: &'static str,
    pub secondary_dns: &'static str,
    #[serde(rename = "dnsList")]
    pub dns_list: Vec<&'static str>,
    pub ipv6_enable: bool,
    pub neutron_network_id: String,
    pub neutron_subnet_id: String,
    pub tenant_id: String,
    /// Free addresses left in the subnet.
    pub available_ip_address_count: u32,
    pub created_at: &'static str,
    pub updated_at: &'static str,
}

const PRIMARY_DNS: &str = "100.125.4.25";
const SECONDARY_DNS: &str = "100.125.129.199";

impl Subnet {
    pub fn of(subnet: &CatalogueSubnet, project_id: &str, availability_zone: &str, free: u32) -> Self {
        Subnet {
            id: subnet.id.clone(),
            name: subnet.name.clone(),
            description: "",
            cidr: subnet.cidr.clone(),
            gateway_ip: subnet.gateway_ip.to_string(),
            vpc_id: subnet.vpc_id.clone(),
            status: "ACTIVE",
            availability_zone: availability_zone.to_string(),
            dhcp_enable: true,
            primary_dns: PRIMARY_DNS,
            secondary_dns: SECONDARY_DNS,
            dns_list: vec![PRIMARY_DNS, SECONDARY_DNS],
            ipv6_enable: false,
            neutron_network_id: subnet.id.clone(),
            neutron_subnet_id: subnet.id.clone(),
            tenant_id: project_id.to_string(),
            available_ip_address_count: free,
            created_at: "2024-01-01T00:00:00",
            updated_at: "2024-01-01T00:00:00",
        }
    }
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
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsQuery(query): EcsQuery<VpcQuery>,
) -> Json<Vpcs> {
    let vpcs = ecs
        .catalogue()
        .vpcs
        .iter()
        .filter(|v| query.id.as_deref().is_none_or(|id| v.id == id))
        .map(|v| Vpc::of(v, &project_id))
        .collect();
    Json(Vpcs { vpcs })
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
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsQuery(query): EcsQuery<VpcQuery>,
) -> Json<Subnets> {
    let catalogue = ecs.catalogue();
    let zone = catalogue.availability_zones.first().cloned().unwrap_or_default();
    let subnets = catalogue
        .subnets
        .iter()
        .filter(|s| query.vpc_id.as_deref().is_none_or(|id| s.vpc_id == id))
        .map(|s| Subnet::of(s, &project_id, &zone, s.capacity()))
        .collect();
    Json(Subnets { subnets })
}
