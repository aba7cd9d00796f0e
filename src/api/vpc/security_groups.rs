//! Security groups and their rules; every project has a `default` group.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{Vpc, VpcErrorBody, VpcJson, VpcResult};
use super::ports::page;
use super::wire::{
    CreateSecurityGroupRequest, CreateSecurityGroupRuleRequest, SecurityGroup, SecurityGroupResponse,
    SecurityGroupRule, SecurityGroupRuleResponse, SecurityGroupRules, SecurityGroups,
};
use crate::api::blocking;
use crate::api::extract::{EcsPath, EcsQuery, Project, ProjectPath};
use crate::service::{Ecs, NewRule, NewSecurityGroup};

/// The `enterprise_project_id` that lists the groups of every enterprise project.
const ALL_ENTERPRISE_PROJECTS: &str = "all_granted_eps";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SecurityGroupPath {
    pub security_group_id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SecurityGroupRulePath {
    pub security_group_rule_id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListSecurityGroupsQuery {
    /// At most this many, 1 to 2000 (the default).
    limit: Option<usize>,
    /// Groups after this one.
    marker: Option<String>,
    /// Only the groups created for this VPC.
    vpc_id: Option<String>,
    /// Only the groups of this enterprise project (`0` the default one); `all_granted_eps`
    /// for every one.
    enterprise_project_id: Option<String>,
}

/// `GET /v1/{pid}/security-groups` (VPC).
#[utoipa::path(
    get,
    path = "/v1/{project_id}/security-groups",
    operation_id = "ListSecurityGroups",
    tag = "VPC",
    params(ProjectPath, ListSecurityGroupsQuery),
    responses(
        (status = 200, description = "The groups with their rules, oldest first; the default group is made the \
first time.", body = SecurityGroups),
        (status = 400, description = "A malformed query, an unknown marker (`VPC.0101`).", body = VpcErrorBody),
    )
)]
pub async fn list_security_groups(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    Vpc(EcsQuery(query)): Vpc<EcsQuery<ListSecurityGroupsQuery>>,
) -> VpcResult<Json<SecurityGroups>> {
    let groups = blocking(&ecs, move |ecs| ecs.list_security_groups(&project_id)).await?;
    let wanted = |(group, _): &(crate::domain::network::SecurityGroup, _)| {
        query.vpc_id.as_deref().is_none_or(|vpc| group.vpc_id.as_deref() == Some(vpc))
            && query
                .enterprise_project_id
                .as_deref()
                .is_none_or(|ep| ep == ALL_ENTERPRISE_PROJECTS || group.enterprise_project_id == ep)
    };
    let groups: Vec<_> = groups.into_iter().filter(wanted).collect();
    let groups = page(groups, |(g, _)| g.id.as_str(), query.limit, query.marker.as_deref())?;
    Ok(Json(SecurityGroups {
        security_groups: groups.iter().map(|(group, rules)| SecurityGroup::of(group, rules)).collect(),
    }))
}

/// `POST /v1/{pid}/security-groups` (VPC).
#[utoipa::path(
    post,
    path = "/v1/{project_id}/security-groups",
    operation_id = "CreateSecurityGroup",
    tag = "VPC",
    params(ProjectPath),
    request_body = CreateSecurityGroupRequest,
    responses(
        (status = 200, description = "The new group, with rules letting everything out.", body = SecurityGroupResponse),
        (status = 400, description = "A malformed body (`VPC.0101`), an empty or over-long name, an unknown VPC \
(`VPC.0601`).", body = VpcErrorBody),
    )
)]
pub async fn create_security_group(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    VpcJson(request): VpcJson<CreateSecurityGroupRequest>,
) -> VpcResult<Json<SecurityGroupResponse>> {
    let option = request.security_group;
    let new = NewSecurityGroup {
        name: option.name,
        description: String::new(),
        vpc_id: option.vpc_id,
        enterprise_project_id: option.enterprise_project_id,
    };
    let (group, rules) = blocking(&ecs, move |ecs| ecs.create_security_group(&project_id, &new)).await?;
    Ok(Json(SecurityGroupResponse { security_group: SecurityGroup::of(&group, &rules) }))
}

/// `GET /v1/{pid}/security-groups/{security_group_id}` (VPC).
#[utoipa::path(
    get,
    path = "/v1/{project_id}/security-groups/{security_group_id}",
    operation_id = "ShowSecurityGroup",
    tag = "VPC",
    params(ProjectPath, SecurityGroupPath),
    responses(
        (status = 200, description = "The group with its rules.", body = SecurityGroupResponse),
        (status = 404, description = "No such group in the project (`VPC.0602`).", body = VpcErrorBody),
    )
)]
pub async fn show_security_group(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    Vpc(EcsPath(SecurityGroupPath { security_group_id })): Vpc<EcsPath<SecurityGroupPath>>,
) -> VpcResult<Json<SecurityGroupResponse>> {
    let (group, rules) = blocking(&ecs, move |ecs| ecs.show_security_group(&project_id, &security_group_id)).await?;
    Ok(Json(SecurityGroupResponse { security_group: SecurityGroup::of(&group, &rules) }))
}

