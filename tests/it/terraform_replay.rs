//! A replay of the HTTP calls Terraform's `huaweicloud` provider (v1.97, resource
//! `huaweicloud_compute_instance`) makes on apply, refresh, update and destroy of an instance
//! with a system disk, a data disk, one NIC on a subnet given by id, a security group by name,
//! tags and metadata. Terraform cannot fetch providers on the build machines, so the calls are
//! derived from the provider's public source and that of its SDK, github.com/chnsz/golangsdk;
//! every call below names the provider function it comes from (files under
//! `huaweicloud/services/ecs/` of huaweicloud/terraform-provider-huaweicloud) and the golangsdk
//! package that builds it.
//!
//! Requests are signed as golangsdk signs (no `Host`, `X-Project-Id` added after signing), each
//! answer must have a status the provider accepts (golangsdk's `OkCodes`), and is decoded into
//! Rust mirrors of the Go types the provider decodes it into, with Go's rules: unknown fields
//! are ignored, a missing or `null` field keeps its zero value, any other type mismatch is an
//! error, as it is for `encoding/json`.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Deserializer, de::DeserializeOwned};
use serde_json::{Value, json};

use crate::common::*;

/// `encoding/json` into a non-pointer Go field: `null` leaves the zero value.
fn go<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A Go struct of the provider's SDK: one line per field, its Rust type the Go type's
/// counterpart and its JSON tag.
macro_rules! go_struct {
    ($name:ident { $($field:ident: $ty:ty = $json:literal),* $(,)? }) => {
        // Every field is decoded, so that a type the provider would refuse fails here; the
        // replay reads only those the provider reads.
        #[allow(dead_code)]
        #[derive(Debug, Default, Clone, PartialEq, Deserialize)]
        struct $name {
            $(#[serde(rename = $json, default, deserialize_with = "go")] $field: $ty,)*
        }
    };
}

/// Go's `time.Time`: RFC 3339; an empty string is an error.
#[derive(Debug, Default, Clone, PartialEq)]
struct GoTime(Option<time::OffsetDateTime>);

impl<'de> Deserialize<'de> for GoTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
            .map(|t| GoTime(Some(t)))
            .map_err(|e| serde::de::Error::custom(format!("parsing time {text:?} as RFC 3339: {e}")))
    }
}

/// golangsdk's `JSONRFC3339Milli`: the layout `2006-01-02T15:04:05.999999Z`, a literal `Z`.
#[derive(Debug, Default, Clone, PartialEq)]
struct GoMilliTime(String);

impl<'de> Deserialize<'de> for GoMilliTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let format = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]Z"
        );
        time::PrimitiveDateTime::parse(&text, &format)
            .map(|_| GoMilliTime(text.clone()))
            .map_err(|e| serde::de::Error::custom(format!("parsing time {text:?} as RFC3339Milli: {e}")))
    }
}

// openstack/ecs/v1/cloudservers/results.go
go_struct!(CloudServer {
    status: String = "status",
    updated: GoTime = "updated",
    host_id: String = "hostId",
    addresses: BTreeMap<String, Vec<Address>> = "addresses",
    id: String = "id",
    name: String = "name",
    access_ipv4: String = "accessIPv4",
    access_ipv6: String = "accessIPv6",
    created: GoTime = "created",
    tags: Vec<String> = "tags",
    description: String = "description",
    locked: Option<bool> = "locked",
    config_drive: String = "config_drive",
    tenant_id: String = "tenant_id",
    user_id: String = "user_id",
    host_status: String = "host_status",
    enterprise_project_id: String = "enterprise_project_id",
    sys_tags: Vec<SysTag> = "sys_tags",
    flavor: Flavor = "flavor",
    metadata: Metadata = "metadata",
    security_groups: Vec<SecurityGroupRef> = "security_groups",
    key_name: String = "key_name",
    image: ImageRef = "image",
    progress: Option<i64> = "progress",
    power_state: Option<i64> = "OS-EXT-STS:power_state",
    vm_state: String = "OS-EXT-STS:vm_state",
    task_state: String = "OS-EXT-STS:task_state",
    disk_config: String = "OS-DCF:diskConfig",
    availability_zone: String = "OS-EXT-AZ:availability_zone",
    launched_at: String = "OS-SRV-USG:launched_at",
    terminated_at: String = "OS-SRV-USG:terminated_at",
    root_device_name: String = "OS-EXT-SRV-ATTR:root_device_name",
    ramdisk_id: String = "OS-EXT-SRV-ATTR:ramdisk_id",
    kernel_id: String = "OS-EXT-SRV-ATTR:kernel_id",
    launch_index: Option<i64> = "OS-EXT-SRV-ATTR:launch_index",
    reservation_id: String = "OS-EXT-SRV-ATTR:reservation_id",
    hostname: String = "OS-EXT-SRV-ATTR:hostname",
    user_data: String = "OS-EXT-SRV-ATTR:user_data",
    host: String = "OS-EXT-SRV-ATTR:host",
    instance_name: String = "OS-EXT-SRV-ATTR:instance_name",
    hypervisor_hostname: String = "OS-EXT-SRV-ATTR:hypervisor_hostname",
    volumes_attached: Vec<VolumeAttached> = "os-extended-volumes:volumes_attached",
    scheduler_hints: OsSchedulerHints = "os:scheduler_hints",
    fault: Fault = "fault",
    auto_terminate_time: String = "auto_terminate_time",
});

