//! The EVS documents: disks, their create, update and extend bodies, and EVS's job.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::format::{job_time, launch_time};
use crate::domain::job::{Failure, Job, JobStatus, SubJob};
use crate::domain::status::Operation;
use crate::domain::volumes::{Attachment, CloudVolume, VolumeStatus};

/// `POST /v2.1/{project_id}/cloudvolumes`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateVolumeRequest {
    pub volume: CreateVolumeOption,
    /// Creating a disk attached to a server is not served (`EVS.5400`): attach it afterwards.
    pub server_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateVolumeOption {
    #[schema(example = "eu-de-01")]
    pub availability_zone: String,
    /// `SSD`, `SAS`, `SATA`, `GPSSD`, `ESSD` or `GPSSD2` (`EVS.1020` otherwise).
    #[schema(example = "SSD")]
    pub volume_type: String,
    /// GiB, 10 to 32768 (`EVS.1010`).
    #[schema(minimum = 10, maximum = 32768)]
    pub size: Option<u32>,
    /// 1 to 100 disks (`EVS.1021`); a batch's names get `-0001`, `-0002`, ...
    #[schema(minimum = 1, maximum = 100)]
    pub count: Option<u32>,
    /// At most 64 characters (`EVS.1003`).
    #[serde(default)]
    pub name: String,
    /// At most 85 characters (`EVS.1004`).
    #[serde(default)]
    pub description: String,
    /// A shared disk, attachable to several servers.
    #[serde(default)]
    pub multiattach: bool,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreateVolumeResponse {
    pub job_id: String,
    pub volume_ids: Vec<String>,
}

/// `PUT /v2/{project_id}/cloudvolumes/{volume_id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateVolumeRequest {
    pub volume: UpdateVolumeOption,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateVolumeOption {
    /// At most 64 characters.
    pub name: Option<String>,
    /// At most 85 characters.
    pub description: Option<String>,
}

/// `POST /v2.1/{project_id}/cloudvolumes/{volume_id}/action`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResizeVolumeRequest {
    #[serde(rename = "os-extend")]
    pub os_extend: OsExtend,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OsExtend {
    /// The new size in GiB, over the current one.
    pub new_size: u32,
}

/// A job id, as resize and delete answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct VolumeJobAccepted {
    pub job_id: String,
}

/// `GET /v2/{project_id}/cloudvolumes/detail`'s query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListVolumesQuery {
    /// Disks of this name.
    pub name: Option<String>,
    pub status: Option<String>,
    pub availability_zone: Option<String>,
    pub multiattach: Option<bool>,
    /// Disks attached to this server.
    pub server_id: Option<String>,
    pub id: Option<String>,
    /// A JSON list of ids, or ids separated by commas.
    pub ids: Option<String>,
    /// A JSON object of metadata every disk listed has.
    pub metadata: Option<String>,
    /// `created_at` (default), `id`, `name`, `size` or `status`.
    pub sort_key: Option<String>,
    /// `desc` (default) or `asc`.
    pub sort_dir: Option<String>,
    /// 1 to 1000 (default).
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// The id of the disk the page starts after.
    pub marker: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListVolumesResponse {
    /// How many disks match, whatever the page.
    pub count: u64,
    pub volumes: Vec<VolumeDetail>,
    /// A `next` link while more disks follow.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes_links: Vec<Link>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowVolumeResponse {
    pub volume: VolumeDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Link {
    pub href: String,
    pub rel: &'static str,
}

/// The disk's provisioned performance (its `iops` and `throughput`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Provisioned {
    pub id: String,
    pub frozened: bool,
    pub total_val: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VolumeAttachment {
    pub id: String,
    pub attachment_id: String,
    pub attached_at: String,
    pub device: String,
    pub host_name: String,
    pub server_id: String,
    pub volume_id: String,
}

impl VolumeAttachment {
    fn of(attachment: &Attachment, volume_id: &str) -> Self {
        VolumeAttachment {
            id: volume_id.to_string(),
            attachment_id: attachment.attachment_id.clone(),
            attached_at: launch_time(attachment.attached_at),
            device: attachment.device.clone(),
            host_name: attachment.host_name.clone(),
            server_id: attachment.server_id.clone(),
            volume_id: volume_id.to_string(),
        }
    }
}

/// A disk as `ShowVolume` and `ListVolumes` give it.
#[derive(Debug, Serialize, ToSchema)]
pub struct VolumeDetail {
    pub id: String,
    pub links: Vec<Link>,
    pub name: String,
    pub status: VolumeStatus,
    pub attachments: Vec<VolumeAttachment>,
    pub availability_zone: String,
    #[serde(rename = "os-vol-host-attr:host")]
    pub host: String,
    pub source_volid: Option<String>,
    pub snapshot_id: Option<String>,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "os-vol-tenant-attr:tenant_id")]
    pub tenant_id: String,
    /// A system disk's image (`image_id`, `image_name`); empty for other disks.
    pub volume_image_metadata: BTreeMap<String, String>,
    pub volume_type: String,
    pub size: u32,
    /// `"true"` for a system disk made from an image, else `"false"`.
    pub bootable: &'static str,
    pub metadata: BTreeMap<String, String>,
    pub encrypted: bool,
    pub replication_status: &'static str,
    pub multiattach: bool,
    /// `"true"` for a shared disk, as `multiattach`.
    pub shareable: &'static str,
    pub user_id: String,
    pub service_type: &'static str,
    pub enterprise_project_id: &'static str,
    pub wwn: String,
    pub serial_number: String,
    pub iops: Provisioned,
    pub throughput: Provisioned,
}

