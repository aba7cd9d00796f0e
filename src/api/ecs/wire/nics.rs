//! The NICs of a server: adding and deleting them, and what it has and may still take.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ServerId;
use crate::domain::network::Port;

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchAddServerNicsRequest {
    pub nics: Vec<BatchAddServerNicOption>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchAddServerNicOption {
    pub subnet_id: String,
    /// The groups of the NIC's port; the project's default group when absent or empty.
    #[serde(default)]
    pub security_groups: Vec<ServerId>,
    /// The address to take, else the lowest free one of the subnet.
    pub ip_address: Option<String>,
    /// An existing port to attach: not supported by ecsd (refused with `Ecs.0005`).
    pub port_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchDeleteServerNicsRequest {
    /// The port ids of the NICs.
    pub nics: Vec<ServerId>,
}

/// `GET .../os-interface`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListServerInterfacesResponse {
    #[serde(rename = "attachableQuantity")]
    pub attachable_quantity: FreeNics,
    #[serde(rename = "interfaceAttachments")]
    pub interface_attachments: Vec<InterfaceAttachment>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FreeNics {
    /// How many more NICs the server may have.
    pub free_nic: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InterfaceAttachment {
    /// `ACTIVE`.
    pub port_state: &'static str,
    pub fixed_ips: Vec<InterfaceFixedIp>,
    /// The subnet's id.
    pub net_id: String,
    pub port_id: String,
    pub mac_addr: String,
    /// NICs made by ECS are deleted with the server.
    pub delete_on_termination: bool,
    pub driver_mode: Option<String>,
    pub min_rate: Option<u32>,
    pub multiqueue_num: Option<u32>,
    pub pci_address: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InterfaceFixedIp {
    pub subnet_id: String,
    pub ip_address: String,
}

impl InterfaceAttachment {
    pub fn of(port: &Port) -> Self {
        InterfaceAttachment {
            port_state: port.status(),
            fixed_ips: vec![InterfaceFixedIp { subnet_id: port.subnet_id.clone(), ip_address: port.ip.to_string() }],
            net_id: port.subnet_id.clone(),
            port_id: port.id.clone(),
            mac_addr: port.mac.clone(),
            delete_on_termination: true,
            driver_mode: None,
            min_rate: None,
            multiqueue_num: None,
            pci_address: None,
        }
    }
}

/// `GET .../os-interface_extension`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShowServerAttachableNicNumResponse {
    #[serde(rename = "attachableQuantity")]
    pub attachable_quantity: AttachableNics,
    #[serde(rename = "interfaceAttachments")]
    pub interface_attachments: Vec<InterfaceExt>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachableNics {
    pub free_nic: usize,
    /// ecsd's flavors take no EFI NICs.
    pub free_efi_nic: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InterfaceExt {
    /// The port stays when the NIC is detached: never for NICs ECS made.
    pub preserve_on_delete: bool,
    #[serde(flatten)]
    pub attachment: InterfaceAttachment,
}
