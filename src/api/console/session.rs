//! The console's sign-in tokens and sessions, held in memory: a restart signs everyone out,
//! and prints a new sign-in URL. Both are secrets, so only their SHA-256 is kept (they are 256
//! random bits, for which a fast hash is enough: there is nothing to guess).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

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
    pub expires: Instant,
}

/// The most sessions held at once; opening one more drops the one closest to expiry.
const MAX_SESSIONS: usize = 1024;

pub struct Sessions {
    ttl: Duration,
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    /// One-time sign-in tokens by hash.
    tokens: HashMap<String, Grant>,
    /// Open sessions by the hash of their cookie.
    sessions: HashMap<String, Session>,
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

impl Sessions {
    /// Sessions that last `ttl` from sign-in.
    pub fn new(ttl: Duration) -> Self {
        Sessions { ttl, held: Mutex::new(Held::default()) }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        // A panic while holding the lock leaves plain maps behind, still consistent.
        self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A token that opens one session for `grant`, once.
    pub fn sign_in_token(&self, grant: Grant) -> String {
        let token = random_secret();
        self.held().tokens.insert(digest(&token), grant);
        token
    }

    /// Spends a sign-in token: the new session's cookie value, or `None` for a token that was
    /// never given or is spent.
    pub fn redeem(&self, token: &str) -> Option<(String, Session)> {
        let grant = self.held().tokens.remove(&digest(token))?;
        Some(self.open(grant))
    }

    /// Opens a session: its cookie value (never stored) and the session.
    pub fn open(&self, grant: Grant) -> (String, Session) {
        let cookie = random_secret();
        let now = Instant::now();
        let session = Session { grant, csrf: random_secret(), expires: now + self.ttl };
        let mut held = self.held();
        held.sessions.retain(|_, s| s.expires > now);
        if held.sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = held.sessions.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| k.clone())
        {
            held.sessions.remove(&oldest);
        }
        held.sessions.insert(digest(&cookie), session.clone());
        (cookie, session)
    }

    /// The session a cookie value opens, while it has not expired.
    pub fn session(&self, cookie: &str) -> Option<Session> {
        let key = digest(cookie);
        let mut held = self.held();
        match held.sessions.get(&key) {
            Some(session) if session.expires > Instant::now() => Some(session.clone()),
            Some(_) => {
                held.sessions.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Signs a session out.
    pub fn close(&self, cookie: &str) {
        self.held().sessions.remove(&digest(cookie));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Grant {
        Grant { project_id: "p".into(), access_key: "AK".into(), admin: true }
    }

    #[test]
    fn a_sign_in_token_opens_one_session_once_and_nothing_is_kept_in_clear() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let token = sessions.sign_in_token(grant());
        let (cookie, session) = sessions.redeem(&token).expect("first use");
        assert_eq!(session.grant, grant());
        assert!(sessions.redeem(&token).is_none(), "a spent token");
        assert_eq!(sessions.session(&cookie).map(|s| s.csrf), Some(session.csrf));
        let held = sessions.held();
        assert!(!held.sessions.contains_key(&cookie) && !held.tokens.contains_key(&token));
    }

    #[test]
    fn an_expired_or_closed_session_opens_nothing() {
        let sessions = Sessions::new(Duration::ZERO);
        let (cookie, _) = sessions.open(grant());
        assert!(sessions.session(&cookie).is_none());
        let sessions = Sessions::new(Duration::from_secs(60));
        let (cookie, _) = sessions.open(grant());
        sessions.close(&cookie);
        assert!(sessions.session(&cookie).is_none());
        assert!(sessions.session("never given").is_none());
    }
}
