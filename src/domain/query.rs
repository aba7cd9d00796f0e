//! Filters and paging of the server list (contract T1.10); the store evaluates them.

use super::status::Status;
use super::{Error, Result};

/// Longest a text parameter of the list (a filter, `marker`, one id of `server_id`) may be, in
/// characters: more than any value it can match (names have at most 128, ids 36), and little
/// enough for the store's pattern matching.
pub const MAX_FILTER_CHARS: usize = 255;
/// Most ids one `server_id` parameter may list (as many as one batch may name).
pub const MAX_FILTER_IDS: usize = 1000;

/// Refuses a text parameter over [`MAX_FILTER_CHARS`].
pub fn check_length(name: &str, value: &str) -> Result<()> {
    if value.chars().count() > MAX_FILTER_CHARS {
        return Err(Error::invalid(format!("{name} may have at most {MAX_FILTER_CHARS} characters.")));
    }
    Ok(())
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerFilter {
    /// Fuzzy: a substring where `.` matches any one character.
    pub name: Option<String>,
    pub status: Option<Status>,
    pub flavor: Option<String>,
    /// Fuzzy match on a private IPv4 address.
    pub ip: Option<String>,
    pub ip_eq: Option<String>,
    pub tags: Option<String>,
    pub not_tags: Option<String>,
    pub reservation_id: Option<String>,
}

impl ServerFilter {
    /// Every text filter within [`MAX_FILTER_CHARS`].
    pub fn validate(&self) -> Result<()> {
        let texts = [
            ("name", &self.name),
            ("flavor", &self.flavor),
            ("ip", &self.ip),
            ("ip_eq", &self.ip_eq),
            ("tags", &self.tags),
            ("not-tags", &self.not_tags),
            ("reservation_id", &self.reservation_id),
        ];
        for (name, value) in texts {
            if let Some(value) = value {
                check_length(name, value)?;
            }
        }
        Ok(())
    }
}

/// A page of the list: `page` is 1-based, as the v1 list's `offset` is a page number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub start: Start,
    pub limit: u64,
}

/// Where a page starts: a 1-based page number, or after the server with this id (`marker`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    Page(u64),
    After(String),
}

impl Page {
    pub const DEFAULT_LIMIT: u64 = 25;
    pub const MAX_LIMIT: u64 = 1000;

    /// Servers to skip before the page, for a page-number start.
    pub fn skip(&self) -> u64 {
        match self.start {
            Start::Page(page) => page.saturating_sub(1).saturating_mul(self.limit),
            Start::After(_) => 0,
        }
    }
}

/// Whether `haystack` contains `pattern`, where `.` in the pattern matches any character but
/// a line break (the documented regex-like behaviour of the `name` filter). Hand-written since
/// a full regex engine would accept far more syntax than the API documents.
pub fn fuzzy_contains(haystack: &str, pattern: &str) -> bool {
    let hay: Vec<char> = haystack.chars().collect();
    let pat: Vec<char> = pattern.chars().collect();
    if pat.len() > hay.len() {
        return false;
    }
    hay.windows(pat.len().max(1)).any(|window| {
        pat.is_empty()
            || window.iter().zip(&pat).all(|(h, p)| if *p == '.' { *h != '\n' && *h != '\r' } else { h == p })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_filter_is_a_substring_with_dot_wildcards() {
        assert!(fuzzy_contains("web-0001", "web"));
        assert!(fuzzy_contains("web-0001", "b-.0"));
        assert!(!fuzzy_contains("web-0001", "db"));
        assert!(fuzzy_contains("web", ""));
        assert!(!fuzzy_contains("ab", "abc"));
    }

    #[test]
    fn text_filters_are_capped() {
        let filter = |name: &str| ServerFilter { name: Some(name.to_string()), ..ServerFilter::default() };
        assert!(filter(&"x".repeat(MAX_FILTER_CHARS)).validate().is_ok());
        assert!(filter(&"雲".repeat(MAX_FILTER_CHARS)).validate().is_ok(), "characters, not bytes");
        assert!(filter(&"x".repeat(MAX_FILTER_CHARS + 1)).validate().is_err());
        let tags = ServerFilter { not_tags: Some("k".repeat(MAX_FILTER_CHARS + 1)), ..ServerFilter::default() };
        assert!(tags.validate().is_err());
    }

    #[test]
    fn pages_skip_whole_pages() {
        let page = |page, limit| Page { start: Start::Page(page), limit };
        assert_eq!(page(1, 25).skip(), 0);
        assert_eq!(page(3, 10).skip(), 20);
        assert_eq!(page(0, 10).skip(), 0);
    }
}

/// Filters of the v1.1 list (`ListCloudServers`) beyond those the v1 list shares: evaluated
/// on each server the SQL part of the filter let through.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CloudServerFilter {
    pub id: Option<String>,
    pub image_id: Option<String>,
    /// `key=value` in the user metadata.
    pub metadata: Option<(String, String)>,
    pub metadata_key: Option<String>,
    /// Fuzzy: a substring of the zone name.
    pub availability_zone: Option<String>,
    pub availability_zone_eq: Option<String>,
    pub key_name: Option<String>,
    pub launched_since: Option<super::server::Timestamp>,
    /// A filter no server of ecsd can match (a server in the recycle bin, a spod batch, a
    /// yearly/monthly server): the answer is empty.
    pub matches_nothing: bool,
}

impl CloudServerFilter {
    pub fn matches(&self, server: &super::server::Server) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        !self.matches_nothing
            && eq(&self.id, &server.id)
            && eq(&self.image_id, &server.image_id)
            && eq(&self.availability_zone_eq, &server.availability_zone)
            && self.availability_zone.as_deref().is_none_or(|zone| server.availability_zone.contains(zone))
            && self.key_name.as_deref().is_none_or(|key| server.key_name.as_deref() == Some(key))
            && self.metadata_key.as_deref().is_none_or(|key| server.metadata.contains_key(key))
            && self.metadata.as_ref().is_none_or(|(key, value)| server.metadata.get(key) == Some(value))
            && self.launched_since.is_none_or(|since| server.launched_at.is_some_and(|at| at >= since))
    }
}
