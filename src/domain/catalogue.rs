//! What a project can build servers from: flavors, images, networks, availability zones, and
//! the quota limits. Seeded with realistic defaults; a TOML file may replace any list.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Flavor {
    pub id: String,
    pub vcpus: u32,
    pub ram_mib: u64,
    /// `ecs:performancetype`: `normal`, `computingv3`, `highmem`, ...
    pub performance_type: String,
    /// `ecs:generation`, e.g. `s6`.
    pub generation: String,
    /// `x86_64` or `arm64`: a server can only be resized to a flavor of the same architecture.
    #[serde(default = "default_architecture")]
    pub architecture: String,
    /// Maximum NICs (`instance_vnic:max_count`).
    #[serde(default = "default_max_nics")]
    pub max_nics: u32,
    /// Assured / maximum bandwidth in Mbit/s (`quota:min_rate` / `quota:max_rate`).
    #[serde(default = "default_min_rate")]
    pub min_rate_mbit: u32,
    #[serde(default = "default_max_rate")]
    pub max_rate_mbit: u32,
}

fn default_architecture() -> String {
    "x86_64".into()
}
fn default_max_nics() -> u32 {
    12
}
fn default_min_rate() -> u32 {
    500
}
fn default_max_rate() -> u32 {
    3000
}

impl Flavor {
    /// The `os_extra_specs` map of the contract (T1.12): all values are strings.
    pub fn extra_specs(&self, availability_zones: &[String]) -> BTreeMap<&'static str, String> {
        let az_states: Vec<String> = availability_zones.iter().map(|az| format!("{az}(normal)")).collect();
        BTreeMap::from([
            ("ecs:performancetype", self.performance_type.clone()),
            ("ecs:generation", self.generation.clone()),
            ("ecs:virtualization_env_types", "CloudCompute".into()),
            ("ecs:instance_architecture", self.architecture.clone()),
            ("resource_type", format!("IES_{}", self.generation)),
            ("instance_vnic:type", "enhanced".into()),
            ("instance_vnic:instance_bandwidth", self.max_rate_mbit.to_string()),
            ("instance_vnic:max_count", self.max_nics.to_string()),
            ("quota:max_rate", self.max_rate_mbit.to_string()),
            ("quota:min_rate", self.min_rate_mbit.to_string()),
            ("quota:max_pps", (self.vcpus as u64 * 100_000).to_string()),
            ("cond:operation:status", "normal".into()),
            ("cond:operation:az", az_states.join(",")),
            ("cond:operation:charge", "postPaid".into()),
            ("cond:compute", "autorecovery".into()),
        ])
    }

    /// Whether a server of this flavor may be resized to `target` (the `resize_flavors` rule).
    pub fn can_resize_to(&self, target: &Flavor) -> bool {
        self.id != target.id && self.architecture == target.architecture
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Image {
    pub id: String,
    pub name: String,
    /// `active`, or anything else for an image that cannot be used (`Ecs.0032`).
    #[serde(default = "default_image_status")]
    pub status: String,
    pub os_type: String,
    pub platform: String,
    pub os_version: String,
    pub min_disk_gib: u32,
    #[serde(default)]
    pub min_ram_mib: u64,
    #[serde(default = "default_architecture")]
    pub architecture: String,
}

fn default_image_status() -> String {
    "active".into()
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Vpc {
    pub id: String,
    pub name: String,
    pub cidr: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    pub id: String,
    pub name: String,
    pub vpc_id: String,
    /// IPv4 CIDR, e.g. `192.168.0.0/16`.
    pub cidr: String,
    pub gateway_ip: Ipv4Addr,
}

impl Subnet {
    /// The network address and prefix length of the CIDR, if it is well formed.
    pub fn network(&self) -> Option<(Ipv4Addr, u8)> {
        let (addr, prefix) = self.cidr.split_once('/')?;
        let addr: Ipv4Addr = addr.parse().ok()?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 30)?;
        let mask = u32::MAX.checked_shl(32 - prefix as u32).unwrap_or(0);
        Some((Ipv4Addr::from(u32::from(addr) & mask), prefix))
    }

    /// The addresses servers may get: the whole range less network, gateway and broadcast.
    pub fn usable_range(&self) -> Option<std::ops::RangeInclusive<u32>> {
        let (network, prefix) = self.network()?;
        let first = u32::from(network) + 1;
        let last = u32::from(network) + (1u32 << (32 - prefix)) - 2;
        Some(first..=last)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let gateway = u32::from(self.gateway_ip);
        self.usable_range().is_some_and(|r| r.contains(&u32::from(ip)) && u32::from(ip) != gateway)
    }

    /// How many addresses a new server can still get, given how many are taken.
    pub fn capacity(&self) -> u32 {
        self.usable_range().map_or(0, |r| r.end() - r.start())
    }
}

/// Per-project limits (`GET .../cloudservers/limits`); -1 means unlimited.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Quota {
    pub max_instances: i64,
    pub max_cores: i64,
    pub max_ram_mib: i64,
    pub max_keypairs: i64,
    pub max_server_meta: i64,
    pub max_personality: i64,
    pub max_personality_size: i64,
    pub max_server_groups: i64,
    pub max_server_group_members: i64,
    pub max_security_groups: i64,
    pub max_security_group_rules: i64,
    pub max_floating_ips: i64,
    pub max_image_meta: i64,
}

