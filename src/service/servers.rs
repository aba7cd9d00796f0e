//! Creating, listing, showing and modifying servers.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use super::control::save_rules;
use super::{Ecs, initial_status, network, placement};
use crate::domain::create::{CreateServers, free_addresses};
use crate::domain::faults::{FaultOperation, LoadedRules, Stage};
use crate::domain::job::{Failure, Job, JobStatus, SubJob, new_job_id};
use crate::domain::network::Port;
use crate::domain::query::{Page, ServerFilter};
use crate::domain::server::Server;
use crate::domain::status::{InstantOperation, Operation, OperationKind, VmState};
use crate::domain::{Error, ErrorCode, Result, groups, keypairs, validate};
use crate::engine::{Wakeup, apply};
use crate::store::{ReadTx, RememberedCreate, WriteTx, read, transact};

/// How long an `X-Client-Token` answers with its first result (contract 1.5).
const CLIENT_TOKEN_LIFETIME: time::Duration = time::Duration::hours(8);

/// An `X-Client-Token` with the request it came with.
pub struct ClientToken {
    pub token: String,
    /// The request as it is fingerprinted: without its password, so that no stored
    /// fingerprint can be checked against guessed passwords.
    pub fingerprinted: Vec<u8>,
}

impl ClientToken {
    /// HMAC-SHA256 of the request under the store's fingerprint key: a copy of the stored
    /// fingerprints alone does not let anyone test guesses of what the request held.
    fn fingerprint(&self, key: &[u8]) -> Result<String> {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).map_err(Error::internal)?;
        mac.update(&self.fingerprinted);
        Ok(hex::encode(mac.finalize().into_bytes()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateAccepted {
    Job { job_id: String, server_ids: Vec<String> },
    DryRun,
}

/// Private addresses for a create: `addresses[i]` are server i's, one per NIC; `hints` are the
/// address hints to store once the servers are inserted.
pub(super) struct Allocation {
    pub addresses: Vec<Vec<Ipv4Addr>>,
    hints: Vec<(String, u32)>,
}

impl Allocation {
    /// Records the hints; call after the servers holding the addresses are inserted.
    pub fn commit(&self, tx: &mut dyn WriteTx, project_id: &str) -> Result<()> {
        for (subnet_id, lowest_free) in &self.hints {
            tx.set_lowest_free_hint(project_id, subnet_id, *lowest_free)?;
        }
        Ok(())
    }
}

pub struct ServerUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
}

fn is_lower_case_uuid(token: &str) -> bool {
    uuid::Uuid::parse_str(token).is_ok_and(|u| u.hyphenated().to_string() == token)
}

impl Ecs {
    pub fn create_servers(
        &self,
        project_id: &str,
        request: &CreateServers,
        dry_run: bool,
        client_token: Option<&ClientToken>,
    ) -> Result<CreateAccepted> {
        if let Some(token) = client_token
            && !is_lower_case_uuid(&token.token)
        {
            return Err(Error::new(
                ErrorCode::ClientTokenInvalid,
                "X-Client-Token must be a lower-case UUID (8-4-4-4-12 hex digits).",
            ));
        }
        let flavor = request.validate(&self.catalogue)?;
        let password_hash = match &request.admin_pass {
            Some(pass) if !dry_run => Some(crate::secrets::hash_password(pass)?),
            _ => None,
        };
        let outcome = transact(self.store.as_ref(), |tx| {
            // Read under the write lock, so times follow the order in which operations commit.
            let now = self.clock.now();
            let fingerprint = match client_token {
                Some(token) => Some(token.fingerprint(&tx.fingerprint_key()?)?),
                None => None,
            };
            if let Some(token) = client_token
                && let Some(first) = tx.remembered_create(project_id, &token.token)?
            {
                if now - first.created > CLIENT_TOKEN_LIFETIME {
                    return Err(Error::of(ErrorCode::ClientTokenExpired));
                }
                if Some(&first.fingerprint) != fingerprint.as_ref() {
                    return Err(Error::of(ErrorCode::ClientTokenReused));
                }
                return Ok(Ok((CreateAccepted::Job { job_id: first.job_id, server_ids: first.server_ids }, vec![])));
            }
            let mut faults = LoadedRules::new(tx.fault_rules()?);
            let fired = faults.fire(Stage::Precheck, FaultOperation::Create, project_id, None);
            save_rules(tx, &faults)?;
            if let Some((code, message)) = fired.as_ref().and_then(|(_, effect)| effect.failure()) {
                // Committed with the rule's counters, which is all this transaction wrote.
                return Ok(Err(Error::injected(400, code, message)));
            }
            let usage = tx.usage(project_id)?;
            if let Some(limit) = self.catalogue.quota.exceeded_by(usage, request.usage(flavor)) {
                return Err(Error::new(
                    ErrorCode::QuotaExceeded,
                    format!(
                        "Insufficient ECS quota: creating {} servers of {} exceeds the {limit} quota.",
                        request.count, flavor.id
                    ),
                ));
            }
            let group = match &request.server_group_id {
                Some(id) => {
                    let group = tx
                        .server_group(project_id, id)?
                        .ok_or_else(|| Error::invalid(format!("The ECS group {id} does not exist.")))?;
                    let limit = self.catalogue.quota.max_server_group_members;
                    if limit >= 0 && (group.members.len() + request.count as usize) as i64 > limit {
                        return Err(groups::members_exceeded(id, limit));
                    }
                    Some(group)
                }
                None => None,
            };
            if let Some(name) = &request.key_name
                && tx.keypair(project_id, name)?.is_none()
            {
                return Err(keypairs::not_found(name));
            }
            let attached = request
                .nics
                .iter()
                .map(|nic| nic.port_id.as_deref().map(|id| self.port_to_attach(tx, project_id, id, &request.vpc_id)))
                .map(Option::transpose)
                .collect::<Result<Vec<_>>>()?;
            let allocation = self.allocate_addresses(tx, project_id, request, &attached)?;
            let groups = network::resolve_groups(
                tx,
                project_id,
                &request.security_group_ids,
                ErrorCode::SecurityGroupMissing,
                now,
            )?;
            if dry_run {
                return Ok(Ok((CreateAccepted::DryRun, vec![])));
            }
            let mut servers =
                request.build(&self.catalogue, project_id, allocation.addresses.clone(), password_hash.clone(), now);
            for server in &mut servers {
                server.security_group_ids.clone_from(&groups);
                for (nic, port) in server.nics.iter_mut().zip(&attached) {
                    if let Some(port) = port {
                        *nic = port.as_nic(false);
                    }
                }
            }
            let avoid = match &group {
                Some(group) => Some(placement::member_hosts(tx, project_id, &group.members, None)?),
                None => None,
            };
            let refused = match placement::place_new(tx, &self.catalogue, &mut servers, avoid) {
                Ok(()) => None,
                // The scheduler finds no host: every sub-job of the create fails and, as the v1
                // API rolls a failed create back, none of its servers remains.
                Err(error) if error.code == ErrorCode::NoValidHost => {
                    Some(Failure { code: error.wire_code().to_string(), reason: error.message })
                }
                Err(error) => return Err(error),
            };
            if refused.is_none() {
                for server in &servers {
                    for (index, port) in attached.iter().enumerate() {
                        if let Some(port) = port {
                            let mut port = port.clone();
                            port.bind(server, index == 0);
                            tx.update_port(&port)?;
                        }
                    }
                }
                // Data disk i of each server is `volumes[i + 1]` (the system disk comes first).
                let shared: Vec<String> = servers
                    .iter()
                    .flat_map(|s| s.volumes.iter().skip(1).zip(&request.data_volumes))
                    .filter(|(_, asked)| asked.multiattach)
                    .map(|(device, _)| device.id.clone())
                    .collect();
                apply::insert(tx, &self.catalogue, &servers, &shared)?;
                allocation.commit(tx, project_id)?;
            }
            let planned = servers
                .iter()
                .map(|s| PlannedSubJob {
                    server_id: s.id.clone(),
                    operation: Operation::Create,
                    from: VmState::Building,
                    refused: refused.clone(),
                })
                .collect();
            let job = new_job(project_id, OperationKind::Create, planned, false, now);
            crate::audit::insert_job(tx, &job)?;
            let server_ids: Vec<String> = servers.iter().map(|s| s.id.clone()).collect();
            if let (Some(token), Some(fingerprint)) = (client_token, &fingerprint) {
                let remembered = RememberedCreate {
                    fingerprint: fingerprint.clone(),
                    job_id: job.id.clone(),
                    server_ids: server_ids.clone(),
                    created: now,
                };
                tx.remember_create(project_id, &token.token, &remembered)?;
            }
            let wakeups = job.sub_jobs.iter().filter(|s| !s.status.is_finished()).map(Wakeup::of).collect::<Vec<_>>();
            Ok(Ok((CreateAccepted::Job { job_id: job.id, server_ids }, wakeups)))
        })??;
        let (accepted, wakeups) = outcome;
        if let CreateAccepted::Job { job_id, server_ids } = &accepted {
            tracing::info!(%project_id, %job_id, servers = server_ids.len(), "create accepted");
        }
        self.engine.wake(wakeups);
        Ok(accepted)
    }

    /// One address per NIC per server, from each NIC's subnet; a NIC that is an existing port
    /// (`attached`, by NIC) keeps the port's.
    pub(super) fn allocate_addresses(
        &self,
        tx: &mut dyn ReadTx,
        project_id: &str,
        request: &CreateServers,
        attached: &[Option<Port>],
    ) -> Result<Allocation> {
        let count = request.count as usize;
        // Addresses this request takes, so two NICs on one subnet never get the same one.
        let mut chosen: HashMap<&str, HashSet<Ipv4Addr>> = HashMap::new();
        for nic in request.nics.iter().filter(|nic| nic.port_id.is_none()) {
            if let Some(ip) = nic.ip
                && (tx.address_in_use(project_id, &nic.subnet_id, ip)?
                    || !chosen.entry(nic.subnet_id.as_str()).or_default().insert(ip))
            {
                return Err(Error::new(ErrorCode::IpInUse, format!("The private IP address {ip} is already in use.")));
            }
        }
        let mut per_nic = Vec::with_capacity(request.nics.len());
        let mut hints = Vec::new();
        for (index, nic) in request.nics.iter().enumerate() {
            if let Some(port) = attached.get(index).and_then(Option::as_ref) {
                per_nic.push(vec![port.ip; count]);
                continue;
            }
            if let Some(ip) = nic.ip {
                per_nic.push(vec![ip]);
                continue;
            }
            let subnet = self.catalogue.subnet(&nic.subnet_id).ok_or_else(|| {
                Error::new(ErrorCode::SubnetNotFound, format!("The subnet {} does not exist.", nic.subnet_id))
            })?;
            let taken_here = chosen.entry(subnet.id.as_str()).or_default();
            let from = tx.lowest_free_hint(project_id, &subnet.id)?;
            let picked = free_addresses(subnet, from, count, |ip| {
                Ok::<_, Error>(taken_here.contains(&ip) || tx.address_in_use(project_id, &subnet.id, ip)?)
            })?
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::SubnetFull,
                    format!("The subnet {} has fewer than {count} free IP addresses.", subnet.id),
                )
            })?;
            // Once these are inserted, every address from the hint up to the last picked is taken.
            if let Some(last) = picked.last() {
                hints.push((subnet.id.clone(), u32::from(*last) + 1));
            }
            taken_here.extend(picked.iter().copied());
            per_nic.push(picked);
        }
        let addresses = (0..count).map(|server| per_nic.iter().map(|ips| ips[server]).collect()).collect();
        Ok(Allocation { addresses, hints })
    }

    pub fn list_servers_details(
        &self,
        project_id: &str,
        filter: &ServerFilter,
        page: Page,
    ) -> Result<(u64, Vec<Server>)> {
        read(self.store.as_ref(), |tx| tx.list_servers(project_id, filter, &page))
    }

    /// The servers among `ids` (at most one page), in the order asked; `None` for an id that
    /// is not a server of the project.
    pub fn servers_by_ids(&self, project_id: &str, ids: &[String]) -> Result<Vec<(String, Option<Server>)>> {
        let ids: Vec<String> = ids.iter().take(Page::MAX_LIMIT as usize).cloned().collect();
        let mut found = read(self.store.as_ref(), |tx| tx.servers(project_id, &ids))?;
        Ok(ids.into_iter().map(|id| (id.clone(), found.remove(&id))).collect())
    }

    pub fn show_server(&self, project_id: &str, server_id: &str) -> Result<Server> {
        read(self.store.as_ref(), |tx| tx.server(project_id, server_id))?
            .ok_or_else(|| Error::server_not_found(server_id))
    }

    pub fn update_server(&self, project_id: &str, server_id: &str, update: &ServerUpdate) -> Result<Server> {
        if let Some(name) = &update.name {
            validate::server_name(name, validate::MAX_NAME_CHARS)?;
        }
        if let Some(description) = &update.description {
            validate::description(description)?;
        }
        transact(self.store.as_ref(), |tx| {
            // Read under the write lock, so times follow the order in which operations commit.
            let now = self.clock.now();
            let mut server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            InstantOperation::Rename.check(server.state()).map_err(|code| refusal(code, &server))?;
            if let Some(name) = &update.name {
                server.name = name.clone();
            }
            if let Some(description) = &update.description {
                server.description = description.clone();
            }
            server.updated = now;
            apply::save(tx, &self.catalogue, &server, server.task_state)?;
            Ok(server)
        })
    }
}

