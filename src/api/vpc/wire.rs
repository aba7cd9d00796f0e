//! The VPC API's wire types.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::catalogue::{Subnet as CatalogueSubnet, Vpc as CatalogueVpc};
use crate::domain::network::{
    AddressPair, Direction, Port as DomainPort, SecurityGroup as DomainGroup, SecurityGroupRule as DomainRule,
};

/// `GET /v1/{project_id}/vpcs`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Vpcs {
    pub vpcs: Vec<Vpc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Vpc {
    pub id: String,
    pub name: String,
    pub cidr: String,
    /// `OK`.
    pub status: &'static str,
    pub description: &'static str,
    /// Always empty.
    #[schema(value_type = Vec<Object>)]
    pub routes: Vec<()>,
    pub tenant_id: String,
    pub enterprise_project_id: &'static str,
    pub created_at: &'static str,
    pub updated_at: &'static str,
}

impl Vpc {
    pub fn of(vpc: &CatalogueVpc, project_id: &str) -> Self {
        Vpc {
            id: vpc.id.clone(),
            name: vpc.name.clone(),
            cidr: vpc.cidr.clone(),
            status: "OK",
            description: "",
            routes: vec![],
            tenant_id: project_id.to_string(),
            enterprise_project_id: "0",
            created_at: "2024-01-01T00:00:00",
            updated_at: "2024-01-01T00:00:00",
        }
    }
}

/// `GET /v1/{project_id}/subnets`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Subnets {
    pub subnets: Vec<Subnet>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Subnet {
    pub id: String,
    pub name: String,
    pub description: &'static str,
    pub cidr: String,
    pub gateway_ip: String,
    pub vpc_id: String,
    /// `ACTIVE`.
    pub status: &'static str,
    pub availability_zone: String,
    pub dhcp_enable: bool,
    pub primary_dns: &'static str,
    pub secondary_dns: &'static str,
    #[serde(rename = "dnsList")]
    pub dns_list: Vec<&'static str>,
    pub ipv6_enable: bool,
    pub neutron_network_id: String,
    pub neutron_subnet_id: String,
    pub tenant_id: String,
    /// Free addresses left in the subnet.
    pub available_ip_address_count: u32,
    pub created_at: &'static str,
    pub updated_at: &'static str,
}

const PRIMARY_DNS: &str = "100.125.4.25";
const SECONDARY_DNS: &str = "100.125.129.199";

impl Subnet {
    pub fn of(subnet: &CatalogueSubnet, project_id: &str, availability_zone: &str, free: u32) -> Self {
        Subnet {
            id: subnet.id.clone(),
            name: subnet.name.clone(),
            description: "",
            cidr: subnet.cidr.clone(),
            gateway_ip: subnet.gateway_ip.to_string(),
            vpc_id: subnet.vpc_id.clone(),
            status: "ACTIVE",
            availability_zone: availability_zone.to_string(),
            dhcp_enable: true,
            primary_dns: PRIMARY_DNS,
            secondary_dns: SECONDARY_DNS,
            dns_list: vec![PRIMARY_DNS, SECONDARY_DNS],
            ipv6_enable: false,
            neutron_network_id: subnet.id.clone(),
            neutron_subnet_id: subnet.id.clone(),
            tenant_id: project_id.to_string(),
            available_ip_address_count: free,
            created_at: "2024-01-01T00:00:00",
            updated_at: "2024-01-01T00:00:00",
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowVpcResponse {
    pub vpc: Vpc,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowSubnetResponse {
    pub subnet: Subnet,
}

/// A port as the VPC API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = VpcPort)]
pub struct Port {
    pub id: String,
    pub name: String,
    /// The subnet's id (a VPC subnet is a network).
    pub network_id: String,
    pub admin_state_up: bool,
    pub mac_address: String,
    pub fixed_ips: Vec<FixedIp>,
    /// The server the port is a NIC of, or empty.
    pub device_id: String,
    /// `compute:{az}`, `neutron:VIP_PORT` or empty.
    pub device_owner: String,
    pub tenant_id: String,
    /// `ACTIVE` on a server, `DOWN` otherwise.
    pub status: &'static str,
    pub security_groups: Vec<String>,
    pub allowed_address_pairs: Vec<AllowedAddressPair>,
    #[schema(value_type = Vec<Object>)]
    pub extra_dhcp_opts: Vec<()>,
    #[serde(rename = "binding:vnic_type")]
    pub vnic_type: &'static str,
    pub dns_assignment: Vec<DnsAssignment>,
    pub dns_name: String,
    #[serde(rename = "binding:vif_details")]
    pub vif_details: VifDetails,
    #[serde(rename = "binding:profile")]
    pub profile: Empty,
    pub instance_id: String,
    pub instance_type: &'static str,
    pub port_security_enabled: bool,
    pub zone_id: String,
    pub enable_efi: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = VpcFixedIp)]
pub struct FixedIp {
    #[serde(default)]
    pub ip_address: Option<String>,
    #[serde(default)]
    pub subnet_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = VpcAllowedAddressPair)]
pub struct AllowedAddressPair {
    pub ip_address: String,
    #[serde(default)]
    pub mac_address: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = VpcDnsAssignment)]
pub struct DnsAssignment {
    pub hostname: String,
    pub ip_address: String,
    pub fqdn: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = VpcVifDetails)]
