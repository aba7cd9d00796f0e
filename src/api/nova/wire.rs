//! The JSON of Nova v2.1: versions, servers, flavors, limits, server groups, availability
//! zones, instance actions, metadata, interfaces, a server's security groups, and Nova's
//! fault body.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Microversion;
use crate::api::ecs::wire::servers::GroupNames;
use crate::api::format::{launch_time, server_time};
use crate::domain::catalogue::{Catalogue, Flavor};
use crate::domain::groups::ServerGroup;
use crate::domain::job::{JobStatus, SubJob};
use crate::domain::keypairs::Keypair;
use crate::domain::network::{Direction, Port, SecurityGroup, SecurityGroupRule};
use crate::domain::placement;
use crate::domain::server::Server;
use crate::domain::status::Status;

/// Nova's fault body: one key naming the fault (`itemNotFound`, `badRequest`,
/// `conflictingRequestState`, `forbidden`, `computeFault`, ...).
#[derive(Debug, Serialize, ToSchema)]
pub struct NovaFault {
    #[serde(flatten)]
    pub fault: BTreeMap<&'static str, NovaFaultDetail>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NovaFaultDetail {
    /// The HTTP status.
    pub code: u16,
    pub message: String,
}

/// `GET /`: the API versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct Versions {
    pub versions: Vec<Version>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Version {
    /// `v2.0` or `v2.1`.
    pub id: &'static str,
    /// `SUPPORTED` or `CURRENT`.
    pub status: &'static str,
    pub version: String,
    pub min_version: String,
    pub updated: &'static str,
    pub links: Vec<Link>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaLink)]
pub struct Link {
    pub rel: &'static str,
    pub href: String,
}

impl Version {
    fn v2_1(base_url: &str) -> Self {
        Version {
            id: "v2.1",
            status: "CURRENT",
            version: format!("2.{}", super::MAX_MICROVERSION),
            min_version: format!("2.{}", super::MIN_MICROVERSION),
            updated: "2013-07-23T11:33:21Z",
            links: vec![Link { rel: "self", href: format!("{base_url}/v2.1/") }],
        }
    }
}

impl Versions {
    /// The versions document (T3.1), with links on the address the client used.
    pub fn of(base_url: &str) -> Self {
        Versions {
            versions: vec![
                Version {
                    id: "v2.0",
                    status: "SUPPORTED",
                    version: String::new(),
                    min_version: String::new(),
                    updated: "2011-01-21T11:33:21Z",
                    links: vec![Link { rel: "self", href: format!("{base_url}/v2/") }],
                },
                Version::v2_1(base_url),
            ],
        }
    }
}

/// `GET /v2.1`: the v2.1 version, with its microversion range.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaVersionDocument)]
pub struct VersionDocument {
    pub version: Version,
}

impl VersionDocument {
    pub fn of(base_url: &str) -> Self {
        VersionDocument { version: Version::v2_1(base_url) }
    }
}

/// `POST /v2.1/{project_id}/servers`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaCreateServerRequest)]
pub struct CreateServerRequest {
    pub server: CreateServer,
    #[serde(rename = "os:scheduler_hints", alias = "OS-SCH-HNT:scheduler_hints")]
    pub scheduler_hints: Option<SchedulerHints>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaCreateServer)]
pub struct CreateServer {
    pub name: String,
    /// The image id (or its URL); may be empty when `block_device_mapping_v2` boots from an image.
    #[serde(rename = "imageRef", default)]
    pub image_ref: Option<String>,
    /// The flavor id (or its URL).
    #[serde(rename = "flavorRef")]
    pub flavor_ref: String,
    /// Networks by `uuid` (a subnet of the catalogue, as Neutron shows it), optionally with a
    /// `fixed_ip`; or `auto`.
    pub networks: Option<Networks>,
    pub key_name: Option<String>,
    /// By name (`default` the project's default group) or by id.
    #[serde(default)]
    pub security_groups: Vec<NameRef>,
    #[serde(default)]
    pub block_device_mapping_v2: Vec<BlockDevice>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    pub user_data: Option<String>,
    pub min_count: Option<u32>,
    pub max_count: Option<u32>,
    pub availability_zone: Option<String>,
    #[serde(rename = "adminPass")]
    pub admin_pass: Option<String>,
    pub description: Option<String>,
    /// Tags (microversion 2.52 and later); ecsd takes them at any microversion.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `networks`: a list, or `auto` / `none` (microversion 2.37).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = NovaNetworks)]
pub enum Networks {
    Listed(Vec<NetworkRef>),
    Word(String),
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaNetworkRef)]
pub struct NetworkRef {
    pub uuid: Option<String>,
    pub port: Option<String>,
    pub fixed_ip: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaNameRef)]
