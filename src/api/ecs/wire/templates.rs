//! Launch templates (v3).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::PageInfo;
use crate::api::format::server_time;
use crate::domain::templates::{LaunchTemplate, TemplateData, TemplateVersion};

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateLaunchTemplateRequest {
    pub launch_template: LaunchTemplateOption,
    /// Check only; nothing is created (202, no body).
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LaunchTemplateOption {
    /// 1 to 128 letters, digits, `_`, `-` or `.`; unique in the project.
    pub name: String,
    pub description: Option<String>,
    /// The description of version 1.
    pub version_description: Option<String>,
    #[serde(default)]
    pub template_data: TemplateData,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreateLaunchTemplateResponse {
    pub launch_template_id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListTemplatesQuery {
    /// 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// The id of the last template of the previous page.
    pub marker: Option<String>,
    /// Comma-separated template ids.
    pub launch_template_id: Option<String>,
    /// Comma-separated template names.
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListTemplatesResponse {
    pub launch_templates: Vec<LaunchTemplateView>,
    pub page_info: PageInfo,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LaunchTemplateView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
    pub default_version: u32,
    pub latest_version: u32,
}

impl LaunchTemplateView {
    pub fn of(t: &LaunchTemplate) -> Self {
        LaunchTemplateView {
            id: t.id.clone(),
            name: t.name.clone(),
            description: t.description.clone(),
            created_at: server_time(t.created),
            updated_at: server_time(t.updated),
            default_version: t.default_version,
            latest_version: t.latest_version,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListLaunchTemplateVersionsQuery {
    /// 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// The version id of the last version of the previous page.
    pub marker: Option<String>,
    pub launch_template_id: Option<String>,
    /// Versions whose system disk is built from this image.
    pub image_id: Option<String>,
    pub flavor_id: Option<String>,
    /// Comma-separated version numbers.
    pub version: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListLaunchTemplateVersionsResponse {
    pub launch_template_versions: Vec<TemplateVersionView>,
    pub page_info: PageInfo,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateVersionView {
    pub template_data: TemplateData,
    pub version_number: u32,
    pub version_id: String,
    pub version_description: String,
    pub created_at: String,
    pub launch_template_id: String,
}

impl TemplateVersionView {
    pub fn of(v: &TemplateVersion) -> Self {
        TemplateVersionView {
            template_data: v.data.clone(),
            version_number: v.version_number,
            version_id: v.id.clone(),
            version_description: v.version_description.clone(),
            created_at: server_time(v.created),
            launch_template_id: v.template_id.clone(),
        }
    }
}

/// A comma-separated query value as its items (empty items dropped).
pub fn csv(value: Option<String>) -> Option<Vec<String>> {
    value.map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
}