pub struct VifDetails {
    pub primary_interface: bool,
    pub port_filter: bool,
    pub ovs_hybrid_plug: bool,
}

/// `{}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = VpcEmpty)]
pub struct Empty {}

impl Port {
    pub fn of(port: &DomainPort, zone: &str) -> Self {
        let hostname = format!("host-{}", port.ip.to_string().replace('.', "-"));
        Port {
            id: port.id.clone(),
            name: port.name.clone(),
            network_id: port.subnet_id.clone(),
            admin_state_up: true,
            mac_address: port.mac.clone(),
            fixed_ips: vec![FixedIp { ip_address: Some(port.ip.to_string()), subnet_id: Some(port.subnet_id.clone()) }],
            device_id: port.device_id.clone(),
            device_owner: port.device_owner.clone(),
            tenant_id: port.project_id.clone(),
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
            vnic_type: "normal",
            dns_assignment: vec![DnsAssignment {
                fqdn: format!("{hostname}.{zone}.compute.internal."),
                hostname: hostname.clone(),
                ip_address: port.ip.to_string(),
            }],
            dns_name: hostname,
            vif_details: VifDetails { primary_interface: port.primary, port_filter: true, ovs_hybrid_plug: false },
            profile: Empty {},
            instance_id: port.device_id.clone(),
            instance_type: if port.device_id.is_empty() { "" } else { "ecs" },
            port_security_enabled: true,
            zone_id: zone.to_string(),
            enable_efi: false,
        }
    }
}