pub struct NameRef {
    pub name: String,
}

/// One block device of `block_device_mapping_v2`: the boot disk (`boot_index` 0, from an
/// image) or a blank data disk.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaBlockDevice)]
pub struct BlockDevice {
    /// `image`, `blank` (or `volume`, which ecsd does not take yet).
    pub source_type: Option<String>,
    pub destination_type: Option<String>,
    pub uuid: Option<String>,
    /// 0 for the boot disk; a number or its text.
    #[schema(value_type = Option<Object>)]
    pub boot_index: Option<serde_json::Value>,
    pub volume_size: Option<u32>,
    pub volume_type: Option<String>,
    pub delete_on_termination: Option<bool>,
}

impl BlockDevice {
    pub fn is_boot(&self) -> bool {
        match &self.boot_index {
            Some(serde_json::Value::Number(n)) => n.as_i64() == Some(0),
            Some(serde_json::Value::String(s)) => s.trim() == "0",
            _ => false,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaSchedulerHints)]
pub struct SchedulerHints {
    /// The server group (an ECS group) the servers join.
    pub group: Option<String>,
}

/// The answer to a create: the first server, as Nova gives it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaCreatedServerResponse)]
pub struct CreatedServerResponse {
    pub server: CreatedServer,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaCreatedServer)]
pub struct CreatedServer {
    pub id: String,
    pub links: Vec<Link>,
    #[serde(rename = "OS-DCF:diskConfig")]
    pub disk_config: &'static str,
    pub security_groups: Vec<NameOnly>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaNameOnly)]
pub struct NameOnly {
    pub name: String,
}

pub fn server_links(base_url: &str, project_id: &str, server_id: &str) -> Vec<Link> {
    vec![
        Link { rel: "self", href: format!("{base_url}/v2.1/{project_id}/servers/{server_id}") },
        Link { rel: "bookmark", href: format!("{base_url}/{project_id}/servers/{server_id}") },
    ]
}

/// The security groups Nova shows for a server, by id.
/// The names of the server's groups (`names`: the project's, by id), as ECS shows them.
pub fn security_group_names(server: &Server, names: &GroupNames) -> Vec<NameOnly> {
    server
        .security_group_ids
        .iter()
        .map(|id| NameOnly { name: names.get(id).cloned().unwrap_or_else(|| id.clone()) })
        .collect()
}

