//! Writing a server's state, shared by the service (which puts a server into the first step of
//! an operation when it accepts it, or changes it at once) and the engine (which applies every
//! later step). Every write is the compare-and-set on the task state that keeps one operation
//! per server, and holds the quota of the server's flavor and of a resize target.

use crate::domain::Result;
use crate::domain::catalogue::Catalogue;
use crate::domain::recycle_bin::{RecycleBin, Recycled};
use crate::domain::server::{Server, Timestamp};
use crate::domain::status::{Effect, Step, TaskState};
use crate::store::WriteTx;

/// Inserts new servers, each holding the quota of its flavor.
pub fn insert(tx: &mut dyn WriteTx, catalogue: &Catalogue, servers: &[Server]) -> Result<()> {
    let reserved: Vec<_> = servers.iter().map(|s| catalogue.reservation(&s.flavor_id, None)).collect();
    tx.insert_servers(servers, &reserved)
}

/// Stores `server` if its task state is still `expected` (`Ecs.0603` otherwise).
pub fn save(tx: &mut dyn WriteTx, catalogue: &Catalogue, server: &Server, expected: Option<TaskState>) -> Result<()> {
    let reserved = catalogue.reservation(&server.flavor_id, server.resize_target.as_deref());
    tx.update_server(server, expected, reserved)
}

/// Moves `server` into `step` of its operation and stores it, if its task state is still
/// `expected`; a `Remove` step deletes it, a `Recycle` or `Restore` one puts it in the recycle
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
        return tx.delete_server(&server.id);
    }
    server.enter(step, now);
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
