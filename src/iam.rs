//! Identity: which access keys and tokens may act on which project, and the password users
//! who may ask for tokens. Keys and tokens live in the store, so `ecsd keys` can change them
//! while the server runs; users come from the configuration file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::PasswordHash;
use serde::Deserialize;
use sha2::Digest;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::clock::Clock;
use crate::domain::server::Timestamp;
use crate::domain::{Error, Result};
use crate::store::{AuthFailures, Store, read, transact};

/// How long an IAM token is accepted.
pub const TOKEN_LIFETIME: time::Duration = time::Duration::hours(24);

/// A user or an access key is locked after more than this many consecutive failed
/// authentications (the API gateway's rule for access keys, contract 7.4)...
pub const MAX_CONSECUTIVE_FAILURES: u32 = 5;
/// ...for this long; requests are refused meanwhile, right credentials or not.
pub const LOCKOUT: Duration = Duration::from_secs(5 * 60);

/// Password checks waiting for a turn, per check that may run at once; more are refused (429).
const WAITING_PER_CHECK: usize = 16;

/// A user who may get tokens with the password method (from the TOML file).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub name: String,
    /// The password as written in the configuration file, or...
    pub password: Option<String>,
    /// ...its argon2 PHC hash, for files that should hold no clear password.
    pub password_hash: Option<String>,
    #[serde(default = "default_domain")]
    pub domain: String,
    /// The project the user's tokens are scoped to.
    pub project_id: String,
}

fn default_domain() -> String {
    "default".into()
}

/// Who a request acts for, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub project_id: String,
    /// The signed `X-Project-Id` header, which must name the project of the URL.
    pub declared_project_id: Option<String>,
    /// An admin credential (the bootstrap one, or a key configured with `admin = true`): its
    /// control calls may reach every project.
    pub admin: bool,
    /// Who calls, for the audit trail: the access key, or the user a token was issued to.
    pub principal: String,
}

/// A token as Keystone shows it: who it stands for, the project it is scoped to, and when it
/// was issued and expires. The token itself is only known when it is issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub token: String,
    pub project_id: String,
    pub project_name: String,
    pub user_id: String,
    pub user: String,
    pub domain: String,
    pub issued: Timestamp,
    pub expires: Timestamp,
}

/// The user of a password authentication: by name (within a domain, any when absent) or by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    Name { name: String, domain: Option<String> },
    Id(String),
}

/// The project a token is asked for: by id, or by name (within a domain, any when absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectRef {
    Id(String),
    Name { name: String, domain: Option<String> },
}

/// How a token is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenAuth {
    Password {
        user: UserRef,
        password: String,
    },
    /// A token for the same user, possibly scoped elsewhere (Keystone's `token` method).
    Token(String),
}

/// A project as Keystone lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectInfo {
    pub id: String,
    pub name: String,
    pub domain: String,
}

/// The id Keystone gives a user: stable, derived from the domain and name.
pub fn user_id(domain: &str, name: &str) -> String {
    sha256_hex(&format!("ecsd-user:{domain}/{name}"))[..32].to_string()
}

/// The key a signature is checked with, and what it grants.
pub struct SigningKey {
    pub secret_key: String,
    pub project_id: String,
    pub admin: bool,
    /// The failures counted against the key when it was read: a match clears them.
    failures: AuthFailures,
}

pub struct Iam {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// Users with their password hashes (clear passwords from the file are hashed at start).
    users: Vec<(User, String)>,
    /// The hash of a random password, checked for an unknown user name, so that an unknown
    /// name takes as long to refuse as a wrong password (the answer time tells nothing).
    decoy_hash: String,
    checks: PasswordChecks,
    lockout: Lockout,
    /// The region, which names every project configured without a name.
    region: String,
    /// The names of the configured projects.
    project_names: HashMap<String, String>,
    /// Access keys as last read from the store, so a signed request need not read its key.
    keys: KeyCache,
}