/// `GET /v2.1/{project_id}/servers`: ids, names and links.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaServersResponse)]
pub struct ServersResponse {
    pub servers: Vec<ServerSummary>,
    /// A `next` link when the page is full.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub servers_links: Vec<Link>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaServerSummary)]
pub struct ServerSummary {
    pub id: String,
    pub name: String,
    pub links: Vec<Link>,
}

/// `GET /v2.1/{project_id}/servers/detail`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaServersDetailResponse)]
pub struct ServersDetailResponse {
    pub servers: Vec<NovaServer>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub servers_links: Vec<Link>,
}

/// `GET /v2.1/{project_id}/servers/{server_id}`, `PUT` of the same.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaServerResponse)]
pub struct ServerResponse {
    pub server: NovaServer,
}

/// A server as Nova shows it, at the negotiated microversion.
#[derive(Debug, Serialize, ToSchema)]
pub struct NovaServer {
    pub id: String,
    pub name: String,
    pub status: Status,
    pub tenant_id: String,
    pub user_id: String,
    pub metadata: BTreeMap<String, String>,
    #[serde(rename = "hostId")]
    pub host_id: String,
    pub image: ImageRef,
    pub flavor: ServerFlavor,
    pub created: String,
    pub updated: String,
    /// By network (the server's VPC id), as ECS shows them.
    pub addresses: BTreeMap<String, Vec<NovaAddress>>,
    #[serde(rename = "accessIPv4")]
    pub access_ipv4: String,
    #[serde(rename = "accessIPv6")]
    pub access_ipv6: String,
    pub links: Vec<Link>,
    #[serde(rename = "OS-DCF:diskConfig")]
    pub disk_config: &'static str,
    pub progress: u8,
    #[serde(rename = "OS-EXT-AZ:availability_zone")]
    pub availability_zone: String,
    pub config_drive: String,
    pub key_name: Option<String>,
    #[serde(rename = "OS-SRV-USG:launched_at")]
    pub launched_at: Option<String>,
    #[serde(rename = "OS-SRV-USG:terminated_at")]
    pub terminated_at: Option<String>,
    #[serde(rename = "OS-EXT-SRV-ATTR:host")]
    pub host: Option<String>,
    #[serde(rename = "OS-EXT-SRV-ATTR:instance_name")]
    pub instance_name: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:hypervisor_hostname")]
    pub hypervisor_hostname: Option<String>,
    #[serde(rename = "OS-EXT-SRV-ATTR:hostname", skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(rename = "OS-EXT-SRV-ATTR:reservation_id", skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<String>,
    #[serde(rename = "OS-EXT-SRV-ATTR:launch_index", skip_serializing_if = "Option::is_none")]
    pub launch_index: Option<u32>,
    #[serde(rename = "OS-EXT-SRV-ATTR:root_device_name", skip_serializing_if = "Option::is_none")]
    pub root_device_name: Option<String>,
    #[serde(rename = "OS-EXT-SRV-ATTR:user_data", skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
    #[serde(rename = "OS-EXT-STS:task_state")]
    pub task_state: Option<&'static str>,
    #[serde(rename = "OS-EXT-STS:vm_state")]
    pub vm_state: &'static str,
    #[serde(rename = "OS-EXT-STS:power_state")]
    pub power_state: u8,
    #[serde(rename = "os-extended-volumes:volumes_attached")]
    pub volumes_attached: Vec<AttachedVolume>,
    pub security_groups: Vec<NameOnly>,
    /// Microversion 2.9 and later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked: Option<bool>,
    /// Microversion 2.16 and later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_status: Option<&'static str>,
    /// Microversion 2.19 and later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Microversion 2.26 and later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaImageRef)]
pub struct ImageRef {
    pub id: String,
    pub links: Vec<Link>,
}

/// The flavor of a server: a reference before microversion 2.47, the flavor itself from it on.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = NovaServerFlavor)]
pub enum ServerFlavor {
    Reference {
        id: String,
        links: Vec<Link>,
    },
    Embedded {
        original_name: String,
        vcpus: u32,
        ram: u64,
        disk: u32,
        ephemeral: u32,
        swap: u32,
        extra_specs: BTreeMap<&'static str, String>,
    },
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NovaAddress {
    pub version: u8,
    pub addr: String,
    #[serde(rename = "OS-EXT-IPS:type")]
    pub ip_type: &'static str,
    #[serde(rename = "OS-EXT-IPS-MAC:mac_addr")]
    pub mac_addr: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaAttachedVolume)]
pub struct AttachedVolume {
    pub id: String,
    /// Microversion 2.3 and later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_on_termination: Option<bool>,
}

fn flavor_of(server: &Server, catalogue: &Catalogue, base_url: &str, version: Microversion) -> ServerFlavor {
    if !version.at_least(47) {
        let href = format!("{base_url}/{}/flavors/{}", server.project_id, server.flavor_id);
        return ServerFlavor::Reference { id: server.flavor_id.clone(), links: vec![Link { rel: "bookmark", href }] };
    }
    let flavor = catalogue.flavor(&server.flavor_id);
    ServerFlavor::Embedded {
        original_name: server.flavor_id.clone(),
        vcpus: flavor.map_or(0, |f| f.vcpus),
        ram: flavor.map_or(0, |f| f.ram_mib),
        disk: 0,
        ephemeral: 0,
        swap: 0,
        extra_specs: flavor.map(|f| f.extra_specs(&catalogue.availability_zones)).unwrap_or_default(),
    }
}

impl NovaServer {
    pub fn of(
        server: &Server,
        catalogue: &Catalogue,
        names: &GroupNames,
        base_url: &str,
        version: Microversion,
    ) -> Self {
        let mut addresses: BTreeMap<String, Vec<NovaAddress>> = BTreeMap::new();
        for nic in &server.nics {
            addresses.entry(server.vpc_id.clone()).or_default().push(NovaAddress {
                version: 4,
                addr: nic.ip.to_string(),
                ip_type: "fixed",
                mac_addr: nic.mac.clone(),
            });
        }
        let extended = version.at_least(3);
        NovaServer {
            id: server.id.clone(),
            name: server.name.clone(),
            status: server.status(),
            tenant_id: server.project_id.clone(),
            user_id: server.project_id.clone(),
            metadata: server.metadata.clone(),
            host_id: placement::host_id(&server.project_id, server.host.as_deref()),
            image: ImageRef {
                id: server.image_id.clone(),
                links: vec![Link {
                    rel: "bookmark",
                    href: format!("{base_url}/{}/images/{}", server.project_id, server.image_id),
                }],
            },
            flavor: flavor_of(server, catalogue, base_url, version),
            created: server_time(server.created),
            updated: server_time(server.updated),
            addresses,
            access_ipv4: String::new(),
            access_ipv6: String::new(),
            links: server_links(base_url, &server.project_id, &server.id),
            disk_config: "MANUAL",
            progress: if server.task_state.is_none() { 100 } else { 0 },
            availability_zone: server.availability_zone.clone(),
            config_drive: String::new(),
            key_name: server.key_name.clone(),
            launched_at: server.launched_at.map(launch_time),
            terminated_at: None,
            host: server.host.clone(),
            instance_name: server.instance_name.clone(),
            hypervisor_hostname: server.host.as_deref().map(placement::Host::hypervisor_hostname),
            hostname: extended.then(|| server.hostname.clone()),
            reservation_id: extended.then(|| server.reservation_id.clone()),
            launch_index: extended.then_some(server.launch_index),
            root_device_name: extended.then(|| "/dev/vda".to_string()),
            user_data: extended.then(|| server.user_data.clone()).flatten(),
            task_state: server.task_state.map(|t| t.as_str()),
            vm_state: server.vm_state.as_str(),
            power_state: server.power_state(),
            volumes_attached: server
                .volumes
                .iter()
                .map(|v| AttachedVolume {
                    id: v.id.clone(),
                    delete_on_termination: extended.then_some(v.delete_on_termination),
                })
                .collect(),
            security_groups: security_group_names(server, names),
            locked: version.at_least(9).then_some(server.locked),
            host_status: version.at_least(16).then_some("UP"),
            description: version.at_least(19).then(|| server.description.clone()),
            tags: version.at_least(26).then(|| server.tag_strings()),
        }
    }
}

/// `PUT /v2.1/{project_id}/servers/{server_id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaUpdateServerRequest)]
pub struct UpdateServerRequest {
    pub server: UpdateServer,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaUpdateServer)]
pub struct UpdateServer {
    pub name: Option<String>,
    /// Microversion 2.19 and later.
    pub description: Option<String>,
}

/// The parts of an action body that carry arguments; the action itself is the body's key.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = NovaServerAction)]
pub struct ServerAction {
    pub reboot: Option<RebootAction>,
    #[serde(rename = "os-getConsoleOutput")]
    pub console_output: Option<ConsoleOutputAction>,
    #[serde(rename = "addSecurityGroup")]
    pub add_security_group: Option<SecurityGroupAction>,
    #[serde(rename = "removeSecurityGroup")]
    pub remove_security_group: Option<SecurityGroupAction>,
    pub resize: Option<ResizeAction>,
}

/// `resize` (`confirmResize` and `revertResize` take no argument).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaResizeAction)]
pub struct ResizeAction {
    /// The new flavor's id (or its URL).
    #[serde(rename = "flavorRef")]
    pub flavor_ref: Option<String>,
}

/// `addSecurityGroup`, `removeSecurityGroup`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaSecurityGroupAction)]
pub struct SecurityGroupAction {
    /// The group's name (or its id).
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaRebootAction)]
pub struct RebootAction {
    /// `SOFT` or `HARD`.
    #[serde(rename = "type")]
    pub reboot_type: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaConsoleOutputAction)]
