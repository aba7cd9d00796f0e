//! Projects, access keys and IAM tokens.

use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteTx, db, from_ms, ms};
use crate::domain::Result;
use crate::domain::server::Timestamp;
use crate::store::{AccessKey, IdentityReads, IdentityWrites, StoredToken};

fn access_key_from_row(row: &Row) -> rusqlite::Result<AccessKey> {
    Ok(AccessKey {
        access_key: row.get(0)?,
        secret_key: row.get(1)?,
        project_id: row.get(2)?,
        description: row.get(3)?,
        created: from_ms(row.get(4)?),
        revoked: row.get::<_, Option<i64>>(5)?.map(from_ms),
        admin: row.get(6)?,
    })
}

impl IdentityReads for SqliteTx<'_> {
    fn project_exists(&mut self, project_id: &str) -> Result<bool> {
        self.tx
            .prepare_cached("SELECT 1 FROM projects WHERE id = ?1")
            .and_then(|mut s| s.exists([project_id]))
            .map_err(db)
    }

    fn access_key(&mut self, access_key: &str) -> Result<Option<AccessKey>> {
        self.tx
            .prepare_cached(
                "SELECT access_key, secret_key, project_id, description, created_ms, revoked_ms, admin FROM access_keys
                 WHERE access_key = ?1",
            )
            .and_then(|mut s| s.query_row([access_key], access_key_from_row).optional())
            .map_err(db)
    }

    fn access_keys(&mut self) -> Result<Vec<AccessKey>> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT access_key, secret_key, project_id, description, created_ms, revoked_ms, admin FROM access_keys
                 ORDER BY created_ms, access_key",
            )
            .map_err(db)?;
        stmt.query_map([], access_key_from_row).map_err(db)?.map(|r| r.map_err(db)).collect()
    }

    fn token(&mut self, token_sha256: &str) -> Result<Option<StoredToken>> {
        self.tx
            .prepare_cached("SELECT project_id, user_name, expires_ms FROM tokens WHERE token_sha256 = ?1")
            .and_then(|mut s| {
                s.query_row([token_sha256], |r| {
                    Ok(StoredToken { project_id: r.get(0)?, user: r.get(1)?, expires: from_ms(r.get(2)?) })
                })
                .optional()
            })
            .map_err(db)
    }
}

impl IdentityWrites for SqliteTx<'_> {
    fn ensure_project(&mut self, project_id: &str, name: &str) -> Result<()> {
        self.tx
            .execute("INSERT OR IGNORE INTO projects (id, name) VALUES (?1, ?2)", [project_id, name])
            .map(drop)
            .map_err(db)
    }

    fn put_access_key(&mut self, key: &AccessKey) -> Result<()> {
        self.tx
            .execute(
                "INSERT OR REPLACE INTO access_keys (access_key, secret_key, project_id, description, created_ms, revoked_ms, admin)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![key.access_key, key.secret_key, key.project_id, key.description, ms(key.created), key.revoked.map(ms), key.admin],
            )
            .map(drop)
            .map_err(db)
    }

    fn revoke_access_key(&mut self, access_key: &str, at: Timestamp) -> Result<bool> {
        self.tx
            .execute(
                "UPDATE access_keys SET revoked_ms = COALESCE(revoked_ms, ?1) WHERE access_key = ?2",
                params![ms(at), access_key],
            )
            .map(|changed| changed == 1)
            .map_err(db)
    }

    fn put_token(&mut self, token_sha256: &str, project_id: &str, user: &str, expires: Timestamp) -> Result<()> {
        self.tx
            .execute(
                "INSERT INTO tokens (token_sha256, project_id, user_name, expires_ms) VALUES (?1, ?2, ?3, ?4)",
                params![token_sha256, project_id, user, ms(expires)],
            )
            .map(drop)
            .map_err(db)
    }
}
