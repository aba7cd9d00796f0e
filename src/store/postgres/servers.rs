//! Servers and project usage; the addresses servers hold are their NICs' ports (network.rs).

use crate::store::rows::{tag_index, tag_needle};
use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::{Args, PgTx, doc, ns, parse};
use crate::domain::catalogue::Usage;
use crate::domain::network::Port;
use crate::domain::query::{Page, ServerFilter, Start};
use crate::domain::server::Server;
use crate::domain::status::{Status, TaskState};
use crate::domain::{Error, ErrorCode, Result};
use crate::store::{RecycleBinReads, ServerReads, ServerWrites};

/// The list's `name` filter as a LIKE pattern: a substring where `.` matches any one
/// character, and LIKE's own wildcards (and its escape) taken literally.
fn name_like(pattern: &str) -> String {
    let mut like = String::from("%");
    for c in pattern.chars() {
        match c {
            '.' => like.push('_'),
            '%' | '_' | '\\' => {
                like.push('\\');
                like.push(c);
            }
            other => like.push(other),
        }
    }
    like.push('%');
    like
}

impl ServerReads for PgTx<'_> {
    fn server(&mut self, project_id: &str, server_id: &str) -> Result<Option<Server>> {
        self.one_doc("SELECT doc FROM servers WHERE id = $1 AND project_id = $2", &[&server_id, &project_id])
    }

    fn servers(&mut self, project_id: &str, ids: &[String]) -> Result<HashMap<String, Server>> {
        // One statement for the whole batch: the ids go in as an array.
        let rows =
            self.rows("SELECT id, doc FROM servers WHERE project_id = $1 AND id = ANY($2)", &[&project_id, &ids])?;
        rows.iter().map(|row| Ok((row.get(0), parse(row.get(1))?))).collect()
    }

    fn list_servers(&mut self, project_id: &str, filter: &ServerFilter, page: &Page) -> Result<(u64, Vec<Server>)> {
        let mut args = Args::default();
        let mut conditions = vec![format!("project_id = {}", args.push(project_id.to_string()))];
        match filter.status {
            Some(status) => conditions.push(format!("status = {}", args.push(status.as_str().to_string()))),
            // Servers in the recycle bin are listed only by asking for them.
            None => conditions.push(format!("status != {}", args.push(Status::SoftDeleted.as_str().to_string()))),
        }
        if let Some(flavor) = &filter.flavor {
            conditions.push(format!("flavor_id = {}", args.push(flavor.to_string())));
        }
        if let Some(reservation) = &filter.reservation_id {
            conditions.push(format!("reservation_id = {}", args.push(reservation.to_string())));
        }
        if let Some(name) = &filter.name {
            conditions.push(format!("name LIKE {}", args.push(name_like(name))));
        }
        if let Some(tag) = &filter.tags {
            conditions.push(format!("strpos(tag_index, {}) > 0", args.push(tag_needle(tag))));
        }
        if let Some(tag) = &filter.not_tags {
            conditions.push(format!("strpos(tag_index, {}) = 0", args.push(tag_needle(tag))));
        }
        if let Some(ip) = &filter.ip {
            conditions.push(format!(
                "id IN (SELECT device_id FROM ports WHERE project_id = $1 AND strpos(ip, {}) > 0)",
                args.push(ip.to_string())
            ));
        }
        if let Some(ip) = &filter.ip_eq {
            conditions.push(format!(
                "id IN (SELECT device_id FROM ports WHERE project_id = $1 AND ip = {})",
                args.push(ip.to_string())
            ));
        }
        let total = if conditions.len() == 2 && filter.status.is_none() {
            // Every server holds its quota, those in the recycle bin too.
            (self.usage(project_id)?.instances.max(0) as u64).saturating_sub(self.recycled_count(project_id)?)
        } else {
            let sql = format!("SELECT COUNT(*) FROM servers WHERE {}", conditions.join(" AND "));
            let count: i64 = self.row(&sql, &args.params())?.map_or(0, |row| row.get(0));
            count.max(0) as u64
        };
        if let Start::After(marker) = &page.start {
            let created =
                self.row("SELECT created_ns FROM servers WHERE id = $1 AND project_id = $2", &[marker, &project_id])?;
            let Some(created) = created else { return Ok((total, Vec::new())) };
            let created: i64 = created.get(0);
            let (created, marker) = (args.push(created), args.push(marker.to_string()));
            conditions.push(format!("(created_ns < {created} OR (created_ns = {created} AND id > {marker}))"));
        }
        let limit = args.push(page.limit as i64);
        let offset = args.push(page.skip().min(i64::MAX as u64) as i64);
        let sql = format!(
            "SELECT doc FROM servers WHERE {} ORDER BY created_ns DESC, id LIMIT {limit} OFFSET {offset}",
            conditions.join(" AND ")
        );
        let servers = self.docs(&sql, &args.params())?;
        Ok((total, servers))
    }

    fn usage(&mut self, project_id: &str) -> Result<Usage> {
        let row =
            self.row("SELECT instances, cores, ram_mib FROM project_usage WHERE project_id = $1", &[&project_id])?;
        Ok(row.map(|r| Usage { instances: r.get(0), cores: r.get(1), ram_mib: r.get(2) }).unwrap_or_default())
    }

    fn fleet_by_status(&mut self) -> Result<Vec<(String, u64)>> {
        let rows = self.rows("SELECT status, count(*) FROM servers GROUP BY status ORDER BY status", &[])?;
        Ok(rows.iter().map(|r| (r.get(0), u64::try_from(r.get::<_, i64>(1)).unwrap_or_default())).collect())
    }

    fn address_in_use(&mut self, project_id: &str, subnet_id: &str, ip: Ipv4Addr) -> Result<bool> {
        self.exists(
            "SELECT 1 FROM ports WHERE project_id = $1 AND subnet_id = $2 AND ip = $3",
            &[&project_id, &subnet_id, &ip.to_string()],
        )
    }

    fn lowest_free_hint(&mut self, project_id: &str, subnet_id: &str) -> Result<u32> {
        let row = self.row(
            "SELECT lowest_free FROM address_hints WHERE project_id = $1 AND subnet_id = $2",
            &[&project_id, &subnet_id],
        )?;
        row.map_or(Ok(0), |row| u32::try_from(row.get::<_, i64>(0)).map_err(Error::internal))
    }
}