pub struct ConsoleOutputAction {
    /// The number of last lines; all when absent or null. A number or its text.
    #[schema(value_type = Option<Object>)]
    pub length: Option<serde_json::Value>,
}

/// `os-getConsoleOutput`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaConsoleOutput)]
pub struct ConsoleOutput {
    pub output: String,
}

/// `GET /v2.1/{project_id}/servers/{server_id}/os-instance-actions`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaInstanceActions)]
pub struct InstanceActions {
    #[serde(rename = "instanceActions")]
    pub instance_actions: Vec<InstanceAction>,
}

/// `GET .../os-instance-actions/{request_id}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaInstanceActionResponse)]
pub struct InstanceActionResponse {
    #[serde(rename = "instanceAction")]
    pub instance_action: InstanceAction,
}

/// One operation a server went through: one sub-job of the job engine. Its `request_id` is the
/// job's id.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaInstanceAction)]
pub struct InstanceAction {
    /// `create`, `start`, `stop`, `reboot`, `resize`, `confirmResize`, `revertResize`, `delete`,
    /// `rebuild` (a reinstall or an OS change), `migrate`, `evacuate` (a redeploy), `restore`
    /// (from the recycle bin), `attach_interface`, `detach_interface`, `attach_volume`,
    /// `detach_volume`, `extend_volume`.
    pub action: &'static str,
    pub instance_uuid: String,
    pub request_id: String,
    pub project_id: String,
    pub user_id: String,
    pub start_time: String,
    /// The failure, when the operation failed.
    pub message: Option<String>,
    /// Only when one action is shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<InstanceActionEvent>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaInstanceActionEvent)]
pub struct InstanceActionEvent {
    /// `compute_<action>_instance`.
    pub event: String,
    pub start_time: String,
    pub finish_time: Option<String>,
    /// `Success`, `Error`, or null while it runs.
    pub result: Option<&'static str>,
    pub traceback: Option<String>,
}

impl InstanceAction {
    pub fn of(sub: &SubJob, with_events: bool) -> Self {
        let action = match sub.operation.kind() {
            crate::domain::status::OperationKind::Create => "create",
            crate::domain::status::OperationKind::Start => "start",
            crate::domain::status::OperationKind::Stop => "stop",
            crate::domain::status::OperationKind::Reboot => "reboot",
            crate::domain::status::OperationKind::Resize => "resize",
            crate::domain::status::OperationKind::ConfirmResize => "confirmResize",
            crate::domain::status::OperationKind::RevertResize => "revertResize",
            crate::domain::status::OperationKind::Delete => "delete",
            crate::domain::status::OperationKind::Reinstall | crate::domain::status::OperationKind::ChangeOs => {
                "rebuild"
            }
            crate::domain::status::OperationKind::Migrate => "migrate",
            crate::domain::status::OperationKind::Redeploy => "evacuate",
            crate::domain::status::OperationKind::Restore => "restore",
            // A move to another VPC is, to Nova, a new interface attached in place of the old.
            crate::domain::status::OperationKind::AddNics | crate::domain::status::OperationKind::ChangeVpc => {
                "attach_interface"
            }
            crate::domain::status::OperationKind::DeleteNics => "detach_interface",
            crate::domain::status::OperationKind::AttachVolume => "attach_volume",
            crate::domain::status::OperationKind::DetachVolume => "detach_volume",
            crate::domain::status::OperationKind::ExtendVolume => "extend_volume",
            // EVS's own work has no server, so it is in no server's history; named for completeness.
            crate::domain::status::OperationKind::CreateVolume => "create_volume",
            crate::domain::status::OperationKind::DeleteVolume => "delete_volume",
        };
        let result = match sub.status {
            JobStatus::Success => Some("Success"),
            JobStatus::Fail => Some("Error"),
            JobStatus::Init | JobStatus::Running => None,
        };
        InstanceAction {
            action,
            instance_uuid: sub.server_id.clone(),
            request_id: sub.job_id.clone(),
            project_id: sub.project_id.clone(),
            user_id: sub.project_id.clone(),
            start_time: launch_time(sub.begin_time),
            message: sub.failure.as_ref().map(|f| f.reason.clone()),
            events: with_events.then(|| {
                vec![InstanceActionEvent {
                    event: format!("compute_{action}_instance"),
                    start_time: launch_time(sub.begin_time),
                    finish_time: sub.end_time.map(launch_time),
                    result,
                    traceback: None,
                }]
            }),
        }
    }
}

/// `GET`/`POST`/`PUT .../servers/{server_id}/metadata`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(as = NovaMetadataBody)]
pub struct MetadataBody {
    pub metadata: BTreeMap<String, String>,
}

/// `GET`/`PUT .../servers/{server_id}/metadata/{key}`: one pair.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(as = NovaMetaItem)]
pub struct MetaItem {
    pub meta: BTreeMap<String, String>,
}

/// A flavor as Nova shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NovaFlavor {
    pub id: String,
    pub name: String,
    pub vcpus: u32,
    pub ram: u64,
    pub disk: u32,
    #[serde(rename = "OS-FLV-EXT-DATA:ephemeral")]
    pub ephemeral: u32,
    pub swap: String,
    pub rxtx_factor: f64,
    #[serde(rename = "os-flavor-access:is_public")]
    pub is_public: bool,
    #[serde(rename = "OS-FLV-DISABLED:disabled")]
    pub disabled: bool,
    pub links: Vec<Link>,
    /// Microversion 2.55 and later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl NovaFlavor {
    pub fn of(flavor: &Flavor, base_url: &str, project_id: &str, version: Microversion) -> Self {
        NovaFlavor {
            id: flavor.id.clone(),
            name: flavor.id.clone(),
            vcpus: flavor.vcpus,
            ram: flavor.ram_mib,
            disk: 0,
            ephemeral: 0,
            swap: String::new(),
            rxtx_factor: 1.0,
            is_public: true,
            disabled: false,
            links: flavor_links(base_url, project_id, &flavor.id),
            description: version.at_least(55).then(String::new),
        }
    }
}

