//! A server's interfaces (`os-interface`: list, show, attach, detach) and security groups
//! (`os-security-groups`, the `addSecurityGroup`/`removeSecurityGroup` actions), over the
//! same NIC jobs and ports as ECS's `BatchAddServerNics`/`BatchDeleteServerNics`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::{
    AttachInterfaceRequest, InterfaceAttachment, InterfaceAttachmentResponse, InterfaceAttachmentsResponse,
    NovaSecurityGroup, SecurityGroupAction, ServerSecurityGroupsResponse,
};
use super::{NovaError, NovaJson, NovaPath, NovaProject, NovaResult};
use crate::api::error::ApiError;
use crate::api::extract::{ProjectPath, ServerPath};
use crate::domain::ErrorCode;
use crate::service::{Ecs, NewNic};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct InterfacePath {
    pub server_id: String,
    /// The port id of the interface.
    pub port_id: String,
}

/// A refusal of an interface or security group call, with the statuses Nova gives its causes:
/// what is named and missing is 404, an address or port held by another is 409.
fn interface_refusal(refused: ApiError, server_id: &str, port_id: Option<&str>) -> NovaError {
    let error = refused.0;
    match error.code {
        ErrorCode::ServerNotFound => NovaError::no_such_server(server_id),
        ErrorCode::NicNotOnServer => NovaError::not_found(format!(
            "Instance {server_id} does not have a port with id {}",
            port_id.unwrap_or_default()
        )),
        ErrorCode::SubnetNotFound | ErrorCode::NicPortNotFound => NovaError::not_found(error.message),
        ErrorCode::IpInUse | ErrorCode::NicPortInUse => NovaError::conflict(error.message),
        _ => NovaError::from(error),
    }
}

/// `GET /v2.1/{project_id}/servers/{server_id}/os-interface`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/{server_id}/os-interface",
    operation_id = "NovaListServerInterfaces",
    tag = "Nova",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "The server's interfaces, primary first.", body = InterfaceAttachmentsResponse),
        (status = 404, description = "No such server in the project.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_list_server_interfaces(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(ServerPath { server_id }): NovaPath<ServerPath>,
) -> NovaResult<Json<InterfaceAttachmentsResponse>> {
    let id = server_id.clone();
    let (_, ports) = crate::api::blocking(&ecs, move |ecs| ecs.list_server_interfaces(&project_id, &id))
        .await
        .map_err(|refused| interface_refusal(refused, &server_id, None))?;
    Ok(Json(InterfaceAttachmentsResponse {
        interface_attachments: ports.iter().map(InterfaceAttachment::of).collect(),
    }))
}

/// `GET /v2.1/{project_id}/servers/{server_id}/os-interface/{port_id}`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/{server_id}/os-interface/{port_id}",
    operation_id = "NovaShowServerInterface",
    tag = "Nova",
    params(ProjectPath, InterfacePath),
    responses(
        (status = 200, description = "The interface (a NIC of the server, or one joining it).",
         body = InterfaceAttachmentResponse),
        (status = 404, description = "No such server, or the port is not one of its interfaces.",
         body = super::wire::NovaFault),
    )
)]
pub async fn nova_show_server_interface(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(InterfacePath { server_id, port_id }): NovaPath<InterfacePath>,
) -> NovaResult<Json<InterfaceAttachmentResponse>> {
    let (id, port) = (server_id.clone(), port_id.clone());
    let (_, port) = crate::api::blocking(&ecs, move |ecs| ecs.show_server_interface(&project_id, &id, &port))
        .await
        .map_err(|refused| interface_refusal(refused, &server_id, Some(&port_id)))?;
    Ok(Json(InterfaceAttachmentResponse { interface_attachment: InterfaceAttachment::of(&port) }))
}

