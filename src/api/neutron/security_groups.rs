//! Neutron's security groups and their rules: the VPC API's groups of the caller's project,
//! whose `default` group is made the first time the project's groups are listed or needed.

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::{
    CreateSecurityGroupRequest, CreateSecurityGroupRuleRequest, SecurityGroup, SecurityGroupResponse,
    SecurityGroupRule, SecurityGroupRuleResponse, SecurityGroupRules, SecurityGroups, UpdateSecurityGroupRequest,
};
use super::{Caller, NeutronError, NeutronErrorBody, NeutronJson, NeutronPath, NeutronResult, blocking};
use crate::service::{Ecs, NewRule, NewSecurityGroup, SecurityGroupUpdate};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NeutronSecurityGroupPath {
    pub security_group_id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NeutronSecurityGroupRulePath {
    pub security_group_rule_id: String,
}

/// A Neutron list query: exact matches of the fields named; others (`fields`, `project_id`,
/// `sort_key`...) are taken as given and match every item.
pub struct NeutronFilters<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for NeutronFilters<T> {
    type Rejection = NeutronError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
            .map_err(|e| NeutronError::bad_request(format!("Invalid query parameter: {e}.")))?;
        let mut known = serde_json::Map::new();
        for (key, value) in pairs {
            // Neutron reads a repeated filter as "any of"; refused rather than half-applied.
            // The field selection and the sort keys repeat by design, and select nothing here.
            if known.insert(key.clone(), serde_json::Value::String(value)).is_some()
                && !["fields", "sort_key", "sort_dir"].contains(&key.as_str())
            {
                return Err(NeutronError::bad_request(format!("The query parameter {key} is given more than once.")));
            }
        }
        serde_json::from_value(serde_json::Value::Object(known))
            .map(NeutronFilters)
            .map_err(|e| NeutronError::bad_request(format!("Invalid query parameter: {e}.")))
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SecurityGroupFilters {
    pub id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SecurityGroupRuleFilters {
    pub id: Option<String>,
    pub security_group_id: Option<String>,
    /// `ingress` or `egress`.
    pub direction: Option<String>,
    /// `IPv4` or `IPv6`.
    pub ethertype: Option<String>,
    pub protocol: Option<String>,
    pub remote_group_id: Option<String>,
    pub remote_ip_prefix: Option<String>,
}

/// `GET /v2.0/security-groups`.
#[utoipa::path(
    get,
    path = "/v2.0/security-groups",
    operation_id = "NeutronListSecurityGroups",
    tag = "Neutron",
    params(SecurityGroupFilters),
    responses(
        (status = 200, description = "The project's matching groups with their rules, oldest first; the `default` \
group is made the first time.", body = SecurityGroups),
        (status = 400, description = "A malformed query (`HTTPBadRequest`).", body = NeutronErrorBody),
    )
)]
pub async fn neutron_list_security_groups(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    NeutronFilters(filters): NeutronFilters<SecurityGroupFilters>,
) -> NeutronResult<Json<SecurityGroups>> {
    let groups = blocking(&ecs, move |ecs| ecs.list_security_groups(&project_id)).await?;
    let security_groups = groups
        .iter()
        .filter(|(group, _)| {
            filters.id.as_ref().is_none_or(|id| *id == group.id)
                && filters.name.as_ref().is_none_or(|name| *name == group.name)
                && filters.description.as_ref().is_none_or(|d| *d == group.description)
        })
        .map(|(group, rules)| SecurityGroup::of(group, rules))
        .collect();
    Ok(Json(SecurityGroups { security_groups }))
}

/// `POST /v2.0/security-groups`.
#[utoipa::path(
    post,
    path = "/v2.0/security-groups",
    operation_id = "NeutronCreateSecurityGroup",
    tag = "Neutron",
    request_body = CreateSecurityGroupRequest,
    responses(
        (status = 201, description = "The new group, with rules letting everything out.", body = SecurityGroupResponse),
        (status = 400, description = "A malformed body (`HTTPBadRequest`), an empty or over-long name or description \
(`InvalidInput`).", body = NeutronErrorBody),
    )
)]
pub async fn neutron_create_security_group(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    NeutronJson(request): NeutronJson<CreateSecurityGroupRequest>,
) -> NeutronResult<(StatusCode, Json<SecurityGroupResponse>)> {
    let option = request.security_group;
    let new = NewSecurityGroup {
        name: option.name,
        description: option.description.unwrap_or_default(),
        vpc_id: None,
        enterprise_project_id: None,
    };
    let (group, rules) = blocking(&ecs, move |ecs| ecs.create_security_group(&project_id, &new)).await?;
    Ok((StatusCode::CREATED, Json(SecurityGroupResponse { security_group: SecurityGroup::of(&group, &rules) })))
}

