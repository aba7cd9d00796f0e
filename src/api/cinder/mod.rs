//! The Block Storage service (Cinder v3) over EVS's disks: a volume made here is an EVS disk and
//! every EVS disk is a volume here. Keystone owns `/v3`, so Cinder lives under `/volume`
//! (`/volume/v3/{project_id}/...`), as a devstack cloud catalogues it; the token's catalog gives
//! that URL as `volumev3` and `block-storage`. Its errors are Cinder's
//! (`{"itemNotFound": {"code": 404, "message": ...}}`).

pub mod error;
pub mod wire;

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::routes;

use super::extract::{BaseUrl, EcsPath, Project, ProjectPath};
use super::operation::Row;
use crate::domain::faults::FaultOperation as Fault;
use crate::domain::volumes::{
    CloudVolume, DEFAULT_VOLUME_TYPE, NewVolumes, VOLUME_TYPES, VolumeFilter, VolumeSortKey, VolumeStatus,
    volume_type_named,
};
use crate::service::{Ecs, VolumeUpdate};
pub use error::render;
use error::{Cinder, CinderError, CinderFault, CinderJson, CinderQuery, CinderResult};
use wire::*;

pub fn operations() -> Vec<Row> {
    vec![
        Row::new(routes!(cinder_list_versions)),
        Row::new(routes!(cinder_show_version)),
        Row::new(routes!(cinder_show_version_slash)),
        Row::new(routes!(cinder_list_volumes)).cinder(),
        Row::new(routes!(cinder_list_volumes_detail)).cinder(),
        Row::new(routes!(cinder_create_volume)).cinder().fault(Fault::CreateVolume),
        Row::new(routes!(cinder_show_volume)).cinder(),
        Row::new(routes!(cinder_update_volume)).cinder().fault(Fault::UpdateVolume),
        Row::new(routes!(cinder_delete_volume)).cinder().fault(Fault::DeleteVolume),
        Row::new(routes!(cinder_list_volume_types)).cinder(),
    ]
}

/// The volume of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CinderVolumePath {
    /// The volume (EVS disk) id.
    pub volume_id: String,
}

async fn blocking<R: Send + 'static>(
    ecs: &Arc<Ecs>,
    call: impl FnOnce(&Ecs) -> crate::domain::Result<R> + Send + 'static,
) -> CinderResult<R> {
    super::blocking(ecs, call).await.map_err(CinderError::from)
}

/// `GET /volume/`: the block-storage API versions (public), where clients discover them.
#[utoipa::path(
    get,
    path = "/volume/",
    operation_id = "CinderListVersions",
    tag = "Cinder",
    security(()),
    responses((status = 200, description = "The API versions: v3.0.", body = CinderVersions))
)]
pub async fn cinder_list_versions(BaseUrl(base): BaseUrl) -> Json<CinderVersions> {
    Json(CinderVersions::of(&base))
}

/// `GET /volume/v3`: the v3 version (public).
#[utoipa::path(
    get,
    path = "/volume/v3",
    operation_id = "CinderShowVersion",
    tag = "Cinder",
    security(()),
    responses((status = 200, description = "The v3 API version.", body = CinderVersions))
)]
pub async fn cinder_show_version(BaseUrl(base): BaseUrl) -> Json<CinderVersions> {
    Json(CinderVersions::of(&base))
}

/// `GET /volume/v3/`: the same document.
#[utoipa::path(
    get,
    path = "/volume/v3/",
    operation_id = "CinderShowVersionSlash",
    tag = "Cinder",
    security(()),
    responses((status = 200, description = "The v3 API version.", body = CinderVersions))
)]
pub async fn cinder_show_version_slash(BaseUrl(base): BaseUrl) -> Json<CinderVersions> {
    Json(CinderVersions::of(&base))
}

