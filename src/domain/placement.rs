//! Simulated hosts and the placement of servers on them: every availability zone has a number
//! of hosts with vCPU and RAM capacity, every server runs on one, and members of one
//! anti-affinity group never share a host. Pure: the store says what each host holds, these
//! rules say where a server goes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;
use sha2::Digest;

use super::errors::{Error, ErrorCode};

/// The `[placement]` section of the config file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Placement {
    /// Hosts in every zone not named in `zone_hosts`.
    pub hosts_per_zone: u32,
    /// vCPUs one host can give its servers.
    pub host_vcpus: u64,
    /// RAM (MiB) one host can give its servers.
    pub host_ram_mib: u64,
    /// Hosts of particular zones, by zone name.
    pub zone_hosts: BTreeMap<String, u32>,
}

impl Default for Placement {
    /// Sixteen hosts per zone, large enough together that a project's default quota (20,480
    /// cores, 24 TiB) fits in one zone: by default the quota binds before the hosts do.
    fn default() -> Self {
        Placement { hosts_per_zone: 16, host_vcpus: 1280, host_ram_mib: 1_572_864, zone_hosts: BTreeMap::new() }
    }
}

/// One simulated host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// What `OS-EXT-SRV-ATTR:host` shows, unique in the region: `pod03.eu-de-01`.
    pub name: String,
    pub zone: String,
    pub vcpus: u64,
    pub ram_mib: u64,
}

impl Host {
    /// `OS-EXT-SRV-ATTR:hypervisor_hostname`: the compute node behind the host.
    pub fn hypervisor_hostname(name: &str) -> String {
        format!("nova-{name}")
    }
}

/// What the servers on a host hold of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostUsage {
    pub instances: i64,
    pub vcpus: i64,
    pub ram_mib: i64,
}

/// What one server needs of a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Demand {
    pub vcpus: i64,
    pub ram_mib: i64,
}

impl Placement {
    /// The hosts of a zone, in name order.
    pub fn hosts(&self, zone: &str) -> Vec<Host> {
        let count = self.zone_hosts.get(zone).copied().unwrap_or(self.hosts_per_zone);
        (1..=count)
            .map(|n| Host {
                name: format!("pod{n:02}.{zone}"),
                zone: zone.to_string(),
                vcpus: self.host_vcpus,
                ram_mib: self.host_ram_mib,
            })
            .collect()
    }

    pub fn validate(&self, zones: &[String]) -> Result<(), String> {
        if let Some(unknown) = self.zone_hosts.keys().find(|zone| !zones.contains(zone)) {
            return Err(format!("placement.zone_hosts names the unknown zone {unknown}"));
        }
        if self.host_vcpus == 0 || self.host_ram_mib == 0 {
            return Err("placement.host_vcpus and placement.host_ram_mib must be positive".into());
        }
        Ok(())
    }
}

/// `hostId`: what Nova shows for a host, a hash of the project and the host, so the same host
/// shows different ids to different projects.
pub fn host_id(project_id: &str, host: Option<&str>) -> String {
    match host {
        Some(host) => hex::encode(sha2::Sha224::digest(format!("{project_id}{host}"))),
        None => String::new(),
    }
}

/// The region of a zone: the zone name without its last `-NN` part (`eu-de-01` is in `eu-de`).
pub fn region_of(zone: &str) -> &str {
    match zone.rsplit_once('-') {
        Some((region, number)) if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) => region,
        _ => zone,
    }
}

/// The scheduler's refusal: no host can take the server.
pub fn no_valid_host(detail: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::NoValidHost,
        format!("No valid host was found. There are not enough hosts available: {detail}."),
    )
}

/// Whether a host can take one more server of `demand`.
fn fits(host: &Host, used: HostUsage, demand: Demand) -> bool {
    used.vcpus + demand.vcpus <= host.vcpus as i64 && used.ram_mib + demand.ram_mib <= host.ram_mib as i64
}

/// Chooses a host for each of `count` servers of `demand`, as the scheduler spreads them: the
/// host with the most free RAM, then the most free vCPUs, then the first by name, never one
/// in `avoid`. With `anti_affinity` every chosen host joins `avoid`, so the servers all land
/// on different hosts. `usage` is updated with what the chosen servers take. All or nothing:
/// `Err` when one of them cannot be placed, and then `usage` and `avoid` are as they were.
pub fn place(
    hosts: &[Host],
    usage: &mut HashMap<String, HostUsage>,
    avoid: &mut BTreeSet<String>,
    demand: Demand,
    count: usize,
    anti_affinity: bool,
) -> Result<Vec<String>, Error> {
    let mut tentative = usage.clone();
    let mut avoided = avoid.clone();
    let mut chosen = Vec::with_capacity(count);
    for _ in 0..count {
        let best = hosts
            .iter()
            .filter(|host| !avoided.contains(&host.name))
            .map(|host| (host, tentative.get(&host.name).copied().unwrap_or_default()))
            .filter(|(host, used)| fits(host, *used, demand))
            .max_by(|(a, used_a), (b, used_b)| {
                let free = |host: &Host, used: &HostUsage| {
                    (host.ram_mib as i64 - used.ram_mib, host.vcpus as i64 - used.vcpus)
                };
                free(a, used_a).cmp(&free(b, used_b)).then_with(|| b.name.cmp(&a.name))
            })
            .map(|(host, _)| host.name.clone());
        let Some(host) = best else {
            let zone = hosts.first().map_or("the zone", |h| h.zone.as_str());
            let why = if anti_affinity {
                format!(
                    "{} of the {} hosts of {zone} are taken by the anti-affinity group or full",
                    avoided.len().min(hosts.len()),
                    hosts.len()
                )
            } else {
                format!("no host of {zone} has {} vCPUs and {} MiB free", demand.vcpus, demand.ram_mib)
            };
            return Err(no_valid_host(why));
        };
        let entry = tentative.entry(host.clone()).or_default();
        entry.instances += 1;
        entry.vcpus += demand.vcpus;
        entry.ram_mib += demand.ram_mib;
        if anti_affinity {
            avoided.insert(host.clone());
        }
        chosen.push(host);
    }
    *usage = tentative;
    *avoid = avoided;
    Ok(chosen)
}

