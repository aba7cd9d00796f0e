//! A server's NICs: adding and deleting them and moving the server to another VPC (jobs), what
//! it has and may still take, whether a NIC's port goes with it, the primary NIC's address and
//! the virtual IPs of a NIC, and the security groups of its NICs. No wire type here: the ECS
//! API and Nova's `os-interface` and security group actions call these.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use super::Ecs;
use super::network::{ECS_CODES, check_groups, ensure_default_group, resolve_groups, take_address};
use super::servers::refusal;
use crate::domain::catalogue::Subnet;
use crate::domain::create::{MAX_NICS, free_addresses};
use crate::domain::network::{
    DEFAULT_GROUP, FixedIpTerm, Port, PortFilter, SecurityGroup, SecurityGroupRule, VIP_OWNER, associate_vip,
    check_group_list, disassociate_vips, random_mac,
};
use crate::domain::server::{Nic, Server, Timestamp};
use crate::domain::status::{InstantOperation, Operation};
use crate::domain::{Error, ErrorCode, Result};
use crate::engine::apply;
use crate::store::{ReadTx, WriteTx, read, transact};

/// A NIC to join a server.
#[derive(Debug, Clone)]
pub enum NewNic {
    /// A port made on the subnet, holding `ip` (if free, else the lowest free address), with
    /// these groups (the project's default group when empty); deleted when it leaves.
    Subnet { subnet_id: String, ip: Option<Ipv4Addr>, security_group_ids: Vec<String> },
    /// An existing `DOWN` port of the server's VPC, attached as it is (its address, MAC and
    /// groups kept); only unbound when it leaves.
    Port { port_id: String },
}

/// A server's security groups with their rules, and the names of its project's groups by id.
pub type ServerSecurityGroups = (Vec<(SecurityGroup, Vec<SecurityGroupRule>)>, HashMap<String, String>);

/// A NIC of a request, checked, waiting for its port.
enum Planned<'c> {
    Subnet { subnet: &'c Subnet, ip: Option<Ipv4Addr>, security_group_ids: Vec<String> },
    Port(Box<Port>),
}

/// The project's security group of the id `name`, else the one of that name (Nova's actions
/// name a group either way). The default group is made when it does not exist yet, as Neutron
/// makes it on first use.
fn group_named(tx: &mut dyn WriteTx, project_id: &str, name: &str, now: Timestamp) -> Result<SecurityGroup> {
    let groups = tx.security_groups(project_id)?;
    if let Some(group) = groups.iter().find(|g| g.id == name) {
        return Ok(group.clone());
    }
    let mut named = groups.into_iter().filter(|g| g.name == name);
    match (named.next(), named.next()) {
        (Some(group), None) => Ok(group),
        (Some(_), Some(_)) => Err(Error::new(
            ErrorCode::SecurityGroupAmbiguous,
            format!("Multiple security groups found matching '{name}'. Use an ID to be more specific."),
        )),
        (None, _) if name == DEFAULT_GROUP => ensure_default_group(tx, project_id, now),
        (None, _) => Err(Error::new(ErrorCode::SecurityGroupNotFound, format!("Security group {name} not found."))),
    }
}

fn nic_not_on_server(server_id: &str, port_id: &str) -> Error {
    Error::new(ErrorCode::NicNotOnServer, format!("The ECS {server_id} has no NIC {port_id}."))
}

impl Ecs {
    /// How many NICs a server of its flavor may have.
    pub fn max_nics(&self, server: &Server) -> usize {
        self.catalogue.flavor(&server.flavor_id).map_or(MAX_NICS, |f| MAX_NICS.min(f.max_nics as usize))
    }

    /// The port `port_id` as a NIC to attach to a server of `vpc_id`: a port of the project,
    /// `DOWN`, on a subnet of that VPC.
    pub(super) fn port_to_attach(
        &self,
        tx: &mut dyn ReadTx,
        project_id: &str,
        port_id: &str,
        vpc_id: &str,
    ) -> Result<Port> {
        let port = tx
            .port(project_id, port_id)?
            .ok_or_else(|| Error::new(ErrorCode::NicPortNotFound, format!("The port {port_id} does not exist.")))?;
        port.check_attachable()?;
        if self.catalogue.subnet(&port.subnet_id).is_none_or(|subnet| subnet.vpc_id != vpc_id) {
            return Err(Error::new(
                ErrorCode::SubnetNotInVpc,
                format!("The port {port_id} is not in the VPC {vpc_id} of the ECS."),
            ));
        }
        Ok(port)
    }

