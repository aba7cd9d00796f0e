//! The batch-format operations of issue 3: batch reset passwords (SDK
//! `BatchResetServersPassword`), batch rename (`BatchUpdateServersName`), batch resize
//! (`BatchResizeServers`), and the single-server resize (`ResizeServer`, `ResizePostPaidServer`),
//! reset password (`ResetServerPassword`) and reset flag (`ShowResetPasswordFlag`).
//! Contract section 2, T1.4–T1.6, T1.16, 5.5.

use crate::common::*;
use ecsd::engine::sim::Timings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "Test@123456";

fn response_of(ids: &[&str]) -> Value {
    json!({ "response": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>() })
}

fn refs(ids: &[String]) -> Vec<&str> {
    ids.iter().map(String::as_str).collect()
}

async fn reset(ecs: &TestServer, body: Value) -> (StatusCode, Value) {
    ecs.put(&ecs.v1("/cloudservers/os-reset-passwords"), body).await
}

async fn rename(ecs: &TestServer, body: Value) -> (StatusCode, Value) {
    ecs.put(&ecs.v1("/cloudservers/server-name"), body).await
}

async fn batch_resize(ecs: &TestServer, body: Value) -> (StatusCode, Value) {
    ecs.post(&ecs.v1("/cloudservers/batch-resize"), body).await
}

async fn pending(ecs: &TestServer, id: &str) -> bool {
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{id}/os-resetpwd-flag"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["password_reset_pending"].as_bool().unwrap_or_else(|| panic!("password_reset_pending in {body}"))
}

async fn pendings(ecs: &TestServer, ids: &[String]) -> Vec<bool> {
    let mut out = Vec::new();
    for id in ids {
        out.push(pending(ecs, id).await);
    }
    out
}

async fn names(ecs: &TestServer, ids: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids {
        out.push(ecs.server(id).await["name"].as_str().expect("name").to_string());
    }
    out
}

/// (status, task_state, flavor id) of each server.
async fn states(ecs: &TestServer, ids: &[String]) -> Vec<(Value, Value, Value)> {
    let mut out = Vec::new();
    for id in ids {
        let s = ecs.server(id).await;
        out.push((s["status"].clone(), s["OS-EXT-STS:task_state"].clone(), s["flavor"]["id"].clone()));
    }
    out
}

fn idle(status: &str, flavor: &str) -> (Value, Value, Value) {
    (json!(status), Value::Null, json!(flavor))
}

/// A server with instant timings except that stop and delete take minutes, so a server can be
/// left busy (powering off) or being deleted for the whole test.
struct Mixed {
    ecs: TestServer,
    /// Idle and ACTIVE.
    valid: Vec<String>,
    /// Being deleted (task `deleting`).
    deleting: String,
    /// Being stopped (task `powering-off`).
    stopping: String,
    unknown: String,
}