/// The list's query in domain terms. A status no volume can have matches none, as Cinder's
/// filter does (`None`).
fn filter_of(query: CinderListQuery) -> CinderResult<Option<VolumeFilter>> {
    let mut filter = VolumeFilter {
        name: query.name,
        marker: query.marker,
        offset: query.offset.unwrap_or(0),
        ..VolumeFilter::default()
    };
    if let Some(status) = query.status {
        match VolumeStatus::parse(&status) {
            Some(status) => filter.status = Some(status),
            None => return Ok(None),
        }
    }
    if let Some(key) = query.sort_key {
        filter.sort_key = VolumeSortKey::parse(&key).ok_or_else(|| {
            CinderError::bad_request(format!(
                "Invalid input received: sort_key {key} is none of created_at, id, name, \
size, status."
            ))
        })?;
    }
    if let Some(dir) = query.sort_dir {
        filter.descending = match dir.as_str() {
            "desc" => true,
            "asc" => false,
            _ => {
                return Err(CinderError::bad_request(format!(
                    "Invalid input received: sort_dir {dir} is neither desc \
nor asc."
                )));
            }
        };
    }
    if let Some(limit) = query.limit {
        if !(1..=crate::domain::volumes::MAX_LIST_LIMIT).contains(&limit) {
            return Err(CinderError::bad_request("Invalid input received: limit must be 1 to 1000."));
        }
        filter.limit = limit;
    }
    Ok(Some(filter))
}

/// One page of the project's volumes and the link to the next, if more follow.
async fn page(
    ecs: &Arc<Ecs>,
    project_id: String,
    base: &str,
    detail: &str,
    query: CinderListQuery,
) -> CinderResult<(Vec<CloudVolume>, Vec<Link>)> {
    let Some(filter) = filter_of(query)? else { return Ok((vec![], vec![])) };
    let limit = filter.limit;
    // One more than the page: a `next` link only when there is more (the count ignores a marker).
    let (_, mut found) = {
        let (mut filter, project_id) = (filter.clone(), project_id.clone());
        filter.limit = limit.saturating_add(1);
        blocking(ecs, move |ecs| ecs.list_volumes(&project_id, &filter)).await?
    };
    let more = found.len() as u64 > limit;
    found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let links = match found.last() {
        Some(last) if more => vec![Link {
            href: format!("{base}/volume/v3/{project_id}/volumes{detail}?limit={limit}&marker={}", last.id),
            rel: "next",
        }],
        _ => vec![],
    };
    Ok((found, links))
}

/// `GET /volume/v3/{pid}/volumes`.
#[utoipa::path(
    get,
    path = "/volume/v3/{project_id}/volumes",
    operation_id = "CinderListVolumes",
    tag = "Cinder",
    params(ProjectPath, CinderListQuery),
    responses(
        (status = 200, description = "One page of the project's matching volumes (id, name, links), newest first.",
         body = CinderVolumeSummaries),
        (status = 400, description = "A bad limit, marker, sort key or direction (`badRequest`).", body = CinderFault),
    )
)]
pub async fn cinder_list_volumes(
    State(ecs): State<Arc<Ecs>>,
    Cinder(Project(project_id)): Cinder<Project>,
    BaseUrl(base): BaseUrl,
    CinderQuery(query): CinderQuery<CinderListQuery>,
) -> CinderResult<Json<CinderVolumeSummaries>> {
    let (found, volumes_links) = page(&ecs, project_id, &base, "", query).await?;
    let volumes = found.iter().map(|v| VolumeSummary::of(v, &base)).collect();
    Ok(Json(CinderVolumeSummaries { volumes, volumes_links }))
}