/// Access keys as last read, each with the store's change token it was read under
/// ([`Store::change_token`]). A key is answered from here only while the store's token is
/// still that one, so a key revoked or added by anyone (an API call, `ecsd keys` in another
/// process, another replica) is seen by the very next request. With a store that gives no
/// token every request reads its key. Only existing keys are kept, and at most
/// [`MAX_CACHED_KEYS`], so unknown keys tried by a caller cannot grow it.
struct KeyCache {
    entries: Mutex<HashMap<String, (u64, KnownKey)>>,
}

/// A key and the failures counted against it, read together: a failure counted (by any
/// replica) is a commit, so it changes the token and the next request reads both again.
#[derive(Clone)]
struct KnownKey {
    key: crate::store::AccessKey,
    failures: AuthFailures,
}

const MAX_CACHED_KEYS: usize = 10_000;

impl KeyCache {
    fn get(&self, store: &dyn Store, access_key: &str) -> Result<Option<KnownKey>> {
        // The token is taken before the read: a change committed in between leaves the entry
        // under the older token, so the next request reads again.
        let token = store.change_token()?;
        if let Some(token) = token
            && let Ok(entries) = self.entries.lock()
            && let Some((cached_at, key)) = entries.get(access_key)
            && *cached_at == token
        {
            return Ok(Some(key.clone()));
        }
        let key = read(store, |tx| {
            let Some(key) = tx.access_key(access_key)? else { return Ok(None) };
            Ok(Some(KnownKey { key, failures: tx.auth_failures(&key_lock(access_key))? }))
        })?;
        if let (Some(token), Some(key)) = (token, &key)
            && let Ok(mut entries) = self.entries.lock()
        {
            if entries.len() >= MAX_CACHED_KEYS {
                entries.clear();
            }
            entries.insert(access_key.to_string(), (token, key.clone()));
        }
        Ok(key)
    }
}

/// Why a credential was refused; the api layer renders these as gateway or IAM errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    UnknownAccessKey,
    /// Revoked with `ecsd keys revoke`: answered like an unknown key, logged as what it is.
    RevokedAccessKey,
    BadPassword,
    BadToken,
    /// Locked for [`LOCKOUT`] after more than [`MAX_CONSECUTIVE_FAILURES`] failures.
    Locked,
    /// Too many password checks at once: try again shortly.
    Busy,
    /// The user may not have a token for the project asked for.
    BadScope,
}

