//! A server's disks: attach and detach bodies, block devices, the attachable quota.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::server::{Server, Volume as BlockDevice};
use crate::domain::volumes;

/// `POST /v1/{pid}/cloudservers/{server_id}/attachvolume`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AttachServerVolumeRequest {
    #[serde(rename = "volumeAttachment")]
    pub volume_attachment: AttachServerVolumeOption,
    /// Only check the request: 202 without a job when it would be accepted.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AttachServerVolumeOption {
    #[serde(rename = "volumeId")]
    pub volume_id: String,
    /// `/dev/vdb` ... (a `/dev/sdX` name is taken as `/dev/vdX`); the first free one when absent.
    pub device: Option<String>,
}

/// `POST /v1/{pid}/batchaction/attachvolumes/{volume_id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchAttachSharableVolumesRequest {
    /// 1 to 60 servers.
    #[schema(min_items = 1, max_items = 60)]
    pub serverinfo: Vec<SharableAttachServer>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SharableAttachServer {
    pub server_id: String,
    pub device: Option<String>,
}

/// `POST /v1/{pid}/batchaction/detachvolumes/{volume_id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchDetachVolumesRequest {
    /// 1 to 60 server ids (or `{"server_id"}` objects).
    #[schema(min_items = 1, max_items = 60)]
    pub serverinfo: Vec<DetachServer>,
}

/// A server of a batch detach: its id, or an object naming it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum DetachServer {
    Id(String),
    Object { server_id: String },
}

impl DetachServer {
    pub fn into_id(self) -> String {
        match self {
            DetachServer::Id(id) | DetachServer::Object { server_id: id } => id,
        }
    }
}

/// `PUT /v1/{pid}/cloudservers/{server_id}/block_device/{volume_id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateServerBlockDeviceRequest {
    pub block_device: UpdateServerBlockDeviceOption,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateServerBlockDeviceOption {
    /// Whether the disk is deleted with the server.
    pub delete_on_termination: bool,
}

/// One disk of a server.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerBlockDevice {
    #[serde(rename = "serverId")]
    pub server_id: String,
    #[serde(rename = "volumeId")]
    pub volume_id: String,
    /// The disk id again.
    pub id: String,
    pub size: u32,
    pub device: String,
    #[serde(rename = "pciAddress")]
    pub pci_address: String,
    /// 0 for the system disk; a data disk's slot otherwise (`/dev/vdb` is 1).
    #[serde(rename = "bootIndex")]
    pub boot_index: u32,
    /// `virtio`.
    pub bus: &'static str,
}

impl ServerBlockDevice {
    pub fn of(server: &Server, device: &BlockDevice) -> Self {
        let slot = volumes::device_index(&device.device).unwrap_or(0);
        ServerBlockDevice {
            server_id: server.id.clone(),
            volume_id: device.id.clone(),
            id: device.id.clone(),
            size: device.size_gib,
            device: device.device.clone(),
            pci_address: format!("0000:02:{:02x}.0", slot + 1),
            boot_index: device.boot_index.unwrap_or(slot as u32),
            bus: "virtio",
        }
    }
}

/// How many more disks the server can take, by bus.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockDeviceAttachableQuantity {
    pub free_scsi: usize,
    pub free_blk: usize,
    pub free_disk: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListServerBlockDevicesResponse {
    #[serde(rename = "attachableQuantity")]
    pub attachable_quantity: BlockDeviceAttachableQuantity,
    #[serde(rename = "volumeAttachments")]
    pub volume_attachments: Vec<ServerBlockDevice>,
}

impl ListServerBlockDevicesResponse {
    pub fn of(server: &Server) -> Self {
        let free = volumes::free_slots(server);
        ListServerBlockDevicesResponse {
            attachable_quantity: BlockDeviceAttachableQuantity { free_scsi: free, free_blk: free, free_disk: free },
            volume_attachments: server.volumes.iter().map(|device| ServerBlockDevice::of(server, device)).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowServerBlockDeviceResponse {
    #[serde(rename = "volumeAttachment")]
    pub volume_attachment: ServerBlockDevice,
}

/// `GET .../os-volume_attachments`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListServerVolumeAttachmentsResponse {
    #[serde(rename = "volumeAttachments")]
    pub volume_attachments: Vec<ServerVolumeAttachment>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServerVolumeAttachment {
    pub device: String,
    pub id: String,
    #[serde(rename = "serverId")]
    pub server_id: String,
    #[serde(rename = "volumeId")]
    pub volume_id: String,
}

impl ListServerVolumeAttachmentsResponse {
    pub fn of(server: &Server) -> Self {
        let volume_attachments = server
            .volumes
            .iter()
            .map(|device| ServerVolumeAttachment {
                device: device.device.clone(),
                id: device.id.clone(),
                server_id: server.id.clone(),
                volume_id: device.id.clone(),
            })
            .collect();
        ListServerVolumeAttachmentsResponse { volume_attachments }
    }
}

/// `GET .../appendvolumequota`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShowAppendableVolumeQuotaResponse {
    /// How many more disks the server can take.
    pub count: usize,
    pub free_scsi: usize,
    pub free_blk: usize,
}

impl ShowAppendableVolumeQuotaResponse {
    pub fn of(server: &Server) -> Self {
        let free = volumes::free_slots(server);
        ShowAppendableVolumeQuotaResponse { count: free, free_scsi: free, free_blk: free }
    }
}
