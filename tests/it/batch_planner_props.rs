//! Property tests of the all-or-nothing batch planner (issue 3, contract 2.4):
//!
//! - on the pure planner (`domain::batch`): for random mixes of servers (present or missing,
//!   any vm/task state, locked or not) and random id lists with duplicates, the planner refuses
//!   exactly the ids that fail their rule, in request order, and accepts iff none fails;
//! - end to end over HTTP (batch rename): the `internalError` list is exactly the failing
//!   servers, and a refused batch leaves every server unchanged.

use std::collections::{HashMap, HashSet};

use crate::common::*;
use ecsd::domain::batch::{self, Duplicates, plan_all_or_nothing};
use ecsd::domain::server::Server;
use ecsd::domain::status::{InstantOperation, Operation, TaskState, VmState};
use ecsd::domain::{Error, ErrorCode};
use ecsd::engine::sim::Timings;
use proptest::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const VM_STATES: [VmState; 5] =
    [VmState::Building, VmState::Active, VmState::Stopped, VmState::Error, VmState::Deleted];

#[derive(Debug, Clone, Copy)]
enum Rule {
    ResetPassword,
    Rename,
    Resize { with_stop: bool },
}

impl Rule {
    fn check(self, server: &Server) -> Result<(), ErrorCode> {
        match self {
            Rule::ResetPassword => InstantOperation::ResetPassword.check(server.state()),
            Rule::Rename => InstantOperation::Rename.check(server.state()),
            Rule::Resize { with_stop } => {
                Operation::Resize { flavor_id: "s6.large.2".into(), with_stop, verify: false }.check(server.state())
            }
        }
    }

    /// The rule written out from the contract (5.5) and issue 3, independently of
    /// `domain::status`: deleting first, then locked, then busy, then the status.
    fn expected(self, server: &Server) -> Option<&'static str> {
        let deleting = server.task_state == Some(TaskState::Deleting);
        let busy = server.task_state.is_some();
        match self {
            Rule::ResetPassword | Rule::Rename => {
                if deleting || server.vm_state == VmState::Deleted {
                    Some("Ecs.0100")
                } else if server.locked {
                    Some("Ecs.0605")
                } else if busy {
                    Some("Ecs.0603")
                } else if matches!(self, Rule::ResetPassword)
                    && !matches!(server.vm_state, VmState::Active | VmState::Stopped)
                {
                    Some("Ecs.0100")
                } else {
                    None
                }
            }
            Rule::Resize { with_stop } => {
                if deleting {
                    Some("Ecs.0100")
                } else if busy {
                    Some("Ecs.0603")
                } else if server.locked {
                    Some("Ecs.0605")
                } else if server.vm_state == VmState::Stopped || (with_stop && server.vm_state == VmState::Active) {
                    None
                } else {
                    Some("Ecs.0100")
                }
            }
        }
    }
}

fn rule() -> impl Strategy<Value = Rule> {
    prop_oneof![
        Just(Rule::ResetPassword),
        Just(Rule::Rename),
        any::<bool>().prop_map(|with_stop| Rule::Resize { with_stop }),
    ]
}

/// A server in the given state; everything else is fixed filler.
fn server(index: usize, vm_state: VmState, task_state: Option<TaskState>, locked: bool) -> Server {
    let mut server: Server = serde_json::from_value(json!({
        "id": format!("00000000-0000-4000-8000-{index:012}"),
        "project_id": "0123456789abcdef0123456789abcdef",
        "name": format!("s{index}"),
        "description": "",
        "vm_state": "active",
        "task_state": null,
        "locked": false,
        "flavor_id": "s6.small.1",
        "resize_target": null,
        "image_id": IMAGE,
        "availability_zone": "eu-de-01",
        "vpc_id": VPC,
        "nics": [],
        "volumes": [],
        "metadata": {},
        "tags": [],
        "security_group_ids": [],
        "key_name": null,
        "user_data": null,
        "hostname": format!("s{index}"),
        "instance_name": format!("instance-{index}"),
        "reservation_id": "r-00000000",
        "launch_index": 0,
        "created": "2024-01-01T00:00:00Z",
        "updated": "2024-01-01T00:00:00Z",
        "launched_at": null,
        "password_hash": null,
        "pending_password_hash": null,
    }))
    .expect("a server document");
    server.vm_state = vm_state;
    server.task_state = task_state;
    server.locked = locked;
    server
}

