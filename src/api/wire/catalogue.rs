//! Flavors, quotas, availability zones, and the neighbouring IMS/VPC lists (contract 4, 9).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::domain::catalogue::{Catalogue, Flavor, Image, Quota, Subnet, Usage, Vpc};

/// A flavor as `GET .../cloudservers/flavors` shows it (`os_extra_specs`) or as
/// `resize_flavors` does (`extra_specs`); the rest is the same, including the odd types.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlavorDoc {
    pub id: String,
    pub name: String,
    pub vcpus: String,
    pub ram: u64,
    pub disk: String,
    pub swap: String,
    #[serde(rename = "OS-FLV-EXT-DATA:ephemeral")]
    pub ephemeral: u32,
    #[serde(rename = "OS-FLV-DISABLED:disabled")]
    pub disabled: bool,
    pub rxtx_factor: f64,
    pub rxtx_quota: Option<String>,
    pub rxtx_cap: Option<String>,
    #[serde(rename = "os-flavor-access:is_public")]
    pub is_public: bool,
    #[schema(value_type = Vec<crate::api::openapi::doc::FlavorDocLink>)]
    pub links: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_extra_specs: Option<BTreeMap<&'static str, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_specs: Option<BTreeMap<&'static str, String>>,
    #[serde(rename = "attachableQuantity", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::api::openapi::doc::AttachableQuantity>)]
    pub attachable_quantity: Option<Value>,
    /// Always `{}` (`resize_flavors` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub instance_quota: Option<Value>,
}

impl FlavorDoc {
    fn base(flavor: &Flavor, base_url: &str, project_id: &str) -> Self {
        let href = format!("{base_url}/v1/{project_id}/flavors/{}", flavor.id);
        FlavorDoc {
            id: flavor.id.clone(),
            name: flavor.id.clone(),
            vcpus: flavor.vcpus.to_string(),
            ram: flavor.ram_mib,
            disk: "0".into(),
            swap: String::new(),
            ephemeral: 0,
            disabled: false,
            rxtx_factor: 1.0,
            rxtx_quota: None,
            rxtx_cap: None,
            is_public: true,
            links: vec![
                json!({"rel": "self", "href": href, "type": null}),
                json!({"rel": "bookmark", "href": href, "type": null}),
            ],
            os_extra_specs: None,
            extra_specs: None,
            attachable_quantity: None,
            instance_quota: None,
        }
    }

    pub fn listed(flavor: &Flavor, catalogue: &Catalogue, base_url: &str, project_id: &str) -> Self {
        FlavorDoc {
            os_extra_specs: Some(flavor.extra_specs(&catalogue.availability_zones)),
            attachable_quantity: Some(json!({
                "free_scsi": 59, "free_blk": 23, "free_disk": 23, "free_nic": flavor.max_nics.saturating_sub(1)
            })),
            ..FlavorDoc::base(flavor, base_url, project_id)
        }
    }