impl From<AllowedAddressPair> for AddressPair {
    fn from(pair: AllowedAddressPair) -> Self {
        AddressPair { ip_address: pair.ip_address, mac_address: pair.mac_address }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ports {
    pub ports: Vec<Port>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PortResponse {
    pub port: Port,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePortRequest {
    pub port: CreatePortOption,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePortOption {
    #[serde(default)]
    pub name: String,
    /// The subnet's id.
    pub network_id: String,
    /// At most one: the address to take (`ip_address`), else the lowest free one.
    #[serde(default)]
    pub fixed_ips: Vec<FixedIp>,
    /// Empty, or `neutron:VIP_PORT` for a virtual IP.
    #[serde(default)]
    pub device_owner: String,
    /// The groups; the project's default group when absent.
    pub security_groups: Option<Vec<String>>,
    #[serde(default)]
    pub allowed_address_pairs: Vec<AllowedAddressPair>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdatePortRequest {
    pub port: UpdatePortOption,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdatePortOption {
    pub name: Option<String>,
    pub security_groups: Option<Vec<String>>,
    /// `[{"ip_address": "1.1.1.1/0"}]` turns the source/destination check off, `[]` on.
    pub allowed_address_pairs: Option<Vec<AllowedAddressPair>>,
}

/// A private IP: the address a port of the subnet holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct Privateip {
    /// `ACTIVE` when held by a server or another service, `DOWN` otherwise.
    pub status: &'static str,
    /// The id of the port holding the address.
    pub id: String,
    pub subnet_id: String,
    pub tenant_id: String,
    /// Who uses the address (`compute:{az}`, `neutron:VIP_PORT`), empty when nobody.
    pub device_owner: String,
    pub ip_address: String,
}

impl Privateip {
    pub fn of(port: &DomainPort) -> Self {
        Privateip {
            status: if port.device_owner.is_empty() { "DOWN" } else { "ACTIVE" },
            id: port.id.clone(),
            subnet_id: port.subnet_id.clone(),
            tenant_id: port.project_id.clone(),
            device_owner: port.device_owner.clone(),
            ip_address: port.ip.to_string(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Privateips {
    pub privateips: Vec<Privateip>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PrivateipResponse {
    pub privateip: Privateip,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePrivateipRequest {
    pub privateips: Vec<CreatePrivateipOption>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePrivateipOption {
    pub subnet_id: String,
    /// The address to take, else the lowest free one.
    pub ip_address: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = VpcSecurityGroup)]
pub struct SecurityGroup {
    pub name: String,
    pub description: String,
    pub id: String,
    pub vpc_id: String,
    pub enterprise_project_id: String,
    pub security_group_rules: Vec<SecurityGroupRule>,
}

impl SecurityGroup {
    pub fn of(group: &DomainGroup, rules: &[DomainRule]) -> Self {
        SecurityGroup {
            name: group.name.clone(),
            description: group.description.clone(),
            id: group.id.clone(),
            vpc_id: group.vpc_id.clone().unwrap_or_default(),
            enterprise_project_id: group.enterprise_project_id.clone(),
            security_group_rules: rules.iter().map(SecurityGroupRule::of).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = VpcSecurityGroupRule)]
pub struct SecurityGroupRule {
    pub id: String,
    pub description: String,
    pub security_group_id: String,
    /// `ingress` or `egress`.
    pub direction: Direction,
    /// `IPv4` or `IPv6`.
    pub ethertype: String,
    /// Absent (null) for every protocol.
    pub protocol: Option<String>,
    pub port_range_min: Option<u16>,
    pub port_range_max: Option<u16>,
    pub remote_ip_prefix: Option<String>,
    pub remote_group_id: Option<String>,
    pub remote_address_group_id: Option<String>,
    pub tenant_id: String,
}

impl SecurityGroupRule {
    pub fn of(rule: &DomainRule) -> Self {
        SecurityGroupRule {
            id: rule.id.clone(),
            description: rule.description.clone(),
            security_group_id: rule.security_group_id.clone(),
            direction: rule.direction,
            ethertype: rule.ethertype.clone(),
            protocol: rule.protocol.clone(),
            port_range_min: rule.port_range_min,
            port_range_max: rule.port_range_max,
            remote_ip_prefix: rule.remote_ip_prefix.clone(),
            remote_group_id: rule.remote_group_id.clone(),
            remote_address_group_id: None,
            tenant_id: rule.project_id.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityGroups {
    pub security_groups: Vec<SecurityGroup>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityGroupResponse {
    pub security_group: SecurityGroup,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateSecurityGroupRequest {
    pub security_group: CreateSecurityGroupOption,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateSecurityGroupOption {
    pub name: String,
    pub vpc_id: Option<String>,
    pub enterprise_project_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityGroupRules {
    pub security_group_rules: Vec<SecurityGroupRule>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityGroupRuleResponse {
    pub security_group_rule: SecurityGroupRule,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateSecurityGroupRuleRequest {
    pub security_group_rule: CreateSecurityGroupRuleOption,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateSecurityGroupRuleOption {
    pub security_group_id: String,
    #[serde(default)]
    pub description: String,
    pub direction: Direction,
    /// `IPv4` (the default) or `IPv6`.
    pub ethertype: Option<String>,
    pub protocol: Option<String>,
    pub port_range_min: Option<u16>,
    pub port_range_max: Option<u16>,
    pub remote_ip_prefix: Option<String>,
    pub remote_group_id: Option<String>,
}
