//! The VPC API's use cases: VPCs and subnets of the catalogue, ports, private IPs, security
//! groups and their rules; and the part of them servers use (their NICs' ports and groups).

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::Ecs;
use crate::domain::catalogue::{Subnet, Vpc};
use crate::domain::create::free_addresses;
use crate::domain::network::{
    self, AddressPair, Port, PortFilter, SecurityGroup, SecurityGroupRule, VIP_OWNER, default_group, random_mac,
};
use crate::domain::query::{Page, ServerFilter, Start};
use crate::domain::server::{Server, Timestamp};
use crate::domain::{Error, ErrorCode, Result};
use crate::engine::apply;
use crate::store::{ReadTx, WriteTx, read, transact};

/// A port to create (`CreatePort`, or one `CreatePrivateip` entry).
#[derive(Debug, Clone, Default)]
pub struct NewPort {
    pub name: String,
    pub subnet_id: String,
    pub ip: Option<Ipv4Addr>,
    /// `None`: the project's default group (a private IP carries none).
    pub security_group_ids: Option<Vec<String>>,
    pub allowed_address_pairs: Vec<AddressPair>,
    pub device_owner: String,
}

/// What `UpdatePort` changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PortUpdate {
    pub name: Option<String>,
    pub security_group_ids: Option<Vec<String>>,
    pub allowed_address_pairs: Option<Vec<AddressPair>>,
}

/// A security group to create: the VPC API names a VPC and an enterprise project, Neutron a
/// description.
#[derive(Debug, Clone, Default)]
pub struct NewSecurityGroup {
    pub name: String,
    pub description: String,
    pub vpc_id: Option<String>,
    pub enterprise_project_id: Option<String>,
}

/// What `UpdateSecurityGroup` changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SecurityGroupUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// A rule to create; the service gives it its id and time.
pub struct NewRule {
    pub security_group_id: String,
    pub description: String,
    pub direction: network::Direction,
    pub ethertype: String,
    pub protocol: Option<String>,
    pub port_range_min: Option<u16>,
    pub port_range_max: Option<u16>,
    pub remote_ip_prefix: Option<String>,
    pub remote_group_id: Option<String>,
}

/// The codes an address refusal carries: each API has its own.
#[derive(Clone, Copy)]
pub(super) struct AddressCodes {
    pub in_use: ErrorCode,
    pub full: ErrorCode,
    pub outside: ErrorCode,
}

pub(super) const VPC_CODES: AddressCodes =
    AddressCodes { in_use: ErrorCode::VpcIpInUse, full: ErrorCode::VpcSubnetFull, outside: ErrorCode::PortInvalid };
pub(super) const ECS_CODES: AddressCodes =
    AddressCodes { in_use: ErrorCode::IpInUse, full: ErrorCode::SubnetFull, outside: ErrorCode::IpNotInSubnet };

/// Takes an address of the subnet for a new port: `wanted` if it is free, else the lowest free
/// one. Moves the subnet's hint past an address it picks.
pub(super) fn take_address(
    tx: &mut dyn WriteTx,
    project_id: &str,
    subnet: &Subnet,
    wanted: Option<Ipv4Addr>,
    codes: AddressCodes,
) -> Result<Ipv4Addr> {
    if let Some(ip) = wanted {
        if !subnet.contains(ip) {
            return Err(Error::new(codes.outside, format!("The IP address {ip} is not in the subnet {}.", subnet.id)));
        }
        if tx.address_in_use(project_id, &subnet.id, ip)? {
            return Err(Error::new(codes.in_use, format!("The private IP address {ip} is already in use.")));
        }
        return Ok(ip);
    }
    let from = tx.lowest_free_hint(project_id, &subnet.id)?;
    let picked = free_addresses(subnet, from, 1, |ip| tx.address_in_use(project_id, &subnet.id, ip))?
        .and_then(|ips| ips.first().copied())
        .ok_or_else(|| Error::new(codes.full, format!("The subnet {} has no free IP address.", subnet.id)))?;
    tx.set_lowest_free_hint(project_id, &subnet.id, u32::from(picked) + 1)?;
    Ok(picked)
}

