//! Server metadata (contract T2.5, T2.6): the user's key/value pairs beside the ones the cloud
//! sets itself, and the options of the instance metadata service (IMDS).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::errors::{Error, Result};

pub const MAX_KEY_CHARS: usize = 255;
pub const MAX_VALUE_CHARS: usize = 255;
/// Characters besides letters and digits a key may have at create (T1.8).
pub const CREATE_KEY_SPECIALS: &str = " _.:-";
/// Characters besides letters and digits a key may have when metadata is updated (T2.5).
pub const UPDATE_KEY_SPECIALS: &str = "_.:-";

/// Keys the cloud sets and shows itself (`ShowServer`'s `metadata`): a user may neither set
/// nor delete them.
pub const SYSTEM_KEYS: [&str; 16] = [
    "charging_mode",
    "vpc_id",
    "metering.image_id",
    "metering.imagetype",
    "metering.resourcespeccode",
    "metering.resourcetype",
    "image_name",
    "os_type",
    "os_bit",
    "EcmResStatus",
    "lockCheckEndpoint",
    "lockSource",
    "lockSourceId",
    "lockScene",
    "virtual_env_type",
    "cascaded.instance_extrainfo",
];

/// Whether the cloud owns this key: a system key, or one of the `__`-prefixed keys the cloud
/// sets (`__support_agent_list`, `__system__encrypted` ...), which a create may pass but an
/// update may not change.
pub fn is_reserved(key: &str) -> bool {
    key.starts_with("__") || SYSTEM_KEYS.contains(&key)
}

/// One pair: key 1–255 characters of letters, digits and `specials`, value at most 255.
pub fn check_pair(key: &str, value: &str, specials: &str) -> Result<()> {
    let chars = key.chars().count();
    if chars == 0 || chars > MAX_KEY_CHARS {
        return Err(Error::invalid(format!("A metadata key has 1 to {MAX_KEY_CHARS} characters: {key:?}.")));
    }
    if let Some(bad) = key.chars().find(|c| !(c.is_ascii_alphanumeric() || specials.contains(*c))) {
        return Err(Error::invalid(format!(
            "The metadata key {key:?} has the character {bad:?}; use letters, digits and {specials:?}."
        )));
    }
    if value.chars().count() > MAX_VALUE_CHARS {
        return Err(Error::invalid(format!(
            "The value of the metadata key {key} has more than {MAX_VALUE_CHARS} characters."
        )));
    }
    Ok(())
}

fn reserved(key: &str) -> Error {
    Error::invalid(format!("The metadata key {key} is reserved: the cloud sets it."))
}

/// The user metadata after merging `update` into `current` (added or replaced, others kept),
/// within `max_items` pairs in all.
pub fn merge(
    current: &BTreeMap<String, String>,
    update: &BTreeMap<String, String>,
    max_items: i64,
) -> Result<BTreeMap<String, String>> {
    for (key, value) in update {
        check_pair(key, value, UPDATE_KEY_SPECIALS)?;
        if is_reserved(key) {
            return Err(reserved(key));
        }
    }
    let mut merged = current.clone();
    merged.extend(update.iter().map(|(k, v)| (k.clone(), v.clone())));
    if max_items >= 0 && merged.len() as i64 > max_items {
        return Err(Error::invalid(format!(
            "A server has at most {max_items} metadata items; this would make {}.",
            merged.len()
        )));
    }
    Ok(merged)
}

/// The user metadata without `key`; a key the server does not have is no error.
pub fn remove(current: &BTreeMap<String, String>, key: &str) -> Result<BTreeMap<String, String>> {
    if is_reserved(key) {
        return Err(reserved(key));
    }
    let mut kept = current.clone();
    kept.remove(key);
    Ok(kept)
}

/// Whether the instance metadata service answers the guest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HttpEndpoint {
    #[default]
    Enabled,
    Disabled,
}

/// Whether the guest must fetch a session token first (IMDSv2) or may call without one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HttpTokens {
    #[default]
    Optional,
    Required,
}

/// The IMDS options of a server (`metadata-options`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataOptions {
    pub http_endpoint: HttpEndpoint,
    pub http_tokens: HttpTokens,
}

impl MetadataOptions {
    /// The options after an update that gives some of them; the others stay.
    pub fn updated(self, http_endpoint: Option<HttpEndpoint>, http_tokens: Option<HttpTokens>) -> Self {
        MetadataOptions {
            http_endpoint: http_endpoint.unwrap_or(self.http_endpoint),
            http_tokens: http_tokens.unwrap_or(self.http_tokens),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn an_update_adds_and_replaces_and_keeps_the_rest() {
        let current = map(&[("owner", "a"), ("tier", "web")]);
        let merged = merge(&current, &map(&[("owner", "b"), ("app", "x")]), 128).expect("valid");
        assert_eq!(merged, map(&[("owner", "b"), ("tier", "web"), ("app", "x")]));
        assert_eq!(merge(&current, &BTreeMap::new(), 128), Ok(current.clone()));
    }

    #[test]
    fn keys_values_reserved_keys_and_the_item_limit_are_checked() {
        let none = BTreeMap::new();
        assert!(merge(&none, &map(&[("a b", "v")]), 128).is_err());
        assert!(merge(&none, &map(&[("", "v")]), 128).is_err());
        assert!(merge(&none, &map(&[("k", &"v".repeat(256))]), 128).is_err());
        assert!(merge(&none, &map(&[("charging_mode", "1")]), 128).is_err());
        assert!(merge(&none, &map(&[("__support_agent_list", "hss")]), 128).is_err());
        assert!(merge(&none, &map(&[("a:b.c-d_e", "v")]), 128).is_ok());
        assert!(merge(&map(&[("a", "1")]), &map(&[("b", "2")]), 1).is_err());
        assert!(check_pair("with space", "v", CREATE_KEY_SPECIALS).is_ok());
    }

    #[test]
    fn removing_a_missing_key_is_no_error_but_a_reserved_one_is() {
        let current = map(&[("owner", "a")]);
        assert_eq!(remove(&current, "nope"), Ok(current.clone()));
        assert_eq!(remove(&current, "owner"), Ok(BTreeMap::new()));
        assert!(remove(&current, "os_type").is_err());
    }

    #[test]
    fn options_keep_what_an_update_does_not_give() {
        let options = MetadataOptions::default().updated(None, Some(HttpTokens::Required));
        assert_eq!(
            options,
            MetadataOptions { http_endpoint: HttpEndpoint::Enabled, http_tokens: HttpTokens::Required }
        );
    }
}
