//! The ECS status model (contract section 5), defined once: the states, how a (vm_state,
//! task_state) pair shows as `status`, which operation may start from which status, and the
//! steps each operation passes through.

use serde::{Deserialize, Serialize};

use super::errors::ErrorCode;
use super::server::Nic;

/// The stable state of a server (`OS-EXT-STS:vm_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VmState {
    Building,
    Active,
    Stopped,
    Error,
    Deleted,
    /// In the recycle bin: stopped, hidden from the server lists, restorable until purged.
    SoftDeleted,
    /// A Nova resize is done and waits for `confirmResize` or `revertResize` (`VERIFY_RESIZE`).
    Resized,
}

/// The operation in progress on a server (`OS-EXT-STS:task_state`); `None` when idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskState {
    Scheduling,
    BlockDeviceMapping,
    Networking,
    Spawning,
    Rebooting,
    RebootPending,
    RebootStarted,
    RebootingHard,
    RebootPendingHard,
    RebootStartedHard,
    ResizePrep,
    ResizeMigrating,
    ResizeMigrated,
    ResizeFinish,
    /// `confirmResize` runs (the old guest is removed).
    ResizeConfirming,
    /// `revertResize` runs (the old flavor comes back): `REVERT_RESIZE`.
    ResizeReverting,
    /// Cold migration of a running server the platform moves (a scheduled event): `MIGRATING`.
    Migrating,
    Rebuilding,
    RebuildBlockDeviceMapping,
    RebuildSpawning,
    PoweringOff,
    PoweringOn,
    Deleting,
    /// Coming back out of the recycle bin.
    Restoring,
}

/// What a client sees as `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Build,
    Active,
    Shutoff,
    Reboot,
    HardReboot,
    Rebuild,
    Migrating,
    Resize,
    VerifyResize,
    RevertResize,
    Error,
    Deleted,
    SoftDeleted,
}

impl VmState {
    pub const fn as_str(self) -> &'static str {
        match self {
            VmState::Building => "building",
            VmState::Active => "active",
            VmState::Stopped => "stopped",
            VmState::Error => "error",
            VmState::Deleted => "deleted",
            VmState::SoftDeleted => "soft-delete",
            VmState::Resized => "resized",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Building, Self::Active, Self::Stopped, Self::Error, Self::Deleted, Self::SoftDeleted, Self::Resized]
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    /// `OS-EXT-STS:power_state`: 0 NOSTATE, 1 RUNNING, 4 SHUTDOWN (a resized server runs
    /// unless it was stopped before: `Server::power_state`).
    pub const fn power_state(self) -> u8 {
        match self {
            VmState::Active | VmState::Resized => 1,
            VmState::Stopped | VmState::SoftDeleted => 4,
            VmState::Building | VmState::Error | VmState::Deleted => 0,
        }
    }
}

