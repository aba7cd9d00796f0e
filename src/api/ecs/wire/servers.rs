//! Server documents: the create request, the full server (T1.11), the modify request and
//! answer (T1.17).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::api::format::{launch_time, server_time};
use crate::domain::catalogue::Catalogue;
use crate::domain::create::{CreateServers, NicRequest, VolumeRequest};
use crate::domain::placement::{self, Host};
use crate::domain::server::{Server, Tag};
use crate::domain::status::Status;
use crate::domain::{Error, Result};

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = create_servers_example)]
pub struct CreateServersRequest {
    pub server: CreateServer,
    #[serde(default)]
    pub dry_run: bool,
}

/// Two servers of the seeded catalogue, as the document's example.
fn create_servers_example() -> Value {
    const EXAMPLE: &str = r#"{"server": {
        "imageRef": "8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e01", "flavorRef": "s6.small.1", "name": "web",
        "vpcid": "3b9e6d1a-7c2f-4e8a-b5d0-0a1b2c3d4e01", "nics": [{"subnet_id": "5c1d7e2b-8a3f-4b9c-a6e1-1b2c3d4e5f01"}],
        "root_volume": {"volumetype": "SSD"}, "count": 2}}"#;
    serde_json::from_str(EXAMPLE).unwrap_or_default()
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateServer {
    #[serde(rename = "imageRef")]
    pub image_ref: String,
    #[serde(rename = "flavorRef")]
    pub flavor_ref: String,
    /// 1 to 128 letters, digits, `_`, `.`, `-` and CJK ideographs; with `count` > 1 at most 123,
    /// since `-0000`, `-0001`... are appended.
    #[schema(min_length = 1, max_length = 128, pattern = r"^[A-Za-z0-9_.\u4E00-\u9FFF-]+$")]
    pub name: String,
    pub vpcid: String,
    pub nics: Vec<CreateNic>,
    pub root_volume: CreateVolume,
    #[serde(default)]
    pub data_volumes: Vec<CreateVolume>,
    /// How many servers, 1 to 100 (`Ecs.0913`); 1 by default.
    #[schema(minimum = 1, maximum = 100)]
    pub count: Option<u32>,
    pub availability_zone: Option<String>,
    #[serde(default)]
    pub batch_create_in_multi_az: bool,
    #[serde(default)]
    pub security_groups: Vec<SecurityGroupRef>,
    #[serde(rename = "adminPass")]
    pub admin_pass: Option<String>,
    pub key_name: Option<String>,
    pub user_data: Option<String>,
    #[serde(default, deserialize_with = "map_without_duplicate_keys")]
    pub metadata: BTreeMap<String, String>,
    /// The old `"key.value"` tag form.
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub server_tags: Vec<ServerTag>,
    /// At most 85 characters, no `<` or `>` (`Ecs.0041`).
    #[serde(default)]
    #[schema(max_length = 85)]
    pub description: String,
    /// v1.1: `chargingMode` must be `postPaid` (or 0) when given; other keys are ignored.
    #[schema(value_type = Option<Object>)]
    pub extendparam: Option<Value>,
    #[serde(rename = "os:scheduler_hints")]
    pub scheduler_hints: Option<SchedulerHints>,
    pub metadata_options: Option<super::metadata::MetadataOptionsBody>,
}

