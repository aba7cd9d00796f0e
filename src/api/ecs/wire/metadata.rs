//! Metadata of a server (T2.5, T2.6) and the options of its metadata service.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::metadata::{HttpEndpoint, HttpTokens, MetadataOptions};

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateServerMetadataRequest {
    /// Pairs to add or replace; other keys stay. Keys 1 to 255 letters, digits, `-`, `_`, `:`,
    /// `.`; values at most 255 characters. May be empty (nothing changes).
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpdateServerMetadataResponse {
    /// The user metadata of the server after the update.
    pub metadata: BTreeMap<String, String>,
}

/// The options of the instance metadata service; an option not given stays as it is, and a
/// field ecsd does not know is ignored, as elsewhere.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct MetadataOptionsBody {
    /// `enabled` (default) or `disabled`.
    pub http_endpoint: Option<HttpEndpoint>,
    /// `optional` (default) or `required` (IMDSv2 only).
    pub http_tokens: Option<HttpTokens>,
}

impl MetadataOptionsBody {
    pub fn apply_to(self, options: MetadataOptions) -> MetadataOptions {
        options.updated(self.http_endpoint, self.http_tokens)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowMetadataOptionsResponse {
    pub http_endpoint: HttpEndpoint,
    pub http_tokens: HttpTokens,
}

impl ShowMetadataOptionsResponse {
    pub fn of(options: MetadataOptions) -> Self {
        ShowMetadataOptionsResponse { http_endpoint: options.http_endpoint, http_tokens: options.http_tokens }
    }
}