pub fn flavor_links(base_url: &str, project_id: &str, flavor_id: &str) -> Vec<Link> {
    vec![
        Link { rel: "self", href: format!("{base_url}/v2.1/{project_id}/flavors/{flavor_id}") },
        Link { rel: "bookmark", href: format!("{base_url}/{project_id}/flavors/{flavor_id}") },
    ]
}

/// `GET .../flavors`: ids, names and links.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaFlavorsResponse)]
pub struct FlavorsResponse {
    pub flavors: Vec<FlavorSummary>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaFlavorSummary)]
pub struct FlavorSummary {
    pub id: String,
    pub name: String,
    pub links: Vec<Link>,
}

/// `GET .../flavors/detail`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaFlavorsDetailResponse)]
pub struct FlavorsDetailResponse {
    pub flavors: Vec<NovaFlavor>,
}

/// `GET .../flavors/{flavor_id}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaFlavorResponse)]
pub struct FlavorResponse {
    pub flavor: NovaFlavor,
}

/// `GET .../flavors/{flavor_id}/os-extra_specs`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaExtraSpecsResponse)]
pub struct ExtraSpecsResponse {
    pub extra_specs: BTreeMap<&'static str, String>,
}

/// `GET .../limits`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaLimitsResponse)]
pub struct LimitsResponse {
    pub limits: Limits,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaLimits)]
