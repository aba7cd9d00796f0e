//! A server's disks: attach, detach, the block devices and their reads, the batch attach and
//! detach of a shared disk.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::batch::JobAccepted;
use super::wire::disks::*;
use crate::api::error::{ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{EcsJson, EcsPath, EcsQuery, Project, ProjectPath, ServerPath};
use crate::api::{blocking, point_read};
use crate::domain::Error;
use crate::service::Ecs;

/// A disk of a server.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ServerVolumePath {
    /// The server id (a UUID).
    pub server_id: String,
    /// The disk id (a UUID).
    pub volume_id: String,
}

/// The disk of a batch path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct VolumePath {
    /// The disk id (a UUID).
    pub volume_id: String,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DetachQuery {
    /// `0` (default) or `1`, a forced detach of a data disk: ecsd's detaches never hang, so
    /// both detach the same way.
    pub delete_flag: Option<String>,
}

/// `POST /v1/{pid}/cloudservers/{server_id}/attachvolume`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/attachvolume",
    operation_id = "AttachServerVolume",
    tag = "Disks",
    params(ProjectPath, ServerPath),
    request_body = AttachServerVolumeRequest,
    responses(
        (status = 200, description = "The job attaching the disk: the server lists it at once, the disk is \
`attaching`, then `in-use`.", body = JobAccepted),
        (status = 202, description = "`dry_run`: the attach would be accepted; no job."),
        (status = 400, description = "A disk that does not exist or is not available (nor shared and in use) \
(`Ecs.0103`), already attached (`Ecs.0057`), in another zone (`Ecs.0121`), a server holding 60 disks (`Ecs.0104`), \
a device in use or invalid (`Ecs.0005`), a server not running or stopped (`Ecs.0100`), busy (`Ecs.0603`) or locked \
(`Ecs.0605`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn attach_server_volume(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
    EcsJson(request): EcsJson<AttachServerVolumeRequest>,
) -> ApiResult<Response> {
    let option = request.volume_attachment;
    let dry_run = request.dry_run;
    let job_id = blocking(&ecs, move |ecs| {
        ecs.attach_server_volume(&project_id, &server_id, &option.volume_id, option.device.as_deref(), dry_run)
    })
    .await?;
    Ok(match job_id {
        Some(job_id) => Json(JobAccepted { job_id }).into_response(),
        None => StatusCode::ACCEPTED.into_response(),
    })
}

/// `DELETE /v1/{pid}/cloudservers/{server_id}/detachvolume/{volume_id}`.
#[utoipa::path(
    delete,
    path = "/v1/{project_id}/cloudservers/{server_id}/detachvolume/{volume_id}",
    operation_id = "DetachServerVolume",
    tag = "Disks",
    params(ProjectPath, ServerVolumePath, DetachQuery),
    responses(
        (status = 200, description = "The job detaching the disk: `detaching`, then `available` (or still \
`in-use` where a shared disk stays attached elsewhere).", body = JobAccepted),
        (status = 400, description = "A disk not attached to the server (`Ecs.0111`), the system disk of a server \
that is not stopped or a server not running or stopped (`Ecs.0100`), busy (`Ecs.0603`) or locked (`Ecs.0605`), a \
`delete_flag` other than 0 or 1 (`Ecs.0005`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn detach_server_volume(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerVolumePath { server_id, volume_id }): EcsPath<ServerVolumePath>,
    EcsQuery(query): EcsQuery<DetachQuery>,
) -> ApiResult<Json<JobAccepted>> {
    if let Some(flag) = query.delete_flag.filter(|f| f != "0" && f != "1") {
        return Err(Error::invalid(format!("delete_flag must be 0 or 1, not {flag}.")).into());
    }
    let job_id = blocking(&ecs, move |ecs| ecs.detach_server_volume(&project_id, &server_id, &volume_id)).await?;
    Ok(Json(JobAccepted { job_id }))
}

/// `GET /v1/{pid}/cloudservers/{server_id}/block_device`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/block_device",
    operation_id = "ListServerBlockDevices",
    tag = "Disks",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "The server's disks, and how many more it can take.",
         body = ListServerBlockDevicesResponse),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn list_server_block_devices(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
) -> ApiResult<Json<ListServerBlockDevicesResponse>> {
    let server = point_read(&ecs, |ecs| ecs.show_server(&project_id, &server_id))?;
    Ok(Json(ListServerBlockDevicesResponse::of(&server)))
}

/// `GET /v1/{pid}/cloudservers/{server_id}/block_device/{volume_id}`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/block_device/{volume_id}",
    operation_id = "ShowServerBlockDevice",
    tag = "Disks",
    params(ProjectPath, ServerVolumePath),
    responses(
        (status = 200, description = "One disk of the server.", body = ShowServerBlockDeviceResponse),
        (status = 400, description = "A disk not attached to the server (`Ecs.0111`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn show_server_block_device(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerVolumePath { server_id, volume_id }): EcsPath<ServerVolumePath>,
) -> ApiResult<Json<ShowServerBlockDeviceResponse>> {
    let (server, device) = point_read(&ecs, |ecs| ecs.show_server_block_device(&project_id, &server_id, &volume_id))?;
    Ok(Json(ShowServerBlockDeviceResponse { volume_attachment: ServerBlockDevice::of(&server, &device) }))
}

/// `PUT /v1/{pid}/cloudservers/{server_id}/block_device/{volume_id}`.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/cloudservers/{server_id}/block_device/{volume_id}",
    operation_id = "UpdateServerBlockDevice",
    tag = "Disks",
    params(ProjectPath, ServerVolumePath),
    request_body = UpdateServerBlockDeviceRequest,
    responses(
        (status = 200, description = "Whether the disk is deleted with the server is changed."),
        (status = 400, description = "A disk not attached to the server (`Ecs.0111`), a server being deleted \
(`Ecs.0100`), busy (`Ecs.0603`) or locked (`Ecs.0605`), a malformed body (`Ecs.0005`).", body = EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn update_server_block_device(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerVolumePath { server_id, volume_id }): EcsPath<ServerVolumePath>,
    EcsJson(request): EcsJson<UpdateServerBlockDeviceRequest>,
) -> ApiResult<StatusCode> {
    let delete = request.block_device.delete_on_termination;
    blocking(&ecs, move |ecs| ecs.update_server_block_device(&project_id, &server_id, &volume_id, delete)).await?;
    Ok(StatusCode::OK)
}

/// `GET /v1/{pid}/cloudservers/{server_id}/os-volume_attachments`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-volume_attachments",
    operation_id = "ListServerVolumeAttachments",
    tag = "Disks",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "The server's disks, as Nova lists them.", body = ListServerVolumeAttachmentsResponse),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn list_server_volume_attachments(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
) -> ApiResult<Json<ListServerVolumeAttachmentsResponse>> {
    let server = point_read(&ecs, |ecs| ecs.show_server(&project_id, &server_id))?;
    Ok(Json(ListServerVolumeAttachmentsResponse::of(&server)))
}

/// `GET /v1/{pid}/cloudservers/{server_id}/appendvolumequota`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/appendvolumequota",
    operation_id = "ShowAppendableVolumeQuota",
    tag = "Disks",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "How many more disks the server can take (it holds at most 60).",
         body = ShowAppendableVolumeQuotaResponse),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = EcsError),
    )
)]
pub async fn show_appendable_volume_quota(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(ServerPath { server_id }): EcsPath<ServerPath>,
) -> ApiResult<Json<ShowAppendableVolumeQuotaResponse>> {
    let server = point_read(&ecs, |ecs| ecs.show_server(&project_id, &server_id))?;
    Ok(Json(ShowAppendableVolumeQuotaResponse::of(&server)))
}