    /// Checks the NICs that are to join `server` on the VPC `vpc_id`, then makes their ports
    /// (or binds the existing ones) with their addresses taken. Every refusal comes before the
    /// first write, so a refused request leaves nothing behind. With `primary`, the first is
    /// the server's primary NIC.
    fn make_nics(
        &self,
        tx: &mut dyn WriteTx,
        server: &Server,
        vpc_id: &str,
        nics: &[NewNic],
        primary: bool,
        now: Timestamp,
    ) -> Result<Vec<Nic>> {
        let project_id = server.project_id.as_str();
        // Addresses this request takes, so two NICs on one subnet never get the same one.
        let mut taken: HashMap<String, HashSet<Ipv4Addr>> = HashMap::new();
        let mut planned = Vec::with_capacity(nics.len());
        for nic in nics {
            match nic {
                NewNic::Port { port_id } => {
                    let port = self.port_to_attach(tx, project_id, port_id, vpc_id)?;
                    if planned.iter().any(|p| matches!(p, Planned::Port(other) if other.id == port.id)) {
                        return Err(Error::invalid(format!("The port {port_id} is named twice.")));
                    }
                    planned.push(Planned::Port(Box::new(port)));
                }
                NewNic::Subnet { subnet_id, ip, security_group_ids } => {
                    let subnet = self.catalogue.subnet(subnet_id).ok_or_else(|| {
                        Error::new(ErrorCode::SubnetNotFound, format!("The subnet {subnet_id} does not exist."))
                    })?;
                    if subnet.vpc_id != vpc_id {
                        return Err(Error::new(
                            ErrorCode::SubnetNotInVpc,
                            format!("The subnet {subnet_id} is not in the VPC {vpc_id}."),
                        ));
                    }
                    check_groups(tx, project_id, security_group_ids, ErrorCode::SecurityGroupMissing)?;
                    if let Some(ip) = *ip {
                        if !subnet.contains(ip) {
                            return Err(Error::new(
                                ErrorCode::IpNotInSubnet,
                                format!("The IP address {ip} is not in the subnet {subnet_id} ({}).", subnet.cidr),
                            ));
                        }
                        if tx.address_in_use(project_id, subnet_id, ip)?
                            || !taken.entry(subnet_id.clone()).or_default().insert(ip)
                        {
                            return Err(Error::new(
                                ErrorCode::IpInUse,
                                format!("The private IP address {ip} is already in use."),
                            ));
                        }
                    }
                    planned.push(Planned::Subnet { subnet, ip: *ip, security_group_ids: security_group_ids.clone() });
                }
            }
        }
        // The lowest free addresses, picked before anything is written: a full subnet refuses
        // the whole request. Once the ports hold them, every address from a subnet's hint up to
        // the last one picked there is taken.
        let mut hints: HashMap<String, u32> = HashMap::new();
        for plan in &mut planned {
            let Planned::Subnet { subnet, ip: ip @ None, .. } = plan else { continue };
            let here = taken.entry(subnet.id.clone()).or_default();
            let from = tx.lowest_free_hint(project_id, &subnet.id)?;
            let picked = free_addresses(subnet, from, 1, |candidate| {
                Ok::<_, Error>(here.contains(&candidate) || tx.address_in_use(project_id, &subnet.id, candidate)?)
            })?
            .and_then(|ips| ips.first().copied())
            .ok_or_else(|| {
                Error::new(ErrorCode::SubnetFull, format!("The subnet {} has no free IP address.", subnet.id))
            })?;
            here.insert(picked);
            let hint = hints.entry(subnet.id.clone()).or_default();
            *hint = (*hint).max(u32::from(picked) + 1);
            *ip = Some(picked);
        }
        let mut made = Vec::with_capacity(planned.len());
        for (index, plan) in planned.into_iter().enumerate() {
            let is_primary = primary && index == 0;
            match plan {
                Planned::Port(mut port) => {
                    port.bind(server, is_primary);
                    tx.update_port(&port)?;
                    made.push(port.as_nic(false));
                }
                Planned::Subnet { subnet, ip, security_group_ids } => {
                    let mut port = Port {
                        id: uuid::Uuid::new_v4().to_string(),
                        project_id: project_id.to_string(),
                        name: String::new(),
                        subnet_id: subnet.id.clone(),
                        ip: ip.ok_or_else(|| Error::internal("an address was picked for every NIC"))?,
                        mac: random_mac(),
                        device_id: String::new(),
                        device_owner: String::new(),
                        security_group_ids: resolve_groups(
                            tx,
                            project_id,
                            &security_group_ids,
                            ErrorCode::SecurityGroupMissing,
                            now,
                        )?,
                        allowed_address_pairs: vec![],
                        primary: false,
                        created: now,
                    };
                    port.bind(server, is_primary);
                    tx.insert_port(&port)?;
                    made.push(port.as_nic(true));
                }
            }
        }
        for (subnet_id, hint) in hints {
            tx.set_lowest_free_hint(project_id, &subnet_id, hint)?;
        }
        Ok(made)
    }