impl TaskState {
    pub const ALL: [TaskState; 24] = [
        TaskState::Scheduling,
        TaskState::BlockDeviceMapping,
        TaskState::Networking,
        TaskState::Spawning,
        TaskState::Rebooting,
        TaskState::RebootPending,
        TaskState::RebootStarted,
        TaskState::RebootingHard,
        TaskState::RebootPendingHard,
        TaskState::RebootStartedHard,
        TaskState::ResizePrep,
        TaskState::ResizeMigrating,
        TaskState::ResizeMigrated,
        TaskState::ResizeFinish,
        TaskState::ResizeConfirming,
        TaskState::ResizeReverting,
        TaskState::Migrating,
        TaskState::Rebuilding,
        TaskState::RebuildBlockDeviceMapping,
        TaskState::RebuildSpawning,
        TaskState::PoweringOff,
        TaskState::PoweringOn,
        TaskState::Deleting,
        TaskState::Restoring,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            TaskState::Scheduling => "scheduling",
            TaskState::BlockDeviceMapping => "block_device_mapping",
            TaskState::Networking => "networking",
            TaskState::Spawning => "spawning",
            TaskState::Rebooting => "rebooting",
            TaskState::RebootPending => "reboot_pending",
            TaskState::RebootStarted => "reboot_started",
            TaskState::RebootingHard => "rebooting_hard",
            TaskState::RebootPendingHard => "reboot_pending_hard",
            TaskState::RebootStartedHard => "reboot_started_hard",
            TaskState::ResizePrep => "resize_prep",
            TaskState::ResizeMigrating => "resize_migrating",
            TaskState::ResizeMigrated => "resize_migrated",
            TaskState::ResizeFinish => "resize_finish",
            TaskState::ResizeConfirming => "resize_confirming",
            TaskState::ResizeReverting => "resize_reverting",
            TaskState::Migrating => "migrating",
            TaskState::Rebuilding => "rebuilding",
            TaskState::RebuildBlockDeviceMapping => "rebuild_block_device_mapping",
            TaskState::RebuildSpawning => "rebuild_spawning",
            TaskState::PoweringOff => "powering-off",
            TaskState::PoweringOn => "powering-on",
            TaskState::Deleting => "deleting",
            TaskState::Restoring => "restoring",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl Status {
    pub const ALL: [Status; 13] = [
        Status::Build,
        Status::Active,
        Status::Shutoff,
        Status::Reboot,
        Status::HardReboot,
        Status::Rebuild,
        Status::Migrating,
        Status::Resize,
        Status::VerifyResize,
        Status::RevertResize,
        Status::Error,
        Status::Deleted,
        Status::SoftDeleted,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Build => "BUILD",
            Status::Active => "ACTIVE",
            Status::Shutoff => "SHUTOFF",
            Status::Reboot => "REBOOT",
            Status::HardReboot => "HARD_REBOOT",
            Status::Rebuild => "REBUILD",
            Status::Migrating => "MIGRATING",
            Status::Resize => "RESIZE",
            Status::VerifyResize => "VERIFY_RESIZE",
            Status::RevertResize => "REVERT_RESIZE",
            Status::Error => "ERROR",
            Status::Deleted => "DELETED",
            Status::SoftDeleted => "SOFT_DELETED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Table 5.4 of the contract, restricted to the states ecsd produces.
    pub fn of(vm: VmState, task: Option<TaskState>) -> Status {
        use TaskState::*;
        match (vm, task) {
            (VmState::Building, _) => Status::Build,
            (
                VmState::Active | VmState::Stopped | VmState::Error,
                Some(Rebuilding | RebuildBlockDeviceMapping | RebuildSpawning),
            ) => Status::Rebuild,
            (VmState::Active, Some(Migrating)) => Status::Migrating,
            (VmState::Active, Some(Rebooting | RebootPending | RebootStarted)) => Status::Reboot,
            (VmState::Active, Some(RebootingHard | RebootPendingHard | RebootStartedHard)) => Status::HardReboot,
            // A Nova resize keeps the server running (an ECS one stops it first).
            (
                VmState::Active | VmState::Stopped,
                Some(ResizePrep | ResizeMigrating | ResizeMigrated | ResizeFinish),
            ) => Status::Resize,
            (VmState::Active, _) => Status::Active,
            (VmState::Stopped, _) => Status::Shutoff,
            (VmState::Error, _) => Status::Error,
            (VmState::Deleted, _) => Status::Deleted,
            (VmState::SoftDeleted, _) => Status::SoftDeleted,
            (VmState::Resized, Some(ResizeReverting)) => Status::RevertResize,
            (VmState::Resized, _) => Status::VerifyResize,
        }
    }
}

/// The kinds of operation that run as jobs. Each names its parent and sub-job `job_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    Create,
    Start,
    Stop,
    Reboot,
    Resize,
    Delete,
    Reinstall,
    ChangeOs,
    Migrate,
    Redeploy,
    Restore,
    AttachVolume,
    DetachVolume,
    CreateVolume,
    ExtendVolume,
    DeleteVolume,
    AddNics,
    DeleteNics,
    ChangeVpc,
    ConfirmResize,
    RevertResize,
}

impl OperationKind {
    pub const ALL: [OperationKind; 21] = [
        OperationKind::Create,
        OperationKind::Start,
        OperationKind::Stop,
        OperationKind::Reboot,
        OperationKind::Resize,
        OperationKind::Delete,
        OperationKind::Reinstall,
        OperationKind::ChangeOs,
        OperationKind::Migrate,
        OperationKind::Redeploy,
        OperationKind::Restore,
        OperationKind::AttachVolume,
        OperationKind::DetachVolume,
        OperationKind::CreateVolume,
        OperationKind::ExtendVolume,
        OperationKind::DeleteVolume,
        OperationKind::AddNics,
        OperationKind::DeleteNics,
        OperationKind::ChangeVpc,
        OperationKind::ConfirmResize,
        OperationKind::RevertResize,
    ];

    /// Whether a job of this kind on one server is shown flat (`entities.server_id`), as most
    /// are, rather than with its sub-job, as `addNic` and `deleteNic` jobs are.
    pub const fn single_server_job(self) -> bool {
        !matches!(self, OperationKind::AddNics | OperationKind::DeleteNics)
    }

    /// Parent and sub-job `job_type` (contract 3.3).
    pub const fn job_types(self) -> (&'static str, &'static str) {
        match self {
            OperationKind::Create => ("createServer", "createSingleServer"),
            OperationKind::Start => ("startServer", "startSingleServer"),
            OperationKind::Stop => ("stopServer", "stopSingleServer"),
            OperationKind::Reboot => ("rebootServer", "rebootSingleServer"),
            OperationKind::Resize => ("resizeServer", "resizeSingleServer"),
            OperationKind::Delete => ("deleteServer", "deleteSingleServer"),
            OperationKind::Reinstall => ("reinstallServer", "reinstallSingleServer"),
            OperationKind::ChangeOs => ("changeServerOs", "changeSingleServerOs"),
            OperationKind::Migrate => ("migrateServer", "migrateSingleServer"),
            OperationKind::Redeploy => ("redeployServer", "redeploySingleServer"),
            OperationKind::Restore => ("restoreServer", "restoreSingleServer"),
            OperationKind::AttachVolume => ("attachVolume", "attachSingleVolume"),
            OperationKind::DetachVolume => ("detachVolume", "detachSingleVolume"),
            // EVS names a create of one disk `createVolume`, of several `batchCreateVolume`.
            OperationKind::CreateVolume => ("batchCreateVolume", "createVolume"),
            OperationKind::ExtendVolume => ("extendVolume", "extendVolume"),
            OperationKind::DeleteVolume => ("deleteVolume", "deleteVolume"),
            OperationKind::AddNics => ("addNic", "addSingleNic"),
            OperationKind::DeleteNics => ("deleteNic", "deleteSingleNic"),
            OperationKind::ChangeVpc => ("changeVpc", "changeSingleVpc"),
            OperationKind::ConfirmResize => ("confirmResizeServer", "confirmResizeSingleServer"),
            OperationKind::RevertResize => ("revertResizeServer", "revertResizeSingleServer"),
        }
    }
}

/// A job-based operation on one server, with what it needs to finish after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    Create,
    Start,
    Stop {
        hard: bool,
    },
    Reboot {
        hard: bool,
    },
    Resize {
        flavor_id: String,
        with_stop: bool,
        /// Nova's resize: the server keeps running and ends `resized` (`VERIFY_RESIZE`), its
        /// old flavor and state kept (`Server::resize_revert`) until a confirm or a revert.
        #[serde(default)]
        verify: bool,
    },
    /// `confirmResize`: the resized server becomes `vm_state` (what it was before the resize)
    /// on its new flavor.
    ConfirmResize {
        vm_state: VmState,
    },
    /// `revertResize`: the resized server becomes `vm_state` on its old flavor again.
    RevertResize {
        vm_state: VmState,
    },
    Delete,
    /// The system disk re-created from the server's image (`Server::rebuild` says with what).
    Reinstall {
        with_stop: bool,
    },
    /// The system disk re-created from another image (`Server::rebuild` names it).
    ChangeOs {
        with_stop: bool,
    },
    /// A move to another host, chosen when the migration was accepted: cold for a stopped
    /// server (`MigrateServer`), live for a running one (a scheduled event's).
    Migrate {
        live: bool,
    },
    /// A move off a faulty host: a running server is stopped, moved and started again.
    Redeploy,
    /// A delete that keeps the server in the recycle bin (a `deleteServer` job).
    Recycle,
    /// Out of the recycle bin again (`RevertRecycleBinServer`).
    Restore,
    /// A disk joins the server at `device` (a server sub-job that changes no server state).
    AttachVolume {
        volume_id: String,
        device: String,
    },
    /// A disk leaves the server.
    DetachVolume {
        volume_id: String,
    },
    /// An EVS disk is made (a sub-job on no server), with what its job shows of it.
    CreateVolume {
        volume_id: String,
        name: String,
        volume_type: String,
        size_gib: u32,
    },
    ExtendVolume {
        volume_id: String,
        new_size_gib: u32,
    },
    DeleteVolume {
        volume_id: String,
    },
    /// The NICs whose ports were made when the operation was accepted; they join the server at
    /// the end.
    AddNics {
        nics: Vec<Nic>,
    },
    /// The NICs that leave the server at the end: their ports are deleted, or only unbound
    /// where they are not `delete_on_termination`.
    DeleteNics {
        port_ids: Vec<String>,
    },
    /// The server moves to another VPC: its NIC (a primary one alone) leaves it at the end, as
    /// in `DeleteNics`, and `nics` (its new primary NIC), whose port was made or bound when
    /// the operation was accepted, take its place.
    ChangeVpc {
        vpc_id: String,
        nics: Vec<Nic>,
    },
}

/// Steps of the work on a disk: step 0 when it is accepted, step 1 when it is done.
pub const VOLUME_STEPS: usize = 2;

/// What applying a step does besides setting the states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    None,
    /// The server is running for the first time: record `launched_at`.
    Launch,
    /// The guest (re)boots: a pending password reset takes effect.
    Boot,
    /// The target flavor becomes the server's flavor.
    ApplyFlavor,
    /// A confirmed resize forgets the old flavor.
    ConfirmResize,
    /// A reverted resize puts the old flavor back.
    RevertResize,
    /// The re-created system disk holds the new image: the pending rebuild takes effect.
    ApplyImage,
    /// The server is in the recycle bin (the store notes until when).
    Recycle,
    /// The server is out of the recycle bin.
    Restore,
    /// The server is gone.
    Remove,
}