fn flag(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

impl VolumeDetail {
    pub fn of(volume: &CloudVolume, base_url: &str, image_name: Option<&str>) -> Self {
        let mut volume_image_metadata = BTreeMap::new();
        if let Some(image_id) = &volume.image_id {
            volume_image_metadata.insert("image_id".to_string(), image_id.clone());
            volume_image_metadata.insert("image_name".to_string(), image_name.unwrap_or(image_id).to_string());
        }
        let serial = volume.id.replace('-', "");
        VolumeDetail {
            id: volume.id.clone(),
            links: vec![Link {
                href: format!("{base_url}/v2/{}/volumes/{}", volume.project_id, volume.id),
                rel: "self",
            }],
            name: volume.name.clone(),
            status: volume.status,
            attachments: volume.attachments.iter().map(|a| VolumeAttachment::of(a, &volume.id)).collect(),
            availability_zone: volume.availability_zone.clone(),
            host: format!("pod01.{}#SATA", volume.availability_zone),
            source_volid: None,
            snapshot_id: None,
            description: volume.description.clone(),
            created_at: launch_time(volume.created),
            updated_at: launch_time(volume.updated),
            tenant_id: volume.project_id.clone(),
            volume_image_metadata,
            volume_type: volume.volume_type.clone(),
            size: volume.size_gib,
            bootable: flag(volume.bootable),
            metadata: volume.metadata.clone(),
            encrypted: false,
            replication_status: "disabled",
            multiattach: volume.multiattach,
            shareable: flag(volume.multiattach),
            user_id: volume.project_id.clone(),
            service_type: "EVS",
            enterprise_project_id: "0",
            wwn: format!("688860300000{}", &serial[..20]),
            serial_number: serial[..20].to_string(),
            iops: Provisioned { id: String::new(), frozened: false, total_val: 3000 },
            throughput: Provisioned { id: String::new(), frozened: false, total_val: 125 },
        }
    }
}

/// `UpdateVolume`'s answer: the disk, flat, with the fields EVS gives in this answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpdateVolumeResponse {
    pub id: String,
    pub links: Vec<Link>,
    pub name: String,
    pub description: String,
    pub status: VolumeStatus,
    pub attachments: Vec<VolumeAttachment>,
    pub availability_zone: String,
    #[serde(rename = "os-vol-host-attr:host")]
    pub host: String,
    #[serde(rename = "os-vol-tenant-attr:tenant_id")]
    pub tenant_id: String,
    pub source_volid: Option<String>,
    pub snapshot_id: Option<String>,
    pub created_at: String,
    pub volume_image_metadata: BTreeMap<String, String>,
    pub volume_type: String,
    pub size: u32,
    pub bootable: &'static str,
    pub metadata: BTreeMap<String, String>,
    pub multiattach: bool,
    pub shareable: &'static str,
}

