//! A server's NICs: BatchAddServerNics, BatchDeleteServerNics and ChangeVpc (jobs),
//! ListServerInterfaces, ShowServerAttachableNicNum, UpdateServerInterface,
//! ChangeServerNetworkInterface, AssociateServerVirtualIp and DisassociateServerVirtualIp.

use std::net::Ipv4Addr;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::ServerId;
use super::wire::batch::JobAccepted;
use super::wire::nics::{
    AttachableNics, BatchAddServerNicsRequest, BatchDeleteServerNicsRequest, ChangeServerNetworkInterfaceRequest,
    ChangeServerNetworkInterfaceResponse, ChangeVpcRequest, FreeNics, InterfaceAttachment, InterfaceExt,
    ListServerInterfacesResponse, ServerVirtualIpRequest, ServerVirtualIpResponse, ShowServerAttachableNicNumResponse,
    UpdateServerInterfaceRequest,
};
use crate::api::blocking;
use crate::api::error::{ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{EcsJson, EcsPath, Project, ProjectPath, ServerPath};
use crate::domain::Error;
use crate::domain::network::Port;
use crate::domain::server::Server;
use crate::service::{Ecs, NewNic};

/// A NIC of a server.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ServerPortPath {
    /// The server id (a UUID).
    pub server_id: String,
    /// The port id of the NIC.
    pub port_id: String,
}

/// A NIC, by its port id alone.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NicPath {
    /// The port id of a NIC of a server.
    pub nic_id: String,
}

/// An `ip_address` of a request: absent or empty for the lowest free address.
fn ipv4(text: Option<&str>) -> Result<Option<Ipv4Addr>, Error> {
    match text {
        None | Some("") => Ok(None),
        Some(text) => {
            text.parse().map(Some).map_err(|_| Error::invalid(format!("ip_address {text:?} is not an IPv4 address.")))
        }
    }
}

/// A NIC of a request: an existing port when `port_id` names one, else a new port on the subnet.
fn new_nic(
    port_id: Option<String>,
    subnet_id: String,
    ip: Option<&str>,
    groups: Vec<ServerId>,
) -> Result<NewNic, Error> {
    if let Some(port_id) = port_id.filter(|id| !id.is_empty()) {
        return Ok(NewNic::Port { port_id });
    }
    if subnet_id.is_empty() {
        return Err(Error::invalid("A NIC needs a subnet_id or a port_id."));
    }
    Ok(NewNic::Subnet { subnet_id, ip: ipv4(ip)?, security_group_ids: groups.into_iter().map(|g| g.id).collect() })
}

/// The server's NICs as `os-interface` lists them, in NIC order.
fn attachments(server: &Server, ports: &[Port]) -> Vec<InterfaceAttachment> {
    server
        .nics
        .iter()
        .filter_map(|nic| ports.iter().find(|p| p.id == nic.port_id).map(|port| InterfaceAttachment::of(port, nic)))
        .collect()
}

