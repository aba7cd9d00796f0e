//! The batch operations: job-based start/stop/reboot/delete/resize, and the batch-format
//! password reset and rename (contract section 2).

use std::collections::HashMap;

use super::Ecs;
use super::control::save_rules;
use super::placement::{self, Moves};
use super::servers::{PlannedSubJob, new_job, refusal};
use crate::domain::batch::{self, BatchRefused, Duplicates};
use crate::domain::catalogue::{Flavor, Usage};
use crate::domain::errors::Refusal;
use crate::domain::faults::{FaultOperation, LoadedRules, Stage};
use crate::domain::job::Failure;
use crate::domain::lifecycle::{ServerEvent, ServerEventKind};
use crate::domain::server::{ResizeRevert, Server, Timestamp};
use crate::domain::status::{InstantOperation, Operation, OperationKind, VmState};
use crate::domain::{Error, ErrorCode, Result, validate};
use crate::engine::{Wakeup, apply};
use crate::store::{WriteTx, transact};

/// The job-based batch actions of `POST .../cloudservers/action` and `.../delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchAction {
    Start,
    Stop {
        hard: bool,
    },
    Reboot {
        hard: bool,
    },
    /// With `delete_volume`, the servers' data disks are deleted with them too.
    Delete {
        delete_volume: bool,
    },
}

impl BatchAction {
    pub fn kind(self) -> OperationKind {
        self.operation().kind()
    }

    fn operation(self) -> Operation {
        match self {
            BatchAction::Start => Operation::Start,
            BatchAction::Stop { hard } => Operation::Stop { hard },
            BatchAction::Reboot { hard } => Operation::Reboot { hard },
            BatchAction::Delete { .. } => Operation::Delete,
        }
    }
}

/// The action in the API's words: `os-start`, `os-stop SOFT`, `reboot HARD`, `delete`.
impl std::fmt::Display for BatchAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = |hard: bool| if hard { "HARD" } else { "SOFT" };
        match self {
            BatchAction::Start => f.write_str("os-start"),
            BatchAction::Stop { hard } => write!(f, "os-stop {}", kind(*hard)),
            BatchAction::Reboot { hard } => write!(f, "reboot {}", kind(*hard)),
            BatchAction::Delete { .. } => f.write_str("delete"),
        }
    }
}

pub struct ResizeRequest {
    pub flavor_id: String,
    pub with_stop: bool,
    pub dry_run: bool,
    /// Nova's resize, which waits in `VERIFY_RESIZE` for a confirm or a revert.
    pub verify: bool,
}

/// What a batch-format request answers when it was accepted: the ids, in request order.
pub type Accepted = Vec<String>;

/// A batch refused because of individual servers becomes `Ecs.0611` with their refusals.
pub(super) fn batch_failed(refused: BatchRefused) -> Error {
    let mut error = Error::of(ErrorCode::BatchFailed);
    error.refusals = refused.refusals;
    error
}

/// What a batch's transaction has loaded: its time and the servers asked for that exist.
pub(super) struct Loaded {
    pub now: Timestamp,
    pub servers: HashMap<String, Server>,
}

/// The precheck fault rules of one batch, drawn server by server.
pub(super) struct Prechecks<'p> {
    rules: LoadedRules,
    operation: FaultOperation,
    project_id: &'p str,
}

impl Prechecks<'_> {
    /// A `precheck_fail` rule that fires for this server refuses it with the rule's code.
    pub fn check(&mut self, server: &Server) -> Result<()> {
        match self.rules.fire(Stage::Precheck, self.operation, self.project_id, Some(server)) {
            Some((_, effect)) => match effect.failure() {
                Some((code, message)) => Err(Error::injected(400, code, message)),
                None => Ok(()),
            },
            None => Ok(()),
        }
    }
}

/// How a batch's plan ends: accepted, or refused with an answer. A refusal commits only the
/// fault rules' counters: a plan refuses before it writes anything else.
pub(super) type Planned<T> = std::result::Result<T, Error>;