async fn mixed() -> Mixed {
    let ecs = TestServer::start_with_timings(slow(false, true, true)).await;
    let ids = ecs.create_servers("mix", "s6.small.1", 4).await;
    let (status, body) = ecs.post(&ecs.v1("/cloudservers/delete"), json!({"servers": server_ids(&ids[2..3])})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        ecs.post(&ecs.v1("/cloudservers/action"), json!({"os-stop": {"servers": server_ids(&ids[3..4])}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ecs.server(&ids[2]).await["OS-EXT-STS:task_state"], "deleting");
    assert_eq!(ecs.server(&ids[3]).await["OS-EXT-STS:task_state"], "powering-off");
    Mixed {
        valid: ids[..2].to_vec(),
        deleting: ids[2].clone(),
        stopping: ids[3].clone(),
        unknown: random_ids(1).remove(0),
        ecs,
    }
}

impl Mixed {
    /// valid[0], unknown, deleting, valid[1], stopping: the request order of the mixed tests.
    fn request(&self) -> Vec<String> {
        vec![
            self.valid[0].clone(),
            self.unknown.clone(),
            self.deleting.clone(),
            self.valid[1].clone(),
            self.stopping.clone(),
        ]
    }
}

// ---------------------------------------------------------------------------------------------
// Batch reset passwords.

#[tokio::test]
async fn reset_passwords_answers_every_id_in_request_order_and_records_a_pending_reset() {
    let ecs = TestServer::start().await;
    let mut ids = ecs.create_servers("pw", "s6.small.1", 3).await;
    ids.swap(0, 2);
    let (status, body) =
        reset(&ecs, json!({"new_password": PASSWORD, "dry_run": false, "servers": server_ids(&ids)})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, response_of(&refs(&ids)));
    assert_eq!(pendings(&ecs, &ids).await, [true, true, true]);
    let server = ecs.server(&ids[0]).await;
    assert!(!server.to_string().contains(PASSWORD), "the password is never returned");
}

#[tokio::test]
async fn reset_passwords_collapses_duplicates_keeping_the_first_position() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("pw", "s6.small.1", 3).await;
    let request = [&ids[1], &ids[0], &ids[1], &ids[2], &ids[0]].map(String::clone);
    let (status, body) = reset(&ecs, json!({"new_password": PASSWORD, "servers": server_ids(&request)})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, response_of(&[&ids[1], &ids[0], &ids[2]]));
}

#[tokio::test]
async fn a_reset_of_running_and_stopped_servers_takes_effect_at_the_next_start_or_reboot() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("pw", "s6.small.1", 2).await;
    ecs.batch("os-stop", &ids[..1], json!({})).await;
    // Running and stopped servers both accept a reset.
    let (status, body) = reset(&ecs, json!({"new_password": PASSWORD, "servers": server_ids(&ids)})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(pendings(&ecs, &ids).await, [true, true]);
    ecs.batch("os-start", &ids[..1], json!({})).await;
    ecs.batch("reboot", &ids[1..], json!({"type": "SOFT"})).await;
    assert_eq!(pendings(&ecs, &ids).await, [false, false]);
}

#[tokio::test]
async fn reset_passwords_dry_run_answers_the_same_and_changes_nothing() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("pw", "s6.small.1", 2).await;
    let (status, body) =
        reset(&ecs, json!({"new_password": PASSWORD, "dry_run": true, "servers": server_ids(&ids)})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, response_of(&refs(&ids)));
    assert_eq!(pendings(&ecs, &ids).await, [false, false]);
    // The password is optional in a dry run.
    let (status, body) = reset(&ecs, json!({"dry_run": true, "servers": server_ids(&ids)})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, response_of(&refs(&ids)));
    assert_eq!(pendings(&ecs, &ids).await, [false, false]);
}

#[tokio::test]
async fn a_weak_password_is_ecs_0011_for_the_whole_request() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("pw", "s6.small.1", 1).await;
    let mut servers = ids.clone();
    servers.push(random_ids(1).remove(0));
    for weak in [
        "Sh0rt!",
        "alllowercase1",
        "Test#123456",
        "Test$123456",
        "Myroot@1234",
        "Xadm@123456",
        "Test 123456",
        "Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1",
    ] {
        let (status, body) = reset(&ecs, json!({"new_password": weak, "servers": server_ids(&servers)})).await;
        assert_plain_error(status, &body, 400, "Ecs.0011");
        let (status, body) =
            reset(&ecs, json!({"new_password": weak, "dry_run": true, "servers": server_ids(&ids)})).await;
        assert_plain_error(status, &body, 400, "Ecs.0011");
    }
    assert_eq!(pendings(&ecs, &ids).await, [false]);
}