/// `POST /v1/{pid}/cloudservers/{server_id}/nics`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/nics",
    operation_id = "BatchAddServerNics",
    tag = "NICs",
    params(ProjectPath, ServerPath),
    request_body = BatchAddServerNicsRequest,
    responses(
        (status = 200, description = "The job adding the NICs; their ports exist at once and join the server \
when it ends.", body = JobAccepted),
        (status = 400, description = "A malformed body, no NIC, a NIC with neither `subnet_id` nor `port_id`, an \
`ip_address` that is not IPv4, a port named twice (`Ecs.0005`); an unknown subnet (`Ecs.0038`), a subnet or port of \
another VPC (`Ecs.0064`), an address outside the subnet (`Ecs.0039`) or in use (`Ecs.0010`), a full subnet \
(`Ecs.0012`), an unknown security group (`Ecs.0014`), an unknown port (`Ecs.0307`), a port in use (`Ecs.0919`), more \
NICs than the flavor takes (`Ecs.0050`), a server not running or stopped (`Ecs.0100`) or busy (`Ecs.0603`).",
         body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn batch_add_server_nics(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<BatchAddServerNicsRequest>,
) -> ApiResult<Json<JobAccepted>> {
    let nics = request
        .nics
        .into_iter()
        .map(|nic| new_nic(nic.port_id, nic.subnet_id, nic.ip_address.as_deref(), nic.security_groups))
        .collect::<Result<Vec<_>, Error>>()?;
    let job_id = blocking(&ecs, move |ecs| ecs.batch_add_server_nics(&project_id, &server_id, &nics)).await?;
    Ok(Json(JobAccepted { job_id }))
}

/// `POST /v1/{pid}/cloudservers/{server_id}/nics/delete`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/nics/delete",
    operation_id = "BatchDeleteServerNics",
    tag = "NICs",
    params(ProjectPath, ServerPath),
    request_body = BatchDeleteServerNicsRequest,
    responses(
        (status = 200, description = "The job deleting the NICs; they leave the server when it ends, and \
their ports are deleted (those not `delete_on_termination`, attached by their id, only unbound).", body = JobAccepted),
        (status = 400, description = "A malformed body or no NIC (`Ecs.0005`), a port that is not a NIC of the \
server (`Ecs.0085`), a server not running or stopped (`Ecs.0100`) or busy (`Ecs.0603`).", body = EcsError),
        (status = 403, description = "The primary NIC (`Ecs.0005`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn batch_delete_server_nics(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<BatchDeleteServerNicsRequest>,
) -> ApiResult<Json<JobAccepted>> {
    let ids: Vec<String> = request.nics.into_iter().map(|n| n.id).collect();
    let job_id = blocking(&ecs, move |ecs| ecs.batch_delete_server_nics(&project_id, &server_id, &ids)).await?;
    Ok(Json(JobAccepted { job_id }))
}

/// `GET /v1/{pid}/cloudservers/{server_id}/os-interface`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-interface",
    operation_id = "ListServerInterfaces",
    tag = "NICs",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "The server's NICs, primary first, and how many more it may have.", body = ListServerInterfacesResponse),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn list_server_interfaces(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
) -> ApiResult<Json<ListServerInterfacesResponse>> {
    let (free, attached) = blocking(&ecs, move |ecs| {
        let (server, ports) = ecs.list_server_interfaces(&project_id, &server_id)?;
        Ok((ecs.max_nics(&server).saturating_sub(server.nics.len()), attachments(&server, &ports)))
    })
    .await?;
    Ok(Json(ListServerInterfacesResponse {
        attachable_quantity: FreeNics { free_nic: free },
        interface_attachments: attached,
    }))
}

/// `GET /v1/{pid}/cloudservers/{server_id}/os-interface_extension`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-interface_extension",
    operation_id = "ShowServerAttachableNicNum",
    tag = "NICs",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "How many more NICs the server may have, and those it has.", body = ShowServerAttachableNicNumResponse),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn show_server_attachable_nic_num(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
) -> ApiResult<Json<ShowServerAttachableNicNumResponse>> {
    let (free, attached) = blocking(&ecs, move |ecs| {
        let (server, ports) = ecs.list_server_interfaces(&project_id, &server_id)?;
        Ok((ecs.max_nics(&server).saturating_sub(server.nics.len()), attachments(&server, &ports)))
    })
    .await?;
    Ok(Json(ShowServerAttachableNicNumResponse {
        attachable_quantity: AttachableNics { free_nic: free, free_efi_nic: 0 },
        interface_attachments: attached
            .into_iter()
            .map(|attachment| InterfaceExt { preserve_on_delete: !attachment.delete_on_termination, attachment })
            .collect(),
    }))
}

/// `PUT /v1/{pid}/cloudservers/{server_id}/os-interface/{port_id}`.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-interface/{port_id}",
    operation_id = "UpdateServerInterface",
    tag = "NICs",
    params(ProjectPath, ServerPortPath),
    request_body = UpdateServerInterfaceRequest,
    responses(
        (status = 200, description = "Whether the NIC's port is deleted when it leaves the server is changed."),
        (status = 400, description = "A malformed body (`Ecs.0005`), a port that is not a NIC of the server \
(`Ecs.0085`), a server being deleted (`Ecs.0100`), busy (`Ecs.0603`) or locked (`Ecs.0605`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn update_server_interface(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPortPath { server_id, port_id }): EcsPath<ServerPortPath>,
    EcsJson(request): EcsJson<UpdateServerInterfaceRequest>,
) -> ApiResult<StatusCode> {
    let delete = request.interface_attachment.delete_on_termination;
    blocking(&ecs, move |ecs| ecs.update_server_interface(&project_id, &server_id, &port_id, delete)).await?;
    Ok(StatusCode::OK)
}

/// `POST /v1/{pid}/cloudservers/{server_id}/os-interface/{port_id}/change-network-interface`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-interface/{port_id}/change-network-interface",
    operation_id = "ChangeServerNetworkInterface",
    tag = "NICs",
    params(ProjectPath, ServerPortPath),
    request_body = ChangeServerNetworkInterfaceRequest,
    responses(
        (status = 200, description = "The primary NIC's new address; its port keeps its id and MAC.",
         body = ChangeServerNetworkInterfaceResponse),
        (status = 400, description = "A malformed body, no `subnet_id`, an `ip_address` that is not IPv4, an \
`ipv6_address` (`Ecs.0005`); a port that is not a NIC of the server (`Ecs.0085`) or not its primary NIC \
(`Ecs.0086`); an unknown subnet (`Ecs.0038`), one of another VPC (`Ecs.0064`), an address outside it (`Ecs.0039`) or \
in use (`Ecs.0010`), a full subnet (`Ecs.0012`); a server not stopped (`Ecs.0100`), busy (`Ecs.0603`) or locked \
(`Ecs.0605`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn change_server_network_interface(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPortPath { server_id, port_id }): EcsPath<ServerPortPath>,
    EcsJson(request): EcsJson<ChangeServerNetworkInterfaceRequest>,
) -> ApiResult<Json<ChangeServerNetworkInterfaceResponse>> {
    if request.ipv6_address.is_some() {
        return Err(Error::invalid("ecsd's subnets have no IPv6 addresses: give ip_address.").into());
    }
    let Some(ip_text) = request.ip_address else {
        return Err(Error::invalid("ip_address must be given (empty for the lowest free address).").into());
    };
    let subnet_id = request
        .subnet_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Error::invalid("subnet_id must be given to change the IPv4 address."))?;
    let ip = ipv4(Some(&ip_text))?;
    let port = blocking(&ecs, move |ecs| {
        ecs.change_server_network_interface(&project_id, &server_id, &port_id, &subnet_id, ip)
    })
    .await?;
    Ok(Json(ChangeServerNetworkInterfaceResponse {
        id: port.id,
        subnet_id: port.subnet_id,
        ip_address: port.ip.to_string(),
        ipv6_address: None,
    }))
}

/// `PUT /v1/{pid}/cloudservers/nics/{nic_id}`: `AssociateServerVirtualIp`, or
/// `DisassociateServerVirtualIp` when the body names no address.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/cloudservers/nics/{nic_id}",
    operation_id = "AssociateDisassociateServerVirtualIp",
    tag = "NICs",
    params(ProjectPath, NicPath),
    request_body = ServerVirtualIpRequest,
    responses(
        (status = 200, description = "The NIC's port id. With an address (`AssociateServerVirtualIp`) the NIC \
may send from it: the private IP or virtual IP port holding it, or a new virtual IP port (`neutron:VIP_PORT`), is \
bound (with `reverse_binding`, it allows the NIC's address and MAC too). With empty `subnet_id` and `ip_address`, \
or no `nic` (`DisassociateServerVirtualIp`), every virtual IP of the NIC is unbound; the ports stay.",
         body = ServerVirtualIpResponse),
        (status = 400, description = "A malformed body, a subnet other than the NIC's, an `ip_address` that is not \
IPv4, more than 10 virtual IPs (`Ecs.0005`); a port that is not a NIC of a server of the project (`Ecs.0307`), an \
unknown subnet (`Ecs.0038`), an address outside it (`Ecs.0039`) or held by a NIC, this one included (`Ecs.0010`).",
         body = EcsError),
    )
)]
pub async fn server_virtual_ip(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(NicPath { nic_id }): EcsPath<NicPath>,
    EcsJson(request): EcsJson<ServerVirtualIpRequest>,
) -> ApiResult<Json<ServerVirtualIpResponse>> {
    let port_id = match request.nic.filter(|nic| !nic.ip_address.is_empty()) {
        Some(nic) => {
            let ip = ipv4(Some(&nic.ip_address))?.ok_or_else(|| Error::invalid("ip_address must be given."))?;
            blocking(&ecs, move |ecs| {
                ecs.associate_server_virtual_ip(&project_id, &nic_id, &nic.subnet_id, ip, nic.reverse_binding)
            })
            .await?
        }
        None => blocking(&ecs, move |ecs| ecs.disassociate_server_virtual_ip(&project_id, &nic_id)).await?,
    };
    Ok(Json(ServerVirtualIpResponse { port_id }))
}

