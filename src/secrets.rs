//! Passwords are kept only as salted argon2id hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

use crate::domain::{Error, Result};

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(Error::internal)
}

/// Whether `password` matches a PHC hash, computed in `memory` (grown to what the hash's
/// parameters need and kept by the caller for the next check, so checks do not allocate).
pub fn verify_password(password: &str, hash: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(hash) else { return false };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else { return false };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(hash.algorithm), Params::try_from(&hash)) else {
        return false;
    };
    let Ok(version) = hash.version.map(Version::try_from).transpose() else { return false };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let mut output = vec![0u8; expected.len()];
    Argon2::new(algorithm, version.unwrap_or_default(), params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut output, &mut memory[..])
        .is_ok()
        && bool::from(output.ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_hash_verifies_its_password_only_and_the_memory_is_reused() {
        let hash = super::hash_password("Correct@123").expect("hash");
        let mut memory = Vec::new();
        assert!(super::verify_password("Correct@123", &hash, &mut memory));
        let size = memory.len();
        assert!(size > 0);
        assert!(!super::verify_password("Wrong@1234", &hash, &mut memory));
        assert_eq!(memory.len(), size);
        assert!(!super::verify_password("Correct@123", "not a hash", &mut memory));
    }
}
