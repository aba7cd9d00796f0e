//! EVS disks (`CreateVolume`, `ShowVolume`, `ListVolumes`, `UpdateVolume`, `ResizeVolume`,
//! `DeleteVolume`) and the ECS operations on a server's disks (`AttachServerVolume`,
//! `DetachServerVolume`, the block device reads and update, the batch attach and detach of a
//! shared disk). Work that takes time is a job whose sub-jobs the engine finishes
//! (`engine::disks`); what a request accepts is written in its one transaction.

use super::Ecs;
use super::control::save_rules;
use super::servers::{PlannedSubJob, new_job, refusal};
use crate::domain::batch::{self, Duplicates};
use crate::domain::faults::{FaultOperation, LoadedRules, Stage};
use crate::domain::job::Failure;
use crate::domain::server::{Server, Timestamp, Volume as BlockDevice};
use crate::domain::status::{InstantOperation, Operation, OperationKind, VmState};
use crate::domain::volumes::{self, CloudVolume, NewVolumes, VolumeFilter, VolumeStatus};
use crate::domain::{Error, ErrorCode, Result};
use crate::engine::{Wakeup, apply};
use crate::store::{WriteTx, read, transact};

/// `UpdateVolume`: the new name, the new description, or both.
pub struct VolumeUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// What `CreateVolume` answers.
pub struct VolumesAccepted {
    pub job_id: String,
    pub volume_ids: Vec<String>,
}

fn volume_not_found(id: &str) -> Error {
    Error::new(ErrorCode::VolumeNotFound, format!("Resource(Volume, Snapshot, Backup .etc) cound not be found: {id}."))
}

