//! Writing a server's state, shared by the service (which puts a server into the first step of
//! an operation when it accepts it, or changes it at once) and the engine (which applies every
//! later step). Every write is the compare-and-set on the task state that keeps one operation
//! per server, and holds the quota of the server's flavor and of a resize target.

use crate::domain::Result;
use crate::domain::catalogue::Catalogue;
use crate::domain::network::{PortFilter, server_groups_of};
use crate::domain::recycle_bin::{RecycleBin, Recycled};
use crate::domain::server::{Server, Timestamp};
use crate::domain::status::{Effect, Operation, Step, TaskState};
use crate::domain::volumes;
use crate::store::WriteTx;

/// Inserts new servers, each holding the quota of its flavor, with their disks attached.
pub fn insert(tx: &mut dyn WriteTx, catalogue: &Catalogue, servers: &[Server]) -> Result<()> {
    servers.iter().for_each(|server| crate::audit::touched(&server.id));
    let reserved: Vec<_> = servers.iter().map(|s| catalogue.reservation(&s.flavor_id, None)).collect();
    tx.insert_servers(servers, &reserved)?;
    let disks: Vec<_> = servers.iter().flat_map(|s| volumes::of_new_server(s, s.created)).collect();
    tx.insert_volumes(&disks)
}

/// Stores `server` if its task state is still `expected` (`Ecs.0603` otherwise).
pub fn save(tx: &mut dyn WriteTx, catalogue: &Catalogue, server: &Server, expected: Option<TaskState>) -> Result<()> {
    crate::audit::touched(&server.id);
    let reserved = catalogue.reservation(&server.flavor_id, server.resize_target.as_deref());
    tx.update_server(server, expected, reserved)
}

/// Moves `server` into `step` of its operation and stores it, if its task state is still
/// `expected`; a `Remove` step deletes it (and releases its disks), an `ApplyImage` step
/// makes the system disk the new image's, a `Recycle` or `Restore` one puts it in the recycle
/// bin or takes it out.
pub fn enter(
    tx: &mut dyn WriteTx,
    catalogue: &Catalogue,
    server: &mut Server,
    step: &Step,
    expected: Option<TaskState>,
    now: Timestamp,
) -> Result<()> {
    if step.effect == Effect::Remove {
        crate::audit::touched(&server.id);
        super::disks::release(tx, server, false, now)?;
        return tx.delete_server(&server.id);
    }
    server.enter(step, now);
    if step.effect == Effect::ApplyImage {
        super::disks::reimage(tx, server, now)?;
    }
    save(tx, catalogue, server, expected)?;
    match step.effect {
        Effect::Recycle => {
            // The policy in force when the server enters the bin says how long it stays.
            let project_id = &server.project_id;
            let bin = tx.recycle_bin(project_id)?.unwrap_or_else(|| RecycleBin::default_for(project_id));
            tx.put_recycled(&Recycled {
                project_id: project_id.clone(),
                server_id: server.id.clone(),
                at: now,
                purge_at: bin.purge_time(now),
                job_id: None,
            })
        }
        Effect::Restore => tx.delete_recycled(&server.id),
        _ => Ok(()),
    }
}

/// What the end of a NIC operation changes beside the server's states: the NICs made when it
/// was accepted join the server, or the NICs it names leave it and their ports are deleted; the
/// server then shows its ports' groups. False (and nothing done) for any other operation.
pub fn finish_nics(tx: &mut dyn WriteTx, operation: &Operation, server: &mut Server) -> Result<bool> {
    match operation {
        Operation::AddNics { nics } => server.nics.extend(nics.iter().cloned()),
        Operation::DeleteNics { port_ids } => {
            server.nics.retain(|nic| !port_ids.contains(&nic.port_id));
            for port_id in port_ids {
                tx.delete_port(&server.project_id, port_id)?;
            }
        }
        _ => return Ok(false),
    }
    let ports =
        tx.ports(&server.project_id, &PortFilter { device_id: Some(server.id.clone()), ..Default::default() })?;
    server.security_group_ids = server_groups_of(&ports, server);
    Ok(true)
}

/// A NIC operation that failed takes back the ports it made for NICs that were to join.
pub fn undo_nics(tx: &mut dyn WriteTx, operation: &Operation, server: &Server) -> Result<()> {
    if let Operation::AddNics { nics } = operation {
        for nic in nics {
            tx.delete_port(&server.project_id, &nic.port_id)?;
        }
    }
    Ok(())
}
