//! The Elastic Volume Service calls automation makes (paths of `huaweicloudsdkevs`' v2 client:
//! `/v2.1/...` to create and extend, `/v2/...` for the rest), answering in EVS's own error
//! shape and codes. EVS's jobs are served by `ShowJob` (`/v1/{project_id}/jobs/{job_id}`),
//! which ECS shares.

pub mod error;
pub mod wire;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::routes;

use super::extract::{BaseUrl, EcsJson, EcsPath, EcsQuery, Project, ProjectPath};
use super::operation::Row;
use super::{blocking, point_read};
use crate::domain::faults::FaultOperation as Fault;
use crate::domain::volumes::{self, CloudVolume, NewVolumes, VolumeFilter, VolumeSortKey, VolumeStatus};
use crate::domain::{Error, ErrorCode};
use crate::service::{Ecs, VolumeUpdate};
use error::{Evs, EvsBody, EvsErrorBody as EvsError, EvsResult};
use wire::*;

pub fn operations() -> Vec<Row> {
    vec![
        Row::new(routes!(create_volume)).fault(Fault::CreateVolume),
        Row::new(routes!(list_volumes)),
        Row::new(routes!(show_volume)),
        Row::new(routes!(update_volume)).fault(Fault::UpdateVolume),
        Row::new(routes!(resize_volume)).fault(Fault::ResizeVolume),
        Row::new(routes!(delete_volume)).fault(Fault::DeleteVolume),
    ]
}

/// The disk of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct VolumePath {
    /// The disk id (a UUID).
    pub volume_id: String,
}

fn detail(ecs: &Ecs, volume: &CloudVolume, base: &str) -> VolumeDetail {
    let image = volume.image_id.as_deref().and_then(|id| ecs.catalogue().image(id));
    VolumeDetail::of(volume, base, image.map(|i| i.name.as_str()))
}

/// `POST /v2.1/{pid}/cloudvolumes`.
#[utoipa::path(
    post,
    path = "/v2.1/{project_id}/cloudvolumes",
    operation_id = "CreateVolume",
    tag = "EVS",
    params(ProjectPath),
    request_body = CreateVolumeRequest,
    responses(
        (status = 200, description = "The job making the disks (`creating` until it ends), and their ids.",
         body = CreateVolumeResponse),
        (status = 400, description = "A malformed body (`EVS.5400`), a bad name (`EVS.1003`), description \
(`EVS.1004`), size (`EVS.1010`), disk type (`EVS.1020`), count (`EVS.1021`) or zone (`EVS.1036`).", body = EvsError),
    )
)]
pub async fn create_volume(
    State(ecs): State<Arc<Ecs>>,
    Evs(Project(project_id)): Evs<Project>,
    EvsBody(EcsJson(request)): EvsBody<EcsJson<CreateVolumeRequest>>,
) -> EvsResult<Json<CreateVolumeResponse>> {
    if request.server_id.is_some() {
        return Err(
            Error::new(ErrorCode::EvsMalformed, "server_id is not served: create the disk, then attach it.").into()
        );
    }
    let option = request.volume;
    let new = NewVolumes {
        name: option.name,
        description: option.description,
        size_gib: option.size,
        volume_type: option.volume_type,
        availability_zone: option.availability_zone,
        multiattach: option.multiattach,
        count: option.count.unwrap_or(1),
        metadata: option.metadata,
    };
    let accepted = blocking(&ecs, move |ecs| ecs.create_volumes(&project_id, &new)).await?;
    Ok(Json(CreateVolumeResponse { job_id: accepted.job_id, volume_ids: accepted.volume_ids }))
}