/// A fault rule's precheck for this occasion (a server, or the whole request), as its error.
fn precheck(
    rules: &mut LoadedRules,
    operation: FaultOperation,
    project_id: &str,
    server: Option<&Server>,
) -> Result<()> {
    match rules
        .fire(Stage::Precheck, operation, project_id, server)
        .and_then(|(_, effect)| effect.failure().map(|(code, message)| Error::injected(400, code, message)))
    {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// One sub-job's part of a job on disks, not yet checked.
struct Planned {
    server_id: String,
    operation: Operation,
    from: VmState,
    refused: Option<Failure>,
}

impl Ecs {
    /// Runs `work` in one transaction with the fault rules loaded, keeping their counters even
    /// when `work` refuses (an `Ok(Err(..))`); a store failure rolls everything back.
    fn with_rules<T>(
        &self,
        mut work: impl FnMut(&mut dyn WriteTx, &mut LoadedRules, Timestamp) -> Result<Result<T>>,
    ) -> Result<T> {
        transact(self.store.as_ref(), |tx| {
            // Read under the write lock, so times follow the order in which operations commit.
            let now = self.clock.now();
            let mut rules = LoadedRules::new(tx.fault_rules()?);
            let outcome = work(tx, &mut rules, now)?;
            save_rules(tx, &rules)?;
            Ok(outcome)
        })?
    }

    /// Inserts the job of accepted work on disks and hands it to the engine; returns its id.
    fn start_disk_job(
        &self,
        tx: &mut dyn WriteTx,
        project_id: &str,
        kind: OperationKind,
        planned: Vec<Planned>,
        single: bool,
        now: Timestamp,
    ) -> Result<(String, Vec<Wakeup>)> {
        let planned = planned
            .into_iter()
            .map(|p| PlannedSubJob { server_id: p.server_id, operation: p.operation, from: p.from, refused: p.refused })
            .collect();
        let job = new_job(project_id, kind, planned, single, now);
        crate::audit::insert_job(tx, &job)?;
        let wakeups = job.sub_jobs.iter().filter(|s| !s.status.is_finished()).map(Wakeup::of).collect();
        Ok((job.id, wakeups))
    }

    pub fn create_volumes(&self, project_id: &str, request: &NewVolumes) -> Result<VolumesAccepted> {
        let size = request.validate(&self.catalogue)?;
        let (accepted, wakeups) = self.with_rules(|tx, rules, now| {
            if let Err(refused) = precheck(rules, FaultOperation::CreateVolume, project_id, None) {
                return Ok(Err(refused));
            }
            let disks = request.build(project_id, size, now);
            tx.insert_volumes(&disks)?;
            let planned = disks
                .iter()
                .map(|disk| Planned {
                    server_id: String::new(),
                    operation: Operation::CreateVolume {
                        volume_id: disk.id.clone(),
                        name: disk.name.clone(),
                        volume_type: disk.volume_type.clone(),
                        size_gib: disk.size_gib,
                    },
                    from: VmState::Building,
                    refused: None,
                })
                .collect();
            let (job_id, wakeups) =
                self.start_disk_job(tx, project_id, OperationKind::CreateVolume, planned, disks.len() == 1, now)?;
            let volume_ids = disks.into_iter().map(|d| d.id).collect();
            Ok(Ok((VolumesAccepted { job_id, volume_ids }, wakeups)))
        })?;
        tracing::info!(%project_id, job_id = %accepted.job_id, volumes = accepted.volume_ids.len(), "volume create accepted");
        self.engine.wake(wakeups);
        Ok(accepted)
    }

    pub fn show_volume(&self, project_id: &str, volume_id: &str) -> Result<CloudVolume> {
        read(self.store.as_ref(), |tx| tx.volume(project_id, volume_id))?.ok_or_else(|| volume_not_found(volume_id))
    }

    pub fn list_volumes(&self, project_id: &str, filter: &VolumeFilter) -> Result<(u64, Vec<CloudVolume>)> {
        read(self.store.as_ref(), |tx| tx.list_volumes(project_id, filter))?.ok_or_else(|| {
            Error::new(ErrorCode::EvsInvalidMarker, "invalid filter marker! The marker is not a disk of the project.")
        })
    }

    pub fn update_volume(&self, project_id: &str, volume_id: &str, update: &VolumeUpdate) -> Result<CloudVolume> {
        if update.name.is_none() && update.description.is_none() {
            return Err(Error::of(ErrorCode::EvsNothingToUpdate));
        }
        if let Some(name) = &update.name {
            volumes::check_name(name)?;
        }
        if let Some(description) = &update.description {
            volumes::check_description(description)?;
        }
        transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            let mut volume = tx.volume(project_id, volume_id)?.ok_or_else(|| volume_not_found(volume_id))?;
            if let Some(name) = &update.name {
                volume.name = name.clone();
            }
            if let Some(description) = &update.description {
                volume.description = description.clone();
            }
            volume.updated = now;
            tx.update_volume(&volume)?;
            Ok(volume)
        })
    }

    /// `ResizeVolume` (`os-extend`): the disk is `extending` until the job ends.
    pub fn resize_volume(&self, project_id: &str, volume_id: &str, new_size_gib: u32) -> Result<String> {
        self.volume_job(project_id, volume_id, FaultOperation::ResizeVolume, |volume| {
            volumes::check_extend(volume, new_size_gib)?;
            Ok((
                VolumeStatus::Extending,
                OperationKind::ExtendVolume,
                Operation::ExtendVolume { volume_id: volume.id.clone(), new_size_gib },
            ))
        })
    }

    /// `DeleteVolume`: only a disk nothing uses; it is `deleting` until the job ends.
    pub fn delete_volume(&self, project_id: &str, volume_id: &str) -> Result<String> {
        self.volume_job(project_id, volume_id, FaultOperation::DeleteVolume, |volume| {
            volumes::check_delete(volume)?;
            Ok((
                VolumeStatus::Deleting,
                OperationKind::DeleteVolume,
                Operation::DeleteVolume { volume_id: volume.id.clone() },
            ))
        })
    }

    /// A job on one disk of the EVS API: `check` says the status it enters and its work.
    fn volume_job(
        &self,
        project_id: &str,
        volume_id: &str,
        fault: FaultOperation,
        check: impl Fn(&CloudVolume) -> Result<(VolumeStatus, OperationKind, Operation)>,
    ) -> Result<String> {
        let (job_id, wakeups) = self.with_rules(|tx, rules, now| {
            let Some(mut volume) = tx.volume(project_id, volume_id)? else {
                return Ok(Err(volume_not_found(volume_id)));
            };
            let (status, kind, operation) = match check(&volume).and_then(|checked| {
                precheck(rules, fault, project_id, None)?;
                Ok(checked)
            }) {
                Ok(checked) => checked,
                Err(refused) => return Ok(Err(refused)),
            };
            volume.status = status;
            volume.updated = now;
            tx.update_volume(&volume)?;
            let planned = vec![Planned { server_id: String::new(), operation, from: VmState::Active, refused: None }];
            Ok(Ok(self.start_disk_job(tx, project_id, kind, planned, true, now)?))
        })?;
        tracing::info!(%project_id, %job_id, %volume_id, "volume job accepted");
        self.engine.wake(wakeups);
        Ok(job_id)
    }

    /// Checks that `volume` may join `server`; returns the device it gets.
    fn check_attach(
        &self,
        server: &Server,
        volume: &CloudVolume,
        device: Option<&str>,
        rules: &mut LoadedRules,
    ) -> Result<String> {
        let operation = Operation::AttachVolume { volume_id: volume.id.clone(), device: String::new() };
        operation.check(server.state()).map_err(|code| refusal(code, server))?;
        volumes::check_attach(server, volume)?;
        let device = volumes::choose_device(server, device)?;
        precheck(rules, FaultOperation::AttachVolume, &server.project_id, Some(server))?;
        Ok(device)
    }

    /// What an accepted attach writes at once: the server gains the block device, the disk is
    /// `attaching`. Returns the sub-job's work.
    fn begin_attach(
        &self,
        tx: &mut dyn WriteTx,
        server: &Server,
        volume: &mut CloudVolume,
        device: String,
        now: Timestamp,
    ) -> Result<Operation> {
        let mut attached = server.clone();
        attached.volumes.push(BlockDevice {
            id: volume.id.clone(),
            volume_type: volume.volume_type.clone(),
            size_gib: volume.size_gib,
            boot_index: (device == volumes::device_name(0)).then_some(0),
            device: device.clone(),
            delete_on_termination: false,
        });
        attached.updated = now;
        apply::save(tx, &self.catalogue, &attached, server.task_state)?;
        volume.status = VolumeStatus::Attaching;
        volume.updated = now;
        Ok(Operation::AttachVolume { volume_id: volume.id.clone(), device })
    }

    /// `AttachServerVolume`: the job's id, or `None` for a dry run that passed.
    pub fn attach_server_volume(
        &self,
        project_id: &str,
        server_id: &str,
        volume_id: &str,
        device: Option<&str>,
        dry_run: bool,
    ) -> Result<Option<String>> {
        let outcome = self.with_rules(|tx, rules, now| {
            let server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            let Some(mut volume) = tx.volume(project_id, volume_id)? else {
                return Ok(Err(Error::new(
                    ErrorCode::VolumeNotAvailable,
                    format!("The disk {volume_id} does not exist."),
                )));
            };
            let device = match self.check_attach(&server, &volume, device, rules) {
                Ok(device) if !dry_run => device,
                Ok(_) => return Ok(Ok(None)),
                Err(refused) => return Ok(Err(refused)),
            };
            let operation = self.begin_attach(tx, &server, &mut volume, device, now)?;
            tx.update_volume(&volume)?;
            let planned =
                vec![Planned { server_id: server.id.clone(), operation, from: server.vm_state, refused: None }];
            Ok(Ok(Some(self.start_disk_job(tx, project_id, OperationKind::AttachVolume, planned, true, now)?)))
        })?;
        Ok(outcome.map(|(job_id, wakeups)| {
            tracing::info!(%project_id, %job_id, %server_id, %volume_id, "attach accepted");
            self.engine.wake(wakeups);
            job_id
        }))
    }

    /// `BatchAttachSharableVolumes`: one shared disk to several servers, one sub-job each; a
    /// server that refuses it gets a failed sub-job, the others go on.
    pub fn batch_attach_sharable_volumes(
        &self,
        project_id: &str,
        volume_id: &str,
        servers: Vec<(String, Option<String>)>,
    ) -> Result<String> {
        let ids = batch::server_ids(
            servers.iter().map(|(id, _)| id.clone()).collect(),
            volumes::MAX_SERVER_DISKS,
            Duplicates::Refuse,
        )?;
        let (job_id, wakeups) = self.with_rules(|tx, rules, now| {
            let found = tx.servers(project_id, &ids)?;
            if let Some(missing) = ids.iter().find(|id| !found.contains_key(*id)) {
                return Ok(Err(Error::server_not_found(missing)));
            }
            let Some(mut volume) = tx.volume(project_id, volume_id)? else {
                return Ok(Err(Error::new(
                    ErrorCode::VolumeNotAvailable,
                    format!("The disk {volume_id} does not exist."),
                )));
            };
            if !volume.multiattach {
                return Ok(Err(Error::new(
                    ErrorCode::VolumeNotAvailable,
                    format!("The disk {volume_id} is not shared: attach it with AttachServerVolume."),
                )));
            }
            let before = volume.status;
            let mut planned = Vec::with_capacity(servers.len());
            for (server_id, device) in &servers {
                let server = &found[server_id];
                // Every server sees the disk as the request found it.
                volume.status = before;
                let (operation, refused) = match self.check_attach(server, &volume, device.as_deref(), rules) {
                    Ok(device) => (self.begin_attach(tx, server, &mut volume, device, now)?, None),
                    Err(error) => (
                        Operation::AttachVolume { volume_id: volume.id.clone(), device: String::new() },
                        Some(Failure { code: error.wire_code().into(), reason: error.message }),
                    ),
                };
                planned.push(Planned { server_id: server.id.clone(), operation, from: server.vm_state, refused });
            }
            if planned.iter().any(|p| p.refused.is_none()) {
                volume.status = VolumeStatus::Attaching;
            } else {
                volume.status = before;
            }
            tx.update_volume(&volume)?;
            Ok(Ok(self.start_disk_job(tx, project_id, OperationKind::AttachVolume, planned, false, now)?))
        })?;
        tracing::info!(%project_id, %job_id, %volume_id, servers = ids.len(), "batch attach accepted");
        self.engine.wake(wakeups);
        Ok(job_id)
    }

    /// Checks that `volume_id` may leave `server` and marks the disk `detaching`.
    fn accept_detach(
        &self,
        server: &Server,
        volume: Option<&mut CloudVolume>,
        volume_id: &str,
        rules: &mut LoadedRules,
        now: Timestamp,
    ) -> Result<Operation> {
        let operation = Operation::DetachVolume { volume_id: volume_id.to_string() };
        operation.check(server.state()).map_err(|code| refusal(code, server))?;
        volumes::check_detach(server, volume.as_deref(), volume_id)?;
        precheck(rules, FaultOperation::DetachVolume, &server.project_id, Some(server))?;
        if let Some(volume) = volume {
            volume.status = VolumeStatus::Detaching;
            volume.updated = now;
        }
        Ok(operation)
    }

    /// `DetachServerVolume`.
    pub fn detach_server_volume(&self, project_id: &str, server_id: &str, volume_id: &str) -> Result<String> {
        let (job_id, wakeups) = self.with_rules(|tx, rules, now| {
            let server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            let mut volume = tx.volume(project_id, volume_id)?;
            let operation = match self.accept_detach(&server, volume.as_mut(), volume_id, rules, now) {
                Ok(operation) => operation,
                Err(refused) => return Ok(Err(refused)),
            };
            if let Some(volume) = &volume {
                tx.update_volume(volume)?;
            }
            let planned =
                vec![Planned { server_id: server.id.clone(), operation, from: server.vm_state, refused: None }];
            Ok(Ok(self.start_disk_job(tx, project_id, OperationKind::DetachVolume, planned, true, now)?))
        })?;
        tracing::info!(%project_id, %job_id, %server_id, %volume_id, "detach accepted");
        self.engine.wake(wakeups);
        Ok(job_id)
    }

    /// `BatchDetachVolumes`: one disk from several servers, one sub-job each.
    pub fn batch_detach_volumes(&self, project_id: &str, volume_id: &str, server_ids: Vec<String>) -> Result<String> {
        let ids = batch::server_ids(server_ids, volumes::MAX_SERVER_DISKS, Duplicates::Refuse)?;
        let (job_id, wakeups) = self.with_rules(|tx, rules, now| {
            let found = tx.servers(project_id, &ids)?;
            if let Some(missing) = ids.iter().find(|id| !found.contains_key(*id)) {
                return Ok(Err(Error::server_not_found(missing)));
            }
            let Some(mut volume) = tx.volume(project_id, volume_id)? else {
                return Ok(Err(Error::new(
                    ErrorCode::VolumeNotAttached,
                    format!("The disk {volume_id} does not exist."),
                )));
            };
            let before = volume.status;
            let mut planned = Vec::with_capacity(ids.len());
            let mut accepted = false;
            for id in &ids {
                let server = &found[id];
                volume.status = before;
                let (operation, refused) = match self.accept_detach(server, Some(&mut volume), volume_id, rules, now) {
                    Ok(operation) => {
                        accepted = true;
                        (operation, None)
                    }
                    Err(error) => (
                        Operation::DetachVolume { volume_id: volume_id.to_string() },
                        Some(Failure { code: error.wire_code().into(), reason: error.message }),
                    ),
                };
                planned.push(Planned { server_id: id.clone(), operation, from: server.vm_state, refused });
            }
            volume.status = if accepted { VolumeStatus::Detaching } else { before };
            tx.update_volume(&volume)?;
            Ok(Ok(self.start_disk_job(tx, project_id, OperationKind::DetachVolume, planned, false, now)?))
        })?;
        tracing::info!(%project_id, %job_id, %volume_id, servers = ids.len(), "batch detach accepted");
        self.engine.wake(wakeups);
        Ok(job_id)
    }

    /// The server's block device of `volume_id`.
    pub fn show_server_block_device(
        &self,
        project_id: &str,
        server_id: &str,
        volume_id: &str,
    ) -> Result<(Server, BlockDevice)> {
        let server = self.show_server(project_id, server_id)?;
        let device = server.volumes.iter().find(|v| v.id == volume_id).cloned().ok_or_else(|| {
            Error::new(
                ErrorCode::VolumeNotAttached,
                format!("The disk {volume_id} is not attached to the ECS {server_id}."),
            )
        })?;
        Ok((server, device))
    }

    /// `UpdateServerBlockDevice`: whether the disk is deleted with the server.
    pub fn update_server_block_device(
        &self,
        project_id: &str,
        server_id: &str,
        volume_id: &str,
        delete_on_termination: bool,
    ) -> Result<()> {
        transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            let mut server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            InstantOperation::UpdateBlockDevice.check(server.state()).map_err(|code| refusal(code, &server))?;
            let device = server.volumes.iter_mut().find(|v| v.id == volume_id).ok_or_else(|| {
                Error::new(
                    ErrorCode::VolumeNotAttached,
                    format!("The disk {volume_id} is not attached to the ECS {server_id}."),
                )
            })?;
            device.delete_on_termination = delete_on_termination;
            server.updated = now;
            apply::save(tx, &self.catalogue, &server, server.task_state)
        })
    }
}

/// A server being deleted with `delete_volume`: each of its disks goes with it.
pub(super) fn delete_disks_with(server: &mut Server) {
    for device in &mut server.volumes {
        device.delete_on_termination = true;
    }
}