/// `GET /v2.0/security-groups/{security_group_id}`.
#[utoipa::path(
    get,
    path = "/v2.0/security-groups/{security_group_id}",
    operation_id = "NeutronShowSecurityGroup",
    tag = "Neutron",
    params(NeutronSecurityGroupPath),
    responses(
        (status = 200, description = "The group with its rules.", body = SecurityGroupResponse),
        (status = 404, description = "No such group in the project (`SecurityGroupNotFound`).", body = NeutronErrorBody),
    )
)]
pub async fn neutron_show_security_group(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    NeutronPath(NeutronSecurityGroupPath { security_group_id }): NeutronPath<NeutronSecurityGroupPath>,
) -> NeutronResult<Json<SecurityGroupResponse>> {
    let (group, rules) = blocking(&ecs, move |ecs| ecs.show_security_group(&project_id, &security_group_id)).await?;
    Ok(Json(SecurityGroupResponse { security_group: SecurityGroup::of(&group, &rules) }))
}

/// `PUT /v2.0/security-groups/{security_group_id}`.
#[utoipa::path(
    put,
    path = "/v2.0/security-groups/{security_group_id}",
    operation_id = "NeutronUpdateSecurityGroup",
    tag = "Neutron",
    params(NeutronSecurityGroupPath),
    request_body = UpdateSecurityGroupRequest,
    responses(
        (status = 200, description = "The group as updated, with its rules.", body = SecurityGroupResponse),
        (status = 400, description = "A malformed body (`HTTPBadRequest`), an empty or over-long name or description \
(`InvalidInput`).", body = NeutronErrorBody),
        (status = 404, description = "No such group in the project (`SecurityGroupNotFound`).", body = NeutronErrorBody),
        (status = 409, description = "A new name for the `default` group (`SecurityGroupInUse`).", body = NeutronErrorBody),
    )
)]
pub async fn neutron_update_security_group(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    NeutronPath(NeutronSecurityGroupPath { security_group_id }): NeutronPath<NeutronSecurityGroupPath>,
    NeutronJson(request): NeutronJson<UpdateSecurityGroupRequest>,
) -> NeutronResult<Json<SecurityGroupResponse>> {
    let option = request.security_group;
    let update = SecurityGroupUpdate { name: option.name, description: option.description };
    let (group, rules) =
        blocking(&ecs, move |ecs| ecs.update_security_group(&project_id, &security_group_id, &update)).await?;
    Ok(Json(SecurityGroupResponse { security_group: SecurityGroup::of(&group, &rules) }))
}

