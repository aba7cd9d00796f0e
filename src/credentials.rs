//! The bootstrap credential: given by flags/environment, or generated on first start and kept
//! in the data dir, so a bare `ecsd serve` has keys an SDK can use.

use std::path::Path;

use anyhow::Context;

use crate::config::Credential;

const FILE: &str = "bootstrap-credential.json";

pub enum Origin {
    Configured,
    Stored,
    Generated,
}

/// A new credential in the cloud's formats: a 20-character access key of upper-case letters and
/// digits, a 40-character secret key of letters and digits, and a 32-hex-digit project id.
pub fn generate() -> Credential {
    const ACCESS_KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const SECRET_KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut project_id = [0u8; 16];
    rand::fill(&mut project_id);
    Credential {
        access_key: random_string(ACCESS_KEY_ALPHABET, 20),
        secret_key: random_string(SECRET_KEY_ALPHABET, 40),
        project_id: hex::encode(project_id),
    }
}

fn random_string(alphabet: &[u8], len: usize) -> String {
    (0..len).map(|_| char::from(alphabet[rand::random_range(0..alphabet.len())])).collect()
}

pub fn bootstrap(data_dir: &Path, configured: Option<Credential>) -> anyhow::Result<(Credential, Origin)> {
    if let Some(credential) = configured {
        return Ok((credential, Origin::Configured));
    }
    if let Some(credential) = stored(data_dir)? {
        return Ok((credential, Origin::Stored));
    }
    let path = data_dir.join(FILE);
    let credential = generate();
    write_private(&path, &serde_json::to_string_pretty(&credential)?)?;
    Ok((credential, Origin::Generated))
}

/// The credential kept in the data dir, if there is one.
pub fn stored(data_dir: &Path) -> anyhow::Result<Option<Credential>> {
    let path = data_dir.join(FILE);
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Some(serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?))
}

/// Writes a file only its owner can read (it holds a secret key), through a temporary file
/// renamed into place, so a crash mid-write never leaves a cut-short file behind.
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let partial = path.with_extension("json.partial");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&partial).with_context(|| format!("creating {}", partial.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&partial, path).with_context(|| format!("creating {}", path.display()))?;
    Ok(())
}

pub fn file_name() -> &'static str {
    FILE
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_credentials_have_the_cloud_formats() {
        let credential = super::generate();
        assert_eq!(credential.access_key.len(), 20);
        assert!(credential.access_key.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        assert_eq!(credential.secret_key.len(), 40);
        assert!(credential.secret_key.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(crate::config::is_project_id(&credential.project_id));
        assert_ne!(super::generate().secret_key, credential.secret_key);
    }
}