pub struct Limits {
    /// Always empty: ecsd has no rate limits.
    #[schema(value_type = Vec<Object>)]
    pub rate: Vec<()>,
    pub absolute: AbsoluteLimits,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = NovaAbsoluteLimits)]
pub struct AbsoluteLimits {
    pub max_total_instances: i64,
    pub max_total_cores: i64,
    #[serde(rename = "maxTotalRAMSize")]
    pub max_total_ram_size: i64,
    pub max_server_meta: i64,
    pub max_personality: i64,
    pub max_personality_size: i64,
    pub max_total_keypairs: i64,
    pub max_server_groups: i64,
    pub max_server_group_members: i64,
    pub max_security_groups: i64,
    pub max_security_group_rules: i64,
    pub max_total_floating_ips: i64,
    pub max_image_meta: i64,
    pub total_instances_used: i64,
    pub total_cores_used: i64,
    #[serde(rename = "totalRAMUsed")]
    pub total_ram_used: i64,
    pub total_server_groups_used: i64,
    pub total_security_groups_used: i64,
    pub total_floating_ips_used: i64,
}

/// `GET .../os-availability-zone`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NovaAvailabilityZones {
    pub availability_zone_info: Vec<NovaAvailabilityZone>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NovaAvailabilityZone {
    pub zone_name: String,
    pub zone_state: NovaZoneState,
    /// Null in the plain list; the zone's simulated hosts in `/detail`.
    #[schema(value_type = Option<Object>)]
    pub hosts: Option<BTreeMap<String, BTreeMap<&'static str, ZoneService>>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NovaZoneState {
    pub available: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaZoneService)]
pub struct ZoneService {
    pub available: bool,
    pub active: bool,
    pub updated_at: Option<String>,
}

/// `POST .../os-server-groups`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaCreateServerGroupRequest)]
pub struct CreateServerGroupRequest {
    pub server_group: CreateServerGroup,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaCreateServerGroup)]
pub struct CreateServerGroup {
    pub name: String,
    /// One policy: `anti-affinity` (what ECS groups have).
    #[serde(default)]
    pub policies: Vec<String>,
    /// The policy as microversion 2.64 names it.
    pub policy: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaServerGroupResponse)]
pub struct ServerGroupResponse {
    pub server_group: NovaServerGroup,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaServerGroupsResponse)]
pub struct ServerGroupsResponse {
    pub server_groups: Vec<NovaServerGroup>,
}

/// An ECS group as Nova shows a server group.
#[derive(Debug, Serialize, ToSchema)]
pub struct NovaServerGroup {
    pub id: String,
    pub name: String,
    pub policies: Vec<String>,
    pub members: Vec<String>,
    pub metadata: BTreeMap<String, String>,
    /// Microversion 2.13 and later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

impl NovaServerGroup {
    pub fn of(group: &ServerGroup, project_id: &str, version: Microversion) -> Self {
        NovaServerGroup {
            id: group.id.clone(),
            name: group.name.clone(),
            policies: group.policies.clone(),
            members: group.members.clone(),
            metadata: BTreeMap::new(),
            project_id: version.at_least(13).then(|| project_id.to_string()),
            user_id: version.at_least(13).then(|| project_id.to_string()),
        }
    }
}

/// `POST .../os-keypairs`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaCreateKeypairRequest)]
pub struct CreateKeypairRequest {
    pub keypair: CreateKeypair,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaCreateKeypair)]
pub struct CreateKeypair {
    /// 1 to 255 letters, digits, `_`, `-` and spaces; unique in the project.
    pub name: String,
    /// `ssh` (microversion 2.2 and later; `x509` is refused).
    #[serde(rename = "type")]
    pub key_type: Option<String>,
    /// An OpenSSH public key to import (at most 1024 bytes); without it one is generated.
    pub public_key: Option<String>,
    /// Microversion 2.10 and later; ecsd keeps key pairs per project, so it is ignored.
    pub user_id: Option<String>,
}

