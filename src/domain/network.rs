//! The VPC objects a server lives among: ports (its NICs, virtual IPs and private IPs of a
//! subnet) and security groups with their rules. Wire names live in api/vpc.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::errors::{Error, ErrorCode, Result};
use super::server::{Nic, Server, Timestamp};

/// The name of the group every project has, made the first time it is needed.
pub const DEFAULT_GROUP: &str = "default";
/// Most security groups one port (or one NIC of a create) may name.
pub const MAX_PORT_GROUPS: usize = 5;
/// Most allowed address pairs of one port.
pub const MAX_ADDRESS_PAIRS: usize = 10;
/// The owner of a port created for a virtual IP (`CreatePort` with this `device_owner`).
pub const VIP_OWNER: &str = "neutron:VIP_PORT";

/// A port: one address of a subnet with its MAC, held for the port's whole life, and the
/// server (`device_id`) it is a NIC of, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    pub id: String,
    pub project_id: String,
    #[serde(default)]
    pub name: String,
    /// The subnet (its id is the network id on the wire).
    pub subnet_id: String,
    pub ip: Ipv4Addr,
    pub mac: String,
    /// The server the port is a NIC of; empty when it is on none.
    #[serde(default)]
    pub device_id: String,
    /// `compute:{az}` for a server's NIC, [`VIP_OWNER`] for a virtual IP, empty otherwise.
    #[serde(default)]
    pub device_owner: String,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    #[serde(default)]
    pub allowed_address_pairs: Vec<AddressPair>,
    /// The port is its server's primary NIC (the first, carrying the routes).
    #[serde(default)]
    pub primary: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressPair {
    /// An address or a CIDR (`1.1.1.1/0` turns the source/destination check off).
    pub ip_address: String,
    pub mac_address: Option<String>,
}

impl Port {
    /// The port of a server's NIC, with the server's security groups.
    pub fn of_nic(server: &Server, nic: &Nic) -> Self {
        Port {
            id: nic.port_id.clone(),
            project_id: server.project_id.clone(),
            name: String::new(),
            subnet_id: nic.subnet_id.clone(),
            ip: nic.ip,
            mac: nic.mac.clone(),
            device_id: server.id.clone(),
            device_owner: format!("compute:{}", server.availability_zone),
            security_group_ids: server.security_group_ids.clone(),
            allowed_address_pairs: Vec::new(),
            primary: server.nics.first().is_some_and(|first| first.port_id == nic.port_id),
            created: server.created,
        }
    }

    /// The ports a new server's NICs are, to be inserted with it: every NIC's but those of
    /// ports attached by their id (the NICs of a new server not `delete_on_termination`),
    /// which exist already, bound to it by the service.
    pub fn new_of_server(server: &Server) -> impl Iterator<Item = Port> + '_ {
        server.nics.iter().filter(|nic| nic.delete_on_termination).map(|nic| Port::of_nic(server, nic))
    }

    /// `ACTIVE` while the port is a NIC of a server, `DOWN` otherwise.
    pub fn status(&self) -> &'static str {
        if self.device_id.is_empty() { "DOWN" } else { "ACTIVE" }
    }

    /// A port a server may take as a NIC by its id: `DOWN` (a NIC of no server) and owned by
    /// nobody, as the API requires of a `port_id` (a virtual IP's port is not a NIC).
    pub fn check_attachable(&self) -> Result<()> {
        if !self.device_id.is_empty() || !self.device_owner.is_empty() {
            return Err(Error::new(
                ErrorCode::NicPortInUse,
                format!(
                    "The port {} is in use ({}) and cannot be attached.",
                    self.id,
                    if self.device_id.is_empty() { &self.device_owner } else { &self.device_id }
                ),
            ));
        }
        Ok(())
    }

    /// The port becomes a NIC of `server`.
    pub fn bind(&mut self, server: &Server, primary: bool) {
        self.device_id.clone_from(&server.id);
        self.device_owner = format!("compute:{}", server.availability_zone);
        self.primary = primary;
    }

    /// The port leaves its server and is `DOWN` again, keeping its address, MAC and groups.
    pub fn unbind(&mut self) {
        self.device_id.clear();
        self.device_owner.clear();
        self.primary = false;
    }

    /// The NIC this port is on a server.
    pub fn as_nic(&self, delete_on_termination: bool) -> Nic {
        Nic {
            port_id: self.id.clone(),
            subnet_id: self.subnet_id.clone(),
            ip: self.ip,
            mac: self.mac.clone(),
            delete_on_termination,
        }
    }

    /// A port a user may delete: not a server's NIC, and owned by nobody or by a virtual IP.
    pub fn check_deletable(&self) -> Result<()> {
        if !self.device_id.is_empty() || !(self.device_owner.is_empty() || self.device_owner == VIP_OWNER) {
            return Err(Error::new(
                ErrorCode::PortInUse,
                format!(
                    "Port {} is in use: its device_owner is not empty and is not {VIP_OWNER}, or it is attached to \
                     {}.",
                    self.id,
                    if self.device_id.is_empty() { "a device" } else { &self.device_id }
                ),
            ));
        }
        Ok(())
    }
}

