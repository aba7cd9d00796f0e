//! The work on disks. A sub-job of it moves a volume, and for an attach or a detach the
//! server's block devices, from what its acceptance wrote (step 0: `creating`, `attaching`,
//! `detaching`, `extending`, `deleting`) to where it ends (step 1), in one transaction; a
//! failure puts both back. A restart resumes it like any sub-job, so no volume stays in a
//! transitional status.

use super::Step;
use super::apply;
use crate::domain::catalogue::Catalogue;
use crate::domain::faults::{FaultEffect, FaultOperation, LoadedRules, Stage};
use crate::domain::job::{Failure, JobStatus, SubJob};
use crate::domain::server::{Server, Timestamp};
use crate::domain::status::Operation;
use crate::domain::volumes::{self, CloudVolume, VolumeStatus};
use crate::domain::{ErrorCode, Result};
use crate::store::WriteTx;

/// Applies the one remaining step of a sub-job on a disk. `Err` is a store failure.
pub(super) fn advance(
    tx: &mut dyn WriteTx,
    catalogue: &Catalogue,
    sub: &mut SubJob,
    faults: &mut LoadedRules,
    now: Timestamp,
) -> Result<Step> {
    let Some(volume_id) = sub.operation.volume_id().map(str::to_string) else {
        return Ok(Step::Failed(Failure::of(ErrorCode::Internal, "the sub-job works on no disk")));
    };
    let on_server = !sub.server_id.is_empty();
    let server = if on_server { tx.server(&sub.project_id, &sub.server_id)? } else { None };
    let operation = FaultOperation::from(sub.operation.kind());
    if sub.status == JobStatus::Init
        && let Some((rule_id, FaultEffect::Hang)) =
            faults.fire(Stage::JobStart, operation, &sub.project_id, server.as_ref())
    {
        sub.held_by = Some(rule_id);
        sub.status = JobStatus::Running;
        tx.update_sub_job(sub)?;
        return Ok(Step::Held);
    }
    let volume = tx.volume(&sub.project_id, &volume_id)?;
    let failure = match (&volume, &server) {
        (None, _) => Some(Failure::of(ErrorCode::VolumeNotFound, format!("The disk {volume_id} could not be found."))),
        (Some(_), None) if on_server => {
            Some(Failure::of(ErrorCode::ServerNotFound, format!("Instance[{}] could not be found.", sub.server_id)))
        }
        _ => faults
            .fire(Stage::JobEnd, operation, &sub.project_id, server.as_ref())
            .and_then(|(_, effect)| effect.failure().map(|(code, reason)| Failure { code: code.to_string(), reason })),
    };
    if let Some(failure) = failure {
        roll_back(tx, catalogue, &sub.operation, server, volume, now)?;
        return Ok(Step::Failed(failure));
    }
    if let Some(volume) = volume {
        finish(tx, catalogue, &sub.operation, server, volume, now)?;
    }
    sub.step = 1;
    sub.status = JobStatus::Success;
    sub.end_time = Some(now);
    tx.update_sub_job(sub)?;
    Ok(Step::Advanced)
}

/// Where each kind of work on a disk ends.
fn finish(
    tx: &mut dyn WriteTx,
    catalogue: &Catalogue,
    operation: &Operation,
    server: Option<Server>,
    mut volume: CloudVolume,
    now: Timestamp,
) -> Result<()> {
    volume.updated = now;
    match (operation, server) {
        (Operation::AttachVolume { device, .. }, Some(server)) => {
            volume.attachments.push(volumes::attachment(&server, device, now));
            volume.status = VolumeStatus::InUse;
        }
        (Operation::DetachVolume { volume_id }, Some(mut server)) => {
            server.volumes.retain(|v| v.id != *volume_id);
            server.updated = now;
            apply::save(tx, catalogue, &server, server.task_state)?;
            volumes::detach_from(&mut volume, &server.id, now);
        }
        (Operation::ExtendVolume { new_size_gib, .. }, _) => {
            volume.size_gib = *new_size_gib;
            volume.status = volume.settled_status();
            // The servers' block devices show the size too.
            for attachment in &volume.attachments {
                if let Some(mut server) = tx.server(&volume.project_id, &attachment.server_id)? {
                    for device in server.volumes.iter_mut().filter(|v| v.id == volume.id) {
                        device.size_gib = *new_size_gib;
                    }
                    apply::save(tx, catalogue, &server, server.task_state)?;
                }
            }
        }
        (Operation::DeleteVolume { .. }, _) => return tx.delete_volume(&volume.id),
        _ => volume.status = volume.settled_status(),
    }
    tx.update_volume(&volume)
}

/// A failed work on a disk leaves it as it was before; a disk that failed to be made is
/// `error`, as EVS shows it.
fn roll_back(
    tx: &mut dyn WriteTx,
    catalogue: &Catalogue,
    operation: &Operation,
    server: Option<Server>,
    volume: Option<CloudVolume>,
    now: Timestamp,
) -> Result<()> {
    if let (Operation::AttachVolume { volume_id, .. }, Some(mut server)) = (operation, server)
        && server.volumes.iter().any(|v| v.id == *volume_id)
    {
        server.volumes.retain(|v| v.id != *volume_id);
        server.updated = now;
        apply::save(tx, catalogue, &server, server.task_state)?;
    }
    let Some(mut volume) = volume else { return Ok(()) };
    volume.status = match operation {
        Operation::CreateVolume { .. } => VolumeStatus::Error,
        _ => volume.settled_status(),
    };
    volume.updated = now;
    tx.update_volume(&volume)
}

/// What becomes of a removed server's disks: those to be deleted with it (its system disk,
/// those marked `delete_on_termination`, every one when `all`, as when a create is rolled
/// back) are, the others leave it and settle (`available`, or still `in-use` where a shared
/// disk is attached elsewhere). Called in the transaction that removes the server.
pub fn release(tx: &mut dyn WriteTx, server: &Server, all: bool, now: Timestamp) -> Result<()> {
    let ids: Vec<String> = server.volumes.iter().map(|v| v.id.clone()).collect();
    let mut found = tx.volumes(&server.project_id, &ids)?;
    for device in &server.volumes {
        let Some(mut volume) = found.remove(&device.id) else { continue };
        volumes::detach_from(&mut volume, &server.id, now);
        let deleted = all || device.boot_index == Some(0) || device.delete_on_termination;
        if deleted && volume.attachments.is_empty() {
            tx.delete_volume(&volume.id)?;
        } else {
            tx.update_volume(&volume)?;
        }
    }
    Ok(())
}

/// A rebuilt server's system disk holds its new image.
pub fn reimage(tx: &mut dyn WriteTx, server: &Server, now: Timestamp) -> Result<()> {
    let Some(system) = server.volumes.iter().find(|v| v.boot_index == Some(0)) else { return Ok(()) };
    let Some(mut volume) = tx.volume(&server.project_id, &system.id)? else { return Ok(()) };
    volume.image_id = Some(server.image_id.clone());
    volume.updated = now;
    tx.update_volume(&volume)
}
