//! What both stores write the same way whatever their SQL dialect: the tables a snapshot
//! holds, the `tag_index` column and its needles, and timestamps as integers.

use crate::domain::server::{Server, Timestamp};

/// The tables a snapshot holds, parents before children (deletes go in reverse); each has a
/// `snapshot_<name>` copy with a leading `snapshot` column.
pub(super) const SNAPSHOT_TABLES: [&str; 18] = [
    "servers",
    "ports",
    "security_groups",
    "security_group_rules",
    "jobs",
    "sub_jobs",
    "client_tokens",
    "server_events",
    "auto_terminations",
    "scheduled_events",
    "launch_templates",
    "launch_template_versions",
    "server_groups",
    "recycle_bins",
    "recycled_servers",
    "volumes",
    "audit_events",
    "keypairs",
];

/// The `tag_index` column: each tag as `/key/` and `/key=value/`.
pub(super) fn tag_index(server: &Server) -> String {
    let mut index = String::from("/");
    for tag in &server.tags {
        index.push_str(&format!("{}/{}={}/", tag.key, tag.key, tag.value));
    }
    index
}

/// What a substring search of `tag_index` looks for: a whole tag key or `key=value`. A `/` can
/// occur in no tag, so a filter with one matches nothing (the needle can never be found).
pub(super) fn tag_needle(tag: &str) -> String {
    if tag.contains('/') { "//".into() } else { format!("/{tag}/") }
}

pub(super) fn ns(t: Timestamp) -> i64 {
    i64::try_from(t.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

pub(super) fn from_ns(ns: i64) -> Timestamp {
    Timestamp::from_unix_timestamp_nanos(ns as i128).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub(super) fn ms(t: Timestamp) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(super) fn from_ms(ms: i64) -> Timestamp {
    Timestamp::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}