/// `GET /volume/v3/{pid}/volumes/detail`.
#[utoipa::path(
    get,
    path = "/volume/v3/{project_id}/volumes/detail",
    operation_id = "CinderListVolumesDetail",
    tag = "Cinder",
    params(ProjectPath, CinderListQuery),
    responses(
        (status = 200, description = "One page of the project's matching volumes, newest first.", body = CinderVolumes),
        (status = 400, description = "A bad limit, marker, sort key or direction (`badRequest`).", body = CinderFault),
    )
)]
pub async fn cinder_list_volumes_detail(
    State(ecs): State<Arc<Ecs>>,
    Cinder(Project(project_id)): Cinder<Project>,
    BaseUrl(base): BaseUrl,
    CinderQuery(query): CinderQuery<CinderListQuery>,
) -> CinderResult<Json<CinderVolumes>> {
    let (found, volumes_links) = page(&ecs, project_id, &base, "/detail", query).await?;
    let volumes = found.iter().map(|v| Volume::of(v, &base)).collect();
    Ok(Json(CinderVolumes { volumes, volumes_links }))
}

/// `POST /volume/v3/{pid}/volumes`.
#[utoipa::path(
    post,
    path = "/volume/v3/{project_id}/volumes",
    operation_id = "CinderCreateVolume",
    tag = "Cinder",
    params(ProjectPath),
    request_body = CinderCreateVolumeRequest,
    responses(
        (status = 202, description = "The new volume, `creating` until its EVS create job ends.",
         body = CinderVolumeResponse),
        (status = 400, description = "A malformed body, a bad size, name, description or zone, a source \
(snapshot, volume, image, backup), which is not served (`badRequest`).", body = CinderFault),
        (status = 404, description = "An unknown volume type (`itemNotFound`).", body = CinderFault),
    )
)]
pub async fn cinder_create_volume(
    State(ecs): State<Arc<Ecs>>,
    Cinder(Project(project_id)): Cinder<Project>,
    BaseUrl(base): BaseUrl,
    CinderJson(request): CinderJson<CinderCreateVolumeRequest>,
) -> CinderResult<(StatusCode, Json<CinderVolumeResponse>)> {
    let option = request.volume;
    for (field, given) in [
        ("snapshot_id", &option.snapshot_id),
        ("source_volid", &option.source_volid),
        ("imageRef", &option.image_ref),
        ("backup_id", &option.backup_id),
    ] {
        if given.is_some() {
            return Err(CinderError::bad_request(format!(
                "Invalid input received: {field} is not served: create an empty volume."
            )));
        }
    }
    let volume_type = match option.volume_type.as_deref() {
        None => DEFAULT_VOLUME_TYPE,
        Some(asked) => volume_type_named(asked).ok_or_else(|| CinderError {
            status: StatusCode::NOT_FOUND,
            message: format!("Volume type {asked} could not be found."),
        })?,
    };
    let availability_zone = match option.availability_zone {
        Some(zone) => zone,
        None => ecs.catalogue().availability_zones.first().cloned().unwrap_or_default(),
    };
    let new = NewVolumes {
        name: option.name.unwrap_or_default(),
        description: option.description.unwrap_or_default(),
        size_gib: option.size,
        volume_type: volume_type.to_string(),
        availability_zone,
        multiattach: option.multiattach.unwrap_or(false),
        count: 1,
        metadata: option.metadata.unwrap_or_default(),
    };
    let volume = blocking(&ecs, move |ecs| {
        let accepted = ecs.create_volumes(&project_id, &new)?;
        let id = accepted
            .volume_ids
            .first()
            .cloned()
            .ok_or_else(|| crate::domain::Error::internal("a volume create accepted no volume"))?;
        ecs.show_volume(&project_id, &id)
    })
    .await?;
    Ok((StatusCode::ACCEPTED, Json(CinderVolumeResponse { volume: Volume::of(&volume, &base) })))
}