impl Default for Quota {
    fn default() -> Self {
        // The example values of the contract (T1.14).
        Quota {
            max_instances: 2048,
            max_cores: 20480,
            max_ram_mib: 25_165_824,
            max_keypairs: -1,
            max_server_meta: 128,
            max_personality: 5,
            max_personality_size: 10240,
            max_server_groups: 10,
            max_server_group_members: 16,
            max_security_groups: 10,
            max_security_group_rules: 20,
            max_floating_ips: 10,
            max_image_meta: 128,
        }
    }
}

/// What a project uses of its quota.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub instances: i64,
    pub cores: i64,
    pub ram_mib: i64,
}

impl Quota {
    /// Whether `usage` plus `extra` fits; names the first limit that would be exceeded.
    pub fn exceeded_by(&self, usage: Usage, extra: Usage) -> Option<&'static str> {
        let over = |max: i64, used: i64, more: i64| max >= 0 && more > 0 && used + more > max;
        if over(self.max_instances, usage.instances, extra.instances) {
            Some("instances")
        } else if over(self.max_cores, usage.cores, extra.cores) {
            Some("cores")
        } else if over(self.max_ram_mib, usage.ram_mib, extra.ram_mib) {
            Some("RAM")
        } else {
            None
        }
    }
}

/// Everything a create can reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    pub flavors: Vec<Flavor>,
    pub images: Vec<Image>,
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    pub availability_zones: Vec<String>,
    pub quota: Quota,
    /// The simulated hosts of each zone.
    pub placement: super::placement::Placement,
}

impl Catalogue {
    pub fn flavor(&self, id: &str) -> Option<&Flavor> {
        self.flavors.iter().find(|f| f.id == id)
    }
    pub fn image(&self, id: &str) -> Option<&Image> {
        self.images.iter().find(|i| i.id == id)
    }
    pub fn vpc(&self, id: &str) -> Option<&Vpc> {
        self.vpcs.iter().find(|v| v.id == id)
    }
    pub fn subnet(&self, id: &str) -> Option<&Subnet> {
        self.subnets.iter().find(|s| s.id == id)
    }

    /// The quota a server holds: its flavor, or while a resize runs the larger of its current
    /// and target flavors, so concurrent resizes can never overshoot the limits.
    pub fn reservation(&self, flavor_id: &str, resize_target: Option<&str>) -> Usage {
        let of = |id: &str| self.flavor(id).map_or((0, 0), |f| (f.vcpus as i64, f.ram_mib as i64));
        let (cores, ram_mib) = of(flavor_id);
        let (target_cores, target_ram) = resize_target.map_or((0, 0), of);
        Usage { instances: 1, cores: cores.max(target_cores), ram_mib: ram_mib.max(target_ram) }
    }

