//! The test-control API: fault rules of every kind, reset, snapshots, time control, fixtures.

use crate::common::*;
use ecsd::domain::catalogue::Catalogue;
use ecsd::engine::sim::Timings;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn add_fault(ecs: &TestServer, rule: Value) -> String {
    let (status, body) = ecs.post("/_ecsd/faults", rule).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().expect("rule id").to_string()
}

async fn fault(ecs: &TestServer, id: &str) -> Value {
    let (_, list) = ecs.get("/_ecsd/faults").await;
    list["faults"].as_array().expect("faults").iter().find(|r| r["id"] == id).cloned().expect("the rule")
}

#[tokio::test]
async fn a_sub_job_fault_fails_one_server_while_the_others_stop() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("web", "s6.small.1", 3).await;
    let rule = add_fault(
        &ecs,
        json!({"operation": "stop", "server_id": ids[1], "count": 1,
               "effect": {"kind": "sub_job_fail", "code": "Ecs.0226", "message": "injected"}}),
    )
    .await;
    let job = ecs.batch("os-stop", &ids, json!({})).await;
    assert_eq!(job["status"], "FAIL");
    assert_eq!(job["error_code"], "Ecs.0226");
    let subs = job["entities"]["sub_jobs"].as_array().expect("subs");
    assert_eq!(subs[1]["error_code"], "Ecs.0226");
    assert_eq!(subs[1]["fail_reason"], "injected");
    assert_eq!(subs[0]["status"], "SUCCESS");
    assert_eq!(subs[2]["status"], "SUCCESS");
    let failed = ecs.server(&ids[1]).await;
    assert_eq!(failed["status"], "ACTIVE", "the failed stop leaves the server running");
    assert_eq!(failed["OS-EXT-STS:task_state"], Value::Null);
    assert_eq!(ecs.server(&ids[0]).await["status"], "SHUTOFF");
    assert_eq!(fault(&ecs, &rule).await["fired"], 1);

    // count 1: the next stop of that server succeeds.
    assert_eq!(ecs.batch("os-stop", &ids[1..2], json!({})).await["status"], "SUCCESS");
}

#[tokio::test]
async fn a_failed_create_is_rolled_back() {
    let ecs = TestServer::start().await;
    add_fault(&ecs, json!({"operation": "create", "effect": {"kind": "sub_job_fail", "code": "Ecs.0219"}})).await;
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), create_body("gone", "s6.small.1", 2)).await;
    assert_eq!(status, StatusCode::OK);
    let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "FAIL");
    assert_eq!(job["error_code"], "Ecs.0219");
    let (_, list) = ecs.get(&ecs.v1("/cloudservers/detail")).await;
    assert_eq!(list["count"], 0);
    assert_eq!(ecs.get(&ecs.v1("/cloudservers/limits")).await.1["absolute"]["totalInstancesUsed"], 0);
}

#[tokio::test]
async fn a_precheck_fault_lists_the_server_in_internal_error_and_changes_nothing() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("pw", "s6.small.1", 3).await;
    add_fault(
        &ecs,
        json!({"operation": "reset-password", "server_id": ids[2],
               "effect": {"kind": "precheck_fail", "code": "Ecs.0613", "message": "plug-in not installed"}}),
    )
    .await;
    let (status, body) = ecs
        .put(
            &ecs.v1("/cloudservers/os-reset-passwords"),
            json!({"new_password": "Test@123456", "servers": server_ids(&ids)}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": {"code": "Ecs.0611", "message": "batch operate fail."},
               "internalError": [{"id": ids[2], "error_code": "Ecs.0613", "error_message": "plug-in not installed"}]})
    );
    for id in &ids {
        let (_, flag) = ecs.get(&ecs.v1(&format!("/cloudservers/{id}/os-resetpwd-flag"))).await;
        assert_eq!(flag["password_reset_pending"], false);
    }
}

#[tokio::test]
async fn a_precheck_fault_on_a_job_batch_fails_that_servers_sub_job() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("web", "s6.small.1", 2).await;
    add_fault(&ecs, json!({"operation": "reboot", "name_pattern": "web-0001", "effect": {"kind": "precheck_fail", "code": "Ecs.0227"}}))
        .await;
    let job = ecs.batch("reboot", &ids, json!({"type": "SOFT"})).await;
    let subs = job["entities"]["sub_jobs"].as_array().expect("subs");
    assert_eq!(subs[0]["status"], "SUCCESS");
    assert_eq!(subs[1]["error_code"], "Ecs.0227");
}