/// `GET /volume/v3/{pid}/volumes/{volume_id}`.
#[utoipa::path(
    get,
    path = "/volume/v3/{project_id}/volumes/{volume_id}",
    operation_id = "CinderShowVolume",
    tag = "Cinder",
    params(ProjectPath, CinderVolumePath),
    responses(
        (status = 200, description = "The volume.", body = CinderVolumeResponse),
        (status = 404, description = "No such volume in the project (`itemNotFound`).", body = CinderFault),
    )
)]
pub async fn cinder_show_volume(
    State(ecs): State<Arc<Ecs>>,
    Cinder(Project(project_id)): Cinder<Project>,
    BaseUrl(base): BaseUrl,
    Cinder(EcsPath(CinderVolumePath { volume_id })): Cinder<EcsPath<CinderVolumePath>>,
) -> CinderResult<Json<CinderVolumeResponse>> {
    let volume = super::point_read(&ecs, |ecs| ecs.show_volume(&project_id, &volume_id)).map_err(CinderError::from)?;
    Ok(Json(CinderVolumeResponse { volume: Volume::of(&volume, &base) }))
}

/// `PUT /volume/v3/{pid}/volumes/{volume_id}`.
#[utoipa::path(
    put,
    path = "/volume/v3/{project_id}/volumes/{volume_id}",
    operation_id = "CinderUpdateVolume",
    tag = "Cinder",
    params(ProjectPath, CinderVolumePath),
    request_body = CinderUpdateVolumeRequest,
    responses(
        (status = 200, description = "The volume, renamed.", body = CinderVolumeResponse),
        (status = 400, description = "Neither name nor description, a bad name or description, a malformed body \
(`badRequest`).", body = CinderFault),
        (status = 404, description = "No such volume in the project (`itemNotFound`).", body = CinderFault),
    )
)]
pub async fn cinder_update_volume(
    State(ecs): State<Arc<Ecs>>,
    Cinder(Project(project_id)): Cinder<Project>,
    BaseUrl(base): BaseUrl,
    Cinder(EcsPath(CinderVolumePath { volume_id })): Cinder<EcsPath<CinderVolumePath>>,
    CinderJson(request): CinderJson<CinderUpdateVolumeRequest>,
) -> CinderResult<Json<CinderVolumeResponse>> {
    let update = VolumeUpdate { name: request.volume.name, description: request.volume.description };
    let volume = blocking(&ecs, move |ecs| ecs.update_volume(&project_id, &volume_id, &update)).await?;
    Ok(Json(CinderVolumeResponse { volume: Volume::of(&volume, &base) }))
}

/// `DELETE /volume/v3/{pid}/volumes/{volume_id}`.
#[utoipa::path(
    delete,
    path = "/volume/v3/{project_id}/volumes/{volume_id}",
    operation_id = "CinderDeleteVolume",
    tag = "Cinder",
    params(ProjectPath, CinderVolumePath),
    responses(
        (status = 202, description = "The volume is `deleting` until its EVS delete job ends."),
        (status = 400, description = "A volume that is neither available nor error (`badRequest`).", body = CinderFault),
        (status = 404, description = "No such volume in the project (`itemNotFound`).", body = CinderFault),
    )
)]
pub async fn cinder_delete_volume(
    State(ecs): State<Arc<Ecs>>,
    Cinder(Project(project_id)): Cinder<Project>,
    Cinder(EcsPath(CinderVolumePath { volume_id })): Cinder<EcsPath<CinderVolumePath>>,
) -> CinderResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_volume(&project_id, &volume_id)).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `GET /volume/v3/{pid}/types`.
#[utoipa::path(
    get,
    path = "/volume/v3/{project_id}/types",
    operation_id = "CinderListVolumeTypes",
    tag = "Cinder",
    params(ProjectPath),
    responses(
        (status = 200, description = "The disk types EVS sells.", body = CinderVolumeTypes),
        (status = 403, description = "Another project's URL (`forbidden`).", body = CinderFault),
    )
)]
pub async fn cinder_list_volume_types(
    State(ecs): State<Arc<Ecs>>,
    Cinder(Project(_)): Cinder<Project>,
) -> Json<CinderVolumeTypes> {
    let zones = &ecs.catalogue().availability_zones;
    Json(CinderVolumeTypes { volume_types: VOLUME_TYPES.into_iter().map(|name| VolumeType::of(name, zones)).collect() })
}