/// One state a server passes through. Step 0 of a plan is applied when the operation is
/// accepted; the engine applies the rest one by one, the last one leaving the server idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub vm_state: VmState,
    pub task_state: Option<TaskState>,
    pub effect: Effect,
}

const fn step(vm_state: VmState, task_state: Option<TaskState>, effect: Effect) -> Step {
    Step { vm_state, task_state, effect }
}

/// The states of a move to another host (a resize, a cold migration, a redeploy), which runs
/// on a stopped server.
const MOVE_STEPS: [Step; 4] = [
    step(VmState::Stopped, Some(TaskState::ResizePrep), Effect::None),
    step(VmState::Stopped, Some(TaskState::ResizeMigrating), Effect::None),
    step(VmState::Stopped, Some(TaskState::ResizeMigrated), Effect::None),
    step(VmState::Stopped, Some(TaskState::ResizeFinish), Effect::None),
];

/// The plan of work that needs the server stopped: a running server powers off first and, when
/// the work is done, powers on again straight from it (it never shows as idle mid-job, so no
/// other operation can slip in between); `done` is the effect of the step after the work.
fn stopped_for(from: VmState, work: impl IntoIterator<Item = Step>, done: Effect) -> Vec<Step> {
    use TaskState::{PoweringOff, PoweringOn};
    use VmState::{Active, Stopped};
    let mut steps = Vec::with_capacity(7);
    if from == Active {
        steps.push(step(Active, Some(PoweringOff), Effect::None));
    }
    steps.extend(work);
    if from == Active {
        steps.push(step(Stopped, Some(PoweringOn), done));
        steps.push(step(Active, None, Effect::Boot));
    } else {
        steps.push(step(Stopped, None, done));
    }
    steps
}