/// The list's query in domain terms, refusing what EVS refuses.
fn filter_of(query: ListVolumesQuery) -> Result<VolumeFilter, Error> {
    let mut filter = VolumeFilter {
        name: query.name,
        availability_zone: query.availability_zone,
        multiattach: query.multiattach,
        server_id: query.server_id,
        marker: query.marker,
        offset: query.offset.unwrap_or(0),
        ..VolumeFilter::default()
    };
    if let Some(status) = query.status {
        filter.status =
            Some(VolumeStatus::parse(&status).ok_or_else(|| {
                Error::new(ErrorCode::EvsMalformed, format!("Must specify a valid status: {status}."))
            })?);
    }
    if let Some(key) = query.sort_key {
        filter.sort_key = VolumeSortKey::parse(&key).ok_or_else(|| {
            Error::new(
                ErrorCode::EvsInvalidSortKey,
                format!("invalid sort_key! {key} is none of id, name, status, size, created_at."),
            )
        })?;
    }
    if let Some(dir) = query.sort_dir {
        filter.descending = match dir.as_str() {
            "desc" => true,
            "asc" => false,
            _ => {
                return Err(Error::new(
                    ErrorCode::EvsInvalidSortDir,
                    format!("invalid sort_dir! {dir} is neither desc nor asc."),
                ));
            }
        };
    }
    if let Some(limit) = query.limit {
        if !(1..=volumes::MAX_LIST_LIMIT).contains(&limit) {
            return Err(Error::new(ErrorCode::EvsInvalidLimit, "invalid filter limit! limit must be 1 to 1000."));
        }
        filter.limit = limit;
    }
    let mut ids: Vec<String> = query.id.into_iter().collect();
    if let Some(listed) = query.ids {
        let parsed: Vec<String> = if listed.trim_start().starts_with('[') {
            serde_json::from_str(&listed)
                .map_err(|e| Error::new(ErrorCode::EvsMalformed, format!("ids is not a JSON list of ids: {e}.")))?
        } else {
            listed.split(',').map(|id| id.trim().to_string()).filter(|id| !id.is_empty()).collect()
        };
        ids.extend(parsed);
    }
    if !ids.is_empty() {
        filter.ids = Some(ids);
    }
    if let Some(metadata) = query.metadata {
        filter.metadata = serde_json::from_str::<BTreeMap<String, String>>(&metadata).map_err(|e| {
            Error::new(ErrorCode::EvsMalformed, format!("invalid metadata filter! A JSON object of strings: {e}."))
        })?;
    }
    Ok(filter)
}

/// `GET /v2/{pid}/cloudvolumes/detail`.
#[utoipa::path(
    get,
    path = "/v2/{project_id}/cloudvolumes/detail",
    operation_id = "ListVolumes",
    tag = "EVS",
    params(ProjectPath, ListVolumesQuery),
    responses(
        (status = 200, description = "The matching disks' count and one page of them, newest first unless sorted \
otherwise; `volumes_links` has a `next` link while more follow.", body = ListVolumesResponse),
        (status = 400, description = "A bad filter: status or query (`EVS.5400`), limit (`EVS.1023`), marker \
(`EVS.1024`), sort key (`EVS.1039`) or direction (`EVS.1040`).", body = EvsError),
    )
)]
pub async fn list_volumes(
    State(ecs): State<Arc<Ecs>>,
    Evs(Project(project_id)): Evs<Project>,
    BaseUrl(base): BaseUrl,
    Evs(EcsQuery(query)): Evs<EcsQuery<ListVolumesQuery>>,
) -> EvsResult<Json<ListVolumesResponse>> {
    let filter = filter_of(query)?;
    let limit = filter.limit;
    let (count, found) = {
        let filter = filter.clone();
        let project_id = project_id.clone();
        blocking(&ecs, move |ecs| ecs.list_volumes(&project_id, &filter)).await?
    };
    let volumes_links = match found.last() {
        Some(last) if found.len() as u64 == limit && filter.offset + limit < count => vec![Link {
            href: format!("{base}/v2/{project_id}/cloudvolumes/detail?limit={limit}&marker={}", last.id),
            rel: "next",
        }],
        _ => vec![],
    };
    let volumes = found.iter().map(|v| detail(&ecs, v, &base)).collect();
    Ok(Json(ListVolumesResponse { count, volumes, volumes_links }))
}

/// `GET /v2/{pid}/cloudvolumes/{volume_id}`.
#[utoipa::path(
    get,
    path = "/v2/{project_id}/cloudvolumes/{volume_id}",
    operation_id = "ShowVolume",
    tag = "EVS",
    params(ProjectPath, VolumePath),
    responses(
        (status = 200, description = "The disk.", body = ShowVolumeResponse),
        (status = 404, description = "No such disk in the project (`EVS.5404`).", body = EvsError),
    )
)]
pub async fn show_volume(
    State(ecs): State<Arc<Ecs>>,
    Evs(Project(project_id)): Evs<Project>,
    BaseUrl(base): BaseUrl,
    Evs(EcsPath(VolumePath { volume_id })): Evs<EcsPath<VolumePath>>,
) -> EvsResult<Json<ShowVolumeResponse>> {
    let volume = point_read(&ecs, |ecs| ecs.show_volume(&project_id, &volume_id))?;
    Ok(Json(ShowVolumeResponse { volume: detail(&ecs, &volume, &base) }))
}