/// `DELETE /v2.0/security-groups/{security_group_id}`.
#[utoipa::path(
    delete,
    path = "/v2.0/security-groups/{security_group_id}",
    operation_id = "NeutronDeleteSecurityGroup",
    tag = "Neutron",
    params(NeutronSecurityGroupPath),
    responses(
        (status = 204, description = "The group and its rules are gone."),
        (status = 404, description = "No such group in the project (`SecurityGroupNotFound`).", body = NeutronErrorBody),
        (status = 409, description = "A port carries the group, a rule of another group names it, or it is the \
`default` group (`SecurityGroupInUse`).", body = NeutronErrorBody),
    )
)]
pub async fn neutron_delete_security_group(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    NeutronPath(NeutronSecurityGroupPath { security_group_id }): NeutronPath<NeutronSecurityGroupPath>,
) -> NeutronResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_security_group(&project_id, &security_group_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v2.0/security-group-rules`.
#[utoipa::path(
    get,
    path = "/v2.0/security-group-rules",
    operation_id = "NeutronListSecurityGroupRules",
    tag = "Neutron",
    params(SecurityGroupRuleFilters),
    responses(
        (status = 200, description = "The project's matching rules, oldest first.", body = SecurityGroupRules),
        (status = 400, description = "A malformed query (`HTTPBadRequest`).", body = NeutronErrorBody),
    )
)]
pub async fn neutron_list_security_group_rules(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    NeutronFilters(filters): NeutronFilters<SecurityGroupRuleFilters>,
) -> NeutronResult<Json<SecurityGroupRules>> {
    let group = filters.security_group_id.clone();
    let rules = blocking(&ecs, move |ecs| ecs.list_security_group_rules(&project_id, group.as_deref())).await?;
    let matches = |wanted: &Option<String>, value: Option<&str>| wanted.as_deref().is_none_or(|w| Some(w) == value);
    let security_group_rules = rules
        .iter()
        .filter(|r| {
            matches(&filters.id, Some(&r.id))
                && matches(&filters.direction, Some(r.direction.as_str()))
                && matches(&filters.ethertype, Some(&r.ethertype))
                && matches(&filters.protocol, r.protocol.as_deref())
                && matches(&filters.remote_group_id, r.remote_group_id.as_deref())
                && matches(&filters.remote_ip_prefix, r.remote_ip_prefix.as_deref())
        })
        .map(SecurityGroupRule::of)
        .collect();
    Ok(Json(SecurityGroupRules { security_group_rules }))
}

/// `POST /v2.0/security-group-rules`.
#[utoipa::path(
    post,
    path = "/v2.0/security-group-rules",
    operation_id = "NeutronCreateSecurityGroupRule",
    tag = "Neutron",
    request_body = CreateSecurityGroupRuleRequest,
    responses(
        (status = 201, description = "The new rule.", body = SecurityGroupRuleResponse),
        (status = 400, description = "A malformed body (`HTTPBadRequest`); a bad ethertype, protocol, port range or \
prefix, an unknown group or remote group (`InvalidInput`).", body = NeutronErrorBody),
        (status = 409, description = "The group has a rule allowing the same traffic (`SecurityGroupRuleExists`).",
         body = NeutronErrorBody),
    )
)]
pub async fn neutron_create_security_group_rule(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    NeutronJson(request): NeutronJson<CreateSecurityGroupRuleRequest>,
) -> NeutronResult<(StatusCode, Json<SecurityGroupRuleResponse>)> {
    let option = request.security_group_rule;
    let new = NewRule {
        security_group_id: option.security_group_id,
        description: option.description.unwrap_or_default(),
        direction: option.direction,
        ethertype: option.ethertype.unwrap_or_else(|| "IPv4".into()),
        // `any` is Neutron's word for every protocol, as an absent one is.
        protocol: option.protocol.filter(|p| !p.eq_ignore_ascii_case("any")),
        port_range_min: option.port_range_min,
        port_range_max: option.port_range_max,
        remote_ip_prefix: option.remote_ip_prefix,
        remote_group_id: option.remote_group_id,
    };
    let rule = blocking(&ecs, move |ecs| ecs.create_security_group_rule(&project_id, new)).await?;
    Ok((StatusCode::CREATED, Json(SecurityGroupRuleResponse { security_group_rule: SecurityGroupRule::of(&rule) })))
}

/// `GET /v2.0/security-group-rules/{security_group_rule_id}`.
#[utoipa::path(
    get,
    path = "/v2.0/security-group-rules/{security_group_rule_id}",
    operation_id = "NeutronShowSecurityGroupRule",
    tag = "Neutron",
    params(NeutronSecurityGroupRulePath),
    responses(
        (status = 200, description = "The rule.", body = SecurityGroupRuleResponse),
        (status = 404, description = "No such rule in the project (`SecurityGroupRuleNotFound`).",
         body = NeutronErrorBody),
    )
)]
pub async fn neutron_show_security_group_rule(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    NeutronPath(NeutronSecurityGroupRulePath { security_group_rule_id }): NeutronPath<NeutronSecurityGroupRulePath>,
) -> NeutronResult<Json<SecurityGroupRuleResponse>> {
    let rule = blocking(&ecs, move |ecs| ecs.show_security_group_rule(&project_id, &security_group_rule_id)).await?;
    Ok(Json(SecurityGroupRuleResponse { security_group_rule: SecurityGroupRule::of(&rule) }))
}

/// `DELETE /v2.0/security-group-rules/{security_group_rule_id}`.
#[utoipa::path(
    delete,
    path = "/v2.0/security-group-rules/{security_group_rule_id}",
    operation_id = "NeutronDeleteSecurityGroupRule",
    tag = "Neutron",
    params(NeutronSecurityGroupRulePath),
    responses(
        (status = 204, description = "The rule is gone."),
        (status = 404, description = "No such rule in the project (`SecurityGroupRuleNotFound`).",
         body = NeutronErrorBody),
    )
)]
pub async fn neutron_delete_security_group_rule(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    NeutronPath(NeutronSecurityGroupRulePath { security_group_rule_id }): NeutronPath<NeutronSecurityGroupRulePath>,
) -> NeutronResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_security_group_rule(&project_id, &security_group_rule_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