/// The project's `default` group, made with its rules the first time it is asked for.
pub(super) fn ensure_default_group(tx: &mut dyn WriteTx, project_id: &str, now: Timestamp) -> Result<SecurityGroup> {
    if let Some(group) = tx.security_groups(project_id)?.into_iter().find(SecurityGroup::is_default) {
        return Ok(group);
    }
    let (group, rules) = default_group(project_id, now);
    tx.insert_security_group(&group)?;
    for rule in &rules {
        tx.insert_security_group_rule(rule)?;
    }
    Ok(group)
}

/// The groups a new port or NIC carries: those named, each checked to exist, or the default
/// group when none is.
pub(super) fn resolve_groups(
    tx: &mut dyn WriteTx,
    project_id: &str,
    ids: &[String],
    missing: ErrorCode,
    now: Timestamp,
) -> Result<Vec<String>> {
    check_groups(tx, project_id, ids, missing)?;
    if ids.is_empty() {
        return Ok(vec![ensure_default_group(tx, project_id, now)?.id]);
    }
    Ok(ids.to_vec())
}

/// The refusals of [`resolve_groups`], without writing: too many or repeated groups, or one
/// that does not exist (`missing`).
pub(super) fn check_groups(tx: &mut dyn ReadTx, project_id: &str, ids: &[String], missing: ErrorCode) -> Result<()> {
    network::check_group_list(ids).map_err(|e| Error::new(missing, e.message))?;
    for id in ids {
        if tx.security_group(project_id, id)?.is_none() {
            return Err(Error::new(missing, format!("The security group {id} does not exist.")));
        }
    }
    Ok(())
}

fn port_not_found(id: &str) -> Error {
    Error::new(ErrorCode::PortNotFound, format!("Port {id} could not be found."))
}

fn group_not_found(id: &str) -> Error {
    Error::new(ErrorCode::SecurityGroupNotFound, format!("Security group {id} could not be found."))
}

impl Ecs {
    pub fn show_vpc(&self, vpc_id: &str) -> Result<&Vpc> {
        self.catalogue
            .vpc(vpc_id)
            .ok_or_else(|| Error::new(ErrorCode::VpcNotFound, format!("VPC {vpc_id} does not exist.")))
    }

    /// The subnets (of one VPC when given) with the addresses each has free in the project.
    pub fn list_subnets(&self, project_id: &str, vpc_id: Option<&str>) -> Result<Vec<(&Subnet, u32)>> {
        read(self.store.as_ref(), |tx| {
            self.catalogue
                .subnets
                .iter()
                .filter(|s| vpc_id.is_none_or(|id| s.vpc_id == id))
                .map(|s| Ok((s, free_count(tx, project_id, s)?)))
                .collect()
        })
    }

    pub fn show_subnet(&self, project_id: &str, subnet_id: &str) -> Result<(&Subnet, u32)> {
        let subnet = self.catalogue.subnet(subnet_id).ok_or_else(|| {
            Error::new(
                ErrorCode::VpcSubnetNotFound,
                format!("Query resource by id {subnet_id} fail. The subnet could not be found."),
            )
        })?;
        let free = read(self.store.as_ref(), |tx| free_count(tx, project_id, subnet))?;
        Ok((subnet, free))
    }

    pub fn list_ports(&self, project_id: &str, filter: &PortFilter) -> Result<Vec<Port>> {
        read(self.store.as_ref(), |tx| tx.ports(project_id, filter))
    }

    pub fn show_port(&self, project_id: &str, port_id: &str) -> Result<Port> {
        read(self.store.as_ref(), |tx| tx.port(project_id, port_id))?.ok_or_else(|| port_not_found(port_id))
    }

