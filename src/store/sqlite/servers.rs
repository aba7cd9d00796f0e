//! Servers and project usage; the addresses servers hold are their NICs' ports (network.rs).

use crate::store::rows::{tag_index, tag_needle};
use std::collections::HashMap;
use std::net::Ipv4Addr;

use rusqlite::types::Value as SqlValue;
use rusqlite::{OptionalExtension, params};

use super::{SqliteTx, db, ns};
use crate::domain::catalogue::Usage;
use crate::domain::network::Port;
use crate::domain::query::{Page, ServerFilter, Start};
use crate::domain::server::Server;
use crate::domain::status::{Status, TaskState};
use crate::domain::{Error, ErrorCode, Result};
use crate::store::{RecycleBinReads, ServerReads, ServerWrites};

fn to_doc(server: &Server) -> Result<String> {
    serde_json::to_string(server).map_err(Error::internal)
}

fn text(value: &str) -> SqlValue {
    SqlValue::Text(value.to_string())
}

/// The list's `name` filter as a GLOB: a substring where `.` matches any one character, and
/// GLOB's own wildcards taken literally.
pub(super) fn name_glob(pattern: &str) -> String {
    let mut glob = String::from("*");
    for c in pattern.chars() {
        match c {
            '.' => glob.push('?'),
            '*' => glob.push_str("[*]"),
            '?' => glob.push_str("[?]"),
            '[' => glob.push_str("[[]"),
            other => glob.push(other),
        }
    }
    glob.push('*');
    glob
}

pub(super) fn server_from_doc(doc: String) -> Result<Server> {
    serde_json::from_str(&doc).map_err(Error::internal)
}

/// The statement of one page of the list: `conditions` (with `?` parameters), then the limit
/// and the offset. The page is chosen over the (project, created, id, status) index, which
/// holds the rowids: with no other condition than the project and the status, only the
/// documents of the page itself are read, however deep the page.
fn page_sql(conditions: &[&str]) -> String {
    format!(
        "SELECT doc FROM servers WHERE rowid IN (SELECT rowid FROM servers WHERE {} ORDER BY created_ns DESC, id
         LIMIT ? OFFSET ?) ORDER BY created_ns DESC, id",
        conditions.join(" AND ")
    )
}

