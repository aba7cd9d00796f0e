//! Tags of servers (T2.1–T2.4).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::servers::ServerTag;
use crate::domain::server::{Server, Tag};
use crate::domain::tags::{TagMatch, TagQuery, TagToDelete};
use crate::domain::{Error, Result};

/// `create` or `delete`, lower case only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TagAction {
    Create,
    Delete,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ServerTagsActionRequest {
    pub action: TagAction,
    pub tags: Vec<TagItem>,
}

/// A tag of an action: the value is optional (empty when created without one; when deleting,
/// a tag goes only if its value is the one given).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TagItem {
    /// 1 to 36 letters, digits, `-`, `_` or CJK ideographs; unique in the request.
    pub key: String,
    /// At most 43 letters, digits, `-`, `_`, `.` or CJK ideographs.
    pub value: Option<String>,
}

impl TagItem {
    pub fn to_tag(&self) -> Tag {
        Tag { key: self.key.clone(), value: self.value.clone().unwrap_or_default() }
    }

    pub fn to_delete(&self) -> TagToDelete {
        TagToDelete { key: self.key.clone(), value: self.value.clone() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowServerTagsResponse {
    pub tags: Vec<ServerTag>,
}

impl ShowServerTagsResponse {
    pub fn of(tags: &[Tag]) -> Self {
        ShowServerTagsResponse { tags: server_tags(tags) }
    }
}

fn server_tags(tags: &[Tag]) -> Vec<ServerTag> {
    tags.iter().map(|t| ServerTag { key: t.key.clone(), value: t.value.clone() }).collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListServerTagsResponse {
    /// Every tag key of the project's servers with its values, sorted.
    pub tags: Vec<ProjectTag>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectTag {
    pub key: String,
    pub values: Vec<String>,
}

/// `filter` (a page of servers) or `count` (only how many).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum QueryAction {
    Filter,
    Count,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ListServersByTagRequest {
    pub action: QueryAction,
    /// Servers with every one of these tags (each with one of its values, any when none).
    #[serde(default)]
    pub tags: Vec<TagFilter>,
    /// Servers with at least one of these tags.
    #[serde(default)]
    pub tags_any: Vec<TagFilter>,
    /// Servers without all of these tags.
    #[serde(default)]
    pub not_tags: Vec<TagFilter>,
    /// Servers with none of these tags.
    #[serde(default)]
    pub not_tags_any: Vec<TagFilter>,
    /// `filter`: at most this many servers, `"0"` to `"1000"` (default `"1000"`).
    #[schema(example = "100")]
    pub limit: Option<String>,
    /// `filter`: servers to skip, a number as a string (default `"0"`).
    #[schema(example = "0")]
    pub offset: Option<String>,
    /// Only `resource_name`: servers whose name contains the value.
    #[serde(default)]
    pub matches: Vec<TagMatchField>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TagFilter {
    /// 1 to 127 characters.
    pub key: String,
    /// Up to 10 values, any of which matches; none: any value.
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TagMatchField {
    pub key: MatchKey,
    /// 1 to 255 characters.
    pub value: String,
}

/// The one field a query may match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchKey {
    ResourceName,
}

/// `limit` and `offset` of a query, read from their string form.
fn number(field: &str, text: Option<&str>, default: u64) -> Result<u64> {
    match text {
        None => Ok(default),
        Some(text) => text
            .parse::<u64>()
            .map_err(|_| Error::invalid(format!("{field} must be a number that is not negative, not {text:?}."))),
    }
}

impl ListServersByTagRequest {
    pub fn query(&self) -> Result<TagQuery> {
        let matches = |list: &[TagFilter]| {
            list.iter().map(|t| TagMatch { key: t.key.clone(), values: t.values.clone() }).collect::<Vec<_>>()
        };
        if self.matches.len() > 1 {
            return Err(Error::invalid("matches may name resource_name once."));
        }
        Ok(TagQuery {
            all: matches(&self.tags),
            any: matches(&self.tags_any),
            not_all: matches(&self.not_tags),
            not_any: matches(&self.not_tags_any),
            name: self.matches.first().map(|m| m.value.clone()),
        })
    }

    /// Servers to skip and the page size of a `filter`.
    pub fn page(&self) -> Result<(u64, u64)> {
        let limit = number("limit", self.limit.as_deref(), MAX_LIMIT)?;
        if limit > MAX_LIMIT {
            return Err(Error::invalid(format!("limit must range from 0 to {MAX_LIMIT}.")));
        }
        Ok((number("offset", self.offset.as_deref(), 0)?, limit))
    }
}

/// Most servers one `filter` answers.
pub const MAX_LIMIT: u64 = 1000;

#[derive(Debug, Serialize, ToSchema)]
pub struct ListServersByTagResponse {
    /// The page of servers (`filter` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<ServerResource>>,
    /// How many servers match in all.
    pub total_count: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServerResource {
    pub resource_id: String,
    /// Reserved: always null.
    pub resource_detail: Option<String>,
    pub tags: Vec<ServerTag>,
    pub resource_name: String,
}

impl ServerResource {
    pub fn of(server: &Server) -> Self {
        ServerResource {
            resource_id: server.id.clone(),
            resource_detail: None,
            tags: server_tags(&server.tags),
            resource_name: server.name.clone(),
        }
    }
}
