//! The tags of servers: the `server_tags` table the triggers of migration 4 keep from the
//! server documents.

use rusqlite::types::Value as SqlValue;

use super::servers::server_from_doc;
use super::{SqliteTx, db};
use crate::domain::server::Server;
use crate::domain::status::Status;
use crate::domain::tags::{TagMatch, TagQuery};
use crate::domain::{Error, Result};
use crate::store::TagReads;

fn text(value: &str) -> SqlValue {
    SqlValue::Text(value.to_string())
}

/// `EXISTS` a tag of the server with this key (and one of the values, when given).
fn has_tag(tag: &TagMatch, args: &mut Vec<SqlValue>) -> Result<String> {
    args.push(text(&tag.key));
    if tag.values.is_empty() {
        return Ok("EXISTS (SELECT 1 FROM server_tags t WHERE t.server_id = servers.id AND t.key = ?)".into());
    }
    args.push(text(&serde_json::to_string(&tag.values).map_err(Error::internal)?));
    Ok("EXISTS (SELECT 1 FROM server_tags t WHERE t.server_id = servers.id AND t.key = ? \
        AND t.value IN (SELECT value FROM json_each(?)))"
        .into())
}

/// One list of a query joined by `AND` or `OR`; `None` for an empty list.
fn joined(tags: &[TagMatch], with: &str, args: &mut Vec<SqlValue>) -> Result<Option<String>> {
    if tags.is_empty() {
        return Ok(None);
    }
    let parts = tags.iter().map(|tag| has_tag(tag, args)).collect::<Result<Vec<_>>>()?;
    Ok(Some(format!("({})", parts.join(with))))
}

impl TagReads for SqliteTx<'_> {
    fn project_tags(&mut self, project_id: &str) -> Result<Vec<(String, Vec<String>)>> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT key, value FROM server_tags WHERE project_id = ?1 \
                 AND server_id IN (SELECT id FROM servers WHERE project_id = ?1 AND status != ?2) \
                 GROUP BY key, value ORDER BY key, value",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([project_id, Status::SoftDeleted.as_str()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(db)?;
        let mut tags: Vec<(String, Vec<String>)> = Vec::new();
        for row in rows {
            let (key, value) = row.map_err(db)?;
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
        let mut conditions = vec!["project_id = ?".to_string(), "status != ?".to_string()];
        let mut args = vec![text(project_id), text(Status::SoftDeleted.as_str())];
        if let Some(all) = joined(&query.all, " AND ", &mut args)? {
            conditions.push(all);
        }
        if let Some(any) = joined(&query.any, " OR ", &mut args)? {
            conditions.push(any);
        }
        if let Some(all) = joined(&query.not_all, " AND ", &mut args)? {
            conditions.push(format!("NOT {all}"));
        }
        if let Some(any) = joined(&query.not_any, " OR ", &mut args)? {
            conditions.push(format!("NOT {any}"));
        }
        if let Some(name) = &query.name {
            conditions.push("instr(name, ?) > 0".into());
            args.push(text(name));
        }
        let filter = conditions.join(" AND ");
        let total: i64 = self
            .tx
            .prepare_cached(&format!("SELECT COUNT(*) FROM servers WHERE {filter}"))
            .and_then(|mut s| s.query_row(rusqlite::params_from_iter(&args), |r| r.get(0)))
            .map_err(db)?;
        if limit == 0 {
            return Ok((total.max(0) as u64, Vec::new()));
        }
        args.extend([
            SqlValue::Integer(limit.min(i64::MAX as u64) as i64),
            SqlValue::Integer(offset.min(i64::MAX as u64) as i64),
        ]);
        let mut stmt = self
            .tx
            .prepare_cached(&format!(
                "SELECT doc FROM servers WHERE {filter} ORDER BY created_ns DESC, id LIMIT ? OFFSET ?"
            ))
            .map_err(db)?;
        let docs = stmt.query_map(rusqlite::params_from_iter(&args), |r| r.get::<_, String>(0)).map_err(db)?;
        let servers = docs.map(|doc| doc.map_err(db).and_then(server_from_doc)).collect::<Result<Vec<_>>>()?;
        Ok((total.max(0) as u64, servers))
    }
}
