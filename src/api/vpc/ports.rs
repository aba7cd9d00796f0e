//! Ports and the private IPs of a subnet (a private IP is the port holding the address).

use std::net::Ipv4Addr;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{Vpc, VpcError, VpcErrorBody, VpcJson, VpcResult};
use super::networks::SubnetPath;
use super::wire::{
    CreatePortRequest, CreatePrivateipRequest, Port, PortResponse, Ports, Privateip, PrivateipResponse, Privateips,
    UpdatePortRequest,
};
use crate::api::blocking;
use crate::api::extract::{EcsPath, Project, ProjectPath};
use crate::domain::network::{self, page_after};
use crate::domain::{Error, ErrorCode};
use crate::service::{Ecs, NewPort, PortUpdate};

/// Most items one list page holds, and the default.
const MAX_LIMIT: usize = 2000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PortPath {
    pub port_id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PrivateipPath {
    pub privateip_id: String,
}

/// The query of a port list (VPC's and Neutron's) as the document gives it: `fixed_ips` and
/// `security_groups` may repeat; the others are given once. [`network::PortQuery`] reads it.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "only the derive reads it, for the document's parameters")]
pub struct ListPortsQuery {
    id: Option<String>,
    name: Option<String>,
    /// The subnet's id.
    network_id: Option<String>,
    mac_address: Option<String>,
    device_id: Option<String>,
    device_owner: Option<String>,
    status: Option<String>,
    /// Ports carrying every group given.
    security_groups: Vec<String>,
    /// `ip_address=<address>` or `subnet_id=<id>`, each of which must match.
    fixed_ips: Vec<String>,
    /// At most this many ports, 1 to 2000 (the default).
    limit: Option<usize>,
    /// Ports after this one.
    marker: Option<String>,
}

fn invalid(message: String) -> VpcError {
    VpcError(Error::new(ErrorCode::VpcInvalid, message))
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PortQuery {
    type Rejection = VpcError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pairs = serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
            .map_err(|e| invalid(format!("Invalid query parameter: {e}.")))?;
        Ok(PortQuery(network::PortQuery::parse(pairs, ErrorCode::VpcInvalid)?))
    }
}

/// [`network::PortQuery`], as this API's extractor.
pub struct PortQuery(network::PortQuery);

/// The first zone, where every port of ecsd's subnets lives.
fn zone(ecs: &Ecs) -> String {
    ecs.catalogue().availability_zones.first().cloned().unwrap_or_default()
}

fn shown(ecs: &Ecs, port: &crate::domain::network::Port) -> Port {
    Port::of(port, &zone(ecs))
}

/// `GET /v1/{pid}/ports` (VPC).
#[utoipa::path(
    get,
    path = "/v1/{project_id}/ports",
    operation_id = "ListPorts",
    tag = "VPC",
    params(ProjectPath, ListPortsQuery),
    responses(
        (status = 200, description = "The matching ports, oldest first.", body = Ports),
        (status = 400, description = "A malformed query or `fixed_ips` term, an unknown marker (`VPC.0101`, \
`VPC.2500`).", body = VpcErrorBody),
    )
)]
pub async fn list_ports(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    PortQuery(query): PortQuery,
) -> VpcResult<Json<Ports>> {
    let filter = query.filter;
    let ports = blocking(&ecs, move |ecs| ecs.list_ports(&project_id, &filter)).await?;
    let ports = page(ports, |p| p.id.as_str(), query.limit, query.marker.as_deref())?;
    Ok(Json(Ports { ports: ports.iter().map(|p| shown(&ecs, p)).collect() }))
}

/// `POST /v1/{pid}/ports` (VPC).
#[utoipa::path(
    post,
    path = "/v1/{project_id}/ports",
    operation_id = "CreatePort",
    tag = "VPC",
    params(ProjectPath),
    request_body = CreatePortRequest,
    responses(
        (status = 200, description = "The new port, on no server.", body = PortResponse),
        (status = 400, description = "A malformed body (`VPC.0101`), an unknown network, an address outside it, a \
device owner other than `neutron:VIP_PORT` (`VPC.2500`), an unknown security group (`VPC.0601`).", body = VpcErrorBody),
        (status = 409, description = "The address is held (`VPC.0701`), the subnet is full (`VPC.0703`).", body = VpcErrorBody),
    )
)]
pub async fn create_port(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    VpcJson(request): VpcJson<CreatePortRequest>,
) -> VpcResult<Json<PortResponse>> {
    let option = request.port;
    if option.fixed_ips.len() > 1 {
        return Err(VpcError(Error::new(ErrorCode::PortInvalid, "A port takes at most one fixed IP.")));
    }
    let fixed = option.fixed_ips.into_iter().next();
    if let Some(subnet) = fixed.as_ref().and_then(|f| f.subnet_id.as_ref())
        && *subnet != option.network_id
    {
        return Err(VpcError(Error::new(ErrorCode::PortInvalid, format!("The subnet {subnet} is not the network's."))));
    }
    let ip = match fixed.and_then(|f| f.ip_address) {
        Some(text) => Some(parse_ip(&text, ErrorCode::PortInvalid)?),
        None => None,
    };
    let new = NewPort {
        name: option.name,
        subnet_id: option.network_id,
        ip,
        security_group_ids: option.security_groups,
        allowed_address_pairs: option.allowed_address_pairs.into_iter().map(Into::into).collect(),
        device_owner: option.device_owner,
    };
    let port = blocking(&ecs, move |ecs| Ok(shown(ecs, &ecs.create_port(&project_id, &new)?))).await?;
    Ok(Json(PortResponse { port }))
}

