//! Reinstalling a server's OS and changing it to another image: what a request may ask, and
//! which images a server can take. Pure: the service applies it in one transaction.

use std::collections::BTreeMap;

use super::catalogue::{Catalogue, Image};
use super::errors::{Error, ErrorCode, Result};
use super::server::{Rebuild, Server};
use super::validate;

/// The length of a KMS key id (`__system__cmkid`).
const CMK_ID_CHARS: usize = 36;

/// A reinstall or OS change as the four SDK operations ask for it.
#[derive(Debug, Clone, Default)]
pub struct RebuildRequest {
    /// The new image (`ChangeServerOs...`); `None` reinstalls the server's own.
    pub image_id: Option<String>,
    pub admin_pass: Option<String>,
    pub key_name: Option<String>,
    pub user_id: Option<String>,
    /// Only the `...WithCloudInit` operations (v2) take user data.
    pub user_data: Option<String>,
    /// `__system__encrypted`: `"0"` or `"1"`.
    pub encrypted: Option<String>,
    /// `__system__cmkid`: the KMS key of an encrypted system disk.
    pub cmk_id: Option<String>,
    /// `BYOL`: only `"true"` is a value.
    pub byol: Option<String>,
    /// `mode: withStopServer`: a running server is stopped first.
    pub with_stop: bool,
    /// The v2 (`...WithCloudInit`) form, where a server without a password or key pair must
    /// get its credentials from `user_data`.
    pub cloud_init: bool,
}

impl RebuildRequest {
    /// The checks of the request alone, before any server is looked at.
    pub fn check(&self) -> Result<()> {
        if let Some(pass) = &self.admin_pass {
            validate::password(pass, validate::CREATE_PASSWORD_SPECIALS)?;
        }
        if self.admin_pass.is_some() && self.key_name.is_some() {
            return Err(Error::invalid("adminpass and keyname cannot both be given."));
        }
        if let Some(key_name) = &self.key_name {
            if key_name.is_empty() || key_name.chars().count() > 64 {
                return Err(Error::invalid("keyname must have 1 to 64 characters."));
            }
            if self.user_id.as_deref().is_none_or(str::is_empty) {
                return Err(Error::invalid("userid is required with keyname."));
            }
        }
        if let Some(user_data) = &self.user_data {
            validate::user_data(user_data)?;
        }
        if self.cloud_init && self.admin_pass.is_none() && self.key_name.is_none() && self.user_data.is_none() {
            return Err(Error::invalid("Give adminpass, keyname or metadata.user_data for the new OS's login."));
        }
        match self.encrypted.as_deref() {
            None | Some("0") => {}
            Some("1") => {
                if self.cmk_id.as_ref().is_none_or(|id| id.chars().count() != CMK_ID_CHARS) {
                    return Err(Error::invalid(format!(
                        "An encrypted system disk needs metadata.__system__cmkid, a key id of {CMK_ID_CHARS} characters."
                    )));
                }
            }
            Some(other) => {
                return Err(Error::invalid(format!(
                    "metadata.__system__encrypted must be \"0\" or \"1\", not {other:?}."
                )));
            }
        }
        if let Some(byol) = &self.byol
            && byol != "true"
        {
            return Err(Error::invalid(format!("metadata.BYOL may only be \"true\", not {byol:?}.")));
        }
        Ok(())
    }

