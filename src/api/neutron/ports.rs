//! Neutron's ports: the VPC API's ports of the caller's project (a server's NICs among them).

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequestParts, RawQuery, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::{CreatePortRequest, Link, Port, PortResponse, Ports, UpdatePortRequest};
use super::{Caller, NeutronError, NeutronErrorBody, NeutronJson, NeutronPath, NeutronResult, blocking};
use crate::api::extract::BaseUrl;
use crate::api::vpc::ports::ListPortsQuery;
use crate::domain::network::{self, page_after};
use crate::domain::{Error, ErrorCode};
use crate::service::{Ecs, NewPort, PortUpdate};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NeutronPortPath {
    pub port_id: String,
}

/// The query of `NeutronListPorts`, refused in Neutron's shape.
pub struct NeutronPortQuery(network::PortQuery);

impl<S: Send + Sync> FromRequestParts<S> for NeutronPortQuery {
    type Rejection = NeutronError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pairs = serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
            .map_err(|e| NeutronError::bad_request(format!("Invalid query parameter: {e}.")))?;
        Ok(NeutronPortQuery(network::PortQuery::parse(pairs, ErrorCode::PortInvalid)?))
    }
}

/// The query of the next page: the same one, after `marker`.
fn next_query(raw: Option<&str>, marker: &str) -> String {
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or_default()).unwrap_or_default();
    pairs.retain(|(key, _)| key != "marker");
    pairs.push(("marker".into(), marker.into()));
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// `GET /v2.0/ports`.
#[utoipa::path(
    get,
    path = "/v2.0/ports",
    operation_id = "NeutronListPorts",
    tag = "Neutron",
    params(ListPortsQuery),
    responses(
        (status = 200, description = "The project's matching ports, oldest first; `ports_links` has a `next` link \
after a full page.", body = Ports),
        (status = 400, description = "A malformed query or `fixed_ips` term, an unknown marker (`InvalidInput`, \
`HTTPBadRequest`).", body = NeutronErrorBody),
    )
)]
pub async fn neutron_list_ports(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    BaseUrl(base): BaseUrl,
    RawQuery(raw): RawQuery,
    NeutronPortQuery(query): NeutronPortQuery,
) -> NeutronResult<Json<Ports>> {
    let filter = query.filter;
    // `limit=0`, as Neutron reads it, is no paging at all.
    let limit = query.limit.filter(|limit| *limit > 0).unwrap_or(usize::MAX);
    let ports = blocking(&ecs, move |ecs| ecs.list_ports(&project_id, &filter)).await?;
    let ports = page_after(ports, |p| p.id.as_str(), query.marker.as_deref(), limit)
        .ok_or_else(|| Error::new(ErrorCode::PortInvalid, "The marker is not a port of the list."))?;
    let ports_links = match ports.last() {
        Some(last) if ports.len() == limit => {
            vec![Link { href: format!("{base}/v2.0/ports?{}", next_query(raw.as_deref(), &last.id)), rel: "next" }]
        }
        _ => vec![],
    };
    Ok(Json(Ports { ports: ports.iter().map(Port::of).collect(), ports_links }))
}

