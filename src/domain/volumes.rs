//! EVS disks (cloud volumes) and the rules of attaching them to servers: their status machine,
//! what a create asks for, the device names a server gives its disks, and which attach or
//! detach a volume and a server allow. The server keeps its side (`Server::volumes`, the block
//! devices); the volume keeps its own (status, size, `attachments`); both are written in the
//! same transaction.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::catalogue::Catalogue;
use super::errors::{Error, ErrorCode, Result};
use super::server::{Server, Timestamp, Volume as BlockDevice};
use super::status::VmState;

/// The disk types EVS sells (`volume_type`).
pub const VOLUME_TYPES: [&str; 6] = ["SSD", "SAS", "SATA", "GPSSD", "ESSD", "GPSSD2"];
/// The disk type a create through Cinder gets when it names none.
pub const DEFAULT_VOLUME_TYPE: &str = "SATA";

/// The id Cinder gives a disk type: a UUID derived from its name, the same on every start and
/// every replica.
pub fn volume_type_id(name: &str) -> String {
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(format!("volume-type:{name}").as_bytes()));
    format!("{}-{}-{}-{}-{}", &digest[..8], &digest[8..12], &digest[12..16], &digest[16..20], &digest[20..32])
}

/// The disk type a Cinder request names by its name or its id.
pub fn volume_type_named(name_or_id: &str) -> Option<&'static str> {
    VOLUME_TYPES.into_iter().find(|name| *name == name_or_id || volume_type_id(name) == name_or_id)
}

/// Most disks one server holds: its system disk and 59 data disks, as a create allows.
pub const MAX_SERVER_DISKS: usize = 60;
/// Most disks one create request makes (`count`).
pub const MAX_CREATE_COUNT: u32 = 100;
/// Data disk sizes, in GiB.
pub const DATA_DISK_GIB: std::ops::RangeInclusive<u32> = 10..=32768;
/// System disk sizes, in GiB.
pub const SYSTEM_DISK_GIB: std::ops::RangeInclusive<u32> = 1..=1024;
pub const MAX_NAME_CHARS: usize = 64;
pub const MAX_DESCRIPTION_CHARS: usize = 85;

/// A disk's status (`status`), the machine of the EVS docs: `creating → available →
/// attaching → in-use → detaching → available`, `extending`, `deleting`, `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum VolumeStatus {
    Creating,
    Available,
    Attaching,
    InUse,
    Detaching,
    Extending,
    Deleting,
    Error,
}

impl VolumeStatus {
    pub const ALL: [VolumeStatus; 8] = [
        VolumeStatus::Creating,
        VolumeStatus::Available,
        VolumeStatus::Attaching,
        VolumeStatus::InUse,
        VolumeStatus::Detaching,
        VolumeStatus::Extending,
        VolumeStatus::Deleting,
        VolumeStatus::Error,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            VolumeStatus::Creating => "creating",
            VolumeStatus::Available => "available",
            VolumeStatus::Attaching => "attaching",
            VolumeStatus::InUse => "in-use",
            VolumeStatus::Detaching => "detaching",
            VolumeStatus::Extending => "extending",
            VolumeStatus::Deleting => "deleting",
            VolumeStatus::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

/// One server a disk is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub server_id: String,
    pub attachment_id: String,
    pub device: String,
    /// The simulated host of the server.
    pub host_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub attached_at: Timestamp,
}

/// An EVS disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudVolume {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub size_gib: u32,
    pub volume_type: String,
    pub availability_zone: String,
    pub status: VolumeStatus,
    /// A shared disk: attachable to several servers at once.
    pub multiattach: bool,
    /// A system disk made from an image.
    pub bootable: bool,
    /// The image a system disk was made from (`volume_image_metadata`).
    pub image_id: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub attachments: Vec<Attachment>,
    #[serde(with = "time::serde::rfc3339")]
    pub created: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated: Timestamp,
}

impl CloudVolume {
    /// The status once no operation runs: `in-use` while attached anywhere, else `available`.
    pub fn settled_status(&self) -> VolumeStatus {
        if self.attachments.is_empty() { VolumeStatus::Available } else { VolumeStatus::InUse }
    }

    pub fn attachment(&self, server_id: &str) -> Option<&Attachment> {
        self.attachments.iter().find(|a| a.server_id == server_id)
    }
}

/// `CreateVolume` in domain terms.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVolumes {
    pub name: String,
    pub description: String,
    pub size_gib: Option<u32>,
    pub volume_type: String,
    pub availability_zone: String,
    pub multiattach: bool,
    pub count: u32,
    pub metadata: BTreeMap<String, String>,
}

