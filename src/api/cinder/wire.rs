//! Cinder v3's documents: versions, volumes (EVS disks), their create and update bodies, and the
//! volume types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::format::launch_time;
use crate::domain::volumes::{Attachment, CloudVolume, VolumeStatus, volume_type_id};

/// The microversions ecsd speaks: 3.0 only, so clients send the bodies of the base version.
pub const VERSION: &str = "3.0";

/// `GET /volume/`, `GET /volume/v3`: the block-storage API versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct CinderVersions {
    pub versions: Vec<CinderVersion>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CinderVersion {
    /// `v3.0`.
    pub id: &'static str,
    /// `CURRENT`.
    pub status: &'static str,
    pub version: &'static str,
    pub min_version: &'static str,
    pub updated: &'static str,
    pub links: Vec<Link>,
    #[serde(rename = "media-types")]
    pub media_types: Vec<MediaType>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CinderMediaType)]
pub struct MediaType {
    pub base: &'static str,
    #[serde(rename = "type")]
    pub media_type: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CinderLink)]
pub struct Link {
    pub href: String,
    pub rel: &'static str,
}

impl CinderVersions {
    pub fn of(base_url: &str) -> Self {
        CinderVersions {
            versions: vec![CinderVersion {
                id: "v3.0",
                status: "CURRENT",
                version: VERSION,
                min_version: VERSION,
                updated: "2024-01-01T00:00:00Z",
                links: vec![Link { href: format!("{base_url}/volume/v3/"), rel: "self" }],
                media_types: vec![MediaType {
                    base: "application/json",
                    media_type: "application/vnd.openstack.volume+json;version=3",
                }],
            }],
        }
    }
}

/// A volume's attachment to a server.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CinderAttachment)]
pub struct VolumeAttachment {
    pub id: String,
    pub attachment_id: String,
    pub volume_id: String,
    pub server_id: String,
    pub host_name: String,
    pub device: String,
    pub attached_at: String,
}

impl VolumeAttachment {
    fn of(attachment: &Attachment, volume_id: &str) -> Self {
        VolumeAttachment {
            id: volume_id.to_string(),
            attachment_id: attachment.attachment_id.clone(),
            volume_id: volume_id.to_string(),
            server_id: attachment.server_id.clone(),
            host_name: attachment.host_name.clone(),
            device: attachment.device.clone(),
            attached_at: launch_time(attachment.attached_at),
        }
    }
}

fn links(volume: &CloudVolume, base_url: &str) -> Vec<Link> {
    vec![
        Link { href: format!("{base_url}/volume/v3/{}/volumes/{}", volume.project_id, volume.id), rel: "self" },
        Link { href: format!("{base_url}/volume/{}/volumes/{}", volume.project_id, volume.id), rel: "bookmark" },
    ]
}

/// A volume as `CinderShowVolume` and the detailed list give it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CinderVolume)]
pub struct Volume {
    pub id: String,
    pub name: String,
    pub description: String,
    pub status: VolumeStatus,
    /// GiB.
    pub size: u32,
    pub volume_type: String,
    pub availability_zone: String,
    /// `"true"` for a system disk made from an image, else `"false"`.
    pub bootable: &'static str,
    pub encrypted: bool,
    pub multiattach: bool,
    pub attachments: Vec<VolumeAttachment>,
    pub metadata: BTreeMap<String, String>,
    /// A system disk's image (`image_id`); absent for other disks.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub volume_image_metadata: BTreeMap<String, String>,
    pub links: Vec<Link>,
    pub user_id: String,
    #[serde(rename = "os-vol-tenant-attr:tenant_id")]
    pub tenant_id: String,
    pub snapshot_id: Option<String>,
    pub source_volid: Option<String>,
    pub consistencygroup_id: Option<String>,
    pub migration_status: Option<String>,
    pub replication_status: &'static str,
    pub created_at: String,
    pub updated_at: String,
}

