//! Projects, access keys and IAM tokens.

use tokio_postgres::Row;

use super::{PgTx, from_ms, ms};
use crate::domain::Result;
use crate::domain::server::Timestamp;
use crate::store::{AccessKey, IdentityReads, IdentityWrites, StoredToken};

const KEY_COLUMNS: &str = "access_key, secret_key, project_id, description, created_ms, revoked_ms, admin";

fn access_key_from_row(row: &Row) -> AccessKey {
    AccessKey {
        access_key: row.get(0),
        secret_key: row.get(1),
        project_id: row.get(2),
        description: row.get(3),
        created: from_ms(row.get(4)),
        revoked: row.get::<_, Option<i64>>(5).map(from_ms),
        admin: row.get(6),
    }
}

impl IdentityReads for PgTx<'_> {
    fn project_exists(&mut self, project_id: &str) -> Result<bool> {
        self.exists("SELECT 1 FROM projects WHERE id = $1", &[&project_id])
    }

    fn access_key(&mut self, access_key: &str) -> Result<Option<AccessKey>> {
        let row = self.row(&format!("SELECT {KEY_COLUMNS} FROM access_keys WHERE access_key = $1"), &[&access_key])?;
        Ok(row.as_ref().map(access_key_from_row))
    }

    fn access_keys(&mut self) -> Result<Vec<AccessKey>> {
        let rows = self.rows(&format!("SELECT {KEY_COLUMNS} FROM access_keys ORDER BY created_ms, access_key"), &[])?;
        Ok(rows.iter().map(access_key_from_row).collect())
    }

    fn token(&mut self, token_sha256: &str) -> Result<Option<StoredToken>> {
        let row =
            self.row("SELECT project_id, user_name, expires_ms FROM tokens WHERE token_sha256 = $1", &[&token_sha256])?;
        Ok(row.map(|r| StoredToken { project_id: r.get(0), user: r.get(1), expires: from_ms(r.get(2)) }))
    }
}

impl IdentityWrites for PgTx<'_> {
    fn ensure_project(&mut self, project_id: &str, name: &str) -> Result<()> {
        self.exec("INSERT INTO projects (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", &[&project_id, &name])
            .map(drop)
    }

    fn put_access_key(&mut self, key: &AccessKey) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO access_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (access_key) DO UPDATE SET secret_key = excluded.secret_key,
                 project_id = excluded.project_id, description = excluded.description,
                 created_ms = excluded.created_ms, revoked_ms = excluded.revoked_ms, admin = excluded.admin"
            ),
            &[
                &key.access_key,
                &key.secret_key,
                &key.project_id,
                &key.description,
                &ms(key.created),
                &key.revoked.map(ms),
                &key.admin,
            ],
        )
        .map(drop)
    }

    fn revoke_access_key(&mut self, access_key: &str, at: Timestamp) -> Result<bool> {
        self.exec(
            "UPDATE access_keys SET revoked_ms = COALESCE(revoked_ms, $1) WHERE access_key = $2",
            &[&ms(at), &access_key],
        )
        .map(|changed| changed == 1)
    }

    fn put_token(&mut self, token_sha256: &str, project_id: &str, user: &str, expires: Timestamp) -> Result<()> {
        self.exec(
            "INSERT INTO tokens (token_sha256, project_id, user_name, expires_ms) VALUES ($1, $2, $3, $4)",
            &[&token_sha256, &project_id, &user, &ms(expires)],
        )
        .map(drop)
    }
}