/// The answer to a create: with the private key when ecsd generated the pair, the one time
/// it is given.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaCreatedKeypairResponse)]
pub struct CreatedKeypairResponse {
    pub keypair: CreatedKeypair,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaCreatedKeypair)]
pub struct CreatedKeypair {
    pub name: String,
    pub public_key: String,
    pub fingerprint: String,
    pub user_id: String,
    /// Microversion 2.2 and later.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub key_type: Option<&'static str>,
    /// Only for a generated pair (OpenSSH format).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
}

/// `GET .../os-keypairs`: each key pair wrapped in its own `keypair` object.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaKeypairsResponse)]
pub struct KeypairsResponse {
    pub keypairs: Vec<KeypairItem>,
    /// A `next` link when a `limit` (microversion 2.35 and later) cut the list.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keypairs_links: Vec<Link>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaKeypairItem)]
pub struct KeypairItem {
    pub keypair: KeypairSummary,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaKeypairSummary)]
pub struct KeypairSummary {
    pub name: String,
    pub public_key: String,
    pub fingerprint: String,
    /// Microversion 2.2 and later.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub key_type: Option<&'static str>,
}

/// `GET .../os-keypairs/{keypair_name}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaKeypairResponse)]
pub struct KeypairResponse {
    pub keypair: KeypairDetail,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaKeypairDetail)]
pub struct KeypairDetail {
    pub id: i64,
    pub name: String,
    pub public_key: String,
    pub fingerprint: String,
    pub user_id: String,
    pub created_at: String,
    pub updated_at: Option<String>,
    pub deleted: bool,
    pub deleted_at: Option<String>,
    /// Microversion 2.2 and later.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub key_type: Option<&'static str>,
}

impl KeypairSummary {
    pub fn of(keypair: &Keypair, version: Microversion) -> Self {
        KeypairSummary {
            name: keypair.name.clone(),
            public_key: keypair.public_key.clone(),
            fingerprint: keypair.fingerprint.clone(),
            key_type: version.at_least(2).then(|| keypair.key_type.as_str()),
        }
    }
}

impl KeypairDetail {
    pub fn of(keypair: &Keypair, version: Microversion) -> Self {
        KeypairDetail {
            id: keypair.id,
            name: keypair.name.clone(),
            public_key: keypair.public_key.clone(),
            fingerprint: keypair.fingerprint.clone(),
            user_id: keypair.project_id.clone(),
            created_at: launch_time(keypair.created),
            updated_at: None,
            deleted: false,
            deleted_at: None,
            key_type: version.at_least(2).then(|| keypair.key_type.as_str()),
        }
    }
}

/// `POST /v2.1/{project_id}/servers/{server_id}/os-interface`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaAttachInterfaceRequest)]
pub struct AttachInterfaceRequest {
    #[serde(rename = "interfaceAttachment")]
    pub interface_attachment: AttachInterface,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaAttachInterfaceOption)]
pub struct AttachInterface {
    /// The network (ecsd's subnet) to make a port on.
    pub net_id: Option<String>,
    /// An existing port to attach, not with `net_id`.
    pub port_id: Option<String>,
    /// At most one: the address the new port holds (with `net_id`).
    #[serde(default)]
    pub fixed_ips: Vec<AttachFixedIp>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaAttachInterfaceFixedIp)]
pub struct AttachFixedIp {
    pub ip_address: String,
}

/// An attach's answer, and `GET .../os-interface/{port_id}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaInterfaceAttachmentResponse)]
pub struct InterfaceAttachmentResponse {
    #[serde(rename = "interfaceAttachment")]
    pub interface_attachment: InterfaceAttachment,
}

/// `GET .../os-interface`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaInterfaceAttachmentsResponse)]
pub struct InterfaceAttachmentsResponse {
    #[serde(rename = "interfaceAttachments")]
    pub interface_attachments: Vec<InterfaceAttachment>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaInterfaceAttachment)]
pub struct InterfaceAttachment {
    /// `ACTIVE` (a port bound to the server).
    pub port_state: &'static str,
    pub fixed_ips: Vec<InterfaceFixedIp>,
    /// The network (ecsd's subnet) of the port.
    pub net_id: String,
    pub port_id: String,
    pub mac_addr: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaInterfaceFixedIp)]
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
        }
    }
}