impl Ecs {
    /// Runs one batch in one transaction: loads its servers and the fault rules, lets `plan`
    /// decide server by server, and stores the rules' counters even when `plan` refuses the
    /// batch. An `Err` of `plan` (a store failure) rolls everything back.
    pub(super) fn plan_batch<T>(
        &self,
        project_id: &str,
        ids: &[String],
        operation: FaultOperation,
        mut plan: impl FnMut(&mut dyn WriteTx, &Loaded, &mut Prechecks) -> Result<Planned<T>>,
    ) -> Result<T> {
        transact(self.store.as_ref(), |tx| {
            // Read under the write lock, so times follow the order in which operations commit.
            let loaded = Loaded { now: self.clock.now(), servers: tx.servers(project_id, ids)? };
            let mut prechecks = Prechecks { rules: LoadedRules::new(tx.fault_rules()?), operation, project_id };
            let planned = plan(tx, &loaded, &mut prechecks)?;
            save_rules(tx, &prechecks.rules)?;
            Ok(planned)
        })?
    }

    /// Batch start/stop/reboot/delete (contract 2.5, ecsd's semantics): unknown ids refuse the
    /// whole request; a server whose state forbids the operation gets a sub-job that fails
    /// with the rule's code while the others proceed.
    pub fn batch_operate(&self, project_id: &str, ids: Vec<String>, action: BatchAction) -> Result<String> {
        let ids = batch::server_ids(ids, batch::MAX_BATCH_SERVERS, Duplicates::Refuse)?;
        let operation = action.operation();
        let fault = FaultOperation::from(operation.kind());
        let (job_id, wakeups) = self.plan_batch(project_id, &ids, fault, |tx, loaded, prechecks| {
            if let Some(missing) = ids.iter().find(|id| !loaded.servers.contains_key(*id)) {
                return Err(Error::server_not_found(missing));
            }
            // With the project's recycle bin on, a delete keeps the servers it takes there.
            let bin = match action {
                BatchAction::Delete { .. } => tx.recycle_bin(project_id)?,
                _ => None,
            };
            let mut planned = Vec::with_capacity(ids.len());
            for id in &ids {
                let server = &loaded.servers[id];
                let operation = match &bin {
                    Some(bin) if bin.takes(server, loaded.now) => Operation::Recycle,
                    _ => operation.clone(),
                };
                let checked = operation
                    .check(server.state())
                    .map_err(|code| refusal(code, server))
                    .and_then(|()| prechecks.check(server));
                let refused = match checked {
                    Ok(()) => {
                        let mut server = server.clone();
                        if let BatchAction::Delete { delete_volume: true } = action {
                            super::volumes::delete_disks_with(&mut server);
                        }
                        self.begin(tx, &server, &operation, loaded.now)?;
                        None
                    }
                    Err(error) => Some(Failure { code: error.wire_code().into(), reason: error.message }),
                };
                planned.push(PlannedSubJob {
                    server_id: id.clone(),
                    operation: operation.clone(),
                    from: server.vm_state,
                    refused,
                });
            }
            let job = new_job(project_id, operation.kind(), planned, false, loaded.now);
            crate::audit::insert_job(tx, &job)?;
            let wakeups: Vec<Wakeup> =
                job.sub_jobs.iter().filter(|s| !s.status.is_finished()).map(Wakeup::of).collect();
            Ok(Ok((job.id, wakeups)))
        })?;
        tracing::info!(%project_id, %job_id, servers = ids.len(), action = %action, "batch accepted");
        self.engine.wake(wakeups);
        Ok(job_id)
    }

    /// Puts a server into step 0 of `operation`, with the compare-and-set on its task state.
    pub(super) fn begin(
        &self,
        tx: &mut dyn WriteTx,
        server: &Server,
        operation: &Operation,
        now: Timestamp,
    ) -> Result<()> {
        let mut next = server.clone();
        if let Operation::Resize { flavor_id, verify, .. } = operation {
            next.resize_target = Some(flavor_id.clone());
            if *verify {
                next.resize_revert =
                    Some(ResizeRevert { flavor_id: server.flavor_id.clone(), vm_state: server.vm_state });
            }
        }
        apply::enter(tx, &self.catalogue, &mut next, &operation.plan(server.vm_state)[0], server.task_state, now)
    }

