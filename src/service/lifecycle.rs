//! Billing and life: the charge-mode change, scheduled deletion, the monitoring list, kernel
//! dumps, and the timers that run what is due on ecsd's clock (scheduled deletions and
//! scheduled events).

use std::sync::Arc;
use std::time::Duration;

use super::batch::single_refusal;
use super::control::save_rules;
use super::servers::{PlannedSubJob, new_job, refusal};
use super::{Ecs, placement};
use crate::domain::batch::{self, Duplicates};
use crate::domain::faults::{FaultOperation, LoadedRules, Stage};
use crate::domain::job::Failure;
use crate::domain::lifecycle::{self, AutoTermination, ServerEvent, ServerEventKind};
use crate::domain::scheduled_events::EventState;
use crate::domain::server::{Server, Timestamp};
use crate::domain::status::{InstantOperation, Operation};
use crate::domain::{Error, Result};
use crate::engine::Wakeup;
use crate::store::{WriteTx, read, transact};

/// How often the timers look for due work in real time; a clock advance runs it at once.
const TIMER_TICK: Duration = Duration::from_secs(1);

/// Most servers one charge-mode change may name.
pub const MAX_CHARGE_MODE_SERVERS: usize = 100;

/// A `ChangeServerChargeMode` request, checked by the api layer for its shape.
pub struct ChargeModeChange {
    pub server_ids: Vec<String>,
    pub dry_run: bool,
}

/// What the charge-mode change answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeModeAccepted {
    DryRun,
    /// The order placed; ecsd bills nothing, so it is never paid and the servers stay
    /// pay-per-use.
    Order(String),
}

/// How a timer's job started, or why it did not.
enum Started {
    Job {
        job_id: String,
        wakeups: Vec<Wakeup>,
    },
    /// The server runs another operation: the work stays due and is tried again.
    Busy,
    /// The server is gone.
    Gone,
}

/// An order id like the billing centre's: `CS`, the date and time, five random letters.
fn order_id(now: Timestamp) -> String {
    let stamp = now
        .format(time::macros::format_description!("[year repr:last_two][month][day][hour][minute]"))
        .unwrap_or_default();
    let letters: String = (0..5).map(|_| char::from(b'A' + rand::random_range(0..26u8))).collect();
    format!("CS{stamp}{letters}")
}

impl Ecs {
    /// `ChangeServerChargeMode` (to yearly/monthly): every server must exist in the project and
    /// be idle and running or stopped, else nothing happens (`Ecs.0611`).
    pub fn change_server_charge_mode(&self, project_id: &str, change: ChargeModeChange) -> Result<ChargeModeAccepted> {
        let ids = batch::server_ids(change.server_ids, MAX_CHARGE_MODE_SERVERS, Duplicates::Refuse)?;
        // Checked like a dry run: an unpaid order changes no server.
        self.apply_instant_with(project_id, &ids, InstantOperation::ChangeChargeMode, true, |_, _, _| Ok(()))?;
        if change.dry_run {
            return Ok(ChargeModeAccepted::DryRun);
        }
        let order = order_id(self.clock.now());
        tracing::info!(%project_id, %order, servers = ids.len(), "charge-mode order placed (never paid)");
        Ok(ChargeModeAccepted::Order(order))
    }

    /// `UpdateServerAutoTerminateTime`: `None` (an empty string or null) cancels.
    pub fn update_server_auto_terminate_time(&self, project_id: &str, server_id: &str, at: Option<&str>) -> Result<()> {
        let at = lifecycle::auto_terminate_time(at, self.clock.now())?;
        let ids = [server_id.to_string()];
        self.apply_instant_with(project_id, &ids, InstantOperation::AutoTerminate, false, |tx, server, _| {
            server.auto_terminate_time = at;
            match at {
                Some(at) => tx.put_auto_termination(&AutoTermination {
                    project_id: project_id.to_string(),
                    server_id: server.id.clone(),
                    at,
                    job_id: None,
                }),
                None => tx.delete_auto_termination(&server.id),
            }
        })
        .map_err(single_refusal)?;
        tracing::info!(%project_id, %server_id, at = ?at, "auto-terminate time set");
        Ok(())
    }

