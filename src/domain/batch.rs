//! The batch planner: pure functions that decide, server by server, what a batch request may
//! do, before anything is written. The store then applies the plan in one transaction.

use std::collections::{HashMap, HashSet};

use super::errors::{Error, ErrorCode, Refusal, Result};
use super::server::Server;

/// Most servers one job-based batch (start/stop/reboot/delete) or rename may name (contract T1.1, T1.6).
pub const MAX_BATCH_SERVERS: usize = 1000;
/// Most servers one batch resize may name (contract T1.5).
pub const MAX_BATCH_RESIZE_SERVERS: usize = 50;

/// How repeated ids in one request are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicates {
    /// The job-based batches refuse them: each id must get exactly one sub-job.
    Refuse,
    /// The batches that answer in the batch format list each server once.
    Collapse,
}

/// The ids of a batch request, checked as a whole: not empty, not over `max`, duplicates
/// handled as `duplicates` says. Order is kept.
pub fn server_ids(ids: Vec<String>, max: usize, duplicates: Duplicates) -> Result<Vec<String>> {
    if ids.is_empty() {
        return Err(Error::invalid("The servers list must not be empty."));
    }
    let mut seen = HashSet::with_capacity(ids.len());
    let mut unique = Vec::with_capacity(ids.len());
    for id in ids {
        if seen.contains(&id) {
            if duplicates == Duplicates::Refuse {
                return Err(Error::invalid(format!("The server id {id} appears more than once.")));
            }
        } else {
            seen.insert(id.clone());
            unique.push(id);
        }
    }
    if unique.len() > max {
        return Err(Error::new(
            ErrorCode::TooManyServers,
            format!("the number of vm {} is overlimit the maximum number {max}", unique.len()),
        ));
    }
    Ok(unique)
}

/// All-or-nothing planning for the batch-format operations (contract 2.4, ecsd's choice):
/// every id must exist in the project and pass `check`; if any fails, the whole batch is
/// refused with `Ecs.0611` and one refusal per failed server, in request order.
pub fn plan_all_or_nothing<'a>(
    ids: &[String],
    servers: &'a HashMap<String, Server>,
    mut check: impl FnMut(&Server) -> Result<()>,
) -> Result<Vec<&'a Server>, BatchRefused> {
    let mut accepted = Vec::with_capacity(ids.len());
    let mut refusals = Vec::new();
    for id in ids {
        match servers.get(id) {
            None => refusals.push(Refusal { server_id: id.clone(), error: Error::server_not_found(id) }),
            Some(server) => match check(server) {
                Ok(()) => accepted.push(server),
                Err(error) => refusals.push(Refusal { server_id: id.clone(), error }),
            },
        }
    }
    if refusals.is_empty() { Ok(accepted) } else { Err(BatchRefused { refusals }) }
}

/// A batch refused because of individual servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRefused {
    pub refusals: Vec<Refusal>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_empty_list_is_refused() {
        assert_eq!(server_ids(vec![], 10, Duplicates::Collapse).map_err(|e| e.code), Err(ErrorCode::InvalidRequest));
    }

    #[test]
    fn too_many_servers_is_refused_with_the_limit_in_the_message() {
        let err = server_ids(ids(&["a", "b", "c"]), 2, Duplicates::Collapse).expect_err("over the limit");
        assert_eq!(err.code, ErrorCode::TooManyServers);
        assert!(err.message.contains("maximum number 2"));
    }

    #[test]
    fn duplicates_collapse_in_order_or_are_refused() {
        assert_eq!(server_ids(ids(&["b", "a", "b"]), 2, Duplicates::Collapse), Ok(ids(&["b", "a"])));
        assert_eq!(
            server_ids(ids(&["b", "a", "b"]), 5, Duplicates::Refuse).map_err(|e| e.code),
            Err(ErrorCode::InvalidRequest)
        );
    }
}
