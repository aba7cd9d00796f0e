//! A server's volume attachments (`os-volume_attachments`: list, show, attach, detach), over
//! the same disk jobs as ECS's `AttachServerVolume`/`DetachServerVolume`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::{AttachVolumeRequest, VolumeAttachment, VolumeAttachmentResponse, VolumeAttachmentsResponse};
use super::{NovaError, NovaJson, NovaPath, NovaProject, NovaResult};
use crate::api::error::ApiError;
use crate::api::extract::{ProjectPath, ServerPath};
use crate::domain::ErrorCode;
use crate::domain::server::Server;
use crate::service::Ecs;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AttachmentPath {
    pub server_id: String,
    /// The attached volume's id.
    pub volume_id: String,
}

/// A refusal of a volume attachment call, with the statuses Nova gives its causes: a missing
/// server or volume is 404, a server that holds the most disks it can 403, a state that does
/// not allow it 409, a volume that cannot be attached (in use, another zone) 400.
fn volume_refusal(refused: ApiError, server_id: &str, volume_id: &str) -> NovaError {
    let error = refused.0;
    match error.code {
        ErrorCode::ServerNotFound => NovaError::no_such_server(server_id),
        ErrorCode::VolumeNotFound => NovaError::not_found(format!("Volume {volume_id} could not be found.")),
        ErrorCode::TooManyVolumes => NovaError::new(StatusCode::FORBIDDEN, error.message),
        _ => NovaError::from(error),
    }
}

fn not_attached(server_id: &str, volume_id: &str) -> NovaError {
    NovaError::not_found(format!("Volume {volume_id} is not attached to the instance {server_id}"))
}

async fn server(ecs: &Arc<Ecs>, project_id: &str, server_id: &str) -> NovaResult<Server> {
    let (project, id) = (project_id.to_string(), server_id.to_string());
    crate::api::blocking(ecs, move |ecs| ecs.show_server(&project, &id))
        .await
        .map_err(|refused| volume_refusal(refused, server_id, ""))
}

/// `GET /v2.1/{project_id}/servers/{server_id}/os-volume_attachments`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/{server_id}/os-volume_attachments",
    operation_id = "NovaListVolumeAttachments",
    tag = "Nova",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "The server's volumes, the boot volume first.", body = VolumeAttachmentsResponse),
        (status = 404, description = "No such server in the project.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_list_volume_attachments(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(ServerPath { server_id }): NovaPath<ServerPath>,
) -> NovaResult<Json<VolumeAttachmentsResponse>> {
    let server = server(&ecs, &project_id, &server_id).await?;
    let volume_attachments = server.volumes.iter().map(|device| VolumeAttachment::of(&server, device)).collect();
    Ok(Json(VolumeAttachmentsResponse { volume_attachments }))
}

/// `GET /v2.1/{project_id}/servers/{server_id}/os-volume_attachments/{volume_id}`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/{server_id}/os-volume_attachments/{volume_id}",
    operation_id = "NovaShowVolumeAttachment",
    tag = "Nova",
    params(ProjectPath, AttachmentPath),
    responses(
        (status = 200, description = "The attachment.", body = VolumeAttachmentResponse),
        (status = 404, description = "No such server, or the volume is not attached to it.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_show_volume_attachment(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(AttachmentPath { server_id, volume_id }): NovaPath<AttachmentPath>,
) -> NovaResult<Json<VolumeAttachmentResponse>> {
    let server = server(&ecs, &project_id, &server_id).await?;
    let device =
        server.volumes.iter().find(|v| v.id == volume_id).ok_or_else(|| not_attached(&server_id, &volume_id))?;
    Ok(Json(VolumeAttachmentResponse { volume_attachment: VolumeAttachment::of(&server, device) }))
}

/// `POST /v2.1/{project_id}/servers/{server_id}/os-volume_attachments`: the volume joins the
/// server at `device` (or the next free one) as an ECS `AttachServerVolume` does; the answer
/// names the device, which the server holds from now on.
#[utoipa::path(
    post,
    path = "/v2.1/{project_id}/servers/{server_id}/os-volume_attachments",
    operation_id = "NovaAttachVolume",
    tag = "Nova",
    params(ProjectPath, ServerPath),
    request_body = AttachVolumeRequest,
    responses(
        (status = 200, description = "The attachment; the volume is `attaching`, then `in-use`.",
         body = VolumeAttachmentResponse),
        (status = 400, description = "A volume not `available` (or already attached), of another zone, or an \
invalid device.", body = super::wire::NovaFault),
        (status = 403, description = "The server holds the most disks it can.", body = super::wire::NovaFault),
        (status = 404, description = "No such server or volume.", body = super::wire::NovaFault),
        (status = 409, description = "The server's state does not allow it.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_attach_volume(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(ServerPath { server_id }): NovaPath<ServerPath>,
    NovaJson(request): NovaJson<AttachVolumeRequest>,
) -> NovaResult<Json<VolumeAttachmentResponse>> {
    let asked = request.volume_attachment;
    let volume_id = asked.volume_id.clone();
    let id = server_id.clone();
    let server = crate::api::blocking(&ecs, move |ecs| {
        ecs.show_volume(&project_id, &asked.volume_id)?;
        ecs.attach_server_volume(&project_id, &id, &asked.volume_id, asked.device.as_deref(), false)?;
        ecs.show_server(&project_id, &id)
    })
    .await
    .map_err(|refused| volume_refusal(refused, &server_id, &volume_id))?;
    let device =
        server.volumes.iter().find(|v| v.id == volume_id).ok_or_else(|| not_attached(&server_id, &volume_id))?;
    Ok(Json(VolumeAttachmentResponse { volume_attachment: VolumeAttachment::of(&server, device) }))
}

/// `DELETE /v2.1/{project_id}/servers/{server_id}/os-volume_attachments/{volume_id}`: the
/// volume leaves the server as by an ECS `DetachServerVolume`; never the boot volume (Nova's
/// rule).
#[utoipa::path(
    delete,
    path = "/v2.1/{project_id}/servers/{server_id}/os-volume_attachments/{volume_id}",
    operation_id = "NovaDetachVolume",
    tag = "Nova",
    params(ProjectPath, AttachmentPath),
    responses(
        (status = 202, description = "Accepted: the volume is `detaching`, then `available`."),
        (status = 400, description = "The boot volume, or a volume not `in-use`.", body = super::wire::NovaFault),
        (status = 404, description = "No such server, or the volume is not attached to it.", body = super::wire::NovaFault),
        (status = 409, description = "The server's state does not allow it.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_detach_volume(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(AttachmentPath { server_id, volume_id }): NovaPath<AttachmentPath>,
) -> NovaResult<StatusCode> {
    let server = server(&ecs, &project_id, &server_id).await?;
    let device =
        server.volumes.iter().find(|v| v.id == volume_id).ok_or_else(|| not_attached(&server_id, &volume_id))?;
    if device.boot_index == Some(0) {
        return Err(NovaError::bad_request("Cannot detach a root device volume"));
    }
    let (id, volume) = (server_id.clone(), volume_id.clone());
    crate::api::blocking(&ecs, move |ecs| ecs.detach_server_volume(&project_id, &id, &volume))
        .await
        .map_err(|refused| volume_refusal(refused, &server_id, &volume_id))?;
    Ok(StatusCode::ACCEPTED)
}
