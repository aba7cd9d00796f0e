//! The other reads: the v1.1 server list, a server's password, flavor sell policies and
//! capacity.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::servers::{GroupNames, SecurityGroup, security_groups, shown_metadata};
use crate::api::format::{launch_time, server_time};
use crate::domain::catalogue::Catalogue;
use crate::domain::server::Server;
use crate::domain::status::Status;

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowServerPasswordResponse {
    /// The password the Windows guest set, encrypted with the server's key pair (base64);
    /// empty when there is none.
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListFlavorSellPoliciesResponse {
    pub count: u64,
    pub sell_policies: Vec<SellPolicy>,
}

/// `available` or `sellout` (no host of the zone can take a server of the flavor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SellStatus {
    Available,
    Sellout,
}

/// The billing modes of the API; ecsd sells flavors as `spot`, the one mode this API lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub enum SellMode {
    #[serde(rename = "postPaid")]
    PostPaid,
    #[serde(rename = "prePaid")]
    PrePaid,
    #[serde(rename = "spot")]
    Spot,
    #[serde(rename = "ri")]
    Ri,
}

/// `immediate` or `delay` release of an interrupted spot server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InterruptionPolicy {
    Immediate,
    Delay,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SellPolicy {
    /// The policy's index, 1-based; also the `marker` of the next page.
    pub id: u64,
    pub flavor_id: String,
    pub sell_status: SellStatus,
    pub availability_zone_id: String,
    pub sell_mode: SellMode,
    pub spot_options: SpotOptions,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SpotOptions {
    pub longest_spot_duration_hours: u32,
    pub largest_spot_duration_count: u32,
    pub interruption_policy: InterruptionPolicy,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowFlavorCapacityResponse {
    pub resources: Vec<FlavorCapacity>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlavorCapacity {
    pub region_id: String,
    pub availability_zone: String,
    /// Whether the zone has room for the servers asked for (`count`, one by default).
    pub prefer: bool,
}

/// The fields `expect-fields` may add to the v1.1 list's default ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExpectField {
    LaunchedAt,
    KeyName,
    Locked,
    RootDeviceName,
    Tenancy,
    DedicatedHostId,
    EnterpriseProjectId,
    Tags,
    Metadata,
    Addresses,
    SecurityGroups,
    VolumesAttached,
    Image,
    PowerState,
    CpuOptions,
    MarketInfo,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListCloudServersResponse {
    pub servers: Vec<CloudServer>,
    /// The next page, when there is one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub servers_links: Vec<PageLink>,
    pub request_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PageLink {
    pub href: String,
    /// `next`.
    pub rel: &'static str,
}

/// A server of the v1.1 list: default fields, and the `expect-fields` asked for.
#[derive(Debug, Serialize, ToSchema)]
pub struct CloudServer {
    pub id: String,
    pub name: String,
    pub status: Status,
    pub tenant_id: String,
    pub user_id: String,
    pub availability_zone: String,
    pub vm_state: &'static str,
    pub task_state: Option<&'static str>,
    pub created: String,
    pub updated: String,
    pub description: String,
    pub in_recycle_bin: bool,
    pub flavor: CloudServerFlavor,
    /// Always null for a server that exists.
    #[schema(value_type = Option<Object>)]
    pub fault: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launched_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_device_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenancy: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedicated_host_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addresses: Option<BTreeMap<String, Vec<NetworkAddress>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_groups: Option<Vec<SecurityGroup>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volumes_attached: Option<Vec<VolumeAttach>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<super::servers::IdRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_state: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_options: Option<CpuOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub market_info: Option<MarketInfo>,
}

/// The flavor in the v1.1 shape: numbers are numbers here.
#[derive(Debug, Serialize, ToSchema)]
pub struct CloudServerFlavor {
    pub id: String,
    pub name: String,
    pub vcpus: u32,
    pub ram: u64,
    pub disk: u32,
    /// Always empty.
    #[schema(value_type = Vec<Object>)]
    pub gpus: Vec<serde_json::Value>,
    /// Always empty.
    #[schema(value_type = Vec<Object>)]
    pub asic_accelerators: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkAddress {
    pub addr: String,
    pub version: u8,
    #[serde(rename = "OS-EXT-IPS:port_id")]
    pub port_id: String,
    #[serde(rename = "OS-EXT-IPS-MAC:mac_addr")]
    pub mac_addr: String,
    #[serde(rename = "OS-EXT-IPS:type")]
    pub ip_type: &'static str,
    pub primary: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VolumeAttach {
    pub id: String,
    pub delete_on_termination: bool,
    pub device: String,
    #[serde(rename = "bootIndex", skip_serializing_if = "Option::is_none")]
    pub boot_index: Option<String>,
    pub size: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CpuOptions {
    #[serde(rename = "hw:cpu_threads")]
    pub cpu_threads: u8,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MarketInfo {
    /// `postPaid`: every ecsd server is pay-per-use.
    pub charge_mode: &'static str,
}

impl CloudServer {
    /// The server with the default fields and those of `expect`.
    pub fn of(server: &Server, catalogue: &Catalogue, expect: &[ExpectField], names: &GroupNames) -> Self {
        let wants = |field| expect.contains(&field);
        let flavor = catalogue.flavor(&server.flavor_id);
        CloudServer {
            id: server.id.clone(),
            name: server.name.clone(),
            status: server.status(),
            tenant_id: server.project_id.clone(),
            user_id: server.project_id.clone(),
            availability_zone: server.availability_zone.clone(),
            vm_state: server.vm_state.as_str(),
            task_state: server.task_state.map(|t| t.as_str()),
            created: server_time(server.created),
            updated: server_time(server.updated),
            description: server.description.clone(),
            in_recycle_bin: false,
            flavor: CloudServerFlavor {
                id: server.flavor_id.clone(),
                name: server.flavor_id.clone(),
                vcpus: flavor.map_or(0, |f| f.vcpus),
                ram: flavor.map_or(0, |f| f.ram_mib),
                disk: 0,
                gpus: vec![],
                asic_accelerators: vec![],
            },
            fault: None,
            launched_at: wants(ExpectField::LaunchedAt)
                .then(|| server.launched_at.map(launch_time).unwrap_or_default()),
            key_name: wants(ExpectField::KeyName).then(|| server.key_name.clone().unwrap_or_default()),
            locked: wants(ExpectField::Locked).then_some(server.locked),
            root_device_name: wants(ExpectField::RootDeviceName).then(|| "/dev/vda".to_string()),
            tenancy: wants(ExpectField::Tenancy).then_some("shared"),
            dedicated_host_id: wants(ExpectField::DedicatedHostId).then(String::new),
            enterprise_project_id: wants(ExpectField::EnterpriseProjectId).then(|| "0".to_string()),
            tags: wants(ExpectField::Tags).then(|| server.tag_strings()),
            metadata: wants(ExpectField::Metadata).then(|| shown_metadata(server, catalogue)),
            addresses: wants(ExpectField::Addresses).then(|| {
                let mut addresses: BTreeMap<String, Vec<NetworkAddress>> = BTreeMap::new();
                for (index, nic) in server.nics.iter().enumerate() {
                    addresses.entry(server.vpc_id.clone()).or_default().push(NetworkAddress {
                        addr: nic.ip.to_string(),
                        version: 4,
                        port_id: nic.port_id.clone(),
                        mac_addr: nic.mac.clone(),
                        ip_type: "fixed",
                        primary: index == 0,
                    });
                }
                addresses
            }),
            security_groups: wants(ExpectField::SecurityGroups).then(|| security_groups(server, names)),
            volumes_attached: wants(ExpectField::VolumesAttached).then(|| {
                server
                    .volumes
                    .iter()
                    .map(|v| VolumeAttach {
                        id: v.id.clone(),
                        delete_on_termination: v.delete_on_termination,
                        device: v.device.clone(),
                        boot_index: v.boot_index.map(|b| b.to_string()),
                        size: v.size_gib,
                    })
                    .collect()
            }),
            image: wants(ExpectField::Image).then(|| super::servers::IdRef { id: server.image_id.clone() }),
            power_state: wants(ExpectField::PowerState).then(|| server.power_state()),
            cpu_options: wants(ExpectField::CpuOptions).then_some(CpuOptions { cpu_threads: 2 }),
            market_info: wants(ExpectField::MarketInfo).then_some(MarketInfo { charge_mode: "postPaid" }),
        }
    }
}