go_struct!(Address {
    version: String = "version",
    addr: String = "addr",
    mac_addr: String = "OS-EXT-IPS-MAC:mac_addr",
    port_id: String = "OS-EXT-IPS:port_id",
    kind: String = "OS-EXT-IPS:type",
    primary: bool = "primary",
});

go_struct!(VolumeAttached {
    id: String = "id",
    delete_on_termination: String = "delete_on_termination",
    boot_index: String = "bootIndex",
    device: String = "device",
});

go_struct!(Flavor {
    disk: String = "disk",
    vcpus: String = "vcpus",
    ram: String = "ram",
    id: String = "id",
    name: String = "name",
});

go_struct!(ImageRef { id: String = "id" });

go_struct!(SysTag { key: String = "key", value: String = "value" });

go_struct!(SecurityGroupRef { name: String = "name", id: String = "id" });

go_struct!(OsSchedulerHints {
    group: Vec<String> = "group",
    tenancy: Vec<String> = "tenancy",
    dedicated_host_id: Vec<String> = "dedicated_host_id",
    fault_domain: String = "fault_domain",
});

go_struct!(Fault {
    code: i64 = "code",
    created: GoTime = "created",
    details: String = "details",
    message: String = "message",
});

go_struct!(Metadata {
    charging_mode: String = "charging_mode",
    order_id: String = "metering.order_id",
    product_id: String = "metering.product_id",
    vpc_id: String = "vpc_id",
    ecm_res_status: String = "EcmResStatus",
    image_id: String = "metering.image_id",
    image_type: String = "metering.imagetype",
    resource_spec_code: String = "metering.resourcespeccode",
    image_name: String = "image_name",
    os_bit: String = "os_bit",
    lock_check_endpoint: String = "lock_check_endpoint",
    lock_source: String = "lock_source",
    lock_source_id: String = "lock_source_id",
    lock_scene: String = "lock_scene",
    virtual_env_type: String = "virtual_env_type",
    agency_name: String = "agency_name",
    agent_list: String = "__support_agent_list",
});

// `GetResult.Extract`: the `server` member. `NewCloudServer` reads the metadata as a map.
go_struct!(ServerBody { server: Option<CloudServer> = "server" });
go_struct!(ServerMetadataBody { server: Option<ServerMetadataMap> = "server" });
go_struct!(ServerMetadataMap { metadata: BTreeMap<String, String> = "metadata" });

// openstack/ecs/v1/cloudservers/results_job.go
go_struct!(JobResponse { job_id: String = "job_id", server_ids: Vec<String> = "serverIds" });

go_struct!(JobStatus {
    status: String = "status",
    entities: JobEntity = "entities",
    job_id: String = "job_id",
    job_type: String = "job_type",
    begin_time: String = "begin_time",
    end_time: String = "end_time",
    error_code: String = "error_code",
    fail_reason: String = "fail_reason",
});

go_struct!(JobEntity { sub_jobs_total: i64 = "sub_jobs_total", sub_jobs: Vec<SubJob> = "sub_jobs" });

go_struct!(SubJob {
    id: String = "job_id",
    kind: String = "job_type",
    status: String = "status",
    begin_time: String = "begin_time",
    end_time: String = "end_time",
    error_code: String = "error_code",
    fail_reason: String = "fail_reason",
    entities: BTreeMap<String, Value> = "entities",
});

// openstack/networking/v1/subnets/results.go
go_struct!(SubnetBody { subnet: Option<Subnet> = "subnet" });
go_struct!(Subnet {
    id: String = "id",
    name: String = "name",
    description: String = "description",
    cidr: String = "cidr",
    dns_list: Vec<String> = "dnsList",
    status: String = "status",
    gateway_ip: String = "gateway_ip",
    ipv6_enable: bool = "ipv6_enable",
    cidr_v6: String = "cidr_v6",
    gateway_ip_v6: String = "gateway_ip_v6",
    dhcp_enable: bool = "dhcp_enable",
    primary_dns: String = "primary_dns",
    secondary_dns: String = "secondary_dns",
    availability_zone: String = "availability_zone",
    vpc_id: String = "vpc_id",
    neutron_subnet_id: String = "neutron_subnet_id",
    neutron_subnet_id_v6: String = "neutron_subnet_id_v6",
    extra_dhcp_opts: Vec<DhcpOption> = "extra_dhcp_opts",
});