    /// A job on one server (a rebuild, a migration, a redeploy): the operation's own rule, then
    /// the precheck fault rules, then `prepare` decide. `prepare` gives the server as the first
    /// step of the operation should find it (a pending rebuild, a new host) or refuses it; a
    /// refusal answers that server's own error and commits nothing but the rules' counters,
    /// so `prepare` writes beside the server only once it cannot refuse any more.
    pub(super) fn start_server_job(
        &self,
        project_id: &str,
        server_id: &str,
        operation: &Operation,
        mut prepare: impl FnMut(&mut dyn WriteTx, &Server, Timestamp) -> Result<Server>,
    ) -> Result<String> {
        self.start_server_job_with(project_id, server_id, operation, |tx, server, now| {
            Ok((prepare(tx, server, now)?, operation.clone()))
        })
    }

    /// [`Ecs::start_server_job`] where `prepare` also makes what the operation carries (the
    /// ports of new NICs, made when the job is accepted): `rule` is the operation whose
    /// transition rule and fault rules apply, the one `prepare` gives is the job's.
    pub(super) fn start_server_job_with(
        &self,
        project_id: &str,
        server_id: &str,
        rule: &Operation,
        mut prepare: impl FnMut(&mut dyn WriteTx, &Server, Timestamp) -> Result<(Server, Operation)>,
    ) -> Result<String> {
        let ids = [server_id.to_string()];
        let fault = FaultOperation::from(rule.kind());
        let (job_id, wakeups) = self.plan_batch(project_id, &ids, fault, |tx, loaded, prechecks| {
            let Some(server) = loaded.servers.get(server_id) else {
                return Ok(Err(Error::server_not_found(server_id)));
            };
            let checked = rule
                .check(server.state())
                .map_err(|code| refusal(code, server))
                .and_then(|()| prechecks.check(server))
                .and_then(|()| prepare(tx, server, loaded.now));
            let (prepared, operation) = match checked {
                Ok(prepared) => prepared,
                Err(refused) => return Ok(Err(refused)),
            };
            self.begin(tx, &prepared, &operation, loaded.now)?;
            let kind = operation.kind();
            let planned =
                vec![PlannedSubJob { server_id: server.id.clone(), operation, from: server.vm_state, refused: None }];
            let job = new_job(project_id, kind, planned, kind.single_server_job(), loaded.now);
            crate::audit::insert_job(tx, &job)?;
            Ok(Ok((job.id.clone(), job.sub_jobs.iter().map(Wakeup::of).collect::<Vec<_>>())))
        })?;
        tracing::info!(%project_id, %server_id, %job_id, operation = ?rule.kind(), "job accepted");
        self.engine.wake(wakeups);
        Ok(job_id)
    }

    /// Batch resize (T1.5) and single resize (T1.16): all servers must pass, else nothing
    /// happens; accepted servers each get a `resizeSingleServer` sub-job.
    pub fn resize_servers(
        &self,
        project_id: &str,
        ids: Vec<String>,
        request: &ResizeRequest,
        single_server: bool,
    ) -> Result<Option<String>> {
        let ids = batch::server_ids(ids, batch::MAX_BATCH_RESIZE_SERVERS, Duplicates::Collapse)?;
        let target = self.catalogue.flavor(&request.flavor_id).ok_or_else(|| {
            Error::new(ErrorCode::FlavorNotFound, format!("The flavor {} does not exist.", request.flavor_id))
        })?;
        let operation =
            Operation::Resize { flavor_id: target.id.clone(), with_stop: request.with_stop, verify: request.verify };
        let outcome = self.plan_batch(project_id, &ids, FaultOperation::Resize, |tx, loaded, prechecks| {
            // A server whose host lacks room for the larger flavor moves to another host of its
            // zone (never one of another member of its anti-affinity group), or is refused.
            let mut moves = Moves::default();
            let mut new_hosts: HashMap<String, String> = HashMap::new();
            let accepted = match batch::plan_all_or_nothing(&ids, &loaded.servers, |server| {
                self.check_resize(server, target, &operation)?;
                prechecks.check(server)?;
                let members = match &server.server_group_id {
                    Some(group) => tx.server_group(project_id, group)?.map(|g| g.members).unwrap_or_default(),
                    None => vec![],
                };
                let avoid = placement::member_hosts(tx, project_id, &members, Some(&server.id))?;
                let grown = placement::demand(&self.catalogue, &server.flavor_id, Some(&target.id));
                if let Some(host) = moves.fit(tx, &self.catalogue, server, grown, &avoid)? {
                    new_hosts.insert(server.id.clone(), host);
                }
                Ok(())
            }) {
                Ok(accepted) => accepted,
                Err(refused) => return Ok(Err(batch_failed(refused))),
            };
            let extra = self.resize_delta(&accepted, target);
            if let Some(limit) = self.catalogue.quota.exceeded_by(tx.usage(project_id)?, extra) {
                return Ok(Err(Error::new(
                    ErrorCode::QuotaExceeded,
                    format!("Insufficient ECS quota: resizing to {} exceeds the {limit} quota.", target.id),
                )));
            }
            if request.dry_run {
                return Ok(Ok(None));
            }
            let mut planned = Vec::with_capacity(accepted.len());
            for server in &accepted {
                let mut placed = (*server).clone();
                if let Some(host) = new_hosts.get(&server.id) {
                    placed.previous_host = placed.host.replace(host.clone());
                }
                self.begin(tx, &placed, &operation, loaded.now)?;
                planned.push(PlannedSubJob {
                    server_id: server.id.clone(),
                    operation: operation.clone(),
                    from: server.vm_state,
                    refused: None,
                });
            }
            let job = new_job(project_id, OperationKind::Resize, planned, single_server, loaded.now);
            crate::audit::insert_job(tx, &job)?;
            Ok(Ok(Some((job.id.clone(), job.sub_jobs.iter().map(Wakeup::of).collect::<Vec<_>>()))))
        })?;
        Ok(outcome.map(|(job_id, wakeups)| {
            tracing::info!(%project_id, %job_id, flavor = %target.id, servers = ids.len(), "resize accepted");
            self.engine.wake(wakeups);
            job_id
        }))
    }