impl ServerWrites for PgTx<'_> {
    fn insert_servers(&mut self, servers: &[Server], reserved: &[Usage]) -> Result<()> {
        let servers = &servers[..servers.len().min(reserved.len())];
        if servers.is_empty() {
            return Ok(());
        }
        // One statement for the servers and one for their NICs' ports, whatever the batch.
        let column = |f: fn(&Server) -> String| servers.iter().map(f).collect::<Vec<_>>();
        let docs = servers.iter().map(doc).collect::<Result<Vec<_>>>()?;
        self.exec(
            "INSERT INTO servers (id, project_id, created_ns, name, status, flavor_id, reservation_id, tag_index,
             task_state, vcpus, ram_mib, doc)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
             $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::text[])",
            &[
                &column(|s| s.id.clone()),
                &column(|s| s.project_id.clone()),
                &servers.iter().map(|s| ns(s.created)).collect::<Vec<_>>(),
                &column(|s| s.name.clone()),
                &column(|s| s.status().as_str().to_string()),
                &column(|s| s.flavor_id.clone()),
                &column(|s| s.reservation_id.clone()),
                &column(tag_index),
                &servers.iter().map(|s| s.task_state.map(|t| t.as_str().to_string())).collect::<Vec<_>>(),
                &reserved.iter().take(servers.len()).map(|u| u.cores).collect::<Vec<_>>(),
                &reserved.iter().take(servers.len()).map(|u| u.ram_mib).collect::<Vec<_>>(),
                &docs,
            ],
        )?;
        let ports: Vec<Port> = servers.iter().flat_map(Port::new_of_server).collect();
        match self.insert_port_rows(&ports)?.first() {
            None => Ok(()),
            Some(port) => {
                Err(Error::new(ErrorCode::IpInUse, format!("The private IP address {} is already in use.", port.ip)))
            }
        }
    }

    fn update_server(&mut self, server: &Server, expected_task: Option<TaskState>, reserved: Usage) -> Result<()> {
        let changed = self.exec(
            "UPDATE servers SET name = $1, status = $2, flavor_id = $3, tag_index = $4, task_state = $5, vcpus = $6,
             ram_mib = $7, doc = $8 WHERE id = $9 AND task_state IS NOT DISTINCT FROM $10",
            &[
                &server.name,
                &server.status().as_str(),
                &server.flavor_id,
                &tag_index(server),
                &server.task_state.map(TaskState::as_str),
                &reserved.cores,
                &reserved.ram_mib,
                &doc(server)?,
                &server.id,
                &expected_task.map(TaskState::as_str),
            ],
        )?;
        if changed == 1 {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::ServerBusy,
                format!("Another operation is running on the ECS {}. Try again later.", server.id),
            ))
        }
    }

    fn delete_server(&mut self, server_id: &str) -> Result<()> {
        // The server's NICs go with it, and their addresses are free again.
        self.remove_port_rows("device_id = $1", &[&server_id])?;
        self.exec("DELETE FROM servers WHERE id = $1", &[&server_id]).map(drop)
    }

    fn set_lowest_free_hint(&mut self, project_id: &str, subnet_id: &str, ip: u32) -> Result<()> {
        self.exec(
            "INSERT INTO address_hints (project_id, subnet_id, lowest_free) VALUES ($1, $2, $3)
             ON CONFLICT (project_id, subnet_id) DO UPDATE SET lowest_free = excluded.lowest_free",
            &[&project_id, &subnet_id, &i64::from(ip)],
        )
        .map(drop)
    }
}