go_struct!(DhcpOption { name: String = "opt_name", value: String = "opt_value" });

// openstack/networking/v1/security/securitygroups/results.go
go_struct!(SecurityGroupsBody { security_groups: Vec<SecurityGroup> = "security_groups" });
go_struct!(SecurityGroup {
    name: String = "name",
    description: String = "description",
    id: String = "id",
    vpc_id: String = "vpc_id",
    rules: Vec<SecurityGroupRule> = "security_group_rules",
    enterprise_project_id: String = "enterprise_project_id",
});

go_struct!(SecurityGroupRule {
    id: String = "id",
    description: String = "description",
    security_group_id: String = "security_group_id",
    direction: String = "direction",
    ethertype: String = "ethertype",
    protocol: String = "protocol",
    port_range_min: Option<i64> = "port_range_min",
    port_range_max: Option<i64> = "port_range_max",
    remote_ip_prefix: String = "remote_ip_prefix",
    remote_group_id: String = "remote_group_id",
});

// openstack/networking/v1/ports/results.go
go_struct!(PortBody { port: Option<Port> = "port" });
go_struct!(PortsBody { ports: Vec<Port> = "ports" });
go_struct!(Port {
    admin_state_up: bool = "admin_state_up",
    created_at: String = "created_at",
    id: String = "id",
    name: String = "name",
    network_id: String = "network_id",
    mac_address: String = "mac_address",
    fixed_ips: Vec<FixedIp> = "fixed_ips",
    device_id: String = "device_id",
    device_owner: String = "device_owner",
    tenant_id: String = "tenant_id",
    status: String = "status",
    security_groups: Vec<String> = "security_groups",
    allowed_address_pairs: Vec<AddressPair> = "allowed_address_pairs",
    extra_dhcp_opts: Vec<DhcpOption> = "extra_dhcp_opts",
    vif_details: VifDetail = "binding:vif_details",
    vnic_type: String = "binding:vnic_type",
    dns_assignment: Vec<DnsAssignment> = "dns_assignment",
    dns_name: String = "dns_name",
    instance_id: String = "instance_id",
    instance_type: String = "instance_type",
    port_security_enabled: bool = "port_security_enabled",
    zone_id: String = "zone_id",
    enable_efi: bool = "enable_efi",
    ipv6_bandwidth_id: String = "ipv6_bandwidth_id",
});

go_struct!(FixedIp { subnet_id: String = "subnet_id", ip_address: String = "ip_address" });
go_struct!(AddressPair { ip_address: String = "ip_address", mac_address: String = "mac_address" });
go_struct!(VifDetail { primary_interface: bool = "primary_interface" });
go_struct!(DnsAssignment { hostname: String = "hostname", ip_address: String = "ip_address", fqdn: String = "fqdn" });

// openstack/evs/v2/cloudvolumes/results.go
go_struct!(VolumeBody { volume: Option<Volume> = "volume" });
go_struct!(Volume {
    id: String = "id",
    name: String = "name",
    status: String = "status",
    size: i64 = "size",
    description: String = "description",
    volume_type: String = "volume_type",
    iops: IopsAndThroughput = "iops",
    throughput: IopsAndThroughput = "throughput",
    availability_zone: String = "availability_zone",
    attachments: Vec<Attachment> = "attachments",
    links: Vec<Link> = "links",
    image_metadata: BTreeMap<String, String> = "volume_image_metadata",
    snapshot_id: String = "snapshot_id",
    source_volid: String = "source_volid",
    tenant_id: String = "os-vol-tenant-attr:tenant_id",
    service_type: String = "service_type",
    bootable: String = "bootable",
    multiattach: bool = "multiattach",
    dedicated_storage_id: String = "dedicated_storage_id",
    dedicated_storage_name: String = "dedicated_storage_name",
    encrypted: bool = "encrypted",
    wwn: String = "wwn",
    enterprise_project_id: String = "enterprise_project_id",
    replication_status: String = "replication_status",
    consistency_group_id: String = "consistencygroup_id",
    metadata: VolumeMetadata = "metadata",
    tags: BTreeMap<String, String> = "tags",
    user_id: String = "user_id",
    created_at: String = "created_at",
    updated_at: String = "updated_at",
});

go_struct!(IopsAndThroughput {
    frozened: bool = "frozened",
    id: String = "id",
    total_val: i64 = "total_val",
    volume_id: String = "volume_id",
});

