//! The NICs of a server: adding and deleting them, and what it has and may still take.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ServerId;
use crate::domain::network::Port;
use crate::domain::server::Nic;

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchAddServerNicsRequest {
    pub nics: Vec<BatchAddServerNicOption>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchAddServerNicOption {
    /// May be left out when `port_id` is given.
    #[serde(default)]
    pub subnet_id: String,
    /// The groups of the NIC's port; the project's default group when absent or empty.
    #[serde(default)]
    pub security_groups: Vec<ServerId>,
    /// The address to take, else the lowest free one of the subnet.
    pub ip_address: Option<String>,
    /// An existing `DOWN` port of the server's VPC to attach instead (it wins over `subnet_id`;
    /// `ip_address` and `security_groups` are then ignored): its address and MAC are kept, and
    /// it is only unbound when the NIC is deleted.
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
    /// The port is deleted when the NIC is deleted or the server is: so for the NICs ECS
    /// made, not for ports attached by their id (`UpdateServerInterface` changes it).
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
    pub fn of(port: &Port, nic: &Nic) -> Self {
        InterfaceAttachment {
            port_state: port.status(),
            fixed_ips: vec![InterfaceFixedIp { subnet_id: port.subnet_id.clone(), ip_address: port.ip.to_string() }],
            net_id: port.subnet_id.clone(),
            port_id: port.id.clone(),
            mac_addr: port.mac.clone(),
            delete_on_termination: nic.delete_on_termination,
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
    /// The port stays when the NIC is detached: the reverse of `delete_on_termination`.
    pub preserve_on_delete: bool,
    #[serde(flatten)]
    pub attachment: InterfaceAttachment,
}

/// `PUT .../os-interface/{port_id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateServerInterfaceRequest {
    pub interface_attachment: InterfaceAttachmentUpdate,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct InterfaceAttachmentUpdate {
    /// Whether the port is deleted when the NIC is deleted or the server is.
    pub delete_on_termination: bool,
}

/// `POST .../os-interface/{port_id}/change-network-interface`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangeServerNetworkInterfaceRequest {
    /// The subnet of the new address: the NIC's or another of the server's VPC.
    pub subnet_id: Option<String>,
    /// The new IPv4 address; an empty string takes the lowest free one of the subnet.
    pub ip_address: Option<String>,
    /// IPv6: ecsd's subnets have none (refused with `Ecs.0005`).
    pub ipv6_address: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeServerNetworkInterfaceResponse {
    /// The NIC's port id, unchanged.
    pub id: String,
    pub subnet_id: String,
    pub ip_address: String,
    pub ipv6_address: Option<String>,
}

/// `PUT .../cloudservers/nics/{nic_id}`: `AssociateServerVirtualIp` when `nic.ip_address`
/// names an address, `DisassociateServerVirtualIp` when it is empty or `nic` is left out.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ServerVirtualIpRequest {
    pub nic: Option<ServerVirtualIpOption>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ServerVirtualIpOption {
    /// The NIC's subnet; empty to unbind.
    #[serde(default)]
    pub subnet_id: String,
    /// The virtual IP; empty to unbind.
    #[serde(default)]
    pub ip_address: String,
    /// The virtual IP's port also allows the NIC's address and MAC.
    #[serde(default)]
    pub reverse_binding: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServerVirtualIpResponse {
    /// The NIC's port id.
    pub port_id: String,
}

/// `POST .../cloudservers/{server_id}/changevpc`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangeVpcRequest {
    pub vpc_id: String,
    pub nic: ChangeVpcNic,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangeVpcNic {
    /// An existing `DOWN` port of the new VPC, with a security group (it wins over
    /// `subnet_id`; `ip_address` and `security_groups` are then ignored).
    pub port_id: Option<String>,
    /// A subnet of the new VPC.
    #[serde(default)]
    pub subnet_id: String,
    /// The groups of the new NIC's port; the project's default group when absent or empty.
    #[serde(default)]
    pub security_groups: Vec<ServerId>,
    /// The address to take, else the lowest free one of the subnet.
    pub ip_address: Option<String>,
}
