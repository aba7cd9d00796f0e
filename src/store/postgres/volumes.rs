//! EVS disks.

use std::collections::HashMap;

use super::{Args, PgTx, doc, ns, parse};
use crate::domain::Result;
use crate::domain::volumes::{CloudVolume, VolumeFilter, VolumeSortKey};
use crate::store::{VolumeReads, VolumeWrites};

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

impl VolumeReads for PgTx<'_> {
    fn volume(&mut self, project_id: &str, volume_id: &str) -> Result<Option<CloudVolume>> {
        self.one_doc("SELECT doc FROM volumes WHERE id = $1 AND project_id = $2", &[&volume_id, &project_id])
    }

    fn volumes(&mut self, project_id: &str, ids: &[String]) -> Result<HashMap<String, CloudVolume>> {
        let rows =
            self.rows("SELECT id, doc FROM volumes WHERE project_id = $1 AND id = ANY($2)", &[&project_id, &ids])?;
        rows.iter().map(|row| Ok((row.get(0), parse(row.get(1))?))).collect()
    }

    fn list_volumes(&mut self, project_id: &str, filter: &VolumeFilter) -> Result<Option<(u64, Vec<CloudVolume>)>> {
        let mut args = Args::default();
        let project = args.push(project_id.to_string());
        let mut conditions = vec![format!("project_id = {project}")];
        if let Some(name) = &filter.name {
            conditions.push(format!("name = {}", args.push(name.clone())));
        }
        if let Some(status) = filter.status {
            conditions.push(format!("status = {}", args.push(status.as_str().to_string())));
        }
        if let Some(zone) = &filter.availability_zone {
            conditions.push(format!("availability_zone = {}", args.push(zone.clone())));
        }
        if let Some(multiattach) = filter.multiattach {
            conditions.push(format!("multiattach = {}", args.push(multiattach)));
        }
        if let Some(server) = &filter.server_id {
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(doc::jsonb -> 'attachments', '[]'::jsonb)) a
                 WHERE a ->> 'server_id' = {})",
                args.push(server.clone())
            ));
        }
        if let Some(ids) = &filter.ids {
            conditions.push(format!("id = ANY({})", args.push(ids.clone())));
        }
        for (key, value) in &filter.metadata {
            let (key, value) = (args.push(key.clone()), args.push(value.clone()));
            conditions.push(format!("doc::jsonb -> 'metadata' ->> {key} = {value}"));
        }
        let count_sql = format!("SELECT COUNT(*) FROM volumes WHERE {}", conditions.join(" AND "));
        let total: i64 = self.row(&count_sql, &args.params())?.map_or(0, |row| row.get(0));
        let column = sort_column(filter.sort_key);
        let (direction, beyond) = if filter.descending { ("DESC", "<") } else { ("ASC", ">") };
        if let Some(marker) = &filter.marker {
            if !self.exists("SELECT 1 FROM volumes WHERE id = $1 AND project_id = $2", &[marker, &project_id])? {
                return Ok(None);
            }
            let marker = args.push(marker.clone());
            conditions.push(format!(
                "({column}, id) {beyond} (SELECT {column}, id FROM volumes WHERE id = {marker} AND project_id = {project})"
            ));
        }
        let limit = args.push(filter.limit.min(i64::MAX as u64) as i64);
        let offset = args.push(filter.offset.min(i64::MAX as u64) as i64);
        let sql = format!(
            "SELECT doc FROM volumes WHERE {} ORDER BY {column} {direction}, id {direction} LIMIT {limit} OFFSET {offset}",
            conditions.join(" AND ")
        );
        let volumes = self.docs(&sql, &args.params())?;
        Ok(Some((total.max(0) as u64, volumes)))
    }
}

impl VolumeWrites for PgTx<'_> {
    fn insert_volumes(&mut self, volumes: &[CloudVolume]) -> Result<()> {
        if volumes.is_empty() {
            return Ok(());
        }
        let column = |f: fn(&CloudVolume) -> String| volumes.iter().map(f).collect::<Vec<_>>();
        let docs = volumes.iter().map(doc).collect::<Result<Vec<_>>>()?;
        self.exec(
            "INSERT INTO volumes (id, project_id, created_ns, name, status, availability_zone, multiattach, size_gib, doc)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
             $7::boolean[], $8::bigint[], $9::text[])",
            &[
                &column(|v| v.id.clone()),
                &column(|v| v.project_id.clone()),
                &volumes.iter().map(|v| ns(v.created)).collect::<Vec<_>>(),
                &column(|v| v.name.clone()),
                &column(|v| v.status.as_str().to_string()),
                &column(|v| v.availability_zone.clone()),
                &volumes.iter().map(|v| v.multiattach).collect::<Vec<_>>(),
                &volumes.iter().map(|v| i64::from(v.size_gib)).collect::<Vec<_>>(),
                &docs,
            ],
        )
        .map(drop)
    }

    fn update_volume(&mut self, volume: &CloudVolume) -> Result<()> {
        let changed = self.exec(
            "UPDATE volumes SET name = $1, status = $2, size_gib = $3, doc = $4 WHERE id = $5",
            &[&volume.name, &volume.status.as_str(), &i64::from(volume.size_gib), &doc(volume)?, &volume.id],
        )?;
        if changed == 1 {
            Ok(())
        } else {
            Err(crate::domain::Error::internal(format!("volume {} vanished mid-transaction", volume.id)))
        }
    }

    fn delete_volume(&mut self, volume_id: &str) -> Result<()> {
        self.exec("DELETE FROM volumes WHERE id = $1", &[&volume_id]).map(drop)
    }
}