impl ServerReads for SqliteTx<'_> {
    fn server(&mut self, project_id: &str, server_id: &str) -> Result<Option<Server>> {
        let doc: Option<String> = self
            .tx
            .prepare_cached("SELECT doc FROM servers WHERE id = ?1 AND project_id = ?2")
            .and_then(|mut s| s.query_row([server_id, project_id], |r| r.get(0)).optional())
            .map_err(db)?;
        doc.map(server_from_doc).transpose()
    }

    fn servers(&mut self, project_id: &str, ids: &[String]) -> Result<HashMap<String, Server>> {
        // One statement for the whole batch: the ids go in as a JSON array.
        let ids = serde_json::to_string(ids).map_err(Error::internal)?;
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT id, doc FROM servers WHERE project_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
            )
            .map_err(db)?;
        let rows = stmt.query_map([project_id, ids.as_str()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)));
        rows.map_err(db)?.map(|row| row.map_err(db).and_then(|(id, doc)| Ok((id, server_from_doc(doc)?)))).collect()
    }

    fn list_servers(&mut self, project_id: &str, filter: &ServerFilter, page: &Page) -> Result<(u64, Vec<Server>)> {
        // Positional `?` parameters, bound from `args` in order.
        let mut conditions = vec!["project_id = ?"];
        let mut args: Vec<SqlValue> = vec![text(project_id)];
        match filter.status {
            Some(status) => {
                conditions.push("status = ?");
                args.push(text(status.as_str()));
            }
            // Servers in the recycle bin are listed only by asking for them.
            None => {
                conditions.push("status != ?");
                args.push(text(Status::SoftDeleted.as_str()));
            }
        }
        if let Some(flavor) = &filter.flavor {
            conditions.push("flavor_id = ?");
            args.push(text(flavor.as_str()));
        }
        if let Some(reservation) = &filter.reservation_id {
            conditions.push("reservation_id = ?");
            args.push(text(reservation.as_str()));
        }
        if let Some(name) = &filter.name {
            conditions.push("name GLOB ?");
            args.push(text(&name_glob(name)));
        }
        if let Some(tag) = &filter.tags {
            conditions.push("instr(tag_index, ?) > 0");
            args.push(text(&tag_needle(tag)));
        }
        if let Some(tag) = &filter.not_tags {
            conditions.push("instr(tag_index, ?) = 0");
            args.push(text(&tag_needle(tag)));
        }
        if let Some(ip) = &filter.ip {
            conditions.push("id IN (SELECT device_id FROM ports WHERE project_id = ? AND instr(ip, ?) > 0)");
            args.extend([text(project_id), text(ip.as_str())]);
        }
        if let Some(ip) = &filter.ip_eq {
            conditions.push("id IN (SELECT device_id FROM ports WHERE project_id = ? AND ip = ?)");
            args.extend([text(project_id), text(ip.as_str())]);
        }
        let total = if conditions.len() == 2 && filter.status.is_none() {
            // Every server holds its quota, those in the recycle bin too.
            (self.usage(project_id)?.instances.max(0) as u64).saturating_sub(self.recycled_count(project_id)?)
        } else {
            let sql = format!("SELECT COUNT(*) FROM servers WHERE {}", conditions.join(" AND "));
            let count: i64 = self
                .tx
                .prepare_cached(&sql)
                .and_then(|mut s| s.query_row(rusqlite::params_from_iter(&args), |r| r.get(0)))
                .map_err(db)?;
            count.max(0) as u64
        };
        if let Start::After(marker) = &page.start {
            let created: Option<i64> = self
                .tx
                .prepare_cached("SELECT created_ns FROM servers WHERE id = ?1 AND project_id = ?2")
                .and_then(|mut s| s.query_row([marker.as_str(), project_id], |r| r.get(0)).optional())
                .map_err(db)?;
            let Some(created) = created else { return Ok((total, Vec::new())) };
            conditions.push("(created_ns < ? OR (created_ns = ? AND id > ?))");
            args.extend([SqlValue::Integer(created), SqlValue::Integer(created), text(marker.as_str())]);
        }
        let sql = page_sql(&conditions);
        args.extend([SqlValue::Integer(page.limit as i64), SqlValue::Integer(page.skip().min(i64::MAX as u64) as i64)]);
        let mut stmt = self.tx.prepare_cached(&sql).map_err(db)?;
        let docs = stmt.query_map(rusqlite::params_from_iter(&args), |r| r.get::<_, String>(0)).map_err(db)?;
        let servers = docs.map(|doc| doc.map_err(db).and_then(server_from_doc)).collect::<Result<Vec<_>>>()?;
        Ok((total, servers))
    }

    fn usage(&mut self, project_id: &str) -> Result<Usage> {
        self.tx
            .prepare_cached("SELECT instances, cores, ram_mib FROM project_usage WHERE project_id = ?1")
            .and_then(|mut s| {
                s.query_row([project_id], |r| Ok(Usage { instances: r.get(0)?, cores: r.get(1)?, ram_mib: r.get(2)? }))
                    .optional()
            })
            .map(Option::unwrap_or_default)
            .map_err(db)
    }

    fn fleet_by_status(&mut self) -> Result<Vec<(String, u64)>> {
        self.tx
            .prepare_cached("SELECT status, count(*) FROM servers GROUP BY status ORDER BY status")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(db)
    }

    fn address_in_use(&mut self, project_id: &str, subnet_id: &str, ip: Ipv4Addr) -> Result<bool> {
        self.tx
            .prepare_cached("SELECT 1 FROM ports WHERE project_id = ?1 AND subnet_id = ?2 AND ip = ?3")
            .and_then(|mut s| s.exists(params![project_id, subnet_id, ip.to_string()]))
            .map_err(db)
    }

    fn lowest_free_hint(&mut self, project_id: &str, subnet_id: &str) -> Result<u32> {
        self.tx
            .prepare_cached("SELECT lowest_free FROM address_hints WHERE project_id = ?1 AND subnet_id = ?2")
            .and_then(|mut s| s.query_row([project_id, subnet_id], |r| r.get::<_, u32>(0)).optional())
            .map(Option::unwrap_or_default)
            .map_err(db)
    }
}

