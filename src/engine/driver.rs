//! The seam between the job engine and whatever carries out compute work. The default is the
//! simulator; a driver for real VMs plugs in here.

use std::time::Duration;

use crate::domain::status::OperationKind;

pub trait ComputeDriver: Send + Sync {
    /// How long the server takes to reach step `step` (1-based; step 0 is applied when the
    /// operation is accepted) of an operation whose plan has `steps` steps.
    fn step_duration(&self, kind: OperationKind, step: usize, steps: usize) -> Duration;
}