impl Volume {
    pub fn of(volume: &CloudVolume, base_url: &str) -> Self {
        let mut volume_image_metadata = BTreeMap::new();
        if let Some(image_id) = &volume.image_id {
            volume_image_metadata.insert("image_id".to_string(), image_id.clone());
        }
        Volume {
            id: volume.id.clone(),
            name: volume.name.clone(),
            description: volume.description.clone(),
            status: volume.status,
            size: volume.size_gib,
            volume_type: volume.volume_type.clone(),
            availability_zone: volume.availability_zone.clone(),
            bootable: if volume.bootable { "true" } else { "false" },
            encrypted: false,
            multiattach: volume.multiattach,
            attachments: volume.attachments.iter().map(|a| VolumeAttachment::of(a, &volume.id)).collect(),
            metadata: volume.metadata.clone(),
            volume_image_metadata,
            links: links(volume, base_url),
            user_id: volume.project_id.clone(),
            tenant_id: volume.project_id.clone(),
            snapshot_id: None,
            source_volid: None,
            consistencygroup_id: None,
            migration_status: None,
            replication_status: "disabled",
            created_at: launch_time(volume.created),
            updated_at: launch_time(volume.updated),
        }
    }
}

/// A volume as the plain list gives it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CinderVolumeSummary)]
pub struct VolumeSummary {
    pub id: String,
    pub name: String,
    pub links: Vec<Link>,
}

impl VolumeSummary {
    pub fn of(volume: &CloudVolume, base_url: &str) -> Self {
        VolumeSummary { id: volume.id.clone(), name: volume.name.clone(), links: links(volume, base_url) }
    }
}

/// `GET /volume/v3/{project_id}/volumes`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CinderVolumeSummaries {
    pub volumes: Vec<VolumeSummary>,
    /// A `next` link while more follow.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes_links: Vec<Link>,
}

/// `GET /volume/v3/{project_id}/volumes/detail`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CinderVolumes {
    pub volumes: Vec<Volume>,
    /// A `next` link while more follow.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes_links: Vec<Link>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CinderVolumeResponse {
    pub volume: Volume,
}

/// The list queries: Cinder's filters and page; others (`all_tenants`, `project_id`...) are
/// taken as given.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CinderListQuery {
    /// The volume's name, exactly.
    pub name: Option<String>,
    /// A status; one no volume can have matches none.
    pub status: Option<String>,
    /// At most this many, 1 to 1000 (the default).
    pub limit: Option<u64>,
    /// Volumes after this one.
    pub marker: Option<String>,
    pub offset: Option<u64>,
    /// `created_at` (the default), `id`, `name`, `size` or `status`.
    pub sort_key: Option<String>,
    /// `desc` (the default) or `asc`.
    pub sort_dir: Option<String>,
}

/// `POST /volume/v3/{project_id}/volumes`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CinderCreateVolumeRequest {
    pub volume: CinderCreateVolumeOption,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CinderCreateVolumeOption {
    /// GiB, 10 to 32768.
    pub size: Option<u32>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// A type's name or id (`GET .../types`); `SATA` when absent.
    pub volume_type: Option<String>,
    /// The catalogue's first zone when absent.
    pub availability_zone: Option<String>,
    /// A shared disk, attachable to several servers.
    pub multiattach: Option<bool>,
    pub metadata: Option<BTreeMap<String, String>>,
    /// Not served: a volume from a snapshot.
    pub snapshot_id: Option<String>,
    /// Not served: a copy of a volume.
    pub source_volid: Option<String>,
    /// Not served: a volume from an image.
    #[serde(rename = "imageRef")]
    pub image_ref: Option<String>,
    /// Not served: a volume from a backup.
    pub backup_id: Option<String>,
}

/// `PUT /volume/v3/{project_id}/volumes/{volume_id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CinderUpdateVolumeRequest {
    pub volume: CinderUpdateVolumeOption,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CinderUpdateVolumeOption {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// `GET /volume/v3/{project_id}/types`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CinderVolumeTypes {
    pub volume_types: Vec<VolumeType>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CinderVolumeType)]
pub struct VolumeType {
    /// A UUID derived from the name, the same on every start.
    pub id: String,
    /// `SSD`, `SAS`, `SATA`, ...
    pub name: &'static str,
    pub description: Option<String>,
    pub is_public: bool,
    #[serde(rename = "os-volume-type-access:is_public")]
    pub access_is_public: bool,
    pub qos_specs_id: Option<String>,
    pub extra_specs: BTreeMap<&'static str, String>,
}

impl VolumeType {
    pub fn of(name: &'static str, zones: &[String]) -> Self {
        VolumeType {
            id: volume_type_id(name),
            name,
            description: None,
            is_public: true,
            access_is_public: true,
            qos_specs_id: None,
            extra_specs: [("volume_backend_name", name.to_string()), ("RESKEY:availability_zones", zones.join(","))]
                .into_iter()
                .collect(),
        }
    }
}