impl ServerWrites for SqliteTx<'_> {
    fn insert_servers(&mut self, servers: &[Server], reserved: &[Usage]) -> Result<()> {
        let mut insert_server = self
            .tx
            .prepare_cached(
                "INSERT INTO servers (id, project_id, created_ns, name, status, flavor_id, reservation_id, tag_index,
                 task_state, vcpus, ram_mib, doc, host, server_group_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )
            .map_err(db)?;
        for (server, usage) in servers.iter().zip(reserved) {
            insert_server
                .execute(params![
                    server.id,
                    server.project_id,
                    ns(server.created),
                    server.name,
                    server.status().as_str(),
                    server.flavor_id,
                    server.reservation_id,
                    tag_index(server),
                    server.task_state.map(TaskState::as_str),
                    usage.cores,
                    usage.ram_mib,
                    to_doc(server)?,
                    server.host,
                    server.server_group_id,
                ])
                .map_err(db)?;
            for port in Port::new_of_server(server) {
                if !self.insert_port_row(&port)? {
                    return Err(Error::new(
                        ErrorCode::IpInUse,
                        format!("The private IP address {} is already in use.", port.ip),
                    ));
                }
            }
        }
        Ok(())
    }

    fn update_server(&mut self, server: &Server, expected_task: Option<TaskState>, reserved: Usage) -> Result<()> {
        let doc = to_doc(server)?;
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE servers SET name = ?1, status = ?2, flavor_id = ?3, tag_index = ?4, task_state = ?5, vcpus = ?6,
                 ram_mib = ?7, doc = ?8, host = ?11, server_group_id = ?12 WHERE id = ?9 AND task_state IS ?10",
            )
            .and_then(|mut s| {
                s.execute(params![
                    server.name,
                    server.status().as_str(),
                    server.flavor_id,
                    tag_index(server),
                    server.task_state.map(TaskState::as_str),
                    reserved.cores,
                    reserved.ram_mib,
                    doc,
                    server.id,
                    expected_task.map(TaskState::as_str),
                    server.host,
                    server.server_group_id,
                ])
            })
            .map_err(db)?;
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
        let ports: Vec<(String, String)> = self
            .tx
            .prepare_cached("SELECT project_id, id FROM ports WHERE device_id = ?1")
            .and_then(|mut s| {
                s.query_map([server_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db)?;
        for (project_id, port_id) in ports {
            self.remove_port_row(&project_id, &port_id)?;
        }
        self.tx.execute("DELETE FROM servers WHERE id = ?1", [server_id]).map_err(db)?;
        Ok(())
    }

    fn set_lowest_free_hint(&mut self, project_id: &str, subnet_id: &str, ip: u32) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO address_hints (project_id, subnet_id, lowest_free) VALUES (?1, ?2, ?3)
                 ON CONFLICT (project_id, subnet_id) DO UPDATE SET lowest_free = excluded.lowest_free",
            )
            .and_then(|mut s| s.execute(params![project_id, subnet_id, ip]))
            .map(drop)
            .map_err(db)
    }
}

#[cfg(test)]
mod tests {
    use super::page_sql;

    /// The default list (every server but those in the recycle bin) picks its page from the
    /// index alone: a deep page must not read the row of each server it skips.
    #[test]
    fn the_default_list_page_is_chosen_from_the_index_alone() {
        let dir = tempfile::tempdir().expect("a dir");
        let store = crate::store::SqliteStore::open(&dir.path().join("s")).expect("a store");
        let conn = store.writer.lock().expect("the writer");
        let sql = format!("EXPLAIN QUERY PLAN {}", page_sql(&["project_id = ?", "status != ?"]));
        let plan: Vec<String> = conn
            .prepare(&sql)
            .and_then(|mut s| s.query_map(("p", "SOFT_DELETED", 50, 1000), |r| r.get::<_, String>(3))?.collect())
            .expect("a plan");
        assert!(plan.iter().any(|step| step.contains("COVERING INDEX servers_by_project")), "{plan:?}");
    }
}