    /// The project's scheduled deletions, for the control API.
    pub fn auto_terminations(&self, project_id: &str) -> Result<Vec<AutoTermination>> {
        read(self.store.as_ref(), |tx| tx.auto_terminations(project_id))
    }

    /// `RegisterServerMonitor`. Its path has no project: the caller's, or with authentication
    /// off the server's own.
    pub fn register_server_monitor(&self, caller_project: Option<&str>, server_id: &str) -> Result<()> {
        let project_id = match caller_project {
            Some(project_id) => project_id.to_string(),
            None => read(self.store.as_ref(), |tx| tx.server_project(server_id))?
                .ok_or_else(|| Error::server_not_found(server_id))?,
        };
        self.record_instant(
            &project_id,
            server_id,
            InstantOperation::RegisterMonitor,
            ServerEventKind::MonitorRegistered,
        )
    }

    /// `ExecuteServerDump`: an NMI; the guest panics, writes its dump and reboots (its console
    /// log shows it). Kunpeng (Arm) flavors have no NMI dump, as the docs say.
    pub fn execute_server_dump(&self, project_id: &str, server_id: &str) -> Result<()> {
        let server = self.show_server(project_id, server_id)?;
        if self.catalogue.flavor(&server.flavor_id).is_some_and(|f| f.architecture == "arm64") {
            return Err(Error::invalid(format!(
                "The flavor {} of the ECS {server_id} is a Kunpeng flavor, which does not support kernel dumps.",
                server.flavor_id
            )));
        }
        self.record_instant(project_id, server_id, InstantOperation::TriggerCrashDump, ServerEventKind::CrashDump)
    }

    fn record_instant(
        &self,
        project_id: &str,
        server_id: &str,
        operation: InstantOperation,
        kind: ServerEventKind,
    ) -> Result<()> {
        let ids = [server_id.to_string()];
        self.apply_instant_with(project_id, &ids, operation, false, |tx, server, now| {
            tx.record_server_event(&ServerEvent {
                project_id: project_id.to_string(),
                server_id: server.id.clone(),
                at: now,
                kind,
            })
        })
        .map_err(single_refusal)
        .map(drop)
    }

    /// Starts what is due by now: scheduled deletions and servers whose time in the recycle bin
    /// is over become delete jobs, waiting scheduled events run their action. Returns how many
    /// started.
    pub fn fire_due(&self) -> Result<usize> {
        let (started, wakeups) = transact(self.store.as_ref(), |tx| {
            // Read under the write lock, so times follow the order in which operations commit.
            let now = self.clock.now();
            let mut rules = LoadedRules::new(tx.fault_rules()?);
            let mut wakeups = Vec::new();
            let mut started = 0;
            for mut due in tx.due_auto_terminations(now)? {
                let delete = |_: &Server| Some(Operation::Delete);
                match self.start_job(tx, &mut rules, &due.project_id, &due.server_id, delete, now)? {
                    Started::Job { job_id, wakeups: more } => {
                        tracing::info!(server_id = %due.server_id, %job_id, "auto-terminate: deleting");
                        due.job_id = Some(job_id);
                        tx.put_auto_termination(&due)?;
                        wakeups.extend(more);
                        started += 1;
                    }
                    Started::Busy => {}
                    Started::Gone => tx.delete_auto_termination(&due.server_id)?,
                }
            }
            for mut due in tx.due_recycled(now)? {
                let delete = |_: &Server| Some(Operation::Delete);
                match self.start_job(tx, &mut rules, &due.project_id, &due.server_id, delete, now)? {
                    Started::Job { job_id, wakeups: more } => {
                        tracing::info!(server_id = %due.server_id, %job_id, "recycle bin: purging");
                        due.job_id = Some(job_id);
                        tx.put_recycled(&due)?;
                        wakeups.extend(more);
                        started += 1;
                    }
                    Started::Busy => {}
                    Started::Gone => tx.delete_recycled(&due.server_id)?,
                }
            }
            for mut event in tx.due_scheduled_events(now)? {
                let operation = |server: &Server| event.event_type.operation(server.vm_state);
                let outcome = self.start_job(tx, &mut rules, &event.project_id, &event.server_id, operation, now)?;
                match outcome {
                    Started::Job { job_id, wakeups: more } => {
                        tracing::info!(event_id = %event.id, %job_id, "scheduled event: running");
                        event.job_id = Some(job_id);
                        wakeups.extend(more);
                        started += 1;
                    }
                    Started::Busy => continue,
                    Started::Gone => event.state = EventState::Canceled,
                }
                tx.put_scheduled_event(&event)?;
            }
            save_rules(tx, &rules)?;
            Ok((started, wakeups))
        })?;
        self.engine.wake(wakeups);
        Ok(started)
    }