/// Where the servers may be placed.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SchedulerHints {
    /// An ECS group (anti-affinity) of the project: the servers join it, each on a host no
    /// other member uses.
    pub group: Option<String>,
    /// Only `shared` (dedicated hosts are not simulated).
    pub tenancy: Option<Tenancy>,
    /// Not supported: any value is refused.
    pub dedicated_host_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Tenancy {
    Shared,
    Dedicated,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateNic {
    /// May be left out when `port_id` is given.
    #[serde(default)]
    pub subnet_id: String,
    pub ip_address: Option<String>,
    /// An existing port (`DOWN`, of the server's VPC) to attach instead of making one; its
    /// address and MAC are kept, and it is only unbound when the server is deleted.
    pub port_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateVolume {
    #[schema(example = "SSD")]
    pub volumetype: String,
    /// GiB: a data disk 10 to 32768; the root disk at least the image's minimum (the default).
    pub size: Option<u32>,
    /// A shared data disk (EVS `multiattach`), which other servers may attach too.
    pub multiattach: Option<bool>,
    /// The older name of `multiattach`.
    pub shareable: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SecurityGroupRef {
    pub id: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServerTag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

/// A string map that refuses a key given twice: serde's maps would silently keep the last one.
fn map_without_duplicate_keys<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = BTreeMap<String, String>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object of strings")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            let mut map = BTreeMap::new();
            while let Some((key, value)) = access.next_entry::<String, String>()? {
                if map.contains_key(&key) {
                    return Err(serde::de::Error::custom(format!("duplicate key {key:?}")));
                }
                map.insert(key, value);
            }
            Ok(map)
        }
    }
    deserializer.deserialize_map(Visitor)
}

impl CreateServer {
    pub fn into_domain(self) -> Result<CreateServers> {
        if let Some(mode) = self.extendparam.as_ref().and_then(|e| e.get("chargingMode"))
            && !matches!(mode, Value::Null)
            && mode != "postPaid"
            && mode != 0
        {
            return Err(Error::invalid(
                "Only pay-per-use servers are supported: extendparam.chargingMode must be postPaid (or 0).",
            ));
        }
        let nics = self
            .nics
            .into_iter()
            .map(|nic| {
                let ip = match nic.ip_address.as_deref() {
                    None | Some("") => None,
                    Some(text) => Some(
                        text.parse()
                            .map_err(|_| Error::invalid(format!("ip_address {text:?} is not an IPv4 address.")))?,
                    ),
                };
                Ok(NicRequest { subnet_id: nic.subnet_id, ip, port_id: nic.port_id.filter(|id| !id.is_empty()) })
            })
            .collect::<Result<Vec<_>>>()?;
        let volume = |v: CreateVolume| VolumeRequest {
            volume_type: v.volumetype,
            size_gib: v.size,
            multiattach: v.multiattach.or(v.shareable).unwrap_or(false),
        };
        let mut tags: Vec<Tag> = self
            .tags
            .iter()
            .map(|t| match t.split_once('.') {
                Some((key, value)) => Tag { key: key.into(), value: value.into() },
                None => Tag { key: t.clone(), value: String::new() },
            })
            .collect();
        tags.extend(self.server_tags.into_iter().map(|t| Tag { key: t.key, value: t.value }));
        let server_group_id = match self.scheduler_hints {
            Some(SchedulerHints { tenancy: Some(Tenancy::Dedicated), .. })
            | Some(SchedulerHints { dedicated_host_id: Some(_), .. }) => {
                return Err(Error::invalid("Dedicated hosts are not supported: tenancy must be shared."));
            }
            Some(hints) => hints.group.filter(|group| !group.is_empty()),
            None => None,
        };
        let metadata_options = self.metadata_options.map(|o| o.apply_to(Default::default())).unwrap_or_default();
        Ok(CreateServers {
            name: self.name,
            count: self.count.unwrap_or(1),
            image_id: self.image_ref,
            flavor_id: self.flavor_ref,
            vpc_id: self.vpcid,
            nics,
            root_volume: volume(self.root_volume),
            data_volumes: self.data_volumes.into_iter().map(volume).collect(),
            availability_zone: self.availability_zone,
            spread_over_azs: self.batch_create_in_multi_az,
            metadata: self.metadata,
            tags,
            security_group_ids: self.security_groups.into_iter().map(|g| g.id).collect(),
            key_name: self.key_name,
            user_data: self.user_data,
            admin_pass: self.admin_pass,
            description: self.description,
            server_group_id,
            metadata_options,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreateServersResponse {
    pub job_id: String,
    #[serde(rename = "serverIds")]
    pub server_ids: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServerDetail {
    pub id: String,
    pub name: String,
    pub description: String,
    pub status: Status,
    #[serde(rename = "OS-EXT-STS:vm_state")]
    pub vm_state: &'static str,
    #[serde(rename = "OS-EXT-STS:task_state")]
    pub task_state: Option<&'static str>,
    #[serde(rename = "OS-EXT-STS:power_state")]
    pub power_state: u8,
    pub progress: u8,
    pub created: String,
    pub updated: String,
    #[serde(rename = "OS-SRV-USG:launched_at")]
    pub launched_at: String,
    #[serde(rename = "OS-SRV-USG:terminated_at")]
    pub terminated_at: String,
    pub flavor: FlavorRef,
    pub image: IdRef,
    pub addresses: BTreeMap<String, Vec<Address>>,
    pub key_name: String,
    pub security_groups: Vec<SecurityGroup>,
    #[serde(rename = "OS-EXT-AZ:availability_zone")]
    pub availability_zone: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:host")]
    pub host: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:hypervisor_hostname")]
    pub hypervisor_hostname: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:instance_name")]
    pub instance_name: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:hostname")]
    pub hostname: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:reservation_id")]
    pub reservation_id: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:launch_index")]
    pub launch_index: u32,
    #[serde(rename = "OS-EXT-SRV-ATTR:kernel_id")]
    pub kernel_id: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:ramdisk_id")]
    pub ramdisk_id: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:root_device_name")]
    pub root_device_name: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:user_data")]
    pub user_data: String,
    #[serde(rename = "OS-DCF:diskConfig")]
    pub disk_config: &'static str,
    #[serde(rename = "os-extended-volumes:volumes_attached")]
    pub volumes_attached: Vec<VolumeAttached>,
    pub metadata: BTreeMap<String, String>,
    pub tags: Vec<String>,
    pub sys_tags: Vec<ServerTag>,
    #[serde(rename = "os:scheduler_hints")]
    pub scheduler_hints: BTreeMap<String, Vec<String>>,
    pub locked: bool,
    pub host_status: &'static str,
    #[serde(rename = "hostId")]
    pub host_id: String,
    pub tenant_id: String,
    pub user_id: String,
    #[serde(rename = "accessIPv4")]
    pub access_ipv4: String,
    #[serde(rename = "accessIPv6")]
    pub access_ipv6: String,
    pub config_drive: String,
    /// Always null for a server that exists.
    #[schema(value_type = Option<Object>)]
    pub fault: Option<Value>,
    pub security_options: SecurityOptions,
    pub enterprise_project_id: String,
    /// When the server is deleted (`UpdateServerAutoTerminateTime`); empty when not set.
    pub auto_terminate_time: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlavorRef {
    pub id: String,
    pub name: String,
    pub disk: String,
    pub vcpus: String,
    pub ram: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdRef {
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Address {
    pub version: String,
    pub addr: String,
    #[serde(rename = "OS-EXT-IPS:type")]
    pub ip_type: &'static str,
    #[serde(rename = "OS-EXT-IPS-MAC:mac_addr")]
    pub mac_addr: String,
    #[serde(rename = "OS-EXT-IPS:port_id")]
    pub port_id: String,
    pub primary: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VolumeAttached {
    pub id: String,
    pub delete_on_termination: String,
    #[serde(rename = "bootIndex", skip_serializing_if = "Option::is_none")]
    pub boot_index: Option<String>,
    pub device: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityOptions {
    pub tpm_enabled: bool,
    pub secure_boot_enabled: bool,
}

fn host_id(server: &Server) -> String {
    placement::host_id(&server.project_id, server.host.as_deref())
}

/// The metadata a server document shows: what the cloud sets, and the user's pairs.
pub fn shown_metadata(server: &Server, catalogue: &Catalogue) -> BTreeMap<String, String> {
    let image = catalogue.image(&server.image_id);
    let mut metadata: BTreeMap<String, String> = BTreeMap::from([
        ("charging_mode".into(), "0".into()),
        ("vpc_id".into(), server.vpc_id.clone()),
        ("metering.image_id".into(), server.image_id.clone()),
        ("metering.imagetype".into(), "gold".into()),
        ("metering.resourcespeccode".into(), format!("{}.linux", server.flavor_id)),
        ("metering.resourcetype".into(), "1".into()),
        ("image_name".into(), image.map(|i| i.name.clone()).unwrap_or_default()),
        ("os_type".into(), image.map(|i| i.os_type.clone()).unwrap_or_default()),
        ("os_bit".into(), "64".into()),
    ]);
    metadata.extend(server.metadata.clone());
    metadata
}

/// The names of a project's security groups, by id.
pub type GroupNames = std::collections::HashMap<String, String>;

/// The security groups of a server's ports, with their names.
pub fn security_groups(server: &Server, names: &GroupNames) -> Vec<SecurityGroup> {
    server
        .security_group_ids
        .iter()
        .map(|id| SecurityGroup { id: id.clone(), name: names.get(id).cloned().unwrap_or_default() })
        .collect()
}

impl ServerDetail {
    pub fn of(server: &Server, catalogue: &Catalogue, names: &GroupNames) -> Self {
        let flavor = catalogue.flavor(&server.flavor_id);
        let mut addresses: BTreeMap<String, Vec<Address>> = BTreeMap::new();
        for (index, nic) in server.nics.iter().enumerate() {
            addresses.entry(server.vpc_id.clone()).or_default().push(Address {
                version: "4".into(),
                addr: nic.ip.to_string(),
                ip_type: "fixed",
                mac_addr: nic.mac.clone(),
                port_id: nic.port_id.clone(),
                primary: index == 0,
            });
        }
        let metadata = shown_metadata(server, catalogue);
        let security_groups = security_groups(server, names);
        let host = server.host.clone().unwrap_or_default();
        let scheduler_hints =
            server.server_group_id.iter().map(|group| ("group".to_string(), vec![group.clone()])).collect();
        ServerDetail {
            id: server.id.clone(),
            name: server.name.clone(),
            description: server.description.clone(),
            status: server.status(),
            vm_state: server.vm_state.as_str(),
            task_state: server.task_state.map(|t| t.as_str()),
            power_state: server.power_state(),
            progress: if server.task_state.is_none() { 100 } else { 0 },
            created: server_time(server.created),
            updated: server_time(server.updated),
            launched_at: server.launched_at.map(launch_time).unwrap_or_default(),
            terminated_at: String::new(),
            flavor: FlavorRef {
                id: server.flavor_id.clone(),
                name: server.flavor_id.clone(),
                disk: "0".into(),
                vcpus: flavor.map_or(0, |f| f.vcpus).to_string(),
                ram: flavor.map_or(0, |f| f.ram_mib).to_string(),
            },
            image: IdRef { id: server.image_id.clone() },
            addresses,
            key_name: server.key_name.clone().unwrap_or_default(),
            security_groups,
            availability_zone: server.availability_zone.clone(),
            hypervisor_hostname: server.host.as_deref().map(Host::hypervisor_hostname).unwrap_or_default(),
            host,
            instance_name: server.instance_name.clone(),
            hostname: server.hostname.clone(),
            reservation_id: server.reservation_id.clone(),
            launch_index: server.launch_index,
            kernel_id: String::new(),
            ramdisk_id: String::new(),
            root_device_name: "/dev/vda".into(),
            user_data: server.user_data.clone().unwrap_or_default(),
            disk_config: "MANUAL",
            volumes_attached: server
                .volumes
                .iter()
                .map(|v| VolumeAttached {
                    id: v.id.clone(),
                    delete_on_termination: v.delete_on_termination.to_string(),
                    boot_index: v.boot_index.map(|b| b.to_string()),
                    device: v.device.clone(),
                })
                .collect(),
            metadata,
            tags: server.tag_strings(),
            sys_tags: vec![ServerTag { key: "_sys_enterprise_project_id".into(), value: "0".into() }],
            scheduler_hints,
            locked: server.locked,
            host_status: "UP",
            host_id: host_id(server),
            tenant_id: server.project_id.clone(),
            user_id: server.project_id.clone(),
            access_ipv4: String::new(),
            access_ipv6: String::new(),
            config_drive: String::new(),
            fault: None,
            security_options: SecurityOptions { tpm_enabled: false, secure_boot_enabled: false },
            enterprise_project_id: "0".into(),
            auto_terminate_time: server.auto_terminate_time.map(server_time).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowServerResponse {
    pub server: ServerDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListServersDetailsResponse {
    pub count: u64,
    pub servers: Vec<ListedServer>,
}

/// An entry of the list: a server, or for an unknown id asked by `server_id`, the id and a fault.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ListedServer {
    Found(Box<ServerDetail>),
    Missing { id: String, fault: MissingServerFault },
}

/// A server asked for by `server_id` in the list that does not exist: only `id` and `fault`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MissingServerFault {
    /// 404.
    pub code: u16,
    pub message: String,
    pub details: &'static str,
    pub created: &'static str,
}

impl ListedServer {
    pub fn missing(id: String) -> Self {
        let fault = MissingServerFault {
            code: 404,
            message: format!("Instance[{id}] could not be found."),
            details: "",
            created: "",
        };
        ListedServer::Missing { id, fault }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateServerRequest {
    pub server: UpdateServer,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateServer {
    /// 1 to 128 letters, digits, `_`, `.`, `-` and CJK ideographs.
    #[schema(min_length = 1, max_length = 128, pattern = r"^[A-Za-z0-9_.\u4E00-\u9FFF-]+$")]
    pub name: Option<String>,
    /// At most 85 characters, no `<` or `>` (`Ecs.0041`).
    #[schema(max_length = 85)]
    pub description: Option<String>,
    /// Not supported: any value is refused (`Ecs.0005`).
    pub hostname: Option<String>,
}

/// The answer of `PUT .../cloudservers/{id}` (T1.17): a shorter shape with its own types.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpdatedServer {
    pub id: String,
    pub name: String,
    pub status: Status,
    pub tenant_id: String,
    pub user_id: String,
    pub image: String,
    pub flavor: FlavorLink,
    pub addresses: BTreeMap<String, Vec<UpdatedAddress>>,
    pub metadata: BTreeMap<String, String>,
    #[serde(rename = "accessIPv4")]
    pub access_ipv4: String,
    #[serde(rename = "accessIPv6")]
    pub access_ipv6: String,
    pub created: String,
    pub updated: String,
    #[serde(rename = "hostId")]
    pub host_id: String,
    #[serde(rename = "OS-DCF:diskConfig")]
    pub disk_config: &'static str,
    pub progress: u8,
    /// Always empty.
    #[schema(value_type = Vec<Object>)]
    pub links: Vec<Value>,
    pub locked: bool,
    pub description: String,
    pub tags: Vec<String>,
    #[serde(rename = "OS-EXT-SRV-ATTR:hostname")]
    pub hostname: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlavorLink {
    pub id: String,
    /// Always empty.
    #[schema(value_type = Vec<Object>)]
    pub links: Vec<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpdatedAddress {
    pub addr: String,
    pub version: u8,
}

impl UpdatedServer {
    pub fn of(server: &Server) -> Self {
        let mut addresses: BTreeMap<String, Vec<UpdatedAddress>> = BTreeMap::new();
        for nic in &server.nics {
            addresses
                .entry(server.vpc_id.clone())
                .or_default()
                .push(UpdatedAddress { addr: nic.ip.to_string(), version: 4 });
        }
        UpdatedServer {
            id: server.id.clone(),
            name: server.name.clone(),
            status: server.status(),
            tenant_id: server.project_id.clone(),
            user_id: server.project_id.clone(),
            image: server.image_id.clone(),
            flavor: FlavorLink { id: server.flavor_id.clone(), links: vec![] },
            addresses,
            metadata: server.metadata.clone(),
            access_ipv4: String::new(),
            access_ipv6: String::new(),
            created: server_time(server.created),
            updated: server_time(server.updated),
            host_id: host_id(server),
            disk_config: "MANUAL",
            progress: if server.task_state.is_none() { 100 } else { 0 },
            links: vec![],
            locked: server.locked,
            description: server.description.clone(),
            tags: server.tag_strings(),
            hostname: server.hostname.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpdateServerResponse {
    pub server: UpdatedServer,
}