go_struct!(Attachment {
    attachment_id: String = "attachment_id",
    volume_id: String = "volume_id",
    resource_id: String = "id",
    server_id: String = "server_id",
    host_name: String = "host_name",
    device: String = "device",
    attached_at: String = "attached_at",
});

go_struct!(Link { href: String = "href", rel: String = "rel" });

go_struct!(VolumeMetadata {
    system_cmk_id: String = "__system__cmkid",
    system_encrypted: String = "__system__encrypted",
    full_clone: String = "full_clone",
    hw_passthrough: String = "hw:passthrough",
    order_id: String = "orderID",
    resource_type: String = "resourceType",
    resource_spec_code: String = "resourceSpecCode",
    read_only: String = "readonly",
    attached_mode: String = "attached_mode",
});

// openstack/ecs/v1/block_devices/results.go: `bootIndex` goes through an `interface{}`, which
// its UnmarshalJSON asserts to be a float64 (a panic otherwise) and turns `null` into -1.
go_struct!(BlockDeviceBody { attachment: Option<BlockDevice> = "volumeAttachment" });
go_struct!(BlockDevice {
    server_id: String = "serverId",
    volume_id: String = "volumeId",
    id: String = "id",
    device: String = "device",
    pci_address: String = "pciAddress",
    size: i64 = "size",
    boot_index: Value = "bootIndex",
    bus: String = "bus",
});

impl BlockDevice {
    fn boot_index(&self) -> i64 {
        match &self.boot_index {
            Value::Null => -1,
            Value::Number(n) => n.as_f64().expect("a number") as i64,
            other => panic!("the provider panics: bootIndex {other} is not a JSON number"),
        }
    }
}

// openstack/ims/v2/cloudimages/results.go
go_struct!(ImagesBody { images: Vec<Image> = "images" });
go_struct!(Image {
    id: String = "id",
    name: String = "name",
    status: String = "status",
    visibility: String = "visibility",
    owner: String = "owner",
    tags: Vec<String> = "tags",
    deleted: bool = "deleted",
    protected: bool = "protected",
    container_format: String = "container_format",
    disk_format: String = "disk_format",
    min_ram: i64 = "min_ram",
    max_ram: String = "max_ram",
    min_disk: i64 = "min_disk",
    size: i64 = "size",
    virtual_size: i64 = "virtual_size",
    created_at: GoMilliTime = "created_at",
    updated_at: GoMilliTime = "updated_at",
    os_bit: String = "__os_bit",
    os_version: String = "__os_version",
    os_type: String = "__os_type",
    platform: String = "__platform",
    image_type: String = "__imagetype",
    is_registered: String = "__isregistered",
    support_kvm: String = "__support_kvm",
    system_support_market: bool = "__system_support_market",
    virtual_env_type: String = "virtual_env_type",
    enterprise_project_id: String = "enterprise_project_id",
});

// openstack/identity/v3/domains/results.go and projects/results.go
go_struct!(DomainsBody { domains: Vec<Domain> = "domains" });
go_struct!(Domain {
    description: String = "description",
    enabled: bool = "enabled",
    id: String = "id",
    links: BTreeMap<String, Value> = "links",
    name: String = "name",
});
go_struct!(ProjectsBody { projects: Vec<Project> = "projects" });
go_struct!(Project {
    is_domain: bool = "is_domain",
    description: String = "description",
    domain_id: String = "domain_id",
    enabled: bool = "enabled",
    id: String = "id",
    name: String = "name",
    parent_id: String = "parent_id",
    status: String = "status",
});

/// The provider: golangsdk's clients, all pointed at one ecsd as the README's `endpoints` block
/// points them.
struct Provider {
    sdk: GoSdk,
    project: String,
    calls: Vec<String>,
}

/// Default `OkCodes` of golangsdk (`defaultOkCodes` in provider_client.go), per method.
fn default_ok_codes(method: &Method) -> &'static [u16] {
    match *method {
        Method::GET => &[200],
        Method::DELETE => &[200, 202, 204],
        _ => &[200, 201, 202],
    }
}

impl Provider {
    /// One call; `ok` is the call's `OkCodes` (None for golangsdk's defaults). Returns the body
    /// decoded into `T`, or `None` for a 404 when `may_be_gone` (what `CheckDeleted` treats as gone).
    async fn call<T: DeserializeOwned>(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Value>,
        ok: Option<&[u16]>,
        may_be_gone: bool,
    ) -> Option<T> {
        self.calls.push(format!("{method} {path}"));
        let (status, bytes) = self.sdk.request(method.clone(), path, body.as_ref()).await;
        let text = String::from_utf8_lossy(&bytes).to_string();
        if may_be_gone && status == StatusCode::NOT_FOUND {
            return None;
        }
        let ok = ok.unwrap_or_else(|| default_ok_codes(&method));
        assert!(ok.contains(&status.as_u16()), "{method} {path}: {status} is not among {ok:?}: {text}");
        let bytes = if bytes.is_empty() { b"{}".to_vec() } else { bytes };
        Some(
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{method} {path}: Go decoding fails: {e}: {text}")),
        )
    }