    /// Flavors a server of `source` may be resized to, in catalogue order.
    pub fn resize_targets<'a>(&'a self, source: &'a Flavor) -> impl Iterator<Item = &'a Flavor> + 'a {
        self.flavors.iter().filter(move |f| source.can_resize_to(f))
    }

    /// One page of the resize targets of `source`, sorted as asked: the flavors after
    /// `marker` (a flavor id), at most `limit` of them.
    pub fn resize_flavors<'a>(
        &'a self,
        source: &'a Flavor,
        key: FlavorSortKey,
        dir: SortDir,
        marker: Option<&str>,
        limit: usize,
    ) -> Vec<&'a Flavor> {
        let mut targets: Vec<_> = self.resize_targets(source).collect();
        match key {
            // Names are the ids here.
            FlavorSortKey::Flavorid | FlavorSortKey::Name => targets.sort_by(|a, b| a.id.cmp(&b.id)),
            FlavorSortKey::MemoryMb => targets.sort_by_key(|f| (f.ram_mib, f.id.clone())),
            FlavorSortKey::Vcpus => targets.sort_by_key(|f| (f.vcpus, f.id.clone())),
            // Every flavor has the same (zero) local root disk: catalogue order.
            FlavorSortKey::RootGb => {}
        }
        if dir == SortDir::Desc {
            targets.reverse();
        }
        if let Some(marker) = marker {
            let after = targets.iter().position(|f| f.id == marker).map_or(0, |i| i + 1);
            targets.drain(..after);
        }
        targets.truncate(limit);
        targets
    }
}

/// What `resize_flavors` sorts by, in the API's words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlavorSortKey {
    #[default]
    Flavorid,
    Name,
    MemoryMb,
    Vcpus,
    RootGb,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortDir {
    #[default]
    Asc,
    Desc,
}

fn flavor(id: &str, vcpus: u32, ram_gib: u64, performance_type: &str, architecture: &str) -> Flavor {
    Flavor {
        id: id.into(),
        vcpus,
        ram_mib: ram_gib * 1024,
        performance_type: performance_type.into(),
        generation: id.split('.').next().unwrap_or(id).into(),
        architecture: architecture.into(),
        max_nics: if vcpus <= 2 { 2 } else { vcpus.min(12) },
        min_rate_mbit: 100 * vcpus,
        max_rate_mbit: 800 * vcpus,
    }
}

pub fn default_flavors() -> Vec<Flavor> {
    vec![
        flavor("s6.small.1", 1, 1, "normal", "x86_64"),
        flavor("s6.medium.2", 1, 2, "normal", "x86_64"),
        flavor("s6.large.2", 2, 4, "normal", "x86_64"),
        flavor("s6.xlarge.2", 4, 8, "normal", "x86_64"),
        flavor("c6.large.2", 2, 4, "computingv3", "x86_64"),
        flavor("c6.xlarge.4", 4, 16, "computingv3", "x86_64"),
        flavor("m6.large.8", 2, 16, "highmem", "x86_64"),
        flavor("m6.xlarge.8", 4, 32, "highmem", "x86_64"),
        flavor("kc1.large.2", 2, 4, "normal", "arm64"),
    ]
}

fn image(id: &str, name: &str, os_type: &str, platform: &str, os_version: &str, min_disk_gib: u32) -> Image {
    Image {
        id: id.into(),
        name: name.into(),
        status: "active".into(),
        os_type: os_type.into(),
        platform: platform.into(),
        os_version: os_version.into(),
        min_disk_gib,
        min_ram_mib: 0,
        architecture: "x86_64".into(),
    }
}

pub fn default_images() -> Vec<Image> {
    let mut deprecated = image(
        "0d4f9e1c-6b1e-4c1e-9a55-3f3c0b2f5a10",
        "Standard_Ubuntu_16.04_latest",
        "Linux",
        "Ubuntu",
        "Ubuntu 16.04 server 64bit",
        40,
    );
    deprecated.status = "deactivated".into();
    vec![
        image(
            "8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e01",
            "Standard_Ubuntu_22.04_latest",
            "Linux",
            "Ubuntu",
            "Ubuntu 22.04 server 64bit",
            10,
        ),
        image(
            "8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e02",
            "Standard_CentOS_7_latest",
            "Linux",
            "CentOS",
            "CentOS 7.9 64bit",
            40,
        ),
        image(
            "8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e03",
            "Enterprise_Windows_STD_2019_latest",
            "Windows",
            "Windows",
            "Windows Server 2019 Standard 64bit",
            40,
        ),
        deprecated,
    ]
}

