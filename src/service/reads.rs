//! The other reads: the v1.1 server list, the password a Windows server left, and what the
//! zones can still take of each flavor.

use super::Ecs;
use super::placement::demand;
use crate::domain::catalogue::Flavor;
use crate::domain::placement::{self, HostUsage};
use crate::domain::query::{CloudServerFilter, Page, ServerFilter, Start};
use crate::domain::server::Server;
use crate::domain::{Error, ErrorCode, Result};
use crate::engine::apply;
use crate::store::{read, transact};

/// Servers read at a time while the v1.1 list filters.
const CHUNK: u64 = 1000;

impl Ecs {
    /// A page of the v1.1 list: up to `limit` servers after `marker` that match both filters,
    /// newest first, and whether more follow.
    pub fn list_cloud_servers(
        &self,
        project_id: &str,
        sql: &ServerFilter,
        filter: &CloudServerFilter,
        marker: Option<&str>,
        limit: u64,
    ) -> Result<(Vec<Server>, bool)> {
        read(self.store.as_ref(), |tx| {
            let mut found = Vec::new();
            let mut after = marker.map(str::to_string);
            loop {
                let start = after.clone().map_or(Start::Page(1), Start::After);
                let (_, chunk) = tx.list_servers(project_id, sql, &Page { start, limit: CHUNK })?;
                let full = chunk.len() as u64 == CHUNK;
                after = chunk.last().map(|s| s.id.clone());
                for server in chunk {
                    if filter.matches(&server) {
                        if found.len() as u64 == limit {
                            return Ok((found, true));
                        }
                        found.push(server);
                    }
                }
                if !full {
                    return Ok((found, false));
                }
            }
        })
    }

    /// The password a Windows server created with a key pair left, encrypted; empty when none.
    pub fn show_server_password(&self, project_id: &str, server_id: &str) -> Result<String> {
        Ok(self.show_server(project_id, server_id)?.encrypted_password.unwrap_or_default())
    }

    /// Forgets the password a Windows server left (the guest keeps using it).
    pub fn delete_server_password(&self, project_id: &str, server_id: &str) -> Result<()> {
        transact(self.store.as_ref(), |tx| {
            let mut server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            if server.encrypted_password.take().is_none() {
                return Ok(());
            }
            server.updated = self.clock.now();
            apply::save(tx, &self.catalogue, &server, server.task_state)
        })
    }

    /// For each zone, whether it has room for `count` more servers of the flavor.
    pub fn show_flavor_capacity(&self, flavor_id: &str, count: usize) -> Result<Vec<(String, bool)>> {
        let flavor = self
            .catalogue
            .flavor(flavor_id)
            .ok_or_else(|| Error::new(ErrorCode::FlavorNotFound, format!("The flavor {flavor_id} does not exist.")))?;
        self.zone_room(&[flavor], count).map(|rooms| rooms.into_iter().map(|(zone, _, room)| (zone, room)).collect())
    }

    /// For each zone and flavor, in catalogue order, whether one more server fits.
    pub fn flavor_sales(&self) -> Result<Vec<(String, String, bool)>> {
        let flavors: Vec<&Flavor> = self.catalogue.flavors.iter().collect();
        self.zone_room(&flavors, 1)
    }

    fn zone_room(&self, flavors: &[&Flavor], count: usize) -> Result<Vec<(String, String, bool)>> {
        let zones: Vec<(String, Vec<placement::Host>)> = self
            .catalogue
            .availability_zones
            .iter()
            .map(|zone| (zone.clone(), self.catalogue.placement.hosts(zone)))
            .collect();
        let names: Vec<String> = zones.iter().flat_map(|(_, hosts)| hosts.iter().map(|h| h.name.clone())).collect();
        let usage: std::collections::HashMap<String, HostUsage> =
            read(self.store.as_ref(), |tx| tx.host_usage(&names))?;
        let mut rooms = Vec::new();
        for (zone, hosts) in &zones {
            for flavor in flavors {
                let room = placement::room_for(hosts, &usage, demand(&self.catalogue, &flavor.id, None), count);
                rooms.push((zone.clone(), flavor.id.clone(), room));
            }
        }
        Ok(rooms)
    }
}