fn parse_ip(text: &str, code: ErrorCode) -> Result<Ipv4Addr, VpcError> {
    text.parse().map_err(|_| VpcError(Error::new(code, format!("ip_address {text:?} is not an IPv4 address."))))
}

/// `GET /v1/{pid}/ports/{port_id}` (VPC).
#[utoipa::path(
    get,
    path = "/v1/{project_id}/ports/{port_id}",
    operation_id = "ShowPort",
    tag = "VPC",
    params(ProjectPath, PortPath),
    responses(
        (status = 200, description = "The port.", body = PortResponse),
        (status = 404, description = "No such port in the project (`VPC.2501`).", body = VpcErrorBody),
    )
)]
pub async fn show_port(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    Vpc(EcsPath(PortPath { port_id })): Vpc<EcsPath<PortPath>>,
) -> VpcResult<Json<PortResponse>> {
    let port = blocking(&ecs, move |ecs| Ok(shown(ecs, &ecs.show_port(&project_id, &port_id)?))).await?;
    Ok(Json(PortResponse { port }))
}

/// `PUT /v1/{pid}/ports/{port_id}` (VPC).
#[utoipa::path(
    put,
    path = "/v1/{project_id}/ports/{port_id}",
    operation_id = "UpdatePort",
    tag = "VPC",
    params(ProjectPath, PortPath),
    request_body = UpdatePortRequest,
    responses(
        (status = 200, description = "The port as updated; a server it is a NIC of shows its ports' groups.", body = PortResponse),
        (status = 400, description = "A malformed body (`VPC.0101`), a bad address pair (`VPC.2500`), an unknown \
security group (`VPC.0601`).", body = VpcErrorBody),
        (status = 404, description = "No such port in the project (`VPC.2501`).", body = VpcErrorBody),
    )
)]
pub async fn update_port(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    Vpc(EcsPath(PortPath { port_id })): Vpc<EcsPath<PortPath>>,
    VpcJson(request): VpcJson<UpdatePortRequest>,
) -> VpcResult<Json<PortResponse>> {
    let option = request.port;
    let update = PortUpdate {
        name: option.name,
        security_group_ids: option.security_groups,
        allowed_address_pairs: option.allowed_address_pairs.map(|pairs| pairs.into_iter().map(Into::into).collect()),
    };
    let port = blocking(&ecs, move |ecs| Ok(shown(ecs, &ecs.update_port(&project_id, &port_id, &update)?))).await?;
    Ok(Json(PortResponse { port }))
}

/// `DELETE /v1/{pid}/ports/{port_id}` (VPC).
#[utoipa::path(
    delete,
    path = "/v1/{project_id}/ports/{port_id}",
    operation_id = "DeletePort",
    tag = "VPC",
    params(ProjectPath, PortPath),
    responses(
        (status = 204, description = "The port is gone and its address free."),
        (status = 400, description = "The port is a server's NIC or owned by another service (`VPC.2500`).", body = VpcErrorBody),
        (status = 404, description = "No such port in the project (`VPC.2501`).", body = VpcErrorBody),
    )
)]
pub async fn delete_port(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    Vpc(EcsPath(PortPath { port_id })): Vpc<EcsPath<PortPath>>,
) -> VpcResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_port(&project_id, &port_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// At most this many, 1 to 2000 (the default).
    limit: Option<usize>,
    /// Those after this id.
    marker: Option<String>,
}

/// The page a `limit` and `marker` ask for; `VPC.0101` for an out-of-range limit or a marker not
/// in the list.
pub(super) fn page<T>(
    items: Vec<T>,
    id: impl Fn(&T) -> &str,
    limit: Option<usize>,
    marker: Option<&str>,
) -> Result<Vec<T>, VpcError> {
    let limit = limit.unwrap_or(MAX_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(invalid(format!("limit must be 1 to {MAX_LIMIT}.")));
    }
    page_after(items, id, marker, limit).ok_or_else(|| invalid("The marker is not an item of the list.".into()))
}

