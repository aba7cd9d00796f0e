//! A server's NICs: BatchAddServerNics and BatchDeleteServerNics (jobs), ListServerInterfaces
//! and ShowServerAttachableNicNum.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use super::wire::batch::JobAccepted;
use super::wire::nics::{
    AttachableNics, BatchAddServerNicsRequest, BatchDeleteServerNicsRequest, FreeNics, InterfaceAttachment,
    InterfaceExt, ListServerInterfacesResponse, ShowServerAttachableNicNumResponse,
};
use crate::api::blocking;
use crate::api::error::{ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{EcsJson, EcsPath, Project, ProjectPath, ServerPath};
use crate::domain::Error;
use crate::service::{Ecs, NewNic};

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
        (status = 400, description = "A malformed body, no NIC, an `ip_address` that is not IPv4, a `port_id` \
(`Ecs.0005`); an unknown subnet (`Ecs.0038`), one of another VPC (`Ecs.0064`), an address outside it (`Ecs.0039`) or \
in use (`Ecs.0010`), a full subnet (`Ecs.0012`), an unknown security group (`Ecs.0014`), more NICs than the flavor \
takes (`Ecs.0050`), a server not running or stopped (`Ecs.0100`) or busy (`Ecs.0603`).", body = EcsError),
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
        .map(|nic| {
            if nic.port_id.is_some() {
                return Err(Error::invalid("Attaching an existing port (port_id) is not supported; give subnet_id."));
            }
            let ip = match nic.ip_address.as_deref() {
                None | Some("") => None,
                Some(text) => Some(
                    text.parse().map_err(|_| Error::invalid(format!("ip_address {text:?} is not an IPv4 address.")))?,
                ),
            };
            Ok(NewNic {
                subnet_id: nic.subnet_id,
                ip,
                security_group_ids: nic.security_groups.into_iter().map(|g| g.id).collect(),
            })
        })
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
        (status = 200, description = "The job deleting the NICs; they leave the server, and their ports are \
deleted, when it ends.", body = JobAccepted),
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
    let (free, ports) = blocking(&ecs, move |ecs| {
        let (server, ports) = ecs.list_server_interfaces(&project_id, &server_id)?;
        Ok((ecs.max_nics(&server).saturating_sub(server.nics.len()), ports))
    })
    .await?;
    Ok(Json(ListServerInterfacesResponse {
        attachable_quantity: FreeNics { free_nic: free },
        interface_attachments: ports.iter().map(InterfaceAttachment::of).collect(),
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
    let (free, ports) = blocking(&ecs, move |ecs| {
        let (server, ports) = ecs.list_server_interfaces(&project_id, &server_id)?;
        Ok((ecs.max_nics(&server).saturating_sub(server.nics.len()), ports))
    })
    .await?;
    Ok(Json(ShowServerAttachableNicNumResponse {
        attachable_quantity: AttachableNics { free_nic: free, free_efi_nic: 0 },
        interface_attachments: ports
            .iter()
            .map(|p| InterfaceExt { preserve_on_delete: false, attachment: InterfaceAttachment::of(p) })
            .collect(),
    }))
}