/// Whether `count` more servers of `demand` fit in the zone of `hosts`.
pub fn room_for(hosts: &[Host], usage: &HashMap<String, HostUsage>, demand: Demand, count: usize) -> bool {
    place(hosts, &mut usage.clone(), &mut BTreeSet::new(), demand, count, false).is_ok()
}

/// Whether a server of `demand` more can stay on its host (a resize), or must move.
pub fn can_grow_in_place(host: &Host, used: HostUsage, extra: Demand) -> bool {
    fits(host, used, extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(hosts: u32) -> Vec<Host> {
        Placement { hosts_per_zone: hosts, host_vcpus: 8, host_ram_mib: 16_384, ..Placement::default() }
            .hosts("eu-de-01")
    }

    const SMALL: Demand = Demand { vcpus: 2, ram_mib: 4096 };

    #[test]
    fn hosts_are_named_per_zone_and_counted_by_the_config() {
        let placement = Placement { zone_hosts: BTreeMap::from([("eu-de-02".into(), 3)]), ..Placement::default() };
        assert_eq!(placement.hosts("eu-de-01").len(), 16);
        let hosts = placement.hosts("eu-de-02");
        assert_eq!(
            hosts.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(),
            ["pod01.eu-de-02", "pod02.eu-de-02", "pod03.eu-de-02"]
        );
        assert!(placement.validate(&["eu-de-01".into()]).is_err());
        assert!(placement.validate(&["eu-de-01".into(), "eu-de-02".into()]).is_ok());
    }

    #[test]
    fn servers_spread_to_the_host_with_the_most_free_memory() {
        let hosts = zone(3);
        let mut usage =
            HashMap::from([("pod01.eu-de-01".to_string(), HostUsage { instances: 1, vcpus: 2, ram_mib: 4096 })]);
        let chosen = place(&hosts, &mut usage, &mut BTreeSet::new(), SMALL, 3, false).expect("room");
        assert_eq!(chosen, ["pod02.eu-de-01", "pod03.eu-de-01", "pod01.eu-de-01"]);
        assert_eq!(usage["pod01.eu-de-01"].instances, 2);
    }

    #[test]
    fn anti_affinity_never_shares_a_host_and_refuses_when_hosts_run_out() {
        let hosts = zone(3);
        let mut usage = HashMap::new();
        let mut avoid = BTreeSet::from(["pod02.eu-de-01".to_string()]);
        let chosen = place(&hosts, &mut usage, &mut avoid, SMALL, 2, true).expect("two hosts left");
        assert_eq!(chosen, ["pod01.eu-de-01", "pod03.eu-de-01"]);
        assert_eq!(avoid.len(), 3);
        let error = place(&hosts, &mut usage, &mut avoid, SMALL, 1, true).expect_err("no host left");
        assert_eq!(error.code, ErrorCode::NoValidHost);
    }

    #[test]
    fn a_refused_placement_changes_nothing() {
        let hosts = zone(2);
        let mut usage = HashMap::new();
        let mut avoid = BTreeSet::new();
        assert!(place(&hosts, &mut usage, &mut avoid, SMALL, 3, true).is_err());
        assert!(usage.is_empty() && avoid.is_empty());
        // Capacity: 8 vCPUs a host, so 4 small servers each, 8 in all.
        assert!(place(&hosts, &mut usage, &mut avoid, SMALL, 9, false).is_err());
        assert_eq!(place(&hosts, &mut usage, &mut avoid, SMALL, 8, false).map(|c| c.len()), Ok(8));
    }

    #[test]
    fn host_ids_hash_project_and_host_as_nova_does() {
        // sha224("p" + "h"), as Nova's generate_hostid computes it.
        assert_eq!(host_id("p", Some("h")), hex::encode(sha2::Sha224::digest(b"ph")));
        assert_ne!(host_id("p", Some("pod01.a")), host_id("q", Some("pod01.a")));
        assert_eq!(host_id("p", None), "");
    }

    #[test]
    fn the_region_is_the_zone_without_its_number() {
        assert_eq!(region_of("eu-de-01"), "eu-de");
        assert_eq!(region_of("az1"), "az1");
        assert_eq!(region_of("cn-north-4a"), "cn-north-4a");
    }
}
