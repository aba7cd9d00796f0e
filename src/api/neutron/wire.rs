//! Neutron's documents of ports, security groups and their rules, over the same stored objects
//! the VPC API shows.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::format::server_time;
use crate::domain::network::{
    AddressPair, Direction, Port as DomainPort, SecurityGroup as DomainGroup, SecurityGroupRule as DomainRule,
};

/// A port as Neutron shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NeutronPort)]
pub struct Port {
    pub id: String,
    pub name: String,
    pub description: &'static str,
    /// The subnet's id (a network of ecsd is one subnet).
    pub network_id: String,
    pub tenant_id: String,
    pub project_id: String,
    pub admin_state_up: bool,
    pub mac_address: String,
    pub fixed_ips: Vec<FixedIp>,
    /// The server the port is a NIC of, or empty.
    pub device_id: String,
    /// `compute:{az}`, `neutron:VIP_PORT` or empty.
    pub device_owner: String,
    /// `ACTIVE` on a server, `DOWN` otherwise.
    pub status: &'static str,
    pub security_groups: Vec<String>,
    pub allowed_address_pairs: Vec<AllowedAddressPair>,
    #[schema(value_type = Vec<Object>)]
    pub extra_dhcp_opts: Vec<()>,
    pub port_security_enabled: bool,
    #[serde(rename = "binding:vnic_type")]
    pub vnic_type: &'static str,
    pub dns_name: String,
    pub tags: Vec<String>,
    pub revision_number: u32,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = NeutronFixedIp)]
pub struct FixedIp {
    #[serde(default)]
    pub ip_address: Option<String>,
    #[serde(default)]
    pub subnet_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = NeutronAllowedAddressPair)]
pub struct AllowedAddressPair {
    pub ip_address: String,
    #[serde(default)]
    pub mac_address: Option<String>,
}

impl From<AllowedAddressPair> for AddressPair {
    fn from(pair: AllowedAddressPair) -> Self {
        AddressPair { ip_address: pair.ip_address, mac_address: pair.mac_address }
    }
}

impl Port {
    pub fn of(port: &DomainPort) -> Self {
        let created = server_time(port.created);
        Port {
            id: port.id.clone(),
            name: port.name.clone(),
            description: "",
            network_id: port.subnet_id.clone(),
            tenant_id: port.project_id.clone(),
            project_id: port.project_id.clone(),
            admin_state_up: true,
            mac_address: port.mac.clone(),
            fixed_ips: vec![FixedIp { ip_address: Some(port.ip.to_string()), subnet_id: Some(port.subnet_id.clone()) }],
            device_id: port.device_id.clone(),
            device_owner: port.device_owner.clone(),
            status: port.status(),
            security_groups: port.security_group_ids.clone(),
            allowed_address_pairs: port
                .allowed_address_pairs
                .iter()
                .map(|p| AllowedAddressPair {
                    ip_address: p.ip_address.clone(),
                    mac_address: Some(p.mac_address.clone().unwrap_or_else(|| port.mac.clone())),
                })
                .collect(),
            extra_dhcp_opts: vec![],
            port_security_enabled: true,
            vnic_type: "normal",
            dns_name: String::new(),
            tags: vec![],
            revision_number: 1,
            updated_at: created.clone(),
            created_at: created,
        }
    }
}

/// `GET /v2.0/ports`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NeutronPorts)]
pub struct Ports {
    pub ports: Vec<Port>,
    /// A `next` link while more follow a full page.
    pub ports_links: Vec<Link>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NeutronPageLink)]
pub struct Link {
    pub href: String,
    pub rel: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NeutronPortResponse)]
pub struct PortResponse {
    pub port: Port,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NeutronCreatePortRequest)]
pub struct CreatePortRequest {
    pub port: CreatePortOption,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NeutronCreatePortOption)]
pub struct CreatePortOption {
    pub name: Option<String>,
    /// The network (a subnet of ecsd's) the port is on.
    pub network_id: String,
    /// At most one: the address to take (`ip_address`), else the lowest free one.
    #[serde(default)]
    pub fixed_ips: Vec<FixedIp>,
    /// Empty, or `neutron:VIP_PORT` for a virtual IP.
    pub device_owner: Option<String>,
    /// The groups; the project's default group when absent, none when empty.
    pub security_groups: Option<Vec<String>>,
    pub allowed_address_pairs: Option<Vec<AllowedAddressPair>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NeutronUpdatePortRequest)]
pub struct UpdatePortRequest {
    pub port: UpdatePortOption,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NeutronUpdatePortOption)]