/// The view of a server the transition rules need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerState {
    pub vm_state: VmState,
    pub task_state: Option<TaskState>,
    pub locked: bool,
}

impl Operation {
    pub const fn kind(&self) -> OperationKind {
        match self {
            Operation::Create => OperationKind::Create,
            Operation::Start => OperationKind::Start,
            Operation::Stop { .. } => OperationKind::Stop,
            Operation::Reboot { .. } => OperationKind::Reboot,
            Operation::Resize { .. } => OperationKind::Resize,
            Operation::Delete => OperationKind::Delete,
            Operation::Reinstall { .. } => OperationKind::Reinstall,
            Operation::ChangeOs { .. } => OperationKind::ChangeOs,
            Operation::Migrate { .. } => OperationKind::Migrate,
            Operation::Redeploy => OperationKind::Redeploy,
            Operation::Recycle => OperationKind::Delete,
            Operation::Restore => OperationKind::Restore,
            Operation::AttachVolume { .. } => OperationKind::AttachVolume,
            Operation::DetachVolume { .. } => OperationKind::DetachVolume,
            Operation::CreateVolume { .. } => OperationKind::CreateVolume,
            Operation::ExtendVolume { .. } => OperationKind::ExtendVolume,
            Operation::DeleteVolume { .. } => OperationKind::DeleteVolume,
            Operation::AddNics { .. } => OperationKind::AddNics,
            Operation::DeleteNics { .. } => OperationKind::DeleteNics,
            Operation::ChangeVpc { .. } => OperationKind::ChangeVpc,
            Operation::ConfirmResize { .. } => OperationKind::ConfirmResize,
            Operation::RevertResize { .. } => OperationKind::RevertResize,
        }
    }

    /// The disk the operation works on, for the work on disks (which follows the volume's
    /// status machine, `domain::volumes`, not a plan of server states).
    pub fn volume_id(&self) -> Option<&str> {
        match self {
            Operation::AttachVolume { volume_id, .. }
            | Operation::DetachVolume { volume_id }
            | Operation::CreateVolume { volume_id, .. }
            | Operation::ExtendVolume { volume_id, .. }
            | Operation::DeleteVolume { volume_id } => Some(volume_id),
            _ => None,
        }
    }

    /// How many steps the operation has from `from`: its plan's, or the work on a disk's.
    pub fn steps(&self, from: VmState) -> usize {
        if self.volume_id().is_some() { VOLUME_STEPS } else { self.plan(from).len() }
    }

    /// Whether the operation may start on a server in this state (contract 5.5). This is the
    /// one place the preconditions live; every request path goes through it.
    pub fn check(&self, s: ServerState) -> Result<(), ErrorCode> {
        if s.task_state == Some(TaskState::Deleting) {
            return Err(if matches!(self, Operation::Delete) {
                ErrorCode::AlreadyDeleting
            } else {
                ErrorCode::WrongStatus
            });
        }
        if s.task_state.is_some() {
            return Err(ErrorCode::ServerBusy);
        }
        if s.locked {
            return Err(ErrorCode::ServerLocked);
        }
        let allowed = match self {
            Operation::Create => false,
            Operation::Start => s.vm_state == VmState::Stopped,
            Operation::Stop { .. } | Operation::Reboot { .. } => s.vm_state == VmState::Active,
            Operation::Resize { with_stop, verify, .. } => {
                s.vm_state == VmState::Stopped || ((*with_stop || *verify) && s.vm_state == VmState::Active)
            }
            Operation::ConfirmResize { .. } | Operation::RevertResize { .. } => s.vm_state == VmState::Resized,
            Operation::Delete => s.vm_state != VmState::Deleted,
            // Stopped, or where an earlier rebuild failed (ecsd's `error`); a running one only
            // with `withStopServer`.
            Operation::Reinstall { with_stop } | Operation::ChangeOs { with_stop } => {
                matches!(s.vm_state, VmState::Stopped | VmState::Error) || (*with_stop && s.vm_state == VmState::Active)
            }
            Operation::Migrate { live: false } => s.vm_state == VmState::Stopped,
            Operation::Migrate { live: true } => s.vm_state == VmState::Active,
            Operation::Redeploy | Operation::Recycle => matches!(s.vm_state, VmState::Active | VmState::Stopped),
            Operation::Restore => s.vm_state == VmState::SoftDeleted,
            // Nova attaches and detaches on an idle running or stopped server.
            Operation::AttachVolume { .. } | Operation::DetachVolume { .. } => {
                matches!(s.vm_state, VmState::Active | VmState::Stopped)
            }
            Operation::CreateVolume { .. } | Operation::ExtendVolume { .. } | Operation::DeleteVolume { .. } => false,
            Operation::AddNics { .. } | Operation::DeleteNics { .. } | Operation::ChangeVpc { .. } => {
                matches!(s.vm_state, VmState::Active | VmState::Stopped)
            }
        };
        if allowed { Ok(()) } else { Err(ErrorCode::WrongStatus) }
    }

