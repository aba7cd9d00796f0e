//! The simulated compute driver: every operation takes a configurable time, spread evenly
//! over the steps of its plan.

use std::time::Duration;

use serde::Deserialize;

use super::driver::ComputeDriver;
use crate::domain::status::OperationKind;

/// Total duration of each operation, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timings {
    pub create_ms: u64,
    pub start_ms: u64,
    pub stop_ms: u64,
    pub reboot_ms: u64,
    pub resize_ms: u64,
    pub delete_ms: u64,
    pub reinstall_ms: u64,
    pub change_os_ms: u64,
    pub migrate_ms: u64,
    pub redeploy_ms: u64,
    pub attach_volume_ms: u64,
    pub detach_volume_ms: u64,
    pub create_volume_ms: u64,
    pub extend_volume_ms: u64,
    pub delete_volume_ms: u64,
    /// Adding or deleting a server's NICs.
    pub nic_ms: u64,
    /// Moving a server to another VPC (`ChangeVpc`).
    pub change_vpc_ms: u64,
}

impl Timings {
    /// Every transition completes at once.
    pub const INSTANT: Timings = Timings {
        create_ms: 0,
        start_ms: 0,
        stop_ms: 0,
        reboot_ms: 0,
        resize_ms: 0,
        delete_ms: 0,
        reinstall_ms: 0,
        change_os_ms: 0,
        migrate_ms: 0,
        redeploy_ms: 0,
        attach_volume_ms: 0,
        detach_volume_ms: 0,
        create_volume_ms: 0,
        extend_volume_ms: 0,
        delete_volume_ms: 0,
        nic_ms: 0,
        change_vpc_ms: 0,
    };
    /// Close to what the cloud takes.
    pub const REALISTIC: Timings = Timings {
        create_ms: 5000,
        start_ms: 2000,
        stop_ms: 2000,
        reboot_ms: 3000,
        resize_ms: 6000,
        delete_ms: 2000,
        reinstall_ms: 8000,
        change_os_ms: 8000,
        migrate_ms: 6000,
        redeploy_ms: 8000,
        attach_volume_ms: 3000,
        detach_volume_ms: 3000,
        create_volume_ms: 2000,
        extend_volume_ms: 2000,
        delete_volume_ms: 1000,
        nic_ms: 3000,
        change_vpc_ms: 5000,
    };

    fn total(&self, kind: OperationKind) -> u64 {
        match kind {
            OperationKind::Create => self.create_ms,
            OperationKind::Start => self.start_ms,
            OperationKind::Stop => self.stop_ms,
            OperationKind::Reboot => self.reboot_ms,
            OperationKind::Resize => self.resize_ms,
            // Into the recycle bin and out of it again take as long as a delete.
            OperationKind::Delete | OperationKind::Restore => self.delete_ms,
            OperationKind::Reinstall => self.reinstall_ms,
            OperationKind::ChangeOs => self.change_os_ms,
            OperationKind::Migrate => self.migrate_ms,
            OperationKind::Redeploy => self.redeploy_ms,
            OperationKind::AttachVolume => self.attach_volume_ms,
            OperationKind::DetachVolume => self.detach_volume_ms,
            OperationKind::CreateVolume => self.create_volume_ms,
            OperationKind::ExtendVolume => self.extend_volume_ms,
            OperationKind::DeleteVolume => self.delete_volume_ms,
            OperationKind::AddNics | OperationKind::DeleteNics => self.nic_ms,
            OperationKind::ChangeVpc => self.change_vpc_ms,
            // A confirm removes the old guest as a delete does; a revert starts it again.
            OperationKind::ConfirmResize => self.delete_ms,
            OperationKind::RevertResize => self.start_ms,
        }
    }
}

impl Default for Timings {
    fn default() -> Self {
        Timings::REALISTIC
    }
}

pub struct Simulator {
    timings: Timings,
}

impl Simulator {
    pub fn new(timings: Timings) -> Self {
        Simulator { timings }
    }
}

impl ComputeDriver for Simulator {
    fn step_duration(&self, kind: OperationKind, _step: usize, steps: usize) -> Duration {
        let transitions = steps.saturating_sub(1).max(1) as u64;
        Duration::from_millis(self.timings.total(kind) / transitions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_takes_its_configured_time_over_all_its_steps() {
        let sim = Simulator::new(Timings::REALISTIC);
        let per_step = sim.step_duration(OperationKind::Create, 1, 5);
        assert_eq!(per_step * 4, Duration::from_millis(5000));
        assert_eq!(Simulator::new(Timings::INSTANT).step_duration(OperationKind::Stop, 1, 2), Duration::ZERO);
    }
}