    /// A job of one server for a timer, running what `operation` says for the server as it is
    /// now: the operation's own rule and the precheck fault rules decide, as for a request, and
    /// a move needs a host to go to; a refused server gets a failed sub-job.
    fn start_job(
        &self,
        tx: &mut dyn WriteTx,
        rules: &mut LoadedRules,
        project_id: &str,
        server_id: &str,
        operation: impl FnOnce(&Server) -> Option<Operation>,
        now: Timestamp,
    ) -> Result<Started> {
        let Some(server) = tx.server(project_id, server_id)? else { return Ok(Started::Gone) };
        if server.task_state.is_some() {
            return Ok(Started::Busy);
        }
        let Some(operation) = operation(&server) else { return Ok(Started::Gone) };
        let operation = &operation;
        let checked = operation
            .check(server.state())
            .map_err(|code| refusal(code, &server))
            .and_then(|()| {
                match rules.fire(Stage::Precheck, FaultOperation::from(operation.kind()), project_id, Some(&server)) {
                    Some((_, effect)) => match effect.failure() {
                        Some((code, message)) => Err(Error::injected(400, code, message)),
                        None => Ok(()),
                    },
                    None => Ok(()),
                }
            })
            .and_then(|()| match operation {
                Operation::Migrate { .. } | Operation::Redeploy => {
                    let host = placement::destination(tx, &self.catalogue, &server, None)?;
                    Ok(Server { host: Some(host), previous_host: server.host.clone(), ..server.clone() })
                }
                _ => Ok(server.clone()),
            });
        let refused = match checked {
            Ok(prepared) => {
                self.begin(tx, &prepared, operation, now)?;
                None
            }
            Err(error) => Some(Failure { code: error.wire_code().into(), reason: error.message }),
        };
        let planned = PlannedSubJob {
            server_id: server.id.clone(),
            operation: operation.clone(),
            from: server.vm_state,
            refused,
        };
        let job = new_job(project_id, operation.kind(), vec![planned], true, now);
        crate::audit::insert_job(tx, &job)?;
        let wakeups = job.sub_jobs.iter().filter(|s| !s.status.is_finished()).map(Wakeup::of).collect();
        Ok(Started::Job { job_id: job.id, wakeups })
    }

    /// Moves the clock forward like the engine's advance, stopping at each scheduled deletion
    /// or event on the way to start it at its own time. A server busy at its time is tried
    /// again once the whole advance is done.
    pub(super) async fn advance_with_timers(&self, by: Duration) -> Result<()> {
        let mut remaining = by;
        while let Some(next) = read(self.store.as_ref(), |tx| tx.next_due())? {
            let ahead = Duration::try_from(next - self.clock.now()).unwrap_or(Duration::ZERO);
            if ahead > remaining {
                break;
            }
            self.engine.advance(ahead).await?;
            remaining -= ahead;
            // A transaction like the advance's own bookkeeping; the engine is idle meanwhile.
            let started = self.fire_due()?;
            if started == 0 && ahead.is_zero() {
                break;
            }
        }
        self.engine.advance(remaining).await?;
        self.fire_due()?;
        Ok(())
    }
}

/// Runs what becomes due in real time, every [`TIMER_TICK`], until the task is aborted.
pub async fn run_timers(ecs: Arc<Ecs>) {
    loop {
        tokio::time::sleep(TIMER_TICK).await;
        let worker = Arc::clone(&ecs);
        match tokio::task::spawn_blocking(move || worker.fire_due()).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::error!(%error, "timers could not start due work"),
            Err(error) => tracing::error!(%error, "timer worker failed"),
        }
    }
}