impl From<VolumeDetail> for UpdateVolumeResponse {
    fn from(detail: VolumeDetail) -> Self {
        UpdateVolumeResponse {
            id: detail.id,
            links: detail.links,
            name: detail.name,
            description: detail.description,
            status: detail.status,
            attachments: detail.attachments,
            availability_zone: detail.availability_zone,
            host: detail.host,
            tenant_id: detail.tenant_id,
            source_volid: detail.source_volid,
            snapshot_id: detail.snapshot_id,
            created_at: detail.created_at,
            volume_image_metadata: detail.volume_image_metadata,
            volume_type: detail.volume_type,
            size: detail.size,
            bootable: detail.bootable,
            metadata: detail.metadata,
            multiattach: detail.multiattach,
            shareable: detail.shareable,
        }
    }
}

/// An EVS job (`GET /v1/{project_id}/jobs/{job_id}` of a job on disks): a job on one disk
/// names it in `entities`; a batch create lists its sub-jobs.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvsJob {
    pub job_id: String,
    pub job_type: &'static str,
    pub status: JobStatus,
    pub begin_time: String,
    pub end_time: String,
    pub error_code: Option<String>,
    pub fail_reason: Option<String>,
    pub entities: EvsJobEntities,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct EvsJobEntities {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_jobs: Option<Vec<EvsSubJob>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvsSubJob {
    pub job_id: String,
    pub job_type: &'static str,
    pub status: JobStatus,
    pub begin_time: String,
    pub end_time: String,
    pub error_code: Option<String>,
    pub fail_reason: Option<String>,
    pub entities: EvsSubJobEntities,
}

/// The disk a sub-job works on.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct EvsSubJobEntities {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

fn entities_of(operation: &Operation) -> EvsJobEntities {
    match operation {
        Operation::CreateVolume { volume_id, name, volume_type, size_gib } => EvsJobEntities {
            volume_id: Some(volume_id.clone()),
            volume_type: Some(volume_type.clone()),
            size: Some(*size_gib),
            name: Some(name.clone()),
            sub_jobs: None,
        },
        Operation::ExtendVolume { volume_id, new_size_gib } => {
            EvsJobEntities { volume_id: Some(volume_id.clone()), size: Some(*new_size_gib), ..Default::default() }
        }
        other => EvsJobEntities { volume_id: other.volume_id().map(String::from), ..Default::default() },
    }
}

fn times(begin: crate::domain::server::Timestamp, end: Option<crate::domain::server::Timestamp>) -> (String, String) {
    (job_time(begin), end.map(job_time).unwrap_or_default())
}

fn codes(failure: Option<&Failure>) -> (Option<String>, Option<String>) {
    (failure.map(|f| f.code.clone()), failure.map(|f| f.reason.clone()))
}

impl EvsSubJob {
    fn of(sub: &SubJob) -> Self {
        let (begin_time, end_time) = times(sub.begin_time, sub.end_time);
        let (error_code, fail_reason) = codes(sub.failure.as_ref());
        EvsSubJob {
            job_id: sub.id.clone(),
            job_type: sub.operation.kind().job_types().1,
            status: sub.status,
            begin_time,
            end_time,
            error_code,
            fail_reason,
            entities: {
                let EvsJobEntities { volume_id, volume_type, size, name, .. } = entities_of(&sub.operation);
                EvsSubJobEntities { volume_id, volume_type, size, name }
            },
        }
    }
}

impl EvsJob {
    pub fn of(job: &Job) -> Self {
        let (job_type, entities) = match job.sub_jobs.as_slice() {
            [only] if job.single_server => (job.kind.job_types().1, entities_of(&only.operation)),
            subs => {
                let entities =
                    EvsJobEntities { sub_jobs: Some(subs.iter().map(EvsSubJob::of).collect()), ..Default::default() };
                (job.kind.job_types().0, entities)
            }
        };
        let (begin_time, end_time) = times(job.begin_time, job.end_time);
        let (error_code, fail_reason) = codes(job.failure.as_ref());
        EvsJob {
            job_id: job.id.clone(),
            job_type,
            status: job.status,
            begin_time,
            end_time,
            error_code,
            fail_reason,
            entities,
        }
    }
}