/// `GET /v2.1/{project_id}/servers/{server_id}/os-security-groups`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaServerSecurityGroupsResponse)]
pub struct ServerSecurityGroupsResponse {
    pub security_groups: Vec<NovaSecurityGroup>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NovaSecurityGroup {
    pub description: String,
    pub id: String,
    pub name: String,
    pub tenant_id: String,
    /// The ingress rules (Nova's security groups show no egress rule).
    pub rules: Vec<NovaSecurityGroupRule>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NovaSecurityGroupRule {
    pub id: String,
    pub parent_group_id: String,
    /// Null for every protocol.
    pub ip_protocol: Option<String>,
    /// A TCP or UDP rule without ports is 1 to 65535, another protocol's -1.
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    /// The remote group, or `{}`.
    pub group: NovaRuleGroup,
    /// The remote prefix (`0.0.0.0/0` when the rule has none), or `{}` with a remote group.
    pub ip_range: NovaIpRange,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct NovaRuleGroup {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct NovaIpRange {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
}

impl NovaSecurityGroup {
    /// The group as Nova shows it; `groups` are the project's, which remote groups name.
    pub fn of(group: &SecurityGroup, rules: &[SecurityGroupRule], groups: &GroupNames) -> Self {
        NovaSecurityGroup {
            description: group.description.clone(),
            id: group.id.clone(),
            name: group.name.clone(),
            tenant_id: group.project_id.clone(),
            rules: rules
                .iter()
                .filter(|rule| rule.direction == Direction::Ingress)
                .map(|rule| NovaSecurityGroupRule::of(rule, groups))
                .collect(),
        }
    }
}

impl NovaSecurityGroupRule {
    fn of(rule: &SecurityGroupRule, groups: &GroupNames) -> Self {
        let protocol = rule.protocol.clone();
        let (from_port, to_port) = match (&protocol, rule.port_range_min, rule.port_range_max) {
            (Some(p), None, None) if p.eq_ignore_ascii_case("tcp") || p.eq_ignore_ascii_case("udp") => {
                (Some(1), Some(65535))
            }
            (Some(_), None, None) => (Some(-1), Some(-1)),
            (_, min, max) => (min.map(i32::from), max.map(i32::from)),
        };
        let (group, ip_range) = match &rule.remote_group_id {
            Some(remote) => (
                NovaRuleGroup {
                    name: Some(groups.get(remote).cloned().unwrap_or_else(|| remote.clone())),
                    tenant_id: Some(rule.project_id.clone()),
                },
                NovaIpRange::default(),
            ),
            None => (
                NovaRuleGroup::default(),
                NovaIpRange {
                    cidr: Some(
                        rule.remote_ip_prefix.clone().filter(|p| !p.is_empty()).unwrap_or_else(|| "0.0.0.0/0".into()),
                    ),
                },
            ),
        };
        NovaSecurityGroupRule {
            id: rule.id.clone(),
            parent_group_id: rule.security_group_id.clone(),
            ip_protocol: protocol,
            from_port,
            to_port,
            group,
            ip_range,
        }
    }
}

/// `POST /v2.1/{project_id}/servers/{server_id}/os-volume_attachments`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaAttachVolumeRequest)]
pub struct AttachVolumeRequest {
    #[serde(rename = "volumeAttachment")]
    pub volume_attachment: AttachVolume,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NovaAttachVolumeOption)]
pub struct AttachVolume {
    #[serde(rename = "volumeId")]
    pub volume_id: String,
    /// `/dev/vdX`; the next free device when absent.
    pub device: Option<String>,
}

/// An attach's answer, and `GET .../os-volume_attachments/{volume_id}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaVolumeAttachmentResponse)]
pub struct VolumeAttachmentResponse {
    #[serde(rename = "volumeAttachment")]
    pub volume_attachment: VolumeAttachment,
}

/// `GET .../os-volume_attachments`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaVolumeAttachmentsResponse)]
pub struct VolumeAttachmentsResponse {
    #[serde(rename = "volumeAttachments")]
    pub volume_attachments: Vec<VolumeAttachment>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NovaVolumeAttachment)]
pub struct VolumeAttachment {
    pub device: String,
    /// The volume's id (Nova names an attachment after its volume).
    pub id: String,
    #[serde(rename = "serverId")]
    pub server_id: String,
    #[serde(rename = "volumeId")]
    pub volume_id: String,
}

impl VolumeAttachment {
    pub fn of(server: &Server, device: &crate::domain::server::Volume) -> Self {
        VolumeAttachment {
            device: device.device.clone(),
            id: device.id.clone(),
            server_id: server.id.clone(),
            volume_id: device.id.clone(),
        }
    }
}

/// `GET`/`PUT /v2.1/{project_id}/servers/{server_id}/tags`: each tag is an ECS tag as
/// `key=value`, or `key` when it has no value.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(as = NovaServerTags)]
pub struct TagsBody {
    pub tags: Vec<String>,
}
