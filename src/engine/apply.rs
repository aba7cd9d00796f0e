//! Writing a server's state, shared by the service (which puts a server into the first step of
//! an operation when it accepts it, or changes it at once) and the engine (which applies every
//! later step). Every write is the compare-and-set on the task state that keeps one operation
//! per server, and holds the quota of the server's flavor and of a resize target.

use crate::domain::Result;
use crate::domain::catalogue::Catalogue;
use crate::domain::network::{PortFilter, server_groups_of};
use crate::domain::recycle_bin::{RecycleBin, Recycled};
use crate::domain::server::{Nic, Server, Timestamp};
use crate::domain::status::{Effect, Operation, Step, TaskState};
use crate::domain::volumes;
use crate::store::WriteTx;

/// Inserts new servers, each holding the quota of its flavor, with their disks attached; the
/// disks named in `shared` are made shared (`multiattach`).
pub fn insert(tx: &mut dyn WriteTx, catalogue: &Catalogue, servers: &[Server], shared: &[String]) -> Result<()> {
    servers.iter().for_each(|server| crate::audit::touched(&server.id));
    let reserved: Vec<_> = servers.iter().map(|s| catalogue.reservation(&s.flavor_id, None)).collect();
    tx.insert_servers(servers, &reserved)?;
    let mut disks: Vec<_> = servers.iter().flat_map(|s| volumes::of_new_server(s, s.created)).collect();
    for disk in &mut disks {
        disk.multiattach = shared.contains(&disk.id);
    }
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
        release_nics(tx, server)?;
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

/// What the end of a NIC operation changes beside the server's states: the NICs made or bound
/// when it was accepted join the server, or the NICs it names leave it (their ports deleted or
/// unbound, [`release_port`]), or both for a move to another VPC; the server then shows its
/// ports' groups. False (and nothing done) for any other operation.
pub fn finish_nics(tx: &mut dyn WriteTx, operation: &Operation, server: &mut Server) -> Result<bool> {
    match operation {
        Operation::AddNics { nics } => server.nics.extend(nics.iter().cloned()),
        Operation::DeleteNics { port_ids } => {
            let (leaving, staying) = server.nics.drain(..).partition(|nic| port_ids.contains(&nic.port_id));
            server.nics = staying;
            for nic in &leaving {
                release_port(tx, &server.project_id, nic)?;
            }
        }
        Operation::ChangeVpc { vpc_id, nics } => {
            for old in std::mem::replace(&mut server.nics, nics.clone()) {
                release_port(tx, &server.project_id, &old)?;
            }
            server.vpc_id.clone_from(vpc_id);
        }
        _ => return Ok(false),
    }
    let ports =
        tx.ports(&server.project_id, &PortFilter { device_id: Some(server.id.clone()), ..Default::default() })?;
    server.security_group_ids = server_groups_of(&ports, server);
    Ok(true)
}

/// A NIC operation that failed takes back the ports it made or bound for NICs that were to
/// join.
pub fn undo_nics(tx: &mut dyn WriteTx, operation: &Operation, server: &Server) -> Result<()> {
    let (Operation::AddNics { nics: joining } | Operation::ChangeVpc { nics: joining, .. }) = operation else {
        return Ok(());
    };
    for nic in joining {
        release_port(tx, &server.project_id, nic)?;
    }
    Ok(())
}

/// A NIC leaving its server: its port is deleted (its address free again), or, when the NIC
/// is not `delete_on_termination` (a port attached by its id), only unbound.
pub fn release_port(tx: &mut dyn WriteTx, project_id: &str, nic: &Nic) -> Result<()> {
    if nic.delete_on_termination {
        return tx.delete_port(project_id, &nic.port_id);
    }
    match tx.port(project_id, &nic.port_id)? {
        Some(mut port) => {
            port.unbind();
            tx.update_port(&port)
        }
        None => Ok(()),
    }
}

/// What becomes of a removed server's NICs: the ports it keeps are unbound; the store deletes
/// the others with the server. Called in the transaction that removes it.
pub fn release_nics(tx: &mut dyn WriteTx, server: &Server) -> Result<()> {
    for nic in server.nics.iter().filter(|nic| !nic.delete_on_termination) {
        release_port(tx, &server.project_id, nic)?;
    }
    Ok(())
}
