//! A server as ecsd keeps it. Wire names (`OS-EXT-STS:vm_state`, `flavorRef`) live in api/.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::metadata::MetadataOptions;
use super::status::{Effect, ServerState, Status, Step, TaskState, VmState};

pub type Timestamp = time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Server {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub vm_state: VmState,
    pub task_state: Option<TaskState>,
    pub locked: bool,
    pub flavor_id: String,
    /// While a resize runs: the flavor it goes to. Quota usage counts the larger of the two.
    pub resize_target: Option<String>,
    pub image_id: String,
    pub availability_zone: String,
    pub vpc_id: String,
    pub nics: Vec<Nic>,
    pub volumes: Vec<Volume>,
    pub metadata: BTreeMap<String, String>,
    pub tags: Vec<Tag>,
    pub security_group_ids: Vec<String>,
    pub key_name: Option<String>,
    pub user_data: Option<String>,
    pub hostname: String,
    pub instance_name: String,
    pub reservation_id: String,
    pub launch_index: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub created: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated: Timestamp,
    #[serde(with = "time::serde::rfc3339::option")]
    pub launched_at: Option<Timestamp>,
    /// Salted argon2id hash of the password in effect in the guest.
    pub password_hash: Option<String>,
    /// Salted argon2id hash of a reset that takes effect at the next start or reboot.
    pub pending_password_hash: Option<String>,
    /// When the engine deletes the server (`UpdateServerAutoTerminateTime`), if set.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub auto_terminate_time: Option<Timestamp>,
    /// The simulated host the server runs on (`None` only for servers stored before placement).
    #[serde(default)]
    pub host: Option<String>,
    /// The ECS group the server is a member of.
    #[serde(default)]
    pub server_group_id: Option<String>,
    /// The options of the instance metadata service.
    #[serde(default)]
    pub metadata_options: MetadataOptions,
    /// The administrator password a Windows guest created with a key pair set, encrypted with
    /// that key pair (base64), until it is deleted.
    #[serde(default)]
    pub encrypted_password: Option<String>,
    /// While a move to another host runs (a migration, a redeploy, a resize that does not fit
    /// where it is): the host it left, where a failed move puts it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_host: Option<String>,
    /// While a reinstall or OS change runs: what the re-created system disk will hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebuild: Option<Rebuild>,
    /// From the acceptance of a Nova resize until its confirm or revert ends: what a revert
    /// puts back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resize_revert: Option<ResizeRevert>,
}

/// A Nova resize's way back: the flavor and the state the server had before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResizeRevert {
    pub flavor_id: String,
    pub vm_state: VmState,
}

/// What a reinstall or OS change gives the server when its new system disk is ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rebuild {
    pub image_id: String,
    /// Salted hash of the new administrator password, taken up at the next boot.
    pub password_hash: Option<String>,
    pub key_name: Option<String>,
    pub user_data: Option<String>,
    /// The `__system__encrypted` / `__system__cmkid` metadata of the new system disk.
    pub disk_metadata: BTreeMap<String, String>,
    /// A Windows image with a key pair and no password: what the guest leaves encrypted.
    pub encrypted_password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nic {
    pub port_id: String,
    pub subnet_id: String,
    pub ip: Ipv4Addr,
    pub mac: String,
    /// The port is deleted when the NIC leaves the server (detached, or the server deleted):
    /// so for the ports ECS makes; a port attached by its id is only unbound, as Nova keeps a
    /// port it was given (`UpdateServerInterface` changes it).
    #[serde(default = "deleted_with_server")]
    pub delete_on_termination: bool,
}

fn deleted_with_server() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    pub id: String,
    pub volume_type: String,
    pub size_gib: u32,
    /// 0 for the system disk.
    pub boot_index: Option<u32>,
    pub device: String,
    pub delete_on_termination: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Server {
    pub fn status(&self) -> Status {
        Status::of(self.vm_state, self.task_state)
    }

    /// `OS-EXT-STS:power_state`: a resized server runs unless it was stopped before.
    pub fn power_state(&self) -> u8 {
        match (&self.resize_revert, self.vm_state) {
            (Some(revert), VmState::Resized) => revert.vm_state.power_state(),
            (_, vm_state) => vm_state.power_state(),
        }
    }

    pub fn state(&self) -> ServerState {
        ServerState { vm_state: self.vm_state, task_state: self.task_state, locked: self.locked }
    }

    /// Whether a tag has this key, or this `key=value`.
    pub fn has_tag(&self, wanted: &str) -> bool {
        self.tags.iter().any(|t| t.key == wanted || (format!("{}={}", t.key, t.value) == wanted))
    }

    /// The `key=value` (or `key`) form the server document shows.
    pub fn tag_strings(&self) -> Vec<String> {
        self.tags
            .iter()
            .map(|t| if t.value.is_empty() { t.key.clone() } else { format!("{}={}", t.key, t.value) })
            .collect()
    }
}

impl Server {
    /// Moves the server into one step of an operation's plan. A `Remove` step leaves the row
    /// to the caller, who deletes it.
    pub fn enter(&mut self, step: &Step, now: Timestamp) {
        self.vm_state = step.vm_state;
        self.task_state = step.task_state;
        self.updated = now;
        if step.task_state.is_none() {
            // The operation is over: a move stays where it went.
            self.previous_host = None;
        }
        match step.effect {
            Effect::Launch => self.launched_at = Some(now),
            Effect::Boot => {
                if let Some(hash) = self.pending_password_hash.take() {
                    self.password_hash = Some(hash);
                }
            }
            Effect::ApplyFlavor => {
                if let Some(flavor) = self.resize_target.take() {
                    self.flavor_id = flavor;
                }
            }
            Effect::ConfirmResize => self.resize_revert = None,
            Effect::RevertResize => {
                if let Some(revert) = self.resize_revert.take() {
                    self.flavor_id = revert.flavor_id;
                }
            }
            Effect::ApplyImage => {
                if let Some(rebuild) = self.rebuild.take() {
                    self.apply_rebuild(rebuild);
                }
            }
            // The store keeps what is in the recycle bin (`apply::enter`).
            Effect::None | Effect::Remove | Effect::Recycle | Effect::Restore => {}
        }
    }
}

impl Server {
    /// The new system disk is in place: the old guest and what it knew are gone.
    fn apply_rebuild(&mut self, rebuild: Rebuild) {
        self.image_id = rebuild.image_id;
        self.password_hash = None;
        self.pending_password_hash = rebuild.password_hash;
        self.key_name = rebuild.key_name;
        self.user_data = rebuild.user_data;
        self.encrypted_password = rebuild.encrypted_password;
        self.metadata.retain(|key, _| !key.starts_with("__system__"));
        self.metadata.extend(rebuild.disk_metadata);
    }
}
