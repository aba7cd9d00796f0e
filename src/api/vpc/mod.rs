//! The Virtual Private Cloud API (`huaweicloudsdkvpc`'s v2 client, `/v1/{project_id}/...`):
//! the VPCs and subnets of the catalogue, ports, private IPs, security groups and their rules.
//! Its errors have the VPC shape, `{"code": "VPC.NNNN", "message": ...}`.

mod error;
mod networks;
pub(crate) mod ports;
mod security_groups;
pub mod wire;

use utoipa_axum::routes;

use super::operation::Row;
use crate::domain::faults::FaultOperation;
pub use error::{VpcError, VpcErrorBody};

pub fn operations() -> Vec<Row> {
    vec![
        Row::new(routes!(networks::list_vpcs)).vpc(),
        Row::new(routes!(networks::show_vpc)).vpc(),
        Row::new(routes!(networks::list_subnets)).vpc(),
        Row::new(routes!(networks::show_subnet)).vpc(),
        Row::new(routes!(ports::list_ports)).vpc(),
        Row::new(routes!(ports::create_port)).vpc().fault(FaultOperation::Port),
        Row::new(routes!(ports::show_port)).vpc(),
        Row::new(routes!(ports::update_port)).vpc().fault(FaultOperation::Port),
        Row::new(routes!(ports::delete_port)).vpc().fault(FaultOperation::Port),
        Row::new(routes!(ports::list_privateips)).vpc(),
        Row::new(routes!(ports::create_privateip)).vpc().fault(FaultOperation::Port),
        Row::new(routes!(ports::show_privateip)).vpc(),
        Row::new(routes!(ports::delete_privateip)).vpc().fault(FaultOperation::Port),
        Row::new(routes!(security_groups::list_security_groups)).vpc(),
        Row::new(routes!(security_groups::create_security_group)).vpc().fault(FaultOperation::SecurityGroup),
        Row::new(routes!(security_groups::show_security_group)).vpc(),
        Row::new(routes!(security_groups::delete_security_group)).vpc().fault(FaultOperation::SecurityGroup),
        Row::new(routes!(security_groups::list_security_group_rules)).vpc(),
        Row::new(routes!(security_groups::create_security_group_rule)).vpc().fault(FaultOperation::SecurityGroup),
        Row::new(routes!(security_groups::show_security_group_rule)).vpc(),
        Row::new(routes!(security_groups::delete_security_group_rule)).vpc().fault(FaultOperation::SecurityGroup),
    ]
}