    /// The states the server passes through, starting from `from` (its stable state when the
    /// operation was accepted). The work on disks passes through none: it moves a volume.
    pub fn plan(&self, from: VmState) -> Vec<Step> {
        use Effect as E;
        use TaskState::*;
        use VmState::*;
        match self {
            Operation::Create => vec![
                step(Building, Some(Scheduling), E::None),
                step(Building, Some(BlockDeviceMapping), E::None),
                step(Building, Some(Networking), E::None),
                step(Building, Some(Spawning), E::None),
                step(Active, None, E::Launch),
            ],
            Operation::Start => vec![step(Stopped, Some(PoweringOn), E::None), step(Active, None, E::Boot)],
            Operation::Stop { .. } => vec![step(Active, Some(PoweringOff), E::None), step(Stopped, None, E::None)],
            Operation::Reboot { hard: false } => vec![
                step(Active, Some(Rebooting), E::None),
                step(Active, Some(RebootPending), E::None),
                step(Active, Some(RebootStarted), E::None),
                step(Active, None, E::Boot),
            ],
            Operation::Reboot { hard: true } => vec![
                step(Active, Some(RebootingHard), E::None),
                step(Active, Some(RebootPendingHard), E::None),
                step(Active, Some(RebootStartedHard), E::None),
                step(Active, None, E::Boot),
            ],
            Operation::Resize { verify: true, .. } => {
                let mut steps: Vec<Step> = MOVE_STEPS.iter().map(|s| step(from, s.task_state, s.effect)).collect();
                steps.push(step(Resized, None, E::ApplyFlavor));
                steps
            }
            Operation::Resize { .. } => stopped_for(from, MOVE_STEPS, E::ApplyFlavor),
            Operation::ConfirmResize { vm_state } => {
                vec![step(Resized, Some(ResizeConfirming), E::None), step(*vm_state, None, E::ConfirmResize)]
            }
            Operation::RevertResize { vm_state } => {
                vec![step(Resized, Some(ResizeReverting), E::None), step(*vm_state, None, E::RevertResize)]
            }
            Operation::Delete => vec![step(from, Some(Deleting), E::None), step(Deleted, None, E::Remove)],
            Operation::Reinstall { .. } | Operation::ChangeOs { .. } => {
                // A failed rebuild is retried from `error`; a successful one leaves it stopped.
                let during = if from == Error { Error } else { Stopped };
                let rebuild = [
                    step(during, Some(Rebuilding), E::None),
                    step(during, Some(RebuildBlockDeviceMapping), E::None),
                    step(during, Some(RebuildSpawning), E::None),
                ];
                stopped_for(from, rebuild, E::ApplyImage)
            }
            Operation::Recycle => vec![step(from, Some(Deleting), E::None), step(SoftDeleted, None, E::Recycle)],
            Operation::Restore => vec![step(SoftDeleted, Some(Restoring), E::None), step(Stopped, None, E::Restore)],
            Operation::Migrate { live: true } => {
                vec![step(Active, Some(Migrating), E::None), step(Active, None, E::None)]
            }
            Operation::Migrate { live: false } | Operation::Redeploy => stopped_for(from, MOVE_STEPS, E::None),
            Operation::AttachVolume { .. }
            | Operation::DetachVolume { .. }
            | Operation::CreateVolume { .. }
            | Operation::ExtendVolume { .. }
            | Operation::DeleteVolume { .. } => vec![],
            // The server stays as it is while its NICs change; `networking` keeps other
            // operations off it meanwhile.
            Operation::AddNics { .. } | Operation::DeleteNics { .. } | Operation::ChangeVpc { .. } => {
                vec![step(from, Some(Networking), E::None), step(from, None, E::None)]
            }
        }
    }
}

/// Operations that change a server at once, without a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstantOperation {
    /// Allowed on a running or stopped server that is idle: the new password is recorded and
    /// takes effect at the next start or reboot.
    ResetPassword,
    /// Allowed in any stable status, on an idle server.
    Rename,
    /// Setting or cancelling the scheduled deletion: any stable status, idle.
    AutoTerminate,
    /// Switching serial-console login on or off: any stable status, idle.
    SerialConsole,
    /// Adding the server to the monitoring list: any stable status, idle.
    RegisterMonitor,
    /// Converting to yearly/monthly billing: a running or stopped server, idle.
    ChangeChargeMode,
    /// A kernel dump (NMI): only a running (or errored) server, idle, as the docs list
    /// (ACTIVE, PAUSED, RESCUED, RESIZED, ERROR; ecsd has no paused, rescued or resized state).
    TriggerCrashDump,
    /// Metadata and its service's options: an idle running or stopped server (vm_state
    /// `active` or `stopped`, as Nova requires with no task running).
    UpdateMetadata,
    /// Joining an ECS group, which may move the server to another host: an idle running or
    /// stopped server.
    JoinGroup,
    /// Whether a disk is deleted with the server (`UpdateServerBlockDevice`): any stable
    /// status, idle.
    UpdateBlockDevice,
    /// Whether a NIC's port is deleted when it leaves (`UpdateServerInterface`): any stable
    /// status, idle.
    UpdateInterface,
    /// A new address for the primary NIC (`ChangeServerNetworkInterface`): only a stopped,
    /// idle server, as the API's constraints say.
    ChangeNetworkInterface,
}

