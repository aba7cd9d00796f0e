//! Projects, access keys and IAM tokens.

use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteTx, db, from_ms, ms};
use crate::domain::Result;
use crate::domain::server::Timestamp;
use crate::store::{AccessKey, AuthFailures, ConsoleSession, IdentityReads, IdentityWrites, StoredToken};

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

    fn auth_failures(&mut self, who: &str) -> Result<AuthFailures> {
        self.tx
            .prepare_cached("SELECT consecutive, locked_until_ms FROM auth_failures WHERE who = ?1")
            .and_then(|mut s| {
                s.query_row([who], |r| {
                    Ok(AuthFailures {
                        consecutive: u32::try_from(r.get::<_, i64>(0)?).unwrap_or(u32::MAX),
                        locked_until: r.get::<_, Option<i64>>(1)?.map(from_ms),
                    })
                })
                .optional()
            })
            .map(Option::unwrap_or_default)
            .map_err(db)
    }

    fn console_session(&mut self, secret_sha256: &str) -> Result<Option<ConsoleSession>> {
        self.tx
            .prepare_cached(
                "SELECT project_id, access_key, admin, expires_ms, sign_in FROM console_sessions WHERE secret_sha256 = ?1",
            )
            .and_then(|mut s| {
                s.query_row([secret_sha256], |r| {
                    Ok(ConsoleSession {
                        project_id: r.get(0)?,
                        access_key: r.get(1)?,
                        admin: r.get(2)?,
                        expires: from_ms(r.get(3)?),
                        sign_in: r.get(4)?,
                    })
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

    fn put_auth_failures(&mut self, who: &str, failures: &AuthFailures) -> Result<()> {
        let written = if *failures == AuthFailures::default() {
            self.tx.execute("DELETE FROM auth_failures WHERE who = ?1", [who])
        } else {
            self.tx.execute(
                "INSERT OR REPLACE INTO auth_failures (who, consecutive, locked_until_ms) VALUES (?1, ?2, ?3)",
                params![who, i64::from(failures.consecutive), failures.locked_until.map(ms)],
            )
        };
        written.map(drop).map_err(db)
    }

    fn put_console_session(
        &mut self,
        secret_sha256: &str,
        session: &ConsoleSession,
        now: Timestamp,
        keep: u32,
    ) -> Result<()> {
        self.tx.execute("DELETE FROM console_sessions WHERE expires_ms <= ?1", [ms(now)]).map_err(db)?;
        self.tx
            .execute(
                "DELETE FROM console_sessions WHERE secret_sha256 IN
                 (SELECT secret_sha256 FROM console_sessions ORDER BY expires_ms DESC, secret_sha256 LIMIT -1 OFFSET ?1)",
                [i64::from(keep.saturating_sub(1))],
            )
            .map_err(db)?;
        self.tx
            .execute(
                "INSERT INTO console_sessions (secret_sha256, project_id, access_key, admin, expires_ms, sign_in)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    secret_sha256,
                    session.project_id,
                    session.access_key,
                    session.admin,
                    ms(session.expires),
                    session.sign_in
                ],
            )
            .map(drop)
            .map_err(db)
    }

    fn delete_console_session(&mut self, secret_sha256: &str) -> Result<bool> {
        self.tx
            .execute("DELETE FROM console_sessions WHERE secret_sha256 = ?1", [secret_sha256])
            .map(|deleted| deleted == 1)
            .map_err(db)
    }
}
