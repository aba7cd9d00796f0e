//! ECS groups (server groups, contract T2.10): a named set of servers of one project with a
//! policy. Only anti-affinity is offered, as the docs say: no two members on one host.

use super::errors::{Error, ErrorCode, Result};
use super::server::Timestamp;

pub const MAX_NAME_BYTES: usize = 255;
/// The one policy ecsd accepts.
pub const ANTI_AFFINITY: &str = "anti-affinity";
/// Most groups a listing answers at once.
pub const MAX_LIST_LIMIT: u64 = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerGroup {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub policies: Vec<String>,
    pub created: Timestamp,
    /// Member server ids, oldest server first (filled in when the group is read).
    pub members: Vec<String>,
}

/// A create request: a name of 1 to 255 bytes, and exactly the anti-affinity policy.
pub fn check_new(name: &str, policies: &[String]) -> Result<()> {
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(Error::invalid(format!("An ECS group name has 1 to {MAX_NAME_BYTES} bytes.")));
    }
    match policies {
        [policy] if policy == ANTI_AFFINITY => Ok(()),
        [] => Err(Error::invalid("policies must name the policy of the group: [\"anti-affinity\"].")),
        _ => Err(Error::invalid(format!(
            "Only the {ANTI_AFFINITY} policy is supported; policies must be [\"{ANTI_AFFINITY}\"], not {policies:?}."
        ))),
    }
}

/// The refusal for a group that is not one of the project's.
pub fn not_found(id: &str) -> Error {
    Error::new(ErrorCode::ResourceNotFound, format!("itemNotFound: Instance group {id} could not be found."))
}

/// The refusal when the project has as many groups as its quota allows.
pub fn quota_exceeded(limit: i64) -> Error {
    Error::new(ErrorCode::GroupQuotaExceeded, format!("Quota exceeded: a project has at most {limit} ECS groups."))
}

/// The refusal when a group would get more members than its quota allows.
pub fn members_exceeded(group_id: &str, limit: i64) -> Error {
    Error::new(
        ErrorCode::GroupQuotaExceeded,
        format!("Quota exceeded: the ECS group {group_id} has at most {limit} members."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_anti_affinity_policy_and_a_sized_name_are_accepted() {
        let policies = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(check_new("web", &policies(&["anti-affinity"])).is_ok());
        assert!(check_new("", &policies(&["anti-affinity"])).is_err());
        assert!(check_new(&"x".repeat(256), &policies(&["anti-affinity"])).is_err());
        assert!(check_new("web", &policies(&["affinity"])).is_err());
        assert!(check_new("web", &policies(&[])).is_err());
        assert!(check_new("web", &policies(&["anti-affinity", "anti-affinity"])).is_err());
    }
}