pub fn default_vpcs() -> Vec<Vpc> {
    vec![
        Vpc {
            id: "3b9e6d1a-7c2f-4e8a-b5d0-0a1b2c3d4e01".into(),
            name: "vpc-default".into(),
            cidr: "192.168.0.0/16".into(),
        },
        Vpc {
            id: "3b9e6d1a-7c2f-4e8a-b5d0-0a1b2c3d4e02".into(),
            name: "vpc-backend".into(),
            cidr: "10.0.0.0/8".into(),
        },
    ]
}

pub fn default_subnets() -> Vec<Subnet> {
    vec![
        Subnet {
            id: "5c1d7e2b-8a3f-4b9c-a6e1-1b2c3d4e5f01".into(),
            name: "subnet-default".into(),
            vpc_id: "3b9e6d1a-7c2f-4e8a-b5d0-0a1b2c3d4e01".into(),
            cidr: "192.168.0.0/16".into(),
            gateway_ip: Ipv4Addr::new(192, 168, 0, 1),
        },
        Subnet {
            id: "5c1d7e2b-8a3f-4b9c-a6e1-1b2c3d4e5f02".into(),
            name: "subnet-backend".into(),
            vpc_id: "3b9e6d1a-7c2f-4e8a-b5d0-0a1b2c3d4e02".into(),
            cidr: "10.0.1.0/24".into(),
            gateway_ip: Ipv4Addr::new(10, 0, 1, 1),
        },
    ]
}

pub fn default_availability_zones() -> Vec<String> {
    vec!["eu-de-01".into(), "eu-de-02".into(), "eu-de-03".into()]
}

impl Default for Catalogue {
    fn default() -> Self {
        Catalogue {
            flavors: default_flavors(),
            images: default_images(),
            vpcs: default_vpcs(),
            subnets: default_subnets(),
            availability_zones: default_availability_zones(),
            quota: Quota::default(),
            placement: super::placement::Placement::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_ranges_leave_out_network_gateway_and_broadcast() {
        let subnet = &default_subnets()[1];
        let range = subnet.usable_range().expect("valid cidr");
        assert_eq!(Ipv4Addr::from(*range.start()), Ipv4Addr::new(10, 0, 1, 1));
        assert_eq!(Ipv4Addr::from(*range.end()), Ipv4Addr::new(10, 0, 1, 254));
        assert!(!subnet.contains(Ipv4Addr::new(10, 0, 1, 1)), "the gateway");
        assert!(subnet.contains(Ipv4Addr::new(10, 0, 1, 2)));
        assert!(!subnet.contains(Ipv4Addr::new(10, 0, 2, 2)));
        assert_eq!(subnet.capacity(), 253);
    }

    #[test]
    fn resize_targets_share_the_architecture_and_differ_from_the_source() {
        let catalogue = Catalogue::default();
        let source = catalogue.flavor("s6.small.1").expect("seeded");
        let targets: Vec<&str> = catalogue.resize_targets(source).map(|f| f.id.as_str()).collect();
        assert!(!targets.contains(&"s6.small.1"));
        assert!(!targets.contains(&"kc1.large.2"));
        assert!(targets.contains(&"s6.large.2"));
    }

    #[test]
    fn quota_names_the_limit_that_would_be_exceeded() {
        let quota = Quota { max_instances: 2, max_cores: 4, ..Quota::default() };
        let used = Usage { instances: 1, cores: 2, ram_mib: 0 };
        assert_eq!(quota.exceeded_by(used, Usage { instances: 1, cores: 2, ram_mib: 1 }), None);
        assert_eq!(quota.exceeded_by(used, Usage { instances: 2, cores: 2, ram_mib: 1 }), Some("instances"));
        assert_eq!(quota.exceeded_by(used, Usage { instances: 1, cores: 3, ram_mib: 1 }), Some("cores"));
    }
}