/// `POST /v1/{pid}/cloudservers/{server_id}/changevpc`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/changevpc",
    operation_id = "ChangeVpc",
    tag = "NICs",
    params(ProjectPath, ServerPath),
    request_body = ChangeVpcRequest,
    responses(
        (status = 200, description = "The job moving the server to the VPC: the new primary NIC's port exists \
at once; when the job ends it replaces the old NIC, whose port is deleted (or only unbound, for a port attached by \
its id).", body = JobAccepted),
        (status = 400, description = "A malformed body, a NIC with neither `subnet_id` nor `port_id`, an \
`ip_address` that is not IPv4, the server's own VPC, a server with more NICs than its primary one (`Ecs.0005`); an \
unknown VPC (`Ecs.0014`), an unknown subnet (`Ecs.0038`), a subnet or port of another VPC (`Ecs.0064`), an address \
outside the subnet (`Ecs.0039`) or in use (`Ecs.0010`), a full subnet (`Ecs.0012`), an unknown security group or a \
port with none (`Ecs.0014`), an unknown port (`Ecs.0307`) or one in use (`Ecs.0919`), a server not running or \
stopped (`Ecs.0100`) or busy (`Ecs.0603`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn change_vpc(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<ChangeVpcRequest>,
) -> ApiResult<Json<JobAccepted>> {
    let nic = request.nic;
    let nic = new_nic(nic.port_id, nic.subnet_id, nic.ip_address.as_deref(), nic.security_groups)?;
    let vpc_id = request.vpc_id;
    let job_id = blocking(&ecs, move |ecs| ecs.change_vpc(&project_id, &server_id, &vpc_id, &nic)).await?;
    Ok(Json(JobAccepted { job_id }))
}