impl NewVolumes {
    /// Every check of the request, with EVS's codes.
    pub fn validate(&self, catalogue: &Catalogue) -> Result<u32> {
        check_name(&self.name)?;
        check_description(&self.description)?;
        if !VOLUME_TYPES.contains(&self.volume_type.as_str()) {
            return Err(Error::new(
                ErrorCode::EvsInvalidVolumeType,
                format!("invalid volume type! {} is none of {}.", self.volume_type, VOLUME_TYPES.join(", ")),
            ));
        }
        if !catalogue.availability_zones.contains(&self.availability_zone) {
            return Err(Error::new(
                ErrorCode::EvsInvalidZone,
                format!("invalid availability zone! {} does not exist.", self.availability_zone),
            ));
        }
        if !(1..=MAX_CREATE_COUNT).contains(&self.count) {
            return Err(Error::new(
                ErrorCode::EvsInvalidCount,
                format!("the quantity of volume is invalid! count must be 1 to {MAX_CREATE_COUNT}."),
            ));
        }
        let size = self
            .size_gib
            .ok_or_else(|| Error::new(ErrorCode::EvsInvalidSize, "invalid volume size! size is required."))?;
        if !DATA_DISK_GIB.contains(&size) {
            return Err(Error::new(
                ErrorCode::EvsInvalidSize,
                format!("invalid volume size! {size} GiB is outside 10 to 32768."),
            ));
        }
        for (key, value) in &self.metadata {
            if key.is_empty() || key.len() > 255 || value.len() > 255 {
                return Err(Error::new(ErrorCode::EvsMalformed, "A metadata key or value is empty or over 255 bytes."));
            }
        }
        Ok(size)
    }

    /// The disks, `creating`: ids in order; a batch's names get `-0001`, `-0002`, ... as EVS does.
    pub fn build(&self, project_id: &str, size_gib: u32, now: Timestamp) -> Vec<CloudVolume> {
        (0..self.count)
            .map(|index| CloudVolume {
                id: uuid::Uuid::new_v4().to_string(),
                project_id: project_id.to_string(),
                name: if self.count > 1 { format!("{}-{:04}", self.name, index + 1) } else { self.name.clone() },
                description: self.description.clone(),
                size_gib,
                volume_type: self.volume_type.clone(),
                availability_zone: self.availability_zone.clone(),
                status: VolumeStatus::Creating,
                multiattach: self.multiattach,
                bootable: false,
                image_id: None,
                metadata: self.metadata.clone(),
                attachments: vec![],
                created: now,
                updated: now,
            })
            .collect()
    }
}

pub fn check_name(name: &str) -> Result<()> {
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::new(
            ErrorCode::EvsInvalidName,
            format!("invalid volume name! At most {MAX_NAME_CHARS} characters."),
        ));
    }
    Ok(())
}

pub fn check_description(description: &str) -> Result<()> {
    if description.chars().count() > MAX_DESCRIPTION_CHARS || description.contains(['<', '>']) {
        return Err(Error::new(
            ErrorCode::EvsInvalidDescription,
            format!("invalid volume description! At most {MAX_DESCRIPTION_CHARS} characters, without < or >."),
        ));
    }
    Ok(())
}

/// The disks a new server is built with, attached to it from the start: the system disk
/// (bootable, from the server's image) and its data disks, as its block devices describe them.
pub fn of_new_server(server: &Server, now: Timestamp) -> Vec<CloudVolume> {
    server
        .volumes
        .iter()
        .map(|device| {
            let system = device.boot_index == Some(0);
            CloudVolume {
                id: device.id.clone(),
                project_id: server.project_id.clone(),
                name: if system {
                    format!("{}-system", server.name)
                } else {
                    format!("{}-data-{}", server.name, &device.device[5..])
                },
                description: String::new(),
                size_gib: device.size_gib,
                volume_type: device.volume_type.clone(),
                availability_zone: server.availability_zone.clone(),
                status: VolumeStatus::InUse,
                multiattach: false,
                bootable: system,
                image_id: system.then(|| server.image_id.clone()),
                metadata: BTreeMap::new(),
                attachments: vec![attachment(server, &device.device, now)],
                created: now,
                updated: now,
            }
        })
        .collect()
}

/// A new attachment to `server` at `device`.
pub fn attachment(server: &Server, device: &str, now: Timestamp) -> Attachment {
    Attachment {
        server_id: server.id.clone(),
        attachment_id: uuid::Uuid::new_v4().to_string(),
        device: device.to_string(),
        host_name: server.host.clone().unwrap_or_default(),
        attached_at: now,
    }
}

/// The device name of a server's `index`-th disk slot: `/dev/vda`, `/dev/vdb`, ... `/dev/vdz`,
/// then `/dev/vdaa`, `/dev/vdab`, ... as the Linux kernel names virtio disks.
pub fn device_name(index: usize) -> String {
    let letter = |n: usize| (b'a' + n as u8) as char;
    if index < 26 {
        format!("/dev/vd{}", letter(index))
    } else {
        format!("/dev/vd{}{}", letter(index / 26 - 1), letter(index % 26))
    }
}