    /// `CreatePort`: a port on a subnet, on no server.
    pub fn create_port(&self, project_id: &str, new: &NewPort) -> Result<Port> {
        network::check_name(&new.name, 255, ErrorCode::PortInvalid)?;
        network::check_address_pairs(&new.allowed_address_pairs)?;
        if !(new.device_owner.is_empty() || new.device_owner == VIP_OWNER) {
            return Err(Error::new(ErrorCode::PortInvalid, format!("device_owner may only be {VIP_OWNER}.")));
        }
        let subnet = self.catalogue.subnet(&new.subnet_id).ok_or_else(|| {
            Error::new(ErrorCode::PortInvalid, format!("The network {} does not exist.", new.subnet_id))
        })?;
        let port = transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            let groups = match &new.security_group_ids {
                Some(ids) if ids.is_empty() => vec![],
                Some(ids) => resolve_groups(tx, project_id, ids, ErrorCode::SecurityGroupInvalid, now)?,
                None => resolve_groups(tx, project_id, &[], ErrorCode::SecurityGroupInvalid, now)?,
            };
            let port = Port {
                id: uuid::Uuid::new_v4().to_string(),
                project_id: project_id.to_string(),
                name: new.name.clone(),
                subnet_id: subnet.id.clone(),
                ip: take_address(tx, project_id, subnet, new.ip, VPC_CODES)?,
                mac: random_mac(),
                device_id: String::new(),
                device_owner: new.device_owner.clone(),
                security_group_ids: groups,
                allowed_address_pairs: new.allowed_address_pairs.clone(),
                primary: false,
                created: now,
            };
            tx.insert_port(&port)?;
            Ok(port)
        })?;
        tracing::info!(%project_id, port_id = %port.id, ip = %port.ip, "port created");
        Ok(port)
    }

    /// `UpdatePort`: a server whose NIC it is shows the groups of its ports.
    pub fn update_port(&self, project_id: &str, port_id: &str, update: &PortUpdate) -> Result<Port> {
        if let Some(name) = &update.name {
            network::check_name(name, 255, ErrorCode::PortInvalid)?;
        }
        if let Some(pairs) = &update.allowed_address_pairs {
            network::check_address_pairs(pairs)?;
        }
        transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            let mut port = tx.port(project_id, port_id)?.ok_or_else(|| port_not_found(port_id))?;
            if let Some(name) = &update.name {
                port.name = name.clone();
            }
            if let Some(pairs) = &update.allowed_address_pairs {
                port.allowed_address_pairs = pairs.clone();
            }
            if let Some(ids) = &update.security_group_ids {
                port.security_group_ids = if ids.is_empty() {
                    vec![]
                } else {
                    resolve_groups(tx, project_id, ids, ErrorCode::SecurityGroupInvalid, now)?
                };
            }
            tx.update_port(&port)?;
            if update.security_group_ids.is_some() && !port.device_id.is_empty() {
                self.refresh_server_groups(tx, project_id, &port.device_id)?;
            }
            Ok(port)
        })
    }

    /// Stores the groups of a server's ports as the server's own.
    pub(super) fn refresh_server_groups(&self, tx: &mut dyn WriteTx, project_id: &str, server_id: &str) -> Result<()> {
        let Some(mut server) = tx.server(project_id, server_id)? else { return Ok(()) };
        let ports =
            tx.ports(project_id, &PortFilter { device_id: Some(server_id.to_string()), ..Default::default() })?;
        server.security_group_ids = network::server_groups_of(&ports, &server);
        apply::save(tx, &self.catalogue, &server, server.task_state)
    }

    /// `DeletePort`: refused while it is a server's NIC or owned by another service.
    pub fn delete_port(&self, project_id: &str, port_id: &str) -> Result<()> {
        transact(self.store.as_ref(), |tx| {
            let port = tx.port(project_id, port_id)?.ok_or_else(|| port_not_found(port_id))?;
            port.check_deletable()?;
            tx.delete_port(project_id, port_id)
        })?;
        tracing::info!(%project_id, %port_id, "port deleted");
        Ok(())
    }

    /// `ListPrivateips`: every address of the subnet a port of the project holds.
    pub fn list_privateips(&self, project_id: &str, subnet_id: &str) -> Result<Vec<Port>> {
        self.show_subnet(project_id, subnet_id)?;
        read(self.store.as_ref(), |tx| tx.subnet_ports(project_id, subnet_id))
    }

    /// `ShowPrivateip`: a private IP is the port that holds it.
    pub fn show_privateip(&self, project_id: &str, id: &str) -> Result<Port> {
        read(self.store.as_ref(), |tx| tx.port(project_id, id))?
            .ok_or_else(|| Error::new(ErrorCode::PrivateIpNotFound, format!("Private IP {id} does not exist.")))
    }

    /// `CreatePrivateip`: all the addresses asked for, or none.
    pub fn create_privateips(&self, project_id: &str, wanted: &[(String, Option<Ipv4Addr>)]) -> Result<Vec<Port>> {
        if wanted.is_empty() || wanted.len() > 20 {
            return Err(Error::new(ErrorCode::VpcInvalid, "privateips takes 1 to 20 entries."));
        }
        let subnets = wanted
            .iter()
            .map(|(subnet_id, ip)| {
                let subnet = self.catalogue.subnet(subnet_id).ok_or_else(|| {
                    Error::new(ErrorCode::VpcSubnetNotFound, format!("The subnet {subnet_id} does not exist."))
                })?;
                Ok((subnet, *ip))
            })
            .collect::<Result<Vec<_>>>()?;
        transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            let mut made = Vec::with_capacity(subnets.len());
            for (subnet, ip) in &subnets {
                let port = Port {
                    id: uuid::Uuid::new_v4().to_string(),
                    project_id: project_id.to_string(),
                    name: String::new(),
                    subnet_id: subnet.id.clone(),
                    ip: take_address(tx, project_id, subnet, *ip, VPC_CODES)?,
                    mac: random_mac(),
                    device_id: String::new(),
                    device_owner: String::new(),
                    security_group_ids: vec![],
                    allowed_address_pairs: vec![],
                    primary: false,
                    created: now,
                };
                tx.insert_port(&port)?;
                made.push(port);
            }
            Ok(made)
        })
    }

    /// `DeletePrivateip`: refused while the address is a server's or another service's.
    pub fn delete_privateip(&self, project_id: &str, id: &str) -> Result<()> {
        transact(self.store.as_ref(), |tx| {
            let port = tx
                .port(project_id, id)?
                .ok_or_else(|| Error::new(ErrorCode::PrivateIpNotFound, format!("Private IP {id} does not exist.")))?;
            port.check_deletable()?;
            tx.delete_port(project_id, id)
        })
    }

    /// `CreateSecurityGroup`: a new group comes with rules letting everything out.
    pub fn create_security_group(
        &self,
        project_id: &str,
        new: &NewSecurityGroup,
    ) -> Result<(SecurityGroup, Vec<SecurityGroupRule>)> {
        let NewSecurityGroup { name, description, vpc_id, enterprise_project_id } = new;
        let (name, vpc_id, enterprise_project_id) =
            (name.as_str(), vpc_id.as_deref(), enterprise_project_id.as_deref());
        if name.is_empty() {
            return Err(Error::new(ErrorCode::SecurityGroupInvalid, "The security group name must not be empty."));
        }
        network::check_name(name, 64, ErrorCode::SecurityGroupInvalid)?;
        network::check_description(description)?;
        if let Some(vpc) = vpc_id
            && self.catalogue.vpc(vpc).is_none()
        {
            return Err(Error::new(ErrorCode::SecurityGroupInvalid, format!("The VPC {vpc} does not exist.")));
        }
        let made = transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            // The default group exists before any other, as in a new project of the real cloud.
            ensure_default_group(tx, project_id, now)?;
            let (template, template_rules) = default_group(project_id, now);
            let group = SecurityGroup {
                name: name.to_string(),
                description: description.clone(),
                vpc_id: vpc_id.map(str::to_string),
                enterprise_project_id: enterprise_project_id.unwrap_or("0").to_string(),
                ..template
            };
            let rules: Vec<SecurityGroupRule> = template_rules
                .into_iter()
                .filter(|r| r.direction == network::Direction::Egress)
                .map(|r| SecurityGroupRule { security_group_id: group.id.clone(), ..r })
                .collect();
            tx.insert_security_group(&group)?;
            for rule in &rules {
                tx.insert_security_group_rule(rule)?;
            }
            Ok((group, rules))
        })?;
        tracing::info!(%project_id, group_id = %made.0.id, "security group created");
        Ok(made)
    }

    /// `UpdateSecurityGroup` (Neutron's): a new name, description, or both; the default group
    /// keeps its name.
    pub fn update_security_group(
        &self,
        project_id: &str,
        group_id: &str,
        update: &SecurityGroupUpdate,
    ) -> Result<(SecurityGroup, Vec<SecurityGroupRule>)> {
        if let Some(name) = &update.name {
            if name.is_empty() {
                return Err(Error::new(ErrorCode::SecurityGroupInvalid, "The security group name must not be empty."));
            }
            network::check_name(name, 64, ErrorCode::SecurityGroupInvalid)?;
        }
        if let Some(description) = &update.description {
            network::check_description(description)?;
        }
        transact(self.store.as_ref(), |tx| {
            let mut group = tx.security_group(project_id, group_id)?.ok_or_else(|| group_not_found(group_id))?;
            if let Some(name) = &update.name {
                if group.is_default() && *name != group.name {
                    return Err(Error::new(
                        ErrorCode::SecurityGroupInUse,
                        format!("Security group {group_id} is the default group: its name cannot change."),
                    ));
                }
                group.name = name.clone();
            }
            if let Some(description) = &update.description {
                group.description = description.clone();
            }
            tx.update_security_group(&group)?;
            let rules = tx.security_group_rules(project_id, Some(group_id))?;
            Ok((group, rules))
        })
    }

    /// `ListSecurityGroups`, each with its rules; the default group is made if the project has
    /// none yet.
    pub fn list_security_groups(&self, project_id: &str) -> Result<Vec<(SecurityGroup, Vec<SecurityGroupRule>)>> {
        transact(self.store.as_ref(), |tx| {
            ensure_default_group(tx, project_id, self.clock.now())?;
            let mut rules: HashMap<String, Vec<SecurityGroupRule>> = HashMap::new();
            for rule in tx.security_group_rules(project_id, None)? {
                rules.entry(rule.security_group_id.clone()).or_default().push(rule);
            }
            Ok(tx
                .security_groups(project_id)?
                .into_iter()
                .map(|g| {
                    let own = rules.remove(&g.id).unwrap_or_default();
                    (g, own)
                })
                .collect())
        })
    }

    pub fn show_security_group(
        &self,
        project_id: &str,
        group_id: &str,
    ) -> Result<(SecurityGroup, Vec<SecurityGroupRule>)> {
        read(self.store.as_ref(), |tx| {
            let group = tx.security_group(project_id, group_id)?.ok_or_else(|| group_not_found(group_id))?;
            let rules = tx.security_group_rules(project_id, Some(group_id))?;
            Ok((group, rules))
        })
    }

    /// The names of the project's groups, by id.
    pub fn security_group_names(&self, project_id: &str) -> Result<HashMap<String, String>> {
        read(self.store.as_ref(), |tx| group_names(tx, project_id))
    }

    /// A server and the names of its project's groups (what its document shows), in one read.
    pub fn show_server_named(&self, project_id: &str, server_id: &str) -> Result<(Server, HashMap<String, String>)> {
        read(self.store.as_ref(), |tx| {
            let server = tx.server(project_id, server_id)?.ok_or_else(|| Error::server_not_found(server_id))?;
            Ok((server, group_names(tx, project_id)?))
        })
    }

    /// Every server matching `filter`, newest first, and the names of the project's groups, in
    /// one read.
    pub fn list_all_servers_named(
        &self,
        project_id: &str,
        filter: &ServerFilter,
    ) -> Result<(Vec<Server>, HashMap<String, String>)> {
        read(self.store.as_ref(), |tx| {
            let mut all = Vec::new();
            for page in 1.. {
                let page = Page { start: Start::Page(page), limit: Page::MAX_LIMIT };
                let (_, servers) = tx.list_servers(project_id, filter, &page)?;
                let last = (servers.len() as u64) < Page::MAX_LIMIT;
                all.extend(servers);
                if last {
                    break;
                }
            }
            Ok((all, group_names(tx, project_id)?))
        })
    }

    /// `DeleteSecurityGroup`: refused while a port carries it, a rule of another group names
    /// it, or it is the default group.
    pub fn delete_security_group(&self, project_id: &str, group_id: &str) -> Result<()> {
        transact(self.store.as_ref(), |tx| {
            let group = tx.security_group(project_id, group_id)?.ok_or_else(|| group_not_found(group_id))?;
            if group.is_default() {
                return Err(Error::new(
                    ErrorCode::SecurityGroupInUse,
                    format!("Security group {group_id} is the default group and cannot be deleted."),
                ));
            }
            if tx.security_group_in_use(project_id, group_id)? {
                return Err(Error::new(ErrorCode::SecurityGroupInUse, format!("Security group {group_id} in use.")));
            }
            tx.delete_security_group(project_id, group_id)
        })?;
        tracing::info!(%project_id, %group_id, "security group deleted");
        Ok(())
    }

    pub fn create_security_group_rule(&self, project_id: &str, new: NewRule) -> Result<SecurityGroupRule> {
        let rule = SecurityGroupRule {
            id: uuid::Uuid::new_v4().to_string(),
            project_id: project_id.to_string(),
            security_group_id: new.security_group_id,
            description: new.description,
            direction: new.direction,
            ethertype: new.ethertype,
            protocol: new.protocol.map(|p| p.to_ascii_lowercase()),
            port_range_min: new.port_range_min,
            port_range_max: new.port_range_max,
            remote_ip_prefix: new.remote_ip_prefix,
            remote_group_id: new.remote_group_id,
            created: self.clock.now(),
        };
        rule.check()?;
        transact(self.store.as_ref(), |tx| {
            let missing = |id: &str| {
                Error::new(ErrorCode::SecurityGroupInvalid, format!("The security group {id} does not exist."))
            };
            if tx.security_group(project_id, &rule.security_group_id)?.is_none() {
                return Err(missing(&rule.security_group_id));
            }
            if let Some(remote) = &rule.remote_group_id
                && tx.security_group(project_id, remote)?.is_none()
            {
                return Err(missing(remote));
            }
            if tx.security_group_rules(project_id, Some(&rule.security_group_id))?.iter().any(|r| r.same_as(&rule)) {
                return Err(Error::new(
                    ErrorCode::SecurityGroupRuleExists,
                    format!("The security group {} already has a rule like this one.", rule.security_group_id),
                ));
            }
            tx.insert_security_group_rule(&rule)?;
            Ok(rule.clone())
        })
    }

    pub fn list_security_group_rules(
        &self,
        project_id: &str,
        group_id: Option<&str>,
    ) -> Result<Vec<SecurityGroupRule>> {
        read(self.store.as_ref(), |tx| tx.security_group_rules(project_id, group_id))
    }

    pub fn show_security_group_rule(&self, project_id: &str, rule_id: &str) -> Result<SecurityGroupRule> {
        read(self.store.as_ref(), |tx| tx.security_group_rule(project_id, rule_id))?.ok_or_else(|| {
            Error::new(
                ErrorCode::SecurityGroupRuleNotFound,
                format!("Security group rule {rule_id} could not be found."),
            )
        })
    }

    pub fn delete_security_group_rule(&self, project_id: &str, rule_id: &str) -> Result<()> {
        transact(self.store.as_ref(), |tx| {
            if tx.security_group_rule(project_id, rule_id)?.is_none() {
                return Err(Error::new(
                    ErrorCode::SecurityGroupRuleNotFound,
                    format!("Security group rule {rule_id} could not be found."),
                ));
            }
            tx.delete_security_group_rule(project_id, rule_id)
        })
    }
}

/// The addresses of a subnet no port of the project holds.
fn free_count(tx: &mut dyn ReadTx, project_id: &str, subnet: &Subnet) -> Result<u32> {
    let held = tx.subnet_ports(project_id, &subnet.id)?.len() as u32;
    Ok(subnet.capacity().saturating_sub(held))
}

/// The names of the project's groups, by id.
fn group_names(tx: &mut dyn ReadTx, project_id: &str) -> Result<HashMap<String, String>> {
    Ok(tx.security_groups(project_id)?.into_iter().map(|g| (g.id, g.name)).collect())
}
