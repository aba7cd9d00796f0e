//! Launch templates (v3): named, versioned sets of server parameters. A template is stored as
//! given; like the other clouds' launch templates, its values are checked when servers are
//! built from it, not when it is saved, so only its own shape is validated here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::errors::{Error, Result};
use super::server::Timestamp;

/// The server parameters of a template version, with the API's own names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplateData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flavor_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_recovery: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_profile: Option<TemplateOsProfile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_group_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_interfaces: Option<Vec<TemplateNetworkInterface>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_device_mappings: Option<Vec<TemplateBlockDeviceMapping>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub market_options: Option<TemplateMarketOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internet_access: Option<TemplateInternetAccess>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_options: Option<Vec<TemplateTagOptions>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplateOsProfile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iam_agency_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_monitoring_service: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplateNetworkInterface {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virsubnet_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<TemplateNetworkInterfaceAttachment>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplateNetworkInterfaceAttachment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_index: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplateBlockDeviceMapping {
    /// The image id when `source_type` is `image`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// `image` or `blank`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmk_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<TemplateBlockDeviceAttachment>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplateBlockDeviceAttachment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_index: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_on_termination: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplateMarketOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub market_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spot_options: Option<TemplateSpotOptions>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplateSpotOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spot_price: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_duration_minutes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_interruption_behavior: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplateInternetAccess {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publicip: Option<TemplatePublicIp>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplatePublicIp {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publicip_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charging_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bandwidth: Option<TemplateBandwidth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_on_termination: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplateBandwidth {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charge_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplateTagOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<TemplateTag>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplateTag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

impl TemplateData {
    /// The image of the system disk, if the template names one.
    pub fn image_id(&self) -> Option<&str> {
        self.block_device_mappings
            .iter()
            .flatten()
            .find_map(|bdm| (bdm.source_type.as_deref() == Some("image")).then_some(bdm.source_id.as_deref()).flatten())
    }
}

/// A template; its versions are stored beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchTemplate {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated: Timestamp,
    pub default_version: u32,
    pub latest_version: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateVersion {
    pub id: String,
    pub template_id: String,
    pub project_id: String,
    pub version_number: u32,
    pub version_description: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: Timestamp,
    pub data: TemplateData,
}

pub const MAX_TEMPLATE_NAME_CHARS: usize = 128;
pub const MAX_TEMPLATE_DESCRIPTION_CHARS: usize = 1024;

/// A template name: 1 to 128 letters, digits, `_`, `-` or `.`.
pub fn template_name(name: &str) -> Result<()> {
    let count = name.chars().count();
    if count == 0 || count > MAX_TEMPLATE_NAME_CHARS {
        return Err(Error::invalid(format!(
            "The launch template name must have 1 to {MAX_TEMPLATE_NAME_CHARS} characters."
        )));
    }
    if !name.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c)) {
        return Err(Error::invalid("The launch template name may have only letters, digits, '_', '-' and '.'."));
    }
    Ok(())
}

/// A template or version description: at most 1024 characters, without `<` or `>`.
pub fn template_description(field: &str, text: &str) -> Result<()> {
    if text.chars().count() > MAX_TEMPLATE_DESCRIPTION_CHARS || text.contains(['<', '>']) {
        return Err(Error::invalid(format!(
            "{field} must have at most {MAX_TEMPLATE_DESCRIPTION_CHARS} characters and no '<' or '>'."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_and_descriptions_are_checked() {
        assert!(template_name("web-v1.2_x").is_ok());
        assert!(template_name("").is_err());
        assert!(template_name("a b").is_err());
        assert!(template_name(&"a".repeat(129)).is_err());
        assert!(template_description("description", "plain").is_ok());
        assert!(template_description("description", "<script>").is_err());
    }

    #[test]
    fn the_image_comes_from_the_image_block_device() {
        let data = TemplateData {
            block_device_mappings: Some(vec![
                TemplateBlockDeviceMapping { source_type: Some("blank".into()), ..Default::default() },
                TemplateBlockDeviceMapping {
                    source_type: Some("image".into()),
                    source_id: Some("img".into()),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        };
        assert_eq!(data.image_id(), Some("img"));
        assert_eq!(TemplateData::default().image_id(), None);
    }
}