    pub fn resize_target(flavor: &Flavor, catalogue: &Catalogue, base_url: &str, project_id: &str) -> Self {
        FlavorDoc {
            extra_specs: Some(flavor.extra_specs(&catalogue.availability_zones)),
            instance_quota: Some(json!({})),
            ..FlavorDoc::base(flavor, base_url, project_id)
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlavorsResponse {
    pub flavors: Vec<FlavorDoc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Absolute {
    pub max_total_instances: i64,
    pub max_total_cores: i64,
    #[serde(rename = "maxTotalRAMSize")]
    pub max_total_ram_size: i64,
    pub max_total_keypairs: i64,
    pub max_server_meta: i64,
    pub max_personality: i64,
    pub max_personality_size: i64,
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
    pub total_security_groups_used: i64,
    pub total_floating_ips_used: i64,
    pub total_server_groups_used: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LimitsResponse {
    pub absolute: Absolute,
}

impl LimitsResponse {
    pub fn of(quota: &Quota, usage: Usage) -> Self {
        LimitsResponse {
            absolute: Absolute {
                max_total_instances: quota.max_instances,
                max_total_cores: quota.max_cores,
                max_total_ram_size: quota.max_ram_mib,
                max_total_keypairs: quota.max_keypairs,
                max_server_meta: quota.max_server_meta,
                max_personality: quota.max_personality,
                max_personality_size: quota.max_personality_size,
                max_server_groups: quota.max_server_groups,
                max_server_group_members: quota.max_server_group_members,
                max_security_groups: quota.max_security_groups,
                max_security_group_rules: quota.max_security_group_rules,
                max_total_floating_ips: quota.max_floating_ips,
                max_image_meta: quota.max_image_meta,
                total_instances_used: usage.instances,
                total_cores_used: usage.cores,
                total_ram_used: usage.ram_mib,
                total_security_groups_used: 1,
                total_floating_ips_used: 0,
                total_server_groups_used: 0,
            },
        }
    }
}

/// `GET /v1/{pid}/availability-zones` (SDK `ListServerAzInfo`).
pub fn availability_zones_v1(catalogue: &Catalogue) -> Value {
    let zones: Vec<Value> = catalogue
        .availability_zones
        .iter()
        .map(|az| json!({"availability_zone_id": az, "type": "core", "mode": "single", "alias": {}, "az_group_ids": [], "category": 0}))
        .collect();
    json!({ "availability_zones": zones })
}

/// `GET /v2.1/{pid}/os-availability-zone` (Nova, SDK `NovaListAvailabilityZones`).
pub fn availability_zones_nova(catalogue: &Catalogue) -> Value {
    let zones: Vec<Value> = catalogue
        .availability_zones
        .iter()
        .map(|az| json!({"zoneName": az, "zoneState": {"available": true}, "hosts": null}))
        .collect();
    json!({ "availabilityZoneInfo": zones })
}

pub fn image_doc(image: &Image) -> Value {
    json!({
        "id": image.id,
        "name": image.name,
        "status": image.status,
        "visibility": "public",
        "min_disk": image.min_disk_gib,
        "min_ram": image.min_ram_mib,
        "disk_format": "zvhd2",
        "container_format": "bare",
        "__os_type": image.os_type,
        "__os_version": image.os_version,
        "__platform": image.platform,
        "__imagetype": "gold",
        "__os_bit": "64",
        "__support_kvm": "true",
        "__isregistered": "true",
        "__image_source_type": "uds",
        "__os_feature_list": "",
        "virtual_env_type": "FusionCompute",
        "architecture": if image.architecture == "arm64" { "arm" } else { "x86" },
        "size": 0,
        "protected": true,
        "owner": "",
        "tags": [],
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "self": format!("/v2/images/{}", image.id),
        "file": format!("/v2/images/{}/file", image.id),
        "schema": "/v2/schemas/image",
    })
}

pub fn vpc_doc(vpc: &Vpc, project_id: &str) -> Value {
    json!({
        "id": vpc.id, "name": vpc.name, "cidr": vpc.cidr, "status": "OK", "description": "",
        "routes": [], "tenant_id": project_id, "enterprise_project_id": "0",
        "created_at": "2024-01-01T00:00:00", "updated_at": "2024-01-01T00:00:00",
    })
}

pub fn subnet_doc(subnet: &Subnet, project_id: &str, availability_zone: &str, free: u32) -> Value {
    json!({
        "id": subnet.id, "name": subnet.name, "description": "", "cidr": subnet.cidr,
        "gateway_ip": subnet.gateway_ip.to_string(), "vpc_id": subnet.vpc_id, "status": "ACTIVE",
        "availability_zone": availability_zone, "dhcp_enable": true,
        "primary_dns": "100.125.4.25", "secondary_dns": "100.125.129.199", "dnsList": ["100.125.4.25", "100.125.129.199"],
        "ipv6_enable": false, "neutron_network_id": subnet.id, "neutron_subnet_id": subnet.id,
        "tenant_id": project_id, "available_ip_address_count": free,
        "created_at": "2024-01-01T00:00:00", "updated_at": "2024-01-01T00:00:00",
    })
}

/// `GET /`: the versions document (T3.1).
pub fn versions(base_url: &str) -> Value {
    json!({"versions": [
        {"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "", "updated": "2011-01-21T11:33:21Z",
         "links": [{"rel": "self", "href": format!("{base_url}/v2/")}]},
        {"id": "v2.1", "status": "CURRENT", "version": "2.60", "min_version": "2.1", "updated": "2013-07-23T11:33:21Z",
         "links": [{"rel": "self", "href": format!("{base_url}/v2.1/")}]},
    ]})
}