#[tokio::test]
async fn reset_passwords_with_an_empty_list_or_no_password_is_ecs_0005_and_over_1000_ids_ecs_0118() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("pw", "s6.small.1", 1).await;
    let (status, body) = reset(&ecs, json!({"new_password": PASSWORD, "servers": []})).await;
    assert_plain_error(status, &body, 400, "Ecs.0005");
    let (status, body) = reset(&ecs, json!({"servers": server_ids(&ids)})).await;
    assert_plain_error(status, &body, 400, "Ecs.0005");
    let (status, body) = reset(&ecs, json!({"new_password": PASSWORD})).await;
    assert_plain_error(status, &body, 400, "Ecs.0005");
    let (status, body) = reset(&ecs, json!({"new_password": PASSWORD, "servers": server_ids(&random_ids(1001))})).await;
    assert_plain_error(status, &body, 400, "Ecs.0118");
    let (status, body) = ecs.call_raw(Method::PUT, &ecs.v1("/cloudservers/os-reset-passwords"), Vec::new(), &[]).await;
    assert_plain_error(status, &body, 400, "Common.0002");
}

#[tokio::test]
async fn reset_passwords_of_a_mixed_batch_lists_exactly_the_failed_servers_and_changes_nothing() {
    let m = mixed().await;
    let ecs = &m.ecs;
    let request = m.request();
    for dry_run in [true, false] {
        let (status, body) =
            reset(ecs, json!({"new_password": PASSWORD, "dry_run": dry_run, "servers": server_ids(&request)})).await;
        let messages = assert_batch_refused(
            status,
            &body,
            &[(&m.unknown, "Ecs.0114"), (&m.deleting, "Ecs.0100"), (&m.stopping, "Ecs.0603")],
        );
        assert!(messages[0].contains(&m.unknown), "the message names the server: {}", messages[0]);
        assert!(body.get("response").is_none(), "{body}");
        assert_eq!(pendings(ecs, &m.valid).await, [false, false], "nothing applied (dry_run {dry_run})");
    }
    // Without the failing servers the same request succeeds.
    let (status, body) = reset(ecs, json!({"new_password": PASSWORD, "servers": server_ids(&m.valid)})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(pendings(ecs, &m.valid).await, [true, true]);
}

#[tokio::test]
async fn reset_passwords_treats_another_projects_server_as_unknown() {
    let mut ecs = TestServer::start_with_two_projects().await;
    let mine = ecs.create_servers("mine", "s6.small.1", 1).await;
    ecs.credential = other_credential();
    let theirs = ecs.create_servers("theirs", "s6.small.1", 1).await;
    ecs.credential = test_credential();
    let request = vec![mine[0].clone(), theirs[0].clone()];
    let (status, body) = reset(&ecs, json!({"new_password": PASSWORD, "servers": server_ids(&request)})).await;
    assert_batch_refused(status, &body, &[(&theirs[0], "Ecs.0114")]);
    assert_eq!(pendings(&ecs, &mine).await, [false]);
    ecs.credential = other_credential();
    assert_eq!(pendings(&ecs, &theirs).await, [false]);
}

// ---------------------------------------------------------------------------------------------
// Single-server password reset and its flag.

#[tokio::test]
async fn single_reset_password_answers_204_and_sets_the_flag() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("one", "s6.small.1", 2).await;
    let (status, body) = ecs
        .put(
            &ecs.v1(&format!("/cloudservers/{}/os-reset-password", ids[0])),
            json!({"reset-password": {"new_password": PASSWORD, "is_check_password": true}}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(body, Value::Null, "no body");
    let (status, flag) = ecs.get(&ecs.v1(&format!("/cloudservers/{}/os-resetpwd-flag", ids[0]))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(flag, json!({"resetpwd_flag": "True", "password_reset_pending": true}));
    let (_, other) = ecs.get(&ecs.v1(&format!("/cloudservers/{}/os-resetpwd-flag", ids[1]))).await;
    assert_eq!(other, json!({"resetpwd_flag": "True", "password_reset_pending": false}));
}

#[tokio::test]
async fn single_reset_password_checks_complexity_only_when_asked() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("one", "s6.small.1", 1).await;
    let path = ecs.v1(&format!("/cloudservers/{}/os-reset-password", ids[0]));
    let (status, body) =
        ecs.put(&path, json!({"reset-password": {"new_password": "weak", "is_check_password": true}})).await;
    assert_plain_error(status, &body, 400, "Ecs.0011");
    assert!(!pending(&ecs, &ids[0]).await);
    let (status, body) = ecs.put(&path, json!({"reset-password": {"new_password": "weak"}})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(pending(&ecs, &ids[0]).await);
}

#[tokio::test]
async fn single_reset_password_and_flag_of_an_unknown_server_are_ecs_0114() {
    let ecs = TestServer::start().await;
    let unknown = random_ids(1).remove(0);
    let (status, body) = ecs
        .put(
            &ecs.v1(&format!("/cloudservers/{unknown}/os-reset-password")),
            json!({"reset-password": {"new_password": PASSWORD}}),
        )
        .await;
    assert_plain_error(status, &body, 404, "Ecs.0114");
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{unknown}/os-resetpwd-flag"))).await;
    assert_plain_error(status, &body, 404, "Ecs.0114");
}

#[tokio::test]
async fn single_reset_password_of_a_busy_server_is_ecs_0603_and_a_bad_body_ecs_0005() {
    let ecs = TestServer::start_with_timings(slow(false, true, false)).await;
    let ids = ecs.create_servers("one", "s6.small.1", 1).await;
    let path = ecs.v1(&format!("/cloudservers/{}/os-reset-password", ids[0]));
    let (status, body) = ecs.put(&path, json!({"new_password": PASSWORD})).await;
    assert_plain_error(status, &body, 400, "Ecs.0005");
    let (status, body) =
        ecs.post(&ecs.v1("/cloudservers/action"), json!({"os-stop": {"servers": server_ids(&ids)}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = ecs.put(&path, json!({"reset-password": {"new_password": PASSWORD}})).await;
    assert_plain_error(status, &body, 400, "Ecs.0603");
    assert!(!pending(&ecs, &ids[0]).await);
}

// ---------------------------------------------------------------------------------------------
// Batch rename.

#[tokio::test]
async fn rename_gives_every_server_the_same_name_and_answers_them_in_request_order() {
    let ecs = TestServer::start().await;
    let mut ids = ecs.create_servers("old", "s6.small.1", 3).await;
    ids.reverse();
    ecs.batch("os-stop", &ids[..1], json!({})).await;
    let request = [&ids[0], &ids[1], &ids[0], &ids[2]].map(String::clone);
    let (status, body) =
        rename(&ecs, json!({"name": "develop", "dry_run": false, "servers": server_ids(&request)})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, response_of(&refs(&ids)));
    assert_eq!(names(&ecs, &ids).await, ["develop", "develop", "develop"]);
    let (_, listed) = ecs.get(&ecs.v1("/cloudservers/detail?name=develop")).await;
    assert_eq!(listed["count"], 3);
}

#[tokio::test]
async fn rename_dry_run_answers_the_same_and_changes_nothing() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("old", "s6.small.1", 2).await;
    let (status, body) = rename(&ecs, json!({"name": "develop", "dry_run": true, "servers": server_ids(&ids)})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, response_of(&refs(&ids)));
    assert_eq!(names(&ecs, &ids).await, ["old-0000", "old-0001"]);
}

#[tokio::test]
async fn rename_checks_the_name_for_the_whole_request() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("old", "s6.small.1", 1).await;
    let mut servers = ids.clone();
    servers.push(random_ids(1).remove(0));
    let (status, body) = rename(&ecs, json!({"name": "n".repeat(129), "servers": server_ids(&servers)})).await;
    assert_plain_error(status, &body, 400, "Ecs.0914");
    for bad in ["has space", "slash/name", ""] {
        let (status, body) = rename(&ecs, json!({"name": bad, "servers": server_ids(&servers)})).await;
        assert_plain_error(status, &body, 400, "Ecs.0915");
    }
    let (status, body) = rename(&ecs, json!({"name": "n".repeat(128), "servers": server_ids(&ids)})).await;
    assert_eq!(status, StatusCode::OK, "128 characters are allowed: {body}");
}

#[tokio::test]
async fn rename_with_an_empty_list_is_ecs_0005_and_over_1000_ids_ecs_0118() {
    let ecs = TestServer::start().await;
    let (status, body) = rename(&ecs, json!({"name": "x", "servers": []})).await;
    assert_plain_error(status, &body, 400, "Ecs.0005");
    let (status, body) = rename(&ecs, json!({"servers": server_ids(&random_ids(1))})).await;
    assert_plain_error(status, &body, 400, "Ecs.0005");
    let (status, body) = rename(&ecs, json!({"name": "x", "servers": server_ids(&random_ids(1001))})).await;
    assert_plain_error(status, &body, 400, "Ecs.0118");
}

#[tokio::test]
async fn rename_of_a_mixed_batch_lists_exactly_the_failed_servers_and_renames_nothing() {
    let m = mixed().await;
    let ecs = &m.ecs;
    for dry_run in [true, false] {
        let (status, body) =
            rename(ecs, json!({"name": "develop", "dry_run": dry_run, "servers": server_ids(&m.request())})).await;
        assert_batch_refused(
            status,
            &body,
            &[(&m.unknown, "Ecs.0114"), (&m.deleting, "Ecs.0100"), (&m.stopping, "Ecs.0603")],
        );
    }
    assert_eq!(names(ecs, &m.valid).await, ["mix-0000", "mix-0001"]);
    assert_eq!(ecs.server(&m.stopping).await["name"], "mix-0003");
}

// ---------------------------------------------------------------------------------------------
// Batch resize.

#[tokio::test]
async fn batch_resize_of_stopped_servers_runs_a_job_and_applies_the_flavor() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("rs", "s6.small.1", 3).await;
    ecs.batch("os-stop", &ids, json!({})).await;
    let before = ecs.limits().await;
    assert_eq!((before["totalCoresUsed"].clone(), before["totalRAMUsed"].clone()), (json!(3), json!(3 * 1024)));

    let (status, body) =
        batch_resize(&ecs, json!({"resize": {"flavorRef": "s6.large.2", "servers": server_ids(&ids)}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["job_id"], "no order_id for pay-per-use: {body}");
    let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["job_type"], "resizeServer");
    assert_eq!(job["entities"]["sub_jobs_total"], 3);
    for (sub, id) in job["entities"]["sub_jobs"].as_array().expect("subs").iter().zip(&ids) {
        assert_eq!(sub["job_type"], "resizeSingleServer");
        assert_eq!(sub["status"], "SUCCESS");
        assert_eq!(sub["entities"]["server_id"], id.as_str());
    }
    assert_eq!(states(&ecs, &ids).await, vec![idle("SHUTOFF", "s6.large.2"); 3]);
    let server = ecs.server(&ids[0]).await;
    assert_eq!(
        server["flavor"],
        json!({"id": "s6.large.2", "name": "s6.large.2", "disk": "0", "vcpus": "2", "ram": "4096"})
    );
    let after = ecs.limits().await;
    assert_eq!(after["totalInstancesUsed"], 3);
    assert_eq!(after["totalCoresUsed"], 6);
    assert_eq!(after["totalRAMUsed"], 3 * 4096);
}

#[tokio::test]
async fn batch_resize_with_stop_server_stops_resizes_and_starts_running_servers() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("rs", "s6.small.1", 2).await;
    ecs.batch("os-stop", &ids[1..], json!({})).await;
    let (status, body) = batch_resize(
        &ecs,
        json!({"resize": {"flavorRef": "c6.large.2", "mode": "withStopServer", "servers": server_ids(&ids)}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(states(&ecs, &ids).await, [idle("ACTIVE", "c6.large.2"), idle("SHUTOFF", "c6.large.2")]);
}

#[tokio::test]
async fn batch_resize_shows_resize_while_it_runs_and_reserves_the_larger_flavor() {
    let timings = Timings { resize_ms: 600_000, ..Timings::INSTANT };
    let ecs = TestServer::start_with_timings(timings).await;
    let ids = ecs.create_servers("rs", "s6.small.1", 1).await;
    ecs.batch("os-stop", &ids, json!({})).await;
    let (status, body) =
        batch_resize(&ecs, json!({"resize": {"flavorRef": "s6.xlarge.2", "servers": server_ids(&ids)}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let server = ecs.server(&ids[0]).await;
    assert_eq!(server["status"], "RESIZE");
    assert_eq!(server["OS-EXT-STS:task_state"], "resize_prep");
    assert_eq!(server["flavor"]["id"], "s6.small.1", "the flavor changes when the resize ends");
    let limits = ecs.limits().await;
    assert_eq!(limits["totalCoresUsed"], 4, "the larger of the two flavors is reserved");
    // The server is busy: another resize is refused for it.
    let (status, body) =
        batch_resize(&ecs, json!({"resize": {"flavorRef": "s6.large.2", "servers": server_ids(&ids)}})).await;
    assert_batch_refused(status, &body, &[(&ids[0], "Ecs.0603")]);
}

#[tokio::test]
async fn batch_resize_of_a_running_server_without_mode_lists_it_with_ecs_0100() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("rs", "s6.small.1", 3).await;
    ecs.batch("os-stop", &ids[1..2], json!({})).await;
    let (status, body) =
        batch_resize(&ecs, json!({"resize": {"flavorRef": "s6.large.2", "servers": server_ids(&ids)}})).await;
    assert_batch_refused(status, &body, &[(&ids[0], "Ecs.0100"), (&ids[2], "Ecs.0100")]);
    assert_eq!(
        states(&ecs, &ids).await,
        [idle("ACTIVE", "s6.small.1"), idle("SHUTOFF", "s6.small.1"), idle("ACTIVE", "s6.small.1")],
        "nothing applied, not even to the stopped server"
    );
}

#[tokio::test]
async fn batch_resize_to_the_current_or_another_architectures_flavor_lists_those_servers() {
    let ecs = TestServer::start().await;
    let small = ecs.create_servers("small", "s6.small.1", 1).await;
    let large = ecs.create_servers("large", "s6.large.2", 1).await;
    let all = vec![small[0].clone(), large[0].clone()];
    ecs.batch("os-stop", &all, json!({})).await;

    let (status, body) =
        batch_resize(&ecs, json!({"resize": {"flavorRef": "s6.large.2", "servers": server_ids(&all)}})).await;
    assert_batch_refused(status, &body, &[(&large[0], "Ecs.0810")]);

    let (status, body) =
        batch_resize(&ecs, json!({"resize": {"flavorRef": "kc1.large.2", "servers": server_ids(&all)}})).await;
    assert_batch_refused(status, &body, &[(&small[0], "Ecs.0804"), (&large[0], "Ecs.0804")]);
    assert_eq!(states(&ecs, &all).await, [idle("SHUTOFF", "s6.small.1"), idle("SHUTOFF", "s6.large.2")]);
}

#[tokio::test]
async fn batch_resize_of_a_mixed_batch_lists_unknown_wrong_status_and_busy_servers() {
    let m = mixed().await;
    let ecs = &m.ecs;
    // Stops take minutes here, so the valid servers stay ACTIVE and need withStopServer.
    let (status, body) = batch_resize(
        ecs,
        json!({"resize": {"flavorRef": "s6.large.2", "mode": "withStopServer", "servers": server_ids(&m.request())}}),
    )
    .await;
    assert_batch_refused(
        status,
        &body,
        &[(&m.unknown, "Ecs.0114"), (&m.deleting, "Ecs.0100"), (&m.stopping, "Ecs.0603")],
    );
    assert_eq!(states(ecs, &m.valid).await, vec![idle("ACTIVE", "s6.small.1"); 2]);
}

#[tokio::test]
async fn batch_resize_to_an_unknown_flavor_is_ecs_0029() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("rs", "s6.small.1", 1).await;
    ecs.batch("os-stop", &ids, json!({})).await;
    let (status, body) =
        batch_resize(&ecs, json!({"resize": {"flavorRef": "z9.nothing.1", "servers": server_ids(&ids)}})).await;
    assert_plain_error(status, &body, 400, "Ecs.0029");
}

#[tokio::test]
async fn batch_resize_dry_run_answers_202_and_changes_nothing() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("rs", "s6.small.1", 2).await;
    ecs.batch("os-stop", &ids, json!({})).await;
    let (status, body) = batch_resize(
        &ecs,
        json!({"resize": {"flavorRef": "s6.large.2", "servers": server_ids(&ids)}, "dry_run": true}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(states(&ecs, &ids).await, vec![idle("SHUTOFF", "s6.small.1"); 2]);
    assert_eq!(ecs.limits().await["totalCoresUsed"], 2);
    // A dry run that would fail answers what the real call would.
    ecs.batch("os-start", &ids[..1], json!({})).await;
    let (status, body) = batch_resize(
        &ecs,
        json!({"resize": {"flavorRef": "s6.large.2", "servers": server_ids(&ids)}, "dry_run": true}),
    )
    .await;
    assert_batch_refused(status, &body, &[(&ids[0], "Ecs.0100")]);
}

#[tokio::test]
async fn batch_resize_of_51_servers_is_ecs_0118_and_an_empty_list_ecs_0005() {
    let ecs = TestServer::start().await;
    let (status, body) =
        batch_resize(&ecs, json!({"resize": {"flavorRef": "s6.large.2", "servers": server_ids(&random_ids(51))}}))
            .await;
    assert_plain_error(status, &body, 400, "Ecs.0118");
    let (status, body) = batch_resize(&ecs, json!({"resize": {"flavorRef": "s6.large.2", "servers": []}})).await;
    assert_plain_error(status, &body, 400, "Ecs.0005");
    let (status, body) = batch_resize(&ecs, json!({"flavorRef": "s6.large.2"})).await;
    assert_plain_error(status, &body, 400, "Ecs.0005");
}

#[tokio::test]
async fn batch_resize_with_an_unknown_mode_is_ecs_0005() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("rs", "s6.small.1", 1).await;
    let (status, body) = batch_resize(
        &ecs,
        json!({"resize": {"flavorRef": "s6.large.2", "mode": "withoutStop", "servers": server_ids(&ids)}}),
    )
    .await;
    assert_plain_error(status, &body, 400, "Ecs.0005");
}

#[tokio::test]
async fn batch_resize_beyond_the_core_quota_is_ecs_0001() {
    let ecs = TestServer::start_with_toml("[quota]\nmax_cores = 4\n").await;
    let ids = ecs.create_servers("rs", "s6.small.1", 2).await;
    ecs.batch("os-stop", &ids, json!({})).await;
    // 2 → 8 cores.
    let (status, body) =
        batch_resize(&ecs, json!({"resize": {"flavorRef": "s6.xlarge.2", "servers": server_ids(&ids)}})).await;
    assert_plain_error(status, &body, 400, "Ecs.0001");
    assert_eq!(states(&ecs, &ids).await, vec![idle("SHUTOFF", "s6.small.1"); 2]);
    // 2 → 4 cores fits.
    let (status, body) =
        batch_resize(&ecs, json!({"resize": {"flavorRef": "s6.large.2", "servers": server_ids(&ids)}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

// ---------------------------------------------------------------------------------------------
// Single-server resize.

#[tokio::test]
async fn single_resize_on_the_v1_and_v1_1_paths_runs_a_job_on_one_server() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("one", "s6.small.1", 2).await;
    ecs.batch("os-stop", &ids, json!({})).await;
    let paths = [
        ecs.v1(&format!("/cloudservers/{}/resize", ids[0])),
        format!("/v1.1/{}/cloudservers/{}/resize", ecs.project(), ids[1]),
    ];
    for (path, id) in paths.iter().zip(&ids) {
        let (status, body) = ecs.post(path, json!({"resize": {"flavorRef": "m6.large.8"}})).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["job_id"]);
        let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
        assert_eq!(job["status"], "SUCCESS", "{job}");
        assert_eq!(job["job_type"], "resizeServer");
        assert_eq!(job["entities"], json!({"server_id": id}), "a job on one server has flat entities");
    }
    assert_eq!(states(&ecs, &ids).await, vec![idle("SHUTOFF", "m6.large.8"); 2]);
}

#[tokio::test]
async fn single_resize_refusals_use_the_servers_own_code() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("one", "s6.small.1", 1).await;
    let path = ecs.v1(&format!("/cloudservers/{}/resize", ids[0]));
    let (status, body) = ecs.post(&path, json!({"resize": {"flavorRef": "s6.large.2"}})).await;
    assert_plain_error(status, &body, 400, "Ecs.0100");
    let (status, body) =
        ecs.post(&path, json!({"resize": {"flavorRef": "s6.small.1", "mode": "withStopServer"}})).await;
    assert_plain_error(status, &body, 400, "Ecs.0810");
    let (status, body) =
        ecs.post(&path, json!({"resize": {"flavorRef": "kc1.large.2", "mode": "withStopServer"}})).await;
    assert_plain_error(status, &body, 400, "Ecs.0804");
    let (status, body) = ecs.post(&path, json!({"resize": {"flavorRef": "nope"}})).await;
    assert_plain_error(status, &body, 400, "Ecs.0029");
    let (status, body) = ecs.post(&path, json!({"resize": {}})).await;
    assert_plain_error(status, &body, 400, "Ecs.0005");
    let unknown = random_ids(1).remove(0);
    for path in [
        ecs.v1(&format!("/cloudservers/{unknown}/resize")),
        format!("/v1.1/{}/cloudservers/{unknown}/resize", ecs.project()),
    ] {
        let (status, body) = ecs.post(&path, json!({"resize": {"flavorRef": "s6.large.2"}})).await;
        assert_plain_error(status, &body, 404, "Ecs.0114");
    }
    let v11 = format!("/v1.1/{}/cloudservers/{}/resize", ecs.project(), ids[0]);
    let (status, body) = ecs.post(&v11, json!({"resize": {"flavorRef": "s6.large.2"}})).await;
    assert_plain_error(status, &body, 400, "Ecs.0100");
    assert_eq!(states(&ecs, &ids).await, [idle("ACTIVE", "s6.small.1")]);
}

#[tokio::test]
async fn single_resize_dry_run_answers_202_and_with_stop_server_ends_active() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("one", "s6.small.1", 1).await;
    let path = ecs.v1(&format!("/cloudservers/{}/resize", ids[0]));
    let body = json!({"resize": {"flavorRef": "s6.medium.2", "mode": "withStopServer"}, "dry_run": true});
    let (status, answer) = ecs.post(&path, body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(states(&ecs, &ids).await, [idle("ACTIVE", "s6.small.1")]);
    let (status, answer) =
        ecs.post(&path, json!({"resize": {"flavorRef": "s6.medium.2", "mode": "withStopServer"}})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    ecs.wait_job(answer["job_id"].as_str().expect("job")).await;
    assert_eq!(states(&ecs, &ids).await, [idle("ACTIVE", "s6.medium.2")]);
}