    async fn get<T: DeserializeOwned>(&mut self, path: &str) -> T {
        self.call(Method::GET, path, None, None, false).await.expect("an answer")
    }

    fn v1(&self, rest: &str) -> String {
        format!("/v1/{}{rest}", self.project)
    }

    fn v1_1(&self, rest: &str) -> String {
        format!("/v1.1/{}{rest}", self.project)
    }

    /// `cloudservers.WaitForJobSuccess` (ecs v1 client), then the job as `GetJobEntity` reads it.
    async fn wait_for_job_success(&mut self, job_id: &str) -> JobStatus {
        for _ in 0..200 {
            let job: JobStatus = self.get(&self.v1(&format!("/jobs/{job_id}"))).await;
            match job.status.as_str() {
                "SUCCESS" => return job,
                "FAIL" => panic!("job {job_id} failed with code {}: {}", job.error_code, job.fail_reason),
                _ => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
        panic!("job {job_id} never succeeded");
    }

    /// `doPowerAction` (resource_huaweicloud_compute_instance.go) over ecs/v1/powers.
    async fn power_action(&mut self, server_id: &str, action: &str) {
        let (key, body) = match action {
            "ON" => ("os-start", json!({"servers": [{"id": server_id}]})),
            "OFF" => ("os-stop", json!({"servers": [{"id": server_id}], "type": "SOFT"})),
            other => panic!("no power action {other} in this replay"),
        };
        let answer: JobResponse = self
            .call(Method::POST, &self.v1("/cloudservers/action"), Some(json!({ key: body })), Some(&[200]), false)
            .await
            .expect("an answer");
        self.wait_for_job_success(&answer.job_id).await;
    }
}

/// What `resourceComputeInstanceRead` sets in the state: the fields a plan compares with the
/// configuration.
#[derive(Debug, Clone, PartialEq)]
struct InstanceState {
    name: String,
    status: String,
    availability_zone: String,
    flavor_id: String,
    image_id: String,
    image_name: String,
    networks: Vec<NetworkState>,
    security_group_ids: Vec<String>,
    security_groups: Vec<String>,
    volumes: Vec<VolumeState>,
    system_disk_id: String,
    system_disk_size: i64,
    system_disk_type: String,
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
struct NetworkState {
    uuid: String,
    port: String,
    fixed_ip_v4: String,
    mac: String,
    source_dest_check: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct VolumeState {
    volume_id: String,
    size: i64,
    volume_type: String,
    boot_index: i64,
    delete_on_termination: String,
}

/// `resourceComputeInstanceRead`; `None` when the instance is gone (404 or `DELETED`).
async fn read(provider: &mut Provider, server_id: &str) -> Option<InstanceState> {
    let path = provider.v1(&format!("/cloudservers/{server_id}"));
    let body: ServerBody = provider.call(Method::GET, &path, None, Some(&[200, 203]), true).await?;
    let server = body.server.expect("a server");
    if server.status == "DELETED" {
        return None;
    }
    assert!(server.created.0.is_some() && server.updated.0.is_some(), "created and updated are set: {server:?}");

    // setImageInformation → getImage: cloudimages.List with the id (ims v2 client).
    let images: ImagesBody = provider.get(&format!("/v2/cloudimages?id={}", server.image.id)).await;
    let image_name = images.images.iter().find(|i| i.id == server.image.id).map(|i| i.name.clone());
    let image_name = image_name.unwrap_or_else(|| "Image not found".into());

    // flattenInstanceNetworks → getInstanceAddresses (compute_instance_networking.go):
    // ports.Get per fixed address, skipping a port repeated for its IPv6 address.
    let mut networks = Vec::new();
    let mut last_port = String::new();
    for address in server.addresses.values().flatten() {
        if address.kind != "fixed" || address.port_id == last_port {
            continue;
        }
        last_port = address.port_id.clone();
        let port: PortBody = provider.get(&provider.v1(&format!("/ports/{}", address.port_id))).await;
        let port = port.port.expect("a port");
        networks.push(NetworkState {
            uuid: port.network_id.clone(),
            port: address.port_id.clone(),
            fixed_ip_v4: port
                .fixed_ips
                .iter()
                .map(|ip| ip.ip_address.clone())
                .find(|ip| ip.contains('.'))
                .unwrap_or_default(),
            mac: address.mac_addr.clone(),
            source_dest_check: port.allowed_address_pairs.is_empty(),
        });
    }

    // getInstancePrimaryPortId, then getInstancePrimaryNicAssociatedSecurityGroups →
    // listInstancePorts (`v1/{project_id}/ports?device_id=...&limit=100`).
    let primary_port = server
        .addresses
        .get(&server.metadata.vpc_id)
        .and_then(|addresses| addresses.iter().find(|a| a.primary))
        .map(|a| a.port_id.clone())
        .expect("a primary address in the addresses of metadata.vpc_id");
    let ports: PortsBody = provider.get(&provider.v1(&format!("/ports?device_id={server_id}&limit=100"))).await;
    let security_group_ids = ports
        .ports
        .iter()
        .find(|p| p.id == primary_port)
        .map(|p| p.security_groups.clone())
        .filter(|groups| !groups.is_empty())
        .expect("the primary port is listed by device_id with its security groups");

    // Per attached volume: cloudvolumes.Get (evs v2 client) and block_devices.Get (ecs v1).
    let mut volumes = Vec::new();
    let (mut system_disk_id, mut system_disk_size, mut system_disk_type) = (String::new(), 0, String::new());
    for attached in &server.volumes_attached {
        let volume: VolumeBody = provider.get(&format!("/v2/{}/cloudvolumes/{}", provider.project, attached.id)).await;
        let volume = volume.volume.expect("a volume");
        let device: BlockDeviceBody =
            provider.get(&provider.v1(&format!("/cloudservers/{server_id}/block_device/{}", attached.id))).await;
        let boot_index = device.attachment.expect("a volumeAttachment").boot_index();
        if boot_index == 0 {
            system_disk_id = attached.id.clone();
            system_disk_size = volume.size;
            system_disk_type = volume.volume_type.clone();
        }
        volumes.push(VolumeState {
            volume_id: attached.id.clone(),
            size: volume.size,
            volume_type: volume.volume_type,
            boot_index,
            delete_on_termination: attached.delete_on_termination.clone(),
        });
    }

    Some(InstanceState {
        name: server.name,
        status: server.status,
        availability_zone: server.availability_zone,
        flavor_id: server.flavor.id,
        image_id: server.image.id,
        image_name,
        networks,
        security_group_ids,
        security_groups: server.security_groups.into_iter().map(|g| g.name).collect(),
        volumes,
        system_disk_id,
        system_disk_size,
        system_disk_type,
        // flattenTagsToMap over the `key=value` strings of `tags`.
        tags: server
            .tags
            .iter()
            .map(|t| {
                t.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).unwrap_or((t.clone(), String::new()))
            })
            .collect(),
    })
}

/// The server's metadata as `NewCloudServer` reads it, to check what the provider wrote.
async fn metadata(provider: &mut Provider, server_id: &str) -> BTreeMap<String, String> {
    let body: ServerMetadataBody = provider.get(&provider.v1(&format!("/cloudservers/{server_id}"))).await;
    body.server.expect("a server").metadata
}

#[tokio::test]
async fn the_huaweicloud_provider_applies_refreshes_updates_and_destroys_an_instance() {
    let ecs = TestServer::start().await;
    let mut provider = Provider { sdk: GoSdk::of(&ecs), project: ecs.project().to_string(), calls: vec![] };

    // ---- start-up, a provider block without `project_id` (huaweicloud/config/config.go):
    // getDomainID lists `auth/domains`, then loadUserProjects asks for the project named after
    // the region in that domain, for AK/SK callers too.
    let domains: DomainsBody = provider.get("/v3/auth/domains").await;
    let domain_id = domains.domains.first().expect("a domain").id.clone();
    let projects: ProjectsBody = provider.get(&format!("/v3/projects?domain_id={domain_id}&name=eu-de")).await;
    let found = projects.projects.iter().find(|p| p.name == "eu-de").expect("the region's project");
    assert_eq!(found.id, ecs.project(), "the region's project is the one the key is granted");

    // ---- apply: resourceComputeInstanceCreate
    // getVpcID: subnets.Get on the first network's uuid (networking v1 client).
    let subnet: SubnetBody = provider.get(&provider.v1(&format!("/subnets/{SUBNET}"))).await;
    let vpc_id = subnet.subnet.expect("a subnet").vpc_id;
    assert_eq!(vpc_id, VPC);
    // buildInstanceSecGroupIds: security groups given by name, resolved from the v1 list.
    let groups: SecurityGroupsBody =
        provider.get(&provider.v1("/security-groups?enterprise_project_id=all_granted_eps")).await;
    let default_group =
        groups.security_groups.iter().find(|g| g.name == "default").expect("a default group").id.clone();
    // cloudservers.Create on the v1.1 client, OkCodes 200 only.
    let create = json!({"server": {
        "imageRef": IMAGE,
        "flavorRef": "s6.small.1",
        "name": "tf-instance",
        "vpcid": vpc_id,
        "nics": [{"subnet_id": SUBNET}],
        "root_volume": {"volumetype": "SSD", "size": 40},
        "data_volumes": [{"volumetype": "SAS", "size": 20}],
        "security_groups": [{"id": default_group}],
        "availability_zone": "eu-de-01",
        "server_tags": [{"key": "env", "value": "test"}, {"key": "owner", "value": "tf"}],
    }});
    let accepted: JobResponse =
        provider.call(Method::POST, &provider.v1_1("/cloudservers"), Some(create), Some(&[200]), false).await.unwrap();
    assert!(!accepted.job_id.is_empty());
    // WaitForJobSuccess, then GetJobEntity(.., "server_id"): sub_jobs[0].entities.server_id.
    let job = provider.wait_for_job_success(&accepted.job_id).await;
    let server_id = job.entities.sub_jobs[0].entities["server_id"].as_str().expect("server_id is a string").to_string();
    assert_eq!(accepted.server_ids, vec![server_id.clone()]);
    // cloudservers.UpdateMetadata with the user's metadata.
    let _: Value = provider
        .call(
            Method::POST,
            &provider.v1(&format!("/cloudservers/{server_id}/metadata")),
            Some(json!({"metadata": {"team": "infra", "stage": "dev"}})),
            None,
            false,
        )
        .await
        .unwrap();
    let applied = read(&mut provider, &server_id).await.expect("the instance exists");

    // What was written reads back.
    assert_eq!(applied.name, "tf-instance");
    assert_eq!(applied.status, "ACTIVE");
    assert_eq!(applied.flavor_id, "s6.small.1");
    assert_eq!(applied.image_id, IMAGE);
    assert_ne!(applied.image_name, "Image not found");
    assert_eq!(applied.availability_zone, "eu-de-01");
    assert_eq!(applied.networks.len(), 1, "{applied:?}");
    assert_eq!(applied.networks[0].uuid, SUBNET, "a port's network_id is its subnet's id");
    assert!(applied.networks[0].fixed_ip_v4.starts_with("192.168."), "{applied:?}");
    assert!(applied.networks[0].source_dest_check);
    assert_eq!(applied.security_group_ids, vec![default_group.clone()]);
    assert_eq!(applied.security_groups, vec!["default".to_string()]);
    assert_eq!(applied.volumes.len(), 2, "{applied:?}");
    assert_eq!((applied.system_disk_size, applied.system_disk_type.as_str()), (40, "SSD"));
    let data_disk = applied.volumes.iter().find(|v| v.boot_index != 0).expect("a data disk").clone();
    assert_eq!((data_disk.size, data_disk.volume_type.as_str()), (20, "SAS"));
    assert_eq!(applied.tags, BTreeMap::from([("env".into(), "test".into()), ("owner".into(), "tf".into())]));
    let written = metadata(&mut provider, &server_id).await;
    assert_eq!((written["team"].as_str(), written["stage"].as_str()), ("infra", "dev"));

    // ---- refresh, twice: no drift.
    let first = read(&mut provider, &server_id).await.expect("still there");
    let second = read(&mut provider, &server_id).await.expect("still there");
    assert_eq!(first, applied);
    assert_eq!(second, applied);

    // ---- update: resourceComputeInstanceUpdate
    // cloudservers.Update (rename), OkCodes 200.
    let _: Value = provider
        .call(
            Method::PUT,
            &provider.v1(&format!("/cloudservers/{server_id}")),
            Some(json!({"server": {"name": "tf-renamed"}})),
            Some(&[200]),
            false,
        )
        .await
        .unwrap();
    // updateInstanceMetaData: removed keys deleted one by one, then the new map posted.
    let _: Value = provider
        .call(Method::DELETE, &provider.v1(&format!("/cloudservers/{server_id}/metadata/stage")), None, None, false)
        .await
        .unwrap();
    let _: Value = provider
        .call(
            Method::POST,
            &provider.v1(&format!("/cloudservers/{server_id}/metadata")),
            Some(json!({"metadata": {"team": "platform"}})),
            None,
            false,
        )
        .await
        .unwrap();
    // utils.UpdateResourceTags: the old tags deleted, then the new ones created (OkCodes 200, 204).
    let tags_action = provider.v1(&format!("/cloudservers/{server_id}/tags/action"));
    let _: Value = provider
        .call(
            Method::POST,
            &tags_action,
            Some(
                json!({"action": "delete", "tags": [{"key": "env", "value": "test"}, {"key": "owner", "value": "tf"}]}),
            ),
            Some(&[200, 204]),
            false,
        )
        .await
        .unwrap();
    let _: Value = provider
        .call(
            Method::POST,
            &tags_action,
            Some(json!({"action": "create", "tags": [{"key": "env", "value": "prod"}]})),
            Some(&[200, 204]),
            false,
        )
        .await
        .unwrap();
    // cloudservers.Resize on the v1.1 client with withStopServer, then the job.
    let resize =
        json!({"resize": {"flavorRef": "s6.medium.2", "mode": "withStopServer", "extendparam": {"isAutoPay": "true"}}});
    let accepted: JobResponse = provider
        .call(
            Method::POST,
            &provider.v1_1(&format!("/cloudservers/{server_id}/resize")),
            Some(resize),
            Some(&[200]),
            false,
        )
        .await
        .unwrap();
    provider.wait_for_job_success(&accepted.job_id).await;
    // power_action OFF, then ON, each with its job.
    provider.power_action(&server_id, "OFF").await;
    let stopped = read(&mut provider, &server_id).await.expect("still there");
    assert_eq!(stopped.status, "SHUTOFF");
    provider.power_action(&server_id, "ON").await;
    let updated = read(&mut provider, &server_id).await.expect("still there");
    assert_eq!(updated.name, "tf-renamed");
    assert_eq!(updated.flavor_id, "s6.medium.2");
    assert_eq!(updated.status, "ACTIVE");
    assert_eq!(updated.tags, BTreeMap::from([("env".into(), "prod".into())]));
    assert_eq!(updated.networks, applied.networks, "the NIC keeps its port, address and MAC");
    assert_eq!(updated.volumes, applied.volumes);
    let written = metadata(&mut provider, &server_id).await;
    assert_eq!(written.get("team").map(String::as_str), Some("platform"));
    assert!(!written.contains_key("stage"), "{written:?}");
    assert_eq!(read(&mut provider, &server_id).await.as_ref(), Some(&updated), "no drift after the update");

    // ---- destroy: resourceComputeInstanceDelete
    let delete = json!({"servers": [{"id": server_id}], "delete_volume": true, "delete_publicip": false});
    let accepted: JobResponse = provider
        .call(Method::POST, &provider.v1("/cloudservers/delete"), Some(delete), Some(&[200]), false)
        .await
        .unwrap();
    provider.wait_for_job_success(&accepted.job_id).await;
    // waitForServerTargetState: pending ACTIVE/SHUTOFF, target DELETED (404 counts as DELETED);
    // any other status on the way is fatal to the provider.
    let path = provider.v1(&format!("/cloudservers/{server_id}"));
    loop {
        let Some(body) = provider.call::<ServerBody>(Method::GET, &path, None, Some(&[200, 203]), true).await else {
            break;
        };
        let status = body.server.expect("a server").status;
        match status.as_str() {
            "DELETED" | "SOFT_DELETED" => break,
            "ACTIVE" | "SHUTOFF" => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            other => panic!("the provider fails on status {other} while waiting for the deletion"),
        }
    }
    // Its port and both disks are gone with it.
    let ports: PortsBody = provider.get(&provider.v1(&format!("/ports?device_id={server_id}&limit=100"))).await;
    assert!(ports.ports.is_empty(), "{:?}", ports.ports);
    for volume in &applied.volumes {
        let gone = provider
            .call::<VolumeBody>(
                Method::GET,
                &format!("/v2/{}/cloudvolumes/{}", provider.project, volume.volume_id),
                None,
                None,
                true,
            )
            .await;
        assert!(gone.is_none(), "volume {} outlived delete_volume=true", volume.volume_id);
    }

    // The replay made the calls the provider makes, in its order, at least once each.
    for expected in [
        "GET /v3/auth/domains",
        "GET /v3/projects?domain_id=",
        "GET /v1/{pid}/subnets/",
        "GET /v1/{pid}/security-groups?enterprise_project_id=all_granted_eps",
        "POST /v1.1/{pid}/cloudservers",
        "GET /v1/{pid}/jobs/",
        "POST /v1/{pid}/cloudservers/{id}/metadata",
        "GET /v2/cloudimages?id=",
        "GET /v1/{pid}/ports/",
        "GET /v1/{pid}/ports?device_id=",
        "GET /v2/{pid}/cloudvolumes/",
        "GET /v1/{pid}/cloudservers/{id}/block_device/",
        "PUT /v1/{pid}/cloudservers/{id}",
        "DELETE /v1/{pid}/cloudservers/{id}/metadata/stage",
        "POST /v1/{pid}/cloudservers/{id}/tags/action",
        "POST /v1.1/{pid}/cloudservers/{id}/resize",
        "POST /v1/{pid}/cloudservers/action",
        "POST /v1/{pid}/cloudservers/delete",
    ] {
        let expected = expected.replace("{pid}", ecs.project()).replace("{id}", &server_id);
        assert!(provider.calls.iter().any(|c| c.starts_with(&expected)), "no call {expected}: {:#?}", provider.calls);
    }
}
