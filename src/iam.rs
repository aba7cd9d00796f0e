//! Identity: which access keys and tokens may act on which project, and the password users
//! who may ask for tokens. Keys and tokens live in the store, so `ecsd keys` can change them
//! while the server runs; users come from the configuration file.

use std::sync::Arc;

use argon2::{PasswordHash, PasswordVerifier};
use serde::Deserialize;
use sha2::Digest;

use crate::clock::Clock;
use crate::domain::Result;
use crate::domain::server::Timestamp;
use crate::store::{Store, read, transact};

/// How long an IAM token is accepted.
pub const TOKEN_LIFETIME: time::Duration = time::Duration::hours(24);

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
}

pub struct IssuedToken {
    pub token: String,
    pub project_id: String,
    pub user: String,
    pub domain: String,
    pub issued: Timestamp,
    pub expires: Timestamp,
}

pub struct Iam {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// Users with their password hashes (clear passwords from the file are hashed at start).
    users: Vec<(User, String)>,
}

/// Why a credential was refused; the api layer renders these as gateway errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    UnknownAccessKey,
    BadPassword,
    BadToken,
}

fn sha256_hex(text: &str) -> String {
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

impl Iam {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, users: &[User]) -> anyhow::Result<Self> {
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
        Ok(Iam { store, clock, users })
    }

    /// The secret key of an active access key and the project it is granted.
    pub fn secret_key(&self, access_key: &str) -> Result<Result<(String, String), Refused>> {
        let key = read(self.store.as_ref(), |tx| tx.access_key(access_key))?;
        Ok(match key {
            Some(key) if key.revoked.is_none() => Ok((key.secret_key, key.project_id)),
            _ => Err(Refused::UnknownAccessKey),
        })
    }

    /// The caller a token stands for, while it has not expired.
    pub fn token_caller(&self, token: &str) -> Result<Result<Caller, Refused>> {
        let found = read(self.store.as_ref(), |tx| tx.token(&sha256_hex(token)))?;
        Ok(match found {
            Some((project_id, expires)) if expires > self.clock.now() => {
                Ok(Caller { project_id, declared_project_id: None })
            }
            _ => Err(Refused::BadToken),
        })
    }

    /// The password method of `POST /v3/auth/tokens`, scoped to the user's project.
    pub fn issue_token(
        &self,
        user_name: &str,
        domain: Option<&str>,
        password: &str,
        project_id: Option<&str>,
    ) -> Result<Result<IssuedToken, Refused>> {
        let user = self.users.iter().find(|(u, _)| u.name == user_name && domain.is_none_or(|d| d == u.domain));
        let Some((user, hash)) = user else { return Ok(Err(Refused::BadPassword)) };
        let verified = PasswordHash::new(hash)
            .map(|parsed| argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false);
        if !verified || project_id.is_some_and(|p| p != user.project_id) {
            return Ok(Err(Refused::BadPassword));
        }
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let token = format!("MII{}", hex::encode(bytes));
        let issued = self.clock.now();
        let expires = issued + TOKEN_LIFETIME;
        transact(self.store.as_ref(), |tx| tx.put_token(&sha256_hex(&token), &user.project_id, &user.name, expires))?;
        Ok(Ok(IssuedToken {
            token,
            project_id: user.project_id.clone(),
            user: user.name.clone(),
            domain: user.domain.clone(),
            issued,
            expires,
        }))
    }
}
