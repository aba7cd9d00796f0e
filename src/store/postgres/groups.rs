//! ECS groups. Members are not stored here: they are the servers whose documents name the
//! group (the generated, indexed `server_group_id` column).

use tokio_postgres::Row;

use super::{PgTx, doc, from_ns, ns, parse};
use crate::domain::Result;
use crate::domain::groups::ServerGroup;
use crate::store::{ServerGroupReads, ServerGroupWrites};

const GROUP_COLUMNS: &str = "id, project_id, name, policies, created_ns";

impl PgTx<'_> {
    fn members(&self, group_id: &str) -> Result<Vec<String>> {
        let rows =
            self.rows("SELECT id FROM servers WHERE server_group_id = $1 ORDER BY created_ns, id", &[&group_id])?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn group_of(&self, row: &Row) -> Result<ServerGroup> {
        let id: String = row.get(0);
        let members = self.members(&id)?;
        Ok(ServerGroup {
            id,
            project_id: row.get(1),
            name: row.get(2),
            policies: parse(row.get(3))?,
            created: from_ns(row.get(4)),
            members,
        })
    }
}

impl ServerGroupReads for PgTx<'_> {
    fn server_group(&mut self, project_id: &str, group_id: &str) -> Result<Option<ServerGroup>> {
        let row = self.row(
            &format!("SELECT {GROUP_COLUMNS} FROM server_groups WHERE id = $1 AND project_id = $2"),
            &[&group_id, &project_id],
        )?;
        row.map(|row| self.group_of(&row)).transpose()
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
                let created = self.row(
                    "SELECT created_ns FROM server_groups WHERE id = $1 AND project_id = $2",
                    &[&marker, &project_id],
                )?;
                match created {
                    Some(row) => (row.get(0), marker.to_string()),
                    None => return Ok(None),
                }
            }
        };
        let limit = limit.min(i64::MAX as u64) as i64;
        let rows = self.rows(
            &format!(
                "SELECT {GROUP_COLUMNS} FROM server_groups WHERE project_id = $1
                 AND (created_ns > $2 OR (created_ns = $2 AND id > $3)) ORDER BY created_ns, id LIMIT $4"
            ),
            &[&project_id, &after.0, &after.1, &limit],
        )?;
        rows.iter().map(|row| self.group_of(row)).collect::<Result<Vec<_>>>().map(Some)
    }

    fn server_group_count(&mut self, project_id: &str) -> Result<u64> {
        let row = self.row("SELECT COUNT(*) FROM server_groups WHERE project_id = $1", &[&project_id])?;
        Ok(row.map_or(0, |row| row.get::<_, i64>(0).max(0) as u64))
    }
}

impl ServerGroupWrites for PgTx<'_> {
    fn insert_server_group(&mut self, group: &ServerGroup) -> Result<()> {
        self.exec(
            "INSERT INTO server_groups (id, project_id, name, policies, created_ns) VALUES ($1, $2, $3, $4, $5)",
            &[&group.id, &group.project_id, &group.name, &doc(&group.policies)?, &ns(group.created)],
        )
        .map(drop)
    }

    fn delete_server_group(&mut self, group_id: &str) -> Result<()> {
        self.exec("DELETE FROM server_groups WHERE id = $1", &[&group_id]).map(drop)
    }
}
