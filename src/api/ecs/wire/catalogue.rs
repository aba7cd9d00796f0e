//! Flavors, quotas, availability zones, and the neighbouring IMS/VPC lists (contract 4, 9).

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::catalogue::{Catalogue, Flavor, Quota, Usage};

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
    pub links: Vec<FlavorDocLink>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_extra_specs: Option<BTreeMap<&'static str, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_specs: Option<BTreeMap<&'static str, String>>,
    #[serde(rename = "attachableQuantity", skip_serializing_if = "Option::is_none")]
    pub attachable_quantity: Option<AttachableQuantity>,
    /// Always `{}` (`resize_flavors` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_quota: Option<InstanceQuota>,
}

/// A link of a flavor document.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlavorDocLink {
    /// `self` or `bookmark`.
    pub rel: &'static str,
    pub href: String,
    /// Always null.
    #[serde(rename = "type")]
    pub link_type: Option<String>,
}

/// Free attachment slots of a flavor (`GET .../cloudservers/flavors` only).
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachableQuantity {
    pub free_scsi: u32,
    pub free_blk: u32,
    pub free_disk: u32,
    pub free_nic: u32,
}

/// The per-flavor quota of a resize target: always empty.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceQuota {}

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
                FlavorDocLink { rel: "self", href: href.clone(), link_type: None },
                FlavorDocLink { rel: "bookmark", href, link_type: None },
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
            attachable_quantity: Some(AttachableQuantity {
                free_scsi: 59,
                free_blk: 23,
                free_disk: 23,
                free_nic: flavor.max_nics.saturating_sub(1),
            }),
            ..FlavorDoc::base(flavor, base_url, project_id)
        }
    }

    pub fn resize_target(flavor: &Flavor, catalogue: &Catalogue, base_url: &str, project_id: &str) -> Self {
        FlavorDoc {
            extra_specs: Some(flavor.extra_specs(&catalogue.availability_zones)),
            instance_quota: Some(InstanceQuota {}),
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
    pub fn of(quota: &Quota, usage: Usage, server_groups: u64) -> Self {
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
                total_server_groups_used: server_groups as i64,
            },
        }
    }
}

/// `GET /v1/{pid}/availability-zones` (SDK `ListServerAzInfo`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityZones {
    pub availability_zones: Vec<AvailabilityZone>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityZone {
    pub availability_zone_id: String,
    /// `core`.
    #[serde(rename = "type")]
    pub zone_type: &'static str,
    /// `single`.
    pub mode: &'static str,
    pub alias: BTreeMap<String, String>,
    pub az_group_ids: Vec<String>,
    pub category: i32,
}

impl AvailabilityZones {
    pub fn of(catalogue: &Catalogue) -> Self {
        let availability_zones = catalogue
            .availability_zones
            .iter()
            .map(|az| AvailabilityZone {
                availability_zone_id: az.clone(),
                zone_type: "core",
                mode: "single",
                alias: BTreeMap::new(),
                az_group_ids: vec![],
                category: 0,
            })
            .collect();
        AvailabilityZones { availability_zones }
    }
}