/// `GET /v1/{pid}/subnets/{subnet_id}/privateips` (VPC).
#[utoipa::path(
    get,
    path = "/v1/{project_id}/subnets/{subnet_id}/privateips",
    operation_id = "ListPrivateips",
    tag = "VPC",
    params(ProjectPath, SubnetPath, PageQuery),
    responses(
        (status = 200, description = "The addresses of the subnet the project's ports hold, by address.", body = Privateips),
        (status = 400, description = "A malformed query, an unknown marker (`VPC.0101`).", body = VpcErrorBody),
        (status = 404, description = "No such subnet (`VPC.0202`).", body = VpcErrorBody),
    )
)]
pub async fn list_privateips(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    Vpc(EcsPath(SubnetPath { subnet_id })): Vpc<EcsPath<SubnetPath>>,
    Vpc(crate::api::extract::EcsQuery(query)): Vpc<crate::api::extract::EcsQuery<PageQuery>>,
) -> VpcResult<Json<Privateips>> {
    let ports = blocking(&ecs, move |ecs| ecs.list_privateips(&project_id, &subnet_id)).await?;
    let ports = page(ports, |p| p.id.as_str(), query.limit, query.marker.as_deref())?;
    Ok(Json(Privateips { privateips: ports.iter().map(Privateip::of).collect() }))
}

/// `POST /v1/{pid}/privateips` (VPC).
#[utoipa::path(
    post,
    path = "/v1/{project_id}/privateips",
    operation_id = "CreatePrivateip",
    tag = "VPC",
    params(ProjectPath),
    request_body = CreatePrivateipRequest,
    responses(
        (status = 200, description = "The addresses taken, all or none.", body = Privateips),
        (status = 400, description = "A malformed body, 0 or more than 20 entries (`VPC.0101`), an address outside \
its subnet (`VPC.2500`).", body = VpcErrorBody),
        (status = 404, description = "No such subnet (`VPC.0202`).", body = VpcErrorBody),
        (status = 409, description = "An address is held (`VPC.0701`), a subnet is full (`VPC.0703`).", body = VpcErrorBody),
    )
)]
pub async fn create_privateip(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    VpcJson(request): VpcJson<CreatePrivateipRequest>,
) -> VpcResult<Json<Privateips>> {
    let wanted = request
        .privateips
        .into_iter()
        .map(|p| {
            let ip = match p.ip_address.as_deref() {
                None | Some("") => None,
                Some(text) => Some(parse_ip(text, ErrorCode::VpcInvalid)?),
            };
            Ok((p.subnet_id, ip))
        })
        .collect::<Result<Vec<_>, VpcError>>()?;
    let made = blocking(&ecs, move |ecs| ecs.create_privateips(&project_id, &wanted)).await?;
    Ok(Json(Privateips { privateips: made.iter().map(Privateip::of).collect() }))
}

/// `GET /v1/{pid}/privateips/{privateip_id}` (VPC).
#[utoipa::path(
    get,
    path = "/v1/{project_id}/privateips/{privateip_id}",
    operation_id = "ShowPrivateip",
    tag = "VPC",
    params(ProjectPath, PrivateipPath),
    responses(
        (status = 200, description = "The private IP.", body = PrivateipResponse),
        (status = 404, description = "No such private IP in the project (`VPC.0702`).", body = VpcErrorBody),
    )
)]
pub async fn show_privateip(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    Vpc(EcsPath(PrivateipPath { privateip_id })): Vpc<EcsPath<PrivateipPath>>,
) -> VpcResult<Json<PrivateipResponse>> {
    let port = blocking(&ecs, move |ecs| ecs.show_privateip(&project_id, &privateip_id)).await?;
    Ok(Json(PrivateipResponse { privateip: Privateip::of(&port) }))
}

/// `DELETE /v1/{pid}/privateips/{privateip_id}` (VPC).
#[utoipa::path(
    delete,
    path = "/v1/{project_id}/privateips/{privateip_id}",
    operation_id = "DeletePrivateip",
    tag = "VPC",
    params(ProjectPath, PrivateipPath),
    responses(
        (status = 204, description = "The address is free."),
        (status = 400, description = "The address is a server's or another service's (`VPC.2500`).", body = VpcErrorBody),
        (status = 404, description = "No such private IP in the project (`VPC.0702`).", body = VpcErrorBody),
    )
)]
pub async fn delete_privateip(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    Vpc(EcsPath(PrivateipPath { privateip_id })): Vpc<EcsPath<PrivateipPath>>,
) -> VpcResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_privateip(&project_id, &privateip_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