/// The error for a server that a rule refused, naming the server and why.
pub(super) fn refusal(code: ErrorCode, server: &Server) -> Error {
    let status = server.status().as_str();
    let message = match code {
        ErrorCode::WrongStatus => {
            format!("The ECS {} is {status}; the operation is not allowed in this status.", server.id)
        }
        ErrorCode::ServerBusy => format!(
            "Another operation ({}) is running on the ECS {}. Try again later.",
            server.task_state.map_or("unknown", |t| t.as_str()),
            server.id
        ),
        ErrorCode::ServerLocked => format!("The ECS {} is locked.", server.id),
        ErrorCode::AlreadyDeleting => format!("The ECS {} is already being deleted.", server.id),
        other => format!("{} ({})", other.wire().2, server.id),
    };
    Error::new(code, message)
}

/// One server's part of a new job: the operation it starts from its stable state `from`, or
/// the failure that refused it when the job was planned.
pub(super) struct PlannedSubJob {
    pub server_id: String,
    pub operation: Operation,
    pub from: VmState,
    pub refused: Option<Failure>,
}

/// A job with one sub-job per planned server, in order. Accepted servers must already be in
/// step 0 of their plan; refused ones get a sub-job that has already failed.
pub(super) fn new_job(
    project_id: &str,
    kind: OperationKind,
    planned: Vec<PlannedSubJob>,
    single_server: bool,
    now: crate::domain::server::Timestamp,
) -> Job {
    let id = new_job_id();
    let sub_jobs = planned
        .into_iter()
        .map(|p| SubJob {
            id: new_job_id(),
            job_id: id.clone(),
            project_id: project_id.to_string(),
            server_id: p.server_id,
            operation: p.operation,
            from: p.from,
            status: if p.refused.is_some() { JobStatus::Fail } else { JobStatus::Init },
            step: 0,
            begin_time: now,
            end_time: p.refused.as_ref().map(|_| now),
            failure: p.refused,
            held_by: None,
        })
        .collect();
    let mut job = Job {
        id,
        project_id: project_id.to_string(),
        kind,
        status: JobStatus::Init,
        begin_time: now,
        end_time: None,
        failure: None,
        single_server,
        sub_jobs,
    };
    (job.status, job.failure) = initial_status(&job);
    job.end_time = job.status.is_finished().then_some(now);
    job
}