/// `POST /v2.0/ports`.
#[utoipa::path(
    post,
    path = "/v2.0/ports",
    operation_id = "NeutronCreatePort",
    tag = "Neutron",
    request_body = CreatePortRequest,
    responses(
        (status = 201, description = "The new port, on no server.", body = PortResponse),
        (status = 400, description = "A malformed body (`HTTPBadRequest`); an address outside the network, more than \
one fixed IP, a device owner other than `neutron:VIP_PORT`, an unknown security group (`InvalidInput`).",
         body = NeutronErrorBody),
        (status = 404, description = "No such network (`NetworkNotFound`).", body = NeutronErrorBody),
        (status = 409, description = "The address is held (`IpAddressAlreadyAllocated`), the network is full \
(`IpAddressGenerationFailure`).", body = NeutronErrorBody),
    )
)]
pub async fn neutron_create_port(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    NeutronJson(request): NeutronJson<CreatePortRequest>,
) -> NeutronResult<(StatusCode, Json<PortResponse>)> {
    let option = request.port;
    if ecs.catalogue().subnet(&option.network_id).is_none() {
        return Err(NeutronError::network_not_found(&option.network_id));
    }
    if option.fixed_ips.len() > 1 {
        return Err(Error::new(ErrorCode::PortInvalid, "A port takes at most one fixed IP.").into());
    }
    let fixed = option.fixed_ips.into_iter().next();
    if let Some(subnet) = fixed.as_ref().and_then(|f| f.subnet_id.as_ref())
        && *subnet != option.network_id
    {
        return Err(Error::new(ErrorCode::PortInvalid, format!("The subnet {subnet} is not the network's.")).into());
    }
    let ip =
        match fixed.and_then(|f| f.ip_address) {
            Some(text) => Some(text.parse().map_err(|_| {
                Error::new(ErrorCode::PortInvalid, format!("ip_address {text:?} is not an IPv4 address."))
            })?),
            None => None,
        };
    let new = NewPort {
        name: option.name.unwrap_or_default(),
        subnet_id: option.network_id,
        ip,
        security_group_ids: option.security_groups,
        allowed_address_pairs: option.allowed_address_pairs.unwrap_or_default().into_iter().map(Into::into).collect(),
        device_owner: option.device_owner.unwrap_or_default(),
    };
    let port = blocking(&ecs, move |ecs| ecs.create_port(&project_id, &new)).await?;
    Ok((StatusCode::CREATED, Json(PortResponse { port: Port::of(&port) })))
}

/// `GET /v2.0/ports/{port_id}`.
#[utoipa::path(
    get,
    path = "/v2.0/ports/{port_id}",
    operation_id = "NeutronShowPort",
    tag = "Neutron",
    params(NeutronPortPath),
    responses(
        (status = 200, description = "The port.", body = PortResponse),
        (status = 404, description = "No such port in the project (`PortNotFound`).", body = NeutronErrorBody),
    )
)]
pub async fn neutron_show_port(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    NeutronPath(NeutronPortPath { port_id }): NeutronPath<NeutronPortPath>,
) -> NeutronResult<Json<PortResponse>> {
    let port = blocking(&ecs, move |ecs| ecs.show_port(&project_id, &port_id)).await?;
    Ok(Json(PortResponse { port: Port::of(&port) }))
}

/// `PUT /v2.0/ports/{port_id}`.
#[utoipa::path(
    put,
    path = "/v2.0/ports/{port_id}",
    operation_id = "NeutronUpdatePort",
    tag = "Neutron",
    params(NeutronPortPath),
    request_body = UpdatePortRequest,
    responses(
        (status = 200, description = "The port as updated; a server it is a NIC of shows its ports' groups.",
         body = PortResponse),
        (status = 400, description = "A malformed body (`HTTPBadRequest`), a bad name or address pair, an unknown \
security group (`InvalidInput`).", body = NeutronErrorBody),
        (status = 404, description = "No such port in the project (`PortNotFound`).", body = NeutronErrorBody),
    )
)]
pub async fn neutron_update_port(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    NeutronPath(NeutronPortPath { port_id }): NeutronPath<NeutronPortPath>,
    NeutronJson(request): NeutronJson<UpdatePortRequest>,
) -> NeutronResult<Json<PortResponse>> {
    let option = request.port;
    let update = PortUpdate {
        name: option.name,
        security_group_ids: option.security_groups,
        allowed_address_pairs: option.allowed_address_pairs.map(|pairs| pairs.into_iter().map(Into::into).collect()),
    };
    let port = blocking(&ecs, move |ecs| ecs.update_port(&project_id, &port_id, &update)).await?;
    Ok(Json(PortResponse { port: Port::of(&port) }))
}

/// `DELETE /v2.0/ports/{port_id}`.
#[utoipa::path(
    delete,
    path = "/v2.0/ports/{port_id}",
    operation_id = "NeutronDeletePort",
    tag = "Neutron",
    params(NeutronPortPath),
    responses(
        (status = 204, description = "The port is gone and its address free."),
        (status = 404, description = "No such port in the project (`PortNotFound`).", body = NeutronErrorBody),
        (status = 409, description = "The port is a server's NIC or another service's (`PortInUse`).",
         body = NeutronErrorBody),
    )
)]
pub async fn neutron_delete_port(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    NeutronPath(NeutronPortPath { port_id }): NeutronPath<NeutronPortPath>,
) -> NeutronResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_port(&project_id, &port_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
