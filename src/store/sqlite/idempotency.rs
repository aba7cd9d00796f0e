//! `X-Client-Token`s of creates.

use rusqlite::{OptionalExtension, params};

use super::{SqliteTx, db, from_ms, ms};
use crate::domain::{Error, Result};
use crate::store::{IdempotencyReads, IdempotencyWrites, RememberedCreate};

impl IdempotencyReads for SqliteTx<'_> {
    fn remembered_create(&mut self, project_id: &str, token: &str) -> Result<Option<RememberedCreate>> {
        let row: Option<(String, String, String, i64)> = self
            .tx
            .prepare_cached(
                "SELECT fingerprint, job_id, server_ids, created_ms FROM client_tokens WHERE project_id = ?1 AND token = ?2",
            )
            .and_then(|mut s| s.query_row([project_id, token], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).optional())
            .map_err(db)?;
        row.map(|(fingerprint, job_id, server_ids, created)| {
            Ok(RememberedCreate {
                fingerprint,
                job_id,
                server_ids: serde_json::from_str(&server_ids).map_err(Error::internal)?,
                created: from_ms(created),
            })
        })
        .transpose()
    }

    fn fingerprint_key(&mut self) -> Result<Vec<u8>> {
        self.tx
            .prepare_cached("SELECT key FROM fingerprint_key WHERE id = 1")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(db)
    }
}

impl IdempotencyWrites for SqliteTx<'_> {
    fn remember_create(&mut self, project_id: &str, token: &str, create: &RememberedCreate) -> Result<()> {
        self.tx
            .execute(
                "INSERT OR REPLACE INTO client_tokens (project_id, token, fingerprint, job_id, server_ids, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    project_id,
                    token,
                    create.fingerprint,
                    create.job_id,
                    serde_json::to_string(&create.server_ids).map_err(Error::internal)?,
                    ms(create.created),
                ],
            )
            .map(drop)
            .map_err(db)
    }
}
