//! `X-Client-Token`s of creates.

use super::{PgTx, doc, from_ms, ms, parse};
use crate::domain::{Error, Result};
use crate::store::{IdempotencyReads, IdempotencyWrites, RememberedCreate};

impl IdempotencyReads for PgTx<'_> {
    fn remembered_create(&mut self, project_id: &str, token: &str) -> Result<Option<RememberedCreate>> {
        let row = self.row(
            "SELECT fingerprint, job_id, server_ids, created_ms FROM client_tokens WHERE project_id = $1 AND token = $2",
            &[&project_id, &token],
        )?;
        row.map(|row| {
            Ok(RememberedCreate {
                fingerprint: row.get(0),
                job_id: row.get(1),
                server_ids: parse(row.get(2))?,
                created: from_ms(row.get(3)),
            })
        })
        .transpose()
    }

    fn fingerprint_key(&mut self) -> Result<Vec<u8>> {
        let row = self.row("SELECT key FROM fingerprint_key WHERE id = 1", &[])?;
        row.map(|row| row.get(0)).ok_or_else(|| Error::internal("the store has no fingerprint key"))
    }
}

impl IdempotencyWrites for PgTx<'_> {
    fn remember_create(&mut self, project_id: &str, token: &str, create: &RememberedCreate) -> Result<()> {
        self.exec(
            "INSERT INTO client_tokens (project_id, token, fingerprint, job_id, server_ids, created_ms)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id, token) DO UPDATE SET
             fingerprint = excluded.fingerprint, job_id = excluded.job_id, server_ids = excluded.server_ids,
             created_ms = excluded.created_ms",
            &[&project_id, &token, &create.fingerprint, &create.job_id, &doc(&create.server_ids)?, &ms(create.created)],
        )
        .map(drop)
    }
}