/// The groups of a server as the servers API shows them: those of its NICs' ports, in NIC
/// order, each once.
pub fn server_groups_of(ports: &[Port], server: &Server) -> Vec<String> {
    let mut groups: Vec<String> = Vec::new();
    for nic in &server.nics {
        if let Some(port) = ports.iter().find(|p| p.id == nic.port_id) {
            for group in &port.security_group_ids {
                if !groups.contains(group) {
                    groups.push(group.clone());
                }
            }
        }
    }
    groups
}

/// A locally administered MAC in the OpenStack `fa:16:3e` range.
pub fn random_mac() -> String {
    let bytes: [u8; 3] = rand::random();
    format!("fa:16:3e:{:02x}:{:02x}:{:02x}", bytes[0], bytes[1], bytes[2])
}

/// The filters of `ListPorts`; each given one must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PortFilter {
    pub id: Option<String>,
    pub name: Option<String>,
    pub network_id: Option<String>,
    pub mac_address: Option<String>,
    pub device_id: Option<String>,
    pub device_owner: Option<String>,
    pub status: Option<String>,
    /// Every one of these groups must be on the port.
    pub security_groups: Vec<String>,
    /// `ip_address=...` and `subnet_id=...` terms, each of which must match the port's address.
    pub fixed_ips: Vec<FixedIpTerm>,
}

/// A port list's query (VPC's `ListPorts` and Neutron's are the same call): its filters and
/// its page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PortQuery {
    pub filter: PortFilter,
    pub limit: Option<usize>,
    pub marker: Option<String>,
}