pub struct UpdatePortOption {
    pub name: Option<String>,
    pub security_groups: Option<Vec<String>>,
    pub allowed_address_pairs: Option<Vec<AllowedAddressPair>>,
}

/// A security group as Neutron shows it, with its rules.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NeutronSecurityGroup)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub description: String,
    pub tenant_id: String,
    pub project_id: String,
    pub stateful: bool,
    pub shared: bool,
    pub security_group_rules: Vec<SecurityGroupRule>,
    pub tags: Vec<String>,
    pub revision_number: u32,
    pub created_at: String,
    pub updated_at: String,
}

impl SecurityGroup {
    pub fn of(group: &DomainGroup, rules: &[DomainRule]) -> Self {
        let created = server_time(group.created);
        SecurityGroup {
            id: group.id.clone(),
            name: group.name.clone(),
            description: group.description.clone(),
            tenant_id: group.project_id.clone(),
            project_id: group.project_id.clone(),
            stateful: true,
            shared: false,
            security_group_rules: rules.iter().map(SecurityGroupRule::of).collect(),
            tags: vec![],
            revision_number: 1,
            updated_at: created.clone(),
            created_at: created,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NeutronSecurityGroupRule)]
pub struct SecurityGroupRule {
    pub id: String,
    pub security_group_id: String,
    pub description: String,
    /// `ingress` or `egress`.
    pub direction: Direction,
    /// `IPv4` or `IPv6`.
    pub ethertype: String,
    /// Null for every protocol.
    pub protocol: Option<String>,
    pub port_range_min: Option<u16>,
    pub port_range_max: Option<u16>,
    pub remote_ip_prefix: Option<String>,
    pub remote_group_id: Option<String>,
    pub remote_address_group_id: Option<String>,
    pub tenant_id: String,
    pub project_id: String,
    pub revision_number: u32,
    pub created_at: String,
    pub updated_at: String,
}

impl SecurityGroupRule {
    pub fn of(rule: &DomainRule) -> Self {
        let created = server_time(rule.created);
        SecurityGroupRule {
            id: rule.id.clone(),
            security_group_id: rule.security_group_id.clone(),
            description: rule.description.clone(),
            direction: rule.direction,
            ethertype: rule.ethertype.clone(),
            protocol: rule.protocol.clone(),
            port_range_min: rule.port_range_min,
            port_range_max: rule.port_range_max,
            remote_ip_prefix: rule.remote_ip_prefix.clone(),
            remote_group_id: rule.remote_group_id.clone(),
            remote_address_group_id: None,
            tenant_id: rule.project_id.clone(),
            project_id: rule.project_id.clone(),
            revision_number: 0,
            updated_at: created.clone(),
            created_at: created,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NeutronSecurityGroups)]
pub struct SecurityGroups {
    pub security_groups: Vec<SecurityGroup>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NeutronSecurityGroupResponse)]
pub struct SecurityGroupResponse {
    pub security_group: SecurityGroup,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NeutronCreateSecurityGroupRequest)]
pub struct CreateSecurityGroupRequest {
    pub security_group: CreateSecurityGroupOption,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NeutronCreateSecurityGroupOption)]
pub struct CreateSecurityGroupOption {
    /// 1 to 64 characters.
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NeutronUpdateSecurityGroupRequest)]
pub struct UpdateSecurityGroupRequest {
    pub security_group: UpdateSecurityGroupOption,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NeutronUpdateSecurityGroupOption)]
pub struct UpdateSecurityGroupOption {
    /// The default group keeps its name.
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NeutronSecurityGroupRules)]
pub struct SecurityGroupRules {
    pub security_group_rules: Vec<SecurityGroupRule>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NeutronSecurityGroupRuleResponse)]
pub struct SecurityGroupRuleResponse {
    pub security_group_rule: SecurityGroupRule,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NeutronCreateSecurityGroupRuleRequest)]
pub struct CreateSecurityGroupRuleRequest {
    pub security_group_rule: CreateSecurityGroupRuleOption,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NeutronCreateSecurityGroupRuleOption)]
pub struct CreateSecurityGroupRuleOption {
    pub security_group_id: String,
    pub description: Option<String>,
    pub direction: Direction,
    /// `IPv4` (the default) or `IPv6`.
    pub ethertype: Option<String>,
    /// `tcp`, `udp`, `icmp`, `icmpv6` or a number; null (or `any`) for every protocol.
    pub protocol: Option<String>,
    pub port_range_min: Option<u16>,
    pub port_range_max: Option<u16>,
    pub remote_ip_prefix: Option<String>,
    pub remote_group_id: Option<String>,
}
