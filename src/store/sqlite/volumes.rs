//! EVS disks.

use std::collections::HashMap;

use rusqlite::types::Value as SqlValue;
use rusqlite::{OptionalExtension, params};

use super::{SqliteTx, db, ns};
use crate::domain::volumes::{CloudVolume, VolumeFilter, VolumeSortKey};
use crate::domain::{Error, Result};
use crate::store::{VolumeReads, VolumeWrites};

fn to_doc(volume: &CloudVolume) -> Result<String> {
    serde_json::to_string(volume).map_err(Error::internal)
}

fn from_doc(doc: String) -> Result<CloudVolume> {
    serde_json::from_str(&doc).map_err(Error::internal)
}

fn text(value: &str) -> SqlValue {
    SqlValue::Text(value.to_string())
}

/// The column a sort key orders by.
fn sort_column(key: VolumeSortKey) -> &'static str {
    match key {
        VolumeSortKey::CreatedAt => "created_ns",
        VolumeSortKey::Id => "id",
        VolumeSortKey::Name => "name",
        VolumeSortKey::Size => "size_gib",
        VolumeSortKey::Status => "status",
    }
}

impl VolumeReads for SqliteTx<'_> {
    fn volume(&mut self, project_id: &str, volume_id: &str) -> Result<Option<CloudVolume>> {
        let doc: Option<String> = self
            .tx
            .prepare_cached("SELECT doc FROM volumes WHERE id = ?1 AND project_id = ?2")
            .and_then(|mut s| s.query_row([volume_id, project_id], |r| r.get(0)).optional())
            .map_err(db)?;
        doc.map(from_doc).transpose()
    }

    fn volumes(&mut self, project_id: &str, ids: &[String]) -> Result<HashMap<String, CloudVolume>> {
        let ids = serde_json::to_string(ids).map_err(Error::internal)?;
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT id, doc FROM volumes WHERE project_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
            )
            .map_err(db)?;
        let rows = stmt.query_map([project_id, ids.as_str()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)));
        rows.map_err(db)?.map(|row| row.map_err(db).and_then(|(id, doc)| Ok((id, from_doc(doc)?)))).collect()
    }

    fn list_volumes(&mut self, project_id: &str, filter: &VolumeFilter) -> Result<Option<(u64, Vec<CloudVolume>)>> {
        // Positional `?` parameters, bound from `args` in order.
        let mut conditions = vec!["project_id = ?".to_string()];
        let mut args: Vec<SqlValue> = vec![text(project_id)];
        if let Some(name) = &filter.name {
            conditions.push("name = ?".into());
            args.push(text(name));
        }
        if let Some(status) = filter.status {
            conditions.push("status = ?".into());
            args.push(text(status.as_str()));
        }
        if let Some(zone) = &filter.availability_zone {
            conditions.push("availability_zone = ?".into());
            args.push(text(zone));
        }
        if let Some(multiattach) = filter.multiattach {
            conditions.push("multiattach = ?".into());
            args.push(SqlValue::Integer(multiattach.into()));
        }
        if let Some(server) = &filter.server_id {
            conditions.push(
                "EXISTS (SELECT 1 FROM json_each(doc, '$.attachments') AS a WHERE json_extract(a.value, '$.server_id') = ?)"
                    .into(),
            );
            args.push(text(server));
        }
        if let Some(ids) = &filter.ids {
            conditions.push("id IN (SELECT value FROM json_each(?))".into());
            args.push(text(&serde_json::to_string(ids).map_err(Error::internal)?));
        }
        for (key, value) in &filter.metadata {
            conditions.push(
                "EXISTS (SELECT 1 FROM json_each(doc, '$.metadata') AS m WHERE m.key = ? AND m.value = ?)".into(),
            );
            args.extend([text(key), text(value)]);
        }
        let count_sql = format!("SELECT COUNT(*) FROM volumes WHERE {}", conditions.join(" AND "));
        let total: i64 = self
            .tx
            .prepare(&count_sql)
            .and_then(|mut s| s.query_row(rusqlite::params_from_iter(&args), |r| r.get(0)))
            .map_err(db)?;
        let column = sort_column(filter.sort_key);
        let (direction, beyond) = if filter.descending { ("DESC", "<") } else { ("ASC", ">") };
        if let Some(marker) = &filter.marker {
            let sort_value: Option<SqlValue> = self
                .tx
                .prepare(&format!("SELECT {column} FROM volumes WHERE id = ?1 AND project_id = ?2"))
                .and_then(|mut s| s.query_row([marker.as_str(), project_id], |r| r.get(0)).optional())
                .map_err(db)?;
            let Some(sort_value) = sort_value else { return Ok(None) };
            conditions.push(format!("({column} {beyond} ? OR ({column} = ? AND id {beyond} ?))"));
            args.extend([sort_value.clone(), sort_value, text(marker)]);
        }
        let sql = format!(
            "SELECT doc FROM volumes WHERE {} ORDER BY {column} {direction}, id {direction} LIMIT ? OFFSET ?",
            conditions.join(" AND ")
        );
        args.extend([
            SqlValue::Integer(filter.limit.min(i64::MAX as u64) as i64),
            SqlValue::Integer(filter.offset.min(i64::MAX as u64) as i64),
        ]);
        let mut stmt = self.tx.prepare(&sql).map_err(db)?;
        let docs = stmt.query_map(rusqlite::params_from_iter(&args), |r| r.get::<_, String>(0)).map_err(db)?;
        let volumes = docs.map(|doc| doc.map_err(db).and_then(from_doc)).collect::<Result<Vec<_>>>()?;
        Ok(Some((total.max(0) as u64, volumes)))
    }
}

impl VolumeWrites for SqliteTx<'_> {
    fn insert_volumes(&mut self, volumes: &[CloudVolume]) -> Result<()> {
        let mut insert = self
            .tx
            .prepare_cached(
                "INSERT INTO volumes (id, project_id, created_ns, name, status, availability_zone, multiattach,
                 size_gib, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(db)?;
        for volume in volumes {
            insert
                .execute(params![
                    volume.id,
                    volume.project_id,
                    ns(volume.created),
                    volume.name,
                    volume.status.as_str(),
                    volume.availability_zone,
                    volume.multiattach,
                    volume.size_gib,
                    to_doc(volume)?,
                ])
                .map_err(db)?;
        }
        Ok(())
    }

    fn update_volume(&mut self, volume: &CloudVolume) -> Result<()> {
        let doc = to_doc(volume)?;
        let changed = self
            .tx
            .prepare_cached("UPDATE volumes SET name = ?1, status = ?2, size_gib = ?3, doc = ?4 WHERE id = ?5")
            .and_then(|mut s| s.execute(params![volume.name, volume.status.as_str(), volume.size_gib, doc, volume.id]))
            .map_err(db)?;
        if changed == 1 {
            Ok(())
        } else {
            Err(Error::internal(format!("volume {} vanished mid-transaction", volume.id)))
        }
    }

    fn delete_volume(&mut self, volume_id: &str) -> Result<()> {
        self.tx.execute("DELETE FROM volumes WHERE id = ?1", [volume_id]).map(drop).map_err(db)
    }
}