#[tokio::test]
async fn an_http_error_fault_fails_the_whole_request_and_a_delay_slows_it() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("web", "s6.small.1", 1).await;
    add_fault(&ecs, json!({"operation": "start", "count": 1, "effect": {"kind": "http_error", "status": 503, "code": "Common.1503", "message": "busy"}}))
        .await;
    let start = json!({"os-start": {"servers": server_ids(&ids)}});
    let (status, body) = ecs.post(&ecs.v1("/cloudservers/action"), start.clone()).await;
    assert_eq!(status.as_u16(), 503);
    assert_eq!(body, json!({"error": {"code": "Common.1503", "message": "busy"}}));

    add_fault(&ecs, json!({"operation": "any", "effect": {"kind": "delay", "ms": 300}})).await;
    let began = std::time::Instant::now();
    let (status, _) =
        ecs.post(&ecs.v1("/cloudservers/action"), json!({"os-stop": {"servers": server_ids(&ids)}})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(began.elapsed() >= std::time::Duration::from_millis(300));
}

#[tokio::test]
async fn a_hang_fault_holds_the_job_running_until_released() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("web", "s6.small.1", 2).await;
    let rule = add_fault(&ecs, json!({"operation": "stop", "server_id": ids[0], "effect": {"kind": "hang"}})).await;
    let (_, body) = ecs.post(&ecs.v1("/cloudservers/action"), json!({"os-stop": {"servers": server_ids(&ids)}})).await;
    let job_id = body["job_id"].as_str().expect("job").to_string();
    // A settle applies every step but the held ones (a fixed sleep was too short under load).
    let (status, _) = ecs.post("/_ecsd/clock/settle", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, job) = ecs.get(&ecs.v1(&format!("/jobs/{job_id}"))).await;
    assert_eq!(job["status"], "RUNNING");
    assert_eq!(job["entities"]["sub_jobs"][0]["status"], "RUNNING");
    assert_eq!(job["entities"]["sub_jobs"][1]["status"], "SUCCESS");
    assert_eq!(ecs.server(&ids[0]).await["OS-EXT-STS:task_state"], "powering-off");

    let (status, released) = ecs.post(&format!("/_ecsd/faults/{rule}/release"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(released["released"], 1);
    assert_eq!(ecs.wait_job(&job_id).await["status"], "SUCCESS");
    assert_eq!(ecs.server(&ids[0]).await["status"], "SHUTOFF");
}

#[tokio::test]
async fn probability_rules_fire_the_same_way_for_the_same_seed() {
    let mut fired = Vec::new();
    for _ in 0..2 {
        let ecs = TestServer::start().await;
        let ids = ecs.create_servers("web", "s6.small.1", 20).await;
        add_fault(&ecs, json!({"operation": "stop", "probability": 0.5, "seed": 42, "effect": {"kind": "sub_job_fail", "code": "Ecs.1000"}}))
            .await;
        let job = ecs.batch("os-stop", &ids, json!({})).await;
        let pattern: Vec<bool> =
            job["entities"]["sub_jobs"].as_array().expect("subs").iter().map(|s| s["status"] == "FAIL").collect();
        assert!(pattern.iter().any(|f| *f) && pattern.iter().any(|f| !*f), "{pattern:?}");
        fired.push(pattern);
    }
    assert_eq!(fired[0], fired[1]);
}

#[tokio::test]
async fn faults_can_be_listed_and_deleted_and_bad_ones_are_refused() {
    let ecs = TestServer::start().await;
    let id = add_fault(&ecs, json!({"operation": "stop", "effect": {"kind": "hang"}})).await;
    let (status, _) = ecs.call(reqwest::Method::DELETE, &format!("/_ecsd/faults/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(ecs.get("/_ecsd/faults").await.1, json!({"faults": []}));
    let (status, body) = ecs.post("/_ecsd/faults", json!({"operation": "stop", "effect": {"kind": "explode"}})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) =
        ecs.post("/_ecsd/faults", json!({"operation": "stop", "probability": 2, "effect": {"kind": "hang"}})).await;
    assert_error(status, &body, 400, "Ecs.0005");
}

#[tokio::test]
async fn a_snapshot_restores_the_fleet_exactly() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("base", "s6.small.1", 3).await;
    let (status, _) = ecs.post("/_ecsd/snapshots", json!({"name": "base"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, before) = ecs.get(&ecs.v1("/cloudservers/detail")).await;

    ecs.batch("os-stop", &ids, json!({})).await;
    ecs.create_servers("extra", "s6.small.1", 2).await;
    let (status, _) = ecs.post("/_ecsd/snapshots/base/restore", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, after) = ecs.get(&ecs.v1("/cloudservers/detail")).await;
    assert_eq!(before, after);
    let (status, body) = ecs.post("/_ecsd/snapshots/nope/restore", json!({})).await;
    assert_error(status, &body, 404, "Ecs.1000");
}

#[tokio::test]
async fn reset_wipes_the_fleet() {
    let ecs = TestServer::start().await;
    ecs.create_servers("old", "s6.small.1", 2).await;
    let (status, _) = ecs.post("/_ecsd/reset", json!({"project_id": ecs.project()})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(ecs.get(&ecs.v1("/cloudservers/detail")).await.1["count"], 0);
    assert_eq!(ecs.get(&ecs.v1("/cloudservers/limits")).await.1["absolute"]["totalInstancesUsed"], 0);
}

#[tokio::test]
async fn time_control_brings_a_realistic_create_to_active_without_waiting() {
    let ecs = TestServer::start_with(Catalogue::default(), Timings::REALISTIC).await;
    let (_, body) = ecs.post(&ecs.v1("/cloudservers"), create_body("slow", "s6.small.1", 1)).await;
    let id = body["serverIds"][0].as_str().expect("id").to_string();
    assert_eq!(ecs.server(&id).await["status"], "BUILD");
    let (status, _) = ecs.post("/_ecsd/clock/advance", json!({"seconds": 2})).await;
    assert_eq!(status, StatusCode::OK);
    let task = ecs.server(&id).await["OS-EXT-STS:task_state"].clone();
    assert_ne!(task, "scheduling", "two seconds moved the create on");
    ecs.post("/_ecsd/clock/advance", json!({"seconds": 30})).await;
    assert_eq!(ecs.server(&id).await["status"], "ACTIVE");

    let (_, body) = ecs.post(&ecs.v1("/cloudservers/action"), json!({"os-stop": {"servers": [{"id": id}]}})).await;
    let (status, _) = ecs.post("/_ecsd/clock/settle", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ecs.get(&ecs.v1(&format!("/jobs/{}", body["job_id"].as_str().expect("job")))).await.1["status"],
        "SUCCESS"
    );
    assert_eq!(ecs.server(&id).await["status"], "SHUTOFF");
}

#[tokio::test]
async fn fixtures_create_a_fleet_in_its_statuses() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs
        .post(
            "/_ecsd/fixtures",
            json!({"servers": [
                {"name": "db", "flavor": "m6.large.8", "status": "SHUTOFF", "tags": ["role=db"]},
                {"name": "web", "count": 2, "locked": true},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ids: Vec<String> =
        body["servers"].as_array().expect("ids").iter().map(|v| v.as_str().expect("id").into()).collect();
    assert_eq!(ids.len(), 3);
    let db = ecs.server(&ids[0]).await;
    assert_eq!(
        (db["status"].clone(), db["flavor"]["id"].clone(), db["tags"].clone()),
        (json!("SHUTOFF"), json!("m6.large.8"), json!(["role=db"]))
    );
    assert_eq!(ecs.server(&ids[2]).await["name"], "web-0001");
    // A locked server refuses operations per server.
    let (status, body) =
        ecs.put(&ecs.v1("/cloudservers/server-name"), json!({"name": "x", "servers": [{"id": ids[1]}]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["internalError"][0]["error_code"], "Ecs.0605");
}

#[tokio::test]
async fn the_control_api_needs_a_signature() {
    let ecs = TestServer::start().await;
    let response = reqwest::Client::new().post(format!("{}/_ecsd/reset", ecs.base)).send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn simulated_time_may_run_at_most_a_hundred_years_ahead() {
    let ecs = TestServer::start().await;
    for _ in 0..100 {
        let (status, body) = ecs.post("/_ecsd/clock/advance", json!({"seconds": 31_536_000})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = ecs.post("/_ecsd/clock/advance", json!({"seconds": 31_536_000})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    // Signed requests still work: signatures are checked against real time.
    ecs.create_servers("later", "s6.small.1", 1).await;
}