    fn check_resize(&self, server: &Server, target: &Flavor, operation: &Operation) -> Result<()> {
        operation.check(server.state()).map_err(|code| refusal(code, server))?;
        if server.flavor_id == target.id {
            return Err(Error::new(
                ErrorCode::SameFlavor,
                format!("The ECS {} already has the flavor {}.", server.id, target.id),
            ));
        }
        let allowed = self.catalogue.flavor(&server.flavor_id).is_some_and(|current| current.can_resize_to(target));
        if !allowed {
            return Err(Error::new(
                ErrorCode::FlavorNotAllowed,
                format!("The ECS {} of flavor {} cannot be resized to {}.", server.id, server.flavor_id, target.id),
            ));
        }
        Ok(())
    }

    /// What resizing these servers to `target` adds to the quota usage (only growth counts).
    fn resize_delta(&self, servers: &[&Server], target: &Flavor) -> Usage {
        servers.iter().fold(Usage::default(), |sum, server| {
            let now = self.catalogue.reservation(&server.flavor_id, None);
            let then = self.catalogue.reservation(&server.flavor_id, Some(&target.id));
            Usage {
                instances: sum.instances,
                cores: sum.cores + (then.cores - now.cores),
                ram_mib: sum.ram_mib + (then.ram_mib - now.ram_mib),
            }
        })
    }

    /// Batch reset passwords (T1.4). The hash is computed once for the whole batch.
    pub fn batch_reset_servers_password(
        &self,
        project_id: &str,
        ids: Vec<String>,
        new_password: Option<&str>,
        dry_run: bool,
    ) -> Result<Accepted> {
        let ids = batch::server_ids(ids, batch::MAX_BATCH_SERVERS, Duplicates::Collapse)?;
        let hash = match new_password {
            Some(password) => {
                validate::password(password, validate::RESET_PASSWORD_SPECIALS)?;
                if dry_run { None } else { Some(crate::secrets::hash_password(password)?) }
            }
            None if dry_run => None,
            None => return Err(Error::invalid("new_password is required.")),
        };
        let accepted = self.apply_instant(project_id, &ids, InstantOperation::ResetPassword, dry_run, |server| {
            server.pending_password_hash = hash.clone();
        })?;
        if !dry_run {
            tracing::info!(%project_id, servers = accepted.len(), "password reset recorded");
        }
        Ok(accepted)
    }