impl PortQuery {
    /// The query's pairs: `fixed_ips` and `security_groups` may repeat, the others are given
    /// once (`invalid` is the code of a refusal); filters ecsd keeps no state for match every
    /// port, as absent ones do.
    pub fn parse(pairs: Vec<(String, String)>, invalid: ErrorCode) -> Result<Self> {
        let mut query = PortQuery::default();
        for (key, value) in pairs {
            let once = |slot: &mut Option<String>| {
                if slot.replace(value.clone()).is_some() {
                    return Err(Error::new(invalid, format!("The query parameter {key} is given twice.")));
                }
                Ok(())
            };
            let filter = &mut query.filter;
            match key.as_str() {
                "id" => once(&mut filter.id)?,
                "name" => once(&mut filter.name)?,
                "network_id" => once(&mut filter.network_id)?,
                "mac_address" => once(&mut filter.mac_address)?,
                "device_id" => once(&mut filter.device_id)?,
                "device_owner" => once(&mut filter.device_owner)?,
                "status" => once(&mut filter.status)?,
                "marker" => once(&mut query.marker)?,
                "security_groups" => filter.security_groups.push(value),
                "fixed_ips" => filter.fixed_ips.push(FixedIpTerm::parse(&value)?),
                "limit" => {
                    query.limit = Some(
                        value.parse().map_err(|_| Error::new(invalid, format!("limit {value:?} is not a number.")))?,
                    );
                }
                _ => {}
            }
        }
        Ok(query)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum FixedIpTerm {
    IpAddress(String),
    SubnetId(String),
}

impl FixedIpTerm {
    /// A `fixed_ips` query value: `ip_address=1.2.3.4` or `subnet_id=...`.
    pub fn parse(term: &str) -> Result<Self> {
        match term.split_once('=') {
            Some(("ip_address", ip)) => Ok(FixedIpTerm::IpAddress(ip.to_string())),
            Some(("subnet_id", subnet)) => Ok(FixedIpTerm::SubnetId(subnet.to_string())),
            _ => Err(Error::new(
                ErrorCode::PortInvalid,
                format!("fixed_ips {term:?} must be ip_address=<address> or subnet_id=<id>."),
            )),
        }
    }
}

impl PortFilter {
    pub fn matches(&self, port: &Port) -> bool {
        let is = |wanted: &Option<String>, value: &str| wanted.as_deref().is_none_or(|w| w == value);
        is(&self.id, &port.id)
            && is(&self.name, &port.name)
            && is(&self.network_id, &port.subnet_id)
            && is(&self.mac_address, &port.mac)
            && is(&self.device_id, &port.device_id)
            && is(&self.device_owner, &port.device_owner)
            && is(&self.status, port.status())
            && self.security_groups.iter().all(|g| port.security_group_ids.contains(g))
            && self.fixed_ips.iter().all(|term| match term {
                FixedIpTerm::IpAddress(ip) => *ip == port.ip.to_string(),
                FixedIpTerm::SubnetId(subnet) => *subnet == port.subnet_id,
            })
    }
}

/// Binds the virtual IP `vip` to the NIC port `nic` (`AssociateServerVirtualIp`): the NIC
/// may send from the virtual address (an allowed address pair), and with `reverse` the
/// virtual IP's port allows the NIC's address and MAC too.
pub fn associate_vip(nic: &mut Port, vip: &mut Port, reverse: bool) -> Result<()> {
    let address = vip.ip.to_string();
    if !nic.allowed_address_pairs.iter().any(|p| p.ip_address == address) {
        nic.allowed_address_pairs.push(AddressPair { ip_address: address, mac_address: None });
    }
    if reverse {
        let own = nic.ip.to_string();
        if !vip.allowed_address_pairs.iter().any(|p| p.ip_address == own) {
            vip.allowed_address_pairs.push(AddressPair { ip_address: own, mac_address: Some(nic.mac.clone()) });
        }
    }
    if nic.allowed_address_pairs.len().max(vip.allowed_address_pairs.len()) > MAX_ADDRESS_PAIRS {
        return Err(Error::invalid(format!("A port takes at most {MAX_ADDRESS_PAIRS} virtual IPs.")));
    }
    Ok(())
}

/// Unbinds every virtual IP from the NIC port `nic` (`DisassociateServerVirtualIp`, whose
/// body names none): its allowed address pairs go, so the source/destination check is on
/// again, and `vips` (the ports of its subnet) forget the NIC's address.
pub fn disassociate_vips(nic: &mut Port, vips: &mut [Port]) {
    nic.allowed_address_pairs.clear();
    let own = nic.ip.to_string();
    for vip in vips {
        vip.allowed_address_pairs.retain(|p| p.ip_address != own);
    }
}

/// The page after `marker` (the first when `None`) of at most `limit` items, by id order of
/// `items` as given; `None` when the marker is not among them.
pub fn page_after<T>(items: Vec<T>, id: impl Fn(&T) -> &str, marker: Option<&str>, limit: usize) -> Option<Vec<T>> {
    let start = match marker {
        Some(marker) => items.iter().position(|item| id(item) == marker)? + 1,
        None => 0,
    };
    Some(items.into_iter().skip(start).take(limit).collect())
}

/// Checks the groups a port or a NIC is to carry: at most [`MAX_PORT_GROUPS`], no repeats.
pub fn check_group_list(ids: &[String]) -> Result<()> {
    if ids.len() > MAX_PORT_GROUPS {
        return Err(Error::new(
            ErrorCode::SecurityGroupInvalid,
            format!("A port takes at most {MAX_PORT_GROUPS} security groups."),
        ));
    }
    if let Some(dup) = ids.iter().enumerate().find(|(i, id)| ids[..*i].contains(id)) {
        return Err(Error::new(
            ErrorCode::SecurityGroupInvalid,
            format!("The security group {} is named twice.", dup.1),
        ));
    }
    Ok(())
}

pub fn check_address_pairs(pairs: &[AddressPair]) -> Result<()> {
    if pairs.len() > MAX_ADDRESS_PAIRS {
        return Err(Error::new(
            ErrorCode::PortInvalid,
            format!("A port takes at most {MAX_ADDRESS_PAIRS} allowed address pairs."),
        ));
    }
    for pair in pairs {
        let (ip, prefix) = pair.ip_address.split_once('/').unwrap_or((&pair.ip_address, "32"));
        if ip.parse::<Ipv4Addr>().is_err() || !prefix.parse::<u8>().is_ok_and(|p| p <= 32) {
            return Err(Error::new(
                ErrorCode::PortInvalid,
                format!("allowed_address_pairs ip_address {:?} is not an IPv4 address or CIDR.", pair.ip_address),
            ));
        }
        if let Some(mac) = &pair.mac_address
            && !is_mac(mac)
        {
            return Err(Error::new(ErrorCode::PortInvalid, format!("mac_address {mac:?} is not a MAC address.")));
        }
    }
    Ok(())
}

fn is_mac(text: &str) -> bool {
    let parts: Vec<&str> = text.split(':').collect();
    parts.len() == 6 && parts.iter().all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Port and group names: at most 255 characters (ports) or 64 (groups), no `<` or `>`.
pub fn check_name(name: &str, max: usize, code: ErrorCode) -> Result<()> {
    if name.chars().count() > max || name.contains(['<', '>']) {
        return Err(Error::new(code, format!("The name must be at most {max} characters, without < or >.")));
    }
    Ok(())
}

/// A security group's description: at most 255 characters, no `<` or `>`.
pub fn check_description(description: &str) -> Result<()> {
    if description.chars().count() > 255 || description.contains(['<', '>']) {
        return Err(Error::new(
            ErrorCode::SecurityGroupInvalid,
            "The description must be at most 255 characters, without < or >.",
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub vpc_id: Option<String>,
    pub enterprise_project_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: Timestamp,
}

impl SecurityGroup {
    pub fn is_default(&self) -> bool {
        self.name == DEFAULT_GROUP
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    /// Its name on the wire (the serde name).
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroupRule {
    pub id: String,
    pub project_id: String,
    pub security_group_id: String,
    pub description: String,
    pub direction: Direction,
    /// `IPv4` or `IPv6`.
    pub ethertype: String,
    /// `tcp`, `udp`, `icmp`, `icmpv6` or a protocol number; `None` for every protocol.
    pub protocol: Option<String>,
    pub port_range_min: Option<u16>,
    pub port_range_max: Option<u16>,
    pub remote_ip_prefix: Option<String>,
    pub remote_group_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created: Timestamp,
}

impl SecurityGroupRule {
    /// The rule's own checks (the group and a remote group are the service's to find).
    pub fn check(&self) -> Result<()> {
        let invalid = |message: String| Err(Error::new(ErrorCode::SecurityGroupInvalid, message));
        if !matches!(self.ethertype.as_str(), "IPv4" | "IPv6") {
            return invalid(format!("ethertype must be IPv4 or IPv6, not {:?}.", self.ethertype));
        }
        if let Some(protocol) = &self.protocol
            && !matches!(protocol.as_str(), "tcp" | "udp" | "icmp" | "icmpv6")
            && protocol.parse::<u8>().is_err()
        {
            return invalid(format!("protocol must be tcp, udp, icmp, icmpv6 or a number, not {protocol:?}."));
        }
        let ports = matches!(self.protocol.as_deref(), Some("tcp" | "udp"));
        match (self.port_range_min, self.port_range_max) {
            (Some(min), Some(max)) if ports && (min == 0 || min > max) => {
                return invalid(format!("port_range_min {min} must be 1 to 65535 and at most port_range_max {max}."));
            }
            (Some(_), None) | (None, Some(_)) if ports => {
                return invalid("port_range_min and port_range_max go together for tcp and udp.".into());
            }
            (Some(_), _) | (_, Some(_)) if self.protocol.is_none() => {
                return invalid("A port range needs a protocol.".into());
            }
            _ => {}
        }
        if self.remote_ip_prefix.is_some() && self.remote_group_id.is_some() {
            return invalid("remote_ip_prefix and remote_group_id exclude each other.".into());
        }
        if let Some(prefix) = &self.remote_ip_prefix {
            let v4 = self.ethertype == "IPv4";
            let (ip, bits) = prefix.split_once('/').unwrap_or((prefix, if v4 { "32" } else { "128" }));
            let ok = if v4 {
                ip.parse::<Ipv4Addr>().is_ok() && bits.parse::<u8>().is_ok_and(|b| b <= 32)
            } else {
                ip.parse::<std::net::Ipv6Addr>().is_ok() && bits.parse::<u8>().is_ok_and(|b| b <= 128)
            };
            if !ok {
                return invalid(format!("remote_ip_prefix {prefix:?} is not an {} CIDR.", self.ethertype));
            }
        }
        check_description(&self.description)
    }

    /// Whether two rules allow the same traffic (Neutron refuses the second).
    pub fn same_as(&self, other: &SecurityGroupRule) -> bool {
        self.security_group_id == other.security_group_id
            && self.direction == other.direction
            && self.ethertype == other.ethertype
            && self.protocol == other.protocol
            && self.port_range_min == other.port_range_min
            && self.port_range_max == other.port_range_max
            && self.remote_ip_prefix == other.remote_ip_prefix
            && self.remote_group_id == other.remote_group_id
    }
}

/// The `default` group of a project and the rules it comes with: traffic from members of the
/// group itself in, everything out, for IPv4 and IPv6.
pub fn default_group(project_id: &str, now: Timestamp) -> (SecurityGroup, Vec<SecurityGroupRule>) {
    let group = SecurityGroup {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: project_id.to_string(),
        name: DEFAULT_GROUP.into(),
        description: "Default security group".into(),
        vpc_id: None,
        enterprise_project_id: "0".into(),
        created: now,
    };
    let rule = |direction, ethertype: &str, remote_group: bool| SecurityGroupRule {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: project_id.to_string(),
        security_group_id: group.id.clone(),
        description: String::new(),
        direction,
        ethertype: ethertype.into(),
        protocol: None,
        port_range_min: None,
        port_range_max: None,
        remote_ip_prefix: None,
        remote_group_id: remote_group.then(|| group.id.clone()),
        created: now,
    };
    let rules = vec![
        rule(Direction::Ingress, "IPv4", true),
        rule(Direction::Ingress, "IPv6", true),
        rule(Direction::Egress, "IPv4", false),
        rule(Direction::Egress, "IPv6", false),
    ];
    (group, rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> SecurityGroupRule {
        default_group("p", Timestamp::UNIX_EPOCH).1.remove(2)
    }

    #[test]
    fn rules_are_checked() {
        assert!(rule().check().is_ok());
        let code = |f: &dyn Fn(&mut SecurityGroupRule)| {
            let mut r = rule();
            f(&mut r);
            r.check().err().map(|e| e.code)
        };
        let bad = Some(ErrorCode::SecurityGroupInvalid);
        assert_eq!(code(&|r| r.ethertype = "IPv5".into()), bad);
        assert_eq!(code(&|r| r.protocol = Some("gre2".into())), bad);
        assert_eq!(
            code(&|r| {
                r.protocol = Some("tcp".into());
                r.port_range_min = Some(90);
                r.port_range_max = Some(80);
            }),
            bad
        );
        assert_eq!(code(&|r| r.port_range_min = Some(22)), bad);
        assert_eq!(code(&|r| r.remote_ip_prefix = Some("10.0.0.0/33".into())), bad);
        assert_eq!(code(&|r| r.remote_ip_prefix = Some("10.0.0.0/8".into())), None);
        assert_eq!(code(&|r| r.protocol = Some("47".into())), None);
    }

    #[test]
    fn the_default_group_lets_its_members_in_and_everything_out() {
        let (group, rules) = default_group("p", Timestamp::UNIX_EPOCH);
        assert!(group.is_default());
        assert_eq!(rules.len(), 4);
        assert!(
            rules
                .iter()
                .filter(|r| r.direction == Direction::Ingress)
                .all(|r| r.remote_group_id == Some(group.id.clone()))
        );
        assert!(rules.iter().all(|r| r.check().is_ok()));
    }

    #[test]
    fn fixed_ip_terms_and_pages() {
        assert_eq!(FixedIpTerm::parse("ip_address=10.0.0.5"), Ok(FixedIpTerm::IpAddress("10.0.0.5".into())));
        assert!(FixedIpTerm::parse("mac=1").is_err());
        let items = vec!["a", "b", "c"];
        assert_eq!(page_after(items.clone(), |s| s, Some("a"), 1), Some(vec!["b"]));
        assert_eq!(page_after(items.clone(), |s| s, None, 5), Some(items.clone()));
        assert_eq!(page_after(items, |s| s, Some("z"), 5), None);
    }

    #[test]
    fn address_pairs_are_checked() {
        let pair = |ip: &str| vec![AddressPair { ip_address: ip.into(), mac_address: None }];
        assert!(check_address_pairs(&pair("1.1.1.1/0")).is_ok());
        assert!(check_address_pairs(&pair("10.0.0.9")).is_ok());
        assert!(check_address_pairs(&pair("10.0.0.0/40")).is_err());
        assert!(check_group_list(&["a".into(), "a".into()]).is_err());
    }
}
