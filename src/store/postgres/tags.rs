//! The tags of servers: the `server_tags` table the triggers of migration 5 keep from the
//! server documents.

use super::{Args, PgTx};
use crate::domain::Result;
use crate::domain::server::Server;
use crate::domain::status::Status;
use crate::domain::tags::{TagMatch, TagQuery};
use crate::store::TagReads;

/// `EXISTS` a tag of the server with this key (and one of the values, when given).
fn has_tag(tag: &TagMatch, args: &mut Args) -> String {
    let key = args.push(tag.key.clone());
    if tag.values.is_empty() {
        return format!("EXISTS (SELECT 1 FROM server_tags t WHERE t.server_id = servers.id AND t.key = {key})");
    }
    let values = args.push(tag.values.clone());
    format!(
        "EXISTS (SELECT 1 FROM server_tags t WHERE t.server_id = servers.id AND t.key = {key} AND t.value = ANY({values}))"
    )
}

/// One list of a query joined by `AND` or `OR`; `None` for an empty list.
fn joined(tags: &[TagMatch], with: &str, args: &mut Args) -> Option<String> {
    if tags.is_empty() {
        return None;
    }
    let parts = tags.iter().map(|tag| has_tag(tag, args)).collect::<Vec<_>>();
    Some(format!("({})", parts.join(with)))
}

impl TagReads for PgTx<'_> {
    fn project_tags(&mut self, project_id: &str) -> Result<Vec<(String, Vec<String>)>> {
        let rows = self.rows(
            "SELECT key, value FROM server_tags WHERE project_id = $1
             AND server_id IN (SELECT id FROM servers WHERE project_id = $1 AND status != $2)
             GROUP BY key, value ORDER BY key, value",
            &[&project_id, &Status::SoftDeleted.as_str()],
        )?;
        let mut tags: Vec<(String, Vec<String>)> = Vec::new();
        for row in &rows {
            let (key, value): (String, String) = (row.get(0), row.get(1));
            match tags.last_mut() {
                Some((last, values)) if *last == key => values.push(value),
                _ => tags.push((key, vec![value])),
            }
        }
        Ok(tags)
    }

    fn servers_by_tag(
        &mut self,
        project_id: &str,
        query: &TagQuery,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, Vec<Server>)> {
        // A server in the recycle bin is out of every query but the bin's own list, as in the server list.
        let mut args = Args::default();
        let mut conditions = vec![
            format!("project_id = {}", args.push(project_id.to_string())),
            format!("status != {}", args.push(Status::SoftDeleted.as_str().to_string())),
        ];
        if let Some(all) = joined(&query.all, " AND ", &mut args) {
            conditions.push(all);
        }
        if let Some(any) = joined(&query.any, " OR ", &mut args) {
            conditions.push(any);
        }
        if let Some(all) = joined(&query.not_all, " AND ", &mut args) {
            conditions.push(format!("NOT {all}"));
        }
        if let Some(any) = joined(&query.not_any, " OR ", &mut args) {
            conditions.push(format!("NOT {any}"));
        }
        if let Some(name) = &query.name {
            conditions.push(format!("strpos(name, {}) > 0", args.push(name.clone())));
        }
        let filter = conditions.join(" AND ");
        let total: i64 =
            self.row(&format!("SELECT COUNT(*) FROM servers WHERE {filter}"), &args.params())?.map_or(0, |r| r.get(0));
        if limit == 0 {
            return Ok((total.max(0) as u64, Vec::new()));
        }
        let limit = args.push(limit.min(i64::MAX as u64) as i64);
        let offset = args.push(offset.min(i64::MAX as u64) as i64);
        let servers = self.docs(
            &format!(
                "SELECT doc FROM servers WHERE {filter} ORDER BY created_ns DESC, id LIMIT {limit} OFFSET {offset}"
            ),
            &args.params(),
        )?;
        Ok((total.max(0) as u64, servers))
    }
}