/// One slot of the population: `None` is an id that names no server.
fn slot() -> impl Strategy<Value = Option<(VmState, Option<TaskState>, bool)>> {
    let state = (
        prop::sample::select(VM_STATES.to_vec()),
        prop::option::weighted(0.4, prop::sample::select(TaskState::ALL.to_vec())),
        prop::bool::weighted(0.2),
    );
    prop::option::weighted(0.8, state)
}

/// Servers (by id), all ids of the population, and a request: indices into the population,
/// with repeats.
fn population() -> impl Strategy<Value = (HashMap<String, Server>, Vec<String>, Vec<usize>)> {
    prop::collection::vec(slot(), 1..12).prop_flat_map(|slots| {
        let mut servers = HashMap::new();
        let mut ids = Vec::new();
        for (index, slot) in slots.into_iter().enumerate() {
            let template = server(index, VmState::Active, None, false);
            ids.push(template.id.clone());
            if let Some((vm, task, locked)) = slot {
                servers.insert(template.id.clone(), server(index, vm, task, locked));
            }
        }
        let len = ids.len();
        (Just(servers), Just(ids), prop::collection::vec(0..len, 1..20))
    })
}

fn expected_code(rule: Rule, servers: &HashMap<String, Server>, id: &str) -> Option<&'static str> {
    match servers.get(id) {
        None => Some("Ecs.0114"),
        Some(server) => rule.expected(server),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_planner_refuses_exactly_the_failing_ids_in_request_order(
        rule in rule(),
        (servers, ids, picks) in population(),
    ) {
        let request: Vec<String> = picks.iter().map(|i| ids[*i].clone()).collect();
        let outcome = plan_all_or_nothing(&request, &servers, |s| rule.check(s).map_err(Error::of));
        let expected: Vec<(String, &str)> = request
            .iter()
            .filter_map(|id| expected_code(rule, &servers, id).map(|code| (id.clone(), code)))
            .collect();
        match outcome {
            Ok(accepted) => {
                prop_assert!(expected.is_empty(), "accepted although {expected:?} fail");
                let accepted: Vec<&String> = accepted.iter().map(|s| &s.id).collect();
                prop_assert_eq!(accepted, request.iter().collect::<Vec<_>>());
            }
            Err(refused) => {
                prop_assert!(!expected.is_empty(), "refused although nothing fails");
                let got: Vec<(String, &str)> =
                    refused.refusals.iter().map(|r| (r.server_id.clone(), r.error.code.code())).collect();
                prop_assert_eq!(got, expected);
                for refusal in &refused.refusals {
                    prop_assert!(!refusal.error.message.is_empty());
                    if refusal.error.code == ErrorCode::ServerNotFound {
                        prop_assert!(refusal.error.message.contains(&refusal.server_id));
                    }
                }
            }
        }
    }

    #[test]
    fn after_collapsing_duplicates_each_failing_server_is_listed_once_in_first_seen_order(
        rule in rule(),
        (servers, ids, picks) in population(),
    ) {
        let request: Vec<String> = picks.iter().map(|i| ids[*i].clone()).collect();
        let unique = batch::server_ids(request.clone(), batch::MAX_BATCH_SERVERS, Duplicates::Collapse)
            .expect("a non-empty list under the limit");
        let mut seen = HashSet::new();
        let first_seen: Vec<String> = request.iter().filter(|id| seen.insert(*id)).cloned().collect();
        prop_assert_eq!(&unique, &first_seen);

        let outcome = plan_all_or_nothing(&unique, &servers, |s| rule.check(s).map_err(Error::of));
        let failing: Vec<String> =
            first_seen.iter().filter(|id| expected_code(rule, &servers, id).is_some()).cloned().collect();
        match outcome {
            Ok(accepted) => {
                prop_assert!(failing.is_empty());
                prop_assert_eq!(accepted.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), first_seen);
            }
            Err(refused) => {
                let listed: Vec<String> = refused.refusals.iter().map(|r| r.server_id.clone()).collect();
                prop_assert_eq!(listed, failing);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// End to end: batch rename over HTTP with servers in real states.

#[derive(Debug, Clone, Copy, PartialEq)]
enum Live {
    Active,
    Stopped,
    /// Busy with a reboot that takes minutes.
    Rebooting,
    /// Being deleted, for minutes.
    Deleting,
}

fn live_expected(state: Option<Live>) -> Option<&'static str> {
    match state {
        None => Some("Ecs.0114"),
        Some(Live::Active | Live::Stopped) => None,
        Some(Live::Rebooting) => Some("Ecs.0603"),
        Some(Live::Deleting) => Some("Ecs.0100"),
    }
}

async fn rename_case(states: Vec<Live>, picks: Vec<usize>, dry_run: bool) -> Result<(), TestCaseError> {
    let timings = Timings { reboot_ms: 600_000, delete_ms: 600_000, ..Timings::INSTANT };
    let ecs = TestServer::start_with_timings(timings).await;
    let mut ids = ecs.create_servers("prop", "s6.small.1", states.len() as u32).await;
    let by_state = |wanted: Live| -> Vec<String> {
        ids.iter().zip(&states).filter(|(_, s)| **s == wanted).map(|(id, _)| id.clone()).collect()
    };
    let stopped = by_state(Live::Stopped);
    if !stopped.is_empty() {
        ecs.batch("os-stop", &stopped, json!({})).await;
    }
    let rebooting = by_state(Live::Rebooting);
    if !rebooting.is_empty() {
        let (status, body) = ecs
            .post(
                &ecs.v1("/cloudservers/action"),
                json!({"reboot": {"type": "SOFT", "servers": server_ids(&rebooting)}}),
            )
            .await;
        prop_assert_eq!(status, StatusCode::OK, "{}", body);
    }
    let deleting = by_state(Live::Deleting);
    if !deleting.is_empty() {
        let (status, body) = ecs.post(&ecs.v1("/cloudservers/delete"), json!({"servers": server_ids(&deleting)})).await;
        prop_assert_eq!(status, StatusCode::OK, "{}", body);
    }
    // Two ids that name no server.
    ids.extend(random_ids(2));
    let state_of = |id: &String| ids.iter().position(|i| i == id).and_then(|i| states.get(i).copied());

    let request: Vec<String> = picks.iter().map(|i| ids[i % ids.len()].clone()).collect();
    let mut seen = HashSet::new();
    let unique: Vec<&String> = request.iter().filter(|id| seen.insert(*id)).collect();
    let expected: Vec<(&str, &str)> =
        unique.iter().filter_map(|id| live_expected(state_of(id)).map(|code| (id.as_str(), code))).collect();

    let before: Vec<Value> = ecs.all_servers().await;
    let (status, body) = ecs
        .put(
            &ecs.v1("/cloudservers/server-name"),
            json!({"name": "renamed", "dry_run": dry_run, "servers": server_ids(&request)}),
        )
        .await;
    let after: Vec<Value> = ecs.all_servers().await;
    if expected.is_empty() {
        prop_assert_eq!(status, StatusCode::OK, "{}", body);
        let listed: Vec<&str> =
            body["response"].as_array().expect("response").iter().map(|e| e["id"].as_str().expect("id")).collect();
        prop_assert_eq!(listed, unique.iter().map(|s| s.as_str()).collect::<Vec<_>>());
        for server in &after {
            let asked = unique.iter().any(|id| server["id"] == id.as_str());
            let renamed = server["name"] == "renamed";
            prop_assert_eq!(renamed, asked && !dry_run, "{}", server);
        }
    } else {
        assert_batch_refused(status, &body, &expected);
        prop_assert_eq!(before, after, "a refused batch changes nothing");
    }
    Ok(())
}

fn live() -> impl Strategy<Value = Live> {
    prop::sample::select(vec![Live::Active, Live::Stopped, Live::Rebooting, Live::Deleting])
}

proptest! {
    // Each case starts a server: keep the count small.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn batch_rename_over_http_lists_exactly_the_failing_servers_and_a_refusal_changes_nothing(
        states in prop::collection::vec(live(), 1..6),
        picks in prop::collection::vec(0usize..8, 1..10),
        dry_run in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        runtime.block_on(rename_case(states, picks, dry_run))?;
    }
}
