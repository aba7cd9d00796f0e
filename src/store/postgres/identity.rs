//! Projects, access keys and IAM tokens.

use tokio_postgres::Row;

use super::{PgTx, from_ms, ms};
use crate::domain::Result;
use crate::domain::server::Timestamp;
use crate::store::{AccessKey, AuthFailures, ConsoleSession, IdentityReads, IdentityWrites, StoredToken};

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

    fn auth_failures(&mut self, who: &str) -> Result<AuthFailures> {
        let row = self.row("SELECT consecutive, locked_until_ms FROM auth_failures WHERE who = $1", &[&who])?;
        Ok(row.map_or_else(AuthFailures::default, |r| AuthFailures {
            consecutive: u32::try_from(r.get::<_, i64>(0)).unwrap_or(u32::MAX),
            locked_until: r.get::<_, Option<i64>>(1).map(from_ms),
        }))
    }

    fn console_session(&mut self, secret_sha256: &str) -> Result<Option<ConsoleSession>> {
        let row = self.row(
            "SELECT project_id, access_key, admin, expires_ms, sign_in FROM console_sessions WHERE secret_sha256 = $1",
            &[&secret_sha256],
        )?;
        Ok(row.map(|r| ConsoleSession {
            project_id: r.get(0),
            access_key: r.get(1),
            admin: r.get(2),
            expires: from_ms(r.get(3)),
            sign_in: r.get(4),
        }))
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

    fn put_auth_failures(&mut self, who: &str, failures: &AuthFailures) -> Result<()> {
        if *failures == AuthFailures::default() {
            return self.exec("DELETE FROM auth_failures WHERE who = $1", &[&who]).map(drop);
        }
        self.exec(
            "INSERT INTO auth_failures (who, consecutive, locked_until_ms) VALUES ($1, $2, $3)
             ON CONFLICT (who) DO UPDATE SET consecutive = excluded.consecutive, locked_until_ms = excluded.locked_until_ms",
            &[&who, &i64::from(failures.consecutive), &failures.locked_until.map(ms)],
        )
        .map(drop)
    }

    fn put_console_session(
        &mut self,
        secret_sha256: &str,
        session: &ConsoleSession,
        now: Timestamp,
        keep: u32,
    ) -> Result<()> {
        self.exec("DELETE FROM console_sessions WHERE expires_ms <= $1", &[&ms(now)])?;
        self.exec(
            "DELETE FROM console_sessions WHERE secret_sha256 IN
             (SELECT secret_sha256 FROM console_sessions ORDER BY expires_ms DESC, secret_sha256 OFFSET $1)",
            &[&i64::from(keep.saturating_sub(1))],
        )?;
        self.exec(
            "INSERT INTO console_sessions (secret_sha256, project_id, access_key, admin, expires_ms, sign_in)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &secret_sha256,
                &session.project_id,
                &session.access_key,
                &session.admin,
                &ms(session.expires),
                &session.sign_in,
            ],
        )
        .map(drop)
    }

    fn delete_console_session(&mut self, secret_sha256: &str) -> Result<bool> {
        self.exec("DELETE FROM console_sessions WHERE secret_sha256 = $1", &[&secret_sha256])
            .map(|deleted| deleted == 1)
    }
}
