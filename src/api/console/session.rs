//! The console's sign-in tokens and sessions, kept in the store: a session opened on one
//! replica works on every other sharing the store (a load balancer may send each request to
//! another), and outlives a restart until it expires. Both are secrets, so only their SHA-256
//! is stored (they are 256 random bits, for which a fast hash is enough: there is nothing to
//! guess); a session's CSRF token is derived from its cookie, so it is stored nowhere.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::domain::Result;
use crate::domain::server::Timestamp;
use crate::store::{ConsoleSession, Store, read, transact};

/// Whom a session stands for: the project it is bound to and the credential that opened it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub project_id: String,
    /// The access key that signed in (the bootstrap one for the banner's URL).
    pub access_key: String,
    /// The credential is an admin one: snapshots and the clock, which reach every project.
    pub admin: bool,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub grant: Grant,
    /// Sent back by the console in `X-Ecsd-Csrf` on every state-changing call.
    pub csrf: String,
    pub expires: Timestamp,
}

/// How long a start-up banner's sign-in token opens a session, used or not: it is in the
/// store, so it does not end with the run that printed it.
const SIGN_IN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The most sessions and sign-in tokens held at once; one more drops the one closest to expiry.
const MAX_SESSIONS: u32 = 1024;

pub struct Sessions {
    store: Arc<dyn Store>,
    ttl: Duration,
}

/// 256 random bits, hex.
fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}

fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The CSRF token of a session: of its cookie, which only the session's browser holds, and
/// in another domain than the stored digest, so the database does not give it away.
fn csrf_of(cookie: &str) -> String {
    digest(&format!("ecsd console csrf\0{cookie}"))
}

/// Real time: sessions last a real `ttl`, however far simulated time is moved.
fn now() -> Timestamp {
    time::OffsetDateTime::now_utc()
}

impl Sessions {
    /// Sessions that last `ttl` from sign-in, in `store`.
    pub fn new(store: Arc<dyn Store>, ttl: Duration) -> Self {
        Sessions { store, ttl }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn put(&self, secret: &str, grant: Grant, sign_in: bool) -> Result<Timestamp> {
        let now = now();
        let expires = now + if sign_in { SIGN_IN_LIFETIME } else { self.ttl };
        let stored = ConsoleSession {
            project_id: grant.project_id,
            access_key: grant.access_key,
            admin: grant.admin,
            expires,
            sign_in,
        };
        transact(self.store.as_ref(), |tx| tx.put_console_session(&digest(secret), &stored, now, MAX_SESSIONS))?;
        Ok(expires)
    }

    /// A token that opens one session for `grant`, once, within [`SIGN_IN_LIFETIME`].
    pub fn sign_in_token(&self, grant: Grant) -> Result<String> {
        let token = random_secret();
        self.put(&token, grant, true)?;
        Ok(token)
    }

    /// Spends a sign-in token: the new session's cookie value, or `None` for a token that was
    /// never given, is spent or has expired.
    pub fn redeem(&self, token: &str) -> Result<Option<(String, Session)>> {
        let key = digest(token);
        let spent = transact(self.store.as_ref(), |tx| {
            let found = tx.console_session(&key)?.filter(|stored| stored.sign_in);
            if found.is_some() {
                tx.delete_console_session(&key)?;
            }
            Ok(found)
        })?;
        match spent.filter(|stored| stored.expires > now()) {
            Some(stored) => self.open(grant_of(stored)).map(Some),
            None => Ok(None),
        }
    }

    /// Opens a session: its cookie value (never stored) and the session.
    pub fn open(&self, grant: Grant) -> Result<(String, Session)> {
        let cookie = random_secret();
        let expires = self.put(&cookie, grant.clone(), false)?;
        let session = Session { grant, csrf: csrf_of(&cookie), expires };
        Ok((cookie, session))
    }

    /// The session a cookie value opens, while it has not expired.
    pub fn session(&self, cookie: &str) -> Result<Option<Session>> {
        let found = read(self.store.as_ref(), |tx| tx.console_session(&digest(cookie)))?;
        Ok(found.filter(|stored| !stored.sign_in && stored.expires > now()).map(|stored| Session {
            expires: stored.expires,
            grant: grant_of(stored),
            csrf: csrf_of(cookie),
        }))
    }

    /// Signs a session out.
    pub fn close(&self, cookie: &str) -> Result<()> {
        transact(self.store.as_ref(), |tx| tx.delete_console_session(&digest(cookie))).map(drop)
    }
}

fn grant_of(stored: ConsoleSession) -> Grant {
    Grant { project_id: stored.project_id, access_key: stored.access_key, admin: stored.admin }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_store(ttl: Duration) -> (tempfile::TempDir, Sessions) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = crate::store::SqliteStore::open(&dir.path().join("ecsd.sqlite3")).expect("store");
        (dir, Sessions::new(Arc::new(store), ttl))
    }

    fn grant() -> Grant {
        Grant { project_id: "p".into(), access_key: "AK".into(), admin: true }
    }

    #[test]
    fn a_sign_in_token_opens_one_session_once_and_nothing_is_kept_in_clear() {
        let (_dir, sessions) = in_store(Duration::from_secs(60));
        let token = sessions.sign_in_token(grant()).expect("token");
        let (cookie, session) = sessions.redeem(&token).expect("redeemed").expect("first use");
        assert_eq!(session.grant, grant());
        assert!(sessions.redeem(&token).expect("redeemed").is_none(), "a spent token");
        assert_eq!(sessions.session(&cookie).expect("read").map(|s| s.csrf), Some(session.csrf.clone()));
        assert!(sessions.session(&token).expect("read").is_none(), "a token is no session");
        let stored = read(sessions.store.as_ref(), |tx| tx.console_session(&cookie)).expect("read");
        assert!(stored.is_none() && session.csrf != digest(&cookie), "stored under a digest the CSRF token is not");
    }

    #[test]
    fn an_expired_or_closed_session_opens_nothing() {
        let (_dir, sessions) = in_store(Duration::ZERO);
        let (cookie, _) = sessions.open(grant()).expect("opened");
        assert!(sessions.session(&cookie).expect("read").is_none());
        let (_dir, sessions) = in_store(Duration::from_secs(60));
        let (cookie, _) = sessions.open(grant()).expect("opened");
        sessions.close(&cookie).expect("closed");
        assert!(sessions.session(&cookie).expect("read").is_none());
        assert!(sessions.session("never given").expect("read").is_none());
    }
}
