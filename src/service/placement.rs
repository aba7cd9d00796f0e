//! Telling each server where it runs: the placement rules of `domain::placement` applied to
//! what the store says the hosts hold, at create, at a resize and when a server joins a group.

use std::collections::{BTreeSet, HashMap};

use crate::domain::catalogue::Catalogue;
use crate::domain::placement::{self, Demand, HostUsage};
use crate::domain::server::Server;
use crate::domain::{Error, ErrorCode, Result};
use crate::store::ReadTx;

/// What a server of this flavor (and resize target) holds of its host.
pub(super) fn demand(catalogue: &Catalogue, flavor_id: &str, resize_target: Option<&str>) -> Demand {
    let reserved = catalogue.reservation(flavor_id, resize_target);
    Demand { vcpus: reserved.cores, ram_mib: reserved.ram_mib }
}

/// The hosts of the members of a group, but `except` (the server being placed).
pub(super) fn member_hosts(
    tx: &mut dyn ReadTx,
    project_id: &str,
    members: &[String],
    except: Option<&str>,
) -> Result<BTreeSet<String>> {
    let others: Vec<String> = members.iter().filter(|id| Some(id.as_str()) != except).cloned().collect();
    Ok(tx.servers(project_id, &others)?.into_values().filter_map(|server| server.host).collect())
}

/// The usage of every host of `zone`, as the store has it now.
fn zone_usage(tx: &mut dyn ReadTx, catalogue: &Catalogue, zone: &str) -> Result<HashMap<String, HostUsage>> {
    let names: Vec<String> = catalogue.placement.hosts(zone).into_iter().map(|h| h.name).collect();
    tx.host_usage(&names)
}

/// Places new servers (all of one flavor): each gets a host of its zone with room for it; with
/// `avoid` (the hosts of the other members of its anti-affinity group) each lands on its own
/// host, none of those. All or nothing: on `Err` no server has a host.
pub(super) fn place_new(
    tx: &mut dyn ReadTx,
    catalogue: &Catalogue,
    servers: &mut [Server],
    avoid: Option<BTreeSet<String>>,
) -> Result<()> {
    let Some(first) = servers.first() else { return Ok(()) };
    let demand = demand(catalogue, &first.flavor_id, None);
    let anti_affinity = avoid.is_some();
    let mut avoid = avoid.unwrap_or_default();
    let zones: BTreeSet<String> = servers.iter().map(|s| s.availability_zone.clone()).collect();
    let mut chosen: HashMap<String, Vec<String>> = HashMap::new();
    for zone in zones {
        let count = servers.iter().filter(|s| s.availability_zone == zone).count();
        let mut usage = zone_usage(tx, catalogue, &zone)?;
        let hosts = catalogue.placement.hosts(&zone);
        let mut placed = placement::place(&hosts, &mut usage, &mut avoid, demand, count, anti_affinity)?;
        placed.reverse();
        chosen.insert(zone, placed);
    }
    for server in servers.iter_mut() {
        server.host = chosen.get_mut(&server.availability_zone).and_then(Vec::pop);
    }
    Ok(())
}

/// Where servers are moved as a batch is planned: the usage of the zones looked at so far,
/// with the moves planned already, so two servers of one batch never take the same room.
#[derive(Default)]
pub(super) struct Moves {
    usage: HashMap<String, HashMap<String, HostUsage>>,
}

impl Moves {
    fn zone<'a>(
        &'a mut self,
        tx: &mut dyn ReadTx,
        catalogue: &Catalogue,
        zone: &str,
    ) -> Result<&'a mut HashMap<String, HostUsage>> {
        if !self.usage.contains_key(zone) {
            let usage = zone_usage(tx, catalogue, zone)?;
            self.usage.insert(zone.to_string(), usage);
        }
        self.usage.get_mut(zone).ok_or_else(|| Error::internal("zone usage just loaded is missing"))
    }

    /// The host a server goes to so that it holds `after` instead of what it holds now: its
    /// own host when that has room (`None`), else the roomiest other host of its zone that
    /// none of `avoid` is on. `Err` when there is none.
    pub fn fit(
        &mut self,
        tx: &mut dyn ReadTx,
        catalogue: &Catalogue,
        server: &Server,
        after: Demand,
        avoid: &BTreeSet<String>,
    ) -> Result<Option<String>> {
        let before = demand(catalogue, &server.flavor_id, server.resize_target.as_deref());
        let hosts = catalogue.placement.hosts(&server.availability_zone);
        let usage = self.zone(tx, catalogue, &server.availability_zone)?;
        let current = server.host.as_deref().and_then(|name| hosts.iter().find(|h| h.name == name));
        if let Some(host) = current
            && !avoid.contains(&host.name)
        {
            let used = usage.get(&host.name).copied().unwrap_or_default();
            let extra = Demand { vcpus: after.vcpus - before.vcpus, ram_mib: after.ram_mib - before.ram_mib };
            if placement::can_grow_in_place(host, used, extra) {
                let entry = usage.entry(host.name.clone()).or_default();
                entry.vcpus += extra.vcpus;
                entry.ram_mib += extra.ram_mib;
                return Ok(None);
            }
        }
        let mut excluded = avoid.clone();
        excluded.extend(current.map(|h| h.name.clone()));
        let mut moved = placement::place(&hosts, usage, &mut excluded, after, 1, false)?;
        if let Some(old) = current.and_then(|h| usage.get_mut(&h.name)) {
            old.instances -= 1;
            old.vcpus -= before.vcpus;
            old.ram_mib -= before.ram_mib;
        }
        Ok(moved.pop())
    }
}

/// The host a server moves to (a migration, a redeploy): `target` — a host of its zone, named
/// as `OS-EXT-SRV-ATTR:host` shows it or by the project's `hostId` of it — or else the roomiest
/// other host of its zone. Never the host it is on, nor one holding another member of its
/// anti-affinity group.
pub(super) fn destination(
    tx: &mut dyn ReadTx,
    catalogue: &Catalogue,
    server: &Server,
    target: Option<&str>,
) -> Result<String> {
    let members = match &server.server_group_id {
        Some(group) => tx.server_group(&server.project_id, group)?.map(|g| g.members).unwrap_or_default(),
        None => vec![],
    };
    let avoid = member_hosts(tx, &server.project_id, &members, Some(&server.id))?;
    let mut hosts = catalogue.placement.hosts(&server.availability_zone);
    if let Some(target) = target {
        let named = |name: &str| name == target || placement::host_id(&server.project_id, Some(name)) == target;
        let Some(host) = hosts.iter().find(|h| named(&h.name)).cloned() else {
            return Err(Error::invalid(format!(
                "The dedicated host {target} does not exist in the availability zone {} of the ECS {}.",
                server.availability_zone, server.id
            )));
        };
        if server.host.as_deref() == Some(host.name.as_str()) {
            return Err(Error::new(
                ErrorCode::SameHost,
                format!("The ECS {} already runs on the host {target}.", server.id),
            ));
        }
        if avoid.contains(&host.name) {
            return Err(placement::no_valid_host(format!(
                "the host {target} holds another member of the anti-affinity group of the ECS {}",
                server.id
            )));
        }
        hosts = vec![host];
    }
    let mut usage = zone_usage(tx, catalogue, &server.availability_zone)?;
    let mut excluded = avoid;
    excluded.extend(server.host.clone());
    let needs = demand(catalogue, &server.flavor_id, server.resize_target.as_deref());
    let mut chosen = placement::place(&hosts, &mut usage, &mut excluded, needs, 1, false)?;
    chosen.pop().ok_or_else(|| Error::internal("a placement of one server chose no host"))
}
