//! A server's NICs: adding and deleting them (jobs), and what it has and may still take.

use std::net::Ipv4Addr;

use super::Ecs;
use super::control::save_rules;
use super::network::{ECS_CODES, resolve_groups, take_address};
use super::servers::{PlannedSubJob, new_job, refusal};
use crate::domain::create::MAX_NICS;
use crate::domain::faults::{FaultOperation, LoadedRules, Stage};
use crate::domain::network::{Port, PortFilter, random_mac};
use crate::domain::server::{Nic, Server};
use crate::domain::status::Operation;
use crate::domain::{Error, ErrorCode, Result};
use crate::engine::Wakeup;
use crate::store::{WriteTx, read, transact};

/// One NIC of `BatchAddServerNics`.
#[derive(Debug, Clone)]
pub struct NewNic {
    pub subnet_id: String,
    pub ip: Option<Ipv4Addr>,
    /// The groups of its port; the project's default group when empty.
    pub security_group_ids: Vec<String>,
}

impl Ecs {
    /// How many NICs a server of its flavor may have.
    pub fn max_nics(&self, server: &Server) -> usize {
        self.catalogue.flavor(&server.flavor_id).map_or(MAX_NICS, |f| MAX_NICS.min(f.max_nics as usize))
    }

    /// `BatchAddServerNics`: the ports are made (and their addresses taken) now; they join the
    /// server when the job ends.
    pub fn batch_add_server_nics(&self, project_id: &str, server_id: &str, nics: &[NewNic]) -> Result<String> {
        if nics.is_empty() {
            return Err(Error::invalid("nics must name at least one NIC."));
        }
        let subnets = nics
            .iter()
            .map(|nic| {
                self.catalogue.subnet(&nic.subnet_id).ok_or_else(|| {
                    Error::new(ErrorCode::SubnetNotFound, format!("The subnet {} does not exist.", nic.subnet_id))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let (job_id, wakeups) = transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            let server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            if let Some(injected) = self.check_nic_operation(tx, &Operation::AddNics { nics: vec![] }, &server)? {
                return Ok(Err(injected));
            }
            let limit = self.max_nics(&server);
            if server.nics.len() + nics.len() > limit {
                return Err(Error::new(
                    ErrorCode::TooManyNics,
                    format!("The ECS {server_id} has {} NICs and may have at most {limit}.", server.nics.len()),
                ));
            }
            let mut added = Vec::with_capacity(nics.len());
            for (nic, subnet) in nics.iter().zip(&subnets) {
                if subnet.vpc_id != server.vpc_id {
                    return Err(Error::new(
                        ErrorCode::SubnetNotInVpc,
                        format!("The subnet {} is not in the VPC {} of the ECS.", subnet.id, server.vpc_id),
                    ));
                }
                let groups =
                    resolve_groups(tx, project_id, &nic.security_group_ids, ErrorCode::SecurityGroupMissing, now)?;
                let port = Port {
                    id: uuid::Uuid::new_v4().to_string(),
                    project_id: project_id.to_string(),
                    name: String::new(),
                    subnet_id: subnet.id.clone(),
                    ip: take_address(tx, project_id, subnet, nic.ip, ECS_CODES)?,
                    mac: random_mac(),
                    device_id: server.id.clone(),
                    device_owner: format!("compute:{}", server.availability_zone),
                    security_group_ids: groups,
                    allowed_address_pairs: vec![],
                    primary: false,
                    created: now,
                };
                tx.insert_port(&port)?;
                added.push(Nic { port_id: port.id, subnet_id: port.subnet_id, ip: port.ip, mac: port.mac });
            }
            self.start_nic_job(tx, &server, Operation::AddNics { nics: added }, now).map(Ok)
        })??;
        tracing::info!(%project_id, %server_id, %job_id, nics = nics.len(), "NICs being added");
        self.engine.wake(wakeups);
        Ok(job_id)
    }

    /// `BatchDeleteServerNics`: the NICs leave the server, and their ports are deleted, when
    /// the job ends. The primary NIC stays.
    pub fn batch_delete_server_nics(&self, project_id: &str, server_id: &str, port_ids: &[String]) -> Result<String> {
        if port_ids.is_empty() {
            return Err(Error::invalid("nics must name at least one NIC."));
        }
        let mut unique: Vec<String> = Vec::with_capacity(port_ids.len());
        for id in port_ids {
            if !unique.contains(id) {
                unique.push(id.clone());
            }
        }
        let (job_id, wakeups) = transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            let server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            for id in &unique {
                match server.nics.iter().position(|nic| nic.port_id == *id) {
                    None => {
                        return Err(Error::new(
                            ErrorCode::NicNotOnServer,
                            format!("The ECS {server_id} has no NIC {id}."),
                        ));
                    }
                    Some(0) => {
                        return Err(Error::new(
                            ErrorCode::PrimaryNic,
                            format!("The NIC {id} is the primary NIC of the ECS {server_id} and cannot be deleted."),
                        ));
                    }
                    Some(_) => {}
                }
            }
            let operation = Operation::DeleteNics { port_ids: unique.clone() };
            if let Some(injected) = self.check_nic_operation(tx, &operation, &server)? {
                return Ok(Err(injected));
            }
            self.start_nic_job(tx, &server, operation, now).map(Ok)
        })??;
        tracing::info!(%project_id, %server_id, %job_id, "NICs being deleted");
        self.engine.wake(wakeups);
        Ok(job_id)
    }

    /// The transition rule, then the per-server fault rules: the error one injects is returned
    /// for the caller to answer after committing the rules' counters, which is all it writes.
    fn check_nic_operation(
        &self,
        tx: &mut dyn WriteTx,
        operation: &Operation,
        server: &Server,
    ) -> Result<Option<Error>> {
        operation.check(server.state()).map_err(|code| refusal(code, server))?;
        let mut rules = LoadedRules::new(tx.fault_rules()?);
        let fired = rules.fire(Stage::Precheck, FaultOperation::Nics, &server.project_id, Some(server));
        save_rules(tx, &rules)?;
        Ok(fired
            .as_ref()
            .and_then(|(_, effect)| effect.failure())
            .map(|(code, message)| Error::injected(400, code, message)))
    }

    fn start_nic_job(
        &self,
        tx: &mut dyn WriteTx,
        server: &Server,
        operation: Operation,
        now: crate::domain::server::Timestamp,
    ) -> Result<(String, Vec<Wakeup>)> {
        self.begin(tx, server, &operation, now)?;
        let planned = PlannedSubJob { server_id: server.id.clone(), operation, from: server.vm_state, refused: None };
        let kind = planned.operation.kind();
        // Shown with its sub-job, as `addNic` jobs are (`addSingleNic` under them).
        let job = new_job(&server.project_id, kind, vec![planned], false, now);
        crate::audit::insert_job(tx, &job)?;
        let wakeups = job.sub_jobs.iter().map(Wakeup::of).collect();
        Ok((job.id, wakeups))
    }

    /// `ListServerInterfaces`: the server and the ports of its NICs, in NIC order.
    pub fn list_server_interfaces(&self, project_id: &str, server_id: &str) -> Result<(Server, Vec<Port>)> {
        read(self.store.as_ref(), |tx| {
            let server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            let ports =
                tx.ports(project_id, &PortFilter { device_id: Some(server_id.to_string()), ..Default::default() })?;
            let ordered =
                server.nics.iter().filter_map(|nic| ports.iter().find(|p| p.id == nic.port_id).cloned()).collect();
            Ok((server, ordered))
        })
    }
}
