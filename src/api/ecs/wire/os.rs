//! Reinstalling and changing a server's OS (v1 without cloud-init, v2 with it), cold
//! migration and redeploy.

use serde::Deserialize;
use utoipa::ToSchema;

use super::batch::ResizeMode;
use crate::domain::rebuild::RebuildRequest;

/// `metadata` of the v2 (`...WithCloudInit`) forms.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RebuildMetadata {
    /// `"0"` (not encrypted, the default) or `"1"` (encrypted with `__system__cmkid`).
    #[serde(rename = "__system__encrypted")]
    pub system_encrypted: Option<String>,
    /// The KMS key id (36 characters) of an encrypted system disk.
    #[serde(rename = "__system__cmkid")]
    pub system_cmkid: Option<String>,
    /// Base64 user data for the new guest, at most 32 KiB once decoded.
    pub user_data: Option<String>,
    /// `"true"`: the image's own licence (BYOL).
    #[serde(rename = "BYOL")]
    pub byol: Option<String>,
}

/// `metadata` of the v1 (`...WithoutCloudInit`) forms: no user data.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RebuildMetadataWithoutCloudInit {
    #[serde(rename = "__system__encrypted")]
    pub system_encrypted: Option<String>,
    #[serde(rename = "__system__cmkid")]
    pub system_cmkid: Option<String>,
    #[serde(rename = "BYOL")]
    pub byol: Option<String>,
}

/// `os-reinstall` of `ReinstallServerWithCloudInit`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReinstallOption {
    /// The new administrator password (the rules of a create's `adminPass`); not with `keyname`.
    pub adminpass: Option<String>,
    pub keyname: Option<String>,
    /// Required with `keyname`.
    pub userid: Option<String>,
    pub metadata: Option<RebuildMetadata>,
    pub mode: Option<ResizeMode>,
}

/// `os-reinstall` of `ReinstallServerWithoutCloudInit`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReinstallOptionWithoutCloudInit {
    pub adminpass: Option<String>,
    pub keyname: Option<String>,
    pub userid: Option<String>,
    pub metadata: Option<RebuildMetadataWithoutCloudInit>,
    pub mode: Option<ResizeMode>,
}

/// `os-change` of `ChangeServerOsWithCloudInit`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangeOsOption {
    pub adminpass: Option<String>,
    pub keyname: Option<String>,
    pub userid: Option<String>,
    /// The new image.
    pub imageid: String,
    pub metadata: Option<RebuildMetadata>,
    pub mode: Option<ResizeMode>,
    /// Pays a yearly/monthly image fee at once; ecsd bills nothing.
    #[serde(rename = "isAutoPay")]
    pub is_auto_pay: Option<String>,
}

/// `os-change` of `ChangeServerOsWithoutCloudInit`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangeOsOptionWithoutCloudInit {
    pub adminpass: Option<String>,
    pub keyname: Option<String>,
    pub userid: Option<String>,
    pub imageid: String,
    pub metadata: Option<RebuildMetadataWithoutCloudInit>,
    pub mode: Option<ResizeMode>,
    #[serde(rename = "isAutoPay")]
    pub is_auto_pay: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReinstallServerWithCloudInitRequest {
    #[serde(rename = "os-reinstall")]
    pub os_reinstall: ReinstallOption,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReinstallServerWithoutCloudInitRequest {
    #[serde(rename = "os-reinstall")]
    pub os_reinstall: ReinstallOptionWithoutCloudInit,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangeServerOsWithCloudInitRequest {
    #[serde(rename = "os-change")]
    pub os_change: ChangeOsOption,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangeServerOsWithoutCloudInitRequest {
    #[serde(rename = "os-change")]
    pub os_change: ChangeOsOptionWithoutCloudInit,
}

fn with_stop(mode: Option<ResizeMode>) -> bool {
    mode == Some(ResizeMode::WithStopServer)
}

/// The login and disk fields every form shares.
fn request(
    image_id: Option<String>,
    adminpass: Option<String>,
    keyname: Option<String>,
    userid: Option<String>,
    mode: Option<ResizeMode>,
) -> RebuildRequest {
    RebuildRequest {
        image_id,
        admin_pass: adminpass,
        key_name: keyname,
        user_id: userid,
        with_stop: with_stop(mode),
        ..Default::default()
    }
}

fn with_metadata(mut request: RebuildRequest, metadata: Option<RebuildMetadata>, cloud_init: bool) -> RebuildRequest {
    let metadata = metadata.unwrap_or_default();
    request.encrypted = metadata.system_encrypted;
    request.cmk_id = metadata.system_cmkid;
    request.user_data = metadata.user_data;
    request.byol = metadata.byol;
    request.cloud_init = cloud_init;
    request
}

impl From<RebuildMetadataWithoutCloudInit> for RebuildMetadata {
    fn from(m: RebuildMetadataWithoutCloudInit) -> Self {
        RebuildMetadata {
            system_encrypted: m.system_encrypted,
            system_cmkid: m.system_cmkid,
            user_data: None,
            byol: m.byol,
        }
    }
}

impl From<ReinstallServerWithCloudInitRequest> for RebuildRequest {
    fn from(r: ReinstallServerWithCloudInitRequest) -> Self {
        let o = r.os_reinstall;
        with_metadata(request(None, o.adminpass, o.keyname, o.userid, o.mode), o.metadata, true)
    }
}

impl From<ReinstallServerWithoutCloudInitRequest> for RebuildRequest {
    fn from(r: ReinstallServerWithoutCloudInitRequest) -> Self {
        let o = r.os_reinstall;
        with_metadata(request(None, o.adminpass, o.keyname, o.userid, o.mode), o.metadata.map(Into::into), false)
    }
}

impl From<ChangeServerOsWithCloudInitRequest> for RebuildRequest {
    fn from(r: ChangeServerOsWithCloudInitRequest) -> Self {
        let o = r.os_change;
        with_metadata(request(Some(o.imageid), o.adminpass, o.keyname, o.userid, o.mode), o.metadata, true)
    }
}

impl From<ChangeServerOsWithoutCloudInitRequest> for RebuildRequest {
    fn from(r: ChangeServerOsWithoutCloudInitRequest) -> Self {
        let o = r.os_change;
        let request = request(Some(o.imageid), o.adminpass, o.keyname, o.userid, o.mode);
        with_metadata(request, o.metadata.map(Into::into), false)
    }
}

/// `{"migrate": {"dedicated_host_id": "..."}}`; `{"migrate": null}` (or `{}`, which is what the
/// SDK sends for it) moves the server anywhere else in its zone.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MigrateServerRequest {
    pub migrate: Option<MigrateOption>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MigrateOption {
    /// The host to move to: as `OS-EXT-SRV-ATTR:host` shows it (`pod03.eu-de-01`), or the
    /// project's `hostId` of it. Absent: any other host of the server's zone.
    pub dedicated_host_id: Option<String>,
}
