//! Nova key pairs: a name, an SSH public key and its fingerprint, per project. A key pair is
//! imported (the caller's public key) or generated, in which case the private key is handed
//! to the caller once, by the create, and kept nowhere.

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use ssh_key::private::{Ed25519Keypair, KeypairData};
use ssh_key::{LineEnding, PrivateKey, PublicKey};
use zeroize::Zeroizing;

use super::server::Timestamp;
use super::{Error, ErrorCode, Result};

/// The longest name Nova takes.
pub const MAX_NAME_CHARS: usize = 255;
/// The longest public key the OTC reference takes on import.
pub const MAX_PUBLIC_KEY_BYTES: usize = 1024;
/// The comment of a generated public key, as Nova writes it.
const GENERATED_COMMENT: &str = "Generated-by-Nova";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keypair {
    /// The store's number for it (Nova shows it as `id`); 0 until stored.
    #[serde(skip)]
    pub id: i64,
    pub project_id: String,
    pub name: String,
    pub key_type: KeypairType,
    /// In OpenSSH's one-line form.
    pub public_key: String,
    /// MD5 of the key's wire encoding, as 16 colon-separated hex pairs (Nova's form).
    pub fingerprint: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: Timestamp,
}

/// `type`: ecsd keeps SSH key pairs only (`x509` is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeypairType {
    Ssh,
}

impl KeypairType {
    pub const fn as_str(self) -> &'static str {
        match self {
            KeypairType::Ssh => "ssh",
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "ssh" => Ok(KeypairType::Ssh),
            "x509" => Err(Error::invalid("Keypair data is invalid: x509 key pairs are not supported, use ssh.")),
            other => Err(Error::invalid(format!("Keypair data is invalid: unknown type {other:?}."))),
        }
    }
}

/// A key pair to make: imported when `public_key` is given, generated otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateKeypair {
    pub name: String,
    pub key_type: KeypairType,
    pub public_key: Option<String>,
}

/// A new key pair, and the private key when ecsd generated it.
pub struct Created {
    pub keypair: Keypair,
    pub private_key: Option<Zeroizing<String>>,
}

/// Nova's rule for names before microversion 2.92: 1 to 255 letters, digits, `_`, `-` and
/// spaces, not only spaces.
pub fn validate_name(name: &str) -> Result<()> {
    let count = name.chars().count();
    if count == 0 || count > MAX_NAME_CHARS || name.trim().is_empty() {
        return Err(Error::invalid(
            "Keypair data is invalid: Keypair name must be string and between 1 and 255 characters long.",
        ));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' ')) {
        return Err(Error::invalid(
            "Invalid input for field/attribute name. Only expected characters: [_- 0-9a-zA-Z].",
        ));
    }
    Ok(())
}

/// Nova's fingerprint of a public key: MD5 of its wire encoding, in colon-separated hex.
fn fingerprint(key: &PublicKey) -> Result<String> {
    let blob = key.to_bytes().map_err(Error::internal)?;
    let digest = Md5::digest(blob);
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"))
}

impl CreateKeypair {
    /// The key pair this request makes, at `now`. `seed` is the randomness a generated key
    /// comes from (unused on import).
    pub fn build(&self, project_id: &str, seed: [u8; 32], now: Timestamp) -> Result<Created> {
        validate_name(&self.name)?;
        let keypair = |public_key: String, fingerprint: String| Keypair {
            id: 0,
            project_id: project_id.to_string(),
            name: self.name.clone(),
            key_type: self.key_type,
            public_key,
            fingerprint,
            created: now,
        };
        match &self.public_key {
            Some(text) => {
                let text = text.trim();
                if text.len() > MAX_PUBLIC_KEY_BYTES {
                    return Err(Error::invalid(format!(
                        "Keypair data is invalid: the public key is longer than {MAX_PUBLIC_KEY_BYTES} bytes."
                    )));
                }
                let key = PublicKey::from_openssh(text)
                    .map_err(|_| Error::invalid("Keypair data is invalid: failed to generate fingerprint"))?;
                Ok(Created { keypair: keypair(text.to_string(), fingerprint(&key)?), private_key: None })
            }
            None => {
                let data = KeypairData::from(Ed25519Keypair::from_seed(&seed));
                let private = PrivateKey::new(data, GENERATED_COMMENT).map_err(Error::internal)?;
                let public = private.public_key();
                let public_key = public.to_openssh().map_err(Error::internal)?;
                let fingerprint = fingerprint(public)?;
                let private_key = private.to_openssh(LineEnding::LF).map_err(Error::internal)?;
                Ok(Created { keypair: keypair(public_key, fingerprint), private_key: Some(private_key) })
            }
        }
    }
}