    /// The image the server is rebuilt from, if the server can take it: it exists and is
    /// active, is built for the architecture of the server's flavor, needs no more RAM than
    /// the flavor has and no larger system disk than the server's.
    pub fn image<'c>(&self, catalogue: &'c Catalogue, server: &Server) -> Result<&'c Image> {
        let id = self.image_id.as_deref().unwrap_or(&server.image_id);
        let image = catalogue
            .image(id)
            .ok_or_else(|| Error::new(ErrorCode::ImageNotFound, format!("The image {id} does not exist.")))?;
        if image.status != "active" {
            return Err(Error::new(
                ErrorCode::ImageNotActive,
                format!("The image {} is {}, not active.", image.id, image.status),
            ));
        }
        if let Some(flavor) = catalogue.flavor(&server.flavor_id) {
            if flavor.architecture != image.architecture {
                return Err(Error::invalid(format!(
                    "The image {} is built for {}; the flavor {} of the ECS {} is {}.",
                    image.id, image.architecture, flavor.id, server.id, flavor.architecture
                )));
            }
            if image.min_ram_mib > flavor.ram_mib {
                return Err(Error::invalid(format!(
                    "The image {} needs {} MiB of RAM; the flavor {} has {} MiB.",
                    image.id, image.min_ram_mib, flavor.id, flavor.ram_mib
                )));
            }
        }
        let system_disk = server.volumes.iter().find(|v| v.boot_index == Some(0)).ok_or_else(|| {
            Error::invalid(format!("The ECS {} has no system disk, so its OS cannot be rebuilt.", server.id))
        })?;
        if image.min_disk_gib > system_disk.size_gib {
            return Err(Error::invalid(format!(
                "The image {} needs a system disk of {} GiB; the ECS {} has {} GiB.",
                image.id, image.min_disk_gib, server.id, system_disk.size_gib
            )));
        }
        Ok(image)
    }

    /// What the server holds once rebuilt; `password_hash` is the hash of `admin_pass`.
    pub fn rebuild(&self, image: &Image, password_hash: Option<String>) -> Rebuild {
        let mut disk_metadata = BTreeMap::new();
        if let Some(encrypted) = &self.encrypted {
            disk_metadata.insert("__system__encrypted".to_string(), encrypted.clone());
            if encrypted == "1"
                && let Some(cmk_id) = &self.cmk_id
            {
                disk_metadata.insert("__system__cmkid".to_string(), cmk_id.clone());
            }
        }
        // A Windows guest given a key pair and no password sets a random one and leaves it
        // encrypted with the key pair, as at create.
        let sets_own_password = image.os_type == "Windows" && self.key_name.is_some() && self.admin_pass.is_none();
        Rebuild {
            image_id: image.id.clone(),
            password_hash,
            key_name: self.key_name.clone(),
            user_data: self.user_data.clone(),
            disk_metadata,
            encrypted_password: sets_own_password.then(super::create::encrypted_password),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue::default()
    }

    fn server(flavor: &str, disk_gib: u32) -> Server {
        serde_json::from_value(serde_json::json!({
            "id": "v", "project_id": "p", "name": "web", "description": "", "vm_state": "stopped",
            "task_state": null, "locked": false, "flavor_id": flavor, "resize_target": null,
            "image_id": "8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e01", "availability_zone": "az1", "vpc_id": "vpc",
            "nics": [], "volumes": [{"id": "d", "volume_type": "SSD", "size_gib": disk_gib, "boot_index": 0,
            "device": "/dev/vda", "delete_on_termination": true}],
            "metadata": {}, "tags": [], "security_group_ids": [], "key_name": null, "user_data": null,
            "hostname": "web", "instance_name": "instance-1", "reservation_id": "r", "launch_index": 0,
            "created": "2024-06-01T10:00:00Z", "updated": "2024-06-01T10:00:00Z", "launched_at": null,
            "password_hash": null, "pending_password_hash": null
        }))
        .expect("a server")
    }

    fn code(request: &RebuildRequest) -> Option<&'static str> {
        request.check().err().map(|e| e.code.code())
    }

    #[test]
    fn a_request_takes_a_password_or_a_key_pair_and_the_password_rules_of_create() {
        let with = |f: &dyn Fn(&mut RebuildRequest)| {
            let mut request = RebuildRequest { admin_pass: Some("Ecsd-Pass-2024".into()), ..Default::default() };
            f(&mut request);
            code(&request)
        };
        assert_eq!(with(&|_| {}), None);
        assert_eq!(with(&|r| r.admin_pass = Some("weak".into())), Some("Ecs.0011"));
        assert_eq!(with(&|r| r.key_name = Some("kp".into())), Some("Ecs.0005"));
        let key = RebuildRequest { key_name: Some("kp".into()), ..Default::default() };
        assert_eq!(code(&key), Some("Ecs.0005"), "a key pair needs the user id");
        assert_eq!(code(&RebuildRequest { user_id: Some("u".into()), ..key }), None);
        let bare = RebuildRequest { cloud_init: true, ..Default::default() };
        assert_eq!(code(&bare), Some("Ecs.0005"), "cloud-init needs some way to log in");
        assert_eq!(code(&RebuildRequest { user_data: Some("IyEvYmluL3NoCg==".into()), ..bare.clone() }), None);
        assert_eq!(code(&RebuildRequest { user_data: Some("not base64!".into()), ..bare }), Some("Ecs.0005"));
        assert_eq!(code(&RebuildRequest::default()), None, "without cloud-init the image keeps its own login");
        assert_eq!(with(&|r| r.encrypted = Some("1".into())), Some("Ecs.0005"));
        assert_eq!(with(&|r| r.byol = Some("false".into())), Some("Ecs.0005"));
    }

    #[test]
    fn an_image_must_fit_the_flavor_and_the_system_disk() {
        let catalogue = catalogue();
        let image = |id: &str| RebuildRequest { image_id: Some(id.into()), ..Default::default() };
        let small = server("s6.small.1", 20);
        assert!(image("8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e01").image(&catalogue, &small).is_ok());
        let too_big = image("8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e02").image(&catalogue, &small);
        assert_eq!(too_big.map(|_| ()).map_err(|e| e.code), Err(ErrorCode::InvalidRequest), "CentOS needs 40 GiB");
        let missing = image("nope").image(&catalogue, &small).map(|_| ()).map_err(|e| e.code);
        assert_eq!(missing, Err(ErrorCode::ImageNotFound));
        let deactivated = image("0d4f9e1c-6b1e-4c1e-9a55-3f3c0b2f5a10").image(&catalogue, &server("s6.small.1", 40));
        assert_eq!(deactivated.map(|_| ()).map_err(|e| e.code), Err(ErrorCode::ImageNotActive));
        let arm = image("8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e01").image(&catalogue, &server("kc1.large.2", 40));
        assert_eq!(arm.map(|_| ()).map_err(|e| e.code), Err(ErrorCode::InvalidRequest), "x86 image, Arm flavor");
    }

    #[test]
    fn the_new_disk_is_encrypted_as_asked_and_a_windows_key_pair_login_leaves_a_password() {
        let catalogue = catalogue();
        let request = RebuildRequest {
            key_name: Some("kp".into()),
            user_id: Some("u".into()),
            encrypted: Some("1".into()),
            cmk_id: Some("0123456789abcdef0123456789abcdef0123".into()),
            ..Default::default()
        };
        let windows = catalogue.image("8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e03").expect("windows");
        let rebuild = request.rebuild(windows, None);
        assert_eq!(rebuild.disk_metadata.get("__system__encrypted").map(String::as_str), Some("1"));
        assert!(rebuild.disk_metadata.contains_key("__system__cmkid"));
        assert!(rebuild.encrypted_password.is_some());
        let linux = catalogue.image("8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e01").expect("linux");
        assert!(request.rebuild(linux, None).encrypted_password.is_none());
    }
}