    /// `BatchAddServerNics`: the ports are made (or bound) now, holding their addresses; they
    /// join the server when the job ends.
    pub fn batch_add_server_nics(&self, project_id: &str, server_id: &str, nics: &[NewNic]) -> Result<String> {
        self.add_server_nics(project_id, server_id, nics).map(|(job_id, _)| job_id)
    }

    /// `NovaAttachInterface`: the same NIC change as `BatchAddServerNics`, of one NIC; answers
    /// the job and the NIC as it joins (its port is bound to the server already).
    pub fn attach_server_interface(&self, project_id: &str, server_id: &str, nic: &NewNic) -> Result<(String, Nic)> {
        let (job_id, mut nics) = self.add_server_nics(project_id, server_id, std::slice::from_ref(nic))?;
        let nic = nics.pop().ok_or_else(|| Error::internal("an accepted attach made its NIC"))?;
        Ok((job_id, nic))
    }

    fn add_server_nics(&self, project_id: &str, server_id: &str, nics: &[NewNic]) -> Result<(String, Vec<Nic>)> {
        if nics.is_empty() {
            return Err(Error::invalid("nics must name at least one NIC."));
        }
        let mut made = Vec::new();
        let rule = Operation::AddNics { nics: vec![] };
        let job_id = self.start_server_job_with(project_id, server_id, &rule, |tx, server, now| {
            let limit = self.max_nics(server);
            if server.nics.len() + nics.len() > limit {
                return Err(Error::new(
                    ErrorCode::TooManyNics,
                    format!("The ECS {server_id} has {} NICs and may have at most {limit}.", server.nics.len()),
                ));
            }
            let added = self.make_nics(tx, server, &server.vpc_id, nics, false, now)?;
            made.clone_from(&added);
            Ok((server.clone(), Operation::AddNics { nics: added }))
        })?;
        Ok((job_id, made))
    }

