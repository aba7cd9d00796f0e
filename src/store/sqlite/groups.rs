//! ECS groups. Members are not stored here: they are the servers whose documents name the
//! group (the generated, indexed `server_group_id` column).

use rusqlite::{OptionalExtension, params};

use super::{SqliteTx, db, ns};
use crate::domain::groups::ServerGroup;
use crate::domain::server::Timestamp;
use crate::domain::{Error, Result};
use crate::store::{ServerGroupReads, ServerGroupWrites};

fn from_ns(ns: i64) -> Timestamp {
    Timestamp::from_unix_timestamp_nanos(ns as i128).unwrap_or(Timestamp::UNIX_EPOCH)
}

type Row = (String, String, String, String, i64);

impl SqliteTx<'_> {
    fn members(&self, group_id: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT id FROM servers WHERE server_group_id = ?1 ORDER BY created_ns, id")
            .map_err(db)?;
        stmt.query_map([group_id], |r| r.get(0)).map_err(db)?.map(|row| row.map_err(db)).collect()
    }

    fn group_of(&self, (id, project_id, name, policies, created_ns): Row) -> Result<ServerGroup> {
        let policies = serde_json::from_str(&policies).map_err(Error::internal)?;
        let members = self.members(&id)?;
        Ok(ServerGroup { id, project_id, name, policies, created: from_ns(created_ns), members })
    }
}

impl ServerGroupReads for SqliteTx<'_> {
    fn server_group(&mut self, project_id: &str, group_id: &str) -> Result<Option<ServerGroup>> {
        let row: Option<Row> = self
            .tx
            .prepare_cached(
                "SELECT id, project_id, name, policies, created_ns FROM server_groups WHERE id = ?1 AND project_id = ?2",
            )
            .and_then(|mut s| {
                s.query_row([group_id, project_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                    .optional()
            })
            .map_err(db)?;
        row.map(|row| self.group_of(row)).transpose()
    }

    fn server_groups(
        &mut self,
        project_id: &str,
        marker: Option<&str>,
        limit: u64,
    ) -> Result<Option<Vec<ServerGroup>>> {
        let after: (i64, String) = match marker {
            None => (i64::MIN, String::new()),
            Some(marker) => {
                let created: Option<i64> = self
                    .tx
                    .prepare_cached("SELECT created_ns FROM server_groups WHERE id = ?1 AND project_id = ?2")
                    .and_then(|mut s| s.query_row([marker, project_id], |r| r.get(0)).optional())
                    .map_err(db)?;
                match created {
                    Some(created) => (created, marker.to_string()),
                    None => return Ok(None),
                }
            }
        };
        let rows: Vec<Row> = self
            .tx
            .prepare_cached(
                "SELECT id, project_id, name, policies, created_ns FROM server_groups WHERE project_id = ?1
                 AND (created_ns > ?2 OR (created_ns = ?2 AND id > ?3)) ORDER BY created_ns, id LIMIT ?4",
            )
            .and_then(|mut s| {
                s.query_map(params![project_id, after.0, after.1, limit.min(i64::MAX as u64) as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db)?;
        rows.into_iter().map(|row| self.group_of(row)).collect::<Result<Vec<_>>>().map(Some)
    }

    fn server_group_count(&mut self, project_id: &str) -> Result<u64> {
        self.tx
            .prepare_cached("SELECT COUNT(*) FROM server_groups WHERE project_id = ?1")
            .and_then(|mut s| s.query_row([project_id], |r| r.get::<_, i64>(0)))
            .map(|n| n.max(0) as u64)
            .map_err(db)
    }
}

impl ServerGroupWrites for SqliteTx<'_> {
    fn insert_server_group(&mut self, group: &ServerGroup) -> Result<()> {
        let policies = serde_json::to_string(&group.policies).map_err(Error::internal)?;
        self.tx
            .prepare_cached(
                "INSERT INTO server_groups (id, project_id, name, policies, created_ns) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| s.execute(params![group.id, group.project_id, group.name, policies, ns(group.created)]))
            .map(drop)
            .map_err(db)
    }

    fn delete_server_group(&mut self, group_id: &str) -> Result<()> {
        self.tx.execute("DELETE FROM server_groups WHERE id = ?1", [group_id]).map(drop).map_err(db)
    }
}