/// `PUT /v2/{pid}/cloudvolumes/{volume_id}`.
#[utoipa::path(
    put,
    path = "/v2/{project_id}/cloudvolumes/{volume_id}",
    operation_id = "UpdateVolume",
    tag = "EVS",
    params(ProjectPath, VolumePath),
    request_body = UpdateVolumeRequest,
    responses(
        (status = 200, description = "The disk, renamed (flat, as EVS answers this call).", body = UpdateVolumeResponse),
        (status = 400, description = "Neither name nor description (`EVS.1007`), a bad name (`EVS.1003`) or \
description (`EVS.1004`), a malformed body (`EVS.5400`).", body = EvsError),
        (status = 404, description = "No such disk in the project (`EVS.5404`).", body = EvsError),
    )
)]
pub async fn update_volume(
    State(ecs): State<Arc<Ecs>>,
    Evs(Project(project_id)): Evs<Project>,
    BaseUrl(base): BaseUrl,
    Evs(EcsPath(VolumePath { volume_id })): Evs<EcsPath<VolumePath>>,
    EvsBody(EcsJson(request)): EvsBody<EcsJson<UpdateVolumeRequest>>,
) -> EvsResult<Json<UpdateVolumeResponse>> {
    let update = VolumeUpdate { name: request.volume.name, description: request.volume.description };
    let volume = blocking(&ecs, move |ecs| ecs.update_volume(&project_id, &volume_id, &update)).await?;
    Ok(Json(detail(&ecs, &volume, &base).into()))
}

/// `POST /v2.1/{pid}/cloudvolumes/{volume_id}/action` (`os-extend`).
#[utoipa::path(
    post,
    path = "/v2.1/{project_id}/cloudvolumes/{volume_id}/action",
    operation_id = "ResizeVolume",
    tag = "EVS",
    params(ProjectPath, VolumePath),
    request_body = ResizeVolumeRequest,
    responses(
        (status = 200, description = "The job extending the disk (`extending` until it ends).", body = VolumeJobAccepted),
        (status = 400, description = "A size not over the current one (`EVS.1015`) or over the most (`EVS.1010`), \
a disk neither available nor in-use (`EVS.1064`), a shared disk in use (`EVS.1065`), a malformed body \
(`EVS.5400`).", body = EvsError),
        (status = 404, description = "No such disk in the project (`EVS.5404`).", body = EvsError),
    )
)]
pub async fn resize_volume(
    State(ecs): State<Arc<Ecs>>,
    Evs(Project(project_id)): Evs<Project>,
    Evs(EcsPath(VolumePath { volume_id })): Evs<EcsPath<VolumePath>>,
    EvsBody(EcsJson(request)): EvsBody<EcsJson<ResizeVolumeRequest>>,
) -> EvsResult<Json<VolumeJobAccepted>> {
    let new_size = request.os_extend.new_size;
    let job_id = blocking(&ecs, move |ecs| ecs.resize_volume(&project_id, &volume_id, new_size)).await?;
    Ok(Json(VolumeJobAccepted { job_id }))
}

/// `DELETE /v2/{pid}/cloudvolumes/{volume_id}`.
#[utoipa::path(
    delete,
    path = "/v2/{project_id}/cloudvolumes/{volume_id}",
    operation_id = "DeleteVolume",
    tag = "EVS",
    params(ProjectPath, VolumePath),
    responses(
        (status = 200, description = "The job deleting the disk (`deleting` until it is gone).", body = VolumeJobAccepted),
        (status = 400, description = "A disk that is neither available nor error (`EVS.1046`).", body = EvsError),
        (status = 404, description = "No such disk in the project (`EVS.5404`).", body = EvsError),
    )
)]
pub async fn delete_volume(
    State(ecs): State<Arc<Ecs>>,
    Evs(Project(project_id)): Evs<Project>,
    Evs(EcsPath(VolumePath { volume_id })): Evs<EcsPath<VolumePath>>,
) -> EvsResult<Json<VolumeJobAccepted>> {
    let job_id = blocking(&ecs, move |ecs| ecs.delete_volume(&project_id, &volume_id)).await?;
    Ok(Json(VolumeJobAccepted { job_id }))
}
