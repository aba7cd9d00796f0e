//! The recycle bin of a project: whether a delete keeps a server there, for how long, and
//! which servers it takes. Pure: the store keeps the settings and what is in the bin.

use super::errors::{Error, Result};
use super::server::{Server, Timestamp};
use super::status::VmState;

/// The policy's limits, as the console documents them.
pub const RETENTION_HOURS: std::ops::RangeInclusive<u32> = 1..=720;
pub const THRESHOLD_DAYS: std::ops::RangeInclusive<u32> = 1..=1000;

/// A project's recycle bin: off until `UpdateRecycleBin` turns it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecycleBin {
    pub project_id: String,
    pub enabled: bool,
    /// How long a server stays in the bin before it is deleted for good.
    pub retention_hours: u32,
    /// How old a server must be for a delete to keep it in the bin.
    pub threshold_days: u32,
}

impl RecycleBin {
    /// The settings of a project that never changed them: off, 168 hours, 7 days.
    pub fn default_for(project_id: &str) -> Self {
        RecycleBin { project_id: project_id.to_string(), enabled: false, retention_hours: 168, threshold_days: 7 }
    }

    pub fn set_policy(&mut self, retention_hours: u32, threshold_days: u32) -> Result<()> {
        if !RETENTION_HOURS.contains(&retention_hours) {
            return Err(Error::invalid(format!(
                "retention_hour must be from {} to {}.",
                RETENTION_HOURS.start(),
                RETENTION_HOURS.end()
            )));
        }
        if !THRESHOLD_DAYS.contains(&threshold_days) {
            return Err(Error::invalid(format!(
                "recycle_threshold_day must be from {} to {}.",
                THRESHOLD_DAYS.start(),
                THRESHOLD_DAYS.end()
            )));
        }
        self.retention_hours = retention_hours;
        self.threshold_days = threshold_days;
        Ok(())
    }

    /// Whether deleting `server` now keeps it in the bin: the bin is on, the server is running
    /// or stopped (a faulty one is deleted), old enough, and has no scheduled deletion.
    pub fn takes(&self, server: &Server, now: Timestamp) -> bool {
        self.enabled
            && matches!(server.vm_state, VmState::Active | VmState::Stopped)
            && server.auto_terminate_time.is_none()
            && now - server.created >= time::Duration::days(i64::from(self.threshold_days))
    }

    /// When a server that enters the bin at `at` is deleted for good.
    pub fn purge_time(&self, at: Timestamp) -> Timestamp {
        at + time::Duration::hours(i64::from(self.retention_hours))
    }
}

/// A server in the bin: since when, until when, and the job that deletes it once due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recycled {
    pub project_id: String,
    pub server_id: String,
    pub at: Timestamp,
    pub purge_at: Timestamp,
    pub job_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn server(vm_state: VmState) -> Server {
        let mut server: Server = serde_json::from_value(serde_json::json!({
            "id": "v", "project_id": "p", "name": "web", "description": "", "vm_state": "active",
            "task_state": null, "locked": false, "flavor_id": "s6.small.1", "resize_target": null,
            "image_id": "i", "availability_zone": "az1", "vpc_id": "vpc", "nics": [], "volumes": [],
            "metadata": {}, "tags": [], "security_group_ids": [], "key_name": null, "user_data": null,
            "hostname": "web", "instance_name": "instance-1", "reservation_id": "r", "launch_index": 0,
            "created": "2024-06-01T10:00:00Z", "updated": "2024-06-01T10:00:00Z", "launched_at": null,
            "password_hash": null, "pending_password_hash": null
        }))
        .expect("a server");
        server.vm_state = vm_state;
        server
    }

    #[test]
    fn the_bin_takes_old_enough_running_or_stopped_servers_without_a_scheduled_deletion() {
        let mut bin = RecycleBin::default_for("p");
        let week_later = datetime!(2024-06-08 10:00 UTC);
        assert!(!bin.takes(&server(VmState::Active), week_later), "off by default");
        bin.enabled = true;
        assert!(bin.takes(&server(VmState::Active), week_later));
        assert!(bin.takes(&server(VmState::Stopped), week_later));
        assert!(!bin.takes(&server(VmState::Error), week_later), "a faulty server is deleted");
        assert!(!bin.takes(&server(VmState::Active), datetime!(2024-06-08 09:59 UTC)), "younger than 7 days");
        let mut scheduled = server(VmState::Active);
        scheduled.auto_terminate_time = Some(week_later);
        assert!(!bin.takes(&scheduled, week_later));
        assert_eq!(bin.purge_time(week_later), datetime!(2024-06-15 10:00 UTC));
    }

    #[test]
    fn a_policy_keeps_to_its_ranges() {
        let mut bin = RecycleBin::default_for("p");
        assert!(bin.set_policy(0, 7).is_err());
        assert!(bin.set_policy(721, 7).is_err());
        assert!(bin.set_policy(24, 0).is_err());
        assert!(bin.set_policy(24, 1001).is_err());
        assert_eq!((bin.retention_hours, bin.threshold_days), (168, 7), "a refused policy changes nothing");
        assert!(bin.set_policy(1, 1).is_ok());
        assert_eq!((bin.retention_hours, bin.threshold_days), (1, 1));
    }
}