/// `POST /v1/{pid}/batchaction/attachvolumes/{volume_id}`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/batchaction/attachvolumes/{volume_id}",
    operation_id = "BatchAttachSharableVolumes",
    tag = "Disks",
    params(ProjectPath, VolumePath),
    request_body = BatchAttachSharableVolumesRequest,
    responses(
        (status = 200, description = "The job: one sub-job per server; a server that refuses the disk gets a \
failed sub-job with the code it refused it with.", body = JobAccepted),
        (status = 400, description = "A disk that does not exist or is not shared (`Ecs.0103`), no server, a server \
given twice or more than 60 (`Ecs.0005`/`Ecs.0118`).", body = EcsError),
        (status = 404, description = "An id that is not a server of the project (`Ecs.0114`); no job.", body = EcsError),
    )
)]
pub async fn batch_attach_sharable_volumes(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(VolumePath { volume_id }): EcsPath<VolumePath>,
    EcsJson(request): EcsJson<BatchAttachSharableVolumesRequest>,
) -> ApiResult<Json<JobAccepted>> {
    let servers = request.serverinfo.into_iter().map(|s| (s.server_id, s.device)).collect();
    let job_id = blocking(&ecs, move |ecs| ecs.batch_attach_sharable_volumes(&project_id, &volume_id, servers)).await?;
    Ok(Json(JobAccepted { job_id }))
}

/// `POST /v1/{pid}/batchaction/detachvolumes/{volume_id}`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/batchaction/detachvolumes/{volume_id}",
    operation_id = "BatchDetachVolumes",
    tag = "Disks",
    params(ProjectPath, VolumePath),
    request_body = BatchDetachVolumesRequest,
    responses(
        (status = 200, description = "The job: one sub-job per server; a server the disk is not attached to gets a \
failed sub-job (`Ecs.0111`).", body = JobAccepted),
        (status = 400, description = "No such disk (`Ecs.0111`), no server, a server given twice or more than 60 \
(`Ecs.0005`/`Ecs.0118`).", body = EcsError),
        (status = 404, description = "An id that is not a server of the project (`Ecs.0114`); no job.", body = EcsError),
    )
)]
pub async fn batch_detach_volumes(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(VolumePath { volume_id }): EcsPath<VolumePath>,
    EcsJson(request): EcsJson<BatchDetachVolumesRequest>,
) -> ApiResult<Json<JobAccepted>> {
    let ids = request.serverinfo.into_iter().map(DetachServer::into_id).collect();
    let job_id = blocking(&ecs, move |ecs| ecs.batch_detach_volumes(&project_id, &volume_id, ids)).await?;
    Ok(Json(JobAccepted { job_id }))
}
