//! Passwords are kept only as salted argon2id hashes.

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};

use crate::domain::{Error, Result};

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(Error::internal)
}