/// The slot of a device name (`/dev/vdb` is 1): what the block device list shows as a data
/// disk's `bootIndex`, as the docs' example does.
pub fn device_index(device: &str) -> Option<usize> {
    (0..MAX_SERVER_DISKS).find(|index| device_name(*index) == device)
}

/// The device a new disk of `server` gets: the one asked for (a `/dev/sdX` name is taken as
/// `/dev/vdX`, as the KVM servers do) if it is free, else the first free data slot.
pub fn choose_device(server: &Server, wanted: Option<&str>) -> Result<String> {
    let taken = |name: &str| server.volumes.iter().any(|v| v.device == name);
    if let Some(wanted) = wanted.filter(|w| !w.is_empty()) {
        let name = match wanted.strip_prefix("/dev/sd") {
            Some(rest) => format!("/dev/vd{rest}"),
            None => wanted.to_string(),
        };
        let valid = (0..MAX_SERVER_DISKS).map(device_name).any(|slot| slot == name);
        if !valid {
            return Err(Error::invalid(format!("The device name {wanted} is not valid: use /dev/vdb to /dev/vdbh.")));
        }
        if taken(&name) {
            return Err(Error::invalid(format!("The device name {name} is in use on the ECS {}.", server.id)));
        }
        return Ok(name);
    }
    (1..MAX_SERVER_DISKS).map(device_name).find(|name| !taken(name)).ok_or_else(|| too_many_disks(server))
}

fn too_many_disks(server: &Server) -> Error {
    Error::new(
        ErrorCode::TooManyVolumes,
        format!("The ECS {} has {} disks, the most it can hold ({MAX_SERVER_DISKS}).", server.id, server.volumes.len()),
    )
}

/// How many more disks the server can take.
pub fn free_slots(server: &Server) -> usize {
    MAX_SERVER_DISKS.saturating_sub(server.volumes.len())
}

/// Whether `volume` may be attached to `server` (whose own state the caller has checked).
pub fn check_attach(server: &Server, volume: &CloudVolume) -> Result<()> {
    if volume.attachment(&server.id).is_some() || server.volumes.iter().any(|v| v.id == volume.id) {
        return Err(Error::new(
            ErrorCode::VolumeAlreadyAttached,
            format!("The disk {} is already attached to the ECS {}.", volume.id, server.id),
        ));
    }
    let attachable = match volume.status {
        VolumeStatus::Available => true,
        VolumeStatus::InUse => volume.multiattach,
        _ => false,
    };
    if !attachable {
        return Err(Error::new(
            ErrorCode::VolumeNotAvailable,
            format!(
                "The disk {} is {}{}; only an available disk (or an in-use shared one) can be attached.",
                volume.id,
                volume.status.as_str(),
                if volume.multiattach { "" } else { " and not shared" }
            ),
        ));
    }
    if volume.availability_zone != server.availability_zone {
        return Err(Error::new(
            ErrorCode::VolumeOtherZone,
            format!(
                "The disk {} is in {} and the ECS {} in {}: they must be in the same AZ.",
                volume.id, volume.availability_zone, server.id, server.availability_zone
            ),
        ));
    }
    if free_slots(server) == 0 {
        return Err(too_many_disks(server));
    }
    Ok(())
}

/// Whether `volume` may be detached from `server`; returns the server's block device of it.
pub fn check_detach<'s>(server: &'s Server, volume: Option<&CloudVolume>, volume_id: &str) -> Result<&'s BlockDevice> {
    let not_attached = || {
        Error::new(
            ErrorCode::VolumeNotAttached,
            format!("The disk {volume_id} is not attached to the ECS {}.", server.id),
        )
    };
    let device = server.volumes.iter().find(|v| v.id == volume_id).ok_or_else(not_attached)?;
    let volume = volume.ok_or_else(not_attached)?;
    if volume.status != VolumeStatus::InUse {
        return Err(Error::new(
            ErrorCode::VolumeNotAttached,
            format!("The disk {volume_id} is {}: only an in-use disk can be detached.", volume.status.as_str()),
        ));
    }
    if device.boot_index == Some(0) && server.vm_state != VmState::Stopped {
        return Err(Error::new(
            ErrorCode::WrongStatus,
            format!("The ECS {} is not stopped: its system disk can be detached only from a stopped ECS.", server.id),
        ));
    }
    Ok(device)
}