    /// `BatchDeleteServerNics`: the NICs leave the server when the job ends, their ports
    /// deleted (or unbound, for ports attached by their id). The primary NIC stays.
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
        let rule = Operation::DeleteNics { port_ids: vec![] };
        self.start_server_job_with(project_id, server_id, &rule, |_, server, _| {
            for id in &unique {
                match server.nics.iter().position(|nic| nic.port_id == *id) {
                    None => return Err(nic_not_on_server(server_id, id)),
                    Some(0) => {
                        return Err(Error::new(
                            ErrorCode::PrimaryNic,
                            format!("The NIC {id} is the primary NIC of the ECS {server_id} and cannot be deleted."),
                        ));
                    }
                    Some(_) => {}
                }
            }
            Ok((server.clone(), Operation::DeleteNics { port_ids: unique.clone() }))
        })
    }

    /// `ChangeVpc`: the server, which has only its primary NIC, gets `nic` on the VPC `vpc_id`
    /// as its new primary NIC when the job ends; the old one leaves it as a deleted NIC does.
    pub fn change_vpc(&self, project_id: &str, server_id: &str, vpc_id: &str, nic: &NewNic) -> Result<String> {
        if self.catalogue.vpc(vpc_id).is_none() {
            return Err(Error::new(ErrorCode::InvalidNetwork, format!("The VPC {vpc_id} does not exist.")));
        }
        let rule = Operation::ChangeVpc { vpc_id: String::new(), nics: vec![] };
        self.start_server_job_with(project_id, server_id, &rule, |tx, server, now| {
            if server.vpc_id == vpc_id {
                return Err(Error::invalid(format!("The ECS {server_id} is in the VPC {vpc_id} already.")));
            }
            if server.nics.len() > 1 {
                return Err(Error::invalid(format!(
                    "The ECS {server_id} has {} NICs: only a server with its primary NIC alone can change its VPC.",
                    server.nics.len()
                )));
            }
            if let NewNic::Port { port_id } = nic
                && tx.port(project_id, port_id)?.is_some_and(|port| port.security_group_ids.is_empty())
            {
                return Err(Error::new(
                    ErrorCode::SecurityGroupMissing,
                    format!("The port {port_id} has no security group."),
                ));
            }
            let nics = self.make_nics(tx, server, vpc_id, std::slice::from_ref(nic), true, now)?;
            Ok((server.clone(), Operation::ChangeVpc { vpc_id: vpc_id.to_string(), nics }))
        })
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

    /// `UpdateServerInterface`: whether the NIC's port is deleted when it leaves the server.
    pub fn update_server_interface(
        &self,
        project_id: &str,
        server_id: &str,
        port_id: &str,
        delete_on_termination: bool,
    ) -> Result<()> {
        transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            let mut server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            InstantOperation::UpdateInterface.check(server.state()).map_err(|code| refusal(code, &server))?;
            let nic = server
                .nics
                .iter_mut()
                .find(|nic| nic.port_id == port_id)
                .ok_or_else(|| nic_not_on_server(server_id, port_id))?;
            nic.delete_on_termination = delete_on_termination;
            server.updated = now;
            apply::save(tx, &self.catalogue, &server, server.task_state)
        })
    }

    /// `ChangeServerNetworkInterface`: the primary NIC of a stopped server takes another
    /// address, of its subnet or of another subnet of its VPC (`ip`, else the lowest free
    /// one). Its port keeps its id and MAC; the old address is free again.
    pub fn change_server_network_interface(
        &self,
        project_id: &str,
        server_id: &str,
        port_id: &str,
        subnet_id: &str,
        ip: Option<Ipv4Addr>,
    ) -> Result<Port> {
        transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            let mut server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            InstantOperation::ChangeNetworkInterface.check(server.state()).map_err(|code| refusal(code, &server))?;
            match server.nics.iter().position(|nic| nic.port_id == port_id) {
                None => return Err(nic_not_on_server(server_id, port_id)),
                Some(0) => {}
                Some(_) => {
                    return Err(Error::new(
                        ErrorCode::NotPrimaryNic,
                        format!("The NIC {port_id} is not the primary NIC of the ECS {server_id}."),
                    ));
                }
            }
            let subnet = self.catalogue.subnet(subnet_id).ok_or_else(|| {
                Error::new(ErrorCode::SubnetNotFound, format!("The subnet {subnet_id} does not exist."))
            })?;
            if subnet.vpc_id != server.vpc_id {
                return Err(Error::new(
                    ErrorCode::SubnetNotInVpc,
                    format!("The subnet {subnet_id} is not in the VPC {} of the ECS.", server.vpc_id),
                ));
            }
            let mut port = tx
                .port(project_id, port_id)?
                .ok_or_else(|| Error::internal(format!("the NIC {port_id} has no port")))?;
            if port.subnet_id == subnet.id && ip == Some(port.ip) {
                return Ok(port);
            }
            let address = take_address(tx, project_id, subnet, ip, ECS_CODES)?;
            tx.delete_port(project_id, port_id)?;
            port.subnet_id.clone_from(&subnet.id);
            port.ip = address;
            tx.insert_port(&port)?;
            let nic = &mut server.nics[0];
            nic.subnet_id.clone_from(&port.subnet_id);
            nic.ip = address;
            server.updated = now;
            apply::save(tx, &self.catalogue, &server, server.task_state)?;
            Ok(port)
        })
    }

    /// The port `nic_id` when it is a NIC of a server of the project.
    fn server_nic(tx: &mut dyn ReadTx, project_id: &str, nic_id: &str) -> Result<Port> {
        tx.port(project_id, nic_id)?.filter(|port| !port.device_id.is_empty()).ok_or_else(|| {
            Error::new(ErrorCode::NicPortNotFound, format!("The NIC {nic_id} is not a NIC of an ECS of the project."))
        })
    }

    /// `AssociateServerVirtualIp`: the NIC may send from the virtual IP `ip` of its subnet,
    /// which is the private IP or virtual IP port holding it, or a new virtual IP port.
    /// Answers the NIC's port id.
    pub fn associate_server_virtual_ip(
        &self,
        project_id: &str,
        nic_id: &str,
        subnet_id: &str,
        ip: Ipv4Addr,
        reverse_binding: bool,
    ) -> Result<String> {
        transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            let mut nic = Self::server_nic(tx, project_id, nic_id)?;
            let subnet = self.catalogue.subnet(subnet_id).ok_or_else(|| {
                Error::new(ErrorCode::SubnetNotFound, format!("The subnet {subnet_id} does not exist."))
            })?;
            if subnet.id != nic.subnet_id {
                return Err(Error::invalid(format!(
                    "The virtual IP must be of the subnet {} of the NIC {nic_id}.",
                    nic.subnet_id
                )));
            }
            if !subnet.contains(ip) {
                return Err(Error::new(
                    ErrorCode::IpNotInSubnet,
                    format!("The IP address {ip} is not in the subnet {subnet_id} ({}).", subnet.cidr),
                ));
            }
            let filter = PortFilter {
                network_id: Some(subnet.id.clone()),
                fixed_ips: vec![FixedIpTerm::IpAddress(ip.to_string())],
                ..Default::default()
            };
            let holder = tx.ports(project_id, &filter)?.into_iter().next();
            let (mut vip, new) = match holder {
                Some(port) if port.device_id.is_empty() && matches!(port.device_owner.as_str(), "" | VIP_OWNER) => {
                    (port, false)
                }
                Some(_) => {
                    return Err(Error::new(
                        ErrorCode::IpInUse,
                        format!("The private IP address {ip} is already in use by a NIC."),
                    ));
                }
                None => {
                    let port = Port {
                        id: uuid::Uuid::new_v4().to_string(),
                        project_id: project_id.to_string(),
                        name: String::new(),
                        subnet_id: subnet.id.clone(),
                        ip,
                        mac: random_mac(),
                        device_id: String::new(),
                        device_owner: VIP_OWNER.to_string(),
                        security_group_ids: vec![],
                        allowed_address_pairs: vec![],
                        primary: false,
                        created: now,
                    };
                    (port, true)
                }
            };
            associate_vip(&mut nic, &mut vip, reverse_binding)?;
            if new {
                tx.insert_port(&vip)?;
            } else {
                tx.update_port(&vip)?;
            }
            tx.update_port(&nic)?;
            Ok(nic.id)
        })
    }

    /// `DisassociateServerVirtualIp`: the NIC's virtual IPs are unbound (the ports holding
    /// them stay). Answers the NIC's port id.
    pub fn disassociate_server_virtual_ip(&self, project_id: &str, nic_id: &str) -> Result<String> {
        transact(self.store.as_ref(), |tx| {
            let mut nic = Self::server_nic(tx, project_id, nic_id)?;
            let own = nic.ip.to_string();
            let filter = PortFilter { network_id: Some(nic.subnet_id.clone()), ..Default::default() };
            let mut vips: Vec<Port> = tx
                .ports(project_id, &filter)?
                .into_iter()
                .filter(|port| port.id != nic.id && port.allowed_address_pairs.iter().any(|p| p.ip_address == own))
                .collect();
            disassociate_vips(&mut nic, &mut vips);
            for vip in &vips {
                tx.update_port(vip)?;
            }
            tx.update_port(&nic)?;
            Ok(nic.id)
        })
    }

    /// The ports of the server's NICs, those still joining it included.
    fn server_ports(tx: &mut dyn ReadTx, project_id: &str, server_id: &str) -> Result<Vec<Port>> {
        tx.ports(project_id, &PortFilter { device_id: Some(server_id.to_string()), ..Default::default() })
    }

    /// The groups a Nova create names in `security_groups`, as Nova resolves them: each by id or
    /// by name (`default` the project's default group, made if need be), each once.
    pub fn security_groups_named(&self, project_id: &str, names: &[String]) -> Result<Vec<String>> {
        transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            let mut ids: Vec<String> = Vec::with_capacity(names.len());
            for name in names {
                let id = group_named(tx, project_id, name, now)?.id;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            Ok(ids)
        })
    }

    /// `NovaAssociateSecurityGroup`: every NIC of the server takes the group (named by its id or
    /// its name); a NIC that has it already keeps it once.
    pub fn add_server_security_group(&self, project_id: &str, server_id: &str, group: &str) -> Result<()> {
        self.change_server_security_groups(project_id, server_id, group, true)
    }

    /// `NovaDisassociateSecurityGroup`: the group leaves every NIC of the server that has it;
    /// refused when none has.
    pub fn remove_server_security_group(&self, project_id: &str, server_id: &str, group: &str) -> Result<()> {
        self.change_server_security_groups(project_id, server_id, group, false)
    }

    fn change_server_security_groups(&self, project_id: &str, server_id: &str, group: &str, add: bool) -> Result<()> {
        transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            let group = group_named(tx, project_id, group, now)?;
            let mut changed = Vec::new();
            for mut port in Self::server_ports(tx, project_id, server_id)? {
                let had = port.security_group_ids.contains(&group.id);
                if add && !had {
                    port.security_group_ids.push(group.id.clone());
                    check_group_list(&port.security_group_ids)?;
                    changed.push(port);
                } else if !add && had {
                    port.security_group_ids.retain(|id| *id != group.id);
                    changed.push(port);
                }
            }
            if !add && changed.is_empty() {
                return Err(Error::new(
                    ErrorCode::SecurityGroupNotOnServer,
                    format!("Security group {} not associated with the instance {server_id}.", group.name),
                ));
            }
            for port in &changed {
                tx.update_port(port)?;
            }
            self.refresh_server_groups(tx, project_id, server_id)
        })?;
        tracing::info!(%project_id, %server_id, %group, add, "server security groups changed");
        Ok(())
    }

    /// `NovaListServerSecurityGroups`: the groups of the server's NICs, each with its rules,
    /// and the names of the project's groups (which rules name as remote groups), by id.
    pub fn list_server_security_groups(&self, project_id: &str, server_id: &str) -> Result<ServerSecurityGroups> {
        read(self.store.as_ref(), |tx| {
            let server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            let groups = tx.security_groups(project_id)?;
            let mut listed = Vec::with_capacity(server.security_group_ids.len());
            for id in &server.security_group_ids {
                if let Some(group) = groups.iter().find(|g| g.id == *id) {
                    listed.push((group.clone(), tx.security_group_rules(project_id, Some(id))?));
                }
            }
            Ok((listed, groups.into_iter().map(|g| (g.id, g.name)).collect()))
        })
    }

    /// `NovaShowServerInterface`: the server and the port `port_id` when it is (or is joining
    /// as) one of its NICs.
    pub fn show_server_interface(&self, project_id: &str, server_id: &str, port_id: &str) -> Result<(Server, Port)> {
        read(self.store.as_ref(), |tx| {
            let server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            let port = tx
                .port(project_id, port_id)?
                .filter(|port| port.device_id == server_id)
                .ok_or_else(|| nic_not_on_server(server_id, port_id))?;
            Ok((server, port))
        })
    }
}
