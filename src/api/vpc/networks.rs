//! VPCs and subnets: the catalogue's, with the addresses the project's ports hold.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{Vpc, VpcErrorBody, VpcResult};
use super::wire::{ShowSubnetResponse, ShowVpcResponse, Subnet, Subnets, Vpc as VpcDoc, Vpcs};
use crate::api::blocking;
use crate::api::extract::{EcsPath, EcsQuery, Project, ProjectPath};
use crate::service::Ecs;

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
    tag = "VPC",
    params(ProjectPath, VpcQuery),
    responses(
        (status = 200, description = "The VPCs.", body = Vpcs),
        (status = 400, description = "A malformed query (`VPC.0101`).", body = VpcErrorBody),
    )
)]
pub async fn list_vpcs(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    Vpc(EcsQuery(query)): Vpc<EcsQuery<VpcQuery>>,
) -> Json<Vpcs> {
    let vpcs = ecs
        .catalogue()
        .vpcs
        .iter()
        .filter(|v| query.id.as_deref().is_none_or(|id| v.id == id))
        .map(|v| VpcDoc::of(v, &project_id))
        .collect();
    Json(Vpcs { vpcs })
}

/// `GET /v1/{pid}/subnets` (VPC), optionally of one VPC.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/subnets",
    operation_id = "ListSubnets",
    tag = "VPC",
    params(ProjectPath, VpcQuery),
    responses(
        (status = 200, description = "The subnets, with their free address counts.", body = Subnets),
        (status = 400, description = "A malformed query (`VPC.0101`).", body = VpcErrorBody),
    )
)]
pub async fn list_subnets(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    Vpc(EcsQuery(query)): Vpc<EcsQuery<VpcQuery>>,
) -> VpcResult<Json<Subnets>> {
    let subnets = blocking(&ecs, move |ecs| {
        let zone = ecs.catalogue().availability_zones.first().cloned().unwrap_or_default();
        let listed = ecs.list_subnets(&project_id, query.vpc_id.as_deref())?;
        Ok(listed.into_iter().map(|(s, free)| Subnet::of(s, &project_id, &zone, free)).collect())
    })
    .await?;
    Ok(Json(Subnets { subnets }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct VpcPath {
    pub vpc_id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SubnetPath {
    pub subnet_id: String,
}

/// `GET /v1/{pid}/vpcs/{vpc_id}` (VPC).
#[utoipa::path(
    get,
    path = "/v1/{project_id}/vpcs/{vpc_id}",
    operation_id = "ShowVpc",
    tag = "VPC",
    params(ProjectPath, VpcPath),
    responses(
        (status = 200, description = "The VPC.", body = ShowVpcResponse),
        (status = 404, description = "No such VPC (`VPC.0003`).", body = VpcErrorBody),
    )
)]
pub async fn show_vpc(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    Vpc(EcsPath(VpcPath { vpc_id })): Vpc<EcsPath<VpcPath>>,
) -> VpcResult<Json<ShowVpcResponse>> {
    let vpc = ecs.show_vpc(&vpc_id)?;
    Ok(Json(ShowVpcResponse { vpc: VpcDoc::of(vpc, &project_id) }))
}

/// `GET /v1/{pid}/subnets/{subnet_id}` (VPC).
#[utoipa::path(
    get,
    path = "/v1/{project_id}/subnets/{subnet_id}",
    operation_id = "ShowSubnet",
    tag = "VPC",
    params(ProjectPath, SubnetPath),
    responses(
        (status = 200, description = "The subnet, with its free address count.", body = ShowSubnetResponse),
        (status = 404, description = "No such subnet (`VPC.0202`).", body = VpcErrorBody),
    )
)]
pub async fn show_subnet(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    Vpc(EcsPath(SubnetPath { subnet_id })): Vpc<EcsPath<SubnetPath>>,
) -> VpcResult<Json<ShowSubnetResponse>> {
    let subnet = blocking(&ecs, move |ecs| {
        let zone = ecs.catalogue().availability_zones.first().cloned().unwrap_or_default();
        let (subnet, free) = ecs.show_subnet(&project_id, &subnet_id)?;
        Ok(Subnet::of(subnet, &project_id, &zone, free))
    })
    .await?;
    Ok(Json(ShowSubnetResponse { subnet }))
}