/// Whether the disk may be extended to `new_size`.
pub fn check_extend(volume: &CloudVolume, new_size: u32) -> Result<()> {
    match volume.status {
        VolumeStatus::Available => {}
        VolumeStatus::InUse if volume.multiattach => {
            return Err(Error::new(
                ErrorCode::EvsExtendShared,
                format!(
                    "multiattach volume status must be available when extending! The disk {} is in-use.",
                    volume.id
                ),
            ));
        }
        VolumeStatus::InUse => {}
        other => {
            return Err(Error::new(
                ErrorCode::EvsExtendStatus,
                format!(
                    "volume status must be available or in-use when extending! The disk {} is {}.",
                    volume.id,
                    other.as_str()
                ),
            ));
        }
    }
    let limit = if volume.bootable { *SYSTEM_DISK_GIB.end() } else { *DATA_DISK_GIB.end() };
    if new_size <= volume.size_gib {
        return Err(Error::new(
            ErrorCode::EvsSizeNotLarger,
            format!(
                "new volume Size must be greater than old Size! {new_size} GiB is not over {} GiB.",
                volume.size_gib
            ),
        ));
    }
    if new_size > limit {
        return Err(Error::new(ErrorCode::EvsInvalidSize, format!("invalid volume size! At most {limit} GiB.")));
    }
    Ok(())
}

/// Whether the disk may be deleted: only when nothing uses it and nothing runs on it.
pub fn check_delete(volume: &CloudVolume) -> Result<()> {
    if matches!(volume.status, VolumeStatus::Available | VolumeStatus::Error) {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::EvsDeleteStatus,
        format!(
            "volume status must be available, error, error_extending, error_restoring, error_rollbacking when delete \
             volume! The disk {} is {}.",
            volume.id,
            volume.status.as_str()
        ),
    ))
}

/// A disk leaves a server: its attachment goes, and it settles.
pub fn detach_from(volume: &mut CloudVolume, server_id: &str, now: Timestamp) {
    volume.attachments.retain(|a| a.server_id != server_id);
    volume.status = volume.settled_status();
    volume.updated = now;
}

/// What the disk list sorts by (`sort_key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeSortKey {
    CreatedAt,
    Id,
    Name,
    Size,
    Status,
}

impl VolumeSortKey {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "created_at" => VolumeSortKey::CreatedAt,
            "id" => VolumeSortKey::Id,
            "name" => VolumeSortKey::Name,
            "size" => VolumeSortKey::Size,
            "status" => VolumeSortKey::Status,
            _ => return None,
        })
    }
}

/// Most disks one list page holds (`limit`).
pub const MAX_LIST_LIMIT: u64 = 1000;

/// `ListVolumes`' filters and page.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeFilter {
    /// The disk's name, exactly.
    pub name: Option<String>,
    pub status: Option<VolumeStatus>,
    pub availability_zone: Option<String>,
    pub multiattach: Option<bool>,
    /// Disks attached to this server.
    pub server_id: Option<String>,
    /// Only these disks (`id`, `ids`).
    pub ids: Option<Vec<String>>,
    /// Every pair must be in the disk's metadata.
    pub metadata: BTreeMap<String, String>,
    pub sort_key: VolumeSortKey,
    pub descending: bool,
    /// The page starts after this disk.
    pub marker: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

impl Default for VolumeFilter {
    fn default() -> Self {
        VolumeFilter {
            name: None,
            status: None,
            availability_zone: None,
            multiattach: None,
            server_id: None,
            ids: None,
            metadata: BTreeMap::new(),
            sort_key: VolumeSortKey::CreatedAt,
            descending: true,
            marker: None,
            offset: 0,
            limit: MAX_LIST_LIMIT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_types_are_found_by_name_or_stable_id() {
        let id = volume_type_id("SSD");
        assert_eq!(id.len(), 36);
        assert_eq!(id, volume_type_id("SSD"));
        assert_ne!(id, volume_type_id("SAS"));
        assert_eq!(volume_type_named(&id), Some("SSD"));
        assert_eq!(volume_type_named("SATA"), Some("SATA"));
        assert_eq!(volume_type_named("gold"), None);
    }

    #[test]
    fn device_names_follow_the_kernel_after_z() {
        assert_eq!(device_name(0), "/dev/vda");
        assert_eq!(device_name(1), "/dev/vdb");
        assert_eq!(device_name(25), "/dev/vdz");
        assert_eq!(device_name(26), "/dev/vdaa");
        assert_eq!(device_name(59), "/dev/vdbh");
        let all: std::collections::BTreeSet<String> = (0..MAX_SERVER_DISKS).map(device_name).collect();
        assert_eq!(all.len(), MAX_SERVER_DISKS, "every slot has its own name");
        assert_eq!(device_index("/dev/vdc"), Some(2));
        assert_eq!(device_index("/dev/sdc"), None);
    }

    #[test]
    fn statuses_round_trip_with_their_evs_names() {
        for status in VolumeStatus::ALL {
            assert_eq!(VolumeStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(VolumeStatus::InUse.as_str(), "in-use");
    }
}