    /// Batch rename (T1.6): the same name for every server.
    pub fn batch_update_servers_name(
        &self,
        project_id: &str,
        ids: Vec<String>,
        name: &str,
        dry_run: bool,
    ) -> Result<Accepted> {
        let ids = batch::server_ids(ids, batch::MAX_BATCH_SERVERS, Duplicates::Collapse)?;
        validate::server_name(name, validate::MAX_NAME_CHARS)?;
        self.apply_instant(project_id, &ids, InstantOperation::Rename, dry_run, |server| {
            server.name = name.to_string();
        })
    }

    /// Plans an instant operation all-or-nothing and applies `change` to every server in one
    /// transaction, each write a compare-and-set on the task state the plan saw.
    fn apply_instant(
        &self,
        project_id: &str,
        ids: &[String],
        operation: InstantOperation,
        dry_run: bool,
        change: impl Fn(&mut Server),
    ) -> Result<Accepted> {
        self.apply_instant_with(project_id, ids, operation, dry_run, |tx, server, now| {
            change(server);
            if operation == InstantOperation::ResetPassword {
                // The console log shows the reset taken up at the next boot.
                tx.record_server_event(&ServerEvent {
                    project_id: project_id.to_string(),
                    server_id: server.id.clone(),
                    at: now,
                    kind: ServerEventKind::PasswordReset,
                })?;
            }
            Ok(())
        })
    }

    /// [`Ecs::apply_instant`] whose `change` may also write beside the server, in the same
    /// transaction.
    pub(super) fn apply_instant_with(
        &self,
        project_id: &str,
        ids: &[String],
        operation: InstantOperation,
        dry_run: bool,
        mut change: impl FnMut(&mut dyn WriteTx, &mut Server, Timestamp) -> Result<()>,
    ) -> Result<Accepted> {
        self.plan_batch(project_id, ids, FaultOperation::from(operation), |tx, loaded, prechecks| {
            let accepted = match batch::plan_all_or_nothing(ids, &loaded.servers, |server| {
                operation.check(server.state()).map_err(|code| refusal(code, server))?;
                prechecks.check(server)
            }) {
                Ok(accepted) => accepted,
                Err(refused) => return Ok(Err(batch_failed(refused))),
            };
            if !dry_run {
                for server in &accepted {
                    let mut next = (*server).clone();
                    change(tx, &mut next, loaded.now)?;
                    next.updated = loaded.now;
                    apply::save(tx, &self.catalogue, &next, server.task_state)?;
                }
            }
            Ok(Ok(accepted.iter().map(|s| s.id.clone()).collect()))
        })
    }

    /// Single-server resize (T1.16): a job on one server, refused with that server's own code.
    pub fn resize_server(&self, project_id: &str, server_id: &str, request: &ResizeRequest) -> Result<Option<String>> {
        self.resize_servers(project_id, vec![server_id.to_string()], request, true).map_err(single_refusal)
    }

    /// Nova's `confirmResize` (`revert` false) and `revertResize`: a job on a resized server that
    /// ends it in the state it had before the resize, on its new flavor or its old one.
    pub fn finish_resize_server(&self, project_id: &str, server_id: &str, revert: bool) -> Result<String> {
        let rule = |vm_state| {
            if revert { Operation::RevertResize { vm_state } } else { Operation::ConfirmResize { vm_state } }
        };
        self.start_server_job_with(project_id, server_id, &rule(VmState::Active), |_, server, _| {
            let before = server.resize_revert.as_ref().map_or(VmState::Active, |r| r.vm_state);
            Ok((server.clone(), rule(before)))
        })
    }

    /// Single-server password reset (`PUT .../{id}/os-reset-password`).
    pub fn reset_server_password(&self, project_id: &str, server_id: &str, password: &str, check: bool) -> Result<()> {
        if check {
            validate::password(password, validate::RESET_PASSWORD_SPECIALS)?;
        }
        let hash = crate::secrets::hash_password(password)?;
        let ids = [server_id.to_string()];
        self.apply_instant(project_id, &ids, InstantOperation::ResetPassword, false, |server| {
            server.pending_password_hash = Some(hash.clone());
        })
        .map_err(single_refusal)
        .map(drop)
    }
}

/// A one-server request answers with that server's own error rather than `Ecs.0611`.
pub(super) fn single_refusal(error: Error) -> Error {
    match error.refusals.into_iter().next() {
        Some(Refusal { error, .. }) => error,
        None => Error { refusals: vec![], ..error },
    }
}