/// `DELETE /v1/{pid}/security-groups/{security_group_id}` (VPC).
#[utoipa::path(
    delete,
    path = "/v1/{project_id}/security-groups/{security_group_id}",
    operation_id = "DeleteSecurityGroup",
    tag = "VPC",
    params(ProjectPath, SecurityGroupPath),
    responses(
        (status = 204, description = "The group and its rules are gone."),
        (status = 404, description = "No such group in the project (`VPC.0602`).", body = VpcErrorBody),
        (status = 409, description = "A port carries the group, a rule of another group names it, or it is the \
default group (`VPC.0602`).", body = VpcErrorBody),
    )
)]
pub async fn delete_security_group(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    Vpc(EcsPath(SecurityGroupPath { security_group_id })): Vpc<EcsPath<SecurityGroupPath>>,
) -> VpcResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_security_group(&project_id, &security_group_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListSecurityGroupRulesQuery {
    /// At most this many, 1 to 2000 (the default).
    limit: Option<usize>,
    /// Rules after this one.
    marker: Option<String>,
    /// Only the rules of this group.
    security_group_id: Option<String>,
    /// Only the rules with this remote prefix.
    remote_ip_prefix: Option<String>,
}

/// `GET /v1/{pid}/security-group-rules` (VPC).
#[utoipa::path(
    get,
    path = "/v1/{project_id}/security-group-rules",
    operation_id = "ListSecurityGroupRules",
    tag = "VPC",
    params(ProjectPath, ListSecurityGroupRulesQuery),
    responses(
        (status = 200, description = "The rules, oldest first.", body = SecurityGroupRules),
        (status = 400, description = "A malformed query, an unknown marker (`VPC.0101`).", body = VpcErrorBody),
    )
)]
pub async fn list_security_group_rules(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    Vpc(EcsQuery(query)): Vpc<EcsQuery<ListSecurityGroupRulesQuery>>,
) -> VpcResult<Json<SecurityGroupRules>> {
    let group = query.security_group_id.clone();
    let rules = blocking(&ecs, move |ecs| ecs.list_security_group_rules(&project_id, group.as_deref())).await?;
    let rules: Vec<_> = rules
        .into_iter()
        .filter(|r| query.remote_ip_prefix.as_ref().is_none_or(|p| r.remote_ip_prefix.as_ref() == Some(p)))
        .collect();
    let rules = page(rules, |r| r.id.as_str(), query.limit, query.marker.as_deref())?;
    Ok(Json(SecurityGroupRules { security_group_rules: rules.iter().map(SecurityGroupRule::of).collect() }))
}

/// `POST /v1/{pid}/security-group-rules` (VPC).
#[utoipa::path(
    post,
    path = "/v1/{project_id}/security-group-rules",
    operation_id = "CreateSecurityGroupRule",
    tag = "VPC",
    params(ProjectPath),
    request_body = CreateSecurityGroupRuleRequest,
    responses(
        (status = 200, description = "The new rule.", body = SecurityGroupRuleResponse),
        (status = 400, description = "A malformed body (`VPC.0101`); a bad ethertype, protocol, port range or \
prefix, an unknown group or remote group (`VPC.0601`).", body = VpcErrorBody),
        (status = 409, description = "The group has a rule allowing the same traffic (`VPC.0604`).", body = VpcErrorBody),
    )
)]
pub async fn create_security_group_rule(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    VpcJson(request): VpcJson<CreateSecurityGroupRuleRequest>,
) -> VpcResult<Json<SecurityGroupRuleResponse>> {
    let option = request.security_group_rule;
    let new = NewRule {
        security_group_id: option.security_group_id,
        description: option.description,
        direction: option.direction,
        ethertype: option.ethertype.unwrap_or_else(|| "IPv4".into()),
        protocol: option.protocol,
        port_range_min: option.port_range_min,
        port_range_max: option.port_range_max,
        remote_ip_prefix: option.remote_ip_prefix,
        remote_group_id: option.remote_group_id,
    };
    let rule = blocking(&ecs, move |ecs| ecs.create_security_group_rule(&project_id, new)).await?;
    Ok(Json(SecurityGroupRuleResponse { security_group_rule: SecurityGroupRule::of(&rule) }))
}

/// `GET /v1/{pid}/security-group-rules/{security_group_rule_id}` (VPC).
#[utoipa::path(
    get,
    path = "/v1/{project_id}/security-group-rules/{security_group_rule_id}",
    operation_id = "ShowSecurityGroupRule",
    tag = "VPC",
    params(ProjectPath, SecurityGroupRulePath),
    responses(
        (status = 200, description = "The rule.", body = SecurityGroupRuleResponse),
        (status = 404, description = "No such rule in the project (`VPC.0603`).", body = VpcErrorBody),
    )
)]
pub async fn show_security_group_rule(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    Vpc(EcsPath(SecurityGroupRulePath { security_group_rule_id })): Vpc<EcsPath<SecurityGroupRulePath>>,
) -> VpcResult<Json<SecurityGroupRuleResponse>> {
    let rule = blocking(&ecs, move |ecs| ecs.show_security_group_rule(&project_id, &security_group_rule_id)).await?;
    Ok(Json(SecurityGroupRuleResponse { security_group_rule: SecurityGroupRule::of(&rule) }))
}

/// `DELETE /v1/{pid}/security-group-rules/{security_group_rule_id}` (VPC).
#[utoipa::path(
    delete,
    path = "/v1/{project_id}/security-group-rules/{security_group_rule_id}",
    operation_id = "DeleteSecurityGroupRule",
    tag = "VPC",
    params(ProjectPath, SecurityGroupRulePath),
    responses(
        (status = 204, description = "The rule is gone."),
        (status = 404, description = "No such rule in the project (`VPC.0603`).", body = VpcErrorBody),
    )
)]
pub async fn delete_security_group_rule(
    State(ecs): State<Arc<Ecs>>,
    Vpc(Project(project_id)): Vpc<Project>,
    Vpc(EcsPath(SecurityGroupRulePath { security_group_rule_id })): Vpc<EcsPath<SecurityGroupRulePath>>,
) -> VpcResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_security_group_rule(&project_id, &security_group_rule_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