/// `POST /v2.1/{project_id}/servers/{server_id}/os-interface`: a port made on `net_id` (holding
/// the address of `fixed_ips` when given) or the existing `port_id`, bound to the server now;
/// it joins the server's NICs when the job ends, as an ECS `BatchAddServerNics` does.
#[utoipa::path(
    post,
    path = "/v2.1/{project_id}/servers/{server_id}/os-interface",
    operation_id = "NovaAttachInterface",
    tag = "Nova",
    params(ProjectPath, ServerPath),
    request_body = AttachInterfaceRequest,
    responses(
        (status = 200, description = "The interface attached.", body = InterfaceAttachmentResponse),
        (status = 400, description = "Both or neither of net_id and port_id with several networks, an address \
without net_id or outside the network, a full network, too many NICs.", body = super::wire::NovaFault),
        (status = 404, description = "No such server, network or port.", body = super::wire::NovaFault),
        (status = 409, description = "The address or the port is in use, or the server's state does not allow it.",
         body = super::wire::NovaFault),
    )
)]
pub async fn nova_attach_interface(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(ServerPath { server_id }): NovaPath<ServerPath>,
    NovaJson(request): NovaJson<AttachInterfaceRequest>,
) -> NovaResult<Json<InterfaceAttachmentResponse>> {
    let asked = request.interface_attachment;
    let net_id = asked.net_id.filter(|id| !id.is_empty());
    let port_id = asked.port_id.filter(|id| !id.is_empty());
    let ip = match asked.fixed_ips.as_slice() {
        [] => None,
        [fixed] => Some(
            fixed
                .ip_address
                .parse()
                .map_err(|_| NovaError::bad_request(format!("Invalid fixed IP address ({})", fixed.ip_address)))?,
        ),
        _ => return Err(NovaError::bad_request("fixed_ips takes at most one address.")),
    };
    let nic = match (net_id, port_id) {
        (Some(_), Some(_)) => return Err(NovaError::bad_request("Must not input both network_id and port_id")),
        (None, Some(_)) | (None, None) if ip.is_some() => {
            return Err(NovaError::bad_request("Must input network_id when request IP address"));
        }
        (None, Some(port_id)) => NewNic::Port { port_id },
        (Some(subnet_id), None) => NewNic::Subnet { subnet_id, ip, security_group_ids: vec![] },
        (None, None) => match ecs.catalogue().subnets.as_slice() {
            [only] => NewNic::Subnet { subnet_id: only.id.clone(), ip: None, security_group_ids: vec![] },
            _ => {
                return Err(NovaError::bad_request(
                    "Multiple possible networks found, use a Network ID to be more specific.",
                ));
            }
        },
    };
    let named = match &nic {
        NewNic::Port { port_id } => Some(port_id.clone()),
        NewNic::Subnet { .. } => None,
    };
    let id = server_id.clone();
    let (_, port) = crate::api::blocking(&ecs, move |ecs| {
        let (_, joining) = ecs.attach_server_interface(&project_id, &id, &nic)?;
        ecs.show_server_interface(&project_id, &id, &joining.port_id)
    })
    .await
    .map_err(|refused| interface_refusal(refused, &server_id, named.as_deref()))?;
    Ok(Json(InterfaceAttachmentResponse { interface_attachment: InterfaceAttachment::of(&port) }))
}

/// `DELETE /v2.1/{project_id}/servers/{server_id}/os-interface/{port_id}`: the NIC leaves the
/// server when the job ends, as an ECS `BatchDeleteServerNics` does (a port ecsd made is
/// deleted, one attached by its id only unbound).
#[utoipa::path(
    delete,
    path = "/v2.1/{project_id}/servers/{server_id}/os-interface/{port_id}",
    operation_id = "NovaDetachInterface",
    tag = "Nova",
    params(ProjectPath, InterfacePath),
    responses(
        (status = 202, description = "Accepted: the interface is detached."),
        (status = 403, description = "The server's primary NIC, which stays.", body = super::wire::NovaFault),
        (status = 404, description = "No such server, or the port is not one of its NICs.", body = super::wire::NovaFault),
        (status = 409, description = "The server's state does not allow it.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_detach_interface(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(InterfacePath { server_id, port_id }): NovaPath<InterfacePath>,
) -> NovaResult<StatusCode> {
    let (id, port) = (server_id.clone(), port_id.clone());
    crate::api::blocking(&ecs, move |ecs| ecs.batch_delete_server_nics(&project_id, &id, &[port]))
        .await
        .map_err(|refused| interface_refusal(refused, &server_id, Some(&port_id)))?;
    Ok(StatusCode::ACCEPTED)
}

/// `GET /v2.1/{project_id}/servers/{server_id}/os-security-groups`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/{server_id}/os-security-groups",
    operation_id = "NovaListServerSecurityGroups",
    tag = "Nova",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "The groups of the server's NICs, with their ingress rules.",
         body = ServerSecurityGroupsResponse),
        (status = 404, description = "No such server in the project.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_list_server_security_groups(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(ServerPath { server_id }): NovaPath<ServerPath>,
) -> NovaResult<Json<ServerSecurityGroupsResponse>> {
    let id = server_id.clone();
    let (groups, names) = crate::api::blocking(&ecs, move |ecs| ecs.list_server_security_groups(&project_id, &id))
        .await
        .map_err(|refused| interface_refusal(refused, &server_id, None))?;
    Ok(Json(ServerSecurityGroupsResponse {
        security_groups: groups.iter().map(|(group, rules)| NovaSecurityGroup::of(group, rules, &names)).collect(),
    }))
}

/// The group an `addSecurityGroup`/`removeSecurityGroup` names, refused as Nova refuses it.
fn group_of(action: Option<SecurityGroupAction>) -> NovaResult<String> {
    let action = action.ok_or_else(|| NovaError::bad_request("Missing parameter dict"))?;
    let name = action.name.ok_or_else(|| NovaError::bad_request("Security group not specified"))?;
    if name.trim().is_empty() {
        return Err(NovaError::bad_request("Security group name cannot be empty"));
    }
    Ok(name)
}

/// `addSecurityGroup` (`add`) or `removeSecurityGroup`: every NIC of the server takes the group,
/// or loses it.
pub(super) async fn change_security_group(
    ecs: &Arc<Ecs>,
    project_id: String,
    server_id: String,
    action: Option<SecurityGroupAction>,
    add: bool,
) -> NovaResult<StatusCode> {
    let group = group_of(action)?;
    let id = server_id.clone();
    crate::api::blocking(ecs, move |ecs| {
        if add {
            ecs.add_server_security_group(&project_id, &id, &group)
        } else {
            ecs.remove_server_security_group(&project_id, &id, &group)
        }
    })
    .await
    .map_err(|refused| interface_refusal(refused, &server_id, None))?;
    Ok(StatusCode::ACCEPTED)
}
