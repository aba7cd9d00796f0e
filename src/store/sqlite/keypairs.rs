//! Nova key pairs.

use rusqlite::{OptionalExtension, params};

use super::{SqliteTx, db};
use crate::domain::keypairs::{self, Keypair};
use crate::domain::{Error, Result};
use crate::store::{KeypairReads, KeypairWrites};

fn keypair(id: i64, doc: &str) -> Result<Keypair> {
    let mut keypair: Keypair = serde_json::from_str(doc).map_err(Error::internal)?;
    keypair.id = id;
    Ok(keypair)
}

impl KeypairReads for SqliteTx<'_> {
    fn keypair(&mut self, project_id: &str, name: &str) -> Result<Option<Keypair>> {
        let row = self
            .tx
            .prepare_cached("SELECT id, doc FROM keypairs WHERE project_id = ?1 AND name = ?2")
            .and_then(|mut s| s.query_row([project_id, name], |r| Ok((r.get(0)?, r.get::<_, String>(1)?))).optional())
            .map_err(db)?;
        row.map(|(id, doc)| keypair(id, &doc)).transpose()
    }

    fn keypairs(&mut self, project_id: &str) -> Result<Vec<Keypair>> {
        let mut stmt =
            self.tx.prepare_cached("SELECT id, doc FROM keypairs WHERE project_id = ?1 ORDER BY id").map_err(db)?;
        let rows = stmt.query_map([project_id], |r| Ok((r.get(0)?, r.get::<_, String>(1)?))).map_err(db)?;
        rows.map(|row| row.map_err(db).and_then(|(id, doc)| keypair(id, &doc))).collect()
    }
}

impl KeypairWrites for SqliteTx<'_> {
    fn insert_keypair(&mut self, keypair: &Keypair) -> Result<i64> {
        let doc = serde_json::to_string(keypair).map_err(Error::internal)?;
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO keypairs (project_id, name, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT (project_id, name) DO NOTHING RETURNING id",
            )
            .and_then(|mut s| {
                s.query_row(params![keypair.project_id, keypair.name, doc], |r| r.get::<_, i64>(0)).optional()
            })
            .map_err(db)?;
        inserted.ok_or_else(|| keypairs::exists(&keypair.name))
    }

    fn delete_keypair(&mut self, project_id: &str, name: &str) -> Result<bool> {
        self.tx
            .prepare_cached("DELETE FROM keypairs WHERE project_id = ?1 AND name = ?2")
            .and_then(|mut s| s.execute([project_id, name]))
            .map(|n| n == 1)
            .map_err(db)
    }
}