fn sha256_hex(text: &str) -> String {
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Password checks run argon2, which takes its memory (19 MiB by default) and tens of
/// milliseconds of CPU each: at most one per CPU runs at a time, a few more wait for a turn,
/// and the rest are refused. Each running check reuses one of a few memory areas, so no burst
/// of requests grows the memory.
struct PasswordChecks {
    running: Arc<Semaphore>,
    waiting: Arc<Semaphore>,
    memory: Mutex<Vec<Vec<argon2::Block>>>,
}

/// A turn to check a password: held until the check is done, even if the request is gone.
struct Turn {
    _running: OwnedSemaphorePermit,
    _waiting: OwnedSemaphorePermit,
}

impl PasswordChecks {
    fn new(at_once: usize) -> Self {
        PasswordChecks {
            running: Arc::new(Semaphore::new(at_once)),
            waiting: Arc::new(Semaphore::new(at_once * (1 + WAITING_PER_CHECK))),
            memory: Mutex::new(Vec::new()),
        }
    }

    /// A turn, after waiting for one; `None` when too many checks wait already.
    async fn turn(&self) -> Option<Turn> {
        let waiting = Arc::clone(&self.waiting).try_acquire_owned().ok()?;
        let running = Arc::clone(&self.running).acquire_owned().await.ok()?;
        Some(Turn { _running: running, _waiting: waiting })
    }

    /// Checks `password` against a PHC hash in a reused memory area (needs a [`Turn`]).
    fn verify(&self, _turn: &Turn, password: &str, hash: &str) -> bool {
        let mut memory = self.memory.lock().ok().and_then(|mut areas| areas.pop()).unwrap_or_default();
        let verified = crate::secrets::verify_password(password, hash, &mut memory);
        if let Ok(mut areas) = self.memory.lock() {
            areas.push(memory);
        }
        verified
    }
}

/// The lockout rule over the failures the store counts per user or access key (so that every
/// replica counts them together), in real time: a simulated clock moved ahead ends no lock.
struct Lockout {
    duration: Duration,
}

impl Lockout {
    fn is_locked(failures: &AuthFailures, now: Timestamp) -> bool {
        failures.locked_until.is_some_and(|until| now < until)
    }

    /// The failures after one more; counting starts again once a lock has ended.
    fn after_failure(&self, failures: AuthFailures, now: Timestamp) -> AuthFailures {
        let mut failures =
            if failures.locked_until.is_some_and(|until| now >= until) { AuthFailures::default() } else { failures };
        failures.consecutive = failures.consecutive.saturating_add(1);
        if failures.consecutive > MAX_CONSECUTIVE_FAILURES {
            failures.locked_until = Some(now + self.duration);
        }
        failures
    }

    /// Counts a failure of `who` in the store, whichever replica counted the others.
    fn failed(&self, store: &dyn Store, who: &str) -> Result<()> {
        let now = time::OffsetDateTime::now_utc();
        let failures = transact(store, |tx| {
            let failures = self.after_failure(tx.auth_failures(who)?, now);
            tx.put_auth_failures(who, &failures)?;
            Ok(failures)
        })?;
        if Self::is_locked(&failures, now) {
            tracing::warn!(who, "locked after more than {MAX_CONSECUTIVE_FAILURES} consecutive failed authentications");
        }
        Ok(())
    }

    /// Forgets the failures of `who` after a success; no write when there were none (`seen`).
    fn succeeded(store: &dyn Store, who: &str, seen: &AuthFailures) -> Result<()> {
        if *seen == AuthFailures::default() {
            return Ok(());
        }
        transact(store, |tx| tx.put_auth_failures(who, &AuthFailures::default()))
    }
}

impl Iam {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        users: &[User],
        projects: &[crate::config::ProjectConfig],
        region: &str,
    ) -> anyhow::Result<Self> {
        let users = users
            .iter()
            .map(|user| {
                let hash = match (&user.password_hash, &user.password) {
                    (Some(hash), _) => {
                        PasswordHash::new(hash)
                            .map_err(|e| anyhow::anyhow!("user {}: password_hash: {e}", user.name))?;
                        hash.clone()
                    }
                    (None, Some(password)) => crate::secrets::hash_password(password)?,
                    (None, None) => anyhow::bail!("user {} needs a password or a password_hash", user.name),
                };
                let mut kept = user.clone();
                kept.password = None;
                Ok((kept, hash))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let decoy_hash = crate::secrets::hash_password(&crate::credentials::generate().secret_key)?;
        let at_once = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(Iam {
            store,
            clock,
            users,
            decoy_hash,
            checks: PasswordChecks::new(at_once),
            lockout: Lockout { duration: LOCKOUT },
            region: region.to_string(),
            project_names: projects
                .iter()
                .filter(|p| !p.name.is_empty())
                .map(|p| (p.id.clone(), p.name.clone()))
                .collect(),
            keys: KeyCache { entries: Mutex::new(HashMap::new()) },
        })
    }

    /// The region ecsd is.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// A project as Keystone shows it: its configured name, else the region's; the domain of
    /// the users it has, else `default`.
    pub fn project(&self, project_id: &str) -> ProjectInfo {
        let name = self.project_names.get(project_id).cloned().unwrap_or_else(|| self.region.clone());
        let domain = self
            .users
            .iter()
            .find(|(u, _)| u.project_id == project_id)
            .map_or_else(default_domain, |(u, _)| u.domain.clone());
        ProjectInfo { id: project_id.to_string(), name, domain }
    }

    /// What a token stands for, while it has not expired (`GET /v3/auth/tokens`).
    pub fn validate_token(&self, token: &str) -> Result<Result<IssuedToken, Refused>> {
        let found = read(self.store.as_ref(), |tx| tx.token(&sha256_hex(token)))?;
        let Some(stored) = found.filter(|stored| stored.expires > self.clock.now()) else {
            return Ok(Err(Refused::BadToken));
        };
        let (user_id, user, domain) = match self.user_by_id_or_name(&stored.user) {
            Some(user) => (user_id(&user.domain, &user.name), user.name.clone(), user.domain.clone()),
            None => (stored.user.clone(), stored.user.clone(), self.project(&stored.project_id).domain),
        };
        let project = self.project(&stored.project_id);
        Ok(Ok(IssuedToken {
            token: token.to_string(),
            project_id: project.id,
            project_name: project.name,
            user_id,
            user,
            domain,
            issued: stored.expires - TOKEN_LIFETIME,
            expires: stored.expires,
        }))
    }

    fn user_by_id_or_name(&self, stored: &str) -> Option<&User> {
        self.users.iter().map(|(u, _)| u).find(|u| user_id(&u.domain, &u.name) == stored || u.name == stored)
    }

    /// The key an access key signs with, while it is active and not locked.
    pub fn signing_key(&self, access_key: &str) -> Result<Result<SigningKey, Refused>> {
        let known = self.keys.get(self.store.as_ref(), access_key)?;
        Ok(match known {
            Some(KnownKey { key, failures }) if key.revoked.is_none() => {
                if Lockout::is_locked(&failures, time::OffsetDateTime::now_utc()) {
                    Err(Refused::Locked)
                } else {
                    Ok(SigningKey {
                        secret_key: key.secret_key,
                        project_id: key.project_id,
                        admin: key.admin,
                        failures,
                    })
                }
            }
            Some(_) => Err(Refused::RevokedAccessKey),
            None => Err(Refused::UnknownAccessKey),
        })
    }

    /// Records whether a signature made with `key` (of `access_key`) matched: more than
    /// [`MAX_CONSECUTIVE_FAILURES`] mismatches in a row, on any replica, lock the key. A
    /// match writes only when there were failures to forget; the writes wait on the store,
    /// so they are made off the async workers.
    pub async fn signature_checked(self: &Arc<Self>, access_key: &str, key: &SigningKey, matched: bool) -> Result<()> {
        if matched && key.failures == AuthFailures::default() {
            return Ok(());
        }
        let (iam, who, seen) = (Arc::clone(self), key_lock(access_key), key.failures);
        tokio::task::spawn_blocking(move || {
            if matched {
                Lockout::succeeded(iam.store.as_ref(), &who, &seen)
            } else {
                iam.lockout.failed(iam.store.as_ref(), &who)
            }
        })
        .await
        .map_err(Error::internal)?
    }

    /// The caller a token stands for, while it has not expired.
    pub fn token_caller(&self, token: &str) -> Result<Result<Caller, Refused>> {
        let found = read(self.store.as_ref(), |tx| tx.token(&sha256_hex(token)))?;
        Ok(match found {
            Some(stored) if stored.expires > self.clock.now() => Ok(Caller {
                project_id: stored.project_id,
                declared_project_id: None,
                admin: false,
                principal: stored.user,
            }),
            _ => Err(Refused::BadToken),
        })
    }

    /// `POST /v3/auth/tokens`: the password method (which waits for a turn to check the
    /// password, or is refused as [`Refused::Busy`]) or the token method, scoped to the
    /// user's project (the only one a user has), asked for by id or name or not at all.
    pub async fn issue_token(
        self: &Arc<Self>,
        auth: TokenAuth,
        project: Option<ProjectRef>,
    ) -> Result<Result<IssuedToken, Refused>> {
        let iam = Arc::clone(self);
        match auth {
            TokenAuth::Token(token) => {
                let shown = match self.validate_token(&token)? {
                    Ok(shown) => shown,
                    Err(refused) => return Ok(Err(refused)),
                };
                let found =
                    self.users.iter().map(|(u, _)| u).find(|u| u.name == shown.user && u.domain == shown.domain);
                let Some(user) = found.cloned() else { return Ok(Err(Refused::BadToken)) };
                tokio::task::spawn_blocking(move || iam.issue_for(&user, project.as_ref()))
                    .await
                    .map_err(Error::internal)?
            }
            TokenAuth::Password { user, password } => {
                let Some(turn) = self.checks.turn().await else { return Ok(Err(Refused::Busy)) };
                tokio::task::spawn_blocking(move || match iam.check_password(&turn, &user, &password)? {
                    Ok(user) => iam.issue_for(&user, project.as_ref()),
                    Err(refused) => Ok(Err(refused)),
                })
                .await
                .map_err(Error::internal)?
            }
        }
    }

    /// The user whose password this is, counting failures towards the lockout.
    fn check_password(
        &self,
        turn: &Turn,
        user: &UserRef,
        password: &str,
    ) -> Result<std::result::Result<User, Refused>> {
        let found = self.users.iter().find(|(u, _)| match user {
            UserRef::Name { name, domain } => {
                *name == u.name && domain.as_ref().is_none_or(|d| same_domain(d, &u.domain))
            }
            UserRef::Id(id) => *id == user_id(&u.domain, &u.name),
        });
        let Some((user, hash)) = found else {
            self.checks.verify(turn, password, &self.decoy_hash);
            return Ok(Err(Refused::BadPassword));
        };
        let lock = format!("user:{}/{}", user.domain, user.name);
        let store = self.store.as_ref();
        let failures = read(store, |tx| tx.auth_failures(&lock))?;
        if Lockout::is_locked(&failures, time::OffsetDateTime::now_utc()) {
            return Ok(Err(Refused::Locked));
        }
        if !self.checks.verify(turn, password, hash) {
            self.lockout.failed(store, &lock)?;
            return Ok(Err(Refused::BadPassword));
        }
        Lockout::succeeded(store, &lock, &failures)?;
        Ok(Ok(user.clone()))
    }

    /// A new token of `user`, for the project asked for when it is the user's.
    fn issue_for(&self, user: &User, project: Option<&ProjectRef>) -> Result<Result<IssuedToken, Refused>> {
        let own = self.project(&user.project_id);
        let allowed = match project {
            None => true,
            Some(ProjectRef::Id(id)) => *id == own.id,
            Some(ProjectRef::Name { name, domain }) => {
                *name == own.name && domain.as_ref().is_none_or(|d| same_domain(d, &own.domain))
            }
        };
        if !allowed {
            return Ok(Err(Refused::BadScope));
        }
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let token = format!("MII{}", hex::encode(bytes));
        let issued = self.clock.now();
        let expires = issued + TOKEN_LIFETIME;
        let id = user_id(&user.domain, &user.name);
        transact(self.store.as_ref(), |tx| tx.put_token(&sha256_hex(&token), &user.project_id, &id, expires))?;
        Ok(Ok(IssuedToken {
            token,
            project_id: own.id,
            project_name: own.name,
            user_id: id,
            user: user.name.clone(),
            domain: user.domain.clone(),
            issued,
            expires,
        }))
    }
}

/// Whether a domain named in a request (by id or name: a domain's id is its name) is this one.
/// Compared without case, as Keystone's SQL backend compares names, so `Default` is `default`.
fn same_domain(asked: &str, domain: &str) -> bool {
    asked.eq_ignore_ascii_case(domain)
}

fn key_lock(access_key: &str) -> String {
    format!("key:{access_key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::UNIX_EPOCH + time::Duration::seconds(1_700_000_000 + seconds)
    }

    #[test]
    fn more_than_five_consecutive_failures_lock_until_the_lockout_ends() {
        let lockout = Lockout { duration: Duration::from_secs(60) };
        let mut failures = AuthFailures::default();
        for _ in 0..MAX_CONSECUTIVE_FAILURES {
            failures = lockout.after_failure(failures, at(0));
        }
        assert!(!Lockout::is_locked(&failures, at(0)), "five failures do not lock");
        failures = lockout.after_failure(failures, at(1));
        assert!(Lockout::is_locked(&failures, at(1)));
        assert!(Lockout::is_locked(&failures, at(60)));
        assert!(!Lockout::is_locked(&failures, at(61)), "the lock ends");
        failures = lockout.after_failure(failures, at(61));
        assert_eq!(failures, AuthFailures { consecutive: 1, locked_until: None }, "counting starts again after a lock");
    }
}