impl InstantOperation {
    pub fn check(self, s: ServerState) -> Result<(), ErrorCode> {
        if s.task_state == Some(TaskState::Deleting) || matches!(s.vm_state, VmState::Deleted | VmState::SoftDeleted) {
            return Err(ErrorCode::WrongStatus);
        }
        if s.locked {
            return Err(ErrorCode::ServerLocked);
        }
        if s.task_state.is_some() {
            return Err(ErrorCode::ServerBusy);
        }
        let allowed = match self {
            InstantOperation::Rename
            | InstantOperation::AutoTerminate
            | InstantOperation::SerialConsole
            | InstantOperation::RegisterMonitor
            | InstantOperation::UpdateBlockDevice
            | InstantOperation::UpdateInterface => true,
            InstantOperation::ChangeNetworkInterface => s.vm_state == VmState::Stopped,
            InstantOperation::ResetPassword
            | InstantOperation::ChangeChargeMode
            | InstantOperation::UpdateMetadata
            | InstantOperation::JoinGroup => matches!(s.vm_state, VmState::Active | VmState::Stopped),
            InstantOperation::TriggerCrashDump => matches!(s.vm_state, VmState::Active | VmState::Error),
        };
        if allowed { Ok(()) } else { Err(ErrorCode::WrongStatus) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idle(vm_state: VmState) -> ServerState {
        ServerState { vm_state, task_state: None, locked: false }
    }

    #[test]
    fn status_follows_the_contract_mapping() {
        assert_eq!(Status::of(VmState::Active, Some(TaskState::PoweringOff)), Status::Active);
        assert_eq!(Status::of(VmState::Stopped, Some(TaskState::PoweringOn)), Status::Shutoff);
        assert_eq!(Status::of(VmState::Active, Some(TaskState::Deleting)), Status::Active);
        assert_eq!(Status::of(VmState::Active, Some(TaskState::RebootStarted)), Status::Reboot);
        assert_eq!(Status::of(VmState::Active, Some(TaskState::RebootingHard)), Status::HardReboot);
        assert_eq!(Status::of(VmState::Stopped, Some(TaskState::ResizeMigrating)), Status::Resize);
        assert_eq!(Status::of(VmState::Building, Some(TaskState::Spawning)), Status::Build);
        assert_eq!(Status::of(VmState::Building, None), Status::Build);
    }

    #[test]
    fn a_nova_resize_keeps_the_server_as_it_was_and_waits_in_verify_resize() {
        let resize = Operation::Resize { flavor_id: "s6.large.2".into(), with_stop: false, verify: true };
        for from in [VmState::Active, VmState::Stopped] {
            assert_eq!(resize.check(idle(from)), Ok(()));
            let plan = resize.plan(from);
            assert!(
                plan[..plan.len() - 1]
                    .iter()
                    .all(|s| s.vm_state == from && Status::of(from, s.task_state) == Status::Resize)
            );
            let last = plan[plan.len() - 1];
            assert_eq!((last.vm_state, last.task_state, last.effect), (VmState::Resized, None, Effect::ApplyFlavor));
            assert_eq!(Status::of(last.vm_state, last.task_state), Status::VerifyResize);
        }
        let ecs = Operation::Resize { flavor_id: "s6.large.2".into(), with_stop: false, verify: false };
        assert_eq!(ecs.check(idle(VmState::Active)), Err(ErrorCode::WrongStatus));
        assert!(ecs.plan(VmState::Stopped).iter().all(|s| s.vm_state != VmState::Resized));

        let confirm = Operation::ConfirmResize { vm_state: VmState::Active };
        let revert = Operation::RevertResize { vm_state: VmState::Stopped };
        for done in [&confirm, &revert] {
            assert_eq!(done.check(idle(VmState::Resized)), Ok(()));
            assert_eq!(done.check(idle(VmState::Active)), Err(ErrorCode::WrongStatus));
            assert_eq!(resize.check(idle(VmState::Resized)), Err(ErrorCode::WrongStatus));
        }
        let reverting = revert.plan(VmState::Resized);
        assert_eq!(Status::of(reverting[0].vm_state, reverting[0].task_state), Status::RevertResize);
        assert_eq!((reverting[1].vm_state, reverting[1].effect), (VmState::Stopped, Effect::RevertResize));
        let confirming = confirm.plan(VmState::Resized);
        assert_eq!(Status::of(confirming[0].vm_state, confirming[0].task_state), Status::VerifyResize);
        assert_eq!((confirming[1].vm_state, confirming[1].effect), (VmState::Active, Effect::ConfirmResize));
        for operation in [Operation::Start, Operation::Stop { hard: false }, Operation::Reboot { hard: false }] {
            assert_eq!(operation.check(idle(VmState::Resized)), Err(ErrorCode::WrongStatus));
        }
    }

    #[test]
    fn nics_change_on_an_idle_running_or_stopped_server_which_stays_as_it_is() {
        let add = Operation::AddNics { nics: vec![] };
        for vm_state in [VmState::Active, VmState::Stopped] {
            assert_eq!(add.check(idle(vm_state)), Ok(()));
            let plan = add.plan(vm_state);
            assert_eq!(plan[0].task_state, Some(TaskState::Networking));
            assert!(plan.iter().all(|s| s.vm_state == vm_state));
        }
        assert_eq!(add.check(idle(VmState::Error)), Err(ErrorCode::WrongStatus));
        let busy = ServerState { task_state: Some(TaskState::Networking), ..idle(VmState::Active) };
        assert_eq!(Operation::DeleteNics { port_ids: vec![] }.check(busy), Err(ErrorCode::ServerBusy));
        assert_eq!(Operation::Stop { hard: false }.check(busy), Err(ErrorCode::ServerBusy));
    }

    #[test]
    fn start_needs_a_stopped_server_and_stop_a_running_one() {
        assert_eq!(Operation::Start.check(idle(VmState::Stopped)), Ok(()));
        assert_eq!(Operation::Start.check(idle(VmState::Active)), Err(ErrorCode::WrongStatus));
        assert_eq!(Operation::Stop { hard: false }.check(idle(VmState::Active)), Ok(()));
        assert_eq!(Operation::Stop { hard: true }.check(idle(VmState::Stopped)), Err(ErrorCode::WrongStatus));
        assert_eq!(Operation::Reboot { hard: false }.check(idle(VmState::Stopped)), Err(ErrorCode::WrongStatus));
        assert_eq!(Operation::Start.check(idle(VmState::Building)), Err(ErrorCode::WrongStatus));
    }

    #[test]
    fn a_busy_server_refuses_every_operation_and_a_deleting_one_says_so() {
        let busy = ServerState { task_state: Some(TaskState::PoweringOff), ..idle(VmState::Active) };
        for op in [Operation::Start, Operation::Stop { hard: true }, Operation::Delete] {
            assert_eq!(op.check(busy), Err(ErrorCode::ServerBusy));
        }
        let deleting = ServerState { task_state: Some(TaskState::Deleting), ..idle(VmState::Active) };
        assert_eq!(Operation::Delete.check(deleting), Err(ErrorCode::AlreadyDeleting));
        assert_eq!(Operation::Stop { hard: false }.check(deleting), Err(ErrorCode::WrongStatus));
    }

    #[test]
    fn a_locked_server_refuses_operations() {
        let locked = ServerState { locked: true, ..idle(VmState::Active) };
        assert_eq!(Operation::Stop { hard: false }.check(locked), Err(ErrorCode::ServerLocked));
    }

    #[test]
    fn resize_needs_a_stopped_server_unless_it_may_stop_it() {
        let plain = Operation::Resize { flavor_id: "s6.large.2".into(), with_stop: false, verify: false };
        let with_stop = Operation::Resize { flavor_id: "s6.large.2".into(), with_stop: true, verify: false };
        assert_eq!(plain.check(idle(VmState::Stopped)), Ok(()));
        assert_eq!(plain.check(idle(VmState::Active)), Err(ErrorCode::WrongStatus));
        assert_eq!(with_stop.check(idle(VmState::Active)), Ok(()));
    }

    #[test]
    fn every_plan_ends_idle_and_stays_busy_until_then() {
        let ops = [
            (Operation::Create, VmState::Building),
            (Operation::Start, VmState::Stopped),
            (Operation::Stop { hard: false }, VmState::Active),
            (Operation::Reboot { hard: false }, VmState::Active),
            (Operation::Reboot { hard: true }, VmState::Active),
            (Operation::Resize { flavor_id: "x".into(), with_stop: true, verify: false }, VmState::Active),
            (Operation::Resize { flavor_id: "x".into(), with_stop: false, verify: false }, VmState::Stopped),
            (Operation::Delete, VmState::Stopped),
            (Operation::Reinstall { with_stop: true }, VmState::Active),
            (Operation::Reinstall { with_stop: false }, VmState::Error),
            (Operation::ChangeOs { with_stop: false }, VmState::Stopped),
            (Operation::Migrate { live: false }, VmState::Stopped),
            (Operation::Migrate { live: true }, VmState::Active),
            (Operation::Redeploy, VmState::Active),
            (Operation::Redeploy, VmState::Stopped),
            (Operation::Recycle, VmState::Active),
            (Operation::Restore, VmState::SoftDeleted),
        ];
        for (op, from) in ops {
            let plan = op.plan(from);
            let (last, busy) = plan.split_last().expect("a plan has steps");
            assert_eq!(last.task_state, None, "{op:?} ends idle");
            assert!(busy.iter().all(|s| s.task_state.is_some()), "{op:?} stays busy until it ends");
        }
    }

    #[test]
    fn resize_of_a_running_server_stops_it_applies_the_flavor_and_starts_it_again() {
        let op = Operation::Resize { flavor_id: "x".into(), with_stop: true, verify: false };
        let plan = op.plan(VmState::Active);
        assert_eq!(plan[0].task_state, Some(TaskState::PoweringOff));
        assert!(plan.iter().any(|s| s.effect == Effect::ApplyFlavor));
        assert_eq!(plan.last().map(|s| s.vm_state), Some(VmState::Active));
    }

    #[test]
    fn password_reset_needs_an_idle_running_or_stopped_server_and_rename_an_idle_one() {
        let reset = InstantOperation::ResetPassword;
        assert_eq!(reset.check(idle(VmState::Active)), Ok(()));
        assert_eq!(reset.check(idle(VmState::Stopped)), Ok(()));
        assert_eq!(reset.check(idle(VmState::Building)), Err(ErrorCode::WrongStatus));
        let stopping = ServerState { task_state: Some(TaskState::PoweringOff), ..idle(VmState::Active) };
        assert_eq!(reset.check(stopping), Err(ErrorCode::ServerBusy));
        assert_eq!(InstantOperation::Rename.check(stopping), Err(ErrorCode::ServerBusy));
        assert_eq!(InstantOperation::Rename.check(idle(VmState::Building)), Ok(()));
        let deleting = ServerState { task_state: Some(TaskState::Deleting), ..idle(VmState::Active) };
        assert_eq!(InstantOperation::Rename.check(deleting), Err(ErrorCode::WrongStatus));
        let locked = ServerState { locked: true, ..idle(VmState::Active) };
        assert_eq!(InstantOperation::Rename.check(locked), Err(ErrorCode::ServerLocked));
    }

    #[test]
    fn a_crash_dump_needs_a_running_server_and_a_charge_mode_change_a_running_or_stopped_one() {
        let dump = InstantOperation::TriggerCrashDump;
        assert_eq!(dump.check(idle(VmState::Active)), Ok(()));
        assert_eq!(dump.check(idle(VmState::Error)), Ok(()));
        assert_eq!(dump.check(idle(VmState::Stopped)), Err(ErrorCode::WrongStatus));
        assert_eq!(dump.check(idle(VmState::Building)), Err(ErrorCode::WrongStatus));
        let rebooting = ServerState { task_state: Some(TaskState::Rebooting), ..idle(VmState::Active) };
        assert_eq!(dump.check(rebooting), Err(ErrorCode::ServerBusy));
        let charge = InstantOperation::ChangeChargeMode;
        assert_eq!(charge.check(idle(VmState::Stopped)), Ok(()));
        assert_eq!(charge.check(idle(VmState::Building)), Err(ErrorCode::WrongStatus));
        assert_eq!(InstantOperation::AutoTerminate.check(idle(VmState::Building)), Ok(()));
    }

    #[test]
    fn metadata_and_group_changes_need_an_idle_running_or_stopped_unlocked_server() {
        for operation in [InstantOperation::UpdateMetadata, InstantOperation::JoinGroup] {
            assert_eq!(operation.check(idle(VmState::Active)), Ok(()));
            assert_eq!(operation.check(idle(VmState::Stopped)), Ok(()));
            assert_eq!(operation.check(idle(VmState::Building)), Err(ErrorCode::WrongStatus));
            let stopping = ServerState { task_state: Some(TaskState::PoweringOff), ..idle(VmState::Active) };
            assert_eq!(operation.check(stopping), Err(ErrorCode::ServerBusy));
            let locked = ServerState { locked: true, ..idle(VmState::Stopped) };
            assert_eq!(operation.check(locked), Err(ErrorCode::ServerLocked));
        }
    }

    #[test]
    fn a_rebuild_needs_a_stopped_or_failed_server_unless_it_may_stop_it_and_shows_as_rebuild() {
        let plain = Operation::ChangeOs { with_stop: false };
        assert_eq!(plain.check(idle(VmState::Stopped)), Ok(()));
        assert_eq!(plain.check(idle(VmState::Error)), Ok(()));
        assert_eq!(plain.check(idle(VmState::Active)), Err(ErrorCode::WrongStatus));
        assert_eq!(Operation::Reinstall { with_stop: true }.check(idle(VmState::Active)), Ok(()));
        assert_eq!(plain.check(idle(VmState::Building)), Err(ErrorCode::WrongStatus));
        let plan = Operation::Reinstall { with_stop: true }.plan(VmState::Active);
        assert_eq!(Status::of(plan[1].vm_state, plan[1].task_state), Status::Rebuild);
        assert!(plan.iter().any(|s| s.effect == Effect::ApplyImage));
        assert_eq!(plan.last().map(|s| s.vm_state), Some(VmState::Active));
        let repaired = plain.plan(VmState::Error);
        assert_eq!(Status::of(repaired[0].vm_state, repaired[0].task_state), Status::Rebuild);
        assert_eq!(repaired.last().map(|s| s.vm_state), Some(VmState::Stopped));
    }

    #[test]
    fn a_cold_migration_needs_a_stopped_server_and_a_redeploy_keeps_the_power_state() {
        assert_eq!(Operation::Migrate { live: false }.check(idle(VmState::Stopped)), Ok(()));
        assert_eq!(Operation::Migrate { live: false }.check(idle(VmState::Active)), Err(ErrorCode::WrongStatus));
        assert_eq!(Operation::Migrate { live: true }.check(idle(VmState::Active)), Ok(()));
        let live = Operation::Migrate { live: true }.plan(VmState::Active);
        assert_eq!(Status::of(live[0].vm_state, live[0].task_state), Status::Migrating);
        assert_eq!(Operation::Redeploy.check(idle(VmState::Error)), Err(ErrorCode::WrongStatus));
        for from in [VmState::Active, VmState::Stopped] {
            assert_eq!(Operation::Redeploy.check(idle(from)), Ok(()));
            assert_eq!(Operation::Redeploy.plan(from).last().map(|s| s.vm_state), Some(from));
        }
    }

    #[test]
    fn a_recycled_server_refuses_everything_but_a_restore_or_a_delete() {
        let binned = idle(VmState::SoftDeleted);
        assert_eq!(Status::of(VmState::SoftDeleted, None), Status::SoftDeleted);
        assert_eq!(Operation::Restore.check(binned), Ok(()));
        assert_eq!(Operation::Delete.check(binned), Ok(()));
        assert_eq!(Operation::Recycle.check(binned), Err(ErrorCode::WrongStatus));
        assert_eq!(Operation::Start.check(binned), Err(ErrorCode::WrongStatus));
        assert_eq!(InstantOperation::Rename.check(binned), Err(ErrorCode::WrongStatus));
        assert_eq!(Operation::Restore.check(idle(VmState::Stopped)), Err(ErrorCode::WrongStatus));
        assert_eq!(Operation::Restore.plan(VmState::SoftDeleted).last().map(|s| s.vm_state), Some(VmState::Stopped));
    }

    #[test]
    fn names_round_trip() {
        for t in TaskState::ALL {
            assert_eq!(TaskState::parse(t.as_str()), Some(t));
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }
}