/// A server create naming a key pair the project does not have (`Ecs.0314`).
pub fn not_found(name: &str) -> Error {
    Error::new(ErrorCode::KeypairNotFound, format!("The key pair {name} does not exist."))
}

/// A create of a name the project already has.
pub fn exists(name: &str) -> Error {
    Error::new(ErrorCode::KeypairExists, format!("Key pair '{name}' already exists."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(name: &str, public_key: Option<&str>) -> CreateKeypair {
        CreateKeypair { name: name.into(), key_type: KeypairType::Ssh, public_key: public_key.map(str::to_string) }
    }

    fn now() -> Timestamp {
        time::macros::datetime!(2026-01-01 00:00 UTC)
    }

    #[test]
    fn a_generated_key_pair_has_a_private_key_whose_public_half_is_kept() {
        let created = request("gen", None).build("p", [7; 32], now()).expect("generated");
        let private = created.private_key.expect("a private key");
        assert!(private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
        let parsed = PrivateKey::from_openssh(private.as_bytes()).expect("parses");
        assert_eq!(parsed.public_key().to_openssh().expect("public"), created.keypair.public_key);
        assert!(created.keypair.public_key.starts_with("ssh-ed25519 "));
        assert_eq!(created.keypair.fingerprint.split(':').count(), 16);
        let other = request("gen", None).build("p", [8; 32], now()).expect("generated");
        assert_ne!(other.keypair.fingerprint, created.keypair.fingerprint);
    }

    #[test]
    fn an_imported_key_keeps_its_text_and_gets_the_md5_fingerprint_of_its_blob() {
        let generated = request("a", None).build("p", [1; 32], now()).expect("generated").keypair;
        let imported = request("b", Some(&format!("{}\n", generated.public_key))).build("p", [0; 32], now());
        let imported = imported.expect("imported");
        assert!(imported.private_key.is_none());
        assert_eq!(imported.keypair.public_key, generated.public_key);
        assert_eq!(imported.keypair.fingerprint, generated.fingerprint);
        let blob = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            generated.public_key.split_whitespace().nth(1).expect("blob"),
        )
        .expect("base64");
        let expected: Vec<String> = Md5::digest(blob).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(imported.keypair.fingerprint, expected.join(":"));
    }

    #[test]
    fn bad_names_and_keys_are_refused() {
        for name in ["", "   ", "a/b", "ü", &"k".repeat(256)] {
            assert_eq!(
                request(name, None).build("p", [0; 32], now()).err().map(|e| e.code),
                Some(ErrorCode::InvalidRequest)
            );
        }
        assert!(request("ok name_1-2", None).build("p", [0; 32], now()).is_ok());
        for key in ["ssh-rsa not-base64", "hello", &format!("ssh-ed25519 {}", "A".repeat(2000))] {
            let refused = request("k", Some(key)).build("p", [0; 32], now()).err().expect("refused");
            assert_eq!(refused.code, ErrorCode::InvalidRequest);
        }
        assert!(KeypairType::parse("x509").is_err());
        assert_eq!(KeypairType::parse("ssh").ok(), Some(KeypairType::Ssh));
    }
}
